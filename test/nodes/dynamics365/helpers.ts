/* eslint-disable @typescript-eslint/no-explicit-any -- sandbox control answers are loosely typed JSON */
/**
 * Shared setup of the Dynamics 365 node tests: a sandbox, a harness with our nodes and credentials, control-endpoint
 * helpers and request counters.
 */
import { ExecutionLifecycleHooks, PollContext, WorkflowExecute } from 'n8n-core';
import type { IDataObject, INodeExecutionData, IPollFunctions, IRun, IRunExecutionData, WorkflowExecuteMode } from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';

import { Dynamics365ClientCredentialsApi } from '../../../credentials/Dynamics365ClientCredentialsApi.credentials';
import { Dynamics365OAuth2Api } from '../../../credentials/Dynamics365OAuth2Api.credentials';
import { Dynamics365 } from '../../../nodes/Dynamics365/Dynamics365.node';
import { Dynamics365Trigger } from '../../../nodes/Dynamics365/Dynamics365Trigger.node';
import { clearMetadataCache } from '../../../nodes/Dynamics365/helpers/metadata';
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

	const persistentStatic = new Map<string, IDataObject>();

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
			const name = runOptions.name ?? 'Dynamics 365';
			const node = harness.toNode({ type: 'dynamics365', name, parameters: parameters as any, credentials: [CRED] });
			const staticData = persistentStatic.get(name) ?? {};
			const run = await executeWithStaticData(harness, node, input, runOptions.mode ?? 'trigger', { [`node:${name}`]: staticData });
			const taskData = run.data.resultData.runData[name]?.[0];
			const outputs = (taskData?.data?.main ?? []).map((out) => out ?? []);
			const error = (taskData?.error ?? run.data.resultData.error) as RunResult['error'];
			return { outputs, error, run };
		},
		async poll(parameters, mode = 'trigger', name = 'Dynamics 365 Trigger', budgetMs) {
			// Like harness.poll, but static data is carried over as JSON (n8n persists it that way): the harness's
			// structuredClone cannot copy the nested observable objects n8n wraps static data in.
			const node = harness.toNode({ type: 'dynamics365Trigger', name, parameters: parameters as any, credentials: [CRED] });
			const saved = mode === 'manual' ? {} : (persistentStatic.get(`poll:${name}`) ?? {});
			const internals = harness as unknown as {
				nodeTypes: ConstructorParameters<typeof Workflow>[0]['nodeTypes'] & { getByNameAndVersion(type: string): any };
				additionalData(hooks: ExecutionLifecycleHooks): any;
			};
			const workflow = new Workflow({
				id: 'test-workflow',
				name: 'test',
				nodes: [node],
				connections: {},
				active: false,
				nodeTypes: internals.nodeTypes,
				staticData: { [`node:${name}`]: JSON.parse(JSON.stringify(saved)) },
				settings: { executionOrder: 'v1' },
			});
			const hooks = new ExecutionLifecycleHooks(mode, 'poll', { id: 'test-workflow' } as never);
			const context = new PollContext(
				workflow,
				node,
				internals.additionalData(hooks),
				mode,
				'activate',
				undefined,
				undefined,
				undefined,
				undefined,
				undefined,
				budgetMs === undefined ? undefined : () => budgetMs,
			);
			const type = internals.nodeTypes.getByNameAndVersion(node.type) as { poll: (this: IPollFunctions) => Promise<INodeExecutionData[][] | null> };
			const result = await type.poll.call(context as unknown as IPollFunctions);
			if (mode !== 'manual') {
				persistentStatic.set(`poll:${name}`, JSON.parse(JSON.stringify(workflow.getStaticData('node', node))));
			}
			return result ? result[0].map((i) => i.json) : null;
		},
		demoIds,
		async close() {
			await sandbox.close();
		},
	};

	async function executeWithStaticData(
		h: N8nHarness,
		node: ReturnType<N8nHarness['toNode']>,
		input: IDataObject[],
		mode: WorkflowExecuteMode,
		staticData: IDataObject,
	): Promise<IRun> {
		// The harness keeps static data only for polls; this runs an action node in a workflow whose static data
		// object outlives the run, as n8n saves it after trigger and CLI executions.
		const internals = h as unknown as { nodeTypes: ConstructorParameters<typeof Workflow>[0]['nodeTypes']; additionalData(hooks: ExecutionLifecycleHooks): any };
		const workflow = new Workflow({
			id: 'test-workflow',
			name: 'test',
			nodes: [node],
			connections: {},
			active: false,
			nodeTypes: internals.nodeTypes,
			staticData,
			settings: { executionOrder: 'v1' },
		});
		const hooks = new ExecutionLifecycleHooks(mode, 'test-execution', {
			id: 'test-workflow',
			name: 'test',
			nodes: [node],
			connections: {},
			active: false,
			activeVersionId: null,
			isArchived: false,
			createdAt: new Date(),
			updatedAt: new Date(),
			settings: {},
		} as never);
		let finish!: (run: IRun) => void;
		const done = new Promise<IRun>((resolve) => (finish = resolve));
		hooks.addHandler('workflowExecuteAfter', (fullRunData) => finish(fullRunData));
		const items: INodeExecutionData[] = input.map((json) => ({ json }));
		const runExecutionData = {
			resultData: { runData: {} },
			executionData: {
				metadata: {},
				contextData: {},
				waitingExecution: {},
				waitingExecutionSource: null,
				nodeExecutionStack: [{ node, data: { main: [items] }, source: null }],
			},
		} as unknown as IRunExecutionData;
		const execute = new WorkflowExecute(internals.additionalData(hooks), mode, runExecutionData);
		await execute.processRunExecutionData(workflow);
		const run = await done;
		persistentStatic.set(node.name, JSON.parse(JSON.stringify(workflow.staticData[`node:${node.name}`] ?? {})));
		return run;
	}

	return d365;
}

export function jsonOf(result: RunResult, output = 0): IDataObject[] {
	return (result.outputs[output] ?? []).map((i) => i.json);
}
