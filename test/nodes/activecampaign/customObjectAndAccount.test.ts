/** Custom objects (the D365 Opportunity schema and records by external id) and account operations. */
import type { IDataObject } from 'n8n-workflow';

import { customValue, jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo' });
});
afterAll(async () => await t.close());

const WRITES = /^(POST|PUT|DELETE|PATCH) /;

interface RecordsState {
	schema: IDataObject;
	records: Array<{ id: string; externalId: string; fields: Array<{ id: string; value: unknown }>; relationships: Record<string, string[]> }>;
}

describe('Custom Object', () => {
	it('Ensure Schema creates "D365 Opportunity" with the five fields and the contact relationship, adds missing fields later, then does nothing', async () => {
		const [created] = jsonOf(await t.run({ resource: 'customObject', operation: 'ensureSchema' }));
		expect(created).toMatchObject({ operation: 'created', slug: 'd365-opportunity' });
		const state = await t.control<{ schemas: IDataObject[] }>('GET', '/state/customObjects');
		const schema = state.schemas.find((s) => s.slug === 'd365-opportunity')!;
		expect(schema.labels).toEqual({ singular: 'D365 Opportunity', plural: 'D365 Opportunities' });
		expect((schema.fields as IDataObject[]).map((f) => [f.id, f.type])).toEqual([
			['name', 'text'],
			['estimated-revenue', 'currency'],
			['estimated-close-date', 'date'],
			['actual-revenue', 'currency'],
			['stage', 'text'],
		]);
		expect(schema.relationships).toEqual([expect.objectContaining({ id: 'primary-contact', namespace: 'contacts', hasMany: false })]);
		// A contact custom object: ActiveCampaign's automation builder offers its two triggers, named after it.
		const { triggers } = await t.control<{ triggers: IDataObject[] }>('GET', '/automationTriggers');
		expect(triggers.map((trigger) => trigger.name)).toEqual(['D365 Opportunity Created', 'D365 Opportunity Updated']);

		const extra = Array.from({ length: 20 }, (_, i) => ({ id: `extra-${i}`, label: `Extra ${i}`, type: i % 2 ? 'number' : 'text', options: '' }));
		const [updated] = jsonOf(await t.run({ resource: 'customObject', operation: 'ensureSchema', schemaFields: { field: extra } }));
		expect(updated).toMatchObject({ operation: 'updated', schemaId: created.schemaId });
		expect(updated.fieldsAdded).toHaveLength(20);

		await t.resetStats();
		const [again] = jsonOf(await t.run({ resource: 'customObject', operation: 'ensureSchema', schemaFields: { field: extra } }));
		expect(again).toMatchObject({ operation: 'skipped' });
		expect(await t.count(WRITES)).toBe(0);

		const tooMany = await t.run(
			{ resource: 'customObject', operation: 'ensureSchema', schemaFields: { field: [...extra, { id: 'extra-20', label: 'X', type: 'text' }] } },
			[{}],
			{ continueOnFail: true },
		);
		expect(jsonOf(tooMany)[0].error).toMatch(/At most 20 additional fields/);
	});

	it('an opportunity upserted twice by external id stays one record, linked to the right contact; unchanged → skipped', async () => {
		const upsert = (fields: IDataObject, email: string) =>
			t.run({
				resource: 'customObject',
				operation: 'upsertRecord',
				schema: 'd365-opportunity',
				dataMode: 'fields',
				externalId: 'OPP-0001',
				contactEmail: email,
				recordFields: { field: Object.entries(fields).map(([id, value]) => ({ id, value: value as string })) },
			});
		const first = jsonOf(await upsert({ name: 'Big Deal', 'estimated-revenue': 50000, 'estimated-close-date': '2026-03-31T00:00:00Z', stage: 'Propose' }, 'li.wei@fabrikam.com'))[0];
		expect(first).toMatchObject({ operation: 'created', externalId: 'OPP-0001', contactId: '2' });

		const second = jsonOf(await upsert({ name: 'Big Deal', 'estimated-revenue': 65000, stage: 'Close' }, 'li.wei@fabrikam.com'))[0];
		expect(second).toMatchObject({ operation: 'updated', id: first.id });

		await t.resetStats();
		const third = jsonOf(await upsert({ name: 'Big Deal', 'estimated-revenue': 65000, stage: 'Close' }, 'li.wei@fabrikam.com'))[0];
		expect(third).toMatchObject({ operation: 'skipped', reason: 'no changes' });
		expect(await t.count(WRITES)).toBe(0);

		const records = await t.control<RecordsState>('GET', '/state/customObjects/d365-opportunity/records');
		const matching = records.records.filter((r) => r.externalId === 'OPP-0001');
		expect(matching).toHaveLength(1);
		expect(matching[0].relationships['primary-contact']).toEqual(['2']);
		const values = Object.fromEntries(matching[0].fields.map((f) => [f.id, f.value]));
		expect(values).toMatchObject({ name: 'Big Deal', 'estimated-revenue': 65000, 'estimated-close-date': '2026-03-31', stage: 'Close' });

		// Moving the opportunity to another contact relinks the same record.
		const moved = jsonOf(await upsert({ name: 'Big Deal' }, 'maria.garcia@contoso.com'))[0];
		expect(moved).toMatchObject({ operation: 'updated', id: first.id, contactId: '1' });
		const after = await t.control<RecordsState>('GET', '/state/customObjects/d365-opportunity/records');
		expect(after.records.filter((r) => r.externalId === 'OPP-0001')).toHaveLength(1);
		expect(after.records.find((r) => r.externalId === 'OPP-0001')!.relationships['primary-contact']).toEqual(['1']);
	});

	it('opportunity sync items; Get Many by contact; Delete by external id (202)', async () => {
		const item = (externalId: string, email: string, revenue: number) => ({
			entity: 'opportunity',
			direction: 'toActiveCampaign',
			record: { fields: { name: `Opp ${externalId}`, 'estimated-revenue': revenue, 'extra-1': 7 } },
			match: { externalId, d365Id: externalId },
			source: { system: 'dynamics', id: externalId, hash: '0000000000000001' },
			related: { contactEmail: email },
		});
		const params = { resource: 'customObject', operation: 'upsertRecord', schema: 'd365-opportunity', dataMode: 'syncItem' };
		const out = jsonOf(await t.run(params, [item('OPP-A', 'sam.taylor@adatum.com', 10), item('OPP-B', 'sam.taylor@adatum.com', 20), item('OPP-C', 'nobody@nowhere.example', 30)], { continueOnFail: true }));
		expect(out.map((o) => o.operation ?? o.error)).toEqual(['created', 'created', 'No ActiveCampaign contact with email nobody@nowhere.example to relate the record to']);

		const mine = jsonOf(await t.run({ resource: 'customObject', operation: 'getAllRecords', schema: 'd365-opportunity', contact: 'sam.taylor@adatum.com', returnAll: true }));
		expect(mine.map((r) => r.externalId).sort()).toEqual(['OPP-A', 'OPP-B']);
		expect((mine[0].fields as IDataObject)['extra-1']).toBe(7);

		await t.resetStats();
		const [deleted] = jsonOf(await t.run({ resource: 'customObject', operation: 'deleteRecord', schema: 'd365-opportunity', deleteExternalId: 'OPP-A' }));
		expect(deleted).toMatchObject({ deleted: true, externalId: 'OPP-A', status: 202 });
		const left = jsonOf(await t.run({ resource: 'customObject', operation: 'getAllRecords', schema: 'd365-opportunity', contact: '3', returnAll: true }));
		expect(left.map((r) => r.externalId)).toEqual(['OPP-B']);
	});
});

describe('Account', () => {
	it('Create or Update by name: creates, then updates only what differs (currency in cents); custom fields by label or id', async () => {
		const params = (name: string, revenue: number, employees: string) => ({
			resource: 'account',
			operation: 'upsert',
			dataMode: 'fields',
			name,
			additionalFields: { accountUrl: 'https://adventure-works.example.com' },
			customFields: { fieldValues: [{ field: 'Annual Revenue', value: String(revenue) }, { field: '3', value: employees }, { field: 'Industry', value: 'software' }] },
		});
		const [created] = jsonOf(await t.run(params('Adventure Works', 99_000_00, '40')));
		expect(created.operation).toBe('created');
		const [updated] = jsonOf(await t.run(params('Adventure Works', 120_000_00, '40')));
		expect(updated).toMatchObject({ operation: 'updated', id: created.id, changes: ['Annual Revenue'] });
		await t.resetStats();
		const [same] = jsonOf(await t.run(params('Adventure Works', 120_000_00, '40')));
		expect(same).toMatchObject({ operation: 'skipped' });
		expect(await t.count(WRITES)).toBe(0);
		// Names match case-insensitively (they are unique that way); the given spelling is written.
		const [respelled] = jsonOf(await t.run(params('ADVENTURE WORKS', 120_000_00, '40')));
		expect(respelled).toMatchObject({ operation: 'updated', id: created.id, changes: ['name'] });
		const all = await t.control<{ accounts: IDataObject[] }>('GET', '/state/accounts');
		const stored = all.accounts.find((a) => a.id === created.id)!;
		expect(stored.customFields).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ label: 'Annual Revenue', value: 12_000_000, currency: 'usd' }),
				expect.objectContaining({ label: 'Number of Employees', value: 40 }),
				expect.objectContaining({ label: 'Industry', value: 'Software' }),
			]),
		);
	});

	it('Get and Get Many (with custom fields, no cap)', async () => {
		for (let i = 0; i < 120; i++) await t.control('POST', '/ui/accounts', { name: `Filler Account ${i}` });
		const [one] = jsonOf(await t.run({ resource: 'account', operation: 'get', accountId: '1' }));
		expect(one).toMatchObject({ id: '1', name: 'Contoso Ltd' });
		const contoso = (await t.control<{ accounts: IDataObject[] }>('GET', '/state/accounts')).accounts.find((a) => a.id === '1')!;
		const revenue = (contoso.customFields as IDataObject[]).find((f) => f.label === 'Annual Revenue')!.value;
		expect(customValue(one, 'Annual Revenue')).toBe(revenue);
		expect(one.customFields).toEqual(expect.arrayContaining([expect.objectContaining({ title: 'Annual Revenue', type: 'currency', currency: 'usd' })]));
		const all = jsonOf(await t.run({ resource: 'account', operation: 'getAll', returnAll: true, getAllOptions: { details: false } }));
		expect(all.length).toBeGreaterThan(120);
		const search = jsonOf(await t.run({ resource: 'account', operation: 'getAll', returnAll: true, filters: { search: 'Filler Account 11' } }));
		expect(search.map((a) => a.name).sort()).toEqual(['Filler Account 11', 'Filler Account 110', 'Filler Account 111', 'Filler Account 112', 'Filler Account 113', 'Filler Account 114', 'Filler Account 115', 'Filler Account 116', 'Filler Account 117', 'Filler Account 118', 'Filler Account 119']);
	});

	it('Link Contact: links, moves from another account, sets the job title', async () => {
		const [linked] = jsonOf(await t.run({ resource: 'account', operation: 'linkContact', contact: 'jonas.berg@northwind.com', account: 'Fabrikam Inc', jobTitle: 'Founder' }));
		expect(linked).toMatchObject({ operation: 'updated', accountName: 'Fabrikam Inc', jobTitle: 'Founder', movedFrom: null });
		const [moved] = jsonOf(await t.run({ resource: 'account', operation: 'linkContact', contact: '5', account: '1', jobTitle: 'Advisor' }));
		expect(moved).toMatchObject({ accountId: '1', accountName: 'Contoso Ltd', jobTitle: 'Advisor', movedFrom: '2' });
		const [same] = jsonOf(await t.run({ resource: 'account', operation: 'linkContact', contact: '5', account: 'Contoso Ltd' }));
		expect(same).toMatchObject({ operation: 'skipped', jobTitle: 'Advisor' });
		expect((await t.contact(5)).account).toMatchObject({ name: 'Contoso Ltd', jobTitle: 'Advisor' });
	});
});

describe('Load options', () => {
	it('lists every custom field, tag, list, automation, account field and schema, past 100', async () => {
		for (let i = 0; i < 105; i++) await t.control('POST', '/ui/contacts', { email: `lo${i}@example.org`, tags: [`Load Option Tag ${i}`] });
		await t.fast();
		const spec = { type: 'activeCampaignSync', parameters: {}, credentials: ['activeCampaignSyncApi'] };
		const tags = (await t.harness.loadOptions(spec, 'loadOptions', 'getTags')) as Array<{ name: string }>;
		expect(tags.length).toBeGreaterThan(105);
		expect(tags.map((x) => x.name)).toContain('Load Option Tag 104');
		// 110 extra fields through the API (the loader pages past the first 100).
		for (let i = 0; i < 110; i++) {
			await fetch(`${t.url}/api/3/fields`, {
				method: 'POST',
				headers: { 'Api-Token': 'sandbox-key', 'Content-Type': 'application/json' },
				body: JSON.stringify({ field: { title: `Extra Field ${i}`, type: 'text' } }),
			});
		}
		const fields = (await t.harness.loadOptions(spec, 'loadOptions', 'getContactFields')) as Array<{ name: string; value: string }>;
		expect(fields.length).toBeGreaterThanOrEqual(120);
		expect(fields.map((f) => f.name)).toContain('Lead Source (%LEAD_SOURCE%)');
		expect(fields.map((f) => f.name)).toContain('Extra Field 109 (%EXTRA_FIELD_109%)');
		for (const method of ['getLists', 'getAutomations', 'getAccountFields', 'getSchemas', 'getCampaigns']) {
			const options = (await t.harness.loadOptions(spec, 'loadOptions', method)) as unknown[];
			expect(options.length).toBeGreaterThan(0);
		}
		expect(await t.harness.loadOptions(spec, 'loadOptions', 'getSchemas')).toEqual([{ name: 'D365 Opportunity (d365-opportunity)', value: 'd365-opportunity' }]);
	});

	it('the credential test passes with the sandbox key and fails with another', async () => {
		expect(await t.harness.testCredential('activeCampaignSyncApi')).toMatchObject({ status: 'OK' });
		t.harness.setCredentials('activeCampaignSyncApi', { apiUrl: t.url, apiKey: 'wrong' });
		expect(await t.harness.testCredential('activeCampaignSyncApi')).toMatchObject({ status: 'Error' });
		t.harness.setCredentials('activeCampaignSyncApi', { apiUrl: t.url, apiKey: 'sandbox-key' });
		// The URL with a trailing slash or with /api/3, as the nodes accept it.
		for (const apiUrl of [`${t.url}/`, `${t.url}/api/3`, `${t.url}/api/3/`]) {
			t.harness.setCredentials('activeCampaignSyncApi', { apiUrl, apiKey: 'sandbox-key' });
			expect(await t.harness.testCredential('activeCampaignSyncApi')).toMatchObject({ status: 'OK' });
		}
		t.harness.setCredentials('activeCampaignSyncApi', { apiUrl: t.url, apiKey: 'sandbox-key' });
	});
});
