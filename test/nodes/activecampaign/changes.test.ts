/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/** Get Changes (action node) and the ActiveCampaign Sync Trigger: polling with a change cursor, and the webhook. */
import type { IDataObject } from 'n8n-workflow';

import { customValue, jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo' });
});
afterAll(async () => await t.close());

/** ActiveCampaign stamps changes at whole seconds: wait so consecutive edits of one record differ. */
async function tick(ms = 1100): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, ms));
}

async function editContact(idOrEmail: string | number, body: IDataObject): Promise<void> {
	await t.control('PATCH', `/ui/contacts/${encodeURIComponent(String(idOrEmail))}`, body);
}

const contactChanges = { resource: 'contact', operation: 'getChanges', changeOptions: { overlapMinutes: 5 } };

describe('Get Changes', () => {
	it('first run starts now; later runs return each change once, with field values and tags, oldest first', async () => {
		const first = await t.runKeepingState('gc', contactChanges);
		expect(jsonOf(first)).toEqual([]);

		await editContact(3, { lastName: 'Taylor-Smith', fieldValues: [{ perstag: 'NOTES', value: 'Called back' }] });
		await tick();
		await editContact(1, { addTags: ['Webinar Attendee'] });
		const second = jsonOf(await t.runKeepingState('gc', contactChanges, [{}, {}, {}]));
		expect(second.map((c) => c.id)).toEqual(['3', '1']);
		expect(second[0]).toMatchObject({ lastName: 'Taylor-Smith', changeType: 'updated' });
		expect(customValue(second[0], 'NOTES')).toBe('Called back');
		expect(second[0].customFields).toEqual(expect.arrayContaining([{ id: '6', title: 'Notes', perstag: 'NOTES', type: 'textarea', value: 'Called back' }]));
		expect(second[1].tags).toContain('Webinar Attendee');

		// Nothing new: nothing returned, although the overlap re-reads the same records.
		await t.resetStats();
		expect(jsonOf(await t.runKeepingState('gc', contactChanges))).toEqual([]);
		expect(await t.count('GET /api/3/contacts')).toBe(1);

		await tick();
		await editContact(3, { phone: '+1 425 555 9999' });
		const third = jsonOf(await t.runKeepingState('gc', contactChanges));
		expect(third.map((c) => [c.id, c.phone])).toEqual([['3', '+1 425 555 9999']]);
	});

	it('tells created from updated, and honours Start From and Max Records', async () => {
		const startFrom = new Date(Date.now() - 60_000).toISOString();
		await t.control('POST', '/ui/contacts', { email: 'brand.new@example.org', firstName: 'Brand' });
		const all = jsonOf(await t.runKeepingState('gc2', { ...contactChanges, startFrom, changeOptions: { maxRecords: 2 } }));
		expect(all.length).toBe(2);
		const rest = jsonOf(await t.runKeepingState('gc2', { ...contactChanges, startFrom, changeOptions: { maxRecords: 100 } }));
		const ids = [...all, ...rest].map((c) => c.id);
		expect(new Set(ids).size).toBe(ids.length);
		const created = [...all, ...rest].find((c) => c.email === 'brand.new@example.org');
		expect(created?.changeType).toBe('created');
		expect([...all, ...rest].find((c) => c.id === '3')?.changeType).toBe('updated');
	});

	it('accounts: pages the list and compares updatedTimestamp (no filter exists); custom fields included', async () => {
		const accountChanges = { resource: 'account', operation: 'getChanges' };
		expect(jsonOf(await t.runKeepingState('ga', accountChanges))).toEqual([]);
		await t.control('PATCH', '/ui/accounts/2', { fields: [{ label: 'Number of Employees', value: 900 }] });
		const changed = jsonOf(await t.runKeepingState('ga', accountChanges));
		expect(changed.map((a) => a.id)).toEqual(['2']);
		expect(customValue(changed[0], 'Number of Employees')).toBe(900);
		expect(jsonOf(await t.runKeepingState('ga', accountChanges))).toEqual([]);
	});

	it('Full Scan Every: between scans no account or account-link list is read; the next scan brings a contact moved meanwhile', async () => {
		const spaced = { ...contactChanges, changeOptions: { overlapMinutes: 5, scanEveryMinutes: 0.04 } };
		expect(jsonOf(await t.runKeepingState('scan', spaced))).toEqual([]);
		// The starting point counts as a scan (nothing before it is news): the next run does not read the accounts whole.
		await t.resetStats();
		await t.runKeepingState('scan', spaced);
		expect(await t.count('GET /api/3/accounts')).toBe(0);

		await editContact(2, { account: 'Scanned Later Ltd' });
		await t.resetStats();
		expect(jsonOf(await t.runKeepingState('scan', spaced)).map((c) => c.id)).not.toContain('2');
		expect(await t.count('GET /api/3/accountContacts')).toBe(0);
		expect(await t.count('GET /api/3/accounts')).toBe(0);

		await tick(2600);
		const scanned = jsonOf(await t.runKeepingState('scan', spaced));
		expect(scanned.find((c) => c.id === '2')).toMatchObject({ accountName: 'Scanned Later Ltd' });
		// Accounts are read whole only when a scan is due: in between, their cursor stays.
		const accounts = { resource: 'account', operation: 'getChanges', changeOptions: { overlapMinutes: 5, scanEveryMinutes: 0.04 } };
		await t.runKeepingState('accountScan', accounts);
		await t.runKeepingState('accountScan', accounts);
		await t.control('POST', '/ui/accounts', { name: 'Arrives With The Scan' });
		await t.resetStats();
		expect(jsonOf(await t.runKeepingState('accountScan', accounts))).toEqual([]);
		expect(await t.count('GET /api/3/accounts')).toBe(0);
		await tick(2600);
		expect(jsonOf(await t.runKeepingState('accountScan', accounts)).map((a) => a.name)).toContain('Arrives With The Scan');
	});

	it('a manual run without a cursor returns a small sample and keeps no cursor', async () => {
		const sample = await t.run(contactChanges, [{}], { mode: 'manual' });
		expect(jsonOf(sample).length).toBe(5);
		expect(jsonOf(sample)[0].changeType).toBe('sample');
	});
});

describe('ActiveCampaign Sync Trigger (polling)', () => {
	const updated = { triggerOn: 'poll', event: 'contactUpdated' };

	it('first activation starts now; each change is emitted once; created and account events', async () => {
		// Changes are stamped at whole seconds; earlier tests' changes must be in an earlier second.
		await tick();
		const activation = await t.poll(updated, { key: 'p1' });
		expect(activation.items).toBeNull();
		expect(typeof activation.staticData.watermark).toBe('string');

		await tick();
		await editContact(2, { firstName: 'Li (changed)' });
		const first = await t.poll(updated, { key: 'p1' });
		expect(first.items?.map((i) => i.json.id)).toEqual(['2']);
		expect(first.items?.[0].json).toMatchObject({ firstName: 'Li (changed)', changeType: 'updated' });
		expect((await t.poll(updated, { key: 'p1' })).items).toBeNull();

		const created = { triggerOn: 'poll', event: 'contactCreated' };
		expect((await t.poll(created, { key: 'p2' })).items).toBeNull();
		await t.control('POST', '/ui/contacts', { email: 'trigger.created@example.org' });
		await tick();
		await editContact(2, { firstName: 'Li' });
		const createdOut = await t.poll(created, { key: 'p2' });
		expect(createdOut.items?.map((i) => i.json.email)).toEqual(['trigger.created@example.org']);

		const accounts = { triggerOn: 'poll', event: 'accountUpdated' };
		expect((await t.poll(accounts, { key: 'p3' })).items).toBeNull();
		await t.control('PATCH', '/ui/accounts/1', { fields: [{ label: 'Industry', value: 'Software' }] });
		const accountOut = await t.poll(accounts, { key: 'p3' });
		expect(accountOut.items?.map((i) => i.json.name)).toEqual(['Contoso Ltd']);
		expect(customValue(accountOut.items![0].json, 'Industry')).toBe('Software');
	});

	it('manual mode returns a sample and does not touch the cursor', async () => {
		while ((await t.poll(updated, { key: 'p1' })).items);
		const cursor = (await t.poll(updated, { key: 'p1' })).staticData;
		const manual = await t.poll(updated, { key: 'p1', mode: 'manual' });
		expect(manual.items?.length).toBe(3);
		expect(manual.items?.[0].json.changeType).toBe('sample');
		const after = await t.poll(updated, { key: 'p1' });
		expect(after.items).toBeNull();
		expect(after.staticData.seen).toEqual(cursor.seen);
	});

	it('in instant mode the poll does nothing', async () => {
		await t.resetStats();
		expect((await t.poll({ triggerOn: 'webhook', events: ['update'] }, { key: 'p4' })).items).toBeNull();
		expect((await t.stats()).total).toBe(0);
	});

	it('a backlog larger than the poll budget is emitted in parts, nothing lost or repeated', async () => {
		await t.realLimits();
		try {
			await tick();
			const start = new Date().toISOString();
			await tick();
			for (let id = 6; id <= 15; id++) await editContact(id, { phone: `+1 555 77${id}` });
			const seen: string[] = [];
			let polls = 0;
			for (;;) {
				const result = await t.poll({ ...updated, pollOptions: { startFrom: start } }, { key: 'p5', budgetMs: 1000 });
				polls++;
				if (!result.items) break;
				seen.push(...result.items.map((i) => String(i.json.id)));
				expect(polls).toBeLessThan(20);
			}
			console.log(`[measure] backlog of 10 changes with a 1 s poll budget at 5 requests/s: ${polls - 1} polls`);
			expect(polls - 1).toBeGreaterThan(1);
			expect(seen.sort((a, b) => Number(a) - Number(b))).toEqual(['6', '7', '8', '9', '10', '11', '12', '13', '14', '15']);
		} finally {
			await t.fast();
		}
	});
});

describe('ActiveCampaign Sync Trigger (webhook)', () => {
	const instant = { triggerOn: 'webhook', events: ['update', 'subscribe'], sources: ['public', 'admin', 'system'], listId: 0 };

	it('registers the webhook on activation (API changes excluded by default) and removes it on deactivation', async () => {
		expect(await t.hook(instant, 'checkExists', 'w1')).toBe(false);
		expect(await t.hook(instant, 'create', 'w1')).toBe(true);
		const hooks = (await t.control<{ webhooks: IDataObject[] }>('GET', '/state/webhooks')).webhooks;
		expect(hooks).toHaveLength(1);
		expect(hooks[0]).toMatchObject({ events: ['update', 'subscribe'], sources: ['public', 'admin', 'system'] });
		// The registered URL carries a random token; only deliveries with it start the workflow.
		expect(String(hooks[0].url)).toMatch(/^http:\/\/localhost:5678\/webhook\/test-workflow\/w1\/webhook\?token=[0-9a-f]{48}$/);
		const token = new URL(String(hooks[0].url)).searchParams.get('token')!;
		expect(await t.hook(instant, 'checkExists', 'w1')).toBe(true);

		// A change through the API (this sync's own kind) is not delivered; a change by a user is.
		await t.run({ resource: 'contact', operation: 'upsert', dataMode: 'fields', email: 'jonas.berg@northwind.com', additionalFields: { lastName: 'Berg (API)' } });
		await editContact('jonas.berg@northwind.com', { lastName: 'Berg (UI)' });
		const deliveries = (await t.control<{ deliveries: Array<{ type: string; source: string; body: string }> }>('GET', '/state/webhookDeliveries?wait=1')).deliveries;
		expect(deliveries.map((d) => [d.type, d.source])).toEqual([['update', 'admin']]);

		// The delivered urlencoded body, handed to the trigger as n8n would.
		const refused: { status?: number; body?: unknown } = {};
		expect(await t.webhook(instant, deliveries[0].body, 'w1', {}, refused)).toBeUndefined();
		expect(refused).toEqual({ status: 403, body: { ok: false, error: 'Not the ActiveCampaign webhook this trigger registered (its token is missing or wrong)' } });
		expect(await t.webhook(instant, deliveries[0].body, 'w1', { token: 'f'.repeat(48) })).toBeUndefined();
		const out = await t.webhook(instant, deliveries[0].body, 'w1', { token });
		expect(out).toHaveLength(1);
		expect(out![0]).toMatchObject({ type: 'update', initiated_from: 'admin', contact: { id: '5', email: 'jonas.berg@northwind.com', last_name: 'Berg (UI)' } });
		expect(((out![0].contact as IDataObject).fields as IDataObject).lead_source).toBe('Dynamics 365');
		// A delivery from a source that is not selected (a hook edited by hand) starts nothing.
		expect(await t.webhook(instant, deliveries[0].body.replace('initiated_from=admin', 'initiated_from=api'), 'w1', { token })).toBeUndefined();

		expect(await t.hook(instant, 'delete', 'w1')).toBe(true);
		expect((await t.control<{ webhooks: IDataObject[] }>('GET', '/state/webhooks')).webhooks).toHaveLength(0);
		expect(await t.hook(instant, 'checkExists', 'w1')).toBe(false);
	});

	it('a hook removed in ActiveCampaign is re-created; deleting it again is fine; other failures are not swallowed', async () => {
		expect(await t.hook(instant, 'create', 'w2')).toBe(true);
		const [hook] = (await t.control<{ webhooks: IDataObject[] }>('GET', '/state/webhooks')).webhooks;
		await fetch(`${t.url}/api/3/webhooks/${hook.id}`, { method: 'DELETE', headers: { 'Api-Token': 'sandbox-key' } });
		expect(await t.hook(instant, 'checkExists', 'w2')).toBe(false);
		expect(await t.hook(instant, 'create', 'w2')).toBe(true);
		expect(await t.hook(instant, 'delete', 'w2')).toBe(true);

		t.harness.setCredentials('activeCampaignSyncApi', { apiUrl: t.url, apiKey: 'revoked-key' });
		try {
			await expect(t.hook(instant, 'create', 'w3')).rejects.toThrow('Forbidden');
		} finally {
			t.harness.setCredentials('activeCampaignSyncApi', { apiUrl: t.url, apiKey: 'sandbox-key' });
		}
	});
});
