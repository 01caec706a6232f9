import { mapRecord, prepareMapping, type PreparedMapping } from '../../../nodes/shared/sync/mapRecord';
import { resolvePairs, type MappingDefinition } from '../../../nodes/shared/sync/mapping';
import { activeCampaignStateHash, FORMATTED } from '../../../nodes/shared/sync/records';
import { fieldHash, formatFieldState } from '../../../nodes/shared/sync/fieldState';
import { formatContactLink, formatState } from '../../../nodes/shared/sync/state';
import type { SyncDirection } from '../../../nodes/shared/sync/decide';

const CONTACT_ID = '11111111-2222-4333-8444-555555555555';
const ACCOUNT_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

function prepare(definition: MappingDefinition, step: SyncDirection): PreparedMapping {
	return prepareMapping(definition, resolvePairs(definition), step);
}

const contactDefinition: MappingDefinition = {
	entity: 'contact',
	syncDirection: 'bidirectional',
	timeZone: '-05:00',
	conflictPolicy: 'newestWins',
	custom: [
		{ dynamics: { name: 'new_birthday', type: 'dateonly' }, activeCampaign: { key: 'BIRTHDAY', type: 'date' } },
		{ dynamics: { name: 'new_preferredchannel', type: 'picklist' }, activeCampaign: { key: 'Preferred Channel', type: 'radio' } },
		{ dynamics: { name: 'new_interests', type: 'multiselect' }, activeCampaign: { key: 'INTERESTS', type: 'checkbox' } },
		{ dynamics: { name: 'new_annualbudget', type: 'money' }, activeCampaign: { key: 'ANNUAL_BUDGET', type: 'number' } },
	],
};

const d365Contact = {
	contactid: CONTACT_ID,
	emailaddress1: 'Maria.Garcia@Contoso.com',
	firstname: 'Maria',
	lastname: 'Garcia',
	telephone1: '+1 425 555 0101',
	jobtitle: 'Buyer',
	_parentcustomerid_value: ACCOUNT_ID,
	[`_parentcustomerid_value${FORMATTED}`]: 'Contoso Ltd',
	'_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account',
	new_birthday: '1990-04-12',
	new_preferredchannel: 2,
	[`new_preferredchannel${FORMATTED}`]: 'Phone',
	new_interests: '1,3',
	[`new_interests${FORMATTED}`]: 'Cloud; Security',
	new_annualbudget: 25000.5,
	modifiedon: '2026-05-01T10:00:00Z',
};

describe('mapRecord: Dynamics → ActiveCampaign', () => {
	it('maps a contact to an ActiveCampaign-shaped record with match keys, hashes and tags', () => {
		const outcome = mapRecord(prepare(contactDefinition, 'toActiveCampaign'), d365Contact);
		expect(outcome.kind).toBe('mapped');
		if (outcome.kind !== 'mapped') return;
		expect(outcome.item).toMatchObject({
			entity: 'contact',
			direction: 'toActiveCampaign',
			record: {
				email: 'Maria.Garcia@Contoso.com',
				firstName: 'Maria',
				lastName: 'Garcia',
				phone: '+1 425 555 0101',
				jobTitle: 'Buyer',
				accountName: 'Contoso Ltd',
				fieldValues: {
					BIRTHDAY: '1990-04-12',
					'Preferred Channel': 'Phone',
					INTERESTS: '||Cloud||Security||',
					ANNUAL_BUDGET: 25000.5,
				},
			},
			match: { d365Id: CONTACT_ID, d365Entity: 'contact', email: 'maria.garcia@contoso.com' },
			source: { system: 'dynamics', id: CONTACT_ID, modifiedAt: '2026-05-01T10:00:00Z' },
			tags: ['[D365: Contact]', '[D365: Pushed from Dynamics]'],
			removeTags: ['[D365: Lead]'],
			related: { accountName: 'Contoso Ltd' },
			policy: { conflict: 'newestWins', precedence: 'contact' },
		});
		expect(outcome.item.source.hash).toMatch(/^[0-9a-f]{16}$/);
		expect(outcome.item.state.targetHashFields).toEqual(
			expect.arrayContaining(['email', 'firstName', 'accountName', 'BIRTHDAY', 'INTERESTS']),
		);
	});

	it('leaves the account empty when a contact’s parent is another contact', () => {
		const outcome = mapRecord(prepare(contactDefinition, 'toActiveCampaign'), {
			...d365Contact,
			'_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'contact',
			[`_parentcustomerid_value${FORMATTED}`]: 'Some Person',
		});
		expect(outcome.kind === 'mapped' && outcome.item.record.accountName).toBeNull();
	});

	it('sends out-of-scope records to the skipped output with the reason', () => {
		const definition: MappingDefinition = {
			...contactDefinition,
			criteria: { dynamics: [{ field: 'jobtitle', operator: 'equals', value: 'CEO' }] },
		};
		expect(mapRecord(prepare(definition, 'toActiveCampaign'), d365Contact)).toEqual({
			kind: 'skipped',
			reason: 'out of scope: jobtitle equals "CEO" does not hold',
		});
	});

	it('reports values that do not convert, naming both fields', () => {
		const outcome = mapRecord(prepare(contactDefinition, 'toActiveCampaign'), { ...d365Contact, new_birthday: 'soon' });
		expect(outcome).toMatchObject({
			kind: 'error',
			problems: ['Dynamics "new_birthday" → ActiveCampaign "BIRTHDAY": "soon" is not a date'],
		});
	});

	it('maps an opportunity with its five fixed fields and the related contact email', () => {
		const definition: MappingDefinition = {
			entity: 'opportunity',
			syncDirection: 'dynamicsToActiveCampaign',
			custom: [{ dynamics: { name: 'new_region', type: 'string' }, activeCampaign: { key: 'region', type: 'text' } }],
		};
		const outcome = mapRecord(prepare(definition, 'toActiveCampaign'), {
			opportunityid: ACCOUNT_ID,
			name: 'Contoso renewal',
			estimatedvalue: 50000,
			estimatedclosedate: '2026-09-30',
			actualvalue: null,
			salesstage: 1,
			[`salesstage${FORMATTED}`]: 'Develop',
			new_region: 'EMEA',
			parentcontactid: { contactid: CONTACT_ID, emailaddress1: 'maria.garcia@contoso.com' },
		});
		expect(outcome).toMatchObject({
			kind: 'mapped',
			item: {
				record: {
					fields: {
						name: 'Contoso renewal',
						'estimated-revenue': 5000000,
						'estimated-close-date': '2026-09-30',
						'actual-revenue': null,
						stage: 'Develop',
						region: 'EMEA',
					},
				},
				match: { externalId: ACCOUNT_ID },
				related: { contactEmail: 'maria.garcia@contoso.com' },
			},
		});
	});

	it('maps accounts by name, and says a step against the entity direction writes nothing', () => {
		const definition: MappingDefinition = { entity: 'account', syncDirection: 'activeCampaignToDynamics' };
		expect(mapRecord(prepare(definition, 'toActiveCampaign'), { accountid: ACCOUNT_ID, name: 'Contoso Ltd' })).toEqual({
			kind: 'skipped',
			reason: 'out of scope: accounts sync one way only, from ActiveCampaign to Dynamics',
		});
		const both: MappingDefinition = { entity: 'account', syncDirection: 'bidirectional' };
		const outcome = mapRecord(prepare(both, 'toActiveCampaign'), {
			accountid: ACCOUNT_ID,
			name: 'Contoso Ltd',
			websiteurl: 'https://contoso.example',
			telephone1: '555',
		});
		expect(outcome).toMatchObject({
			kind: 'mapped',
			item: {
				record: { name: 'Contoso Ltd', accountUrl: 'https://contoso.example', fields: { 'Phone Number': '555' } },
				match: { name: 'Contoso Ltd', d365Id: ACCOUNT_ID },
			},
		});
	});
});

describe('mapRecord: ActiveCampaign → Dynamics', () => {
	const acContact = {
		id: '17',
		email: 'maria.garcia@contoso.com',
		firstName: 'María',
		lastName: 'Garcia',
		phone: '+1 425 555 0101',
		jobTitle: 'Head of Buying',
		accountName: "O'Neil & Sons",
		udate: '2026-05-02T09:00:00-05:00',
		tags: ['[D365: Contact]', 'vip'],
		customFields: [
			{ id: '1', perstag: 'BIRTHDAY', title: 'Birthday', type: 'date', value: '1990-04-12' },
			{ id: '2', perstag: 'PREFERRED_CHANNEL', title: 'Preferred Channel', type: 'radio', value: 'Email' },
			{ id: '3', perstag: 'INTERESTS', title: 'Interests', type: 'checkbox', value: '||Cloud||AI||' },
			{ id: '4', perstag: 'ANNUAL_BUDGET', title: 'Annual Budget', type: 'number', value: '1200' },
			{ id: '8', perstag: 'D365_RECORD_ID', title: 'D365 Record ID', type: 'hidden', value: formatContactLink({ entity: 'contact', id: CONTACT_ID }) },
		],
	};

	it('maps a linked contact to Dynamics columns, binding the account by name with escaping', () => {
		const outcome = mapRecord(prepare(contactDefinition, 'toDynamics'), acContact);
		expect(outcome).toMatchObject({
			kind: 'mapped',
			item: {
				direction: 'toDynamics',
				record: {
					emailaddress1: 'maria.garcia@contoso.com',
					firstname: 'María',
					jobtitle: 'Head of Buying',
					'parentcustomerid_account@odata.bind': "/accounts(name='O''Neil & Sons')",
					new_birthday: '1990-04-12',
					new_preferredchannel: 'Email',
					new_interests: ['Cloud', 'AI'],
					new_annualbudget: 1200,
				},
				match: { acId: '17', d365Id: CONTACT_ID, d365Entity: 'contact', email: 'maria.garcia@contoso.com' },
				source: { system: 'activecampaign', id: '17', modifiedAt: '2026-05-02T09:00:00-05:00' },
				tags: [],
			},
		});
	});

	it('skips an echo: the record is unchanged since the state stored at the last sync', () => {
		const prepared = prepare(contactDefinition, 'toDynamics');
		const acHash = activeCampaignStateHash(acContact, prepared.activeCampaignHashFields);
		const withState = {
			...acContact,
			customFields: [
				...acContact.customFields,
				{ id: '9', perstag: 'D365_SYNC_STATE', title: 'D365 Sync State', value: formatState({ acHash, d365Hash: 'ffffffffffffffff' }) },
			],
		};
		expect(mapRecord(prepared, withState)).toEqual({ kind: 'skipped', reason: 'unchanged since last sync' });
		const changed = { ...withState, firstName: 'Mary' };
		expect(mapRecord(prepared, changed)).toMatchObject({
			kind: 'mapped',
			item: { state: { stored: formatState({ acHash, d365Hash: 'ffffffffffffffff' }) } },
		});
	});

	it('skips an echo by the per-field state, and carries each field\'s digest', () => {
		const prepared = prepare(contactDefinition, 'toDynamics');
		const mapped = mapRecord(prepared, acContact);
		if (mapped.kind !== 'mapped') throw new Error('not mapped');
		const fields = mapped.item.fields;
		expect(fields.map((f) => f.key)).toEqual(prepared.stateKeys);
		expect(fields.find((f) => f.activeCampaign === 'firstName')).toMatchObject({ dynamics: 'firstname', direction: 'both', source: fieldHash('María') });
		const entries = new Map(fields.map((f) => [f.key, { ac: f.source, d365: f.source }]));
		const state = formatFieldState(prepared.stateKeys, entries);
		const withState = {
			...acContact,
			customFields: [...acContact.customFields, { id: '9', perstag: 'D365_SYNC_STATE', title: 'D365 Sync State', value: state }],
		};
		expect(mapRecord(prepared, withState)).toEqual({ kind: 'skipped', reason: 'unchanged since last sync' });
		expect(mapRecord(prepared, { ...withState, firstName: 'Mary' })).toMatchObject({ kind: 'mapped', item: { state: { stored: state } } });
	});

	it('routes unlinked contacts by tag, and skips untagged ones unless told what to create', () => {
		const lead = { ...acContact, customFields: acContact.customFields.slice(0, 4), tags: ['[D365: Lead]'] };
		const leads: MappingDefinition = { entity: 'lead', syncDirection: 'bidirectional', defaults: { subject: 'ActiveCampaign contact' } };
		expect(mapRecord(prepare(leads, 'toDynamics'), lead)).toMatchObject({
			kind: 'mapped',
			item: {
				record: { lastname: 'Garcia', companyname: "O'Neil & Sons" },
				createOnly: { subject: 'ActiveCampaign contact' },
				tags: ['[D365: Lead]', '[D365: Pulled from ActiveCampaign]'],
			},
		});
		// The other step takes it: no skip of this step's in the sync report.
		expect(mapRecord(prepare(contactDefinition, 'toDynamics'), lead)).toEqual({
			kind: 'skipped',
			reason: 'belongs to the lead sync (linked or tagged as a Dynamics lead)',
			elsewhere: true,
		});
		const untagged = { ...lead, tags: [] };
		// A contact neither step takes is reported once, by the lead step.
		expect(mapRecord(prepare(leads, 'toDynamics'), untagged)).toEqual({ kind: 'skipped', reason: expect.stringMatching(/^not linked or tagged/), elsewhere: false });
		expect(mapRecord(prepare(contactDefinition, 'toDynamics'), untagged)).toMatchObject({ kind: 'skipped', elsewhere: true });
		expect(mapRecord(prepare({ ...leads, untaggedContacts: 'lead' }, 'toDynamics'), untagged).kind).toBe('mapped');
	});

	it('reports an ActiveCampaign value that does not convert', () => {
		const bad = {
			...acContact,
			customFields: [{ id: '4', perstag: 'ANNUAL_BUDGET', value: 'lots' }, acContact.customFields[4]],
		};
		expect(mapRecord(prepare(contactDefinition, 'toDynamics'), bad)).toMatchObject({
			kind: 'error',
			problems: ['ActiveCampaign "ANNUAL_BUDGET" → Dynamics "new_annualbudget": "lots" is not a number'],
		});
	});
});

describe('ActiveCampaignReader', () => {
	it('reads by tag, title or id, learns field positions, and tells absent fields apart', () => {
		const { ActiveCampaignReader } = jest.requireActual('../../../nodes/shared/sync/records') as typeof import('../../../nodes/shared/sync/records');
		const reader = new ActiveCampaignReader();
		const a = { id: '1', email: 'a@x.com', customFields: [{ id: '5', perstag: 'BIRTHDAY', title: 'Birthday', value: '2000-01-01' }] };
		const b = { id: '2', email: 'b@x.com', customFields: [{ id: '6', perstag: 'SCORE', title: 'Score', value: '7' }, { id: '5', perstag: 'BIRTHDAY', title: 'Birthday', value: '1999-12-31' }] };
		expect(reader.read(a, '%birthday%')).toBe('2000-01-01');
		expect(reader.read(a, 'SCORE')).toBeUndefined();
		expect(reader.read(b, 'Score')).toBe('7');
		expect(reader.read(b, 'BIRTHDAY')).toBe('1999-12-31');
		expect(reader.read(a, 'Score')).toBeUndefined();
		expect(reader.read(b, '6')).toBe('7');
		expect(reader.read(a, 'email')).toBe('a@x.com');
		// Raw API shapes are read by id.
		expect(reader.read({ id: '3', fieldValues: [{ field: '6', value: '9' }] }, '6')).toBe('9');
		expect(reader.stateHash(b, ['BIRTHDAY', 'SCORE'])).toBe(
			reader.stateHash({ customFields: [{ id: '5', perstag: 'BIRTHDAY', value: '1999-12-31' }, { id: '6', perstag: 'SCORE', value: 7 }] }, ['BIRTHDAY', 'SCORE']),
		);
	});
});
