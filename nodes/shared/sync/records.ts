/**
 * Reading field values out of records as the two APIs (and our nodes) return them. The Field Map and both write
 * nodes read values through these functions, so a record's state hash is the same whoever computes it.
 */
import type { IDataObject } from 'n8n-workflow';

import { isGuid, stateHash } from './state';

export const FORMATTED = '@OData.Community.Display.V1.FormattedValue';

export interface DynamicsAccessor {
	column: string;
	formattedKey: string;
	lookupKey: string;
	lookupFormattedKey: string;
}

const accessors = new Map<string, DynamicsAccessor>();

export function accessor(column: string): DynamicsAccessor {
	let a = accessors.get(column);
	if (!a) {
		const lookupKey = `_${column}_value`;
		a = { column, formattedKey: `${column}${FORMATTED}`, lookupKey, lookupFormattedKey: `${lookupKey}${FORMATTED}` };
		accessors.set(column, a);
	}
	return a;
}

/**
 * A Dataverse column's value and formatted value. Lookups are named by their column (`parentcustomerid`) and read
 * from `_parentcustomerid_value`; their comparable value is the related record's name (the formatted value).
 */
export function readDynamics(record: IDataObject, column: string): { value: unknown; formatted?: string } {
	return readDynamicsWith(record, accessor(column));
}

/** {@link readDynamics} with the column's accessor already looked up (hot loops). */
export function readDynamicsWith(record: IDataObject, a: DynamicsAccessor): { value: unknown; formatted?: string } {
	if (record[a.column] !== undefined || a.column in record) {
		const formatted = record[a.formattedKey];
		return { value: record[a.column], formatted: typeof formatted === 'string' ? formatted : undefined };
	}
	if (a.lookupKey in record) {
		const formatted = record[a.lookupFormattedKey];
		return { value: record[a.lookupKey], formatted: typeof formatted === 'string' ? formatted : undefined };
	}
	return { value: undefined };
}

/**
 * The value of a Dataverse column as it takes part in the state hash: a lookup by the related record's id
 * (`_x_value`), every other column raw; GUIDs lower-cased. The Dynamics 365 node hashes records it wrote the same way.
 */
export function dynamicsHashValue(record: IDataObject, column: string): unknown {
	return dynamicsHashValueWith(record, accessor(column));
}

function dynamicsHashValueWith(record: IDataObject, a: DynamicsAccessor): unknown {
	const value =
		record[a.column] === undefined && !(a.column in record) && a.lookupKey in record ? record[a.lookupKey] : record[a.column];
	return typeof value === 'string' && value.length === 36 && value.charCodeAt(8) === 45 && isGuid(value)
		? value.toLowerCase()
		: value;
}

/** The state hash of a Dataverse record over the given columns. */
export function dynamicsStateHash(record: IDataObject, columns: readonly string[]): string {
	return dynamicsStateHashWith(record, columns, columns.map(accessor));
}

/** {@link dynamicsStateHash} with the columns' accessors already looked up (same order as `columns`). */
export function dynamicsStateHashWith(
	record: IDataObject,
	columns: readonly string[],
	accessors: readonly DynamicsAccessor[],
): string {
	const values: IDataObject = {};
	for (let i = 0; i < columns.length; i++) values[columns[i]] = dynamicsHashValueWith(record, accessors[i]) as IDataObject[string];
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
export function readActiveCampaign(
	record: IDataObject,
	key: string,
	index: CustomFieldIndex = customFieldIndex(record),
): unknown {
	if (STANDARD_KEYS.has(key) && key in record) return record[key];
	const entry = index.get(key) ?? index.get(normalizeKey(key));
	if (entry) return entry.value;
	return record[key];
}

export function findCustomField(record: IDataObject, key: string): ActiveCampaignCustomField | undefined {
	const index = customFieldIndex(record);
	return index.get(key) ?? index.get(normalizeKey(key));
}

export type CustomFieldIndex = Map<string, ActiveCampaignCustomField>;

/** Custom fields of a record by id, normalized tag and normalized title. Build it once when reading many keys. */
export function customFieldIndex(record: IDataObject): CustomFieldIndex {
	const index: CustomFieldIndex = new Map();
	const add = (entry: ActiveCampaignCustomField) => {
		if (!index!.has(entry.id)) index!.set(entry.id, entry);
		if (entry.perstag) index!.set(normalizeKey(entry.perstag), entry);
		if (entry.title) {
			const title = normalizeKey(entry.title);
			if (!index!.has(title)) index!.set(title, entry);
		}
	};
	const custom = record.customFields;
	if (Array.isArray(custom)) {
		for (const entry of custom as unknown as ActiveCampaignCustomField[]) {
			add(typeof entry.id === 'string' ? entry : { ...entry, id: String(entry.id) });
		}
	}
	for (const listName of ['fieldValues', 'fields']) {
		const list = record[listName];
		if (Array.isArray(list)) {
			for (const raw of list as IDataObject[]) {
				const id = raw.field ?? raw.customFieldId ?? raw.id;
				if (id !== undefined && !index.has(String(id))) add({ id: String(id), value: raw.value ?? raw.fieldValue });
			}
		} else if (list && typeof list === 'object') {
			for (const [name, value] of Object.entries(list as IDataObject)) {
				const normalized = normalizeKey(name);
				if (!index.has(normalized)) index.set(normalized, { id: name, value });
			}
		}
	}
	return index;
}

const normalized = new Map<string, string>();

/** Personalization tags are written with or without `%`; titles are compared case-insensitively. */
export function normalizeKey(key: string): string {
	let result = normalized.get(key);
	if (result === undefined) {
		result = key.trim();
		if (result.startsWith('%')) result = result.slice(1);
		if (result.endsWith('%')) result = result.slice(0, -1);
		result = result.toLowerCase();
		if (normalized.size > 50_000) normalized.clear();
		normalized.set(key, result);
	}
	return result;
}

/** The state hash of an ActiveCampaign record over the given keys. */
export function activeCampaignStateHash(
	record: IDataObject,
	keys: readonly string[],
	index: CustomFieldIndex = customFieldIndex(record),
): string {
	const values: IDataObject = {};
	for (const key of keys) values[key] = readActiveCampaign(record, key, index) as IDataObject[string];
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

/**
 * Reads many records with the same keys fast. Custom field identities (id, tag, title) are the same on every record of
 * an account, so the reader learns them as it goes and then reads values by id; a key that names none of the fields a
 * record carries is known to be absent without any lookup.
 */
export class ActiveCampaignReader {
	/** Key (as asked, and normalized) → field id. */
	private readonly keyToId = new Map<string, string>();
	private readonly knownIds = new Set<string>();

	read(record: IDataObject, key: string): unknown {
		if (STANDARD_KEYS.has(key) && key in record) return record[key];
		const custom = record.customFields as ActiveCampaignCustomField[] | undefined;
		if (!Array.isArray(custom) || record.fieldValues !== undefined || record.fields !== undefined) {
			return readActiveCampaign(record, key);
		}
		let id = this.keyToId.get(key);
		if (id === undefined) {
			id = this.keyToId.get(normalizeKey(key));
			if (id !== undefined) this.keyToId.set(key, id);
		}
		if (id !== undefined) {
			for (const entry of custom) if (entry.id === id) return entry.value;
		}
		// Not found: absent from this record, unless the record has fields this reader has not seen yet.
		for (const entry of custom) {
			if (!this.knownIds.has(String(entry.id))) {
				this.learn(custom);
				return this.read(record, key);
			}
		}
		return record[key];
	}

	stateHash(record: IDataObject, keys: readonly string[]): string {
		const values: IDataObject = {};
		for (const key of keys) values[key] = this.read(record, key) as IDataObject[string];
		return stateHash(values, keys);
	}

	private learn(custom: ActiveCampaignCustomField[]): void {
		for (const entry of custom) {
			const id = String(entry.id);
			this.knownIds.add(id);
			if (!this.keyToId.has(id)) this.keyToId.set(id, id);
			if (entry.perstag) this.keyToId.set(normalizeKey(entry.perstag), id);
			if (entry.title && !this.keyToId.has(normalizeKey(entry.title))) this.keyToId.set(normalizeKey(entry.title), id);
		}
	}
}

/**
 * Reads a fixed list of keys from many ActiveCampaign records in one pass over each record's custom fields: every
 * field id is matched once (by id, personalization tag or title) to the slots of the keys it serves. The values come
 * back in `keys` order, ready for {@link stateHashOf} and conversion.
 */
export class ActiveCampaignKeyPlan {
	private readonly wanted = new Map<string, number[]>();
	private readonly slotsById = new Map<string, number[]>();
	private readonly standard: boolean[];
	/** Scratch: which slots this record filled (reused between records). */
	private readonly found: Uint8Array;

	constructor(readonly keys: readonly string[]) {
		this.found = new Uint8Array(keys.length);
		this.standard = keys.map((k) => STANDARD_KEYS.has(k));
		keys.forEach((key, slot) => {
			for (const form of new Set([key, normalizeKey(key)])) {
				const slots = this.wanted.get(form) ?? [];
				slots.push(slot);
				this.wanted.set(form, slots);
			}
		});
	}

	values(record: IDataObject): unknown[] {
		const out = new Array<unknown>(this.keys.length);
		const found = this.found;
		found.fill(0);
		for (let i = 0; i < this.keys.length; i++) {
			if (this.standard[i] && this.keys[i] in record) {
				out[i] = record[this.keys[i]];
				found[i] = 1;
			}
		}
		const custom = record.customFields;
		if (Array.isArray(custom) && record.fieldValues === undefined && record.fields === undefined) {
			for (const entry of custom as unknown as ActiveCampaignCustomField[]) {
				let slots = this.slotsById.get(entry.id);
				if (slots === undefined) slots = this.learn(entry);
				for (const slot of slots) {
					if (!found[slot]) {
						out[slot] = entry.value;
						found[slot] = 1;
					}
				}
			}
			for (let i = 0; i < this.keys.length; i++) if (!found[i]) out[i] = record[this.keys[i]];
		} else {
			for (let i = 0; i < this.keys.length; i++) if (!found[i]) out[i] = readActiveCampaign(record, this.keys[i]);
		}
		return out;
	}

	private learn(entry: ActiveCampaignCustomField): number[] {
		const slots = new Set<number>();
		for (const form of [String(entry.id), entry.perstag && normalizeKey(entry.perstag), entry.title && normalizeKey(entry.title)]) {
			if (!form) continue;
			for (const slot of this.wanted.get(form) ?? []) {
				// An id matches only itself; a tag or title matches its normalized form.
				if (form === String(entry.id) && this.keys[slot] !== form && normalizeKey(this.keys[slot]) !== form) continue;
				slots.add(slot);
			}
		}
		const result = [...slots];
		this.slotsById.set(String(entry.id), result);
		return result;
	}
}
