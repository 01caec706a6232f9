/**
 * What every operation of the Dynamics 365 node shares: the context, per-item error handling (continueOnFail and the
 * error output), reading the table and the record values of an item.
 */
import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type ResourceMapperValue,
} from 'n8n-workflow';

import type { TableInfo, TableSummary } from '../transport/metadata';
import { RESOURCE_TABLES } from '../transport/metadata';
import { GUID_PATTERN, GUID_TEXT } from '../../shared/guid';
import { countWritesNeeded } from '../../shared/report';
import type { PreviewChange } from '../../shared/preview';
import { matchKey, recordsById, runWrites, writeRequestShares, type WriteMethod, type WriteOperation, type WriteResult } from '../helpers/records';
import { readPropertyOf } from '../helpers/sync';
import { RecordError, type PreparedRecord, type TableDirectory } from '../helpers/values';
import type { DataverseClient } from '../transport';
import { ODataValueError } from '../transport/odata';
import { splitCommas } from '../../shared/lists';

export interface OperationContext {
	fns: IExecuteFunctions;
	client: DataverseClient;
	items: INodeExecutionData[];
	resource: string;
	operation: string;
}

/** The table (logical name) an item works on. */
export function tableNameFor(ctx: OperationContext, itemIndex: number): string {
	if (ctx.resource !== 'otherTable') return RESOURCE_TABLES[ctx.resource] ?? ctx.resource;
	const value = ctx.fns.getNodeParameter('table', itemIndex, '', { extractValue: true }) as string;
	const name = String(value ?? '').trim();
	if (!name) throw new NodeOperationError(ctx.fns.getNode(), 'Choose a table', { itemIndex });
	return name;
}

/** Table metadata per item, loaded once per distinct table. */
export async function tablesFor(ctx: OperationContext): Promise<Array<TableInfo | Error>> {
	const cache = new Map<string, Promise<TableInfo>>();
	const result: Array<TableInfo | Error> = [];
	for (let i = 0; i < ctx.items.length; i++) {
		try {
			const name = tableNameFor(ctx, i);
			if (!cache.has(name)) cache.set(name, ctx.client.table(name));
			result.push(await cache.get(name)!);
		} catch (error) {
			result.push(error as Error);
		}
	}
	return result;
}

/** Entity set ↔ logical name for lookups, from the environment's table list (loaded when first needed). */
export async function directoryFor(client: DataverseClient, extra: TableInfo[] = []): Promise<TableDirectory> {
	const known = new Map<string, TableSummary>();
	const add = (t: TableSummary) => known.set(t.logicalName, t);
	extra.forEach(add);
	let all: TableSummary[] | undefined;
	try {
		all = await client.tables();
		all.forEach(add);
	} catch {
		// Without the table list, lookups still work for the tables already loaded and the usual sales tables.
	}
	const defaults: Record<string, string> = {
		account: 'accounts',
		contact: 'contacts',
		lead: 'leads',
		opportunity: 'opportunities',
		systemuser: 'systemusers',
		team: 'teams',
		annotation: 'annotations',
		transactioncurrency: 'transactioncurrencies',
	};
	return {
		setOfTable: (logicalName) => known.get(logicalName)?.entitySetName ?? defaults[logicalName],
		tableOfSet: (entitySet) =>
			[...known.values()].find((t) => t.entitySetName === entitySet)?.logicalName ??
			Object.entries(defaults).find(([, set]) => set === entitySet)?.[0],
	};
}

/**
 * The error of one item: with continueOnFail (or the error output) it becomes that item's output, otherwise it
 * stops the node.
 */
export function itemError(ctx: OperationContext, itemIndex: number, error: unknown): INodeExecutionData {
	const node = ctx.fns.getNode();
	let nodeError: NodeApiError | NodeOperationError;
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		nodeError = error;
		if ((nodeError as { context?: IDataObject }).context) (nodeError as { context: IDataObject }).context.itemIndex = itemIndex;
	} else if (error instanceof RecordError || error instanceof ODataValueError) {
		nodeError = new NodeOperationError(node, error.message, { itemIndex });
	} else {
		nodeError = new NodeOperationError(node, ctx.client.redact((error as Error)?.message ?? String(error)), { itemIndex });
	}
	if (!ctx.fns.continueOnFail()) throw nodeError;
	// Only `error` and `details`: n8n sends such items to the error output when the node has one.
	return {
		json: {
			error: ctx.client.redact(nodeError.message),
			...(nodeError.description ? { details: ctx.client.redact(String(nodeError.description)) } : {}),
		},
		pairedItem: { item: itemIndex },
	};
}

/** The values an item writes: the resource mapper's columns, or the item's own fields (auto-map). */
export function recordInput(ctx: OperationContext, itemIndex: number, dataMode: string): IDataObject {
	if (dataMode === 'autoMap') {
		const json = { ...ctx.items[itemIndex].json };
		const exclude = splitCommas(String(ctx.fns.getNodeParameter('options.fieldsToIgnore', itemIndex, '') ?? ''));
		for (const field of exclude) delete json[field];
		return json;
	}
	const mapper = ctx.fns.getNodeParameter('columns', itemIndex, {}) as ResourceMapperValue | IDataObject;
	const value = ((mapper as ResourceMapperValue).value ?? {}) as IDataObject;
	const result: IDataObject = {};
	for (const [key, v] of Object.entries(value)) {
		if (v === undefined || v === null || v === '') continue;
		result[key] = v;
	}
	return result;
}

/** Opportunity specifics (customer, stage, revenue, close date) in Web API names. */
export function opportunityInput(ctx: OperationContext, itemIndex: number): IDataObject {
	if (ctx.resource !== 'opportunity') return {};
	const details = ctx.fns.getNodeParameter('opportunityDetails', itemIndex, {}) as IDataObject;
	const result: IDataObject = {};
	const customer = String(details.customer ?? '').trim();
	if (customer) {
		const type = details.customerType === 'contact' ? 'contact' : 'account';
		const set = type === 'contact' ? 'contacts' : 'accounts';
		let reference: string;
		if (GUID_PATTERN.test(customer)) reference = `/${set}(${customer})`;
		else if (/^\/?\w+\([\s\S]*\)$/.test(customer)) reference = customer.startsWith('/') ? customer : `/${customer}`;
		else {
			const column = type === 'contact' ? 'emailaddress1' : 'name';
			reference = `/${set}(${column}='${customer.replace(/'/g, "''")}')`;
		}
		result[`customerid_${type}@odata.bind`] = reference;
	}
	if (details.salesStage !== undefined && details.salesStage !== '') result.salesstage = details.salesStage;
	if (details.estimatedValue !== undefined && details.estimatedValue !== '') result.estimatedvalue = details.estimatedValue;
	if (details.actualValue !== undefined && details.actualValue !== '') result.actualvalue = details.actualValue;
	if (details.estimatedCloseDate) result.estimatedclosedate = String(details.estimatedCloseDate).slice(0, 10);
	if (details.closeProbability !== undefined && details.closeProbability !== '') result.closeprobability = details.closeProbability;
	return result;
}

export function paired(json: IDataObject, itemIndex: number): INodeExecutionData {
	return { json, pairedItem: { item: itemIndex } };
}

/**
 * The items' prepared writes, each with the index of the item it came from, and in a preview what each would change
 * (the record's values before and after).
 */
export type PlannedWrites = Array<{ index: number; op: WriteOperation; changes?: PreviewChange[] }>;

/** The write method and batch size the node's options say. */
function writeOptions(ctx: OperationContext): { method: WriteMethod; batchSize: number } {
	return {
		method: ctx.fns.getNodeParameter('options.writeMethod', 0, 'auto') as WriteMethod,
		batchSize: ctx.fns.getNodeParameter('options.batchSize', 0, 1000) as number,
	};
}

/**
 * Sends the writes, one result each. A preview (shared/preview.ts) sends nothing: every write is taken as done and
 * says how many write requests the real run would send for it (counted on the first record each request carries);
 * the run's total goes to the sync report.
 */
export async function sendWrites(
	ctx: OperationContext,
	operations: readonly WriteOperation[],
	options = writeOptions(ctx),
): Promise<Array<WriteResult & { writeRequests?: number }>> {
	if (!ctx.client.previewOnly) return await runWrites(ctx.client, operations, options);
	const shares = writeRequestShares(operations, options);
	countWritesNeeded(ctx.fns, 'dynamics', shares.reduce((n, s) => n + s, 0));
	return operations.map((op, k) => ({ ok: true as const, id: op.id, status: 204, writeRequests: shares[k] }));
}

/**
 * Sends the planned writes the way the node's options say (`$batch` or `*Multiple`, batch size) and puts each
 * outcome on its item: the success payload, or the item's error with the table and action named. A preview's
 * items say so, with what would change and the write requests the real run would send.
 */
export async function writeAndReport(
	ctx: OperationContext,
	planned: PlannedWrites,
	out: Array<INodeExecutionData | undefined>,
	action: 'create' | 'update' | 'delete',
	succeeded: (op: WriteOperation, id: string) => IDataObject,
): Promise<void> {
	const results = await sendWrites(ctx, planned.map((p) => p.op));
	results.forEach((result, k) => {
		const { index, op, changes } = planned[k];
		if (!result.ok) {
			out[index] = itemError(ctx, index, ctx.client.error(result.failure, { itemIndex: index, table: op.table.logicalName, action }));
			return;
		}
		const json = succeeded(op, result.id);
		if (result.writeRequests !== undefined) Object.assign(json, { preview: true, changes: changes ?? [], writeRequests: result.writeRequests });
		out[index] = paired(json, index);
	});
}

/**
 * What a write would change: each column with the value the record holds now (null for a new record) and the value
 * written, as Dataverse returns them (a lookup as the GUID it would point to).
 */
export function previewChanges(prepared: PreparedRecord, body: IDataObject, existing?: IDataObject): PreviewChange[] {
	const covered = new Set<string>();
	const changes: PreviewChange[] = [];
	for (const [property, keys] of Object.entries(prepared.bodyKeys)) {
		if (!keys.some((key) => key in body)) continue;
		keys.forEach((key) => covered.add(key));
		const field = /^_(.+)_value$/.exec(property)?.[1] ?? property;
		changes.push({ field, before: (existing?.[property] ?? null) as PreviewChange['before'], after: (prepared.read[property] ?? null) as PreviewChange['after'] });
	}
	// Create-only defaults (required columns a sync item fills in).
	for (const [key, value] of Object.entries(body)) if (!covered.has(key)) changes.push({ field: key, before: null, after: value ?? null });
	return changes;
}

/**
 * A preview of updates or deletes: the writes whose record exists, each with what it would change (`changesOf`), read
 * in one query per table and chunk. A missing record's item fails as the real write would (404).
 */
export async function previewStored(
	ctx: OperationContext,
	planned: PlannedWrites,
	out: Array<INodeExecutionData | undefined>,
	changesOf: (write: PlannedWrites[number], stored: IDataObject) => PreviewChange[] = () => [],
): Promise<PlannedWrites> {
	const byTable = new Map<string, WriteOperation[]>();
	for (const { op } of planned) byTable.set(op.table.logicalName, [...(byTable.get(op.table.logicalName) ?? []), op]);
	const stored = new Map<string, IDataObject>();
	for (const ops of byTable.values()) {
		const table = ops[0].table;
		// Only the columns the writes would change.
		const select = new Set<string>([table.primaryIdAttribute]);
		for (const op of ops) for (const key of Object.keys(op.body ?? {})) select.add(readPropertyOf(table, key));
		for (const [id, record] of await recordsById(ctx.client, table, ops.map((op) => op.id), select)) stored.set(id, record);
	}
	const kept: PlannedWrites = [];
	for (const write of planned) {
		const { index, op } = write;
		const record = stored.get(matchKey(op.id));
		if (record) {
			kept.push({ ...write, changes: changesOf(write, record) });
			continue;
		}
		const error = new NodeOperationError(ctx.fns.getNode(), `No ${op.table.logicalName} with ID ${op.id}: the ${op.kind} would fail (404)`, {
			itemIndex: index,
			description: 'Nothing was written (preview).',
		});
		out[index] = itemError(ctx, index, error);
	}
	return kept;
}

const RECORD_ID = new RegExp(`^(?:([a-z0-9_]+):)?(${GUID_TEXT})$`, 'i');

/** A record id from a GUID or a link value (`contact:<guid>`); the entity when the link names one. */
export function parseRecordId(value: unknown): { id: string; entity?: string } | undefined {
	const text = String(value ?? '').trim().replace(/^\{|\}$/g, '');
	const match = RECORD_ID.exec(text);
	if (!match) return undefined;
	return { id: match[2].toLowerCase(), ...(match[1] ? { entity: match[1].toLowerCase() } : {}) };
}

export function requireRecordId(ctx: OperationContext, itemIndex: number, parameter = 'recordId'): { id: string; entity?: string } {
	const raw = ctx.fns.getNodeParameter(parameter, itemIndex, '') as string;
	const parsed = parseRecordId(raw);
	if (!parsed) {
		throw new NodeOperationError(ctx.fns.getNode(), `The record ID '${String(raw)}' is not a GUID`, {
			itemIndex,
			description: 'Give the record\'s GUID (e.g. from a previous Get), or a link value such as contact:<guid>.',
		});
	}
	return parsed;
}

/** Splits a list into chunks. */
export function chunk<T>(list: readonly T[], size: number): T[][] {
	const chunks: T[][] = [];
	for (let i = 0; i < list.length; i += size) chunks.push(list.slice(i, i + size));
	return chunks;
}
