import { startAc, type AcHarness, type J } from './testkit';

const SCHEMA = {
	schema: {
		slug: 'd365-opportunity',
		labels: { singular: 'D365 Opportunity', plural: 'D365 Opportunities' },
		description: 'Opportunities synced from Dynamics 365',
		fields: [
			{ id: 'name', labels: { singular: 'Topic', plural: 'Topics' }, type: 'text', required: true },
			{ id: 'estimated-value', labels: { singular: 'Estimated Value', plural: 'Estimated Values' }, type: 'currency', defaultCurrency: 'USD' },
			{ id: 'probability', labels: { singular: 'Probability', plural: 'Probabilities' }, type: 'number', scale: 0 },
			{ id: 'close-date', labels: { singular: 'Close Date', plural: 'Close Dates' }, type: 'date' },
			{ id: 'modified-on', labels: { singular: 'Modified On', plural: 'Modified On' }, type: 'datetime' },
			{
				id: 'stage',
				labels: { singular: 'Stage', plural: 'Stages' },
				type: 'dropdown',
				options: [{ value: 'Qualify' }, { value: 'Develop' }, { value: 'Propose' }, { value: 'Close' }],
			},
		],
		relationships: [
			{ id: 'primary-contact', labels: { singular: 'Primary Contact', plural: 'Primary Contacts' }, description: 'Primary contact', namespace: 'contacts', hasMany: false },
		],
	},
};

describe('ActiveCampaign simulator: custom objects', () => {
	let ac: AcHarness;
	let schemaId: string;
	beforeAll(async () => {
		ac = await startAc();
	});
	afterAll(() => ac.close());
	beforeEach(async () => {
		await ac.control('POST', '/reset', { settings: { requestsPerSecond: 100000 } });
		const res = await ac.api('POST', '/api/3/customObjects/schemas', SCHEMA);
		expect(res.status).toBe(201);
		schemaId = res.body.schema.id;
	});

	const upsert = (record: Record<string, unknown>) => ac.api('POST', `/api/3/customObjects/records/${schemaId}`, { record });

	it('creates a schema with a UUID id, private visibility, icons and timestamps; slugs are unique', async () => {
		const got = await ac.api('GET', `/api/3/customObjects/schemas/${schemaId}`);
		expect(got.body.schema).toMatchObject({ slug: 'd365-opportunity', visibility: 'private', icons: { default: expect.any(String) } });
		expect(schemaId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(got.body.schema.createdTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
		expect(got.body.schema.fields.find((f: J) => f.id === 'stage').options.map((o: J) => o.value)).toEqual(['Qualify', 'Develop', 'Propose', 'Close']);
		const dup = await ac.api('POST', '/api/3/customObjects/schemas', SCHEMA);
		expect(dup.status).toBe(422);
		expect(dup.body).toEqual({
			errors: [
				{ title: 'Invalid value for field "schema.slug"', detail: 'Schema slug must be unique', source: { type: 'pointer', value: '/data/attributes/schema/slug' } },
			],
		});
		const list = await ac.api('GET', '/api/3/customObjects/schemas?limit=500');
		expect(list.body.meta).toEqual({ total: 1, count: 1, limit: 100, offset: 0 });
		expect((await ac.api('GET', '/api/3/customObjects/schemas/nope')).body).toEqual({ message: 'Not Found' });
	});

	it('validates schema fields (labels, type, id uniqueness with - and _ alike)', async () => {
		const base = SCHEMA.schema;
		const noLabels = await ac.api('POST', '/api/3/customObjects/schemas', { schema: { ...base, slug: 'a', fields: [{ id: 'x', type: 'text' }] } });
		expect(noLabels.status).toBe(422);
		expect(noLabels.body.errors[0].detail).toBe('Schema fields must provide labels');
		const sameId = await ac.api('POST', '/api/3/customObjects/schemas', {
			schema: { ...base, slug: 'b', fields: [base.fields[1], { ...base.fields[1], id: 'estimated_value' }] },
		});
		expect(sameId.status).toBe(422);
	});

	it('updates a schema (adds fields, validateOnly), deletes a field (202, hidden unless showFields=all) and the schema', async () => {
		const field = { id: 'source', labels: { singular: 'Source', plural: 'Sources' }, type: 'text' };
		const dry = await ac.api('PUT', `/api/3/customObjects/schemas/${schemaId}`, { schema: { fields: [field] } }, { validateOnly: 'true' });
		expect(dry.status).toBe(200);
		expect((await ac.api('GET', `/api/3/customObjects/schemas/${schemaId}`)).body.schema.fields).toHaveLength(6);
		const put = await ac.api('PUT', `/api/3/customObjects/schemas/${schemaId}`, { schema: { fields: [field] } });
		expect(put.body.schema.fields).toHaveLength(7);
		const del = await ac.api('DELETE', `/api/3/customObjects/schemas/${schemaId}/fields/source?showFields=all`);
		expect(del.status).toBe(202);
		expect(del.body.schema.fields.find((f: J) => f.id === 'source').status).toBe('marked_for_deletion');
		expect((await ac.api('GET', `/api/3/customObjects/schemas/${schemaId}`)).body.schema.fields).toHaveLength(6);
		const reuse = await ac.api('PUT', `/api/3/customObjects/schemas/${schemaId}`, { schema: { fields: [field] } });
		expect(reuse.status).toBe(422);
		expect((await ac.api('DELETE', `/api/3/customObjects/schemas/${schemaId}`)).status).toBe(200);
		expect((await ac.api('GET', `/api/3/customObjects/schemas/${schemaId}`)).status).toBe(404);
	});

	it('creates a record (201) with fields and relationship ids as strings, and reads it by id and by external id', async () => {
		const res = await upsert({
			externalId: 'D365-OPP-1',
			fields: [
				{ id: 'name', value: 'Contoso expansion' },
				{ id: 'estimated-value', value: 250000 },
				{ id: 'stage', value: 'Develop' },
				{ id: 'close-date', value: '2026-12-31' },
			],
			relationships: { 'primary-contact': [1] },
		});
		expect(res.status).toBe(201);
		const record = res.body.record;
		expect(record).toMatchObject({ externalId: 'D365-OPP-1', schemaId, relationships: { 'primary-contact': ['1'] } });
		expect(record.fields).toContainEqual({ id: 'estimated-value', value: 250000 });
		expect((await ac.api('GET', `/api/3/customObjects/records/${schemaId}/${record.id}`)).body.record.id).toBe(record.id);
		expect((await ac.api('GET', `/api/3/customObjects/records/${schemaId}/external/D365-OPP-1`)).body.record.id).toBe(record.id);
		expect((await ac.api('GET', `/api/3/records/${schemaId}/external/D365-OPP-1`)).body.record.id).toBe(record.id);
		expect((await ac.api('GET', `/api/3/customObjects/records/${schemaId}/external/none`)).status).toBe(404);
	});

	it('implements the documented id/externalId matching table', async () => {
		const a = (await upsert({ externalId: 'EXT-A', fields: [{ id: 'name', value: 'A' }] })).body.record;
		const count = async () => (await ac.api('GET', `/api/3/customObjects/records/${schemaId}`)).body.meta.total;

		// id matches, externalId matches → update, ids unchanged
		let res = await upsert({ id: a.id, externalId: 'EXT-A', fields: [{ id: 'name', value: 'A1' }] });
		expect(res.status).toBe(200);
		expect(res.body.record).toMatchObject({ id: a.id, externalId: 'EXT-A' });
		expect(await count()).toBe(1);

		// id matches, externalId omitted → update
		res = await upsert({ id: a.id, fields: [{ id: 'name', value: 'A2' }] });
		expect(res.body.record).toMatchObject({ id: a.id, externalId: 'EXT-A' });
		expect(res.body.record.fields).toContainEqual({ id: 'name', value: 'A2' });
		expect(await count()).toBe(1);

		// id unmatched, externalId matches → update, id unchanged
		res = await upsert({ id: 'no-such-id', externalId: 'EXT-A', fields: [{ id: 'name', value: 'A3' }] });
		expect(res.body.record.id).toBe(a.id);
		// id omitted, externalId matches → update
		res = await upsert({ externalId: 'EXT-A', fields: [{ id: 'name', value: 'A4' }] });
		expect(res.body.record.id).toBe(a.id);
		expect(await count()).toBe(1);

		// id matches, externalId different → create a new record with a new id and that externalId
		res = await upsert({ id: a.id, externalId: 'EXT-B', fields: [{ id: 'name', value: 'B' }] });
		expect(res.status).toBe(201);
		expect(res.body.record.id).not.toBe(a.id);
		expect(res.body.record.externalId).toBe('EXT-B');
		expect(await count()).toBe(2);

		// neither matches → create, new id (a given id is ignored)
		res = await upsert({ id: 'mine', externalId: 'EXT-C', fields: [{ id: 'name', value: 'C' }] });
		expect(res.status).toBe(201);
		expect(res.body.record.id).not.toBe('mine');
		res = await upsert({ fields: [{ id: 'name', value: 'D' }] });
		expect(res.status).toBe(201);
		expect(res.body.record.externalId).toBeNull();
		expect(await count()).toBe(4);
		expect((await ac.api('GET', `/api/3/customObjects/records/${schemaId}/external/EXT-A`)).body.record.fields).toContainEqual({ id: 'name', value: 'A4' });
	});

	it('rejects fields not in the schema and values of the wrong type with 422', async () => {
		const undefinedField = await upsert({ externalId: 'X', fields: [{ id: 'name', value: 'x' }, { id: 'colour', value: 'red' }] });
		expect(undefinedField.status).toBe(422);
		expect(undefinedField.body.errors[0]).toMatchObject({
			title: 'Invalid value for field "colour"',
			detail: 'colour cannot accept a value that is not defined in the schema.',
		});
		expect((await upsert({ externalId: 'X', fields: [{ id: 'name', value: 'x' }, { id: 'stage', value: 'Won' }] })).status).toBe(422);
		expect((await upsert({ externalId: 'X', fields: [{ id: 'name', value: 'x' }, { id: 'close-date', value: '31/12/2026' }] })).status).toBe(422);
		expect((await upsert({ externalId: 'X', fields: [{ id: 'probability', value: 50 }] })).status).toBe(422);
		expect((await upsert({ externalId: 'X', fields: [{ id: 'name', value: 'x' }], relationships: { 'primary-contact': [1, 2] } })).status).toBe(422);
	});

	it('lists records with limit/offset and filters[relationships.primary-contact][eq]', async () => {
		for (let i = 0; i < 5; i++) {
			await upsert({ externalId: `E${i}`, fields: [{ id: 'name', value: `R${i}` }], relationships: { 'primary-contact': [i % 2 ? 2 : 1] } });
		}
		const page = await ac.api('GET', `/api/3/customObjects/records/${schemaId}?limit=2&offset=1`);
		expect(page.body.meta).toEqual({ total: 5, count: 2, limit: 2, offset: 1 });
		const forContact = await ac.api('GET', `/api/3/customObjects/records/${schemaId}?filters[relationships.primary-contact][eq]=2`);
		expect(forContact.body.records.map((r: J) => r.externalId)).toEqual(['E1', 'E3']);
		expect((await ac.api('GET', '/api/3/customObjects/records/unknown-schema')).status).toBe(404);
	});

	it('deletes records by id and by external id with 202', async () => {
		const a = (await upsert({ externalId: 'DEL-A', fields: [{ id: 'name', value: 'A' }] })).body.record;
		await upsert({ externalId: 'DEL-B', fields: [{ id: 'name', value: 'B' }] });
		const byId = await ac.api('DELETE', `/api/3/customObjects/records/${schemaId}/${a.id}`);
		expect(byId.status).toBe(202);
		const byExt = await ac.api('DELETE', `/api/3/customObjects/records/${schemaId}/external/DEL-B`);
		expect(byExt.status).toBe(202);
		expect(byExt.text).toBe('');
		expect((await ac.api('GET', `/api/3/customObjects/records/${schemaId}`)).body.meta.total).toBe(0);
		expect((await ac.api('DELETE', `/api/3/customObjects/records/${schemaId}/external/DEL-B`)).status).toBe(404);
		const state = await ac.control('GET', '/state/customObjects/d365-opportunity/records');
		expect(state.body.records).toEqual([]);
	});

	describe('automation triggers of a contact custom object', () => {
		const contact = async (email: string) => (await ac.api('POST', '/api/3/contacts', { contact: { email } })).body.contact.id as string;
		const automationsOf = async (email: string) =>
			((await ac.control('GET', `/state/contacts?email=${encodeURIComponent(email)}`)).body.contacts[0].automations as J[]).map((a) => a.name);

		it('the builder offers "[Object] Created" and "[Object] Updated", named after the object', async () => {
			const { body } = await ac.control('GET', '/automationTriggers');
			expect(body.triggers.map((t: J) => t.name)).toEqual(['D365 Opportunity Created', 'D365 Opportunity Updated']);
			const wrong = await ac.control('POST', '/automations', { name: 'x', trigger: { name: 'Deal Created' } });
			expect(wrong.status).toBe(400);
			expect(wrong.body.error).toMatch(/the builder offers: D365 Opportunity Created, D365 Opportunity Updated/);
			const noField = await ac.control('POST', '/automations', { name: 'x', trigger: { name: 'D365 Opportunity Updated', field: 'nope' } });
			expect(noField.status).toBe(400);
		});

		it('Created pulls the related contact in when a record is created, not when one is updated', async () => {
			await ac.control('POST', '/automations', { name: 'New deal', trigger: { name: 'D365 Opportunity Created' } });
			const id = await contact('created.trigger@example.com');
			await upsert({ externalId: 'T-1', fields: [{ id: 'name', value: 'Deal' }], relationships: { 'primary-contact': [id] } });
			expect(await automationsOf('created.trigger@example.com')).toEqual(['New deal']);
			const other = await contact('not.on.update@example.com');
			await upsert({ externalId: 'T-1', fields: [{ id: 'name', value: 'Deal, renamed' }], relationships: { 'primary-contact': [other] } });
			expect(await automationsOf('not.on.update@example.com')).toEqual([]);
		});

		it('Updated (field: from → to, "Any" allowed) pulls the related contact in when the field changes so, only then', async () => {
			await ac.control('POST', '/automations', { name: 'Closing', trigger: { name: 'D365 Opportunity Updated', field: 'stage', from: 'Any', to: 'Close' } });
			await ac.control('POST', '/automations', { name: 'Left qualify', trigger: { name: 'D365 Opportunity Updated', field: 'stage', from: 'Qualify', to: 'Any' } });
			const id = await contact('updated.trigger@example.com');
			const record = (stage: string, name = 'Deal') => upsert({ externalId: 'T-2', fields: [{ id: 'name', value: name }, { id: 'stage', value: stage }], relationships: { 'primary-contact': [id] } });
			// Created: no Updated trigger yet; the same stage again: no change.
			await record('Qualify');
			await record('Qualify', 'Deal, renamed');
			expect(await automationsOf('updated.trigger@example.com')).toEqual([]);
			await record('Develop');
			expect(await automationsOf('updated.trigger@example.com')).toEqual(['Left qualify']);
			await record('Close');
			expect((await automationsOf('updated.trigger@example.com')).sort()).toEqual(['Closing', 'Left qualify']);
		});
	});
});
