/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Record Sync State for many contacts (issue "ActiveCampaign → Dynamics at the rate-limit floor"): from ten contacts
 * on, links, states and tags go through the bulk importer and the contacts are read 100 per request; what the
 * importer cannot do safely (a tag to remove, a deletion, a contact whose email changed meanwhile) is written one by
 * one. The sandbox's records are the judge.
 */
import type { IDataObject } from 'n8n-workflow';

import { formatState } from '../../../nodes/shared/sync/state';
import { jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'empty', fast: true });
});
afterAll(async () => await t.close());
beforeEach(async () => {
	await t.control('POST', '/reset', { seed: 'empty' });
	await t.fast();
});

const WRITES = /^(POST|PUT|DELETE) /;
const rec = { resource: 'contact', operation: 'recordSyncState' };
const guid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const state = (n: number) => formatState({ acHash: `a${String(n).padStart(15, '0')}`, d365Hash: `d${String(n).padStart(15, '0')}` });

async function contacts(n: number): Promise<IDataObject[]> {
	await t.control('POST', '/seed', { contacts: n });
	return (await t.control<{ contacts: IDataObject[] }>('GET', `/state/contacts?limit=${n}`)).contacts;
}

interface Detail {
	contact: IDataObject;
	tags: string[];
	fields: Record<string, string | null>;
}
const detail = async (id: unknown) => await t.control<Detail>('GET', `/state/contacts/${String(id)}`);

function items(list: IDataObject[]): IDataObject[] {
	return list.map((c, i) => ({ acId: c.id, email: c.email, link: `lead:${guid(i + 1)}`, state: state(i + 1), tags: ['[D365: Lead]', '[D365: Pulled from ActiveCampaign]'] }));
}

it('records links, states and tags of 120 contacts through one import, and a second run writes nothing', async () => {
	const list = await contacts(120);
	await t.resetStats();
	const out = jsonOf(await t.run(rec, items(list)));
	expect(out.map((o) => o.operation)).toEqual(list.map(() => 'updated'));
	expect(await t.count('POST /api/3/import/bulk_import')).toBe(1);
	expect(await t.count(/^(PUT \/api\/3\/contacts|POST \/api\/3\/contactTags)/)).toBe(0);
	// Metadata (fields, tags, two new tags), 2 reads of 100 ids, the link values, the import and its status polls.
	expect((await t.stats()).total).toBeLessThanOrEqual(15);
	for (const [i, c] of list.entries()) {
		const d = await detail(c.id);
		expect(d.fields).toMatchObject({ D365_RECORD_ID: `lead:${guid(i + 1)}`, D365_SYNC_STATE: state(i + 1) });
		expect(d.tags.sort()).toEqual(['[D365: Lead]', '[D365: Pulled from ActiveCampaign]']);
	}
	expect((await t.control<{ total: number }>('GET', '/state/contacts?limit=1')).total).toBe(120);
	console.log(`[measure] Record Sync State, 120 contacts: ${(await t.stats()).total} requests`);

	await t.resetStats();
	const again = jsonOf(await t.run(rec, items(list)));
	expect(again.every((o) => o.operation === 'skipped')).toBe(true);
	expect(await t.count(WRITES)).toBe(0);
});

it('a link another contact holds is not written twice; a tag to remove is removed one by one', async () => {
	const list = await contacts(12);
	const given = items(list);
	// The first contact already holds the link the second asks for.
	await t.run(rec, [given[0]]);
	given[1].link = given[0].link;
	await t.control('PATCH', `/ui/contacts/${String(list[2].id)}`, { addTags: ['[D365: Deleted in Dynamics]'] });
	given[2].removeTags = ['[D365: Deleted in Dynamics]'];
	const out = jsonOf(await t.run(rec, given));
	expect(out[1]).toMatchObject({ operation: 'skipped', reason: expect.stringMatching(/linked to another ActiveCampaign contact/), link: null });
	expect((await detail(list[1].id)).fields.D365_RECORD_ID ?? '').toBe('');
	expect(out[2]).toMatchObject({ operation: 'updated', tagsRemoved: ['[D365: Deleted in Dynamics]'] });
	expect((await detail(list[2].id)).tags).not.toContain('[D365: Deleted in Dynamics]');
	expect(out[0]).toMatchObject({ operation: 'skipped', reason: 'no changes' });
	expect(out.filter((o) => o.operation === 'updated')).toHaveLength(10);
});

it('a contact whose email changed while the import waited: the contact the importer made is deleted, the state goes to the right contact', async () => {
	const list = await contacts(15);
	await t.control('PUT', '/limits', { bulkImportDelayMs: 1500 });
	try {
		await t.resetStats();
		const running = t.run(rec, items(list));
		// Once the import is queued (and before it is processed), a person changes the fifth contact's email.
		for (let i = 0; i < 100 && (await t.count('POST /api/3/import/bulk_import')) === 0; i++) await new Promise((r) => setTimeout(r, 50));
		await t.control('PATCH', `/ui/contacts/${String(list[4].id)}`, { email: 'renamed.meanwhile@example.org' });
		const out = jsonOf(await running);
		expect(out.map((o) => o.operation)).toEqual(list.map(() => expect.stringMatching(/^(updated|skipped)$/)));
		const all = (await t.control<{ contacts: IDataObject[] }>('GET', '/state/contacts?limit=100')).contacts;
		expect(all.map((c) => String(c.email).toLowerCase()).sort()).toEqual(
			list.map((c, i) => (i === 4 ? 'renamed.meanwhile@example.org' : String(c.email).toLowerCase())).sort(),
		);
		expect((await detail(list[4].id)).fields).toMatchObject({ D365_RECORD_ID: `lead:${guid(5)}`, D365_SYNC_STATE: state(5) });
	} finally {
		await t.control('PUT', '/limits', { bulkImportDelayMs: 0 });
	}
});

it('fewer than ten contacts are written one by one, as before', async () => {
	const list = await contacts(5);
	await t.resetStats();
	const out = jsonOf(await t.run(rec, items(list)));
	expect(out.map((o) => o.operation)).toEqual(list.map(() => 'updated'));
	expect(await t.count('POST /api/3/import/bulk_import')).toBe(0);
	expect(await t.count('PUT /api/3/contacts/:id')).toBe(5);
});

it('in one batch: a new link two items ask for goes to the first only; a contact named twice is written one by one, in order', async () => {
	const list = await contacts(14);
	const given = items(list);
	given[3].link = given[2].link;
	// The sixth contact twice: linked, then unlinked as deleted in Dynamics (the later item wins, as one by one).
	given.push({ ...given[5], acId: list[5].id, stateAction: 'unlink', acAction: 'unlink', link: given[5].link });
	const out = jsonOf(await t.run({ ...rec, stateAction: '={{ $json.acAction ?? "" }}' }, given));
	expect(await t.count('POST /api/3/import/bulk_import')).toBe(1);
	expect(out[3]).toMatchObject({ operation: 'skipped', reason: expect.stringMatching(/linked to another ActiveCampaign contact \(3\)/) });
	expect((await detail(list[2].id)).fields.D365_RECORD_ID).toBe(given[2].link);
	expect((await detail(list[3].id)).fields.D365_RECORD_ID ?? '').toBe('');
	const sixth = await detail(list[5].id);
	expect(sixth.fields.D365_RECORD_ID ?? '').toBe('');
	expect(sixth.tags).toContain('[D365: Deleted in Dynamics]');
});

it('an existing contact that took a contact\'s email while the import waited is named in an error, not deleted', async () => {
	const list = await contacts(15);
	const [other] = await contacts(1).then(async () => (await t.control<{ contacts: IDataObject[] }>('GET', '/state/contacts?limit=100')).contacts.slice(-1));
	await t.control('PUT', '/limits', { bulkImportDelayMs: 1500 });
	try {
		await t.resetStats();
		const running = t.run(rec, items(list), { continueOnFail: true });
		for (let i = 0; i < 100 && (await t.count('POST /api/3/import/bulk_import')) === 0; i++) await new Promise((r) => setTimeout(r, 50));
		// The fifth contact's email moves to another contact that already existed.
		await t.control('PATCH', `/ui/contacts/${String(list[4].id)}`, { email: 'moved.away@example.org' });
		await t.control('PATCH', `/ui/contacts/${String(other.id)}`, { email: String(list[4].email) });
		const result = await running;
		const failed = jsonOf(result).filter((o) => typeof o.error === 'string');
		expect(failed.map((o) => o.error)).toEqual([expect.stringMatching(new RegExp(`ActiveCampaign contact ${String(other.id)} had the email`))]);
		// Not deleted; it holds the link now, so the fifth contact is not linked a second time (the error says so).
		expect((await detail(other.id)).contact.email).toBe(list[4].email);
		expect((await detail(other.id)).fields.D365_RECORD_ID).toBe(`lead:${guid(5)}`);
		expect(jsonOf(result).find((o) => o.id === String(list[4].id))).toMatchObject({ operation: 'skipped', reason: expect.stringMatching(/linked to another ActiveCampaign contact/) });
	} finally {
		await t.control('PUT', '/limits', { bulkImportDelayMs: 0 });
	}
});

it('an Initial Sync\'s 600 new links: planned from the value and tag lists (nobody holds one yet), not by reading the contacts again', async () => {
	const list = await contacts(600);
	await t.resetStats();
	const out = jsonOf(await t.run(rec, items(list)));
	expect(out.map((o) => o.operation)).toEqual(list.map(() => 'updated'));
	const routes = (await t.stats()).routes as Record<string, { count: number }>;
	// Reading the 600 contacts again would take 6 requests; the link list, the state list and each tag's contact
	// list take one each (nobody has any yet).
	expect(routes['GET /api/3/contacts']?.count ?? 0).toBeLessThanOrEqual(2);
	expect(routes['GET /api/3/fieldValues']?.count).toBe(2);
	expect(await t.count('POST /api/3/import/bulk_import')).toBe(3);
	for (const [i, c] of list.entries()) {
		if (i % 37) continue;
		const d = await detail(c.id);
		expect(d.fields).toMatchObject({ D365_RECORD_ID: `lead:${guid(i + 1)}`, D365_SYNC_STATE: state(i + 1) });
		expect(d.tags.sort()).toEqual(['[D365: Lead]', '[D365: Pulled from ActiveCampaign]']);
	}
	expect((await t.control<{ total: number }>('GET', '/state/contacts?limit=1')).total).toBe(600);
	console.log(`[measure] Record Sync State, 600 new links: ${(await t.stats()).total} requests`);

	// Now every contact holds a link: the lists are longer than reading the contacts again, which the step then does.
	await t.resetStats();
	const again = jsonOf(await t.run(rec, items(list)));
	expect(again.every((o) => o.operation === 'skipped' && o.reason === 'no changes')).toBe(true);
	expect(await t.count(WRITES)).toBe(0);
	// One request to find the link list too long, then the 600 contacts read again.
	expect((await t.stats()).routes['GET /api/3/contacts']?.count).toBe(6);
});

it('a contact deleted after it was read: the import\'s stray contact is deleted again and the item says the contact is gone', async () => {
	const list = await contacts(600);
	await t.control('DELETE', `/ui/contacts/${String(list[7].id)}`);
	const result = await t.run(rec, items(list), { continueOnFail: true });
	const out = jsonOf(result);
	expect(out).toHaveLength(600);
	expect(String(out[7].error)).toMatch(/No ActiveCampaign contact with id 8/);
	expect(out.filter((o) => o.error)).toHaveLength(1);
	expect((await t.control<{ total: number }>('GET', '/state/contacts?limit=1')).total).toBe(599);
	for (const [i, c] of list.entries()) if (i !== 7 && !(i % 29)) expect((await detail(c.id)).fields).toMatchObject({ D365_RECORD_ID: `lead:${guid(i + 1)}`, D365_SYNC_STATE: state(i + 1) });
});
