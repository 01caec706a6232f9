/** Error envelopes and request helpers shared by the route modules. */
import { bodyJson, json, type SandboxRequest, type SandboxResponse } from '../core/http';

export interface ApiError {
	title: string;
	detail?: string;
	code?: string;
	status?: number;
	source?: Record<string, string>;
}

export function message(status: number, text: string): SandboxResponse {
	return json(status, { message: text });
}

export function errors(status: number, list: ApiError[]): SandboxResponse {
	return json(status, { errors: list });
}

/** The v3 "duplicate"/"field_missing"/"field_invalid" envelope with a JSON pointer. */
export function fieldError(title: string, code: string, attribute: string, detail = ''): SandboxResponse {
	return errors(422, [{ title, detail, code, source: { pointer: `/data/attributes/${attribute}` } }]);
}

export function missingAttribute(attribute: string): SandboxResponse {
	return errors(422, [{ status: 422, title: 'Missing attribute', source: { pointer: `/data/attributes/${attribute}` } }]);
}

/** `{"message":"No Result found for Subscriber with id 1"}`: the documented 404 of most v3 entities. */
export function noResult(entity: string, id: string | number, status = 404): SandboxResponse {
	return message(status, `No Result found for ${entity} with id ${id}`);
}

/** Custom objects validation envelope. */
export function coInvalid(field: string, detail: string, pointer = field.replace(/\./g, '/')): SandboxResponse {
	return errors(422, [
		{ title: `Invalid value for field "${field}"`, detail, source: { type: 'pointer', value: `/data/attributes/${pointer}` } },
	]);
}

/** The JSON body as an object (an array or scalar body counts as missing). */
export function bodyObject(req: SandboxRequest): Record<string, unknown> {
	const body = bodyJson<unknown>(req);
	return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** `body[key]` as an object, for the `{"contact": {...}}` style envelopes. */
export function envelope(req: SandboxRequest, key: string): Record<string, unknown> | undefined {
	const value = bodyObject(req)[key];
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function asString(value: unknown): string | undefined {
	if (typeof value === 'string') return value;
	if (typeof value === 'number' || typeof value === 'boolean') return String(value);
	return undefined;
}

export interface Page {
	limit: number;
	offset: number;
}

/** `limit` (default 20, values above the max are capped) and `offset` (zero-based). */
export function page(req: SandboxRequest, defaultLimit: number, maxLimit: number): Page {
	const rawLimit = Number(req.query.get('limit'));
	const rawOffset = Number(req.query.get('offset'));
	const limit = Number.isFinite(rawLimit) && rawLimit > 0 ? Math.min(Math.floor(rawLimit), maxLimit) : defaultLimit;
	const offset = Number.isFinite(rawOffset) && rawOffset > 0 ? Math.floor(rawOffset) : 0;
	return { limit, offset };
}

/** `orders[field]=ASC|DESC` in query-string order. */
export function orders(req: SandboxRequest): Array<{ field: string; desc: boolean }> {
	const out: Array<{ field: string; desc: boolean }> = [];
	for (const [key, value] of req.query.entries()) {
		const m = /^orders\[([^\]]+)\]$/.exec(key);
		if (m) out.push({ field: m[1], desc: value.trim().toUpperCase() === 'DESC' });
	}
	return out;
}

export function compareValues(a: unknown, b: unknown): number {
	if (typeof a === 'number' && typeof b === 'number') return a - b;
	return String(a ?? '').localeCompare(String(b ?? ''), 'en', { sensitivity: 'base' });
}

export function isValidEmail(email: string): boolean {
	return /^[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[A-Za-z]{2,}$/.test(email);
}
