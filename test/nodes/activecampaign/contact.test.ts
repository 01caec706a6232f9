/** Contact operations against the sandbox's demo account. */
import type { IDataObject } from 'n8n-workflow';

import { customValue, jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo' });
});
afterAll(async () => await t.close());

const WRITES = /^(POST|PUT|DELETE|PATCH) /;

const upsert = (email: string, extra: IDataObject = {}) => ({
	resource: 'contact',
	operation: 'upsert',
	dataMode: 'fields',
	email,
	...extra,
});

describe('Contact → Create or Update', () => {
	it('creates with custom fields encoded per type, tags by name (created when missing), a list and an account', async () => {
		const params = upsert('ada.lovelace@example.org', {
			additionalFields: { firstName: 'Ada', lastName: 'Lovelace', phone: '+44 20 0000', accountName: 'Analytical Engines Ltd', jobTitle: 'Mathematician' },
			customFields: {
				fieldValues: [
					{ field: 'LEAD_SOURCE', value: 'Trade Show' },
					{ field: 'Interests', value: '||CRM||Analytics||' },
					{ field: '3', value: '1815-12-10T12:00:00Z' },
					{ field: 'LAST_WEBINAR', value: '2026-01-02T15:30:00-05:00' },
					{ field: '%ANNUAL_BUDGET%', value: '25000' },
					{ field: 'Segment', value: 'Enterprise' },
					{ field: 'Preferred Channel', value: 'sms' },
				],
			},
			tags: ['VIP', 'Computing Pioneer'],
			lists: ['2'],
		});
		const result = await t.run(params);
		expect(result.error).toBeUndefined();
		const [out] = jsonOf(result);
		expect(out).toMatchObject({ operation: 'created', email: 'ada.lovelace@example.org' });
		const detail = await t.contact('ada.lovelace@example.org');
		expect(detail.fields).toMatchObject({
			LEAD_SOURCE: 'Trade Show',
			INTERESTS: '||CRM||Analytics||',
			BIRTHDAY: '1815-12-10',
			LAST_WEBINAR: '2026-01-02T15:30:00-05:00',
			ANNUAL_BUDGET: '25000',
			SEGMENT: '||Enterprise||',
			PREFERRED_CHANNEL: 'SMS',
		});
		expect((detail.tags as string[]).sort()).toEqual(['Computing Pioneer', 'VIP']);
		expect(detail.lists).toEqual([expect.objectContaining({ list: '2', status: 1 })]);
		expect(detail.account).toMatchObject({ name: 'Analytical Engines Ltd', jobTitle: 'Mathematician' });

		// The same values again: nothing is written.
		await t.resetStats();
		const again = jsonOf(await t.run(params));
		expect(again[0]).toMatchObject({ operation: 'skipped', reason: 'no changes', id: out.id });
		expect(await t.count(WRITES)).toBe(0);
	});

	it('updates only what differs, and updates by ID when the email changed (no second contact)', async () => {
		const created = jsonOf(await t.run(upsert('grace.hopper@example.org', { additionalFields: { firstName: 'Grace', lastName: 'Hopper' } })))[0];
		await t.resetStats();
		const changed = jsonOf(
			await t.run(upsert('grace.hopper@navy.example.org', { additionalFields: { firstName: 'Grace', lastName: 'Hopper', contactId: created.id } })),
		)[0];
		expect(changed).toMatchObject({ operation: 'updated', id: created.id, email: 'grace.hopper@navy.example.org', changes: ['email'] });
		expect(await t.count('PUT /api/3/contacts/:id')).toBe(1);
		expect(await t.count('POST /api/3/contact/sync')).toBe(0);
		await expect(t.contact('grace.hopper@example.org')).rejects.toThrow(/404/);
		expect(((await t.contact(String(created.id))).contact as IDataObject).email).toBe('grace.hopper@navy.example.org');
	});

	it('moves the account link and sets the job title', async () => {
		// maria.garcia@contoso.com is linked to Contoso Ltd in the demo data.
		const out = jsonOf(await t.run(upsert('maria.garcia@contoso.com', { additionalFields: { accountName: 'Fabrikam Inc', jobTitle: 'CMO' } })))[0];
		expect(out.operation).toBe('updated');
		expect(out.changes).toEqual(expect.arrayContaining(['account', 'jobTitle']));
		expect((await t.contact('maria.garcia@contoso.com')).account).toMatchObject({ name: 'Fabrikam Inc', jobTitle: 'CMO' });
		const again = jsonOf(await t.run(upsert('maria.garcia@contoso.com', { additionalFields: { accountName: 'fabrikam inc', jobTitle: 'CMO' } })))[0];
		expect(again.operation).toBe('skipped');
	});

	it('loads the tag catalogue once per execution, however many items', async () => {
		await t.resetStats();
		const input = Array.from({ length: 6 }, (_, i) => ({ email: `tagged.${i}@example.org` }));
		const result = await t.run(upsert('={{ $json.email }}', { tags: ['Shared New Tag', 'Customer'] }), input);
		expect(jsonOf(result).map((o) => o.operation)).toEqual(Array(6).fill('created'));
		expect(await t.count('GET /api/3/tags')).toBe(1);
		expect(await t.count('POST /api/3/tags')).toBe(1);
		expect(await t.count('GET /api/3/fields')).toBe(0);
	});

	it('reports an unknown custom field and a bad date on the item', async () => {
		const result = await t.run(
			upsert('={{ $json.email }}', { customFields: { fieldValues: [{ field: '={{ $json.field }}', value: '={{ $json.value }}' }] } }),
			[
				{ email: 'x1@example.org', field: 'NO_SUCH_FIELD', value: 'a' },
				{ email: 'x2@example.org', field: 'BIRTHDAY', value: 'soon' },
				{ email: 'x3@example.org', field: 'BIRTHDAY', value: '2000-01-01' },
			],
			{ continueOnFail: true },
		);
		const out = jsonOf(result);
		expect(out[0].error).toMatch(/No ActiveCampaign custom field .*NO_SUCH_FIELD/);
		expect(out[1].error).toMatch(/Birthday.*not a date/);
		expect(out[2].operation).toBe('created');
		expect(result.outputs[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	});
});

describe('Contact reads', () => {
	it('Get by email: field values by perstag, tags, account, link and state', async () => {
		const [c] = jsonOf(await t.run({ resource: 'contact', operation: 'get', contact: 'li.wei@fabrikam.com' }));
		expect(c).toMatchObject({ id: '2', email: 'li.wei@fabrikam.com', accountName: 'Fabrikam Inc' });
		expect(c.jobTitle).toBe(((await t.contact(2)).account as IDataObject).jobTitle);
		expect(customValue(c, 'LEAD_SOURCE')).toBe('Dynamics 365');
		expect(customValue(c, 'Lead Source')).toBe('Dynamics 365');
		expect(Array.isArray(c.tags)).toBe(true);
		expect(c.d365Link).toBeNull();
	});

	it('Get Many filters by tag name, list, email, search and date; limit', async () => {
		const byTag = jsonOf(await t.run({ resource: 'contact', operation: 'getAll', returnAll: true, filters: { tag: 'VIP' } }));
		const vip = (await t.control<{ contacts: IDataObject[] }>('GET', '/state/contacts?limit=5000')).contacts.length;
		expect(byTag.length).toBeGreaterThan(0);
		expect(byTag.length).toBeLessThan(vip);
		for (const c of byTag.slice(0, 3)) expect((await t.contact(String(c.id))).tags).toContain('VIP');

		const byList = jsonOf(await t.run({ resource: 'contact', operation: 'getAll', returnAll: true, filters: { list: '2' } }));
		expect(byList.length).toBeGreaterThan(0);
		const byEmail = jsonOf(await t.run({ resource: 'contact', operation: 'getAll', returnAll: true, filters: { email: 'sam.taylor@adatum.com' } }));
		expect(byEmail.map((c) => c.id)).toEqual(['3']);
		const bySearch = jsonOf(await t.run({ resource: 'contact', operation: 'getAll', returnAll: true, filters: { search: 'Patel' } }));
		expect(bySearch.map((c) => c.email)).toContain('priya.patel@litware.com');
		const recent = jsonOf(await t.run({ resource: 'contact', operation: 'getAll', returnAll: true, filters: { updatedAfter: '2026-01-01T00:00:00Z' } }));
		expect(recent.every((c) => Date.parse(String(c.udate)) >= Date.parse('2026-01-01T00:00:00Z'))).toBe(true);
		expect(recent.length).toBeGreaterThan(0);
		const limited = await t.run({ resource: 'contact', operation: 'getAll', returnAll: false, limit: 7, getAllOptions: { details: true } });
		expect(jsonOf(limited)).toHaveLength(7);
		expect(jsonOf(limited)[0].customFields).toBeDefined();
		expect(jsonOf(await t.run({ resource: 'contact', operation: 'getAll', returnAll: true, filters: { tag: 'No Such Tag' } }))).toEqual([]);
	});

	it('Get Activities: sends, opens and clicks since a time, oldest first, with campaign details', async () => {
		const all = jsonOf(await t.run({ resource: 'contact', operation: 'getActivities', contact: '1', returnAll: true }));
		expect(all.length).toBeGreaterThan(2);
		expect(new Set(all.map((a) => a.type))).toEqual(new Set(['sent', 'open', 'click']));
		expect(all[0].campaignName).toBe('Spring Product Update');
		expect(all.find((a) => a.type === 'click')?.link).toMatch(/^https:\/\//);
		const times = all.map((a) => Date.parse(String(a.tstamp)));
		expect([...times].sort((a, b) => a - b)).toEqual(times);
		const since = String(all[1].tstamp);
		const later = jsonOf(await t.run({ resource: 'contact', operation: 'getActivities', contact: 'maria.garcia@contoso.com', since, returnAll: true }));
		expect(later.length).toBe(all.filter((a) => Date.parse(String(a.tstamp)) > Date.parse(since)).length);
	});
});

describe('Contact actions', () => {
	it('Update by ID; Add Tag and Remove Tag by name', async () => {
		const [u] = jsonOf(await t.run({ resource: 'contact', operation: 'update', contactId: '4', updateFields: { lastName: 'Patel-Shah' }, customFields: { fieldValues: [{ field: 'NOTES', value: 'Prefers email' }] } }));
		expect(u).toMatchObject({ operation: 'updated', id: '4', changes: ['lastName', 'NOTES'] });
		const [added] = jsonOf(await t.run({ resource: 'contact', operation: 'addTag', contact: '4', tags: ['Hot Lead', 'VIP'] }));
		expect(added.tagsAdded).toEqual(expect.arrayContaining(['Hot Lead']));
		expect((await t.contact(4)).tags).toEqual(expect.arrayContaining(['Hot Lead', 'VIP']));
		const [removed] = jsonOf(await t.run({ resource: 'contact', operation: 'removeTag', contact: 'priya.patel@litware.com', tags: ['hot lead'] }));
		expect(removed.tagsRemoved).toEqual(['Hot Lead']);
		expect((await t.contact(4)).tags).not.toContain('Hot Lead');
	});

	it('Add to and Remove From Automation; Subscribe and Unsubscribe', async () => {
		await t.run({ resource: 'contact', operation: 'addToAutomation', contact: '5', automation: '2' });
		expect(((await t.contact(5)).automations as IDataObject[]).map((a) => a.automation)).toContain('2');
		const [r] = jsonOf(await t.run({ resource: 'contact', operation: 'removeFromAutomation', contact: '5', automation: '2' }));
		expect(r.removed).toBe(1);
		expect(((await t.contact(5)).automations as IDataObject[]).map((a) => a.automation)).not.toContain('2');

		await t.run({ resource: 'contact', operation: 'subscribe', contact: '5', list: '2' });
		expect((await t.contact(5)).lists).toEqual(expect.arrayContaining([expect.objectContaining({ list: '2', status: 1 })]));
		await t.run({ resource: 'contact', operation: 'unsubscribe', contact: '5', list: '2' });
		expect((await t.contact(5)).lists).toEqual(expect.arrayContaining([expect.objectContaining({ list: '2', status: 2 })]));
	});

	it('Send Campaign through an automation, or with the v1 campaign_send call', async () => {
		const [a] = jsonOf(await t.run({ resource: 'contact', operation: 'sendCampaign', contact: '3', sendMethod: 'automation', sendAutomation: '2' }));
		expect(a.method).toBe('automation');
		expect(((await t.contact(3)).automations as IDataObject[]).map((x) => x.automation)).toContain('2');

		const before = ((await t.contact(3)).activities as IDataObject[]).length;
		const [v1] = jsonOf(await t.run({ resource: 'contact', operation: 'sendCampaign', contact: 'sam.taylor@adatum.com', sendMethod: 'v1', campaign: '2' }));
		expect(v1).toMatchObject({ method: 'v1', email: 'sam.taylor@adatum.com' });
		const activities = (await t.contact(3)).activities as IDataObject[];
		expect(activities).toHaveLength(before + 1);
		expect(activities[activities.length - 1]).toMatchObject({ kind: 'sent', campaign: '2' });

		const bad = await t.run({ resource: 'contact', operation: 'sendCampaign', contact: '3', sendMethod: 'v1', campaign: '999' }, [{}], { continueOnFail: true });
		expect(jsonOf(bad)[0].error).toBe('Campaign not found');
	});

	it('Delete; errors carry the API message and the item index', async () => {
		const created = jsonOf(await t.run(upsert('to.delete@example.org')))[0];
		const result = await t.run(
			{ resource: 'contact', operation: 'delete', contact: '={{ $json.contact }}' },
			[{ contact: created.id }, { contact: created.id }, { contact: 'nobody@nowhere.example' }],
			{ continueOnFail: true },
		);
		const out = jsonOf(result);
		expect(out[0]).toEqual({ deleted: true, id: created.id });
		expect(out[1].error).toBe(`No result found for contact with id ${created.id}`);
		expect(out[2].error).toBe('No ActiveCampaign contact with email nobody@nowhere.example');
		expect(result.outputs[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		await expect(t.contact(String(created.id))).rejects.toThrow(/404/);

		const failing = await t.run({ resource: 'contact', operation: 'get', contact: '={{ $json.c }}' }, [{ c: '1' }, { c: '99999' }]);
		expect(failing.error?.message).toBe('No Result found for Subscriber with id 99999');
		expect((failing.error as unknown as { context: IDataObject }).context.itemIndex).toBe(1);
		expect(failing.error?.httpCode).toBe('404');
	});

	it('Ensure Sync Fields creates the hidden fields and is idempotent', async () => {
		const [first] = jsonOf(await t.run({ resource: 'contact', operation: 'ensureSyncFields' }, [{}, {}]));
		expect(first.contactFields).toMatchObject({ link: { perstag: 'D365_RECORD_ID' }, state: { perstag: 'D365_SYNC_STATE' } });
		expect(first.accountFields).toMatchObject({ link: { label: 'D365 Account ID' }, state: { label: 'D365 Account Sync State' } });
		expect(Object.keys(first.tags as IDataObject)).toEqual(['[D365: Lead]', '[D365: Contact]', '[D365: Pushed from Dynamics]', '[D365: Pulled from ActiveCampaign]', '[D365: Deleted in Dynamics]']);
		await t.resetStats();
		const [second] = jsonOf(await t.run({ resource: 'contact', operation: 'ensureSyncFields' }));
		expect(second).toEqual(first);
		expect(await t.count(WRITES)).toBe(0);
	});
});
