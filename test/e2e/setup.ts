/* eslint-disable @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Sets up a real n8n for end-to-end tests and the demo: the built package packed and installed like a manual community
 * install, the templates imported, credentials pointing at a running sandbox.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ALLOWED_USERS_NODE, AUTOMATION_TOKEN_NODE, SALES_ACTION_SECRET_HEADER, WEBHOOK_CREDENTIALS } from '../../scripts/build-templates';
import { SANDBOX_CREDENTIALS } from '../sandbox';
import { freePort, N8nInstance, packPackage, templateFiles } from './n8n';
import { ensureRuntime, PROJECT_ROOT, run } from './runtime';
import type { RuntimeSpec } from './versions';

export const CREDENTIAL_IDS = {
	activeCampaign: 'acSyncCredential1',
	dynamics: 'd365SyncCredentl',
	salesActionsSecret: WEBHOOK_CREDENTIALS.salesActions.httpHeaderAuth.id,
} as const;

/** The sandbox's human Dynamics user (seeded by the Dataverse simulator), allowed to run sales actions by default. */
export const SANDBOX_SALES_USER = 'sales.user@sandbox.onmicrosoft.com';

/**
 * The secrets the webhook templates check, made for one installation: the Sales Actions header secret (stored in the
 * Header Auth credential) and the ActiveCampaign automation token (put into the template's token step). Fresh random
 * values every time; they are never printed.
 */
export interface WebhookSecrets {
	salesActionsSecret: string;
	automationToken: string;
}

export function newWebhookSecrets(): WebhookSecrets {
	return { salesActionsSecret: randomBytes(32).toString('hex'), automationToken: randomBytes(32).toString('hex') };
}

export interface SetupOptions {
	/** Folder for n8n's data; wiped first unless `keep` is set. */
	userFolder: string;
	acUrl: string;
	d365Url: string;
	port?: number;
	log?: (message: string) => void;
	/** Build the package first (tsc + assets). */
	build?: boolean;
	/** Change a template before it is imported (by file name). */
	editTemplate?: (file: string, workflow: TemplateJson) => TemplateJson;
	/** More workflows to import, made from the templates (by file name), e.g. a copy with another conflict policy. */
	extraWorkflows?: (templates: Record<string, TemplateJson>) => TemplateJson[];
	env?: NodeJS.ProcessEnv;
	/** The webhook secrets of this installation (see newWebhookSecrets). */
	webhookSecrets: WebhookSecrets;
	/** Who may run sales actions ("Allowed Dynamics users"); default: the sandbox's sales user. */
	allowedDynamicsUsers?: string[];
	/** Which n8n (and Node) to run: default the pinned one (./versions.ts). */
	runtime?: RuntimeSpec;
	/** More credentials to import (e.g. n8n's built-in ActiveCampaign credential for the benchmark). */
	extraCredentials?: Array<{ id: string; name: string; type: string; data: Record<string, unknown> }>;
}

export interface TemplateJson {
	id: string;
	name: string;
	nodes: Array<{ name: string; type: string; parameters: Record<string, unknown>; disabled?: boolean; [k: string]: unknown }>;
	[k: string]: unknown;
}

/** The credentials of the templates, filled in for the sandbox. */
export function sandboxCredentials(acUrl: string, d365Url: string, secrets: WebhookSecrets) {
	return [
		{
			id: CREDENTIAL_IDS.activeCampaign,
			name: 'ActiveCampaign',
			type: 'activeCampaignSyncApi',
			data: { apiUrl: acUrl, apiKey: SANDBOX_CREDENTIALS.acApiKey },
		},
		{
			id: CREDENTIAL_IDS.dynamics,
			name: 'Dynamics 365 (client credentials)',
			type: 'dynamics365ClientCredentialsApi',
			data: {
				environmentUrl: d365Url,
				authorityHost: d365Url,
				tenantId: SANDBOX_CREDENTIALS.d365TenantId,
				clientId: SANDBOX_CREDENTIALS.d365ClientId,
				clientSecret: SANDBOX_CREDENTIALS.d365ClientSecret,
			},
		},
		{
			id: CREDENTIAL_IDS.salesActionsSecret,
			name: WEBHOOK_CREDENTIALS.salesActions.httpHeaderAuth.name,
			type: 'httpHeaderAuth',
			data: { name: SALES_ACTION_SECRET_HEADER, value: secrets.salesActionsSecret },
		},
	];
}

/**
 * Fills in what an admin configures in the webhook templates: the allowed Dynamics users (a Set step's field) and the
 * automation token (the value the token check compares the URL's token with).
 */
export function configureWebhookTemplate(file: string, workflow: TemplateJson, secrets: WebhookSecrets, allowedUsers: string[]): TemplateJson {
	const step = (nodeName: string) => {
		const node = workflow.nodes.find((n) => n.name === nodeName);
		if (!node) throw new Error(`${file} has no step "${nodeName}"`);
		return node;
	};
	if (file === 'sales-actions.json') {
		const assignments = (step(ALLOWED_USERS_NODE).parameters.assignments as { assignments: Array<{ value: string }> }).assignments;
		assignments[0].value = allowedUsers.join(', ');
	}
	if (file === 'ac-automation-to-d365.json') {
		const conditions = (step(AUTOMATION_TOKEN_NODE).parameters.conditions as { conditions: Array<{ id: string; rightValue: string }> }).conditions;
		conditions.find((c) => c.id === 'token-matches')!.rightValue = secrets.automationToken;
	}
	return workflow;
}

export async function setupN8n(options: SetupOptions): Promise<N8nInstance> {
	const log = options.log ?? ((m: string) => console.log(m));
	const runtime = await ensureRuntime(log, options.runtime);
	if (options.build !== false) {
		log('Building the package…');
		await run('npm', ['run', 'build', '--silent'], { cwd: PROJECT_ROOT }, log);
	}
	rmSync(options.userFolder, { recursive: true, force: true });
	mkdirSync(options.userFolder, { recursive: true });
	const tarball = await packPackage(path.join(options.userFolder, 'pack'));
	const n8n = new N8nInstance(runtime, {
		userFolder: options.userFolder,
		port: options.port ?? (await freePort()),
		log,
		env: options.env,
	});
	log(`Installing ${path.basename(tarball)} into n8n's community nodes folder…`);
	await n8n.installPackage(tarball);

	const importDir = path.join(options.userFolder, 'import');
	mkdirSync(importDir, { recursive: true });
	const credentialsFile = path.join(importDir, 'credentials.json');
	writeFileSync(credentialsFile, JSON.stringify([...sandboxCredentials(options.acUrl, options.d365Url, options.webhookSecrets), ...(options.extraCredentials ?? [])], null, 2), {
		mode: 0o600,
	});
	log('Importing the credentials and the template workflows…');
	try {
		await n8n.importCredentials(credentialsFile);
	} finally {
		// n8n keeps them encrypted; the plain file is not needed any more.
		rmSync(credentialsFile, { force: true });
	}
	const allowedUsers = options.allowedDynamicsUsers ?? [SANDBOX_SALES_USER];
	const workflowsDir = path.join(importDir, 'workflows');
	mkdirSync(workflowsDir, { recursive: true });
	const templates: Record<string, TemplateJson> = {};
	for (const file of templateFiles()) {
		let workflow = configureWebhookTemplate(
			path.basename(file),
			JSON.parse(readFileSync(file, 'utf8')) as TemplateJson,
			options.webhookSecrets,
			allowedUsers,
		);
		if (options.editTemplate) workflow = options.editTemplate(path.basename(file), workflow);
		templates[path.basename(file)] = workflow;
		writeFileSync(path.join(workflowsDir, path.basename(file)), JSON.stringify(workflow, null, 2));
	}
	for (const workflow of options.extraWorkflows?.(templates) ?? []) {
		writeFileSync(path.join(workflowsDir, `${workflow.id}.json`), JSON.stringify(workflow, null, 2));
	}
	await n8n.importWorkflows(workflowsDir);
	return n8n;
}

/** Template workflow ids, by file. */
export const WORKFLOW_IDS = {
	initialSync: 'acd365InitialSync',
	scheduledSync: 'acd365ScheduledSync',
	opportunities: 'acd365Opportunities',
	marketingActivities: 'acd365MarketingAct',
	salesActions: 'acd365SalesActions',
	automationToDynamics: 'acd365FromAutomation',
	syncAlerts: 'acd365SyncAlerts',
} as const;
