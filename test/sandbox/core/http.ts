/* eslint-disable @n8n/community-nodes/no-restricted-imports, @n8n/community-nodes/require-node-api-error -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
import type { IncomingHttpHeaders } from 'node:http';

/** A request as a simulator handler sees it: the body is read in full before the handler runs. */
export interface SandboxRequest {
	method: string;
	/** Path without the query string, percent-decoding left to the handler (OData keys need the raw form). */
	path: string;
	/** The raw query string without the leading `?`. */
	rawQuery: string;
	/** Query parameters, decoded; repeated keys keep every value (`ids[]=1&ids[]=2`). */
	query: URLSearchParams;
	headers: IncomingHttpHeaders;
	body: Buffer;
	/** Route parameters captured by `:name` segments. */
	params: Record<string, string>;
	/** Milliseconds since the epoch on the sandbox clock when the request arrived. */
	receivedAt: number;
}

export interface SandboxResponse {
	status: number;
	headers?: Record<string, string>;
	body?: string | Buffer;
	/** Close the connection without answering (a connection reset as the client sees it). */
	destroySocket?: boolean;
}

export type Handler = (req: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

export function header(req: SandboxRequest, name: string): string | undefined {
	const value = req.headers[name.toLowerCase()];
	return Array.isArray(value) ? value.join(', ') : value;
}

export function bodyText(req: SandboxRequest): string {
	return req.body.toString('utf8');
}

/** Parses a JSON body; `undefined` for an empty body, and throws {@link BadBodyError} for one that is not JSON. */
export function bodyJson<T = unknown>(req: SandboxRequest): T | undefined {
	const text = bodyText(req).trim();
	if (text === '') return undefined;
	try {
		return JSON.parse(text) as T;
	} catch {
		throw new BadBodyError('The request body is not valid JSON.');
	}
}

export function bodyForm(req: SandboxRequest): URLSearchParams {
	return new URLSearchParams(bodyText(req));
}

export class BadBodyError extends Error {}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
	return {
		status,
		headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
		body: JSON.stringify(body),
	};
}

export function text(status: number, body: string, headers: Record<string, string> = {}): SandboxResponse {
	return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body };
}

export function empty(status: number, headers: Record<string, string> = {}): SandboxResponse {
	return { status, headers };
}

interface Route {
	method: string;
	/** The route's name in request statistics, e.g. `GET /api/3/contacts/:id`. */
	name: string;
	match: (path: string) => Record<string, string> | undefined;
	handler: Handler;
}

/**
 * A small method + path router. String patterns use `:name` for one path segment and a trailing `*` for the rest;
 * a RegExp pattern passes its named groups as params.
 */
export class Router {
	private readonly routes: Route[] = [];

	add(method: string, pattern: string | RegExp, handler: Handler, name?: string): this {
		const routeName = name ?? `${method} ${typeof pattern === 'string' ? pattern : pattern.source}`;
		this.routes.push({ method: method.toUpperCase(), name: routeName, match: compile(pattern), handler });
		return this;
	}

	get(pattern: string | RegExp, handler: Handler, name?: string) {
		return this.add('GET', pattern, handler, name);
	}
	post(pattern: string | RegExp, handler: Handler, name?: string) {
		return this.add('POST', pattern, handler, name);
	}
	put(pattern: string | RegExp, handler: Handler, name?: string) {
		return this.add('PUT', pattern, handler, name);
	}
	patch(pattern: string | RegExp, handler: Handler, name?: string) {
		return this.add('PATCH', pattern, handler, name);
	}
	delete(pattern: string | RegExp, handler: Handler, name?: string) {
		return this.add('DELETE', pattern, handler, name);
	}

	/** Finds the route for a request; `methodNotAllowed` when the path exists under another method. */
	resolve(
		method: string,
		path: string,
	): { route: { name: string; handler: Handler }; params: Record<string, string> } | { methodNotAllowed: boolean } {
		let pathMatched = false;
		for (const route of this.routes) {
			const params = route.match(path);
			if (!params) continue;
			if (route.method === method.toUpperCase()) return { route, params };
			pathMatched = true;
		}
		return { methodNotAllowed: pathMatched };
	}
}

function compile(pattern: string | RegExp): (path: string) => Record<string, string> | undefined {
	if (pattern instanceof RegExp) {
		return (path) => {
			const m = pattern.exec(path);
			if (!m) return undefined;
			return { ...(m.groups ?? {}) };
		};
	}
	const parts = pattern.split('/').filter(Boolean);
	return (path) => {
		const segments = path.split('/').filter(Boolean);
		const params: Record<string, string> = {};
		for (let i = 0; i < parts.length; i++) {
			const part = parts[i];
			if (part === '*') {
				params['*'] = segments.slice(i).join('/');
				return params;
			}
			const segment = segments[i];
			if (segment === undefined) return undefined;
			if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(segment);
			else if (part !== segment) return undefined;
		}
		return segments.length === parts.length ? params : undefined;
	};
}
