/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * npm run bench — this package and n8n's built-in nodes on the same jobs, side by side, in a real n8n against the
 * sandbox at the documented limits (ActiveCampaign 5 requests/s; Dataverse's service protection limits). For each job
 * it prints records, requests, requests per record, wall seconds, throttled answers, the floor computed from the
 * limits, ours/floor and ours/built-in, and the peak memory of the n8n process that ran it; it writes the same to
 * bench/results.json and bench/results.html (bar charts, no external assets).
 *
 * Sizes: BENCH_SCALE=small (default: 1,000-contact jobs, a few minutes) or full (10,000-contact initial syncs and a
 * 12,000-contact read; about half an hour, most of it the built-in node writing one contact per request).
 * BENCH_JOBS=write,read,d365,initial,cycle,large picks jobs (see JOBS); BENCH_DEBUG=1 prints each run's node outputs.
 *
 * Built-in nodes: n8n's ActiveCampaign node runs against the sandbox (its credential takes any API URL). n8n's
 * Microsoft Dynamics CRM and Microsoft Dataverse nodes cannot: their credentials build https URLs on Microsoft's hosts
 * (Dynamics CRM: <subdomain>.crm<region>.dynamics.com; Dataverse: an https environment URL and a fixed Microsoft
 * login host per national cloud), so those columns say so instead of a figure.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { ExecutionResult, N8nInstance } from '../test/e2e/n8n';
import { PROJECT_ROOT } from '../test/e2e/runtime';
import { newWebhookSecrets, setupN8n, WORKFLOW_IDS, type TemplateJson } from '../test/e2e/setup';
import { startSandbox, SANDBOX_CREDENTIALS, type Sandbox } from '../test/sandbox';

type Json = Record<string, unknown>;
type Side = 'ac' | 'd365';

const FULL = process.env.BENCH_SCALE === 'full';
/**
 * BENCH_JOBS=write,read,d365,initial,cycle,large runs only those jobs (default: all but large); cycle needs initial;
 * large is a 100,000-contact account's (and a 100,000-lead org's) cycles between scans.
 */
const JOBS = new Set((process.env.BENCH_JOBS ?? 'write,read,d365,initial,cycle').split(',').map((j) => j.trim()));
const SIZES = {
	write: 1000,
	read: FULL ? 12000 : 2000,
	initial: FULL ? 10000 : 1000,
	d365Create: 1000,
	d365Read: 10000,
	changes: 100,
};
const AC_RATE = 5;
const OUT_DIR = path.join(PROJECT_ROOT, 'bench');
const BUILTIN_AC_CREDENTIAL = { id: 'benchBuiltinAc01', name: 'ActiveCampaign (built-in)', type: 'activeCampaignApi' };

const started = Date.now();
const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}`);

interface Measure {
	requests: number;
	throttled: number;
	seconds: number;
	peakMb: number | null;
	/** Requests by route (in the JSON): the row's API, and the other API. */
	routes?: Record<string, number>;
	otherRoutes?: Record<string, number>;
	/** Requests each API saw in this run (the row's `requests` is its own API's). */
	byApi?: { activeCampaign: number; dataverse: number };
	failed?: string;
}

interface Row {
	job: string;
	records: number;
	api: string;
	floor: { requests: number; seconds: number; note: string };
	ours: Measure;
	builtin: Measure | { unavailable: string };
}

async function control<T = Json>(sandbox: Sandbox, side: Side, method: string, route: string, body?: unknown): Promise<T> {
	const url = side === 'ac' ? sandbox.ac.url : sandbox.d365.url;
	const res = await fetch(`${url}/__sandbox${route}`, {
		method,
		headers: { 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	if (res.status >= 300) throw new Error(`sandbox ${side} ${method} ${route}: ${res.status} ${text.slice(0, 300)}`);
	return (text ? JSON.parse(text) : {}) as T;
}

/** Peak resident memory (VmHWM) of a process, sampled until it ends. */
function watchMemory(): { onChild: (pid: number) => void; peakMb: () => number | null; stop: () => void } {
	let peakKb = 0;
	let timer: NodeJS.Timeout | undefined;
	const sample = (pid: number) => {
		try {
			const status = readFileSync(`/proc/${pid}/status`, 'utf8');
			const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
			if (kb > peakKb) peakKb = kb;
		} catch {
			// The process has ended.
		}
	};
	return {
		onChild: (pid) => {
			sample(pid);
			timer = setInterval(() => sample(pid), 100);
		},
		peakMb: () => (peakKb ? Math.round(peakKb / 1024) : null),
		stop: () => timer && clearInterval(timer),
	};
}

/** Runs one workflow in the n8n CLI and measures what the given API saw. */
async function measure(n8n: N8nInstance, sandbox: Sandbox, workflowId: string, side: Side): Promise<Measure> {
	await control(sandbox, 'ac', 'POST', '/stats/reset');
	await control(sandbox, 'd365', 'POST', '/stats/reset');
	const memory = watchMemory();
	const t0 = Date.now();
	// A run of many thousand items prints more than the CLI's output can be parsed back from: the job is then judged
	// by the sandbox's records (see the callers), not by the printed run.
	const result = await n8n.execute(workflowId, { onChild: memory.onChild }).catch((error: Error) => {
		if (process.env.BENCH_DEBUG) console.log(error.message.slice(-3000));
		if (/printed no result/.test(error.message)) return undefined;
		throw error;
	});
	const seconds = (Date.now() - t0) / 1000;
	memory.stop();
	if (process.env.BENCH_DEBUG && result) printNodes(result);
	const stats = await control<{ total: number; byStatus: Record<string, number>; routes: Record<string, { count: number }> }>(sandbox, side, 'GET', '/stats');
	const other = await control<{ total: number; routes: Record<string, { count: number }> }>(sandbox, side === 'ac' ? 'd365' : 'ac', 'GET', '/stats');
	const out: Measure = {
		requests: stats.total,
		throttled: Number(stats.byStatus['429'] ?? 0),
		seconds: Math.round(seconds * 10) / 10,
		peakMb: memory.peakMb(),
		routes: Object.fromEntries(Object.entries(stats.routes).map(([route, v]) => [route, v.count])),
		otherRoutes: Object.fromEntries(Object.entries(other.routes).map(([route, v]) => [route, v.count])),
		byApi: side === 'ac' ? { activeCampaign: stats.total, dataverse: other.total } : { activeCampaign: other.total, dataverse: stats.total },
	};
	const error = result?.error;
	if (error) out.failed = error.slice(0, 200);
	return out;
}

/** BENCH_DEBUG: each node's item counts per output, and the first skipped item's reason. */
function printNodes(result: ExecutionResult): void {
	for (const [node, runs] of Object.entries(result.raw.data.resultData.runData)) {
		console.log(`  ${node}: ${runs.map((r) => r.error?.message ?? (r.data?.main ?? []).map((o) => (o ?? []).length).join('/')).join(', ')}`);
		const skipped = runs[0]?.data?.main?.[1]?.[0]?.json;
		if (skipped) console.log(`    first on output 2: ${String(skipped.skipReason ?? skipped.reason ?? JSON.stringify(skipped).slice(0, 300))}`);
	}
}

// ----------------------------------------------------------------------------------------------- bench workflows

let nextId = 0;
/** Seconds an empty workflow takes in `n8n execute` (process start-up), measured first. */
let startup = 0;
function workflow(name: string, nodes: TemplateJson['nodes']): TemplateJson {
	const id = `benchWorkflow${String(++nextId).padStart(3, '0')}`;
	const connections: Json = {};
	for (let i = 0; i < nodes.length - 1; i++) connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	nodes.forEach((n, i) => Object.assign(n, { id: `${id}-${i}`, typeVersion: n.typeVersion ?? 1, position: [i * 220, 0] }));
	return { id, name: `Bench: ${name}`, nodes, connections, settings: { executionOrder: 'v1' }, active: false } as unknown as TemplateJson;
}

/** Rewires a linear workflow ending in Loop Over Items → step → Wait into the loop n8n users build. */
function looped(wf: TemplateJson): TemplateJson {
	const connections = wf.connections as Record<string, { main: Array<Array<{ node: string; type: string; index: number }>> }>;
	const to = (node: string) => [{ node, type: 'main', index: 0 }];
	connections['Loop Over Items'] = { main: [[], to('ActiveCampaign (built-in)')] };
	connections['Wait a second'] = { main: [to('Loop Over Items')] };
	return wf;
}

const manual = () => ({ name: 'Start', type: 'n8n-nodes-base.manualTrigger', parameters: {} });
/** N contacts as items, made by expressions only (no Code node, no task runner). */
const contacts = (n: number, prefix: string) => [
	{
		name: 'Make contacts',
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		parameters: {
			mode: 'raw',
			jsonOutput: `={{ JSON.stringify({ contacts: Array.from({ length: ${n} }, (_, i) => ({ email: '${prefix}.' + i + '@bench.example.com', firstName: 'Bench', lastName: 'Contact ' + i })) }) }}`,
		},
	},
	{ name: 'One item per contact', type: 'n8n-nodes-base.splitOut', parameters: { fieldToSplitOut: 'contacts' } },
];
const ourAc = (parameters: Json) => ({
	name: 'ActiveCampaign Sync',
	type: 'n8n-nodes-ac-d365-sync.activeCampaignSync',
	parameters,
	credentials: { activeCampaignSyncApi: { id: 'acSyncCredential1', name: 'ActiveCampaign' } },
});
const builtinAc = (parameters: Json) => ({
	name: 'ActiveCampaign (built-in)',
	type: 'n8n-nodes-base.activeCampaign',
	parameters,
	credentials: { activeCampaignApi: { id: BUILTIN_AC_CREDENTIAL.id, name: BUILTIN_AC_CREDENTIAL.name } },
});
const ourD365 = (parameters: Json) => ({
	name: 'Dynamics 365',
	type: 'n8n-nodes-ac-d365-sync.dynamics365',
	parameters,
	credentials: { dynamics365ClientCredentialsApi: { id: 'd365SyncCredentl', name: 'Dynamics 365 (client credentials)' } },
});

const WORKFLOWS = {
	empty: workflow('nothing (the CLI start-up)', [manual()] as TemplateJson['nodes']),
	oursWrite: workflow('write contacts (this package)', [
		manual(),
		...contacts(SIZES.write, 'ours'),
		ourAc({ resource: 'contact', operation: 'upsertMany', dataMode: 'fields', email: '={{ $json.email }}', additionalFields: { firstName: '={{ $json.firstName }}', lastName: '={{ $json.lastName }}' } }),
	] as TemplateJson['nodes']),
	// As a user has to build it: five contacts per second through Loop Over Items and a one-second Wait (without them
	// the node stops at ActiveCampaign's first 429).
	builtinWrite: looped(
		workflow('write contacts (built-in)', [
			manual(),
			...contacts(SIZES.write, 'builtin'),
			{ name: 'Loop Over Items', type: 'n8n-nodes-base.splitInBatches', typeVersion: 3, parameters: { batchSize: AC_RATE } },
			builtinAc({ resource: 'contact', operation: 'create', email: '={{ $json.email }}', updateIfExists: true, additionalFields: { firstName: '={{ $json.firstName }}', lastName: '={{ $json.lastName }}' } }),
			{ name: 'Wait a second', type: 'n8n-nodes-base.wait', typeVersion: 1.1, parameters: { amount: 1, unit: 'seconds' } },
		] as TemplateJson['nodes']),
	),
	oursRead: workflow('read contacts (this package)', [manual(), ourAc({ resource: 'contact', operation: 'getAll', returnAll: true, getAllOptions: { details: false } })] as TemplateJson['nodes']),
	builtinRead: workflow('read contacts (built-in)', [manual(), builtinAc({ resource: 'contact', operation: 'getAll', returnAll: true })] as TemplateJson['nodes']),
	oursD365Create: workflow('create Dynamics accounts (this package)', [
		manual(),
		{
			name: 'Make accounts',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			parameters: { mode: 'raw', jsonOutput: `={{ JSON.stringify({ accounts: Array.from({ length: ${SIZES.d365Create} }, (_, i) => ({ name: 'Bench Account ' + i })) }) }}` },
		},
		{ name: 'One item per account', type: 'n8n-nodes-base.splitOut', parameters: { fieldToSplitOut: 'accounts' } },
		ourD365({ resource: 'account', operation: 'create', dataMode: 'autoMap' }),
	] as TemplateJson['nodes']),
	oursD365Read: workflow('read Dynamics accounts (this package)', [manual(), ourD365({ resource: 'account', operation: 'getMany', returnAll: true })] as TemplateJson['nodes']),
};

const SCAN_HOURLY_ID = 'benchScheduledScan60';
/** The same for the 100,000-contact account (its own cursors; n8n keeps static data only for ids of up to 21 characters). */
const SCAN_HOURLY_LARGE_ID = 'benchScan60Large';
/** The Scheduled Sync with Full Scan Every 60 minutes on both ActiveCampaign change reads (a large account's setting). */
function scanHourly(template: TemplateJson, id = SCAN_HOURLY_ID): TemplateJson {
	const copy = JSON.parse(JSON.stringify(template)) as TemplateJson;
	for (const node of copy.nodes) {
		const p = node.parameters as Json;
		if (node.type === 'n8n-nodes-ac-d365-sync.activeCampaignSync' && p.operation === 'getChanges') p.changeOptions = { ...((p.changeOptions as Json | undefined) ?? {}), scanEveryMinutes: 60 };
	}
	return { ...copy, id, name: `${copy.name} (bench: full scan every 60 minutes${id === SCAN_HOURLY_ID ? '' : ', large account'})`, active: false } as TemplateJson;
}

const D365_UNAVAILABLE =
	"n8n's Microsoft Dynamics CRM and Dataverse nodes reach only Microsoft's https hosts (their credentials build the URL and the login host), so they cannot run against a local sandbox";

// ------------------------------------------------------------------------------------------------------- jobs

async function resetAc(sandbox: Sandbox): Promise<void> {
	await control(sandbox, 'ac', 'POST', '/reset', { seed: 'empty' });
	await control(sandbox, 'ac', 'PUT', '/limits', { requestsPerSecond: AC_RATE });
}

async function resetD365(sandbox: Sandbox): Promise<void> {
	await control(sandbox, 'd365', 'POST', '/reset', { seed: 'empty' });
}

async function main(): Promise<void> {
	log(`Bench (${FULL ? 'full' : 'small'} sizes): starting the sandbox at the documented limits and a real n8n…`);
	const sandbox = await startSandbox({ seed: 'empty' });
	let n8n: N8nInstance | undefined;
	const rows: Row[] = [];
	try {
		n8n = await setupN8n({
			userFolder: path.join(PROJECT_ROOT, '.bench-n8n'),
			acUrl: sandbox.ac.url,
			d365Url: sandbox.d365.url,
			webhookSecrets: newWebhookSecrets(),
			log,
			extraCredentials: [{ ...BUILTIN_AC_CREDENTIAL, data: { apiUrl: sandbox.ac.url, apiKey: SANDBOX_CREDENTIALS.acApiKey } }],
			extraWorkflows: (templates) => [...Object.values(WORKFLOWS), scanHourly(templates['scheduled-sync.json']), scanHourly(templates['scheduled-sync.json'], SCAN_HOURLY_LARGE_ID)],
		});
		const run = async (id: string, side: Side) => await measure(n8n!, sandbox, id, side);
		/** A first cycle, then SIZES.changes changes (half on each side, from `offset`), a measured cycle and a quiet one. */
		const scheduledCycles = async (workflowId: string, label: string, offset: number): Promise<void> => {
			log(`Scheduled Sync (${label}): a first cycle, then ${SIZES.changes} changes (half on each side), then a quiet cycle…`);
			await run(workflowId, 'ac');
			const half = SIZES.changes / 2;
			const acContacts = (await control<{ contacts: Array<{ id: string }> }>(sandbox, 'ac', 'GET', `/state/contacts?limit=${half}&offset=${3 + offset}`)).contacts;
			for (const [i, c] of acContacts.entries()) await control(sandbox, 'ac', 'PATCH', `/ui/contacts/${c.id}`, { lastName: `Changed ${label} ${i}` });
			const rowsD365 = (await control<{ value: Json[] }>(sandbox, 'd365', 'GET', `/state/contacts?top=${half + offset}`)).value.slice(offset);
			for (const [i, r] of rowsD365.entries()) await control(sandbox, 'd365', 'PATCH', `/ui/contacts/${String(r.contactid)}`, { firstname: `Changed ${label} ${i}` });
			const cycle = await run(workflowId, 'ac');
			rows.push({
				job: `Scheduled Sync cycle after ${SIZES.changes} changes (${SIZES.initial.toLocaleString('en')}-contact account; ${label})`,
				records: SIZES.changes,
				api: 'ActiveCampaign',
				floor: floorOf(6, 'changed pages both ways, one import'),
				ours: cycle,
				builtin: { unavailable: 'no built-in node syncs' },
			});
			const quiet = await run(workflowId, 'ac');
			const writes = await control<{ routes: Record<string, { count: number }> }>(sandbox, 'ac', 'GET', '/stats');
			const writeCount = Object.entries(writes.routes)
				.filter(([route]) => !route.startsWith('GET '))
				.reduce((sum, [, v]) => sum + v.count, 0);
			rows.push({
				job: `The next (quiet) cycle (${label})`,
				records: 0,
				api: 'ActiveCampaign',
				floor: floorOf(3, 'the change reads'),
				ours: { ...quiet, failed: writeCount ? `${writeCount} writes` : quiet.failed },
				builtin: { unavailable: 'no built-in node syncs' },
			});
		};
		startup = (await run(WORKFLOWS.empty.id, 'ac')).seconds;
		log(`An empty workflow takes ${startup} s in n8n's CLI (start-up; part of every wall time below)`);

		if (JOBS.has('write')) {
			log(`Write ${SIZES.write} contacts to ActiveCampaign…`);
			await resetAc(sandbox);
			const oursWrite = await run(WORKFLOWS.oursWrite.id, 'ac');
			await resetAc(sandbox);
			const builtinWrite = await run(WORKFLOWS.builtinWrite.id, 'ac');
			rows.push({
				job: `Write ${SIZES.write.toLocaleString('en')} contacts to ActiveCampaign`,
				records: SIZES.write,
				api: 'ActiveCampaign',
				floor: floorOf(Math.ceil(SIZES.write / 250), 'bulk imports of 250'),
				ours: oursWrite,
				builtin: builtinWrite,
			});
		}

		if (JOBS.has('read')) {
			log(`Read ${SIZES.read} ActiveCampaign contacts…`);
			await resetAc(sandbox);
			await control(sandbox, 'ac', 'POST', '/seed', { contacts: SIZES.read });
			const oursRead = await run(WORKFLOWS.oursRead.id, 'ac');
			const builtinRead = await run(WORKFLOWS.builtinRead.id, 'ac');
			rows.push({
				job: `Read ${SIZES.read.toLocaleString('en')} ActiveCampaign contacts`,
				records: SIZES.read,
				api: 'ActiveCampaign',
				floor: floorOf(Math.ceil(SIZES.read / 100), 'pages of 100'),
				ours: oursRead,
				builtin: builtinRead,
			});
		}

		if (JOBS.has('d365')) {
			log(`Create ${SIZES.d365Create} Dynamics accounts; read ${SIZES.d365Read}…`);
			await resetD365(sandbox);
			rows.push({
				job: `Create ${SIZES.d365Create.toLocaleString('en')} Dynamics records`,
				records: SIZES.d365Create,
				api: 'Dataverse',
				floor: { requests: 1, seconds: 0, note: 'one $batch / CreateMultiple of up to 1,000' },
				ours: await run(WORKFLOWS.oursD365Create.id, 'd365'),
				builtin: { unavailable: D365_UNAVAILABLE },
			});
			await resetD365(sandbox);
			await control(sandbox, 'd365', 'POST', '/seed', { accounts: SIZES.d365Read });
			rows.push({
				job: `Read ${SIZES.d365Read.toLocaleString('en')} Dynamics accounts`,
				records: SIZES.d365Read,
				api: 'Dataverse',
				floor: { requests: Math.ceil(SIZES.d365Read / 5000), seconds: 0, note: 'pages of 5,000' },
				ours: await run(WORKFLOWS.oursD365Read.id, 'd365'),
				builtin: { unavailable: D365_UNAVAILABLE },
			});
		}

		if (JOBS.has('initial')) {
			log(`Initial Sync, ActiveCampaign → Dynamics, ${SIZES.initial} contacts in ${SIZES.initial / 10} accounts…`);
			await resetAc(sandbox);
			await resetD365(sandbox);
			await control(sandbox, 'ac', 'POST', '/seed', { contacts: SIZES.initial, withAccounts: SIZES.initial / 10 });
			const initial = await run(WORKFLOW_IDS.initialSync, 'ac');
			const accounts = SIZES.initial / 10;
			const synced = (await control<{ count: number }>(sandbox, 'd365', 'GET', '/state/contacts?top=0')).count + (await control<{ count: number }>(sandbox, 'd365', 'GET', '/state/leads?top=0')).count;
			if (synced < SIZES.initial) initial.failed = `${synced} of ${SIZES.initial} contacts reached Dynamics`;
			rows.push({
				job: `Initial Sync, ActiveCampaign → Dynamics, ${SIZES.initial.toLocaleString('en')} contacts in ${accounts.toLocaleString('en')} accounts`,
				records: SIZES.initial + accounts,
				api: 'ActiveCampaign',
				// Contacts 100 per page, their account links 100 per page, the accounts and their field values 100 per page,
				// the states 250 per import and the accounts' states 100 per bulk request.
				floor: floorOf(
					Math.ceil(SIZES.initial / 100) * 2 + Math.ceil(accounts / 100) * 3 + Math.ceil(SIZES.initial / 250) + Math.ceil((accounts * 2) / 100),
					'pages of 100, imports of 250',
				),
				ours: initial,
				builtin: { unavailable: 'no built-in node syncs; the built-in ActiveCampaign node reads a contact without its tags, lists or account' },
			});
		}

		if (JOBS.has('initial') && JOBS.has('cycle')) {
			await scheduledCycles(WORKFLOW_IDS.scheduledSync, 'scan every run', 0);
			// Full Scan Every 60 minutes: the cycles between two scans (the first run scans; these two do not).
			await scheduledCycles(SCAN_HOURLY_ID, 'Full Scan Every 60, between scans', SIZES.changes / 2);
		}

		if (JOBS.has('large')) {
			// A large ActiveCampaign account and a large Dynamics org (100,000 leads; no email in common): what a cycle
			// between two scans costs there.
			const large = { contacts: 100_000, accounts: 10_000, leads: 100_000 };
			log(
				`A ${large.contacts.toLocaleString('en')}-contact ActiveCampaign account in ${large.accounts.toLocaleString('en')} accounts, ${large.leads.toLocaleString('en')} Dynamics leads: cycles between scans…`,
			);
			await resetAc(sandbox);
			await resetD365(sandbox);
			await control(sandbox, 'ac', 'POST', '/seed', { contacts: large.contacts, withAccounts: large.accounts });
			await control(sandbox, 'd365', 'POST', '/seed', { leads: large.leads, accounts: large.accounts });
			// The first run sets the cursors (nothing before it is news): ActiveCampaign reads nothing, each Dynamics table
			// with change tracking pages through its records once for its first delta link. Its first scan is due an
			// hour later (about (accounts + links) / 100 requests), which the bench does not wait for.
			const first = await run(SCAN_HOURLY_LARGE_ID, 'ac');
			rows.push({
				job: `The first Scheduled Sync run (sets the cursors; the first change-tracking read pages through the ${large.leads.toLocaleString('en')} leads) in the ${large.contacts.toLocaleString('en')}-contact account`,
				records: 0,
				api: 'ActiveCampaign',
				floor: floorOf(0, 'nothing before the first run is news'),
				ours: first,
				builtin: { unavailable: 'no built-in node syncs' },
			});
			const changed = (await control<{ contacts: Array<{ id: string }> }>(sandbox, 'ac', 'GET', `/state/contacts?limit=${SIZES.changes}&offset=5000`)).contacts;
			// Tagged for Dynamics (the templates push an untagged, unlinked contact nowhere).
			for (const [i, c] of changed.entries()) await control(sandbox, 'ac', 'PATCH', `/ui/contacts/${c.id}`, { lastName: `Changed large ${i}`, addTags: ['[D365: Lead]'] });
			const cycle = await run(SCAN_HOURLY_LARGE_ID, 'ac');
			const created =
				(await control<{ count: number }>(sandbox, 'd365', 'GET', '/state/contacts?top=0')).count +
				(await control<{ count: number }>(sandbox, 'd365', 'GET', '/state/leads?top=0')).count -
				large.leads;
			rows.push({
				job: `Scheduled Sync cycle, ${SIZES.changes} ActiveCampaign contacts changed in a ${large.contacts.toLocaleString('en')}-contact account, ${large.leads.toLocaleString('en')} Dynamics leads (Full Scan Every 60, between scans)`,
				records: SIZES.changes,
				api: 'ActiveCampaign',
				floor: floorOf(4, 'the changed page, metadata, one import'),
				ours: created < SIZES.changes ? { ...cycle, failed: `${created} of ${SIZES.changes} reached Dynamics` } : cycle,
				builtin: { unavailable: 'no built-in node syncs' },
			});
			const quiet = await run(SCAN_HOURLY_LARGE_ID, 'ac');
			rows.push({
				job: `The next (quiet) cycle in the ${large.contacts.toLocaleString('en')}-contact account (between scans)`,
				records: 0,
				api: 'ActiveCampaign',
				floor: floorOf(3, 'the change reads'),
				ours: quiet,
				builtin: { unavailable: 'no built-in node syncs' },
			});
			// The same 100 contacts, now synced, changed again: the steady state of a synced account.
			for (const [i, c] of changed.entries()) await control(sandbox, 'ac', 'PATCH', `/ui/contacts/${c.id}`, { lastName: `Changed again ${i}` });
			const again = await run(SCAN_HOURLY_LARGE_ID, 'ac');
			// The leads this sync created come after the seeded ones.
			const updated = (await control<{ value: Array<{ lastname?: string }> }>(sandbox, 'd365', 'GET', `/state/leads?skip=${large.leads}&top=${SIZES.changes * 2}`)).value.filter((l) =>
				String(l.lastname ?? '').startsWith('Changed again'),
			).length;
			rows.push({
				job: `Scheduled Sync cycle, the same ${SIZES.changes} contacts (now synced) changed again in the ${large.contacts.toLocaleString('en')}-contact account (between scans)`,
				records: SIZES.changes,
				api: 'ActiveCampaign',
				floor: floorOf(4, 'the changed page, metadata, one import'),
				ours: updated < SIZES.changes ? { ...again, failed: `${updated} of ${SIZES.changes} reached Dynamics` } : again,
				builtin: { unavailable: 'no built-in node syncs' },
			});
			const quietAgain = await run(SCAN_HOURLY_LARGE_ID, 'ac');
			rows.push({
				job: `The next (quiet) cycle after it`,
				records: 0,
				api: 'ActiveCampaign',
				floor: floorOf(3, 'the change reads'),
				ours: quietAgain,
				builtin: { unavailable: 'no built-in node syncs' },
			});
		}
	} finally {
		await n8n?.stop().catch(() => undefined);
		await sandbox.close();
	}
	report(rows);
}

function floorOf(requests: number, note: string): Row['floor'] {
	return { requests, seconds: Math.round((requests / AC_RATE) * 10) / 10, note };
}

// ---------------------------------------------------------------------------------------------------- report

function ratio(a: number, b: number): string {
	if (!b) return '—';
	return `${(a / b).toFixed(a / b < 10 ? 2 : 0)}×`;
}

function report(rows: Row[]): void {
	const lines = [
		'| job | records | requests (ours) | req/record | seconds | throttled | floor (requests) | ours/floor | built-in requests | built-in seconds | ours/built-in | peak MB (n8n) |',
		'|---|---|---|---|---|---|---|---|---|---|---|---|',
	];
	for (const r of rows) {
		const b = 'unavailable' in r.builtin ? undefined : r.builtin;
		lines.push(
			`| ${r.job}${r.ours.failed ? ` (${r.ours.failed})` : ''} | ${r.records.toLocaleString('en')} | ${r.ours.requests}${r.api === 'ActiveCampaign' && r.ours.byApi?.dataverse ? ` (+${r.ours.byApi.dataverse} Dataverse)` : ''} | ${r.records ? (r.ours.requests / r.records).toFixed(3) : '—'} | ${r.ours.seconds} | ${r.ours.throttled} | ${r.floor.requests} (${r.floor.note}) | ${ratio(r.ours.requests, r.floor.requests)} | ${b ? `${b.requests}${b.failed ? ` (failed: ${b.failed})` : ''}` : 'n/a'} | ${b ? b.seconds : 'n/a'} | ${b ? (b.failed ? 'built-in failed' : ratio(r.ours.requests, b.requests)) : 'n/a'} | ${r.ours.peakMb ?? '—'} |`,
		);
	}
	const notes = [...new Set(rows.flatMap((r) => ('unavailable' in r.builtin ? [r.builtin.unavailable] : [])))];
	console.log(`\n${lines.join('\n')}\n\nWall seconds include n8n's CLI start-up (${startup} s for an empty workflow). Built-in n/a: ${notes.join('; ')}.`);
	mkdirSync(OUT_DIR, { recursive: true });
	const data = { when: new Date().toISOString(), scale: FULL ? 'full' : 'small', limits: { activeCampaignRequestsPerSecond: AC_RATE }, cliStartupSeconds: startup, rows };
	writeFileSync(path.join(OUT_DIR, 'results.json'), JSON.stringify(data, null, 2));
	writeFileSync(path.join(OUT_DIR, 'results.html'), html(rows, data.when));
	log(`Wrote bench/results.json and bench/results.html`);
}

function html(rows: Row[], when: string): string {
	const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
	const charts = rows
		.map((r) => {
			const b = 'unavailable' in r.builtin ? undefined : r.builtin;
			const bars = [
				{ label: 'this package', value: r.ours.requests, color: '#2563eb' },
				{ label: 'floor', value: r.floor.requests, color: '#16a34a' },
				...(b ? [{ label: 'built-in', value: b.requests, color: '#dc2626' }] : []),
			];
			const max = Math.max(1, ...bars.map((x) => x.value));
			const svg = bars
				.map((x, i) => {
					const width = Math.max(2, Math.round((Math.log10(x.value + 1) / Math.log10(max + 1)) * 420));
					return `<text x="0" y="${i * 26 + 16}" font-size="12">${x.label}</text><rect x="110" y="${i * 26 + 4}" width="${width}" height="18" fill="${x.color}"/><text x="${116 + width}" y="${i * 26 + 17}" font-size="12">${x.value}</text>`;
				})
				.join('');
			return `<h3>${esc(r.job)}</h3><svg width="640" height="${bars.length * 26 + 4}" role="img">${svg}</svg><p>${r.ours.seconds} s, ${r.ours.throttled} throttled, peak ${r.ours.peakMb ?? '—'} MB${b ? `; built-in ${b.seconds} s, ${b.throttled} throttled` : `; built-in: ${esc(r.builtin && 'unavailable' in r.builtin ? r.builtin.unavailable : '')}`}</p>`;
		})
		.join('\n');
	return `<!doctype html><html><head><meta charset="utf-8"><title>n8n-nodes-ac-d365-sync bench</title><style>body{font-family:sans-serif;max-width:760px;margin:2em auto}</style></head><body><h1>Requests per job</h1><p>${esc(when)} — bars on a log scale; sandbox at the documented limits.</p>${charts}</body></html>\n`;
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
