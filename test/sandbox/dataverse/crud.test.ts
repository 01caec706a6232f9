import { FV, startHarness, type Harness } from './testkit';

describe('Dataverse simulator: create, retrieve, update, upsert, delete', () => {
	let h: Harness;
	let appUserId: string;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => h.close());
	beforeEach(async () => {
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		appUserId = (await h.call('GET', 'WhoAmI')).json.UserId;
	});

	const ids = () => h.sim.demoIds;

	it('POST answers 204 with OData-EntityId and OData-Version; the record gets system columns', async () => {
		const r = await h.call('POST', 'contacts', { body: { firstname: 'Ada', lastname: 'Lovelace', emailaddress1: 'ada@example.com' } });
		expect(r.status).toBe(204);
		expect(r.text).toBe('');
		expect(r.headers.get('odata-version')).toBe('4.0');
		const entityId = r.headers.get('odata-entityid')!;
		expect(entityId).toMatch(new RegExp(`^${h.api}/contacts\\([0-9a-f-]{36}\\)$`));
		const got = await h.call('GET', entityId);
		expect(got.status).toBe(200);
		expect(got.headers.get('content-type')).toBe('application/json; odata.metadata=minimal');
		expect(got.json).toMatchObject({
			'@odata.context': `${h.api}/$metadata#contacts/$entity`,
			fullname: 'Ada Lovelace',
			_createdby_value: appUserId,
			_modifiedby_value: appUserId,
			_ownerid_value: appUserId,
			statecode: 0,
			statuscode: 1,
		});
		expect(got.json['@odata.etag']).toBe(`W/"${got.json.versionnumber}"`);
		expect(got.json.createdon).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
		expect(got.json.modifiedon).toBe(got.json.createdon);
		expect(got.json._transactioncurrencyid_value).toBeTruthy();
	});

	it('POST with return=representation answers 201 with the body, honouring $select', async () => {
		const r = await h.call('POST', 'contacts?$select=firstname,fullname', {
			body: { firstname: 'Grace', lastname: 'Hopper' },
			headers: { Prefer: 'return=representation' },
		});
		expect(r.status).toBe(201);
		expect(r.headers.get('preference-applied')).toBe('return=representation');
		expect(r.headers.get('odata-entityid')).toBeNull();
		expect(Object.keys(r.json)).toEqual(['@odata.context', '@odata.etag', 'firstname', 'fullname', 'contactid']);
		expect(r.json['@odata.context']).toBe(`${h.api}/$metadata#contacts(firstname,fullname)/$entity`);
	});

	it('GET by id honours $select and single-valued $expand; unknown ids are 404 0x80040217', async () => {
		const maria = ids()['contact:maria.garcia@contoso.com'];
		const r = await h.call('GET', `contacts(${maria})?$select=fullname,_parentcustomerid_value&$expand=parentcustomerid_account($select=name),createdby($select=fullname)`);
		expect(r.status).toBe(200);
		expect(r.json.parentcustomerid_account).toMatchObject({ name: 'Contoso Ltd', accountid: ids()['account:contoso'] });
		expect(r.json.createdby.fullname).toBe('Sales User');
		expect(r.json['@odata.context']).toBe(`${h.api}/$metadata#contacts(fullname,_parentcustomerid_value,parentcustomerid_account,createdby)/$entity`);
		const missing = '00000000-0000-0000-0000-000000000001';
		const nf = await h.call('GET', `contacts(${missing})`);
		expect(nf.status).toBe(404);
		expect(nf.json).toEqual({ error: { code: '0x80040217', message: `contact With Id = ${missing} Does Not Exist` } });
	});

	it('unknown entity sets are 404 0x8006088a; unknown $select columns 400 0x0', async () => {
		let r = await h.call('GET', 'Contacts');
		expect(r.status).toBe(404);
		expect(r.json).toEqual({ error: { code: '0x8006088a', message: "Resource not found for the segment 'Contacts'." } });
		r = await h.call('GET', 'contacts?$select=Name');
		expect(r.status).toBe(400);
		expect(r.json).toEqual({ error: { code: '0x0', message: "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.contact'." } });
		r = await h.call('GET', 'contacts?$select=parentcustomerid');
		expect(r.status).toBe(400);
	});

	it('PATCH updates (204), bumps the version and modifiedon, and returns 200 with representation', async () => {
		const maria = ids()['contact:maria.garcia@contoso.com'];
		const before = (await h.call('GET', `contacts(${maria})`)).json;
		await h.control('POST', '/clock', { advanceSeconds: 5 });
		let r = await h.call('PATCH', `contacts(${maria})`, { body: { jobtitle: 'CMO' }, headers: { 'If-Match': '*' } });
		expect(r.status).toBe(204);
		expect(r.headers.get('odata-entityid')).toBe(`${h.api}/contacts(${maria})`);
		const after = (await h.call('GET', `contacts(${maria})`)).json;
		expect(after.jobtitle).toBe('CMO');
		expect(after.versionnumber).toBeGreaterThan(before.versionnumber);
		expect(after._modifiedby_value).toBe(appUserId);
		expect(after._createdby_value).not.toBe(appUserId);
		expect(Date.parse(after.modifiedon)).toBeGreaterThan(Date.parse(before.modifiedon));
		r = await h.call('PATCH', `contacts(${maria})?$select=jobtitle`, { body: { jobtitle: 'CEO' }, headers: { 'If-Match': '*', Prefer: 'return=representation' } });
		expect(r.status).toBe(200);
		expect(r.json.jobtitle).toBe('CEO');
	});

	it('PATCH with If-Match: * on a missing record is 404; without If-Match it creates (upsert 201/204)', async () => {
		const id = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
		let r = await h.call('PATCH', `contacts(${id})`, { body: { lastname: 'Nobody' }, headers: { 'If-Match': '*' } });
		expect(r.status).toBe(404);
		expect(r.json.error).toEqual({ code: '0x80040217', message: `contact With Id = ${id} Does Not Exist` });
		r = await h.call('PATCH', `contacts(${id})`, { body: { lastname: 'Upserted' }, headers: { Prefer: 'return=representation' } });
		expect(r.status).toBe(201);
		expect(r.json.contactid).toBe(id);
		r = await h.call('PATCH', `contacts(${id})`, { body: { lastname: 'Again' }, headers: { Prefer: 'return=representation' } });
		expect(r.status).toBe(200);
		r = await h.call('PATCH', `contacts(${id})`, { body: { lastname: 'Plain' } });
		expect(r.status).toBe(204);
	});

	it('If-None-Match: * prevents the update (412); If-Match with a stale ETag is 412 for PATCH and DELETE', async () => {
		const maria = ids()['contact:maria.garcia@contoso.com'];
		let r = await h.call('PATCH', `contacts(${maria})`, { body: { jobtitle: 'x' }, headers: { 'If-None-Match': '*' } });
		expect(r.status).toBe(412);
		expect(r.json.error).toEqual({ code: '0x80040237', message: 'A record with matching key values already exists.' });
		const etag = (await h.call('GET', `contacts(${maria})?$select=fullname`)).json['@odata.etag'];
		r = await h.call('PATCH', `contacts(${maria})`, { body: { jobtitle: 'first' }, headers: { 'If-Match': etag } });
		expect(r.status).toBe(204);
		r = await h.call('PATCH', `contacts(${maria})`, { body: { jobtitle: 'second' }, headers: { 'If-Match': etag } });
		expect(r.status).toBe(412);
		expect(r.json.error.message).toBe("The version of the existing record doesn't match the RowVersion property provided.");
		expect((await h.call('DELETE', `contacts(${maria})`, { headers: { 'If-Match': etag } })).status).toBe(412);
	});

	it('conditional GET: 304 for an unchanged ETag, 200 after a change, never 304 with $expand or annotations', async () => {
		const maria = ids()['contact:maria.garcia@contoso.com'];
		const first = await h.call('GET', `contacts(${maria})?$select=fullname`);
		const etag = first.json['@odata.etag'];
		expect(first.headers.get('etag')).toBe(etag);
		let r = await h.call('GET', `contacts(${maria})?$select=fullname`, { headers: { 'If-None-Match': etag } });
		expect(r.status).toBe(304);
		expect(r.text).toBe('');
		r = await h.call('GET', `contacts(${maria})?$select=fullname&$expand=createdby($select=fullname)`, { headers: { 'If-None-Match': etag } });
		expect(r.status).toBe(200);
		r = await h.call('GET', `contacts(${maria})?$select=fullname`, { headers: { 'If-None-Match': etag, Prefer: 'odata.include-annotations="*"' } });
		expect(r.status).toBe(200);
		await h.call('PATCH', `contacts(${maria})`, { body: { jobtitle: 'changed' }, headers: { 'If-Match': '*' } });
		r = await h.call('GET', `contacts(${maria})?$select=fullname`, { headers: { 'If-None-Match': etag } });
		expect(r.status).toBe(200);
		expect((await h.call('GET', `contacts(${maria})?$select=fullname`, { headers: { 'If-None-Match': 'null' } })).status).toBe(200);
	});

	it('DELETE answers 204, then 404; notes of the record go with it', async () => {
		const maria = ids()['contact:maria.garcia@contoso.com'];
		const note = ids()['note:Call summary'];
		expect((await h.call('DELETE', `contacts(${maria})`)).status).toBe(204);
		expect((await h.call('DELETE', `contacts(${maria})`)).status).toBe(404);
		expect((await h.call('GET', `annotations(${note})`)).status).toBe(404);
		// The account's primary contact lookup is cleared.
		const contoso = await h.call('GET', `accounts(${ids()['account:contoso']})?$select=_primarycontactid_value`);
		expect(contoso.json._primarycontactid_value).toBeNull();
	});

	it('alternate keys: none by default (400), usable once configured, duplicates are 412 0x80040237', async () => {
		let r = await h.call('GET', "contacts(emailaddress1='maria.garcia@contoso.com')");
		expect(r.status).toBe(400);
		expect(r.json.error.message).toBe(
			"The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.contact'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.contact'.",
		);
		expect((await h.control('POST', '/keys', { table: 'contact', attributes: ['emailaddress1'] })).status).toBe(201);
		r = await h.call('GET', "contacts(emailaddress1='maria.garcia@contoso.com')?$select=fullname");
		expect(r.status).toBe(200);
		expect(r.json.fullname).toBe('Maria Garcia');
		// Key lookups are case-insensitive (SQL collation).
		expect((await h.call('GET', "contacts(emailaddress1='MARIA.GARCIA@contoso.com')")).status).toBe(200);
		// Upsert by key: creates with the key value, then updates.
		r = await h.call('PATCH', "contacts(emailaddress1='new.person@contoso.com')", { body: { lastname: 'Person' }, headers: { Prefer: 'return=representation' } });
		expect(r.status).toBe(201);
		expect(r.json.emailaddress1).toBe('new.person@contoso.com');
		r = await h.call('PATCH', "contacts(emailaddress1='new.person@contoso.com')", { body: { firstname: 'New' } });
		expect(r.status).toBe(204);
		r = await h.call('POST', 'contacts', { body: { lastname: 'Dup', emailaddress1: 'li.wei@fabrikam.com' } });
		expect(r.status).toBe(412);
		expect(r.json.error.code).toBe('0x80040237');
		r = await h.call('PATCH', "contacts(emailaddress1='nobody@contoso.com')", { body: { lastname: 'x' }, headers: { 'If-Match': '*' } });
		expect(r.status).toBe(404);
		// The metadata shows the key.
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Keys");
		expect(r.json.value[0].KeyAttributes).toEqual(['emailaddress1']);
	});

	it('@odata.bind sets lookups, including Customer lookups by target; binding to a missing record is 404', async () => {
		const contoso = ids()['account:contoso'];
		const maria = ids()['contact:maria.garcia@contoso.com'];
		let r = await h.call('POST', 'opportunities?$select=_customerid_value,_parentaccountid_value', {
			body: { name: 'Bound', 'customerid_contact@odata.bind': `/contacts(${maria})`, 'parentaccountid@odata.bind': `accounts(${contoso})` },
			headers: { Prefer: 'return=representation,odata.include-annotations="*"' },
		});
		expect(r.status).toBe(201);
		expect(r.json._customerid_value).toBe(maria);
		expect(r.json[`_customerid_value${FV}`]).toBe('Maria Garcia');
		expect(r.json['_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname']).toBe('contact');
		expect(r.json['_customerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty']).toBe('customerid_contact');
		expect(r.json._parentaccountid_value).toBe(contoso);
		const missing = '11111111-2222-4333-8444-555555555555';
		r = await h.call('POST', 'contacts', { body: { lastname: 'X', 'parentcustomerid_account@odata.bind': `/accounts(${missing})` } });
		expect(r.status).toBe(404);
		expect(r.json.error).toEqual({ code: '0x80040217', message: `account With Id = ${missing} Does Not Exist` });
		r = await h.call('POST', 'contacts', { body: { lastname: 'X', 'parentcustomerid@odata.bind': `/accounts(${contoso})` } });
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe('0x80048d19');
		expect(r.json.error.message).toContain("An undeclared property 'parentcustomerid' which only has property annotations");
		r = await h.call('POST', 'annotations', { body: { subject: 'Hi', notetext: 'Body', 'objectid_lead@odata.bind': `/leads(${ids()['lead:sam.taylor@adatum.com']})` } });
		expect(r.status).toBe(204);
		const note = await h.call('GET', `${r.headers.get('odata-entityid')}?$select=_objectid_value,objecttypecode`);
		expect(note.json).toMatchObject({ _objectid_value: ids()['lead:sam.taylor@adatum.com'], objecttypecode: 'lead' });
		// Clearing a lookup with null, and with DELETE .../$ref
		r = await h.call('PATCH', `contacts(${maria})`, { body: { 'parentcustomerid_account@odata.bind': null }, headers: { 'If-Match': '*' } });
		expect(r.status).toBe(204);
		expect((await h.call('GET', `contacts(${maria})?$select=_parentcustomerid_value`)).json._parentcustomerid_value).toBeNull();
		expect((await h.call('DELETE', `accounts(${contoso})/primarycontactid/$ref`)).status).toBe(204);
		expect((await h.call('PUT', `accounts(${contoso})/primarycontactid/$ref`, { body: { '@odata.id': `${h.api}/contacts(${maria})` } })).status).toBe(204);
	});

	it('ignores columns not valid for create/update; rejects unknown properties with the documented message', async () => {
		let r = await h.call('POST', 'opportunities', {
			body: { name: 'State ignored', statecode: 1, createdon: '2001-01-01T00:00:00Z', versionnumber: 5, fullname: 'x' },
			headers: { Prefer: 'return=representation' },
		});
		// fullname is not an opportunity column.
		expect(r.status).toBe(400);
		expect(r.json.error).toEqual({
			code: '0x0',
			message:
				"An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property 'fullname' was found in entity 'Microsoft.Dynamics.CRM.opportunity'. ---> Microsoft.OData.ODataException: Does not support untyped value in non-open type.",
		});
		r = await h.call('POST', 'opportunities', {
			body: { name: 'State ignored', statecode: 1, createdon: '2001-01-01T00:00:00Z' },
			headers: { Prefer: 'return=representation' },
		});
		expect(r.status).toBe(201);
		expect(r.json.statecode).toBe(0);
		expect(r.json.createdon).not.toBe('2001-01-01T00:00:00Z');
		r = await h.call('POST', 'contacts', { body: { lastname: 'x', fullname: 'Ignored Name' }, headers: { Prefer: 'return=representation' } });
		expect(r.json.fullname).toBe('x');
	});

	it('does not enforce ApplicationRequired columns (a lead without lastname/subject is accepted)', async () => {
		const r = await h.call('POST', 'leads', { body: { companyname: 'No names' } });
		expect(r.status).toBe(204);
	});

	it('enforces SystemRequired columns: ownerid defaults to the caller, can be reassigned, cannot be cleared', async () => {
		const sales = (await h.call('GET', "systemusers?$filter=fullname eq 'Sales User'&$select=systemuserid")).json.value[0].systemuserid;
		let r = await h.call('POST', 'contacts?$select=_ownerid_value', {
			body: { lastname: 'Owned', 'ownerid@odata.bind': `/systemusers(${sales})` },
			headers: { Prefer: 'return=representation' },
		});
		expect(r.json._ownerid_value).toBe(sales);
		r = await h.call('PATCH', `contacts(${r.json.contactid})`, { body: { 'ownerid@odata.bind': null }, headers: { 'If-Match': '*' } });
		expect(r.status).toBe(400);
		expect(r.json.error.message).toBe("Attribute 'ownerid' cannot be set to NULL");
	});

	it('validates lengths (0x80044331), types (0x80048d19) and option values (0x8004431a)', async () => {
		let r = await h.call('POST', 'contacts', { body: { lastname: 'x'.repeat(51) } });
		expect(r.status).toBe(400);
		expect(r.json.error).toEqual({
			code: '0x80044331',
			message: "A validation error occurred.  The length of the 'lastname' attribute of the 'contact' entity exceeded the maximum allowed length of '50'.",
		});
		r = await h.call('POST', 'contacts', { body: { lastname: 'x', new_score: 'high' } });
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe('0x80048d19');
		expect(r.json.error.message).toContain("Cannot convert the literal 'high' to the expected type 'Edm.Int32'.");
		r = await h.call('POST', 'contacts', { body: { lastname: 'x', new_isvip: 'yes' } });
		expect(r.json.error.message).toContain("to the expected type 'Edm.Boolean'");
		r = await h.call('POST', 'contacts', { body: { lastname: 'x', new_birthday: '2024-02-30T10:00:00Z' } });
		expect(r.json.error.message).toContain("to the expected type 'Edm.Date'");
		r = await h.call('POST', 'contacts', { body: { lastname: 'x', new_preferredchannel: 7 } });
		expect(r.status).toBe(400);
		expect(r.json.error).toEqual({
			code: '0x8004431a',
			message:
				"A validation error occurred. The value 7 of 'new_preferredchannel' on record of type 'contact' is outside the valid range. Accepted Values: 100000000,100000001,100000002,100000003",
		});
		r = await h.call('POST', 'contacts', { body: { lastname: 'x', new_interests: '100000000,5' } });
		expect(r.json.error.code).toBe('0x8004431a');
	});

	it('stores custom column types as Dataverse returns them (multi-select string, DateOnly, second precision, money)', async () => {
		const r = await h.call('POST', 'contacts', {
			body: {
				lastname: 'Types',
				new_interests: '100000002,100000000',
				new_birthday: '1990-05-17',
				new_lastwebinar: '2025-03-04T10:11:12.987+02:00',
				new_annualbudget: 1234.567,
				new_isvip: true,
				new_preferredchannel: 100000001,
			},
			headers: { Prefer: 'return=representation,odata.include-annotations="OData.Community.Display.V1.FormattedValue"' },
		});
		expect(r.status).toBe(201);
		expect(r.json).toMatchObject({
			new_interests: '100000000,100000002',
			[`new_interests${FV}`]: 'Webinars; Events',
			new_birthday: '1990-05-17',
			[`new_birthday${FV}`]: '5/17/1990',
			new_lastwebinar: '2025-03-04T08:11:12Z',
			[`new_lastwebinar${FV}`]: '3/4/2025 8:11 AM',
			new_annualbudget: 1234.57,
			[`new_annualbudget${FV}`]: '$1,234.57',
			[`new_isvip${FV}`]: 'Yes',
			[`new_preferredchannel${FV}`]: 'Phone',
			[`statecode${FV}`]: 'Active',
		});
		expect(r.headers.get('preference-applied')).toBe('return=representation,odata.include-annotations="OData.Community.Display.V1.FormattedValue"');
	});

	it('statecode/statuscode: statuscode follows a state change; a status of another state is rejected', async () => {
		const sam = ids()['lead:sam.taylor@adatum.com'];
		let r = await h.call('PATCH', `leads(${sam})?$select=statecode,statuscode`, { body: { statecode: 2 }, headers: { 'If-Match': '*', Prefer: 'return=representation' } });
		expect(r.json).toMatchObject({ statecode: 2, statuscode: 4 });
		r = await h.call('PATCH', `leads(${sam})`, { body: { statecode: 0, statuscode: 3 }, headers: { 'If-Match': '*' } });
		expect(r.status).toBe(400);
		expect(r.json.error.message).toBe(`3 is not a valid status code for state code LeadState.Open on lead with Id ${sam}.`);
	});

	it('single-property GET/PUT/DELETE', async () => {
		const maria = ids()['contact:maria.garcia@contoso.com'];
		let r = await h.call('GET', `contacts(${maria})/emailaddress1`);
		expect(r.json.value).toBe('maria.garcia@contoso.com');
		expect((await h.call('PUT', `contacts(${maria})/jobtitle`, { body: { value: 'Put title' } })).status).toBe(204);
		r = await h.call('GET', `contacts(${maria})/jobtitle/$value`);
		expect(r.text).toBe('Put title');
		expect((await h.call('DELETE', `contacts(${maria})/jobtitle`)).status).toBe(204);
		expect((await h.call('GET', `contacts(${maria})/jobtitle`)).status).toBe(204);
	});

	it('deep insert creates related records in one request', async () => {
		const r = await h.call('POST', 'accounts?$select=name&$expand=primarycontactid($select=fullname)', {
			body: { name: 'Deep Co', primarycontactid: { firstname: 'Deep', lastname: 'Contact' }, contact_customer_accounts: [{ lastname: 'Child One' }] },
			headers: { Prefer: 'return=representation' },
		});
		expect(r.status).toBe(201);
		const id = r.json.accountid;
		const children = await h.call('GET', `accounts(${id})/contact_customer_accounts?$select=fullname`);
		expect(children.json.value.map((c: { fullname: string }) => c.fullname)).toEqual(['Child One']);
		const acct = await h.call('GET', `accounts(${id})?$select=name&$expand=primarycontactid($select=fullname)`);
		expect(acct.json.primarycontactid.fullname).toBe('Deep Contact');
	});

	it('control endpoints write as the Sales User and read without cost', async () => {
		const created = await h.control('POST', '/ui/contacts', { firstname: 'Ui', lastname: 'Made' });
		expect(created.status).toBe(201);
		const got = await h.call('GET', `contacts(${created.json.contactid})?$select=_createdby_value,_modifiedby_value`);
		const sales = await h.call('GET', "systemusers?$filter=fullname eq 'Sales User'&$select=systemuserid");
		expect(got.json._createdby_value).toBe(sales.json.value[0].systemuserid);
		const patched = await h.control('PATCH', `/ui/contacts/${created.json.contactid}`, { jobtitle: 'Edited in UI' });
		expect(patched.json.jobtitle).toBe('Edited in UI');
		const state = await h.control('GET', `/state/contacts/${created.json.contactid}`);
		expect(state.json.jobtitle).toBe('Edited in UI');
		const statsBefore = (await h.control('GET', '/stats')).json.total;
		await h.control('GET', '/state/contacts');
		expect((await h.control('GET', '/stats')).json.total).toBe(statsBefore);
		expect((await h.control('DELETE', `/ui/contacts/${created.json.contactid}`)).status).toBe(200);
	});

	it('the demo seed has the shared people, with Priya Patel as both lead and contact', async () => {
		for (const email of ['maria.garcia@contoso.com', 'li.wei@fabrikam.com', 'jonas.berg@northwind.com', 'priya.patel@litware.com']) {
			const r = await h.call('GET', `contacts?$filter=emailaddress1 eq '${email}'&$select=fullname`);
			expect(r.json.value).toHaveLength(1);
		}
		for (const email of ['sam.taylor@adatum.com', 'priya.patel@litware.com']) {
			const r = await h.call('GET', `leads?$filter=emailaddress1 eq '${email}'&$select=fullname`);
			expect(r.json.value).toHaveLength(1);
		}
		const accounts = await h.call('GET', 'accounts?$select=name&$orderby=name');
		expect(accounts.json.value.map((a: { name: string }) => a.name)).toEqual(
			expect.arrayContaining(['Contoso Ltd', 'Fabrikam Inc', 'Adatum Corporation', 'Litware Inc', 'Northwind Traders']),
		);
		const opps = await h.call('GET', 'opportunities?$select=name,_customerid_value,salesstage,estimatedvalue,estimatedclosedate');
		expect(opps.json.value.length).toBeGreaterThanOrEqual(6);
		for (const o of opps.json.value) expect(o._customerid_value).toBeTruthy();
		// Seed records are not the sync's own.
		const mine = await h.call('GET', `contacts?$filter=_modifiedby_value eq ${appUserId}&$select=fullname`);
		expect(mine.json.value).toHaveLength(0);
		// The empty seed has no business records but keeps users and the currency.
		await h.control('POST', '/reset', { seed: 'empty' });
		const token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		expect((await h.call('GET', 'contacts', { token })).json.value).toHaveLength(0);
		expect((await h.call('GET', 'transactioncurrencies?$select=isocurrencycode', { token })).json.value[0].isocurrencycode).toBe('USD');
		await h.control('POST', '/reset', { seed: 'demo' });
	});
});
