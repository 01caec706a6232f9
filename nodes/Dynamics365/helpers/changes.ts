/**
 * Reading what changed in a table since the last read, for the trigger and the Get Changes operation. Two ways:
 *
 * - **Watermark** (default): records with `modifiedon` at or after the watermark minus an overlap window, in
 *   `modifiedon` order; records already emitted at the same `versionnumber` are dropped (the shared change cursor,
 *   `nodes/shared/sync/cursor.ts`). Dataverse times have second precision, so same-second changes and changes made
 *   while a read runs come back in the overlap and are de-duplicated by version. Changes made by this connection's
 *   own user are filtered out on the server (`_modifiedby_value ne <WhoAmI>`), the echo guard of two-way sync.
 * - **Change tracking**: Dataverse delta links (`Prefer: odata.track-changes`), which also report deletions. The
 *   table must have "Track changes" enabled.
 *
 * A backlog larger than a run's budget is emitted in parts: the watermark then moves only to the newest record
 * emitted, so the next read continues there.
 */
import type { IDataObject } from 'n8n-workflow';

import { advanceCursor, readCursor, readFrom, selectChanges, writeCursor, type ChangedRecord } from '../../shared/sync/cursor';
import { isGuid } from '../../shared/sync/state';
import type { DataverseClient } from '../transport';
import { andFilters, inFilter, toUtcIso, type Criterion } from '../transport/odata';
import type { TableInfo } from '../transport/metadata';
import { columnLookup, FORMATTED_VALUES, flattenRelatedContact } from './query';
import { RecordError } from './values';

export type ChangeEvent = 'created' | 'updated' | 'deleted';

export interface Change {
	event: ChangeEvent;
	id: string;
	record: IDataObject;
}

export interface ChangeReadOptions {
	table: TableInfo;
	/** `$select` (undefined: all columns). */
	select?: string;
	/** Compiled criteria (watermark mode). */
	filter?: string;
	/** Criteria rows, evaluated on the records in change-tracking mode (which allows no `$filter`). */
	criteria?: Criterion[];
	combinator?: 'and' | 'or';
	/**
	 * A checked Raw Filter (query.ts rawFilter). In watermark mode it is part of `filter`; in change-tracking mode, which
	 * allows no `$filter`, the changed records are read again through it (100 ids per request, so the cost grows with
	 * the changes) and those it leaves out are not emitted.
	 */
	rawFilter?: string;
	overlapMs: number;
	ignoreOwnChanges: boolean;
	/** First read: from this time instead of "now". */
	startFrom?: string;
	/** At most this many changes per read; the rest follows next time. */
	maxRecords: number;
	/** Stop fetching further pages after this time (epoch ms). */
	deadline?: number;
	expand?: string;
	formattedValues?: boolean;
}

export interface ChangeReadResult {
	changes: Change[];
	/** False when more changes are waiting (budget or maximum reached). */
	complete: boolean;
	/** True on the very first read without a start date: the cursor was set to now and nothing was emitted. */
	initialized: boolean;
}

const TRACKING_COLUMNS = ['modifiedon', 'createdon', 'versionnumber', '_modifiedby_value', '_createdby_value'];
const MAX_EMPTY_PAGES = 20;
const MIN_OVERLAP_MS = 2000;

function ownRecord(record: IDataObject, me: string): boolean {
	return String(record._createdby_value ?? '').toLowerCase() === me;
}

/** The start of the second of an ISO time (Dataverse times have second precision). */
function floorSecond(iso: string): string {
	return new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString();
}

function selectWith(table: TableInfo, select: string | undefined): string | undefined {
	if (!select) return undefined;
	const set = new Set(select.split(','));
	for (const c of TRACKING_COLUMNS) if (table.columns.has(c.replace(/^_(.+)_value$/, '$1'))) set.add(c);
	return [...set].join(',');
}

function toChanged(table: TableInfo, record: IDataObject): ChangedRecord {
	return {
		id: String(record[table.primaryIdAttribute] ?? '').toLowerCase(),
		version: String(record.versionnumber ?? record['@odata.etag'] ?? record.modifiedon ?? ''),
		modifiedAt: String(record.modifiedon ?? ''),
		createdAt: typeof record.createdon === 'string' ? record.createdon : undefined,
	};
}

function output(table: TableInfo, record: IDataObject, expand?: string): IDataObject {
	return expand ? flattenRelatedContact(record) : record;
}

/** Reads the changes since the cursor kept in `slot` (part of the node's static data) and moves the cursor. */
export async function readChanges(client: DataverseClient, slot: IDataObject, options: ChangeReadOptions): Promise<ChangeReadResult> {
	const { table } = options;
	const startedAt = new Date().toISOString();
	const cursor = readCursor(slot);
	if (!cursor && !options.startFrom) {
		// First activation: from now. Records changed before this moment are never emitted, even though the next
		// read looks back over the overlap (modifiedon has second precision: the current second stays emittable).
		writeCursor(slot, { watermark: startedAt, seen: {} });
		slot.emitFrom = floorSecond(startedAt);
		return { changes: [], complete: true, initialized: true };
	}
	// modifiedon has second precision: read at least two seconds back, whatever the overlap setting.
	const overlapMs = Math.max(options.overlapMs, MIN_OVERLAP_MS);
	const from = cursor ? readFrom(cursor, overlapMs) : toUtcIso(options.startFrom, "'Start From'");
	const me = options.ignoreOwnChanges ? await client.whoAmI() : undefined;
	const filter = andFilters(`modifiedon ge ${from}`, me ? `_modifiedby_value ne ${me}` : undefined, options.filter);
	const query: Record<string, string | undefined> = {
		$select: selectWith(table, options.select),
		$filter: filter,
		$orderby: `modifiedon asc,${table.primaryIdAttribute} asc`,
		$expand: options.expand,
	};
	const pageSize = Math.max(1, Math.min(5000, options.maxRecords));
	const prefer = [`odata.maxpagesize=${pageSize}`, ...(options.formattedValues ? [FORMATTED_VALUES] : [])];
	const seen = cursor?.seen ?? {};
	const records: IDataObject[] = [];
	let fresh = 0;
	let complete = false;
	let emptyPages = 0;
	let url: string = table.entitySetName;
	let first = true;
	for (;;) {
		const page = await client.get<IDataObject>(url, first ? query : undefined, { prefer, table: table.logicalName, action: 'read changes' });
		first = false;
		let freshOnPage = 0;
		for (const record of (page.value as IDataObject[]) ?? []) {
			records.push(record);
			const changed = toChanged(table, record);
			const entry = seen[changed.id];
			if (entry === undefined || entry.slice(0, entry.lastIndexOf('@') < 0 ? undefined : entry.lastIndexOf('@')) !== changed.version) {
				fresh++;
				freshOnPage++;
			}
		}
		const next = page['@odata.nextLink'];
		if (typeof next !== 'string') {
			complete = true;
			break;
		}
		if (freshOnPage === 0) emptyPages++;
		const outOfBudget = fresh >= options.maxRecords || (options.deadline !== undefined && Date.now() >= options.deadline);
		// Keep reading past pages of already-emitted records, or a backlog inside the overlap could never drain.
		if (outOfBudget && (fresh > 0 || emptyPages >= MAX_EMPTY_PAGES)) break;
		url = next;
	}
	const emitFrom = typeof slot.emitFrom === 'string' ? slot.emitFrom : undefined;
	let selected = selectChanges(
		records
			.map((record) => ({ ...toChanged(table, record), record }))
			.filter((r) => !emitFrom || Date.parse(r.modifiedAt) >= Date.parse(emitFrom)),
		cursor,
		emitFrom && Date.parse(emitFrom) > Date.parse(from) ? emitFrom : from,
	);
	if (selected.length > options.maxRecords) {
		selected = selected.slice(0, options.maxRecords);
		complete = false;
	}
	if (complete || selected.length) {
		writeCursor(
			slot,
			advanceCursor(
				cursor,
				selected.map((s) => s.record),
				startedAt,
				overlapMs,
				complete,
			),
		);
		if (emitFrom && Date.parse(from) >= Date.parse(emitFrom)) delete slot.emitFrom;
	}
	return {
		changes: selected.map((s) => ({
			// A record this connection created (its creation was not emitted) that someone else then changed is an update.
			event: s.kind === 'created' && me && ownRecord(s.record.record, me) ? 'updated' : s.kind,
			id: s.record.id,
			record: output(table, s.record.record, options.expand),
		})),
		complete,
		initialized: false,
	};
}

/** Client-side criteria (change-tracking reads allow no `$filter`). */
export function matchesCriteria(table: TableInfo, record: IDataObject, criteria: readonly Criterion[], combinator: 'and' | 'or' = 'and'): boolean {
	if (!criteria.length) return true;
	const lookup = columnLookup(table);
	const results = criteria.map((c) => {
		const column = lookup(c.column);
		const property = ['Lookup', 'Customer', 'Owner'].includes(column.type) ? `_${column.logicalName}_value` : column.logicalName;
		const actual = record[property];
		const a = actual === undefined || actual === null ? null : String(actual).toLowerCase();
		const raw = c.value;
		const b = raw === undefined || raw === null ? '' : String(raw).toLowerCase();
		const numeric = typeof actual === 'number' && b !== '' && !Number.isNaN(Number(b));
		const cmp = numeric ? (actual as number) - Number(b) : a === null ? NaN : a < b ? -1 : a > b ? 1 : 0;
		switch (c.operator) {
			case 'isNull':
				return a === null;
			case 'isNotNull':
				return a !== null;
			case 'eq':
				return numeric ? cmp === 0 : a === b;
			case 'ne':
				return numeric ? cmp !== 0 : a !== b;
			case 'gt':
				return cmp > 0;
			case 'ge':
				return cmp >= 0;
			case 'lt':
				return cmp < 0;
			case 'le':
				return cmp <= 0;
			case 'contains':
				return a !== null && a.includes(b);
			case 'notContains':
				return a === null || !a.includes(b);
			case 'startsWith':
				return a !== null && a.startsWith(b);
			case 'endsWith':
				return a !== null && a.endsWith(b);
			case 'in':
			case 'notIn': {
				const list = b.split(',').map((v) => v.trim());
				const hit = a !== null && list.includes(a);
				return c.operator === 'in' ? hit : !hit;
			}
			default:
				throw new RecordError(`Unknown operator '${String(c.operator)}'`);
		}
	});
	return combinator === 'or' ? results.some(Boolean) : results.every(Boolean);
}

export interface DeltaState extends IDataObject {
	deltaLink?: string;
	/** A page link to continue an interrupted read. */
	nextLink?: string;
	/** When the read that produced the current delta link started (ISO). */
	since?: string;
	/** The initial full read is still running (its records are not emitted). */
	initializing?: boolean;
	/** During an initial read: emit records modified at or after this (a start date, or a restart after expiry). */
	emitFrom?: string;
}

/**
 * Reads changes through a Dataverse delta link: created and updated records plus deletions. The first read pages
 * through the whole table to obtain the first delta link and emits nothing (unless a start date is given).
 */
export async function readDeltaChanges(client: DataverseClient, slot: IDataObject, options: ChangeReadOptions): Promise<ChangeReadResult> {
	const { table } = options;
	const state = slot as DeltaState;
	// Where the read started: restored when the Raw Filter's read fails, so no change is passed over unseen.
	const before = JSON.stringify(slot);
	const startedAt = new Date().toISOString();
	const me = options.ignoreOwnChanges ? await client.whoAmI() : undefined;
	const prefer = [`odata.maxpagesize=${Math.min(5000, Math.max(1, options.maxRecords))}`, 'odata.track-changes', ...(options.formattedValues ? [FORMATTED_VALUES] : [])];
	const initial = !state.deltaLink;
	let url: string;
	let query: Record<string, string | undefined> | undefined;
	if (state.nextLink) {
		url = state.nextLink;
	} else if (state.deltaLink) {
		url = state.deltaLink;
	} else {
		url = table.entitySetName;
		query = { $select: selectWith(table, options.select) ?? undefined };
		state.initializing = true;
		state.since = startedAt;
		if (options.startFrom) state.emitFrom = toUtcIso(options.startFrom, "'Start From'");
	}
	const since = state.since ?? startedAt;
	const changes: Change[] = [];
	let complete = false;
	for (;;) {
		const outcome = await client.trySend<IDataObject>({ method: 'GET', path: url, query, prefer, table: table.logicalName, action: 'read changes' });
		if (!outcome.ok) {
			if (state.deltaLink && outcome.failure.status >= 400 && outcome.failure.status < 500 && outcome.failure.status !== 403 && outcome.failure.status !== 401) {
				// The delta token expired (7 days by default): start over, reporting what changed since the last read.
				for (const key of Object.keys(state)) delete state[key];
				state.initializing = true;
				state.since = startedAt;
				state.emitFrom = new Date(Date.parse(since) - options.overlapMs).toISOString();
				url = table.entitySetName;
				query = { $select: selectWith(table, options.select) ?? undefined };
				continue;
			}
			throw outcome.error;
		}
		query = undefined;
		const page = outcome.response.body;
		for (const entry of (page.value as IDataObject[]) ?? []) {
			const context = String(entry['@odata.context'] ?? '');
			if (context.includes('$deletedEntity') || (entry.reason === 'deleted' && entry.id)) {
				if (!state.initializing) changes.push({ event: 'deleted', id: String(entry.id).toLowerCase(), record: { id: String(entry.id).toLowerCase() } });
				continue;
			}
			const changed = toChanged(table, entry);
			if (me && String(entry._modifiedby_value ?? '').toLowerCase() === me) continue;
			if (state.initializing && (!state.emitFrom || Date.parse(changed.modifiedAt) < Date.parse(state.emitFrom))) continue;
			if (options.criteria?.length && !matchesCriteria(table, entry, options.criteria, options.combinator)) continue;
			const createdFrom = state.initializing && state.emitFrom ? state.emitFrom : since;
			const created =
				changed.createdAt !== undefined &&
				Date.parse(changed.createdAt) >= Date.parse(floorSecond(createdFrom)) &&
				!(me && ownRecord(entry, me));
			changes.push({ event: created ? 'created' : 'updated', id: changed.id, record: output(table, entry, options.expand) });
		}
		const next = page['@odata.nextLink'];
		const delta = page['@odata.deltaLink'];
		if (typeof next === 'string') {
			const outOfBudget = changes.length >= options.maxRecords || (options.deadline !== undefined && Date.now() >= options.deadline);
			if (outOfBudget) {
				state.nextLink = next;
				break;
			}
			url = next;
			continue;
		}
		delete state.nextLink;
		if (typeof delta === 'string') state.deltaLink = delta;
		if (!state.initializing) state.since = startedAt;
		state.initializing = false;
		delete state.emitFrom;
		complete = true;
		break;
	}
	if (options.rawFilter && changes.some((c) => c.event !== 'deleted')) {
		const filtered = await idsThroughFilter(client, table, options.rawFilter, changes.filter((c) => c.event !== 'deleted').map((c) => c.id)).then(
			(kept) => ({ kept }),
			(error: unknown) => ({ error: error as Error }),
		);
		if ('error' in filtered) {
			for (const key of Object.keys(slot)) delete slot[key];
			Object.assign(slot, JSON.parse(before) as IDataObject);
			throw filtered.error;
		}
		return { changes: changes.filter((c) => c.event === 'deleted' || filtered.kept.has(c.id)), complete, initialized: initial && !options.startFrom };
	}
	return { changes, complete, initialized: initial && !options.startFrom };
}

/** Which of these records the filter keeps, read by id (100 per request) with nothing but their ids. */
async function idsThroughFilter(client: DataverseClient, table: TableInfo, filter: string, ids: readonly string[]): Promise<Set<string>> {
	const kept = new Set<string>();
	for (let at = 0; at < ids.length; at += 100) {
		const chunk = ids.slice(at, at + 100).filter((id) => isGuid(id));
		if (!chunk.length) continue;
		const { records } = await client.list<IDataObject>(
			table.entitySetName,
			{ $select: table.primaryIdAttribute, $filter: andFilters(inFilter(table.primaryIdAttribute, chunk, true), filter) },
			{ table: table.logicalName },
		);
		for (const record of records) kept.add(String(record[table.primaryIdAttribute]).toLowerCase());
	}
	return kept;
}

/**
 * Records read again by id, as Get Changes emits them (the retry queue); ids that no longer exist are missing from
 * the result. 100 ids per request.
 */
export async function readByIds(client: DataverseClient, options: ChangeReadOptions, ids: readonly string[]): Promise<Map<string, IDataObject>> {
	const { table } = options;
	const found = new Map<string, IDataObject>();
	const prefer = options.formattedValues ? [FORMATTED_VALUES] : [];
	for (let at = 0; at < ids.length; at += 100) {
		const chunk = ids.slice(at, at + 100).filter((id) => isGuid(id));
		if (!chunk.length) continue;
		const { records } = await client.list<IDataObject>(
			table.entitySetName,
			{
				$select: selectWith(table, options.select),
				$filter: inFilter(table.primaryIdAttribute, chunk, true),
				$expand: options.expand,
			},
			{ table: table.logicalName, prefer },
		);
		for (const record of records) found.set(toChanged(table, record).id, output(table, record, options.expand));
	}
	return found;
}

/** A few recent changes for a manual run; the cursor is not touched. */
export async function sampleChanges(client: DataverseClient, options: ChangeReadOptions, size = 3): Promise<Change[]> {
	const { table } = options;
	const { records } = await client.list<IDataObject>(
		table.entitySetName,
		{
			$select: selectWith(table, options.select),
			$filter: options.filter,
			$orderby: `modifiedon desc`,
			$expand: options.expand,
		},
		{ pageSize: size, limit: size, table: table.logicalName, prefer: options.formattedValues ? [FORMATTED_VALUES] : [] },
	);
	return records.map((record) => {
		const changed = toChanged(table, record);
		const created = changed.createdAt !== undefined && Math.abs(Date.parse(changed.createdAt) - Date.parse(changed.modifiedAt)) < 1000;
		return { event: created ? 'created' : 'updated', id: changed.id, record: output(table, record, options.expand) };
	});
}

/** An emitted item: the record's columns plus `event`, `entity` and `id`. */
export function changeItem(table: TableInfo, change: Change): IDataObject {
	return { ...change.record, event: change.event, entity: table.logicalName, id: change.id };
}
