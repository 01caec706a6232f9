/* eslint-disable @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The smoke set of the compatibility matrix, for one n8n version (./versions.ts): the package installed by hand with
 * npm's default settings on that n8n's Node, loaded (all six nodes listed), both credential tests passing, the
 * Initial Sync on the sandbox's demo data, and a Scheduled Sync cycle that writes nothing when run again. Each
 * smoke-*.e2e.test.ts file runs it for one version, so jest can run them side by side.
 */
import path from 'node:path';

import { startSandbox, type Sandbox } from '../sandbox';
import { PACKAGE_NODE_TYPES, type N8nInstance } from './n8n';
import { PROJECT_ROOT } from './runtime';
import { CREDENTIAL_IDS, newWebhookSecrets, setupN8n, WORKFLOW_IDS } from './setup';
import type { RuntimeSpec } from './versions';

type Json = Record<string, unknown>;

/** A manual install went as the README says: npm's defaults, the package alone (n8n's own n8n-workflow is used). */
export function expectManualInstall(n8n: N8nInstance): void {
	const report = n8n.installReport!;
	console.log(`[install] Node ${report.node}, npm ${report.npm}, ignore-scripts=${report.ignoreScripts}: ${report.installed.join(', ')}`);
	expect(report.ignoreScripts).toBe('false');
	expect(report.installed).toEqual(['n8n-nodes-ac-d365-sync']);
}

/** n8n lists all six nodes of the package (what the editor's node panel loads). */
export async function expectAllNodesListed(n8n: N8nInstance): Promise<void> {
	const listed = new Set((await n8n.nodeTypes()).map((type) => type.name));
	console.log(`[install] n8n lists ${PACKAGE_NODE_TYPES.filter((name) => listed.has(name)).length} of the package's ${PACKAGE_NODE_TYPES.length} nodes`);
	expect(PACKAGE_NODE_TYPES.filter((name) => !listed.has(name))).toEqual([]);
}

export function defineSmokeSuite(name: string, spec: RuntimeSpec): void {
	describe(`smoke set on n8n ${spec.n8n} (Node ${spec.node})`, () => {
		let sandbox: Sandbox;
		let n8n: N8nInstance;

		beforeAll(async () => {
			sandbox = await startSandbox({ seed: 'demo' });
			n8n = await setupN8n({
				userFolder: path.join(PROJECT_ROOT, '.e2e', `smoke-${name}`),
				acUrl: sandbox.ac.url,
				d365Url: sandbox.d365.url,
				runtime: spec,
				build: false, // built once by the global setup
				log: (m) => console.log(`[smoke ${spec.n8n}] ${m}`),
				webhookSecrets: newWebhookSecrets(),
			});
		});

		afterAll(async () => {
			await n8n?.stop();
			await sandbox?.close();
		});

		async function control<T = Json>(side: 'ac' | 'd365', method: string, route: string): Promise<T> {
			const url = side === 'ac' ? sandbox.ac.url : sandbox.d365.url;
			const res = await fetch(`${url}/__sandbox${route}`, { method });
			const text = await res.text();
			if (!res.ok) throw new Error(`${side} ${method} ${route}: ${res.status} ${text}`);
			return JSON.parse(text) as T;
		}

		/** Write requests to each API since the last reset (token requests and read-only $batch calls are no writes). */
		async function writes(): Promise<{ ac: number; d365: number }> {
			const count = (stats: { routes: Record<string, { count: number }> }) =>
				Object.entries(stats.routes)
					.filter(([route]) => /^(POST|PUT|PATCH|DELETE) /.test(route) && !/oauth2|\(reads\)$/.test(route))
					.reduce((n, [, entry]) => n + entry.count, 0);
			return { ac: count(await control('ac', 'GET', '/stats')), d365: count(await control('d365', 'GET', '/stats')) };
		}

		async function resetStats(): Promise<void> {
			await control('ac', 'POST', '/stats/reset');
			await control('d365', 'POST', '/stats/reset');
		}

		it('installs by hand with npm defaults, without a second n8n-workflow', () => {
			expectManualInstall(n8n);
		});

		it('Initial Sync: the demo data ends on both sides', async () => {
			const result = await n8n.execute(WORKFLOW_IDS.initialSync);
			// Every record synced: no failed record (they would also fail the run, with the report's summary).
			expect({ error: result.error, failed: result.items('Failed records') }).toEqual({ error: undefined, failed: [] });
			const contacts = (await control<{ value: Json[] }>('d365', 'GET', '/state/contacts?top=5000')).value;
			expect(contacts.length).toBeGreaterThan(0);
			for (const contact of contacts) {
				const { contacts: found } = await control<{ contacts: Json[] }>('ac', 'GET', `/state/contacts?email=${encodeURIComponent(String(contact.emailaddress1))}`);
				expect(found).toHaveLength(1);
				expect((found[0].fields as Json).D365_RECORD_ID).toBe(`contact:${contact.contactid}`);
			}
		});

		it('Scheduled Sync: a cycle, then a rerun that writes nothing', async () => {
			const first = await n8n.execute(WORKFLOW_IDS.scheduledSync);
			expect(first.error).toBeUndefined();
			await resetStats();
			const rerun = await n8n.execute(WORKFLOW_IDS.scheduledSync);
			expect(rerun.error).toBeUndefined();
			const counted = await writes();
			console.log(`[measure] n8n ${spec.n8n}, Scheduled Sync rerun: ${JSON.stringify(counted)}`);
			expect(counted).toEqual({ ac: 0, d365: 0 });
		});

		describe('in a running n8n', () => {
			beforeAll(async () => {
				await n8n.start();
			});

			it('lists all six nodes', async () => {
				await expectAllNodesListed(n8n);
			});

			it('tests both credentials from the credential screen', async () => {
				for (const id of [CREDENTIAL_IDS.activeCampaign, CREDENTIAL_IDS.dynamics]) {
					const credential = await n8n.rest<Json>('GET', `/credentials/${id}?includeData=true`);
					const result = await n8n.rest<Json>('POST', '/credentials/test', { credentials: credential });
					expect(result).toMatchObject({ status: 'OK' });
				}
			});
		});
	});
}
