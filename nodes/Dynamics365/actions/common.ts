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
import { GUID_PATTERN } from '../../shared/sync/state';
import { runWrites, type WriteMethod, type WriteOperation } from '../helpers/records';
import { RecordError, type TableDirectory } from '../helpers/values';
import type { DataverseClient } from '../transport';
import { ODataValueError } from '../transport/odata';

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
		const exclude = String(ctx.fns.getNodeParameter('options.fieldsToIgnore', itemIndex, '') ?? '')
			.split(',')
			.map((f) => f.trim())
			.filter(Boolean);
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

/** The items' prepared writes, each with the index of the item it came from. */
export type PlannedWrites = Array<{ index: number; op: WriteOperation }>;

/**
 * Sends the planned writes the way the node's options say (`$batch` or `*Multiple`, batch size) and puts each
 * outcome on its item: the success payload, or the item's error with the table and action named.
 */
export async function writeAndReport(
	ctx: OperationContext,
	planned: PlannedWrites,
	out: Array<INodeExecutionData | undefined>,
	action: 'create' | 'update',
	succeeded: (op: WriteOperation, id: string) => IDataObject,
): Promise<void> {
	const { fns, client } = ctx;
	const results = await runWrites(
		client,
		planned.map((p) => p.op),
		{
			method: fns.getNodeParameter('options.writeMethod', 0, 'auto') as WriteMethod,
			batchSize: fns.getNodeParameter('options.batchSize', 0, 1000) as number,
		},
	);
	results.forEach((result, k) => {
		const { index, op } = planned[k];
		out[index] = result.ok
			? paired(succeeded(op, result.id), index)
			: itemError(ctx, index, client.error(result.failure, { itemIndex: index, table: op.table.logicalName, action }));
	});
}

/** A record id from a GUID or a link value (`contact:<guid>`); the entity when the link names one. */
export function parseRecordId(value: unknown): { id: string; entity?: string } | undefined {
	const text = String(value ?? '').trim().replace(/^\{|\}$/g, '');
	const match = /^(?:([a-z0-9_]+):)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(text);
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
