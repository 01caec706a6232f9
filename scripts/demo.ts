/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, @n8n/community-nodes/no-dangerous-functions, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * npm run demo — the whole thing on one machine, without accounts: builds the package, starts the sandbox (local
 * ActiveCampaign and Dynamics 365 with sample data), installs a real n8n with the package and the templates, runs the
 * Initial Sync and one Scheduled Sync cycle, prints what happened, and leaves n8n's editor running until Ctrl-C.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

import type { SyncReport } from '../nodes/shared/report';
import type { ExecutionResult, N8nInstance } from '../test/e2e/n8n';
import { OWNER } from '../test/e2e/n8n';
import { PROJECT_ROOT, RUNTIME_ROOT } from '../test/e2e/runtime';
import { PINNED } from '../test/e2e/versions';
import { newWebhookSecrets, SANDBOX_SALES_USER, setupN8n, WORKFLOW_IDS } from '../test/e2e/setup';
import { startSandbox, type Sandbox } from '../test/sandbox';
import { live, settle, say, stepLog, type Detail } from './progress';

type Json = Record<string, unknown>;

const EDITOR_PORT = Number(process.env.N8N_DEMO_PORT ?? 5678);
const AC_PORT = Number(process.env.AC_SANDBOX_PORT ?? 4010);
const D365_PORT = Number(process.env.D365_SANDBOX_PORT ?? 4020);

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const step = say;

/** An installed n8n 2.40.7 with Node 24 takes about 2,800 MB; the install's size so far says how far it is. */
const INSTALLED_MB = 2800;

/** The size of a folder in MB (du), measured at most every 5 seconds. */
function folderSize(dir: string, expectedMb?: number): Detail {
	let last: string | undefined;
	let at = 0;
	return async () => {
		if (Date.now() - at < 5000) return last;
		at = Date.now();
		const mb = await new Promise<number | undefined>((resolve) =>
			execFile('du', ['-sm', dir], (error, stdout) => resolve(error ? undefined : Number(stdout.split(/\s/)[0]))),
		);
		if (mb === undefined || Number.isNaN(mb)) return last;
		last = expectedMb
			? `${mb.toLocaleString('en')} MB of about ${expectedMb.toLocaleString('en')} MB (${Math.min(99, Math.round((100 * mb) / expectedMb))}%)`
			: `${mb.toLocaleString('en')} MB`;
		return last;
	};
}

/** What each set-up step can show of its progress. */
function setupDetail(message: string): Detail | undefined {
	if (/^Installing n8n /.test(message)) return folderSize(path.join(RUNTIME_ROOT, PINNED.n8n), INSTALLED_MB);
	if (/^Installing Node /.test(message)) return folderSize(path.join(RUNTIME_ROOT, PINNED.n8n));
	return undefined;
}

async function portFree(port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

async function control<T = Json>(sandbox: Sandbox, side: 'ac' | 'd365', method: string, route: string, body?: unknown): Promise<T> {
	const url = side === 'ac' ? sandbox.ac.url : sandbox.d365.url;
	const res = await fetch(`${url}/__sandbox${route}`, {
		method,
		headers: { 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return (await res.json()) as T;
}

interface Usage {
	total: number;
	writes: number;
	throttled: number;
	/** Sign-in requests (n8n's, to the token endpoint). */
	signIns: number;
}

async function usage(sandbox: Sandbox, side: 'ac' | 'd365'): Promise<Usage> {
	const stats = await control<{ total: number; byStatus: Record<string, number>; routes: Record<string, { count: number }> }>(
		sandbox,
		side,
		'GET',
		'/stats',
	);
	let writes = 0;
	let signIns = 0;
	for (const [route, entry] of Object.entries(stats.routes)) {
		if (/oauth2/.test(route)) signIns += entry.count;
		else if (/^(POST|PUT|PATCH|DELETE) /.test(route) && !/\(reads\)$/.test(route)) writes += entry.count;
	}
	return { total: stats.total, writes, throttled: (stats.byStatus['429'] ?? 0) + (stats.byStatus['503'] ?? 0), signIns };
}

/** Shows the sandbox's request counters on one live line while a CLI execution runs (n8n prints nothing until it ends). */
async function withProgress<T>(sandbox: Sandbox, label: string, work: () => Promise<T>): Promise<T> {
	return await live(label, work, async () => {
		const [ac, d365] = await Promise.all([usage(sandbox, 'ac'), usage(sandbox, 'd365')]);
		return `ActiveCampaign ${ac.total} requests (${ac.writes} writes), Dynamics ${d365.total} requests (${d365.writes} writes)`;
	});
}

/** The Sync report's item of an execution (on Report, or on Needs Attention when something failed). */
function syncReport(result: ExecutionResult): SyncReport {
	const [item] = [...result.items('Sync report', 0), ...result.items('Sync report', 1)];
	if (!item) throw new Error('The execution has no Sync report');
	return item as unknown as SyncReport;
}

const DIRECTIONS: Record<string, string> = { toActiveCampaign: 'Dynamics → ActiveCampaign', toDynamics: 'ActiveCampaign → Dynamics' };

/** The workflow's own Sync report as a table, with the sandboxes' request counters beside its figures. */
function printReport(title: string, report: SyncReport, ac: Usage, d365: Usage) {
	console.log(`\n${bold(title)}`);
	const header = ['Entity', 'Direction', 'Created', 'Updated', 'Imported', 'Deleted', 'Skipped', 'Conflicts', 'Failed'];
	const lines = report.entities.map((t) => [
		t.entity,
		DIRECTIONS[t.direction] ?? t.direction,
		...[t.created, t.updated, t.imported, t.deleted, Object.values(t.skipped).reduce((n, c) => n + c, 0), t.conflicts, t.failed].map(String),
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
	const fmt = (cells: string[]) => `  ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
	console.log(fmt(header));
	console.log(`  ${widths.map((w) => '─'.repeat(w)).join('  ')}`);
	for (const line of lines) console.log(fmt(line));
	const reasons: Record<string, number> = {};
	for (const t of report.entities) for (const [reason, n] of Object.entries(t.skipped)) reasons[reason] = (reasons[reason] ?? 0) + n;
	if (Object.keys(reasons).length) {
		console.log(dim('  Skipped because:'));
		for (const [reason, n] of Object.entries(reasons).sort((a, b) => b[1] - a[1])) console.log(dim(`    ${String(n).padStart(3)} × ${reason}`));
	}
	console.log(dim('  Imported: through ActiveCampaign\'s bulk import, which creates or updates a contact without saying which.'));
	console.log(
		`  Requests: ActiveCampaign ${report.requests.activeCampaign} (${ac.writes} writes, ${ac.throttled} throttled and retried), ` +
			`Dynamics 365 ${report.requests.dynamics} (${d365.writes} writes, ${d365.throttled} throttled and retried); ` +
			`retry queue ${report.totals.retriesPending} waiting, ${report.totals.deadLetters} dead letters; ${report.durationSeconds} s`,
	);
	// The report counts the requests the sync steps sent; the sandboxes count what they received.
	if (report.requests.activeCampaign !== ac.total || report.requests.dynamics !== d365.total - d365.signIns) {
		console.log(`  ${bold('Note')}: the sandboxes received ActiveCampaign ${ac.total}, Dynamics ${d365.total - d365.signIns} requests.`);
	}
}

async function counts(sandbox: Sandbox): Promise<Json> {
	const ac = await control<Json>(sandbox, 'ac', 'GET', '/health');
	const d365 = await control<{ records: Json }>(sandbox, 'd365', 'GET', '/health');
	const opportunities = await control<{ records?: unknown[] }>(sandbox, 'ac', 'GET', '/state/customObjects/d365-opportunity/records');
	return {
		'ActiveCampaign contacts': ac.contacts,
		'ActiveCampaign accounts': ac.accounts,
		'ActiveCampaign opportunity records': opportunities.records?.length ?? 0,
		'Dynamics leads': d365.records.leads,
		'Dynamics contacts': d365.records.contacts,
		'Dynamics accounts': d365.records.accounts,
		'Dynamics notes': d365.records.annotations,
	};
}

async function main() {
	console.log(bold('\nActiveCampaign ⇄ Dynamics 365 sync for n8n — demo against the local sandbox\n'));
	for (const [port, what] of [
		[EDITOR_PORT, 'n8n (N8N_DEMO_PORT)'],
		[AC_PORT, 'the ActiveCampaign sandbox (AC_SANDBOX_PORT)'],
		[D365_PORT, 'the Dynamics sandbox (D365_SANDBOX_PORT)'],
	] as const) {
		if (!(await portFree(port))) {
			console.error(`Port ${port} for ${what} is in use. Stop what uses it, or set another port in that variable.`);
			process.exit(1);
		}
	}

	step('Starting the sandbox (ActiveCampaign and Dynamics 365 simulators with sample data)…');
	const sandbox = await startSandbox({ acPort: AC_PORT, d365Port: D365_PORT, seed: 'demo' });
	step(`  ActiveCampaign: ${sandbox.ac.url}/api/3    Dynamics 365: ${sandbox.d365.url}/api/data/v9.2`);

	let n8n: N8nInstance | undefined = undefined;
	const shutdown = async () => {
		console.log('\nStopping n8n and the sandbox…');
		await n8n?.stop();
		await sandbox.close();
		process.exit(0);
	};
	process.on('SIGINT', () => void shutdown());
	process.on('SIGTERM', () => void shutdown());

	n8n = await setupN8n({
		userFolder: path.join(PROJECT_ROOT, '.demo', 'n8n'),
		acUrl: sandbox.ac.url,
		d365Url: sandbox.d365.url,
		port: EDITOR_PORT,
		// Each long set-up step (installing n8n once, building, importing) shows one live line until the next one.
		log: stepLog(setupDetail),
		// The webhook templates get their own random secrets (kept in n8n, never printed) and allow the sandbox's sales
		// user; the demo does not call the webhooks.
		webhookSecrets: newWebhookSecrets(),
		allowedDynamicsUsers: [SANDBOX_SALES_USER],
	});

	const before = await counts(sandbox);
	await control(sandbox, 'ac', 'POST', '/stats/reset');
	await control(sandbox, 'd365', 'POST', '/stats/reset');
	settle();
	const initial = await withProgress(
		sandbox,
		'Running the Initial Sync workflow (n8n execute; ActiveCampaign allows 5 requests per second, so this takes a minute or two)…',
		async () => await n8n!.execute(WORKFLOW_IDS.initialSync),
	);
	if (initial.crash) throw new Error(`The Initial Sync failed: ${initial.crash}`);
	printReport('Initial Sync', syncReport(initial), await usage(sandbox, 'ac'), await usage(sandbox, 'd365'));
	const afterInitial = await counts(sandbox);

	const first = await live('Starting the Scheduled Sync (its first run sets the change cursors to now)…', async () => await n8n!.execute(WORKFLOW_IDS.scheduledSync));
	if (first.crash) throw new Error(`The Scheduled Sync failed: ${first.crash}`);

	step('Meanwhile a sales user changes a contact in Dynamics and a marketer changes another one in ActiveCampaign:');
	const contacts = (await control<{ value: Json[] }>(sandbox, 'd365', 'GET', '/state/contacts?top=5000')).value;
	const maria = contacts.find((c) => c.emailaddress1 === 'maria.garcia@contoso.com');
	if (maria) {
		await control(sandbox, 'd365', 'PATCH', `/ui/contacts/${maria.contactid}`, { jobtitle: 'VP Marketing', telephone1: '+1 206 555 0199' });
		step('  Dynamics: Maria Garcia — job title "VP Marketing", new phone');
	}
	const li = (await control<{ contacts: Json[] }>(sandbox, 'ac', 'GET', '/state/contacts?email=li.wei%40fabrikam.com')).contacts[0];
	if (li) {
		await control(sandbox, 'ac', 'PATCH', `/ui/contacts/${(li.contact as Json).id}`, { lastName: 'Wei-Chen' });
		step('  ActiveCampaign: Li Wei — last name "Wei-Chen"');
	}
	await control(sandbox, 'ac', 'POST', '/stats/reset');
	await control(sandbox, 'd365', 'POST', '/stats/reset');
	const cycle = await withProgress(sandbox, 'Running one Scheduled Sync cycle…', async () => await n8n!.execute(WORKFLOW_IDS.scheduledSync));
	if (cycle.crash) throw new Error(`The Scheduled Sync failed: ${cycle.crash}`);
	printReport('Scheduled Sync cycle', syncReport(cycle), await usage(sandbox, 'ac'), await usage(sandbox, 'd365'));

	const after = await counts(sandbox);
	console.log(`\n${bold('Records in the sandbox')}  (before → after the Initial Sync → now)`);
	for (const key of Object.keys(before)) {
		console.log(`  ${key.padEnd(36)} ${String(before[key]).padStart(4)} → ${String(afterInitial[key]).padStart(4)} → ${String(after[key]).padStart(4)}`);
	}

	await live('Starting n8n with the templates imported and the credentials filled in…', async () => {
		await n8n!.start();
		await n8n!.login();
	});
	console.log(`
${bold(`n8n is running at http://localhost:${EDITOR_PORT}`)}
  Sign in: ${OWNER.email} / ${OWNER.password}
  Workflows: "AC ⇄ D365: …" (Initial Sync, Scheduled Sync, Opportunity Sync, Marketing Activities, Sales Actions,
  ActiveCampaign Automation → Dynamics). Open one and look at the last execution, or run it again.
  The two webhook workflows are inactive here. They accept only callers with their secret: the credential
  "Sales actions webhook secret" (header X-Sync-Secret) and the token in "Automation webhook token"; sales
  actions run only for the users in "Allowed Dynamics users" (${SANDBOX_SALES_USER}). See docs/webhooks.md.
  The sandbox keeps running: ActiveCampaign ${sandbox.ac.url}/api/3 (key sandbox-key), Dynamics ${sandbox.d365.url}
  (control endpoints under /__sandbox/, see test/sandbox/README.md). Change records there and run "Run now".

Ctrl-C stops everything.`);
	await new Promise(() => undefined);
}

main().catch((error) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
