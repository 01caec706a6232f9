/**
 * An independent Dataverse client library (dynamics-web-api, written against Microsoft's Web API documentation)
 * configured with its documented options, pointed at the sandbox with only the server URL changed.
 */
import { DynamicsWebApi } from 'dynamics-web-api';

import { startHarness, type Harness } from './testkit';

describe('dynamics-web-api against the Dataverse sandbox', () => {
	let h: Harness;
	let client: DynamicsWebApi;
	let tokenCalls = 0;

	beforeAll(async () => {
		h = await startHarness();
		client = new DynamicsWebApi({
			serverUrl: h.url,
			dataApi: { version: '9.2' },
			onTokenRefresh: async () => {
				tokenCalls++;
				const res = await fetch(`${h.url}/sandbox-tenant/oauth2/v2.0/token`, {
					method: 'POST',
					headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
					body: new URLSearchParams({
						grant_type: 'client_credentials',
						client_id: 'sandbox-client',
						client_secret: 'sandbox-secret',
						scope: `${h.url}/.default`,
					}),
				});
				return ((await res.json()) as { access_token: string }).access_token;
			},
		});
	});
	afterAll(() => h.close());

	it('creates, retrieves, updates, upserts and deletes', async () => {
		const created = await client.create<Record<string, unknown>, Record<string, unknown>>({
			collection: 'contacts',
			data: { firstname: 'Indie', lastname: 'Client', emailaddress1: 'indie.client@contoso.com', new_preferredchannel: 100000000 },
			returnRepresentation: true,
			select: ['fullname', 'emailaddress1'],
		});
		expect(created.fullname).toBe('Indie Client');
		const id = created.contactid as string;
		expect(tokenCalls).toBeGreaterThan(0);

		const got = await client.retrieve({
			collection: 'contacts',
			key: id,
			select: ['fullname', 'new_preferredchannel', '_ownerid_value'],
			expand: [{ property: 'owninguser', select: ['fullname'] }],
			includeAnnotations: 'OData.Community.Display.V1.FormattedValue',
		});
		expect(got.new_preferredchannel_Formatted).toBe('Email');
		expect(got.owninguser.fullname).toBe('# sandbox-sync');

		await client.update({ collection: 'contacts', key: id, data: { jobtitle: 'Tester' } });
		expect((await client.retrieve({ collection: 'contacts', key: id, select: ['jobtitle'] })).jobtitle).toBe('Tester');

		await client.upsert({ collection: 'contacts', key: id, data: { jobtitle: 'Upserted' } });
		await h.control('POST', '/keys', { table: 'contact', attributes: ['emailaddress1'] });
		const upserted = await client.upsert({
			collection: 'contacts',
			key: "emailaddress1='upsert.by.key@contoso.com'",
			data: { lastname: 'ByKey' },
			returnRepresentation: true,
			select: ['lastname', 'emailaddress1'],
		});
		expect(upserted).toMatchObject({ lastname: 'ByKey', emailaddress1: 'upsert.by.key@contoso.com' });

		await client.deleteRecord({ collection: 'contacts', key: id });
		await expect(client.retrieve({ collection: 'contacts', key: id })).rejects.toMatchObject({ status: 404, code: '0x80040217' });
	});

	it('queries with a filter and pages with maxPageSize', async () => {
		await h.control('POST', '/seed', { contacts: 230 });
		const first = await client.retrieveMultiple({
			collection: 'contacts',
			select: ['fullname', 'emailaddress1'],
			filter: "jobtitle eq 'Bulk contact' and startswith(emailaddress1,'a')",
			maxPageSize: 5,
			count: true,
		});
		expect(first.value).toHaveLength(5);
		expect(first.oDataNextLink).toBeTruthy();
		const total = first.oDataCount as number;
		const second = await client.retrieveMultiple({ collection: 'contacts', maxPageSize: 5 }, first.oDataNextLink);
		expect(second.value.map((c: { contactid: string }) => c.contactid)).not.toContain(first.value[0].contactid);
		const all = await client.retrieveAll({
			collection: 'contacts',
			select: ['fullname'],
			filter: "jobtitle eq 'Bulk contact' and startswith(emailaddress1,'a')",
			maxPageSize: 5,
		});
		expect(all.value).toHaveLength(total);
		const count = await client.count({ collection: 'contacts' });
		// 20 demo contacts, 230 seeded, 1 upserted by key in the previous test.
		expect(count).toBe(251);
	});

	it('runs a batch with a change set and Content-ID references', async () => {
		client.startBatch();
		client.create({ collection: 'accounts', data: { name: 'Batch Library Co' }, contentId: '1' });
		client.create({ collection: 'contacts', data: { lastname: 'Batch Library Person', 'parentcustomerid_account@odata.bind': '$1' } });
		client.retrieveMultiple({ collection: 'accounts', select: ['name'], filter: "name eq 'Batch Library Co'" });
		const responses = await client.executeBatch();
		expect(responses).toHaveLength(3);
		expect(responses[0]).toMatch(/^[0-9a-f-]{36}$/);
		expect(responses[2].value).toHaveLength(1);
		const person = await client.retrieveMultiple({
			collection: 'contacts',
			select: ['_parentcustomerid_value'],
			filter: "lastname eq 'Batch Library Person'",
		});
		expect(person.value[0]._parentcustomerid_value).toBe(responses[0]);
	});

	it('reads metadata: entity definition and option sets via a cast', async () => {
		const entity = await client.retrieveEntity({ key: "LogicalName='lead'", select: ['EntitySetName', 'PrimaryIdAttribute'] });
		expect(entity).toMatchObject({ EntitySetName: 'leads', PrimaryIdAttribute: 'leadid' });
		const picklists = await client.retrieveAttributes({
			entityKey: "LogicalName='opportunity'",
			castType: 'Microsoft.Dynamics.CRM.PicklistAttributeMetadata',
			select: ['LogicalName'],
			expand: [{ property: 'OptionSet', select: ['Options'] }],
		});
		const stage = picklists.value.find((a: { LogicalName: string }) => a.LogicalName === 'salesstage');
		expect(stage.OptionSet.Options.map((o: { Value: number }) => o.Value)).toEqual([0, 1, 2, 3]);
		const attribute = await client.retrieveAttribute({
			entityKey: "LogicalName='contact'",
			attributeKey: "LogicalName='new_interests'",
			castType: 'Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata',
			select: ['LogicalName'],
			expand: [{ property: 'OptionSet', select: ['Options'] }],
		});
		expect(attribute.OptionSet.Options).toHaveLength(5);
	});

	it('tracks changes with the delta link', async () => {
		const initial = await client.retrieveMultiple({ collection: 'accounts', select: ['name'], trackChanges: true });
		expect(initial.oDataDeltaLink).toBeTruthy();
		await h.control('POST', '/ui/accounts', { name: 'Changed Elsewhere' });
		const res = await fetch(initial.oDataDeltaLink as string, { headers: { Authorization: `Bearer ${await h.tokenFor('sandbox-client', 'sandbox-secret')}` } });
		const delta = (await res.json()) as { value: Array<{ name: string }> };
		expect(delta.value.map((a) => a.name)).toEqual(['Changed Elsewhere']);
	});
});
