/**
 * Record Sync State for many contacts at once (an Initial Sync writes thousands): the contacts are read 100 per
 * request, the link check uses the link field's values read the cheaper way, and the links, states and tags to add go
 * through the bulk importer, 250 contacts per request, instead of a PUT and a tag request or two per contact.
 * Everything else — a deletion or relink, a tag to remove, a contact not found by its id, fewer contacts than the
 * importer is meant for — goes through the one-by-one path (recordContactState), unchanged.
 */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';

import type { BatchOutcome } from '../actions/common';
import { runBulkImport, type BulkEntry } from './bulk';
import { contactsByIds, snapshotFromList, valuesOfField, type ContactSnapshot } from './contactRead';
import { contactIdsWithFieldValue, recordContactState, stateToStore, type RecordStateInput } from './contactSync';
import { uniqueNames } from './contactWrite';
import type { AcSession } from './session';

/** ActiveCampaign suggests its importer from about ten contacts on; fewer are written one by one. */
export const STATE_THRESHOLDS = { bulkFrom: 10 };

export interface StateRequest {
	itemIndex: number;
	input: RecordStateInput;
}

interface Planned {
	request: StateRequest;
	target: ContactSnapshot;
	fields: Array<{ id: string; value: string }>;
	tags: string[];
	state: string | undefined;
}

/** These contacts (those that exist) with field values and tags, 100 per request; empty when not side-loaded. */
async function readContactsByIds(session: AcSession, ids: string[]): Promise<Map<string, ContactSnapshot>> {
	const out = new Map<string, ContactSnapshot>();
	const found = await contactsByIds(session, ids, true);
	// Without side-loads the contacts are read one by one.
	if (found.some((f) => !f.related)) return out;
	for (const { contact, related } of found) out.set(String(contact.id), await snapshotFromList(session, contact, related, null));
	return out;
}

/** Contact ids per value of the link field, when listing them is cheaper than `lookups` searches (else undefined). */
async function linkIndex(session: AcSession, fieldId: string, lookups: number): Promise<Map<string, string[]> | undefined> {
	if (!lookups) return new Map();
	const values = await valuesOfField(session, fieldId, lookups);
	if (!values) return undefined;
	const index = new Map<string, string[]>();
	for (const [contact, value] of values) index.set(value, [...(index.get(value) ?? []), contact]);
	return index;
}

export async function recordContactStates(session: AcSession, node: INode, requests: StateRequest[]): Promise<BatchOutcome[]> {
	const outcomes: BatchOutcome[] = [];
	const oneByOne = async (request: StateRequest) => {
		try {
			outcomes.push({ itemIndex: request.itemIndex, json: await recordContactState(session, node, request.input, request.itemIndex) });
		} catch (error) {
			outcomes.push({ itemIndex: request.itemIndex, error: error as Error });
		}
	};
	const simple = requests.filter((r) => !r.input.action && r.input.acId && /^\d+$/.test(r.input.acId));
	if (simple.length < STATE_THRESHOLDS.bulkFrom) {
		for (const request of requests) await oneByOne(request);
		return sorted(outcomes);
	}
	const { link: linkField, state: stateField } = await session.contactSyncFields();
	const targets = await readContactsByIds(session, [...new Set(simple.map((r) => r.input.acId!))]);
	// Each contact once per batch: a second item for the same contact is written after the first, one by one.
	const claimed = new Set<string>();
	const batchable: StateRequest[] = [];
	const rest: StateRequest[] = requests.filter((r) => !simple.includes(r));
	for (const request of simple) {
		const target = targets.get(request.input.acId!);
		const removes = target ? uniqueNames(request.input.removeTags ?? []).some((name) => target.tags?.some((t) => t.name.toLowerCase() === name.toLowerCase())) : false;
		if (!target || removes || claimed.has(target.id)) rest.push(request);
		else {
			claimed.add(target.id);
			batchable.push(request);
		}
	}

	// One Dynamics record per ActiveCampaign contact: a link another contact holds is not written twice.
	const newLinks = batchable.filter((r) => r.input.link && (targets.get(r.input.acId!)!.fieldValues.get(linkField.id)?.value ?? '') !== r.input.link);
	const index = await linkIndex(session, linkField.id, newLinks.length);
	const planned: Planned[] = [];
	for (const request of batchable) {
		const { input, itemIndex } = request;
		const target = targets.get(input.acId!)!;
		const fields: Planned['fields'] = [];
		if (newLinks.includes(request)) {
			const holders = index ? (index.get(input.link!) ?? []) : await contactIdsWithFieldValue(session, linkField.id, input.link!, itemIndex);
			const others = holders.filter((id) => id !== target.id);
			if (others.length) {
				outcomes.push({
					itemIndex,
					json: { operation: 'skipped', reason: `the Dynamics record ${input.link} is linked to another ActiveCampaign contact (${others[0]})`, id: target.id, email: target.email, link: null },
				});
				continue;
			}
			fields.push({ id: linkField.id, value: input.link! });
		}
		const currentState = target.fieldValues.get(stateField.id)?.value ?? '';
		const state = stateToStore(currentState, input);
		if (state !== undefined && currentState !== state) fields.push({ id: stateField.id, value: state });
		const tags: string[] = [];
		for (const name of uniqueNames(input.tags ?? [])) {
			if (target.tags?.some((t) => t.name.toLowerCase() === name.toLowerCase())) continue;
			tags.push((await session.ensureTag(name, itemIndex)).name);
		}
		if (!fields.length && !tags.length) {
			outcomes.push({
				itemIndex,
				json: { operation: 'skipped', reason: 'no changes', id: target.id, email: target.email, link: input.link ?? null, state: state ?? null, tagsAdded: [], tagsRemoved: [] },
			});
			continue;
		}
		planned.push({ request, target, fields, tags, state });
	}

	if (planned.length < STATE_THRESHOLDS.bulkFrom) {
		for (const p of planned) await oneByOne(p.request);
	} else {
		await importStates(session, node, planned, outcomes, oneByOne);
	}
	for (const request of rest) await oneByOne(request);
	return sorted(outcomes);
}

/**
 * The importer matches contacts by email: each contact goes in under the email it had when read just now. Should one
 * have changed its email since, the importer creates a contact under the old one; its report names the contacts it
 * created, so such a contact is deleted again and that item is written one by one.
 */
async function importStates(
	session: AcSession,
	node: INode,
	planned: Planned[],
	outcomes: BatchOutcome[],
	oneByOne: (request: StateRequest) => Promise<void>,
): Promise<void> {
	const entries: BulkEntry[] = planned.map((p) => ({
		itemIndex: p.request.itemIndex,
		contact: {
			email: p.target.email,
			...(p.fields.length ? { fields: p.fields.map((f) => ({ id: Number(f.id), value: f.value })) } : {}),
			...(p.tags.length ? { tags: p.tags } : {}),
			// Only the link, state and tags change: automations that run on imports have no reason to start.
			exclude_automations: true,
		},
	}));
	const results = await runBulkImport(session, entries);
	const expected = new Set(planned.map((p) => p.target.id));
	const created = new Set<string>();
	for (const result of results) if (result.ok) for (const id of result.batchContactIds) if (!expected.has(id)) created.add(id);
	for (const id of created) {
		await session.request({ method: 'DELETE', path: `/api/3/contacts/${encodeURIComponent(id)}`, allowNotFound: true });
	}
	const byItem = new Map(planned.map((p) => [p.request.itemIndex, p]));
	for (const result of results) {
		const p = byItem.get(result.itemIndex)!;
		if (!result.ok) {
			outcomes.push({ itemIndex: result.itemIndex, error: new NodeOperationError(node, `Could not record the sync state of ActiveCampaign contact ${p.target.id} (${p.target.email}): ${result.error}`, { itemIndex: result.itemIndex }) });
			continue;
		}
		if (created.size) {
			// Which contact the importer created is not said per email: the batch's items are written one by one
			// (what the import already wrote is skipped there as unchanged).
			await oneByOne(p.request);
			continue;
		}
		const json: IDataObject = {
			operation: 'updated',
			id: p.target.id,
			email: p.target.email,
			link: p.request.input.link ?? null,
			state: p.state ?? null,
			tagsAdded: p.tags,
			tagsRemoved: [],
		};
		outcomes.push({ itemIndex: result.itemIndex, json });
	}
}

function sorted(outcomes: BatchOutcome[]): BatchOutcome[] {
	return outcomes.sort((a, b) => a.itemIndex - b.itemIndex);
}
