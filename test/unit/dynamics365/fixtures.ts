/** A small contact/opportunity table definition for unit tests (the shape the metadata loader produces). */
import type { ColumnInfo, TableInfo } from '../../../nodes/Dynamics365/transport/metadata';

function column(logicalName: string, type: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
	return {
		logicalName,
		schemaName: logicalName,
		displayName: logicalName,
		type,
		typeName: `${type}Type`,
		requiredLevel: 'None',
		validForCreate: true,
		validForUpdate: true,
		validForRead: true,
		isPrimaryId: false,
		isPrimaryName: false,
		isCustom: false,
		attributeOf: null,
		...extra,
	};
}

export function contactTable(): TableInfo {
	const columns = [
		column('contactid', 'Uniqueidentifier', { isPrimaryId: true, validForUpdate: false }),
		column('lastname', 'String', { requiredLevel: 'ApplicationRequired' }),
		column('firstname', 'String'),
		column('emailaddress1', 'String'),
		column('fullname', 'String', { validForCreate: false, validForUpdate: false }),
		column('new_score', 'Integer'),
		column('new_annualbudget', 'Money'),
		column('new_isvip', 'Boolean', { trueLabel: 'Yes', falseLabel: 'No', options: [{ value: 1, label: 'Yes' }, { value: 0, label: 'No' }] }),
		column('new_birthday', 'DateTime', { dateOnly: true }),
		column('new_lastwebinar', 'DateTime'),
		column('statecode', 'State', { options: [{ value: 0, label: 'Active' }, { value: 1, label: 'Inactive' }] }),
		column('new_preferredchannel', 'Picklist', {
			options: [
				{ value: 100000000, label: 'Email' },
				{ value: 100000001, label: 'Phone' },
			],
		}),
		column('new_interests', 'Virtual', {
			typeName: 'MultiSelectPicklistType',
			multiSelect: true,
			options: [
				{ value: 100000000, label: 'Webinars' },
				{ value: 100000001, label: 'Events' },
			],
		}),
		column('parentcustomerid', 'Customer', {
			targets: ['account', 'contact'],
			navigation: { account: 'parentcustomerid_account', contact: 'parentcustomerid_contact' },
			requiredLevel: 'None',
		}),
		column('ownerid', 'Owner', { targets: ['systemuser', 'team'], navigation: { systemuser: 'ownerid', team: 'ownerid' } }),
		column('parentcustomeridname', 'String', { attributeOf: 'parentcustomerid', validForCreate: false, validForUpdate: false }),
	];
	return {
		logicalName: 'contact',
		entitySetName: 'contacts',
		displayName: 'Contact',
		primaryIdAttribute: 'contactid',
		primaryNameAttribute: 'fullname',
		changeTracking: true,
		columns: new Map(columns.map((c) => [c.logicalName, c])),
		keys: [],
	};
}

export const directory = {
	setOfTable: (logical: string) => ({ account: 'accounts', contact: 'contacts', systemuser: 'systemusers', team: 'teams' })[logical],
	tableOfSet: (set: string) => ({ accounts: 'account', contacts: 'contact', systemusers: 'systemuser', teams: 'team' })[set],
};
