/**
 * The single HTTP entry to ActiveCampaign. Every request of both nodes goes through {@link acRequest}: the base URL
 * comes from the credential, the account's rate limiter (5 requests per second, shared by every execution in this
 * process) grants each attempt, transient failures are retried a bounded number of times, and failures become
 * NodeApiErrors with ActiveCampaign's own message and without the API key.
 */
import {
	NodeOperationError,
	sleep,
	type IDataObject,
	type IExecuteFunctions,
	type IHookFunctions,
	type IHttpRequestMethods,
	type IHttpRequestOptions,
	type ILoadOptionsFunctions,
	type IPollFunctions,
	type IWebhookFunctions,
} from 'n8n-workflow';

import { isPreview, previewWriteError } from '../../shared/preview';
import { countRequest } from '../../shared/report';
import { isTransient, wasNotProcessed, type HttpFailure } from '../../shared/transport/failure';
import { limiterFor, type RateLimiter } from '../../shared/transport/rateLimiter';
import { DEFAULT_RETRY_POLICY, READ_RETRY_POLICY, withRetry } from '../../shared/transport/retry';
import { MALFORMED, toNodeApiError } from './errors';

export const CREDENTIAL_NAME = 'activeCampaignSyncApi';

export type AcContext = IExecuteFunctions | IPollFunctions | ILoadOptionsFunctions | IHookFunctions | IWebhookFunctions;

/** ActiveCampaign's documented limit: 5 requests per second per account, whichever key or integration sends them. */
export const ACCOUNT_REQUESTS_PER_SECOND = 5;

/** The bulk importer's own per-minute limit is answered with 400 "Rate limit exceeded"; retried after the minute. */
const BULK_RATE_LIMIT_WAIT_MS = 59_500;

const rateOverrides = new Map<string, number>();

/**
 * Changes the request rate used for one account (API URL). For embedding and tests against a simulator that
 * allows more; real ActiveCampaign accounts allow 5 per second on every plan. `undefined` restores the default.
 */
export function setAccountRequestsPerSecond(apiUrl: string, requestsPerSecond: number | undefined): void {
	const key = normalizeApiUrl(apiUrl);
	if (requestsPerSecond === undefined) rateOverrides.delete(key);
	else rateOverrides.set(key, requestsPerSecond);
}

export function normalizeApiUrl(apiUrl: string): string {
	return String(apiUrl ?? '')
		.trim()
		.replace(/\/+$/, '')
		.replace(/\/api\/3$/, '');
}

/** The shared limiter of the account behind this API URL. */
export function accountLimiter(apiUrl: string): RateLimiter {
	const key = normalizeApiUrl(apiUrl);
	return limiterFor(`activecampaign:${key}`, rateOverrides.get(key) ?? ACCOUNT_REQUESTS_PER_SECOND, 1000);
}

interface Credentials {
	apiUrl: string;
	apiKey: string;
}

const credentialCache = new WeakMap<object, Promise<Credentials>>();

async function credentialsOf(context: AcContext): Promise<Credentials> {
	let cached = credentialCache.get(context);
	if (!cached) {
		cached = (async () => {
			const data = await context.getCredentials(CREDENTIAL_NAME);
			return { apiUrl: normalizeApiUrl(String(data.apiUrl ?? '')), apiKey: String(data.apiKey ?? '') };
		})();
		credentialCache.set(context, cached);
		cached.catch(() => credentialCache.delete(context));
	}
	return await cached;
}

/** The account's API URL (for limiter keys and cache keys). */
export async function accountUrl(context: AcContext): Promise<string> {
	return (await credentialsOf(context)).apiUrl;
}

export interface AcRequest {
	method: IHttpRequestMethods;
	/** Path after the API URL: `/api/3/contacts`, `/admin/api.php`. */
	path: string;
	qs?: IDataObject;
	/** JSON body, or a URL-encoded string when `form` is set. */
	body?: IDataObject | IDataObject[] | string;
	form?: boolean;
	/** Set on per-item requests: the error then names the item. */
	itemIndex?: number;
	/** `POST /import/bulk_import`: its 400 "Rate limit exceeded" is retried after the minute. */
	bulkImport?: boolean;
	/**
	 * Whether sending the request twice does no harm. Defaults to true for GET, PUT and DELETE, false for POST. A POST
	 * that is an upsert by a natural key (contact/sync by email, bulk import, custom object record by external id) or
	 * whose repetition is answered harmlessly sets it. A request that is not repeatable is retried only when the
	 * failure proves ActiveCampaign did not act on it (429, a connection never made), never after a 5xx, a reset or
	 * a timeout: those can come after the campaign was sent or the contact added to the automation.
	 */
	repeatable?: boolean;
	/** Answer `undefined` for a 404 instead of failing. */
	allowNotFound?: boolean;
	/** Statuses answered to the caller (status and body) instead of failing, once retries are over. */
	passStatuses?: number[];
}

export interface AcResponse<T> {
	status: number;
	body: T;
}

function isBulkRateLimit(failure: HttpFailure): boolean {
	if (failure.status !== 400) return false;
	const body = failure.body as { message?: unknown } | undefined;
	return typeof body?.message === 'string' && /rate limit exceeded/i.test(body.message);
}

/** Sends one request to ActiveCampaign and returns the status and the parsed body. */
export async function acRequestFull<T = IDataObject>(this: AcContext, request: AcRequest): Promise<AcResponse<T> | undefined> {
	if (request.method !== 'GET' && isPreview(this)) throw previewWriteError(this.getNode(), request.method, request.path);
	const { apiUrl, apiKey } = await credentialsOf(this);
	const limiter = accountLimiter(apiUrl);
	const repeatable = request.repeatable ?? (request.method === 'GET' || request.method === 'PUT' || request.method === 'DELETE');
	const options: IHttpRequestOptions = {
		method: request.method,
		url: `${apiUrl}${request.path}`,
		qs: request.qs,
		json: !request.form,
		returnFullResponse: true,
	};
	if (request.body !== undefined) {
		options.body = request.body as IHttpRequestOptions['body'];
		if (request.form) options.headers = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
	}

	const outcome = await withRetry(
		async () => {
			await limiter.acquire();
			countRequest(this, 'activeCampaign');
			const response = (await this.helpers.httpRequestWithAuthentication.call(this, CREDENTIAL_NAME, {
				...options,
				headers: options.headers ? { ...options.headers } : undefined,
			})) as { body: unknown; statusCode: number };
			let body = response.body;
			if (typeof body === 'string' && body.trim() !== '') {
				try {
					body = JSON.parse(body);
				} catch {
					// Marked like a network failure so the retry policy can tell it apart (retried on idempotent requests).
					throw Object.assign(new NodeOperationError(this.getNode(), 'ActiveCampaign sent a response that is not valid JSON'), {
						code: MALFORMED,
					});
				}
			}
			return { status: response.statusCode, body: (body === '' ? undefined : body) as T };
		},
		{
			...(request.method === 'GET' ? READ_RETRY_POLICY : DEFAULT_RETRY_POLICY),
			repeatable,
			// The bulk importer's "Rate limit exceeded" is answered before anything is queued.
			notProcessed: (failure) => wasNotProcessed(failure) || (request.bulkImport === true && isBulkRateLimit(failure)),
			shouldRetry: (failure) =>
				isTransient(failure) ||
				(request.bulkImport === true && isBulkRateLimit(failure)) ||
				(failure.networkCode === MALFORMED && repeatable),
			delayHint: (failure) => (request.bulkImport && isBulkRateLimit(failure) ? BULK_RATE_LIMIT_WAIT_MS : undefined),
			onRetry: (failure, _attempt, delayMs) => {
				// The account's budget is shared: when ActiveCampaign says "slow down", every caller waits, and this
				// process sends more slowly for a while (another worker or integration spends the same budget).
				if (failure.status === 429 || failure.status === 503) limiter.throttled(delayMs);
			},
		},
	);
	if (outcome.ok) return outcome.value;
	if (request.allowNotFound && outcome.failure.status === 404) return undefined;
	if (request.passStatuses?.includes(outcome.failure.status) && !outcome.exhausted) {
		return { status: outcome.failure.status, body: outcome.failure.body as T };
	}
	const failure =
		outcome.failure.networkCode === MALFORMED
			? { ...outcome.failure, body: { message: 'ActiveCampaign sent a response that is not valid JSON' } }
			: outcome.failure;
	throw toNodeApiError(this.getNode(), failure, {
		method: request.method,
		path: request.path,
		itemIndex: request.itemIndex,
		exhausted: outcome.exhausted,
		attempts: outcome.attempts,
		secrets: [apiKey],
		repeatable,
	});
}

/** Sends one request and returns the parsed body (`undefined` for a 404 when `allowNotFound`). */
export async function acRequest<T = IDataObject>(this: AcContext, request: AcRequest): Promise<T> {
	const response = await acRequestFull.call<AcContext, [AcRequest], Promise<AcResponse<T> | undefined>>(this, request);
	return response?.body as T;
}

export interface PageOptions {
	/** Stop after this many items (undefined: all). */
	max?: number;
	/** Items per request, never above 100 (ActiveCampaign's maximum). */
	pageSize?: number;
	itemIndex?: number;
	/** Offset paging only: start here (the items before were read already). */
	offset?: number;
	/** Contact pages only: read this path instead of /api/3/contacts (the same list with a query of its own). */
	path?: string;
}

export const MAX_PAGE_SIZE = 100;

/**
 * A page whose attempts ran out on a transient failure (an outage rather than a hiccup) is asked for again after
 * these pauses, from where the read stopped, before the read gives up.
 */
const PAGE_PAUSES_MS = [30_000, 60_000];

function transientFailure(error: unknown): boolean {
	const code = Number((error as { httpCode?: unknown }).httpCode);
	return !Number.isFinite(code) || code === 0 || code === 429 || code >= 500;
}

async function readPage(context: AcContext, request: AcRequest): Promise<IDataObject> {
	for (let round = 0; ; round++) {
		const outcome = await acRequest.call<AcContext, [AcRequest], Promise<IDataObject>>(context, request).then(
			(body) => ({ body }),
			(error: unknown) => ({ error: error as Error }),
		);
		if ('body' in outcome) return outcome.body;
		if (round >= PAGE_PAUSES_MS.length || !transientFailure(outcome.error)) throw outcome.error;
		await sleep(PAGE_PAUSES_MS[round]);
	}
}

/**
 * Offset paging: `limit` + `offset`, until a short page, `meta.total` or `max`. Yields one page of items at a time.
 */
export async function* acPagesByOffset(
	context: AcContext,
	path: string,
	key: string,
	qs: IDataObject = {},
	options: PageOptions = {},
): AsyncGenerator<IDataObject[]> {
	for await (const { items } of acPageBodiesByOffset(context, path, key, qs, options)) yield items;
}

/** acPagesByOffset with each page's whole body: what `include` side-loaded beside the items comes with them. */
export async function* acPageBodiesByOffset(
	context: AcContext,
	path: string,
	key: string,
	qs: IDataObject = {},
	options: PageOptions = {},
): AsyncGenerator<{ items: IDataObject[]; body: IDataObject }> {
	const pageSize = Math.min(options.pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
	let offset = options.offset ?? 0;
	let returned = 0;
	for (;;) {
		const want = options.max === undefined ? pageSize : Math.min(pageSize, options.max - returned);
		if (want <= 0) return;
		const body = await readPage(context, {
			method: 'GET',
			path,
			qs: { ...qs, limit: want, offset },
			itemIndex: options.itemIndex,
		});
		const items = (Array.isArray(body?.[key]) ? body[key] : []) as IDataObject[];
		if (items.length) yield { items, body };
		returned += items.length;
		offset += items.length;
		const total = totalOf(body);
		if (items.length === 0) return;
		if (total !== undefined ? offset >= total : items.length < want) return;
	}
}

/**
 * A whole offset-paged list when reading it takes no more requests than `perRecord` reads of one record each (its
 * first page says how long it is); undefined when reading record by record is cheaper.
 */
export async function acListIfCheaper(
	context: AcContext,
	path: string,
	key: string,
	perRecord: number,
	options: PageOptions & { qs?: IDataObject } = {},
): Promise<IDataObject[] | undefined> {
	const qs = options.qs ?? {};
	const first = await readPage(context, { method: 'GET', path, qs: { ...qs, limit: MAX_PAGE_SIZE, offset: 0 }, itemIndex: options.itemIndex });
	const items = (Array.isArray(first?.[key]) ? [...(first[key] as IDataObject[])] : []) as IDataObject[];
	const total = totalOf(first);
	if (items.length < MAX_PAGE_SIZE || (total !== undefined && total <= items.length)) return items;
	if (total !== undefined && Math.ceil(total / MAX_PAGE_SIZE) - 1 > perRecord) return undefined;
	for await (const page of acPagesByOffset(context, path, key, qs, { itemIndex: options.itemIndex, offset: items.length })) items.push(...page);
	return items;
}

/** All items of an offset-paged list. */
export async function acAllByOffset(
	context: AcContext,
	path: string,
	key: string,
	qs: IDataObject = {},
	options: PageOptions = {},
): Promise<IDataObject[]> {
	const all: IDataObject[] = [];
	for await (const page of acPagesByOffset(context, path, key, qs, options)) all.push(...page);
	return all;
}

/**
 * Keyset paging of contacts, the fast way on large accounts: `orders[id]=ASC` and `id_greater=<last id>`, never
 * more than 100 per request, no cap on the total.
 */
export async function* acContactPages(
	context: AcContext,
	qs: IDataObject = {},
	options: PageOptions = {},
): AsyncGenerator<IDataObject[]> {
	for await (const { contacts } of acContactPageBodies(context, qs, options)) yield contacts;
}

/** acContactPages with each page's whole body: what `include` side-loaded beside the contacts comes with them. */
export async function* acContactPageBodies(
	context: AcContext,
	qs: IDataObject = {},
	options: PageOptions = {},
): AsyncGenerator<{ contacts: IDataObject[]; body: IDataObject }> {
	const pageSize = Math.min(options.pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
	let lastId = 0;
	let returned = 0;
	for (;;) {
		const want = options.max === undefined ? pageSize : Math.min(pageSize, options.max - returned);
		if (want <= 0) return;
		const body = await readPage(context, {
			method: 'GET',
			path: options.path ?? '/api/3/contacts',
			qs: { ...qs, 'orders[id]': 'ASC', id_greater: lastId, limit: want },
			itemIndex: options.itemIndex,
		});
		const contacts = (Array.isArray(body?.contacts) ? body.contacts : []) as IDataObject[];
		if (contacts.length) yield { contacts, body };
		returned += contacts.length;
		// meta.total counts the contacts matching this request (after id_greater): more remain while it exceeds the page.
		const total = totalOf(body);
		if (contacts.length === 0) return;
		if (total !== undefined ? total <= contacts.length : contacts.length < want) return;
		const next = Number(contacts[contacts.length - 1].id);
		if (!Number.isFinite(next) || next <= lastId) return;
		lastId = next;
	}
}

function totalOf(body: IDataObject | undefined): number | undefined {
	const meta = body?.meta as IDataObject | undefined;
	const total = meta?.total === undefined || meta.total === null ? undefined : Number(meta.total);
	return total !== undefined && Number.isFinite(total) ? total : undefined;
}
