/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The sync guarantees, proven in a real n8n 2.40.7 with the package installed the way users install it, the template
 * workflows imported, and the sandbox as ActiveCampaign and Dynamics 365. Manual-start templates run through
 * `n8n execute`; trigger and webhook templates run in an active n8n server.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { SANDBOX_CREDENTIALS, startSandbox, type Sandbox } from '../sandbox';
import type { ExecutionResult, N8nInstance } from './n8n';
import { PROJECT_ROOT } from './runtime';
import { loadSalesActionButton } from './sales-action-button';
import { CREDENTIAL_IDS, newWebhookSecrets, SANDBOX_SALES_USER, sandboxCredentials, setupN8n, WORKFLOW_IDS, type TemplateJson } from './setup';
import { REAL_TIME_AC_NODE, REAL_TIME_D365_NODE, SALES_ACTION_SECRET_HEADER, SETTINGS_NODE } from '../../scripts/build-templates';
import { expectAllNodesListed, expectManualInstall } from './smoke';
import { unexplainedPreviewDifferences } from '../helpers/preview-compare';

type Json = Record<string, unknown>;

let sandbox: Sandbox;
let n8n: N8nInstance;
/** This run's webhook secrets (random, never printed). */
const secrets = newWebhookSecrets();
/** A second allowed Dynamics user, entered by id the way Dynamics shows ids: in braces, upper case. */
const ALLOWED_USER_ID = '7d1a2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b';

/** A copy of the scheduled sync per conflict policy, each with its own cursors. */
const POLICY_COPIES = {
	dynamicsWins: 'acd365SchedDynWins',
	activeCampaignWins: 'acd365SchedAcWins',
	newestWins: 'acd365SchedNewWins',
} as const;

beforeAll(async () => {
	sandbox = await startSandbox({ seed: 'demo' });
	n8n = await setupN8n({
		userFolder: path.join(PROJECT_ROOT, '.e2e', 'n8n'),
		acUrl: sandbox.ac.url,
		d365Url: sandbox.d365.url,
		log: (m) => console.log(`[e2e] ${m}`),
		build: false, // built once by the global setup
		webhookSecrets: secrets,
		allowedDynamicsUsers: [SANDBOX_SALES_USER, `{${ALLOWED_USER_ID.toUpperCase()}}`],
		// As the sticky note says: the Sync Alerts workflow picked as the Opportunity Sync's error workflow.
		editTemplate: (file, workflow) =>
			file === 'opportunity-sync.json' ? { ...workflow, settings: { ...(workflow.settings as object), errorWorkflow: WORKFLOW_IDS.syncAlerts } } : workflow,
		extraCredentials: [globalSwitchCredential('pauseToActiveCampaign')],
		extraWorkflows: (templates) => [
			...Object.entries(POLICY_COPIES).map(([policy, id]) => withPolicy(templates['scheduled-sync.json'], id, policy)),
			withGlobalSwitch(templates['scheduled-sync.json']),
			withRealTime(templates['scheduled-sync.json']),
			asPreview(templates['initial-sync.json'], INITIAL_PREVIEW),
			...Object.entries(WEBHOOK_PREVIEWS).map(([file, { id, path: webhookPath }]) => asWebhookPreview(templates[file], id, webhookPath)),
		],
	});
});

afterAll(async () => {
	await n8n?.stop();
	await sandbox?.close();
});

/**
 * A Scheduled Sync of its own (own cursors, never run) on a Dynamics 365 credential of its own, whose Global Sync the
 * Global Sync test switches the way a user does: in the credential.
 */
const GLOBAL_SWITCH = { workflow: 'acd365SchedGlobal', credential: 'd365GlobalSwitch' } as const;

function globalSwitchCredential(globalSync: string) {
	const dynamics = sandboxCredentials(sandbox.ac.url, sandbox.d365.url, secrets).find((c) => c.id === CREDENTIAL_IDS.dynamics)!;
	return { ...dynamics, id: GLOBAL_SWITCH.credential, name: 'Dynamics 365 (Global Sync switched in a test)', data: { ...dynamics.data, globalSync } };
}

function withGlobalSwitch(template: TemplateJson): TemplateJson {
	const copy = JSON.parse(JSON.stringify(template).split(`"${CREDENTIAL_IDS.dynamics}"`).join(`"${GLOBAL_SWITCH.credential}"`)) as TemplateJson;
	copy.id = GLOBAL_SWITCH.workflow;
	copy.name = `${template.name} (Global Sync)`;
	return copy;
}

/** Switches Global Sync in that credential as a user saves it (n8n's CLI import replaces the credential by its id). */
async function switchGlobalSync(globalSync: string): Promise<void> {
	const file = path.join(PROJECT_ROOT, '.e2e', `global-sync-${process.pid}.json`);
	writeFileSync(file, JSON.stringify([globalSwitchCredential(globalSync)]), { mode: 0o600 });
	try {
		await n8n.importCredentials(file);
	} finally {
		rmSync(file, { force: true });
	}
}

/** A Scheduled Sync of its own with its real-time start enabled, as the sticky note says (published with the server). */
const REAL_TIME_COPY = 'acd365SchedRealTime';

function withRealTime(template: TemplateJson): TemplateJson {
	const copy = JSON.parse(JSON.stringify(template)) as TemplateJson;
	copy.id = REAL_TIME_COPY;
	copy.name = `${template.name} (real time)`;
	for (const name of [REAL_TIME_AC_NODE, REAL_TIME_D365_NODE]) {
		const start = copy.nodes.find((n) => n.name === name)! as TemplateJson['nodes'][number] & { webhookId?: string };
		delete start.disabled;
		start.webhookId = `${start.webhookId!.slice(0, -4)}beef`;
	}
	// The tests run its "scheduled" cycles by hand: its own hourly schedule, published, would fire at the top of the
	// hour in the middle of other tests (a CI run at 10:00 synced a contact another test needs unsynced).
	(copy.nodes.find((n) => n.name === 'Every hour') as TemplateJson['nodes'][number] & { disabled?: boolean }).disabled = true;
	return copy;
}

/** The Initial Sync with its Settings step's preview switch on, as a user flips it. */
const INITIAL_PREVIEW = 'acd365InitialPreview';

function asPreview(template: TemplateJson, id: string): TemplateJson {
	const copy = JSON.parse(JSON.stringify(template)) as TemplateJson;
	copy.id = id;
	copy.name = `${template.name} (preview)`;
	const settings = copy.nodes.find((n) => n.name === SETTINGS_NODE)!;
	const { assignments } = settings.parameters.assignments as { assignments: Array<{ name: string; value: unknown }> };
	assignments.find((a) => a.name === 'preview')!.value = true;
	return copy;
}

/** A copy of each webhook template with its preview switch on, on its own path. */
const WEBHOOK_PREVIEWS = {
	'sales-actions.json': { id: 'acd365SalesPreview', path: 'd365-sales-action-preview' },
	'ac-automation-to-d365.json': { id: 'acd365AutomationPrev', path: 'ac-create-in-dynamics-preview' },
} as const;

function asWebhookPreview(template: TemplateJson, id: string, webhookPath: string): TemplateJson {
	const copy = asPreview(template, id);
	const hook = copy.nodes.find((n) => n.type === 'n8n-nodes-base.webhook')! as TemplateJson['nodes'][number] & { webhookId?: string };
	hook.parameters.path = webhookPath;
	hook.webhookId = `${hook.webhookId!.slice(0, -4)}beef`;
	return copy;
}

/**
 * What the write steps of a run did to which record, sorted: "step: operation key" for every record created, updated
 * or imported (named by its email, an account by its name, an opportunity by its external id).
 */
function changesOf(result: ExecutionResult): string[] {
	const out: string[] = [];
	for (const node of Object.keys(result.raw.data.resultData.runData).filter((name) => /^Write /.test(name))) {
		for (const json of result.items(node)) {
			if (!['created', 'updated', 'imported'].includes(String(json.operation))) continue;
			const key = String(json.email ?? (json.match as Json | undefined)?.email ?? json.name ?? json.externalId ?? (json.source as Json | undefined)?.id ?? json.id).toLowerCase();
			out.push(`${node}: ${String(json.operation)} ${key}`);
		}
	}
	return out.sort();
}

/** What the Initial Sync's preview said it would do (the preview test runs before the real Initial Sync). */
let previewed: string[] | undefined;
/** ActiveCampaign's contacts before the Initial Sync. */
let acEmailsBefore = new Set<string>();

function withPolicy(template: TemplateJson, id: string, policy: string): TemplateJson {
	const copy = JSON.parse(JSON.stringify(template)) as TemplateJson;
	copy.id = id;
	copy.name = `${template.name} (${policy})`;
	for (const node of copy.nodes) {
		const options = node.parameters.options as Json | undefined;
		if (node.type.endsWith('.acD365FieldMap') && options?.conflictPolicy) options.conflictPolicy = policy;
	}
	return copy;
}

// ----------------------------------------------------------------------------------------------- sandbox access

async function control<T = Json>(side: 'ac' | 'd365', method: string, route: string, body?: unknown): Promise<T> {
	const url = side === 'ac' ? sandbox.ac.url : sandbox.d365.url;
	const res = await fetch(`${url}/__sandbox${route}`, {
		method,
		headers: { 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`${side} ${method} ${route}: ${res.status} ${text}`);
	return JSON.parse(text) as T;
}

async function acContact(email: string): Promise<Json | undefined> {
	const { contacts } = await control<{ contacts: Json[] }>('ac', 'GET', `/state/contacts?email=${encodeURIComponent(email)}`);
	return contacts[0];
}

async function acContactsByEmail(email: string): Promise<number> {
	const { contacts } = await control<{ contacts: Json[] }>('ac', 'GET', `/state/contacts?email=${encodeURIComponent(email)}`);
	return contacts.length;
}

async function acAllContacts(): Promise<Json[]> {
	const all: Json[] = [];
	for (let offset = 0; ; offset += 100) {
		const page = await control<{ contacts: Json[]; total: number }>('ac', 'GET', `/state/contacts?limit=100&offset=${offset}`);
		all.push(...page.contacts);
		if (all.length >= page.total || page.contacts.length === 0) return all;
	}
}

async function d365Rows(set: string): Promise<Json[]> {
	return (await control<{ value: Json[] }>('d365', 'GET', `/state/${set}?top=5000`)).value;
}

/** Write requests (POST/PUT/PATCH/DELETE) to each API since the last reset; the token endpoint is not a write. */
async function writes(): Promise<{ ac: number; d365: number; acRoutes: Json; d365Routes: Json }> {
	const count = (stats: { routes: Record<string, { count: number }> }) => {
		let n = 0;
		const routes: Json = {};
		for (const [route, entry] of Object.entries(stats.routes)) {
			if (!/^(POST|PUT|PATCH|DELETE) /.test(route) || /oauth2|\(reads\)$/.test(route)) continue;
			n += entry.count;
			routes[route] = entry.count;
		}
		return { n, routes };
	};
	const ac = count(await control('ac', 'GET', '/stats'));
	const d365 = count(await control('d365', 'GET', '/stats'));
	return { ac: ac.n, d365: d365.n, acRoutes: ac.routes, d365Routes: d365.routes };
}

async function resetStats(): Promise<void> {
	await control('ac', 'POST', '/stats/reset');
	await control('d365', 'POST', '/stats/reset');
}

function operations(result: ExecutionResult, node: string): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const item of result.items(node)) {
		const key = String(item.operation ?? 'error');
		counts[key] = (counts[key] ?? 0) + 1;
	}
	return counts;
}

/** Requests each API answered since the last reset (Dataverse's token endpoint is n8n's sign-in, not the nodes'). */
async function requestCounts(): Promise<{ activeCampaign: number; dynamics: number }> {
	const count = (stats: { routes: Record<string, { count: number }> }) =>
		Object.entries(stats.routes)
			.filter(([route]) => !/oauth2/.test(route))
			.reduce((n, [, entry]) => n + entry.count, 0);
	return { activeCampaign: count(await control('ac', 'GET', '/stats')), dynamics: count(await control('d365', 'GET', '/stats')) };
}

/** The Sync report's item and the output it came out of. */
function syncReport(result: ExecutionResult): { report: Json; output: 'Report' | 'Needs Attention' } {
	const [ok] = result.items('Sync report', 0);
	const [attention] = result.items('Sync report', 1);
	expect(Number(!!ok) + Number(!!attention)).toBe(1);
	return ok ? { report: ok, output: 'Report' } : { report: attention, output: 'Needs Attention' };
}

function reported(report: Json, entity: string, direction: string, key: string): number {
	const tally = (report.entities as Json[]).find((t) => t.entity === entity && t.direction === direction);
	return Number(tally?.[key] ?? 0);
}

function expectClean(result: ExecutionResult): void {
	expect(result.error).toBeUndefined();
}

// ----------------------------------------------------------------------------------------------- guarantees

describe('in a real n8n, against the sandbox', () => {
	it('Initial Sync as a preview (Settings → preview): writes nothing, and its report says it is a preview', async () => {
		acEmailsBefore = new Set((await acAllContacts()).map((entry) => String((entry.contact as Json | undefined)?.email ?? entry.email).toLowerCase()));
		await resetStats();
		const result = await n8n.execute(INITIAL_PREVIEW);
		expectClean(result);
		expect((await writes()).ac + (await writes()).d365).toBe(0);
		previewed = changesOf(result);
		expect(previewed.length).toBeGreaterThan(0);
		expect(syncReport(result).report.preview).toBe(true);
	});

	it('Initial Sync: every in-scope record exists on the other side with its mapped values', async () => {
		await resetStats();
		const leadsBefore = (await d365Rows('leads')).length;
		const result = await n8n.execute(WORKFLOW_IDS.initialSync);
		expectClean(result);
		// The preview listed the records this run created and updated (more only where a later part reads what an
		// earlier part links: see unexplainedPreviewDifferences).
		expect(unexplainedPreviewDifferences(previewed!, changesOf(result), acEmailsBefore)).toEqual({ missing: [], extra: [] });
		// The Sync report counts what the sandboxes saw.
		const { report, output } = syncReport(result);
		expect(report.requests).toEqual(await requestCounts());
		expect(output).toBe('Report');
		expect((report.totals as Json).failed).toBe(0);
		expect(reported(report, 'lead', 'toDynamics', 'created')).toBe((await d365Rows('leads')).length - leadsBefore);

		// Dynamics → ActiveCampaign: every contact, every lead that is not also a contact, every account.
		const contacts = await d365Rows('contacts');
		const leads = await d365Rows('leads');
		const accounts = await d365Rows('accounts');
		for (const contact of contacts) {
			const ac = await acContact(String(contact.emailaddress1));
			expect(ac).toBeDefined();
			expect(ac!.contact).toMatchObject({ firstName: contact.firstname, lastName: contact.lastname });
			expect((ac!.fields as Json).D365_RECORD_ID).toBe(`contact:${contact.contactid}`);
			expect(ac!.tags).toEqual(expect.arrayContaining(['[D365: Contact]', '[D365: Pushed from Dynamics]']));
		}
		const contactEmails = new Set(contacts.map((c) => String(c.emailaddress1).toLowerCase()));
		for (const lead of leads) {
			const email = String(lead.emailaddress1).toLowerCase();
			const ac = await acContact(email);
			// A qualified lead goes on as the contact it became: it is not brought into ActiveCampaign on its own.
			if (lead.statecode === 1 && !contactEmails.has(email)) {
				expect(ac).toBeUndefined();
				continue;
			}
			expect(ac).toBeDefined();
			if (!contactEmails.has(email)) {
				expect(String((ac!.fields as Json).D365_RECORD_ID)).toMatch(/^lead:/);
			}
		}
		const acAccounts = await control<{ accounts: Json[] }>('ac', 'GET', '/state/accounts');
		const acAccountNames = new Set(acAccounts.accounts.map((a) => String(a.name)));
		for (const account of accounts) expect(acAccountNames.has(String(account.name))).toBe(true);

		// ActiveCampaign → Dynamics: every ActiveCampaign account, and every ActiveCampaign-only contact as a lead.
		const accountNames = new Set((await d365Rows('accounts')).map((a) => String(a.name)));
		for (const name of acAccountNames) expect(accountNames.has(name)).toBe(true);
		const leadEmails = new Set((await d365Rows('leads')).map((l) => String(l.emailaddress1).toLowerCase()));
		for (const entry of await acAllContacts()) {
			const email = String((entry.contact as Json | undefined)?.email ?? entry.email).toLowerCase();
			expect(contactEmails.has(email) || leadEmails.has(email)).toBe(true);
		}
		const pulled = await acContact('noah.williams@example.com');
		if (pulled) expect(pulled.tags).toEqual(expect.arrayContaining(['[D365: Lead]', '[D365: Pulled from ActiveCampaign]']));

		// Opportunities with a contact are custom object records on that contact.
		const records = await control<{ records: Json[] }>('ac', 'GET', '/state/customObjects/d365-opportunity/records');
		expect(records.records.length).toBe(operations(result, 'Write opportunities to ActiveCampaign').created);
		expect(records.records.length).toBeGreaterThan(0);
		expect(reported(report, 'opportunity', 'toActiveCampaign', 'created')).toBe(records.records.length);
	});

	it('Initial Sync run again writes nothing', async () => {
		await resetStats();
		const result = await n8n.execute(WORKFLOW_IDS.initialSync);
		expectClean(result);
		const counted = await writes();
		console.log(`[measure] second initial sync: ${JSON.stringify(counted)}`);
		expect(counted.ac).toBe(0);
		expect(counted.d365).toBe(0);
	});

	it('the same email as a Dynamics lead and contact: one ActiveCampaign contact, following the Dynamics contact', async () => {
		const email = 'priya.patel@litware.com';
		expect(await acContactsByEmail(email)).toBe(1);
		const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === email)!;
		const ac = (await acContact(email))!;
		expect((ac.fields as Json).D365_RECORD_ID).toBe(`contact:${contact.contactid}`);
		expect(ac.tags).toContain('[D365: Contact]');
		expect(ac.tags).not.toContain('[D365: Lead]');
	});
});

describe('Scheduled Sync', () => {
	const cycle = async (id: string = WORKFLOW_IDS.scheduledSync) => {
		const result = await n8n.execute(id);
		expectClean(result);
		return result;
	};
	/** No echo: the next cycles find nothing to write on either side. */
	const expectQuietCycles = async (count: number) => {
		for (let i = 1; i <= count; i++) {
			await resetStats();
			await cycle();
			const quiet = await writes();
			console.log(`[measure] quiet cycle ${i}: ${JSON.stringify(quiet)}`);
			expect([quiet.ac, quiet.d365]).toEqual([0, 0]);
		}
	};

	beforeAll(async () => {
		// The first run of each copy starts its cursors now.
		for (const id of [WORKFLOW_IDS.scheduledSync, ...Object.values(POLICY_COPIES)]) await cycle(id);
	});

	it('one change in Dynamics causes exactly one write in ActiveCampaign, and no writes over the next three cycles', async () => {
		const maria = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'maria.garcia@contoso.com')!;
		await control('d365', 'PATCH', `/ui/contacts/${maria.contactid}`, { jobtitle: 'VP Marketing' });
		await resetStats();
		const result = await cycle();
		const counted = await writes();
		console.log(`[measure] one Dynamics change: ${JSON.stringify(counted)}`);
		expect(operations(result, 'Write contacts to ActiveCampaign')).toEqual({ updated: 1 });
		expect(counted.d365).toBe(0);
		expect(counted.ac).toBeGreaterThanOrEqual(1);
		expect(((await acContact('maria.garcia@contoso.com'))!.account as Json | undefined)?.jobTitle ?? 'VP Marketing').toBe('VP Marketing');

		await expectQuietCycles(3);
	});

	it('one change in ActiveCampaign causes exactly one write in Dynamics, and no writes over the next three cycles', async () => {
		const ac = (await acContact('li.wei@fabrikam.com'))!;
		await control('ac', 'PATCH', `/ui/contacts/${(ac.contact as Json).id}`, { lastName: 'Wei-Chen' });
		await resetStats();
		const result = await cycle();
		const counted = await writes();
		console.log(`[measure] one ActiveCampaign change: ${JSON.stringify(counted)}`);
		expect(operations(result, 'Write contacts to Dynamics')).toEqual({ updated: 1 });
		expect(counted.d365).toBe(1);
		const li = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'li.wei@fabrikam.com')!;
		expect(li.lastname).toBe('Wei-Chen');

		await expectQuietCycles(3);
	});

	it('an email changed on one side updates the linked record instead of creating a new one', async () => {
		// Dynamics side.
		const jonas = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'jonas.berg@northwind.com')!;
		const before = (await acContact('jonas.berg@northwind.com'))!;
		const acCount = (await acAllContacts()).length;
		await control('d365', 'PATCH', `/ui/contacts/${jonas.contactid}`, { emailaddress1: 'jonas.berg@northwind.example' });
		await cycle();
		const after = (await acContact('jonas.berg@northwind.example'))!;
		expect((after.contact as Json).id).toBe((before.contact as Json).id);
		expect(await acContactsByEmail('jonas.berg@northwind.com')).toBe(0);
		expect((await acAllContacts()).length).toBe(acCount);

		// ActiveCampaign side.
		const d365Count = (await d365Rows('contacts')).length;
		await control('ac', 'PATCH', `/ui/contacts/${(after.contact as Json).id}`, { email: 'jonas@northwind.example' });
		await cycle();
		const moved = (await d365Rows('contacts')).find((c) => c.contactid === jonas.contactid)!;
		expect(moved.emailaddress1).toBe('jonas@northwind.example');
		expect((await d365Rows('contacts')).length).toBe(d365Count);
	});

	it.each([
		['dynamicsWins', 'From Dynamics'],
		['activeCampaignWins', 'From ActiveCampaign'],
		['newestWins', 'newest'],
	] as const)('both sides changed between runs: %s decides', async (policy, expected) => {
		const id = POLICY_COPIES[policy];
		const email = 'sam.taylor@adatum.com';
		const lead = (await d365Rows('leads')).find((l) => l.emailaddress1 === email)!;
		const ac = (await acContact(email))!;
		// Dynamics first, then ActiveCampaign a few seconds later (so "newest" is ActiveCampaign).
		await control('d365', 'PATCH', `/ui/leads/${lead.leadid}`, { firstname: `From Dynamics ${policy}` });
		await new Promise((resolve) => setTimeout(resolve, 2100));
		await control('ac', 'PATCH', `/ui/contacts/${(ac.contact as Json).id}`, { firstName: `From ActiveCampaign ${policy}` });
		await cycle(id);
		const winner = expected === 'newest' ? `From ActiveCampaign ${policy}` : `${expected} ${policy}`;
		const d365After = (await d365Rows('leads')).find((l) => l.leadid === lead.leadid)!;
		const acAfter = (await acContact(email))!;
		expect([d365After.firstname, (acAfter.contact as Json).firstName]).toEqual([winner, winner]);
		// And it stays settled.
		await resetStats();
		await cycle(id);
		expect(await writes()).toMatchObject({ ac: 0, d365: 0 });
	});

	it('two overlapping executions of the Scheduled Sync create a new record once', async () => {
		await control('ac', 'POST', '/ui/contacts', { email: 'overlap@example.com', firstName: 'Over', lastName: 'Lap', tags: ['[D365: Lead]'] });
		// Two `n8n execute` processes at once, each a whole cycle, as a long cycle and "Run now" would be. Every
		// Dataverse request is held 1.5 s, so each run takes far longer than the two processes' start-up difference:
		// both read the new contact before either has written it.
		const limits = await control<Json>('d365', 'GET', '/limits');
		await control('d365', 'PUT', '/limits', { latencyMs: 1500 });
		let results: ExecutionResult[];
		try {
			results = await Promise.all([n8n.execute(WORKFLOW_IDS.scheduledSync), n8n.execute(WORKFLOW_IDS.scheduledSync)]);
		} finally {
			await control('d365', 'PUT', '/limits', { latencyMs: Number(limits.latencyMs ?? 0) });
		}
		for (const result of results) expectClean(result);
		const created = results.map((r) => operations(r, 'Write leads to Dynamics'));
		console.log(`[measure] overlapping executions, Write leads to Dynamics: ${JSON.stringify(created)}`);
		// Both wrote it: one created it, the other met the same derived id and updated (or found nothing to change).
		for (const counts of created) expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
		expect(created.map((c) => c.created ?? 0).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
		const leads = (await d365Rows('leads')).filter((l) => String(l.emailaddress1).toLowerCase() === 'overlap@example.com');
		expect(leads).toHaveLength(1);
		expect(((await acContact('overlap@example.com'))!.fields as Json).D365_RECORD_ID).toBe(`lead:${String(leads[0].leadid)}`);
		await expectQuietCycles(1);
	});

	it('a record that cannot be written ends on an error output with its reason; the rest of the run completes', async () => {
		// A new ActiveCampaign lead whose last name is longer than Dynamics allows (50), and a good one.
		await control('ac', 'POST', '/ui/contacts', {
			email: 'too.long@example.com',
			firstName: 'Too',
			lastName: 'L'.repeat(80),
			tags: ['[D365: Lead]'],
		});
		await control('ac', 'POST', '/ui/contacts', { email: 'just.right@example.com', firstName: 'Just', lastName: 'Right', tags: ['[D365: Lead]'] });
		await resetStats();
		const result = await n8n.execute(WORKFLOW_IDS.scheduledSync);
		// The Sync report says so, on Needs Attention, with the requests the sandboxes counted.
		const { report, output } = syncReport(result);
		expect(output).toBe('Needs Attention');
		// And the run ends failed with the report's summary (Settings → failRunOnAlert), after the report page: what n8n
		// shows in the execution list and hands to the error workflow.
		expect(result.error).toBe(report.summary);
		expect(result.error).toMatch(/^Needs attention: 1 failed \(Leads → Dynamics 1\)/);
		expect(result.items('Report page')).toHaveLength(1);
		expect(result.items('Failed records')).toHaveLength(1);
		expect(report.requests).toEqual(await requestCounts());
		expect(reported(report, 'lead', 'toDynamics', 'failed')).toBe(1);
		expect(reported(report, 'lead', 'toDynamics', 'created')).toBe(1);
		expect((report.totals as Json).retriesPending).toBeGreaterThanOrEqual(1);
		const failed = result.items('Write leads to Dynamics', 1);
		expect(failed).toHaveLength(1);
		expect(JSON.stringify(failed[0])).toMatch(/lastname|length/i);
		expect(operations(result, 'Write leads to Dynamics')).toEqual({ created: 1 });
		expect((await d365Rows('leads')).some((l) => l.emailaddress1 === 'just.right@example.com')).toBe(true);
		expect((await d365Rows('leads')).some((l) => l.emailaddress1 === 'too.long@example.com')).toBe(false);
	});
});

describe('Global Sync (the switch in the Dynamics 365 credential)', () => {
	it('off stops Dynamics → ActiveCampaign while ActiveCampaign → Dynamics goes on; the first cycle once it is on is the initial sync, once', async () => {
		// The contact an earlier test made too long for Dynamics, fixed as a user would: this workflow's first read meets
		// every ActiveCampaign contact.
		const tooLong = (await acContact('too.long@example.com'))!;
		await control('ac', 'PATCH', `/ui/contacts/${String((tooLong.contact as Json).id)}`, { lastName: 'Long' });
		// A Scheduled Sync that has never run, with Global Sync off (the official app's "off": pause Dynamics → ActiveCampaign).
		const waiting = 'global.waiting@example.org';
		const flowing = 'global.flowing@example.org';
		await control('d365', 'POST', '/ui/contacts', { firstname: 'Global', lastname: 'Waiting', emailaddress1: waiting });
		await control('ac', 'POST', '/ui/contacts', { email: flowing, firstName: 'Global', lastName: 'Flowing', tags: ['[D365: Lead]'] });
		await resetStats();
		const paused = await n8n.execute(GLOBAL_SWITCH.workflow);
		expectClean(paused);
		const stopped = await writes();
		console.log(`[measure] Global Sync off, first cycle: ${JSON.stringify(stopped)}`);
		expect(await acContact(waiting)).toBeUndefined();
		expect((await d365Rows('leads')).some((l) => l.emailaddress1 === flowing)).toBe(true);
		expect(paused.ran('Dynamics contact changes')).toBe(false);
		expect(paused.ran('Dynamics → ActiveCampaign paused')).toBe(true);
		expect(syncReport(paused).report.summary).toMatch(/Paused by Global Sync: Dynamics → ActiveCampaign\.$/);

		// Switched on in the credential: the next cycle reads everything Dynamics has (the initial sync).
		await switchGlobalSync('on');
		await resetStats();
		const first = await n8n.execute(GLOBAL_SWITCH.workflow);
		expectClean(first);
		const initial = await writes();
		console.log(`[measure] Global Sync on, first cycle (initial sync): ${JSON.stringify(initial)}; report: ${String(syncReport(first).report.summary)}`);
		expect(await acContact(waiting)).toBeDefined();
		expect(operations(first, 'Write contacts to ActiveCampaign').created).toBe(1);
		expect(syncReport(first).report.paused).toBeUndefined();

		// Once: the cycle after reads only what changed, and nothing did.
		await resetStats();
		const next = await n8n.execute(GLOBAL_SWITCH.workflow);
		expectClean(next);
		const quiet = await writes();
		console.log(`[measure] Global Sync on, next cycle: ${JSON.stringify(quiet)}, requests ${JSON.stringify(await requestCounts())}`);
		expect([quiet.ac, quiet.d365]).toEqual([0, 0]);
		expect(next.ran('Dynamics contact changes')).toBe(true);
		expect(next.items('Dynamics contact changes')).toEqual([]);
	});
});

describe('Marketing Activities', () => {
	it('turns ActiveCampaign activities of linked contacts into Dynamics notes, once', async () => {
		await control('ac', 'POST', '/engagement', { email: 'maria.garcia@contoso.com', type: 'open', campaignId: 1 });
		const notesBefore = (await d365Rows('annotations')).length;
		const first = await n8n.execute(WORKFLOW_IDS.marketingActivities);
		expectClean(first);
		const added = operations(first, 'Add note to the Dynamics record');
		expect(added.created).toBeGreaterThan(0);
		expect((await d365Rows('annotations')).length).toBe(notesBefore + added.created);
		const maria = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'maria.garcia@contoso.com')!;
		const notes = (await d365Rows('annotations')).filter((n) => n._objectid_value === maria.contactid);
		expect(notes.some((n) => /^ActiveCampaign: Opened/.test(String(n.subject)))).toBe(true);

		await resetStats();
		const second = await n8n.execute(WORKFLOW_IDS.marketingActivities);
		expectClean(second);
		expect(operations(second, 'Add note to the Dynamics record').created ?? 0).toBe(0);
		expect((await writes()).d365).toBe(0);
	});
});

/**
 * The ActiveCampaign webhooks a published workflow's ActiveCampaign Sync Trigger registered (n8n activates workflows
 * just after it reports ready, so this waits for the registration, up to a minute).
 */
async function registeredHooks(workflowId: string): Promise<Json[]> {
	const deadline = Date.now() + 60_000;
	for (;;) {
		const hooks = (await control<{ webhooks: Json[] }>('ac', 'GET', '/state/webhooks')).webhooks.filter((h) => String(h.name).includes(workflowId));
		if (hooks.length || Date.now() > deadline) return hooks;
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/**
 * The Dataverse webhook (service endpoint) a published workflow's Dynamics 365 Trigger registered, with its steps
 * (waits for the registration, up to a minute).
 */
async function registeredDataverseHook(workflowId: string): Promise<{ endpoint: Json | undefined; steps: Json[] }> {
	const deadline = Date.now() + 60_000;
	for (;;) {
		const endpoint = (await d365Rows('serviceendpoints')).find((e) => String(e.name).includes(workflowId));
		if (endpoint || Date.now() > deadline) {
			const steps = endpoint ? (await d365Rows('sdkmessageprocessingsteps')).filter((s) => s._eventhandler_value === endpoint.serviceendpointid) : [];
			return { endpoint, steps };
		}
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/** The workflow's executions (newest first), once none is running any more (waits up to a minute). */
async function endedRuns(workflowId: string): Promise<Array<{ id: string; status: string; mode: string }>> {
	type Executions = { results: Array<{ id: string; status: string; mode: string }> };
	const runs = async () => (await n8n.rest<Executions>('GET', `/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`)).results;
	for (const deadline = Date.now() + 60_000; (await runs()).some((e) => !['success', 'error', 'crashed', 'canceled'].includes(e.status)) && Date.now() < deadline; ) {
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	return await runs();
}

/** One scheduled cycle of the workflow by hand: its writes to ActiveCampaign and to Dynamics. */
async function scheduledCycleWrites(workflowId: string): Promise<[number, number]> {
	await resetStats();
	const next = await n8n.execute(workflowId);
	expect(next.crash).toBeUndefined();
	const quiet = await writes();
	console.log(`[measure] the scheduled cycle after it: ${JSON.stringify(quiet)}`);
	return [quiet.ac, quiet.d365];
}

/** Removes webhooks from ActiveCampaign, as unpublishing would: later tests' changes are not the removed ones' business. */
async function removeHooks(hooks: Json[]): Promise<void> {
	for (const hook of hooks) await fetch(`${sandbox.ac.url}/api/3/webhooks/${String(hook.id)}`, { method: 'DELETE', headers: { 'Api-Token': SANDBOX_CREDENTIALS.acApiKey } });
}

describe('active workflows in an n8n server', () => {
	beforeAll(async () => {
		// The Sync Alerts workflow too: n8n 2.x runs an error workflow only when it is published.
		const previews = Object.values(WEBHOOK_PREVIEWS);
		for (const id of [REAL_TIME_COPY, WORKFLOW_IDS.opportunities, WORKFLOW_IDS.marketingActivities, WORKFLOW_IDS.salesActions, WORKFLOW_IDS.automationToDynamics, WORKFLOW_IDS.syncAlerts, ...previews.map((p) => p.id)]) {
			await n8n.publishWorkflow(id);
		}
		await n8n.start();
		// n8n registers the webhooks of active workflows just after it reports ready; a CORS preflight (which runs no
		// workflow) answers 204 once a path is registered.
		for (const webhookPath of ['d365-sales-action', 'ac-create-in-dynamics', ...previews.map((p) => p.path)]) {
			const deadline = Date.now() + 60_000;
			for (;;) {
				const preflight = await fetch(`${n8n.url}/webhook/${webhookPath}`, {
					method: 'OPTIONS',
					headers: { Origin: 'https://contoso.crm4.dynamics.com', 'Access-Control-Request-Method': 'POST' },
				});
				if (preflight.status === 204 || Date.now() > deadline) break;
				await new Promise((resolve) => setTimeout(resolve, 1000));
			}
		}
	});

	it('Scheduled Sync in real time: an ActiveCampaign change is in Dynamics within 10 seconds, and the scheduled cycle after it writes nothing', async () => {
		// Published with "When ActiveCampaign changes (real time)" enabled: its webhook is registered in ActiveCampaign.
		const hooks = await registeredHooks(REAL_TIME_COPY);
		expect(hooks).toHaveLength(1);
		try {
			// Its first cycle (the initial sync) by hand, so that the change below is the only news.
			const first = await n8n.execute(REAL_TIME_COPY);
			expect(first.crash).toBeUndefined();
			const email = 'li.wei@fabrikam.com';
			const phone = '+1 425 555 0177';
			const changed = Date.now();
			await control('ac', 'PATCH', `/ui/contacts/${String(((await acContact(email))!.contact as Json).id)}`, { phone });
			let arrived = false;
			for (const deadline = changed + 10_000; !arrived && Date.now() < deadline; ) {
				arrived = (await d365Rows('contacts')).some((c) => c.emailaddress1 === email && c.telephone1 === phone);
				if (!arrived) await new Promise((resolve) => setTimeout(resolve, 250));
			}
			console.log(`[measure] Scheduled Sync in real time: the ActiveCampaign change was in Dynamics ${Date.now() - changed} ms later`);
			expect(arrived).toBe(true);
			// Once the real-time cycle has ended, the scheduled cycle (the same cursors) finds nothing to write.
			expect((await endedRuns(REAL_TIME_COPY)).filter((e) => e.mode === 'webhook').map((e) => e.status)).toEqual(['success']);
			expect(await scheduledCycleWrites(REAL_TIME_COPY)).toEqual([0, 0]);
		} finally {
			// Later tests change ActiveCampaign contacts: their cycles are not this test's business.
			await removeHooks(hooks);
		}
	});

	it('Scheduled Sync in real time: a Dynamics change is in ActiveCampaign within 10 seconds through a Dataverse webhook, and the scheduled cycle after it writes nothing', async () => {
		// Published with "When Dynamics changes (real time)" enabled: the trigger registered a service endpoint and a
		// step per event in Dataverse (the ActiveCampaign test above ran the first cycle).
		const { endpoint, steps } = await registeredDataverseHook(REAL_TIME_COPY);
		expect(endpoint).toMatchObject({ contract: 8, authtype: 5 });
		expect(steps).toHaveLength(9);
		const webhookRunsBefore = (await endedRuns(REAL_TIME_COPY)).filter((e) => e.mode === 'webhook').length;
		try {
			const email = 'maria.garcia@contoso.com';
			const phone = '+1 206 555 0188';
			const row = (await d365Rows('contacts')).find((c) => c.emailaddress1 === email)!;
			expect(((await acContact(email))!.contact as Json).phone).not.toBe(phone);
			const changed = Date.now();
			await control('d365', 'PATCH', `/ui/contacts/${String(row.contactid)}`, { telephone1: phone });
			let arrived = false;
			for (const deadline = changed + 10_000; !arrived && Date.now() < deadline; ) {
				arrived = ((await acContact(email))!.contact as Json).phone === phone;
				if (!arrived) await new Promise((resolve) => setTimeout(resolve, 250));
			}
			console.log(`[measure] Scheduled Sync in real time: the Dynamics change was in ActiveCampaign ${Date.now() - changed} ms later`);
			expect(arrived).toBe(true);
			// One call, one cycle: the sync's own writes to Dynamics in it called the workflow too, and were left out.
			const webhookRuns = (await endedRuns(REAL_TIME_COPY)).filter((e) => e.mode === 'webhook');
			expect(webhookRuns.slice(0, webhookRuns.length - webhookRunsBefore).map((e) => e.status)).toEqual(['success']);
			expect(await scheduledCycleWrites(REAL_TIME_COPY)).toEqual([0, 0]);
		} finally {
			// As unpublishing would: later tests' Dynamics changes are not this workflow's business.
			if (endpoint) await control('d365', 'DELETE', `/ui/serviceendpoints/${String(endpoint.serviceendpointid)}`);
		}
	});

	it('Marketing Activities in real time: an email activity becomes a note on the Dynamics record within 10 seconds; the catch-up adds no second one', async () => {
		// Published, the workflow's ActiveCampaign Sync Trigger registered its webhook in ActiveCampaign.
		const hooks = await registeredHooks(WORKFLOW_IDS.marketingActivities);
		expect(hooks).toHaveLength(1);
		expect(hooks[0].events).toEqual(expect.arrayContaining(['sent', 'open', 'click', 'reply', 'forward', 'bounce', 'unsubscribe']));
		try {
			const email = 'li.wei@fabrikam.com';
			const li = (await d365Rows('contacts')).find((c) => c.emailaddress1 === email)!;
			const notesOf = async () => (await d365Rows('annotations')).filter((n) => n._objectid_value === li.contactid);
			const before = new Set((await notesOf()).map((n) => n.annotationid));
			const clicked = Date.now();
			await control('ac', 'POST', '/engagement', { email, type: 'click', campaignId: 2 });
			let arrived: Json | undefined;
			for (const deadline = clicked + 10_000; !arrived && Date.now() < deadline; ) {
				arrived = (await notesOf()).find((n) => !before.has(n.annotationid) && /^ActiveCampaign: Clicked /.test(String(n.subject)));
				if (!arrived) await new Promise((resolve) => setTimeout(resolve, 250));
			}
			console.log(`[measure] Marketing Activities in real time: the note arrived ${Date.now() - clicked} ms after the click: ${String(arrived?.subject)}`);
			expect(arrived).toBeDefined();
			expect((await notesOf()).length).toBe(before.size + 1);

			// The catch-up reads the same click from the contact's activities: same subject, no second note.
			const catchUp = await n8n.execute(WORKFLOW_IDS.marketingActivities);
			expectClean(catchUp);
			expect(catchUp.items('Add note to the Dynamics record').filter((i) => i.subject === arrived!.subject).map((i) => i.operation)).toEqual(['skipped']);
			expect((await notesOf()).length).toBe(before.size + 1);
		} finally {
			// Later tests send campaigns: their "sent" activities are not this test's business.
			await removeHooks(hooks);
		}
	});

	it('installs by hand with npm defaults on Node 24, without a second n8n-workflow, and n8n lists all six nodes', async () => {
		expectManualInstall(n8n);
		await expectAllNodesListed(n8n);
	});

	it('tests both credentials from the credential screen, for every form of the URL a user may paste', async () => {
		const test = async (id: string, data: Json = {}) => {
			const credential = await n8n.rest<Json & { data: Json }>('GET', `/credentials/${id}?includeData=true`);
			return await n8n.rest<Json>('POST', '/credentials/test', { credentials: { ...credential, data: { ...credential.data, ...data } } });
		};
		// As ActiveCampaign shows it (Settings → Developer), with a trailing slash, with /api/3.
		for (const apiUrl of [sandbox.ac.url, `${sandbox.ac.url}/`, `${sandbox.ac.url}/api/3`, `${sandbox.ac.url}/api/3/`]) {
			expect({ apiUrl, result: await test('acSyncCredential1', { apiUrl }) }).toMatchObject({ apiUrl, result: { status: 'OK' } });
		}
		// The environment URL as the admin center shows it, with a trailing slash, with the Web API path.
		for (const environmentUrl of [sandbox.d365.url, `${sandbox.d365.url}/`, `${sandbox.d365.url}/api/data/v9.2`, `${sandbox.d365.url}/api/data/v9.2/`]) {
			expect({ environmentUrl, result: await test('d365SyncCredentl', { environmentUrl }) }).toMatchObject({ environmentUrl, result: { status: 'OK' } });
		}
		expect(await test('acSyncCredential1', { apiKey: 'not-the-key' })).toMatchObject({ status: 'Error' });
	});

	it('signs in with the Dynamics OAuth2 credential through n8n\'s Connect flow, and its Test (WhoAmI) passes', async () => {
		const created = await n8n.rest<Json>('POST', '/credentials', {
			name: 'Dynamics 365 (signed-in user)',
			type: 'dynamics365OAuth2Api',
			data: {
				environmentUrl: `${sandbox.d365.url}/`,
				tenantId: SANDBOX_CREDENTIALS.d365TenantId,
				authorityHost: sandbox.d365.url,
				clientId: SANDBOX_CREDENTIALS.d365ClientId,
				clientSecret: SANDBOX_CREDENTIALS.d365ClientSecret,
			},
		});
		const id = String(created.id);
		// Before signing in there is no token: the Test says so.
		const test = async (data: Json = {}) => {
			const credential = await n8n.rest<Json & { data: Json }>('GET', `/credentials/${id}?includeData=true`);
			return await n8n.rest<Json>('POST', '/credentials/test', { credentials: { ...credential, data: { ...credential.data, ...data } } });
		};
		expect(await test()).toMatchObject({ status: 'Error' });

		// "Connect": the sign-in URL n8n builds from the credential's hidden fields, followed like a browser does.
		const authUrl = new URL(await n8n.rest<string>('GET', `/oauth2-credential/auth?id=${id}`));
		expect(`${authUrl.origin}${authUrl.pathname}`).toBe(`${sandbox.d365.url}/${SANDBOX_CREDENTIALS.d365TenantId}/oauth2/v2.0/authorize`);
		expect(authUrl.searchParams.get('scope')).toBe(`${sandbox.d365.url}/user_impersonation offline_access`);
		expect(authUrl.searchParams.get('client_id')).toBe(SANDBOX_CREDENTIALS.d365ClientId);
		expect(authUrl.searchParams.get('prompt')).toBe('select_account');
		const signIn = await fetch(authUrl, { redirect: 'manual' });
		expect(signIn.status).toBe(302);
		const callback = new URL(signIn.headers.get('location')!);
		expect(callback.pathname).toBe('/rest/oauth2-credential/callback');
		expect(callback.searchParams.get('code')).toBeTruthy();
		const done = await n8n.browse(`${callback.pathname}${callback.search}`);
		expect(done.status).toBeLessThan(400);
		expect(await done.text()).not.toMatch(/error/i);

		// The Test: WhoAmI as the signed-in user, for every form of the environment URL.
		for (const environmentUrl of [sandbox.d365.url, `${sandbox.d365.url}/`, `${sandbox.d365.url}/api/data/v9.2`, `${sandbox.d365.url}/api/data/v9.2/`]) {
			expect({ environmentUrl, result: await test({ environmentUrl }) }).toMatchObject({ environmentUrl, result: { status: 'OK' } });
		}
	});

	it('Opportunity Sync: a new Dynamics opportunity becomes a custom object record on its contact', async () => {
		const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'maria.garcia@contoso.com')!;
		const created = await control<Json>('d365', 'POST', '/ui/opportunities', {
			name: 'E2E expansion deal',
			estimatedvalue: 12345.67,
			estimatedclosedate: '2026-12-31',
			'customerid_contact@odata.bind': `/contacts(${contact.contactid})`,
		});
		const id = String(created.opportunityid ?? created.id);
		const deadline = Date.now() + 150_000;
		let record: Json | undefined;
		while (!record && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 5000));
			const records = await control<{ records: Json[] }>('ac', 'GET', '/state/customObjects/d365-opportunity/records');
			record = records.records.find((r) => r.externalId === id);
		}
		expect(record).toBeDefined();
		expect(JSON.stringify(record)).toContain('E2E expansion deal');
		expect(JSON.stringify(record)).toContain('1234567');
	});

	it('Opportunity Sync: ActiveCampaign\'s own "D365 Opportunity Updated (Stage: Any → Close)" trigger enrolls the contact when the stage changes in Dynamics', async () => {
		// The builder offers the two triggers of the synced object, named after it.
		const { triggers } = await control<{ triggers: Json[] }>('ac', 'GET', '/automationTriggers');
		expect(triggers.map((t) => t.name)).toEqual(['D365 Opportunity Created', 'D365 Opportunity Updated']);
		await control('ac', 'POST', '/automations', { name: 'D365 deal closing', trigger: { name: 'D365 Opportunity Updated', field: 'stage', from: 'Any', to: 'Close' } });
		const enrolled = async () => ((await acContact('maria.garcia@contoso.com'))!.automations as Json[]).some((a) => a.name === 'D365 deal closing');
		expect(await enrolled()).toBe(false);
		const opportunity = (await d365Rows('opportunities')).find((o) => o.name === 'E2E expansion deal')!;
		await control('d365', 'PATCH', `/ui/opportunities/${String(opportunity.opportunityid)}`, { salesstage: 3 });
		// The Opportunity Sync's trigger polls every minute; the record's update then starts ActiveCampaign's automation.
		const deadline = Date.now() + 150_000;
		while (!(await enrolled()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5000));
		expect(await enrolled()).toBe(true);
		const records = await control<{ records: Json[] }>('ac', 'GET', '/state/customObjects/d365-opportunity/records');
		expect(JSON.stringify(records.records.find((r) => r.externalId === opportunity.opportunityid))).toContain('Close');
	});

	it('Opportunity Sync: a record that cannot be written fails the run with its report, and n8n starts the Sync Alerts error workflow', async () => {
		// A Dynamics contact the Scheduled Sync has not brought to ActiveCampaign yet: its opportunity has no contact there.
		const stranger = await control<Json>('d365', 'POST', '/ui/contacts', { firstname: 'No', lastname: 'Twin', emailaddress1: 'no.twin@example.org' });
		await control<Json>('d365', 'POST', '/ui/opportunities', {
			name: 'E2E deal without an ActiveCampaign contact',
			estimatedvalue: 10,
			'customerid_contact@odata.bind': `/contacts(${String(stranger.contactid)})`,
		});
		type Executions = { results: Array<{ id: string; status: string; workflowId: string }> };
		const executionsOf = async (workflowId: string) =>
			(await n8n.rest<Executions>('GET', `/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`)).results;
		const deadline = Date.now() + 150_000;
		let alerts = await executionsOf(WORKFLOW_IDS.syncAlerts);
		while (!alerts.some((e) => e.status === 'success') && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 5000));
			alerts = await executionsOf(WORKFLOW_IDS.syncAlerts);
		}
		// The Opportunity Sync's run failed on purpose (its last step), and the error workflow ran once for it.
		expect((await executionsOf(WORKFLOW_IDS.opportunities)).filter((e) => e.status === 'error')).toHaveLength(1);
		expect(alerts.map((e) => e.status)).toEqual(['success']);
		// What the alert step received: which workflow failed, at which step, and the report's one-line summary.
		const detail = JSON.stringify(await n8n.rest('GET', `/executions/${alerts[0].id}`));
		for (const text of ['Sync run of', 'AC ⇄ D365: Opportunity Sync', 'failed at', 'Fail the run (starts the error workflow)', 'Needs attention: 1 failed']) expect(detail).toContain(text);
	});

	/** POSTs a sales action as the flow or the command-bar button does; `secret: null` sends no secret header. */
	const salesAction = async (body: Json, secret: string | null = secrets.salesActionsSecret, webhookPath = 'd365-sales-action') =>
		await fetch(`${n8n.url}/webhook/${webhookPath}`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', ...(secret === null ? {} : { [SALES_ACTION_SECRET_HEADER]: secret }) },
			body: JSON.stringify(body),
		});

	/** The same call to the Sales Actions copy whose preview switch is on. */
	const salesActionPreview = async (body: Json) => await salesAction(body, secrets.salesActionsSecret, WEBHOOK_PREVIEWS['sales-actions.json'].path);

	/** Requests the Dataverse sandbox received that name a record (by its id). */
	const requestsFor = async (id: string) => {
		const { requests } = await control<{ requests: Array<{ path: string }> }>('d365', 'GET', '/requests?last=1000');
		return requests.filter((r) => r.path.toLowerCase().includes(id.toLowerCase()));
	};
	const LI = 'li.wei@fabrikam.com';

	it('Sales Actions: a call without the secret, or with a wrong one, is refused by n8n and changes nothing', async () => {
		const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === LI)!;
		const automationsBefore = (await acContact(LI))!.automations;
		const request = { recordType: 'contact', recordId: contact.contactid, action: 'addToAutomation', automation: '2', userEmail: SANDBOX_SALES_USER };
		await resetStats();
		const withoutSecret = await salesAction(request, null);
		const wrongSecret = await salesAction(request, 'not-the-secret');
		expect([withoutSecret.status, wrongSecret.status].every((status) => status === 401 || status === 403)).toBe(true);
		expect(await writes()).toMatchObject({ ac: 0, d365: 0 });
		expect(await requestsFor(String(contact.contactid))).toEqual([]);
		expect((await acContact(LI))!.automations).toEqual(automationsBefore);
	});

	it('Sales Actions: a Dynamics user who is not under "Allowed Dynamics users" gets 403 with the reason; nothing is read or written', async () => {
		const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === LI)!;
		const automationsBefore = (await acContact(LI))!.automations;
		await resetStats();
		const refused = await salesAction({
			recordType: 'contact',
			recordId: contact.contactid,
			action: 'addToAutomation',
			automation: '2',
			userEmail: 'intruder@contoso.com',
			userId: '00000000-0000-4000-8000-000000000001',
		});
		expect(refused.status).toBe(403);
		expect(await refused.json()).toMatchObject({
			ok: false,
			error: 'intruder@contoso.com is not allowed to run sales actions; add them under Allowed Dynamics users',
		});
		// A request that names nobody is refused too.
		const anonymous = await salesAction({ recordType: 'contact', recordId: contact.contactid, action: 'addToAutomation', automation: '2' });
		expect(anonymous.status).toBe(403);
		expect(String(((await anonymous.json()) as Json).error)).toMatch(/names no Dynamics user/);
		const counted = await writes();
		expect([counted.ac, counted.d365]).toEqual([0, 0]);
		expect(await requestsFor(String(contact.contactid))).toEqual([]);
		expect((await acContact(LI))!.automations).toEqual(automationsBefore);
	});

	it('Sales Actions: a webhook call adds the Dynamics contact to an ActiveCampaign automation', async () => {
		const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'maria.garcia@contoso.com')!;
		// The allowed user's email in another case, as Power Automate may send it.
		const response = await salesAction({
			recordType: 'contact',
			recordId: contact.contactid,
			action: 'addToAutomation',
			automation: '2',
			userEmail: SANDBOX_SALES_USER.toUpperCase(),
		});
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ ok: true, action: 'addToAutomation', preview: false });
		const ac = (await acContact('maria.garcia@contoso.com'))!;
		expect(JSON.stringify(ac.automations)).toMatch(/D365 Sales Follow-up|"2"/);

		// The other action: send a campaign to a Dynamics lead (created in ActiveCampaign first if needed), by a user
		// allowed by id.
		const lead = (await d365Rows('leads')).find((l) => l.emailaddress1 === 'sam.taylor@adatum.com')!;
		const sent = await salesAction({ recordType: 'lead', recordId: lead.leadid, action: 'sendCampaign', campaign: '1', userId: ALLOWED_USER_ID });
		expect(sent.status).toBe(200);
		expect(await sent.json()).toMatchObject({ ok: true, action: 'sendCampaign' });
		const sam = (await acContact('sam.taylor@adatum.com'))!;
		expect((sam.activities as Json[]).some((a) => /sent|send/i.test(JSON.stringify(a)))).toBe(true);

		// An unknown action and a record that does not exist are answered with the reason.
		const unknown = await salesAction({ recordType: 'lead', recordId: lead.leadid, action: 'delete', userId: ALLOWED_USER_ID });
		expect(unknown.status).toBe(400);
		expect(String(((await unknown.json()) as Json).error)).toMatch(/Unknown action "delete"/);
		const missing = await salesAction({
			recordType: 'contact',
			recordId: '00000000-0000-4000-8000-00000000dead',
			action: 'addToAutomation',
			automation: '2',
			userEmail: SANDBOX_SALES_USER,
		});
		expect(missing.status).toBe(502);
		expect(((await missing.json()) as Json).ok).toBe(false);
	});

	it('Sales Actions as a preview (Settings → preview): the answer says what it would do, and nothing is written', async () => {
		const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'li.wei@fabrikam.com')!;
		const automationsBefore = JSON.stringify((await acContact('li.wei@fabrikam.com'))!.automations);
		await resetStats();
		const response = await salesActionPreview({ recordType: 'contact', recordId: contact.contactid, action: 'addToAutomation', automation: '2', userEmail: SANDBOX_SALES_USER });
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ ok: true, action: 'addToAutomation', contact: 'li.wei@fabrikam.com', preview: true });
		const counted = await writes();
		expect([counted.ac, counted.d365]).toEqual([0, 0]);
		expect(JSON.stringify((await acContact('li.wei@fabrikam.com'))!.automations)).toBe(automationsBefore);

		// A Dynamics contact not in ActiveCampaign yet: the preview says it would create it and send the campaign.
		const fresh = await control<Json>('d365', 'POST', '/ui/contacts', { firstname: 'Not', lastname: 'Yet', emailaddress1: 'not.yet@example.org' });
		const sent = await salesActionPreview({ recordType: 'contact', recordId: fresh.contactid, action: 'sendCampaign', campaign: '1', userEmail: SANDBOX_SALES_USER });
		expect(sent.status).toBe(200);
		expect(await sent.json()).toMatchObject({ ok: true, action: 'sendCampaign', contact: 'not.yet@example.org', preview: true });
		const after = await writes();
		expect([after.ac, after.d365]).toEqual([0, 0]);
		expect(await acContact('not.yet@example.org')).toBeUndefined();
	});

	it('Sales Actions: the command-bar button (docs/dynamics/sales-action-button.js) runs an action from a Dynamics form', async () => {
		const lead = (await d365Rows('leads')).find((l) => l.emailaddress1 === 'sam.taylor@adatum.com')!;
		const origin = 'https://contoso.crm4.dynamics.com';
		// The browser asks n8n first whether Dynamics' origin may send the secret header (CORS preflight).
		const preflight = await fetch(`${n8n.url}/webhook/d365-sales-action`, {
			method: 'OPTIONS',
			headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': `content-type,${SALES_ACTION_SECRET_HEADER.toLowerCase()}` },
		});
		expect(preflight.status).toBeLessThan(300);
		expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
		expect(String(preflight.headers.get('access-control-allow-headers')).toLowerCase()).toContain(SALES_ACTION_SECRET_HEADER.toLowerCase());

		const button = loadSalesActionButton({
			record: { entityName: 'lead', id: `{${String(lead.leadid).toUpperCase()}}`, email: String(lead.emailaddress1) },
			user: { id: `{${ALLOWED_USER_ID.toUpperCase()}}`, name: 'Alex Allowed', email: 'alex@contoso.com' },
			settings: { acd365_SalesActionsUrl: `${n8n.url}/webhook/d365-sales-action`, acd365_SalesActionsSecret: secrets.salesActionsSecret },
		});
		const result = await button.api.addToAutomation(button.formContext, '2');
		expect(result).toMatchObject({ ok: true, status: 200 });
		expect(button.alerts).toEqual([expect.stringMatching(/sam\.taylor@adatum\.com/)]);
		expect(JSON.stringify((await acContact('sam.taylor@adatum.com'))!.automations)).toMatch(/D365 Sales Follow-up|"2"/);

		// A user who is not allowed sees the webhook's reason.
		const other = loadSalesActionButton({
			record: { entityName: 'lead', id: String(lead.leadid), email: String(lead.emailaddress1) },
			user: { id: '00000000-0000-4000-8000-000000000002', name: 'Nora Notlisted', email: 'nora@contoso.com' },
			settings: { acd365_SalesActionsUrl: `${n8n.url}/webhook/d365-sales-action`, acd365_SalesActionsSecret: secrets.salesActionsSecret },
		});
		expect(await other.api.sendCampaign(other.formContext, '1')).toMatchObject({ ok: false, status: 403 });
		expect(other.alerts).toEqual(['nora@contoso.com is not allowed to run sales actions; add them under Allowed Dynamics users']);
	});

	/** POSTs what an ActiveCampaign automation's Webhook action sends (a form body) to the automation webhook. */
	const fromAutomation = async (query: Record<string, string>, contactId: string, email: string, webhookPath = 'ac-create-in-dynamics') =>
		await fetch(`${n8n.url}/webhook/${webhookPath}?${new URLSearchParams(query).toString()}`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({ type: 'automation', 'contact[id]': contactId, 'contact[email]': email }).toString(),
		});

	it('ActiveCampaign automation → Dynamics: a call without the token, or with a wrong one, gets 403 and creates nothing', async () => {
		const created = await control<Json>('ac', 'POST', '/ui/contacts', { email: 'no.token@example.com', firstName: 'No', lastName: 'Token' });
		const contactId = String((created.contact as Json | undefined)?.id ?? created.id);
		await resetStats();
		const withoutToken = await fromAutomation({ as: 'lead' }, contactId, 'no.token@example.com');
		const wrongToken = await fromAutomation({ as: 'lead', token: 'x'.repeat(64) }, contactId, 'no.token@example.com');
		expect([withoutToken.status, wrongToken.status]).toEqual([403, 403]);
		expect(((await wrongToken.json()) as Json).ok).toBe(false);
		const counted = await writes();
		expect([counted.ac, counted.d365]).toEqual([0, 0]);
		expect((await d365Rows('leads')).some((l) => l.emailaddress1 === 'no.token@example.com')).toBe(false);
		expect((await acContact('no.token@example.com'))!.tags).toEqual([]);
	});

	it('ActiveCampaign automation → Dynamics: a webhook action creates a Dynamics lead, links and tags the contact', async () => {
		const created = await control<Json>('ac', 'POST', '/ui/contacts', {
			email: 'from.automation@example.com',
			firstName: 'From',
			lastName: 'Automation',
		});
		const contactId = String((created.contact as Json | undefined)?.id ?? created.id);
		const response = await fromAutomation({ as: 'lead', token: secrets.automationToken }, contactId, 'from.automation@example.com');
		expect(response.status).toBe(200);
		const deadline = Date.now() + 60_000;
		let lead: Json | undefined;
		while (!lead && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 2000));
			lead = (await d365Rows('leads')).find((l) => l.emailaddress1 === 'from.automation@example.com');
		}
		expect(lead).toMatchObject({ firstname: 'From', lastname: 'Automation', subject: 'ActiveCampaign contact' });
		// The link and tags are recorded by the workflow's last step, just after the lead is written.
		let ac = (await acContact('from.automation@example.com'))!;
		for (let i = 0; i < 20 && !(ac.fields as Json).D365_RECORD_ID; i++) {
			await new Promise((resolve) => setTimeout(resolve, 1000));
			ac = (await acContact('from.automation@example.com'))!;
		}
		expect((ac.fields as Json).D365_RECORD_ID).toBe(`lead:${lead!.leadid}`);
		expect(ac.tags).toEqual(expect.arrayContaining(['[D365: Lead]', '[D365: Pulled from ActiveCampaign]']));
	});

	it('ActiveCampaign automation → Dynamics as a preview: the run lists the lead it would create, and writes nothing', async () => {
		const created = await control<Json>('ac', 'POST', '/ui/contacts', { email: 'preview.automation@example.com', firstName: 'Pre', lastName: 'Automation' });
		const contactId = String((created.contact as Json | undefined)?.id ?? created.id);
		const { id: workflowId, path: webhookPath } = WEBHOOK_PREVIEWS['ac-automation-to-d365.json'];
		await resetStats();
		const response = await fromAutomation({ as: 'lead', token: secrets.automationToken }, contactId, 'preview.automation@example.com', webhookPath);
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ ok: true, as: 'lead', preview: true });
		// The steps after the answer: wait for the execution to end, then read what its write step said.
		type Executions = { results: Array<{ id: string; status: string }> };
		const deadline = Date.now() + 60_000;
		let done: Executions['results'] = [];
		while (!done.some((e) => e.status === 'success') && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 1000));
			done = (await n8n.rest<Executions>('GET', `/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`)).results;
		}
		expect(done.map((e) => e.status)).toEqual(['success']);
		// The run data (n8n stores it flattened, each value once): its Dynamics write step said it would create the lead.
		const { data } = await n8n.rest<{ data: string }>('GET', `/executions/${done[0].id}?includeData=true`);
		for (const text of ['"preview.automation@example.com"', '"Write lead to Dynamics"', '"created"']) expect(data).toContain(text);
		expect(data).not.toContain('not linked or tagged for Dynamics');
		const counted = await writes();
		expect([counted.ac, counted.d365]).toEqual([0, 0]);
		expect((await d365Rows('leads')).some((l) => l.emailaddress1 === 'preview.automation@example.com')).toBe(false);
		expect((await acContact('preview.automation@example.com'))!.tags).toEqual([]);
	});

	it("no webhook secret appears in n8n's log", () => {
		for (const secret of Object.values(secrets)) expect(n8n.log.includes(secret)).toBe(false);
	});
});
