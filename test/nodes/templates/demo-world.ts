/**
 * The template tests' world: the demo seed in both sandboxes, the harness with our nodes pointed at them, and the
 * sandbox's control endpoints. `demoWorld()` registers the set-up and tear-down of the calling test file.
 */
import type { IDataObject } from 'n8n-workflow';

import { setAccountRequestsPerSecond } from '../../../nodes/ActiveCampaignSync/transport';
import type { N8nHarness } from '../../helpers/n8n-harness';
import { syncHarness } from '../../model/world';
import { startSandbox, type Sandbox } from '../../sandbox';

export interface DemoWorld {
	readonly sandbox: Sandbox;
	readonly harness: N8nHarness;
	control<T = IDataObject>(side: 'ac' | 'd365', method: string, route: string, body?: unknown): Promise<T>;
	/** Both sandboxes back to the demo seed, rate limits out of the way, the workflow's static data cleared. */
	reset(): Promise<void>;
}

export function demoWorld(): DemoWorld {
	let sandbox: Sandbox | undefined;
	let harness: N8nHarness | undefined;
	beforeAll(async () => {
		sandbox = await startSandbox({ seed: 'demo' });
		harness = syncHarness(sandbox);
		setAccountRequestsPerSecond(sandbox.ac.url, 1000);
	});
	afterAll(async () => {
		if (sandbox) setAccountRequestsPerSecond(sandbox.ac.url, undefined);
		await sandbox?.close();
	});
	const world: DemoWorld = {
		get sandbox() {
			return sandbox!;
		},
		get harness() {
			return harness!;
		},
		async control<T = IDataObject>(side: 'ac' | 'd365', method: string, route: string, body?: unknown): Promise<T> {
			const url = side === 'ac' ? sandbox!.ac.url : sandbox!.d365.url;
			const res = await fetch(`${url}/__sandbox${route}`, {
				method,
				headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
				body: body === undefined ? undefined : JSON.stringify(body),
			});
			const text = await res.text();
			if (!res.ok) throw new Error(`${side} ${method} ${route}: ${res.status} ${text}`);
			return (text ? JSON.parse(text) : {}) as T;
		},
		async reset(): Promise<void> {
			await world.control('ac', 'POST', '/reset', { seed: 'demo', settings: { requestsPerSecond: 1000 } });
			await world.control('d365', 'POST', '/reset', { seed: 'demo' });
			await world.control('ac', 'PUT', '/limits', { requestsPerSecond: 1000 });
			await world.control('d365', 'PUT', '/limits', { enabled: false });
			harness!.resetStaticData();
		},
	};
	return world;
}
