/**
 * Preview (No Writes) on the write operations beyond contact Create or Update of sync items: contact Create or Update
 * of fields, Ensure Sync Fields, account Create or
 * Update (fields and sync items), Record Sync State (contacts and accounts, one by one and in bulk), and the custom
 * object's Ensure Schema, Create or Update Record and Delete Record, and the contact and account actions (Update, Add
 * and Remove Tag, Subscribe, Unsubscribe, Add to and Remove From Automation, Send Campaign, Delete, Link Contact). Each preview reaches the sandbox with reads only,
 * leaves the workflow's static data as it was, and says what the real run, made right after with the same items, then
 * does. (Contact Create or Update and Many: syncItem.test.ts and bulkImport.test.ts.)
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { fieldHash, pairKey } from '../../../nodes/shared/sync/fieldState';
import { formatState } from '../../../nodes/shared/sync/state';
import { pendingState, recordFailure, rememberPendingState, retryStore } from '../../../nodes/shared/sync/retries';
import { guid, jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo' });
});
afterAll(async () => await t.close());

const WRITES = /^(POST|PUT|PATCH|DELETE) /;

/** What a preview's and a real run's items have in common: the operation, the record and (by name) what changes. */
const outline = (o: IDataObject) => ({ operation: o.operation, id: o.id ?? null, reason: o.reason ?? null });
/** The write requests a preview says the real run needs (each item's `writeRequests`). */
const needed = (shown: IDataObject[]) => shown.reduce((n, o) => n + (typeof o.writeRequests === 'number' ? o.writeRequests : Number.NaN), 0);
const changedFields = (o: IDataObject) => ((o.changes as Array<IDataObject | string> | undefined) ?? []).map((c) => (typeof c === 'string' ? c : c.field));

async function accounts(): Promise<IDataObject[]> {
	return (await t.control<{ accounts: IDataObject[] }>('GET', '/state/accounts')).accounts;
}

async function accountFields(name: string): Promise<Record<string, unknown>> {
	const account = (await accounts()).find((a) => a.name === name)!;
	return Object.fromEntries((account.customFields as Array<{ label: string; value: unknown }>).map((f) => [f.label, f.value]));
}

/** Runs a step as a saved workflow would (static data kept between runs), checking the preview moved none of it. */
async function previewKeepingState(key: string, parameters: IDataObject, items: IDataObject[]): Promise<IDataObject[]> {
	const before = t.harness.savedStatic();
	await t.resetStats();
	const result = await t.runKeepingState(key, { ...parameters, preview: true } as never, items);
	expect(await t.count(WRITES)).toBe(0);
	expect(t.harness.savedStatic()).toEqual(before);
	return jsonOf(result);
}

describe('Ensure Sync Fields', () => {
	it('lists each field and tag it would create, one item each, and creates none; the real run creates exactly those', async () => {
		await t.resetStats();
		const shown = jsonOf(await t.run({ resource: 'contact', operation: 'ensureSyncFields', preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect(shown.every((o) => o.preview === true && o.operation === 'created')).toBe(true);
		const named = (kind: string) => shown.filter((o) => o.kind === kind).map((o) => o.name);
		expect(named('contactField')).toEqual(['D365 Record ID', 'D365 Sync State']);
		expect(named('accountField')).toEqual(expect.arrayContaining(['D365 Account ID', 'D365 Account Sync State']));
		// The demo account has four of the five D365 tags already.
		expect(named('tag')).toEqual(['[D365: Deleted in Dynamics]']);
		expect(shown.find((o) => o.kind === 'contactField')!.changes).toEqual([
			{ field: 'title', before: null, after: 'D365 Record ID' },
			{ field: 'perstag', before: null, after: 'D365_RECORD_ID' },
			{ field: 'type', before: null, after: 'hidden' },
		]);

		const [real] = jsonOf(await t.run({ resource: 'contact', operation: 'ensureSyncFields' }));
		expect(await t.count(WRITES)).toBe(needed(shown));
		const contactFields = real.contactFields as Record<string, IDataObject>;
		expect([contactFields.link.title, contactFields.state.title]).toEqual(named('contactField'));
		expect(Object.keys(real.tags as IDataObject)).toEqual(expect.arrayContaining(named('tag')));
		// Everything the preview listed exists now: a second preview has nothing to create.
		const [again] = jsonOf(await t.run({ resource: 'contact', operation: 'ensureSyncFields', preview: true }));
		expect(again).toMatchObject({ preview: true, operation: 'skipped', reason: 'no changes', tags: real.tags });
	});
});

describe('Contact Create or Update (fields)', () => {
	const params = (email: string, extra: IDataObject = {}) => ({
		resource: 'contact',
		operation: 'upsert',
		dataMode: 'fields',
		email,
		additionalFields: { firstName: 'Pre', lastName: 'View', phone: '+1 555 0142', ...extra },
		tags: ['Preview tag'],
	});
	const contacts = async () => (await t.control<{ contacts: IDataObject[] }>('GET', '/state/contacts?limit=1000')).contacts.length;

	it('says what it would create or update, field by field; writes nothing; the real run then does exactly that', async () => {
		const total = await contacts();
		await t.resetStats();
		const [create] = jsonOf(await t.run({ ...params('pre.view@example.com'), preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect(await contacts()).toBe(total);
		expect(create).toMatchObject({ preview: true, operation: 'created', id: null, email: 'pre.view@example.com', tagsAdded: ['Preview tag'] });
		expect(create.changes).toEqual([
			{ field: 'email', before: null, after: 'pre.view@example.com' },
			{ field: 'firstName', before: null, after: 'Pre' },
			{ field: 'lastName', before: null, after: 'View' },
			{ field: 'phone', before: null, after: '+1 555 0142' },
		]);
		const [created] = jsonOf(await t.run(params('pre.view@example.com')));
		expect(await t.count(WRITES)).toBe(needed([create]));
		expect(outline(created)).toEqual({ ...outline(create), id: created.id });
		expect(created.tagsAdded).toEqual(create.tagsAdded);

		await t.resetStats();
		const [update] = jsonOf(await t.run({ ...params('pre.view@example.com', { phone: '+1 555 0143', accountName: 'Preview Contact Co' }), preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect(update).toMatchObject({ preview: true, operation: 'updated', id: created.id, tagsAdded: [] });
		expect(update.changes).toEqual([
			{ field: 'phone', before: '+1 555 0142', after: '+1 555 0143' },
			{ field: 'account', before: null, after: 'Preview Contact Co' },
		]);
		const [updated] = jsonOf(await t.run(params('pre.view@example.com', { phone: '+1 555 0143', accountName: 'Preview Contact Co' })));
		expect(await t.count(WRITES)).toBe(needed([update]));
		expect(outline(updated)).toEqual(outline(update));
		expect(changedFields(updated)).toEqual(changedFields(update));

		const [same] = jsonOf(await t.run({ ...params('pre.view@example.com', { phone: '+1 555 0143', accountName: 'Preview Contact Co' }), preview: true }));
		expect(same).toMatchObject({ preview: true, operation: 'skipped', reason: 'no changes', id: created.id, changes: [], writeRequests: 0 });
	});
});

describe('Account Create or Update', () => {
	const params = (name: string, revenue: number, url = 'https://preview.example.com') => ({
		resource: 'account',
		operation: 'upsert',
		dataMode: 'fields',
		name,
		additionalFields: { accountUrl: url },
		customFields: { fieldValues: [{ field: 'Annual Revenue', value: String(revenue) }] },
	});

	it('fields: says what it would create or update, field by field; writes nothing; the real run then does exactly that', async () => {
		const total = (await accounts()).length;
		await t.resetStats();
		const [create] = jsonOf(await t.run({ ...params('Preview Works', 100_00), preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect((await accounts()).length).toBe(total);
		expect(create).toMatchObject({ preview: true, operation: 'created', id: null, name: 'Preview Works' });
		expect(create.changes).toEqual([
			{ field: 'name', before: null, after: 'Preview Works' },
			{ field: 'accountUrl', before: null, after: 'https://preview.example.com' },
			{ field: 'Annual Revenue', before: null, after: 100_00 },
		]);
		const [created] = jsonOf(await t.run(params('Preview Works', 100_00)));
		expect(await t.count(WRITES)).toBe(needed([create]));
		expect(outline(created)).toEqual({ ...outline(create), id: created.id });
		expect(changedFields(created)).toEqual(changedFields(create));

		await t.resetStats();
		const [update] = jsonOf(await t.run({ ...params('Preview Works', 250_00, 'https://preview.example.org'), preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect(update).toMatchObject({ preview: true, operation: 'updated', id: created.id });
		expect(update.changes).toEqual([
			{ field: 'accountUrl', before: 'https://preview.example.com', after: 'https://preview.example.org' },
			{ field: 'Annual Revenue', before: 100_00, after: 250_00 },
		]);
		expect(await accountFields('Preview Works')).toMatchObject({ 'Annual Revenue': 100_00 });
		const [updated] = jsonOf(await t.run(params('Preview Works', 250_00, 'https://preview.example.org')));
		expect(await t.count(WRITES)).toBe(needed([update]));
		expect(outline(updated)).toEqual(outline(update));
		expect(changedFields(updated)).toEqual(changedFields(update));
		expect(await accountFields('Preview Works')).toMatchObject({ 'Annual Revenue': 250_00 });

		const [same] = jsonOf(await t.run({ ...params('Preview Works', 250_00, 'https://preview.example.org'), preview: true }));
		expect(same).toMatchObject({ preview: true, operation: 'skipped', reason: 'no changes', id: created.id, changes: [] });
	});

	const PAIRS: Array<[string, string]> = [
		['name', 'name'],
		['accountUrl', 'websiteurl'],
		['Annual Revenue', 'revenue'],
	];
	const accountItem = (id: string, name: string, revenue: number, hash: string, extra: IDataObject = {}): IDataObject => {
		const accountUrl = `https://${name.toLowerCase().replace(/\W+/g, '')}.example.com`;
		const values: Record<string, unknown> = { name, accountUrl, 'Annual Revenue': revenue };
		return {
			entity: 'account',
			direction: 'toActiveCampaign',
			record: { name, accountUrl, fields: { 'Annual Revenue': revenue } },
			match: { d365Id: id, name },
			source: { system: 'dynamics', id, modifiedAt: '2026-01-02T03:04:05Z', hash },
			state: { targetHashFields: ['name', 'accountUrl', 'Annual Revenue'] },
			fields: PAIRS.map(([ac, d]) => ({ key: pairKey(ac, d), activeCampaign: ac, dynamics: d, direction: 'both', source: fieldHash(values[ac]) })),
			policy: { conflict: 'dynamicsWins' },
			...extra,
		};
	};
	const syncParams = { resource: 'account', operation: 'upsert', dataMode: 'syncItem' };

	it('sync items: create, update, echo skip and delete are reported, not applied; the retry queue stays; the real run then does the same', async () => {
		const kept = guid(901, 'acc');
		const changed = guid(902, 'acc');
		const gone = guid(903, 'acc');
		const fresh = guid(904, 'acc');
		const setup = jsonOf(await t.runKeepingState('accounts', syncParams, [
			accountItem(kept, 'Preview Kept', 1_000, '1000000000000001'),
			accountItem(changed, 'Preview Changed', 2_000, '1000000000000002'),
			accountItem(gone, 'Preview Gone', 3_000, '1000000000000003'),
		]));
		expect(setup.map((o) => o.operation)).toEqual(['created', 'created', 'created']);
		// A failed earlier write of the changed account is queued: a real run that writes it takes it off the queue.
		t.harness.updateStatic((data) => {
			const global = ((data.global as IDataObject | undefined) ?? (data.global = {})) as IDataObject;
			recordFailure(retryStore(global), { system: 'dynamics', kind: 'account', id: changed }, 'timeout', 'ActiveCampaign Sync');
		});
		const items = [
			accountItem(kept, 'Preview Kept', 1_000, '1000000000000001'),
			accountItem(changed, 'Preview Changed', 2_500, '2000000000000002'),
			{ ...accountItem(gone, 'Preview Gone', 3_000, '1000000000000003'), event: 'deleted', policy: { conflict: 'dynamicsWins', delete: 'propagate' } },
			accountItem(fresh, 'Preview Fresh', 4_000, '1000000000000004'),
		];
		const shown = await previewKeepingState('accounts', syncParams, items);
		expect(shown.every((o) => o.preview === true)).toBe(true);
		expect(shown.map((o) => o.operation)).toEqual(['skipped', 'updated', 'deleted', 'created']);
		expect(shown[0]).toMatchObject({ reason: 'unchanged since last sync', id: setup[0].id });
		expect(shown[1]).toMatchObject({ id: setup[1].id, changes: [{ field: 'Annual Revenue', before: 2_000, after: 2_500 }] });
		expect(shown[2]).toMatchObject({ id: setup[2].id, deletePolicy: 'propagate' });
		expect(shown[3]).toMatchObject({ id: null, name: 'Preview Fresh' });
		expect(changedFields(shown[3])).toEqual(['name', 'accountUrl', 'Annual Revenue']);
		expect(await accountFields('Preview Changed')).toMatchObject({ 'Annual Revenue': 2_000 });
		expect((await accounts()).some((a) => a.name === 'Preview Gone')).toBe(true);
		expect((await accounts()).some((a) => a.name === 'Preview Fresh')).toBe(false);

		const real = jsonOf(await t.runKeepingState('accounts', syncParams, items));
		expect(await t.count(WRITES)).toBe(needed(shown));
		expect(real.map(outline)).toEqual(shown.map((o, i) => ({ ...outline(o), id: o.id ?? real[i].id })));
		expect(real.map(changedFields)).toEqual(shown.map(changedFields));
		expect(real.map((o) => o.state ?? null)).toEqual(shown.map((o) => o.state ?? null));
		expect(await accountFields('Preview Changed')).toMatchObject({ 'Annual Revenue': 2_500 });
		expect((await accounts()).some((a) => a.name === 'Preview Gone')).toBe(false);
		expect(retryStore((t.harness.savedStatic().global ?? {}) as IDataObject)).toEqual({});
	});
});

describe('Record Sync State', () => {
	const contactState = (n: number) => formatState({ acHash: `a${String(n).padStart(15, '0')}`, d365Hash: `d${String(n).padStart(15, '0')}` });
	const link = (n: number) => `lead:${guid(n, 'rs')}`;

	async function seededContacts(n: number): Promise<IDataObject[]> {
		await t.control('POST', '/seed', { contacts: n });
		const all = (await t.control<{ contacts: IDataObject[] }>('GET', `/state/contacts?limit=1000`)).contacts;
		return all.slice(-n);
	}

	it('contacts, through the importer (12) and one by one (2): links, states and tags it would write; the pending state stays; the real run then writes those', async () => {
		const list = await seededContacts(14);
		const items = list.map((c, i) => ({ acId: c.id, email: c.email, link: link(i + 1), state: contactState(i + 1), tags: ['[D365: Lead]', '[D365: Preview Tag]'] }));
		t.harness.updateStatic((data) => {
			const global = ((data.global as IDataObject | undefined) ?? (data.global = {})) as IDataObject;
			rememberPendingState(global, link(1), { state: contactState(1), stateFields: [] });
		});
		for (const batch of [items.slice(0, 12), items.slice(12)]) {
			const shown = await previewKeepingState('contactStates', { resource: 'contact', operation: 'recordSyncState' }, batch);
			expect(shown.every((o) => o.preview === true && o.operation === 'updated')).toBe(true);
			expect(shown[0]).toMatchObject({
				id: batch[0].acId,
				tagsAdded: ['[D365: Lead]', '[D365: Preview Tag]'],
				changes: [
					{ field: 'D365_RECORD_ID', before: null, after: batch[0].link },
					{ field: 'D365_SYNC_STATE', before: null, after: batch[0].state },
				],
			});
			expect((await t.contact(String(batch[0].acId))).fields).not.toMatchObject({ D365_RECORD_ID: batch[0].link });

			await t.resetStats();
			const real = jsonOf(await t.runKeepingState('contactStates', { resource: 'contact', operation: 'recordSyncState' }, batch));
			expect(await t.count(WRITES)).toBe(needed(shown));
			// Twelve go through the importer, two one by one: the preview took the same paths.
			expect(await t.count('POST /api/3/import/bulk_import')).toBe(batch.length >= 10 ? 1 : 0);
			expect(await t.count('PUT /api/3/contacts/:id')).toBe(batch.length >= 10 ? 0 : batch.length);
			expect(real.map(outline)).toEqual(shown.map(outline));
			expect(real.map((o) => [o.state, o.tagsAdded])).toEqual(shown.map((o) => [o.state, o.tagsAdded]));
			for (const item of batch) expect((await t.contact(String(item.acId))).fields).toMatchObject({ D365_RECORD_ID: item.link, D365_SYNC_STATE: item.state });
		}
		// The real run recorded the state: the pending one is spent.
		expect(pendingState((t.harness.savedStatic().global ?? {}) as IDataObject, link(1))).toBeUndefined();

		// A relink and a flag, one by one.
		const [relinked, flagged] = [items[12], items[13]];
		const actions = [
			{ ...relinked, link: link(99), state: '', acAction: 'relink' },
			{ ...flagged, acAction: 'flag' },
		];
		const params = { resource: 'contact', operation: 'recordSyncState', stateAction: '={{ $json.acAction ?? "" }}' };
		const shown = await previewKeepingState('contactStates', params, actions);
		expect(shown.map((o) => [o.operation, o.preview])).toEqual([
			['relinked', true],
			['flagged', true],
		]);
		expect(shown[0].changes).toEqual([
			{ field: 'D365_RECORD_ID', before: relinked.link, after: link(99) },
			{ field: 'D365_SYNC_STATE', before: relinked.state, after: '' },
		]);
		const real = jsonOf(await t.runKeepingState('contactStates', params, actions));
		expect(await t.count(WRITES)).toBe(needed(shown));
		expect(real.map(outline)).toEqual(shown.map(outline));
		expect((await t.contact(String(relinked.acId))).fields).toMatchObject({ D365_RECORD_ID: link(99) });
	});

	it('accounts, in bulk (12) and one by one (1): the values it would write, before and after; the real run then writes those', async () => {
		const made: IDataObject[] = [];
		for (let i = 0; i < 13; i++) made.push((await t.control<{ account: IDataObject }>('POST', '/ui/accounts', { name: `Preview State ${i + 1}` })).account);
		const accountLink = (n: number) => guid(n, 'as');
		const accountState = (n: number) => `v24:prev${String(n).padStart(8, '0')}`;
		const items = made.map((a, i) => ({ acId: a.id, name: a.name, link: accountLink(i + 1), state: accountState(i + 1) }));
		const params = { resource: 'account', operation: 'recordSyncState' };
		for (const batch of [items.slice(0, 12), items.slice(12)]) {
			const shown = await previewKeepingState('accountStates', params, batch);
			expect(shown.every((o) => o.preview === true && o.operation === 'updated')).toBe(true);
			expect(shown[0]).toMatchObject({
				id: batch[0].acId,
				changes: [
					{ field: 'D365 Account ID', before: null, after: batch[0].link },
					{ field: 'D365 Account Sync State', before: null, after: batch[0].state },
				],
			});
			expect((await accountFields(String(batch[0].name)))['D365 Account ID'] ?? null).toBeNull();
			await t.resetStats();
			const real = jsonOf(await t.runKeepingState('accountStates', params, batch));
			expect(await t.count(WRITES)).toBe(needed(shown));
			expect(await t.count('POST /api/3/accountCustomFieldData/bulkCreate')).toBe(batch.length >= 10 ? 1 : 0);
			expect(real.map(outline)).toEqual(shown.map(outline));
			expect(real.map((o) => o.state)).toEqual(shown.map((o) => o.state));
			expect(await accountFields(String(batch[0].name))).toMatchObject({ 'D365 Account ID': batch[0].link, 'D365 Account Sync State': batch[0].state });
		}
		// A newer state for one of them, one by one: before is the stored one.
		const [again] = await previewKeepingState('accountStates', params, [{ ...items[0], state: accountState(100) }]);
		expect(again).toMatchObject({ operation: 'updated', changes: [{ field: 'D365 Account Sync State', before: accountState(1), after: accountState(100) }] });
	});
});

describe('Custom Object', () => {
	const schemaParams = { resource: 'customObject', operation: 'ensureSchema' };
	const extra = [{ id: 'preview-score', label: 'Preview Score', type: 'number', options: '' }];

	interface Schemas {
		schemas: Array<{ slug: string; fields: IDataObject[]; relationships: IDataObject[] }>;
	}

	it('Ensure Schema lists the schema, each field and the relationship it would create, one item each; the real run creates those', async () => {
		await t.resetStats();
		const shown = jsonOf(await t.run({ ...schemaParams, preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect((await t.control<Schemas>('GET', '/state/customObjects')).schemas.some((s) => s.slug === 'd365-opportunity')).toBe(false);
		expect(shown.every((o) => o.preview === true && o.operation === 'created')).toBe(true);
		expect(shown.map((o) => [o.kind, o.name])).toEqual([
			['schema', 'd365-opportunity'],
			['field', 'name'],
			['field', 'estimated-revenue'],
			['field', 'estimated-close-date'],
			['field', 'actual-revenue'],
			['field', 'stage'],
			['relationship', 'primary-contact'],
		]);
		expect(shown[2].changes).toEqual([
			{ field: 'label', before: null, after: 'Estimated Revenue' },
			{ field: 'type', before: null, after: 'currency' },
			{ field: 'defaultCurrency', before: null, after: 'USD' },
		]);
		const [created] = jsonOf(await t.run(schemaParams));
		expect(await t.count(WRITES)).toBe(needed(shown));
		expect(created).toMatchObject({ operation: 'created', fieldsAdded: shown.filter((o) => o.kind === 'field').map((o) => o.name) });

		await t.resetStats();
		const more = jsonOf(await t.run({ ...schemaParams, schemaFields: { field: extra }, preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect(more).toEqual([expect.objectContaining({ preview: true, operation: 'created', kind: 'field', name: 'preview-score', schemaId: created.schemaId })]);
		const [updated] = jsonOf(await t.run({ ...schemaParams, schemaFields: { field: extra } }));
		expect(await t.count(WRITES)).toBe(needed(more));
		expect(updated).toMatchObject({ operation: 'updated', fieldsAdded: ['preview-score'] });
		const [same] = jsonOf(await t.run({ ...schemaParams, schemaFields: { field: extra }, preview: true }));
		expect(same).toMatchObject({ preview: true, operation: 'skipped', reason: 'no changes' });
	});

	it('Create or Update Record and Delete Record: what they would write or delete; nothing is sent; the real run then does that', async () => {
		const upsert = (fields: IDataObject, email: string, preview = false) =>
			t.run({
				resource: 'customObject',
				operation: 'upsertRecord',
				schema: 'd365-opportunity',
				dataMode: 'fields',
				externalId: 'OPP-PREVIEW',
				contactEmail: email,
				recordFields: { field: Object.entries(fields).map(([id, value]) => ({ id, value: value as string })) },
				preview,
			});
		const records = async () =>
			(await t.control<{ records: Array<{ externalId: string; fields: Array<{ id: string; value: unknown }> }> }>('GET', '/state/customObjects/d365-opportunity/records')).records.filter(
				(r) => r.externalId === 'OPP-PREVIEW',
			);

		await t.resetStats();
		const [create] = jsonOf(await upsert({ name: 'Preview Deal', stage: 'Qualify' }, 'li.wei@fabrikam.com', true));
		expect(await t.count(WRITES)).toBe(0);
		expect(await records()).toHaveLength(0);
		expect(create).toMatchObject({ preview: true, operation: 'created', id: null, contactId: '2' });
		expect(create.changes).toEqual([
			{ field: 'name', before: null, after: 'Preview Deal' },
			{ field: 'stage', before: null, after: 'Qualify' },
			{ field: 'primary-contact', before: null, after: '2' },
		]);
		const [created] = jsonOf(await upsert({ name: 'Preview Deal', stage: 'Qualify' }, 'li.wei@fabrikam.com'));
		expect(await t.count(WRITES)).toBe(needed([create]));
		expect(created).toMatchObject({ operation: 'created', contactId: '2', fields: create.fields });

		await t.resetStats();
		const [update] = jsonOf(await upsert({ name: 'Preview Deal', stage: 'Close' }, 'maria.garcia@contoso.com', true));
		expect(await t.count(WRITES)).toBe(0);
		expect(update).toMatchObject({ preview: true, operation: 'updated', id: created.id });
		expect(update.changes).toEqual([
			{ field: 'stage', before: 'Qualify', after: 'Close' },
			{ field: 'primary-contact', before: '2', after: '1' },
		]);
		const [updated] = jsonOf(await upsert({ name: 'Preview Deal', stage: 'Close' }, 'maria.garcia@contoso.com'));
		expect(await t.count(WRITES)).toBe(needed([update]));
		expect(outline(updated)).toEqual(outline(update));
		const [same] = jsonOf(await upsert({ name: 'Preview Deal', stage: 'Close' }, 'maria.garcia@contoso.com', true));
		expect(same).toMatchObject({ preview: true, operation: 'skipped', reason: 'no changes' });

		const del = { resource: 'customObject', operation: 'deleteRecord', schema: 'd365-opportunity', deleteExternalId: 'OPP-PREVIEW' };
		await t.resetStats();
		const [toDelete] = jsonOf(await t.run({ ...del, preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect(toDelete).toMatchObject({ preview: true, operation: 'deleted', deleted: true, id: created.id, externalId: 'OPP-PREVIEW' });
		expect(await records()).toHaveLength(1);
		const [deleted] = jsonOf(await t.run(del));
		expect(await t.count(WRITES)).toBe(needed([toDelete]));
		expect(deleted).toMatchObject({ deleted: true, externalId: 'OPP-PREVIEW', status: 202 });
		expect(await records()).toHaveLength(0);
		// Nothing left to delete: the real run's DELETE would fail (404), and the preview says so.
		const missing = jsonOf(await t.run({ ...del, preview: true }, [{}], { continueOnFail: true }));
		expect(missing[0].error).toMatch(/No d365-opportunity record with external ID OPP-PREVIEW: the delete would fail/);
		const failing = jsonOf(await t.run(del, [{}], { continueOnFail: true }));
		expect(failing[0].error).toBeDefined();
	});
});

describe('Contact and account actions', () => {
	/** Runs the action as a preview (no write may reach the sandbox), then for real: the writes the preview counted. */
	async function previewThenRun(parameters: INodeParameters): Promise<{ shown: IDataObject; done: IDataObject }> {
		await t.resetStats();
		const [shown] = jsonOf(await t.run({ ...parameters, preview: true }));
		expect(await t.count(WRITES)).toBe(0);
		expect(shown.preview).toBe(true);
		const [done] = jsonOf(await t.run(parameters));
		expect({ parameters, writes: await t.count(WRITES) }).toEqual({ parameters, writes: needed([shown]) });
		return { shown, done };
	}
	let id = '';
	beforeAll(async () => {
		[{ id }] = jsonOf(await t.run({ resource: 'contact', operation: 'upsert', dataMode: 'fields', email: 'actions.preview@example.com', additionalFields: { firstName: 'Act' } })) as Array<{ id: string }>;
	});
	const contact = async () => await t.contact(Number(id));

	it('Update, Add Tag and Remove Tag: the fields and tags before and after', async () => {
		const update = await previewThenRun({ resource: 'contact', operation: 'update', contactId: id, updateFields: { lastName: 'Preview' } });
		expect(update.shown).toMatchObject({ operation: 'updated', id, changes: [{ field: 'lastName', before: '', after: 'Preview' }] });
		expect(update.done).toMatchObject({ operation: 'updated', id, changes: ['lastName'] });

		const added = await previewThenRun({ resource: 'contact', operation: 'addTag', contact: id, tags: ['Preview Tag A', 'Preview Tag B'] });
		expect(added.shown).toMatchObject({ operation: 'updated', tagsAdded: ['Preview Tag A', 'Preview Tag B'], changes: [{ field: 'tags', before: [], after: ['Preview Tag A', 'Preview Tag B'] }] });
		expect(added.done.tagsAdded).toEqual(added.shown.tagsAdded);
		// Two tags created and two links: four writes, as the preview counted.
		expect(added.shown.writeRequests).toBe(4);
		const again = await previewThenRun({ resource: 'contact', operation: 'addTag', contact: id, tags: ['preview tag a'] });
		expect(again.shown).toMatchObject({ operation: 'skipped', reason: 'no changes', writeRequests: 0 });

		const removed = await previewThenRun({ resource: 'contact', operation: 'removeTag', contact: 'actions.preview@example.com', tags: ['preview tag b'] });
		expect(removed.shown).toMatchObject({ operation: 'updated', tagsRemoved: ['Preview Tag B'], tags: ['Preview Tag A'] });
		expect(removed.done).toMatchObject({ tagsRemoved: ['Preview Tag B'], tags: ['Preview Tag A'] });
		expect((await contact()).tags).toEqual(['Preview Tag A']);
	});

	it('Subscribe, Unsubscribe, Add to and Remove From Automation, Send Campaign', async () => {
		const subscribed = await previewThenRun({ resource: 'contact', operation: 'subscribe', contact: id, list: '2' });
		expect(subscribed.shown).toMatchObject({ operation: 'subscribed', changes: [{ field: 'list 2', before: null, after: 'subscribed' }] });
		const unsubscribed = await previewThenRun({ resource: 'contact', operation: 'unsubscribe', contact: id, list: '2' });
		expect(unsubscribed.shown).toMatchObject({ operation: 'unsubscribed', changes: [{ field: 'list 2', before: 'subscribed', after: 'unsubscribed' }] });
		expect((await contact()).lists).toEqual(expect.arrayContaining([expect.objectContaining({ list: '2', status: 2 })]));

		const automations = async () => ((await contact()).automations as IDataObject[]).map((a) => a.automation);
		const added = await previewThenRun({ resource: 'contact', operation: 'addToAutomation', contact: id, automation: '2' });
		expect(added.shown).toMatchObject({ operation: 'addedToAutomation', id, automation: '2', changes: [{ field: 'automation', before: null, after: '2' }], writeRequests: 1 });
		expect(await automations()).toEqual(['2']);
		const removed = await previewThenRun({ resource: 'contact', operation: 'removeFromAutomation', contact: id, automation: '2' });
		expect(removed.shown).toMatchObject({ operation: 'removedFromAutomation', removed: 1, changes: [{ field: 'automation', before: '2', after: null }] });
		expect(removed.done.removed).toBe(1);
		const none = await previewThenRun({ resource: 'contact', operation: 'removeFromAutomation', contact: id, automation: '2' });
		expect(none.shown).toMatchObject({ operation: 'skipped', reason: 'the contact is not in this automation', removed: 0 });

		const viaAutomation = await previewThenRun({ resource: 'contact', operation: 'sendCampaign', contact: id, sendMethod: 'automation', sendAutomation: '2' });
		expect(viaAutomation.shown).toMatchObject({ operation: 'sent', method: 'automation', automation: '2' });
		const activities = async () => ((await contact()).activities as IDataObject[]).length;
		const sentBefore = await activities();
		const v1 = await previewThenRun({ resource: 'contact', operation: 'sendCampaign', contact: id, sendMethod: 'v1', campaign: '2' });
		expect(v1.shown).toMatchObject({ operation: 'sent', method: 'v1', email: 'actions.preview@example.com', campaign: '2' });
		// Only the real run sent it.
		expect(await activities()).toBe(sentBefore + 1);
	});

	it('Link Contact: the account and job title before and after', async () => {
		const linked = await previewThenRun({ resource: 'account', operation: 'linkContact', contact: id, account: 'Contoso Ltd', jobTitle: 'Buyer' });
		expect(linked.shown).toMatchObject({
			operation: 'updated',
			accountName: 'Contoso Ltd',
			changes: [
				{ field: 'account', before: null, after: 'Contoso Ltd' },
				{ field: 'jobTitle', before: null, after: 'Buyer' },
			],
		});
		expect(linked.done).toMatchObject({ operation: 'updated', accountName: 'Contoso Ltd', jobTitle: 'Buyer' });
		const retitled = await previewThenRun({ resource: 'account', operation: 'linkContact', contact: id, account: linked.done.accountId as string, jobTitle: 'Lead Buyer' });
		expect(retitled.shown).toMatchObject({ operation: 'updated', accountName: 'Contoso Ltd', changes: [{ field: 'jobTitle', before: 'Buyer', after: 'Lead Buyer' }] });
		const same = await previewThenRun({ resource: 'account', operation: 'linkContact', contact: id, account: 'Contoso Ltd' });
		expect(same.shown).toMatchObject({ operation: 'skipped', reason: 'no changes', changes: [] });
	});

	it('an automation, list or campaign that does not exist fails the preview as it fails the real run', async () => {
		const both = async (parameters: INodeParameters) => {
			const [shown] = jsonOf(await t.run({ ...parameters, preview: true }, [{}], { continueOnFail: true }));
			const [done] = jsonOf(await t.run(parameters, [{}], { continueOnFail: true }));
			return { shown: String(shown.error), done: String(done.error) };
		};
		await t.resetStats();
		const automation = await both({ resource: 'contact', operation: 'addToAutomation', contact: id, automation: '999' });
		expect(automation.shown).toBe('No ActiveCampaign automation with id 999: the real run would fail');
		expect(automation.done).not.toBe('undefined');
		const list = await both({ resource: 'contact', operation: 'subscribe', contact: id, list: '999' });
		expect(list.shown).toBe('No ActiveCampaign list with id 999: the real run would fail');
		expect(list.done).not.toBe('undefined');
		const campaign = await both({ resource: 'contact', operation: 'sendCampaign', contact: id, sendMethod: 'v1', campaign: '999' });
		expect(campaign).toEqual({ shown: 'No ActiveCampaign campaign with id 999: the real run would fail', done: 'Campaign not found' });
		expect(await t.count(WRITES)).toBe(3);
	});

	it('Delete: the contact it would delete; a missing one fails as the real run would', async () => {
		const deleted = await previewThenRun({ resource: 'contact', operation: 'delete', contact: id });
		expect(deleted.shown).toMatchObject({ operation: 'deleted', id, email: 'actions.preview@example.com', writeRequests: 1 });
		expect(deleted.done).toEqual({ deleted: true, id });
		const missing = jsonOf(await t.run({ resource: 'contact', operation: 'delete', contact: id, preview: true }, [{}], { continueOnFail: true }));
		expect(missing[0].error).toBe(`No ActiveCampaign contact with id ${id}: the delete would fail (404)`);
	});
});

describe('a contact an earlier step of the same preview would create', () => {
	it('stands in for it by its email: Add to Automation and Send Campaign say what they would do, nothing is sent', async () => {
		const node = (name: string, parameters: INodeParameters, x: number) => ({
			...t.harness.toNode({ type: 'activeCampaignSync', name, parameters: { ...parameters, preview: true }, credentials: ['activeCampaignSyncApi'] }),
			position: [x, 0] as [number, number],
		});
		const nodes = [
			node('Create', { resource: 'contact', operation: 'upsert', dataMode: 'fields', email: 'not.there.yet@example.com', additionalFields: {} }, 0),
			node('Automation', { resource: 'contact', operation: 'addToAutomation', contact: '={{ $json.id ?? $json.email }}', automation: '2' }, 200),
			node('Campaign', { resource: 'contact', operation: 'sendCampaign', contact: "={{ $('Create').item.json.email }}", sendMethod: 'v1', campaign: '2' }, 400),
		];
		const connections = {
			Create: { main: [[{ node: 'Automation', type: 'main', index: 0 }]] },
			Automation: { main: [[{ node: 'Campaign', type: 'main', index: 0 }]] },
		};
		await t.resetStats();
		const run = await t.harness.runWorkflow(nodes, connections as never);
		expect(run.data.resultData.error).toBeUndefined();
		const out = (name: string) => run.data.resultData.runData[name][0].data!.main[0]![0].json;
		expect(out('Create')).toMatchObject({ preview: true, operation: 'created', id: null, email: 'not.there.yet@example.com' });
		expect(out('Automation')).toMatchObject({ preview: true, operation: 'addedToAutomation', id: 'preview:not.there.yet@example.com', writeRequests: 1 });
		expect(out('Campaign')).toMatchObject({ preview: true, operation: 'sent', email: 'not.there.yet@example.com', writeRequests: 1 });
		expect(await t.count(WRITES)).toBe(0);
		// Outside that execution nobody would create it: the same step alone fails as the real one would.
		const alone = jsonOf(await t.run({ resource: 'contact', operation: 'addToAutomation', contact: 'not.there.yet@example.com', automation: '2', preview: true }, [{}], { continueOnFail: true }));
		expect(alone[0].error).toBe('No ActiveCampaign contact with email not.there.yet@example.com');
	});
});

describe('tags an earlier step of the same preview would add', () => {
	it('Get shows them on the contact (a later Field Map sees it as tagged); outside that execution it does not', async () => {
		const node = (name: string, parameters: INodeParameters, x: number) => ({
			...t.harness.toNode({ type: 'activeCampaignSync', name, parameters, credentials: ['activeCampaignSyncApi'] }),
			position: [x, 0] as [number, number],
		});
		const [{ id }] = jsonOf(await t.run({ resource: 'contact', operation: 'upsert', dataMode: 'fields', email: 'tag.preview@example.com', additionalFields: {} })) as Array<{ id: string }>;
		const nodes = [
			node('Tag', { resource: 'contact', operation: 'addTag', contact: id, tags: ['[D365: Lead]'], preview: true }, 0),
			node('Read', { resource: 'contact', operation: 'get', contact: '={{ $json.id }}' }, 200),
		];
		const connections = { Tag: { main: [[{ node: 'Read', type: 'main', index: 0 }]] } };
		await t.resetStats();
		const run = await t.harness.runWorkflow(nodes, connections as never);
		expect(run.data.resultData.error).toBeUndefined();
		expect(run.data.resultData.runData.Read[0].data!.main[0]![0].json.tags).toEqual(['[D365: Lead]']);
		expect(await t.count(WRITES)).toBe(0);
		expect((await t.contact(Number(id))).tags).toEqual([]);
		const [alone] = jsonOf(await t.run({ resource: 'contact', operation: 'get', contact: id }));
		expect(alone.tags).toEqual([]);
	});
});
