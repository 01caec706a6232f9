/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/require-node-api-error -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The Microsoft Dataverse (Dynamics 365) Web API simulator: token endpoint, `/api/data/v9.2`, service protection
 * limits per user, and control endpoints under `/__sandbox/`. See README.md in this folder.
 */
import { randomUUID } from 'node:crypto';

import type { Clock } from '../core/clock';
import { bodyJson, json, Router, type SandboxRequest, type SandboxResponse } from '../core/http';
import { ConcurrencyGauge, SlidingWindowCounter, SlidingWindowSum } from '../core/limits';
import { SeededRandom } from '../core/random';
import type { Simulator } from '../core/server';
import { Api, JSON_TYPE, type ApiRequest } from './api';
import { Auth, type ClientConfig } from './auth';
import { BatchProcessor, boundaryOf, parseBatch } from './batch';
import { bulkHandler } from './bulk';
import { Engine, type Caller, type EngineState } from './engine';
import { DataverseError, errors, THROTTLE } from './errors';
import { Schema, stableGuid, type TableDef } from './metadata';
import { parsePrefer } from './odata/query';
import { addSystemUser, fullCaller, IDS, opContext, seedBulk, seedDemo, seedSystem, type BulkCounts } from './seed';
import { Store } from './store';
import { DataverseWebhooks, type DataverseDelivery } from './webhooks';

export { IDS, DEMO_EPOCH } from './seed';

export interface DataverseLimits {
	/** Service protection limits on or off (on by default, with the documented values). */
	enabled: boolean;
	/** Requests per user per window (0x80072322). */
	requestsPerWindow: number;
	windowSeconds: number;
	/** Combined execution time per user per window, in ms (0x80072321). */
	executionTimeMsPerWindow: number;
	/** Concurrent requests per user (0x80072326). */
	concurrentRequests: number;
	/** Simulated server time added per operation (a $batch or *Multiple counts each operation), in ms. */
	executionMsPerOperation: number;
	/** Artificial latency of every API request, in ms (lets tests hold requests in flight). */
	latencyMs: number;
	/** The x-ms-dop-hint response header value (recommended degree of parallelism). */
	dopHint: number;
}

export const DEFAULT_LIMITS: DataverseLimits = {
	enabled: true,
	requestsPerWindow: 6000,
	windowSeconds: 300,
	executionTimeMsPerWindow: 1200000,
	concurrentRequests: 52,
	executionMsPerOperation: 0,
	latencyMs: 0,
	dopHint: 4,
};

export interface DataverseOptions {
	seed?: string;
}

export interface DataverseSimulator extends Simulator {
	setBaseUrl(url: string): void;
	readonly engine: Engine;
	readonly auth: Auth;
	/** Ids of the demo records by key (`contact:maria.garcia@contoso.com`, `account:contoso`, ...). */
	readonly demoIds: Record<string, string>;
	/** Webhook calls made so far (newest last), and a wait for those under way. */
	webhookDeliveries(): DataverseDelivery[];
	waitForWebhooks(): Promise<void>;
	/** Adds a client (and its application user); returns the systemuserid. */
	addClient(config: { clientId: string; clientSecret: string; deniedPrivileges?: string[]; fullName?: string; redirectUris?: string[] }): string;
}

/**
 * A fault for requests matching a pattern, a given number of times (`/__sandbox/scripted-faults`). Unlike the
 * probabilistic faults of the core server, these hit chosen requests, and `lose` runs the request first: its effect
 * is applied and only the answer is lost (the connection closes), as when a network path drops after the commit.
 */
export interface ScriptedFault {
	/** Regular expression on `METHOD /api/data/v9.2/path?query` (query percent-decoded). */
	match: string;
	/** `lose`: handled, then no answer; `throttle`: 429 + Retry-After, not handled; `error`: `status` (default 503), not handled. */
	fault: 'lose' | 'throttle' | 'error';
	/** How many matching requests it hits (default 1). */
	times?: number;
	status?: number;
	/** The Retry-After header, as sent (seconds or an HTTP date): `throttle` default 1, `error` none unless given. */
	retryAfter?: string;
	/**
	 * `error` only: the error message echoes the caller's access token as it arrived, without the `Bearer ` prefix
	 * (as a misconfigured gateway or a debug build may do), to test that clients never show it.
	 */
	echoToken?: boolean;
}

interface UserLimits {
	requests: SlidingWindowCounter;
	execution: SlidingWindowSum;
	concurrency: ConcurrencyGauge;
}

const API_PREFIX = '/api/data/v9.2';

class DataverseSimulatorImpl implements DataverseSimulator {
	readonly name = 'dataverse';
	readonly router = new Router();
	readonly controlRouter = new Router();
	readonly schema = new Schema();
	readonly store: Store;
	readonly engine: Engine;
	readonly api: Api;
	readonly auth: Auth;
	readonly webhooks: DataverseWebhooks;
	private readonly batch: BatchProcessor;
	private limits: DataverseLimits = { ...DEFAULT_LIMITS };
	private perUser = new Map<string, UserLimits>();
	private readonly callers = new WeakMap<SandboxRequest, Caller>();
	private readonly entered = new WeakSet<SandboxRequest>();
	private readonly operations = new WeakMap<SandboxRequest, number>();
	private seedName: string;
	demoIds: Record<string, string> = {};
	private random = new SeededRandom('dataverse');
	private scripted: Array<ScriptedFault & { remaining: number; hits: number }> = [];

	constructor(
		private readonly clock: Clock,
		options: DataverseOptions,
	) {
		this.seedName = options.seed ?? 'demo';
		this.store = new Store(() => clock.now());
		const state: EngineState = {
			changeTracking: new Map(),
			changeTrackingExpiryDays: 7,
			businessUnitId: IDS.businessUnit,
			organizationId: IDS.organization,
			defaultCurrencyId: IDS.usd,
		};
		this.engine = new Engine(this.schema, this.store, clock, this.random, state);
		this.webhooks = new DataverseWebhooks(this.engine, this.schema);
		this.store.onWrite = (write) => this.webhooks.onWrite(write);
		this.api = new Api(this.engine);
		this.batch = new BatchProcessor(this.api);
		this.api.batch = (req, call) => this.batch.execute(req, call);
		this.api.bulk = bulkHandler(this.api);
		this.api.whoAmI = (caller) => ({ BusinessUnitId: IDS.businessUnit, UserId: caller.userId, OrganizationId: IDS.organization });
		this.api.addAlternateKey = (table, schemaName, attributes) => this.addKey(table, attributes, schemaName);
		this.auth = new Auth(clock, {
			findUser: (hint) => {
				const h = hint.toLowerCase();
				for (const row of this.store.rows('systemuser').values()) {
					if (String(row.values.domainname ?? '').toLowerCase() === h || String(row.values.internalemailaddress ?? '').toLowerCase() === h) return row.id;
				}
				return undefined;
			},
			exists: (id) => this.store.get('systemuser', id) !== undefined,
		});
		this.routes();
		this.controlRoutes();
		this.resetState(this.seedName);
	}

	/** Webhook calls made so far (newest last). */
	webhookDeliveries(): DataverseDelivery[] {
		return [...this.webhooks.deliveries];
	}

	/** Resolves when every webhook call started so far has finished. */
	waitForWebhooks(): Promise<void> {
		return this.webhooks.drain();
	}

	setBaseUrl(url: string): void {
		this.engine.baseUrl = url;
		this.auth.baseUrl = url;
	}

	// -------------------------------------------------------------------------------------------------------------
	// State

	private resetState(seed: string): void {
		this.random = new SeededRandom(`dataverse:${seed}`);
		this.engine.random = this.random;
		this.store.clear();
		for (const t of this.schema.tables) this.store.setKeys(t.logicalName, []);
		this.engine.state.changeTracking = new Map(this.schema.tables.map((t) => [t.logicalName, t.changeTrackingDefault]));
		this.engine.state.changeTrackingExpiryDays = 7;
		this.auth.reset();
		this.limits = { ...DEFAULT_LIMITS };
		this.perUser = new Map();
		this.scripted = [];
		this.webhooks.reset();
		seedSystem(this.engine);
		this.addClient({ clientId: 'sandbox-client', clientSecret: 'sandbox-secret', fullName: '# sandbox-sync' });
		this.demoIds = seed === 'demo' ? seedDemo(this.engine) : {};
		this.seedName = seed;
	}

	addClient(config: { clientId: string; clientSecret: string; deniedPrivileges?: string[]; fullName?: string; redirectUris?: string[] }): string {
		const existing = this.auth.clients.get(config.clientId);
		const userId = existing?.userId ?? stableGuid(`systemuser:app:${config.clientId}`);
		if (!this.store.get('systemuser', userId)) {
			const name = config.fullName ?? `# ${config.clientId}`;
			addSystemUser(
				this.engine,
				{
					id: userId,
					firstname: '',
					lastname: name,
					domainname: `${config.clientId}@sandbox.onmicrosoft.com`,
					applicationid: stableGuid(`application:${config.clientId}`),
					accessmode: 4,
				},
				this.clock.now(),
			);
		}
		const client: ClientConfig = {
			clientId: config.clientId,
			clientSecret: config.clientSecret,
			userId,
			deniedPrivileges: config.deniedPrivileges ?? [],
			redirectUris: config.redirectUris ?? [],
		};
		this.auth.addClient(client);
		return userId;
	}

	private addKey(table: TableDef, attributes: string[], schemaName?: string) {
		for (const a of attributes) {
			const col = table.columns.get(a);
			if (!col || col.computed || !['String', 'Integer', 'Decimal', 'BigInt', 'DateTime', 'Lookup', 'Customer', 'Picklist'].includes(col.type)) {
				throw errors.invalidArgument(`The attribute '${a}' cannot be used in an entity key of '${table.logicalName}'.`);
			}
		}
		const keys = this.store.keys(table.logicalName).filter((k) => k.keyAttributes.join(',') !== attributes.join(','));
		const name = schemaName ?? `${table.logicalName}_${attributes.join('_')}`;
		const def = { logicalName: name.toLowerCase(), schemaName: name, keyAttributes: attributes, metadataId: stableGuid(`key:${table.logicalName}:${attributes.join(',')}`) };
		// Existing duplicates make the key index fail in Dataverse (EntityKeyIndexStatus Failed); reject up front here.
		const seen = new Set<string>();
		for (const row of this.store.rows(table.logicalName).values()) {
			const parts = attributes.map((a) => row.values[a]);
			if (parts.some((p) => p === null || p === undefined)) continue;
			const k = this.engine.keyStringOf(parts);
			if (seen.has(k)) throw errors.duplicateRecord();
			seen.add(k);
		}
		this.store.setKeys(table.logicalName, [...keys, def]);
		return def;
	}

	private userLimits(userId: string): UserLimits {
		let l = this.perUser.get(userId);
		if (!l) {
			l = {
				requests: new SlidingWindowCounter(this.limits.requestsPerWindow, this.limits.windowSeconds * 1000),
				execution: new SlidingWindowSum(this.limits.executionTimeMsPerWindow, this.limits.windowSeconds * 1000),
				concurrency: new ConcurrencyGauge(this.limits.concurrentRequests),
			};
			this.perUser.set(userId, l);
		}
		return l;
	}

	// -------------------------------------------------------------------------------------------------------------
	// Simulator interface

	gate(req: SandboxRequest, routeName: string): SandboxResponse | undefined {
		if (routeName.includes('oauth2')) return undefined;
		const result = this.auth.validate(req);
		if (!result.ok) return this.auth.unauthorized(result.reason);
		const client = this.auth.clients.get(result.info.clientId)!;
		const caller: Caller = {
			userId: result.info.userId,
			denied: new Set(result.info.delegated ? [] : client.deniedPrivileges),
			accessMode: Number(this.store.get('systemuser', result.info.userId)?.values.accessmode ?? 0),
		};
		this.callers.set(req, caller);
		if (!this.limits.enabled) return undefined;
		const l = this.userLimits(caller.userId);
		if (!l.concurrency.tryEnter()) return this.throttle(THROTTLE.concurrency(this.limits.concurrentRequests), 1);
		const count = l.requests.tryAdd();
		if (!count.ok) {
			l.concurrency.leave();
			return this.throttle(THROTTLE.requests(this.limits.requestsPerWindow, this.limits.windowSeconds), count.retryAfterSeconds);
		}
		const exec = l.execution.check();
		if (!exec.ok) {
			l.concurrency.leave();
			return this.throttle(THROTTLE.executionTime(this.limits.executionTimeMsPerWindow, this.limits.windowSeconds), exec.retryAfterSeconds);
		}
		this.entered.add(req);
		return undefined;
	}

	/** A `$batch` whose operations are all GETs (e.g. a table's metadata) is counted as `… $batch (reads)`. */
	routeLabel(req: SandboxRequest, routeName: string): string {
		if (!routeName.endsWith('$batch')) return routeName;
		const methods = [...req.body.toString('utf8').matchAll(/^(GET|POST|PATCH|PUT|DELETE) \S+ HTTP\/1\.[01]\s*$/gm)].map((m) => m[1]);
		return methods.length && methods.every((m) => m === 'GET') ? `${routeName} (reads)` : routeName;
	}

	afterRequest(req: SandboxRequest, _routeName: string, _status: number, ms: number): void {
		const caller = this.callers.get(req);
		if (!caller || !this.entered.has(req)) return;
		const l = this.userLimits(caller.userId);
		l.concurrency.leave();
		const ops = this.operations.get(req) ?? 1;
		l.execution.add(ms + ops * this.limits.executionMsPerOperation);
	}

	private throttle(error: DataverseError, retryAfterSeconds: number): SandboxResponse {
		return {
			status: 429,
			headers: { 'Content-Type': JSON_TYPE, 'OData-Version': '4.0', 'Retry-After': String(retryAfterSeconds) },
			body: JSON.stringify(error.toBody()),
		};
	}

	throttledResponse(retryAfterSeconds: number): SandboxResponse {
		return this.throttle(THROTTLE.requests(this.limits.requestsPerWindow, this.limits.windowSeconds), retryAfterSeconds);
	}

	/** A scripted error answer; `echoedToken` is quoted in the message (see {@link ScriptedFault.echoToken}). */
	serverErrorResponse(status: number, echoedToken?: string): SandboxResponse {
		const base =
			status === 503
				? 'The service is temporarily unavailable. Please try again later.'
				: status === 500
					? 'An unexpected error occurred.'
					: status < 500
						? `The request was rejected (status ${status}).`
						: `The gateway returned status ${status}.`;
		const message = echoedToken !== undefined ? `${base} Credential presented: ${echoedToken}` : base;
		return {
			status,
			headers: { 'Content-Type': JSON_TYPE, 'OData-Version': '4.0' },
			body: JSON.stringify({ error: { code: '0x80040216', message } }),
		};
	}

	notFoundResponse(req: SandboxRequest): SandboxResponse {
		return {
			status: 404,
			headers: { 'Content-Type': JSON_TYPE, 'OData-Version': '4.0' },
			body: JSON.stringify({ error: { code: '', message: `No HTTP resource was found that matches the request URI '${this.engine.baseUrl}${req.path}'.` } }),
		};
	}

	badBodyResponse(message: string): SandboxResponse {
		return {
			status: 400,
			headers: { 'Content-Type': JSON_TYPE, 'OData-Version': '4.0' },
			body: JSON.stringify({ error: { code: '0x80048d19', message } }),
		};
	}

	reset(options: Record<string, unknown>): void {
		const seed = typeof options.seed === 'string' ? options.seed : this.seedName;
		this.resetState(seed);
	}

	getLimits(): Record<string, unknown> {
		const usage: Record<string, unknown> = {};
		for (const [userId, l] of this.perUser) {
			usage[userId] = { requests: l.requests.count, executionMs: l.execution.total, inFlight: l.concurrency.inFlight, peakConcurrency: l.concurrency.peak };
		}
		return { ...this.limits, usage };
	}

	setLimits(patch: Record<string, unknown>): void {
		const next = { ...this.limits };
		for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof DataverseLimits>) {
			if (key in patch) (next as Record<string, unknown>)[key] = patch[key];
		}
		this.limits = next;
		if (patch.resetUsage === true) this.perUser = new Map();
		for (const l of this.perUser.values()) {
			l.requests.limit = next.requestsPerWindow;
			l.requests.windowMs = next.windowSeconds * 1000;
			l.execution.limit = next.executionTimeMsPerWindow;
			l.execution.windowMs = next.windowSeconds * 1000;
			l.concurrency.limit = next.concurrentRequests;
		}
	}

	summary(): Record<string, unknown> {
		const records: Record<string, number> = {};
		for (const t of this.schema.tables) records[t.entitySetName] = this.store.count(t.logicalName);
		return { seed: this.seedName, records };
	}

	// -------------------------------------------------------------------------------------------------------------
	// HTTP

	private routes(): void {
		this.router
			.post('/:tenant/oauth2/v2.0/token', (req) => this.auth.token(req, req.params.tenant), 'POST /{tenant}/oauth2/v2.0/token')
			.get('/:tenant/oauth2/v2.0/authorize', (req) => this.auth.authorize(req, req.params.tenant), 'GET /{tenant}/oauth2/v2.0/authorize');
		const groups: Array<[string, RegExp]> = [
			['$batch', /^\/api\/data\/v9\.2\/\$batch$/],
			['EntityDefinitions', /^\/api\/data\/v9\.2\/EntityDefinitions(?:[(/].*)?$/],
			['WhoAmI', /^\/api\/data\/v9\.2\/WhoAmI(?:\(\))?$/],
			['Merge', /^\/api\/data\/v9\.2\/Merge$/],
			...this.schema.tables.map((t): [string, RegExp] => [t.entitySetName, new RegExp(`^/api/data/v9\\.2/${t.entitySetName}(?:[(/].*)?$`)]),
			['*', /^\/api\/data\/v9\.2(?:\/.*)?$/],
		];
		for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
			for (const [name, pattern] of groups) {
				this.router.add(method, pattern, (req) => this.handleApi(req), `${method} ${API_PREFIX}/${name}`);
			}
		}
	}

	private async handleApi(req: SandboxRequest): Promise<SandboxResponse> {
		const caller = this.callers.get(req);
		if (!caller) return this.auth.unauthorized('missing');
		if (this.limits.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.limits.latencyMs));
		const headers: Record<string, string | undefined> = {};
		for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
		const scripted = this.takeScriptedFault(req);
		if (scripted?.fault === 'throttle') {
			const throttled = this.throttledResponse(1);
			return { ...throttled, headers: { ...throttled.headers, 'Retry-After': scripted.retryAfter ?? '1' } };
		}
		if (scripted?.fault === 'error') {
			const echoed = scripted.echoToken ? (headers.authorization ?? '').replace(/^Bearer\s+/i, '').trim() : undefined;
			const failed = this.serverErrorResponse(scripted.status ?? 503, echoed);
			return scripted.retryAfter ? { ...failed, headers: { ...failed.headers, 'Retry-After': scripted.retryAfter } } : failed;
		}
		const path = req.path.slice(API_PREFIX.length).replace(/^\//, '');
		const apiReq: ApiRequest = { method: req.method, path, rawQuery: req.rawQuery, headers, body: req.body.toString('utf8') };
		this.operations.set(req, this.countOperations(apiReq));
		const response = this.api.handle(apiReq, { caller });
		const l = this.limits.enabled ? this.userLimits(caller.userId) : undefined;
		const extra: Record<string, string> = { 'x-ms-dop-hint': String(this.limits.dopHint), REQ_ID: randomUUID() };
		if (l) {
			extra['x-ms-ratelimit-burst-remaining-xrm-requests'] = String(Math.max(0, this.limits.requestsPerWindow - l.requests.count));
			extra['x-ms-ratelimit-time-remaining-xrm-requests'] = (Math.max(0, this.limits.executionTimeMsPerWindow - l.execution.total) / 1000).toFixed(2);
		}
		if (scripted?.fault === 'lose') return { status: 0, destroySocket: true };
		return { status: response.status, headers: { ...response.headers, ...extra }, body: response.body };
	}

	/** The first scripted fault matching this request, counted as used. */
	private takeScriptedFault(req: SandboxRequest): ScriptedFault | undefined {
		let query = req.rawQuery;
		try {
			query = decodeURIComponent(req.rawQuery);
		} catch {
			// keep the raw query
		}
		const line = `${req.method} ${req.path}${query ? `?${query}` : ''}`;
		const rule = this.scripted.find((r) => r.remaining > 0 && new RegExp(r.match).test(line));
		if (!rule) return undefined;
		rule.remaining--;
		rule.hits++;
		return rule;
	}

	private countOperations(req: ApiRequest): number {
		try {
			if (req.path === '$batch') {
				const boundary = boundaryOf(req.headers['content-type']);
				if (!boundary) return 1;
				return parseBatch(req.body, boundary).reduce((n, item) => n + (item.kind === 'changeset' ? item.parts.length : 1), 0);
			}
			if (/Microsoft\.Dynamics\.CRM\.(Create|Update|Upsert)Multiple$/.test(req.path)) {
				const targets = (JSON.parse(req.body) as { Targets?: unknown[] }).Targets;
				return Array.isArray(targets) ? Math.max(1, targets.length) : 1;
			}
		} catch {
			return 1;
		}
		return 1;
	}

	// -------------------------------------------------------------------------------------------------------------
	// Control endpoints (free, not throttled)

	private controlRoutes(): void {
		const sales = () => opContext(fullCaller(IDS.salesUser));
		const tableOf = (set: string): TableDef => {
			const t = this.schema.tableBySet(set) ?? this.schema.table(set);
			if (!t) throw new DataverseError(404, '0x8006088a', `Resource not found for the segment '${set}'.`);
			return t;
		};
		const guard = (fn: (req: SandboxRequest) => SandboxResponse) => (req: SandboxRequest) => {
			try {
				return fn(req);
			} catch (error) {
				if (error instanceof DataverseError) return json(error.status, error.toBody());
				throw error;
			}
		};
		const rowJson = (t: TableDef, id: string) => {
			const row = this.store.get(t.logicalName, id);
			if (!row) throw errors.recordNotFound(t.logicalName, id);
			const prefs = parsePrefer('odata.include-annotations="*"');
			return this.engine.serialize(t, row, undefined, prefs, { caller: fullCaller(IDS.system), prefs });
		};
		this.controlRouter
			.post(
				'/seed',
				guard((req) => {
					const body = bodyJson<BulkCounts & { seed?: string }>(req) ?? {};
					const created = seedBulk(this.engine, body, body.seed);
					return json(200, { ok: true, created, ...this.summary() });
				}),
			)
			.get(
				'/state/:set',
				guard((req) => {
					const t = tableOf(req.params.set);
					const rows = [...this.store.rows(t.logicalName).values()];
					const skip = Number(req.query.get('skip') ?? 0);
					const top = Number(req.query.get('top') ?? rows.length);
					return json(200, { count: rows.length, value: rows.slice(skip, skip + top).map((r) => rowJson(t, r.id)) });
				}),
			)
			.get(
				'/state/:set/:id',
				guard((req) => json(200, rowJson(tableOf(req.params.set), req.params.id))),
			)
			.post(
				'/ui/merge',
				guard((req) => {
					const body = bodyJson<{ table?: string; target?: string; subordinate?: string; updateContent?: Record<string, unknown>; performParentingChecks?: boolean }>(req) ?? {};
					if (!body.table || !body.target || !body.subordinate) return json(400, { error: 'table, target and subordinate are required' });
					const t = tableOf(body.table);
					const result = this.engine.merge(
						t,
						{ targetId: body.target, subordinateId: body.subordinate, updateContent: body.updateContent, performParentingChecks: body.performParentingChecks === true },
						sales(),
					);
					return json(200, {
						target: rowJson(t, result.target.id),
						subordinate: rowJson(t, result.subordinate.id),
						reparented: result.reparented.map((r) => ({ table: r.table, id: r.id })),
					});
				}),
			)
			.post(
				'/ui/leads/:id/qualify',
				guard((req) => {
					const body = bodyJson<{ createAccount?: boolean; createContact?: boolean; createOpportunity?: boolean; status?: number }>(req) ?? {};
					const lead = this.store.get('lead', req.params.id);
					if (!lead) throw errors.recordNotFound('lead', req.params.id);
					const created = this.engine.qualifyLead(
						lead,
						{ createAccount: body.createAccount === true, createContact: body.createContact === true, createOpportunity: body.createOpportunity === true, status: body.status ?? 3 },
						sales(),
					);
					const ids: Record<string, string> = {};
					for (const row of created) ids[row.table] = row.id;
					return json(200, { created: created.map((r) => ({ table: r.table, id: r.id })), ...ids });
				}),
			)
			.post(
				'/ui/:set',
				guard((req) => {
					const t = tableOf(req.params.set);
					const ctx = sales();
					const row = this.store.transaction(() => this.engine.create(t, bodyJson<Record<string, unknown>>(req) ?? {}, ctx));
					return json(201, rowJson(t, row.id));
				}),
			)
			.patch(
				'/ui/:set/:id',
				guard((req) => {
					const t = tableOf(req.params.set);
					const row = this.store.get(t.logicalName, req.params.id);
					if (!row) throw errors.recordNotFound(t.logicalName, req.params.id);
					const ctx = sales();
					this.store.transaction(() => this.engine.update(t, row, bodyJson<Record<string, unknown>>(req) ?? {}, ctx));
					return json(200, rowJson(t, row.id));
				}),
			)
			.delete(
				'/ui/:set/:id',
				guard((req) => {
					const t = tableOf(req.params.set);
					const row = this.store.get(t.logicalName, req.params.id);
					if (!row) throw errors.recordNotFound(t.logicalName, req.params.id);
					const ctx = sales();
					this.store.transaction(() => this.engine.remove(t, row, ctx));
					return json(200, { ok: true });
				}),
			)
			.get('/webhooks/deliveries', async () => {
				await this.webhooks.drain();
				return json(200, { value: this.webhookDeliveries() });
			})
			.get('/clients', () =>
				json(200, {
					value: [...this.auth.clients.values()].map((c) => ({ clientId: c.clientId, userId: c.userId, deniedPrivileges: c.deniedPrivileges, redirectUris: c.redirectUris })),
				}),
			)
			.post(
				'/clients',
				guard((req) => {
					const body = bodyJson<{ clientId?: string; clientSecret?: string; deniedPrivileges?: string[]; fullName?: string; redirectUris?: string[] }>(req) ?? {};
					if (!body.clientId || !body.clientSecret) return json(400, { error: 'clientId and clientSecret are required' });
					const userId = this.addClient({ ...body, clientId: body.clientId, clientSecret: body.clientSecret });
					return json(201, { clientId: body.clientId, userId, deniedPrivileges: body.deniedPrivileges ?? [] });
				}),
			)
			.patch(
				'/clients/:id',
				guard((req) => {
					const client = this.auth.clients.get(req.params.id);
					if (!client) return json(404, { error: `No client ${req.params.id}` });
					const body = bodyJson<Partial<ClientConfig>>(req) ?? {};
					if (body.clientSecret) client.clientSecret = body.clientSecret;
					if (body.deniedPrivileges) client.deniedPrivileges = body.deniedPrivileges;
					if (body.redirectUris) client.redirectUris = body.redirectUris;
					return json(200, { clientId: client.clientId, userId: client.userId, deniedPrivileges: client.deniedPrivileges });
				}),
			)
			.delete('/clients/:id', (req) => json(this.auth.clients.delete(req.params.id) ? 200 : 404, { ok: true }))
			.get('/users', () => {
				const t = this.schema.table('systemuser')!;
				return json(200, { value: [...this.store.rows('systemuser').values()].map((r) => rowJson(t, r.id)) });
			})
			.post(
				'/users',
				guard((req) => {
					const body = bodyJson<{ firstname?: string; lastname?: string; domainname?: string; accessmode?: number }>(req) ?? {};
					if (!body.domainname) return json(400, { error: 'domainname is required' });
					const id = stableGuid(`systemuser:${body.domainname.toLowerCase()}`);
					if (!this.store.get('systemuser', id)) {
						addSystemUser(
							this.engine,
							{ id, firstname: body.firstname ?? '', lastname: body.lastname ?? body.domainname, domainname: body.domainname, accessmode: body.accessmode ?? 0 },
							this.clock.now(),
						);
					}
					return json(201, rowJson(this.schema.table('systemuser')!, id));
				}),
			)
			.post(
				'/tokens',
				guard((req) => {
					const body = bodyJson<{ clientId?: string; userId?: string }>(req) ?? {};
					const client = this.auth.clients.get(body.clientId ?? 'sandbox-client');
					if (!client) return json(404, { error: `No client ${body.clientId}` });
					const { token, info } = this.auth.issue(client.clientId, body.userId ?? client.userId, `${this.engine.baseUrl}/.default`, 'sandbox-tenant', body.userId !== undefined);
					return json(200, { access_token: token, expires_at: new Date(info.expiresAt).toISOString() });
				}),
			)
			.get('/auth', () => json(200, this.auth.settings))
			.put('/auth', (req) => {
				Object.assign(this.auth.settings, bodyJson<Record<string, unknown>>(req) ?? {});
				return json(200, this.auth.settings);
			})
			.get('/change-tracking', () =>
				json(200, { tables: Object.fromEntries(this.engine.state.changeTracking), expiryDays: this.engine.state.changeTrackingExpiryDays }),
			)
			.put(
				'/change-tracking',
				guard((req) => {
					const body = bodyJson<{ tables?: Record<string, boolean>; expiryDays?: number }>(req) ?? {};
					for (const [name, on] of Object.entries(body.tables ?? {})) {
						const t = tableOf(name);
						this.engine.state.changeTracking.set(t.logicalName, on === true);
					}
					if (typeof body.expiryDays === 'number') this.engine.state.changeTrackingExpiryDays = body.expiryDays;
					return json(200, { tables: Object.fromEntries(this.engine.state.changeTracking), expiryDays: this.engine.state.changeTrackingExpiryDays });
				}),
			)
			.get('/keys', () => {
				const out: Record<string, unknown> = {};
				for (const t of this.schema.tables) out[t.logicalName] = this.store.keys(t.logicalName);
				return json(200, out);
			})
			.post(
				'/keys',
				guard((req) => {
					const body = bodyJson<{ table?: string; attributes?: string[]; schemaName?: string }>(req) ?? {};
					if (!body.table || !Array.isArray(body.attributes) || body.attributes.length === 0) return json(400, { error: 'table and attributes are required' });
					const def = this.addKey(tableOf(body.table), body.attributes, body.schemaName);
					return json(201, def);
				}),
			)
			.delete(
				'/keys/:table',
				guard((req) => {
					const t = tableOf(req.params.table);
					this.store.setKeys(t.logicalName, []);
					return json(200, { ok: true });
				}),
			)
			.get('/demo-ids', () => json(200, this.demoIds))
			.get('/scripted-faults', () => json(200, { value: this.scripted }))
			.post('/scripted-faults', (req) => {
				const body = bodyJson<ScriptedFault>(req);
				if (!body?.match || !['lose', 'throttle', 'error'].includes(body.fault)) {
					return json(400, { error: 'match and fault (lose, throttle or error) are required' });
				}
				try {
					new RegExp(body.match);
				} catch {
					return json(400, { error: `match is not a regular expression: ${body.match}` });
				}
				const rule = { ...body, remaining: body.times ?? 1, hits: 0 };
				this.scripted.push(rule);
				return json(201, rule);
			})
			.delete('/scripted-faults', () => {
				this.scripted = [];
				return json(200, { value: [] });
			});
	}
}

export function createDataverseSimulator(clock: Clock, options: DataverseOptions = {}): DataverseSimulator {
	return new DataverseSimulatorImpl(clock, options);
}

/** The documented default client of the sandbox. */
export const DEFAULT_CLIENT = { clientId: 'sandbox-client', clientSecret: 'sandbox-secret', tenantId: 'sandbox-tenant' } as const;

// Re-exported for tests.
export { errors };
