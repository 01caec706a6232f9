/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/** Helpers for the simulator's own tests: a server on a free port, a small JSON client, a webhook receiver. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Clock } from '../core/clock';
import { SimulatorServer } from '../core/server';
import { createActiveCampaignSimulator, type AcSettings, type ActiveCampaignSimulator } from './index';

/** Loosely typed JSON, for reading response bodies in tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type J = any;

export const KEY = 'sandbox-key';

export interface ApiResponse<T = J> {
	status: number;
	headers: Headers;
	body: T;
	text: string;
}

export interface AcHarness {
	url: string;
	clock: Clock;
	server: SimulatorServer;
	sim: ActiveCampaignSimulator;
	api<T = J>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
	control<T = J>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
	close(): Promise<void>;
}

/** Starts a simulator; the rate limit is off unless `settings` says otherwise. */
export async function startAc(options: { seed?: 'demo' | 'empty'; settings?: Partial<AcSettings> } = {}): Promise<AcHarness> {
	const clock = new Clock();
	const settings: Partial<AcSettings> = { requestsPerSecond: 100_000, burst: 100_000, ...options.settings };
	const sim = createActiveCampaignSimulator(clock, { seed: options.seed ?? 'demo', settings });
	const server = new SimulatorServer(sim, clock);
	const url = await server.listen(0);
	sim.setBaseUrl(url);
	const call = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
		const init: RequestInit = { method, headers: { ...headers } };
		if (body !== undefined) {
			init.body = typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body);
			(init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
		}
		const res = await fetch(url + path, init);
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : undefined;
		} catch {
			// not JSON
		}
		return { status: res.status, headers: res.headers, body: parsed as J, text };
	};
	return {
		url,
		clock,
		server,
		sim,
		api: (method, path, body, headers = {}) => call(method, path, body, { 'Api-Token': KEY, ...headers }),
		control: (method, path, body) => call(method, `/__sandbox${path}`, body, {}),
		close: async () => {
			await sim.waitForWebhooks();
			await server.close();
		},
	};
}

export interface ReceivedRequest {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	body: string;
	form: URLSearchParams;
	at: number;
}

export interface Receiver {
	url: string;
	requests: ReceivedRequest[];
	/** Status for the next requests; default 200. */
	respondWith(status: number): void;
	/** Holds every answer from now on until `release` (a receiver that is slow for as long as a test needs). */
	hold(): void;
	release(): void;
	/** How many requests it has answered. */
	answered(): number;
	waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
	close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
	const requests: ReceivedRequest[] = [];
	let status = 200;
	let held: Array<() => void> | undefined;
	let answered = 0;
	const server: Server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, form: new URLSearchParams(body), at: Date.now() });
			const answer = () => {
				res.writeHead(status, { 'Content-Type': 'text/plain' });
				res.end('ok');
				answered++;
			};
			if (held) held.push(answer);
			else answer();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	const port = (server.address() as AddressInfo).port;
	return {
		url: `http://127.0.0.1:${port}/hook`,
		requests,
		respondWith(s) {
			status = s;
		},
		hold() {
			held ??= [];
		},
		release() {
			const waiting = held ?? [];
			held = undefined;
			for (const answer of waiting) answer();
		},
		answered: () => answered,
		async waitFor(count, timeoutMs = 5000) {
			const until = Date.now() + timeoutMs;
			while (requests.length < count && Date.now() < until) await sleep(10);
			return requests;
		},
		close: () =>
			new Promise<void>((resolve) => {
				held = undefined;
				server.closeAllConnections?.();
				server.close(() => resolve());
			}),
	};
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `2018-09-28T13:50:41-05:00` */
export const AC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-05:00$/;
