/**
 * Value encodings ActiveCampaign expects per custom field type (pure functions, unit-tested):
 * contact fields take strings (date `YYYY-MM-DD`, datetime ISO with an offset, multi-value `||a||b||`, dropdown and
 * radio option values, accepted as labels too); account fields take typed values (currency in cents, multiselect as
 * arrays).
 */
import { DateTime } from 'luxon';

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

function isEmpty(value: unknown): boolean {
	return value === undefined || value === null || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);
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
	if (isEmpty(value)) return [];
	if (Array.isArray(value)) return value.filter((v) => !isEmpty(v)).map((v) => String(v).trim());
	const text = String(value).trim();
	if (text.startsWith('||') && text.endsWith('||')) return text.split('||').filter((v) => v.trim() !== '');
	return [text];
}

/** The option value for an option given by value or by label (case-insensitive); the input when none matches. */
function optionValue(options: FieldOption[], given: string): string {
	if (!options.length) return given;
	if (options.some((o) => o.value === given)) return given;
	const byLabel = options.find((o) => o.label.toLowerCase() === given.toLowerCase());
	if (byLabel) return byLabel.value;
	const byValue = options.find((o) => o.value.toLowerCase() === given.toLowerCase());
	return byValue ? byValue.value : given;
}

/** Encodes a value for a contact custom field (`fieldValues[].value`). Empty input clears the field (`""`). */
export function encodeContactFieldValue(field: ContactFieldDef, value: unknown): Encoded<string> {
	if (isEmpty(value)) return { ok: true, value: '' };
	switch (field.type) {
		case 'date':
			return toAcDate(value);
		case 'datetime':
			return toAcDateTime(value);
		case 'checkbox':
		case 'listbox':
		case 'multiselect': {
			const values = multiValues(value).map((v) => optionValue(field.options, v));
			return { ok: true, value: values.length ? `||${values.join('||')}||` : '' };
		}
		case 'dropdown':
		case 'radio': {
			const values = multiValues(value);
			return { ok: true, value: optionValue(field.options, values[0] ?? '') };
		}
		case 'number': {
			const n = typeof value === 'number' ? value : Number(String(value).trim());
			return Number.isFinite(n) ? { ok: true, value: String(n) } : bad('number', value);
		}
		default:
			return { ok: true, value: typeof value === 'object' ? JSON.stringify(value) : String(value) };
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
	if (isEmpty(value)) return { ok: true, value: { fieldValue: '' } };
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
			return { ok: true, value: { fieldValue: multiValues(value).map((v) => optionValue(opts, v)) } };
		}
		case 'dropdown':
		case 'radio': {
			const opts = field.options.map((o) => ({ label: o, value: o }));
			return { ok: true, value: { fieldValue: optionValue(opts, multiValues(value)[0] ?? '') } };
		}
		default:
			return { ok: true, value: { fieldValue: typeof value === 'object' ? JSON.stringify(value) : String(value) } };
	}
}
