/**
 * Reading field values out of records as the two APIs (and our nodes) return them. The Field Map and both write
 * nodes read values through these functions, so a record's state hash is the same whoever computes it.
 */
import type { IDataObject } from 'n8n-workflow';

import { stateHash } from './state';

export const FORMATTED = '@OData.Community.Display.V1.FormattedValue';

/**
 * A Dataverse column's value and formatted value. Lookups are named by their column (`parentcustomerid`) and read
 * from `_parentcustomerid_value`; their comparable value is the related record's name (the formatted value).
 */
export function readDynamics(record: IDataObject, column: string): { value: unknown; formatted?: string } {
	if (column in record) {
		const formatted = record[`${column}${FORMATTED}`];
		return { value: record[column], formatted: typeof formatted === 'string' ? formatted : undefined };
	}
	const lookup = `_${column}_value`;
	if (lookup in record) {
		const formatted = record[`${lookup}${FORMATTED}`];
		return { value: record[lookup], formatted: typeof formatted === 'string' ? formatted : undefined };
	}
	return { value: undefined };
}

/** The value of a Dataverse column as it takes part in the state hash: lookups by name, everything else raw. */
export function dynamicsHashValue(record: IDataObject, column: string): unknown {
	const lookup = `_${column}_value`;
	if (!(column in record) && lookup in record) return record[`${lookup}${FORMATTED}`] ?? record[lookup];
	return record[column];
}

/** The state hash of a Dataverse record over the given columns. */
export function dynamicsStateHash(record: IDataObject, columns: readonly string[]): string {
	const values: IDataObject = {};
	for (const column of columns) values[column] = dynamicsHashValue(record, column) as IDataObject[string];
	return stateHash(values, columns);
}

/**
 * One custom field of an ActiveCampaign record as our ActiveCampaign node returns it: the field's identity with its
 * value, so a reader can find it by id, personalization tag or title.
 */
export interface ActiveCampaignCustomField {
	id: string;
	title?: string;
	perstag?: string;
	type?: string;
	value: unknown;
}

/** The standard (non-custom) keys of ActiveCampaign records. */
const STANDARD_KEYS = new Set([
	'email',
	'firstName',
	'lastName',
	'phone',
	'jobTitle',
	'accountName',
	'name',
	'accountUrl',
	'externalId',
]);

/**
 * The value of an ActiveCampaign field, by standard key, or by a custom field's id, personalization tag or title
 * (case-insensitive). Accepts the shapes our nodes and the API return: `customFields` (ours), `fieldValues` /
 * `fields` arrays (`{field, value}`, `{customFieldId, fieldValue}`, custom-object `{id, value}`), or a `fields`
 * object keyed by tag or title.
 */
export function readActiveCampaign(record: IDataObject, key: string): unknown {
	if (STANDARD_KEYS.has(key) && key in record) return record[key];
	const field = findCustomField(record, key);
	if (field) return field.value;
	return record[key];
}

export function findCustomField(record: IDataObject, key: string): ActiveCampaignCustomField | undefined {
	const wanted = normalizeKey(key);
	const custom = record.customFields;
	if (Array.isArray(custom)) {
		for (const entry of custom as unknown as ActiveCampaignCustomField[]) {
			if (
				String(entry.id) === key ||
				normalizeKey(entry.perstag ?? '') === wanted ||
				normalizeKey(entry.title ?? '') === wanted
			) {
				return entry;
			}
		}
	}
	for (const listName of ['fieldValues', 'fields']) {
		const list = record[listName];
		if (Array.isArray(list)) {
			for (const raw of list as IDataObject[]) {
				const id = raw.field ?? raw.customFieldId ?? raw.id;
				if (id !== undefined && String(id) === key) {
					return { id: String(id), value: raw.value ?? raw.fieldValue };
				}
			}
		} else if (list && typeof list === 'object') {
			for (const [name, value] of Object.entries(list as IDataObject)) {
				if (normalizeKey(name) === wanted) return { id: name, value };
			}
		}
	}
	return undefined;
}

/** Personalization tags are written with or without `%`; titles are compared case-insensitively. */
export function normalizeKey(key: string): string {
	return key.trim().replace(/^%|%$/g, '').toLowerCase();
}

/** The state hash of an ActiveCampaign record over the given keys. */
export function activeCampaignStateHash(record: IDataObject, keys: readonly string[]): string {
	const values: IDataObject = {};
	for (const key of keys) values[key] = readActiveCampaign(record, key) as IDataObject[string];
	return stateHash(values, keys);
}

/** Tag names of an ActiveCampaign contact (`tags` as names, or `{tag}` objects). */
export function readTags(record: IDataObject): string[] {
	const tags = record.tags;
	if (!Array.isArray(tags)) return [];
	return tags
		.map((t) => (typeof t === 'string' ? t : String((t as IDataObject).tag ?? (t as IDataObject).name ?? '')))
		.filter(Boolean);
}
