/**
 * Record Sync State for many accounts at once (an Initial Sync records hundreds): the link and state of every account
 * come from one paged read of the account field values (which the run's link index needs anyway), the names from the
 * account list when that is cheaper than one read each, and the writes go through
 * `PATCH /accountCustomFieldData/bulkUpdate` (values that exist) and `POST /accountCustomFieldData/bulkCreate` (new
 * ones) instead of two reads and a PUT per account. Everything else — a deletion or relink, an account named twice or
 * not found by its id, fewer accounts than {@link STATE_THRESHOLDS.bulkFrom}, a batch request that fails — goes through
 * the one-by-one path (recordAccountState), unchanged: its writes set the same values, so repeating one is harmless.
 */
import type { IDataObject, INode } from 'n8n-workflow';

import type { PreviewChange } from '../../shared/preview';
import { SKIP_REASONS } from '../../shared/sync/decide';
import type { BatchOutcome } from '../actions/common';
import { acListIfCheaper } from '../transport';
import { linkIndexOf, recordAccountState } from './accounts';
import { stateToStore, type RecordStateInput } from './contactSync';
import { batchable, oneByOneInto, sorted, STATE_THRESHOLDS } from './recordStates';
import type { AcSession } from './session';

export interface AccountStateRequest {
	itemIndex: number;
	input: RecordStateInput & { name?: string };
}

/** Field values per bulk request. ActiveCampaign documents no limit for these two endpoints; 100 matches its pages. */
const VALUES_PER_REQUEST = 100;

interface Planned {
	request: AccountStateRequest;
	accountId: string;
	name: string;
	updates: Array<{ id: string; fieldValue: string }>;
	creates: Array<{ customerAccountId: string; customFieldId: string; fieldValue: string }>;
	/** Each value written: its field's label, its value now (null when it has none) and after (a preview shows them). */
	changes: PreviewChange[];
	output: IDataObject;
}

export async function recordAccountStates(session: AcSession, node: INode, requests: AccountStateRequest[]): Promise<BatchOutcome[]> {
	const outcomes: BatchOutcome[] = [];
	const oneByOne = oneByOneInto<AccountStateRequest>(outcomes, async (r) => await recordAccountState(session, node, r.input, r.itemIndex));
	const simple = batchable(requests);
	const planning = simple.length < STATE_THRESHOLDS.bulkFrom ? undefined : await plan(session, simple).catch(() => undefined);
	if (!planning) {
		for (const request of requests) await oneByOne(request);
		return sorted(outcomes);
	}
	outcomes.push(...planning.decided);
	const handled = new Set<AccountStateRequest>(planning.decidedRequests);
	if (session.preview) {
		// What the bulk requests would write, account by account; nothing is sent. The requests are counted on the
		// first account each carries.
		for (const chunk of chunks(planning.planned)) {
			session.planWrite(chunk[0].request.itemIndex, (chunk.some((p) => p.updates.length) ? 1 : 0) + (chunk.some((p) => p.creates.length) ? 1 : 0));
		}
		for (const p of planning.planned) {
			outcomes.push({ itemIndex: p.request.itemIndex, json: { ...p.output, changes: p.changes, preview: true } });
			handled.add(p.request);
		}
	}
	for (const chunk of session.preview ? [] : chunks(planning.planned)) {
		try {
			const updates = chunk.flatMap((p) => p.updates);
			const creates = chunk.flatMap((p) => p.creates);
			if (updates.length) await session.request({ method: 'PATCH', path: '/api/3/accountCustomFieldData/bulkUpdate', body: updates as unknown as IDataObject, itemIndex: chunk[0].request.itemIndex });
			if (creates.length) await session.request({ method: 'POST', path: '/api/3/accountCustomFieldData/bulkCreate', body: creates as unknown as IDataObject, itemIndex: chunk[0].request.itemIndex });
			for (const p of chunk) {
				outcomes.push({ itemIndex: p.request.itemIndex, json: p.output });
				handled.add(p.request);
			}
		} catch {
			// Left to the one-by-one path below, which reads each account again and reports its own error.
		}
	}
	for (const request of requests) if (!handled.has(request)) await oneByOne(request);
	return sorted(outcomes);
}

/** What each account needs written; what needs no write is decided here. Undefined when reading is dearer one by one. */
async function plan(
	session: AcSession,
	requests: AccountStateRequest[],
): Promise<{ planned: Planned[]; decided: BatchOutcome[]; decidedRequests: AccountStateRequest[] } | undefined> {
	const itemIndex = requests[0].itemIndex;
	const { link: linkField, state: stateField } = await session.accountSyncFields();
	const accounts = await acListIfCheaper(session.ctx, '/api/3/accounts', 'accounts', requests.length, { itemIndex });
	if (!accounts) return undefined;
	const byId = new Map(accounts.map((a) => [String(a.id), a]));
	const values = new Map<string, { id: string; value: string }>();
	for (const d of await session.accountFieldData(itemIndex)) {
		const field = String(d.customFieldId ?? d.accountCustomFieldMetumId);
		if (field !== String(linkField.id) && field !== String(stateField.id)) continue;
		values.set(`${String(d.accountId ?? d.customerAccountId)}|${field}`, { id: String(d.id), value: String(d.fieldValue ?? '') });
	}
	const index = await linkIndexOf(session, itemIndex);
	const planned: Planned[] = [];
	const decided: BatchOutcome[] = [];
	const decidedRequests: AccountStateRequest[] = [];
	for (const request of requests) {
		const { input } = request;
		const accountId = input.acId!;
		const account = byId.get(accountId);
		if (!account) continue; // not found by its id: the one-by-one path says so (or finds it by name)
		const name = String(account.name ?? '');
		const p: Planned = { request, accountId, name, updates: [], creates: [], changes: [], output: {} };
		const write = (fieldId: string, value: string) => {
			const existing = values.get(`${accountId}|${fieldId}`);
			p.changes.push({ field: fieldId === String(linkField.id) ? linkField.label : stateField.label, before: existing?.value ?? null, after: value });
			if (existing) p.updates.push({ id: existing.id, fieldValue: value });
			else p.creates.push({ customerAccountId: accountId, customFieldId: fieldId, fieldValue: value });
		};
		if (input.link && (values.get(`${accountId}|${linkField.id}`)?.value ?? '') !== input.link) {
			// One ActiveCampaign account per Dynamics account: one another account is linked to is not linked twice.
			const other = index.get(input.link);
			if (other && other !== accountId) {
				decided.push({
					itemIndex: request.itemIndex,
					json: { operation: 'skipped', reason: `the Dynamics account ${input.link} is linked to another ActiveCampaign account (${other})`, id: accountId, name, link: null },
				});
				decidedRequests.push(request);
				continue;
			}
			write(String(linkField.id), input.link);
			index.set(input.link, accountId);
		}
		const currentState = values.get(`${accountId}|${stateField.id}`)?.value ?? '';
		const state = stateToStore(currentState, input, values.get(`${accountId}|${linkField.id}`)?.value);
		if (state !== undefined && currentState !== state) write(String(stateField.id), state);
		if (!p.updates.length && !p.creates.length) {
			decided.push({ itemIndex: request.itemIndex, json: { operation: 'skipped', reason: SKIP_REASONS.noChanges, id: accountId, name, link: input.link ?? null, state: state ?? null } });
			decidedRequests.push(request);
			continue;
		}
		p.output = { operation: 'updated', id: accountId, name, link: input.link ?? null, state: state ?? null };
		planned.push(p);
	}
	return { planned, decided, decidedRequests };
}

/** Accounts grouped so that no request carries more than {@link VALUES_PER_REQUEST} values of one kind. */
function chunks(planned: Planned[]): Planned[][] {
	const out: Planned[][] = [];
	let current: Planned[] = [];
	let size = 0;
	for (const p of planned) {
		const n = Math.max(p.updates.length, p.creates.length);
		if (current.length && size + n > VALUES_PER_REQUEST) {
			out.push(current);
			current = [];
			size = 0;
		}
		current.push(p);
		size += n;
	}
	if (current.length) out.push(current);
	return out;
}
