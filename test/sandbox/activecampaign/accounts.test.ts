import { startAc, type AcHarness, type J } from './testkit';

describe('ActiveCampaign simulator: accounts', () => {
	let ac: AcHarness;
	beforeAll(async () => {
		ac = await startAc();
	});
	afterAll(() => ac.close());
	beforeEach(() => ac.control('POST', '/reset', { settings: { requestsPerSecond: 100000 } }));

	it('lists accounts with search (name contains) and count_deals, meta.total a string', async () => {
		const all = await ac.api('GET', '/api/3/accounts');
		expect(all.body.accounts.map((a: J) => a.name)).toEqual(['Contoso Ltd', 'Fabrikam Inc', 'Proseware Inc', 'Trey Research', 'Coho Winery']);
		expect(all.body.meta.total).toBe('5');
		expect(all.body.accounts[0]).toMatchObject({ id: '1', accountUrl: 'https://www.contoso.com', contactCount: '0' });
		expect(all.body.accounts[0].createdTimestamp).toMatch(/-05:00$/);
		const search = await ac.api('GET', '/api/3/accounts?search=fabri&count_deals=true');
		expect(search.body.accounts).toHaveLength(1);
		expect(search.body.accounts[0]).toMatchObject({ name: 'Fabrikam Inc', contactCount: '1' });
	});

	it('creates an account with inline custom fields (currency in cents), 201', async () => {
		const res = await ac.api('POST', '/api/3/accounts', {
			account: {
				name: 'Example Account',
				accountUrl: 'https://www.example.com',
				owner: 1,
				fields: [
					{ customFieldId: 1, fieldValue: 'Software' },
					{ customFieldId: 2, fieldValue: 123456, fieldCurrency: 'GBP' },
				],
			},
		});
		expect(res.status).toBe(201);
		expect(res.body.account).toMatchObject({ name: 'Example Account', accountUrl: 'https://www.example.com', id: '6' });
		expect(res.body.account.fields).toEqual([
			{ customFieldId: 1, fieldValue: 'Software', accountId: '6' },
			{ customFieldId: 2, fieldValue: 123456, fieldCurrency: 'GBP', accountId: '6' },
		]);
		const data = await ac.api('GET', '/api/3/accountCustomFieldData?filters[customerAccountId]=6');
		expect(data.body.accountCustomFieldData.map((d: J) => [d.customFieldId, d.fieldValue])).toEqual([
			[1, 'Software'],
			[2, 123456],
		]);
	});

	it('refuses duplicate (case-insensitive) and missing names with the documented 422s', async () => {
		const dup = await ac.api('POST', '/api/3/accounts', { account: { name: 'contoso ltd' } });
		expect(dup.status).toBe(422);
		expect(dup.body.errors[0]).toMatchObject({ code: 'duplicate', source: { pointer: '/data/attributes/name' } });
		expect(dup.body.errors[0].title).toBe('An account named "contoso ltd" already exists. Please choose a new name.');
		const missing = await ac.api('POST', '/api/3/accounts', { account: { accountUrl: 'x' } });
		expect(missing.body.errors[0]).toMatchObject({ code: 'field_missing', title: 'The account name was not provided.' });
		const rename = await ac.api('PUT', '/api/3/accounts/3', { account: { name: 'Fabrikam Inc' } });
		expect(rename.status).toBe(422);
	});

	it('updates, gets and deletes accounts; updatedTimestamp moves', async () => {
		const before = (await ac.api('GET', '/api/3/accounts/3')).body.account;
		ac.clock.advance(90_000);
		const put = await ac.api('PUT', '/api/3/accounts/3', { account: { accountUrl: 'https://tailspin.example.com', fields: [{ customFieldId: 3, fieldValue: 150 }] } });
		expect(put.status).toBe(200);
		expect(put.body.account.accountUrl).toBe('https://tailspin.example.com');
		expect(put.body.account.updatedTimestamp).not.toBe(before.updatedTimestamp);
		expect(put.body.account.fields.find((f: J) => f.customFieldId === 3).fieldValue).toBe(150);
		expect((await ac.api('DELETE', '/api/3/accounts/3')).body).toEqual({});
		expect((await ac.api('GET', '/api/3/accounts/3')).status).toBe(404);
		const bulk = await ac.api('DELETE', '/api/3/accounts/bulk_delete?ids[]=4&ids[]=5');
		expect(bulk.body).toEqual({ meta: { success: true } });
		expect((await ac.api('GET', '/api/3/accounts')).body.meta.total).toBe('2');
	});

	it('associates a contact with one account only (422 field_invalid), filters and updates associations', async () => {
		const created = await ac.api('POST', '/api/3/accountContacts', { accountContact: { contact: 3, account: 1, jobTitle: 'IT Manager' } });
		expect(created.status).toBe(201);
		expect(created.body.accountContact).toMatchObject({ contact: '3', account: '1', jobTitle: 'IT Manager' });
		const second = await ac.api('POST', '/api/3/accountContacts', { accountContact: { contact: 3, account: 2 } });
		expect(second.status).toBe(422);
		expect(second.body.errors[0]).toMatchObject({
			title: 'This contact is already associated with an account. We currently do not support contacts on multiple accounts.',
			code: 'field_invalid',
		});
		const missing = await ac.api('POST', '/api/3/accountContacts', { accountContact: { contact: 3 } });
		expect(missing.body.errors[0]).toMatchObject({ code: 'field_missing', title: 'The account attribute was not provided' });
		const byAccount = await ac.api('GET', '/api/3/accountContacts?filters[account]=1');
		expect(byAccount.body.accountContacts.map((a: J) => a.contact)).toEqual(['1', '3']);
		const byContact = await ac.api('GET', '/api/3/accountContacts?filters[contact]=3');
		expect(byContact.body.meta.total).toBe('1');
		const id = created.body.accountContact.id;
		const put = await ac.api('PUT', `/api/3/accountContacts/${id}`, { accountContact: { jobTitle: 'CIO' } });
		expect(put.body.accountContact.jobTitle).toBe('CIO');
		expect((await ac.api('GET', '/api/3/contacts/3')).body.contact.orgname).toBe('Contoso Ltd');
		expect((await ac.api('DELETE', `/api/3/accountContacts/${id}`)).body).toEqual({});
		expect((await ac.api('GET', `/api/3/accountContacts/${id}`)).body).toEqual({ message: `No Result found for CustomerAccountSubscriber with id ${id}` });
		expect((await ac.api('POST', '/api/3/accountContacts', { accountContact: { contact: 3, account: 2 } })).status).toBe(201);
	});

	it('manages account custom field definitions', async () => {
		const list = await ac.api('GET', '/api/3/accountCustomFieldMeta');
		expect(list.body.accountCustomFieldMeta.map((m: J) => [m.fieldLabel, m.fieldType])).toEqual([
			['Industry', 'dropdown'],
			['Annual Revenue', 'currency'],
			['Number of Employees', 'number'],
			['Description', 'textarea'],
		]);
		const created = await ac.api('POST', '/api/3/accountCustomFieldMeta', {
			accountCustomFieldMetum: { fieldLabel: 'Contract Value', fieldType: 'currency', fieldDefault: '10099', fieldDefaultCurrency: 'aud', isFormVisible: 1, displayOrder: 10 },
		});
		expect(created.status).toBe(200);
		expect(created.body.accountCustomFieldMetum).toMatchObject({ id: '5', fieldLabel: 'Contract Value', fieldType: 'currency', fieldDefaultCurrency: 'aud' });
		const noType = await ac.api('POST', '/api/3/accountCustomFieldMeta', { accountCustomFieldMetum: { fieldLabel: 'X' } });
		expect(noType.status).toBe(422);
		expect(noType.body.errors[0].title).toBe('The field type field is required.');
		const put = await ac.api('PUT', '/api/3/accountCustomFieldMeta/5', { accountCustomFieldMetum: { fieldLabel: 'Contract Size' } });
		expect(put.body.accountCustomFieldMetum.fieldLabel).toBe('Contract Size');
		expect((await ac.api('DELETE', '/api/3/accountCustomFieldMeta/5')).body).toEqual({ message: 'AccountCustomFieldMeta deleted.' });
		expect((await ac.api('GET', '/api/3/accountCustomFieldMeta/5')).body).toEqual({ errors: [{ status: 404, title: 'Not Found' }] });
	});

	it('writes account custom field data singly and in bulk; the account counts as updated', async () => {
		const before = (await ac.api('GET', '/api/3/accounts/5')).body.account.updatedTimestamp;
		ac.clock.advance(60_000);
		const one = await ac.api('POST', '/api/3/accountCustomFieldData', {
			accountCustomFieldDatum: { customerAccountId: '5', customFieldId: '4', fieldValue: 'Clinic software' },
		});
		expect(one.status).toBe(200);
		expect(one.body.accountCustomFieldDatum).toMatchObject({ accountId: 5, customFieldId: 4, fieldValue: 'Clinic software' });
		expect((await ac.api('GET', '/api/3/accounts/5')).body.account.updatedTimestamp).not.toBe(before);
		const bulk = await ac.api('POST', '/api/3/accountCustomFieldData/bulkCreate', [
			{ accountId: '4', customFieldId: '4', fieldValue: 'Importer' },
			{ accountId: '4', customFieldId: '2', fieldValue: 9999, fieldCurrency: 'cad' },
		]);
		expect(bulk.body).toEqual({ message: 'the bulk insert was successful' });
		const data = (await ac.api('GET', '/api/3/accountCustomFieldData?filters[customerAccountId]=4')).body.accountCustomFieldData;
		const revenue = data.find((d: J) => d.customFieldId === 2);
		expect(revenue).toMatchObject({ fieldValue: 9999, fieldCurrency: 'cad' });
		const upd = await ac.api('PATCH', '/api/3/accountCustomFieldData/bulkUpdate', [{ id: revenue.id, fieldValue: 10050, fieldCurrency: 'usd' }]);
		expect(upd.body.message).toBe(`AccountCustomFieldDatas with ID(s): ${revenue.id} successfully bulk updated.`);
		expect((await ac.api('GET', `/api/3/accountCustomFieldData/${revenue.id}`)).body.accountCustomFieldDatum).toMatchObject({ fieldValue: 10050, fieldCurrency: 'usd' });
		expect((await ac.api('DELETE', `/api/3/accountCustomFieldData/${revenue.id}`)).body).toEqual({ message: 'AccountCustomFieldData deleted.' });
	});

	it('has no "updated since" filter: unknown filters are ignored, so a client pages and compares updatedTimestamp', async () => {
		const res = await ac.api('GET', '/api/3/accounts?filters[updated_after]=2030-01-01');
		expect(res.body.meta.total).toBe('5');
	});
});
