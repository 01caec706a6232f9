import { startAc, type AcHarness, type J } from './testkit';

describe('ActiveCampaign simulator: fields, field values, tags, lists, automations', () => {
	let ac: AcHarness;
	beforeAll(async () => {
		ac = await startAc();
	});
	afterAll(() => ac.close());
	beforeEach(() => ac.control('POST', '/reset', { settings: { requestsPerSecond: 100000 } }));

	describe('custom fields', () => {
		it('lists fields with side-loaded options and relations (default limit 100)', async () => {
			const res = await ac.api('GET', '/api/3/fields');
			expect(res.status).toBe(200);
			expect(res.body.meta.total).toBe('10');
			expect(res.body.fields.map((f: J) => f.type)).toEqual([
				'dropdown',
				'checkbox',
				'date',
				'datetime',
				'number',
				'textarea',
				'radio',
				'listbox',
				'hidden',
				'text',
			]);
			const leadSource = res.body.fields[0];
			expect(leadSource).toMatchObject({ title: 'Lead Source', perstag: 'LEAD_SOURCE', id: '1', isrequired: '0' });
			expect(leadSource.options).toEqual(['1', '2', '3', '4', '5']);
			expect(res.body.fieldOptions.filter((o: J) => o.field === '1').map((o: J) => o.value)).toEqual([
				'Website',
				'Referral',
				'Trade Show',
				'Partner',
				'Dynamics 365',
			]);
			expect(res.body.fieldRels[0]).toMatchObject({ field: '1', relid: '0' });
			const byTag = await ac.api('GET', '/api/3/fields?filters[perstag]=SEGMENT');
			expect(byTag.body.fields.map((f: J) => f.title)).toEqual(['Segment']);
		});

		it('creates fields of every type, derives the perstag, refuses a duplicate title with 422', async () => {
			for (const type of ['text', 'textarea', 'date', 'datetime', 'dropdown', 'radio', 'checkbox', 'listbox', 'hidden', 'number']) {
				const res = await ac.api('POST', '/api/3/fields', { field: { type, title: `My ${type} field`, visible: 1 } });
				expect(res.status).toBe(201);
				expect(res.body.field).toMatchObject({ type, title: `My ${type} field`, perstag: `MY_${type.toUpperCase()}_FIELD` });
				expect(res.body.fields[0].id).toBe(res.body.field.id);
			}
			const dup = await ac.api('POST', '/api/3/fields', { field: { type: 'text', title: 'lead source' } });
			expect(dup.status).toBe(422);
			expect(dup.body.errors[0]).toMatchObject({ title: 'There is already a field with this title', code: 'duplicate' });
			expect((await ac.api('POST', '/api/3/fields', { field: { type: 'text' } })).status).toBe(422);
			expect((await ac.api('POST', '/api/3/fields', { field: { type: 'fancy', title: 'Fancy' } })).status).toBe(422);
		});

		it('adds options in bulk, relates fields to lists, updates and deletes fields', async () => {
			const field = (await ac.api('POST', '/api/3/fields', { field: { type: 'dropdown', title: 'Region' } })).body.field;
			const opts = await ac.api('POST', '/api/3/fieldOption/bulk', {
				fieldOptions: [
					{ orderid: 1, value: 'EU', label: 'Europe', isdefault: false, field: field.id },
					{ orderid: 2, value: 'US', label: 'United States', isdefault: true, field: field.id },
				],
			});
			expect(opts.status).toBe(201);
			expect(opts.body.fieldOptions[1]).toMatchObject({ value: 'US', label: 'United States', isdefault: 1, field: field.id });
			expect((await ac.api('POST', '/api/3/fieldOption/bulk', { fieldOptions: {} })).status).toBe(422);
			const rel = await ac.api('POST', '/api/3/fieldRels', { fieldRel: { field: Number(field.id), relid: 2 } });
			expect(rel.status).toBe(201);
			expect(rel.body.fieldRel).toMatchObject({ field: Number(field.id), relid: 2 });
			const got = await ac.api('GET', `/api/3/fields/${field.id}`);
			expect(got.body.field.options).toHaveLength(2);
			expect(got.body.fieldRels).toHaveLength(1);
			const put = await ac.api('PUT', `/api/3/fields/${field.id}`, { field: { title: 'Sales Region' } });
			expect(put.body.field.title).toBe('Sales Region');
			expect((await ac.api('DELETE', `/api/3/fields/${field.id}`)).body).toEqual({});
			const gone = await ac.api('GET', `/api/3/fields/${field.id}`);
			expect(gone.status).toBe(404);
			expect((await ac.api('DELETE', `/api/3/fields/${field.id}`)).body).toEqual({ message: `No Result found for Field with id ${field.id}` });
		});
	});

	describe('field values', () => {
		it('upserts one value per (contact, field) with POST, and updates and deletes by id', async () => {
			const first = await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 2, field: 6, value: 'Blue' }, useDefaults: true });
			expect(first.status).toBe(200);
			expect(first.body.fieldValue).toMatchObject({ contact: '2', field: '6', value: 'Blue' });
			expect(first.body.contacts[0].id).toBe('2');
			const again = await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: '2', field: '6', value: 'Green' } });
			expect(again.body.fieldValue.id).toBe(first.body.fieldValue.id);
			expect(again.body.fieldValue.value).toBe('Green');
			const put = await ac.api('PUT', `/api/3/fieldValues/${first.body.fieldValue.id}`, { fieldValue: { contact: 2, field: 6, value: 'Red' } });
			expect(put.body.fieldValue.value).toBe('Red');
			expect((await ac.api('GET', `/api/3/fieldValues/${first.body.fieldValue.id}`)).body.fieldValue.value).toBe('Red');
			expect((await ac.api('DELETE', `/api/3/fieldValues/${first.body.fieldValue.id}`)).body).toEqual({});
			const missing = await ac.api('GET', `/api/3/fieldValues/${first.body.fieldValue.id}`);
			expect(missing.status).toBe(403);
			expect(missing.body.message).toBe(`No Result found for FieldValue with id ${first.body.fieldValue.id}`);
		});

		it('rejects missing attributes and unknown contacts/fields', async () => {
			expect((await ac.api('POST', '/api/3/fieldValues', { fieldValue: { field: 1, value: 'x' } })).status).toBe(422);
			expect((await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 99999, field: 1, value: 'x' } })).status).toBe(404);
			expect((await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 1, field: 99999, value: 'x' } })).status).toBe(404);
		});

		it('lists values with filters[fieldid] and filters[val]', async () => {
			const res = await ac.api('GET', '/api/3/fieldValues?filters[fieldid]=1&filters[val]=Dynamics%20365&limit=100');
			expect(res.body.fieldValues.map((fv: J) => fv.contact)).toEqual(['1', '2', '3', '4', '5']);
			expect(res.body.meta.total).toBe('5');
		});

		it('keeps the ||a||b|| encoding for multi-value fields and ISO datetimes as given', async () => {
			await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 3, field: 2, value: '||Email Marketing||Analytics||' } });
			await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 3, field: 4, value: '2020-05-19T02:45:00-05:00' } });
			const fvs = (await ac.api('GET', '/api/3/contacts/3/fieldValues')).body.fieldValues;
			expect(fvs.find((f: J) => f.field === '2').value).toBe('||Email Marketing||Analytics||');
			expect(fvs.find((f: J) => f.field === '4').value).toBe('2020-05-19T02:45:00-05:00');
		});

		it('stores values that do not fit the field type by default, and rejects them with 422 when configured', async () => {
			const stored = await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 3, field: 3, value: 'not a date' } });
			expect(stored.status).toBe(200);
			const option = await ac.api('PUT', '/api/3/contacts/3', { contact: { fieldValues: [{ field: 1, value: 'Carrier pigeon' }] } });
			expect(option.status).toBe(200);
			await ac.control('PUT', '/limits', { fieldValueValidation: 'reject' });
			const date = await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 3, field: 3, value: '31/12/2020' } });
			expect(date.status).toBe(422);
			expect(date.body.errors[0].code).toBe('field_invalid');
			const dropdown = await ac.api('POST', '/api/3/contact/sync', {
				contact: { email: 'sam.taylor@adatum.com', fieldValues: [{ field: 1, value: 'Carrier pigeon' }] },
			});
			expect(dropdown.status).toBe(422);
			const multi = await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 3, field: 2, value: '||CRM||Nope||' } });
			expect(multi.status).toBe(422);
			expect((await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 3, field: 2, value: '||CRM||Automation||' } })).status).toBe(200);
			expect((await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 3, field: 5, value: '12.5' } })).status).toBe(200);
			expect((await ac.api('POST', '/api/3/fieldValues', { fieldValue: { contact: 3, field: 5, value: 'lots' } })).status).toBe(422);
		});
	});

	describe('tags', () => {
		it('creates tags (201), refuses duplicates, and searches with search= and filters[search][op]', async () => {
			const created = await ac.api('POST', '/api/3/tags', { tag: { tag: 'Trade Show 2026', tagType: 'contact', description: 'Booth leads' } });
			expect(created.status).toBe(201);
			expect(created.body.tag).toMatchObject({ tag: 'Trade Show 2026', tagType: 'contact', description: 'Booth leads' });
			expect((await ac.api('POST', '/api/3/tags', { tag: { tag: 'trade show 2026' } })).status).toBe(422);
			const names = async (query: string) => (await ac.api('GET', `/api/3/tags?${query}`)).body.tags.map((t: J) => t.tag);
			expect(await names('search=d365')).toEqual([
				'[D365: Lead]',
				'[D365: Contact]',
				'[D365: Pushed from Dynamics]',
				'[D365: Pulled from ActiveCampaign]',
			]);
			expect(await names('filters[search][eq]=VIP')).toEqual(['VIP']);
			expect(await names('filters[search][starts_with]=[D365: P')).toEqual(['[D365: Pushed from Dynamics]', '[D365: Pulled from ActiveCampaign]']);
			expect(await names('filters[search][contains]=er')).toContain('Customer');
			expect((await names('filters[search][neq]=VIP')).includes('VIP')).toBe(false);
			expect(await names('search=Customer&orders[search]=weight')).toEqual(['Customer']);
			const weighted = await names('search=s&orders[search]=weight');
			expect(weighted[0].toLowerCase().startsWith('s')).toBe(false);
			const all = await ac.api('GET', '/api/3/tags?limit=5&offset=5');
			expect(all.body.meta.total).toBe('10');
			expect(all.body.tags).toHaveLength(5);
		});

		it('gets, updates and deletes a tag', async () => {
			const got = await ac.api('GET', '/api/3/tags/1');
			expect(got.body.tag).toMatchObject({ tag: 'Customer', id: '1' });
			expect(Number(got.body.tag.subscriber_count)).toBeGreaterThan(0);
			expect((await ac.api('PUT', '/api/3/tags/3', { tag: { tag: 'Very Important' } })).body.tag.tag).toBe('Very Important');
			expect((await ac.api('DELETE', '/api/3/tags/3')).body).toEqual({});
			expect((await ac.api('GET', '/api/3/tags/3')).body).toEqual({ message: 'No Result found for Tag with id 3' });
		});

		it('adds a tag to a contact (201), handles re-adding, and removes it by contactTag id', async () => {
			const add = await ac.api('POST', '/api/3/contactTags', { contactTag: { contact: '3', tag: '6' } });
			expect(add.status).toBe(201);
			expect(add.body.contactTag).toMatchObject({ contact: '3', tag: '6' });
			const again = await ac.api('POST', '/api/3/contactTags', { contactTag: { contact: 3, tag: 6 } });
			expect(again.status).toBe(201);
			expect(again.body.contactTag.id).toBe(add.body.contactTag.id);
			await ac.control('PUT', '/limits', { contactTagReAdd: 'duplicate' });
			const dup = await ac.api('POST', '/api/3/contactTags', { contactTag: { contact: 3, tag: 6 } });
			expect(dup.status).toBe(422);
			const list = await ac.api('GET', '/api/3/contacts/3/contactTags');
			expect(list.body.contactTags.filter((ct: J) => ct.tag === '6')).toHaveLength(1);
			expect((await ac.api('DELETE', `/api/3/contactTags/${add.body.contactTag.id}`)).body).toEqual({});
			const missing = await ac.api('DELETE', `/api/3/contactTags/${add.body.contactTag.id}`);
			expect(missing.status).toBe(404);
			expect(missing.body).toEqual({ message: `No Result found for SubscriberTag with id ${add.body.contactTag.id}` });
		});

		it('answers 404 for an unknown contact and 422 for a missing attribute', async () => {
			const unknown = await ac.api('POST', '/api/3/contactTags', { contactTag: { contact: 424242, tag: 1 } });
			expect(unknown.status).toBe(404);
			expect(unknown.body).toEqual({ errors: [{ status: 404, title: 'Not Found', detail: 'Contact not found' }] });
			const missing = await ac.api('POST', '/api/3/contactTags', { contactTag: { tag: 1 } });
			expect(missing.status).toBe(422);
			expect(missing.body).toEqual({ errors: [{ status: 422, title: 'Missing attribute', source: { pointer: '/data/attributes/contact' } }] });
		});

		it('bumps the contact udate when a tag is added (configurable)', async () => {
			const before = (await ac.api('GET', '/api/3/contacts/4')).body.contact.udate;
			ac.clock.advance(120_000);
			await ac.api('POST', '/api/3/contactTags', { contactTag: { contact: 4, tag: 7 } });
			expect((await ac.api('GET', '/api/3/contacts/4')).body.contact.udate).not.toBe(before);
		});
	});

	describe('lists', () => {
		it('lists, creates (200 as documented) and filters lists by name', async () => {
			const lists = await ac.api('GET', '/api/3/lists');
			expect(lists.body.lists.map((l: J) => l.name)).toEqual(['Newsletter', 'Customers']);
			const created = await ac.api('POST', '/api/3/lists', { list: { name: 'Partners', sender_url: 'https://www.example.com', sender_reminder: 'You are a partner.' } });
			expect(created.status).toBe(200);
			expect(created.body.list).toMatchObject({ name: 'Partners', stringid: 'partners', id: '3' });
			expect((await ac.api('GET', '/api/3/lists?filters[name]=part')).body.lists.map((l: J) => l.id)).toEqual(['3']);
			expect((await ac.api('GET', '/api/3/lists/99')).body).toEqual({ message: 'No Result found for _List with id 99' });
		});

		it('subscribes (1) and unsubscribes (2) a contact: 200 with contacts and contactList', async () => {
			const sub = await ac.api('POST', '/api/3/contactLists', { contactList: { list: 2, contact: 2, status: 1 } });
			expect(sub.status).toBe(200);
			expect(sub.body.contacts[0].id).toBe('2');
			expect(sub.body.contactList).toMatchObject({ contact: '2', list: '2', status: 1 });
			const unsub = await ac.api('POST', '/api/3/contactLists', { contactList: { list: '2', contact: '2', status: '2' } });
			expect(unsub.body.contactList.status).toBe(2);
			const memberships = (await ac.api('GET', '/api/3/contacts/2/contactLists')).body.contactLists;
			expect(memberships.find((m: J) => m.list === '2').status).toBe('2');
			expect((await ac.api('POST', '/api/3/contactLists', { contactList: { list: 99, contact: 2, status: 1 } })).status).toBe(422);
			expect((await ac.api('POST', '/api/3/contactLists', { contactList: { list: 1, contact: 2, status: 7 } })).status).toBe(422);
		});
	});

	describe('automations', () => {
		it('lists automations and adds a contact (201), 403 for an unknown automation', async () => {
			const autos = await ac.api('GET', '/api/3/automations');
			expect(autos.body.automations.map((a: J) => a.name)).toEqual(['Welcome Series', 'D365 Sales Follow-up', 'Webinar Invite']);
			expect(autos.body.meta.total).toBe('3');
			const added = await ac.api('POST', '/api/3/contactAutomations', { contactAutomation: { contact: '4', automation: '2' } });
			expect(added.status).toBe(201);
			expect(added.body.contactAutomation).toMatchObject({ contact: '4', automation: '2', seriesid: '2', status: '1' });
			expect(added.body.contacts[0].id).toBe('4');
			const unknown = await ac.api('POST', '/api/3/contactAutomations', { contactAutomation: { contact: 4, automation: 42 } });
			expect(unknown.status).toBe(403);
			expect(unknown.body).toEqual({ message: 'Could not create SubscriberSeries' });
			const list = await ac.api('GET', '/api/3/contactAutomations?filters[contact]=4');
			expect(list.body.contactAutomations).toHaveLength(1);
			expect((await ac.api('GET', '/api/3/contacts/4/contactAutomations')).body.contactAutomations[0].automation).toBe('2');
			const id = added.body.contactAutomation.id;
			expect((await ac.api('GET', `/api/3/contactAutomations/${id}`)).body.contactAutomation.id).toBe(id);
			expect((await ac.api('DELETE', `/api/3/contactAutomations/${id}`)).body).toEqual({});
			const gone = await ac.api('DELETE', `/api/3/contactAutomations/${id}`);
			expect(gone.status).toBe(403);
			expect(gone.body.message).toBe(`No Result found for SubscriberSeries with id ${id}`);
		});
	});
});
