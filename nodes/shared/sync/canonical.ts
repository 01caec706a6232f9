/**
 * Canonical forms of field values, so that the same value compares equal whichever API returned it and however it
 * was encoded: `"100"` and `100`, `"||b||a||"` and `["a","b"]`, `null`, `""` and a missing field.
 */

export type Canonical = string | null;

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

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
	if (Array.isArray(value)) {
		const parts = value.map(canonical).filter((v): v is string => v !== null);
		return parts.length ? JSON.stringify([...new Set(parts)].sort()) : null;
	}
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

function canonicalString(raw: string): Canonical {
	const text = raw.trim();
	if (text === '') return null;
	const first = text.charCodeAt(0);
	// Only values that start with "|", a digit or "-" can be multi-values, numbers or dates: the rest is plain text.
	if (first === 124 /* | */) {
		if (text.length > 4 && text.endsWith('||') && text.charCodeAt(1) === 124) return canonical(text.slice(2, -2).split('||'));
		return text;
	}
	if (!((first >= 48 && first <= 57) || first === 45)) return text;
	if (NUMBER.test(text) && !/^-?0\d/.test(text)) return canonicalNumber(Number(text));
	if (text.length > 10 && ISO_DATETIME.test(text) && !ISO_DATE.test(text)) {
		const ms = Date.parse(text.charCodeAt(10) === 32 ? `${text.slice(0, 10)}T${text.slice(11)}` : text);
		if (!Number.isNaN(ms)) return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
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
