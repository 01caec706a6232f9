import type { INodeProperties } from 'n8n-workflow';

import { conflictPolicyOption, deletePolicyOption, getChangesProperties, precedenceOption, recordStateMergeProperties, returnAllAndLimit } from '../common';

const show = (operation: string[], extra: Record<string, unknown> = {}) => ({
	show: { resource: ['contact'], operation, ...extra },
});

export const contactOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['contact'] } },
	default: 'upsert',
	options: [
		{ name: 'Add Tag', value: 'addTag', action: 'Add tags to a contact', description: 'Add tags by name (missing tags are created)' },
		{ name: 'Add to Automation', value: 'addToAutomation', action: 'Add a contact to an automation' },
		{
			name: 'Create or Update',
			value: 'upsert',
			action: 'Create or update a contact',
			description: 'Create a new record, or update the current one if it already exists (upsert)',
		},
		{
			name: 'Create or Update Many',
			value: 'upsertMany',
			action: 'Create or update many contacts',
			description: 'Import all input items through the bulk import API (250 contacts per request)',
		},
		{ name: 'Delete', value: 'delete', action: 'Delete a contact' },
		{
			name: 'Ensure Sync Fields',
			value: 'ensureSyncFields',
			action: 'Ensure the sync fields exist',
			description: 'Create the hidden D365 link and sync-state fields and the D365 tags when missing',
		},
		{ name: 'Get', value: 'get', action: 'Get a contact' },
		{
			name: 'Get Activities',
			value: 'getActivities',
			action: 'Get the activities of a contact',
			description: "Get a contact's email sends, opens and clicks",
		},
		{
			name: 'Get Changes',
			value: 'getChanges',
			action: 'Get changed contacts',
			description: 'Get contacts created or updated since the last run (runs once, not per item)',
		},
		{ name: 'Get Many', value: 'getAll', action: 'Get many contacts' },
		{
			name: 'Record Sync State',
			value: 'recordSyncState',
			action: 'Record the sync state of a contact',
			description: 'Store the Dynamics link and sync state on a contact after a write to Dynamics',
		},
		{ name: 'Remove From Automation', value: 'removeFromAutomation', action: 'Remove a contact from an automation' },
		{ name: 'Remove Tag', value: 'removeTag', action: 'Remove tags from a contact' },
		{ name: 'Send Campaign', value: 'sendCampaign', action: 'Send a campaign to a contact' },
		{ name: 'Subscribe to List', value: 'subscribe', action: 'Subscribe a contact to a list' },
		{ name: 'Unsubscribe From List', value: 'unsubscribe', action: 'Unsubscribe a contact from a list' },
		{ name: 'Update', value: 'update', action: 'Update a contact' },
	],
};

const dataMode: INodeProperties = {
	displayName: 'Data',
	name: 'dataMode',
	type: 'options',
	default: 'fields',
	displayOptions: show(['upsert', 'upsertMany']),
	options: [
		{ name: 'Fields Below', value: 'fields', description: 'Set the values with the fields of this node' },
		{
			name: 'Sync Item (From Field Map)',
			value: 'syncItem',
			description: 'Each input item is a sync item of the AC-D365 Field Map: matched by link, then email; echoes and conflicts are skipped',
		},
	],
};

const customFields = (operations: string[]): INodeProperties => ({
	displayName: 'Custom Fields',
	name: 'customFields',
	type: 'fixedCollection',
	placeholder: 'Add Custom Field',
	typeOptions: { multipleValues: true },
	default: {},
	displayOptions: show(operations, operations.includes('update') ? {} : { dataMode: ['fields'] }),
	options: [
		{
			displayName: 'Field',
			name: 'fieldValues',
			values: [
				{
					displayName: 'Field Name or ID',
					name: 'field',
					type: 'options',
					typeOptions: { loadOptionsMethod: 'getContactFields' },
					default: '',
					description:
						'The custom field. With an expression, give its personalization tag (e.g. LEAD_SOURCE), title or ID. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
				},
				{
					displayName: 'Value',
					name: 'value',
					type: 'string',
					default: '',
					description:
						'Dates as YYYY-MM-DD, date-times as ISO-8601, several values of a checkbox or list box separated as ||a||b||, dropdown values or labels',
				},
			],
		},
	],
});

const tags = (operations: string[], extra: Record<string, unknown> = {}): INodeProperties => ({
	displayName: 'Tags',
	name: 'tags',
	type: 'string',
	typeOptions: { multipleValues: true, multipleValueButtonText: 'Add Tag' },
	default: [],
	placeholder: 'Customer',
	description: 'Tag names; tags that do not exist yet are created',
	displayOptions: show(operations, extra),
});

const lists = (operations: string[], extra: Record<string, unknown> = {}): INodeProperties => ({
	displayName: 'Subscribe to List Names or IDs',
	name: 'lists',
	type: 'multiOptions',
	typeOptions: { loadOptionsMethod: 'getLists' },
	default: [],
	description:
		'Lists to subscribe the contact to. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	displayOptions: show(operations, extra),
});

const contactAttributes: INodeProperties[] = [
	{ displayName: 'First Name', name: 'firstName', type: 'string', default: '' },
	{ displayName: 'Last Name', name: 'lastName', type: 'string', default: '' },
	{ displayName: 'Phone', name: 'phone', type: 'string', default: '' },
	{
		displayName: 'Account Name',
		name: 'accountName',
		type: 'string',
		default: '',
		description: 'Links the contact to this account (created when missing); a contact belongs to one account',
	},
	{ displayName: 'Job Title', name: 'jobTitle', type: 'string', default: '', description: 'Job title on the account link' },
];

const contactIdentifier = (operations: string[]): INodeProperties => ({
	displayName: 'Contact ID or Email',
	name: 'contact',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'name@email.com',
	description: 'The contact, by its ActiveCampaign ID or its email address',
	displayOptions: show(operations),
});

export const contactProperties: INodeProperties[] = [
	dataMode,
	{
		displayName: 'Email',
		name: 'email',
		type: 'string',
		placeholder: 'name@email.com',
		required: true,
		default: '',
		description: 'Matches the contact (ActiveCampaign has one contact per email)',
		displayOptions: show(['upsert', 'upsertMany'], { dataMode: ['fields'] }),
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: show(['upsert', 'upsertMany'], { dataMode: ['fields'] }),
		options: [
			...contactAttributes,
			{
				displayName: 'Contact ID',
				name: 'contactId',
				type: 'string',
				default: '',
				description:
					'When known, the contact is updated by ID, so a changed email updates it instead of creating another contact (Create or Update only)',
			},
		],
	},
	{
		displayName: 'Contact ID',
		name: 'contactId',
		type: 'string',
		required: true,
		default: '',
		description: 'The ActiveCampaign ID of the contact',
		displayOptions: show(['update']),
	},
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: show(['update']),
		options: [{ displayName: 'Email', name: 'email', type: 'string', placeholder: 'name@email.com', default: '' }, ...contactAttributes],
	},
	customFields(['upsert', 'upsertMany', 'update']),
	tags(['upsert', 'upsertMany'], { dataMode: ['fields'] }),
	tags(['update']),
	lists(['upsert', 'upsertMany'], { dataMode: ['fields'] }),
	lists(['update']),
	{
		displayName: 'Sync Options',
		name: 'syncOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['upsert', 'upsertMany'], { dataMode: ['syncItem'] }),
		options: [
			conflictPolicyOption,
			precedenceOption,
			deletePolicyOption,
			{
				displayName: 'Skip Records Already in Sync',
				name: 'skipMatchingState',
				type: 'boolean',
				default: true,
				description:
					'Whether to read the stored sync states first (in bulk) and skip records that have not changed since the last sync (Create or Update Many). Changed records that are already linked are written one by one, with conflict and email-change checks.',
			},
		],
	},
	{
		displayName: 'Options',
		name: 'bulkOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['upsertMany']),
		options: [
			{
				displayName: 'Exclude Automations',
				name: 'excludeAutomations',
				type: 'boolean',
				default: false,
				description: 'Whether imported contacts skip the automations their tags or lists would start',
			},
			{
				displayName: 'Wait Timeout (Minutes)',
				name: 'timeoutMinutes',
				type: 'number',
				default: 15,
				typeOptions: { minValue: 1 },
				description: 'How long to wait for ActiveCampaign to process the imports',
			},
		],
	},

	// Get, Delete, tags, automations, lists, activities, campaign: one contact
	contactIdentifier([
		'get',
		'delete',
		'addTag',
		'removeTag',
		'addToAutomation',
		'removeFromAutomation',
		'subscribe',
		'unsubscribe',
		'getActivities',
		'sendCampaign',
	]),
	tags(['addTag', 'removeTag']),
	{
		displayName: 'Options',
		name: 'getOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['get']),
		options: [
			{
				displayName: 'Include Tags and Account',
				name: 'details',
				type: 'boolean',
				default: true,
				description: 'Whether to read the tags and the account link too (two more requests)',
			},
		],
	},
	{
		displayName: 'Automation Name or ID',
		name: 'automation',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getAutomations' },
		required: true,
		default: '',
		description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
		displayOptions: show(['addToAutomation', 'removeFromAutomation']),
	},
	{
		displayName: 'List Name or ID',
		name: 'list',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getLists' },
		required: true,
		default: '',
		description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
		displayOptions: show(['subscribe', 'unsubscribe']),
	},

	// Get Activities
	{
		displayName: 'Since',
		name: 'since',
		type: 'dateTime',
		default: '',
		description: 'Only activities after this time; empty for all',
		displayOptions: show(['getActivities']),
	},
	...returnAllAndLimit({ resource: ['contact'], operation: ['getActivities'] }),
	{
		displayName: 'Options',
		name: 'activityOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['getActivities']),
		options: [
			{
				displayName: 'Include Campaign Details',
				name: 'details',
				type: 'boolean',
				default: true,
				description: 'Whether to add the campaign name, message subject and clicked link to each activity',
			},
		],
	},

	// Send Campaign
	{
		displayName: 'Send Through',
		name: 'sendMethod',
		type: 'options',
		default: 'automation',
		displayOptions: show(['sendCampaign']),
		options: [
			{
				name: 'Automation (Recommended)',
				value: 'automation',
				description: 'Add the contact to an automation whose first step sends the email (the supported way in API v3)',
			},
			{
				name: 'Legacy Campaign Send (API Version 1)',
				value: 'v1',
				description: 'Send an existing campaign message to the contact now with the v1 campaign_send call',
			},
		],
	},
	{
		displayName: 'Automation Name or ID',
		name: 'sendAutomation',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getAutomations' },
		required: true,
		default: '',
		description:
			'An automation whose first step sends the email. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		displayOptions: show(['sendCampaign'], { sendMethod: ['automation'] }),
	},
	{
		displayName: 'Campaign Name or ID',
		name: 'campaign',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getCampaigns' },
		required: true,
		default: '',
		description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
		displayOptions: show(['sendCampaign'], { sendMethod: ['v1'] }),
	},
	{
		displayName: 'Message ID',
		name: 'messageId',
		type: 'string',
		default: '',
		description: "The campaign's message to send; empty for its first message",
		displayOptions: show(['sendCampaign'], { sendMethod: ['v1'] }),
	},

	// Get Many
	...returnAllAndLimit({ resource: ['contact'], operation: ['getAll'] }),
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions: show(['getAll']),
		options: [
			{ displayName: 'Created After', name: 'createdAfter', type: 'dateTime', default: '' },
			{ displayName: 'Email', name: 'email', type: 'string', placeholder: 'name@email.com', default: '', description: 'Exact email address' },
			{
				displayName: 'List Name or ID',
				name: 'list',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getLists' },
				default: '',
				description:
					'Only contacts on this list. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{ displayName: 'Search', name: 'search', type: 'string', default: '', description: 'Matches names, email, phone and organization' },
			{ displayName: 'Tag', name: 'tag', type: 'string', default: '', description: 'Only contacts with this tag (by name)' },
			{ displayName: 'Updated After', name: 'updatedAfter', type: 'dateTime', default: '' },
		],
	},
	{
		displayName: 'Options',
		name: 'getAllOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(['getAll']),
		options: [
			{
				displayName: 'Include Fields, Tags, Account',
				name: 'details',
				type: 'boolean',
				default: false,
				description: 'Whether to read each contact\'s field values, tags and account (three more requests per contact, within the 5 per second limit)',
			},
		],
	},

	// Get Changes
	...getChangesProperties({ resource: ['contact'], operation: ['getChanges'] }, {
		displayName: 'Include Fields, Tags, Account',
		name: 'details',
		type: 'boolean',
		default: true,
		description: 'Whether to read each changed contact\'s field values, tags and account (what the Field Map needs)',
	}),

	// Record Sync State
	{
		displayName: 'Contact ID',
		name: 'stateContactId',
		type: 'string',
		default: '={{ $json.acId ?? $json.match?.acId }}',
		description: 'The ActiveCampaign contact; when empty, the contact is found by email',
		displayOptions: show(['recordSyncState']),
	},
	{
		displayName: 'Email',
		name: 'stateEmail',
		type: 'string',
		placeholder: 'name@email.com',
		default: '={{ $json.email ?? $json.match?.email }}',
		displayOptions: show(['recordSyncState']),
	},
	{
		displayName: 'Link',
		name: 'stateLink',
		type: 'string',
		default: '={{ $json.link }}',
		description: 'The Dynamics record, as lead:&lt;guid&gt; or contact:&lt;guid&gt;',
		displayOptions: show(['recordSyncState']),
	},
	{
		displayName: 'Sync State',
		name: 'stateValue',
		type: 'string',
		default: '={{ $json.state }}',
		description: 'The state to store (the write step\'s output "state")',
		displayOptions: show(['recordSyncState']),
	},
	...recordStateMergeProperties({ resource: ['contact'], operation: ['recordSyncState'] }),
	{
		displayName: 'Tags to Add',
		name: 'stateTags',
		type: 'json',
		default: '={{ $json.tags ?? [] }}',
		description: 'Tag names to add, e.g. [D365: Lead] and [D365: Pulled from ActiveCampaign] for a record the sync created in Dynamics',
		displayOptions: show(['recordSyncState']),
	},
	{
		displayName: 'Tags to Remove',
		name: 'stateRemoveTags',
		type: 'json',
		default: '={{ $json.removeTags ?? [] }}',
		displayOptions: show(['recordSyncState']),
	},
];
