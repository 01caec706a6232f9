import type { INodeProperties } from 'n8n-workflow';

import { CUSTOM_OBJECT_FIELD_TYPES, OPPORTUNITY_SLUG, PRIMARY_CONTACT } from '../../helpers/customObjects';
import { returnAllAndLimit } from '../common';

const show = (operation: string[], extra: Record<string, unknown> = {}) => ({
	show: { resource: ['customObject'], operation, ...extra },
});

export const customObjectOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['customObject'] } },
	default: 'upsertRecord',
	options: [
		{
			name: 'Create or Update Record',
			value: 'upsertRecord',
			action: 'Create or update a custom object record',
			description: 'Create a record, or update the one with the same external ID (the record ID is never sent)',
		},
		{ name: 'Delete Record', value: 'deleteRecord', action: 'Delete a custom object record', description: 'Delete a record by its external ID' },
		{
			name: 'Ensure Schema',
			value: 'ensureSchema',
			action: 'Ensure the opportunity schema exists',
			description: 'Create the "D365 Opportunity" schema, or add the fields and contact relationship it lacks',
		},
		{ name: 'Get Many Records', value: 'getAllRecords', action: 'Get many custom object records', description: 'Get records, optionally those of one contact' },
	],
};

const schemaParameter: INodeProperties = {
	displayName: 'Schema Name or ID',
	name: 'schema',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getSchemas' },
	default: OPPORTUNITY_SLUG,
	description:
		'The custom object (by slug). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	displayOptions: show(['upsertRecord', 'getAllRecords', 'deleteRecord']),
};

export const customObjectProperties: INodeProperties[] = [
	// Ensure Schema
	{
		displayName: 'Additional Fields',
		name: 'schemaFields',
		type: 'fixedCollection',
		placeholder: 'Add Field',
		typeOptions: { multipleValues: true },
		default: {},
		description: 'Up to 20 fields besides name, estimated revenue, estimated close date, actual revenue and stage',
		displayOptions: show(['ensureSchema']),
		options: [
			{
				displayName: 'Field',
				name: 'field',
				values: [
					{ displayName: 'ID', name: 'id', type: 'string', default: '', placeholder: 'probability', description: 'Letters, digits, - and _' },
					{ displayName: 'Label', name: 'label', type: 'string', default: '', placeholder: 'Probability' },
					{
						displayName: 'Type',
						name: 'type',
						type: 'options',
						default: 'text',
						options: CUSTOM_OBJECT_FIELD_TYPES.map((t) => ({ name: t.charAt(0).toUpperCase() + t.slice(1), value: t })),
					},
					{
						displayName: 'Options',
						name: 'options',
						type: 'string',
						default: '',
						description: 'Dropdown and multiselect choices, separated by commas',
					},
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'schemaOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['ensureSchema']),
		options: [
			{ displayName: 'Currency', name: 'currency', type: 'string', default: 'USD', description: 'Default currency of the revenue fields' },
			{ displayName: 'Plural Label', name: 'plural', type: 'string', default: 'D365 Opportunities' },
			{ displayName: 'Singular Label', name: 'singular', type: 'string', default: 'D365 Opportunity' },
			{ displayName: 'Slug', name: 'slug', type: 'string', default: OPPORTUNITY_SLUG },
		],
	},

	schemaParameter,
	{
		displayName: 'Data',
		name: 'dataMode',
		type: 'options',
		default: 'fields',
		displayOptions: show(['upsertRecord']),
		options: [
			{ name: 'Fields Below', value: 'fields', description: 'Set the values with the fields of this node' },
			{
				name: 'Sync Item (From Field Map)',
				value: 'syncItem',
				description: 'Each input item is an opportunity sync item of the AC-D365 Field Map',
			},
		],
	},
	{
		displayName: 'External ID',
		name: 'externalId',
		type: 'string',
		required: true,
		default: '',
		description: 'Identifies the record (the Dynamics opportunity ID); a record with this external ID is updated',
		displayOptions: show(['upsertRecord'], { dataMode: ['fields'] }),
	},
	{
		displayName: 'Contact Email',
		name: 'contactEmail',
		type: 'string',
		placeholder: 'name@email.com',
		default: '',
		description: 'The record is related to the contact with this email',
		displayOptions: show(['upsertRecord'], { dataMode: ['fields'] }),
	},
	{
		displayName: 'Fields',
		name: 'recordFields',
		type: 'fixedCollection',
		placeholder: 'Add Field',
		typeOptions: { multipleValues: true },
		default: {},
		displayOptions: show(['upsertRecord'], { dataMode: ['fields'] }),
		options: [
			{
				displayName: 'Field',
				name: 'field',
				values: [
					{
						displayName: 'Field ID',
						name: 'id',
						type: 'string',
						default: '',
						placeholder: 'estimated-revenue',
						description: 'The schema field ID: name, estimated-revenue, estimated-close-date, actual-revenue, stage, or an added one',
					},
					{ displayName: 'Value', name: 'value', type: 'string', default: '' },
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'recordOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['upsertRecord']),
		options: [
			{
				displayName: 'Relationship',
				name: 'relationship',
				type: 'string',
				default: PRIMARY_CONTACT,
				description: 'The schema relationship that links records to contacts',
			},
		],
	},
	{
		displayName: 'Contact ID or Email',
		name: 'contact',
		type: 'string',
		default: '',
		placeholder: 'name@email.com',
		description: 'Only the records related to this contact; empty for all',
		displayOptions: show(['getAllRecords']),
	},
	...returnAllAndLimit({ resource: ['customObject'], operation: ['getAllRecords'] }),
	{
		displayName: 'External ID',
		name: 'deleteExternalId',
		type: 'string',
		required: true,
		default: '',
		displayOptions: show(['deleteRecord']),
	},
];
