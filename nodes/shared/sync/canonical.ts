/**
 * Canonical forms of field values, so that the same value compares equal whichever API returned it and however it
 * was encoded: `"100"` and `100`, `"||b||a||"` and `["a","b"]`, `null`, `""` and a missing field.
 */

import { instantOfOffsetIso, utcIso } from './time';

export type Canonical = string | null;

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** The canonical string of a value, or null for "no value". */
export function canonical(value: unknown): Canonical {
	if (value === undefined || value === null) return null;
	switch (typeof value) {
		case 'string':
			return canonicalString(value);
		case 'number':
			return Number.isFinite(value) ? canonicalNumber(value) : null;
		case 'boolean':
			return value ? 'true' : 'false';
	}
	if (Array.isArray(value)) return canonicalList(value);
	if (typeof value === 'object') {
		const entries = Object.entries(value as Record<string, unknown>)
			.map(([k, v]) => [k, canonical(v)] as const)
			.filter(([, v]) => v !== null)
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
		return entries.length ? JSON.stringify(entries) : null;
	}
	return canonicalString(String(value));
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const PLAIN_NUMBER = /^-?(0|[1-9]\d{0,14})(\.\d{0,9}[1-9])?$/;
const CANONICAL_UTC = /^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\dZ$/;

function canonicalString(raw: string): Canonical {
	const text = raw.trim();
	if (text === '') return null;
	const first = text.charCodeAt(0);
	// Only values that start with "|", a digit or "-" can be multi-values, numbers or dates: the rest is plain text.
	if (first === 124 /* | */) {
		if (text.length > 4 && text.endsWith('||') && text.charCodeAt(1) === 124) return canonicalList(text.slice(2, -2).split('||'));
		return text;
	}
	if (!((first >= 48 && first <= 57) || first === 45)) return text;
	// Dataverse returns date-times already canonical (`2026-03-01T15:30:00Z`): no need to parse them.
	if (text.length === 20 && text.charCodeAt(19) === 90 && text.charCodeAt(10) === 84 && CANONICAL_UTC.test(text)) return text;
	// A number already written the way String(n) writes it (no leading zeros, no trailing fraction zeros) is canonical.
	if (PLAIN_NUMBER.test(text)) return text;
	if (NUMBER.test(text) && !/^-?0\d/.test(text)) return canonicalNumber(Number(text));
	if (text.length > 10 && (text.charCodeAt(10) === 84 || text.charCodeAt(10) === 32) && ISO_DATETIME.test(text)) {
		// Date-times are compared as instants (seconds); one without an offset is read as UTC.
		const ms = instantOfOffsetIso(text);
		if (ms !== undefined) return utcIso(ms);
	}
	return text;
}

function canonicalNumber(value: number): string {
	if (Number.isInteger(value)) return String(value);
	// Money and decimals round-trip through JSON with noise (0.1 + 0.2); 10 places is below every CRM precision.
	return String(Number(value.toFixed(10)));
}

/** Whether two values are the same once canonical. */
export function sameValue(a: unknown, b: unknown): boolean {
	return canonical(a) === canonical(b);
}

/** Emails compare case-insensitively in both systems. */
export function canonicalEmail(value: unknown): string | null {
	const c = canonical(value);
	return c === null ? null : c.toLowerCase();
}

/** A multi-value: its distinct canonical parts, sorted, as a JSON array (null when empty). */
function canonicalList(values: readonly unknown[]): Canonical {
	const parts: string[] = [];
	for (const value of values) {
		const c = canonical(value);
		if (c !== null && !parts.includes(c)) parts.push(c);
	}
	return parts.length ? JSON.stringify(parts.sort()) : null;
}
