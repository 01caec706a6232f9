/**
 * Test kit for the ActiveCampaign Sync nodes: a sandbox, the harness, free control calls, and runs that keep the
 * node's static data between executions (Get Changes) or use a chosen poll budget (the trigger).
 */
import type { IDataObject, INode, INodeExecutionData, INodeParameters, WorkflowExecuteMode } from 'n8n-workflow';

import { ActiveCampaignSyncApi } from '../../../credentials/ActiveCampaignSyncApi.credentials';
import { ActiveCampaignSync } from '../../../nodes/ActiveCampaignSync/ActiveCampaignSync.node';
import { ActiveCampaignSyncTrigger } from '../../../nodes/ActiveCampaignSync/ActiveCampaignSyncTrigger.node';
import { setAccountRequestsPerSecond } from '../../../nodes/ActiveCampaignSync/transport';
import { fieldHash, pairKey } from '../../../nodes/shared/sync/fieldState';
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
	webhook(
		parameters: INodeParameters,
		body: unknown,
		key?: string,
		query?: IDataObject,
		answered?: { status?: number; body?: unknown },
	): Promise<IDataObject[] | undefined>;
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

export async function setupAc(options: { seed?: 'demo' | 'empty'; fast?: boolean } = {}): Promise<AcTest> {
	const sandbox = await startSandbox({ seed: options.seed ?? 'demo' });
	const url = sandbox.ac.url;
	const harness = new N8nHarness({
		nodes: [ActiveCampaignSync, ActiveCampaignSyncTrigger],
		credentialTypes: [ActiveCampaignSyncApi],
		credentials: { [CREDENTIAL]: { apiUrl: url, apiKey: SANDBOX_CREDENTIALS.acApiKey } },
	});

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

	// Nodes are named by a test's key: the harness keeps static data per node name, like one saved workflow.
	const spec = (type: string, parameters: INodeParameters, extra: RunOptions & { name?: string } = {}) => ({
		type,
		name: extra.name,
		parameters,
		credentials: [CREDENTIAL],
		continueOnFail: extra.continueOnFail,
		onError: extra.onError,
	});

	const test: AcTest = {
		sandbox,
		url,
		harness,
		async run(parameters, items = [{}], runOptions = {}) {
			return await harness.runNode(spec(NODE, parameters, runOptions), items, runOptions.mode ?? 'manual');
		},
		async runKeepingState(key, parameters, items = [{}], mode = 'trigger') {
			return await harness.runNode(spec(NODE, parameters, { name: key }), items, mode);
		},
		async poll(parameters, pollOptions = {}) {
			const trigger = spec(TRIGGER, parameters, { name: pollOptions.key ?? 'trigger' });
			return await harness.poll(trigger, pollOptions.mode ?? 'trigger', 'activate', pollOptions.budgetMs);
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
			return await harness.webhookMethod(spec(TRIGGER, parameters, { name: key }), method);
		},
		async webhook(parameters, body, key = 'hook', query, answered) {
			const response = await harness.webhook(
				spec(TRIGGER, parameters, { name: key }),
				{ body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, query },
				answered,
			);
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

/** Dynamics columns of the ActiveCampaign keys used in these tests' sync items. */
const COLUMNS: Record<string, string> = { email: 'emailaddress1', firstName: 'firstname', lastName: 'lastname', phone: 'telephone1', LEAD_SOURCE: 'new_leadsource' };

/** The `fields` of a sync item as the Field Map builds them, for the given ActiveCampaign keys and Dynamics values. */
export function syncFields(values: Record<string, unknown>): IDataObject[] {
	return Object.entries(values).map(([ac, value]) => {
		const dynamics = COLUMNS[ac] ?? ac.toLowerCase();
		return { key: pairKey(ac, dynamics), activeCampaign: ac, dynamics, direction: 'both', source: fieldHash(value, ac === 'email') };
	});
}
