/**
 * The AC-D365 Field Map through n8n's engine, fed by the real read nodes against the sandbox: every entity in both
 * directions, and round trips through the write nodes that prove the state-hash contract (an echo of the sync's own
 * write is recognised on the way back).
 */
import type { IDataObject, INode, IRun } from 'n8n-workflow';

import { ActiveCampaignSyncApi } from '../../../credentials/ActiveCampaignSyncApi.credentials';
import { Dynamics365ClientCredentialsApi } from '../../../credentials/Dynamics365ClientCredentialsApi.credentials';
import { ActiveCampaignSync } from '../../../nodes/ActiveCampaignSync/ActiveCampaignSync.node';
import { setAccountRequestsPerSecond } from '../../../nodes/ActiveCampaignSync/transport';
import { Dynamics365 } from '../../../nodes/Dynamics365/Dynamics365.node';
import { AcD365FieldMap } from '../../../nodes/FieldMap/AcD365FieldMap.node';
import { N8nHarness, type NodeSpec } from '../../helpers/n8n-harness';
import { SANDBOX_CREDENTIALS, startSandbox, type Sandbox } from '../../sandbox';

const AC = 'activeCampaignSyncApi';
const D365 = 'dynamics365ClientCredentialsApi';

let sandbox: Sandbox;
let harness: N8nHarness;

beforeAll(async () => {
	sandbox = await startSandbox({ seed: 'demo' });
	await control('ac', 'PUT', '/limits', { requestsPerSecond: 1000 });
	await control('d365', 'PUT', '/limits', { enabled: false });
	setAccountRequestsPerSecond(sandbox.ac.url, 1000);
	harness = new N8nHarness({
		nodes: [Dynamics365, ActiveCampaignSync, AcD365FieldMap],
		credentialTypes: [ActiveCampaignSyncApi, Dynamics365ClientCredentialsApi],
		credentials: {
			[AC]: { apiUrl: sandbox.ac.url, apiKey: SANDBOX_CREDENTIALS.acApiKey },
			[D365]: {
				environmentUrl: sandbox.d365.url,
				authorityHost: sandbox.d365.url,
				tenantId: SANDBOX_CREDENTIALS.d365TenantId,
				clientId: SANDBOX_CREDENTIALS.d365ClientId,
				clientSecret: SANDBOX_CREDENTIALS.d365ClientSecret,
			},
		},
	});
});

afterAll(async () => {
	setAccountRequestsPerSecond(sandbox.ac.url, undefined);
	await sandbox.close();
});

async function control(side: 'ac' | 'd365', method: string, path: string, body?: unknown) {
	const url = side === 'ac' ? sandbox.ac.url : sandbox.d365.url;
	const res = await fetch(`${url}/__sandbox${path}`, {
		method,
		headers: { 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return (await res.json()) as IDataObject & IDataObject[];
}

const readDynamics = (resource: string, extra: IDataObject = {}): NodeSpec => ({
	type: 'dynamics365',
	name: 'Read Dynamics',
	credentials: [D365],
	parameters: {
		authentication: 'clientCredentials',
		resource,
		operation: 'getMany',
		returnAll: true,
		options: { formattedValues: true, ...(resource === 'opportunity' ? { includeRelatedContactEmail: true } : {}), ...extra },
	},
});

const readActiveCampaign = (resource: 'contact' | 'account'): NodeSpec => ({
	type: 'activeCampaignSync',
	name: 'Read ActiveCampaign',
	credentials: [AC],
	parameters: { resource, operation: 'getAll', returnAll: true, getAllOptions: { details: true } },
});

const fieldMap = (name: string, parameters: IDataObject): NodeSpec => ({
	type: 'acD365FieldMap',
	name,
	parameters: { mappingSource: 'here', ...parameters },
});

/** Runs a chain of nodes (each feeding the next on its first output). */
async function chain(specs: NodeSpec[]): Promise<IRun> {
	const nodes: INode[] = specs.map((spec, i) => harness.toNode(spec, [i * 220, 0]));
	const connections: Record<string, { main: Array<Array<{ node: string; type: 'main'; index: number }>> }> = {};
	for (let i = 0; i + 1 < nodes.length; i++) {
		connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	}
	const run = await harness.runWorkflow(nodes, connections as never);
	const error = run.data.resultData.error;
	if (error) throw new Error(`${error.message} ${(error as { description?: string }).description ?? ''}`);
	return run;
}

function output(run: IRun, node: string, index = 0): IDataObject[] {
	return (run.data.resultData.runData[node]?.[0]?.data?.main?.[index] ?? []).map((item) => item.json);
}

/** Maps the given Dynamics contacts with one custom mapping, the Field Map continuing on its error output. */
async function mapWithCustom(custom: IDataObject[], records: unknown[]): Promise<IRun> {
	const definition = { entity: 'contact', syncDirection: 'dynamicsToActiveCampaign', custom };
	const input: INode = {
		id: 'Items',
		name: 'Items',
		type: 'harness.items',
		typeVersion: 1,
		position: [0, 0],
		parameters: { items: JSON.stringify(records) },
	};
	const map = harness.toNode(
		{
			...fieldMap('Map', { entity: 'contact', step: 'toActiveCampaign', mappingSource: 'json', mappingJson: JSON.stringify(definition) }),
			onError: 'continueErrorOutput',
		},
		[220, 0],
	);
	return await harness.runWorkflow([input, map], { Items: { main: [[{ node: 'Map', type: 'main', index: 0 }]] } } as never);
}

describe('Field Map through n8n with records read from the sandbox', () => {
	it.each([
		['lead', 15],
		['contact', 20],
		['account', 8],
	])('maps every Dynamics %s to an ActiveCampaign-shaped sync item', async (entity, total) => {
		const run = await chain([readDynamics(entity), fieldMap('Map', { entity, step: 'toActiveCampaign' })]);
		const mapped = output(run, 'Map');
		const skipped = output(run, 'Map', 1);
		expect(mapped.length + skipped.length).toBe(total);
		expect(mapped.length).toBeGreaterThan(total / 2);
		for (const item of mapped) {
			expect(item).toMatchObject({ entity, direction: 'toActiveCampaign', source: { system: 'dynamics' } });
			expect((item.source as IDataObject).hash).toMatch(/^[0-9a-f]{16}$/);
		}
		if (entity === 'contact') {
			const maria = mapped.find((i) => (i.match as IDataObject).email === 'maria.garcia@contoso.com')!;
			expect(maria.record).toMatchObject({ email: 'maria.garcia@contoso.com', firstName: 'Maria', lastName: 'Garcia', accountName: 'Contoso Ltd' });
			expect(maria.tags).toEqual(['[D365: Contact]', '[D365: Pushed from Dynamics]']);
		}
		for (const item of skipped) expect(item.skipReason).toEqual(expect.any(String));
	});

	it('puts a record whose values do not convert on the error output (On Error: Continue using error output), the rest on Mapped', async () => {
		const contact = (n: number, birthday: string) => ({
			contactid: `00000000-0000-4000-8000-00000000000${n}`,
			emailaddress1: `person${n}@example.com`,
			lastname: `Person ${n}`,
			new_birthday: birthday,
			modifiedon: '2026-05-01T10:00:00Z',
		});
		const run = await mapWithCustom(
			[{ dynamics: { name: 'new_birthday', type: 'dateonly' }, activeCampaign: { key: 'BIRTHDAY', type: 'date' } }],
			[contact(1, '1990-04-12'), contact(2, 'soon'), contact(3, '1985-01-31')],
		);
		expect(run.data.resultData.error).toBeUndefined();
		expect(output(run, 'Map').map((m) => (m.record as IDataObject).email)).toEqual(['person1@example.com', 'person3@example.com']);
		expect(output(run, 'Map', 1)).toEqual([]);
		// n8n's error output: the reason, paired with the input record it came from.
		const errors = run.data.resultData.runData.Map[0].data!.main[2]!;
		expect(errors.map((e) => [e.json.error, e.pairedItem])).toEqual([
			[
				'Cannot map contact 00000000-0000-4000-8000-000000000002: Dynamics "new_birthday" → ActiveCampaign "BIRTHDAY": "soon" is not a date',
				{ item: 1 },
			],
		]);
	});

	it('an object or a list for a text field is an error naming the field, never "[object Object]" or "a,b"', async () => {
		const contact = (n: number, notes: unknown) => ({
			contactid: `00000000-0000-4000-8000-00000000001${n}`,
			emailaddress1: `text${n}@example.com`,
			lastname: `Text ${n}`,
			new_notes: notes,
			modifiedon: '2026-05-01T10:00:00Z',
		});
		const run = await mapWithCustom(
			[{ dynamics: { name: 'new_notes', type: 'memo' }, activeCampaign: { key: 'NOTES', type: 'textarea' } }],
			[contact(1, 'plain'), contact(2, { a: 1 }), contact(3, ['a', 'b'])],
		);
		expect(output(run, 'Map').map((m) => (m.record as IDataObject).email)).toEqual(['text1@example.com']);
		const errors = run.data.resultData.runData.Map[0].data!.main[2]!.map((e) => String(e.json.error));
		expect(errors).toEqual([
			expect.stringMatching(/Dynamics "new_notes" → ActiveCampaign "NOTES": an object \(\{"a":1\}\) is not text/),
			expect.stringMatching(/Dynamics "new_notes" → ActiveCampaign "NOTES": a list \(\["a","b"\]\) is not text/),
		]);
	});

	it('maps Dynamics opportunities with their fixed fields and the related contact email', async () => {
		const run = await chain([readDynamics('opportunity'), fieldMap('Map', { entity: 'opportunity' })]);
		const mapped = output(run, 'Map');
		const skipped = output(run, 'Map', 1);
		expect(mapped.length + skipped.length).toBe(6);
		expect(mapped.length).toBeGreaterThan(0);
		for (const item of mapped) {
			const fields = (item.record as IDataObject).fields as IDataObject;
			expect(Object.keys(fields)).toEqual(['name', 'estimated-revenue', 'estimated-close-date', 'actual-revenue', 'stage']);
			expect((item.related as IDataObject).contactEmail).toMatch(/@/);
			expect(typeof fields['estimated-revenue']).toBe('number');
		}
		for (const item of skipped) expect(item.skipReason).toMatch(/related contact/);
	});

	it('maps ActiveCampaign contacts and accounts to Dynamics-shaped records', async () => {
		const leads = await chain([
			readActiveCampaign('contact'),
			fieldMap('Map', {
				entity: 'lead',
				step: 'toDynamics',
				requiredDefaults: { default: [{ column: 'subject', value: 'From ActiveCampaign' }] },
				options: { untaggedContacts: 'lead', timeZone: '-05:00' },
			}),
		]);
		const mappedLeads = output(leads, 'Map');
		expect(mappedLeads).toHaveLength(25);
		const sam = mappedLeads.find((i) => (i.match as IDataObject).email === 'sam.taylor@adatum.com')!;
		expect(sam).toMatchObject({
			direction: 'toDynamics',
			record: { emailaddress1: 'sam.taylor@adatum.com', firstname: 'Sam', lastname: 'Taylor' },
			createOnly: { subject: 'From ActiveCampaign' },
			tags: ['[D365: Lead]', '[D365: Pulled from ActiveCampaign]'],
		});

		const accounts = await chain([readActiveCampaign('account'), fieldMap('Map', { entity: 'account', step: 'toDynamics' })]);
		const mappedAccounts = output(accounts, 'Map');
		expect(mappedAccounts.map((i) => (i.record as IDataObject).name).sort()).toEqual([
			'Coho Winery',
			'Contoso Ltd',
			'Fabrikam Inc',
			'Proseware Inc',
			'Trey Research',
		]);
	});

	it('offers live Dynamics columns with their types, and only type-compatible ActiveCampaign fields', async () => {
		const spec = (parameters: IDataObject, loadOptionsPath?: string): NodeSpec => ({
			type: 'acD365FieldMap',
			name: 'Map',
			credentials: [AC, D365],
			parameters: { entity: 'contact', dynamicsAuthentication: 'clientCredentials', ...parameters },
			loadOptionsPath,
		});
		const columns = (await harness.loadOptions(spec({}), 'loadOptions', 'getDynamicsColumns')) as Array<{ value: string; description: string }>;
		const values = columns.map((c) => c.value);
		expect(values).toEqual(expect.arrayContaining(['emailaddress1|string', 'new_birthday|dateonly', 'new_interests|multiselect', 'new_annualbudget|money', 'new_isvip|boolean']));
		expect(columns.find((c) => c.value === 'lastname|string')?.description).toMatch(/required/);

		const row = (dynamicsField: string) =>
			spec({ customMappings: { mapping: [{ dynamicsField }] } }, 'parameters.customMappings.mapping[0].activeCampaignField');
		const forDate = (await harness.loadOptions(row('new_birthday|dateonly'), 'loadOptions', 'getCompatibleActiveCampaignFields')) as Array<{ value: string }>;
		expect(forDate.map((o) => o.value)).toEqual(['BIRTHDAY|date']);
		const forChoices = (await harness.loadOptions(row('new_interests|multiselect'), 'loadOptions', 'getCompatibleActiveCampaignFields')) as Array<{ value: string }>;
		expect(forChoices.map((o) => o.value).sort()).toEqual(['INTERESTS|checkbox', 'SEGMENT|listbox']);
	});

	it('checks required columns against live metadata when Dynamics is connected', async () => {
		await expect(
			chain([
				readActiveCampaign('contact'),
				{ ...fieldMap('Map', { entity: 'lead', step: 'toDynamics', dynamicsAuthentication: 'clientCredentials', options: { untaggedContacts: 'lead' } }), credentials: [D365] },
			]),
		).rejects.toThrow(/required Dynamics lead columns are neither mapped nor defaulted: subject/);
	});

	it('refuses a step that writes Dynamics without its required columns, listing them', async () => {
		await expect(
			chain([readActiveCampaign('contact'), fieldMap('Map', { entity: 'lead', step: 'toDynamics', options: { untaggedContacts: 'lead' } })]),
		).rejects.toThrow(/required Dynamics lead columns are neither mapped nor defaulted: subject/);
	});

	it('Dynamics → ActiveCampaign → back: the sync’s own write comes back as an echo', async () => {
		// Contacts to ActiveCampaign through the sync-item write.
		const push = await chain([
			readDynamics('contact'),
			fieldMap('Map to ActiveCampaign', { entity: 'contact', step: 'toActiveCampaign' }),
			{
				type: 'activeCampaignSync',
				name: 'Write ActiveCampaign',
				credentials: [AC],
				parameters: { resource: 'contact', operation: 'upsert', dataMode: 'syncItem' },
			},
		]);
		const written = output(push, 'Write ActiveCampaign');
		expect(written.length).toBeGreaterThan(10);
		expect(written.filter((w) => w.error)).toEqual([]);

		// Read them back from ActiveCampaign and map towards Dynamics with the same definition: all echoes.
		const back = await chain([
			readActiveCampaign('contact'),
			fieldMap('Map to Dynamics', { entity: 'contact', step: 'toDynamics' }),
		]);
		const reasons = output(back, 'Map to Dynamics', 1).map((i) => i.skipReason);
		const linked = reasons.filter((r) => r === 'unchanged since last sync');
		expect(linked).toHaveLength(written.filter((w) => w.operation !== 'skipped' || w.stateRecorded).length);
		expect(output(back, 'Map to Dynamics')).toEqual([]);
	});

	it('ActiveCampaign → Dynamics → back: a change written to Dynamics is not sent back', async () => {
		// A person changes a synced contact in ActiveCampaign.
		const state = await control('ac', 'GET', '/state/contacts?email=maria.garcia@contoso.com');
		const mariaId = String(((state.contacts as IDataObject[])[0].contact as IDataObject).id);
		await control('ac', 'PATCH', `/ui/contacts/${mariaId}`, { lastName: 'García-López' });

		const pull = await chain([
			readActiveCampaign('contact'),
			fieldMap('Map to Dynamics', { entity: 'contact', step: 'toDynamics' }),
			{
				type: 'dynamics365',
				name: 'Write Dynamics',
				credentials: [D365],
				parameters: { authentication: 'clientCredentials', resource: 'contact', operation: 'createOrUpdate', dataMode: 'syncItem' },
			},
			{
				type: 'activeCampaignSync',
				name: 'Record Sync State',
				credentials: [AC],
				parameters: { resource: 'contact', operation: 'recordSyncState' },
			},
		]);
		const mapped = output(pull, 'Map to Dynamics');
		expect(mapped.map((i) => (i.match as IDataObject).email)).toEqual(['maria.garcia@contoso.com']);
		expect(output(pull, 'Write Dynamics')).toMatchObject([{ operation: 'updated' }]);
		expect(output(pull, 'Record Sync State').filter((i) => i.error)).toEqual([]);

		const rows = (await control('d365', 'GET', '/state/contacts?top=100')).value as IDataObject[];
		expect(rows.find((r) => r.emailaddress1 === 'maria.garcia@contoso.com')?.lastname).toBe('García-López');

		// Dynamics' new version goes back to ActiveCampaign: the write recognises it as already synced.
		const push = await chain([
			readDynamics('contact'),
			fieldMap('Map to ActiveCampaign', { entity: 'contact', step: 'toActiveCampaign' }),
			{
				type: 'activeCampaignSync',
				name: 'Write ActiveCampaign',
				credentials: [AC],
				parameters: { resource: 'contact', operation: 'upsert', dataMode: 'syncItem' },
			},
		]);
		const result = output(push, 'Write ActiveCampaign').find((i) => i.email === 'maria.garcia@contoso.com');
		expect(result).toMatchObject({ operation: 'skipped' });
		// And ActiveCampaign read again maps to nothing new.
		const again = await chain([readActiveCampaign('contact'), fieldMap('Map to Dynamics', { entity: 'contact', step: 'toDynamics' })]);
		expect(output(again, 'Map to Dynamics')).toEqual([]);
	});
});
