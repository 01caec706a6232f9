/**
 * Test kit for the ActiveCampaign Sync nodes: a sandbox, the harness, free control calls, and runs that keep the
 * node's static data between executions (Get Changes) or use a chosen poll budget (the trigger).
 */
import { ExecutionLifecycleHooks, HookContext, PollContext, WebhookContext, WorkflowExecute } from 'n8n-core';
import type {
	IDataObject,
	INode,
	INodeExecutionData,
	INodeParameters,
	IPollFunctions,
	IRun,
	IRunExecutionData,
	IWebhookData,
	IHookFunctions,
	IWebhookFunctions,
	WorkflowExecuteMode,
} from 'n8n-workflow';

import { ActiveCampaignSyncApi } from '../../../credentials/ActiveCampaignSyncApi.credentials';
import { ActiveCampaignSync } from '../../../nodes/ActiveCampaignSync/ActiveCampaignSync.node';
import { ActiveCampaignSyncTrigger } from '../../../nodes/ActiveCampaignSync/ActiveCampaignSyncTrigger.node';
import { setAccountRequestsPerSecond } from '../../../nodes/ActiveCampaignSync/transport';
import { findCustomField } from '../../../nodes/shared/sync/records';
import { N8nHarness, type RunResult } from '../../helpers/n8n-harness';
import { SANDBOX_CREDENTIALS, startSandbox, type Sandbox } from '../../sandbox';

export const NODE = 'activeCampaignSync';
export const TRIGGER = 'activeCampaignSyncTrigger';
export const CREDENTIAL = 'activeCampaignSyncApi';

export interface AcTest {
	sandbox: Sandbox;
	url: string;
	harness: N8nHarness;
	/** Runs the action node with these parameters over these input items. */
	run(parameters: INodeParameters, items?: IDataObject[], options?: RunOptions): Promise<RunResult>;
	/** Runs the action node keeping its static data under `key` between runs (like a saved workflow). */
	runKeepingState(key: string, parameters: INodeParameters, items?: IDataObject[], mode?: WorkflowExecuteMode): Promise<RunResult>;
	poll(parameters: INodeParameters, options?: { mode?: 'trigger' | 'manual'; budgetMs?: number; key?: string }): Promise<{ items: INodeExecutionData[] | null; staticData: IDataObject }>;
	control<T = IDataObject>(method: string, path: string, body?: unknown): Promise<T>;
	/** Raises both the sandbox's and the client's request rate (tests that do not test limits). */
	fast(): Promise<void>;
	/** Restores the documented 5 requests per second on both sides. */
	realLimits(): Promise<void>;
	resetStats(): Promise<void>;
	stats(): Promise<{ total: number; byStatus: Record<string, number>; routes: Record<string, { count: number; byStatus: Record<string, number> }> }>;
	count(route: string | RegExp): Promise<number>;
	contact(idOrEmail: string | number): Promise<IDataObject>;
	hook(parameters: INodeParameters, method: 'checkExists' | 'create' | 'delete', key?: string): Promise<boolean>;
	webhook(parameters: INodeParameters, body: unknown, key?: string): Promise<IDataObject[] | undefined>;
	close(): Promise<void>;
}

export interface RunOptions {
	continueOnFail?: boolean;
	onError?: INode['onError'];
	mode?: WorkflowExecuteMode;
}

export function jsonOf(result: RunResult, output = 0): IDataObject[] {
	return (result.outputs[output] ?? []).map((i) => i.json);
}

interface HarnessInternals {
	workflow(nodes: INode[], connections: object, staticData?: IDataObject): import('n8n-workflow').Workflow;
	additionalData(hooks: ExecutionLifecycleHooks): import('n8n-workflow').IWorkflowExecuteAdditionalData;
}

export async function setupAc(options: { seed?: 'demo' | 'empty'; fast?: boolean } = {}): Promise<AcTest> {
	const sandbox = await startSandbox({ seed: options.seed ?? 'demo' });
	const url = sandbox.ac.url;
	const harness = new N8nHarness({
		nodes: [ActiveCampaignSync, ActiveCampaignSyncTrigger],
		credentialTypes: [ActiveCampaignSyncApi],
		credentials: { [CREDENTIAL]: { apiUrl: url, apiKey: SANDBOX_CREDENTIALS.acApiKey } },
	});
	const internals = harness as unknown as HarnessInternals;
	const staticStore = new Map<string, IDataObject>();

	const control = async <T = IDataObject>(method: string, path: string, body?: unknown): Promise<T> => {
		const response = await fetch(`${url}/__sandbox${path}`, {
			method,
			headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await response.text();
		if (!response.ok) throw new Error(`control ${method} ${path}: ${response.status} ${text}`);
		return (text ? JSON.parse(text) : {}) as T;
	};

	const node = (type: string, parameters: INodeParameters, extra: RunOptions = {}): INode =>
		harness.toNode({ type, parameters, credentials: [CREDENTIAL], continueOnFail: extra.continueOnFail, onError: extra.onError });

	const execute = async (n: INode, items: IDataObject[], mode: WorkflowExecuteMode, staticData: IDataObject): Promise<IRun> => {
		const workflow = internals.workflow([n], {}, staticData);
		const hooks = new ExecutionLifecycleHooks(mode, 'test-execution', { id: 'test-workflow', nodes: [n], connections: {} } as never);
		let finish!: (run: IRun) => void;
		const done = new Promise<IRun>((resolve) => (finish = resolve));
		hooks.addHandler('workflowExecuteAfter', (run) => finish(run));
		const runData = {
			resultData: { runData: {} },
			executionData: {
				metadata: {},
				contextData: {},
				waitingExecution: {},
				waitingExecutionSource: null,
				nodeExecutionStack: [{ node: n, data: { main: [items.map((json) => ({ json }))] }, source: null }],
			},
		} as unknown as IRunExecutionData;
		await new WorkflowExecute(internals.additionalData(hooks), mode, runData).processRunExecutionData(workflow);
		const run = await done;
		const key = `node:${n.name}`;
		const after = workflow.staticData[key] as IDataObject | undefined;
		if (after) staticData[key] = structuredClone({ ...after });
		return run;
	};

	const toResult = (run: IRun, name: string): RunResult => {
		const taskData = run.data.resultData.runData[name]?.[0];
		const outputs = (taskData?.data?.main ?? []).map((out) => out ?? []);
		const error = (taskData?.error ?? run.data.resultData.error) as RunResult['error'];
		return { outputs, error, run };
	};

	const test: AcTest = {
		sandbox,
		url,
		harness,
		async run(parameters, items = [{}], runOptions = {}) {
			const n = node(NODE, parameters, runOptions);
			const run = await execute(n, items, runOptions.mode ?? 'manual', {});
			return toResult(run, n.name);
		},
		async runKeepingState(key, parameters, items = [{}], mode = 'trigger') {
			const n = node(NODE, parameters);
			const data = staticStore.get(key) ?? {};
			const run = await execute(n, items, mode, data);
			staticStore.set(key, data);
			return toResult(run, n.name);
		},
		async poll(parameters, pollOptions = {}) {
			const n = { ...node(TRIGGER, parameters), name: pollOptions.key ?? 'trigger', id: pollOptions.key ?? 'trigger' };
			const mode = pollOptions.mode ?? 'trigger';
			const key = `poll:${n.name}`;
			const saved = staticStore.get(key) ?? {};
			const workflow = internals.workflow([n], {}, mode === 'manual' ? {} : { [`node:${n.name}`]: structuredClone(saved) });
			const hooks = new ExecutionLifecycleHooks(mode, 'poll', { id: 'test-workflow' } as never);
			const budget = pollOptions.budgetMs;
			const context = new PollContext(
				workflow,
				n,
				internals.additionalData(hooks),
				mode,
				'activate',
				undefined,
				undefined,
				undefined,
				undefined,
				undefined,
				budget === undefined ? undefined : () => budget,
			);
			const result = await new ActiveCampaignSyncTrigger().poll.call(context as unknown as IPollFunctions);
			const staticData = workflow.getStaticData('node', n) as IDataObject;
			if (mode !== 'manual') staticStore.set(key, structuredClone({ ...staticData }));
			return { items: result ? result[0] : null, staticData: { ...staticData } };
		},
		control,
		async fast() {
			setAccountRequestsPerSecond(url, 400);
			await control('PUT', '/limits', { requestsPerSecond: 2000 });
		},
		async realLimits() {
			setAccountRequestsPerSecond(url, undefined);
			await control('PUT', '/limits', { requestsPerSecond: 5, burst: 5 });
		},
		async resetStats() {
			await control('POST', '/stats/reset');
		},
		async stats() {
			return await control('GET', '/stats');
		},
		async count(route) {
			const stats = await control<{ routes: Record<string, { count: number }> }>('GET', '/stats');
			let n = 0;
			for (const [name, value] of Object.entries(stats.routes)) {
				if (typeof route === 'string' ? name === route : route.test(name)) n += value.count;
			}
			return n;
		},
		async contact(idOrEmail) {
			return await control('GET', `/state/contacts/${encodeURIComponent(String(idOrEmail))}`);
		},
		async hook(parameters, method, key = 'hook') {
			const n = { ...node(TRIGGER, parameters), name: key, id: key };
			const saved = staticStore.get(`poll:${key}`) ?? {};
			const workflow = internals.workflow([n], {}, { [`node:${n.name}`]: structuredClone(saved) });
			const hooks = new ExecutionLifecycleHooks('trigger', 'hook', { id: 'test-workflow' } as never);
			const additionalData = internals.additionalData(hooks);
			const webhookData = {
				httpMethod: 'POST',
				node: n.name,
				path: `test-workflow/${n.name}/webhook`,
				webhookDescription: new ActiveCampaignSyncTrigger().description.webhooks![0],
				workflowId: 'test-workflow',
				workflowExecuteAdditionalData: additionalData,
			} as unknown as IWebhookData;
			const context = new HookContext(workflow, n, additionalData, 'trigger', 'activate', webhookData);
			const fn = new ActiveCampaignSyncTrigger().webhookMethods.default[method];
			const result = await fn.call(context as unknown as IHookFunctions);
			staticStore.set(`poll:${key}`, structuredClone({ ...(workflow.getStaticData('node', n) as IDataObject) }));
			return result;
		},
		async webhook(parameters, body, key = 'hook') {
			const n = { ...node(TRIGGER, parameters), name: key, id: key };
			const workflow = internals.workflow([n], {}, {});
			const hooks = new ExecutionLifecycleHooks('trigger', 'webhook', { id: 'test-workflow' } as never);
			const additionalData = internals.additionalData(hooks);
			(additionalData as unknown as { httpRequest: unknown }).httpRequest = {
				body,
				rawBody: typeof body === 'string' ? Buffer.from(body) : undefined,
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				query: {},
				params: {},
			};
			const webhookData = {
				httpMethod: 'POST',
				node: n.name,
				path: 'webhook',
				webhookDescription: new ActiveCampaignSyncTrigger().description.webhooks![0],
				workflowId: 'test-workflow',
				workflowExecuteAdditionalData: additionalData,
			} as unknown as IWebhookData;
			const context = new WebhookContext(workflow, n, additionalData, 'trigger', webhookData, [], null);
			const response = await new ActiveCampaignSyncTrigger().webhook.call(context as unknown as IWebhookFunctions);
			return response.workflowData?.[0]?.map((i) => i.json);
		},
		async close() {
			setAccountRequestsPerSecond(url, undefined);
			await sandbox.close();
		},
	};
	if (options.fast !== false) await test.fast();
	return test;
}

/** A custom field's value in a record our nodes emit (`customFields`), by perstag, title or id. */
export function customValue(record: IDataObject, key: string): unknown {
	return findCustomField(record, key)?.value;
}

/** A GUID made from a number, for Dynamics ids in sync items. */
export function guid(n: number, prefix = '0000'): string {
	const hex = n.toString(16).padStart(12, '0');
	return `${prefix.padStart(8, '0')}-0000-4000-8000-${hex}`;
}
