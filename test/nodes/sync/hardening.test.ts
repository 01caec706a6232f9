/**
 * Findings of the adversarial probe (issue "Hardening") that need the whole Scheduled Sync template, run in n8n-core's
 * engine against the sandbox: a job title Dynamics holds and ActiveCampaign cannot is never erased, and a table the
 * application user may not read fails its own steps only.
 */
import type { IDataObject } from 'n8n-workflow';

import { SANDBOX_CREDENTIALS } from '../../sandbox';
import { loadTemplate, runError, scheduledSync, startWorld, type World } from '../../model/world';

let world: World;
beforeAll(async () => {
	world = await startWorld();
});
afterAll(async () => await world.close());
beforeEach(async () => await world.reset());

const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' });

async function cycle() {
	const [run] = await world.runCycle(workflow);
	expect(runError(run)).toBeUndefined();
	world.tick(2);
	return run;
}

const outputOf = (run: Awaited<ReturnType<typeof cycle>>, node: string, index: number) =>
	(run.data.resultData.runData[node]?.[0]?.data?.main?.[index] ?? []).map((item) => item.json);

it('1. a job title set in Dynamics on a contact without an account is kept (ActiveCampaign cannot hold it)', async () => {
	await cycle();
	const row = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', { firstname: 'Jo', lastname: 'Title', emailaddress1: 'jo.title@example.org' });
	world.tick(2);
	await cycle();
	await world.must('d365', 'PATCH', `/ui/contacts/${String(row.contactid)}`, { jobtitle: 'Head of Sales' });
	world.tick(2);
	const run = await cycle();
	await cycle();
	await cycle();
	const after = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(row.contactid)}`);
	expect(after.jobtitle).toBe('Head of Sales');
	// The Dynamics → ActiveCampaign step says why the job title is not in ActiveCampaign.
	const written = outputOf(run, 'Write contacts to ActiveCampaign', 0).concat(outputOf(run, 'Write contacts to ActiveCampaign', 1));
	expect(JSON.stringify(written)).toMatch(/job title on the account link/);
});

it('7. without the privilege to read leads, the lead steps fail alone: a contact change from ActiveCampaign is written in the same cycle', async () => {
	await cycle();
	const row = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', { firstname: 'Pri', lastname: 'Vilege', emailaddress1: 'pri.vilege@example.org' });
	world.tick(2);
	await cycle();
	await world.must('d365', 'PATCH', `/clients/${SANDBOX_CREDENTIALS.d365ClientId}`, { deniedPrivileges: ['prvReadLead'] });
	try {
		await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('pri.vilege@example.org')}`, { firstName: 'Priya' });
		world.tick(2);
		const run = await cycle();
		expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(row.contactid)}`)).firstname).toBe('Priya');
		// The lead read reports on its error output, with Dynamics' reason.
		const errors = outputOf(run, 'Dynamics lead changes', 1);
		expect(errors).toHaveLength(1);
		expect(JSON.stringify(errors[0])).toMatch(/prvReadLead/);
	} finally {
		await world.must('d365', 'PATCH', `/clients/${SANDBOX_CREDENTIALS.d365ClientId}`, { deniedPrivileges: [] });
	}
});

it('2. a read request that fails seven times in a row does not end the ActiveCampaign read (reads get a longer budget than writes)', async () => {
	await world.must('ac', 'POST', '/seed', { contacts: 30 });
	const template = loadTemplate('initial-sync.json');
	// The first page of contacts is throttled seven times in a row (a write gives up after six attempts).
	await world.must('ac', 'PUT', '/faults', { rate429: 1, retryAfterSeconds: 0, routePattern: '^GET /api/3/contacts$', maxFaults: 7, seed: 1 });
	const run = await world.harness.runFrom(template.nodes as never, template.connections as never, 'Read ActiveCampaign contacts', [{}], 'trigger');
	await world.must('ac', 'DELETE', '/faults');
	expect(runError(run)).toBeUndefined();
	const stats = await world.must<{ routes: Record<string, { byStatus: Record<string, number> }> }>('ac', 'GET', '/stats');
	expect(stats.routes['GET /api/3/contacts'].byStatus['429']).toBe(7);
	const leads = (await world.must<{ value: IDataObject[] }>('d365', 'GET', '/state/leads?top=5000')).value;
	expect(leads.length).toBeGreaterThanOrEqual(30);
});
