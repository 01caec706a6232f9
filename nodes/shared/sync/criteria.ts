/**
 * Sync scope: rows of field / operator / value that must all hold for a record to sync. String comparisons ignore
 * case (as Dataverse does); numbers and dates compare as numbers and instants when both sides parse as such.
 */
import { canonical } from './canonical';
import { splitMulti } from './convert';

export const CRITERIA_OPERATORS = [
	'equals',
	'notEquals',
	'contains',
	'notContains',
	'startsWith',
	'greaterThan',
	'lessThan',
	'isEmpty',
	'isNotEmpty',
] as const;
export type CriteriaOperator = (typeof CRITERIA_OPERATORS)[number];

export interface CriteriaRow {
	field: string;
	operator: CriteriaOperator;
	value?: string;
}

export type CriteriaResult = { matched: true } | { matched: false; row: CriteriaRow; reason: string };

/** Whether a record passes every row; `read` returns a field's value (raw or formatted, as the row means it). */
export function matchCriteria(rows: readonly CriteriaRow[], read: (field: string) => unknown): CriteriaResult {
	for (const row of rows) {
		if (!evaluate(row, read(row.field))) {
			return { matched: false, row, reason: `out of scope: ${describeRow(row)} does not hold` };
		}
	}
	return { matched: true };
}

export function describeRow(row: CriteriaRow): string {
	const words: Record<CriteriaOperator, string> = {
		equals: 'equals',
		notEquals: 'does not equal',
		contains: 'contains',
		notContains: 'does not contain',
		startsWith: 'starts with',
		greaterThan: 'is greater than',
		lessThan: 'is less than',
		isEmpty: 'is empty',
		isNotEmpty: 'is not empty',
	};
	const value = row.operator === 'isEmpty' || row.operator === 'isNotEmpty' ? '' : ` "${row.value ?? ''}"`;
	return `${row.field} ${words[row.operator]}${value}`;
}

function evaluate(row: CriteriaRow, actual: unknown): boolean {
	const values = multiValues(actual);
	const expected = row.value ?? '';
	switch (row.operator) {
		case 'isEmpty':
			return values.length === 0;
		case 'isNotEmpty':
			return values.length > 0;
		case 'equals':
			return values.some((v) => equal(v, expected)) || (values.length === 0 && expected.trim() === '');
		case 'notEquals':
			return !values.some((v) => equal(v, expected)) && !(values.length === 0 && expected.trim() === '');
		case 'contains':
			return values.some((v) => v.toLowerCase().includes(expected.toLowerCase()));
		case 'notContains':
			return !values.some((v) => v.toLowerCase().includes(expected.toLowerCase()));
		case 'startsWith':
			return values.some((v) => v.toLowerCase().startsWith(expected.toLowerCase()));
		case 'greaterThan':
			return values.some((v) => compare(v, expected) > 0);
		case 'lessThan':
			return values.some((v) => compare(v, expected) < 0);
	}
}

function multiValues(actual: unknown): string[] {
	if (actual === undefined || actual === null) return [];
	if (Array.isArray(actual) || (typeof actual === 'string' && actual.trim().startsWith('||'))) {
		return splitMulti(actual);
	}
	const text = typeof actual === 'object' ? JSON.stringify(actual) : String(actual).trim();
	return text === '' ? [] : [text];
}

function equal(actual: string, expected: string): boolean {
	const numeric = compareNumbers(actual, expected);
	if (numeric !== undefined) return numeric === 0;
	const a = canonical(actual);
	const b = canonical(expected);
	return (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
}

/** Numbers compare as numbers, instants as instants, anything else as case-insensitive text. */
function compare(actual: string, expected: string): number {
	const numeric = compareNumbers(actual, expected);
	if (numeric !== undefined) return numeric;
	const a = Date.parse(actual);
	const b = Date.parse(expected);
	if (!Number.isNaN(a) && !Number.isNaN(b) && /\d{4}-\d{2}-\d{2}/.test(actual) && /\d{4}-\d{2}-\d{2}/.test(expected)) {
		return Math.sign(a - b);
	}
	return actual.localeCompare(expected, undefined, { sensitivity: 'accent' });
}

function compareNumbers(actual: string, expected: string): number | undefined {
	const numberLike = /^[-+]?\d+(\.\d+)?$/;
	if (!numberLike.test(actual.trim()) || !numberLike.test(expected.trim())) return undefined;
	return Math.sign(Number(actual) - Number(expected));
}
