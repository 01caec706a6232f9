/* eslint-disable no-console -- not shipped: a test that prints what it measured */
/**
 * Global Sync (the switch in the Dynamics 365 credential) through the templates: the guide's "off" pauses Dynamics →
 * ActiveCampaign while ActiveCampaign → Dynamics goes on; "pause both ways" reads and writes nothing; the first cycle
 * once it is on is the initial sync (its Get Changes start with everything), and the next cycle writes nothing. The
 * report says what was paused.
 */
import type { IDataObject, IRun } from 'n8n-workflow';

import type { SyncReport } from '../../../nodes/shared/report';
import { D365_CREDENTIAL } from '../../model/world';
import { GLOBAL_SYNC_NODE, templates } from '../../../scripts/build-templates';
import { SANDBOX_CREDENTIALS } from '../../sandbox';
import { demoWorld } from './demo-world';

jest.setTimeout(240_000);

const world = demoWorld();
const control = world.control;

const template = (file: string) =>
	JSON.parse(JSON.stringify(templates().find((w) => w.file === file)!.toJSON())) as { nodes: Array<{ name: string; parameters: unknown }> & never[]; connections: never };

function switchTo(globalSync: string): void {
	const url = world.sandbox.d365.url;
	world.harness.setCredentials(D365_CREDENTIAL, {
		environmentUrl: url,
		authorityHost: url,
		tenantId: SANDBOX_CREDENTIALS.d365TenantId,
		clientId: SANDBOX_CREDENTIALS.d365ClientId,
		clientSecret: SANDBOX_CREDENTIALS.d365ClientSecret,
		globalSync,
	});
}
afterAll(() => switchTo('on'));

async function resetStats(): Promise<void> {
	await control('ac', 'POST', '/stats/reset');
	await control('d365', 'POST', '/stats/reset');
}

/** Requests and write requests each API answered since the last reset (Dataverse's token endpoint is n8n's). */
async function traffic(): Promise<{ ac: number; d365: number; acWrites: number; d365Writes: number }> {
	const of = async (side: 'ac' | 'd365') => {
		const stats = await control<{ routes: Record<string, { count: number }> }>(side, 'GET', '/stats');
		const routes = Object.entries(stats.routes).filter(([route]) => !/oauth2/.test(route));
		const sum = (list: typeof routes) => list.reduce((n, [, entry]) => n + entry.count, 0);
		return { all: sum(routes), writes: sum(routes.filter(([route]) => /^(POST|PUT|PATCH|DELETE) /.test(route) && !/\(reads\)$/.test(route))) };
	};
	const ac = await of('ac');
	const d365 = await of('d365');
	return { ac: ac.all, d365: d365.all, acWrites: ac.writes, d365Writes: d365.writes };
}

function reportOf(run: IRun): SyncReport {
	const [ok, attention] = run.data.resultData.runData['Sync report'][0].data!.main;
	return (ok?.length ? ok : attention)![0].json as SyncReport;
}

const acHas = async (email: string) => (await control<{ contacts: IDataObject[] }>('ac', 'GET', `/state/contacts?email=${encodeURIComponent(email)}`)).contacts.length > 0;
const d365Leads = async () => (await control<{ value: IDataObject[] }>('d365', 'GET', '/state/leads?top=5000')).value;

describe('Global Sync in the Scheduled Sync', () => {
	const scheduled = template('scheduled-sync.json');
	const cycle = async () => await world.harness.runFrom(scheduled.nodes, scheduled.connections, 'Every hour', [{}], 'trigger');
	const tick = () => {
		world.sandbox.ac.server.clock.advance(2000);
		world.sandbox.d365.server.clock.advance(2000);
	};

	it('"off" (pause Dynamics → ActiveCampaign) from the start: ActiveCampaign → Dynamics syncs; switched on, the first cycle brings Dynamics over (the initial sync) and the next one writes nothing', async () => {
		await world.reset();
		switchTo('pauseToActiveCampaign');
		// Neither synced yet: a Dynamics contact, and an ActiveCampaign contact tagged as a lead.
		await control('d365', 'POST', '/ui/contacts', { firstname: 'Dyna', lastname: 'Waiting', emailaddress1: 'dyna.waiting@example.org' });
		await control('ac', 'POST', '/ui/contacts', { email: 'ac.flowing@example.org', firstName: 'Ac', lastName: 'Flowing', tags: ['[D365: Lead]'] });
		tick();

		const paused = await cycle();
		expect(paused.data.resultData.error).toBeUndefined();
		expect(paused.data.resultData.runData[GLOBAL_SYNC_NODE][0].data!.main[0]![0].json).toMatchObject({ globalSync: 'pauseToActiveCampaign', dynamicsToActiveCampaign: false, activeCampaignToDynamics: true });
		// Nothing read from Dynamics (its Get Changes did not run), so nothing of it reached ActiveCampaign…
		for (const entity of ['account', 'contact', 'lead']) expect(paused.data.resultData.runData[`Dynamics ${entity} changes`]).toBeUndefined();
		expect(paused.data.resultData.runData['Dynamics → ActiveCampaign paused']).toHaveLength(1);
		expect(await acHas('dyna.waiting@example.org')).toBe(false);
		// …while ActiveCampaign's side went to Dynamics.
		expect((await d365Leads()).some((l) => l.emailaddress1 === 'ac.flowing@example.org')).toBe(true);
		const report = reportOf(paused);
		expect(report.paused).toEqual(['toActiveCampaign']);
		expect(report.summary).toMatch(/ Paused by Global Sync: Dynamics → ActiveCampaign\.$/);

		tick();
		switchTo('on');
		const first = await cycle();
		expect(first.data.resultData.error).toBeUndefined();
		expect(await acHas('dyna.waiting@example.org')).toBe(true);
		// Everything Dynamics had (the demo's contacts too), not only what changed during the pause.
		expect(await acHas('maria.garcia@contoso.com')).toBe(true);
		expect(reportOf(first).paused).toBeUndefined();
		const created = reportOf(first).entities.filter((t) => t.direction === 'toActiveCampaign').reduce((n, t) => n + t.created, 0);
		console.log(`[measure] first cycle after switch-on: ${created} records created in ActiveCampaign`);
		expect(created).toBeGreaterThan(1);

		// Once: the next cycles read only changes, and there are none.
		for (let i = 0; i < 2; i++) {
			tick();
			await resetStats();
			const next = await cycle();
			expect(next.data.resultData.error).toBeUndefined();
			const after = await traffic();
			console.log(`[measure] cycle ${i + 2} after switch-on: ${JSON.stringify(after)}`);
			expect([after.acWrites, after.d365Writes]).toEqual([0, 0]);
		}
	});

	it('"pause both ways": nothing is read or written on either side, the report says so; on again, a change made meanwhile goes over', async () => {
		await world.reset();
		await cycle();
		tick();
		switchTo('pauseBothWays');
		await control('ac', 'POST', '/ui/contacts', { email: 'made.while.paused@example.org', firstName: 'Made', lastName: 'Paused', tags: ['[D365: Lead]'] });
		tick();
		await resetStats();
		const paused = await cycle();
		expect(paused.data.resultData.error).toBeUndefined();
		expect(await traffic()).toEqual({ ac: 0, d365: 0, acWrites: 0, d365Writes: 0 });
		expect(paused.data.resultData.runData['ActiveCampaign contact changes']).toBeUndefined();
		expect(paused.data.resultData.runData['ActiveCampaign → Dynamics paused']).toHaveLength(1);
		expect(reportOf(paused).paused).toEqual(['toActiveCampaign', 'toDynamics']);
		expect(reportOf(paused).summary).toMatch(/ Paused by Global Sync: Dynamics → ActiveCampaign and ActiveCampaign → Dynamics\.$/);

		switchTo('on');
		tick();
		await cycle();
		expect((await d365Leads()).some((l) => l.emailaddress1 === 'made.while.paused@example.org')).toBe(true);
	});
});

describe('Global Sync in the other templates', () => {
	it('Marketing Activities reads nothing while both ways are paused', async () => {
		await world.reset();
		switchTo('pauseBothWays');
		await resetStats();
		const t = template('marketing-activities.json');
		const run = await world.harness.runFrom(t.nodes, t.connections, 'Run now', [{}], 'trigger');
		expect(run.data.resultData.error).toBeUndefined();
		expect(await traffic()).toEqual({ ac: 0, d365: 0, acWrites: 0, d365Writes: 0 });
		expect(run.data.resultData.runData['Paused: nothing synced']).toHaveLength(1);
		expect(reportOf(run).paused).toEqual(['toActiveCampaign', 'toDynamics']);
	});

	it('the Initial Sync runs only while Global Sync is on, and its report says why it did nothing', async () => {
		await world.reset();
		switchTo('pauseToActiveCampaign');
		await resetStats();
		const t = template('initial-sync.json');
		const run = await world.harness.runFrom(t.nodes, t.connections, 'Run now', [{}], 'trigger');
		expect(run.data.resultData.error).toBeUndefined();
		expect(await traffic()).toEqual({ ac: 0, d365: 0, acWrites: 0, d365Writes: 0 });
		expect(run.data.resultData.runData['Paused: nothing synced']).toHaveLength(1);
		expect(reportOf(run).summary).toMatch(/Paused by Global Sync: Dynamics → ActiveCampaign\.$/);
	});
});
