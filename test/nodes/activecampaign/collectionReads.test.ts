/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Reading many contacts with everything the sync needs (issue "ActiveCampaign → Dynamics at the rate-limit floor"):
 * Get Many and Get Changes with details read 100 contacts per request with their field values, tags and lists
 * side-loaded, and the account links from the link list; the result is the same as reading each contact on its own,
 * which is what happens when an account does not side-load.
 */
import type { IDataObject } from 'n8n-workflow';

import { jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo', fast: true });
	// More than two pages of contacts, some with an account and a job title.
	await t.control('POST', '/seed', { contacts: 230 });
});
afterAll(async () => await t.close());
afterEach(async () => await t.control('PUT', '/limits', { listInclude: 'sideLoad' }));

const PER_CONTACT = /^GET \/api\/3\/contacts\/:id(\/contactTags|\/accountContacts)?$/;

async function perContactReads(): Promise<number> {
	const stats = await t.stats();
	return Object.entries(stats.routes)
		.filter(([route]) => PER_CONTACT.test(route))
		.reduce((sum, [, r]) => sum + r.count, 0);
}

const byId = (records: IDataObject[]) => [...records].sort((a, b) => Number(a.id) - Number(b.id));

it('Get Many with details: a request per 100 contacts, none per contact, the same records as read one by one', async () => {
	const total = Number((await t.control<{ total: number }>('GET', '/state/contacts?limit=1')).total);
	const parameters = { resource: 'contact', operation: 'getAll', returnAll: true, getAllOptions: { details: true } };
	await t.resetStats();
	const listed = jsonOf(await t.run(parameters));
	expect(listed).toHaveLength(total);
	expect(await perContactReads()).toBe(0);
	const pages = Math.ceil(total / 100);
	expect(await t.count('GET /api/3/contacts')).toBe(pages);
	const listedCost = (await t.stats()).total;
	expect(listedCost).toBeLessThanOrEqual(pages + 10);
	expect(listed.some((c) => c.accountName && c.jobTitle)).toBe(true);
	expect(listed.some((c) => Array.isArray(c.tags) && (c.tags as string[]).length > 0)).toBe(true);

	// An account that does not side-load: each contact is read on its own, with the same result.
	await t.control('PUT', '/limits', { listInclude: 'ignore' });
	await t.resetStats();
	const oneByOne = jsonOf(await t.run(parameters));
	expect(await perContactReads()).toBe(3 * total);
	expect(byId(listed)).toEqual(byId(oneByOne));
	console.log(`[measure] Get Many with details, ${total} contacts: ${listedCost} requests (one by one: ${(await t.stats()).total})`);
});

it('Get Changes with details: changed contacts without a request each, the same records as read one by one', async () => {
	const startFrom = '2000-01-01T00:00:00Z';
	const parameters = { resource: 'contact', operation: 'getChanges', startFrom, changeOptions: { overlapMinutes: 5 } };
	await t.resetStats();
	const listed = jsonOf(await t.runKeepingState('side-loaded', parameters));
	expect(listed.length).toBeGreaterThan(200);
	expect(await perContactReads()).toBe(0);
	const listedCost = (await t.stats()).total;

	await t.control('PUT', '/limits', { listInclude: 'ignore' });
	await t.resetStats();
	const oneByOne = jsonOf(await t.runKeepingState('one-by-one', parameters));
	expect(await perContactReads()).toBe(3 * listed.length);
	expect(byId(listed)).toEqual(byId(oneByOne));
	console.log(`[measure] Get Changes with details, ${listed.length} contacts: ${listedCost} requests (one by one: ${(await t.stats()).total})`);
});

it('Get Changes of created contacts only: their account links the cheaper way', async () => {
	const startFrom = '2000-01-01T00:00:00Z';
	const parameters = { resource: 'contact', operation: 'getChanges', event: 'created', startFrom, changeOptions: { overlapMinutes: 5 } };
	await t.resetStats();
	const created = jsonOf(await t.runKeepingState('created', parameters));
	expect(created.length).toBeGreaterThan(200);
	expect(await perContactReads()).toBe(0);
	expect(created.every((c) => c.changeType === 'created')).toBe(true);
	expect(created.some((c) => c.accountName)).toBe(true);
});
