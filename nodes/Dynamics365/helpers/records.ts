/**
 * Bulk reads and writes of records: finding many records by column values in a few chunked queries (never one GET
 * per item), resolving lookups given by a column value, and sending writes as `$batch`, `*Multiple` actions or
 * single requests with one result per operation.
 */
import type { IDataObject } from 'n8n-workflow';

import type { HttpFailure } from '../../shared/transport/failure';
import { createdId, isTransientPart, partFailure, type DataverseClient } from '../transport';
import type { BatchOperation, BatchPartResponse } from '../transport/batch';
import { inFilter, isLookupColumn, literalFor, queryProperty, stringLiteral } from '../transport/odata';
import type { ColumnInfo, TableInfo } from '../transport/metadata';
import { RecordError, type PendingBind, type PreparedRecord, type TableDirectory } from './values';

/** How values compare in Dataverse lookups: strings case-insensitively, GUIDs lower-case. */
export function matchKey(value: unknown): string {
	if (value === null || value === undefined) return '';
	return String(value).trim().toLowerCase();
}

const MAX_VALUES_PER_QUERY = 200;
const MAX_FILTER_CHARS = 6000;

/** The primary key as a column (for lookups by id). */
export function primaryColumn(table: TableInfo): ColumnInfo {
	return (
		table.columns.get(table.primaryIdAttribute) ?? {
			logicalName: table.primaryIdAttribute,
			schemaName: table.primaryIdAttribute,
			displayName: table.primaryIdAttribute,
			type: 'Uniqueidentifier',
			typeName: 'UniqueidentifierType',
			requiredLevel: 'SystemRequired',
			validForCreate: true,
			validForUpdate: false,
			validForRead: true,
			isPrimaryId: true,
			isPrimaryName: false,
			isCustom: false,
		}
	);
}

/**
 * Records of one table by id, with the given read properties (`_x_value` for a lookup; those the table does not let
 * one read are left out), keyed by `matchKey` of the id; in one query per chunk. A missing id has no entry.
 */
export async function recordsById(client: DataverseClient, table: TableInfo, ids: string[], properties: Iterable<string>): Promise<Map<string, IDataObject>> {
	const readable = [...new Set(properties)].filter((p) => table.columns.get(/^_(.+)_value$/.exec(p)?.[1] ?? p)?.validForRead === true);
	const found = await findByColumns(client, table, [primaryColumn(table)], ids.map((id) => [id]), readable);
	const result = new Map<string, IDataObject>();
	for (const id of ids) {
		const record = found.get(matchKey(id))?.[0];
		if (record) result.set(matchKey(id), record);
	}
	return result;
}

/**
 * Finds the records whose columns equal one of the given tuples (one column: `In(...)`; several: OR of ANDs), in
 * chunks that keep URLs short. Returns the records per tuple key (`matchKey` of each value, joined by `|`).
 */
export async function findByColumns(
	client: DataverseClient,
	table: TableInfo,
	columns: ColumnInfo[],
	tuples: unknown[][],
	select: string[],
): Promise<Map<string, IDataObject[]>> {
	const result = new Map<string, IDataObject[]>();
	const unique = new Map<string, unknown[]>();
	for (const tuple of tuples) {
		const key = tuple.map(matchKey).join('|');
		if (!unique.has(key) && tuple.every((v) => v !== null && v !== undefined && String(v).trim() !== '')) unique.set(key, tuple);
	}
	if (!unique.size) return result;
	const properties = columns.map(queryProperty);
	const chunks: string[][] = [];
	let current: string[] = [];
	let length = 0;
	for (const tuple of unique.values()) {
		const literal = tuple.map((v, i) => literalFor(columns[i], v));
		const text = columns.length === 1 ? literal[0] : `(${literal.map((l, i) => `${properties[i]} eq ${l}`).join(' and ')})`;
		if (current.length && (current.length >= MAX_VALUES_PER_QUERY || length + text.length > MAX_FILTER_CHARS)) {
			chunks.push(current);
			current = [];
			length = 0;
		}
		current.push(text);
		length += text.length + 8;
	}
	if (current.length) chunks.push(current);

	const selectSet = [...new Set([table.primaryIdAttribute, 'modifiedon', ...properties, ...select])].filter((p) => p);
	await Promise.all(
		chunks.map(async (texts) => {
			const filter =
				columns.length === 1
					? inFilter(properties[0], texts, isLookupColumn(columns[0]) || columns[0].type === 'Uniqueidentifier' ? true : false)
					: texts.length === 1
						? texts[0]
						: `(${texts.join(' or ')})`;
			const { records } = await client.list<IDataObject>(
				table.entitySetName,
				{ $select: selectSet.join(','), $filter: filter },
				{ table: table.logicalName },
			);
			for (const record of records) {
				const key = properties.map((p) => matchKey(record[p])).join('|');
				const list = result.get(key) ?? [];
				list.push(record);
				result.set(key, list);
			}
		}),
	);
	for (const list of result.values()) list.sort((a, b) => String(b.modifiedon ?? '').localeCompare(String(a.modifiedon ?? '')));
	return result;
}

/**
 * Turns lookups given by column values (`/accounts(name='Contoso Ltd')`) into GUID binds, with one query per target
 * table and key. Returns a per-record error for values that match no record or several. A lookup `mayWait` says
 * may match nothing yet (e.g. an account the sync has yet to create) is left out of its record instead (`unresolved`).
 */
export async function resolveBinds(
	client: DataverseClient,
	records: Array<PreparedRecord | undefined>,
	directory: TableDirectory,
	mayWait?: (index: number, bind: PendingBind) => boolean,
): Promise<Map<number, RecordError>> {
	const errors = new Map<number, RecordError>();
	const groups = new Map<string, Array<{ index: number; bind: PendingBind }>>();
	records.forEach((record, index) => {
		for (const bind of record?.pending ?? []) {
			const group = `${bind.entitySet}|${Object.keys(bind.key).sort().join(',')}`;
			const list = groups.get(group) ?? [];
			list.push({ index, bind });
			groups.set(group, list);
		}
	});
	for (const entries of groups.values()) {
		const { entitySet, key } = entries[0].bind;
		const logicalName = directory.tableOfSet(entitySet);
		if (!logicalName) {
			for (const { index } of entries) errors.set(index, new RecordError(`Unknown entity set '${entitySet}' in a lookup`));
			continue;
		}
		const target = await client.table(logicalName);
		const names = Object.keys(key).sort();
		const columns: ColumnInfo[] = [];
		let bad: string | undefined;
		for (const name of names) {
			const column = target.columns.get(name);
			if (!column) bad = name;
			else columns.push(column);
		}
		if (bad) {
			for (const { index } of entries) errors.set(index, new RecordError(`The table ${logicalName} has no column '${bad}' (in a lookup)`));
			continue;
		}
		// Values that cannot be literals of their column (a text for a number key) fail their record alone.
		const valid = entries.filter(({ index, bind }) => {
			const problem = literalProblem(columns, names.map((n) => bind.key[n]));
			if (problem) errors.set(index, new RecordError(`${problem} (lookup '${bind.bodyKey}')`));
			return !problem;
		});
		const found = await findByColumns(
			client,
			target,
			columns,
			valid.map((e) => names.map((n) => e.bind.key[n])),
			[],
		);
		for (const { index, bind } of valid) {
			const record = records[index]!;
			const tupleKey = names.map((n) => matchKey(bind.key[n])).join('|');
			const hits = found.get(tupleKey) ?? [];
			const description = names.map((n) => `${n} = ${stringLiteral(bind.key[n])}`).join(' and ');
			if (hits.length === 0 && mayWait?.(index, bind)) {
				delete record.body[bind.bodyKey];
				delete record.read[bind.readKey];
				record.pending = record.pending.filter((p) => p !== bind);
				record.unresolved = { ...record.unresolved, [bind.readKey]: `no ${logicalName} record has ${description} in Dynamics yet` };
				continue;
			}
			if (hits.length !== 1) {
				errors.set(
					index,
					new RecordError(
						hits.length === 0
							? `No ${logicalName} record has ${description} (lookup '${bind.bodyKey}')`
							: `${hits.length} ${logicalName} records have ${description}; the lookup '${bind.bodyKey}' needs a unique value or a GUID`,
					),
				);
				continue;
			}
			const id = String(hits[0][target.primaryIdAttribute]).toLowerCase();
			record.body[bind.bodyKey] = `/${entitySet}(${id})`;
			record.read[bind.readKey] = id;
			record.pending = record.pending.filter((p) => p !== bind);
		}
	}
	return errors;
}

/** Why a value cannot be a literal of its column, or undefined when it can. */
function literalProblem(columns: ColumnInfo[], values: unknown[]): string | undefined {
	for (let i = 0; i < columns.length; i++) {
		try {
			literalFor(columns[i], values[i]);
		} catch (error) {
			return (error as Error).message;
		}
	}
	return undefined;
}

export type WriteMethod = 'auto' | 'batch' | 'multiple' | 'single';

export interface WriteOperation {
	kind: 'create' | 'update' | 'delete';
	table: TableInfo;
	/** The record id: known for updates and deletes, generated for creates. */
	id: string;
	body?: IDataObject;
	/** Extra headers (e.g. Prefer: return=representation). */
	headers?: Record<string, string>;
}

export type WriteResult =
	| { ok: true; id: string; status: number; body?: unknown }
	| { ok: false; failure: HttpFailure; retried?: boolean };

function toBatchOperation(op: WriteOperation): BatchOperation {
	const set = op.table.entitySetName;
	switch (op.kind) {
		case 'create':
			return { method: 'POST', url: set, headers: { ...(op.headers ?? {}) }, body: { ...op.body, [op.table.primaryIdAttribute]: op.id } };
		case 'update':
			return { method: 'PATCH', url: `${set}(${op.id})`, headers: { 'If-Match': '*', ...(op.headers ?? {}) }, body: op.body ?? {} };
		case 'delete':
			return { method: 'DELETE', url: `${set}(${op.id})`, headers: { ...(op.headers ?? {}) } };
	}
}

function partResult(op: WriteOperation, part: BatchPartResponse): WriteResult {
	if (part.status >= 200 && part.status < 300) {
		return { ok: true, id: createdId(part, op.table.primaryIdAttribute) ?? op.id, status: part.status, body: part.body };
	}
	return { ok: false, failure: partFailure(part), retried: part.retried };
}

/**
 * A create that was sent again (its first answer was lost to a reset, a 5xx or a throttled batch) may have been
 * applied the first time; the retry then fails as a duplicate of its own id. Records whose id exists are created.
 */
async function settleRetriedCreates(client: DataverseClient, operations: readonly WriteOperation[], results: WriteResult[]): Promise<void> {
	const suspects = results
		.map((r, i) => ({ r, i }))
		.filter(({ r, i }) => !r.ok && r.retried && r.failure.status === 412 && operations[i].kind === 'create');
	const byTable = new Map<string, number[]>();
	for (const { i } of suspects) {
		const list = byTable.get(operations[i].table.logicalName) ?? [];
		list.push(i);
		byTable.set(operations[i].table.logicalName, list);
	}
	for (const indexes of byTable.values()) {
		const table = operations[indexes[0]].table;
		const found = await findByColumns(client, table, [primaryColumn(table)], indexes.map((i) => [operations[i].id]), []);
		for (const i of indexes) {
			if (found.has(matchKey(operations[i].id))) results[i] = { ok: true, id: operations[i].id, status: 204 };
		}
	}
}

/**
 * Whether a failed request may have been applied by Dataverse all the same: it was sent more than once (an earlier
 * attempt's answer was lost or failed after the fact), or its last failure was a lost connection or a server error.
 */
function mayHaveBeenApplied(outcome: { attempts: number; failure: HttpFailure }): boolean {
	return outcome.attempts > 1 || outcome.failure.status === 0 || outcome.failure.status >= 500;
}

/** `auto` sends a handful of writes as single requests (a $batch costs more to build and read than it saves). */
function sendsSingly(method: WriteMethod, count: number): boolean {
	return method === 'single' || (method === 'auto' && count <= 3);
}

/** How CreateMultiple / UpdateMultiple group writes: by table and kind; deletes and upserts go through $batch. */
function multipleGroups(operations: readonly WriteOperation[]): { groups: number[][]; viaBatch: number[] } {
	const viaBatch: number[] = [];
	const groups = new Map<string, number[]>();
	operations.forEach((op, i) => {
		if (op.kind === 'delete' || op.headers?.Prefer) {
			viaBatch.push(i);
			return;
		}
		const key = `${op.table.logicalName}|${op.kind}`;
		const list = groups.get(key) ?? [];
		list.push(i);
		groups.set(key, list);
	});
	return { groups: [...groups.values()], viaBatch };
}

/**
 * The requests {@link runWrites} sends for these operations when none fails, each counted on the first operation it
 * carries (what a preview reports: `writeRequests`).
 */
export function writeRequestShares(operations: readonly WriteOperation[], options: { method?: WriteMethod; batchSize?: number } = {}): number[] {
	const method = options.method ?? 'auto';
	const batchSize = Math.max(1, Math.min(1000, options.batchSize ?? 1000));
	const shares = operations.map(() => 0);
	if (sendsSingly(method, operations.length)) return operations.map(() => 1);
	const chunked = (indexes: number[]) => {
		for (let i = 0; i < indexes.length; i += batchSize) shares[indexes[i]]++;
	};
	if (method === 'multiple') {
		const { groups, viaBatch } = multipleGroups(operations);
		groups.forEach(chunked);
		chunked(viaBatch);
	} else {
		chunked(operations.map((_, i) => i));
	}
	return shares;
}

/**
 * Sends writes and returns one result per operation, in order. `auto` sends a handful as single requests and more
 * in `$batch` requests; `multiple` uses CreateMultiple / UpdateMultiple (all or nothing per request) and falls back
 * to `$batch` for a request that fails, so each record still gets its own result.
 */
export async function runWrites(
	client: DataverseClient,
	operations: readonly WriteOperation[],
	options: { method?: WriteMethod; batchSize?: number } = {},
): Promise<WriteResult[]> {
	const method = options.method ?? 'auto';
	const batchSize = Math.max(1, Math.min(1000, options.batchSize ?? 1000));
	if (!operations.length) return [];
	if (sendsSingly(method, operations.length)) {
		const single = await Promise.all(
			operations.map(async (op): Promise<WriteResult> => {
				const b = toBatchOperation(op);
				const outcome = await client.trySend<IDataObject>({
					method: b.method as 'POST' | 'PATCH' | 'DELETE',
					path: b.url,
					body: b.body,
					headers: b.headers,
					idempotent: op.kind !== 'create',
					table: op.table.logicalName,
					action: op.kind,
				});
				if (!outcome.ok) return { ok: false, failure: outcome.failure, retried: mayHaveBeenApplied(outcome) };
				return {
					ok: true,
					id: createdId(outcome.response, op.table.primaryIdAttribute) ?? op.id,
					status: outcome.response.status,
					body: outcome.response.body,
				};
			}),
		);
		await settleRetriedCreates(client, operations, single);
		return single;
	}
	const results: WriteResult[] = new Array(operations.length);
	let viaBatch = operations.map((_, i) => i);
	/** Records of a bulk action that failed as a whole: it may have been applied before its answer was lost. */
	const afterBulk = new Set<number>();
	if (method === 'multiple') {
		const grouped = multipleGroups(operations);
		viaBatch = grouped.viaBatch;
		await Promise.all(
			grouped.groups.flatMap((indexes) => {
				const chunks: number[][] = [];
				for (let i = 0; i < indexes.length; i += batchSize) chunks.push(indexes.slice(i, i + batchSize));
				return chunks.map(async (chunkIndexes) => {
					const first = operations[chunkIndexes[0]];
					const action = first.kind === 'create' ? 'CreateMultiple' : 'UpdateMultiple';
					const targets = chunkIndexes.map((i) => ({
						'@odata.type': `Microsoft.Dynamics.CRM.${operations[i].table.logicalName}`,
						...operations[i].body,
						[operations[i].table.primaryIdAttribute]: operations[i].id,
					}));
					const outcome = await client.trySend<IDataObject>({
						method: 'POST',
						path: `${first.table.entitySetName}/Microsoft.Dynamics.CRM.${action}`,
						body: { Targets: targets },
						idempotent: first.kind === 'update',
						table: first.table.logicalName,
						action: first.kind,
					});
					if (outcome.ok) {
						const ids = (outcome.response.body?.Ids as string[] | undefined) ?? [];
						chunkIndexes.forEach((opIndex, k) => {
							results[opIndex] = { ok: true, id: (ids[k] ?? operations[opIndex].id).toLowerCase(), status: outcome.response.status };
						});
					} else {
						// All or nothing: find out per record through $batch. A request that was sent more than once, or
						// whose last answer was a lost connection or a server error, may have been applied: its records'
						// creates can then fail as duplicates of their own ids (settled below).
						viaBatch.push(...chunkIndexes);
						if (mayHaveBeenApplied(outcome)) chunkIndexes.forEach((i) => afterBulk.add(i));
					}
				});
			}),
		);
		viaBatch.sort((a, b) => a - b);
	}
	if (viaBatch.length) {
		const parts = await client.batch(
			viaBatch.map((i) => toBatchOperation(operations[i])),
			{ chunkSize: batchSize },
		);
		viaBatch.forEach((opIndex, k) => {
			const part = parts[k];
			if (afterBulk.has(opIndex)) part.retried = true;
			results[opIndex] = partResult(operations[opIndex], part);
		});
	}
	await settleRetriedCreates(client, operations, results);
	return results;
}

export { isTransientPart };
