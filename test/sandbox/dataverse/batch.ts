/* eslint-disable @n8n/community-nodes/require-node-api-error -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * $batch: a multipart/mixed reader and writer per "Execute batch operations using the Web API" (OData 4.0 §11.7).
 * Change sets run atomically with Content-ID ($n) references; the batch stops at the first failure unless
 * `Prefer: odata.continue-on-error` is sent.
 */
import { randomUUID } from 'node:crypto';

import type { Api, ApiRequest, ApiResponse, CallContext } from './api';
import { DataverseError, errors } from './errors';

export const MAX_BATCH_OPERATIONS = 1000;

interface HttpPart {
	kind: 'request';
	contentId?: string;
	method: string;
	url: string;
	headers: Record<string, string>;
	body: string;
}

interface ChangeSet {
	kind: 'changeset';
	parts: HttpPart[];
}

type BatchItem = HttpPart | ChangeSet;

const STATUS_TEXT: Record<number, string> = {
	200: 'OK',
	201: 'Created',
	204: 'No Content',
	304: 'Not Modified',
	400: 'Bad Request',
	401: 'Unauthorized',
	403: 'Forbidden',
	404: 'Not Found',
	405: 'Method Not Allowed',
	412: 'Precondition Failed',
	413: 'Payload Too Large',
	429: 'Too Many Requests',
	500: 'Internal Server Error',
	501: 'Not Implemented',
	503: 'Service Unavailable',
};

export function boundaryOf(contentType: string | undefined): string | undefined {
	if (!contentType || !/^multipart\/mixed/i.test(contentType.trim())) return undefined;
	const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
	return m ? (m[1] ?? m[2]) : undefined;
}

/** Splits a multipart body into its parts (the text between boundary lines). Accepts CRLF and LF line ends. */
function splitParts(body: string, boundary: string): string[] {
	const lines = body.split(/\r?\n/);
	const parts: string[] = [];
	let current: string[] | undefined;
	let closed = false;
	for (const line of lines) {
		const trimmed = line.trimEnd();
		if (trimmed === `--${boundary}--`) {
			if (current) parts.push(current.join('\r\n'));
			current = undefined;
			closed = true;
			break;
		}
		if (trimmed === `--${boundary}`) {
			if (current) parts.push(current.join('\r\n'));
			current = [];
			continue;
		}
		if (current) current.push(line);
	}
	if (!closed) throw errors.odata(`The multipart body is missing the closing delimiter '--${boundary}--'.`);
	return parts;
}

function readHeaders(lines: string[], start: number): { headers: Record<string, string>; next: number } {
	const headers: Record<string, string> = {};
	let i = start;
	for (; i < lines.length; i++) {
		const line = lines[i];
		if (line.trim() === '') {
			i++;
			break;
		}
		const colon = line.indexOf(':');
		if (colon < 0) throw errors.odata(`The batch part header '${line}' is not valid.`);
		headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
	}
	return { headers, next: i };
}

function parseHttpPart(text: string, partHeaders: Record<string, string>): HttpPart {
	const ct = partHeaders['content-type'] ?? '';
	if (!/^application\/http/i.test(ct)) throw errors.odata(`The content type '${ct}' of a batch part is not valid; expected 'application/http'.`);
	const lines = text.split('\r\n');
	let i = 0;
	while (i < lines.length && lines[i].trim() === '') i++;
	const requestLine = lines[i] ?? '';
	const m = /^(GET|POST|PATCH|PUT|DELETE)\s+(\S+)(?:\s+HTTP\/1\.[01])?\s*$/i.exec(requestLine.trim());
	if (!m) throw errors.odata(`The request line '${requestLine}' of a batch part is not valid.`);
	const { headers, next } = readHeaders(lines, i + 1);
	const body = lines.slice(next).join('\r\n').replace(/\s+$/, '');
	return { kind: 'request', contentId: partHeaders['content-id'], method: m[1].toUpperCase(), url: m[2], headers, body };
}

export function parseBatch(body: string, boundary: string): BatchItem[] {
	const items: BatchItem[] = [];
	for (const part of splitParts(body, boundary)) {
		const lines = part.split('\r\n');
		const { headers, next } = readHeaders(lines, 0);
		const rest = lines.slice(next).join('\r\n');
		const inner = boundaryOf(headers['content-type']);
		if (inner) {
			const parts: HttpPart[] = [];
			for (const sub of splitParts(rest, inner)) {
				const subLines = sub.split('\r\n');
				const h = readHeaders(subLines, 0);
				parts.push(parseHttpPart(subLines.slice(h.next).join('\r\n'), h.headers));
			}
			items.push({ kind: 'changeset', parts });
		} else {
			items.push(parseHttpPart(rest, headers));
		}
	}
	return items;
}

/** Turns a part's URL (absolute, /api/data/v9.2/..., service-root relative or $n) into path + query. */
function relativeUrl(url: string): { path: string; rawQuery: string } {
	let u = url.replace(/^https?:\/\/[^/]+/i, '');
	const marker = '/api/data/v9.2/';
	const at = u.indexOf(marker);
	if (at >= 0) u = u.slice(at + marker.length);
	else if (u === '/api/data/v9.2') u = '';
	u = u.replace(/^\//, '');
	const q = u.indexOf('?');
	return q >= 0 ? { path: u.slice(0, q), rawQuery: u.slice(q + 1) } : { path: u, rawQuery: '' };
}

function writeHttpResponse(r: ApiResponse, contentId?: string): string {
	const lines = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
	if (contentId !== undefined) lines.push(`Content-ID: ${contentId}`);
	lines.push('', `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? ''}`.trimEnd());
	for (const [k, v] of Object.entries(r.headers)) lines.push(`${k}: ${v}`);
	lines.push('', r.body ?? '');
	return lines.join('\r\n');
}

class ChangeSetFailed extends Error {
	constructor(readonly response: ApiResponse) {
		super('change set failed');
	}
}

export class BatchProcessor {
	constructor(private readonly api: Api) {}

	private toRequest(part: HttpPart, refs?: Map<string, string>): ApiRequest {
		const parsed = relativeUrl(part.url);
		const rawQuery = parsed.rawQuery;
		let path = parsed.path;
		if (refs && /^\$[A-Za-z0-9_]+/.test(path)) {
			const m = /^(\$[A-Za-z0-9_]+)(.*)$/.exec(path)!;
			const resolved = refs.get(m[1]);
			if (!resolved) throw errors.odata(`Content-ID Reference: '${m[1]}' does not exist in the batch context.`);
			path = `${resolved}${m[2]}`;
		}
		return { method: part.method, path, rawQuery, headers: part.headers, body: part.body };
	}

	/** Handles POST $batch. */
	execute(req: ApiRequest, call: CallContext): ApiResponse {
		const boundary = boundaryOf(req.headers['content-type']);
		if (!boundary) {
			throw errors.odata("The content type of a batch request must be 'multipart/mixed' with a boundary parameter.");
		}
		const items = parseBatch(req.body, boundary);
		const operations = items.reduce((n, item) => n + (item.kind === 'changeset' ? item.parts.length : 1), 0);
		if (operations > MAX_BATCH_OPERATIONS) {
			throw new DataverseError(400, '0x80060888', `The number of requests in the batch (${operations}) exceeds the maximum of ${MAX_BATCH_OPERATIONS}.`);
		}
		for (const item of items) {
			if (item.kind !== 'changeset') continue;
			for (const part of item.parts) {
				if (part.method === 'GET') {
					throw errors.odata(
						`An invalid HTTP method '${part.method}' was detected for a request in a change set. Requests in change sets only support the HTTP methods 'POST', 'PUT', 'DELETE', and 'PATCH'.`,
					);
				}
			}
		}
		const continueOnError = /odata\.continue-on-error/i.test(req.headers.prefer ?? '') && !/odata\.continue-on-error\s*=\s*false/i.test(req.headers.prefer ?? '');
		const outer = `batchresponse_${randomUUID()}`;
		const chunks: string[] = [];
		let failure: ApiResponse | undefined;
		const inner: CallContext = { caller: call.caller, inBatch: true };

		for (const item of items) {
			if (item.kind === 'request') {
				let response: ApiResponse;
				try {
					response = this.api.handle(this.toRequest(item), inner);
				} catch (error) {
					if (!(error instanceof DataverseError)) throw error;
					response = this.api.errorResponse(error);
				}
				chunks.push(writeHttpResponse(response));
				if (response.status >= 400) {
					failure = failure ?? response;
					if (!continueOnError) break;
				}
				continue;
			}
			const csBoundary = `changesetresponse_${randomUUID()}`;
			const refs = new Map<string, string>();
			const responses: Array<{ r: ApiResponse; id?: string }> = [];
			try {
				this.api.engine.store.transaction(() => {
					for (const part of item.parts) {
						let response: ApiResponse;
						try {
							response = this.api.handle(this.toRequest(part, refs), {
								...inner,
								resolveContentId: (ref) => refs.get(ref),
							});
						} catch (error) {
							if (!(error instanceof DataverseError)) throw error;
							response = this.api.errorResponse(error);
						}
						if (response.status >= 400) throw new ChangeSetFailed(response);
						const entityId = response.headers['OData-EntityId'];
						if (part.contentId !== undefined && entityId) {
							refs.set(`$${part.contentId}`, relativeUrl(entityId).path);
						}
						responses.push({ r: response, id: part.contentId });
					}
				});
			} catch (error) {
				if (!(error instanceof ChangeSetFailed)) throw error;
				chunks.push(writeHttpResponse(error.response));
				failure = failure ?? error.response;
				if (!continueOnError) break;
				continue;
			}
			const body = [
				...responses.map(({ r, id }) => `--${csBoundary}\r\n${writeHttpResponse(r, id)}`),
				`--${csBoundary}--`,
			].join('\r\n');
			chunks.push(`Content-Type: multipart/mixed; boundary=${csBoundary}\r\n\r\n${body}`);
		}

		const text = `${chunks.map((c) => `--${outer}\r\n${c}`).join('\r\n')}\r\n--${outer}--\r\n`;
		const status = failure && !continueOnError ? failure.status : 200;
		return {
			status,
			headers: { 'OData-Version': '4.0', 'Content-Type': `multipart/mixed; boundary=${outer}` },
			body: text,
		};
	}
}
