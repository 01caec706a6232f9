import { startHarness, type Harness } from './testkit';

describe('Dataverse simulator: metadata (EntityDefinitions)', () => {
	let h: Harness;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => h.close());

	it('returns a table definition with $select honoured (MetadataId always included)', async () => {
		const r = await h.call(
			'GET',
			"EntityDefinitions(LogicalName='contact')?$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,ChangeTrackingEnabled,IsOptimisticConcurrencyEnabled,DisplayName",
		);
		expect(r.status).toBe(200);
		expect(r.json).toMatchObject({
			'@odata.context': `${h.api}/$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,ChangeTrackingEnabled,IsOptimisticConcurrencyEnabled,DisplayName)/$entity`,
			LogicalName: 'contact',
			EntitySetName: 'contacts',
			PrimaryIdAttribute: 'contactid',
			PrimaryNameAttribute: 'fullname',
			ChangeTrackingEnabled: true,
			IsOptimisticConcurrencyEnabled: true,
			DisplayName: { UserLocalizedLabel: { Label: 'Contact', LanguageCode: 1033 } },
		});
		expect(r.json.MetadataId).toMatch(/^[0-9a-f-]{36}$/);
		expect(Object.keys(r.json)).toHaveLength(9);
		const bad = await h.call('GET', "EntityDefinitions(LogicalName='contact')?$select=Nope");
		expect(bad.status).toBe(400);
		expect(bad.json.error.message).toBe("Could not find a property named 'Nope' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.");
	});

	it('lists entity definitions with enum filters and reports EntitySetName for every table', async () => {
		const r = await h.call('GET', "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'");
		const sets = Object.fromEntries(r.json.value.map((e: { LogicalName: string; EntitySetName: string }) => [e.LogicalName, e.EntitySetName]));
		expect(sets).toEqual({ account: 'accounts', contact: 'contacts', lead: 'leads', opportunity: 'opportunities', annotation: 'annotations' });
	});

	it('lists attributes with $select and $filter on AttributeType and RequiredLevel/Value', async () => {
		let r = await h.call(
			'GET',
			"EntityDefinitions(LogicalName='lead')/Attributes?$select=LogicalName,AttributeType,AttributeTypeName,RequiredLevel,IsValidForCreate,IsValidForUpdate,IsValidForRead,DisplayName&$filter=RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'ApplicationRequired'",
		);
		expect(r.status).toBe(200);
		expect(r.json.value.map((a: { LogicalName: string }) => a.LogicalName).sort()).toEqual(['lastname', 'subject']);
		expect(r.json.value[0]).toMatchObject({
			'@odata.type': '#Microsoft.Dynamics.CRM.StringAttributeMetadata',
			AttributeType: 'String',
			AttributeTypeName: { Value: 'StringType' },
			RequiredLevel: { Value: 'ApplicationRequired', CanBeChanged: true, ManagedPropertyLogicalName: 'canmodifyrequirementlevelsettings' },
			IsValidForCreate: true,
		});
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes?$select=LogicalName&$filter=AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'");
		expect(r.json.value.map((a: { LogicalName: string }) => a.LogicalName).sort()).toEqual(['new_preferredchannel', 'preferredcontactmethodcode']);
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes?$select=LogicalName,AttributeType&$filter=AttributeTypeName/Value eq 'MultiSelectPicklistType'");
		expect(r.json.value).toEqual([expect.objectContaining({ LogicalName: 'new_interests', AttributeType: 'Virtual' })]);
		r = await h.call('GET', "EntityDefinitions(LogicalName='opportunity')/Attributes(LogicalName='statecode')?$select=LogicalName,IsValidForCreate,IsValidForUpdate");
		expect(r.json).toMatchObject({ IsValidForCreate: false, IsValidForUpdate: true });
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='fullname')?$select=IsValidForCreate,IsValidForUpdate,IsValidForRead");
		expect(r.json).toMatchObject({ IsValidForCreate: false, IsValidForUpdate: false, IsValidForRead: true });
		// Type-specific properties need a cast.
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes?$select=LogicalName,MaxLength");
		expect(r.status).toBe(400);
	});

	it('casts to PicklistAttributeMetadata and expands OptionSet / GlobalOptionSet', async () => {
		const r = await h.call(
			'GET',
			"EntityDefinitions(LogicalName='opportunity')/Attributes(LogicalName='salesstage')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options)",
		);
		expect(r.status).toBe(200);
		expect(r.json.LogicalName).toBe('salesstage');
		expect(r.json.GlobalOptionSet).toBeNull();
		expect(r.json.OptionSet.Options.map((o: { Value: number; Label: { UserLocalizedLabel: { Label: string } } }) => [o.Value, o.Label.UserLocalizedLabel.Label])).toEqual([
			[0, 'Qualify'],
			[1, 'Develop'],
			[2, 'Propose'],
			[3, 'Close'],
		]);
		expect(r.json.OptionSet.Options[0].Label.LocalizedLabels[0]).toMatchObject({ Label: 'Qualify', LanguageCode: 1033 });
		const global = await h.call(
			'GET',
			"EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='new_preferredchannel')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=GlobalOptionSet($select=Options,Name)",
		);
		expect(global.json.GlobalOptionSet.Name).toBe('new_channel');
	});

	it('casts to State/Status/MultiSelect/Money/String/DateTime metadata', async () => {
		let r = await h.call("GET", "EntityDefinitions(LogicalName='lead')/Attributes/Microsoft.Dynamics.CRM.StateAttributeMetadata?$select=LogicalName&$expand=OptionSet");
		expect(r.json.value).toHaveLength(1);
		expect(r.json.value[0].OptionSet.Options.map((o: { Value: number; DefaultStatus: number; InvariantName: string }) => [o.Value, o.DefaultStatus, o.InvariantName])).toEqual([
			[0, 1, 'Open'],
			[1, 3, 'Qualified'],
			[2, 4, 'Disqualified'],
		]);
		r = await h.call('GET', "EntityDefinitions(LogicalName='lead')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet");
		expect(r.json.value[0].OptionSet.Options.find((o: { Value: number }) => o.Value === 3).State).toBe(1);
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)");
		expect(r.json.value[0].OptionSet.Options).toHaveLength(5);
		r = await h.call('GET', "EntityDefinitions(LogicalName='opportunity')/Attributes/Microsoft.Dynamics.CRM.MoneyAttributeMetadata?$select=LogicalName,Precision,PrecisionSource");
		expect(r.json.value.map((a: { LogicalName: string }) => a.LogicalName)).toEqual(expect.arrayContaining(['estimatedvalue', 'actualvalue']));
		expect(r.json.value[0]).toMatchObject({ Precision: 2, PrecisionSource: 2 });
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=LogicalName,MaxLength,Format&$filter=LogicalName eq 'emailaddress1'");
		expect(r.json.value).toEqual([expect.objectContaining({ LogicalName: 'emailaddress1', MaxLength: 100, Format: 'Email' })]);
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='new_birthday')/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=Format,DateTimeBehavior");
		expect(r.json).toMatchObject({ Format: 'DateOnly', DateTimeBehavior: { Value: 'DateOnly' } });
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='new_lastwebinar')/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=Format,DateTimeBehavior");
		expect(r.json).toMatchObject({ Format: 'DateAndTime', DateTimeBehavior: { Value: 'UserLocal' } });
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='parentcustomerid')/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=Targets");
		expect(r.json.Targets).toEqual(['account', 'contact']);
		r = await h.call('GET', "EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='lastname')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata");
		expect(r.status).toBe(404);
	});

	it('metadata drives validation: MaxLength in metadata equals the enforced limit', async () => {
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		const meta = await h.call('GET', "EntityDefinitions(LogicalName='lead')/Attributes(LogicalName='mobilephone')/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=MaxLength");
		const max = meta.json.MaxLength as number;
		expect((await h.call('POST', 'leads', { body: { mobilephone: '1'.repeat(max) } })).status).toBe(204);
		expect((await h.call('POST', 'leads', { body: { mobilephone: '1'.repeat(max + 1) } })).status).toBe(400);
	});

	it('creates alternate keys through POST .../Keys', async () => {
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		const r = await h.call('POST', "EntityDefinitions(LogicalName='lead')/Keys", { body: { SchemaName: 'new_lead_email', KeyAttributes: ['emailaddress1'] } });
		expect(r.status).toBe(204);
		expect((await h.call('GET', "leads(emailaddress1='sam.taylor@adatum.com')?$select=fullname")).json.fullname).toBe('Sam Taylor');
		// Priya exists once as a lead, so the key is unique; adding a duplicate fails with 412.
		expect((await h.call('POST', 'leads', { body: { emailaddress1: 'sam.taylor@adatum.com' } })).status).toBe(412);
	});
});
