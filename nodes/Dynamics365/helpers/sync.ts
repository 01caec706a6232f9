/**
 * The sync item (the Field Map's output, docs/DESIGN.md "The sync item") as the Dynamics 365 node reads it: the
 * target table, the record in Web API names, how to match it, the stored sync state and the conflict policy.
 */
import type { IDataObject } from 'n8n-workflow';

import type { ConflictPolicy } from '../../shared/sync/decide';
import { parseState, stateHash, type StoredState } from '../../shared/sync/state';
import type { TableInfo } from './metadata';
import { isLookupColumn } from '../transport/odata';

export interface SyncItem {
	entity?: string;
	direction?: string;
	record?: IDataObject;
	createOnly?: IDataObject;
	match?: { d365Id?: string; d365Entity?: string; acId?: string; email?: string; name?: string; externalId?: string };
	source?: { system?: string; id?: string; modifiedAt?: string; hash?: string };
	state?: { stored?: StoredState | string | null; targetHashFields?: string[] };
	tags?: string[];
	removeTags?: string[];
	related?: IDataObject;
	policy?: { conflict?: ConflictPolicy; precedence?: string };
}

export const CONFLICT_POLICIES: ConflictPolicy[] = ['dynamicsWins', 'activeCampaignWins', 'newestWins'];

export function storedState(item: SyncItem): StoredState | undefined {
	const stored = item.state?.stored;
	if (!stored) return undefined;
	if (typeof stored === 'string') return parseState(stored);
	if (typeof stored.acHash === 'string' && typeof stored.d365Hash === 'string') return stored;
	return undefined;
}

/**
 * The property of a hash field in a record as Dataverse returns it: `_x_value` for a lookup column or for a
 * `<nav>@odata.bind` key, the name itself otherwise.
 */
export function readPropertyOf(table: TableInfo, field: string): string {
	const bind = /^(.+)@odata\.bind$/.exec(field);
	if (bind) {
		for (const column of table.columns.values()) {
			if (Object.values(column.navigation ?? {}).some((nav) => nav.toLowerCase() === bind[1].toLowerCase())) {
				return `_${column.logicalName}_value`;
			}
		}
		return `_${bind[1].replace(/_(account|contact|lead|systemuser|team)$/, '')}_value`;
	}
	const column = table.columns.get(field);
	if (column && isLookupColumn(column)) return `_${field}_value`;
	return field;
}

/** The d365 state hash of a record (read shape) over the item's target hash fields. */
export function d365Hash(table: TableInfo, record: IDataObject, fields: readonly string[]): string {
	const values: Record<string, unknown> = {};
	for (const field of fields) {
		const value = record[readPropertyOf(table, field)];
		values[field] = typeof value === 'string' && /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(value) ? value.toLowerCase() : value;
	}
	return stateHash(values, fields);
}
