/** The parameters of the Dynamics 365 node. */
import type { INodeCredentialDescription, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { previewProperty } from '../../shared/preview';

export const RESOURCES: INodePropertyOptions[] = [
	{ name: 'Account', value: 'account' },
	{ name: 'Contact', value: 'contact' },
	{
		name: 'Global Sync',
		value: 'globalSync',
		description: "The integration's on/off switch, kept in the Dynamics 365 credential",
	},
	{ name: 'Lead', value: 'lead' },
	{ name: 'Opportunity', value: 'opportunity' },
	{ name: 'Other Table', value: 'otherTable', description: 'Any table of the environment, chosen from its metadata' },
];

const NOUNS: Record<string, { one: string; many: string }> = {
	account: { one: 'an account', many: 'accounts' },
	contact: { one: 'a contact', many: 'contacts' },
	lead: { one: 'a lead', many: 'leads' },
	opportunity: { one: 'an opportunity', many: 'opportunities' },
	otherTable: { one: 'a record', many: 'records' },
};

function operationsFor(resource: string): INodeProperties {
	const { one, many } = NOUNS[resource];
	const noun = one.replace(/^an? /, '');
	const options: INodePropertyOptions[] = [];
	if (resource === 'lead' || resource === 'contact') {
		options.push({
			name: 'Add Note',
			value: 'addNote',
			description: `Add a timeline note to ${one}`,
			action: `Add a note to ${one}`,
		});
	}
	options.push(
		{ name: 'Create', value: 'create', description: `Create ${one}`, action: `Create ${one}` },
		{
			name: 'Create or Update',
			value: 'createOrUpdate',
			description: `Create a new ${noun}, or update the current one if it already exists (upsert)`,
			action: `Create or update ${one}`,
		},
		{ name: 'Delete', value: 'delete', description: `Delete ${one}`, action: `Delete ${one}` },
		{ name: 'Get', value: 'get', description: `Get ${one}`, action: `Get ${one}` },
		{
			name: 'Get Changes',
			value: 'getChanges',
			description: `Get the ${many} created or updated since the previous run`,
			action: `Get changed ${many}`,
		},
		{ name: 'Get Many', value: 'getMany', description: `Get many ${many}`, action: `Get many ${many}` },
		{ name: 'Update', value: 'update', description: `Update ${one}`, action: `Update ${one}` },
	);
	return {
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: [resource] } },
		options,
		default: 'createOrUpdate',
	};
}

const WRITE_OPS = ['create', 'update', 'createOrUpdate'];

const writeMethodOption: INodeProperties = {
	displayName: 'Write Method',
	name: 'writeMethod',
	type: 'options',
	options: [
		{
			name: 'Automatic',
			value: 'auto',
			description: 'Single requests for up to three records, $batch requests for more',
		},
		{
			name: 'Batch Requests',
			value: 'batch',
			description: 'OData $batch with up to 1,000 operations each; every record succeeds or fails on its own',
		},
		{
			name: 'Bulk Actions',
			value: 'multiple',
			description:
				'CreateMultiple / UpdateMultiple (fastest for plain tables); a request that fails is repeated as $batch to find the failing records',
		},
		{ name: 'Single Requests', value: 'single', description: 'One request per record' },
	],
	default: 'auto',
};

const batchSizeOption: INodeProperties = {
	displayName: 'Batch Size',
	name: 'batchSize',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 1000 },
	default: 1000,
	description: 'Operations per $batch (or bulk action) request, at most 1,000',
};

const fieldsToIgnoreOption: INodeProperties = {
	displayName: 'Input Fields to Ignore',
	name: 'fieldsToIgnore',
	type: 'string',
	default: '',
	description: 'Comma-separated input fields not to write (auto-map mode). Fields that are not columns of the table are ignored anyway.',
};

const checkRequiredOption: INodeProperties = {
	displayName: 'Check Required Columns',
	name: 'checkRequired',
	type: 'boolean',
	default: true,
	description:
		'Whether to refuse creating a record that leaves a business-required column empty (Dataverse itself accepts it)',
};

const columnsOption: INodeProperties = {
	displayName: 'Column Names or IDs',
	name: 'columns',
	type: 'multiOptions',
	typeOptions: { loadOptionsMethod: 'getColumns', loadOptionsDependsOn: ['resource', 'table.value'] },
	default: [],
	description:
		'Columns to return (all when empty). Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

const formattedValuesOption: INodeProperties = {
	displayName: 'Include Formatted Values',
	name: 'formattedValues',
	type: 'boolean',
	default: false,
	description: 'Whether to add the display text of choices, lookups, money and dates (…@OData.Community.Display.V1.FormattedValue)',
};

const relatedContactOption: INodeProperties = {
	displayName: 'Include Contact Email',
	name: 'includeRelatedContactEmail',
	type: 'boolean',
	default: false,
	displayOptions: { show: { '/resource': ['opportunity'] } },
	description:
		"Whether to add the email of the opportunity's contact (the customer when it is a contact, else the parent contact) as relatedContactEmail",
};

const combinatorOption: INodeProperties = {
	displayName: 'Combine Criteria With',
	name: 'combinator',
	type: 'options',
	options: [
		{ name: 'AND (All Must Match)', value: 'and' },
		{ name: 'OR (Any May Match)', value: 'or' },
	],
	default: 'and',
};

const rawFilterOption: INodeProperties = {
	displayName: 'Raw Filter',
	name: 'rawFilter',
	type: 'string',
	default: '',
	placeholder: "statecode eq 0 and contains(name,'Contoso')",
	description:
		'An OData $filter expression added with AND to the criteria. It is sent as typed: quote strings and double their single quotes yourself.',
};

/** The node's criteria operators: OData comparisons sent to Dataverse (the sync scope's own are shared/sync/criteria.ts). */
const ODATA_OPERATOR_OPTIONS: INodePropertyOptions[] = [
	{ name: 'Contains', value: 'contains' },
	{ name: 'Does Not Contain', value: 'notContains' },
	{ name: 'Ends With', value: 'endsWith' },
	{ name: 'Equals', value: 'eq' },
	{ name: 'Greater Than', value: 'gt' },
	{ name: 'Greater Than or Equal', value: 'ge' },
	{ name: 'Is Empty', value: 'isNull' },
	{ name: 'Is Not Empty', value: 'isNotNull' },
	{ name: 'Is One Of', value: 'in' },
	{ name: 'Is Not One Of', value: 'notIn' },
	{ name: 'Less Than', value: 'lt' },
	{ name: 'Less Than or Equal', value: 'le' },
	{ name: 'Not Equals', value: 'ne' },
	{ name: 'Starts With', value: 'startsWith' },
];

export function criteriaProperty(show: Record<string, string[]>, loadOptionsDependsOn = ['resource', 'table.value']): INodeProperties {
	return {
		displayName: 'Criteria',
		name: 'criteria',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Criterion',
		default: {},
		displayOptions: { show },
		description:
			'Conditions on columns. Values are escaped and validated by the column type: text is quoted, choices accept a label or a number, dates and IDs are checked.',
		options: [
			{
				displayName: 'Conditions',
				name: 'conditions',
				values: [
					{
						displayName: 'Column Name or ID',
						name: 'column',
						type: 'options',
						typeOptions: { loadOptionsMethod: 'getColumns', loadOptionsDependsOn },
						default: '',
						description:
							'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
					},
					{
						displayName: 'Operator',
						name: 'operator',
						type: 'options',
						options: ODATA_OPERATOR_OPTIONS,
						default: 'eq',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						description: 'For "Is One Of", separate values with commas (or give a JSON array)',
					},
				],
			},
		],
	};
}

/** Both Dynamics 365 nodes sign in either way: an app registration (server-to-server) or a signed-in user. */
export const dynamicsCredentials: INodeCredentialDescription[] = [
	{
		name: 'dynamics365ClientCredentialsApi',
		required: true,
		displayOptions: { show: { authentication: ['clientCredentials'] } },
	},
	{
		name: 'dynamics365OAuth2Api',
		required: true,
		displayOptions: { show: { authentication: ['oAuth2'] } },
	},
];

export const authenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{ name: 'Client Credentials (Server-to-Server)', value: 'clientCredentials' },
		{ name: 'OAuth2 (Signed-in User)', value: 'oAuth2' },
	],
	default: 'clientCredentials',
};

export const nodeProperties: INodeProperties[] = [
	authenticationProperty,
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: RESOURCES,
		default: 'contact',
	},
	...Object.keys(NOUNS).map(operationsFor),
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['globalSync'] } },
		options: [
			{
				name: 'Get Status',
				value: 'getStatus',
				description: 'Whether each direction syncs, as the credential\'s Global Sync says (no request is sent)',
				action: 'Get the global sync status',
			},
		],
		default: 'getStatus',
	},
	{
		displayName: 'Table',
		name: 'table',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		displayOptions: { show: { resource: ['otherTable'] } },
		description: 'The table, by logical name (new_project) or entity set name (new_projects)',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchTables', searchable: true },
			},
			{
				displayName: 'By Name',
				name: 'name',
				type: 'string',
				placeholder: 'new_project',
				validation: [
					{
						type: 'regex',
						properties: { regex: '^[A-Za-z0-9_]+$', errorMessage: 'A logical name or entity set name (letters, digits, underscores)' },
					},
				],
			},
		],
	},

	// ----- record id ------------------------------------------------------------------------------------------
	{
		displayName: 'Record ID',
		name: 'recordId',
		type: 'string',
		required: true,
		default: '',
		placeholder: '00000000-0000-0000-0000-000000000000',
		displayOptions: { show: { operation: ['get', 'update', 'delete', 'addNote'] } },
		description: 'The GUID of the record. A link value such as contact:&lt;guid&gt; is accepted too.',
	},

	// ----- data modes -----------------------------------------------------------------------------------------
	{
		displayName: 'Data Mode',
		name: 'dataMode',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { operation: ['create', 'update'] } },
		options: [
			{
				name: 'Auto-Map Input Data to Columns',
				value: 'autoMap',
				description: 'Input fields named like columns (logical names) are written; other fields are ignored',
			},
			{ name: 'Define Below for Each Column', value: 'defineBelow', description: 'Map columns from the table metadata' },
		],
		default: 'defineBelow',
	},
	{
		displayName: 'Data Mode',
		name: 'dataMode',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { operation: ['createOrUpdate'] } },
		options: [
			{
				name: 'Auto-Map Input Data to Columns',
				value: 'autoMap',
				description: 'Input fields named like columns (logical names) are written; other fields are ignored',
			},
			{ name: 'Define Below for Each Column', value: 'defineBelow', description: 'Map columns from the table metadata' },
			{
				name: 'Sync Item (From Field Map)',
				value: 'syncItem',
				description:
					'Items from the AC-D365 Field Map: the table, record, match and sync state come from the item; echoes and conflicts are skipped',
			},
		],
		default: 'defineBelow',
	},

	// ----- create or update: matching ----------------------------------------------------------------------------
	{
		displayName: 'Match On',
		name: 'matchOn',
		type: 'options',
		displayOptions: { show: { operation: ['createOrUpdate'], dataMode: ['autoMap', 'defineBelow'] } },
		options: [
			{ name: 'Alternate Key', value: 'alternateKey', description: "One of the table's alternate keys; its columns come from the record" },
			{ name: 'Column Value', value: 'column', description: 'A column such as emailaddress1' },
			{ name: 'Record ID', value: 'id', description: 'The primary key; a new record gets this ID' },
		],
		default: 'column',
	},
	{
		displayName: 'Record ID',
		name: 'recordId',
		type: 'string',
		required: true,
		default: '',
		displayOptions: { show: { operation: ['createOrUpdate'], dataMode: ['autoMap', 'defineBelow'], matchOn: ['id'] } },
		description: 'The GUID of the record to update, or of the record to create when none has it',
	},
	{
		displayName: 'Alternate Key Name or ID',
		name: 'alternateKey',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getAlternateKeys', loadOptionsDependsOn: ['resource', 'table.value'] },
		required: true,
		default: '',
		displayOptions: { show: { operation: ['createOrUpdate'], dataMode: ['autoMap', 'defineBelow'], matchOn: ['alternateKey'] } },
		description:
			'The key to match on; the record must carry its columns. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'Match Column Name or ID',
		name: 'matchColumn',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getColumns', loadOptionsDependsOn: ['resource', 'table.value'] },
		required: true,
		default: 'emailaddress1',
		displayOptions: { show: { operation: ['createOrUpdate'], dataMode: ['autoMap', 'defineBelow'], matchOn: ['column'] } },
		description:
			'If a record has the value to match in this column, it is updated; otherwise a new one is created. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'Value to Match',
		name: 'matchValue',
		type: 'string',
		default: '',
		displayOptions: { show: { operation: ['createOrUpdate'], dataMode: ['autoMap', 'defineBelow'], matchOn: ['column'] } },
		description: "Leave empty to use the record's own value of that column",
	},

	// ----- columns ---------------------------------------------------------------------------------------------
	{
		displayName: 'Columns',
		name: 'columns',
		type: 'resourceMapper',
		noDataExpression: true,
		default: { mappingMode: 'defineBelow', value: null },
		required: true,
		displayOptions: { show: { operation: WRITE_OPS, dataMode: ['defineBelow'] } },
		typeOptions: {
			loadOptionsDependsOn: ['resource', 'table.value', 'operation'],
			resourceMapper: {
				resourceMapperMethod: 'getMappingColumns',
				mode: 'add',
				fieldWords: { singular: 'column', plural: 'columns' },
				addAllFields: false,
				multiKeyMatch: false,
				supportAutoMap: false,
			},
		},
		description:
			'Choices take a label or a number. Lookups take a GUID (with its table for customer lookups: account:&lt;guid&gt;) or /accounts(name=\'Contoso\').',
	},
	{
		displayName: 'Opportunity Details',
		name: 'opportunityDetails',
		type: 'collection',
		placeholder: 'Add Detail',
		default: {},
		displayOptions: { show: { resource: ['opportunity'], operation: WRITE_OPS, dataMode: ['autoMap', 'defineBelow'] } },
		options: [
			{
				displayName: 'Actual Revenue',
				name: 'actualValue',
				type: 'number',
				typeOptions: { numberPrecision: 2 },
				default: 0,
			},
			{
				displayName: 'Customer',
				name: 'customer',
				type: 'string',
				default: '',
				description:
					"The customer's GUID, or an account name / contact email (looked up; it must match exactly one record)",
			},
			{
				displayName: 'Customer Type',
				name: 'customerType',
				type: 'options',
				options: [
					{ name: 'Account', value: 'account' },
					{ name: 'Contact', value: 'contact' },
				],
				default: 'account',
			},
			{
				displayName: 'Estimated Close Date',
				name: 'estimatedCloseDate',
				type: 'dateTime',
				default: '',
			},
			{
				displayName: 'Estimated Revenue',
				name: 'estimatedValue',
				type: 'number',
				typeOptions: { numberPrecision: 2 },
				default: 0,
			},
			{
				displayName: 'Probability (%)',
				name: 'closeProbability',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100 },
				default: 0,
			},
			{
				displayName: 'Sales Stage Name or ID',
				name: 'salesStage',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getSalesStages' },
				default: '',
				description:
					'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
			},
		],
	},

	// ----- add note ----------------------------------------------------------------------------------------------
	{
		displayName: 'Subject',
		name: 'subject',
		type: 'string',
		default: '',
		displayOptions: { show: { operation: ['addNote'] } },
	},
	{
		displayName: 'Text',
		name: 'noteText',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		displayOptions: { show: { operation: ['addNote'] } },
	},

	// ----- get many -------------------------------------------------------------------------------------------
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		displayOptions: { show: { operation: ['getMany'] } },
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		displayOptions: { show: { operation: ['getMany'], returnAll: [false] } },
		description: 'Max number of results to return',
	},
	criteriaProperty({ operation: ['getMany', 'getChanges'] }),

	previewProperty({ operation: ['create', 'createOrUpdate', 'update', 'delete', 'addNote'] }),
	previewProperty({ operation: ['getChanges'] }, 'Whether to read the changes without moving the cursor: the next run reads the same changes again'),

	// ----- options per operation ---------------------------------------------------------------------------------
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['create'] } },
		options: [batchSizeOption, checkRequiredOption, fieldsToIgnoreOption, writeMethodOption],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['createOrUpdate'] } },
		options: [
			batchSizeOption,
			checkRequiredOption,
			{
				displayName: 'Default Conflict Policy',
				name: 'conflictPolicy',
				type: 'options',
				displayOptions: { show: { '/dataMode': ['syncItem'] } },
				options: [
					{ name: 'ActiveCampaign Wins', value: 'activeCampaignWins' },
					{ name: 'Dynamics Wins', value: 'dynamicsWins' },
					{ name: 'Newest Wins', value: 'newestWins' },
				],
				default: 'dynamicsWins',
				description: 'For sync items that carry no policy: who wins when both sides changed since the last sync',
			},
			fieldsToIgnoreOption,
			{
				displayName: 'If Several Records Match',
				name: 'multipleMatches',
				type: 'options',
				displayOptions: { show: { '/dataMode': ['autoMap', 'defineBelow'] } },
				options: [
					{ name: 'Error', value: 'error', description: 'Report an error for the item' },
					{ name: 'Update the Most Recently Modified', value: 'first' },
				],
				default: 'error',
			},
			{
				displayName: 'Skip If Changed After',
				name: 'skipIfModifiedAfter',
				type: 'dateTime',
				displayOptions: { show: { '/dataMode': ['autoMap', 'defineBelow'] } },
				default: '',
				description:
					"The source record's modified time: an existing Dynamics record modified later is left alone (reported as skipped). For conflict policies such as \"newest wins\".",
			},
			writeMethodOption,
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['update'] } },
		options: [batchSizeOption, fieldsToIgnoreOption, writeMethodOption],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['delete'] } },
		options: [batchSizeOption],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['get'] } },
		options: [columnsOption, formattedValuesOption, relatedContactOption],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['getMany'] } },
		options: [
			columnsOption,
			combinatorOption,
			formattedValuesOption,
			relatedContactOption,
			{
				displayName: 'Modified Since',
				name: 'modifiedSince',
				type: 'dateTime',
				default: '',
				description: 'Only records modified at or after this time',
			},
			{
				displayName: 'Order By',
				name: 'orderBy',
				type: 'string',
				default: '',
				placeholder: 'modifiedon desc',
				description: 'An OData $orderby expression',
			},
			rawFilterOption,
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['getChanges'] } },
		options: [
			columnsOption,
			combinatorOption,
			{
				displayName: 'Detect Changes By',
				name: 'readMode',
				type: 'options',
				default: 'modifiedOn',
				description: 'How changes are found. Change tracking also reports deleted records (as items with event "deleted").',
				options: [
					{ name: 'Modified Time', value: 'modifiedOn', description: 'Records with a newer Modified On (no deletions)' },
					{
						name: 'Change Tracking',
						value: 'changeTracking',
						description: 'Dataverse delta links: changes and deletions; the table needs "Track changes" enabled',
					},
					{
						name: 'Change Tracking Where Enabled',
						value: 'auto',
						description: 'Change tracking when the table has it enabled, else Modified Time',
					},
				],
			},
			{
				displayName: 'Ignore Own Changes',
				name: 'ignoreOwnChanges',
				type: 'boolean',
				default: true,
				description:
					"Whether to leave out records last modified by this connection's own user (the echo guard of a two-way sync)",
			},
			formattedValuesOption,
			relatedContactOption,
			{
				displayName: 'Max Changes per Run',
				name: 'maxRecords',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 10000,
				description: 'A larger backlog is returned in parts over the next runs',
			},
			{
				displayName: 'Overlap (Minutes)',
				name: 'overlapMinutes',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 5,
				description:
					'Each run reads again this far back to catch late and same-second changes; records already returned are not returned twice',
			},
			rawFilterOption,
			{
				displayName: 'Sample in Manual Runs',
				name: 'manualSample',
				type: 'boolean',
				default: true,
				description:
					'Whether a manual run (in the editor) returns a few recent changes without moving the cursor, instead of the changes since the previous run',
			},
			{
				displayName: 'Start From',
				name: 'startFrom',
				type: 'dateTime',
				default: '',
				description: 'The first run returns changes since this time (by default the first run starts now and returns nothing)',
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['addNote'] } },
		options: [
			batchSizeOption,
			{
				displayName: 'Skip Existing Subject',
				name: 'skipExistingSubject',
				type: 'boolean',
				default: true,
				description: 'Whether to skip a note whose subject the record already has, so re-runs do not add duplicates',
			},
		],
	},
];
