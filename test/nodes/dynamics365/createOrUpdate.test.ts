/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Create or Update against the sandbox: bulk lookups and $batch writes (2,000 items in ≤ 2 % write requests), a rerun
 * that writes nothing, matching by id / alternate key / column, lookups by column value, option-set labels, required
 * columns, the "skip if changed after" conflict option and per-item errors.
 */
import type { IDataObject } from 'n8n-workflow';

import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

const WRITES = /^(POST|PATCH|PUT|DELETE) \/api\/data\/v9\.2\/(?!\{)/;

function people(n: number, offset = 0): IDataObject[] {
	return Array.from({ length: n }, (_, k) => ({
		emailaddress1: `bulk.person.${k + offset}@example.org`,
		firstname: `Bulk${k + offset}`,
		lastname: `Person ${k + offset}`,
		jobtitle: k % 2 ? 'Engineer' : 'Manager',
		new_score: k % 1000,
	}));
}

const upsertByEmail = { resource: 'contact', operation: 'createOrUpdate', dataMode: 'autoMap', matchOn: 'column', matchColumn: 'emailaddress1', options: {} };

describe('Create or Update', () => {
	it('writes 2,000 items with at most 2 % as many write requests; a rerun writes nothing and skips every item', async () => {
		const input = people(2000);
		await t.resetStats();
		const first = await t.run(upsertByEmail, input);
		expect(first.error).toBeUndefined();
		const out = jsonOf(first);
		expect(out).toHaveLength(2000);
		expect(out.every((o) => o.operation === 'created')).toBe(true);
		first.outputs[0].forEach((item, i) => expect(item.pairedItem).toEqual({ item: i }));
		const writes = await t.count(WRITES);
		const stats = await t.stats();
		console.log(`[measure] Create or Update 2,000 new items: ${writes} write requests (${((writes / 2000) * 100).toFixed(2)} %), ${stats.total} requests in all`);
		expect(writes).toBeLessThanOrEqual(40);

		// Half of them change in the source; the other half are identical.
		const changed = input.map((p, i) => (i % 2 ? { ...p, jobtitle: 'Director' } : p));
		await t.resetStats();
		const second = jsonOf(await t.run(upsertByEmail, changed));
		expect(second.filter((o) => o.operation === 'updated')).toHaveLength(1000);
		expect(second.filter((o) => o.operation === 'skipped')).toHaveLength(1000);
		expect(second.find((o) => o.operation === 'updated')!.changedColumns).toEqual(['jobtitle']);
		expect(await t.count(WRITES)).toBeLessThanOrEqual(40);

		await t.resetStats();
		const rerun = jsonOf(await t.run(upsertByEmail, changed));
		const rerunWrites = await t.count(WRITES);
		console.log(`[measure] Create or Update rerun with the same 2,000 items: ${rerunWrites} write requests, ${rerun.filter((o) => o.operation === 'skipped').length} skipped`);
		expect(rerunWrites).toBe(0);
		expect(rerun.every((o) => o.operation === 'skipped' && o.reason === 'no changes')).toBe(true);

		// The sandbox holds exactly one contact per email.
		const state = await t.control<IDataObject[] | { value: IDataObject[] }>('GET', '/state/contacts');
		const rows = (Array.isArray(state) ? state : state.value) as IDataObject[];
		const bulk = rows.filter((r) => String(r.emailaddress1 ?? '').startsWith('bulk.person.'));
		expect(bulk).toHaveLength(2000);
		expect(bulk.filter((r) => r.jobtitle === 'Director')).toHaveLength(1000);
	});

	it('matches on the record id (creating with that id when missing) and on an alternate key', async () => {
		const id = '5a1c7a34-0c2b-4c84-9a57-2b0a6d1e9f01';
		const created = jsonOf(
			await t.run({ ...upsertByEmail, matchOn: 'id', recordId: id }, [{ firstname: 'Id', lastname: 'Match', emailaddress1: 'id.match@example.org' }]),
		);
		expect(created[0]).toMatchObject({ operation: 'created', id });
		const updated = jsonOf(await t.run({ ...upsertByEmail, matchOn: 'id', recordId: id }, [{ lastname: 'Matched' }]));
		expect(updated[0]).toMatchObject({ operation: 'updated', id, changedColumns: ['lastname'] });

		await t.control('POST', '/keys', { table: 'account', attributes: ['accountnumber'] });
		const { clearMetadataCache } = await import('../../../nodes/Dynamics365/transport/metadata');
		clearMetadataCache();
		const byKey = { resource: 'account', operation: 'createOrUpdate', dataMode: 'autoMap', matchOn: 'alternateKey', options: {} };
		const keys = await t.harness.loadOptions(
			{ type: 'dynamics365', parameters: { authentication: 'clientCredentials', resource: 'account' }, credentials: ['dynamics365ClientCredentialsApi'] },
			'loadOptions',
			'getAlternateKeys',
		);
		const keyName = (keys as Array<{ value: string }>)[0].value;
		const accounts = [
			{ accountnumber: 'KEY-1', name: 'Key One' },
			{ accountnumber: 'KEY-2', name: 'Key Two' },
		];
		expect(jsonOf(await t.run({ ...byKey, alternateKey: keyName }, accounts)).map((o) => o.operation)).toEqual(['created', 'created']);
		const again = jsonOf(await t.run({ ...byKey, alternateKey: keyName }, [{ accountnumber: 'key-1', name: 'Key One Renamed' }, accounts[1]]));
		expect(again.map((o) => o.operation)).toEqual(['updated', 'skipped']);
	});

	it('resolves lookups given by a column value and option sets given by label; reports bad values per item', async () => {
		const result = await t.run(
			{ resource: 'contact', operation: 'createOrUpdate', dataMode: 'autoMap', matchOn: 'column', matchColumn: 'emailaddress1', options: {} },
			[
				{ emailaddress1: 'lookup.one@example.org', lastname: 'One', 'parentcustomerid_account@odata.bind': "/accounts(name='Contoso Ltd')", new_preferredchannel: 'email' },
				{ emailaddress1: 'lookup.two@example.org', lastname: 'Two', new_preferredchannel: 'Carrier pigeon' },
				{ emailaddress1: 'lookup.three@example.org', lastname: 'Three', 'parentcustomerid_account@odata.bind': "/accounts(name='No Such Company')" },
				{ emailaddress1: 'lookup.four@example.org', lastname: 'Four', parentcustomerid: `account:${t.demoIds['account:fabrikam']}`, new_interests: 'Webinars, 100000002' },
			],
			{ continueOnFail: true },
		);
		const [one, two, three, four] = jsonOf(result);
		expect(one.operation).toBe('created');
		expect(String(two.error)).toMatch(/'Carrier pigeon' is not a valid choice for the column 'new_preferredchannel'. Valid choices: .*Email/i);
		expect(String(three.error)).toMatch(/No account record has name = 'No Such Company'/);
		expect(four).toMatchObject({ operation: "created" });
		const row = await t.control<IDataObject>('GET', `/state/contacts/${one.id}`);
		expect(row._parentcustomerid_value).toBe(t.demoIds['account:contoso']);
		expect(typeof row.new_preferredchannel).toBe('number');
		const rowFour = await t.control<IDataObject>('GET', `/state/contacts/${four.id}`);
		expect(rowFour._parentcustomerid_value).toBe(t.demoIds['account:fabrikam']);
		expect(String(rowFour.new_interests).split(',').sort()).toEqual(['100000000', '100000002']);

		// The same input again: lookups and labels compare equal, nothing is written.
		await t.resetStats();
		const again = jsonOf(
			await t.run(
				{ resource: 'contact', operation: 'createOrUpdate', dataMode: 'autoMap', matchOn: 'column', matchColumn: 'emailaddress1', options: {} },
				[{ emailaddress1: 'lookup.one@example.org', lastname: 'One', 'parentcustomerid_account@odata.bind': "/accounts(name='Contoso Ltd')", new_preferredchannel: 'EMAIL' }],
			),
		);
		expect(again[0]).toMatchObject({ operation: 'skipped', reason: 'no changes' });
		expect(await t.count(WRITES)).toBe(0);
	});

	it('rounds money to the column precision, so a rerun finds no difference', async () => {
		const input = [{ emailaddress1: 'money@example.org', lastname: 'Money', new_annualbudget: 1234.5678 }];
		const [first] = jsonOf(await t.run(upsertByEmail, input));
		expect(first.operation).toBe('created');
		expect((await t.control<IDataObject>('GET', `/state/contacts/${first.id}`)).new_annualbudget).toBe(1234.57);
		const [again] = jsonOf(await t.run(upsertByEmail, input));
		expect(again).toMatchObject({ operation: 'skipped', reason: 'no changes' });
	});

	it('checks required columns on create (Dataverse does not) and lists them', async () => {
		const result = await t.run(
			{ resource: 'lead', operation: 'createOrUpdate', dataMode: 'autoMap', matchOn: 'column', matchColumn: 'emailaddress1', options: {} },
			[{ emailaddress1: 'no.required@example.org', firstname: 'No' }],
			{ continueOnFail: true },
		);
		const [out] = jsonOf(result);
		expect(String(out.error)).toMatch(/Missing required columns for a new lead: .*\(subject\).*|Missing required columns for a new lead: .*\(lastname\)/);
		expect(String(out.error)).toMatch(/lastname/);
		expect(String(out.error)).toMatch(/subject/);
	});

	it('skips a record that changed in Dynamics after the given source time (conflict option)', async () => {
		const maria = 'maria.garcia@contoso.com';
		const before = jsonOf(
			await t.run({ ...upsertByEmail, options: { skipIfModifiedAfter: '2020-01-01T00:00:00Z' } }, [{ emailaddress1: maria, jobtitle: 'Skipped Title' }]),
		);
		expect(before[0].operation).toBe('skipped');
		expect(String(before[0].reason)).toMatch(/changed after 2020-01-01T00:00:00Z/);
		const after = jsonOf(
			await t.run({ ...upsertByEmail, options: { skipIfModifiedAfter: new Date(Date.now() + 60_000).toISOString() } }, [{ emailaddress1: maria, jobtitle: 'Written Title' }]),
		);
		expect(after[0].operation).toBe('updated');
	});

	it('handles the same record twice in one run: the second item sees the first one’s write', async () => {
		const result = jsonOf(
			await t.run(upsertByEmail, [
				{ emailaddress1: 'twice@example.org', lastname: 'Twice', jobtitle: 'A' },
				{ emailaddress1: 'TWICE@example.org', lastname: 'Twice', jobtitle: 'B' },
			]),
		);
		expect(result.map((o) => o.operation)).toEqual(['created', 'updated']);
		expect(result[0].id).toBe(result[1].id);
	});

	it('reports several matches as an error unless told to update the most recently modified', async () => {
		await t.control('POST', '/ui/contacts', { lastname: 'Dup', emailaddress1: 'dup@example.org' });
		await t.control('POST', '/ui/contacts', { lastname: 'Dup', emailaddress1: 'dup@example.org' });
		const error = jsonOf(await t.run(upsertByEmail, [{ emailaddress1: 'dup@example.org', jobtitle: 'X' }], { continueOnFail: true }));
		expect(String(error[0].error)).toMatch(/2 contact records match emailaddress1 = 'dup@example.org'/);
		const first = jsonOf(await t.run({ ...upsertByEmail, options: { multipleMatches: 'first' } }, [{ emailaddress1: 'dup@example.org', jobtitle: 'X' }]));
		expect(first[0]).toMatchObject({ operation: 'updated', matchedRecords: 2 });
	});

	it('sends failed items to the error output and the rest to the success output', async () => {
		const result = await t.run(
			upsertByEmail,
			[{ emailaddress1: 'good@example.org', lastname: 'Good' }, { emailaddress1: 'bad@example.org', lastname: 'x'.repeat(60) }],
			{ onError: 'continueErrorOutput' },
		);
		expect(result.error).toBeUndefined();
		expect(jsonOf(result, 0).map((o) => o.operation)).toEqual(['created']);
		const errors = jsonOf(result, 1);
		expect(errors).toHaveLength(1);
		expect(String(errors[0].error)).toMatch(/length of the 'lastname' attribute/i);
		expect(result.outputs[1][0].pairedItem).toEqual({ item: 1 });
	});

	it('fails the node with the Dataverse message when continue on fail is off', async () => {
		const result = await t.run(upsertByEmail, [{ emailaddress1: 'bad2@example.org', lastname: 'x'.repeat(60) }]);
		expect(result.error?.message).toMatch(/length of the 'lastname' attribute/i);
		expect(result.error?.description).toMatch(/0x80044331/);
	});
});
