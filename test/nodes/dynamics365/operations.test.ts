/**
 * Create, Update, Delete, Add Note and Get Changes against the sandbox, the opportunity details, the defined-columns
 * (resource mapper) mode, and the pickers filled from live metadata.
 */
import type { IDataObject, INodePropertyOptions, ResourceMapperFields } from 'n8n-workflow';

import { Dynamics365 } from '../../../nodes/Dynamics365/Dynamics365.node';
import { Dynamics365Trigger } from '../../../nodes/Dynamics365/Dynamics365Trigger.node';
import { CRED, jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

async function row(set: string, id: string): Promise<IDataObject> {
	return await t.control<IDataObject>('GET', `/state/${set}/${id}`);
}

const WRITES = /^(POST|PATCH|DELETE) \/api\/data\/v9\.2\/(?!\{)/;

describe('Create, Update, Delete', () => {
	it('creates records from defined columns (resource mapper) and checks required columns', async () => {
		const result = await t.run(
			{
				resource: 'lead',
				operation: 'create',
				dataMode: 'defineBelow',
				columns: {
					mappingMode: 'defineBelow',
					value: { subject: 'Webinar interest', lastname: '={{$json.last}}', firstname: 'Ada', leadqualitycode: 'Hot', emailaddress1: '' },
					matchingColumns: [],
					schema: [],
				},
				options: {},
			},
			[{ last: 'Lovelace' }, { last: '' }],
			{ continueOnFail: true },
		);
		const [ok, missing] = jsonOf(result);
		expect(ok.operation).toBe('created');
		const lead = await row('leads', String(ok.id));
		expect(lead).toMatchObject({ subject: 'Webinar interest', lastname: 'Lovelace', firstname: 'Ada', leadqualitycode: 1 });
		expect(String(missing.error)).toMatch(/Missing required column for a new lead: .*\(lastname\)/);
	});

	it('creates many records in $batch requests (one write request for 50 items)', async () => {
		// The table's metadata loaded (one $batch of its own, cached for five minutes).
		await t.run({ resource: 'account', operation: 'create', dataMode: 'autoMap', options: {} }, [{ name: 'Batch Account warm-up' }]);
		await t.resetStats();
		const input = Array.from({ length: 50 }, (_, k) => ({ name: `Batch Account ${k}` }));
		const out = jsonOf(await t.run({ resource: 'account', operation: 'create', dataMode: 'autoMap', options: {} }, input));
		expect(out.every((o) => o.operation === 'created')).toBe(true);
		expect(await t.count(WRITES)).toBe(1);
		expect(await t.count(/\$batch/)).toBe(1);
	});

	it('creates an opportunity with customer, stage, revenue and close date', async () => {
		const result = await t.run(
			{
				resource: 'opportunity',
				operation: 'create',
				dataMode: 'autoMap',
				opportunityDetails: {
					customerType: 'contact',
					customer: 'maria.garcia@contoso.com',
					salesStage: 2,
					estimatedValue: 125000.5,
					actualValue: 0,
					estimatedCloseDate: '2026-12-31T00:00:00.000Z',
					closeProbability: 60,
				},
				options: {},
			},
			[{ name: 'Big Deal' }],
		);
		expect(result.error).toBeUndefined();
		const [out] = jsonOf(result);
		const opp = await row('opportunities', String(out.id));
		expect(opp).toMatchObject({
			name: 'Big Deal',
			_customerid_value: t.demoIds['contact:maria.garcia@contoso.com'],
			salesstage: 2,
			estimatedvalue: 125000.5,
			estimatedclosedate: '2026-12-31',
			closeprobability: 60,
		});

		const toAccount = await t.run(
			{
				resource: 'opportunity',
				operation: 'update',
				recordId: out.id,
				dataMode: 'autoMap',
				opportunityDetails: { customerType: 'account', customer: t.demoIds['account:contoso'], salesStage: 'Close' },
				options: {},
			},
			[{}],
		);
		expect(toAccount.error).toBeUndefined();
		expect(await row('opportunities', String(out.id))).toMatchObject({ _customerid_value: t.demoIds['account:contoso'], salesstage: 3 });
	});

	it('updates only the given columns and never creates (If-Match: *)', async () => {
		const id = t.demoIds['contact:jonas.berg@northwind.com'];
		const out = jsonOf(
			await t.run({ resource: 'contact', operation: 'update', recordId: '={{$json.id}}', dataMode: 'autoMap', options: { fieldsToIgnore: 'id' } }, [
				{ id, jobtitle: 'Head of Sales', telephone1: '+49 30 1234' },
				{ id: '00000000-0000-0000-0000-0000000000ab', jobtitle: 'Nobody' },
			], { continueOnFail: true }),
		);
		expect(out[0]).toMatchObject({ operation: 'updated', id, changedColumns: ['jobtitle', 'telephone1'] });
		expect(await row('contacts', id)).toMatchObject({ jobtitle: 'Head of Sales', telephone1: '+49 30 1234', emailaddress1: 'jonas.berg@northwind.com' });
		expect(String(out[1].error)).toMatch(/Does Not Exist/);
		const missing = await t.control<{ value?: IDataObject[] } | IDataObject[]>('GET', '/state/contacts');
		const rows = (Array.isArray(missing) ? missing : missing.value) as IDataObject[];
		expect(rows.find((r) => r.contactid === '00000000-0000-0000-0000-0000000000ab')).toBeUndefined();
	});

	it('deletes records by id, reporting a missing one per item', async () => {
		const created = jsonOf(await t.run({ resource: 'account', operation: 'create', dataMode: 'autoMap', options: {} }, [{ name: 'Doomed 1' }, { name: 'Doomed 2' }]));
		const result = jsonOf(
			await t.run({ resource: 'account', operation: 'delete', recordId: '={{$json.id}}', options: {} }, [...created, { id: created[0].id }], { continueOnFail: true }),
		);
		expect(result.slice(0, 2).map((o) => o.operation)).toEqual(['deleted', 'deleted']);
		expect(String(result[2].error)).toMatch(/Does Not Exist/);
		await expect(row('accounts', String(created[0].id))).rejects.toThrow(/404/);
	});

	it('writes to any table (Other Table) by entity set name', async () => {
		const out = jsonOf(
			await t.run(
				{ resource: 'otherTable', table: { __rl: true, mode: 'name', value: 'annotations' }, operation: 'create', dataMode: 'autoMap', options: {} },
				[{ subject: 'Free note', notetext: 'x', 'objectid_account@odata.bind': `/accounts(${t.demoIds['account:contoso']})` }],
			),
		);
		expect(out[0].operation).toBe('created');
		expect(await row('annotations', String(out[0].id))).toMatchObject({ subject: 'Free note', _objectid_value: t.demoIds['account:contoso'] });
	});
});

describe('Add Note', () => {
	it('adds notes to leads and contacts, and does not add the same subject twice', async () => {
		const contact = t.demoIds['contact:maria.garcia@contoso.com'];
		const lead = t.demoIds['lead:sam.taylor@adatum.com'];
		const params = { resource: 'contact', operation: 'addNote', recordId: '={{$json.link}}', subject: '={{$json.subject}}', noteText: 'Opened "Spring launch"', options: {} };
		const input = [
			{ link: `contact:${contact}`, subject: 'AC: opened Spring launch' },
			{ link: `lead:${lead}`, subject: 'AC: opened Spring launch' },
			{ link: `contact:${contact}`, subject: 'AC: opened Spring launch' },
		];
		const first = jsonOf(await t.run(params, input));
		expect(first.map((o) => o.operation)).toEqual(['created', 'created', 'skipped']);
		expect(await row('annotations', String(first[0].id))).toMatchObject({ _objectid_value: contact, subject: 'AC: opened Spring launch' });
		expect(await row('annotations', String(first[1].id))).toMatchObject({ _objectid_value: lead });
		await t.resetStats();
		const rerun = jsonOf(await t.run(params, input));
		expect(rerun.every((o) => o.operation === 'skipped')).toBe(true);
		expect(await t.count(WRITES)).toBe(0);
		const again = jsonOf(await t.run({ ...params, options: { skipExistingSubject: false } }, [input[0]]));
		expect(again[0].operation).toBe('created');
	});
});

describe('Get Changes', () => {
	const params = { resource: 'account', operation: 'getChanges', options: {} };

	it('returns the changes since the previous run once per run, not per item; first run from now', async () => {
		expect(jsonOf(await t.runPersistent(params, [{}, {}, {}]))).toEqual([]);
		const created = await t.control<IDataObject>('POST', '/ui/accounts', { name: 'Changed Account' });
		await t.control('PATCH', `/ui/accounts/${t.demoIds['account:fabrikam']}`, { telephone1: '555-0199' });
		const changes = jsonOf(await t.runPersistent(params, [{}, {}, {}]));
		expect(changes.map((c) => `${c.id}:${c.event}`).sort()).toEqual([`${created.accountid}:created`, `${t.demoIds['account:fabrikam']}:updated`].sort());
		expect(changes[0]).toMatchObject({ entity: 'account' });
		expect(jsonOf(await t.runPersistent(params))).toEqual([]);
		// The node's own writes are not changes for it (echo guard).
		await t.run({ resource: 'account', operation: 'update', recordId: t.demoIds['account:fabrikam'], dataMode: 'autoMap', options: {} }, [{ telephone1: '555-0200' }]);
		expect(jsonOf(await t.runPersistent(params))).toEqual([]);
	});

	it('drains a backlog in parts and returns a sample in manual runs', async () => {
		const from = { ...params, options: { startFrom: '2025-01-01T00:00:00Z', maxRecords: 4 } };
		const seen: string[] = [];
		let runs = 0;
		for (; runs < 10; runs++) {
			const part = jsonOf(await t.runPersistent(from, [{}], { name: 'Backlog' }));
			if (!part.length) break;
			expect(part.length).toBeLessThanOrEqual(4);
			seen.push(...part.map((p) => String(p.id)));
		}
		expect(new Set(seen).size).toBe(seen.length);
		// 7 demo accounts and the one a person created; what this connection wrote last (50 batch accounts, Fabrikam) are echoes.
		expect(seen.length).toBe(8);
		expect(runs).toBe(2);
		const sample = jsonOf(await t.run(params, [{}], { mode: 'manual' }));
		expect(sample.length).toBeGreaterThan(0);
		expect(sample.length).toBeLessThanOrEqual(3);
	});
});

describe('pickers from live metadata', () => {
	const spec = (parameters: IDataObject) => ({ type: 'dynamics365', parameters: { authentication: 'clientCredentials', ...parameters } as never, credentials: [CRED] });

	it('lists tables, columns with types and required levels, keys and sales stages', async () => {
		const tables = (await t.harness.loadOptions(spec({ resource: 'otherTable' }), 'listSearch', 'searchTables', 'note')) as { results: Array<{ value: string }> };
		expect(tables.results.map((r) => r.value)).toContain('annotation');
		const columns = (await t.harness.loadOptions(spec({ resource: 'lead' }), 'loadOptions', 'getColumns')) as INodePropertyOptions[];
		expect(columns.find((c) => c.value === 'lastname')?.description).toMatch(/required/);
		expect(columns.find((c) => c.value === 'parentcontactid')?.description).toMatch(/lookup → contact/);
		const stages = (await t.harness.loadOptions(spec({ resource: 'opportunity' }), 'loadOptions', 'getSalesStages')) as INodePropertyOptions[];
		expect(stages.map((s) => s.name)).toEqual(['Qualify', 'Develop', 'Propose', 'Close']);
		const custom = (await t.harness.loadOptions(
			spec({ resource: 'otherTable', table: { __rl: true, mode: 'name', value: 'contacts' } }),
			'loadOptions',
			'getColumns',
		)) as INodePropertyOptions[];
		expect(custom.map((c) => c.value)).toContain('new_preferredchannel');
	});

	it('maps columns with option-set labels and required flags (resource mapper)', async () => {
		const fields = (await t.harness.loadOptions(spec({ resource: 'opportunity', operation: 'create' }), 'resourceMapping', 'getMappingColumns')) as ResourceMapperFields;
		const name = fields.fields.find((f) => f.id === 'name');
		expect(name).toMatchObject({ required: true, type: 'string' });
		const stage = fields.fields.find((f) => f.id === 'salesstage');
		expect(stage?.type).toBe('options');
		expect(stage?.options?.map((o) => o.name)).toContain('Propose');
		expect(fields.fields.find((f) => f.id === 'customerid')).toMatchObject({ required: true });
		expect(fields.fields.find((f) => f.id === 'opportunityid')).toBeUndefined();
		const forUpdate = (await t.harness.loadOptions(spec({ resource: 'opportunity', operation: 'update' }), 'resourceMapping', 'getMappingColumns')) as ResourceMapperFields;
		expect(forUpdate.fields.every((f) => !f.required)).toBe(true);
	});

	it('offers criteria columns of the trigger’s first entity', async () => {
		const columns = (await t.harness.loadOptions(
			{ type: 'dynamics365Trigger', parameters: { authentication: 'clientCredentials', events: ['opportunity.created'] } as never, credentials: [CRED] },
			'loadOptions',
			'getColumns',
		)) as INodePropertyOptions[];
		expect(columns.map((c) => c.value)).toContain('estimatedvalue');
	});
});

describe('node descriptions', () => {
	it('names, tool use and credentials', () => {
		const node = new Dynamics365().description;
		const trigger = new Dynamics365Trigger().description;
		expect(node).toMatchObject({ name: 'dynamics365', displayName: 'Dynamics 365', usableAsTool: true });
		expect(trigger).toMatchObject({ name: 'dynamics365Trigger', displayName: 'Dynamics 365 Trigger', polling: true });
		expect(trigger.usableAsTool).toBeUndefined();
		expect(node.credentials?.map((c) => c.name)).toEqual(['dynamics365ClientCredentialsApi', 'dynamics365OAuth2Api']);
		const operation = node.properties.find((p) => p.name === 'operation' && p.displayOptions?.show?.resource?.includes('contact'));
		expect(operation?.options?.map((o) => (o as INodePropertyOptions).value)).toEqual([
			'addNote',
			'create',
			'createOrUpdate',
			'delete',
			'get',
			'getChanges',
			'getMany',
			'update',
		]);
	});
});

describe('Get Changes in a preview', () => {
	it('reads the changes since the cursor without moving it: the next real run reads them again', async () => {
		const params = { resource: 'contact', operation: 'getChanges', options: {} };
		const preview = { ...params, preview: true };
		expect(jsonOf(await t.runPersistent(params, [{}], { name: 'Changes preview' }))).toEqual([]);
		const created = await t.control<IDataObject>('POST', '/ui/contacts', { firstname: 'Pre', lastname: 'Viewed', emailaddress1: 'pre.viewed@example.org' });
		const ids = (items: IDataObject[]) => items.map((c) => String(c.id));
		expect(ids(jsonOf(await t.runPersistent(preview, [{}], { name: 'Changes preview' })))).toEqual([created.contactid]);
		expect(ids(jsonOf(await t.runPersistent(preview, [{}], { name: 'Changes preview' })))).toEqual([created.contactid]);
		expect(ids(jsonOf(await t.runPersistent(params, [{}], { name: 'Changes preview' })))).toEqual([created.contactid]);
		expect(jsonOf(await t.runPersistent(params, [{}], { name: 'Changes preview' }))).toEqual([]);
	});
});

describe('Create, Update, Delete and Add Note in a preview', () => {
	/** Write requests, not counting a `$batch` of reads (a table's metadata). */
	const writes = async () => (await t.count(WRITES)) - (await t.count(/\$batch \(reads\)$/));
	const needed = (shown: IDataObject[]) => shown.reduce((n, o) => n + Number(o.writeRequests), 0);

	/**
	 * Runs the step as a preview (no write may reach the sandbox), then for real: the writes the preview counted, plus
	 * one for each write the preview already knew would fail (the real run sends it and gets 404).
	 */
	async function previewThenRun(parameters: IDataObject, input: IDataObject[]): Promise<{ shown: IDataObject[]; done: IDataObject[] }> {
		await t.resetStats();
		const shown = jsonOf(await t.run({ ...parameters, preview: true }, input, { continueOnFail: true }));
		expect(await writes()).toBe(0);
		const done = jsonOf(await t.run(parameters, input, { continueOnFail: true }));
		const failing = shown.filter((o) => /would fail \(404\)/.test(String(o.error))).length;
		expect(await writes()).toBe(needed(shown.filter((o) => !o.error)) + failing);
		return { shown, done };
	}

	it('say what they would write, each column before and after, and send nothing; the real run then writes exactly that', async () => {
		const create = { resource: 'account', operation: 'create', dataMode: 'autoMap', options: {} };
		const created = await previewThenRun(create, [{ name: 'Preview Account 1', telephone1: '+1 555 0101' }, { name: 'Preview Account 2' }]);
		expect(created.shown).toMatchObject([
			{ preview: true, operation: 'created', entity: 'account', changes: [{ field: 'name', before: null, after: 'Preview Account 1' }, { field: 'telephone1', before: null, after: '+1 555 0101' }] },
			{ preview: true, operation: 'created', entity: 'account', changes: [{ field: 'name', before: null, after: 'Preview Account 2' }] },
		]);
		expect(created.done.map((o) => o.operation)).toEqual(['created', 'created']);
		const [one, two] = created.done.map((o) => String(o.id));

		const update = { resource: 'account', operation: 'update', recordId: '={{$json.id}}', dataMode: 'autoMap', options: { fieldsToIgnore: 'id' } };
		const missing = '00000000-0000-0000-0000-0000000000cd';
		const updated = await previewThenRun(update, [{ id: one, telephone1: '+1 555 0102' }, { id: missing, telephone1: '+1 555 0000' }]);
		expect(updated.shown[0]).toMatchObject({ preview: true, operation: 'updated', id: one, changes: [{ field: 'telephone1', before: '+1 555 0101', after: '+1 555 0102' }], writeRequests: 1 });
		// The real PATCH of a missing record fails (404): so does its preview, before anything is sent.
		expect(updated.shown[1].error).toBe(`No account with ID ${missing}: the update would fail (404)`);
		expect(String(updated.done[1].error)).toMatch(/Does Not Exist/);
		expect(await row('accounts', one)).toMatchObject({ telephone1: '+1 555 0102' });

		const note = { resource: 'contact', operation: 'addNote', recordId: '={{$json.link}}', subject: 'Preview note', noteText: 'Seen in a preview', options: {} };
		const contact = t.demoIds['contact:maria.garcia@contoso.com'];
		const noted = await previewThenRun(note, [{ link: `contact:${contact}` }, { link: `contact:${contact}` }]);
		expect(noted.shown).toMatchObject([
			{ preview: true, operation: 'created', recordId: contact, changes: [{ field: 'subject', before: null, after: 'Preview note' }, { field: 'notetext', before: null, after: 'Seen in a preview' }] },
			{ preview: true, operation: 'skipped', reason: 'the record already has a note with this subject' },
		]);
		expect(noted.done.map((o) => o.operation)).toEqual(['created', 'skipped']);

		const del = { resource: 'account', operation: 'delete', recordId: '={{$json.id}}', options: {} };
		const deleted = await previewThenRun(del, [{ id: one }, { id: two }, { id: missing }]);
		expect(deleted.shown.slice(0, 2)).toMatchObject([
			{ preview: true, operation: 'deleted', id: one },
			{ preview: true, operation: 'deleted', id: two },
		]);
		expect(deleted.shown[2].error).toBe(`No account with ID ${missing}: the delete would fail (404)`);
		expect(deleted.done.slice(0, 2).map((o) => o.operation)).toEqual(['deleted', 'deleted']);
		await expect(row('accounts', one)).rejects.toThrow(/404/);
	});
});
