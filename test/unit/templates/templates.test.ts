/**
 * The template workflows: the committed files are what the generator writes, every node type exists (ours are
 * registered in package.json, n8n's are known), connections point at existing nodes, each template explains itself
 * in a sticky note, credentials are referenced by name, and every write step keeps going per item.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { render, templates } from '../../../scripts/build-templates';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; n8n: { nodes: string[] } };
const OUR_NODES = new Set(pkg.n8n.nodes.map((p) => `${pkg.name}.${path.basename(p, '.node.js').replace(/^./, (c) => c.toLowerCase())}`));
const N8N_NODES = new Set([
	'n8n-nodes-base.manualTrigger',
	'n8n-nodes-base.scheduleTrigger',
	'n8n-nodes-base.noOp',
	'n8n-nodes-base.stickyNote',
	'n8n-nodes-base.webhook',
	'n8n-nodes-base.respondToWebhook',
	'n8n-nodes-base.if',
	'n8n-nodes-base.switch',
]);

describe.each(templates().map((w) => [w.file, w] as const))('workflows/%s', (file, workflow) => {
	const json = workflow.toJSON() as {
		nodes: Array<{ name: string; type: string; credentials?: Record<string, { id: string; name: string }>; onError?: string }>;
		connections: Record<string, { main: Array<Array<{ node: string }>> }>;
		settings: { executionOrder: string };
	};

	it('is what the generator writes (run npm run templates after changing it)', () => {
		expect(readFileSync(path.join(ROOT, 'workflows', file), 'utf8')).toBe(render(workflow));
	});

	it('uses only existing node types, connects existing nodes, and runs in v1 order', () => {
		const names = new Set(json.nodes.map((n) => n.name));
		for (const node of json.nodes) expect(OUR_NODES.has(node.type) || N8N_NODES.has(node.type)).toBe(true);
		for (const [from, connection] of Object.entries(json.connections)) {
			expect(names.has(from)).toBe(true);
			for (const output of connection.main) for (const target of output) expect(names.has(target.node)).toBe(true);
		}
		expect(json.settings.executionOrder).toBe('v1');
		expect(OUR_NODES.has('n8n-nodes-ac-d365-sync.acD365FieldMap')).toBe(true);
	});

	it('explains itself in a sticky note and references credentials by name', () => {
		expect(json.nodes.some((n) => n.type === 'n8n-nodes-base.stickyNote')).toBe(true);
		for (const node of json.nodes) {
			for (const credential of Object.values(node.credentials ?? {})) expect(credential.name).toMatch(/ActiveCampaign|Dynamics 365/);
		}
	});

	it('sends failing records of every write step to its error output instead of stopping the run', () => {
		for (const node of json.nodes.filter((n) => /^(Write|Record)/.test(n.name))) expect(node.onError).toBe('continueErrorOutput');
	});
});
