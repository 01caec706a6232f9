/* eslint-disable @n8n/community-nodes/no-restricted-globals -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The Bulk Contact Importer: validation and its own per-minute limits (answered with 400, not 429), asynchronous
 * processing on the sandbox clock (a real-time timer moves it along; a test that advances the clock sees the phases
 * it reaches at once), `/import/info` status and the outstanding/recently-completed summary.
 * Imports never fire webhooks (changes carry the `import` source, which no hook hears).
 */
import { randomUUID } from 'node:crypto';

import { json, type Router, type SandboxRequest, type SandboxResponse } from '../../core/http';
import { SlidingWindowCounter } from '../../core/limits';
import type { AcContext } from '../context';
import { isValidEmail } from '../respond';
import { toId, type BulkContactInput, type ImportBatch } from '../state';

const NOT_QUEUED = 'JSON payload did not pass validation. Please fix failure Reasons and retry. The import was not queued for processing.';

function failure(status: number, messageText: string, failureReasons: unknown[]): SandboxResponse {
	return json(status, { success: 0, message: messageText, failureReasons });
}

export interface CallbackRecord {
	batchId: string;
	url: string;
	method: string;
	status: number | null;
	error?: string;
}

export class BulkImporter {
	readonly multiWindow = new SlidingWindowCounter(100, 60_000);
	readonly singleWindow = new SlidingWindowCounter(20, 60_000);
	readonly callbacks: CallbackRecord[] = [];
	private readonly timers = new Set<NodeJS.Timeout>();

	constructor(private readonly ctx: AcContext) {}

	reset(): void {
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		this.multiWindow.reset();
		this.singleWindow.reset();
		this.callbacks.length = 0;
		this.applyLimits();
	}

	applyLimits(): void {
		this.multiWindow.limit = this.ctx.settings.bulkImportPerMinute;
		this.singleWindow.limit = this.ctx.settings.bulkImportSinglePerMinute;
	}

	/** Processes and completes every queued batch now (tests that do not want to wait). */
	flush(): void {
		for (const batch of this.ctx.state.imports.values()) {
			if (batch.phase === 'queued') this.process(batch);
			if (batch.phase === 'active') this.complete(batch);
		}
	}

	status(batch: ImportBatch): string | false {
		this.catchUp(batch);
		if (batch.phase === 'completed') return 'completed';
		if (batch.phase === 'active') return 'active';
		return this.ctx.clock.now() - batch.queuedAt < this.ctx.settings.bulkImportStatusFalseMs ? false : 'waiting';
	}

	/** Moves a batch to the phase the sandbox clock has reached (it may run ahead of the real-time timers). */
	private catchUp(batch: ImportBatch): void {
		const now = this.ctx.clock.now();
		if (batch.phase === 'queued' && now >= batch.processAt) this.process(batch);
		if (batch.phase === 'active' && batch.completeAt !== null && now >= batch.completeAt) this.complete(batch);
	}

	handlePost(req: SandboxRequest): SandboxResponse {
		const { settings } = this.ctx;
		if (req.body.length > settings.bulkImportMaxBytes) {
			return failure(settings.bulkImportOversizeStatus, 'Payload too large.', [
				`The request payload may not exceed ${settings.bulkImportMaxBytes.toLocaleString('en-US')} bytes. Please send fewer contacts per request.`,
			]);
		}
		let body: unknown;
		try {
			body = JSON.parse(req.body.toString('utf8'));
		} catch {
			return failure(400, NOT_QUEUED, ['The request body is not valid JSON.']);
		}
		const contacts = (body as Record<string, unknown> | null)?.contacts;
		if (!Array.isArray(contacts) || contacts.length === 0) return failure(400, NOT_QUEUED, ["'contacts' is a required field."]);
		if (contacts.length > settings.bulkImportMaxContacts) {
			return failure(400, NOT_QUEUED, [`Up to ${settings.bulkImportMaxContacts} contacts may be included in a single request.`]);
		}
		this.applyLimits();
		const single = contacts.length === 1;
		const window = single ? this.singleWindow : this.multiWindow;
		if (!window.tryAdd().ok) {
			return failure(400, 'Rate limit exceeded.', [
				single
					? `Up to ${window.limit} single-contact imports may be requested per minute.Please batch contacts into larger requests, or retry this request in a minute.`
					: `Up to ${window.limit} imports may be requested per minute.Please batch contacts into larger requests, or retry this request in a minute.`,
			]);
		}
		const reasons: Array<{ contact: number; failureReason: string }> = [];
		contacts.forEach((raw, index) => {
			const problem = validateContact(raw);
			if (problem) reasons.push({ contact: index, failureReason: problem });
		});
		if (reasons.length > 0) return failure(400, NOT_QUEUED, reasons);

		const callback = (body as Record<string, unknown>).callback;
		const batch: ImportBatch = {
			batchId: randomUUID(),
			createdAt: this.ctx.clock.now(),
			queuedAt: this.ctx.clock.now(),
			processAt: this.ctx.clock.now() + settings.bulkImportDelayMs,
			completeAt: null,
			completedAt: null,
			phase: 'queued',
			contacts: contacts as BulkContactInput[],
			success: [],
			failure: [],
			callback: callback && typeof callback === 'object' ? (callback as Record<string, unknown>) : undefined,
			excludeAutomations: false,
		};
		this.ctx.state.imports.set(batch.batchId, batch);
		this.schedule(() => this.process(batch), settings.bulkImportDelayMs);
		return json(200, { Success: 1, queued_contacts: contacts.length, batchId: batch.batchId, message: 'Contact import queued' });
	}

	private schedule(fn: () => void, ms: number): void {
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			fn();
		}, Math.max(0, ms));
		timer.unref?.();
		this.timers.add(timer);
	}

	private process(batch: ImportBatch): void {
		if (batch.phase !== 'queued' || this.ctx.state.imports.get(batch.batchId) !== batch) return;
		batch.phase = 'active';
		batch.completeAt = this.ctx.clock.now() + this.ctx.settings.bulkImportActiveMs;
		for (const input of batch.contacts) {
			const id = this.importContact(input);
			if (id === undefined) batch.failure.push(input.email);
			else batch.success.push(String(id));
		}
		this.schedule(() => this.complete(batch), this.ctx.settings.bulkImportActiveMs);
	}

	private complete(batch: ImportBatch): void {
		if (batch.phase !== 'active') return;
		batch.phase = 'completed';
		batch.completedAt = this.ctx.clock.now();
		if (batch.callback) void this.sendCallback(batch);
	}

	/** Applies one contact; undefined when it fails (unknown field or list id). */
	private importContact(input: BulkContactInput): number | undefined {
		const { service } = this.ctx;
		const state = this.ctx.state;
		const fieldValues: Array<{ field: number; value: string | null }> = [];
		for (const f of input.fields ?? []) {
			const fieldId = toId(f.id);
			if (fieldId === undefined || !state.fields.rows.has(fieldId)) return undefined;
			fieldValues.push({ field: fieldId, value: f.value === null ? null : String(f.value) });
		}
		const listIds = [...(input.subscribe ?? []), ...(input.unsubscribe ?? [])].map((l) => toId(l.listid));
		if (listIds.some((id) => id === undefined || !state.lists.rows.has(id))) return undefined;

		const attributes = {
			firstName: input.first_name,
			lastName: input.last_name,
			phone: input.phone,
		};
		let contact = state.contactByEmailAddress(input.email);
		if (contact) service.updateContact(contact, attributes, fieldValues, 'import');
		else contact = service.createContact({ ...attributes, email: input.email.trim() }, fieldValues, 'import');

		for (const name of input.tags ?? []) {
			if (!name.trim()) continue;
			service.addContactTag(contact.id, service.ensureTag(name).id, 'import');
		}
		for (const entry of input.subscribe ?? []) {
			const listId = toId(entry.listid)!;
			// Contacts may not be re-subscribed to lists they unsubscribed from.
			if (state.contactListFor(contact.id, listId)?.status === 2) continue;
			service.setListStatus(contact, listId, 1, 'import');
		}
		for (const entry of input.unsubscribe ?? []) service.setListStatus(contact, toId(entry.listid)!, 2, 'import');
		if (input.customer_acct_name && input.customer_acct_name.trim() && !state.accountContactOf(contact.id)) {
			const name = input.customer_acct_name.trim();
			const account = state.accountByName(name) ?? service.createAccount(name, null, 1, [], 'import');
			service.addAccountContact(contact.id, account.id, '', 'import');
		}
		return contact.id;
	}

	private async sendCallback(batch: ImportBatch): Promise<void> {
		const cb = batch.callback!;
		const url = typeof cb.url === 'string' ? cb.url : '';
		if (!url) return;
		const method = String(cb.requestType ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST';
		const params = new URLSearchParams();
		for (const p of Array.isArray(cb.params) ? cb.params : []) {
			const { key, value } = (p ?? {}) as Record<string, unknown>;
			if (typeof key === 'string' && key) params.append(key, String(value ?? ''));
		}
		params.append('batchId', batch.batchId);
		if (String(cb.detailed_results ?? 'true') === 'true' && method === 'POST') {
			params.append('success', String(batch.success.length));
			params.append('failure', String(batch.failure.length));
			batch.failure.forEach((email, i) => params.append(`failureReasons[${i}]`, `${email}: could not be imported`));
		}
		const headers: Record<string, string> = {};
		for (const h of Array.isArray(cb.headers) ? cb.headers : []) {
			const { key, value } = (h ?? {}) as Record<string, unknown>;
			if (typeof key === 'string' && key) headers[key] = String(value ?? '');
		}
		const record: CallbackRecord = { batchId: batch.batchId, url, method, status: null };
		this.callbacks.push(record);
		try {
			const target = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${params}` : url;
			const response = await fetch(target, {
				method,
				headers: method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } : headers,
				body: method === 'POST' ? params.toString() : undefined,
				signal: AbortSignal.timeout(this.ctx.settings.webhookTimeoutMs),
			});
			record.status = response.status;
			await response.arrayBuffer().catch(() => undefined);
		} catch (error) {
			record.error = error instanceof Error ? error.message : String(error);
		}
	}
}

function validateContact(raw: unknown): string | undefined {
	if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'Each contact must be an object.';
	const c = raw as Record<string, unknown>;
	if (typeof c.email !== 'string' || !isValidEmail(c.email.trim())) return "Field 'email' incorrect format";
	for (const key of ['first_name', 'last_name', 'phone', 'customer_acct_name'] as const) {
		if (c[key] !== undefined && c[key] !== null && typeof c[key] !== 'string') return `Field '${key}' incorrect format`;
	}
	if (c.tags !== undefined && (!Array.isArray(c.tags) || !c.tags.every((t) => typeof t === 'string'))) {
		return "Field 'tags' must be an array of strings";
	}
	if (c.fields !== undefined) {
		if (!Array.isArray(c.fields)) return "Field 'fields' must be an array";
		for (const f of c.fields) {
			const entry = (f ?? {}) as Record<string, unknown>;
			if (toId(entry.id) === undefined) return "Field 'fields.id' must be a custom field id";
			if (entry.value === undefined) return "Field 'fields.value' is required";
		}
	}
	for (const key of ['subscribe', 'unsubscribe'] as const) {
		if (c[key] === undefined) continue;
		if (!Array.isArray(c[key])) return `Field '${key}' must be an array`;
		for (const l of c[key] as unknown[]) {
			if (toId((l as Record<string, unknown> | null)?.listid) === undefined) return `Field '${key}.listid' must be a list id`;
		}
	}
	return undefined;
}

export function registerBulkImportRoutes(router: Router, ctx: AcContext, importer: BulkImporter): void {
	router.post('/api/3/import/bulk_import', (req) => importer.handlePost(req));

	router.get('/api/3/import/info', (req) => {
		const batchId = req.query.get('batchId');
		if (!batchId) return json(400, { success: 0, message: "'batchId' is a required field." });
		const batch = ctx.state.imports.get(batchId);
		if (!batch) return json(404, { success: 0, message: `No import found with batchId '${batchId}'.` });
		const status = importer.status(batch);
		const done = batch.phase === 'completed';
		return json(200, {
			status,
			success: done ? batch.success : [],
			failure: done ? batch.failure : [],
		});
	});

	router.get('/api/3/import/bulk_import', () => {
		const group = (batches: ImportBatch[]) => {
			const byDate = new Map<string, { batches: number; contacts: number }>();
			for (const b of batches) {
				const day = ctx.time.date(b.createdAt);
				const entry = byDate.get(day) ?? { batches: 0, contacts: 0 };
				entry.batches++;
				entry.contacts += b.contacts.length;
				byDate.set(day, entry);
			}
			return [...byDate.entries()]
				.sort(([a], [b]) => a.localeCompare(b))
				.map(([forDate, v]) => ({ forDate, batches: String(v.batches), contacts: String(v.contacts) }));
		};
		const all = [...ctx.state.imports.values()];
		for (const b of all) importer.status(b);
		return json(200, {
			outstanding: group(all.filter((b) => b.phase !== 'completed')),
			recentlyCompleted: group(all.filter((b) => b.phase === 'completed')),
		});
	});
}
