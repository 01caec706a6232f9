import type { INodeProperties } from 'n8n-workflow';

import { STANDARD_FIELDS } from '../shared/sync/mapping';

const direction: INodeProperties = {
	displayName: 'Field Direction',
	name: 'direction',
	type: 'options',
	default: 'both',
	description: 'Which way this field syncs (only when the entity is bi-directional)',
	options: [
		{ name: 'Both Ways', value: 'both' },
		{ name: 'Only to ActiveCampaign', value: 'toActiveCampaign' },
		{ name: 'Only to Dynamics 365', value: 'toDynamics' },
	],
};

const criteriaRow = (fieldMethod: string): INodeProperties[] => [
	{
		displayName: 'Field Name or ID',
		name: 'field',
		type: 'options',
		typeOptions: { loadOptionsMethod: fieldMethod, loadOptionsDependsOn: ['entity'] },
		default: '',
		description:
			'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
	},
	{
		displayName: 'Operator',
		name: 'operator',
		type: 'options',
		default: 'equals',
		options: [
			{ name: 'Contains', value: 'contains' },
			{ name: 'Does Not Contain', value: 'notContains' },
			{ name: 'Equals', value: 'equals' },
			{ name: 'Greater Than', value: 'greaterThan' },
			{ name: 'Is Empty', value: 'isEmpty' },
			{ name: 'Is Not Empty', value: 'isNotEmpty' },
			{ name: 'Less Than', value: 'lessThan' },
			{ name: 'Not Equals', value: 'notEquals' },
			{ name: 'Starts With', value: 'startsWith' },
		],
	},
	{
		displayName: 'Value',
		name: 'value',
		type: 'string',
		default: '',
		displayOptions: { hide: { operator: ['isEmpty', 'isNotEmpty'] } },
	},
];

const defined = { show: { mappingSource: ['here'] } };

/**
 * Every standard pair of the entity, listed as rows from the start (the node's default), so the panel shows the whole
 * standard mapping — each pair with its state (on, off, remapped) and direction — without hovering. A row the user
 * leaves as it is changes nothing; a row removed is the default (on, both ways). Email and the account (an account's
 * name) are locked: always on, both ways.
 */
function standardMappings(entity: 'contact' | 'lead' | 'account'): INodeProperties {
	const fields = STANDARD_FIELDS[entity];
	return {
		displayName: 'Standard Mappings',
		name: 'standardOverrides',
		type: 'fixedCollection',
		placeholder: 'Add Standard Field',
		typeOptions: { multipleValues: true },
		default: { override: fields.map((field) => ({ field: field.key, enabled: true, direction: 'both' })) },
		description:
			'The standard field pairs, each with its state and direction. Switch one off, remap it to a custom Dynamics column, or give it one direction. Locked pairs always stay mapped both ways.',
		displayOptions: { show: { mappingSource: ['here'], entity: [entity] } },
		options: [
			{
				name: 'override',
				displayName: 'Standard Field',
				values: [
					{
						displayName: 'Field',
						name: 'field',
						type: 'options',
						options: fields
							.map((field) => ({
								name: `${field.label}: ${field.activeCampaign.key} ⇄ ${field.dynamics.name}${field.locked ? ' (locked)' : ''}`,
								value: field.key,
								description: `ActiveCampaign ${field.activeCampaign.key} ↔ Dynamics ${field.dynamics.name}${field.locked ? '; always mapped, both ways' : ''}`,
							}))
							.sort((a, b) => a.name.localeCompare(b.name)),
						default: '',
					},
					{
						displayName: 'Standard Mapping On',
						name: 'enabled',
						type: 'boolean',
						default: true,
						description: 'Whether the standard mapping applies; off to skip the field or remap it (not for locked pairs)',
					},
					{
						displayName: 'Remap to Dynamics Column Name or ID',
						name: 'remapTo',
						type: 'options',
						typeOptions: { loadOptionsMethod: 'getDynamicsColumns', loadOptionsDependsOn: ['entity'] },
						default: '',
						description:
							'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
						hint: 'A custom Dynamics column takes this ActiveCampaign field instead. As an expression: column|type, e.g. new_position|string',
						displayOptions: { show: { enabled: [false] } },
					},
					direction,
				],
			},
		],
	};
}

export const properties: INodeProperties[] = [
	{
		displayName: 'Dynamics 365 Authentication',
		name: 'dynamicsAuthentication',
		type: 'options',
		default: 'none',
		description:
			'Optional: connect Dynamics 365 to pick columns from live metadata and to check required columns at run time',
		options: [
			{ name: 'None (Type Columns by Hand)', value: 'none' },
			{ name: 'Client Credentials', value: 'clientCredentials' },
			{ name: 'OAuth2 (Signed-In User)', value: 'oAuth2' },
		],
	},
	{
		displayName: 'Entity',
		name: 'entity',
		type: 'options',
		noDataExpression: true,
		default: 'contact',
		options: [
			{ name: 'Account', value: 'account', description: 'Dynamics accounts ↔ ActiveCampaign accounts' },
			{ name: 'Contact', value: 'contact', description: 'Dynamics contacts ↔ ActiveCampaign contacts' },
			{ name: 'Lead', value: 'lead', description: 'Dynamics leads ↔ ActiveCampaign contacts' },
			{
				name: 'Opportunity',
				value: 'opportunity',
				description: 'Dynamics opportunities → ActiveCampaign "D365 Opportunity" custom object records (one way)',
			},
		],
	},
	{
		displayName: 'Direction of This Step',
		name: 'step',
		type: 'options',
		noDataExpression: true,
		default: 'toActiveCampaign',
		description:
			'Which way the records going through this node travel. Input records come from the source system, output records are shaped for the target.',
		options: [
			{ name: 'Dynamics 365 → ActiveCampaign', value: 'toActiveCampaign' },
			{ name: 'ActiveCampaign → Dynamics 365', value: 'toDynamics' },
		],
		displayOptions: { hide: { entity: ['opportunity'] } },
	},
	{
		displayName: 'Mapping Source',
		name: 'mappingSource',
		type: 'options',
		noDataExpression: true,
		default: 'here',
		description:
			'Configure the mapping once: define it in one Field Map node and let the node of the other direction use it',
		options: [
			{ name: 'Define Here', value: 'here' },
			{
				name: 'Use the Mapping of Another Step',
				value: 'node',
				description: 'The mapping defined in another Field Map step of this workflow, named below: change it there',
			},
			{
				name: "Use Another Field Map's Definition (Expression)",
				value: 'otherNode',
				description: "An expression giving another Field Map node's parameters, e.g. {{ $('Map to ActiveCampaign').params }}",
			},
			{ name: 'JSON', value: 'json', description: 'A mapping definition as JSON (see the documentation)' },
		],
	},
	{
		displayName: 'Mapping Defined In',
		name: 'definitionNode',
		type: 'string',
		default: '',
		placeholder: 'Map contacts to ActiveCampaign',
		description: 'The name of the Field Map step whose mapping this step uses (for the other direction of the same entity)',
		hint: 'Open that step to see and change the mapping; both directions use it',
		displayOptions: { show: { mappingSource: ['node'] } },
	},
	{
		displayName: 'Definition From',
		name: 'definitionFrom',
		type: 'json',
		default: "={{ $('Map to ActiveCampaign').params }}",
		description:
			"The other Field Map node's parameters: keep the expression and put that node's name between the quotes",
		displayOptions: { show: { mappingSource: ['otherNode'] } },
	},
	{
		displayName: 'Mapping (JSON)',
		name: 'mappingJson',
		type: 'json',
		default: '{\n  "entity": "contact",\n  "syncDirection": "bidirectional"\n}',
		displayOptions: { show: { mappingSource: ['json'] } },
	},
	{
		displayName: 'Entity Sync Direction',
		name: 'syncDirection',
		type: 'options',
		default: 'bidirectional',
		options: [
			{ name: 'Bi-Directional', value: 'bidirectional', description: 'Both ways; each field can have its own direction' },
			{ name: 'Push Only From Dynamics 365', value: 'dynamicsToActiveCampaign' },
			{ name: 'Pull Only From ActiveCampaign', value: 'activeCampaignToDynamics' },
		],
		displayOptions: { show: { mappingSource: ['here'] }, hide: { entity: ['opportunity'] } },
	},
	...(['contact', 'lead', 'account'] as const).map(standardMappings),
	{
		displayName: 'Custom Mappings',
		name: 'customMappings',
		type: 'fixedCollection',
		placeholder: 'Add Custom Mapping',
		typeOptions: { multipleValues: true },
		default: {},
		description:
			'More field pairs. Only type-compatible ActiveCampaign fields are offered for the chosen Dynamics column; opportunities take up to 20.',
		displayOptions: defined,
		options: [
			{
				name: 'mapping',
				displayName: 'Mapping',
				values: [
					{
						displayName: 'Dynamics Column Name or ID',
						name: 'dynamicsField',
						type: 'options',
						typeOptions: { loadOptionsMethod: 'getDynamicsColumns', loadOptionsDependsOn: ['entity'] },
						default: '',
						description:
							'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
						hint: 'As an expression: column|type, e.g. new_birthday|dateonly',
					},
					{
						displayName: 'ActiveCampaign Field Name or ID',
						name: 'activeCampaignField',
						type: 'options',
						typeOptions: {
							loadOptionsMethod: 'getCompatibleActiveCampaignFields',
							loadOptionsDependsOn: ['&dynamicsField', 'entity'],
						},
						default: '',
						description:
							'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
						hint: 'Only fields whose type fits the Dynamics column are listed. As an expression: tag-or-title|type, e.g. BIRTHDAY|date',
						displayOptions: { hide: { '/entity': ['opportunity'] } },
					},
					{
						displayName: 'Opportunity Field ID',
						name: 'objectFieldId',
						type: 'string',
						default: '',
						placeholder: 'e.g. product-line',
						description:
							'The field of the "D365 Opportunity" custom object (letters, digits, - and _). The ActiveCampaign node\'s Ensure Schema creates it.',
						displayOptions: { show: { '/entity': ['opportunity'] } },
					},
					{
						displayName: 'Opportunity Field Type',
						name: 'objectFieldType',
						type: 'options',
						default: 'text',
						options: [
							{ name: 'Currency', value: 'currency' },
							{ name: 'Date', value: 'date' },
							{ name: 'Date and Time', value: 'datetime' },
							{ name: 'Decimal', value: 'decimal' },
							{ name: 'Dropdown', value: 'dropdown' },
							{ name: 'Multi-Select', value: 'multiselect' },
							{ name: 'Number', value: 'number' },
							{ name: 'Text', value: 'text' },
						],
						displayOptions: { show: { '/entity': ['opportunity'] } },
					},
					{ ...direction, displayOptions: { hide: { '/entity': ['opportunity'] } } },
				],
			},
		],
	},
	{
		displayName: 'Records to Sync',
		name: 'scope',
		type: 'options',
		default: 'all',
		options: [
			{ name: 'All Created or Updated', value: 'all' },
			{ name: 'Those That Match Criteria', value: 'criteria' },
		],
		description: 'Records outside the criteria leave by the Skipped output with the reason',
		displayOptions: defined,
	},
	{
		displayName: 'Dynamics Criteria',
		name: 'dynamicsCriteria',
		type: 'fixedCollection',
		placeholder: 'Add Condition',
		typeOptions: { multipleValues: true },
		default: {},
		description: 'Conditions on Dynamics columns (choice and lookup columns compare their labels); all must hold',
		displayOptions: { show: { mappingSource: ['here'], scope: ['criteria'] } },
		options: [{ name: 'condition', displayName: 'Condition', values: criteriaRow('getDynamicsColumnNames') }],
	},
	{
		displayName: 'ActiveCampaign Criteria',
		name: 'activeCampaignCriteria',
		type: 'fixedCollection',
		placeholder: 'Add Condition',
		typeOptions: { multipleValues: true },
		default: {},
		description: 'Conditions on ActiveCampaign fields for records coming from ActiveCampaign; all must hold',
		displayOptions: { show: { mappingSource: ['here'], scope: ['criteria'] }, hide: { entity: ['opportunity'] } },
		options: [{ name: 'condition', displayName: 'Condition', values: criteriaRow('getActiveCampaignCriteriaFields') }],
	},
	{
		displayName: 'Defaults for Required Dynamics Columns',
		name: 'requiredDefaults',
		type: 'fixedCollection',
		placeholder: 'Add Default',
		typeOptions: { multipleValues: true },
		default: {},
		description:
			'Values for required Dynamics columns that no mapping fills (e.g. a lead\'s Topic), set when a record is created',
		displayOptions: { show: { mappingSource: ['here'] }, hide: { entity: ['opportunity'] } },
		options: [
			{
				name: 'default',
				displayName: 'Default',
				values: [
					{
						displayName: 'Column Name or ID',
						name: 'column',
						type: 'options',
						typeOptions: { loadOptionsMethod: 'getDynamicsColumnNames', loadOptionsDependsOn: ['entity'] },
						default: '',
						description:
							'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
					},
					{ displayName: 'Value', name: 'value', type: 'string', default: '' },
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: defined,
		options: [
			{
				displayName: 'ActiveCampaign Time Zone',
				name: 'timeZone',
				type: 'string',
				default: 'UTC',
				placeholder: 'America/Chicago',
				description:
					'Time zone of the ActiveCampaign account (Settings → Account): an IANA name or an offset such as -05:00. Dates are days in this zone.',
			},
			{
				displayName: 'Conflict Policy',
				name: 'conflictPolicy',
				type: 'options',
				default: 'dynamicsWins',
				description: 'When the same field changed on both sides since the last sync (decided field by field; a field changed on one side only always syncs)',
				options: [
					{ name: 'ActiveCampaign Wins', value: 'activeCampaignWins' },
					{ name: 'Dynamics 365 Wins', value: 'dynamicsWins' },
					{ name: 'Newest Change Wins', value: 'newestWins' },
				],
			},
			{
				displayName: 'If Deleted in Dynamics',
				name: 'deletePolicy',
				type: 'options',
				default: 'keep',
				description: 'What happens to the ActiveCampaign record of a Dynamics record that was deleted (or merged into another that already has one)',
				options: [
					{
						name: 'Keep (Unlink and Tag)',
						value: 'keep',
						description: 'Keep it, unlink it and tag it [D365: Deleted in Dynamics]; it is never created again in Dynamics',
					},
					{ name: 'Flag Only', value: 'flag', description: 'Keep it linked and tag it [D365: Deleted in Dynamics]; it is never created again in Dynamics' },
					{ name: 'Delete It Too', value: 'propagate', description: 'Delete the ActiveCampaign record' },
				],
			},
			{
				displayName: 'Lead or Contact First',
				name: 'precedence',
				type: 'options',
				default: 'contact',
				description:
					'ActiveCampaign has one contact per email; when Dynamics has a lead and a contact with that email, which one it follows',
				options: [
					{ name: 'Dynamics Contact Takes Precedence', value: 'contact' },
					{ name: 'Dynamics Lead Takes Precedence', value: 'lead' },
				],
			},
			{
				displayName: 'Untagged Contacts',
				name: 'untaggedContacts',
				type: 'options',
				default: 'skip',
				description:
					'ActiveCampaign contacts neither linked to Dynamics nor tagged [D365: Lead] / [D365: Contact] (ActiveCampaign → Dynamics only)',
				options: [
					{ name: 'Skip Them', value: 'skip' },
					{ name: 'Create Them as Dynamics Leads', value: 'lead' },
					{ name: 'Create Them as Dynamics Contacts', value: 'contact' },
				],
			},
		],
	},
];
