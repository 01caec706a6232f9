/**
 * The single HTTP entry to the Dataverse Web API. Every request of the Dynamics 365 node and trigger goes through
 * {@link DataverseClient}: it picks the credential, adds the OData headers, keeps at most `x-ms-dop-hint` requests
 * in flight (default 4, never above 50), waits out 429 `Retry-After` for everyone, retries 5xx and connection resets
 * a bounded number of times, pages with `Prefer: odata.maxpagesize` + `@odata.nextLink`, sends `$batch` requests and
 * turns failures into NodeApiErrors with Dataverse's code and message (never with tokens or secrets).
 */
import {
	NodeApiError,
	NodeOperationError,
	sleep,
	type IDataObject,
	type IExecuteFunctions,
	type IHookFunctions,
	type IHttpRequestMethods,
	type IHttpRequestOptions,
	type ILoadOptionsFunctions,
	type INode,
	type IPollFunctions,
	type IWebhookFunctions,
} from 'n8n-workflow';

import { previewWriteError } from '../../shared/preview';
import { countRequest } from '../../shared/report';
import { globalSyncOf, type GlobalSync } from '../../shared/sync/globalSync';
import { isTransient, retryAfterMs, type HttpFailure } from '../../shared/transport/failure';
import { redact } from '../../shared/transport/redact';
import { DEFAULT_RETRY_POLICY, withRetry } from '../../shared/transport/retry';
import { getTable, listTables, type MetadataGet, type MetadataGetAll, type TableInfo, type TableSummary } from './metadata';
import { newBoundary, parseBatch, writeBatch, BatchParseError, type BatchOperation, type BatchPartResponse } from './batch';
import { API_PATH, connectionIdentity, connectionOf, credentialSecrets, environmentProblem } from './connection';
import { isLastingSignInFailure, signInFailure, toNodeApiError, toSignInError, type FailureContext } from './errors';
import { encodeQuery } from './odata';

export type DataverseContext = IExecuteFunctions | IPollFunctions | ILoadOptionsFunctions | IHookFunctions | IWebhookFunctions;

/** The credential type of each value of the node's `authentication` parameter. */
export const CREDENTIAL_TYPES: ReadonlyMap<string, string> = new Map([
	['clientCredentials', 'dynamics365ClientCredentialsApi'],
	['oAuth2', 'dynamics365OAuth2Api'],
]);

export { API_PATH };
export const MAX_PAGE_SIZE = 5000;
export const MAX_BATCH_OPERATIONS = 1000;
const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 50;
const MALFORMED = 'Dynamics 365 returned an unparsable response body';
/** How often a failing client reads its credential again for tokens fetched or refreshed meanwhile. */
const CREDENTIAL_REREAD_MS = 5000;

export interface DataverseRequest {
	method?: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
	/** Relative to the service root (`contacts(…)`), or an absolute URL (a nextLink). */
	path: string;
	query?: Record<string, string | number | undefined>;
	/** A JSON body, or a string sent as is with `contentType`. */
	body?: unknown;
	contentType?: string;
	headers?: Record<string, string>;
	/** `Prefer` preferences, joined with commas. */
	prefer?: string[];
	/** Whether an unparsable 2xx body may be fetched again (GETs are). */
	idempotent?: boolean;
	itemIndex?: number;
	table?: string;
	action?: string;
}

export interface DataverseResponse<T = IDataObject> {
	status: number;
	headers: Record<string, string>;
	body: T;
}

export type RequestOutcome<T> =
	| { ok: true; response: DataverseResponse<T>; attempts: number }
	| { ok: false; failure: HttpFailure; error: NodeApiError; attempts: number };

export interface ListOptions {
	/** Records per page (`Prefer: odata.maxpagesize`), at most 5,000. */
	pageSize?: number;
	/** Stop after this many records (undefined: all). */
	limit?: number;
	prefer?: string[];
	/** Called before each further page; returning false stops (the nextLink is returned to continue later). */
	shouldContinue?: () => boolean;
	itemIndex?: number;
	table?: string;
}

export interface ListResult<T = IDataObject> {
	records: T[];
	/** Set when more records exist than were read (limit reached or stopped). */
	nextLink?: string;
	deltaLink?: string;
	pages: number;
}

const whoAmICache = new Map<string, { at: number; value: Promise<string> }>();

/** Counts of what this client sent (tests and logs). */
export interface ClientStats {
	requests: number;
	retries: number;
}

export class DataverseClient {
	private inFlight = 0;
	private limit = DEFAULT_CONCURRENCY;
	private readonly waiters: Array<() => void> = [];
	private pausedUntil = 0;
	private warmedUp = false;
	private warmingUp?: Promise<void>;
	/** The error of a sign-in that cannot succeed in this execution; every later request fails with it. */
	private signInError?: unknown;
	private whoAmIPromise?: Promise<string>;
	readonly stats: ClientStats = { requests: 0, retries: 0 };

	/**
	 * Every secret value this client has seen: the credential's at creation, and every token fetched or refreshed since
	 * (read from the Authorization header n8n added to a request, and from the credential again after a failure).
	 * Error texts and output are redacted against the current set, whenever the token changed.
	 */
	private readonly secrets = new Set<string>();
	private credentialReadAt = 0;

	private constructor(
		private readonly ctx: DataverseContext,
		readonly credentialType: string,
		/** The environment URL without a trailing slash, e.g. https://org.crm.dynamics.com. */
		readonly environment: string,
		secrets: string[],
		/** Names this credential's view of the environment: the key of its metadata and WhoAmI caches. */
		readonly identity: string,
		/** The integration's switch, from the same credential (shared/sync/globalSync.ts). */
		readonly globalSync: GlobalSync,
	) {
		this.addSecrets(secrets);
	}

	static async create(ctx: DataverseContext, authentication: string): Promise<DataverseClient> {
		const credentialType = CREDENTIAL_TYPES.get(authentication) ?? CREDENTIAL_TYPES.get('clientCredentials')!;
		const credentials = (await ctx.getCredentials(credentialType)) as IDataObject;
		// The same cleaning as the credential's own token request and test (connection.ts).
		const connection = connectionOf(credentials, authentication === 'oAuth2' ? 'organizations' : '');
		// The other fields are the token request's business (the credential names what is wrong with them).
		const problem = environmentProblem(connection);
		if (problem) {
			throw new NodeOperationError(ctx.getNode(), problem, { description: 'Fix the Environment URL in the Dynamics 365 credential.' });
		}
		let globalSync: GlobalSync;
		try {
			globalSync = globalSyncOf(credentials);
		} catch (error) {
			throw new NodeOperationError(ctx.getNode(), (error as Error).message);
		}
		const credentialId = ctx.getNode().credentials?.[credentialType]?.id ?? undefined;
		const identity = connectionIdentity(credentialType, connection, credentialId);
		return new DataverseClient(ctx, credentialType, connection.environmentUrl, credentialSecrets(credentials), identity, globalSync);
	}

	private addSecrets(values: Iterable<unknown>): void {
		for (const value of values) {
			if (typeof value !== 'string') continue;
			const secret = value.trim();
			if (secret.length >= 4) this.secrets.add(secret);
		}
	}

	/**
	 * Learns the token a request went out with: n8n writes the Authorization header into the request options (client
	 * credentials) or into the options of the request it sent (OAuth2, found on the error), after fetching or
	 * refreshing the token if needed.
	 */
	private learnFromRequest(options: IHttpRequestOptions, error?: unknown): void {
		const headerSets: unknown[] = [options.headers];
		let current: unknown = error;
		for (let depth = 0; current && typeof current === 'object' && depth < 6; depth++) {
			headerSets.push((current as { config?: { headers?: unknown } }).config?.headers);
			const next: unknown = (current as { cause?: unknown }).cause ?? (current as { reason?: unknown }).reason;
			if (next === current) break;
			current = next;
		}
		for (const headers of headerSets) {
			if (!headers || typeof headers !== 'object') continue;
			const plain =
				typeof (headers as { toJSON?: unknown }).toJSON === 'function'
					? ((headers as { toJSON: () => unknown }).toJSON() as Record<string, unknown>)
					: (headers as Record<string, unknown>);
			for (const [name, value] of Object.entries(plain ?? {})) {
				if (name.toLowerCase() !== 'authorization' || typeof value !== 'string') continue;
				this.addSecrets([value.replace(/^\s*(bearer|basic)\s+/i, '')]);
			}
		}
	}

	/**
	 * Reads the credential again after a failure: n8n stores a token it fetched or refreshed with it. At most every
	 * few seconds (a run with many failing items reads it a few times, not once per item); a token that changed in
	 * between is also learned from the request itself.
	 */
	private async learnFromCredential(): Promise<void> {
		if (Date.now() - this.credentialReadAt < CREDENTIAL_REREAD_MS) return;
		this.credentialReadAt = Date.now();
		try {
			this.addSecrets(credentialSecrets((await this.ctx.getCredentials(this.credentialType)) as IDataObject));
		} catch {
			// The secrets known so far still apply.
		}
	}

	get serviceRoot(): string {
		return `${this.environment}${API_PATH}`;
	}

	/** The path of the service root (`/api/data/v9.2`, after any path of the environment URL). */
	get servicePath(): string {
		try {
			return `${new URL(this.environment).pathname.replace(/\/+$/, '')}${API_PATH}`;
		} catch {
			return API_PATH;
		}
	}

	get node(): INode {
		return this.ctx.getNode();
	}

	get concurrency(): number {
		return this.limit;
	}

	/** Removes this connection's secrets (every token it has used so far, and any bearer token) from a text. */
	redact(text: string): string {
		return redact(text, this.secrets);
	}

	urlFor(path: string, query?: Record<string, string | number | undefined>): string {
		const base = /^https?:\/\//i.test(path) ? path : `${this.serviceRoot}/${path.replace(/^\//, '')}`;
		const qs = query ? encodeQuery(query) : '';
		if (!qs) return base;
		return `${base}${base.includes('?') ? '&' : '?'}${qs}`;
	}

	// --- concurrency ------------------------------------------------------------------------------------------

	private async acquire(): Promise<void> {
		if (this.inFlight < this.limit) {
			this.inFlight++;
			return;
		}
		await new Promise<void>((resolve) => this.waiters.push(resolve));
	}

	private release(): void {
		const next = this.waiters.shift();
		if (next) next();
		else this.inFlight--;
	}

	private setLimit(hint: number): void {
		const limit = Math.max(1, Math.min(MAX_CONCURRENCY, Math.floor(hint)));
		if (limit === this.limit) return;
		this.limit = limit;
		while (this.inFlight < this.limit && this.waiters.length) {
			this.inFlight++;
			this.waiters.shift()!();
		}
	}

	private async waitIfPaused(): Promise<void> {
		for (;;) {
			const wait = this.pausedUntil - Date.now();
			if (wait <= 0) return;
			await sleep(wait);
		}
	}

	// --- requests ---------------------------------------------------------------------------------------------

	/**
	 * The first request of a client goes alone: it fetches the access token (client credentials) once, instead of
	 * every parallel request fetching its own. Until one request got through, the others wait; a sign-in that cannot
	 * succeed (a wrong secret, a token endpoint that answers without a token) fails every request of this client with
	 * the same error, without asking the token endpoint again.
	 */
	private async sendOnce(req: DataverseRequest): Promise<DataverseResponse<unknown>> {
		while (!this.warmedUp) {
			if (this.signInError) throw this.signInError;
			if (this.warmingUp) {
				await this.warmingUp;
				continue;
			}
			let done!: () => void;
			this.warmingUp = new Promise<void>((resolve) => (done = resolve));
			const sending = this.sendNow(req);
			// Registered before the caller's await: the state is set before anyone goes on.
			void sending
				.then(
					() => {
						this.warmedUp = true;
					},
					(error: unknown) => {
						const signIn = signInFailure(error);
						if (signIn && isLastingSignInFailure(signIn)) this.signInError = error;
						// Any other failure came after a successful sign-in (or is transient): the others may go.
						else if (!signIn) this.warmedUp = true;
					},
				)
				.finally(() => {
					this.warmingUp = undefined;
					done();
				});
			return await sending;
		}
		return await this.sendNow(req);
	}

	private async sendNow(req: DataverseRequest): Promise<DataverseResponse<unknown>> {
		await this.waitIfPaused();
		await this.acquire();
		try {
			const method = (req.method ?? 'GET') as IHttpRequestMethods;
			const headers: IDataObject = {
				Accept: 'application/json',
				'OData-MaxVersion': '4.0',
				'OData-Version': '4.0',
				...(req.prefer?.length ? { Prefer: req.prefer.join(',') } : {}),
				...(req.headers ?? {}),
			};
			let body: string | undefined;
			if (req.body !== undefined) {
				body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
				headers['Content-Type'] = req.contentType ?? 'application/json; charset=utf-8';
			}
			const options: IHttpRequestOptions = {
				method,
				url: this.urlFor(req.path, req.query),
				headers,
				json: false,
				encoding: 'text',
				returnFullResponse: true,
				...(body !== undefined ? { body } : {}),
			};
			this.stats.requests++;
			countRequest(this.ctx, 'dynamics');
			const request = this.ctx.helpers.httpRequestWithAuthentication.call(this.ctx, this.credentialType, options) as Promise<{
				body: unknown;
				headers: Record<string, unknown>;
				statusCode: number;
			}>;
			// Registered before the await below, so it runs first: the error is redacted with the token it carries.
			request.catch((error: unknown) => this.learnFromRequest(options, error));
			const raw = await request;
			this.learnFromRequest(options);
			const responseHeaders: Record<string, string> = {};
			for (const [k, v] of Object.entries(raw.headers ?? {})) {
				if (v !== undefined && v !== null) responseHeaders[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
			}
			const hint = Number(responseHeaders['x-ms-dop-hint']);
			if (Number.isFinite(hint) && hint > 0) this.setLimit(hint);
			const text = typeof raw.body === 'string' ? raw.body : raw.body === undefined || raw.body === null ? '' : raw.body;
			let parsed: unknown = text;
			const type = responseHeaders['content-type'] ?? '';
			if (typeof text === 'string' && text.trim() !== '' && (/json/i.test(type) || /^\s*[[{]/.test(text)) && !/multipart/i.test(type)) {
				try {
					parsed = JSON.parse(text);
				} catch {
					throw Object.assign(new Error(MALFORMED), {
						response: { status: raw.statusCode, headers: responseHeaders, data: text.slice(0, 200) },
					});
				}
			} else if (typeof text === 'string' && text.trim() === '') {
				parsed = undefined;
			}
			return { status: raw.statusCode, headers: responseHeaders, body: parsed };
		} finally {
			this.release();
		}
	}

	/** A preview's client (shared/preview.ts): it reads, and refuses to send anything that writes. */
	previewOnly = false;

	/** Sends a request with retries; the outcome carries a NodeApiError when it failed. */
	async trySend<T = IDataObject>(req: DataverseRequest): Promise<RequestOutcome<T>> {
		const method = req.method ?? 'GET';
		// Reads in a batch are reads; everything else that is not a GET writes.
		if (this.previewOnly && method !== 'GET' && req.action !== 'read') throw previewWriteError(this.ctx.getNode(), method, req.path);
		const idempotent = req.idempotent ?? method === 'GET';
		const outcome = await withRetry(async () => await this.sendOnce(req), {
			...DEFAULT_RETRY_POLICY,
			shouldRetry: (failure) =>
				isTransient(failure) || (idempotent && failure.status >= 200 && failure.status < 300 && failure.message === MALFORMED),
			onRetry: (failure) => {
				this.stats.retries++;
				if (failure.status === 429) {
					// Throttling applies to the user, not to this request: everyone waits.
					const wait = Math.min(retryAfterMs(failure) ?? 1000, DEFAULT_RETRY_POLICY.maxDelayMs);
					this.pausedUntil = Math.max(this.pausedUntil, Date.now() + wait);
				}
			},
		});
		if (outcome.ok) return { ok: true, response: outcome.value as DataverseResponse<T>, attempts: outcome.attempts };
		await this.learnFromCredential();
		const signIn = signInFailure(outcome.error);
		const error = signIn ? toSignInError(this.node, signIn, { itemIndex: req.itemIndex, secrets: this.secrets }) : this.error(outcome.failure, req);
		return { ok: false, failure: outcome.failure, error, attempts: outcome.attempts };
	}

	/** Sends a request with retries; throws a NodeApiError when it failed. */
	async send<T = IDataObject>(req: DataverseRequest): Promise<DataverseResponse<T>> {
		const outcome = await this.trySend<T>(req);
		if (!outcome.ok) throw outcome.error;
		return outcome.response;
	}

	error(failure: HttpFailure, context: FailureContext & { itemIndex?: number } = {}): NodeApiError {
		return toNodeApiError(this.node, failure, { ...context, secrets: [...this.secrets] });
	}

	async get<T = IDataObject>(path: string, query?: Record<string, string | number | undefined>, extra: Partial<DataverseRequest> = {}): Promise<T> {
		return (await this.send<T>({ ...extra, method: 'GET', path, query })).body;
	}

	/**
	 * Reads a collection page by page: `Prefer: odata.maxpagesize` on every request and `@odata.nextLink` followed
	 * unchanged. Never `$top`.
	 */
	async list<T = IDataObject>(path: string, query: Record<string, string | number | undefined>, options: ListOptions = {}): Promise<ListResult<T>> {
		const pageSize = Math.max(1, Math.min(MAX_PAGE_SIZE, options.pageSize ?? MAX_PAGE_SIZE, options.limit ?? MAX_PAGE_SIZE));
		const prefer = [`odata.maxpagesize=${pageSize}`, ...(options.prefer ?? [])];
		const records: T[] = [];
		let next: string | undefined;
		let deltaLink: string | undefined;
		let pages = 0;
		let url: string | undefined = path;
		let first = true;
		while (url) {
			const body: IDataObject = await this.get<IDataObject>(url, first ? query : undefined, {
				prefer,
				itemIndex: options.itemIndex,
				table: options.table,
				action: 'read',
			});
			first = false;
			pages++;
			for (const record of (body.value as T[]) ?? []) {
				if (options.limit !== undefined && records.length >= options.limit) break;
				records.push(record);
			}
			next = typeof body['@odata.nextLink'] === 'string' ? (body['@odata.nextLink'] as string) : undefined;
			deltaLink = typeof body['@odata.deltaLink'] === 'string' ? (body['@odata.deltaLink'] as string) : deltaLink;
			if (options.limit !== undefined && records.length >= options.limit) break;
			if (next && options.shouldContinue && !options.shouldContinue()) break;
			url = next;
			if (!next) break;
		}
		return { records, nextLink: next, deltaLink, pages };
	}

	/**
	 * Sends operations in `$batch` requests of at most `chunkSize` (≤ 1,000), without change sets and with
	 * `Prefer: odata.continue-on-error`, so every operation gets its own response. Batches that fail as a whole
	 * are retried by the transport; operations whose own response is transient (429, 5xx) are sent again in a
	 * later batch, a bounded number of times. Returns one response per operation, in order; an operation that
	 * never succeeded carries its last failure.
	 */
	async batch(
		operations: readonly BatchOperation[],
		options: { chunkSize?: number; table?: string; idempotent?: boolean; action?: 'read' | 'write' } = {},
	): Promise<BatchPartResponse[]> {
		const chunkSize = Math.max(1, Math.min(MAX_BATCH_OPERATIONS, options.chunkSize ?? MAX_BATCH_OPERATIONS));
		const results: BatchPartResponse[] = new Array(operations.length);
		let pending = operations.map((_, i) => i);
		for (let round = 1; pending.length; round++) {
			const chunks: number[][] = [];
			for (let i = 0; i < pending.length; i += chunkSize) chunks.push(pending.slice(i, i + chunkSize));
			let retryAfter = 0;
			const retry: number[] = [];
			await Promise.all(
				chunks.map(async (indexes) => {
					const parts = await this.sendBatch(indexes.map((i) => operations[i]), options);
					indexes.forEach((opIndex, k) => {
						const part = parts[k];
						if (round > 1) part.retried = true;
						results[opIndex] = part;
						if (round < DEFAULT_RETRY_POLICY.maxAttempts && isTransientPart(part)) {
							retry.push(opIndex);
							const hinted = Number(part.headers['retry-after']);
							retryAfter = Math.max(retryAfter, Number.isFinite(hinted) ? hinted * 1000 : 0);
						}
					});
				}),
			);
			pending = retry.sort((a, b) => a - b);
			if (pending.length) {
				this.stats.retries += pending.length;
				await sleep(Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, retryAfter || DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (round - 1)));
			}
		}
		return results;
	}

	private async sendBatch(ops: BatchOperation[], options: { table?: string; idempotent?: boolean; action?: 'read' | 'write' }): Promise<BatchPartResponse[]> {
		const boundary = newBoundary('batch');
		const body = writeBatch(ops, this.servicePath, boundary);
		const idempotent = options.idempotent ?? ops.every((op) => op.method === 'GET' || (op.method === 'PATCH' && op.headers?.['If-Match'] === '*'));
		for (let attempt = 1; ; attempt++) {
			const outcome = await this.trySend<unknown>({
				method: 'POST',
				path: '$batch',
				body,
				contentType: `multipart/mixed; boundary=${boundary}`,
				prefer: ['odata.continue-on-error'],
				idempotent,
				table: options.table,
				action: options.action ?? 'write',
			});
			if (!outcome.ok) {
				// The whole batch failed after the transport's retries: every operation reports that failure.
				const failure = outcome.failure;
				return ops.map(() => ({
					status: failure.status || 503,
					headers: failure.headers,
					body: failure.body ?? { error: { message: failure.message } },
					batchFailed: true,
					requestError: outcome.error,
				}));
			}
			const text = typeof outcome.response.body === 'string' ? outcome.response.body : JSON.stringify(outcome.response.body ?? '');
			try {
				const parts = parseBatch(text, outcome.response.headers['content-type']);
				// A batch that stopped early (no continue-on-error support) leaves the rest unanswered: mark them so
				// they are sent again.
				return ops.map((_, i) => {
					const part = parts[i] ?? {
						status: 424,
						headers: {},
						body: { error: { code: '', message: 'The operation was not executed because an earlier one in the batch failed.' } },
					};
					if (outcome.attempts > 1 || attempt > 1) part.retried = true;
					return part;
				});
			} catch (error) {
				if (!(error instanceof BatchParseError) || !idempotent || attempt >= 3) {
					return ops.map(() => ({
						status: 502,
						headers: {},
						body: { error: { code: '', message: `Could not read the $batch response: ${(error as Error).message}` } },
					}));
				}
			}
		}
	}

	// --- identity and metadata --------------------------------------------------------------------------------

	/** The systemuserid of this connection's user (WhoAmI), cached for ten minutes per credential. */
	async whoAmI(): Promise<string> {
		if (!this.whoAmIPromise) {
			const hit = whoAmICache.get(this.identity);
			if (hit && Date.now() - hit.at < 10 * 60 * 1000) {
				this.whoAmIPromise = hit.value;
			} else {
				const value = this.get<IDataObject>('WhoAmI').then((r) => String(r.UserId).toLowerCase());
				whoAmICache.set(this.identity, { at: Date.now(), value });
				value.catch(() => whoAmICache.delete(this.identity));
				this.whoAmIPromise = value;
			}
		}
		return await this.whoAmIPromise;
	}

	private readonly metadataGet: MetadataGet = async (path, query) => await this.get<Record<string, unknown>>(path, query);

	/** Metadata reads sent together in one `$batch` (a table's eleven reads in one request). */
	private readonly metadataGetAll: MetadataGetAll = async (requests) => {
		const parts = await this.batch(
			requests.map((r) => ({ method: 'GET', url: this.urlFor(r.path, r.query).slice(this.serviceRoot.length + 1) })),
			{ idempotent: true, action: 'read' },
		);
		return parts.map((part) =>
			!part.batchFailed && part.status < 300 && part.body && typeof part.body === 'object'
				? { ok: true, body: part.body as Record<string, unknown> }
				: { ok: false, status: part.status, error: part.requestError ?? this.error(partFailure(part)) },
		);
	};

	async table(name: string): Promise<TableInfo> {
		try {
			return await getTable(this.identity, this.metadataGet, this.metadataGetAll, name);
		} catch (error) {
			throw error instanceof NodeApiError ? error : new NodeOperationError(this.node, this.redact((error as Error).message));
		}
	}

	async tables(): Promise<TableSummary[]> {
		return await listTables(this.identity, this.metadataGet);
	}
}

/** A batch part worth sending again: throttled, a server failure, or not executed. */
export function isTransientPart(part: BatchPartResponse): boolean {
	if (part.batchFailed) return false;
	return part.status === 429 || part.status === 424 || (part.status >= 500 && part.status !== 501);
}

/** The failure of a batch part, in the shape the error helpers read. */
export function partFailure(part: BatchPartResponse): HttpFailure {
	return { status: part.status, headers: part.headers, body: part.body, message: `HTTP ${part.status}` };
}

/** The record id of a create response: `OData-EntityId` (204) or the primary key in a representation (201). */
export function createdId(part: { headers: Record<string, string>; body?: unknown }, primaryId?: string): string | undefined {
	const entityId = part.headers['odata-entityid'] ?? part.headers.location;
	const match = entityId ? /\(([0-9a-fA-F-]{36})\)\s*$/.exec(entityId) : null;
	if (match) return match[1].toLowerCase();
	if (primaryId && part.body && typeof part.body === 'object') {
		const id = (part.body as IDataObject)[primaryId];
		if (typeof id === 'string') return id.toLowerCase();
	}
	return undefined;
}
