/**
 * What a failed HTTP request tells us, whatever shape n8n's request helper threw it in: a NodeApiError wrapping an
 * axios error (httpRequestWithAuthentication), a bare axios error (httpRequest, OAuth2 token fetch), or a Node.js
 * socket error.
 */
export interface HttpFailure {
	/** HTTP status, or 0 when no response arrived (connection reset, timeout, refused). */
	status: number;
	/** Response headers, lower-cased names. */
	headers: Record<string, string>;
	/** Parsed response body when it was JSON, else the raw text (trimmed), else undefined. */
	body: unknown;
	/** Node.js error code (ECONNRESET, ETIMEDOUT, ...) when no response arrived. */
	networkCode?: string;
	/** The wrapped error's message, for the rare failure without a response or network code. */
	message: string;
}

const NETWORK_RETRYABLE = new Set(['ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN']);

export function describeFailure(error: unknown): HttpFailure {
	const candidates = unwrap(error);
	for (const candidate of candidates) {
		const response = (candidate as { response?: ResponseLike }).response;
		if (response && typeof response === 'object' && typeof response.status === 'number') {
			return {
				status: response.status,
				headers: lowerCaseHeaders(response.headers),
				body: parseBody(response.data),
				message: messageOf(candidate),
			};
		}
	}
	for (const candidate of candidates) {
		const code = (candidate as { code?: unknown }).code;
		if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) {
			return { status: 0, headers: {}, body: undefined, networkCode: code, message: messageOf(candidate) };
		}
	}
	const httpCode = Number((error as { httpCode?: unknown })?.httpCode);
	return {
		status: Number.isFinite(httpCode) ? httpCode : 0,
		headers: {},
		body: undefined,
		message: messageOf(error),
	};
}

/** Whether a failure is worth another attempt of the same request. */
export function isTransient(failure: HttpFailure): boolean {
	if (failure.status === 0) return failure.networkCode !== undefined && NETWORK_RETRYABLE.has(failure.networkCode);
	return failure.status === 429 || failure.status >= 500;
}

/**
 * Network failures that happen before any byte of the request reaches the server (the connection was never made):
 * the server cannot have acted on the request.
 */
const NOT_SENT = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * Whether a failure proves the server did not act on the request: a 429 (refused before processing) or a connection
 * that was never made. A 5xx, a reset or a timeout may come after the server acted, so they do not count.
 */
export function wasNotProcessed(failure: HttpFailure): boolean {
	if (failure.status === 429) return true;
	return failure.status === 0 && failure.networkCode !== undefined && NOT_SENT.has(failure.networkCode);
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or undefined. */
export function retryAfterMs(failure: HttpFailure, now = Date.now()): number | undefined {
	const value = failure.headers['retry-after'];
	if (value === undefined || value === '') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface ResponseLike {
	status: number;
	headers?: unknown;
	data?: unknown;
}

function unwrap(error: unknown): unknown[] {
	const chain: unknown[] = [];
	let current: unknown = error;
	for (let depth = 0; current && depth < 6; depth++) {
		chain.push(current);
		const next = (current as { cause?: unknown }).cause ?? (current as { reason?: unknown }).reason;
		if (next === current) break;
		current = next;
	}
	return chain;
}

function lowerCaseHeaders(headers: unknown): Record<string, string> {
	const result: Record<string, string> = {};
	if (!headers || typeof headers !== 'object') return result;
	const source =
		typeof (headers as { toJSON?: () => unknown }).toJSON === 'function'
			? ((headers as { toJSON: () => unknown }).toJSON() as Record<string, unknown>)
			: (headers as Record<string, unknown>);
	for (const [key, value] of Object.entries(source)) {
		if (value === undefined || value === null) continue;
		result[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
	}
	return result;
}

function parseBody(data: unknown): unknown {
	if (data === undefined || data === null || data === '') return undefined;
	if (typeof data === 'string') {
		const trimmed = data.trim();
		try {
			return JSON.parse(trimmed);
		} catch {
			return trimmed;
		}
	}
	if (typeof data === 'object' && typeof (data as { toString?: unknown }).toString === 'function' && isBuffer(data)) {
		return parseBody((data as { toString: (enc: string) => string }).toString('utf8'));
	}
	return data;
}

function isBuffer(value: object): boolean {
	return (value as { constructor?: { name?: string } }).constructor?.name === 'Buffer';
}

function messageOf(error: unknown): string {
	const message = (error as { message?: unknown })?.message;
	return typeof message === 'string' ? message : String(error);
}
