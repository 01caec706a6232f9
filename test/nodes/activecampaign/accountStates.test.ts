/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Record Sync State for many accounts (issue "ActiveCampaign → Dynamics at the rate-limit floor"): from ten accounts
 * on, the links and states are read from the account field value list and written through its bulk endpoints, not
 * with two reads and a PUT per account. The sandbox's records are the judge.
 */
import type { IDataObject } from 'n8n-workflow';

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

const rec = { resource: 'account', operation: 'recordSyncState' };
const guid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const state = (n: number) => `v24:abc${String(n).padStart(8, '0')}`;

async function accounts(n: number): Promise<IDataObject[]> {
	const out: IDataObject[] = [];
	for (let i = 0; i < n; i++) out.push((await t.control<{ account: IDataObject }>('POST', '/ui/accounts', { name: `Account ${i + 1}` })).account);
	return out;
}

async function fieldsOf(id: unknown): Promise<Record<string, unknown>> {
	const all = (await t.control<{ accounts: Array<{ id: string; customFields: Array<{ label: string; value: unknown }> }> }>('GET', '/state/accounts')).accounts;
	const account = all.find((a) => String(a.id) === String(id))!;
	return Object.fromEntries(account.customFields.map((f) => [f.label, f.value]));
}

it('records the links and states of 30 accounts in a few requests, skips a link another account holds, and a second run writes nothing', async () => {
	const list = await accounts(30);
	// Account 1 already holds the link account 2 asks for; account 3 has an older state (both recorded one by one).
	await t.run(rec, [
		{ acId: list[0].id, name: list[0].name, link: guid(1), state: state(1) },
		{ acId: list[2].id, name: list[2].name, link: guid(3), state: 'v24:older0000000' },
	]);
	const items = list.map((a, i) => ({ acId: a.id, name: a.name, link: guid(i === 1 ? 1 : i + 1), state: state(i + 1) }));
	await t.resetStats();
	const out = jsonOf(await t.run(rec, items));
	expect(out[0]).toMatchObject({ operation: 'skipped', reason: 'no changes', link: guid(1) });
	expect(out[1]).toMatchObject({ operation: 'skipped', reason: expect.stringMatching(/linked to another ActiveCampaign account/) });
	expect(out.slice(2).every((o) => o.operation === 'updated')).toBe(true);
	expect(await t.count(/^(PUT|GET) \/api\/3\/accounts\/\d+/)).toBe(0);
	expect(await t.count('POST /api/3/accountCustomFieldData/bulkCreate')).toBe(1);
	expect(await t.count('PATCH /api/3/accountCustomFieldData/bulkUpdate')).toBe(1);
	expect((await t.stats()).total).toBeLessThanOrEqual(8);
	console.log(`[measure] Record Sync State, 30 accounts: ${(await t.stats()).total} requests`);
	for (const [i, a] of list.entries()) {
		if (i === 1) continue;
		expect(await fieldsOf(a.id)).toMatchObject({ 'D365 Account ID': guid(i + 1), 'D365 Account Sync State': state(i + 1) });
	}
	expect((await fieldsOf(list[1].id))['D365 Account ID'] ?? '').toBe('');

	await t.resetStats();
	const again = jsonOf(await t.run(rec, items));
	expect(again.every((o) => o.operation === 'skipped')).toBe(true);
	expect(await t.count(/^(POST|PUT|PATCH|DELETE) /)).toBe(0);
});
