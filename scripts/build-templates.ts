/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Writes the template workflows in workflows/. The JSON files are what users import; this script is how they are
 * kept consistent (node ids, positions, connections, credential references). Run: npm run templates
 * A test checks the committed files are what this script writes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { EMAIL_ACTIVITY_EVENTS } from '../nodes/shared/activityNote';

type Json = Record<string, unknown>;

const PKG = 'n8n-nodes-ac-d365-sync';
export const CREDENTIALS = {
	activeCampaign: { activeCampaignSyncApi: { id: 'acSyncCredential1', name: 'ActiveCampaign' } },
	dynamics: { dynamics365ClientCredentialsApi: { id: 'd365SyncCredentl', name: 'Dynamics 365 (client credentials)' } },
};

/**
 * Grid of the canvas. A Field Map with its error output has three outputs, which makes it taller than a plain node
 * (about 140 px), and each node has its name and subtitle under it: rows 230 px apart keep every label clear of the
 * node below. Columns 200 px apart leave room for two-line names (n8n wraps a name at about 150 px) and keep the
 * large templates legible when the editor fits them to the view (npm run screenshots shows them at 1600×1000).
 */
const X = 200;
const Y = 230;

/** Space between a sticky note and the row of nodes under it. */
const NOTE_GAP = 50;

/**
 * The height a sticky note needs for its text at a width, as n8n draws it (14 px text on 20 px lines, headings of
 * about 24 px on 32 px lines, one line per line of the content, a little space between paragraphs), so that no note
 * is taller than its text (a tall note only makes the canvas smaller when fitted to the view) and none cuts it off.
 * Estimated on the wide side: characters of about 6.8 px, 12.5 px in a heading.
 */
export function noteHeight(content: string, width: number): number {
	const textWidth = width - 24;
	let height = 24;
	for (const line of content.split('\n')) {
		if (line.trim() === '') {
			height += 10;
			continue;
		}
		const heading = /^#+\s/.test(line);
		const list = /^(\d+\.|[-*])\s/.test(line);
		const text = line.replace(/^#+\s|\*\*|`/g, '');
		const perLine = Math.floor((textWidth - (list ? 24 : 0)) / (heading ? 12.5 : 6.8));
		height += Math.ceil(text.length / perLine) * (heading ? 32 : 20) + (heading ? 8 : 0);
	}
	return Math.ceil(height / 10) * 10;
}

interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Json;
	credentials?: Json;
	[extra: string]: unknown;
}

/** The alert placeholder (after the Sync report, and in the error workflow): the step the user replaces with Slack, email or Teams. */
export const ALERT_NODE = 'Alert someone (replace with Slack, email or Teams)';

/** The step after the Sync report that shows its page in n8n's output panel. */
export const REPORT_PAGE_NODE = 'Report page';

/** The step that reads the integration's switch (Global Sync, in the Dynamics 365 credential). */
export const GLOBAL_SYNC_NODE = 'Global Sync';
/** Inside an expression: whether Global Sync lets a direction sync. */
const SYNCS = (direction: 'dynamicsToActiveCampaign' | 'activeCampaignToDynamics') => `$('${GLOBAL_SYNC_NODE}').first().json.${direction} === true`;
/**
 * Where a Scheduled Sync "Get Changes" step starts when it has no cursor yet (its first cycle, or the first one after
 * Global Sync is switched on for the first time): everything, so that cycle is the initial sync. Runs from the editor
 * read a sample instead (they keep no cursor).
 */
const INITIAL_SYNC_FROM = "={{ $execution.mode === 'test' ? '' : '2000-01-01T00:00:00Z' }}";

/** The Scheduled Sync's optional real-time start (ActiveCampaign's webhook), disabled as shipped. */
export const REAL_TIME_AC_NODE = 'When ActiveCampaign changes (real time)';
export const REAL_TIME_D365_NODE = 'When Dynamics changes (real time)';
/** ActiveCampaign's webhook events of the records the two-way sync carries (contacts, their tags and accounts). */
const AC_CHANGE_EVENTS = ['update', 'subscribe', 'contact_tag_added', 'contact_tag_removed', 'account_add', 'account_update', 'account_contact_add', 'account_contact_update'];

/** The name of the step at the start of a sync template whose `preview` field every write step reads. */
export const SETTINGS_NODE = 'Settings';
/** The Settings field that makes a run whose report needs attention end as failed (and so start the error workflow). */
export const FAIL_RUN_ON_ALERT = 'failRunOnAlert';
/** The step that fails such a run with the report's summary as its error message. */
export const FAIL_RUN_NODE = 'Fail the run (starts the error workflow)';
const PREVIEW_EXPRESSION = `={{ $('${SETTINGS_NODE}').first().json.preview }}`;
/** Inside an expression: whether this run is a preview (what a webhook's answer says). */
const PREVIEWING = `$('${SETTINGS_NODE}').first().json.preview === true`;

/**
 * Operations with a Preview (No Writes) switch, by node: in a template with a Settings step they read it from there.
 * A test checks each template's write steps are all here and that each node shows the switch for them.
 */
export const PREVIEWED_OPERATIONS: Record<string, string[]> = {
	dynamics365: ['create', 'createOrUpdate', 'update', 'delete', 'addNote', 'getChanges'],
	activeCampaignSync: [
		'contact.upsert',
		'contact.upsertMany',
		'contact.update',
		'contact.delete',
		'contact.addTag',
		'contact.removeTag',
		'contact.subscribe',
		'contact.unsubscribe',
		'contact.addToAutomation',
		'contact.removeFromAutomation',
		'contact.sendCampaign',
		'contact.getChanges',
		'contact.recordSyncState',
		'contact.ensureSyncFields',
		'account.upsert',
		'account.linkContact',
		'account.getChanges',
		'account.recordSyncState',
		'customObject.upsertRecord',
		'customObject.deleteRecord',
		'customObject.ensureSchema',
	],
};

/** The error output of a step that continues per item: n8n adds it after the node's own outputs. */
const errorOutput = (node: WorkflowNode) => (node.type === `${PKG}.acD365FieldMap` ? 2 : 1);

/** The step every error output leads to ({@link Workflow.collectFailures}). */
export const FAILED_RECORDS_NODE = 'Failed records';

class Workflow {
	readonly nodes: WorkflowNode[] = [];
	/** Whether the write steps read Preview from the Settings step ({@link settings}). */
	private previewSwitch = false;
	/** Whether the workflow has a Settings step ({@link settings}), whose switches later steps read. */
	private hasSettings = false;
	readonly connections: Record<string, { main: Array<Array<{ node: string; type: 'main'; index: number }>> }> = {};

	constructor(
		readonly id: string,
		readonly name: string,
		readonly file: string,
	) {}

	private uuid(seed: string): string {
		const h = createHash('sha1').update(`${this.id}/${seed}`).digest('hex');
		return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
	}

	add(name: string, type: string, typeVersion: number, column: number, row: number, parameters: Json, extra: Json = {}): string {
		if (this.nodes.some((n) => n.name === name)) throw new Error(`duplicate node name ${name}`);
		this.nodes.push({ id: this.uuid(name), name, type, typeVersion, position: [column * X, row * Y], parameters, ...extra });
		return name;
	}

	ours(
		name: string,
		node: 'dynamics365' | 'dynamics365Trigger' | 'activeCampaignSync' | 'activeCampaignSyncTrigger' | 'acD365FieldMap' | 'acD365SyncReport',
		column: number,
		row: number,
		parameters: Json,
		extra: Json = {},
	) {
		// The Field Map has both credentials: its column and field pickers then list the live fields of both systems
		// (and only type-compatible ones), and it checks required Dynamics columns against live metadata.
		const credentials =
			node === 'acD365SyncReport'
				? undefined
				: node === 'acD365FieldMap'
				? { ...CREDENTIALS.activeCampaign, ...CREDENTIALS.dynamics }
				: node.startsWith('dynamics365')
					? CREDENTIALS.dynamics
					: CREDENTIALS.activeCampaign;
		const operation = node === 'dynamics365' ? String(parameters.operation) : `${String(parameters.resource)}.${String(parameters.operation)}`;
		const preview = this.previewSwitch && PREVIEWED_OPERATIONS[node]?.includes(operation) ? { preview: PREVIEW_EXPRESSION } : {};
		const params = node.startsWith('dynamics365')
			? { authentication: 'clientCredentials', ...parameters, ...preview }
			: node === 'acD365FieldMap'
				? { dynamicsAuthentication: 'clientCredentials', ...parameters }
				: { ...parameters, ...preview };
		// Steps that write or map records continue per item: a record that fails goes to the error output with its
		// reason, and the rest of the run completes. Steps that read changes continue too: a table that cannot be read
		// (a missing privilege, an outage) fails its own entity's steps, and the other entities sync.
		const perItem = node === 'acD365FieldMap' || /^(Write|Record|Add|Send|Start|Make sure|Tag)/.test(name) || /^Read (Dynamics|ActiveCampaign) | changes$/.test(name);
		return this.add(name, `${PKG}.${node}`, 1, column, row, params, {
			...(credentials ? { credentials } : {}),
			...(perItem ? { onError: 'continueErrorOutput' } : {}),
			...extra,
		});
	}

	/**
	 * A sticky note as tall as its text, its left edge at a column and its bottom just above a row of nodes (the
	 * part of the canvas it explains).
	 */
	note(content: string, column: number, aboveRow: number, width: number, color = 4) {
		const height = noteHeight(content, width);
		this.nodes.push({
			id: this.uuid(`Note ${this.nodes.length + 1}`),
			name: `Note ${this.nodes.length + 1}`,
			type: 'n8n-nodes-base.stickyNote',
			typeVersion: 1,
			position: [column * X, aboveRow * Y - NOTE_GAP - height],
			parameters: { content, width, height, color },
		});
	}

	connect(from: string, to: string, output = 0, input = 0) {
		const entry = (this.connections[from] ??= { main: [] });
		while (entry.main.length <= output) entry.main.push([]);
		entry.main[output].push({ node: to, type: 'main', index: input });
	}

	chain(...names: string[]) {
		for (let i = 0; i + 1 < names.length; i++) this.connect(names[i], names[i + 1]);
	}

	/**
	 * A step that starts the next part only when the part before it has finished: a Merge whose first input comes from
	 * the previous such step (or the start) and whose other inputs come from the ends of the part before. n8n runs a
	 * node with several inputs once all of them have data, or — when a part ends early (nothing to write) — once
	 * nothing else is left to run; never earlier. So the order of the parts is fixed by these connections, not by where
	 * nodes sit on the canvas (under execution order v1, the branches of a fan-out run top to bottom). It runs once and
	 * passes on one item (Execute Once).
	 */
	after(name: string, column: number, row: number, previous: string, ...partEnds: string[]): string {
		const inputs = 1 + partEnds.length;
		this.add(name, 'n8n-nodes-base.merge', 3.2, column, row, inputs === 2 ? {} : { numberInputs: inputs }, { executeOnce: true });
		this.connect(previous, name, 0, 0);
		partEnds.forEach((end, index) => this.connect(end, name, 0, index + 1));
		return name;
	}

	/**
	 * The one switch of a template: an Edit Fields step at its start with `preview` (off), which every write step
	 * added after it reads (their Preview (No Writes) is an expression on it), and — in a template that ends in the Sync
	 * report — the alert switch.
	 */
	settings(column: number, row: number, extra: Json = {}, { alerts = true } = {}): string {
		this.previewSwitch = true;
		this.hasSettings = alerts;
		return this.add(
			SETTINGS_NODE,
			'n8n-nodes-base.set',
			3.4,
			column,
			row,
			{
				assignments: {
					assignments: [
						{ id: 'preview-switch', name: 'preview', value: false, type: 'boolean' },
						...(alerts ? [{ id: 'fail-run-on-alert-switch', name: FAIL_RUN_ON_ALERT, value: true, type: 'boolean' }] : []),
					],
				},
				options: {},
			},
			extra,
		);
	}

	/** The step that reads Global Sync (no request is sent: it is the credential's switch). */
	globalSync(column: number, row: number): string {
		return this.ours(GLOBAL_SYNC_NODE, 'dynamics365', column, row, { resource: 'globalSync', operation: 'getStatus' });
	}

	/**
	 * The end of a sync template: a step that waits for every part (as "After …" does), the Sync Report, and its Needs
	 * Attention output to a placeholder the user replaces with a notification.
	 */
	report(column: number, row: number, previous: string, ...partEnds: string[]): string {
		const last = this.after('After all parts', column, row, previous, ...partEnds);
		const report = this.ours('Sync report', 'acD365SyncReport', column + 1, row, { alert: 'failures', html: true });
		const alert = this.add(ALERT_NODE, 'n8n-nodes-base.noOp', 1, column + 2, row + 0.6, {});
		// n8n shows an HTML step's output as the page it is (a file's Binary view does not open HTML).
		const page = this.add(REPORT_PAGE_NODE, 'n8n-nodes-base.html', 1.2, column + 3, row, { operation: 'generateHtmlTemplate', html: '{{ $json.html }}' });
		// Last, once the page is shown: a report that went to Needs Attention fails the run (when Settings says so), so
		// that the execution list shows it as failed and n8n starts the workflow's error workflow with the summary.
		if (!this.hasSettings) throw new Error(`${this.name}: add the Settings step before the report, whose switch it reads`);
		const failOnAlert = this.add('Fail the run on alerts?', 'n8n-nodes-base.if', 2.2, column + 4, row, {
			conditions: {
				options: { caseSensitive: true, leftValue: '', typeValidation: 'loose', version: 2 },
				conditions: [
					{ id: 'alerted', leftValue: `={{ $('${report}').item.json.alerted }}`, rightValue: '', operator: { type: 'boolean', operation: 'true', singleValue: true } },
					// A run started at a later step (from the editor) has no Settings output: the default holds.
					{ id: 'switch', leftValue: `={{ $('${SETTINGS_NODE}').isExecuted ? $('${SETTINGS_NODE}').first().json.${FAIL_RUN_ON_ALERT} !== false : true }}`, rightValue: '', operator: { type: 'boolean', operation: 'true', singleValue: true } },
				],
				combinator: 'and',
			},
			options: {},
		});
		const stop = this.add(FAIL_RUN_NODE, 'n8n-nodes-base.stopAndError', 1, column + 5, row - 0.4, {
			errorMessage: `={{ $('${report}').item.json.summary }}`,
		});
		this.chain(last, report, page, failOnAlert, stop);
		this.connect(report, alert, 1);
		this.connect(alert, page);
		return report;
	}

	/**
	 * Gives every step's error output somewhere to go: one "Failed records" step that collects the items of every
	 * failed record with its error, so that one click shows all of a run's failures (the Sync report counts them too).
	 * Outputs already connected (a webhook's error answer) stay as they are.
	 */
	collectFailures(): void {
		const open = this.nodes.filter((n) => n.onError === 'continueErrorOutput' && !n.disabled && !this.connections[n.name]?.main[errorOutput(n)]?.length);
		if (!open.length) return;
		const bottom = Math.max(...this.nodes.filter((n) => n.type !== 'n8n-nodes-base.stickyNote').map((n) => n.position[1]));
		const left = Math.min(...open.map((n) => n.position[0]));
		const sink = this.add(FAILED_RECORDS_NODE, 'n8n-nodes-base.noOp', 1, left / X, bottom / Y + 0.8, {});
		for (const node of open) this.connect(node.name, sink, errorOutput(node));
	}

	toJSON(): Json {
		return {
			id: this.id,
			name: this.name,
			nodes: this.nodes,
			connections: this.connections,
			active: false,
			settings: { executionOrder: 'v1', saveManualExecutions: true, saveDataSuccessExecution: 'all', saveDataErrorExecution: 'all' },
			pinData: {},
			tags: [],
			meta: { templateCredsSetupCompleted: false },
		};
	}
}

// ----------------------------------------------------------------------------------------------- building blocks

const readDynamics = (resource: string, extra: Json = {}) => ({
	resource,
	operation: 'getMany',
	returnAll: true,
	options: { formattedValues: true, ...extra },
});

const dynamicsChanges = (resource: string) => ({
	resource,
	operation: 'getChanges',
	// Change tracking (where the table has it) also reports deletions, which the delete policy acts on.
	options: { formattedValues: true, ignoreOwnChanges: true, readMode: 'auto' },
});

const writeDynamics = (resource: string) => ({ resource, operation: 'createOrUpdate', dataMode: 'syncItem' });

/** The mapping of an entity, defined once (in the "to ActiveCampaign" step) and shared by the other direction. */
const defineMapping = (entity: string, extra: Json = {}) => ({
	entity,
	step: 'toActiveCampaign',
	mappingSource: 'here',
	syncDirection: 'bidirectional',
	...extra,
});

/** The other direction of an entity: uses the mapping of the step named (no expression to read or keep in sync). */
const shareMapping = (entity: string, from: string) => ({
	entity,
	step: 'toDynamics',
	mappingSource: 'node',
	definitionNode: from,
});

const LEAD_DEFAULTS = { requiredDefaults: { default: [{ column: 'subject', value: 'ActiveCampaign contact' }] } };
const SYNC_OPTIONS = { conflictPolicy: 'dynamicsWins', precedence: 'contact', timeZone: 'UTC' };

const globalSyncNote =
	'**Global Sync** (the official app\'s switch for the whole integration) is in the **Dynamics 365 credential**: On, "Off: Pause Dynamics → ActiveCampaign" (the official "off") or "Off: Pause Both Ways". Every template reads it in its "Global Sync" step; a paused direction reads nothing and keeps its place, and the Sync report says it was paused.';

const previewNote =
	'**Preview first**: in "Settings" set `preview` to true and run: every step reads and decides as in a real run and writes nothing (no record, cursor, retry queue or sync state changes); each write step\'s items say what it would create, update or skip, field by field, and "Sync report" counts it. Set it back to false to sync.';

const webhookPreviewNote =
	'**Preview first**: in "Settings" set `preview` to true and call the webhook (n8n\'s test URL works too): every step reads and decides as in a real run and writes nothing; each write step\'s items say what it would do, field by field, and the answer says `"preview": true`. As shipped (`preview` false) every call writes.';

const shortReportNote =
	'**"Sync report"** at the end counts what the run did; on a failure or a dead letter it goes to "Alert someone" (replace it with Slack, email or Teams) and — with `failRunOnAlert` in "Settings" on, the default — fails the run with its summary, which starts the error workflow (import and publish "AC ⇄ D365: Sync Alerts", then pick it in Workflow settings → Error workflow). Failed records go to "Failed records".';

const errorNote =
	'**Errors and skips are visible**: every Field Map has a second output "Skipped" (out of scope, unchanged since the last sync, conflict lost, with the reason), and failed writes appear in the execution with Dynamics\' or ActiveCampaign\'s message. **"Sync report"** at the end counts what every step did (created, updated, deleted, skipped by reason, conflicts, failures, retries, requests) as one item and an HTML page ("Report page"); on a failure or a dead letter it sends the report to "Alert someone" instead — replace that step with Slack, email or Teams — and then, with `failRunOnAlert` in "Settings" on (the default), fails the run with the report\'s one-line summary: the execution list shows it as failed and n8n starts the workflow\'s error workflow (import and publish "AC ⇄ D365: Sync Alerts", then pick it in Workflow settings → Error workflow). Every failed record\'s item also goes to "Failed records".';

// ----------------------------------------------------------------------------------------------- 1 Initial Sync

function initialSync(): Workflow {
	const w = new Workflow('acd365InitialSync', 'AC ⇄ D365: Initial Sync', 'initial-sync.json');
	w.note(
		[
			'## Initial sync (run once)',
			'Brings both systems in line before the scheduled sync takes over, one part after the other (each "After …" step waits for the part before it):',
			'1. creates the sync fields and tags in ActiveCampaign and the "D365 Opportunity" custom object;',
			'2. Dynamics accounts, then contacts, then leads → ActiveCampaign (contacts before leads, so a lead with the same email as a contact is skipped);',
			'3. ActiveCampaign accounts, then contacts → Dynamics (contacts tagged [D365: Contact] as contacts; [D365: Lead] and — as set in "Map leads to ActiveCampaign" → Options → Untagged Contacts — every other contact as leads);',
			'4. Dynamics opportunities → ActiveCampaign custom object records on their contact.',
			'',
			'**Configure**: the two credentials (ActiveCampaign API URL + key; Dynamics client credentials); the mappings in the three "Map … to ActiveCampaign" steps (the "to Dynamics" steps use the same mapping: open either to see and change it) and Options → Conflict Policy there.',
			'**Run**: click "Run now" (Execute workflow): it **writes for real**. Running it again writes nothing that is already in sync. The Scheduled Sync does the same by itself on its first cycle; this workflow is for a big first sync (bulk writes), opportunities and untagged contacts as leads, or a re-sync after the mapping changed.',
			globalSyncNote,
			previewNote,
			errorNote,
		].join('\n'),
		-4,
		0,
		1300,
	);
	const trigger = w.add('Run now', 'n8n-nodes-base.manualTrigger', 1, -4, 0, {});
	const settings = w.settings(-3, 0);
	const globalSync = w.globalSync(-2, 0);
	// The official app's Initial Sync runs only while Global Sync is on.
	const start = check(w, 'Global Sync on?', -1, 0, `={{ ${SYNCS('dynamicsToActiveCampaign')} && ${SYNCS('activeCampaignToDynamics')} }}`);
	const paused = w.add('Paused: nothing synced', 'n8n-nodes-base.noOp', 1, -1, 1, {});
	w.chain(trigger, settings, globalSync, start);
	w.connect(start, paused, 1);
	const once = { executeOnce: true };

	// Part 1: the fields, tags and custom object every later part writes.
	const fields = w.ours('Prepare sync fields and tags', 'activeCampaignSync', 0, 0, { resource: 'contact', operation: 'ensureSyncFields' });
	const schema = w.ours('Prepare opportunity object', 'activeCampaignSync', 1, 0, { resource: 'customObject', operation: 'ensureSchema' });
	w.chain(start, fields, schema);

	// Part 2: Dynamics → ActiveCampaign, accounts, contacts, leads (each part starts after the one before).
	const accounts = w.ours('Read Dynamics accounts', 'dynamics365', 0, 1, readDynamics('account'), once);
	const mapAccounts = w.ours('Map accounts to ActiveCampaign', 'acD365FieldMap', 1, 1, defineMapping('account', { options: SYNC_OPTIONS }));
	const writeAccounts = w.ours('Write accounts to ActiveCampaign', 'activeCampaignSync', 2, 1, { resource: 'account', operation: 'upsert', dataMode: 'syncItem' });
	w.chain(schema, accounts, mapAccounts, writeAccounts);

	const afterAccounts = w.after('After Dynamics accounts', -1, 2, schema, writeAccounts);
	const contacts = w.ours('Read Dynamics contacts', 'dynamics365', 0, 2, readDynamics('contact'), once);
	const mapContacts = w.ours('Map contacts to ActiveCampaign', 'acD365FieldMap', 1, 2, defineMapping('contact', { options: SYNC_OPTIONS }));
	const writeContacts = w.ours('Write contacts to ActiveCampaign', 'activeCampaignSync', 2, 2, {
		resource: 'contact',
		operation: 'upsertMany',
		dataMode: 'syncItem',
		syncOptions: { skipMatchingState: true },
	});
	w.chain(afterAccounts, contacts, mapContacts, writeContacts);

	const afterContacts = w.after('After Dynamics contacts', -1, 3, afterAccounts, writeContacts);
	const leads = w.ours('Read Dynamics leads', 'dynamics365', 0, 3, readDynamics('lead'), once);
	const mapLeads = w.ours(
		'Map leads to ActiveCampaign',
		'acD365FieldMap',
		1,
		3,
		defineMapping('lead', { ...LEAD_DEFAULTS, options: { ...SYNC_OPTIONS, untaggedContacts: 'lead' } }),
	);
	const writeLeads = w.ours('Write leads to ActiveCampaign', 'activeCampaignSync', 2, 3, {
		resource: 'contact',
		operation: 'upsertMany',
		dataMode: 'syncItem',
		syncOptions: { skipMatchingState: true },
	});
	w.chain(afterContacts, leads, mapLeads, writeLeads);

	// Part 3: ActiveCampaign → Dynamics, accounts, then contacts (their records go to the contact or the lead mapping).
	const afterLeads = w.after('After Dynamics leads', 3.6, 0, afterContacts, writeLeads);
	const acAccounts = w.ours('Read ActiveCampaign accounts', 'activeCampaignSync', 4.6, 0, {
		resource: 'account',
		operation: 'getAll',
		returnAll: true,
		getAllOptions: { details: true },
	}, once);
	const mapAcAccounts = w.ours('Map accounts to Dynamics', 'acD365FieldMap', 5.6, 0, shareMapping('account', mapAccounts));
	const writeDynAccounts = w.ours('Write accounts to Dynamics', 'dynamics365', 6.6, 0, writeDynamics('account'));
	const recordAccounts = w.ours('Record account sync state', 'activeCampaignSync', 7.6, 0, { resource: 'account', operation: 'recordSyncState' });
	w.chain(afterLeads, acAccounts, mapAcAccounts, writeDynAccounts, recordAccounts);

	const afterAcAccounts = w.after('After ActiveCampaign accounts', 3.6, 1, afterLeads, recordAccounts);
	const acContacts = w.ours('Read ActiveCampaign contacts', 'activeCampaignSync', 4.6, 1.5, {
		resource: 'contact',
		operation: 'getAll',
		returnAll: true,
		getAllOptions: { details: true },
	}, once);
	const mapAcContacts = w.ours('Map contacts to Dynamics', 'acD365FieldMap', 5.6, 1, shareMapping('contact', mapContacts));
	const writeDynContacts = w.ours('Write contacts to Dynamics', 'dynamics365', 6.6, 1, writeDynamics('contact'));
	const recordContacts = w.ours('Record contact sync state', 'activeCampaignSync', 7.6, 1, { resource: 'contact', operation: 'recordSyncState' });
	const mapAcLeads = w.ours('Map leads to Dynamics', 'acD365FieldMap', 5.6, 2, shareMapping('lead', mapLeads));
	const writeDynLeads = w.ours('Write leads to Dynamics', 'dynamics365', 6.6, 2, writeDynamics('lead'));
	const recordLeads = w.ours('Record lead sync state', 'activeCampaignSync', 7.6, 2, { resource: 'contact', operation: 'recordSyncState' });
	w.chain(afterAcAccounts, acContacts);
	// One read feeds both mappings; each takes its own records (a contact is tagged as one or the other, never both),
	// so which of the two runs first changes nothing.
	w.chain(acContacts, mapAcContacts, writeDynContacts, recordContacts);
	w.chain(acContacts, mapAcLeads, writeDynLeads, recordLeads);

	// Part 4: opportunities, once their contacts are on both sides.
	const afterAcContacts = w.after('After ActiveCampaign contacts', 3.6, 3, afterAcAccounts, recordContacts, recordLeads);
	const opportunities = w.ours('Read Dynamics opportunities', 'dynamics365', 4.6, 3, readDynamics('opportunity', { includeRelatedContactEmail: true }), once);
	const mapOpportunities = w.ours('Map opportunities', 'acD365FieldMap', 5.6, 3, { entity: 'opportunity', mappingSource: 'here' });
	const writeOpportunities = w.ours('Write opportunities to ActiveCampaign', 'activeCampaignSync', 6.6, 3, {
		resource: 'customObject',
		operation: 'upsertRecord',
		dataMode: 'syncItem',
	});
	w.chain(afterAcContacts, opportunities, mapOpportunities, writeOpportunities);
	// Paused: the report still runs, and says so.
	w.report(3.6, 4, afterAcContacts, writeOpportunities, paused);
	return w;
}

// ----------------------------------------------------------------------------------------------- 2 Scheduled Sync

function scheduledSync(): Workflow {
	const w = new Workflow('acd365ScheduledSync', 'AC ⇄ D365: Scheduled Sync', 'scheduled-sync.json');
	w.note(
		[
			'## Scheduled two-way sync (leads, contacts, accounts)',
			'Each run reads what changed on each side since the previous run (Get Changes keeps a cursor per step) and writes it to the other side, one part after the other: Dynamics accounts, contacts, leads → ActiveCampaign, then ActiveCampaign accounts, contacts → Dynamics (each "After …" step waits for the part before it). Changes made by the sync itself are recognised and not sent back; a record changed on both sides is settled by the conflict policy.',
			'',
			'**Configure**: the credentials; the schedule in "Every hour" (1, 2, 4, 6, 8 or 12 hours, or daily); the mappings and Options (conflict policy, lead/contact precedence, ActiveCampaign time zone) in the three "Map … to ActiveCampaign" steps — the "to Dynamics" steps use the same mapping.',
			'**The first cycle is the initial sync**: a Get Changes step without a cursor reads everything since its Start From (2000-01-01), so the first published cycle — or the first one after Global Sync is switched on for the first time — brings both systems in line, and the later cycles read only what changed (a large backlog is read in parts over the next cycles).',
			globalSyncNote + ' Here: "Dynamics → ActiveCampaign on?" skips the Dynamics part while that direction is paused, and "ActiveCampaign → Dynamics on?" the ActiveCampaign part while both ways are. Switched on again, every part catches up from where it stopped.',
			`**Real time, ActiveCampaign → Dynamics** (optional): enable "${REAL_TIME_AC_NODE}" and publish. ActiveCampaign then calls the workflow when a contact or account changes (not for this sync's own writes, which come through the API), and the cycle runs at once: the change is in Dynamics within seconds. It is the same cycle as the schedule's (the same cursors), so the scheduled run after it finds nothing to write; keep the schedule as the safety net (ActiveCampaign calls once and never again). Each call is a whole cycle (about 15 requests besides the change): for accounts with a steady stream of changes, a shorter schedule is cheaper.`,
			`**Real time, Dynamics → ActiveCampaign** (optional): enable "${REAL_TIME_D365_NODE}" and publish. Publishing registers a Dataverse webhook in the environment (a service endpoint and one step per event; the credential's user needs the System Customizer or System Administrator role, and n8n a URL Dynamics can reach); unpublishing removes it. Dynamics then calls the workflow after each change of a contact, lead or account (not for this sync's own writes), and the same cycle runs: the change is in ActiveCampaign within seconds. Where a webhook cannot be registered (no such role, or n8n not reachable from Dynamics), set its "Detect Changes By" to Modified Time instead: it then polls every minute and starts the cycle when a person changed something — within about a minute.`,
			'"Run now" runs one cycle by hand and **writes for real**: from the editor the Get Changes steps read a few recent changes (cursors move only in production and CLI runs), and those are written to the other side.',
			previewNote,
			errorNote,
		].join('\n'),
		-5,
		0,
		1500,
	);
	const manual = w.add('Run now', 'n8n-nodes-base.manualTrigger', 1, -5, 0, {});
	const schedule = w.add('Every hour', 'n8n-nodes-base.scheduleTrigger', 1.2, -5, 1, { rule: { interval: [{ field: 'hours', hoursInterval: 1 }] } });
	// Real time, ActiveCampaign → Dynamics (off as shipped): each change ActiveCampaign reports starts a cycle at once.
	const realTime = w.ours(REAL_TIME_AC_NODE, 'activeCampaignSyncTrigger', -5, 2, {
		triggerOn: 'webhook',
		events: [...AC_CHANGE_EVENTS],
		sources: ['public', 'admin', 'system'],
	}, { disabled: true, webhookId: '6d2f8a1c-3e4b-4f5a-9b6c-7d8e9f0a1b2c' });
	// Real time, Dynamics → ActiveCampaign (off as shipped): a Dataverse webhook starts a cycle after each change.
	const realTimeDynamics = w.ours(REAL_TIME_D365_NODE, 'dynamics365Trigger', -5, 3, {
		events: ['account', 'contact', 'lead'].flatMap((entity) => ['created', 'updated', 'deleted'].map((event) => `${entity}.${event}`)),
		mode: 'webhook',
		webhookOptions: {},
	}, { disabled: true, webhookId: '2b7e4c19-8a3d-4e6f-b1c2-d3e4f5a6b7c8' });
	const settings = w.settings(-4, 0);
	const globalSync = w.globalSync(-3, 0);
	w.connect(manual, settings);
	w.connect(schedule, settings);
	w.connect(realTime, settings);
	w.connect(realTimeDynamics, settings);
	w.connect(settings, globalSync);
	// Each direction runs only while Global Sync lets it (its Get Changes keep their cursors meanwhile); a paused
	// direction goes straight on to the next part.
	const d365On = check(w, 'Dynamics → ActiveCampaign on?', -2, 0, `={{ ${SYNCS('dynamicsToActiveCampaign')} }}`);
	const d365Paused = w.add('Dynamics → ActiveCampaign paused', 'n8n-nodes-base.noOp', 1, -2, 1.3, {});
	// The sync fields, the D365 tags and the account field the standard mapping writes: made on the first cycle,
	// three reads on the others (and made again if someone deleted them).
	const cycle = w.ours('Prepare sync fields and tags', 'activeCampaignSync', -1, 0, { resource: 'contact', operation: 'ensureSyncFields' });
	w.chain(globalSync, d365On, cycle);
	w.connect(d365On, d365Paused, 1);

	const once = { executeOnce: true };
	const d365 = (entity: string, plural: string, column: number, row: number, start: string, mapping: Json) => {
		const changes = dynamicsChanges(entity);
		const read = w.ours(`Dynamics ${entity} changes`, 'dynamics365', column, row, { ...changes, options: { ...changes.options, startFrom: INITIAL_SYNC_FROM } }, once);
		const map = w.ours(`Map ${plural} to ActiveCampaign`, 'acD365FieldMap', column + 1, row, mapping);
		const write = w.ours(`Write ${plural} to ActiveCampaign`, 'activeCampaignSync', column + 2, row, {
			resource: entity === 'account' ? 'account' : 'contact',
			operation: 'upsert',
			dataMode: 'syncItem',
		});
		w.chain(start, read, map, write);
		return { map, write };
	};
	const accounts = d365('account', 'accounts', 0, 0, cycle, defineMapping('account', { options: SYNC_OPTIONS }));
	const afterAccounts = w.after('After Dynamics accounts', -1, 1, cycle, accounts.write);
	const contacts = d365('contact', 'contacts', 0, 1, afterAccounts, defineMapping('contact', { options: SYNC_OPTIONS }));
	const afterContacts = w.after('After Dynamics contacts', -1, 2, afterAccounts, contacts.write);
	const leads = d365('lead', 'leads', 0, 2, afterContacts, defineMapping('lead', { ...LEAD_DEFAULTS, options: SYNC_OPTIONS }));

	const afterLeads = w.after('After Dynamics leads', 3.6, 0, afterContacts, leads.write, d365Paused);
	// Global Sync paused both ways: the ActiveCampaign part does not run (its cursors stay where they are).
	const acOn = check(w, 'ActiveCampaign → Dynamics on?', 4.6, 0, `={{ ${SYNCS('activeCampaignToDynamics')} }}`);
	const acPaused = w.add('ActiveCampaign → Dynamics paused', 'n8n-nodes-base.noOp', 1, 4.6, 2.6, {});
	w.connect(afterLeads, acOn);
	w.connect(acOn, acPaused, 1);
	const acAccounts = w.ours('ActiveCampaign account changes', 'activeCampaignSync', 5.6, 0, { resource: 'account', operation: 'getChanges', startFrom: INITIAL_SYNC_FROM }, once);
	const mapAcAccounts = w.ours('Map accounts to Dynamics', 'acD365FieldMap', 6.6, 0, shareMapping('account', accounts.map));
	const writeAccounts = w.ours('Write accounts to Dynamics', 'dynamics365', 7.6, 0, writeDynamics('account'));
	const recordAccounts = w.ours('Record account sync state', 'activeCampaignSync', 8.6, 0, { resource: 'account', operation: 'recordSyncState' });
	w.chain(acOn, acAccounts, mapAcAccounts, writeAccounts, recordAccounts);

	const afterAcAccounts = w.after('After ActiveCampaign accounts', 4.6, 1, acOn, recordAccounts);
	const acContacts = w.ours('ActiveCampaign contact changes', 'activeCampaignSync', 5.6, 1.5, {
		resource: 'contact',
		operation: 'getChanges',
		startFrom: INITIAL_SYNC_FROM,
		changeOptions: { details: true },
	}, once);
	const mapAcContacts = w.ours('Map contacts to Dynamics', 'acD365FieldMap', 6.6, 1, shareMapping('contact', contacts.map));
	const writeContacts = w.ours('Write contacts to Dynamics', 'dynamics365', 7.6, 1, writeDynamics('contact'));
	const recordContacts = w.ours('Record contact sync state', 'activeCampaignSync', 8.6, 1, { resource: 'contact', operation: 'recordSyncState' });
	const mapAcLeads = w.ours('Map leads to Dynamics', 'acD365FieldMap', 6.6, 2, shareMapping('lead', leads.map));
	const writeLeads = w.ours('Write leads to Dynamics', 'dynamics365', 7.6, 2, writeDynamics('lead'));
	const recordLeads = w.ours('Record lead sync state', 'activeCampaignSync', 8.6, 2, { resource: 'contact', operation: 'recordSyncState' });
	w.chain(afterAcAccounts, acContacts);
	// One read feeds both mappings; each takes its own records (tagged as a contact or not), so their order changes nothing.
	w.chain(acContacts, mapAcContacts, writeContacts, recordContacts);
	w.chain(acContacts, mapAcLeads, writeLeads, recordLeads);
	// Paused both ways, the report still runs (from "ActiveCampaign → Dynamics paused") and says so.
	w.report(3.6, 3.4, afterAcAccounts, recordContacts, recordLeads, acPaused);
	return w;
}

// ----------------------------------------------------------------------------------------------- 3 Opportunities

function filterCondition(left: string, right: string) {
	return {
		options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
		conditions: [{ id: 'condition-1', leftValue: left, rightValue: right, operator: { type: 'string', operation: 'equals' } }],
		combinator: 'and',
	};
}

function opportunitySync(): Workflow {
	const w = new Workflow('acd365Opportunities', 'AC ⇄ D365: Opportunity Sync', 'opportunity-sync.json');
	w.note(
		[
			'## Opportunities: Dynamics → ActiveCampaign (one way)',
			'When an opportunity is created or updated in Dynamics, it is written to its contact in ActiveCampaign as a "D365 Opportunity" custom-object record (name, estimated revenue, estimated close date, actual revenue, stage, plus up to 20 fields you add in "Map opportunities"). An opportunity needs a contact with an email (its customer, or its parent contact) that exists in ActiveCampaign.',
			'',
			'**The two automation triggers** (the official app\'s "D365 Opportunity is created / is updated"): ActiveCampaign offers them itself once this workflow has created the object — in the automation builder, under Objects, "D365 Opportunity Created" and "D365 Opportunity Updated" (a field from one value to another, "Any" allowed, e.g. Stage: Any → Close). Use those. For an automation that needs another trigger too (an object trigger must be the only one) or a condition decided here, enable "Start created-opportunity automation" and/or "Start updated-opportunity automation" instead and pick the automation each starts for the contact.',
			'**Configure**: the credentials; Poll Times in the trigger (every minute by default). Custom object records need an ActiveCampaign Enterprise plan.',
			'**Which opportunities**: the criteria rows in "Map opportunities"; for what rows cannot say (the official app\'s "custom criteria, manually set"), the trigger\'s Options → Raw Filter, an OData filter checked before use.',
			'**Global Sync** (in the Dynamics 365 credential): while it pauses Dynamics → ActiveCampaign (either "Off"), the trigger reads nothing and keeps its place; switched on again, it starts the workflow with every opportunity changed meanwhile.',
			previewNote,
			shortReportNote,
		].join('\n'),
		-1,
		0,
		1000,
	);
	const trigger = w.ours('When an opportunity is created or updated', 'dynamics365Trigger', -1, 1, {
		events: ['opportunity.created', 'opportunity.updated'],
		options: { formattedValues: true, includeRelatedContactEmail: true },
		pollTimes: { item: [{ mode: 'everyMinute' }] },
	});
	const settings = w.settings(-0.2, 0, { executeOnce: true });
	const schema = w.ours('Prepare opportunity object', 'activeCampaignSync', 0.8, 0, { resource: 'customObject', operation: 'ensureSchema' });
	// The opportunities go on once the custom object exists: a Merge that waits for both inputs and passes on the
	// trigger's items (its first input), whatever the positions of the two branches.
	const passOn = w.add('Opportunities', 'n8n-nodes-base.merge', 3.2, 1, 1, {
		mode: 'chooseBranch',
		chooseBranchMode: 'waitForAll',
		output: 'specifiedInput',
		useDataOfInput: 1,
	});
	const map = w.ours('Map opportunities', 'acD365FieldMap', 2, 1, { entity: 'opportunity', mappingSource: 'here' });
	const write = w.ours('Write opportunity to ActiveCampaign', 'activeCampaignSync', 3, 1, {
		resource: 'customObject',
		operation: 'upsertRecord',
		dataMode: 'syncItem',
	});
	const created = w.add('Created or updated?', 'n8n-nodes-base.if', 2.2, 4, 1, {
		conditions: filterCondition("={{ $('When an opportunity is created or updated').item.json.event }}", 'created'),
		options: {},
	});
	const contact = "={{ $('Map opportunities').item.json.related.contactEmail }}";
	const onCreated = w.ours(
		'Start created-opportunity automation',
		'activeCampaignSync',
		5,
		0.5,
		{ resource: 'contact', operation: 'addToAutomation', contact, automation: '' },
		{ disabled: true },
	);
	const onUpdated = w.ours(
		'Start updated-opportunity automation',
		'activeCampaignSync',
		5,
		1.5,
		{ resource: 'contact', operation: 'addToAutomation', contact, automation: '' },
		{ disabled: true },
	);
	w.connect(trigger, passOn, 0, 0);
	w.chain(trigger, settings, schema);
	w.connect(schema, passOn, 0, 1);
	w.chain(passOn, map, write, created);
	w.connect(created, onCreated, 0);
	w.connect(created, onUpdated, 1);
	w.report(4, 2.4, trigger, write, onCreated, onUpdated);
	return w;
}

// ----------------------------------------------------------------------------------------------- 4 Marketing activities

function marketingActivities(): Workflow {
	const w = new Workflow('acd365MarketingAct', 'AC ⇄ D365: Marketing Activities', 'marketing-activities.json');
	const HOOK = 'When an email activity happens';
	const activity = `$('${HOOK}').first().json`;
	w.note(
		[
			'## Marketing activities on the Dynamics timeline',
			'**In real time**: once this workflow is published, ActiveCampaign calls it for every email activity — sent, opened, clicked, replied to, forwarded, bounced, unsubscribed — and the activity of a contact linked to a Dynamics lead or contact becomes a note on that record within seconds. Each run is one activity: two Dynamics requests (has the record this note? add it), whatever the number of contacts.',
			'**Catch up** ("Run now"): ActiveCampaign delivers each activity once and never again, so activities that happened while n8n was down or the workflow unpublished are missed. "Run now" reads the last 25 hours of every linked contact (one request per contact) and adds the notes that are missing.',
			'A note whose subject the record already has is never added again: both paths make the same subject for the same activity (an activity delivered twice, or read again by the catch-up, adds nothing).',
			'',
			'**Configure**: the credentials; publish the workflow (ActiveCampaign then registers the webhook; n8n must be reachable from ActiveCampaign over https, port 443).',
			globalSyncNote + ' Here: while both ways are paused nothing is read or written — the activities of that time are missed until "Run now" catches up.',
			previewNote,
			shortReportNote,
		].join('\n'),
		-4,
		0,
		1200,
	);
	// "Run now" first and on top: the editor's run button starts the catch-up, not the webhook.
	const manual = w.add('Run now', 'n8n-nodes-base.manualTrigger', 1, -4, 0.5, {});
	const hook = w.ours(HOOK, 'activeCampaignSyncTrigger', -4, 1.5, {
		triggerOn: 'webhook',
		events: [...EMAIL_ACTIVITY_EVENTS],
		sources: ['public', 'admin', 'system'],
	}, { webhookId: '3b9e4f2a-6c1d-4e7f-8a2b-5d0c9e1f7a63' });
	const start = w.settings(-3, 1);
	w.connect(hook, start);
	w.connect(manual, start);
	const globalSync = w.globalSync(-2, 1);
	const on = check(w, 'ActiveCampaign → Dynamics on?', -1, 1, `={{ ${SYNCS('activeCampaignToDynamics')} }}`);
	const paused = w.add('Paused: nothing synced', 'n8n-nodes-base.noOp', 1, -1, 2.2, {});
	w.chain(start, globalSync, on);
	w.connect(on, paused, 1);
	const realTime = check(w, 'One activity (webhook)?', 0, 1, `={{ $('${HOOK}').isExecuted }}`);
	w.connect(on, realTime);

	// Real time: the activity ActiveCampaign sent, with the contact's fields (its link to Dynamics among them).
	const link = `(${activity}.contact?.fields?.d365_record_id ?? ${activity}.contact?.fields?.D365_RECORD_ID ?? '')`;
	const linked = check(w, 'Linked to Dynamics?', 1, 0.4, `={{ ${link} !== '' }}`);
	const notLinked = w.add('Not linked: no note', 'n8n-nodes-base.noOp', 1, 3, 1, {});
	const noteNow = w.ours('Add note for the activity', 'dynamics365', 2, 0.4, {
		resource: 'contact',
		operation: 'addNote',
		recordId: `={{ ${link} }}`,
		subject: `={{ ${activity}.note.subject }}`,
		noteText: `={{ ${activity}.note.text }}`,
		options: { skipExistingSubject: true },
	});
	w.connect(realTime, linked, 0);
	w.connect(linked, noteNow, 0);
	w.connect(linked, notLinked, 1);

	// Catch up: the activities of the last 25 hours of every linked contact.
	const readTag = (name: string, tag: string, row: number) =>
		w.ours(name, 'activeCampaignSync', 1, row, {
			resource: 'contact',
			operation: 'getAll',
			returnAll: true,
			filters: { tag },
			getAllOptions: { details: true },
		});
	const leads = readTag('Contacts tagged [D365: Lead]', '[D365: Lead]', 1.5);
	const contacts = readTag('Contacts tagged [D365: Contact]', '[D365: Contact]', 2.5);
	// Both lists, once both are read (a Merge runs once with all its inputs; the two reads write nothing).
	const linkedContacts = w.add('Linked contacts', 'n8n-nodes-base.merge', 3.2, 2, 2, {});
	const activities = w.ours('Activities of the last 25 hours', 'activeCampaignSync', 3, 2, {
		resource: 'contact',
		operation: 'getActivities',
		contact: '={{ $json.id }}',
		since: '={{ $now.minus({ hours: 25 }).toISO() }}',
		returnAll: true,
		activityOptions: { details: true },
	});
	// Each activity carries the note it makes (the same subject as the webhook path's).
	const note = w.ours('Add note to the Dynamics record', 'dynamics365', 4, 2, {
		resource: 'contact',
		operation: 'addNote',
		recordId: "={{ $('Linked contacts').item.json.customFields.find(f => f.perstag === 'D365_RECORD_ID')?.value }}",
		subject: '={{ $json.note.subject }}',
		noteText: '={{ $json.note.text }}',
		options: { skipExistingSubject: true },
	});
	w.connect(realTime, leads, 1);
	w.connect(realTime, contacts, 1);
	w.connect(leads, linkedContacts, 0, 0);
	w.connect(contacts, linkedContacts, 0, 1);
	w.chain(linkedContacts, activities, note);
	w.report(2, 3.4, start, noteNow, note);
	return w;
}

// ----------------------------------------------------------------------------------------------- webhook callers

/**
 * The credential the Sales Actions webhook checks (n8n's Header Auth): a header with a long random value that only
 * the caller (the Power Automate flow or the command-bar button) knows. n8n refuses every request without it (403)
 * before the workflow runs.
 */
export const WEBHOOK_CREDENTIALS = {
	salesActions: { httpHeaderAuth: { id: 'salesActionsHook', name: 'Sales actions webhook secret' } },
};
/** The header the Sales Actions caller sends the secret in. */
export const SALES_ACTION_SECRET_HEADER = 'X-Sync-Secret';
/** Names of the steps an admin configures: the allow-list (the official app's User Management) and the token. */
export const ALLOWED_USERS_NODE = 'Allowed Dynamics users';
export const AUTOMATION_TOKEN_NODE = 'Automation webhook token';
/** Shortest automation token the ActiveCampaign webhook accepts (an unset or short one refuses every call). */
export const MIN_TOKEN_LENGTH = 32;

/** A Respond to Webhook step answering JSON with a status code. */
function answer(w: Workflow, name: string, column: number, row: number, status: number, body: string): string {
	return w.add(name, 'n8n-nodes-base.respondToWebhook', 1.1, column, row, {
		respondWith: 'json',
		responseBody: body,
		options: status === 200 ? {} : { responseCode: status },
	});
}

/** An If step whose condition is one boolean expression. */
function check(w: Workflow, name: string, column: number, row: number, expression: string): string {
	return w.add(name, 'n8n-nodes-base.if', 2.2, column, row, {
		conditions: {
			options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
			conditions: [{ id: 'condition-1', leftValue: expression, rightValue: '', operator: { type: 'boolean', operation: 'true', singleValue: true } }],
			combinator: 'and',
		},
		options: {},
	});
}

/** A Set step holding one text setting an admin fills in (and nothing else: the request is not copied into it). */
function setting(w: Workflow, name: string, column: number, row: number, field: string, value = ''): string {
	return w.add(name, 'n8n-nodes-base.set', 3.4, column, row, {
		mode: 'manual',
		assignments: { assignments: [{ id: `${field}-1`, name: field, value, type: 'string' }] },
		includeOtherFields: false,
		options: {},
	});
}

// ----------------------------------------------------------------------------------------------- 5 Sales actions

function salesActions(): Workflow {
	const w = new Workflow('acd365SalesActions', 'AC ⇄ D365: Sales Actions', 'sales-actions.json');
	const HOOK = 'Sales action from Dynamics';
	const body = `$('${HOOK}').item.json.body`;
	w.note(
		[
			'## Sales actions from a Dynamics record',
			'Called from a Dynamics lead or contact (a Power Automate flow started from the record, or a command-bar button; see docs/sales-actions.md) to add the person to an ActiveCampaign automation or send them a campaign. The caller POSTs JSON to the production URL of "Sales action from Dynamics":',
			'`{ "recordType": "lead" | "contact", "recordId": "<guid>", "action": "addToAutomation" | "sendCampaign", "automation": "<automation id>", "campaign": "<campaign id>", "userEmail": "<who clicked>", "userId": "<their user id>" }`',
			'',
			`**Only known callers**: the webhook uses Header Auth. Create the credential "Sales actions webhook secret" (type Header Auth, name \`${SALES_ACTION_SECRET_HEADER}\`, value a long random secret, e.g. \`openssl rand -hex 32\`) and give the same secret to the flow. A request without it is refused (403) before anything runs.`,
			`**Only allowed users** (the official app's User Management): list the Dynamics users who may run sales actions in "${ALLOWED_USERS_NODE}" — their email or Dynamics user id, separated by commas. Anyone else is answered 403 "… is not allowed to run sales actions"; an empty list allows nobody.`,
			'**Configure**: the secret credential and the list above, and the ActiveCampaign and Dynamics credentials. The contact is created or updated in ActiveCampaign first, so a record not yet synced works too.',
			`**Global Sync** (in the Dynamics 365 credential): while it pauses Dynamics → ActiveCampaign (either "Off"), every call is answered 503 with the reason and nothing is read or written.`,
			webhookPreviewNote,
		].join('\n'),
		-1,
		1,
		1300,
	);
	const hook = w.add(
		HOOK,
		'n8n-nodes-base.webhook',
		2,
		-1,
		1,
		{ httpMethod: 'POST', path: 'd365-sales-action', authentication: 'headerAuth', responseMode: 'responseNode', options: {} },
		{ webhookId: '5f3b2c1e-7d4a-4e8b-9c6d-2a1b0c9d8e7f', credentials: WEBHOOK_CREDENTIALS.salesActions },
	);
	const allowed = setting(w, ALLOWED_USERS_NODE, 0, 1, 'allowedUsers');
	// Entries and the caller's email / id compare without case, spaces or the braces Dynamics puts around ids.
	const norm = (v: string) => `String(${v} ?? '').trim().toLowerCase().replace(/[{}]/g, '')`;
	const isAllowed = check(
		w,
		'Is the user allowed?',
		1,
		1,
		`={{ $json.allowedUsers.split(/[\\s,;]+/).map(u => ${norm('u')}).filter(u => u !== '').some(u => [${norm(`${body}?.userEmail`)}, ${norm(`${body}?.userId`)}].includes(u)) }}`,
	);
	const notAllowed = answer(
		w,
		'Answer: not allowed',
		2,
		2.25,
		403,
		`={{ { ok: false, user: ${body}?.userEmail || ${body}?.userId || null, error: (${body}?.userEmail || ${body}?.userId) ? (${body}?.userEmail || ${body}?.userId) + ' is not allowed to run sales actions; add them under ${ALLOWED_USERS_NODE}' : 'The request names no Dynamics user (userEmail or userId); sales actions run only for the users listed under ${ALLOWED_USERS_NODE}' } }}`,
	);
	// After the gate: nothing runs before it.
	const settings = w.settings(2, 1, {}, { alerts: false });
	const globalSync = w.globalSync(3, 1);
	const on = check(w, 'Dynamics → ActiveCampaign on?', 4, 1, `={{ ${SYNCS('dynamicsToActiveCampaign')} }}`);
	const paused = answer(w, 'Answer: paused', 5, 2.25, 503, `={{ { ok: false, error: $('${GLOBAL_SYNC_NODE}').first().json.summary + ' Sales actions wait until it is on.' } }}`);
	const read = w.ours(
		'Read the Dynamics record',
		'dynamics365',
		5,
		1,
		{
			resource: 'otherTable',
			table: { __rl: true, mode: 'name', value: `={{ ${body}.recordType === 'lead' ? 'lead' : 'contact' }}` },
			operation: 'get',
			recordId: `={{ ${body}.recordId }}`,
		},
		{ onError: 'continueErrorOutput' },
	);
	const upsert = w.ours('Make sure the contact is in ActiveCampaign', 'activeCampaignSync', 6, 1, {
		resource: 'contact',
		operation: 'upsert',
		dataMode: 'fields',
		email: '={{ $json.emailaddress1 }}',
		additionalFields: { firstName: '={{ $json.firstname }}', lastName: '={{ $json.lastname }}' },
	});
	const action = `${body}.action`;
	const which = w.add('Which action?', 'n8n-nodes-base.switch', 3.2, 7, 1, {
		rules: {
			values: [
				{ conditions: filterCondition(`={{ ${action} }}`, 'addToAutomation'), renameOutput: true, outputKey: 'Add to automation' },
				{ conditions: filterCondition(`={{ ${action} }}`, 'sendCampaign'), renameOutput: true, outputKey: 'Send campaign' },
			],
		},
		options: { fallbackOutput: 'extra', renameFallbackOutput: 'Unknown action' },
	});
	const automation = w.ours('Add to automation', 'activeCampaignSync', 8, 0.5, {
		resource: 'contact',
		operation: 'addToAutomation',
		// A preview of a contact it would create has no id yet: the email names it.
		contact: '={{ $json.id ?? $json.email }}',
		automation: `={{ ${body}.automation }}`,
	});
	const campaign = w.ours('Send campaign', 'activeCampaignSync', 8, 1.5, {
		resource: 'contact',
		operation: 'sendCampaign',
		contact: '={{ $json.id ?? $json.email }}',
		sendMethod: 'v1',
		campaign: `={{ ${body}.campaign }}`,
	});
	const contactEmail = "$('Make sure the contact is in ActiveCampaign').item.json.email";
	const respondAutomation = answer(w, 'Answer: added', 9, 0.5, 200, `={{ { ok: true, action: 'addToAutomation', contact: ${contactEmail}, preview: ${PREVIEWING} } }}`);
	const respondCampaign = answer(w, 'Answer: sent', 9, 1.5, 200, `={{ { ok: true, action: 'sendCampaign', contact: ${contactEmail}, preview: ${PREVIEWING} } }}`);
	const unknown = answer(
		w,
		'Answer: unknown action',
		8,
		2.5,
		400,
		`={{ { ok: false, error: 'Unknown action "' + (${action} ?? '') + '": send addToAutomation or sendCampaign' } }}`,
	);
	// A step that fails answers with its reason (the nodes' messages never hold credentials).
	const failed = answer(w, 'Answer: failed', 9, 3.25, 502, '={{ { ok: false, error: $json.error ?? \'The sales action failed\' } }}');

	w.chain(hook, allowed, isAllowed);
	w.connect(isAllowed, settings, 0);
	w.chain(settings, globalSync, on, read);
	w.connect(on, paused, 1);
	w.connect(isAllowed, notAllowed, 1);
	w.chain(read, upsert, which);
	w.connect(which, automation, 0);
	w.connect(which, campaign, 1);
	w.connect(which, unknown, 2);
	w.connect(automation, respondAutomation);
	w.connect(campaign, respondCampaign);
	for (const step of [read, upsert, automation, campaign]) w.connect(step, failed, 1);
	return w;
}

// ----------------------------------------------------------------------------------------------- 6 AC automation → D365

function automationToDynamics(): Workflow {
	const w = new Workflow('acd365FromAutomation', 'AC ⇄ D365: ActiveCampaign Automation → Dynamics', 'ac-automation-to-d365.json');
	const HOOK = 'From an ActiveCampaign automation';
	const request = `$('${HOOK}').item.json`;
	w.note(
		[
			'## Create a Dynamics lead or contact from an ActiveCampaign automation',
			'The counterpart of the official actions "Create a lead / contact in Microsoft Dynamics". In an ActiveCampaign automation add a **Webhook** action with the production URL of "From an ActiveCampaign automation" followed by `?as=lead&token=<token>` (or `?as=contact&token=<token>`). When a contact reaches it, the contact is tagged ([D365: Lead] or [D365: Contact]), created or updated in Dynamics right away (not at the next scheduled run), linked, and tagged [D365: Pulled from ActiveCampaign].',
			'',
			`**Only ActiveCampaign**: an automation's Webhook action cannot send headers (ActiveCampaign limits authorization to the URL and its parameters), so this webhook checks a token in the URL instead. Make a long random token (at least ${MIN_TOKEN_LENGTH} characters, e.g. \`openssl rand -hex 32\`), paste it as the value the first condition of "${AUTOMATION_TOKEN_NODE}" compares with, and put the same token in the automation's URL. A call without it, or with another one, is answered 403 and nothing else runs; while no token is set every call is refused.`,
			'**Configure**: the token, the credentials, the Topic default for new leads in "Map lead to Dynamics". n8n must be reachable from ActiveCampaign over https (port 443).',
			'**Global Sync** (in the Dynamics 365 credential): while it pauses both ways, every call is answered 503 with the reason and nothing is written (ActiveCampaign does not call again: the contact is created when it next reaches the action, or by the Scheduled Sync if it is tagged).',
			webhookPreviewNote,
		].join('\n'),
		-1,
		1,
		1300,
	);
	const hook = w.add(
		HOOK,
		'n8n-nodes-base.webhook',
		2,
		-1,
		1,
		{ httpMethod: 'POST', path: 'ac-create-in-dynamics', responseMode: 'responseNode', options: {} },
		{ webhookId: '8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f' },
	);
	// The token is a value of this check itself, not an item: no execution's data holds it (n8n still records the
	// request the caller sent, see docs/webhooks.md). Shipped empty, which no call can match (32+ characters).
	const sent = `={{ String(${request}.query?.token ?? '') }}`;
	const tokenOk = w.add(AUTOMATION_TOKEN_NODE, 'n8n-nodes-base.if', 2.2, 0, 1, {
		conditions: {
			options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
			conditions: [
				{ id: 'token-matches', leftValue: sent, rightValue: '', operator: { type: 'string', operation: 'equals' } },
				{ id: 'token-is-long', leftValue: sent, rightValue: `^\\S{${MIN_TOKEN_LENGTH},}$`, operator: { type: 'string', operation: 'regex' } },
			],
			combinator: 'and',
		},
		options: {},
	});
	const wrongToken = answer(
		w,
		'Answer: wrong token',
		1,
		2.25,
		403,
		`={{ { ok: false, error: 'Wrong or missing token: the webhook URL needs ?token= followed by the token set in ${AUTOMATION_TOKEN_NODE} (while none of ${MIN_TOKEN_LENGTH} or more characters is set there, every call is refused)' } }}`,
	);
	// Right after the check (nothing runs before it), before the answer that says whether this is a preview.
	const settings = w.settings(1, 1, {}, { alerts: false });
	const globalSync = w.globalSync(2, 1);
	const on = check(w, 'ActiveCampaign → Dynamics on?', 3, 1, `={{ ${SYNCS('activeCampaignToDynamics')} }}`);
	const paused = answer(w, 'Answer: paused', 4, 2.25, 503, `={{ { ok: false, error: $('${GLOBAL_SYNC_NODE}').first().json.summary + ' Nothing was written.' } }}`);
	// ActiveCampaign is answered at once; the writes go on after the answer.
	const accepted = answer(w, 'Answer: accepted', 4, 1, 200, `={{ { ok: true, as: ${request}.query?.as === 'contact' ? 'contact' : 'lead', preview: ${PREVIEWING} } }}`);
	const tag = w.ours('Tag for Dynamics', 'activeCampaignSync', 5, 1, {
		resource: 'contact',
		operation: 'addTag',
		contact: `={{ ${request}.body['contact[id]'] ?? ${request}.body.contact?.id ?? ${request}.body['contact[email]'] ?? ${request}.body.contact?.email }}`,
		tags: [`={{ ${request}.query.as === 'contact' ? '[D365: Contact]' : '[D365: Lead]' }}`],
	});
	const read = w.ours('Read the contact', 'activeCampaignSync', 6, 1, {
		resource: 'contact',
		operation: 'get',
		contact: '={{ $json.id }}',
	});
	const which = w.add('Lead or contact?', 'n8n-nodes-base.if', 2.2, 7, 1, {
		conditions: filterCondition(`={{ ${request}.query.as }}`, 'contact'),
		options: {},
	});
	const mapContact = w.ours('Map contact to Dynamics', 'acD365FieldMap', 8, 0.5, {
		entity: 'contact',
		step: 'toDynamics',
		mappingSource: 'here',
		syncDirection: 'bidirectional',
		options: SYNC_OPTIONS,
	});
	const mapLead = w.ours('Map lead to Dynamics', 'acD365FieldMap', 8, 1.5, {
		entity: 'lead',
		step: 'toDynamics',
		mappingSource: 'here',
		syncDirection: 'bidirectional',
		...LEAD_DEFAULTS,
		options: SYNC_OPTIONS,
	});
	const writeContact = w.ours('Write contact to Dynamics', 'dynamics365', 9, 0.5, writeDynamics('contact'));
	const writeLead = w.ours('Write lead to Dynamics', 'dynamics365', 9, 1.5, writeDynamics('lead'));
	const recordContact = w.ours('Record contact sync state', 'activeCampaignSync', 10, 0.5, { resource: 'contact', operation: 'recordSyncState' });
	const recordLead = w.ours('Record lead sync state', 'activeCampaignSync', 10, 1.5, { resource: 'contact', operation: 'recordSyncState' });
	w.connect(hook, tokenOk);
	w.connect(tokenOk, settings, 0);
	w.connect(tokenOk, wrongToken, 1);
	w.chain(settings, globalSync, on, accepted, tag, read, which);
	w.connect(on, paused, 1);
	w.connect(which, mapContact, 0);
	w.connect(which, mapLead, 1);
	w.chain(mapContact, writeContact, recordContact);
	w.chain(mapLead, writeLead, recordLead);
	return w;
}

// ----------------------------------------------------------------------------------------------- error workflow

function syncAlerts(): Workflow {
	const w = new Workflow('acd365SyncAlerts', 'AC ⇄ D365: Sync Alerts (error workflow)', 'sync-alerts.json');
	w.note(
		[
			'## Sync alerts (the error workflow)',
			'n8n starts this workflow when a run of a workflow that names it as its **error workflow** fails: a step stopped the run (Dynamics or ActiveCampaign unreachable, a credential rejected), or — with `failRunOnAlert` on in that workflow\'s "Settings" (the default) — its Sync report found failed records or dead letters; the message is then the report\'s summary.',
			'',
			'**Configure**: replace "Alert someone" with Slack, Microsoft Teams or Send Email and post `text` (or the separate fields). Then, in each sync workflow: Workflow settings → Error workflow → this workflow.',
			'**Publish this workflow**: n8n 2.x starts an error workflow only once it is published. It does not run for runs started by hand in the editor: those show their error in the editor.',
		].join('\n'),
		-1,
		0,
		900,
	);
	const trigger = w.add('When a sync run fails', 'n8n-nodes-base.errorTrigger', 1, -1, 0, {});
	const field = (id: string, name: string, value: string) => ({ id, name, value, type: 'string' });
	const describe = w.add('Describe the failure', 'n8n-nodes-base.set', 3.4, 0, 0, {
		assignments: {
			assignments: [
				field('workflow', 'workflow', '={{ $json.workflow.name }}'),
				field('message', 'message', '={{ $json.execution?.error?.message ?? $json.trigger?.error?.message ?? \'\' }}'),
				field('failed-step', 'failedStep', '={{ $json.execution?.lastNodeExecuted ?? \'\' }}'),
				field('execution-url', 'executionUrl', '={{ $json.execution?.url ?? \'\' }}'),
				field(
					'text',
					'text',
					"={{ 'Sync run of \"' + $json.workflow.name + '\" failed' + ($json.execution?.lastNodeExecuted ? ' at \"' + $json.execution.lastNodeExecuted + '\"' : '') + ': ' + ($json.execution?.error?.message ?? $json.trigger?.error?.message ?? 'no message') + ($json.execution?.url ? ' ' + $json.execution.url : '') }}",
				),
			],
		},
		options: {},
	});
	const alert = w.add(ALERT_NODE, 'n8n-nodes-base.noOp', 1, 1, 0, {});
	w.chain(trigger, describe, alert);
	return w;
}

export function templates(): Workflow[] {
	const all = [initialSync(), scheduledSync(), opportunitySync(), marketingActivities(), salesActions(), automationToDynamics(), syncAlerts()];
	for (const w of all) w.collectFailures();
	return all;
}

export function render(w: Workflow): string {
	return `${JSON.stringify(w.toJSON(), null, '\t')}\n`;
}

if (require.main === module) {
	const dir = path.resolve(__dirname, '..', 'workflows');
	mkdirSync(dir, { recursive: true });
	for (const w of templates()) {
		writeFileSync(path.join(dir, w.file), render(w));
		console.log(`workflows/${w.file}: ${w.name} (${w.nodes.length} nodes)`);
	}
}
