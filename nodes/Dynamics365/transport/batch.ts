/**
 * The OData `$batch` multipart format of the Dataverse Web API: a writer for requests (one part per operation, no
 * change sets, so each operation succeeds or fails on its own with `Prefer: odata.continue-on-error`) and a parser
 * for responses (parts in request order, change-set responses flattened).
 */
import { randomUUID } from 'crypto';

export interface BatchOperation {
	method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
	/** Relative to the service root (`contacts(…)`), or absolute. */
	url: string;
	headers?: Record<string, string>;
	body?: unknown;
}

export interface BatchPartResponse {
	status: number;
	headers: Record<string, string>;
	/** Parsed JSON when the part had a JSON body, else its text (or undefined when empty). */
	body: unknown;
	/** Set when the whole `$batch` request failed (the part never ran). */
	batchFailed?: boolean;
	/** The whole request's error when it failed (e.g. a sign-in that failed), as a single request would throw it. */
	requestError?: Error;
	/** Set when the operation was sent more than once (an earlier attempt may have been applied). */
	retried?: boolean;
}

export function newBoundary(prefix = 'batch'): string {
	return `${prefix}_${randomUUID()}`;
}

/**
 * The body of a `$batch` request. Request lines use the absolute path of the service root (`/api/data/v9.2/…`), as
 * Microsoft's examples do.
 */
export function writeBatch(operations: readonly BatchOperation[], servicePath: string, boundary: string): string {
	const root = servicePath.replace(/\/+$/, '');
	const lines: string[] = [];
	operations.forEach((op, index) => {
		lines.push(`--${boundary}`);
		lines.push('Content-Type: application/http');
		lines.push('Content-Transfer-Encoding: binary');
		lines.push(`Content-ID: ${index + 1}`);
		lines.push('');
		const url = /^https?:\/\//i.test(op.url) ? op.url : `${root}/${op.url.replace(/^\//, '')}`;
		lines.push(`${op.method} ${url} HTTP/1.1`);
		const headers: Record<string, string> = { ...(op.headers ?? {}) };
		const hasBody = op.body !== undefined && op.method !== 'GET' && op.method !== 'DELETE';
		if (hasBody && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
			headers['Content-Type'] = 'application/json; type=entry';
		}
		if (!Object.keys(headers).some((h) => h.toLowerCase() === 'accept')) headers.Accept = 'application/json';
		for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
		lines.push('');
		if (hasBody) lines.push(typeof op.body === 'string' ? op.body : JSON.stringify(op.body));
	});
	lines.push(`--${boundary}--`);
	lines.push('');
	return lines.join('\r\n');
}

/** The boundary of a multipart content type, or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
	const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
	return match ? (match[1] ?? match[2]) : undefined;
}

/** Splits a multipart body into its parts (the text between boundary lines). */
function splitParts(body: string, boundary: string): string[] {
	const delimiter = `--${boundary}`;
	const parts: string[] = [];
	let position = body.indexOf(delimiter);
	if (position < 0) return parts;
	for (;;) {
		const start = position + delimiter.length;
		if (body.startsWith('--', start)) break;
		const next = body.indexOf(delimiter, start);
		if (next < 0) break;
		parts.push(body.slice(start, next).replace(/^[ \t]*\r?\n/, '').replace(/\r?\n$/, ''));
		position = next;
	}
	return parts;
}

/** Headers and the rest of a block, split at the first blank line. */
function splitHeaders(block: string): { headers: Record<string, string>; rest: string; firstLine?: string } {
	const match = /\r?\n\r?\n/.exec(block);
	const head = match ? block.slice(0, match.index) : block;
	const rest = match ? block.slice(match.index + match[0].length) : '';
	const headers: Record<string, string> = {};
	for (const line of head.split(/\r?\n/)) {
		const colon = line.indexOf(':');
		if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
	}
	return { headers, rest };
}

export class BatchParseError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'BatchParseError';
	}
}

/** The responses of a `$batch` response body, in order; change-set parts are flattened in place. */
export function parseBatch(body: string, contentType: string | undefined): BatchPartResponse[] {
	const boundary = boundaryOf(contentType) ?? /^--([^\r\n]+)/.exec(body.trimStart())?.[1];
	if (!boundary) throw new BatchParseError('The $batch response has no multipart boundary');
	if (!body.includes(`--${boundary}--`)) throw new BatchParseError('The $batch response is incomplete (no closing boundary)');
	const results: BatchPartResponse[] = [];
	for (const part of splitParts(body, boundary)) {
		const { headers, rest } = splitHeaders(part);
		const type = headers['content-type'] ?? '';
		if (/^multipart\/mixed/i.test(type)) {
			results.push(...parseBatch(rest, type));
			continue;
		}
		results.push(parseHttpResponse(rest));
	}
	return results;
}

function parseHttpResponse(text: string): BatchPartResponse {
	const lineEnd = text.search(/\r?\n/);
	const statusLine = lineEnd >= 0 ? text.slice(0, lineEnd) : text;
	const match = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(statusLine.trim());
	if (!match) throw new BatchParseError(`Unexpected $batch part: '${statusLine.slice(0, 80)}'`);
	const afterStatus = lineEnd >= 0 ? text.slice(lineEnd).replace(/^\r?\n/, '') : '';
	// A response without headers has the blank line right after the status line.
	const { headers, rest } = /^\r?\n/.test(afterStatus) ? { headers: {}, rest: afterStatus.replace(/^\r?\n/, '') } : splitHeaders(afterStatus);
	const raw = rest.trim();
	let body: unknown;
	if (raw) {
		try {
			body = JSON.parse(raw);
		} catch {
			body = raw;
		}
	}
	return { status: Number(match[1]), headers, body };
}
