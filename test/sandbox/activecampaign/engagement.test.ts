import { AC_TIMESTAMP, startAc, type AcHarness, type J } from './testkit';

describe('ActiveCampaign simulator: activities, campaigns and the v1 campaign_send', () => {
	let ac: AcHarness;
	beforeAll(async () => {
		ac = await startAc();
	});
	afterAll(() => ac.close());
	beforeEach(() => ac.control('POST', '/reset', { settings: { requestsPerSecond: 100000 } }));

	it('lists a contact activity feed (newest first) with the documented shape', async () => {
		const res = await ac.api('GET', '/api/3/activities?contact=1');
		expect(res.status).toBe(200);
		expect(res.body.meta.total).toBe(String(res.body.activities.length));
		const kinds = res.body.activities.map((a: J) => a.reference_action);
		expect(kinds).toEqual(['open', 'sent', 'click', 'open', 'sent']);
		const a = res.body.activities[0];
		expect(a).toMatchObject({ subscriberid: '1', reference_type: expect.any(String), reference: { type: expect.any(String), id: expect.any(String) }, id: expect.stringMatching(/^\d+$/) });
		expect(a.tstamp).toMatch(AC_TIMESTAMP);
		const tstamps = res.body.activities.map((x: J) => x.tstamp);
		expect(tstamps).toEqual([...tstamps].sort().reverse());
	});

	it('supports after=, orders[tstamp]=ASC and include side-loads', async () => {
		const asc = await ac.api('GET', '/api/3/activities?contact=1&orders[tstamp]=ASC&include=reference.campaign,reference.link,reference.campaignMessage');
		expect(asc.body.activities[0].reference_action).toBe('sent');
		expect(asc.body.campaigns.map((c: J) => c.id).sort()).toEqual(['1', '2']);
		expect(asc.body.links[0].link).toMatch(/^https:\/\/www\.example\.com\//);
		expect(asc.body.campaignMessages.length).toBeGreaterThan(0);
		const cut = asc.body.activities[2].tstamp;
		const after = await ac.api('GET', `/api/3/activities?contact=1&after=${encodeURIComponent(cut)}`);
		expect(after.body.activities.every((x: J) => x.tstamp > cut)).toBe(true);
		expect(after.body.activities).toHaveLength(2);
		expect((await ac.api('GET', '/api/3/activities')).status).toBe(400);
		expect((await ac.api('GET', '/api/3/activities?contact=999')).body.activities).toEqual([]);
	});

	it('lists campaigns with aggregates computed from the activity, and their links and messages', async () => {
		const res = await ac.api('GET', '/api/3/campaigns');
		const c = res.body.campaigns[0];
		expect(c).toMatchObject({ name: 'Spring Product Update', id: '1' });
		const sent = Number(c.send_amt);
		expect(sent).toBeGreaterThan(10);
		expect(Number(c.uniqueopens)).toBeLessThanOrEqual(Number(c.opens));
		expect(Number(c.linkclicks)).toBeGreaterThan(0);
		expect((await ac.api('GET', '/api/3/campaigns/1/links')).body.links).toHaveLength(2);
		expect((await ac.api('GET', '/api/3/messages')).body.messages.map((m: J) => m.subject)).toEqual(["What's new this spring", 'Join our live webinar']);
		expect((await ac.api('GET', '/api/3/messages/1')).body.message.campaign).toBe('1');
		const created = await ac.api('POST', '/api/3/messages', {
			message: { fromname: 'AC Admin', fromemail: 'noreply@example.com', reply2: 'hello@example.com', subject: 'You are subscribing to %LISTNAME%', preheader_text: 'Pre-header Text' },
		});
		expect(created.status).toBe(201);
		expect(created.body.message).toMatchObject({ fromname: 'AC Admin', subject: 'You are subscribing to %LISTNAME%', id: '3' });
		expect((await ac.api('PUT', '/api/3/messages/3', { message: { subject: 'Changed' } })).body.message.subject).toBe('Changed');
		expect((await ac.api('DELETE', '/api/3/messages/3')).body).toEqual({});
		expect((await ac.api('GET', '/api/3/messages/3')).body).toEqual({ message: 'No Result found for Message with id 3' });
	});

	it('sends a campaign to one contact with the v1 API (urlencoded, Api-Token header) and records a sent activity', async () => {
		const before = Number((await ac.api('GET', '/api/3/campaigns/2')).body.campaign.send_amt);
		const body = new URLSearchParams({ email: 'sam.taylor@adatum.com', campaignid: '2', messageid: '2', type: 'html', action: 'send' });
		const res = await ac.api('POST', '/admin/api.php?api_action=campaign_send&api_output=json', body.toString(), {
			'Content-Type': 'application/x-www-form-urlencoded',
		});
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ result_code: 1, result_message: 'Message sent', result_output: 'json' });
		expect(Number((await ac.api('GET', '/api/3/campaigns/2')).body.campaign.send_amt)).toBe(before + 1);
		const feed = await ac.api('GET', '/api/3/activities?contact=3');
		expect(feed.body.activities[0]).toMatchObject({ reference_action: 'sent', subscriberid: '3' });
		const get = await ac.api('GET', '/admin/api.php?api_action=campaign_send&api_output=json&email=nobody@example.com&campaignid=1&messageid=1&action=send');
		expect(get.body.result_code).toBe(0);
	});

	it('answers v1 calls without a valid key with result_code 0', async () => {
		const res = await ac.api('GET', '/admin/api.php?api_action=campaign_send&api_output=json', undefined, { 'Api-Token': 'wrong' });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ result_code: 0, result_message: 'You are not authorized to access this file', result_output: 'json' });
		const withParam = await ac.api('GET', '/admin/api.php?api_key=sandbox-key&api_output=json', undefined, { 'Api-Token': '' });
		expect(withParam.body.result_code).toBe(1);
	});

	it('answers /users/me for key checks', async () => {
		expect((await ac.api('GET', '/api/3/users/me')).body.user).toMatchObject({ username: 'admin', id: '1' });
	});
});
