/**
 * Value encodings ActiveCampaign expects per custom field type (pure functions, unit-tested):
 * contact fields take strings (date `YYYY-MM-DD`, datetime ISO with an offset, multi-value `||a||b||`, dropdown and
 * radio option values, accepted as labels too); account fields take typed values (currency in cents, multiselect as
 * arrays).
 */
import { DateTime } from 'luxon';

import { isEmpty } from '../../shared/sync/convert';

export interface FieldOption {
	label: string;
	value: string;
}

export interface ContactFieldDef {
	id: string;
	title: string;
	perstag: string;
	type: string;
	options: FieldOption[];
}

export interface AccountFieldDef {
	id: string;
	label: string;
	type: string;
	options: string[];
	defaultCurrency?: string;
}

export type Encoded<T> = { ok: true; value: T } | { ok: false; error: string };

const MULTI_CONTACT_TYPES = new Set(['checkbox', 'listbox', 'multiselect']);

export function isMultiValueType(type: string): boolean {
	return MULTI_CONTACT_TYPES.has(type);
}

/** Empty as everywhere in the sync, and an empty list of options too. */
function isEmptyValue(value: unknown): boolean {
	return isEmpty(value) || (Array.isArray(value) && value.length === 0);
}

/** A date as `YYYY-MM-DD`: from that form, an ISO date-time (its own calendar date), a Date or epoch milliseconds. */
export function toAcDate(value: unknown): Encoded<string> {
	if (value instanceof Date) return Number.isNaN(value.getTime()) ? bad('date', value) : { ok: true, value: value.toISOString().slice(0, 10) };
	if (typeof value === 'number') return toAcDate(new Date(value));
	const text = String(value).trim();
	if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
		return DateTime.fromISO(text).isValid ? { ok: true, value: text } : bad('date', value);
	}
	const parsed = parseDateTime(text);
	return parsed ? { ok: true, value: parsed.toISODate()! } : bad('date', value);
}

/** A date-time as ISO-8601 with an offset (`2026-01-02T03:04:05+00:00`); input without an offset is UTC. */
export function toAcDateTime(value: unknown): Encoded<string> {
	if (value instanceof Date) {
		return Number.isNaN(value.getTime()) ? bad('date and time', value) : toAcDateTime(value.toISOString());
	}
	if (typeof value === 'number') return toAcDateTime(new Date(value));
	const parsed = parseDateTime(String(value).trim());
	return parsed ? { ok: true, value: parsed.toFormat("yyyy-MM-dd'T'HH:mm:ssZZ") } : bad('date and time', value);
}

function parseDateTime(text: string): DateTime | undefined {
	const iso = DateTime.fromISO(text.replace(' ', 'T'), { setZone: true, zone: 'utc' });
	if (iso.isValid) return iso;
	const sql = DateTime.fromSQL(text, { setZone: true, zone: 'utc' });
	return sql.isValid ? sql : undefined;
}

function bad(kind: string, value: unknown): { ok: false; error: string } {
	return { ok: false, error: `"${String(value)}" is not a ${kind}` };
}

/** The values of a multi-value input: an array, `||a||b||`, or one value. */
export function multiValues(value: unknown): string[] {
	if (isEmptyValue(value)) return [];
	if (Array.isArray(value)) return value.filter((v) => !isEmptyValue(v)).map((v) => String(v).trim());
	const text = String(value).trim();
	if (text.startsWith('||') && text.endsWith('||')) return text.split('||').filter((v) => v.trim() !== '');
	return [text];
}

/**
 * The option value for an option given by value or by label (case-insensitive). A value that is none of the field's
 * options is an error: ActiveCampaign would store it, but no one could pick it, and a segment on the field misses it.
 */
function optionValue(options: FieldOption[], given: string): Encoded<string> {
	if (!options.length) return { ok: true, value: given };
	if (options.some((o) => o.value === given)) return { ok: true, value: given };
	const byLabel = options.find((o) => o.label.toLowerCase() === given.toLowerCase());
	if (byLabel) return { ok: true, value: byLabel.value };
	const byValue = options.find((o) => o.value.toLowerCase() === given.toLowerCase());
	if (byValue) return { ok: true, value: byValue.value };
	const listed = options.map((o) => o.label || o.value);
	return { ok: false, error: `"${given}" is not one of its options (${listed.slice(0, 20).join(', ')}${listed.length > 20 ? ', …' : ''})` };
}

function optionValues(options: FieldOption[], given: string[]): Encoded<string[]> {
	const values: string[] = [];
	for (const one of given) {
		const encoded = optionValue(options, one);
		if (!encoded.ok) return encoded;
		values.push(encoded.value);
	}
	return { ok: true, value: values };
}

/** Text fields take text: an object or a list would be stored as "[object Object]" or "a,b", so it is refused. */
function text(value: unknown): Encoded<string> {
	if (value instanceof Date) return { ok: true, value: value.toISOString() };
	if (Array.isArray(value)) return { ok: false, error: `a list (${JSON.stringify(value).slice(0, 80)}) is not text; the field holds one text value` };
	if (typeof value === 'object') return { ok: false, error: `an object (${JSON.stringify(value).slice(0, 80)}) is not text; pass JSON.stringify(...) to store it as text` };
	return { ok: true, value: String(value) };
}

/** Encodes a value for a contact custom field (`fieldValues[].value`). Empty input clears the field (`""`). */
export function encodeContactFieldValue(field: ContactFieldDef, value: unknown): Encoded<string> {
	if (isEmptyValue(value)) return { ok: true, value: '' };
	switch (field.type) {
		case 'date':
			return toAcDate(value);
		case 'datetime':
			return toAcDateTime(value);
		case 'checkbox':
		case 'listbox':
		case 'multiselect': {
			const values = optionValues(field.options, multiValues(value));
			if (!values.ok) return values;
			return { ok: true, value: values.value.length ? `||${values.value.join('||')}||` : '' };
		}
		case 'dropdown':
		case 'radio': {
			const values = multiValues(value);
			if (values.length > 1) return { ok: false, error: `${JSON.stringify(values)} are several values; the field holds one` };
			return optionValue(field.options, values[0] ?? '');
		}
		case 'number': {
			const n = typeof value === 'number' ? value : Number(String(value).trim());
			return Number.isFinite(n) ? { ok: true, value: String(n) } : bad('number', value);
		}
		default:
			return text(value);
	}
}

export interface AccountFieldValue {
	fieldValue: unknown;
	fieldCurrency?: string;
}

/**
 * Encodes a value for an account custom field (`fields[].fieldValue`). Currency values are in cents, as
 * ActiveCampaign stores them; `{ value, currency }` sets the currency too.
 */
export function encodeAccountFieldValue(field: AccountFieldDef, value: unknown): Encoded<AccountFieldValue> {
	let currency: string | undefined;
	if (value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) && 'value' in (value as object)) {
		const v = value as { value: unknown; currency?: unknown };
		currency = typeof v.currency === 'string' && v.currency ? v.currency.toLowerCase() : undefined;
		value = v.value;
	}
	if (isEmptyValue(value)) return { ok: true, value: { fieldValue: '' } };
	switch (field.type) {
		case 'currency': {
			const n = typeof value === 'number' ? value : Number(String(value).trim());
			if (!Number.isFinite(n)) return bad('currency amount in cents', value);
			return { ok: true, value: { fieldValue: Math.round(n), fieldCurrency: currency ?? field.defaultCurrency ?? 'usd' } };
		}
		case 'number': {
			const n = typeof value === 'number' ? value : Number(String(value).trim());
			return Number.isFinite(n) ? { ok: true, value: { fieldValue: n } } : bad('number', value);
		}
		case 'date': {
			const d = toAcDate(value);
			return d.ok ? { ok: true, value: { fieldValue: d.value } } : d;
		}
		case 'datetime': {
			const d = toAcDateTime(value);
			return d.ok ? { ok: true, value: { fieldValue: d.value } } : d;
		}
		case 'multiselect':
		case 'checkbox': {
			const opts = field.options.map((o) => ({ label: o, value: o }));
			const values = optionValues(opts, multiValues(value));
			return values.ok ? { ok: true, value: { fieldValue: values.value } } : values;
		}
		case 'dropdown':
		case 'radio': {
			const opts = field.options.map((o) => ({ label: o, value: o }));
			const values = multiValues(value);
			if (values.length > 1) return { ok: false, error: `${JSON.stringify(values)} are several values; the field holds one` };
			const one = optionValue(opts, values[0] ?? '');
			return one.ok ? { ok: true, value: { fieldValue: one.value } } : one;
		}
		default: {
			const one = text(value);
			return one.ok ? { ok: true, value: { fieldValue: one.value } } : one;
		}
	}
}
