/**
 * The sync item (nodes/shared/sync/syncItem.ts) as the Dynamics 365 node writes it: the target table, the record in
 * Web API names, the per-field plan inputs, the id a record created from ActiveCampaign gets, and hashing records
 * the way the Field Map does.
 */
import { createHash } from 'crypto';
import type { IDataObject } from 'n8n-workflow';

import type { ConflictPolicy } from '../../shared/sync/decide';
import { isGuid, stateHash } from '../../shared/sync/state';
import type { TableInfo } from '../transport/metadata';
import { isLookupColumn } from '../transport/odata';

export const CONFLICT_POLICIES: ConflictPolicy[] = ['dynamicsWins', 'activeCampaignWins', 'newestWins'];

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

/** A record's value of a hash field as the state reads it (GUIDs lower-cased, as the Field Map reads them). */
export function hashValueOf(table: TableInfo, record: IDataObject, field: string): unknown {
	const value = record[readPropertyOf(table, field)];
	return isGuid(value) ? value.toLowerCase() : value;
}

/** The d365 whole-record state hash (states stored before per-field state) over the item's target hash fields. */
export function d365Hash(table: TableInfo, record: IDataObject, fields: readonly string[]): string {
	const values: Record<string, unknown> = {};
	for (const field of fields) values[field] = hashValueOf(table, record, field);
	return stateHash(values, fields);
}

/** Namespace of the ids of records created from ActiveCampaign (a fixed, random UUID), as bytes. */
const NAMESPACE = Uint8Array.from('5f0e7c1a8d2b4e6fa3c94b7d2e1f6a08'.match(/../g)!.map((byte) => parseInt(byte, 16)));

/**
 * The id of a Dynamics record created from an ActiveCampaign record: a name-based UUID (RFC 9562 version 5) of the
 * ActiveCampaign account, the table and the record id. Two runs that create the same record choose the same id, so
 * the second is refused as a duplicate instead of making a second record.
 */
export function createdIdFor(account: string, table: string, sourceId: string): string {
	const hex = createHash('sha1').update(NAMESPACE).update(`${account.trim().toLowerCase()}|${table}|${sourceId.trim()}`).digest('hex');
	const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
