import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INode, type INodeProperties } from 'n8n-workflow';

import type { SyncDefaults } from '../../shared/sync/syncItem';
import { mapWithConcurrency } from '../../shared/transport/rateLimiter';
import type { AcSession } from '../helpers/session';

/** What every operation gets: n8n's execute functions, the run's metadata session and the node. */
export interface OpContext {
	fn: IExecuteFunctions;
	session: AcSession;
	node: INode;
}

/** An operation run once per input item; returns the output item(s) for it. */
/** An item operation's results; an Error among them is one record that failed (its own error item, the rest go on). */
export type ItemOperation = (ctx: OpContext, itemIndex: number) => Promise<IDataObject | Array<IDataObject | Error>>;

/**
 * Reads each record's details, three at a time. A record whose details cannot be read (its retries ran out) becomes
 * its own error, naming the record; the others are returned. A record gone meanwhile is left out.
 */
export async function readEach(
	ctx: OpContext,
	itemIndex: number,
	records: IDataObject[],
	what: string,
	read: (record: IDataObject) => Promise<IDataObject | undefined>,
): Promise<Array<IDataObject | Error>> {
	const out = await mapWithConcurrency(records, 3, async (record): Promise<IDataObject | Error | undefined> => {
		try {
			return await read(record);
		} catch (error) {
			const label = `${what} ${String(record.id)}${typeof record.email === 'string' && record.email ? ` (${record.email})` : ''}`;
			return new NodeOperationError(ctx.node, `Could not read ${label} from ActiveCampaign: ${(error as Error).message}`, {
				itemIndex,
				description: (error as { description?: string }).description ?? undefined,
			});
		}
	});
	return out.filter((r): r is IDataObject | Error => r !== undefined);
}

export type BatchOutcome = { itemIndex: number; json: IDataObject } | { itemIndex: number; error: Error & { description?: string | null } };

/**
 * Each item's request read from its parameters; an item whose parameters cannot be read is its own error outcome.
 * The batch then runs on the requests.
 */
export function requestsOf<T>(itemIndices: number[], read: (itemIndex: number) => T): { requests: Array<{ itemIndex: number; input: T }>; failed: BatchOutcome[] } {
	const requests: Array<{ itemIndex: number; input: T }> = [];
	const failed: BatchOutcome[] = [];
	for (const itemIndex of itemIndices) {
		try {
			requests.push({ itemIndex, input: read(itemIndex) });
		} catch (error) {
			failed.push({ itemIndex, error: error as Error });
		}
	}
	return { requests, failed };
}

/**
 * In a preview (shared/preview.ts), every item of a batch says so, also one decided before any write would have been
 * made (e.g. a link another record holds).
 */
export function previewed(ctx: OpContext, outcomes: BatchOutcome[]): BatchOutcome[] {
	if (!ctx.session.preview) return outcomes;
	return outcomes.map((o) => ('json' in o ? { itemIndex: o.itemIndex, json: { ...o.json, preview: true } } : o));
}

/** An operation run once for a group of items (bulk import) or once per execution (Get Changes). */
export type BatchOperation = (ctx: OpContext, itemIndices: number[]) => Promise<BatchOutcome[]>;

/**
 * Reads ahead once for all items of a per-item operation (never required: an item finds what it needs either way,
 * so a failure here only costs the requests it would have saved).
 */
export type PrepareOperation = (ctx: OpContext, itemIndices: number[]) => Promise<void>;

export type OperationHandler = { kind: 'item'; run: ItemOperation; prepare?: PrepareOperation } | { kind: 'batch'; run: BatchOperation };

/** The sync options of the write operations: what applies when a sync item names no policy. */
export function syncDefaults(ctx: OpContext, itemIndex: number): SyncDefaults {
	const options = ctx.fn.getNodeParameter('syncOptions', itemIndex, {}) as IDataObject;
	return {
		conflict: (options.conflictPolicy as SyncDefaults['conflict']) ?? 'dynamicsWins',
		precedence: (options.precedence as SyncDefaults['precedence']) ?? 'contact',
		delete: (options.deletePolicy as SyncDefaults['delete']) ?? 'keep',
	};
}

/**
 * Record Sync State parameters both resources share: how the state a write step computed is merged into the state
 * stored now, and what a deletion in Dynamics does to the ActiveCampaign record.
 */
export function recordStateMergeProperties(show: IDataObject): INodeProperties[] {
	const displayOptions = { show: show as never };
	return [
		{
			displayName: 'Decided Fields',
			name: 'stateFields',
			type: 'json',
			default: '={{ $json.stateFields ?? [] }}',
			description:
				'Codes of the fields the write step decided (its output "stateFields"). Only these are taken from the new state; the other fields keep what is stored now, so two steps of one cycle never undo each other.',
			displayOptions,
		},
		{
			displayName: 'State Read With the Record',
			name: 'stateBase',
			type: 'string',
			default: '={{ $json.stateBase ?? "" }}',
			description: 'The state the write step started from (its output "stateBase"); when the stored state still equals it, the new state is stored as it is',
			displayOptions,
		},
		{
			displayName: 'Deleted in Dynamics',
			name: 'stateAction',
			type: 'string',
			default: '={{ $json.acAction ?? "" }}',
			description:
				'What the write step found about the linked Dynamics record: deleted, with what the delete policy says — "unlink" (keep, unlink, tag), "flag" (tag), "delete" (delete the ActiveCampaign record) — or merged into another — "relink" (move the link to it, unless another ActiveCampaign record has it). Empty: nothing.',
			displayOptions,
		},
	];
}


/** What Record Sync State does because of the Dynamics record: deleted (unlink, flag, delete), or merged (relink). */
export type DeleteAction = 'unlink' | 'flag' | 'delete' | 'relink';

export function deleteAction(value: unknown): DeleteAction | undefined {
	const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
	return text === 'unlink' || text === 'flag' || text === 'delete' || text === 'relink' ? text : undefined;
}

export const conflictPolicyOption: INodeProperties = {
	displayName: 'Conflict Policy',
	name: 'conflictPolicy',
	type: 'options',
	default: 'dynamicsWins',
	description:
		'Used when the sync item names none: which side wins when both changed since the last sync. The losing side is skipped.',
	options: [
		{ name: 'ActiveCampaign Wins', value: 'activeCampaignWins' },
		{ name: 'Dynamics Wins', value: 'dynamicsWins' },
		{ name: 'Newest Wins', value: 'newestWins', description: 'Compares the modified times of the two records' },
	],
};

export const precedenceOption: INodeProperties = {
	displayName: 'Lead or Contact First',
	name: 'precedence',
	type: 'options',
	default: 'contact',
	description:
		'Used when the sync item names none: ActiveCampaign has one contact per email; this Dynamics record type keeps it',
	options: [
		{ name: 'Contact Takes Precedence', value: 'contact' },
		{ name: 'Lead Takes Precedence', value: 'lead' },
	],
};

export const deletePolicyOption: INodeProperties = {
	displayName: 'If Deleted in Dynamics',
	name: 'deletePolicy',
	type: 'options',
	default: 'keep',
	description:
		'Used when the sync item names none: what happens to the ActiveCampaign record of a Dynamics record that was deleted or merged away',
	options: [
		{
			name: 'Keep (Unlink and Tag)',
			value: 'keep',
			description: 'Keep it, unlink it and tag it [D365: Deleted in Dynamics]; it is never created again in Dynamics',
		},
		{ name: 'Flag Only', value: 'flag', description: 'Keep it linked and tag it [D365: Deleted in Dynamics]' },
		{ name: 'Delete It Too', value: 'propagate', description: 'Delete the ActiveCampaign record' },
	],
};

export function returnAllAndLimit(show: IDataObject): INodeProperties[] {
	return [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
			displayOptions: { show: show as never },
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			default: 50,
			typeOptions: { minValue: 1 },
			description: 'Max number of results to return',
			displayOptions: { show: { ...show, returnAll: [false] } as never },
		},
	];
}

/**
 * Get Changes of contacts and accounts: where the first run starts, and the options. `detailsOption` is the
 * resource's own "read the details" switch.
 */
export function getChangesProperties(show: IDataObject, detailsOption: INodeProperties): INodeProperties[] {
	return [
		{
			displayName: 'Start From',
			name: 'startFrom',
			type: 'dateTime',
			default: '',
			description: 'On the first run, read changes from this time. Empty: the first run starts now and returns nothing.',
			displayOptions: { show: show as never },
		},
		{
			displayName: 'Options',
			name: 'changeOptions',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			displayOptions: { show: show as never },
			options: [
				detailsOption,
				{
					displayName: 'Max Records',
					name: 'maxRecords',
					type: 'number',
					default: 0,
					typeOptions: { minValue: 0 },
					description: 'Return at most this many changes per run; the rest come next run. 0 for no limit.',
				},
				{
					displayName: 'Full Scan Every (Minutes)',
					name: 'scanEveryMinutes',
					type: 'number',
					default: 0,
					typeOptions: { minValue: 0 },
					description:
						'ActiveCampaign has no change filter for accounts and account links, so finding their changes reads them all (100 per request). 0 does that on every run. In large accounts, e.g. 60 does it at most once an hour: account changes and contacts moved to another account then arrive with the next scan, while contacts changed otherwise still arrive on every run.',
				},
				{
					displayName: 'Overlap (Minutes)',
					name: 'overlapMinutes',
					type: 'number',
					default: 5,
					typeOptions: { minValue: 0 },
					description: 'Each read starts this long before the previous one; changes already returned are not returned again',
				},
			],
		},
	];
}

/** A string parameter as trimmed text (empty when missing). */
export function param(ctx: OpContext, name: string, itemIndex: number, fallback: unknown = ''): string {
	const value = ctx.fn.getNodeParameter(name, itemIndex, fallback) as unknown;
	if (value === undefined || value === null) return '';
	return typeof value === 'string' ? value.trim() : String(value);
}
