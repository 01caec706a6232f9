/**
 * Bulk import (`POST /import/bulk_import`): contacts packed into requests of at most 250 contacts and 399,999
 * bytes, every batch followed through `/import/info` until it completes, and each contact's success or failure
 * mapped back to the item it came from.
 */
import { sleep, type IDataObject } from 'n8n-workflow';

import type { AcSession } from './session';

export const BULK_MAX_CONTACTS = 250;
/** The documented payload limit. */
export const BULK_MAX_BYTES = 399_999;

export interface BulkEntry {
	itemIndex: number;
	/** One contact of the `contacts` array: email, first_name, last_name, phone, tags, fields, subscribe, ... */
	contact: IDataObject;
}

export type BulkResult =
	| { itemIndex: number; ok: true; batchId: string; batchContactIds: string[] }
	| { itemIndex: number; ok: false; error: string; batchId?: string };

const ENVELOPE_BYTES = Buffer.byteLength('{"contacts":[]}');

/**
 * Splits contacts into requests: at most `maxContacts` each, and at most `maxBytes` for the JSON body. A contact
 * that alone exceeds the byte limit gets its own request (ActiveCampaign will reject it and say why).
 */
export function packBatches<T extends { contact: IDataObject }>(
	entries: readonly T[],
	maxContacts = BULK_MAX_CONTACTS,
	maxBytes = BULK_MAX_BYTES,
	extraBytes = 0,
): T[][] {
	const batches: T[][] = [];
	let current: T[] = [];
	let bytes = ENVELOPE_BYTES + extraBytes;
	for (const entry of entries) {
		const size = Buffer.byteLength(JSON.stringify(entry.contact)) + (current.length ? 1 : 0);
		if (current.length && (current.length >= maxContacts || bytes + size > maxBytes)) {
			batches.push(current);
			current = [];
			bytes = ENVELOPE_BYTES + extraBytes;
		}
		current.push(entry);
		bytes += current.length === 1 ? Buffer.byteLength(JSON.stringify(entry.contact)) : size;
	}
	if (current.length) batches.push(current);
	return batches;
}

export interface BulkOptions {
	/** Milliseconds between status polls of a batch that is not done yet (grows to 5 s). */
	pollIntervalMs?: number;
	/** Give up waiting for a batch after this long. */
	timeoutMs?: number;
	excludeAutomations?: boolean;
}

interface Submitted {
	batchId: string;
	entries: BulkEntry[];
	/** When it was queued (Date.now()). */
	at: number;
}

/** ActiveCampaign answers `status: false` when asked within about a second of queueing: a poll that soon is wasted. */
const FIRST_POLL_AFTER_MS = 1000;

/** Imports the entries and reports one result per entry. Requests go through the account's shared limiter. */
export async function runBulkImport(session: AcSession, entries: BulkEntry[], options: BulkOptions = {}): Promise<BulkResult[]> {
	const results: BulkResult[] = [];
	const submitted: Submitted[] = [];
	const prepared = entries.map((e) => ({
		...e,
		contact: options.excludeAutomations ? { ...e.contact, exclude_automations: true } : e.contact,
	}));

	for (const batch of packBatches(prepared)) {
		let pending = batch;
		while (pending.length) {
			const response = await submit(session, pending);
			if (response.ok) {
				submitted.push({ batchId: response.batchId, entries: pending, at: Date.now() });
				break;
			}
			// Validation failed: nothing was queued. Report the rejected contacts, resend the rest.
			const rejected = new Map<number, string>();
			for (const reason of response.reasons) {
				if (reason.index !== undefined && reason.index < pending.length) rejected.set(reason.index, reason.text);
			}
			if (!rejected.size) {
				for (const entry of pending) results.push({ itemIndex: entry.itemIndex, ok: false, error: response.message });
				break;
			}
			for (const [index, reason] of rejected) {
				results.push({ itemIndex: pending[index].itemIndex, ok: false, error: `ActiveCampaign rejected the contact: ${reason}` });
			}
			pending = pending.filter((_, index) => !rejected.has(index));
		}
	}

	const timeoutMs = options.timeoutMs ?? 15 * 60_000;
	const started = Date.now();
	for (const batch of submitted) {
		let interval = options.pollIntervalMs ?? 1000;
		const early = batch.at + Math.min(interval, FIRST_POLL_AFTER_MS) - Date.now();
		if (early > 0) await sleep(early);
		for (;;) {
			const info = await session.request<IDataObject>({ method: 'GET', path: '/api/3/import/info', qs: { batchId: batch.batchId } });
			const status = info.status;
			if (status === 'completed') {
				const failed = new Set(((info.failure as unknown[] | undefined) ?? []).map((e) => String(e).trim().toLowerCase()));
				// The ids of the batch's contacts (which id is whose is not said: read them back by id when needed).
				const batchContactIds = ((info.success as unknown[] | undefined) ?? []).map(String);
				for (const entry of batch.entries) {
					const email = String(entry.contact.email ?? '').trim().toLowerCase();
					results.push(
						failed.has(email)
							? { itemIndex: entry.itemIndex, ok: false, batchId: batch.batchId, error: 'ActiveCampaign could not import this contact (listed as failed in the import report)' }
							: { itemIndex: entry.itemIndex, ok: true, batchId: batch.batchId, batchContactIds },
					);
				}
				break;
			}
			if (status === 'failed' || status === 'interrupted') {
				for (const entry of batch.entries) {
					results.push({ itemIndex: entry.itemIndex, ok: false, batchId: batch.batchId, error: `The ActiveCampaign import batch ${batch.batchId} ended as "${status}"` });
				}
				break;
			}
			if (Date.now() - started > timeoutMs) {
				for (const entry of batch.entries) {
					results.push({
						itemIndex: entry.itemIndex,
						ok: false,
						batchId: batch.batchId,
						error: `ActiveCampaign had not finished import batch ${batch.batchId} after ${Math.round(timeoutMs / 60_000)} minutes (status "${String(status)}"); the contacts may still be imported`,
					});
				}
				break;
			}
			await sleep(interval);
			interval = Math.min(interval * 1.5, 5000);
		}
	}
	return results.sort((a, b) => a.itemIndex - b.itemIndex);
}

type SubmitOutcome =
	| { ok: true; batchId: string }
	| { ok: false; message: string; reasons: Array<{ index?: number; text: string }> };

async function submit(session: AcSession, entries: BulkEntry[]): Promise<SubmitOutcome> {
	const response = await session.requestFull<IDataObject>({
		method: 'POST',
		path: '/api/3/import/bulk_import',
		body: { contacts: entries.map((e) => e.contact) },
		bulkImport: true,
		// Contacts are matched by email: importing the same batch twice leaves the same contacts.
		repeatable: true,
		passStatuses: [400, 413],
	});
	const body = response?.body ?? {};
	const batchId = body.batchId;
	if (response && response.status < 300 && typeof batchId === 'string' && batchId) return { ok: true, batchId };
	const reasons = ((body.failureReasons as unknown[] | undefined) ?? []).map((r) => {
		if (r && typeof r === 'object') {
			const entry = r as IDataObject;
			const index = Number(entry.contact);
			return { index: Number.isInteger(index) ? index : undefined, text: String(entry.failureReason ?? JSON.stringify(entry)) };
		}
		return { text: String(r) };
	});
	const message = [String(body.message ?? `ActiveCampaign answered HTTP ${response?.status ?? '?'}`), ...reasons.filter((r) => r.index === undefined).map((r) => r.text)]
		.filter(Boolean)
		.join(' ');
	return { ok: false, message, reasons: reasons.filter((r) => r.index !== undefined) };
}
