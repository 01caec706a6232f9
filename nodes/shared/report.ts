/**
 * The sync report: what one execution of a sync workflow did, per entity and direction, and what it cost.
 *
 * Every sync step tallies its own outcomes here as it finishes (the Field Map its skips and failures, the write steps
 * what they created, updated, flagged, skipped and failed), and both transports count each request they send. The tally
 * lives in this process's memory, keyed by the execution's id, because one execution runs in one process (in queue mode
 * too: a worker runs a whole execution), and nothing of it needs to outlive the execution. The Sync Report node at the
 * end of a template takes it, adds the retry queue's counts from the workflow's static data, and shows it as one item
 * and as a small HTML page. An execution that never reaches a report leaves its tally behind: tallies older than a day
 * are dropped.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { SKIP_REASONS } from './sync/decide';
import type { RetryStore } from './sync/retries';
import { GUID_TEXT } from './guid';

export type ReportApi = 'activeCampaign' | 'dynamics';
export type ReportDirection = 'toActiveCampaign' | 'toDynamics';

/** What happened to the records of one entity in one direction. */
export interface ReportTally {
	entity: string;
	direction: ReportDirection;
	created: number;
	updated: number;
	/** Written by ActiveCampaign's bulk import, which does not say whether it created the contact or updated it. */
	imported: number;
	/** Deleted, unlinked or flagged because the source record was deleted. */
	deleted: number;
	/** Skipped, by reason (one phrase per reason: {@link reasonPhrase}). */
	skipped: Record<string, number>;
	/** Records whose write settled a conflict (both sides had changed a field). */
	conflicts: number;
	failed: number;
	/** From the retry queue when the report is made: records waiting for their next try. */
	retriesPending: number;
	/** From the retry queue: records that failed too often and wait for a person. */
	deadLetters: number;
}

/** The report's figures ({@link SyncReport} adds its one-sentence summary). */
interface ReportFigures {
	/** Whether the run was a preview: every figure is what the run would have done. */
	preview: boolean;
	startedAt: string;
	finishedAt: string;
	durationSeconds: number;
	requests: Record<ReportApi, number>;
	/** In a preview: the write requests a real run would send as well (the preview sent only reads). */
	writesNeeded?: Record<ReportApi, number>;
	totals: { created: number; updated: number; imported: number; deleted: number; skipped: number; conflicts: number; failed: number; retriesPending: number; deadLetters: number };
	entities: ReportTally[] & IDataObject[];
	/** Whether someone should look: a failure in this run or a dead letter in the queue. */
	needsAttention: boolean;
	/** The directions Global Sync paused in this run (nothing was read or written that way). */
	paused?: ReportDirection[];
}

export interface SyncReport extends IDataObject, ReportFigures {
	/** The report in one sentence, for a notification or an error message ({@link reportSummary}). */
	summary: string;
}

interface Ledger {
	started: number;
	touched: number;
	preview: boolean;
	requests: Record<ReportApi, number>;
	writesNeeded: Record<ReportApi, number>;
	tallies: Map<string, ReportTally>;
	paused: Set<ReportDirection>;
}

const ledgers = new Map<string, Ledger>();
const KEEP_MS = 24 * 60 * 60 * 1000;

interface ExecutionContext {
	getExecutionId?: () => string | undefined;
}

function executionKey(fns: unknown): string | undefined {
	try {
		const id = (fns as ExecutionContext).getExecutionId?.();
		return id === undefined || id === null || id === '' ? undefined : String(id);
	} catch {
		return undefined;
	}
}

function ledgerOf(fns: unknown): Ledger | undefined {
	const key = executionKey(fns);
	if (key === undefined) return undefined;
	const now = Date.now();
	let ledger = ledgers.get(key);
	if (!ledger) {
		for (const [other, old] of ledgers) if (now - old.touched > KEEP_MS) ledgers.delete(other);
		ledger = {
			started: now,
			touched: now,
			preview: false,
			requests: { activeCampaign: 0, dynamics: 0 },
			writesNeeded: { activeCampaign: 0, dynamics: 0 },
			tallies: new Map(),
			paused: new Set(),
		};
		ledgers.set(key, ledger);
	}
	ledger.touched = now;
	return ledger;
}

/** One request sent to an API (each attempt counts: a retried request is two). */
export function countRequest(fns: unknown, api: ReportApi): void {
	const ledger = ledgerOf(fns);
	if (ledger) ledger.requests[api]++;
}

/** A preview step's write requests that a real run would send (the preview sends none of them). */
export function countWritesNeeded(fns: unknown, api: ReportApi, count: number): void {
	const ledger = ledgerOf(fns);
	if (!ledger) return;
	ledger.preview = true;
	ledger.writesNeeded[api] += Math.max(0, count);
}

/** A direction Global Sync paused in this run (shared/sync/globalSync.ts): the report says so. */
export function notePaused(fns: unknown, direction: ReportDirection): void {
	ledgerOf(fns)?.paused.add(direction);
}

function emptyTally(entity: string, direction: ReportDirection): ReportTally {
	return { entity, direction, created: 0, updated: 0, imported: 0, deleted: 0, skipped: {}, conflicts: 0, failed: 0, retriesPending: 0, deadLetters: 0 };
}

function tallyOf(tallies: Map<string, ReportTally>, entity: string, direction: ReportDirection): ReportTally {
	const key = `${entity}:${direction}`;
	let tally = tallies.get(key);
	if (!tally) tallies.set(key, (tally = emptyTally(entity, direction)));
	return tally;
}

const ID = new RegExp(`\\b${GUID_TEXT}\\b|\\b\\d+\\b`, 'gi');

/**
 * The phrase a skip reason is counted under: the two ways of saying "nothing to write" are one, a lost conflict is
 * one whoever won, and record ids are left out so that reasons that differ only by the record count together.
 */
export function reasonPhrase(reason: unknown): string {
	const text = typeof reason === 'string' && reason.trim() ? reason.trim() : 'no reason given';
	if (text === SKIP_REASONS.noChanges || text === SKIP_REASONS.unchanged) return 'unchanged';
	if (text.startsWith('conflict: ')) return 'the other side won a conflict';
	if (text === SKIP_REASONS.staleRead) return 'read again next run (an older read of the Dynamics record)';
	return text.replace(ID, '…').replace(/\s*\([^)]*…[^)]*\)/g, '');
}

/** Which column an output item counts in; `undefined` for items that are no outcome (a read step's records). */
function outcomeOf(item: INodeExecutionData): 'created' | 'updated' | 'imported' | 'deleted' | 'skipped' | 'failed' | undefined {
	const json = item.json ?? {};
	if (item.error || (typeof json.error === 'string' && !('operation' in json))) return 'failed';
	switch (json.operation) {
		case 'created':
			return 'created';
		case 'updated':
		case 'relinked':
			return 'updated';
		case 'imported':
			return 'imported';
		case 'deleted':
		case 'unlinked':
		case 'flagged':
			return 'deleted';
		case 'skipped':
			return 'skipped';
		default:
			return undefined;
	}
}

/**
 * Counts one step's output items for an entity and direction. `entityOf` names each item's entity where one step
 * writes several (Record Sync State of leads and contacts); `only` limits which outcomes count (a step that completes
 * another step's write counts only its failures).
 */
export function tallyOutcomes(
	fns: unknown,
	step: { entity: string | ((item: INodeExecutionData) => string | undefined); direction: ReportDirection; only?: Array<ReturnType<typeof outcomeOf>> },
	items: INodeExecutionData[],
): void {
	const ledger = ledgerOf(fns);
	if (!ledger) return;
	for (const item of items) {
		const outcome = outcomeOf(item);
		if (!outcome || (step.only && !step.only.includes(outcome))) continue;
		const entity = typeof step.entity === 'function' ? step.entity(item) : step.entity;
		if (!entity) continue;
		const tally = tallyOf(ledger.tallies, entity, step.direction);
		if (item.json?.preview === true) ledger.preview = true;
		if (outcome === 'skipped') {
			const phrase = reasonPhrase(item.json.reason);
			tally.skipped[phrase] = (tally.skipped[phrase] ?? 0) + 1;
		} else {
			tally[outcome]++;
		}
		if (Array.isArray(item.json?.conflicts) && item.json.conflicts.length) tally.conflicts++;
	}
}

/** The figures of a retry queue entry's entity and direction: the source system says which way it was going. */
function queueTallies(tallies: Map<string, ReportTally>, store: RetryStore | undefined): void {
	for (const entry of Object.values(store ?? {})) {
		const direction: ReportDirection = entry.system === 'dynamics' ? 'toActiveCampaign' : 'toDynamics';
		const tally = tallyOf(tallies, entry.kind, direction);
		if (entry.dead) tally.deadLetters++;
		else tally.retriesPending++;
	}
}

const ENTITY_ORDER = ['account', 'contact', 'lead', 'opportunity', 'activity', 'note'];

/**
 * Takes this execution's tally (a second report in the same execution starts from nothing) and makes the report:
 * the retry queue's counts come from `store`, as they stand now.
 */
export function takeReport(fns: unknown, store: RetryStore | undefined, now = Date.now()): SyncReport {
	const key = executionKey(fns);
	const ledger = (key !== undefined ? ledgers.get(key) : undefined) ?? {
		started: now,
		touched: now,
		preview: false,
		requests: { activeCampaign: 0, dynamics: 0 },
		writesNeeded: { activeCampaign: 0, dynamics: 0 },
		tallies: new Map<string, ReportTally>(),
		paused: new Set<ReportDirection>(),
	};
	if (key !== undefined) ledgers.delete(key);
	const tallies = new Map([...ledger.tallies].map(([k, t]) => [k, { ...t, skipped: { ...t.skipped }, retriesPending: 0, deadLetters: 0 }]));
	queueTallies(tallies, store);
	const entities = [...tallies.values()].sort(
		(a, b) =>
			(ENTITY_ORDER.indexOf(a.entity) + 1 || 99) - (ENTITY_ORDER.indexOf(b.entity) + 1 || 99) ||
			a.entity.localeCompare(b.entity) ||
			a.direction.localeCompare(b.direction),
	);
	const sum = (pick: (t: ReportTally) => number) => entities.reduce((n, t) => n + pick(t), 0);
	const skippedOf = (t: ReportTally) => Object.values(t.skipped).reduce((n, c) => n + c, 0);
	const totals = {
		created: sum((t) => t.created),
		updated: sum((t) => t.updated),
		imported: sum((t) => t.imported),
		deleted: sum((t) => t.deleted),
		skipped: sum(skippedOf),
		conflicts: sum((t) => t.conflicts),
		failed: sum((t) => t.failed),
		retriesPending: sum((t) => t.retriesPending),
		deadLetters: sum((t) => t.deadLetters),
	};
	const report: ReportFigures = {
		preview: ledger.preview,
		startedAt: new Date(ledger.started).toISOString(),
		finishedAt: new Date(now).toISOString(),
		durationSeconds: Math.round((now - ledger.started) / 100) / 10,
		requests: { ...ledger.requests },
		...(ledger.preview ? { writesNeeded: { ...ledger.writesNeeded } } : {}),
		totals,
		entities: entities as ReportTally[] & IDataObject[],
		needsAttention: totals.failed > 0 || totals.deadLetters > 0,
		...(ledger.paused.size ? { paused: (['toActiveCampaign', 'toDynamics'] as const).filter((d) => ledger.paused.has(d)) } : {}),
	};
	return { ...report, summary: reportSummary(report) };
}

const ENTITY_LABEL: Record<string, string> = {
	account: 'Accounts',
	contact: 'Contacts',
	lead: 'Leads',
	opportunity: 'Opportunities',
	activity: 'Activity reads',
	note: 'Activity notes',
};
const DIRECTION_LABEL: Record<ReportDirection, string> = { toActiveCampaign: '→ ActiveCampaign', toDynamics: '→ Dynamics' };
/** The table's short form of a direction (the chart above it spells it out). */
const SHORT_DIRECTION: Record<ReportDirection, string> = { toActiveCampaign: '→ AC', toDynamics: '→ D365' };
const label = (t: ReportTally) => `${ENTITY_LABEL[t.entity] ?? t.entity} ${DIRECTION_LABEL[t.direction] ?? t.direction}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * One sentence: what needs attention first (failures and dead letters, where), then what was written and skipped.
 * E.g. "Needs attention: 2 failed (Contacts → Dynamics 2), 1 dead letter (Leads → Dynamics 1). 3 created, 5 updated,
 * 0 deleted, 12 skipped; 41 ActiveCampaign and 9 Dynamics requests."
 */
export function reportSummary(report: ReportFigures): string {
	const where = (pick: (t: ReportTally) => number) =>
		report.entities
			.filter((t) => pick(t) > 0)
			.map((t) => `${label(t)} ${pick(t)}`)
			.join(', ');
	const { totals } = report;
	const problems = [
		totals.failed ? `${totals.failed} failed (${where((t) => t.failed)})` : '',
		totals.deadLetters ? `${plural(totals.deadLetters, 'dead letter')} (${where((t) => t.deadLetters)})` : '',
	].filter(Boolean);
	const head = report.preview ? 'Preview, nothing written' : problems.length ? 'Needs attention' : 'Synced';
	const figures = `${totals.created} created, ${totals.updated} updated${totals.imported ? `, ${totals.imported} imported` : ''}, ${totals.deleted} deleted, ${totals.skipped} skipped${totals.conflicts ? `, ${plural(totals.conflicts, 'conflict')} decided` : ''}${totals.retriesPending ? `, ${totals.retriesPending} waiting for a retry` : ''}`;
	const requests = `${report.requests.activeCampaign} ActiveCampaign and ${report.requests.dynamics} Dynamics requests`;
	const needed = report.writesNeeded ? `; a real run would also send ${writesNeededText(report.writesNeeded)}` : '';
	const paused = report.paused?.length ? ` ${pausedText(report.paused)}` : '';
	return `${head}${problems.length ? `: ${problems.join(', ')}` : ''}. ${figures}; ${requests}${needed}.${paused}`;
}

const PAUSED_LABEL: Record<ReportDirection, string> = { toActiveCampaign: 'Dynamics → ActiveCampaign', toDynamics: 'ActiveCampaign → Dynamics' };

function pausedText(paused: ReportDirection[]): string {
	return `Paused by Global Sync: ${paused.map((d) => PAUSED_LABEL[d]).join(' and ')}.`;
}

function writesNeededText(writes: Record<ReportApi, number>): string {
	return `${writes.activeCampaign} ActiveCampaign and ${writes.dynamics} Dynamics write requests`;
}


function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const COLUMNS: Array<{ key: 'created' | 'updated' | 'imported' | 'deleted' | 'skipped' | 'conflicts' | 'failed'; label: string; color: string }> = [
	{ key: 'created', label: 'created', color: '#2e7d32' },
	{ key: 'updated', label: 'updated', color: '#1565c0' },
	{ key: 'imported', label: 'imported (created or updated)', color: '#00838f' },
	{ key: 'deleted', label: 'deleted / flagged', color: '#6a1b9a' },
	{ key: 'skipped', label: 'skipped', color: '#9e9e9e' },
	{ key: 'conflicts', label: 'conflicts decided', color: '#ef6c00' },
	{ key: 'failed', label: 'failed', color: '#c62828' },
];


/**
 * A self-contained page with the report's figures: a bar per entity and direction, a table, the reasons for skips.
 * Plain HTML with inline styles, nothing loaded from elsewhere: n8n's HTML output strips SVG and scripts, so the bars
 * are coloured boxes, which every mail client and browser shows too.
 */
export function reportHtml(report: SyncReport): string {
	const rows = report.entities.map((t) => ({
		entity: ENTITY_LABEL[t.entity] ?? t.entity,
		direction: DIRECTION_LABEL[t.direction] ?? t.direction,
		short: SHORT_DIRECTION[t.direction] ?? t.direction,
		values: {
			created: t.created,
			updated: t.updated,
			imported: t.imported,
			deleted: t.deleted,
			skipped: Object.values(t.skipped).reduce((n, c) => n + c, 0),
			conflicts: t.conflicts,
			failed: t.failed,
		},
		tally: t,
	}));
	const max = Math.max(1, ...rows.map((r) => COLUMNS.reduce((n, c) => n + r.values[c.key], 0)));
	const barWidth = 150;
	const chart = [
		'<table style="border-collapse:collapse">',
		...rows.map((row) => {
			const total = COLUMNS.reduce((n, c) => n + row.values[c.key], 0);
			const parts = COLUMNS.filter((c) => row.values[c.key] > 0)
				.map((c) => `<span title="${escapeHtml(`${c.label}: ${row.values[c.key]}`)}" style="display:inline-block;height:14px;vertical-align:middle;width:${Math.max(2, Math.round((row.values[c.key] / max) * barWidth))}px;background:${c.color}"></span>`)
				.join('');
			return `<tr><td style="padding:2px 8px 2px 0;white-space:nowrap">${escapeHtml(row.entity)} <span style="color:#666">${escapeHtml(row.direction)}</span></td><td style="white-space:nowrap">${parts} <span style="color:#444">${total}</span></td></tr>`;
		}),
		'</table>',
	].join('');
	const legend = COLUMNS.filter((c) => rows.some((r) => r.values[c.key] > 0)).map((c) => `<span style="margin-right:12px;white-space:nowrap"><span style="display:inline-block;width:10px;height:10px;margin-right:4px;background:${c.color}"></span>${escapeHtml(c.label)}</span>`).join(' ');
	const cell = 'border:1px solid #ddd;padding:1px 3px;text-align:right';
	// Narrow enough for n8n's output panel at its default width: the columns every run has, and the others only when
	// a row has something in them (the JSON item always has them all).
	const columns: Array<{ label: string; value: (row: (typeof rows)[number]) => number; always?: boolean }> = [
		{ label: 'created', value: (r) => r.values.created, always: true },
		{ label: 'updated', value: (r) => r.values.updated, always: true },
		{ label: 'imported', value: (r) => r.values.imported },
		{ label: 'deleted', value: (r) => r.values.deleted },
		{ label: 'skipped', value: (r) => r.values.skipped, always: true },
		{ label: 'conflicts', value: (r) => r.values.conflicts },
		{ label: 'failed', value: (r) => r.values.failed, always: true },
		{ label: 'retrying', value: (r) => r.tally.retriesPending },
		{ label: 'dead letters', value: (r) => r.tally.deadLetters },
	];
	const shown = columns.filter((c) => c.always || rows.some((r) => c.value(r) > 0));
	const table = [
		`<table style="border-collapse:collapse;margin-top:10px;font-size:12px"><tr><th style="${cell}"></th>${shown.map((c) => `<th style="${cell}">${escapeHtml(c.label)}</th>`).join('')}</tr>`,
		...rows.map(
			(row) =>
				`<tr><th style="${cell};text-align:left;white-space:nowrap">${escapeHtml(row.entity)} <span style="font-weight:normal;color:#666">${escapeHtml(row.short)}</span></th>${shown.map((c) => `<td style="${cell}">${c.value(row)}</td>`).join('')}</tr>`,
		),
		'</table>',
	].join('');
	const reasons = rows
		.filter((row) => Object.keys(row.tally.skipped).length)
		.map((row) => {
			const items = Object.entries(row.tally.skipped)
				.sort((a, b) => b[1] - a[1])
				.map(([reason, n]) => `<li>${n} × ${escapeHtml(reason)}</li>`)
				.join('');
			return `<p style="margin:8px 0 2px">${escapeHtml(row.entity)} <span style="color:#666">${escapeHtml(row.direction)}</span> — skipped because:</p><ul style="margin:0;padding-left:18px;color:#444">${items}</ul>`;
		})
		.join('');
	const status = report.needsAttention
		? `<p style="color:#c62828;font-weight:bold">Needs attention: ${report.totals.failed} failed in this run, ${report.totals.deadLetters} dead letter${report.totals.deadLetters === 1 ? '' : 's'} in the retry queue.</p>`
		: '<p style="color:#2e7d32">No failures and no dead letters.</p>';
	return [
		'<!doctype html><html><head><meta charset="utf-8"><title>Sync report</title></head>',
		'<body style="font-family:sans-serif;font-size:13px;margin:12px;color:#222">',
		`<h2 style="margin:0 0 6px">Sync report${report.preview ? ' — preview (nothing was written)' : ''}</h2>`,
		`<p style="margin:0">${escapeHtml(report.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} · ${report.durationSeconds} s · ${report.requests.activeCampaign} ActiveCampaign requests · ${report.requests.dynamics} Dynamics requests</p>`,
		report.writesNeeded ? `<p style="margin:0">A real run would also send ${escapeHtml(writesNeededText(report.writesNeeded))}.</p>` : '',
		status,
		report.paused?.length ? `<p style="color:#ef6c00;font-weight:bold">${escapeHtml(pausedText(report.paused))}</p>` : '',
		rows.length ? `${chart}<p style="font-size:12px">${legend}</p>${table}${reasons}` : '<p>Nothing was read, written or skipped.</p>',
		'</body></html>',
	].join('');
}
