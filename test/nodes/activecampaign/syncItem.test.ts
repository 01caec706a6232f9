/**
 * "Sync Item (from Field Map)" mode: link match (also after an email change), echo skip, conflicts under each
 * policy, lead/contact precedence and relinking, the state written with the data, Record Sync State, accounts.
 */
import type { IDataObject } from 'n8n-workflow';

import { fieldHash, formatFieldState, pairKey, parseFieldState } from '../../../nodes/shared/sync/fieldState';
import { readActiveCampaign } from '../../../nodes/shared/sync/records';
import { formatState } from '../../../nodes/shared/sync/state';
import { guid, jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo' });
});
afterAll(async () => await t.close());

const WRITES = /^(POST|PUT|DELETE|PATCH) /;
const HASH_FIELDS = ['email', 'firstName', 'lastName', 'LEAD_SOURCE'];
const params = { resource: 'contact', operation: 'upsert', dataMode: 'syncItem' };

let counter = 100;
function hashOf(n: number): string {
	return n.toString(16).padStart(16, '0');
}

interface ItemOptions {
	entity?: 'lead' | 'contact';
	id: string;
	email: string;
	firstName: string;
	lastName?: string;
	leadSource?: string;
	hash?: string;
	modifiedAt?: string;
	conflict?: string;
	precedence?: string;
}

/** The mapped pairs of these items, as the Field Map names them: ActiveCampaign key → Dynamics column. */
const PAIRS: Array<[string, string]> = [
	['email', 'emailaddress1'],
	['firstName', 'firstname'],
	['lastName', 'lastname'],
	['LEAD_SOURCE', 'new_leadsource'],
];
const KEYS = PAIRS.map(([ac, d]) => pairKey(ac, d));

/** Per-field sync fields as the Field Map builds them, from the Dynamics values. */
function fieldsFor(values: Record<string, unknown>): IDataObject[] {
	return PAIRS.map(([ac, d]) => ({ key: pairKey(ac, d), activeCampaign: ac, dynamics: d, direction: 'both', source: fieldHash(values[ac], ac === 'email') }));
}

/** The state the node stores after writing these values to both sides. */
function stateOf(values: Record<string, unknown>): string {
	return formatFieldState(KEYS, new Map(PAIRS.map(([ac]) => {
		const digest = fieldHash(values[ac], ac === 'email');
		return [pairKey(ac, PAIRS.find((p) => p[0] === ac)![1]), { ac: digest, d365: digest }];
	})));
}

function syncItem(o: ItemOptions): IDataObject {
	const entity = o.entity ?? 'contact';
	const values = { email: o.email, firstName: o.firstName, lastName: o.lastName ?? 'Synced', LEAD_SOURCE: o.leadSource ?? 'Dynamics 365' };
	return {
		entity,
		direction: 'toActiveCampaign',
		record: { email: o.email, firstName: o.firstName, lastName: values.lastName, fieldValues: { LEAD_SOURCE: values.LEAD_SOURCE } },
		match: { d365Id: o.id, d365Entity: entity, email: o.email },
		source: { system: 'dynamics', id: o.id, modifiedAt: o.modifiedAt ?? '2026-01-02T03:04:05Z', hash: o.hash ?? hashOf(counter++) },
		state: { targetHashFields: HASH_FIELDS },
		fields: fieldsFor(values),
		tags: [entity === 'lead' ? '[D365: Lead]' : '[D365: Contact]', '[D365: Pushed from Dynamics]'],
		policy: { conflict: o.conflict ?? 'dynamicsWins', precedence: o.precedence ?? 'contact' },
	};
}

async function sync(item: IDataObject): Promise<IDataObject> {
	const result = await t.run(params, [item]);
	expect(result.error).toBeUndefined();
	return jsonOf(result)[0];
}

async function fieldsOf(email: string): Promise<IDataObject> {
	return (await t.contact(email)).fields as IDataObject;
}

describe('Contact sync items', () => {
	it('a value that is none of the field\'s options, or an object for a text field, is an error naming the field; nothing is written', async () => {
		const email = 'not.an.option@example.org';
		const item = syncItem({ id: guid(901), email, firstName: 'Opt', leadSource: 'Carrier Pigeon' });
		(item.record as IDataObject).fieldValues = { LEAD_SOURCE: 'Carrier Pigeon' };
		await t.resetStats();
		const refused = jsonOf(await t.run(params, [item], { continueOnFail: true }))[0];
		expect(String(refused.error)).toMatch(/Field "Lead Source" \(dropdown\): "Carrier Pigeon" is not one of its options \(Website, Referral, Trade Show, Partner, Dynamics 365\)/);
		const asObject = syncItem({ id: guid(902), email: 'an.object@example.org', firstName: 'Obj' });
		(asObject.record as IDataObject).fieldValues = { LEAD_SOURCE: 'Website', NOTES: { a: 1 } };
		(asObject.fields as IDataObject[]).push({ key: pairKey('NOTES', 'new_notes'), activeCampaign: 'NOTES', dynamics: 'new_notes', direction: 'both', source: fieldHash('{"a":1}', false) });
		const objectRefused = jsonOf(await t.run(params, [asObject], { continueOnFail: true }))[0];
		expect(String(objectRefused.error)).toMatch(/Field "Notes" \(textarea\): an object \(\{"a":1\}\) is not text/);
		expect(await t.count(/^(POST|PUT|DELETE) \/api\/3\/(contacts|contact\/sync|fieldValues)/)).toBe(0);
	});

	it('creates the contact with the link and the new state in the same request; an echo is skipped without a write', async () => {
		const id = guid(1, 'c1');
		const item = syncItem({ id, email: 'sync.one@example.net', firstName: 'One', hash: 'a1a1a1a1a1a1a1a1' });
		await t.resetStats();
		const out = await sync(item);
		expect(out).toMatchObject({ operation: 'created', link: `contact:${id}` });
		expect(await t.count('POST /api/3/contact/sync')).toBe(1);
		const values = { email: 'sync.one@example.net', firstName: 'One', lastName: 'Synced', LEAD_SOURCE: 'Dynamics 365' };
		expect(await fieldsOf('sync.one@example.net')).toMatchObject({
			D365_RECORD_ID: `contact:${id}`,
			D365_SYNC_STATE: stateOf(values),
			LEAD_SOURCE: 'Dynamics 365',
		});
		expect((await t.contact('sync.one@example.net')).tags).toEqual(expect.arrayContaining(['[D365: Contact]', '[D365: Pushed from Dynamics]']));

		// What the node emits for this contact reads (with the shared reader) to the digests it stored: the other
		// direction sees its own write as an echo.
		const [read] = jsonOf(await t.run({ resource: 'contact', operation: 'get', contact: 'sync.one@example.net' }));
		const stored = parseFieldState(read.syncState, KEYS)!;
		for (const [ac, d] of PAIRS) expect(stored.get(pairKey(ac, d))!.ac).toBe(fieldHash(readActiveCampaign(read, ac), ac === 'email'));
		expect(fieldHash(readActiveCampaign(read, 'Lead Source'))).toBe(fieldHash('Dynamics 365'));

		await t.resetStats();
		const echo = await sync(item);
		expect(echo).toMatchObject({ operation: 'skipped', reason: 'unchanged since last sync', id: out.id });
		expect(await t.count(WRITES)).toBe(0);
	});

	it('a Dynamics change is written; an email change updates the linked contact (matched by link, no new contact)', async () => {
		const id = guid(2, 'c1');
		const first = await sync(syncItem({ id, email: 'sync.two@example.net', firstName: 'Two' }));
		const changed = await sync(syncItem({ id, email: 'sync.two.renamed@example.net', firstName: 'Deux' }));
		expect(changed).toMatchObject({ operation: 'updated', matchedBy: 'link', id: first.id, email: 'sync.two.renamed@example.net' });
		expect(changed.changes).toEqual(expect.arrayContaining(['email', 'firstName']));
		await expect(t.contact('sync.two@example.net')).rejects.toThrow(/404/);
		const detail = await t.contact('sync.two.renamed@example.net');
		expect((detail.contact as IDataObject).id).toBe(first.id);
		expect((detail.fields as IDataObject).D365_SYNC_STATE).toBe(changed.state);
	});

	it('a Dynamics read older than the version the last sync saw (an overlapping run) is skipped, queued to be read again, never written', async () => {
		const id = guid(903, 'c1');
		const email = 'sync.stale@example.net';
		const at = (firstName: string, version: number) => {
			const item = syncItem({ id, email, firstName });
			(item.source as IDataObject).version = version;
			return item;
		};
		const first = await sync(at('Newer', 1_000_010));
		expect(String(first.state)).toMatch(/~lfm2$/);
		await t.resetStats();
		const stale = await sync(at('Older', 1_000_009));
		expect(stale).toMatchObject({ operation: 'skipped', id: first.id, readAgain: true });
		expect(String(stale.reason)).toMatch(/older than what the last sync of it saw .* read again on the next run/);
		expect(await t.count(WRITES)).toBe(0);
		expect(((await t.contact(email)).contact as IDataObject).firstName).toBe('Newer');
		const later = await sync(at('Latest', 1_000_012));
		expect(later).toMatchObject({ operation: 'updated', id: first.id });
		expect(((await t.contact(email)).contact as IDataObject).firstName).toBe('Latest');
	});

	it('an existing contact with equal values and no state: linked, state recorded, reported as no changes', async () => {
		// sam.taylor@adatum.com exists in the demo account without a link.
		const detail = await t.contact('sam.taylor@adatum.com');
		const c = detail.contact as IDataObject;
		const item = syncItem({ id: guid(3, 'c1'), email: 'sam.taylor@adatum.com', firstName: String(c.firstName), lastName: String(c.lastName) });
		(item.record as IDataObject).fieldValues = { LEAD_SOURCE: (detail.fields as IDataObject).LEAD_SOURCE };
		item.tags = [];
		const out = await sync(item);
		expect(out).toMatchObject({ operation: 'skipped', reason: 'no changes', stateRecorded: true, matchedBy: 'email' });
		expect((await fieldsOf('sam.taylor@adatum.com')).D365_RECORD_ID).toBe(`contact:${guid(3, 'c1')}`);
	});

	describe('conflicts: both sides changed since the last sync', () => {
		async function conflicted(n: number, policy: string, modifiedAt?: string): Promise<{ email: string; out: IDataObject; before: IDataObject }> {
			const id = guid(10 + n, 'c2');
			const email = `conflict.${n}@example.net`;
			await sync(syncItem({ id, email, firstName: 'Original' }));
			await t.control('PATCH', `/ui/contacts/${encodeURIComponent(email)}`, { firstName: 'Changed In AC' });
			const before = await t.contact(email);
			const out = await sync(syncItem({ id, email, firstName: 'Changed In Dynamics', conflict: policy, modifiedAt }));
			return { email, out, before };
		}

		it('dynamicsWins: Dynamics overwrites', async () => {
			const { email, out } = await conflicted(1, 'dynamicsWins');
			expect(out).toMatchObject({ operation: 'updated', conflict: 'resolved: dynamicsWins' });
			expect(((await t.contact(email)).contact as IDataObject).firstName).toBe('Changed In Dynamics');
		});

		it('activeCampaignWins: skipped, ActiveCampaign keeps its value', async () => {
			const { email, out, before } = await conflicted(2, 'activeCampaignWins');
			expect(out).toMatchObject({ operation: 'skipped' });
			expect(out.reason).toBe('conflict: both sides changed since the last sync and ActiveCampaign wins (activeCampaignWins)');
			const after = await t.contact(email);
			expect((after.contact as IDataObject).firstName).toBe('Changed In AC');
			// Settled: the first name is stored as if Dynamics's value had been synced, so the other step carries
			// ActiveCampaign's value to Dynamics without deciding again.
			expect((after.fields as IDataObject).D365_SYNC_STATE).not.toBe((before.fields as IDataObject).D365_SYNC_STATE);
			const settled = fieldHash('Changed In Dynamics');
			expect(parseFieldState(String((after.fields as IDataObject).D365_SYNC_STATE), KEYS)!.get(pairKey('firstName', 'firstname'))).toEqual({ ac: settled, d365: settled });
		});

		it('newestWins: an older Dynamics change loses, a newer one wins', async () => {
			const older = await conflicted(3, 'newestWins', '2020-01-01T00:00:00Z');
			expect(older.out).toMatchObject({ operation: 'skipped' });
			expect(String(older.out.reason)).toContain('newestWins');
			const newer = await conflicted(4, 'newestWins', '2099-01-01T00:00:00Z');
			expect(newer.out).toMatchObject({ operation: 'updated', conflict: 'resolved: newestWins' });
		});
	});

	describe('lead and contact with the same email', () => {
		it('a contact takes over a lead-linked contact: relinked, tag [D365: Lead] replaced by [D365: Contact]; the lead is then skipped', async () => {
			const email = 'qualified@example.net';
			const lead = await sync(syncItem({ entity: 'lead', id: guid(1, 'ea'), email, firstName: 'Lead' }));
			expect(lead.operation).toBe('created');
			expect((await t.contact(email)).tags).toContain('[D365: Lead]');

			const contact = await sync(syncItem({ entity: 'contact', id: guid(1, 'cc'), email, firstName: 'Contact' }));
			expect(contact).toMatchObject({ operation: 'updated', id: lead.id, relinkedFrom: `lead:${guid(1, 'ea')}`, link: `contact:${guid(1, 'cc')}` });
			const detail = await t.contact(email);
			expect((detail.fields as IDataObject).D365_RECORD_ID).toBe(`contact:${guid(1, 'cc')}`);
			expect(detail.tags).toContain('[D365: Contact]');
			expect(detail.tags).not.toContain('[D365: Lead]');

			await t.resetStats();
			const again = await sync(syncItem({ entity: 'lead', id: guid(1, 'ea'), email, firstName: 'Lead Changed' }));
			expect(again).toMatchObject({ operation: 'skipped', reason: 'a Dynamics contact has the same email (contacts take precedence over leads)' });
			expect(await t.count(WRITES)).toBe(0);
		});

		it('with lead precedence the lead keeps it and the contact is skipped', async () => {
			const email = 'leadfirst@example.net';
			await sync(syncItem({ entity: 'lead', id: guid(2, 'ea'), email, firstName: 'Lead', precedence: 'lead' }));
			const contact = await sync(syncItem({ entity: 'contact', id: guid(2, 'cc'), email, firstName: 'Contact', precedence: 'lead' }));
			expect(contact).toMatchObject({ operation: 'skipped', reason: 'a Dynamics lead has the same email (leads take precedence over contacts)' });
			expect((await fieldsOf(email)).D365_RECORD_ID).toBe(`lead:${guid(2, 'ea')}`);
		});
	});

	it('removes the tags the item names (removeTags), keeps the ones it adds', async () => {
		const item = syncItem({ id: guid(4, 'c1'), email: 'tagged.sync@example.net', firstName: 'Tagged' });
		await t.control('POST', '/ui/contacts', { email: 'tagged.sync@example.net', tags: ['[D365: Lead]', 'Prospect'] });
		const out = await sync({ ...item, removeTags: ['[D365: Lead]', '[D365: Contact]'] });
		expect(out.tagsRemoved).toEqual(['[D365: Lead]']);
		const tags = (await t.contact('tagged.sync@example.net')).tags as string[];
		expect(tags.sort()).toEqual(['Prospect', '[D365: Contact]', '[D365: Pushed from Dynamics]'].sort());
	});

	it('Record Sync State writes link and state only when they differ', async () => {
		const state = formatState({ acHash: 'abcabcabcabcabca', d365Hash: 'defdefdefdefdefd' });
		const rec = { resource: 'contact', operation: 'recordSyncState' };
		const item = { email: 'priya.patel@litware.com', link: `lead:${guid(9, 'ab')}`, state };
		const [first] = jsonOf(await t.run(rec, [item]));
		expect(first).toMatchObject({ operation: 'updated', id: '4' });
		expect(await fieldsOf('priya.patel@litware.com')).toMatchObject({ D365_RECORD_ID: item.link, D365_SYNC_STATE: state });
		await t.resetStats();
		const [second] = jsonOf(await t.run(rec, [{ acId: '4', link: item.link, state: { acHash: 'abcabcabcabcabca', d365Hash: 'defdefdefdefdefd' } }]));
		expect(second).toMatchObject({ operation: 'skipped', reason: 'no changes' });
		expect(await t.count(WRITES)).toBe(0);
	});

	it('rejects items that are not ActiveCampaign-bound contact sync items, item by item', async () => {
		const result = await t.run(
			params,
			[
				{ entity: 'deal' },
				{ ...syncItem({ id: guid(7, 'dd'), email: 'dir@example.net', firstName: 'X' }), direction: 'toDynamics' },
				{ ...syncItem({ id: 'not-a-guid', email: 'noguid@example.net', firstName: 'X' }) },
				syncItem({ id: guid(8, 'dd'), email: 'fine@example.net', firstName: 'Fine' }),
			],
			{ continueOnFail: true },
		);
		const out = jsonOf(result);
		expect(out[0].error).toMatch(/not a sync item.*entity/);
		expect(out[1].error).toMatch(/goes to Dynamics 365/);
		expect(out[2].error).toMatch(/no Dynamics id/);
		expect(out[3].operation).toBe('created');
	});
});

describe('Account sync items', () => {
	const ACCOUNT_PAIRS: Array<[string, string]> = [
		['name', 'name'],
		['accountUrl', 'websiteurl'],
		['Annual Revenue', 'revenue'],
	];
	const accountItem = (id: string, name: string, revenue: number, hash: string, extra: IDataObject = {}) => {
		const accountUrl = `https://${name.toLowerCase().replace(/\W+/g, '')}.example.com`;
		const values: Record<string, unknown> = { name, accountUrl, 'Annual Revenue': revenue };
		return {
			entity: 'account',
			direction: 'toActiveCampaign',
			record: { name, accountUrl, fields: { 'Annual Revenue': revenue } },
			match: { d365Id: id, name },
			source: { system: 'dynamics', id, modifiedAt: '2026-01-02T03:04:05Z', hash },
			state: { targetHashFields: ['name', 'accountUrl', 'Annual Revenue'] },
			fields: ACCOUNT_PAIRS.map(([ac, d]) => ({ key: pairKey(ac, d), activeCampaign: ac, dynamics: d, direction: 'both', source: fieldHash(values[ac]) })),
			policy: { conflict: 'dynamicsWins' },
			...extra,
		};
	};
	const accountParams = { resource: 'account', operation: 'upsert', dataMode: 'syncItem' };

	async function account(name: string): Promise<IDataObject> {
		const all = await t.control<{ accounts: IDataObject[] }>('GET', '/state/accounts');
		return all.accounts.find((a) => a.name === name)!;
	}

	it('creates with link and state, skips the echo, follows the link through a rename, matches an existing account by name', async () => {
		const id = guid(1, 'acc');
		const [created] = jsonOf(await t.run(accountParams, [accountItem(id, 'Northwind Traders', 1_250_000, '1111111111111111')]));
		expect(created).toMatchObject({ operation: 'created', link: id });
		const stored = await account('Northwind Traders');
		const fields = Object.fromEntries((stored.customFields as IDataObject[]).map((f) => [f.label, f.value]));
		expect(fields).toMatchObject({ 'Annual Revenue': 1_250_000, 'D365 Account ID': id });
		expect(String(fields['D365 Account Sync State'])).toMatch(/^v24:/);

		await t.resetStats();
		const [echo] = jsonOf(await t.run(accountParams, [accountItem(id, 'Northwind Traders', 1_250_000, '1111111111111111')]));
		expect(echo).toMatchObject({ operation: 'skipped', reason: 'unchanged since last sync' });
		expect(await t.count(WRITES)).toBe(0);

		const [renamed] = jsonOf(await t.run(accountParams, [accountItem(id, 'Northwind Traders Group', 1_300_000, '2222222222222222')]));
		expect(renamed).toMatchObject({ operation: 'updated', matchedBy: 'link', id: created.id, name: 'Northwind Traders Group' });
		expect(renamed.changes).toEqual(expect.arrayContaining(['name', 'Annual Revenue']));

		const [existing] = jsonOf(await t.run(accountParams, [accountItem(guid(2, 'acc'), 'Contoso Ltd', 125_000_000_00, '3333333333333333')]));
		expect(existing).toMatchObject({ matchedBy: 'name', id: '1' });
	});

	it('Record Sync State for an account', async () => {
		const state = formatState({ acHash: '0123456789abcdef', d365Hash: 'fedcba9876543210' });
		const [out] = jsonOf(await t.run({ resource: 'account', operation: 'recordSyncState' }, [{ name: 'Fabrikam Inc', link: guid(5, 'acc').toUpperCase(), state }]));
		expect(out).toMatchObject({ operation: 'updated', id: '2' });
		const stored = await account('Fabrikam Inc');
		const fields = Object.fromEntries((stored.customFields as IDataObject[]).map((f) => [f.label, f.value]));
		expect(fields).toMatchObject({ 'D365 Account ID': guid(5, 'acc'), 'D365 Account Sync State': state });
	});
});

describe('Preview (No Writes)', () => {
	const preview = { ...params, preview: true };

	it('says what it would create and update, field by field, and which tags it would add; writes nothing; the real run then does exactly that', async () => {
		const created = syncItem({ id: guid(951), email: 'preview.new@example.net', firstName: 'Pre' });
		const id = guid(952);
		const before = await sync(syncItem({ id, email: 'preview.old@example.net', firstName: 'Old' }));
		const changed = syncItem({ id, email: 'preview.old@example.net', firstName: 'New' });
		(changed.state as IDataObject).stored = before.state;
		await t.resetStats();
		const shown = jsonOf(await t.run(preview, [created, changed]));
		expect(await t.count(WRITES)).toBe(0);
		expect(shown.map((o) => [o.operation, o.preview])).toEqual([
			['created', true],
			['updated', true],
		]);
		expect(shown[0]).toMatchObject({ id: null, email: 'preview.new@example.net', tagsAdded: ['[D365: Contact]', '[D365: Pushed from Dynamics]'] });
		expect(shown[0].changes).toEqual(expect.arrayContaining([{ field: 'firstName', before: null, after: 'Pre' }]));
		expect(shown[1]).toMatchObject({ id: before.id, changes: [{ field: 'firstName', before: 'Old', after: 'New' }] });
		expect((await t.contact('preview.old@example.net')).contact).toMatchObject({ firstName: 'Old' });
		await expect(t.contact('preview.new@example.net')).rejects.toThrow();

		const real = jsonOf(await t.run(params, [created, changed]));
		expect(real.map((o) => o.operation)).toEqual(['created', 'updated']);
		// The requests the preview said the real run would send, item by item.
		expect(shown.map((o) => o.writeRequests)).toEqual([3, 1]);
		expect(await t.count(WRITES)).toBe(4);
		expect(real[1].id).toBe(shown[1].id);
		expect(real.map((o) => o.state)).toEqual(shown.map((o) => o.state));
	});

	it('a delete under each policy is reported, not applied', async () => {
		const id = guid(953);
		await sync(syncItem({ id, email: 'preview.gone@example.net', firstName: 'Gone' }));
		const gone = { ...syncItem({ id, email: 'preview.gone@example.net', firstName: 'Gone' }), event: 'deleted', policy: { conflict: 'dynamicsWins', delete: 'propagate' } };
		await t.resetStats();
		const [out] = jsonOf(await t.run(preview, [gone]));
		expect(out).toMatchObject({ operation: 'deleted', preview: true, deletePolicy: 'propagate', writeRequests: 1 });
		expect(await t.count(WRITES)).toBe(0);
		expect((await t.contact('preview.gone@example.net')).fields).toMatchObject({ D365_RECORD_ID: `contact:${id}` });
		await t.run(params, [gone]);
		expect(await t.count(WRITES)).toBe(1);
	});
});
