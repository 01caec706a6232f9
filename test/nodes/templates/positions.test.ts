/**
 * Moving nodes on the canvas does not change what a template does. Under execution order v1, n8n runs the branches of
 * a fan-out top to bottom (by canvas position), so the templates fix every order that matters by connections ("After
 * …" steps that wait for the part before them). Here each template the harness can run is run on the demo seed as
 * shipped, with every node's position mirrored (bottom to top, right to left), and with the positions shuffled among
 * the nodes; the writes to both APIs (method and path, in the order sent) and the records left on both sides must be
 * the same.
 *
 * The webhook templates carry one request's item along If / Switch branches (one item takes one branch): their
 * structure is checked in test/unit/templates (no fan-out that runs two branches).
 */
import type { IConnections, IDataObject, INode } from 'n8n-workflow';

import { templates } from '../../../scripts/build-templates';
import { demoWorld } from './demo-world';

jest.setTimeout(240_000);

interface Template {
	nodes: INode[];
	connections: IConnections;
}

const template = (file: string) => JSON.parse(JSON.stringify(templates().find((w) => w.file === file)!.toJSON())) as Template;

type Layout = 'as shipped' | 'mirrored' | 'shuffled';
const LAYOUTS: Layout[] = ['as shipped', 'mirrored', 'shuffled'];

/** The template with its nodes moved: mirrored on both axes, or each node put where another one was. */
function moved(t: Template, layout: Layout): Template {
	const copy = JSON.parse(JSON.stringify(t)) as Template;
	if (layout === 'mirrored') for (const node of copy.nodes) node.position = [-node.position[0], -node.position[1]];
	if (layout === 'shuffled') {
		// A fixed permutation (a seeded shuffle), so a failure is reproducible.
		let seed = 16;
		const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
		const positions = copy.nodes.map((n) => n.position);
		for (let i = positions.length - 1; i > 0; i--) {
			const j = Math.floor(random() * (i + 1));
			[positions[i], positions[j]] = [positions[j], positions[i]];
		}
		copy.nodes.forEach((node, i) => (node.position = positions[i]));
	}
	return copy;
}

const world = demoWorld();
const { control, reset } = world;

/** The writes since the log was cleared, as "METHOD path", in the order they reached each API. */
async function writes(): Promise<{ ac: string[]; d365: string[] }> {
	const list = async (side: 'ac' | 'd365') =>
		(await control<{ requests: Array<{ method: string; path: string; route: string }> }>(side, 'GET', '/requests?last=2000')).requests
			.filter((r) => /^(POST|PUT|PATCH|DELETE)$/.test(r.method) && !/oauth2|\(reads\)$/.test(r.route))
			.map((r) => `${r.method} ${r.path}`);
	return { ac: await list('ac'), d365: await list('d365') };
}

const VOLATILE = /^(versionnumber|@odata\.etag)$/i;
const TIME = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2})/;

/** Records of both sides without their times and row versions (which follow the clock). */
async function records(): Promise<IDataObject> {
	const strip = (value: unknown): unknown => {
		if (Array.isArray(value)) return value.map(strip);
		if (value && typeof value === 'object') {
			return Object.fromEntries(Object.entries(value as IDataObject).filter(([k]) => !VOLATILE.test(k)).map(([k, v]) => [k, strip(v)]));
		}
		return typeof value === 'string' && TIME.test(value) ? '(time)' : value;
	};
	const ac = await control<IDataObject>('ac', 'GET', '/state/contacts?limit=1000');
	const accounts = await control<IDataObject>('ac', 'GET', '/state/accounts');
	const d365: IDataObject = {};
	for (const set of ['contacts', 'leads', 'accounts', 'annotations']) d365[set] = await control('d365', 'GET', `/state/${set}?top=5000`);
	return strip({ ac, accounts, d365 }) as IDataObject;
}

async function run(t: Template, start: string, items: IDataObject[] = [{}]) {
	const result = await world.harness.runFrom(t.nodes, t.connections as never, start, items, 'trigger');
	expect(result.data.resultData.error?.message).toBeUndefined();
	return result;
}

async function clearLogs(): Promise<void> {
	await control('ac', 'POST', '/stats/reset');
	await control('d365', 'POST', '/stats/reset');
}

/** Some changes people make between two syncs, on both sides. */
async function edit(): Promise<void> {
	const { value: contacts } = await control<{ value: IDataObject[] }>('d365', 'GET', '/state/contacts?top=5');
	await control('d365', 'PATCH', `/ui/contacts/${String(contacts[0].contactid)}`, { jobtitle: 'Head of Moves' });
	await control('d365', 'POST', '/ui/leads', { firstname: 'Pos', lastname: 'Itional', emailaddress1: 'pos.itional@example.org', subject: 'Moved nodes' });
	const { contacts: acContacts } = await control<{ contacts: IDataObject[] }>('ac', 'GET', '/state/contacts?limit=5');
	await control('ac', 'PATCH', `/ui/contacts/${String(acContacts[0].id)}`, { phone: '+1 555 0100' });
	world.sandbox.ac.server.clock.advance(2000);
	world.sandbox.d365.server.clock.advance(2000);
}

describe('moving nodes does not change what a template does', () => {
	it('Initial Sync, then a Scheduled Sync cycle after edits on both sides: the same writes and records in every layout', async () => {
		const outcomes: Record<string, unknown> = {};
		for (const layout of LAYOUTS) {
			await reset();
			await clearLogs();
			await run(moved(template('initial-sync.json'), layout), 'Run now');
			const initial = await writes();
			const initialRecords = await records();

			const scheduled = moved(template('scheduled-sync.json'), layout);
			await run(scheduled, 'Every hour'); // starts the cursors
			await edit();
			await clearLogs();
			await run(scheduled, 'Every hour');
			outcomes[layout] = { initial, initialRecords, cycle: await writes(), cycleRecords: await records() };
		}
		const shipped = outcomes['as shipped'] as { initial: { ac: string[]; d365: string[] }; cycle: { ac: string[]; d365: string[] } };
		// The runs wrote something on both sides (a comparison of nothing proves nothing).
		expect(shipped.initial.ac.length).toBeGreaterThan(10);
		expect(shipped.initial.d365.length).toBeGreaterThan(0);
		expect(shipped.cycle.ac.length + shipped.cycle.d365.length).toBeGreaterThan(0);
		expect(outcomes.mirrored).toEqual(outcomes['as shipped']);
		expect(outcomes.shuffled).toEqual(outcomes['as shipped']);
	});

	it('Marketing Activities: the same notes in every layout', async () => {
		await reset();
		await run(template('initial-sync.json'), 'Run now');
		// Engagement of the last hours on a contact and a lead (the seed's own is older than 25 hours).
		await control('ac', 'POST', '/engagement', { email: 'maria.garcia@contoso.com', type: 'open', campaignId: 1 });
		await control('ac', 'POST', '/engagement', { email: 'sam.taylor@adatum.com', type: 'click', campaignId: 1 });
		const base = await records();
		const outcomes: Record<string, unknown> = {};
		for (const layout of LAYOUTS) {
			// Each layout starts from the same synced state: remove the notes the previous layout added.
			const { value: notes } = await control<{ value: IDataObject[] }>('d365', 'GET', '/state/annotations?top=5000');
			const before = (base.d365 as IDataObject).annotations as { value: IDataObject[] };
			const keep = new Set(before.value.map((n) => n.annotationid));
			for (const note of notes.filter((n) => !keep.has(n.annotationid))) await control('d365', 'DELETE', `/ui/annotations/${String(note.annotationid)}`);
			await clearLogs();
			const result = await run(moved(template('marketing-activities.json'), layout), 'Run now');
			const { value } = await control<{ value: IDataObject[] }>('d365', 'GET', '/state/annotations?top=5000');
			// The Sync report at its end counts the notes it added.
			const report = result.data.resultData.runData['Sync report'][0].data!.main.flatMap((items) => items ?? [])[0].json as { entities: IDataObject[] };
			const reported = report.entities.find((t) => t.entity === 'note')?.created;
			outcomes[layout] = { writes: (await writes()).d365.length, reported, notes: value.filter((n) => !keep.has(n.annotationid)).map((n) => `${String(n._objectid_value)} ${String(n.subject)}`).sort() };
		}
		const shipped = outcomes['as shipped'] as { notes: string[]; reported: number };
		expect(shipped.notes.length).toBeGreaterThan(0);
		expect(shipped.reported).toBe(shipped.notes.length);
		expect(outcomes.mirrored).toEqual(outcomes['as shipped']);
		expect(outcomes.shuffled).toEqual(outcomes['as shipped']);
	});
});

