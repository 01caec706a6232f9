/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The templates' one preview switch ("Settings" → preview): a preview run of the Initial Sync on the demo data writes
 * nothing to either API and keeps no state, and its write steps list the records the real run then creates and updates
 * (all of them; more only where a later part would read what an earlier part links). The Marketing Activities and
 * Opportunity Sync previews likewise write nothing and list the notes and records their real runs then write. (The
 * webhook templates' previews run in a real n8n: test/e2e/sync.e2e.test.ts.)
 */
import type { IDataObject, INode, IRun } from 'n8n-workflow';

import { SETTINGS_NODE, templates } from '../../../scripts/build-templates';
import { demoWorld } from './demo-world';
import { unexplainedPreviewDifferences } from '../../helpers/preview-compare';

jest.setTimeout(300_000);

const world = demoWorld();
const control = world.control;

/** A template with its Settings step's preview switch set. */
function template(file: string, preview: boolean): { nodes: INode[]; connections: never } {
	const t = JSON.parse(JSON.stringify(templates().find((w) => w.file === file)!.toJSON())) as { nodes: INode[]; connections: never };
	const settings = t.nodes.find((n) => n.name === SETTINGS_NODE)!;
	const { assignments } = settings.parameters.assignments as { assignments: Array<{ name: string; value: unknown }> };
	assignments.find((a) => a.name === 'preview')!.value = preview;
	return t;
}

/** Write requests each sandbox received since its stats were reset (the token endpoint is no write). */
async function writesBySide(): Promise<{ activeCampaign: number; dynamics: number }> {
	const n = { activeCampaign: 0, dynamics: 0 };
	for (const side of ['ac', 'd365'] as const) {
		const stats = await control<{ routes: Record<string, { count: number }> }>(side, 'GET', '/stats');
		for (const [route, entry] of Object.entries(stats.routes)) {
			if (/^(POST|PUT|PATCH|DELETE) /.test(route) && !/oauth2|\(reads\)$/.test(route)) n[side === 'ac' ? 'activeCampaign' : 'dynamics'] += entry.count;
		}
	}
	return n;
}

async function writeCount(): Promise<number> {
	const n = await writesBySide();
	return n.activeCampaign + n.dynamics;
}

/** The Sync report step's item. */
function reportOf(run: IRun): IDataObject {
	return run.data.resultData.runData['Sync report'][0].data!.main[0]![0].json;
}

/**
 * What the write steps of a run did to which record, sorted: "step: operation key" for every record created, updated
 * or imported (a record is named by its email, an account by its name, an opportunity by its external id).
 */
function changes(run: IRun): string[] {
	expect(run.data.resultData.error?.message).toBeUndefined();
	const out: string[] = [];
	for (const [node, tasks] of Object.entries(run.data.resultData.runData)) {
		if (!/^Write /.test(node)) continue;
		for (const task of tasks) {
			for (const item of task.data?.main[0] ?? []) {
				const json = item.json;
				if (!['created', 'updated', 'imported'].includes(String(json.operation))) continue;
				const source = json.source as IDataObject | undefined;
				const key = String(json.email ?? (json.match as IDataObject | undefined)?.email ?? json.name ?? json.externalId ?? source?.id ?? json.id).toLowerCase();
				out.push(`${node}: ${String(json.operation)} ${key}`);
			}
		}
	}
	return out.sort();
}

describe('the templates\' preview switch', () => {
	it('Initial Sync: the preview writes nothing and lists what the real run then creates and updates', async () => {
		await world.reset();
		const { contacts } = await control<{ contacts: IDataObject[] }>('ac', 'GET', '/state/contacts?limit=5000');
		const acEmailsBefore = new Set(contacts.map((c) => String(c.email).toLowerCase()));
		await control('ac', 'POST', '/stats/reset');
		await control('d365', 'POST', '/stats/reset');
		const preview = await world.harness.runFrom(template('initial-sync.json', true).nodes, template('initial-sync.json', true).connections, 'Run now', [{}], 'trigger');
		expect(await writeCount()).toBe(0);
		// No cursor, retry queue or state (n8n creates the empty global object whoever asks for it).
		expect(Object.values(world.harness.savedStatic()).filter((data) => Object.keys(data as IDataObject).length)).toEqual([]);
		const previewed = changes(preview);
		expect(previewed.length).toBeGreaterThan(0);

		const said = reportOf(preview);
		expect(said).toMatchObject({ preview: true, writesNeeded: { activeCampaign: expect.any(Number), dynamics: expect.any(Number) } });
		expect(String(said.summary)).toMatch(/a real run would also send \d+ ActiveCampaign and \d+ Dynamics write requests\.$/);

		const real = await world.harness.runFrom(template('initial-sync.json', false).nodes, template('initial-sync.json', false).connections, 'Run now', [{}], 'trigger');
		expect(await writeCount()).toBeGreaterThan(0);
		const sent = await writesBySide();
		const needed = said.writesNeeded as { activeCampaign: number; dynamics: number };
		// Dynamics: exactly (its writes are decided from what each part reads). ActiveCampaign: the preview's limit above
		// (lead writes it lists that the real run does not make) only adds, and the real run's follow-ups only where
		// ActiveCampaign stores a value otherwise than it was sent.
		expect(needed.dynamics).toBe(sent.dynamics);
		expect(Math.abs(needed.activeCampaign - sent.activeCampaign)).toBeLessThanOrEqual(Math.ceil(sent.activeCampaign * 0.1));
		const done = changes(real);
		// All of it, and more only where a later part reads what an earlier part links (see unexplainedPreviewDifferences).
		expect(unexplainedPreviewDifferences(previewed, done, acEmailsBefore)).toEqual({ missing: [], extra: [] });
	});
});

/** What the write steps of a run said they did (or would do), per step: "operation subject-or-external-id". */
function outcomes(run: IRun, ...steps: string[]): string[] {
	expect(run.data.resultData.error?.message).toBeUndefined();
	return steps
		.flatMap((step) =>
			(run.data.resultData.runData[step] ?? []).flatMap((task) =>
				(task.data?.main[0] ?? []).map((item) => `${step}: ${String(item.json.operation)} ${String(item.json.subject ?? item.json.externalId ?? item.json.id)}`),
			),
		)
		.sort();
}

async function resetStats(): Promise<void> {
	await control('ac', 'POST', '/stats/reset');
	await control('d365', 'POST', '/stats/reset');
}

describe('the preview switch of the templates that run on their own', () => {
	it('Marketing Activities: the preview adds no note and lists the notes the real run then adds', async () => {
		await world.reset();
		await world.harness.runFrom(template('initial-sync.json', false).nodes, template('initial-sync.json', false).connections, 'Run now', [{}], 'trigger');
		// Engagement of the last hours on a contact and a lead (the seed's own is older than 25 hours).
		await control('ac', 'POST', '/engagement', { email: 'maria.garcia@contoso.com', type: 'open', campaignId: 1 });
		await control('ac', 'POST', '/engagement', { email: 'sam.taylor@adatum.com', type: 'click', campaignId: 1 });
		const notes = async () => (await control<{ value: IDataObject[] }>('d365', 'GET', '/state/annotations?top=5000')).value.length;
		const notesBefore = await notes();
		world.harness.resetStaticData();
		await resetStats();
		const marketing = (preview: boolean) => template('marketing-activities.json', preview);
		const preview = await world.harness.runFrom(marketing(true).nodes, marketing(true).connections, 'Run now', [{}], 'trigger');
		expect(await writeCount()).toBe(0);
		expect(await notes()).toBe(notesBefore);
		const said = outcomes(preview, 'Add note to the Dynamics record');
		expect(said.filter((line) => / created /.test(line)).length).toBeGreaterThanOrEqual(2);
		expect(reportOf(preview)).toMatchObject({ preview: true, writesNeeded: { activeCampaign: 0, dynamics: expect.any(Number) } });

		const real = await world.harness.runFrom(marketing(false).nodes, marketing(false).connections, 'Run now', [{}], 'trigger');
		expect(outcomes(real, 'Add note to the Dynamics record')).toEqual(said);
		expect(await notes()).toBe(notesBefore + said.filter((line) => / created /.test(line)).length);
		const sent = await writesBySide();
		expect(sent.dynamics).toBe((reportOf(preview).writesNeeded as IDataObject).dynamics);
		console.log(`[measure] Marketing Activities preview: ${said.length} notes listed, 0 writes; the real run: ${said.length} notes, ${sent.dynamics} Dynamics write requests (the preview said ${String((reportOf(preview).writesNeeded as IDataObject).dynamics)})`);
	});

	it('Opportunity Sync: the preview writes no record and lists the record the real run then writes', async () => {
		await world.reset();
		const opportunities = template('opportunity-sync.json', false);
		const triggerNode = opportunities.nodes.find((n) => n.type.endsWith('.dynamics365Trigger'))!;
		const trigger = { type: 'dynamics365Trigger', name: triggerNode.name, parameters: triggerNode.parameters, credentials: ['dynamics365ClientCredentialsApi'] };
		// The first poll starts from now; the opportunity after it is the one change.
		await world.harness.poll(trigger);
		const contact = (await control<{ value: IDataObject[] }>('d365', 'GET', '/state/contacts?top=5000')).value.find((c) => c.emailaddress1 === 'maria.garcia@contoso.com')!;
		world.sandbox.d365.server.clock.advance(2000);
		await control('d365', 'POST', '/ui/opportunities', {
			name: 'Preview expansion deal',
			estimatedvalue: 2500,
			'customerid_contact@odata.bind': `/contacts(${String(contact.contactid)})`,
		});
		world.sandbox.d365.server.clock.advance(2000);
		const { items } = await world.harness.poll(trigger);
		expect(items).toHaveLength(1);
		const input = items!.map((item) => item.json);
		const schemas = async () => (await control<{ schemas: IDataObject[] }>('ac', 'GET', '/state/customObjects')).schemas ?? [];
		const records = async () => (await control<{ records: IDataObject[] }>('ac', 'GET', '/state/customObjects/d365-opportunity/records')).records;
		const schemasBefore = (await schemas()).length;

		await resetStats();
		const preview = await world.harness.runFrom(template('opportunity-sync.json', true).nodes, template('opportunity-sync.json', true).connections, triggerNode.name, input, 'trigger');
		expect(await writeCount()).toBe(0);
		// Not even the custom object: the schema the real run creates stands in for the steps after it.
		expect((await schemas()).length).toBe(schemasBefore);
		const said = outcomes(preview, 'Write opportunity to ActiveCampaign');
		expect(said).toEqual([expect.stringMatching(/^Write opportunity to ActiveCampaign: created /)]);
		expect(reportOf(preview)).toMatchObject({ preview: true });

		const real = await world.harness.runFrom(opportunities.nodes, opportunities.connections, triggerNode.name, input, 'trigger');
		expect(outcomes(real, 'Write opportunity to ActiveCampaign')).toEqual(said);
		expect((await records()).map((r) => r.externalId)).toEqual([input[0].opportunityid]);
		// The schema and the record: what the preview said the real run would send.
		const sent = await writesBySide();
		expect(sent.activeCampaign).toBe((reportOf(preview).writesNeeded as IDataObject).activeCampaign);
		console.log(`[measure] Opportunity Sync preview: 0 writes; the real run: ${sent.activeCampaign} ActiveCampaign write requests (schema and record; the preview said ${String((reportOf(preview).writesNeeded as IDataObject).activeCampaign)})`);
	});
});
