/* eslint-disable @n8n/community-nodes/no-dangerous-functions, @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The template workflows: the committed files are what the generator writes, every node type exists (ours are
 * registered in package.json, n8n's are known), connections point at existing nodes, each template explains itself
 * in a sticky note, credentials are referenced by name, every write step keeps going per item, and no webhook lets a
 * caller reach a step of this package before it has been checked (Header Auth or a token, then the allow-list).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { executeFilter, type FilterValue } from 'n8n-workflow';

import {
	ALLOWED_USERS_NODE,
	AUTOMATION_TOKEN_NODE,
	FAIL_RUN_NODE,
	FAIL_RUN_ON_ALERT,
	MIN_TOKEN_LENGTH,
	PREVIEWED_OPERATIONS,
	render,
	SALES_ACTION_SECRET_HEADER,
	SETTINGS_NODE,
	templates,
	WEBHOOK_CREDENTIALS,
} from '../../../scripts/build-templates';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; n8n: { nodes: string[] } };
const OUR_NODES = new Set(pkg.n8n.nodes.map((p) => `${pkg.name}.${path.basename(p, '.node.js').replace(/^./, (c) => c.toLowerCase())}`));
const N8N_NODES = new Set([
	'n8n-nodes-base.manualTrigger',
	'n8n-nodes-base.scheduleTrigger',
	'n8n-nodes-base.noOp',
	'n8n-nodes-base.merge',
	'n8n-nodes-base.stickyNote',
	'n8n-nodes-base.webhook',
	'n8n-nodes-base.respondToWebhook',
	'n8n-nodes-base.if',
	'n8n-nodes-base.switch',
	'n8n-nodes-base.set',
	'n8n-nodes-base.html',
	'n8n-nodes-base.stopAndError',
	'n8n-nodes-base.errorTrigger',
]);

describe.each(templates().map((w) => [w.file, w] as const))('workflows/%s', (file, workflow) => {
	const json = workflow.toJSON() as {
		nodes: Array<{ name: string; type: string; credentials?: Record<string, { id: string; name: string }>; onError?: string }>;
		connections: Record<string, { main: Array<Array<{ node: string; index: number }>> }>;
		settings: { executionOrder: string };
	};

	it('is what the generator writes (run npm run templates after changing it)', () => {
		expect(readFileSync(path.join(ROOT, 'workflows', file), 'utf8')).toBe(render(workflow));
	});

	it('has an id n8n keeps static data for (cursors, retries): at most 21 characters', () => {
		const id = (workflow.toJSON() as { id?: string }).id;
		expect(typeof id === 'string' && id.length > 0 && id.length <= 21).toBe(true);
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
			for (const credential of Object.values(node.credentials ?? {})) expect(credential.name).toMatch(/ActiveCampaign|Dynamics 365|webhook secret/);
		}
	});

	it('sends failing records of every write step to its error output instead of stopping the run', () => {
		for (const node of json.nodes.filter((n) => /^(Write|Record)/.test(n.name))) expect(node.onError).toBe('continueErrorOutput');
	});

	it(`ends in the Sync report, whose alert fails the run as "${SETTINGS_NODE}" says`, () => {
		const starts = json.nodes.filter((n) => /Trigger$|\.webhook$/.test(n.type));
		if (starts.some((n) => /webhook|errorTrigger/.test(n.type))) return; // answers a caller, or is the error workflow
		const settings = (json.nodes as TemplateNode[]).find((n) => n.name === SETTINGS_NODE);
		expect(JSON.stringify(settings?.parameters)).toContain(`"name":"${FAIL_RUN_ON_ALERT}","value":true,"type":"boolean"`);
		expect(json.nodes.some((n) => n.type === 'n8n-nodes-ac-d365-sync.acD365SyncReport')).toBe(true);
		expect(json.nodes.some((n) => n.name === FAIL_RUN_NODE && n.type === 'n8n-nodes-base.stopAndError')).toBe(true);
	});

	it('leaves no error output unconnected: each leads to an answer or to "Failed records"', () => {
		for (const node of json.nodes.filter((n) => n.onError === 'continueErrorOutput' && !(n as { disabled?: boolean }).disabled)) {
			const errorOutput = node.type.endsWith('.acD365FieldMap') ? 2 : 1;
			expect({ node: node.name, targets: (json.connections[node.name]?.main[errorOutput] ?? []).length > 0 }).toEqual({ node: node.name, targets: true });
		}
	});

	it('names its manual start "Run now" and lists it first, so the editor\'s run button starts there', () => {
		const starts = json.nodes.filter((n) => /Trigger$|\.webhook$/.test(n.type));
		const manual = starts.filter((n) => n.type === 'n8n-nodes-base.manualTrigger');
		for (const node of manual) expect(node.name).toBe('Run now');
		if (manual.length) expect(starts[0].name).toBe('Run now');
	});

	it('runs in an order fixed by its connections, never by canvas positions', () => {
		// Under execution order v1 n8n runs the nodes a node's outputs lead to top to bottom, by position. So no output
		// may lead to two nodes that then run one after the other — except into a Merge with several inputs, which
		// waits until the rest has run (the "After …" steps), and the one read whose records two mappings split between
		// them (each record goes to one of them). Different outputs of an If, a Switch or a step's error output carry
		// different items: each item takes one way.
		const waits = (name: string) => {
			const target = json.nodes.find((n) => n.name === name)!;
			const inputs = new Set(Object.values(json.connections).flatMap((c) => c.main.flat().filter((t) => t.node === name).map((t) => t.index)));
			return target.type === 'n8n-nodes-base.merge' && inputs.size > 1;
		};
		// A read whose records only go into a waiting Merge writes nothing: two of them may run in either order.
		const readIntoMerge = (name: string) => {
			const node = json.nodes.find((n) => n.name === name)! as { parameters?: { operation?: string } };
			const targets = (json.connections[name]?.main ?? []).flat();
			return ['getAll', 'getMany'].includes(String(node.parameters?.operation)) && targets.length > 0 && targets.every((t) => waits(t.node));
		};
		const SPLITS = new Set(['Read ActiveCampaign contacts', 'ActiveCampaign contact changes']);
		for (const [from, connection] of Object.entries(json.connections)) {
			const source = json.nodes.find((n) => n.name === from)!;
			// The Sync report sends its one item to Report or to Needs Attention, never both: like an If.
			const perItem = /\.(if|switch|acD365SyncReport)$/.test(source.type) || source.onError === 'continueErrorOutput';
			const running = connection.main.map((targets) => targets.filter((t) => !waits(t.node) && !readIntoMerge(t.node)).map((t) => t.node));
			for (const targets of running) if (!SPLITS.has(from)) expect({ from, targets }).toEqual({ from, targets: targets.slice(0, 1) });
			if (!perItem) expect({ from, outputs: running.filter((t) => t.length > 0).length }).toEqual({ from, outputs: Math.min(1, running.flat().length) });
		}
		for (const from of SPLITS) {
			const targets = json.connections[from]?.main[0].map((t) => t.node) ?? [];
			for (const target of targets) expect(json.nodes.find((n) => n.name === target)?.type).toBe('n8n-nodes-ac-d365-sync.acD365FieldMap');
		}
	});

	it('shares each entity\'s mapping by naming the step that defines it (no raw .params expression), with both credentials on every Field Map', () => {
		const maps = (json.nodes as TemplateNode[]).filter((n) => n.type === 'n8n-nodes-ac-d365-sync.acD365FieldMap');
		for (const map of maps) {
			expect(JSON.stringify(map.parameters)).not.toMatch(/\.params/);
			expect(map.parameters.dynamicsAuthentication).toBe('clientCredentials');
			expect(Object.keys(map.credentials ?? {}).sort()).toEqual(['activeCampaignSyncApi', 'dynamics365ClientCredentialsApi']);
			if (map.parameters.mappingSource !== 'node') continue;
			const definer = maps.find((m) => m.name === map.parameters.definitionNode);
			expect(definer?.parameters).toMatchObject({ entity: map.parameters.entity, mappingSource: 'here' });
		}
	});

	it('has one switch that makes the whole run a preview: every step that writes or moves a cursor reads it from Settings', () => {
		const settings = (json.nodes as TemplateNode[]).find((n) => n.name === SETTINGS_NODE);
		// The error workflow writes nothing; every other template previews.
		if (file === 'sync-alerts.json') {
			expect(settings).toBeUndefined();
			return;
		}
		expect(settings?.type).toBe('n8n-nodes-base.set');
		expect(JSON.stringify(settings!.parameters)).toContain('"name":"preview","value":false,"type":"boolean"');
		// Operations of ours that write nothing and move nothing.
		const READS = new Set(['get', 'getMany', 'getStatus', 'contact.get', 'contact.getAll', 'account.get', 'account.getAll', 'customObject.getAllRecords', 'contact.getActivities']);
		for (const node of json.nodes as TemplateNode[]) {
			const kind = node.type.replace('n8n-nodes-ac-d365-sync.', '');
			if (kind !== 'dynamics365' && kind !== 'activeCampaignSync') continue;
			const { resource, operation } = node.parameters as { resource: string; operation: string };
			const op = kind === 'dynamics365' ? operation : `${resource}.${operation}`;
			if (READS.has(op)) continue;
			expect({ node: node.name, op, previewed: PREVIEWED_OPERATIONS[kind].includes(op) }).toEqual({ node: node.name, op, previewed: true });
			expect({ node: node.name, preview: node.parameters.preview }).toEqual({ node: node.name, preview: `={{ $('${SETTINGS_NODE}').first().json.preview }}` });
		}
	});

	it('reads once per run where a read follows a step with several items', () => {
		for (const node of json.nodes.filter((n) => /^(Read |Dynamics \w+ changes|ActiveCampaign \w+ changes)/.test(n.name) && n.type !== 'n8n-nodes-ac-d365-sync.dynamics365Trigger')) {
			const parents = Object.entries(json.connections).filter(([, c]) => c.main.flat().some((t) => t.node === node.name)).map(([from]) => from);
			if (parents.some((p) => json.nodes.find((n) => n.name === p)?.type === 'n8n-nodes-base.merge' || /^Prepare/.test(p))) {
				expect({ node: node.name, executeOnce: (node as { executeOnce?: boolean }).executeOnce }).toEqual({ node: node.name, executeOnce: true });
			}
		}
	});
});

// ----------------------------------------------------------------------------------------------- README pictures

describe('Preview (No Writes)', () => {
	// n8n drops a parameter its node does not show for the operation: a switch the node hides would be no switch.
	it.each(Object.entries(PREVIEWED_OPERATIONS))('%s shows the switch on every operation the templates preview', async (kind, operations) => {
		const { Dynamics365 } = await import('../../../nodes/Dynamics365/Dynamics365.node');
		const { ActiveCampaignSync } = await import('../../../nodes/ActiveCampaignSync/ActiveCampaignSync.node');
		const description = kind === 'dynamics365' ? new Dynamics365().description : new ActiveCampaignSync().description;
		const previews = description.properties.filter((p) => p.name === 'preview');
		for (const op of operations) {
			const [resource, operation] = kind === 'dynamics365' ? ['contact', op] : op.split('.');
			const shown = previews.some((p) => {
				const show = p.displayOptions?.show ?? {};
				return (!show.resource || show.resource.includes(resource)) && (!show.operation || show.operation.includes(operation));
			});
			expect({ op, shown }).toEqual({ op, shown: true });
		}
	});
});

describe('README', () => {
	it('every image it shows exists', () => {
		const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
		const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img[^>]+src="([^"]+)"/g)].map((m) => m[1] ?? m[2]).filter((src) => !/^https?:/.test(src));
		for (const image of images) expect({ image, exists: existsSync(path.join(ROOT, image)) }).toEqual({ image, exists: true });
	});
});

// ----------------------------------------------------------------------------------------------- webhook callers

interface TemplateNode {
	name: string;
	type: string;
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
}
interface TemplateJson {
	nodes: TemplateNode[];
	connections: Record<string, { main: Array<Array<{ node: string }>> }>;
}

const json = (file: string) => templates().find((w) => w.file === file)!.toJSON() as unknown as TemplateJson;
const node = (t: TemplateJson, name: string) => t.nodes.find((n) => n.name === name)!;
const outputs = (t: TemplateJson, name: string) => (t.connections[name]?.main ?? []).map((o) => o.map((c) => c.node));

/** Nodes reachable from `start`, never following output `cut.output` of node `cut.node`. */
function reachable(t: TemplateJson, start: string, cut?: { node: string; output: number }): Set<string> {
	const seen = new Set<string>([start]);
	const queue = [start];
	while (queue.length) {
		const from = queue.shift()!;
		outputs(t, from).forEach((targets, index) => {
			if (cut && cut.node === from && cut.output === index) return;
			for (const to of targets) {
				if (seen.has(to)) continue;
				seen.add(to);
				queue.push(to);
			}
		});
	}
	return seen;
}

const OURS = /^n8n-nodes-ac-d365-sync\./;

/**
 * A gate: an If whose false branch only answers 403 (with a reason) and whose true branch is the only way on to any
 * step of this package (each of them reads or writes ActiveCampaign or Dynamics).
 */
function expectGate(t: TemplateJson, hook: string, gate: string, deniedAnswer: RegExp) {
	expect(node(t, gate).type).toBe('n8n-nodes-base.if');
	const [pass, refuse] = outputs(t, gate);
	expect(refuse).toHaveLength(1);
	const denied = node(t, refuse[0]);
	expect(denied.type).toBe('n8n-nodes-base.respondToWebhook');
	expect(denied.parameters.options).toEqual({ responseCode: 403 });
	expect(String(denied.parameters.responseBody)).toMatch(deniedAnswer);
	expect(outputs(t, refuse[0]).flat()).toEqual([]);
	expect(pass.length).toBeGreaterThan(0);

	const ours = t.nodes.filter((n) => OURS.test(n.type)).map((n) => n.name);
	expect(ours.length).toBeGreaterThan(0);
	const all = reachable(t, hook);
	for (const name of ours) expect(all.has(name)).toBe(true);
	const ungated = reachable(t, hook, { node: gate, output: 0 });
	expect(ours.filter((name) => ungated.has(name))).toEqual([]);
}

type Condition = { id: string; leftValue: string; rightValue: string; operator: { type: string; operation: string } };
const conditionsOf = (n: TemplateNode) => (n.parameters.conditions as { conditions: Condition[]; combinator: string });

describe('webhook templates authenticate their callers', () => {
	it('every webhook of every template is authenticated by n8n or followed by a token check', () => {
		for (const workflow of templates()) {
			const t = workflow.toJSON() as unknown as TemplateJson;
			for (const hook of t.nodes.filter((n) => n.type === 'n8n-nodes-base.webhook')) {
				const authenticated = (hook.parameters.authentication ?? 'none') !== 'none';
				const tokenChecked = outputs(t, hook.name).flat().some((next) => next === AUTOMATION_TOKEN_NODE);
				expect([workflow.file, hook.name, authenticated || tokenChecked]).toEqual([workflow.file, hook.name, true]);
				// The answer comes from the workflow (the gate's 403), not from n8n before the checks.
				expect(hook.parameters.responseMode).toBe('responseNode');
			}
		}
	});

	it(`Sales Actions: n8n's Header Auth (credential "${WEBHOOK_CREDENTIALS.salesActions.httpHeaderAuth.name}") refuses callers without the secret`, () => {
		const t = json('sales-actions.json');
		const hook = node(t, 'Sales action from Dynamics');
		expect(hook.parameters.authentication).toBe('headerAuth');
		expect(hook.credentials).toEqual(WEBHOOK_CREDENTIALS.salesActions);
		const note = t.nodes.find((n) => n.type === 'n8n-nodes-base.stickyNote')!;
		expect(String(note.parameters.content)).toContain(SALES_ACTION_SECRET_HEADER);
	});

	it(`Sales Actions: "${ALLOWED_USERS_NODE}" is checked before any step reads or writes a record; others get 403 with the reason`, () => {
		const t = json('sales-actions.json');
		// The list is the webhook's next step: a Set step holding only the list (nothing of the request), shipped empty,
		// which allows nobody.
		expect(outputs(t, 'Sales action from Dynamics')).toEqual([[ALLOWED_USERS_NODE]]);
		const list = node(t, ALLOWED_USERS_NODE);
		expect(list.type).toBe('n8n-nodes-base.set');
		expect(list.parameters.includeOtherFields).toBe(false);
		expect((list.parameters.assignments as { assignments: unknown[] }).assignments).toEqual([expect.objectContaining({ name: 'allowedUsers', value: '' })]);
		const [[gate]] = outputs(t, ALLOWED_USERS_NODE);
		expectGate(t, 'Sales action from Dynamics', gate, /is not allowed to run sales actions; add them under Allowed Dynamics users/);
		// The gate compares the caller's email and user id (as the flow or the button sends them) with the list.
		const condition = JSON.stringify(conditionsOf(node(t, gate)));
		expect(condition).toContain('$json.allowedUsers');
		expect(condition).toContain('body?.userEmail');
		expect(condition).toContain('body?.userId');

		// The comparison itself (the expression is plain JavaScript, as n8n evaluates it).
		const expression = conditionsOf(node(t, gate)).conditions[0].leftValue.replace(/^=\{\{/, '').replace(/\}\}$/, '');
		const allowed = (list: string, body: Record<string, unknown> | undefined) =>
			new Function('$json', '$', `return (${expression});`)({ allowedUsers: list }, () => ({ item: { json: { body } } })) as boolean;
		const entries = 'Maria.Garcia@Contoso.com, {7D1A2B3C-4D5E-4F60-8A9B-0C1D2E3F4A5B}\njonas@northwind.example;';
		expect(allowed(entries, { userEmail: 'maria.garcia@contoso.com' })).toBe(true);
		expect(allowed(entries, { userEmail: ' JONAS@northwind.example ' })).toBe(true);
		expect(allowed(entries, { userId: '7d1a2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b' })).toBe(true);
		expect(allowed(entries, { userId: '{7D1A2B3C-4D5E-4F60-8A9B-0C1D2E3F4A5B}' })).toBe(true);
		expect(allowed(entries, { userEmail: 'maria@contoso.com', userId: '00000000-0000-4000-8000-000000000001' })).toBe(false);
		expect(allowed(entries, { userEmail: 'garcia@contoso.com' })).toBe(false);
		expect(allowed(entries, {})).toBe(false);
		expect(allowed(entries, undefined)).toBe(false);
		expect(allowed('', { userEmail: '' })).toBe(false);
		expect(allowed(' , ', { userEmail: '' })).toBe(false);
	});

	it(`ActiveCampaign automation → Dynamics: the URL's token is checked first ("${AUTOMATION_TOKEN_NODE}", ${MIN_TOKEN_LENGTH}+ characters, none shipped)`, () => {
		const t = json('ac-automation-to-d365.json');
		expect(outputs(t, 'From an ActiveCampaign automation')).toEqual([[AUTOMATION_TOKEN_NODE]]);
		expectGate(t, 'From an ActiveCampaign automation', AUTOMATION_TOKEN_NODE, /Wrong or missing token/);
		// The token is the check's own value (not an item, so no execution data holds it); both conditions must hold.
		const { conditions, combinator } = conditionsOf(node(t, AUTOMATION_TOKEN_NODE));
		expect(combinator).toBe('and');
		const [matches, long] = conditions;
		expect(matches).toMatchObject({ id: 'token-matches', rightValue: '', operator: { type: 'string', operation: 'equals' } });
		expect(matches.leftValue).toContain('query?.token');
		expect(long).toMatchObject({ leftValue: matches.leftValue, operator: { type: 'string', operation: 'regex' } });
		// An empty (unset) token can never pass; a short one neither.
		const pattern = new RegExp(long.rightValue);
		expect(pattern.test('')).toBe(false);
		expect(pattern.test('a'.repeat(MIN_TOKEN_LENGTH - 1))).toBe(false);
		expect(pattern.test('a'.repeat(MIN_TOKEN_LENGTH))).toBe(true);

		// n8n's own filter evaluation (what the If step runs), with the URL's token in place of the expression.
		const passes = (configured: string, sent: string) => {
			const filter = JSON.parse(JSON.stringify(conditionsOf(node(t, AUTOMATION_TOKEN_NODE)))) as FilterValue;
			for (const c of filter.conditions) c.leftValue = sent;
			filter.conditions[0].rightValue = configured;
			return executeFilter(filter, { itemIndex: 0 });
		};
		const token = 'f'.repeat(64);
		expect(passes(token, token)).toBe(true);
		expect(passes(token, token.toUpperCase())).toBe(false);
		expect(passes(token, '')).toBe(false);
		expect(passes('', '')).toBe(false);
		expect(passes('short', 'short')).toBe(false);
	});

	it('Sales Actions answers every request: success, refusal, an unknown action and a failed step', () => {
		const t = json('sales-actions.json');
		const answers = t.nodes.filter((n) => n.type === 'n8n-nodes-base.respondToWebhook');
		const codes = answers.map((a) => (a.parameters.options as { responseCode?: number }).responseCode ?? 200).sort();
		expect(codes).toEqual([200, 200, 400, 403, 502, 503]);
		// Each step that can fail sends its failures (error output) to an answer.
		for (const step of ['Read the Dynamics record', 'Make sure the contact is in ActiveCampaign', 'Add to automation', 'Send campaign']) {
			expect(outputs(t, step)[1]).toEqual(['Answer: failed']);
		}
	});
});
