/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The world a history runs in: both simulators in this process (started once per test file, reset between
 * histories), the n8n harness with this package's nodes, and the template workflow "Scheduled Sync" as the JSON file
 * users import, run through n8n-core's WorkflowExecute the way a Schedule Trigger starts it (`trigger` mode, static
 * data saved after each execution, last writer wins when two overlap).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { IConnections, IDataObject, INode, IRun } from 'n8n-workflow';

import { ActiveCampaignSyncApi } from '../../credentials/ActiveCampaignSyncApi.credentials';
import { Dynamics365ClientCredentialsApi } from '../../credentials/Dynamics365ClientCredentialsApi.credentials';
import { ActiveCampaignSync } from '../../nodes/ActiveCampaignSync/ActiveCampaignSync.node';
import { ActiveCampaignSyncTrigger } from '../../nodes/ActiveCampaignSync/ActiveCampaignSyncTrigger.node';
import { setAccountRequestsPerSecond } from '../../nodes/ActiveCampaignSync/transport';
import { Dynamics365 } from '../../nodes/Dynamics365/Dynamics365.node';
import { Dynamics365Trigger } from '../../nodes/Dynamics365/Dynamics365Trigger.node';
import { AcD365FieldMap } from '../../nodes/FieldMap/AcD365FieldMap.node';
import { AcD365SyncReport } from '../../nodes/SyncReport/AcD365SyncReport.node';
import { FAIL_RUN_NODE } from '../../scripts/build-templates';
import { N8nHarness } from '../helpers/n8n-harness';
import { SANDBOX_CREDENTIALS, startSandbox, type Sandbox } from '../sandbox';

export const AC_CREDENTIAL = 'activeCampaignSyncApi';
export const D365_CREDENTIAL = 'dynamics365ClientCredentialsApi';
const ROOT = path.resolve(__dirname, '..', '..');

export type Side = 'ac' | 'd365';
export type ConflictPolicy = 'dynamicsWins' | 'activeCampaignWins' | 'newestWins';
export type DeletePolicy = 'keep' | 'flag' | 'propagate';
export type FieldDirection = 'toActiveCampaign' | 'toDynamics';

export interface TemplateJson {
	nodes: INode[];
	connections: IConnections;
	settings?: IDataObject;
}

export function loadTemplate(file: string): TemplateJson {
	return JSON.parse(readFileSync(path.join(ROOT, 'workflows', file), 'utf8')) as TemplateJson;
}

/** The policies a history runs under (Field Map options of the three "Map … to ActiveCampaign" nodes). */
export interface Policies {
	conflict: ConflictPolicy;
	deletePolicy: DeletePolicy;
	/** One standard field synced one way only (a Field Map standard-mapping override), or none. */
	restricted?: { field: 'firstName' | 'phone' | 'jobTitle' | 'website'; direction: FieldDirection };
}

/** Standard-field keys of the Field Map per entity (nodes/shared/sync/mapping.ts STANDARD_FIELDS). */
const STANDARD_KEYS: Record<string, string[]> = {
	contact: ['email', 'firstName', 'lastName', 'phone', 'jobTitle', 'account'],
	lead: ['email', 'firstName', 'lastName', 'phone', 'jobTitle', 'account'],
	account: ['name', 'website', 'phone'],
};

/**
 * The template with a history's policies applied: only the options a user would change in the three "Map … to
 * ActiveCampaign" nodes (the "to Dynamics" nodes read those nodes' parameters, as in the template). Everything else
 * is the template's, unchanged.
 */
export function scheduledSync(policies: Policies, reads: { scanEveryMinutes?: number } = {}): TemplateJson {
	const template = loadTemplate('scheduled-sync.json');
	for (const node of template.nodes) {
		if (reads.scanEveryMinutes && node.type.endsWith('.activeCampaignSync') && node.parameters.operation === 'getChanges') {
			const changeOptions = (node.parameters.changeOptions ??= {}) as IDataObject;
			changeOptions.scanEveryMinutes = reads.scanEveryMinutes;
		}
		if (!node.type.endsWith('.acD365FieldMap') || node.parameters.step !== 'toActiveCampaign') continue;
		const options = (node.parameters.options ??= {}) as IDataObject;
		options.conflictPolicy = policies.conflict;
		options.deletePolicy = policies.deletePolicy;
		const restricted = policies.restricted;
		const entity = String(node.parameters.entity);
		if (restricted && STANDARD_KEYS[entity]?.includes(restricted.field)) {
			node.parameters.standardOverrides = { override: [{ field: restricted.field, enabled: true, direction: restricted.direction }] };
		}
	}
	return template;
}

/**
 * Why a run failed as a whole, if it did: a step that stopped it. A run the template's last step failed on purpose
 * (its Sync report went to Needs Attention and Settings says to fail such runs, for the error workflow) did not crash:
 * the failures that made it do so are on the steps' error outputs, where tests and checks look for them.
 */
export function runError(run: IRun): string | undefined {
	const error = run.data.resultData.error;
	if (!error || run.data.resultData.lastNodeExecuted === FAIL_RUN_NODE) return undefined;
	const description = (error as { description?: string }).description;
	return `${error.message}${description ? ` (${description})` : ''}`;
}

/** The start items of a Schedule Trigger execution (what the trigger emits). */
function scheduleItems(): IDataObject[] {
	const now = new Date();
	return [{ timestamp: now.toISOString(), 'Readable date': now.toUTCString(), Timezone: 'UTC' }];
}

export interface World {
	sandbox: Sandbox;
	harness: N8nHarness;
	control<T = IDataObject>(side: Side, method: string, route: string, body?: unknown): Promise<{ status: number; body: T }>;
	/** Control call that must succeed. */
	must<T = IDataObject>(side: Side, method: string, route: string, body?: unknown): Promise<T>;
	/** Empty seed, raised limits, no faults, clocks reset, new workflow static data; the sync fields prepared. */
	reset(): Promise<void>;
	/** Moves both sandbox clocks forward (a person's edits come after each other and after the last sync). */
	tick(seconds?: number): void;
	/** One Scheduled Sync execution (or `parallel` at once), with the history's policies. */
	runCycle(workflow: TemplateJson, parallel?: number): Promise<IRun[]>;
	close(): Promise<void>;
}

/**
 * n8n-core's engine with the three sync nodes and both credentials pointed at the sandbox, ActiveCampaign's limiter
 * raised to the sandbox's test rate. Shared by the model and the template tests.
 */
export function syncHarness(sandbox: Sandbox): N8nHarness {
	const harness = new N8nHarness({
		// The triggers too: a template that starts with one (Opportunity Sync, Marketing Activities) runs from its items.
		nodes: [Dynamics365, Dynamics365Trigger, ActiveCampaignSync, ActiveCampaignSyncTrigger, AcD365FieldMap, AcD365SyncReport],
		credentialTypes: [ActiveCampaignSyncApi, Dynamics365ClientCredentialsApi],
		credentials: {
			[AC_CREDENTIAL]: { apiUrl: sandbox.ac.url, apiKey: SANDBOX_CREDENTIALS.acApiKey },
			[D365_CREDENTIAL]: {
				environmentUrl: sandbox.d365.url,
				authorityHost: sandbox.d365.url,
				tenantId: SANDBOX_CREDENTIALS.d365TenantId,
				clientId: SANDBOX_CREDENTIALS.d365ClientId,
				clientSecret: SANDBOX_CREDENTIALS.d365ClientSecret,
			},
		},
	});
	setAccountRequestsPerSecond(sandbox.ac.url, 1000);
	return harness;
}

export async function startWorld(): Promise<World> {
	const sandbox = await startSandbox({ seed: 'empty' });
	const harness = syncHarness(sandbox);

	const control = async <T = IDataObject>(side: Side, method: string, route: string, body?: unknown) => {
		const url = side === 'ac' ? sandbox.ac.url : sandbox.d365.url;
		const res = await fetch(`${url}/__sandbox${route}`, {
			method,
			headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : {};
		} catch {
			// keep the text
		}
		return { status: res.status, body: parsed as T };
	};
	const must = async <T = IDataObject>(side: Side, method: string, route: string, body?: unknown) => {
		const res = await control<T>(side, method, route, body);
		if (res.status >= 300) throw new Error(`sandbox ${side} ${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
		return res.body;
	};

	const initialSync = loadTemplate('initial-sync.json');
	const prepareFields = initialSync.nodes.find((n) => n.parameters.operation === 'ensureSyncFields');
	if (!prepareFields) throw new Error('initial-sync.json has no "Prepare sync fields and tags" step');

	return {
		sandbox,
		harness,
		control,
		must,
		async reset() {
			await must('ac', 'POST', '/reset', { seed: 'empty', settings: { requestsPerSecond: 1000 } });
			await must('d365', 'POST', '/reset', { seed: 'empty' });
			await must('ac', 'PUT', '/limits', { requestsPerSecond: 1000 });
			await must('d365', 'PUT', '/limits', { enabled: false });
			harness.resetStaticData();
			// The documented first step (Initial Sync's "Prepare sync fields and tags"): the hidden link and state
			// fields, the account field the standard mapping writes (Phone Number) and the D365 tags.
			const run = await harness.runFrom([{ ...prepareFields, position: [0, 0] }], {}, prepareFields.name, [{}], 'trigger');
			const error = run.data.resultData.error;
			if (error) throw new Error(`Prepare sync fields failed: ${error.message}`);
			await must('ac', 'POST', '/stats/reset');
			await must('d365', 'POST', '/stats/reset');
		},
		tick(seconds = 1) {
			sandbox.ac.server.clock.advance(seconds * 1000);
			sandbox.d365.server.clock.advance(seconds * 1000);
		},
		async runCycle(workflow, parallel = 1) {
			const start = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.scheduleTrigger');
			if (!start) throw new Error('The workflow has no Schedule Trigger');
			const once = async () =>
				await harness.runFrom(workflow.nodes, workflow.connections as never, start.name, scheduleItems(), 'trigger');
			return await Promise.all(Array.from({ length: parallel }, once));
		},
		async close() {
			setAccountRequestsPerSecond(sandbox.ac.url, undefined);
			await sandbox.close();
		},
	};
}
