import { createHash, randomBytes, timingSafeEqual } from 'crypto';
import {
	NodeConnectionTypes,
	type IDataObject,
	type IHookFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { readCursor, writeCursor } from '../shared/sync/cursor';
import { readChanges, sampleRecords, type ChangeEntity, type ChangeEvent } from './helpers/changes';
import { AcSession } from './helpers/session';
import { parseWebhookBody, webhookSource } from './helpers/webhookPayload';
import { webhookActivityNote } from '../shared/activityNote';
import { acRequest, type AcContext, type AcRequest } from './transport';

/** Events of `GET /webhook/events` plus the account events the `listid` description names. */
const WEBHOOK_EVENTS: Array<{ name: string; value: string }> = [
	['Account Added', 'account_add'],
	['Account Contact Added', 'account_contact_add'],
	['Account Contact Updated', 'account_contact_update'],
	['Account Updated', 'account_update'],
	['Bounce', 'bounce'],
	['Click', 'click'],
	['Contact Note Added', 'subscriber_note'],
	['Contact Tag Added', 'contact_tag_added'],
	['Contact Tag Removed', 'contact_tag_removed'],
	['Contact Task Added', 'contact_task_add'],
	['Contact Updated', 'update'],
	['Deal Added', 'deal_add'],
	['Deal Note Added', 'deal_note_add'],
	['Deal Pipeline Added', 'deal_pipeline_add'],
	['Deal Stage Added', 'deal_stage_add'],
	['Deal Task Added', 'deal_task_add'],
	['Deal Task Completed', 'deal_task_complete'],
	['Deal Task Type Added', 'deal_tasktype_add'],
	['Deal Updated', 'deal_update'],
	['Forward', 'forward'],
	['List Added', 'list_add'],
	['Open', 'open'],
	['Reply', 'reply'],
	['Sent', 'sent'],
	['Share', 'share'],
	['SMS Reply', 'sms_reply'],
	['SMS Sent', 'sms_sent'],
	['SMS Unsubscribe', 'sms_unsub'],
	['Subscribe', 'subscribe'],
	['Unsubscribe', 'unsubscribe'],
].map(([name, value]) => ({ name, value }));

const POLL_EVENTS: Record<string, { entity: ChangeEntity; event: ChangeEvent }> = {
	contactCreated: { entity: 'contact', event: 'created' },
	contactUpdated: { entity: 'contact', event: 'updated' },
	accountCreated: { entity: 'account', event: 'created' },
	accountUpdated: { entity: 'account', event: 'updated' },
};

async function request<T = IDataObject>(context: AcContext, options: AcRequest): Promise<T> {
	return await acRequest.call<AcContext, [AcRequest], Promise<T>>(context, options);
}

export class ActiveCampaignSyncTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ActiveCampaign Sync Trigger',
		name: 'activeCampaignSyncTrigger',
		icon: { light: 'file:activecampaign.svg', dark: 'file:activecampaign.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["triggerOn"] === "webhook" ? "Instant: " + $parameter["events"].join(", ") : $parameter["event"]}}',
		description: 'Starts the workflow when ActiveCampaign contacts or accounts change: polling with a change cursor, or instantly through a webhook',
		defaults: { name: 'ActiveCampaign Sync Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'activeCampaignSyncApi', required: true }],
		webhooks: [
			{
				name: 'default',
				// Only instant mode registers a webhook: an empty method means none.
				httpMethod: '={{$parameter["triggerOn"] === "webhook" ? "POST" : ""}}',
				responseMode: 'onReceived',
				path: 'webhook',
				ndvHideUrl: '={{$parameter["triggerOn"] !== "webhook"}}',
				ndvHideMethod: true,
			},
		],
		properties: [
			{
				displayName: 'Trigger On',
				name: 'triggerOn',
				type: 'options',
				noDataExpression: true,
				default: 'poll',
				options: [
					{
						name: 'Changes (Polling)',
						value: 'poll',
						description: 'Checks for created or updated records on the schedule below; catches up after downtime',
					},
					{
						name: 'Events (Instant Webhook)',
						value: 'webhook',
						description: 'ActiveCampaign calls n8n when something happens; needs a URL ActiveCampaign can reach',
					},
				],
			},
			{
				displayName: 'Event',
				name: 'event',
				type: 'options',
				noDataExpression: true,
				default: 'contactUpdated',
				displayOptions: { show: { triggerOn: ['poll'] } },
				options: [
					{ name: 'Account Created', value: 'accountCreated' },
					{ name: 'Account Updated', value: 'accountUpdated' },
					{ name: 'Contact Created', value: 'contactCreated' },
					{ name: 'Contact Updated', value: 'contactUpdated' },
				],
			},
			{
				displayName: 'Options',
				name: 'pollOptions',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: { show: { triggerOn: ['poll'] } },
				options: [
					{
						displayName: 'Include Details',
						name: 'details',
						type: 'boolean',
						default: true,
						description: 'Whether to read field values, tags and account of each contact, or custom fields of each account',
					},
					{
						displayName: 'Overlap (Minutes)',
						name: 'overlapMinutes',
						type: 'number',
						default: 5,
						typeOptions: { minValue: 0 },
						description: 'Each check starts this long before the previous one; records already emitted are not emitted again',
					},
					{
						displayName: 'Start From',
						name: 'startFrom',
						type: 'dateTime',
						default: '',
						description: 'On activation, emit changes since this time. Empty: start from the activation.',
					},
				],
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				default: ['update'],
				displayOptions: { show: { triggerOn: ['webhook'] } },
				options: WEBHOOK_EVENTS,
			},
			{
				displayName: 'Sources',
				name: 'sources',
				type: 'multiOptions',
				default: ['public', 'admin', 'system'],
				description:
					'Who made the change. API changes are left out by default: they include this sync\'s own writes (the echo guard).',
				displayOptions: { show: { triggerOn: ['webhook'] } },
				options: [
					{ name: 'Admin (a User in ActiveCampaign)', value: 'admin' },
					{ name: 'API (Integrations, Including This Sync)', value: 'api' },
					{ name: 'Public (the Contact)', value: 'public' },
					{ name: 'System (Automations)', value: 'system' },
				],
			},
			{
				displayName: 'List ID',
				name: 'listId',
				type: 'number',
				default: 0,
				description: 'Only list events of this list (subscribe, unsubscribe, campaign events); 0 for all lists',
				displayOptions: { show: { triggerOn: ['webhook'] } },
			},
		],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node');
				if (data.webhookId === undefined) return false;
				const body = await request<IDataObject | undefined>(this, {
					method: 'GET',
					path: `/api/3/webhooks/${data.webhookId}`,
					allowNotFound: true,
				});
				const hook = body?.webhook as IDataObject | undefined;
				if (hook && hook.url === hookUrl(this.getNodeWebhookUrl('default') as string, data.webhookToken)) return true;
				delete data.webhookId;
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				// A random token in the registered URL: only ActiveCampaign's deliveries to this hook carry it.
				const token = randomBytes(24).toString('hex');
				const url = hookUrl(this.getNodeWebhookUrl('default') as string, token);
				const events = this.getNodeParameter('events', []) as string[];
				const sources = this.getNodeParameter('sources', []) as string[];
				const listId = Number(this.getNodeParameter('listId', 0)) || 0;
				const body = await request<IDataObject>(this, {
					method: 'POST',
					path: '/api/3/webhooks',
					body: {
						webhook: {
							name: `n8n ActiveCampaign Sync (${this.getWorkflow().id ?? 'workflow'} ${this.getNode().name})`.slice(0, 250),
							url,
							events,
							sources: sources.length ? sources : ['public', 'admin', 'system'],
							listid: listId,
						},
					},
				});
				const hook = body.webhook as IDataObject;
				const data = this.getWorkflowStaticData('node');
				data.webhookId = String(hook.id);
				data.webhookToken = token;
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node');
				if (data.webhookId === undefined) return true;
				// A hook deleted in ActiveCampaign already (404) is as good as deleted; other failures fail.
				await request(this, { method: 'DELETE', path: `/api/3/webhooks/${data.webhookId}`, allowNotFound: true });
				delete data.webhookId;
				delete data.webhookToken;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const expected = this.getWorkflowStaticData('node').webhookToken;
		const given = (this.getQueryData() as IDataObject).token;
		if (typeof expected === 'string' && expected && !sameToken(typeof given === 'string' ? given : '', expected)) {
			this.getResponseObject()
				.status(403)
				.json({ ok: false, error: 'Not the ActiveCampaign webhook this trigger registered (its token is missing or wrong)' });
			return { noWebhookResponse: true };
		}
		const request = this.getRequestObject() as unknown as { body?: unknown; rawBody?: unknown };
		const raw = typeof request.rawBody === 'string' || Buffer.isBuffer(request.rawBody) ? request.rawBody : undefined;
		const body = this.getBodyData();
		const payload = parseWebhookBody(body && Object.keys(body).length ? body : (raw ?? ''));
		const sources = this.getNodeParameter('sources', []) as string[];
		const source = webhookSource(payload);
		// ActiveCampaign filters by source already; this keeps the echo guard when a hook was edited by hand.
		if (sources.length && source && !sources.includes(source)) return {};
		// An email activity carries the Dynamics note it makes, the same as Get Activities gives it (shared/activityNote.ts).
		const note = webhookActivityNote(payload);
		return { workflowData: [this.helpers.returnJsonArray([note ? { ...payload, note } : payload])] };
	}

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		if (this.getNodeParameter('triggerOn', 'poll') !== 'poll') return null;
		const { entity, event } = POLL_EVENTS[this.getNodeParameter('event', 'contactUpdated') as string] ?? POLL_EVENTS.contactUpdated;
		const options = this.getNodeParameter('pollOptions', {}) as IDataObject;
		const details = options.details !== false;
		const session = new AcSession(this);

		if (this.getMode() === 'manual') {
			const sample = await sampleRecords(session, entity, 3, details);
			return sample.length ? [this.helpers.returnJsonArray(sample)] : null;
		}

		const staticData = this.getWorkflowStaticData('node');
		const budget = this.getPollBudgetMs?.();
		const result = await readChanges(session, {
			entity,
			event,
			cursor: readCursor(staticData),
			startFrom: String(options.startFrom ?? '').trim() || undefined,
			overlapMs: Math.max(0, Number(options.overlapMinutes ?? 5)) * 60_000,
			details,
			// Stop fetching details with a margin, so the poll returns before the engine abandons it.
			budgetMs: budget === undefined ? undefined : Math.max(1000, budget * 0.7),
			floor: typeof staticData.floor === 'string' ? staticData.floor : undefined,
		});
		writeCursor(staticData, result.cursor);
		staticData.floor = result.floor;
		return result.records.length ? [this.helpers.returnJsonArray(result.records)] : null;
	}
}

/** The registered hook's URL: n8n's webhook URL with the token (hooks registered before tokens have none). */
function hookUrl(base: string, token: unknown): string {
	return typeof token === 'string' && token ? `${base}${base.includes('?') ? '&' : '?'}token=${token}` : base;
}

function sameToken(given: string, expected: string): boolean {
	const digest = (text: string) => createHash('sha256').update(text).digest();
	return timingSafeEqual(digest(given), digest(expected));
}
