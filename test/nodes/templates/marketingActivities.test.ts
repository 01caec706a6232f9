/* eslint-disable no-console -- not shipped: a test that prints what it measured */
/**
 * Marketing Activities in real time: each ActiveCampaign webhook delivery (through the ActiveCampaign Sync Trigger's
 * own webhook code) is one activity and one run, whose requests do not depend on how many contacts are linked; a
 * delivery repeated (ActiveCampaign delivers at least once) adds no second note, and the catch-up read of the same
 * activities adds none either (both paths make the same subject).
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { SANDBOX_CREDENTIALS } from '../../sandbox';
import { templates } from '../../../scripts/build-templates';
import { demoWorld } from './demo-world';

jest.setTimeout(600_000);

const world = demoWorld();
const control = world.control;
const HOOK = 'When an email activity happens';

const template = (file: string) =>
	JSON.parse(JSON.stringify(templates().find((w) => w.file === file)!.toJSON())) as {
		nodes: Array<{ name: string; type: string; parameters: IDataObject }> & never[];
		connections: never;
	};

async function resetStats(): Promise<void> {
	await control('ac', 'POST', '/stats/reset');
	await control('d365', 'POST', '/stats/reset');
}

/** Requests per API; Dataverse's table metadata (one `$batch` of reads per table, cached for five minutes) apart. */
async function requests(): Promise<{ activeCampaign: number; dynamics: number; dynamicsWrites: number; dynamicsMetadata: number }> {
	const routes = async (side: 'ac' | 'd365') =>
		Object.entries((await control<{ routes: Record<string, { count: number }> }>(side, 'GET', '/stats')).routes).filter(([route]) => !/oauth2/.test(route));
	const sum = (list: Array<[string, { count: number }]>) => list.reduce((n, [, entry]) => n + entry.count, 0);
	const d365 = await routes('d365');
	const metadata = d365.filter(([route]) => /\(reads\)$/.test(route));
	const data = d365.filter(([route]) => !/\(reads\)$/.test(route));
	return {
		activeCampaign: sum(await routes('ac')),
		dynamics: sum(data),
		dynamicsWrites: sum(data.filter(([route]) => /^(POST|PATCH|PUT|DELETE) /.test(route))),
		dynamicsMetadata: sum(metadata),
	};
}

const notes = async () => (await control<{ value: IDataObject[] }>('d365', 'GET', '/state/annotations?top=5000')).value;

it('real time: two Dynamics requests per activity whatever the number of linked contacts; a repeated delivery and the catch-up add nothing', async () => {
	await world.reset();
	const initial = template('initial-sync.json');
	await world.harness.runFrom(initial.nodes, initial.connections, 'Run now', [{}], 'trigger');
	// The contacts the Initial Sync linked to Dynamics records…
	const { contacts: demo } = await control<{ contacts: Array<{ email: string }> }>('ac', 'GET', '/state/contacts?limit=1000');
	const reallyLinked: Array<{ contact: IDataObject; fields: IDataObject }> = [];
	for (const { email } of demo) {
		const [detail] = (await control<{ contacts: Array<{ contact: IDataObject; fields: IDataObject }> }>('ac', 'GET', `/state/contacts?email=${encodeURIComponent(email)}`)).contacts;
		if (typeof detail?.fields.D365_RECORD_ID === 'string' && detail.fields.D365_RECORD_ID !== '') reallyLinked.push(detail);
	}
	expect(reallyLinked.length).toBeGreaterThan(5);
	// …and 10,000 more linked to Dynamics leads (made-up ids: they have no activities here).
	await control('ac', 'POST', '/seed', { contacts: 10_000, linkedAsLeads: true });
	const linked = { length: reallyLinked.length + 10_000 };

	// ActiveCampaign's webhook for the email events (as the trigger registers it on publishing), and 50 activities a
	// minute apart on the contacts the Initial Sync linked.
	const acApi = (method: string, route: string, body?: unknown) =>
		fetch(`${world.sandbox.ac.url}/api/3${route}`, { method, headers: { 'Api-Token': SANDBOX_CREDENTIALS.acApiKey, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
	const hookNode = template('marketing-activities.json').nodes.find((n) => n.name === HOOK)!;
	const created = await acApi('POST', '/webhooks', {
		webhook: { name: 'n8n-webhook:test', url: 'http://127.0.0.1:9/not-listening', events: hookNode.parameters.events, sources: hookNode.parameters.sources },
	});
	expect(created.status).toBe(201);
	const kinds = ['sent', 'open', 'click'];
	for (let i = 0; i < 50; i++) {
		world.sandbox.ac.server.clock.advance(60_000);
		await control('ac', 'POST', '/engagement', { contactId: Number(reallyLinked[i % reallyLinked.length].contact.id), type: kinds[i % 3], campaignId: 1 + (i % 2) });
	}
	const { deliveries } = await control<{ deliveries: Array<{ body: string; type: string }> }>('ac', 'GET', '/state/webhookDeliveries?wait=1');
	expect(deliveries).toHaveLength(50);

	const workflow = template('marketing-activities.json');
	/** One delivery: the trigger's webhook code makes the item, the workflow runs from it (as n8n does). */
	const deliver = async (body: string) => {
		const answer = await world.harness.webhook({ type: 'activeCampaignSyncTrigger', name: HOOK, parameters: hookNode.parameters as never }, { body });
		const items = (answer.workflowData?.[0] ?? []) as INodeExecutionData[];
		expect(items).toHaveLength(1);
		return await world.harness.runFrom(workflow.nodes, workflow.connections, HOOK, items.map((i) => i.json), 'webhook');
	};

	const before = (await notes()).length;
	await resetStats();
	for (const delivery of deliveries) {
		const run = await deliver(delivery.body);
		expect(run.data.resultData.error).toBeUndefined();
		expect(run.data.resultData.runData['Add note for the activity'][0].data!.main[0]![0].json.operation).toBe('created');
	}
	const realTime = await requests();
	console.log(`[measure] Marketing Activities in real time, ${linked.length} linked contacts, 50 activities (50 webhook runs): ${JSON.stringify(realTime)}`);
	expect((await notes()).length).toBe(before + 50);
	expect(realTime).toMatchObject({ activeCampaign: 0, dynamics: 100, dynamicsWrites: 50 });
	expect(realTime.dynamicsMetadata).toBeLessThanOrEqual(1);

	// ActiveCampaign delivers at least once: the same 50 again add nothing (one read each).
	await resetStats();
	for (const delivery of deliveries) await deliver(delivery.body);
	const repeated = await requests();
	console.log(`[measure] the same 50 deliveries again: ${JSON.stringify(repeated)}`);
	expect(repeated).toMatchObject({ activeCampaign: 0, dynamics: 50, dynamicsWrites: 0 });
	expect((await notes()).length).toBe(before + 50);

	// The catch-up reads the same activities from the contacts' feeds: the same subjects, so no note is added.
	await resetStats();
	const catchUp = await world.harness.runFrom(workflow.nodes, workflow.connections, 'Run now', [{}], 'trigger');
	expect(catchUp.data.resultData.error).toBeUndefined();
	const read = await requests();
	console.log(`[measure] catch-up ("Run now") over the same ${linked.length} linked contacts: ${JSON.stringify(read)}`);
	expect(read.dynamicsWrites).toBe(0);
	expect((await notes()).length).toBe(before + 50);
	expect(read.activeCampaign).toBeGreaterThan(linked.length);
});
