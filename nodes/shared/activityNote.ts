/**
 * The Dynamics timeline note of an ActiveCampaign email activity (sent, open, click, reply, forward, bounce,
 * unsubscribe). One rule for both ways an activity arrives — a webhook delivery (ActiveCampaign Sync Trigger) and a
 * read of the contact's activities (Get Activities) — because Add Note's "Skip Existing Subject" is what keeps a note
 * from being written twice: the same activity must give the same subject on either path, and on a webhook delivered
 * twice (ActiveCampaign delivers at least once).
 */
import type { IDataObject } from 'n8n-workflow';

import { parseInstant, utcIso, zoneOf } from './sync/time';

/** The engagement events of ActiveCampaign's webhooks (and the activity actions of its contact feed). */
export const EMAIL_ACTIVITY_EVENTS = ['sent', 'open', 'click', 'reply', 'forward', 'bounce', 'unsubscribe'] as const;

const VERBS: Record<string, string> = {
	sent: 'Sent',
	open: 'Opened',
	click: 'Clicked',
	reply: 'Replied to',
	forward: 'Forwarded',
	bounce: 'Bounced',
	unsubscribe: 'Unsubscribed from',
};

export interface EmailActivity {
	type: string;
	/** When it happened, as ActiveCampaign says it (ISO 8601 with an offset, or its "YYYY-MM-DD HH:mm:ss" local time). */
	at: string | null | undefined;
	campaignName?: string | null;
	subject?: string | null;
	link?: string | null;
}

export interface ActivityNote extends IDataObject {
	subject: string;
	text: string;
}

/**
 * The instant to the minute in UTC: the webhook's `date_time` and the activity feed's `tstamp` of one event may differ
 * in offset or seconds, never in the minute.
 */
function minute(at: string | null | undefined): string {
	const raw = String(at ?? '').trim();
	// A time without an offset is taken as UTC (the shared reading of ActiveCampaign's times, sync/time.ts).
	const instant = parseInstant(raw, zoneOf('UTC'));
	return instant === undefined ? raw || 'an unknown time' : `${utcIso(instant).slice(0, 16).replace('T', ' ')} UTC`;
}

export function activityNote(activity: EmailActivity): ActivityNote {
	const verb = VERBS[activity.type] ?? activity.type;
	const what = activity.campaignName || activity.subject || 'email';
	const when = minute(activity.at);
	return {
		subject: `ActiveCampaign: ${verb} "${what}" on ${when}`,
		text: [
			`Campaign: ${activity.campaignName ?? ''}`,
			`Email subject: ${activity.subject ?? ''}`,
			activity.link ? `Link: ${activity.link}` : '',
			`When: ${when}`,
		]
			.filter(Boolean)
			.join('\n'),
	};
}

/** The note of a webhook delivery (parsed body), if it is an email activity. */
export function webhookActivityNote(payload: IDataObject): ActivityNote | undefined {
	const type = String(payload.type ?? '');
	if (!(EMAIL_ACTIVITY_EVENTS as readonly string[]).includes(type)) return undefined;
	const campaign = (payload.campaign ?? {}) as IDataObject;
	const message = (campaign.message ?? {}) as IDataObject;
	const link = (payload.link ?? {}) as IDataObject;
	return activityNote({
		type,
		at: payload.date_time as string | undefined,
		campaignName: (campaign.name as string | undefined) || null,
		subject: (message.subject as string | undefined) || null,
		link: (link.url as string | undefined) || null,
	});
}
