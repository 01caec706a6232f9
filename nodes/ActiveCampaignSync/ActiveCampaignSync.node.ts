import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeProperties,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { accountOperations, accountProperties } from './actions/account/properties';
import { contactOperations, contactProperties } from './actions/contact/properties';
import { customObjectOperations, customObjectProperties } from './actions/customObject/properties';
import { route } from './actions/router';
import { previewProperty } from '../shared/preview';
import { actionSubtitle } from '../shared/subtitle';
import * as loadOptions from './methods/loadOptions';

const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		default: 'contact',
		options: [
			{ name: 'Account', value: 'account' },
			{ name: 'Contact', value: 'contact' },
			{ name: 'Custom Object', value: 'customObject' },
		],
	},
	contactOperations,
	...contactProperties,
	accountOperations,
	...accountProperties,
	customObjectOperations,
	...customObjectProperties,
	previewProperty({
		resource: ['contact'],
		operation: [
			'upsert',
			'upsertMany',
			'update',
			'delete',
			'addTag',
			'removeTag',
			'subscribe',
			'unsubscribe',
			'addToAutomation',
			'removeFromAutomation',
			'sendCampaign',
			'recordSyncState',
			'ensureSyncFields',
		],
	}),
	previewProperty({ resource: ['account'], operation: ['upsert', 'linkContact', 'recordSyncState'] }),
	previewProperty({ resource: ['customObject'], operation: ['upsertRecord', 'deleteRecord', 'ensureSchema'] }),
	previewProperty(
		{ resource: ['contact', 'account'], operation: ['getChanges'] },
		'Whether to read the changes without moving the cursor: the next run reads the same changes again',
	),
];

export class ActiveCampaignSync implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ActiveCampaign Sync',
		name: 'activeCampaignSync',
		icon: { light: 'file:activecampaign.svg', dark: 'file:activecampaign.dark.svg' },
		group: ['transform'],
		version: 1,
		// What the step does, as the Operation list says it ("Create or update a contact"), not internal values.
		subtitle: actionSubtitle(properties),
		description:
			'ActiveCampaign contacts, accounts and custom objects for the Dynamics 365 sync: bulk upserts, tags by name, automations and activities, within the 5 requests per second limit',
		defaults: { name: 'ActiveCampaign Sync' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'activeCampaignSyncApi', required: true }],
		properties,
	};

	methods = { loadOptions };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await route.call(this);
	}
}
