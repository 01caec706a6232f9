/**
 * The Sync report at the end of the Initial Sync and the Scheduled Sync counts what the sandboxes saw: the requests
 * each API received in the execution, the records created on each side, and — with a failure injected — the failed
 * records, the retries they wait for, the report on the Needs Attention output, and the run failed with its summary
 * (for the error workflow) unless Settings says otherwise.
 */
import type { IDataObject, IRun } from 'n8n-workflow';

import type { SyncReport } from '../../../nodes/shared/report';
import { ALERT_NODE, FAIL_RUN_NODE, FAIL_RUN_ON_ALERT, FAILED_RECORDS_NODE, REPORT_PAGE_NODE, SETTINGS_NODE, templates } from '../../../scripts/build-templates';
import { demoWorld } from './demo-world';

jest.setTimeout(240_000);

const world = demoWorld();
const control = world.control;

const template = (file: string) =>
	JSON.parse(JSON.stringify(templates().find((w) => w.file === file)!.toJSON())) as { nodes: Array<{ name: string; parameters: unknown }> & never[]; connections: never };

/** API requests each sandbox answered since its stats were reset (Dataverse's token endpoint is n8n's, not the nodes'). */
async function requests(): Promise<{ activeCampaign: number; dynamics: number }> {
	const count = async (side: 'ac' | 'd365') => {
		const stats = await control<{ routes: Record<string, { count: number }> }>(side, 'GET', '/stats');
		return Object.entries(stats.routes)
			.filter(([route]) => !/oauth2/.test(route))
			.reduce((n, [, entry]) => n + entry.count, 0);
	};
	return { activeCampaign: await count('ac'), dynamics: await count('d365') };
}

interface Counts {
	acContacts: number;
	acEmails: Set<string>;
	acAccounts: number;
	d365Contacts: number;
	d365Leads: number;
	d365Accounts: number;
}

async function counts(): Promise<Counts> {
	const d365 = async (set: string) => (await control<{ value: unknown[] }>('d365', 'GET', `/state/${set}?top=5000`)).value.length;
	const ac = await control<{ contacts: IDataObject[] }>('ac', 'GET', '/state/contacts?limit=5000');
	const accounts = await control<{ accounts: unknown[] }>('ac', 'GET', '/state/accounts');
	return {
		acContacts: ac.contacts.length,
		acEmails: new Set(ac.contacts.map((c) => String(c.email).toLowerCase())),
		acAccounts: accounts.accounts.length,
		d365Contacts: await d365('contacts'),
		d365Leads: await d365('leads'),
		d365Accounts: await d365('accounts'),
	};
}

/** The run's report; a run whose report went to Needs Attention ends failed (Settings: failRunOnAlert) with its summary. */
function reportOf(run: IRun): { report: SyncReport; output: 'Report' | 'Needs Attention'; html: string } {
	const [task] = run.data.resultData.runData['Sync report'];
	const [ok, attention] = task.data!.main;
	const item = (ok?.length ? ok : attention)![0];
	const html = Buffer.from(String(item.binary!.report.data), 'base64').toString('utf8');
	expect(run.data.resultData.error?.message).toBe(ok?.length ? undefined : (item.json as SyncReport).summary);
	// The page is shown before the run fails.
	expect(run.data.resultData.runData[REPORT_PAGE_NODE][0].data!.main[0]![0].json.html).toBe(html);
	return { report: item.json as SyncReport, output: ok?.length ? 'Report' : 'Needs Attention', html };
}

const tally = (report: SyncReport, entity: string, direction: string) =>
	report.entities.find((t) => t.entity === entity && t.direction === direction) ?? { created: 0, updated: 0, imported: 0, failed: 0, retriesPending: 0, skipped: {} };

describe('Sync report', () => {
	it('Initial Sync: its requests and created records are what the sandboxes counted', async () => {
		await world.reset();
		const before = await counts();
		await control('ac', 'POST', '/stats/reset');
		await control('d365', 'POST', '/stats/reset');

		const t = template('initial-sync.json');
		const run = await world.harness.runFrom(t.nodes, t.connections, 'Run now', [{}], 'trigger');
		const { report, output, html } = reportOf(run);
		const after = await counts();

		expect(report.requests).toEqual(await requests());
		expect(output).toBe('Report');
		expect(report.needsAttention).toBe(false);
		expect(report.totals.failed).toBe(0);
		// Created on ActiveCampaign: accounts, and contacts from Dynamics contacts and leads.
		expect(tally(report, 'account', 'toActiveCampaign').created).toBe(after.acAccounts - before.acAccounts);
		// Contacts and leads go through the bulk import, which does not say whether it created a contact or updated it:
		// the report counts them as imported, and those whose email ActiveCampaign did not have are the new contacts.
		const toAc = (key: 'created' | 'imported') => tally(report, 'contact', 'toActiveCampaign')[key] + tally(report, 'lead', 'toActiveCampaign')[key];
		const importedEmails = ['Write contacts to ActiveCampaign', 'Write leads to ActiveCampaign'].flatMap((node) =>
			run.data.resultData.runData[node][0].data!.main[0]!.filter((i) => i.json.operation === 'imported').map((i) => String(i.json.email).toLowerCase()),
		);
		expect(toAc('imported')).toBe(importedEmails.length);
		expect(toAc('created') + importedEmails.filter((e) => !before.acEmails.has(e)).length).toBe(after.acContacts - before.acContacts);
		expect(tally(report, 'account', 'toDynamics').created).toBe(after.d365Accounts - before.d365Accounts);
		expect(tally(report, 'contact', 'toDynamics').created).toBe(after.d365Contacts - before.d365Contacts);
		expect(tally(report, 'lead', 'toDynamics').created).toBe(after.d365Leads - before.d365Leads);
		expect(report.totals.created).toBeGreaterThan(0);
		expect(html).toContain(`${report.requests.dynamics} Dynamics requests`);
	});

	it('Scheduled Sync with Dynamics failing every contact write: failures and pending retries, on Needs Attention', async () => {
		await world.reset();
		const initial = template('initial-sync.json');
		await world.harness.runFrom(initial.nodes, initial.connections, 'Run now', [{}], 'trigger');
		const scheduled = template('scheduled-sync.json');
		await world.harness.runFrom(scheduled.nodes, scheduled.connections, 'Every hour', [{}], 'trigger');
		// Edits on ActiveCampaign for the next cycle to carry to Dynamics.
		const { contacts } = await control<{ contacts: IDataObject[] }>('ac', 'GET', '/state/contacts?limit=3');
		for (const [i, contact] of contacts.entries()) await control('ac', 'PATCH', `/ui/contacts/${String(contact.id)}`, { phone: `+1 555 01${i}` });
		world.sandbox.ac.server.clock.advance(2000);
		world.sandbox.d365.server.clock.advance(2000);
		await control('d365', 'PUT', '/faults', { rate5xx: 1, routePattern: '^(PATCH|POST) .*(contacts|leads|\\$batch)', retryAfterSeconds: 0 });
		await control('ac', 'POST', '/stats/reset');
		await control('d365', 'POST', '/stats/reset');

		const run = await world.harness.runFrom(scheduled.nodes, scheduled.connections, 'Every hour', [{}], 'trigger');
		const { report, output } = reportOf(run);
		await control('d365', 'DELETE', '/faults');
		// Every item on an error output of this run, each step's once.
		const errorItems = Object.values(run.data.resultData.runData)
			.flatMap((tasks) => tasks.flatMap((task) => task.data?.main[1] ?? []))
			.filter((item) => item.json.error !== undefined);
		expect(report.totals.failed).toBe(errorItems.length);

		expect(report.requests).toEqual(await requests());
		const failed = tally(report, 'contact', 'toDynamics').failed + tally(report, 'lead', 'toDynamics').failed;
		expect(failed).toBeGreaterThan(0);
		expect(report.totals.failed).toBe(failed);
		expect(report.totals.retriesPending).toBeGreaterThan(0);
		expect(report.needsAttention).toBe(true);
		expect(output).toBe('Needs Attention');
		// Failed by the last step, with the summary n8n hands to the error workflow; every failed record in one place.
		expect(run.data.resultData.lastNodeExecuted).toBe(FAIL_RUN_NODE);
		expect(report.summary).toMatch(/^Needs attention: \d+ failed \(.*Contacts → Dynamics \d+.*\)\./);
		expect(run.data.resultData.runData[FAILED_RECORDS_NODE].flatMap((t) => t.data!.main[0]!)).toHaveLength(errorItems.length);
		// The error workflow gets what n8n hands it (execute-error-workflow.ts: execution and workflow) and says it in one line.
		const alerts = template('sync-alerts.json');
		const failure = {
			execution: { id: '42', url: 'http://localhost:5678/workflow/acd365ScheduledSync/executions/42', error: { message: run.data.resultData.error!.message }, lastNodeExecuted: FAIL_RUN_NODE, mode: 'trigger' },
			workflow: { id: 'acd365ScheduledSync', name: 'AC ⇄ D365: Scheduled Sync' },
		};
		const alerted = await world.harness.runFrom(alerts.nodes, alerts.connections, 'When a sync run fails', [failure], 'error');
		const [message] = alerted.data.resultData.runData[ALERT_NODE][0].data!.main[0]!;
		expect(message.json).toMatchObject({ workflow: 'AC ⇄ D365: Scheduled Sync', message: report.summary, failedStep: FAIL_RUN_NODE, executionUrl: failure.execution.url });
		expect(message.json.text).toBe(`Sync run of "AC ⇄ D365: Scheduled Sync" failed at "${FAIL_RUN_NODE}": ${report.summary} ${failure.execution.url}`);

		// With the switch off, the same report only goes to the alert step and the run succeeds.
		await world.reset();
		const relaxed = template('scheduled-sync.json');
		const settings = relaxed.nodes.find((n) => n.name === SETTINGS_NODE)!;
		settings.parameters = JSON.parse(JSON.stringify(settings.parameters).replace(`"name":"${FAIL_RUN_ON_ALERT}","value":true`, `"name":"${FAIL_RUN_ON_ALERT}","value":false`));
		await world.harness.runFrom(initial.nodes, initial.connections, 'Run now', [{}], 'trigger');
		await world.harness.runFrom(relaxed.nodes, relaxed.connections, 'Every hour', [{}], 'trigger');
		for (const [i, contact] of contacts.entries()) await control('ac', 'PATCH', `/ui/contacts/${String(contact.id)}`, { phone: `+1 555 02${i}` });
		world.sandbox.ac.server.clock.advance(2000);
		world.sandbox.d365.server.clock.advance(2000);
		await control('d365', 'PUT', '/faults', { rate5xx: 1, routePattern: '^(PATCH|POST) .*(contacts|leads|\\$batch)', retryAfterSeconds: 0 });
		const quiet = await world.harness.runFrom(relaxed.nodes, relaxed.connections, 'Every hour', [{}], 'trigger');
		await control('d365', 'DELETE', '/faults');
		expect(quiet.data.resultData.error).toBeUndefined();
		expect(quiet.data.resultData.runData[ALERT_NODE]).toHaveLength(1);
		expect(quiet.data.resultData.runData[FAIL_RUN_NODE]).toBeUndefined();
	});
});
