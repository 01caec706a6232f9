/**
 * Global Sync, the switch in the Dynamics 365 credential (nodes/shared/sync/globalSync.ts): Get Status says it without
 * a request; while Dynamics → ActiveCampaign is paused, Get Changes and the trigger read nothing and keep their cursors,
 * and switched on again they return everything that changed meanwhile; a Get Changes that never ran while on starts
 * with everything since its Start From (the initial sync of the Scheduled Sync's first cycle).
 */
import type { IDataObject } from 'n8n-workflow';

import { CRED, credentialsFor, jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

function switchTo(globalSync: string | undefined): void {
	t.harness.setCredentials(CRED, credentialsFor(t.url, globalSync === undefined ? {} : { globalSync }));
}
afterEach(() => switchTo(undefined));

const status = { resource: 'globalSync', operation: 'getStatus' };

describe('Get Status', () => {
	it.each([
		[undefined, 'on', true, true],
		['on', 'on', true, true],
		['pauseToActiveCampaign', 'pauseToActiveCampaign', false, true],
		['pauseBothWays', 'pauseBothWays', false, false],
	])('credential %s → %s (to ActiveCampaign %s, to Dynamics %s), one item per input item, no request', async (value, mode, toAc, toD365) => {
		switchTo(value);
		await t.resetStats();
		const items = jsonOf(await t.run(status, [{}, {}]));
		expect(items).toHaveLength(2);
		expect(items[0]).toMatchObject({ globalSync: mode, dynamicsToActiveCampaign: toAc, activeCampaignToDynamics: toD365 });
		expect(String(items[0].summary)).toMatch(/^Global Sync is (on|off)/);
		expect((await t.stats()).total).toBe(0);
	});

	it('a value that is not one of the three is an error that says where to fix it, never a guess', async () => {
		switchTo('paused');
		const { error } = await t.run(status);
		expect(error?.message).toMatch(/Global Sync "paused" is not one of on, pauseToActiveCampaign, pauseBothWays: set it in the Dynamics 365 credential/);
	});
});

describe('Get Changes while Dynamics → ActiveCampaign is paused', () => {
	const params = { resource: 'contact', operation: 'getChanges', options: {} };
	const ids = (items: IDataObject[]) => items.map((c) => String(c.id)).sort();

	it.each(['pauseToActiveCampaign', 'pauseBothWays'])('%s: reads nothing, keeps the cursor; on again, returns what changed meanwhile', async (paused) => {
		const name = `Changes ${paused}`;
		expect(jsonOf(await t.runPersistent(params, [{}], { name }))).toEqual([]);
		switchTo(paused);
		const created = await t.control<IDataObject>('POST', '/ui/contacts', { firstname: 'Paused', lastname: paused, emailaddress1: `${paused}@example.org` });
		await t.resetStats();
		expect(jsonOf(await t.runPersistent(params, [{}], { name }))).toEqual([]);
		expect(jsonOf(await t.runPersistent(params, [{}], { name }))).toEqual([]);
		expect((await t.stats()).total).toBe(0);
		switchTo('on');
		// (The cursor started in the second of the previous test's contact, which it may return too.)
		expect(ids(jsonOf(await t.runPersistent(params, [{}], { name })))).toContain(String(created.contactid));
		expect(jsonOf(await t.runPersistent(params, [{}], { name }))).toEqual([]);
	});

	it('a step that never ran while on starts, once switched on, with everything since its Start From (the initial sync), then only changes', async () => {
		const name = 'Changes from the start';
		const initial = { ...params, options: { startFrom: '2000-01-01T00:00:00Z' } };
		switchTo('pauseToActiveCampaign');
		expect(jsonOf(await t.runPersistent(initial, [{}], { name }))).toEqual([]);
		switchTo('on');
		const everything = jsonOf(await t.runPersistent(initial, [{}], { name }));
		const contacts = (await t.control<{ value: IDataObject[] }>('GET', '/state/contacts?top=5000')).value;
		// Every contact but those this connection's own user wrote last (the echo guard): here, none of the demo's.
		const ownWrites = contacts.filter((c) => everything.every((e) => e.id !== c.contactid));
		expect(everything.length).toBeGreaterThan(0);
		expect(everything.length + ownWrites.length).toBe(contacts.length);
		expect(jsonOf(await t.runPersistent(initial, [{}], { name }))).toEqual([]);
	});
});

describe('Dynamics 365 Trigger while Dynamics → ActiveCampaign is paused', () => {
	const events = { events: ['lead.created', 'lead.updated'], mode: 'watermark', options: {} };

	it('emits nothing and keeps its cursor; on again, emits what changed meanwhile; "Fetch Test Event" says why it has nothing', async () => {
		const name = 'Paused trigger';
		expect(await t.poll(events, 'trigger', name)).toBeNull();
		switchTo('pauseToActiveCampaign');
		const created = await t.control<IDataObject>('POST', '/ui/leads', { firstname: 'Held', lastname: 'Back', subject: 'Paused', emailaddress1: 'held.back@example.org' });
		await t.resetStats();
		expect(await t.poll(events, 'trigger', name)).toBeNull();
		expect((await t.stats()).total).toBe(0);
		await expect(t.poll(events, 'manual', name)).rejects.toThrow(/Global Sync is off: Dynamics → ActiveCampaign is paused/);
		switchTo('on');
		const items = await t.poll(events, 'trigger', name);
		expect((items ?? []).map((i) => `${String(i.id)}:${String(i.event)}`)).toEqual([`${String(created.leadid)}:created`]);
	});
});
