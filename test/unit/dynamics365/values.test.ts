import { matchesCriteria } from '../../../nodes/Dynamics365/helpers/changes';
import { createdIdFor, d365Hash, readPropertyOf } from '../../../nodes/Dynamics365/helpers/sync';
import { changedBody, convertValue, missingRequired, parseReference, prepareRecord, RecordError } from '../../../nodes/Dynamics365/helpers/values';
import { stateHash } from '../../../nodes/shared/sync/state';
import { contactTable, directory } from './fixtures';

const table = contactTable();
const GUID = 'd47226f1-dfaf-4ff2-ac61-0eb9614f7ef2';

describe('prepareRecord', () => {
	it('converts values by column type and keeps the read shape for comparison', () => {
		const prepared = prepareRecord(
			table,
			{
				lastname: 'Ng',
				new_score: '42',
				new_annualbudget: '1,234.50',
				new_isvip: 'Yes',
				new_birthday: '1990-05-17T00:00:00Z',
				new_lastwebinar: '2025-03-04T10:11:12+01:00',
				new_preferredchannel: 'phone',
				new_interests: ['Webinars', 'events'],
				statecode: 'Active',
			},
			{ mode: 'create', unknownFields: 'error', directory },
		);
		expect(prepared.body).toEqual({
			lastname: 'Ng',
			new_score: 42,
			new_annualbudget: 1234.5,
			new_isvip: true,
			new_birthday: '1990-05-17',
			new_lastwebinar: '2025-03-04T09:11:12Z',
			new_preferredchannel: 100000001,
			new_interests: '100000000,100000001',
			statecode: 0,
		});
		expect(prepared.read).toEqual(prepared.body);
	});

	it('accepts lookups as GUID with table, bind paths and column keys', () => {
		const a = prepareRecord(table, { parentcustomerid: `account:${GUID}` }, { mode: 'create', unknownFields: 'error', directory });
		expect(a.body).toEqual({ 'parentcustomerid_account@odata.bind': `/accounts(${GUID})` });
		expect(a.read).toEqual({ _parentcustomerid_value: GUID });
		const b = prepareRecord(table, { 'parentcustomerid_contact@odata.bind': `contacts(${GUID.toUpperCase()})` }, { mode: 'create', unknownFields: 'error', directory });
		expect(b.body).toEqual({ 'parentcustomerid_contact@odata.bind': `/contacts(${GUID})` });
		const c = prepareRecord(table, { 'parentcustomerid_account@odata.bind': "/accounts(name='O''Neil & Co')" }, { mode: 'create', unknownFields: 'error', directory });
		expect(c.pending).toEqual([
			{ bodyKey: 'parentcustomerid_account@odata.bind', readKey: '_parentcustomerid_value', entitySet: 'accounts', key: { name: "O'Neil & Co" } },
		]);
		const d = prepareRecord(
			table,
			{ _parentcustomerid_value: GUID, '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'contact' },
			{ mode: 'update', unknownFields: 'error', directory },
		);
		expect(d.body).toEqual({ 'parentcustomerid_contact@odata.bind': `/contacts(${GUID})` });
		expect(() => prepareRecord(table, { parentcustomerid: GUID }, { mode: 'create', unknownFields: 'error', directory })).toThrow(/bare GUID is ambiguous/);
		expect(parseReference(`https://org.crm.dynamics.com/api/data/v9.2/accounts(${GUID})`)).toEqual({ entitySet: 'accounts', id: GUID });
		expect(parseReference("accounts(accountnumber='1',name='x')")).toEqual({ entitySet: 'accounts', key: { accountnumber: '1', name: 'x' } });
	});

	it('ignores read-only, derived and (in auto-map mode) unknown fields; refuses unknown defined columns', () => {
		const prepared = prepareRecord(
			table,
			{ lastname: 'X', fullname: 'Y', parentcustomeridname: 'Z', json: 'ignored', '@odata.etag': 'W/"1"', 'lastname@OData.Community.Display.V1.FormattedValue': 'X' },
			{ mode: 'create', unknownFields: 'ignore', directory },
		);
		expect(prepared.body).toEqual({ lastname: 'X' });
		expect(prepared.ignored.sort()).toEqual(['fullname', 'json', 'parentcustomeridname']);
		expect(() => prepareRecord(table, { lastnme: 'X' }, { mode: 'create', unknownFields: 'error', directory })).toThrow(
			"The table contact has no column 'lastnme'",
		);
	});

	it('reports values that do not fit the column', () => {
		expect(() => convertValue(table.columns.get('new_score')!, '4.5')).toThrow(RecordError);
		expect(() => convertValue(table.columns.get('new_isvip')!, 'maybe')).toThrow(/true or false \(Yes \/ No\)/);
		expect(() => convertValue(table.columns.get('new_preferredchannel')!, 'Fax')).toThrow(/Valid choices: Email \(100000000\), Phone \(100000001\)/);
		expect(convertValue(table.columns.get('lastname')!, '')).toBeNull();
	});

	it('finds missing required columns and the changed columns', () => {
		const prepared = prepareRecord(table, { firstname: 'A', emailaddress1: 'a@x.com', new_annualbudget: 10 }, { mode: 'create', unknownFields: 'error', directory });
		expect(missingRequired(table, prepared).map((c) => c.logicalName)).toEqual(['lastname']);
		expect(changedBody(prepared, { firstname: 'A', emailaddress1: 'a@x.com', new_annualbudget: 10.0 })).toEqual({});
		expect(changedBody(prepared, { firstname: 'B', emailaddress1: 'a@x.com', new_annualbudget: '10' })).toEqual({ firstname: 'A' });
	});
});

describe('sync helpers', () => {
	it('hashes read-shape records and derives the id of a record created from ActiveCampaign', () => {
		const id = createdIdFor('acme.api-us1.com', 'lead', '42');
		expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(createdIdFor('ACME.api-us1.com ', 'lead', '42')).toBe(id);
		expect(createdIdFor('acme.api-us1.com', 'lead', '43')).not.toBe(id);
		expect(createdIdFor('acme.api-us1.com', 'contact', '42')).not.toBe(id);
		expect(createdIdFor('other.api-us1.com', 'lead', '42')).not.toBe(id);
		expect(readPropertyOf(table, 'parentcustomerid_account@odata.bind')).toBe('_parentcustomerid_value');
		expect(readPropertyOf(table, 'parentcustomerid')).toBe('_parentcustomerid_value');
		expect(readPropertyOf(table, 'lastname')).toBe('lastname');
		const record = { lastname: 'Ng', _parentcustomerid_value: GUID.toUpperCase() };
		expect(d365Hash(table, record, ['lastname', 'parentcustomerid'])).toBe(stateHash({ lastname: 'Ng', parentcustomerid: GUID }, ['lastname', 'parentcustomerid']));
	});

	it('evaluates criteria on records (change tracking)', () => {
		const record = { lastname: 'Garcia', new_score: 42, emailaddress1: 'maria@contoso.com', _parentcustomerid_value: GUID };
		expect(matchesCriteria(table, record, [{ column: 'emailaddress1', operator: 'endsWith', value: '@CONTOSO.com' }])).toBe(true);
		expect(matchesCriteria(table, record, [{ column: 'new_score', operator: 'gt', value: '50' }])).toBe(false);
		expect(
			matchesCriteria(
				table,
				record,
				[
					{ column: 'new_score', operator: 'gt', value: '50' },
					{ column: 'parentcustomerid', operator: 'eq', value: GUID },
				],
				'or',
			),
		).toBe(true);
		expect(matchesCriteria(table, record, [{ column: 'firstname', operator: 'isNull' }])).toBe(true);
	});
});
