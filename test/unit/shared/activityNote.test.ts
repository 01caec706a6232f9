/** The note of an email activity: the same subject whichever way the activity arrives (nodes/shared/activityNote.ts). */
import { activityNote, webhookActivityNote } from '../../../nodes/shared/activityNote';

describe('activityNote', () => {
	it('a webhook delivery and the activity feed of one event make the same note', () => {
		const fromWebhook = webhookActivityNote({
			type: 'click',
			date_time: '2026-01-02T10:00:41-06:00',
			contact: { id: '42', email: 'a@example.org' },
			campaign: { id: '2', name: 'Spring Launch', message: { id: '3', subject: 'Meet the new line' } },
			link: { id: '7', url: 'https://example.org/spring' },
		});
		const fromFeed = activityNote({ type: 'click', at: '2026-01-02T16:00:03Z', campaignName: 'Spring Launch', subject: 'Meet the new line', link: 'https://example.org/spring' });
		expect(fromWebhook).toEqual(fromFeed);
		expect(fromFeed.subject).toBe('ActiveCampaign: Clicked "Spring Launch" on 2026-01-02 16:00 UTC');
		expect(fromFeed.text).toBe('Campaign: Spring Launch\nEmail subject: Meet the new line\nLink: https://example.org/spring\nWhen: 2026-01-02 16:00 UTC');
	});

	it.each([
		['sent', 'Sent'],
		['open', 'Opened'],
		['reply', 'Replied to'],
		['forward', 'Forwarded'],
		['bounce', 'Bounced'],
		['unsubscribe', 'Unsubscribed from'],
	])('%s reads "%s"', (type, verb) => {
		expect(activityNote({ type, at: '2026-03-04 05:06:07', subject: 'Hello' }).subject).toBe(`ActiveCampaign: ${verb} "Hello" on 2026-03-04 05:06 UTC`);
	});

	it('names the email when there is no campaign or subject, and keeps a time it cannot read as it is', () => {
		expect(activityNote({ type: 'open', at: 'yesterday' }).subject).toBe('ActiveCampaign: Opened "email" on yesterday');
		expect(activityNote({ type: 'open', at: null }).subject).toBe('ActiveCampaign: Opened "email" on an unknown time');
	});

	it('other webhook events make no note', () => {
		expect(webhookActivityNote({ type: 'update', contact: { id: '1' } })).toBeUndefined();
		expect(webhookActivityNote({ type: 'subscribe' })).toBeUndefined();
	});
});
