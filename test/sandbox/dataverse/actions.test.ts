import { DynamicsWebApi } from 'dynamics-web-api';

import { IDS } from './index';
import { FV, startHarness, type Harness } from './testkit';
import { omitKeys } from '../../../nodes/shared/object';

const TYPE = (table: string) => `Microsoft.Dynamics.CRM.${table}`;

describe('Dataverse simulator: Merge and QualifyLead', () => {
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
	const idOf = (entityId: string | null) => /\(([^)]+)\)$/.exec(entityId ?? '')![1];
	const create = async (set: string, body: Record<string, unknown>) => idOf((await h.call('POST', set, { body })).headers.get('odata-entityid'));
	const state = async (set: string, id: string) => (await h.control('GET', `/state/${set}/${id}`)).json;
	const mergeBody = (table: string, target: string, subordinate: string, extra: Record<string, unknown> = {}) => ({
		Target: { '@odata.type': TYPE(table), [`${table}id`]: target },
		Subordinate: { '@odata.type': TYPE(table), [`${table}id`]: subordinate },
		PerformParentingChecks: false,
		...extra,
	});
	const deltaLink = async (set: string) =>
		(await h.call('GET', `${set}?$select=modifiedon`, { headers: { Prefer: 'odata.track-changes' } })).json['@odata.deltaLink'] as string;
	const delta = async (link: string) => (await h.call('GET', link)).json.value as Array<Record<string, unknown>>;

	describe('Merge', () => {
		it('merges contacts: 204; subordinate deactivated, merged, masterid; target gets UpdateContent; children re-parented; both in the delta', async () => {
			const maria = ids()['contact:maria.garcia@contoso.com'];
			const dup = await create('contacts', {
				firstname: 'Maria',
				lastname: 'Garcia',
				emailaddress1: 'm.garcia@contoso.com',
				'parentcustomerid_account@odata.bind': `/accounts(${ids()['account:contoso']})`,
			});
			const note = await create('annotations', { subject: 'On the duplicate', 'objectid_contact@odata.bind': `/contacts(${dup})` });
			const opp = await create('opportunities', {
				name: 'Duplicate deal',
				'customerid_contact@odata.bind': `/contacts(${dup})`,
				'parentcontactid@odata.bind': `/contacts(${dup})`,
			});
			const fabrikam = ids()['account:fabrikam'];
			await h.call('PATCH', `accounts(${fabrikam})`, { body: { 'primarycontactid@odata.bind': `/contacts(${dup})` }, headers: { 'If-Match': '*' } });
			const before = await state('contacts', maria);
			const dupBefore = await state('contacts', dup);
			const contactsLink = await deltaLink('contacts');
			const opportunitiesLink = await deltaLink('opportunities');
			await h.control('POST', '/clock', { advanceSeconds: 60 });
			h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');

			const r = await h.call('POST', 'Merge', {
				body: mergeBody('contact', maria, dup, { UpdateContent: { '@odata.type': TYPE('contact'), jobtitle: 'CMO', emailaddress2: 'm.garcia@contoso.com' } }),
			});
			expect(r.status).toBe(204);
			expect(r.text).toBe('');
			expect(r.headers.get('odata-version')).toBe('4.0');

			const sub = await state('contacts', dup);
			expect(sub).toMatchObject({
				statecode: 1,
				statuscode: 2,
				merged: true,
				[`merged${FV}`]: 'Yes',
				_masterid_value: maria,
				[`_masterid_value${FV}`]: 'Maria Garcia',
				_modifiedby_value: appUserId,
			});
			const target = await state('contacts', maria);
			expect(target).toMatchObject({ statecode: 0, jobtitle: 'CMO', emailaddress2: 'm.garcia@contoso.com', merged: false, _masterid_value: null, _modifiedby_value: appUserId });
			expect(target.versionnumber).toBeGreaterThan(before.versionnumber);
			expect(Date.parse(target.modifiedon)).toBeGreaterThan(Date.parse(before.modifiedon));
			expect(sub.versionnumber).toBeGreaterThan(dupBefore.versionnumber);
			expect(Date.parse(sub.modifiedon)).toBeGreaterThan(Date.parse(dupBefore.modifiedon));
			// Children follow the target (relationships with CascadeConfiguration.Merge = Cascade).
			expect((await state('annotations', note))._objectid_value).toBe(maria);
			expect(await state('opportunities', opp)).toMatchObject({ _customerid_value: maria, _parentcontactid_value: maria });
			expect((await state('accounts', fabrikam))._primarycontactid_value).toBe(maria);

			const changed = await delta(contactsLink);
			expect(changed.filter((e) => e['@odata.context']).length).toBe(0);
			expect(changed.map((e) => e.contactid).sort()).toEqual([maria, dup].sort());
			expect((await delta(opportunitiesLink)).map((e) => e.opportunityid)).toEqual([opp]);
		});

		it('merges accounts: contacts, leads and sub-accounts move to the target; masterid (NoCascade) stays on an earlier merged record', async () => {
			const [a, b, c] = [await create('accounts', { name: 'Acme' }), await create('accounts', { name: 'ACME Inc' }), await create('accounts', { name: 'Acme Corporation' })];
			const person = await create('contacts', { lastname: 'Worker', 'parentcustomerid_account@odata.bind': `/accounts(${b})` });
			const lead = await create('leads', { lastname: 'Prospect', 'parentaccountid@odata.bind': `/accounts(${b})`, 'customerid_account@odata.bind': `/accounts(${b})` });
			const child = await create('accounts', { name: 'Acme Europe', 'parentaccountid@odata.bind': `/accounts(${b})` });
			expect((await h.call('POST', 'Merge', { body: mergeBody('account', b, a) })).status).toBe(204);
			expect((await state('accounts', a))._masterid_value).toBe(b);
			expect((await h.call('POST', 'Merge', { body: mergeBody('account', c, b, { UpdateContent: { '@odata.type': TYPE('account'), accountnumber: '1234' } }) })).status).toBe(204);
			expect(await state('accounts', c)).toMatchObject({ accountnumber: '1234', statecode: 0 });
			expect(await state('accounts', b)).toMatchObject({ statecode: 1, statuscode: 2, merged: true, _masterid_value: c });
			expect((await state('accounts', a))._masterid_value).toBe(b);
			expect((await state('contacts', person))._parentcustomerid_value).toBe(c);
			expect(await state('leads', lead)).toMatchObject({ _parentaccountid_value: c, _customerid_value: c });
			expect((await state('accounts', child))._parentaccountid_value).toBe(c);
		});

		it('merges leads: the subordinate lead is Disqualified / Canceled; opportunities keep their originating lead through the target', async () => {
			const sam = ids()['lead:sam.taylor@adatum.com'];
			const dup = await create('leads', { subject: 'Support plan', firstname: 'Sam', lastname: 'Taylor', emailaddress1: 'sam@adatum.com' });
			const opp = await create('opportunities', { name: 'From the duplicate', 'originatingleadid@odata.bind': `/leads(${dup})` });
			expect((await h.call('POST', 'Merge', { body: mergeBody('lead', sam, dup) })).status).toBe(204);
			expect(await state('leads', dup)).toMatchObject({
				statecode: 2,
				statuscode: 7,
				[`statecode${FV}`]: 'Disqualified',
				[`statuscode${FV}`]: 'Canceled',
				merged: true,
				_masterid_value: sam,
			});
			expect((await state('opportunities', opp))._originatingleadid_value).toBe(sam);
		});

		it('answers the documented errors and changes nothing when it fails', async () => {
			const maria = ids()['contact:maria.garcia@contoso.com'];
			const li = ids()['contact:li.wei@fabrikam.com'];
			const before = await state('contacts', maria);
			let r = await h.call('POST', 'Merge', { body: mergeBody('contact', maria, maria.toUpperCase()) });
			expect(r.status).toBe(400);
			expect(r.json.error).toEqual({ code: '0x80045305', message: 'Merge cannot be performed on master and sub-entities that are identical.' });

			const fatima = ids()['contact:fatima.zahra@wideworldimporters.com'];
			r = await h.call('POST', 'Merge', { body: mergeBody('contact', maria, fatima) });
			expect(r.json.error).toEqual({ code: '0x80045304', message: 'Merge cannot be performed on entity that is inactive.' });
			r = await h.call('POST', 'Merge', { body: mergeBody('contact', fatima, maria) });
			expect(r.json.error.code).toBe('0x80045304');

			const missing = '00000000-0000-0000-0000-0000000000aa';
			r = await h.call('POST', 'Merge', { body: mergeBody('contact', maria, missing) });
			expect(r.status).toBe(404);
			expect(r.json.error).toEqual({ code: '0x80040217', message: `contact With Id = ${missing} Does Not Exist` });

			r = await h.call('POST', 'Merge', {
				body: { ...mergeBody('contact', maria, li), Subordinate: { '@odata.type': TYPE('account'), accountid: ids()['account:contoso'] } },
			});
			expect(r.status).toBe(400);
			expect(r.json.error.code).toBe('0x80040203');
			expect(r.json.error.message).toContain("Target is 'contact' and Subordinate is 'account'");

			r = await h.call('POST', 'Merge', { body: { ...mergeBody('contact', maria, li), Target: { contactid: maria } } });
			expect(r.status).toBe(400);
			expect(r.json.error.message).toBe('EdmEntityObject passed should have the key property value set.');

			const noChecks = omitKeys(mergeBody('contact', maria, li), ['PerformParentingChecks']);
			r = await h.call('POST', 'Merge', { body: noChecks });
			expect(r.json.error).toEqual({ code: '0x80040203', message: "Required field 'PerformParentingChecks' is missing" });

			r = await h.call('POST', 'Merge', { body: mergeBody('opportunity', ids()['opportunity:contoso-erp'], ids()['opportunity:fabrikam-analytics']) });
			expect(r.status).toBe(400);
			expect(r.json.error.message).toContain("The Merge message is not supported for entity 'opportunity'");

			// Maria (Contoso) and Li (Fabrikam) have different parent accounts.
			r = await h.call('POST', 'Merge', {
				body: mergeBody('contact', maria, li, { PerformParentingChecks: true, UpdateContent: { '@odata.type': TYPE('contact'), jobtitle: 'Rolled back' } }),
			});
			expect(r.json.error).toEqual({ code: '0x80045316', message: 'Merge warning: sub-entity will be differently parented.' });
			const after = await state('contacts', maria);
			expect(after.jobtitle).toBe(before.jobtitle);
			expect(after.versionnumber).toBe(before.versionnumber);
			expect((await state('contacts', li)).statecode).toBe(0);

			r = await h.call('GET', 'Merge');
			expect(r.status).toBe(404);
		});

		it('refuses to make the target its own parent (0x80045300) and checks privileges', async () => {
			const parent = await create('accounts', { name: 'Parent' });
			const child = await create('accounts', { name: 'Child', 'parentaccountid@odata.bind': `/accounts(${parent})` });
			let r = await h.call('POST', 'Merge', { body: mergeBody('account', child, parent) });
			expect(r.json.error).toEqual({ code: '0x80045300', message: 'Merge could create cyclical parenting.' });
			expect((await state('accounts', parent)).statecode).toBe(0);

			await h.control('POST', '/clients', { clientId: 'no-contact-write', clientSecret: 'x', deniedPrivileges: ['prvWriteContact'] });
			const token = await h.tokenFor('no-contact-write', 'x');
			r = await h.call('POST', 'Merge', { body: mergeBody('contact', ids()['contact:maria.garcia@contoso.com'], ids()['contact:li.wei@fabrikam.com']), token });
			expect(r.status).toBe(403);
			expect(r.json.error.code).toBe('0x80040220');
			expect(r.json.error.message).toContain('is missing prvWriteContact privilege');
		});

		it('runs inside a $batch change set and rolls back with it', async () => {
			const maria = ids()['contact:maria.garcia@contoso.com'];
			const dup = await create('contacts', { lastname: 'Garcia (batch)' });
			const changeSet = (ops: Array<{ method: string; url: string; body?: unknown; headers?: Record<string, string> }>) => {
				const parts = ops.map((op) =>
					[
						'--changeset_m',
						'Content-Type: application/http',
						'Content-Transfer-Encoding: binary',
						'',
						`${op.method} ${h.api}/${op.url} HTTP/1.1`,
						'Content-Type: application/json; type=entry',
						...Object.entries(op.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
						'',
						JSON.stringify(op.body ?? {}),
					].join('\r\n'),
				);
				return `--batch_m\r\nContent-Type: multipart/mixed; boundary=changeset_m\r\n\r\n${parts.join('\r\n')}\r\n--changeset_m--\r\n--batch_m--\r\n`;
			};
			const send = (raw: string) => h.call('POST', '$batch', { raw, headers: { 'Content-Type': 'multipart/mixed; boundary=batch_m' } });
			const missing = '00000000-0000-0000-0000-0000000000cc';
			let r = await send(
				changeSet([
					{ method: 'POST', url: 'Merge', body: mergeBody('contact', maria, dup) },
					{ method: 'PATCH', url: `contacts(${missing})`, body: { jobtitle: 'x' }, headers: { 'If-Match': '*' } },
				]),
			);
			expect(r.text).toContain('HTTP/1.1 404');
			expect(await state('contacts', dup)).toMatchObject({ statecode: 0, merged: false, _masterid_value: null });
			r = await send(changeSet([{ method: 'POST', url: 'Merge', body: mergeBody('contact', maria, dup) }]));
			expect(r.status).toBe(200);
			expect(r.text).toContain('HTTP/1.1 204');
			expect(await state('contacts', dup)).toMatchObject({ statecode: 1, merged: true, _masterid_value: maria });
		});

		it('describes merged and masterid as read-only columns; clients cannot set them', async () => {
			for (const table of ['account', 'contact', 'lead']) {
				let r = await h.call('GET', `EntityDefinitions(LogicalName='${table}')/Attributes(LogicalName='merged')?$select=AttributeType,IsValidForCreate,IsValidForUpdate,IsValidForRead`);
				expect(r.json).toMatchObject({ AttributeType: 'Boolean', IsValidForCreate: false, IsValidForUpdate: false, IsValidForRead: true });
				r = await h.call('GET', `EntityDefinitions(LogicalName='${table}')/Attributes(LogicalName='masterid')/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=Targets,IsValidForCreate,IsValidForUpdate`);
				expect(r.json).toMatchObject({ Targets: [table], IsValidForCreate: false, IsValidForUpdate: false });
			}
			for (const table of ['account', 'contact']) {
				const r = await h.call('GET', `EntityDefinitions(LogicalName='${table}')/Attributes(LogicalName='originatingleadid')?$select=AttributeType,IsValidForCreate,IsValidForUpdate`);
				expect(r.json).toMatchObject({ AttributeType: 'Lookup', IsValidForCreate: true, IsValidForUpdate: false });
			}
			const r = await h.call('POST', 'contacts?$select=merged,_masterid_value', {
				body: { lastname: 'Sneaky', merged: true },
				headers: { Prefer: 'return=representation' },
			});
			expect(r.json).toMatchObject({ merged: false, _masterid_value: null });
			const bind = await h.call('POST', 'contacts', { body: { lastname: 'Sneaky', 'masterid@odata.bind': `/contacts(${ids()['contact:maria.garcia@contoso.com']})` } });
			expect(bind.status).toBe(204);
			expect((await state('contacts', idOf(bind.headers.get('odata-entityid'))))._masterid_value).toBeNull();
		});
	});

	describe('QualifyLead', () => {
		const qualify = (lead: string, body: Record<string, unknown>, token?: string) =>
			h.call('POST', `leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, { body, token });

		it('creates account, contact and opportunity from the lead, linked to it, and qualifies the lead', async () => {
			const sam = ids()['lead:sam.taylor@adatum.com'];
			const leadsLink = await deltaLink('leads');
			const accountsLink = await deltaLink('accounts');
			const r = await qualify(sam, { CreateAccount: true, CreateContact: true, CreateOpportunity: true, Status: 3 });
			expect(r.status).toBe(200);
			expect(r.json['@odata.context']).toBe(`${h.api}/$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)`);
			expect(r.json.value.map((v: Record<string, string>) => v['@odata.type'])).toEqual([
				'#Microsoft.Dynamics.CRM.account',
				'#Microsoft.Dynamics.CRM.contact',
				'#Microsoft.Dynamics.CRM.opportunity',
			]);
			const [{ accountid }, { contactid }, { opportunityid }] = r.json.value;

			expect(await state('leads', sam)).toMatchObject({ statecode: 1, statuscode: 3, [`statecode${FV}`]: 'Qualified', _modifiedby_value: appUserId });
			expect(await state('accounts', accountid)).toMatchObject({
				name: 'Adatum Corporation',
				address1_telephone1: '+44 20 7946 0121',
				_originatingleadid_value: sam,
				_createdby_value: appUserId,
				_ownerid_value: appUserId,
				statecode: 0,
			});
			expect(await state('contacts', contactid)).toMatchObject({
				firstname: 'Sam',
				lastname: 'Taylor',
				fullname: 'Sam Taylor',
				emailaddress1: 'sam.taylor@adatum.com',
				jobtitle: 'Procurement Manager',
				managerphone: '+44 20 7946 0121',
				_parentcustomerid_value: accountid,
				_originatingleadid_value: sam,
				_createdby_value: appUserId,
			});
			expect(await state('opportunities', opportunityid)).toMatchObject({
				name: 'Interested in annual support plan',
				_customerid_value: accountid,
				[`_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname`]: 'account',
				_parentaccountid_value: accountid,
				_parentcontactid_value: contactid,
				_originatingleadid_value: sam,
				_createdby_value: appUserId,
			});
			expect((await delta(leadsLink)).map((e) => e.leadid)).toEqual([sam]);
			expect((await delta(accountsLink)).map((e) => e.accountid)).toEqual([accountid]);

			const again = await qualify(sam, { CreateAccount: false, CreateContact: true, CreateOpportunity: false, Status: 3 });
			expect(again.status).toBe(400);
			expect(again.json.error).toEqual({ code: '0x80040519', message: 'The lead is already closed.' });
		});

		it('creates only what is asked; OpportunityCustomerId and OpportunityCurrencyId go onto the opportunity', async () => {
			const chris = ids()['lead:chris.evans@tailspintoys.com'];
			const maria = ids()['contact:maria.garcia@contoso.com'];
			const before = { accounts: (await h.control('GET', '/state/accounts')).json.count, contacts: (await h.control('GET', '/state/contacts')).json.count };
			const r = await qualify(chris, {
				CreateAccount: false,
				CreateContact: false,
				CreateOpportunity: true,
				Status: 3,
				OpportunityCustomerId: { '@odata.type': TYPE('contact'), contactid: maria },
				OpportunityCurrencyId: { '@odata.type': TYPE('transactioncurrency'), transactioncurrencyid: IDS.usd },
			});
			expect(r.status).toBe(200);
			expect(r.json.value).toHaveLength(1);
			const opp = await state('opportunities', r.json.value[0].opportunityid);
			expect(opp).toMatchObject({ name: 'Holiday campaign tooling', _customerid_value: maria, _transactioncurrencyid_value: IDS.usd, _originatingleadid_value: chris });
			expect((await h.control('GET', '/state/accounts')).json.count).toBe(before.accounts);
			expect((await h.control('GET', '/state/contacts')).json.count).toBe(before.contacts);
		});

		it('validates Status, parameters and the bound record', async () => {
			const nina = ids()['lead:nina.petrova@contoso.com'];
			let r = await qualify(nina, { CreateAccount: false, CreateContact: true, CreateOpportunity: false, Status: 4 });
			expect(r.status).toBe(400);
			expect(r.json.error).toEqual({ code: '0x80040203', message: `4 is not a valid status code for state code LeadState.Qualified on lead with Id ${nina}.` });
			r = await qualify(nina, { CreateAccount: false, CreateContact: true, CreateOpportunity: false });
			expect(r.json.error).toEqual({ code: '0x80040203', message: "Required field 'Status' is missing" });
			r = await qualify(nina, { CreateContact: true, CreateOpportunity: false, Status: 3 });
			expect(r.json.error.message).toBe("Required field 'CreateAccount' is missing");
			const missing = '00000000-0000-0000-0000-0000000000bb';
			r = await qualify(missing, { CreateAccount: false, CreateContact: true, CreateOpportunity: false, Status: 3 });
			expect(r.status).toBe(404);
			expect(r.json.error).toEqual({ code: '0x80040217', message: `lead With Id = ${missing} Does Not Exist` });
			r = await h.call('POST', `contacts(${ids()['contact:maria.garcia@contoso.com']})/Microsoft.Dynamics.CRM.QualifyLead`, { body: { Status: 3 } });
			expect(r.status).toBe(404);
			expect(r.json.error.code).toBe('0x8006088a');
			// A disqualified lead is closed too.
			const peter = ids()['lead:peter.novak@fabrikam.com'];
			r = await qualify(peter, { CreateAccount: false, CreateContact: true, CreateOpportunity: false, Status: 3 });
			expect(r.json.error.code).toBe('0x80040519');
			expect((await state('leads', nina)).statecode).toBe(0);
		});

		it('is all or nothing: a missing privilege on one created table leaves the lead open and creates nothing', async () => {
			const nina = ids()['lead:nina.petrova@contoso.com'];
			await h.control('POST', '/clients', { clientId: 'no-opportunity-create', clientSecret: 'x', deniedPrivileges: ['prvCreateOpportunity'] });
			const token = await h.tokenFor('no-opportunity-create', 'x');
			const contactsBefore = (await h.control('GET', '/state/contacts')).json.count;
			const r = await qualify(nina, { CreateAccount: true, CreateContact: true, CreateOpportunity: true, Status: 3 }, token);
			expect(r.status).toBe(403);
			expect(r.json.error.message).toContain('is missing prvCreateOpportunity privilege');
			expect((await state('leads', nina)).statecode).toBe(0);
			expect((await h.control('GET', '/state/contacts')).json.count).toBe(contactsBefore);
		});
	});

	describe('control endpoints (as the Sales User in the Dynamics UI)', () => {
		const salesUser = IDS.salesUser;

		it('POST /ui/merge merges through the same engine, as the Sales User', async () => {
			const maria = ids()['contact:maria.garcia@contoso.com'];
			const dup = (await h.control('POST', '/ui/contacts', { firstname: 'María', lastname: 'García' })).json.contactid as string;
			const link = await deltaLink('contacts');
			const r = await h.control('POST', '/ui/merge', { table: 'contact', target: maria, subordinate: dup, updateContent: { jobtitle: 'VP Marketing' } });
			expect(r.status).toBe(200);
			expect(r.json.target).toMatchObject({ jobtitle: 'VP Marketing', _modifiedby_value: salesUser });
			expect(r.json.subordinate).toMatchObject({ statecode: 1, merged: true, _masterid_value: maria, _modifiedby_value: salesUser });
			expect((await delta(link)).map((e) => e.contactid).sort()).toEqual([maria, dup].sort());
			const same = await h.control('POST', '/ui/merge', { table: 'contacts', target: maria, subordinate: maria });
			expect(same.status).toBe(400);
			expect(same.json.error.code).toBe('0x80045305');
		});

		it('POST /ui/leads/<id>/qualify qualifies as the Sales User and returns the created ids', async () => {
			const raj = ids()['lead:raj.mehta@fabrikam.com'];
			const r = await h.control('POST', `/ui/leads/${raj}/qualify`, { createAccount: false, createContact: true, createOpportunity: false });
			expect(r.status).toBe(200);
			expect(r.json.created).toEqual([{ table: 'contact', id: r.json.contact }]);
			expect(await state('contacts', r.json.contact)).toMatchObject({
				fullname: 'Raj Mehta',
				_parentcustomerid_value: null,
				_originatingleadid_value: raj,
				_createdby_value: salesUser,
			});
			expect(await state('leads', raj)).toMatchObject({ statecode: 1, statuscode: 3, _modifiedby_value: salesUser });
			const again = await h.control('POST', `/ui/leads/${raj}/qualify`, { createContact: true });
			expect(again.json.error).toEqual({ code: '0x80040519', message: 'The lead is already closed.' });
		});
	});

	describe('through dynamics-web-api (an independent client)', () => {
		it('calls the unbound Merge and the bound QualifyLead actions', async () => {
			const client = new DynamicsWebApi({
				serverUrl: h.url,
				dataApi: { version: '9.2' },
				onTokenRefresh: () => h.tokenFor('sandbox-client', 'sandbox-secret'),
			});
			const maria = ids()['contact:maria.garcia@contoso.com'];
			const dup = await create('contacts', { firstname: 'Maria', lastname: 'Garcia (old)' });
			await client.callAction({
				actionName: 'Merge',
				action: {
					Target: { '@odata.type': TYPE('contact'), contactid: maria },
					Subordinate: { '@odata.type': TYPE('contact'), contactid: dup },
					UpdateContent: { '@odata.type': TYPE('contact'), mobilephone: '+1 206 555 0199' },
					PerformParentingChecks: false,
				},
			});
			expect(await state('contacts', dup)).toMatchObject({ merged: true, _masterid_value: maria });
			expect((await state('contacts', maria)).mobilephone).toBe('+1 206 555 0199');

			const tom = ids()['lead:tom.baker@contoso.com'];
			const result = await client.callAction<{ value: Array<Record<string, string>> }>({
				actionName: 'Microsoft.Dynamics.CRM.QualifyLead',
				collection: 'leads',
				key: tom,
				action: { CreateAccount: true, CreateContact: false, CreateOpportunity: false, Status: 3 },
			});
			expect(result.value).toEqual([{ '@odata.type': '#Microsoft.Dynamics.CRM.account', accountid: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);
			expect((await state('accounts', result.value[0].accountid)).name).toBe('Contoso Ltd');
			await expect(
				client.callAction({ actionName: 'Microsoft.Dynamics.CRM.QualifyLead', collection: 'leads', key: tom, action: { CreateAccount: true, CreateContact: false, CreateOpportunity: false, Status: 3 } }),
			).rejects.toMatchObject({ status: 400, code: '0x80040519' });
		});
	});
});
