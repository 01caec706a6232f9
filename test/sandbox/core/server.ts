/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { Clock } from './clock';
import {
	BadBodyError,
	bodyJson,
	json,
	Router,
	type Handler,
	type SandboxRequest,
	type SandboxResponse,
} from './http';
import { SeededRandom } from './random';

/**
 * Faults a test can inject into API requests (never into control requests). Rates are probabilities per request,
 * drawn from a seeded generator so a run repeats. Faults are decided before the handler runs, so a faulted request
 * never changes state: a client that retries it cannot create a duplicate.
 */
export interface FaultSettings {
	/** Share of requests answered 429 with Retry-After (the simulator's own throttling envelope). */
	rate429: number;
	/** Share of requests answered with a 500/502/503/504. */
	rate5xx: number;
	/** Share of requests whose connection is closed without an answer. */
	rateReset: number;
	/** Share of requests answered after `slowMs` (then handled normally). */
	rateSlow: number;
	slowMs: number;
	/** Share of requests answered 200 with a truncated, unparsable JSON body. */
	rateMalformed: number;
	/** Retry-After seconds on injected 429s. */
	retryAfterSeconds: number;
	/** Only fault requests whose route name matches this regular expression (all API routes when empty). */
	routePattern: string;
	/** Inject at most this many faults, then none (null: no limit): e.g. one request failing N times in a row. */
	maxFaults: number | null;
	seed: number;
}

export const NO_FAULTS: FaultSettings = {
	rate429: 0,
	rate5xx: 0,
	rateReset: 0,
	rateSlow: 0,
	slowMs: 2000,
	rateMalformed: 0,
	retryAfterSeconds: 1,
	routePattern: '',
	maxFaults: null,
	seed: 42,
};

export interface RouteStats {
	count: number;
	byStatus: Record<string, number>;
}

export interface RequestLogEntry {
	at: string;
	method: string;
	path: string;
	route: string;
	status: number;
	ms: number;
	fault?: string;
}

/** What a simulator plugs into a {@link SimulatorServer}. */
export interface Simulator {
	/** Short name for logs and the `/__sandbox/health` answer: `activecampaign` or `dataverse`. */
	readonly name: string;
	readonly router: Router;
	/** Simulator-specific control endpoints, mounted under `/__sandbox/`. */
	readonly controlRouter: Router;
	/**
	 * Runs before every API request that has a route: authentication and rate limits. Returning a response
	 * answers the request without calling the handler.
	 */
	gate?(req: SandboxRequest, routeName: string): SandboxResponse | undefined | Promise<SandboxResponse | undefined>;
	/**
	 * The name a request is counted and logged under, when it differs from its route's (e.g. a Dataverse `$batch` of
	 * reads only, which test counters of writes leave out).
	 */
	routeLabel?(req: SandboxRequest, routeName: string): string;
	/** Called after every API request, for limits that count time or concurrency. */
	afterRequest?(req: SandboxRequest, routeName: string, status: number, ms: number): void;
	/** The body of an injected 429, in this API's envelope. */
	throttledResponse(retryAfterSeconds: number): SandboxResponse;
	/** The body of an injected 5xx, in this API's envelope. */
	serverErrorResponse(status: number): SandboxResponse;
	/** The answer to an unknown path (each API has its own). */
	notFoundResponse(req: SandboxRequest): SandboxResponse;
	/** The answer to an unparsable body. */
	badBodyResponse(message: string): SandboxResponse;
	/** Restores seed data and default limits. `options` come from the reset request body. */
	reset(options: Record<string, unknown>): void | Promise<void>;
	/** Current limit settings, and a way to change them. */
	getLimits(): Record<string, unknown>;
	setLimits(patch: Record<string, unknown>): void;
	/** A short description of the state for `/__sandbox/health` (record counts). */
	summary(): Record<string, unknown>;
}

const CONTROL_PREFIX = '/__sandbox';

/**
 * An HTTP server around one simulator: parses requests, gates them, injects faults, answers control endpoints and
 * counts every API request by route and status.
 */
export class SimulatorServer {
	readonly clock: Clock;
	private server?: Server;
	private readonly sockets = new Set<Socket>();
	private stats = new Map<string, RouteStats>();
	private statusTotals: Record<string, number> = {};
	private log: RequestLogEntry[] = [];
	private faults: FaultSettings = { ...NO_FAULTS };
	private faultRandom = new SeededRandom(NO_FAULTS.seed);
	private readonly control = new Router();
	private baseUrl = '';
	private readonly logLimit = 2000;

	constructor(
		readonly simulator: Simulator,
		clock: Clock,
	) {
		this.clock = clock;
		this.control
			.get('/health', () => json(200, { ok: true, simulator: simulator.name, ...simulator.summary() }))
			.post('/reset', async (req) => {
				await simulator.reset(bodyJson<Record<string, unknown>>(req) ?? {});
				this.resetStats();
				this.setFaults({ ...NO_FAULTS });
				this.clock.reset();
				return json(200, { ok: true, ...simulator.summary() });
			})
			.get('/stats', () => json(200, this.statsSnapshot()))
			.post('/stats/reset', () => {
				this.resetStats();
				return json(200, { ok: true });
			})
			.get('/requests', (req) => {
				const last = Number(req.query.get('last') ?? 200);
				return json(200, { requests: this.log.slice(-last) });
			})
			.get('/limits', () => json(200, simulator.getLimits()))
			.put('/limits', (req) => {
				simulator.setLimits(bodyJson<Record<string, unknown>>(req) ?? {});
				return json(200, simulator.getLimits());
			})
			.get('/faults', () => json(200, this.faults))
			.put('/faults', (req) => {
				this.setFaults({ ...this.faults, ...(bodyJson<Partial<FaultSettings>>(req) ?? {}) });
				return json(200, this.faults);
			})
			.delete('/faults', () => {
				this.setFaults({ ...NO_FAULTS });
				return json(200, this.faults);
			})
			.get('/clock', () => json(200, this.clockSnapshot()))
			.post('/clock', (req) => {
				const body = bodyJson<{ advanceSeconds?: number; set?: string }>(req) ?? {};
				if (typeof body.advanceSeconds === 'number') this.clock.advance(body.advanceSeconds * 1000);
				if (typeof body.set === 'string') this.clock.set(Date.parse(body.set));
				return json(200, this.clockSnapshot());
			});
	}

	get url(): string {
		return this.baseUrl;
	}

	setFaults(settings: FaultSettings): void {
		this.faults = settings;
		this.faultRandom = new SeededRandom(settings.seed);
		this.faultsInjected = 0;
	}

	resetStats(): void {
		this.stats = new Map();
		this.statusTotals = {};
		this.log = [];
	}

	statsSnapshot() {
		const routes: Record<string, RouteStats> = {};
		let total = 0;
		for (const [name, value] of [...this.stats.entries()].sort(([a], [b]) => a.localeCompare(b))) {
			routes[name] = value;
			total += value.count;
		}
		return { total, byStatus: this.statusTotals, routes };
	}

	async listen(port = 0, host = '127.0.0.1'): Promise<string> {
		this.server = createServer((req, res) => {
			void this.handle(req, res);
		});
		this.server.keepAliveTimeout = 5000;
		this.server.on('connection', (socket) => {
			this.sockets.add(socket);
			socket.on('close', () => this.sockets.delete(socket));
		});
		await new Promise<void>((resolve, reject) => {
			this.server!.once('error', reject);
			this.server!.listen(port, host, () => resolve());
		});
		const address = this.server.address() as AddressInfo;
		this.baseUrl = `http://${host}:${address.port}`;
		return this.baseUrl;
	}

	async close(): Promise<void> {
		if (!this.server) return;
		for (const socket of this.sockets) socket.destroy();
		await new Promise<void>((resolve) => this.server!.close(() => resolve()));
		this.server = undefined;
	}

	private clockSnapshot() {
		return { now: new Date(this.clock.now()).toISOString(), offsetSeconds: this.clock.offset / 1000 };
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const started = Date.now();
		const body = await readBody(req);
		const rawUrl = req.url ?? '/';
		const queryAt = rawUrl.indexOf('?');
		const path = queryAt >= 0 ? rawUrl.slice(0, queryAt) : rawUrl;
		const rawQuery = queryAt >= 0 ? rawUrl.slice(queryAt + 1) : '';
		const request: SandboxRequest = {
			method: (req.method ?? 'GET').toUpperCase(),
			path,
			rawQuery,
			query: new URLSearchParams(rawQuery),
			headers: req.headers,
			body,
			params: {},
			receivedAt: this.clock.now(),
		};

		if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
			const controlPath = path.slice(CONTROL_PREFIX.length) || '/';
			const response = await this.dispatch(request, controlPath, [this.control, this.simulator.controlRouter]);
			write(res, response ?? json(404, { error: `No control endpoint ${request.method} ${path}` }));
			return;
		}

		let routeName = `${request.method} (unknown)`;
		let response: SandboxResponse;
		let fault: string | undefined;
		const resolved = this.simulator.router.resolve(request.method, path);
		if ('route' in resolved) {
			routeName = this.simulator.routeLabel?.(request, resolved.route.name) ?? resolved.route.name;
			request.params = resolved.params;
			const gated = await this.simulator.gate?.(request, routeName);
			if (gated) {
				response = gated;
			} else {
				fault = this.drawFault(routeName);
				response = await this.respondWithFault(fault, request, resolved.route.handler);
			}
		} else {
			response = resolved.methodNotAllowed
				? json(405, { error: { code: '0x80060888', message: `The HTTP method '${request.method}' is not allowed.` } })
				: this.simulator.notFoundResponse(request);
		}

		const ms = Date.now() - started;
		const status = response.destroySocket ? 0 : response.status;
		this.count(routeName, status);
		this.log.push({ at: new Date().toISOString(), method: request.method, path, route: routeName, status, ms, fault });
		if (this.log.length > this.logLimit) this.log.splice(0, this.log.length - this.logLimit);
		this.simulator.afterRequest?.(request, routeName, status, ms);
		write(res, response);
	}

	private async dispatch(request: SandboxRequest, path: string, routers: Router[]): Promise<SandboxResponse | undefined> {
		for (const router of routers) {
			const resolved = router.resolve(request.method, path);
			if ('route' in resolved) {
				request.params = resolved.params;
				try {
					return await resolved.route.handler(request);
				} catch (error) {
					if (error instanceof BadBodyError) return json(400, { error: error.message });
					// A control request must always get an answer; a thrown error is a bug worth seeing in the body.
					return json(500, { error: error instanceof Error ? error.message : String(error) });
				}
			}
		}
		return undefined;
	}

	private faultsInjected = 0;

	private drawFault(routeName: string): string | undefined {
		const f = this.faults;
		if (f.routePattern && !new RegExp(f.routePattern).test(routeName)) return undefined;
		if (f.maxFaults !== null && f.maxFaults !== undefined && this.faultsInjected >= f.maxFaults) return undefined;
		const r = this.faultRandom.next();
		let edge = 0;
		for (const [name, rate] of [
			['429', f.rate429],
			['5xx', f.rate5xx],
			['reset', f.rateReset],
			['malformed', f.rateMalformed],
			['slow', f.rateSlow],
		] as const) {
			edge += rate;
			if (r < edge) {
				this.faultsInjected++;
				return name;
			}
		}
		return undefined;
	}

	private async respondWithFault(fault: string | undefined, request: SandboxRequest, handler: Handler) {
		switch (fault) {
			case '429':
				return this.simulator.throttledResponse(this.faults.retryAfterSeconds);
			case '5xx':
				return this.simulator.serverErrorResponse(this.faultRandom.pick([500, 502, 503, 504]));
			case 'reset':
				return { status: 0, destroySocket: true };
			case 'malformed':
				return { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"value":[{"trunc' };
			case 'slow':
				await new Promise((resolve) => setTimeout(resolve, this.faults.slowMs));
				break;
		}
		try {
			return await handler(request);
		} catch (error) {
			if (error instanceof BadBodyError) return this.simulator.badBodyResponse(error.message);
			console.error(`[sandbox:${this.simulator.name}] handler error on ${request.method} ${request.path}:`, error);
			return this.simulator.serverErrorResponse(500);
		}
	}

	private count(routeName: string, status: number): void {
		const key = String(status);
		const entry = this.stats.get(routeName) ?? { count: 0, byStatus: {} };
		entry.count++;
		entry.byStatus[key] = (entry.byStatus[key] ?? 0) + 1;
		this.stats.set(routeName, entry);
		this.statusTotals[key] = (this.statusTotals[key] ?? 0) + 1;
	}
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

function write(res: ServerResponse, response: SandboxResponse): void {
	if (response.destroySocket) {
		res.socket?.destroy();
		return;
	}
	const body = response.body ?? '';
	res.writeHead(response.status, {
		...(response.headers ?? {}),
		...(response.status === 204 || response.status === 304 ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }),
	});
	res.end(response.status === 204 || response.status === 304 ? undefined : body);
}
