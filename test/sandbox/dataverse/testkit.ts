/* eslint-disable @typescript-eslint/no-explicit-any -- test helpers return loosely typed JSON */
/** Shared helpers for the Dataverse simulator tests: start a server on port 0, get tokens, call the API. */
import { Clock } from '../core/clock';
import { SimulatorServer } from '../core/server';
import { createDataverseSimulator, type DataverseSimulator } from './index';

export interface ApiResult<T = any> {
	status: number;
	headers: Headers;
	text: string;
	json: T;
}

export interface Harness {
	clock: Clock;
	sim: DataverseSimulator;
	server: SimulatorServer;
	url: string;
	api: string;
	token: string;
	tokenFor(clientId: string, secret: string): Promise<string>;
	call<T = any>(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; token?: string | null; raw?: string }): Promise<ApiResult<T>>;
	control<T = any>(method: string, path: string, body?: unknown): Promise<ApiResult<T>>;
	close(): Promise<void>;
}

export async function startHarness(seed = 'demo'): Promise<Harness> {
	const clock = new Clock();
	const sim = createDataverseSimulator(clock, { seed });
	const server = new SimulatorServer(sim, clock);
	const url = await server.listen(0);
	sim.setBaseUrl(url);
	const api = `${url}/api/data/v9.2`;

	async function read(res: Response): Promise<ApiResult> {
		const text = await res.text();
		let parsed: unknown = undefined;
		try {
			parsed = text ? JSON.parse(text) : undefined;
		} catch {
			parsed = undefined;
		}
		return { status: res.status, headers: res.headers, text, json: parsed };
	}

	async function tokenFor(clientId: string, secret: string): Promise<string> {
		const res = await fetch(`${url}/sandbox-tenant/oauth2/v2.0/token`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: `${url}/.default` }),
		});
		const body = (await res.json()) as { access_token?: string };
		if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
		return body.access_token;
	}

	const harness: Harness = {
		clock,
		sim,
		server,
		url,
		api,
		token: '',
		tokenFor,
		async call(method, path, options = {}) {
			const headers: Record<string, string> = { Accept: 'application/json', 'OData-MaxVersion': '4.0', 'OData-Version': '4.0', ...(options.headers ?? {}) };
			const token = options.token === undefined ? harness.token : options.token;
			if (token) headers.Authorization = `Bearer ${token}`;
			let body: string | undefined;
			if (options.raw !== undefined) body = options.raw;
			else if (options.body !== undefined) {
				body = JSON.stringify(options.body);
				headers['Content-Type'] = headers['Content-Type'] ?? 'application/json';
			}
			const res = await fetch(path.startsWith('http') ? path : `${api}/${path}`, { method, headers, body });
			return read(res);
		},
		async control(method, path, body) {
			const res = await fetch(`${url}/__sandbox${path}`, {
				method,
				headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
				body: body !== undefined ? JSON.stringify(body) : undefined,
			});
			return read(res);
		},
		close: () => server.close(),
	};
	harness.token = await tokenFor('sandbox-client', 'sandbox-secret');
	return harness;
}

export const FV = '@OData.Community.Display.V1.FormattedValue';
