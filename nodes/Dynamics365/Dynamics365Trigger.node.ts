import { randomBytes } from 'crypto';
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IHookFunctions,
	type ILoadOptionsFunctions,
	type INodeExecutionData,
	type INodePropertyOptions,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { authenticationProperty, criteriaProperty, dynamicsCredentials } from './actions/descriptions';
import { changeItem, readChanges, readDeltaChanges, sampleChanges, type ChangeReadOptions } from './helpers/changes';
import { carriesSecret, registeredUrl, registerWebhook, removeWebhook, CALLER_CHECK_HEADER, secretDigest, webhookChange } from './helpers/webhook';
import { readableColumns, RESOURCE_TABLES, type TableInfo } from './transport/metadata';
import { criteriaFilter, criteriaOf, rawFilter, relatedContactExpand } from './helpers/query';
import { columnOptions } from './methods';
import { DataverseClient } from './transport';
import { andFilters, queryProperty } from './transport/odata';
import { splitCommas } from '../shared/lists';

const ENTITIES = ['account', 'contact', 'lead', 'opportunity'] as const;
const EVENT_NAMES: Record<string, string> = { account: 'Account', contact: 'Contact', lead: 'Lead', opportunity: 'Opportunity' };

export class Dynamics365Trigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Dynamics 365 Trigger',
		name: 'dynamics365Trigger',
		icon: { light: 'file:dynamics365.svg', dark: 'file:dynamics365.dark.svg' },
		group: ['trigger'],
		version: 1,
		// The events as the list names them ("Opportunity Created"), not their values ("opportunity.created").
		subtitle: '={{ $parameter["events"].map(e => e.split(".").map(w => w.charAt(0).toUpperCase() + w.slice(1)).join(" ")).join(", ") }}',
		description: 'Starts the workflow when Dynamics 365 opportunities, leads, contacts or accounts are created, updated or deleted: by polling, or instantly through a Dataverse webhook',
		defaults: { name: 'Dynamics 365 Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: dynamicsCredentials,
		webhooks: [
			{
				name: 'default',
				// Only the webhook mode registers one: an empty method means none.
				httpMethod: '={{$parameter["mode"] === "webhook" ? "POST" : ""}}',
				responseMode: 'onReceived',
				path: 'dataverse',
				ndvHideUrl: '={{$parameter["mode"] !== "webhook"}}',
				ndvHideMethod: true,
			},
		],
		properties: [
			authenticationProperty,
			{
				displayName: 'Trigger On',
				name: 'events',
				type: 'multiOptions',
				required: true,
				options: ENTITIES.flatMap((entity) => [
					{ name: `${EVENT_NAMES[entity]} Created`, value: `${entity}.created` },
					{
						name: `${EVENT_NAMES[entity]} Deleted`,
						value: `${entity}.deleted`,
						description: 'Needs the Change Tracking or the Dataverse Webhook mode',
					},
					{ name: `${EVENT_NAMES[entity]} Updated`, value: `${entity}.updated` },
				]),
				default: ['opportunity.created', 'opportunity.updated'],
			},
			{
				displayName: 'Detect Changes By',
				name: 'mode',
				type: 'options',
				options: [
					{
						name: 'Modified Time',
						value: 'watermark',
						description: 'Reads records by modifiedon with an overlap window; works on every table',
					},
					{
						name: 'Change Tracking',
						value: 'changeTracking',
						description:
							'Dataverse delta links; also reports deletions. The tables need "Track changes" enabled.',
					},
					{
						name: 'Dataverse Webhook (Instant)',
						value: 'webhook',
						description:
							"Dynamics calls n8n within seconds of each change. Publishing the workflow registers a webhook in the environment (the credential's user needs the System Customizer or System Administrator role); unpublishing removes it. Needs a URL Dynamics can reach.",
					},
				],
				default: 'watermark',
			},
			{
				displayName: 'Options',
				name: 'webhookOptions',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: { show: { mode: ['webhook'] } },
				options: [
					{
						displayName: 'Ignore Own Changes',
						name: 'ignoreOwnChanges',
						type: 'boolean',
						default: true,
						description:
							"Whether to leave out changes made by this connection's own user, so a two-way sync does not trigger on its own writes",
					},
					{
						displayName: 'Only When These Columns Change',
						name: 'filteringColumns',
						type: 'string',
						default: '',
						placeholder: 'firstname,lastname,emailaddress1',
						description:
							'Comma-separated columns: an update calls n8n only when one of them changed (the step\'s filtering attributes). Empty: every update.',
					},
				],
			},
			{
				...criteriaProperty({}, ['events']),
				displayOptions: { hide: { mode: ['webhook'] } },
				description:
					'Conditions every emitted record must meet (the column must exist in each chosen table). In Change Tracking mode they are checked on the records read.',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: { hide: { mode: ['webhook'] } },
				options: [
					{
						displayName: 'Columns',
						name: 'columns',
						type: 'string',
						default: '',
						placeholder: 'name,estimatedvalue,salesstage,_customerid_value',
						description: 'Comma-separated columns to return (all when empty); columns a table lacks are left out for it',
					},
					{
						displayName: 'Combine Criteria With',
						name: 'combinator',
						type: 'options',
						options: [
							{ name: 'AND (All Must Match)', value: 'and' },
							{ name: 'OR (Any May Match)', value: 'or' },
						],
						default: 'and',
					},
					{
						displayName: 'Ignore Own Changes',
						name: 'ignoreOwnChanges',
						type: 'boolean',
						default: true,
						description:
							"Whether to leave out records last modified by this connection's own user, so a two-way sync does not trigger on its own writes",
					},
					{
						displayName: 'Include Contact Email',
						name: 'includeRelatedContactEmail',
						type: 'boolean',
						default: false,
						description: "Whether to add the email of an opportunity's contact as relatedContactEmail",
					},
					{
						displayName: 'Include Formatted Values',
						name: 'formattedValues',
						type: 'boolean',
						default: false,
						description: 'Whether to add the display text of choices, lookups, money and dates',
					},
					{
						displayName: 'Max Records per Poll',
						name: 'maxRecords',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 5000,
						description: 'Per table; a larger backlog is emitted over the next polls',
					},
					{
						displayName: 'Overlap (Minutes)',
						name: 'overlapMinutes',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 5,
						description:
							'Each poll reads again this far back to catch late and same-second changes; records already emitted are not emitted twice',
					},
					{
						displayName: 'Raw Filter',
						name: 'rawFilter',
						type: 'string',
						default: '',
						placeholder: "statecode eq 0 and contains(name,'Renewal')",
						description:
							"Criteria the rows above cannot express, as an OData $filter on the table's own columns, added with AND. Checked before use: balanced, known columns, only contains / startswith / endswith and Microsoft.Dynamics.CRM query functions. In Change Tracking mode the changed records are read again through it.",
					},
					{
						displayName: 'Start From',
						name: 'startFrom',
						type: 'dateTime',
						default: '',
						description: 'On activation, emit changes since this time (by default the trigger starts from now)',
					},
				],
			},
		],
	};

	methods = {
		loadOptions: {
			/** Columns of the first chosen entity (criteria columns must exist in every chosen table). */
			async getColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				const events = (this.getNodeParameter('events', []) as string[]) ?? [];
				const entity = events[0]?.split('.')[0] ?? 'opportunity';
				const client = await DataverseClient.create(this, this.getNodeParameter('authentication', 'clientCredentials') as string);
				return columnOptions(readableColumns(await client.table(RESOURCE_TABLES[entity] ?? 'opportunity')));
			},
		},
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node');
				if (typeof data.endpointId !== 'string') return false;
				const client = await DataverseClient.create(this, this.getNodeParameter('authentication', 'clientCredentials') as string);
				if ((await registeredUrl(client, data.endpointId)) === this.getNodeWebhookUrl('default')) return true;
				delete data.endpointId;
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				const events = selectedEvents(this.getNodeParameter('events', []) as string[]);
				if (!events.length) throw new NodeOperationError(this.getNode(), 'Choose at least one event');
				const options = this.getNodeParameter('webhookOptions', {}) as IDataObject;
				const client = await DataverseClient.create(this, this.getNodeParameter('authentication', 'clientCredentials') as string);
				// A secret only this registration knows, sent by Dataverse in a header; the workflow keeps its digest.
				const secret = randomBytes(24).toString('hex');
				const registration = await registerWebhook(client, this.getNode(), {
					name: `n8n ${this.getWorkflow().id ?? 'workflow'} ${this.getNode().name}`,
					url: this.getNodeWebhookUrl('default') as string,
					secret,
					events,
					filteringColumns: String(options.filteringColumns ?? '').replace(/\s+/g, '') || undefined,
				});
				const data = this.getWorkflowStaticData('node');
				data.endpointId = registration.endpointId;
				data.secretDigest = secretDigest(secret);
				// Whose changes are this connection's own (the echo guard).
				data.ownUserId = await client.whoAmI();
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node');
				if (typeof data.endpointId !== 'string') return true;
				const client = await DataverseClient.create(this, this.getNodeParameter('authentication', 'clientCredentials') as string);
				await removeWebhook(client, data.endpointId);
				delete data.endpointId;
				delete data.secretDigest;
				delete data.ownUserId;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const data = this.getWorkflowStaticData('node');
		if (!carriesSecret(this.getHeaderData()[CALLER_CHECK_HEADER], data.secretDigest)) {
			this.getResponseObject()
				.status(403)
				.json({ ok: false, error: 'Not the Dataverse webhook this trigger registered (its secret header is missing or wrong)' });
			return { noWebhookResponse: true };
		}
		const change = webhookChange(this.getBodyData());
		if (!change) return {};
		const client = await DataverseClient.create(this, this.getNodeParameter('authentication', 'clientCredentials') as string);
		// Paused by Global Sync: the call is answered and nothing runs (the scheduled cycle catches up once it is on).
		if (!client.globalSync.dynamicsToActiveCampaign) return {};
		if (!selectedEvents(this.getNodeParameter('events', []) as string[]).includes(`${change.entity}.${change.event}`)) return {};
		const options = this.getNodeParameter('webhookOptions', {}) as IDataObject;
		if (options.ignoreOwnChanges !== false && change.changedBy && change.changedBy === data.ownUserId) return {};
		return { workflowData: [this.helpers.returnJsonArray([change])] };
	}

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		// The webhook mode starts runs from Dataverse's calls (webhook above), never from the poll.
		if (this.getNodeParameter('mode', 'watermark') === 'webhook') return null;
		const events = selectedEvents(this.getNodeParameter('events', []) as string[]);
		if (!events.length) throw new NodeOperationError(this.getNode(), 'Choose at least one event');
		const mode = this.getNodeParameter('mode', 'watermark') as string;
		const options = this.getNodeParameter('options', {}) as IDataObject;
		if (mode !== 'changeTracking' && events.some((e) => e.endsWith('.deleted'))) {
			throw new NodeOperationError(this.getNode(), 'Deleted events need the Change Tracking mode', {
				description: 'Set "Detect Changes By" to Change Tracking (the tables need "Track changes" enabled), or remove the Deleted events.',
			});
		}
		const client = await DataverseClient.create(this, this.getNodeParameter('authentication', 'clientCredentials') as string);
		if (!client.globalSync.dynamicsToActiveCampaign) {
			// Paused by Global Sync: nothing is read and the cursors stay where they are, so switching it on again
			// emits everything that changed meanwhile. "Fetch Test Event" says why it has nothing.
			if (this.getMode() === 'manual') {
				throw new NodeOperationError(this.getNode(), client.globalSync.summary, {
					description: 'The Dynamics 365 credential\'s Global Sync pauses Dynamics → ActiveCampaign: this trigger reads nothing until it is switched on.',
				});
			}
			return null;
		}
		const criteria = criteriaOf(this.getNodeParameter('criteria', {}));
		const combinator = (options.combinator as 'and' | 'or') ?? 'and';
		const started = Date.now();
		const budget = this.getPollBudgetMs?.() ?? 5 * 60_000;
		const deadline = started + Math.max(1000, budget * 0.6);
		const manual = this.getMode() === 'manual';
		const staticData = this.getWorkflowStaticData('node');
		const entities = ENTITIES.filter((entity) => events.some((e) => e.startsWith(`${entity}.`)));
		const output: INodeExecutionData[] = [];
		for (const entity of entities) {
			const wanted = new Set(events.filter((e) => e.startsWith(`${entity}.`)).map((e) => e.split('.')[1]));
			const table = await client.table(RESOURCE_TABLES[entity]);
			let readOptions: ChangeReadOptions;
			try {
				const raw = rawFilter(table, options.rawFilter);
				readOptions = {
					table,
					select: selectExisting(table, String(options.columns ?? '')),
					filter: mode === 'changeTracking' ? undefined : andFilters(criteriaFilter(table, criteria, combinator), raw),
					criteria,
					combinator,
					rawFilter: mode === 'changeTracking' ? raw : undefined,
					overlapMs: Number(options.overlapMinutes ?? 5) * 60_000,
					ignoreOwnChanges: options.ignoreOwnChanges !== false,
					startFrom: (options.startFrom as string | undefined) || undefined,
					maxRecords: Number(options.maxRecords ?? 5000),
					deadline,
					expand: options.includeRelatedContactEmail && mode !== 'changeTracking' ? relatedContactExpand(table) : undefined,
					formattedValues: options.formattedValues === true,
				};
			} catch (error) {
				// Criteria or columns that do not fit this table.
				throw new NodeOperationError(this.getNode(), `${EVENT_NAMES[entity]}: ${(error as Error).message}`);
			}
			if (mode === 'changeTracking' && !table.changeTracking) {
				throw new NodeOperationError(this.getNode(), `Change tracking is not enabled for the ${table.logicalName} table`, {
					description:
						'Enable "Track changes" in the table\'s settings (Power Apps → Tables → the table → Properties → Advanced options), or set "Detect Changes By" to Modified Time.',
				});
			}
			if (manual) {
				// "Fetch test event": a few recent records; the cursor is left alone.
				const sample = await sampleChanges(client, readOptions, 3);
				for (const change of sample) output.push({ json: changeItem(table, change) });
				continue;
			}
			const slots = (staticData[mode === 'changeTracking' ? 'delta' : 'cursors'] ??= {}) as IDataObject;
			const slot = (slots[entity] ??= {}) as IDataObject;
			const result = mode === 'changeTracking' ? await readDeltaChanges(client, slot, readOptions) : await readChanges(client, slot, readOptions);
			for (const change of result.changes) {
				if (!wanted.has(change.event)) continue;
				output.push({ json: changeItem(table, change) });
			}
		}
		if (!output.length) return null;
		return [output];
	}
}

function selectedEvents(events: string[]): string[] {
	return events.filter((e) => /^(account|contact|lead|opportunity)\.(created|updated|deleted)$/.test(e));
}

/** The chosen columns this table has (lookups as `_x_value`), with its primary key; undefined for all columns. */
function selectExisting(table: TableInfo, columns: string): string | undefined {
	const names = splitCommas(columns);
	if (!names.length) return undefined;
	const properties = new Set<string>([table.primaryIdAttribute]);
	for (const name of names) {
		const column = table.columns.get(name) ?? table.columns.get(/^_(.+)_value$/.exec(name)?.[1] ?? '');
		if (column) properties.add(queryProperty(column));
	}
	return [...properties].join(',');
}
