/**
 * OData literals and `$filter` conditions for the Dataverse Web API, built from typed values: strings are quoted with
 * quotes doubled, GUIDs, numbers and dates are validated, and LIKE wildcards are escaped in contains/startswith/
 * endswith. Nothing a user types is ever pasted into a filter unescaped. URL encoding is the request layer's job
 * ({@link encodeQuery}).
 */
import { DateTime } from 'luxon';

import type { ColumnInfo } from './metadata';
import { GUID_TEXT } from '../../shared/guid';

/** A value that cannot become a literal of the column's type; its message names the column and the problem. */
export class ODataValueError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ODataValueError';
	}
}

const GUID = new RegExp(`^\\{?(${GUID_TEXT})\\}?$`);
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export function isGuidText(value: unknown): boolean {
	return typeof value === 'string' && GUID.test(value.trim());
}

/** `'text'` with every single quote doubled (`O'Bryan` → `'O''Bryan'`). */
export function stringLiteral(value: unknown): string {
	return `'${String(value ?? '').replace(/'/g, "''")}'`;
}

/** The text of a contains/startswith/endswith argument with Dataverse's LIKE wildcards (% _ [) made literal. */
export function escapeLike(value: string): string {
	return value.replace(/[[%_]/g, (c) => `[${c}]`);
}

export function guidLiteral(value: unknown, what = 'value'): string {
	const match = GUID.exec(String(value ?? '').trim());
	if (!match) throw new ODataValueError(`The ${what} '${String(value)}' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
	return match[1].toLowerCase();
}

export function numberLiteral(value: unknown, what = 'value'): string {
	const text = typeof value === 'number' ? String(value) : String(value ?? '').trim();
	if (!NUMBER.test(text) || !Number.isFinite(Number(text))) {
		throw new ODataValueError(`The ${what} '${String(value)}' is not a number`);
	}
	return text.replace(/^\+/, '');
}

export function booleanLiteral(value: unknown, what = 'value'): string {
	const parsed = parseBoolean(value);
	if (parsed === undefined) throw new ODataValueError(`The ${what} '${String(value)}' is not true or false`);
	return parsed ? 'true' : 'false';
}

export function parseBoolean(value: unknown): boolean | undefined {
	if (typeof value === 'boolean') return value;
	if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
	const text = String(value ?? '').trim().toLowerCase();
	if (['true', 'yes', '1', 'on'].includes(text)) return true;
	if (['false', 'no', '0', 'off'].includes(text)) return false;
	return undefined;
}

/** A UTC instant, as Dataverse writes them (`2024-05-01T10:20:30Z`); accepts ISO text, epoch ms and Date objects. */
export function toUtcIso(value: unknown, what = 'value'): string {
	let dt: DateTime;
	if (value instanceof Date) dt = DateTime.fromJSDate(value);
	else if (typeof value === 'number') dt = DateTime.fromMillis(value);
	else if (DateTime.isDateTime(value)) dt = value;
	else dt = DateTime.fromISO(String(value ?? '').trim(), { zone: 'utc' });
	if (!dt.isValid) throw new ODataValueError(`The ${what} '${String(value)}' is not a date and time (ISO 8601)`);
	return dt.toUTC().toISO({ suppressMilliseconds: true }) as string;
}

/** `YYYY-MM-DD` for date-only columns. */
export function toDateOnly(value: unknown, what = 'value'): string {
	const text = String(value ?? '').trim();
	if (DATE_ONLY.test(text) && DateTime.fromISO(text).isValid) return text;
	return toUtcIso(value, what).slice(0, 10);
}

export type FilterKind = 'string' | 'number' | 'boolean' | 'datetime' | 'date' | 'guid' | 'optionset' | 'multiselect';

export function filterKind(column: ColumnInfo): FilterKind {
	switch (column.type) {
		case 'Integer':
		case 'BigInt':
		case 'Decimal':
		case 'Double':
		case 'Money':
			return 'number';
		case 'Boolean':
			return 'boolean';
		case 'DateTime':
			return column.dateOnly ? 'date' : 'datetime';
		case 'Lookup':
		case 'Customer':
		case 'Owner':
		case 'Uniqueidentifier':
			return 'guid';
		case 'Picklist':
		case 'State':
		case 'Status':
			return 'optionset';
		default:
			return column.multiSelect ? 'multiselect' : 'string';
	}
}

/** The property a filter or `$select` uses for a column: `_x_value` for lookups. */
export function queryProperty(column: ColumnInfo): string {
	return isLookupColumn(column) ? `_${column.logicalName}_value` : column.logicalName;
}

export function isLookupColumn(column: Pick<ColumnInfo, 'type'>): boolean {
	return column.type === 'Lookup' || column.type === 'Customer' || column.type === 'Owner';
}

/** An option-set value from its number or its label (case-insensitive); unknown labels list the valid ones. */
export function optionValue(column: ColumnInfo, value: unknown): number {
	if (typeof value === 'number' && Number.isInteger(value)) return value;
	const text = String(value ?? '').trim();
	if (/^-?\d+$/.test(text)) return Number(text);
	const options = column.options ?? [];
	const hit = options.find((o) => o.label.toLowerCase() === text.toLowerCase());
	if (hit) return hit.value;
	const valid = options.map((o) => `${o.label} (${o.value})`).join(', ');
	throw new ODataValueError(
		`'${text}' is not a valid choice for the column '${column.logicalName}'. Valid choices: ${valid || '(none found in the metadata)'}`,
	);
}

/** The literal of a value for a column, by the column's type. */
export function literalFor(column: ColumnInfo, value: unknown): string {
	const what = `value for '${column.logicalName}'`;
	switch (filterKind(column)) {
		case 'number':
			return numberLiteral(value, what);
		case 'boolean': {
			const parsed = parseBoolean(value);
			if (parsed !== undefined) return parsed ? 'true' : 'false';
			const label = String(value ?? '').trim().toLowerCase();
			if (column.trueLabel && label === column.trueLabel.toLowerCase()) return 'true';
			if (column.falseLabel && label === column.falseLabel.toLowerCase()) return 'false';
			throw new ODataValueError(`The ${what} '${String(value)}' is not true or false`);
		}
		case 'datetime':
			return toUtcIso(value, what);
		case 'date':
			return toDateOnly(value, what);
		case 'guid':
			return guidLiteral(value, what);
		case 'optionset':
			return String(optionValue(column, value));
		case 'multiselect':
			return stringLiteral(String(optionValue(column, value)));
		default:
			return stringLiteral(value);
	}
}

export type CriteriaOperator =
	| 'eq'
	| 'ne'
	| 'gt'
	| 'ge'
	| 'lt'
	| 'le'
	| 'contains'
	| 'notContains'
	| 'startsWith'
	| 'endsWith'
	| 'in'
	| 'notIn'
	| 'isNull'
	| 'isNotNull';

export interface Criterion {
	column: string;
	operator: CriteriaOperator;
	value?: unknown;
}

/** Splits a list value: an array as is, text by commas (a value with commas can be given as a JSON array). */
export function listValues(value: unknown): unknown[] {
	if (Array.isArray(value)) return value;
	const text = String(value ?? '').trim();
	if (text.startsWith('[')) {
		try {
			const parsed = JSON.parse(text) as unknown;
			if (Array.isArray(parsed)) return parsed;
		} catch {
			// not JSON: split by commas below
		}
	}
	return text === '' ? [] : text.split(',').map((v) => v.trim());
}

/** One condition of a criteria row, e.g. `emailaddress1 eq 'a@b.com'` or `contains(lastname,'O''B')`. */
export function compileCondition(column: ColumnInfo, operator: CriteriaOperator, value: unknown): string {
	const property = queryProperty(column);
	const kind = filterKind(column);
	switch (operator) {
		case 'isNull':
			return `${property} eq null`;
		case 'isNotNull':
			return `${property} ne null`;
		case 'contains':
		case 'notContains':
		case 'startsWith':
		case 'endsWith': {
			if (kind === 'multiselect' && (operator === 'contains' || operator === 'notContains')) {
				const values = listValues(value).map((v) => stringLiteral(String(optionValue(column, v))));
				const fn = operator === 'contains' ? 'ContainValues' : 'DoesNotContainValues';
				return `Microsoft.Dynamics.CRM.${fn}(PropertyName=${stringLiteral(column.logicalName)},PropertyValues=[${values.join(',')}])`;
			}
			if (kind !== 'string') {
				throw new ODataValueError(`The operator '${operator}' works on text columns only; '${column.logicalName}' is not text`);
			}
			const fn = operator === 'startsWith' ? 'startswith' : operator === 'endsWith' ? 'endswith' : 'contains';
			const call = `${fn}(${property},${stringLiteral(escapeLike(String(value ?? '')))})`;
			return operator === 'notContains' ? `not ${call}` : call;
		}
		case 'in':
		case 'notIn': {
			const values = listValues(value);
			if (!values.length) throw new ODataValueError(`The operator '${operator}' on '${column.logicalName}' needs at least one value`);
			const literals = values.map((v) => literalFor(column, v));
			const chain = literals.map((l) => `${property} eq ${l}`).join(' or ');
			return operator === 'in' ? `(${chain})` : `not (${chain})`;
		}
		default: {
			if (kind === 'multiselect') {
				throw new ODataValueError(
					`The operator '${operator}' is not supported on the multi-select column '${column.logicalName}'; use contains`,
				);
			}
			if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '' && kind !== 'string')) {
				if (operator === 'eq') return `${property} eq null`;
				if (operator === 'ne') return `${property} ne null`;
			}
			return `${property} ${operator} ${literalFor(column, value)}`;
		}
	}
}

/** Criteria rows joined with `and` / `or`, each condition in parentheses. */
export function compileCriteria(
	columns: (name: string) => ColumnInfo,
	criteria: readonly Criterion[],
	combinator: 'and' | 'or' = 'and',
): string | undefined {
	const parts = criteria.filter((c) => c.column).map((c) => `(${compileCondition(columns(c.column), c.operator, c.value)})`);
	if (!parts.length) return undefined;
	return parts.length === 1 ? parts[0] : parts.join(` ${combinator} `);
}

/** Joins filter parts with `and`, each in parentheses when there are several. */
export function andFilters(...parts: Array<string | undefined>): string | undefined {
	const present = parts.map((p) => p?.trim()).filter((p): p is string => !!p);
	if (!present.length) return undefined;
	if (present.length === 1) return present[0];
	return present.map((p) => (p.startsWith('(') && balancedOuter(p) ? p : `(${p})`)).join(' and ');
}

function balancedOuter(text: string): boolean {
	let depth = 0;
	let quoted = false;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (c === "'") quoted = !quoted;
		if (quoted) continue;
		if (c === '(') depth++;
		if (c === ')') depth--;
		if (depth === 0 && i < text.length - 1) return false;
	}
	return depth === 0;
}

/**
 * `column in (values)` for bulk lookups: Microsoft.Dynamics.CRM.In on plain columns, an OR chain on lookups (whose
 * filter property is `_x_value`). Values must already be literals.
 */
export function inFilter(property: string, literals: readonly string[], lookup = false): string {
	if (literals.length === 1) return `${property} eq ${literals[0]}`;
	if (lookup) return `(${literals.map((l) => `${property} eq ${l}`).join(' or ')})`;
	const values = literals.map((l) => (l.startsWith("'") ? l : stringLiteral(l)));
	return `Microsoft.Dynamics.CRM.In(PropertyName=${stringLiteral(property)},PropertyValues=[${values.join(',')}])`;
}

/**
 * A query string with OData system options kept readable (`$filter`, `$select`) and every value percent-encoded, so
 * `+`, `#`, `&` and `%` inside literals arrive as typed.
 */
export function encodeQuery(query: Record<string, string | number | undefined>): string {
	return Object.entries(query)
		.filter(([, v]) => v !== undefined && v !== '')
		.map(([k, v]) => `${k}=${encodeQueryValue(String(v))}`)
		.join('&');
}

export function encodeQueryValue(value: string): string {
	return encodeURIComponent(value)
		.replace(/%24/g, '$')
		.replace(/%2C/gi, ',')
		.replace(/%3A/gi, ':')
		.replace(/%2F/gi, '/')
		.replace(/%40/g, '@');
}

/** A key segment for a record URL: `contacts(<guid>)` or `contacts(emailaddress1='a@b.com',...)`. */
export function keySegment(values: Record<string, string>): string {
	return Object.entries(values)
		.map(([k, v]) => `${k}=${v}`)
		.join(',');
}
