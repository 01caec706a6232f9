/**
 * Value conversion between Dataverse and ActiveCampaign encodings, both ways. Strict: a value that does not convert
 * is an error for that record, never a guess. Empty values (null, undefined, '') convert to null on both sides
 * (clearing the target field).
 */
import type { ActiveCampaignType, DynamicsType } from './fieldTypes';
import { instantOfOffsetIso, isDay, localDate, localIso, parseInstant, startOfDay, utcIso, zoneOf } from './time';
import { splitCommas } from '../lists';

export interface ConversionContext {
	/**
	 * ActiveCampaign's account time zone: an IANA name (`America/Chicago`) or a fixed offset (`-05:00`, `UTC+2`).
	 * Dates without a time are days in this zone; datetimes are written with its offset.
	 */
	timeZone: string;
}

export interface DynamicsValue {
	value: unknown;
	/** The OData formatted value (`col@OData.Community.Display.V1.FormattedValue`): labels of choices and lookups. */
	formatted?: string;
}

/** Choice labels of a Dynamics column, by option value, when the caller knows them (metadata or the mapping). */
export type OptionLabels = Record<string, string>;

export type Converted = { ok: true; value: unknown } | { ok: false; error: string };

const ok = (value: unknown): Converted => ({ ok: true, value });
const fail = (error: string): Converted => ({ ok: false, error });

export function isEmpty(value: unknown): boolean {
	return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** A Dataverse value → the ActiveCampaign encoding of a field of type `acType`. */
export function toActiveCampaign(
	source: DynamicsValue,
	dynamicsType: DynamicsType,
	acType: ActiveCampaignType,
	context: ConversionContext,
	options?: OptionLabels,
): Converted {
	const { value } = source;
	if (isEmpty(value)) return ok(null);
	switch (dynamicsType) {
		case 'string':
		case 'memo':
			if (typeof value === 'object') return notText(value);
			return acType === 'number' || acType === 'decimal' ? numberFromText(value) : ok(String(value));
		case 'integer':
		case 'bigint':
		case 'decimal':
		case 'double':
		case 'money': {
			const n = toNumber(value);
			if (n === undefined) return fail(`${JSON.stringify(value)} is not a number`);
			if (acType === 'currency') return ok(Math.round(n * 100));
			return ok(acType === 'number' || acType === 'decimal' ? n : String(n));
		}
		case 'boolean': {
			const b = toBoolean(value);
			if (b === undefined) return fail(`${JSON.stringify(value)} is not a yes/no value`);
			if (acType === 'dropdown' || acType === 'radio') {
				const label = options?.[b ? '1' : '0'] ?? source.formatted;
				return label ? ok(label) : ok(b ? 'Yes' : 'No');
			}
			return ok(b ? 'true' : 'false');
		}
		case 'dateonly': {
			const day = parseDay(value);
			if (!day) return fail(`${JSON.stringify(value)} is not a date`);
			if (acType === 'date') return ok(day);
			return ok(String(day));
		}
		case 'datetime': {
			const instant = parseInstant(String(value), zoneOf('UTC'));
			if (instant === undefined) return fail(`${JSON.stringify(value)} is not a date and time`);
			const zone = zoneOf(context.timeZone);
			return ok(acType === 'date' ? localDate(instant, zone) : localIso(instant, zone));
		}
		case 'picklist':
		case 'state':
		case 'status': {
			const label = labelOf(value, source.formatted, options);
			if (label === undefined) return fail(`no label is known for choice value ${JSON.stringify(value)}`);
			if (acType === 'listbox') return ok(`||${label}||`);
			return ok(label);
		}
		case 'multiselect': {
			const labels = multiLabels(value, source.formatted, options);
			if (!labels) return fail(`no labels are known for choice values ${JSON.stringify(value)}`);
			if (!labels.length) return ok(null);
			return ok(`||${labels.join('||')}||`);
		}
		case 'lookup':
			return source.formatted ? ok(source.formatted) : fail('the related record has no name (turn on formatted values)');
	}
}

/** An ActiveCampaign value of type `acType` → the value to write to a Dataverse column of type `dynamicsType`. */
export function toDynamics(
	value: unknown,
	acType: ActiveCampaignType,
	dynamicsType: DynamicsType,
	context: ConversionContext,
	options?: OptionLabels,
): Converted {
	if (isEmpty(value)) return ok(null);
	switch (dynamicsType) {
		case 'string':
		case 'memo':
			if (acType === 'listbox' || acType === 'checkbox' || acType === 'multiselect') {
				if (typeof value === 'object' && !Array.isArray(value)) return notText(value);
				return ok(splitMulti(value).join('; '));
			}
			if (typeof value === 'object') return notText(value);
			return ok(String(value).trim());
		case 'integer':
		case 'bigint': {
			const n = acType === 'currency' ? centsToAmount(value) : toNumber(value);
			if (n === undefined) return fail(`${JSON.stringify(value)} is not a number`);
			if (!Number.isInteger(n)) return fail(`${JSON.stringify(value)} is not a whole number`);
			return ok(n);
		}
		case 'decimal':
		case 'double':
		case 'money': {
			const n = acType === 'currency' ? centsToAmount(value) : toNumber(value);
			return n === undefined ? fail(`${JSON.stringify(value)} is not a number`) : ok(n);
		}
		case 'boolean': {
			const label = String(value).trim();
			if (options) {
				if (sameLabel(label, options['1'])) return ok(true);
				if (sameLabel(label, options['0'])) return ok(false);
			}
			const b = toBoolean(label);
			return b === undefined ? fail(`${JSON.stringify(value)} is not a yes/no value`) : ok(b);
		}
		case 'dateonly': {
			if (acType === 'datetime') {
				const zone = zoneOf(context.timeZone);
				const instant = parseInstant(String(value), zone);
				if (instant === undefined) return fail(`${JSON.stringify(value)} is not a date and time`);
				return ok(localDate(instant, zone));
			}
			const day = parseDay(value);
			return day ? ok(day) : fail(`${JSON.stringify(value)} is not a date (YYYY-MM-DD)`);
		}
		case 'datetime': {
			const zone = zoneOf(context.timeZone);
			if (acType === 'date') {
				const day = parseDay(value);
				const midnight = day === undefined ? undefined : startOfDay(day, zone);
				return midnight === undefined ? fail(`${JSON.stringify(value)} is not a date (YYYY-MM-DD)`) : ok(utcIso(midnight));
			}
			const text = String(value);
			const instant = hasOffset(text) ? instantOfOffsetIso(text) : parseInstant(text, zone);
			return instant === undefined ? fail(`${JSON.stringify(value)} is not a date and time`) : ok(utcIso(instant));
		}
		case 'picklist':
		case 'state':
		case 'status': {
			const labels = acType === 'listbox' || acType === 'checkbox' ? splitMulti(value) : [String(value).trim()];
			if (labels.length > 1) return fail(`${JSON.stringify(value)} has several values; the Dynamics column takes one`);
			return ok(labels[0] ?? null);
		}
		case 'multiselect': {
			const labels = splitMulti(value);
			return ok(labels.length ? labels : null);
		}
		case 'lookup':
			return ok(String(value).trim());
	}
}

/** An object or a list where text is expected: it would be written as "[object Object]" or "a,b". */
function notText(value: unknown): Converted {
	const shown = JSON.stringify(value)?.slice(0, 80) ?? String(value);
	return fail(`${Array.isArray(value) ? 'a list' : 'an object'} (${shown}) is not text`);
}

function numberFromText(value: unknown): Converted {
	const n = toNumber(value);
	return n === undefined ? fail(`${JSON.stringify(value)} is not a number`) : ok(n);
}

export function toNumber(value: unknown): number | undefined {
	if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
	if (typeof value !== 'string') return undefined;
	const text = value.trim();
	if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
	return Number(text);
}

function centsToAmount(value: unknown): number | undefined {
	const n = toNumber(value);
	return n === undefined ? undefined : Number((n / 100).toFixed(2));
}

export function toBoolean(value: unknown): boolean | undefined {
	if (typeof value === 'boolean') return value;
	if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
	const text = String(value).trim().toLowerCase();
	if (['true', 'yes', 'y', '1', 'on'].includes(text)) return true;
	if (['false', 'no', 'n', '0', 'off'].includes(text)) return false;
	return undefined;
}

function parseDay(value: unknown): string | undefined {
	const text = String(value).trim();
	const match = /^(\d{4}-\d{2}-\d{2})(?:$|T00:00:00(?:\.0+)?(?:Z|[+-]00:?00)?$)/.exec(text);
	return match && isDay(match[1]) ? match[1] : undefined;
}

function labelOf(value: unknown, formatted: string | undefined, options?: OptionLabels): string | undefined {
	const fromOptions = options?.[String(value)];
	if (fromOptions) return fromOptions;
	if (formatted) return formatted;
	return undefined;
}

function multiLabels(value: unknown, formatted: string | undefined, options?: OptionLabels): string[] | undefined {
	const values = Array.isArray(value) ? value.map(String) : splitCommas(String(value));
	if (options && values.every((v) => options[v] !== undefined)) return values.map((v) => options[v]);
	// Dataverse formats a multi-select choice as its labels joined by "; ", in option order.
	if (formatted !== undefined) {
		const labels = formatted
			.split(';')
			.map((l) => l.trim())
			.filter(Boolean);
		if (labels.length === values.length) return labels;
	}
	return undefined;
}

/** `||a||b||`, `a||b`, `["a","b"]` or an array → the list of values. */
export function splitMulti(value: unknown): string[] {
	if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter(Boolean);
	const text = String(value).trim();
	if (text.startsWith('[')) {
		try {
			const parsed: unknown = JSON.parse(text);
			if (Array.isArray(parsed)) return splitMulti(parsed);
		} catch {
			// not JSON: a plain value
		}
	}
	return text
		.split('||')
		.map((v) => v.trim())
		.filter(Boolean);
}

function sameLabel(a: string, b: string | undefined): boolean {
	return b !== undefined && a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
}

/** Whether an ISO date-time ends with Z or a ±hh:mm offset. */
function hasOffset(text: string): boolean {
	const last = text.charCodeAt(text.length - 1);
	if (last === 90 || last === 122) return true;
	const sign = text.charCodeAt(text.length - 6);
	return (sign === 43 || sign === 45) && text.charCodeAt(text.length - 3) === 58;
}
