/* eslint-disable @n8n/community-nodes/no-restricted-globals -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Webhook delivery: one urlencoded POST per matching hook, PHP-bracket keys, no retry, a 410 deactivates the hook.
 * Payloads are built when the change happens (a snapshot) and sent after the API response (fire and forget);
 * deliveries to one hook keep their order.
 */
import type { AcSettings } from './settings';
import type { AcState, Source, Webhook } from './state';
import type { AccountTime } from './time';

/** The documented `GET /webhook/events` list, in the documented order. */
export const WEBHOOK_EVENTS = [
	'bounce',
	'click',
	'contact_tag_added',
	'contact_tag_removed',
	'deal_add',
	'deal_note_add',
	'deal_pipeline_add',
	'deal_stage_add',
	'deal_task_add',
	'deal_task_complete',
	'deal_tasktype_add',
	'deal_update',
	'forward',
	'list_add',
	'open',
	'reply',
	'sent',
	'share',
	'sms_reply',
	'sms_sent',
	'sms_unsub',
	'subscribe',
	'subscriber_note',
	'unsubscribe',
	'update',
];

/** Events named only in the `listid` description of `POST /webhooks`; accepted on create. */
export const EXTRA_WEBHOOK_EVENTS = [
	'contact_task_add',
	'account_add',
	'account_update',
	'account_contact_add',
	'account_contact_update',
];

export const WEBHOOK_SOURCES = ['public', 'admin', 'api', 'system'];

/** Events on which a hook's `listid` has no effect (from the `listid` description). */
const LIST_AGNOSTIC = new Set([
	'subscriber_note',
	'contact_tag_added',
	'contact_tag_removed',
	'contact_task_add',
	'list_add',
	'sms_sent',
	'sms_reply',
	'sms_unsub',
	'deal_add',
	'deal_update',
	'deal_note_add',
	'deal_pipeline_add',
	'deal_stage_add',
	'deal_task_add',
	'deal_tasktype_add',
	'deal_task_complete',
	'account_add',
	'account_update',
	'account_contact_add',
	'account_contact_update',
]);

export interface AcEvent {
	type: string;
	source: Source;
	contactId?: number;
	/** The list the event happened on (subscribe/unsubscribe), 0 for none. */
	listId?: number;
	tagName?: string;
	accountId?: number;
	accountContactId?: number;
	campaignId?: number;
	messageId?: number;
	linkId?: number;
}

export interface DeliveryRecord {
	id: number;
	webhookId: string;
	url: string;
	type: string;
	source: string;
	at: string;
	/** The decoded form fields, in sending order. */
	payload: Array<[string, string]>;
	body: string;
	status: number | null;
	error?: string;
	durationMs?: number;
	deactivatedHook?: boolean;
}

export interface SuppressedEvent {
	type: string;
	source: string;
	contactId?: number;
	at: string;
	reason: string;
}

interface Deps {
	state: () => AcState;
	settings: () => AcSettings;
	time: () => AccountTime;
	now: () => number;
}

export class WebhookDispatcher {
	readonly deliveries: DeliveryRecord[] = [];
	readonly suppressed: SuppressedEvent[] = [];
	private nextId = 1;
	private readonly chains = new Map<number, Promise<void>>();
	private readonly inflight = new Set<Promise<void>>();
	private generation = 0;

	constructor(private readonly deps: Deps) {}

	reset(): void {
		this.generation++;
		this.deliveries.length = 0;
		this.suppressed.length = 0;
		this.chains.clear();
		this.nextId = 1;
	}

	/** Resolves when every delivery started so far has finished. */
	async drain(): Promise<void> {
		while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
	}

	get pending(): number {
		return this.inflight.size;
	}

	emit(event: AcEvent): void {
		const at = this.deps.time().iso(this.deps.now())!;
		if (event.source === 'import') {
			this.suppressed.push({ type: event.type, source: event.source, contactId: event.contactId, at, reason: 'bulk import' });
			if (this.suppressed.length > 2000) this.suppressed.splice(0, this.suppressed.length - 2000);
			return;
		}
		const hooks = this.deps
			.state()
			.webhooks.values()
			.filter((hook) => this.matches(hook, event));
		if (hooks.length === 0) return;
		const payload = this.payload(event, at);
		for (const hook of hooks) this.enqueue(hook, event, payload, at);
	}

	private matches(hook: Webhook, event: AcEvent): boolean {
		if (!hook.active || !hook.events.includes(event.type) || !hook.sources.includes(event.source)) return false;
		if (hook.listid === 0 || LIST_AGNOSTIC.has(event.type)) return true;
		if (event.type === 'subscribe' || event.type === 'unsubscribe') return event.listId === hook.listid;
		return event.contactId !== undefined && this.deps.state().contactListFor(event.contactId, hook.listid) !== undefined;
	}

	private payload(event: AcEvent, at: string): Array<[string, string]> {
		const state = this.deps.state();
		const time = this.deps.time();
		const pairs: Array<[string, string]> = [
			['type', event.type],
			['date_time', at],
			['initiated_by', event.source],
			['initiated_from', event.source],
			['list', String(event.listId ?? 0)],
		];
		const contact = event.contactId !== undefined ? state.contacts.get(event.contactId) : undefined;
		if (contact) {
			const account = state.accountOf(contact.id);
			pairs.push(
				['contact[id]', String(contact.id)],
				['contact[email]', contact.email],
				['contact[first_name]', contact.firstName],
				['contact[last_name]', contact.lastName],
				['contact[phone]', contact.phone],
				['contact[ip]', contact.ip === '0' ? '0.0.0.0' : contact.ip],
				['contact[tags]', state.tagNamesOf(contact.id).join(', ')],
				['contact[customer_acct_name]', account?.name ?? ''],
				['contact[orgname]', account?.name ?? ''],
			);
			for (const fv of state.fieldValuesOf(contact.id)) {
				const field = state.fields.rows.get(fv.field);
				if (field) pairs.push([`contact[fields][${field.perstag.toLowerCase()}]`, fv.value ?? '']);
			}
			pairs.push(['customer_acct_name', account?.name ?? ''], ['customer_acct_id', String(account?.id ?? 0)], [
				'orgname',
				account?.name ?? '',
			]);
		}
		if (event.tagName !== undefined) pairs.push(['tag', event.tagName]);
		const account = event.accountId !== undefined ? state.accounts.get(event.accountId) : undefined;
		if (account) {
			pairs.push(
				['account[id]', String(account.id)],
				['account[name]', account.name],
				['account[account_url]', account.accountUrl ?? ''],
				['account[created_timestamp]', time.local(account.createdTimestamp)!],
				['account[updated_timestamp]', time.local(account.updatedTimestamp)!],
			);
			const data = state.accountFieldData.values().filter((d) => d.accountId === account.id);
			data.forEach((d, i) => {
				const meta = state.accountFieldMeta.rows.get(d.customFieldId);
				pairs.push(
					[`account[fields][${i}][id]`, String(d.customFieldId)],
					[`account[fields][${i}][key]`, meta?.fieldLabel ?? ''],
					[`account[fields][${i}][value]`, Array.isArray(d.fieldValue) ? d.fieldValue.join('||') : String(d.fieldValue ?? '')],
				);
			});
		}
		const ac = event.accountContactId !== undefined ? state.accountContacts.get(event.accountContactId) : undefined;
		if (ac) {
			pairs.push(
				['accountContact[id]', String(ac.id)],
				['accountContact[account]', String(ac.account)],
				['accountContact[contact]', String(ac.contact)],
				['accountContact[job_title]', ac.jobTitle],
			);
		}
		const campaign = event.campaignId !== undefined ? state.campaigns.get(event.campaignId) : undefined;
		if (campaign) {
			const message = event.messageId !== undefined ? state.messages.get(event.messageId) : undefined;
			pairs.push(
				['campaign[id]', String(campaign.id)],
				['campaign[name]', campaign.name],
				['campaign[status]', String(campaign.status)],
				['campaign[type]', campaign.type],
				['campaign[message][id]', String(message?.id ?? '')],
				['campaign[message][subject]', message?.subject ?? ''],
			);
		}
		const link = event.linkId !== undefined ? state.campaignLinks.get(event.linkId) : undefined;
		if (link) pairs.push(['link[id]', String(link.id)], ['link[url]', link.link]);
		return pairs;
	}

	private enqueue(hook: Webhook, event: AcEvent, payload: Array<[string, string]>, at: string): void {
		const body = new URLSearchParams(payload).toString();
		const record: DeliveryRecord = {
			id: this.nextId++,
			webhookId: String(hook.id),
			url: hook.url,
			type: event.type,
			source: event.source,
			at,
			payload,
			body,
			status: null,
		};
		this.deliveries.push(record);
		if (this.deliveries.length > 5000) this.deliveries.splice(0, this.deliveries.length - 5000);
		const generation = this.generation;
		const previous = this.chains.get(hook.id) ?? Promise.resolve();
		const next = previous.then(() => (generation === this.generation ? this.send(hook, record) : undefined));
		this.chains.set(hook.id, next);
		this.inflight.add(next);
		void next.finally(() => {
			this.inflight.delete(next);
			if (this.chains.get(hook.id) === next) this.chains.delete(hook.id);
		});
	}

	private async send(hook: Webhook, record: DeliveryRecord): Promise<void> {
		// Start after the API response has been written.
		await new Promise((resolve) => setImmediate(resolve));
		if (!hook.active) {
			record.error = 'webhook deactivated before delivery';
			return;
		}
		const started = Date.now();
		try {
			const response = await fetch(record.url, {
				method: 'POST',
				headers: {
					'Content-Type': 'application/x-www-form-urlencoded',
					'User-Agent': 'ActiveCampaign/1.0 (sandbox webhooks)',
				},
				body: record.body,
				signal: AbortSignal.timeout(this.deps.settings().webhookTimeoutMs),
			});
			record.status = response.status;
			await response.arrayBuffer().catch(() => undefined);
			if (response.status === 410) {
				hook.active = false;
				record.deactivatedHook = true;
			}
		} catch (error) {
			record.error = error instanceof Error ? error.message : String(error);
		} finally {
			record.durationMs = Date.now() - started;
		}
	}
}
