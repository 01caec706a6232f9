/* eslint-disable @typescript-eslint/no-explicit-any -- sandbox control answers are loosely typed JSON */
/**
 * Shared setup of the Dynamics 365 node tests: a sandbox, a harness with our nodes and credentials, control-endpoint
 * helpers and request counters.
 */
import type { IDataObject, WorkflowExecuteMode } from 'n8n-workflow';

import { Dynamics365ClientCredentialsApi } from '../../../credentials/Dynamics365ClientCredentialsApi.credentials';
import { Dynamics365OAuth2Api } from '../../../credentials/Dynamics365OAuth2Api.credentials';
import { Dynamics365 } from '../../../nodes/Dynamics365/Dynamics365.node';
import { Dynamics365Trigger } from '../../../nodes/Dynamics365/Dynamics365Trigger.node';
import { clearMetadataCache } from '../../../nodes/Dynamics365/transport/metadata';
import { N8nHarness, type NodeSpec, type RunResult } from '../../helpers/n8n-harness';
import { SANDBOX_CREDENTIALS, startSandbox, type Sandbox } from '../../sandbox';

export const CRED = 'dynamics365ClientCredentialsApi';

export interface D365Test {
	sandbox: Sandbox;
	url: string;
	harness: N8nHarness;
	control<T = any>(method: string, path: string, body?: unknown): Promise<T>;
	stats(): Promise<{ total: number; byStatus: Record<string, number>; routes: Record<string, { count: number; byStatus: Record<string, number> }> }>;
	resetStats(): Promise<void>;
	/** Requests counted for routes whose name matches. */
	count(pattern: RegExp): Promise<number>;
	run(parameters: IDataObject, input?: IDataObject[], options?: Partial<NodeSpec> & { mode?: WorkflowExecuteMode }): Promise<RunResult>;
	/** Runs the action node with static data kept between calls (like an active workflow or `n8n execute`). */
	runPersistent(parameters: IDataObject, input?: IDataObject[], options?: { name?: string; mode?: WorkflowExecuteMode }): Promise<RunResult>;
	/** Polls the trigger; `budgetMs` replaces n8n's poll budget (getPollBudgetMs). */
	poll(parameters: IDataObject, mode?: 'trigger' | 'manual', name?: string, budgetMs?: number): Promise<IDataObject[] | null>;
	demoIds: Record<string, string>;
	close(): Promise<void>;
}

export function credentialsFor(url: string, overrides: IDataObject = {}) {
	return {
		environmentUrl: url,
		tenantId: SANDBOX_CREDENTIALS.d365TenantId,
		clientId: SANDBOX_CREDENTIALS.d365ClientId,
		clientSecret: SANDBOX_CREDENTIALS.d365ClientSecret,
		authorityHost: url,
		...overrides,
	};
}

export async function setupD365(options: { seed?: 'demo' | 'empty'; limits?: IDataObject | false } = {}): Promise<D365Test> {
	const sandbox = await startSandbox({ seed: options.seed ?? 'demo' });
	const url = sandbox.d365.url;
	clearMetadataCache();
	const harness = new N8nHarness({
		nodes: [Dynamics365, Dynamics365Trigger],
		credentialTypes: [Dynamics365ClientCredentialsApi, Dynamics365OAuth2Api],
		credentials: { [CRED]: credentialsFor(url) },
	});

	async function control<T = any>(method: string, path: string, body?: unknown): Promise<T> {
		const res = await fetch(`${url}/__sandbox${path}`, {
			method,
			headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
		return (text ? JSON.parse(text) : undefined) as T;
	}

	// Tests that do not test the service protection limits should not run into them.
	if (options.limits !== false) await control('PUT', '/limits', { enabled: false, ...(options.limits ?? {}) });
	const demoIds = options.seed === 'empty' ? {} : await control<Record<string, string>>('GET', '/demo-ids');

	const d365: D365Test = {
		sandbox,
		url,
		harness,
		control,
		stats: async () => await control('GET', '/stats'),
		resetStats: async () => {
			await control('POST', '/stats/reset');
		},
		async count(pattern) {
			const stats = await d365.stats();
			return Object.entries(stats.routes)
				.filter(([route]) => pattern.test(route))
				.reduce((sum, [, r]) => sum + r.count, 0);
		},
		async run(parameters, input = [{}], runOptions = {}) {
			const { mode, ...spec } = runOptions;
			return await harness.runNode(
				{ type: 'dynamics365', parameters: parameters as any, credentials: [CRED], ...spec },
				input,
				mode ?? 'manual',
			);
		},
		async runPersistent(parameters, input = [{}], runOptions = {}) {
			return await harness.runNode(
				{ type: 'dynamics365', name: runOptions.name ?? 'Dynamics 365', parameters: parameters as any, credentials: [CRED] },
				input,
				runOptions.mode ?? 'trigger',
			);
		},
		async poll(parameters, mode = 'trigger', name = 'Dynamics 365 Trigger', budgetMs) {
			const { items } = await harness.poll(
				{ type: 'dynamics365Trigger', name, parameters: parameters as any, credentials: [CRED] },
				mode,
				'activate',
				budgetMs,
			);
			return items ? items.map((i) => i.json) : null;
		},
		demoIds,
		async close() {
			await sandbox.close();
		},
	};

	return d365;
}

export function jsonOf(result: RunResult, output = 0): IDataObject[] {
	return (result.outputs[output] ?? []).map((i) => i.json);
}
