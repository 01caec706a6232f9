import type { IDataObject, IExecuteFunctions, INode, INodeProperties } from 'n8n-workflow';

import type { AcSession } from '../helpers/session';

/** What every operation gets: n8n's execute functions, the run's metadata session and the node. */
export interface OpContext {
	fn: IExecuteFunctions;
	session: AcSession;
	node: INode;
}

/** An operation run once per input item; returns the output item(s) for it. */
export type ItemOperation = (ctx: OpContext, itemIndex: number) => Promise<IDataObject | IDataObject[]>;

export type BatchOutcome = { itemIndex: number; json: IDataObject } | { itemIndex: number; error: Error & { description?: string | null } };

/** An operation run once for a group of items (bulk import) or once per execution (Get Changes). */
export type BatchOperation = (ctx: OpContext, itemIndices: number[]) => Promise<BatchOutcome[]>;

export type OperationHandler = { kind: 'item'; run: ItemOperation } | { kind: 'batch'; run: BatchOperation };

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
	displayName: 'Lead or Contact With the Same Email',
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
