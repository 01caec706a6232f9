/**
 * Record Sync State for many contacts at once (an Initial Sync writes thousands): the contacts are read 100 per
 * request, the link check uses the link field's values read the cheaper way, and the links, states and tags to add go
 * through the bulk importer, 250 contacts per request, instead of a PUT and a tag request or two per contact.
 * Everything else — a deletion or relink, a tag to remove, a contact not found by its id, fewer contacts than the
 * importer is meant for — goes through the one-by-one path (recordContactState), unchanged.
 */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';

import type { BatchOutcome } from '../actions/common';
import { acListIfCheaper, MAX_PAGE_SIZE } from '../transport';
import { packBatches, runBulkImport, type BulkEntry } from './bulk';
import { holdersByValue, holdersOfValues, readContact, snapshotsByIds, valuesOfField, type ContactSnapshot } from './contactRead';
import { contactFieldChange, contactIdsWithFieldValue, recordContactState, stateToStore, type RecordStateInput } from './contactSync';
import { uniqueNames } from './contactWrite';
import type { AcSession } from './session';

/**
 * ActiveCampaign suggests its importer from about ten contacts on; fewer are written one by one. Planning from the
 * value lists is tried from `listsFrom` contacts on (reading them again costs three requests or more), within one
 * request fewer than reading them again unless `listBudget` says otherwise (the model checker's override).
 */
export const STATE_THRESHOLDS: { bulkFrom: number; listsFrom: number; listBudget?: number } = { bulkFrom: 10, listsFrom: 201 };

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

/** Runs one item's one-by-one write into `outcomes` (its result, or its error). */
export function oneByOneInto<R extends { itemIndex: number }>(outcomes: BatchOutcome[], write: (request: R) => Promise<IDataObject>) {
	return async (request: R): Promise<void> => {
		try {
			outcomes.push({ itemIndex: request.itemIndex, json: await write(request) });
		} catch (error) {
			outcomes.push({ itemIndex: request.itemIndex, error: error as Error });
		}
	};
}

/**
 * The requests a batch may take: plain state recordings of a record named by its numeric id. A record named by more
 * than one item goes one by one, in item order (an unlink is never overtaken), as do deletions and relinks.
 */
export function batchable<R extends { input: { acId?: string; action?: unknown } }>(requests: R[]): R[] {
	const named = new Map<string, number>();
	for (const r of requests) if (r.input.acId) named.set(r.input.acId, (named.get(r.input.acId) ?? 0) + 1);
	return requests.filter((r) => !r.input.action && r.input.acId && /^\d+$/.test(r.input.acId) && named.get(r.input.acId) === 1);
}

export async function recordContactStates(session: AcSession, node: INode, requests: StateRequest[]): Promise<BatchOutcome[]> {
	const outcomes: BatchOutcome[] = [];
	const oneByOne = oneByOneInto<StateRequest>(outcomes, async (r) => await recordContactState(session, node, r.input, r.itemIndex));
	const simple = batchable(requests);
	const planning = simple.length < STATE_THRESHOLDS.bulkFrom ? undefined : await plan(session, simple).catch(() => undefined);
	if (!planning || planning.planned.length < STATE_THRESHOLDS.bulkFrom) {
		// Too few for the importer (or reading them failed): all one by one, as before.
		for (const request of requests) await oneByOne(request);
		return sorted(outcomes);
	}
	outcomes.push(...planning.decided);
	if (session.preview) await previewStates(session, planning.planned, outcomes);
	else await importStates(session, node, planning.planned, outcomes, oneByOne);
	const batched = new Set([...planning.planned.map((p) => p.request), ...planning.decidedRequests]);
	for (const request of requests) if (!batched.has(request)) await oneByOne(request);
	return sorted(outcomes);
}

/** What the importer is to write for each contact; what needs no write is decided here; the rest goes one by one. */
async function plan(
	session: AcSession,
	simple: StateRequest[],
): Promise<{ planned: Planned[]; decided: BatchOutcome[]; decidedRequests: StateRequest[] }> {
	const { link: linkField, state: stateField } = await session.contactSyncFields();
	const { targets, linkValues } = await currentTargets(session, simple, linkField.id, stateField.id);
	const batchable = simple.filter((request) => {
		const target = targets.get(request.input.acId!);
		// A tag to remove: one by one (the importer only adds).
		return target && !uniqueNames(request.input.removeTags ?? []).some((name) => target.tags?.some((t) => t.name.toLowerCase() === name.toLowerCase()));
	});
	// One Dynamics record per ActiveCampaign contact: a link another contact holds, or that an earlier item of this
	// batch takes, is not written twice.
	const newLinks = batchable.filter((r) => r.input.link && (targets.get(r.input.acId!)!.fieldValues.get(linkField.id)?.value ?? '') !== r.input.link);
	const index = !newLinks.length ? new Map<string, string[]>() : linkValues ? holdersByValue(linkValues) : await holdersOfValues(session, linkField.id, newLinks.length);
	const taken = new Map<string, string>();
	const planned: Planned[] = [];
	const decided: BatchOutcome[] = [];
	const decidedRequests: StateRequest[] = [];
	for (const request of batchable) {
		const { input, itemIndex } = request;
		const target = targets.get(input.acId!)!;
		const fields: Planned['fields'] = [];
		if (newLinks.includes(request)) {
			const holders = [...(index ? (index.get(input.link!) ?? []) : await contactIdsWithFieldValue(session, linkField.id, input.link!, itemIndex))];
			if (taken.has(input.link!)) holders.push(taken.get(input.link!)!);
			const others = holders.filter((id) => id !== target.id);
			if (others.length) {
				decided.push({
					itemIndex,
					json: { operation: 'skipped', reason: `the Dynamics record ${input.link} is linked to another ActiveCampaign contact (${others[0]})`, id: target.id, email: target.email, link: null },
				});
				decidedRequests.push(request);
				continue;
			}
			taken.set(input.link!, target.id);
			fields.push({ id: linkField.id, value: input.link! });
		}
		const currentState = target.fieldValues.get(stateField.id)?.value ?? '';
		const state = stateToStore(currentState, input, target.fieldValues.get(linkField.id)?.value);
		if (state !== undefined && currentState !== state) fields.push({ id: stateField.id, value: state });
		const tags: string[] = [];
		let tagFailed = false;
		for (const name of uniqueNames(input.tags ?? [])) {
			if (target.tags?.some((t) => t.name.toLowerCase() === name.toLowerCase())) continue;
			// A tag ActiveCampaign refuses fails this item alone: one by one, where it is reported.
			const tag = await session.ensureTag(name, itemIndex).catch(() => undefined);
			if (!tag) tagFailed = true;
			else tags.push(tag.name);
		}
		if (tagFailed) continue;
		if (!fields.length && !tags.length) {
			decided.push({
				itemIndex,
				json: { operation: 'skipped', reason: 'no changes', id: target.id, email: target.email, link: input.link ?? null, state: state ?? null, tagsAdded: [], tagsRemoved: [] },
			});
			decidedRequests.push(request);
			continue;
		}
		planned.push({ request, target, fields, tags, state });
	}
	return { planned, decided, decidedRequests };
}

/** What the importer would write for each contact (as importStates reports it when all goes well); nothing is sent. */
async function previewStates(session: AcSession, planned: Planned[], outcomes: BatchOutcome[]): Promise<void> {
	const { link: linkField, state: stateField } = await session.contactSyncFields();
	// One import request per batch, counted on the first contact it carries.
	for (const batch of packBatches(importEntries(planned))) session.planWrite(batch[0].itemIndex);
	for (const p of planned) {
		const changes = p.fields.map((f) => contactFieldChange(p.target, f.id === linkField.id ? linkField : stateField, f.value));
		outcomes.push({
			itemIndex: p.request.itemIndex,
			json: { operation: 'updated', id: p.target.id, email: p.target.email, link: p.request.input.link ?? null, state: p.state ?? null, tagsAdded: p.tags, tagsRemoved: [], changes, preview: true },
		});
	}
}

/**
 * The contacts as they are now, the cheaper of two ways: read again, 100 per request; or — when few contacts hold a
 * link, a state or the tags to add yet, as in an Initial Sync — from the link and state fields' value lists and the
 * tags' contact lists, with the email each item carries (a contact deleted or renamed since is caught by the import's
 * report, see importStates). A tag to remove needs the contact read again.
 */
async function currentTargets(
	session: AcSession,
	requests: StateRequest[],
	linkFieldId: string,
	stateFieldId: string,
): Promise<{ targets: Map<string, ContactSnapshot>; linkValues?: Map<string, string> }> {
	const byLists = requests.filter((r) => r.input.email?.trim() && !(r.input.removeTags ?? []).length);
	// The lists cost at least one request each: worth trying only where reading again costs more than a few.
	const budget = STATE_THRESHOLDS.listBudget ?? Math.ceil(byLists.length / MAX_PAGE_SIZE) - 1;
	const listed = byLists.length >= STATE_THRESHOLDS.listsFrom ? await fromLists(session, byLists, linkFieldId, stateFieldId, budget) : undefined;
	const reread = listed ? requests.filter((r) => !byLists.includes(r)) : requests;
	const targets = reread.length ? await snapshotsByIds(session, reread.map((r) => r.input.acId!), false) : new Map<string, ContactSnapshot>();
	if (!listed) return { targets };
	for (const [id, target] of listed.targets) targets.set(id, target);
	return { targets, linkValues: listed.linkValues };
}

/** Targets from the value and tag lists within `budget` requests; undefined when the lists are longer than that. */
async function fromLists(
	session: AcSession,
	requests: StateRequest[],
	linkFieldId: string,
	stateFieldId: string,
	budget: number,
): Promise<{ targets: Map<string, ContactSnapshot>; linkValues: Map<string, string> } | undefined> {
	let left = budget;
	const spend = (count: number) => (left -= Math.max(1, Math.ceil(count / MAX_PAGE_SIZE)));
	const linkValues = left > 0 ? await valuesOfField(session, linkFieldId, left - 1) : undefined;
	if (!linkValues) return undefined;
	spend(linkValues.size);
	const stateValues = left > 0 ? await valuesOfField(session, stateFieldId, left - 1) : undefined;
	if (!stateValues) return undefined;
	spend(stateValues.size);
	const tagged = new Map<string, Array<{ contactTagId: string; tagId: string; name: string }>>();
	for (const name of uniqueNames(requests.flatMap((r) => r.input.tags ?? []))) {
		const tag = await session.tagByName(name);
		if (!tag) continue; // Nobody has a tag that does not exist yet.
		const holders = left > 0 ? await acListIfCheaper(session.ctx, '/api/3/contacts', 'contacts', left - 1, { qs: { tagid: tag.id } }) : undefined;
		if (!holders) return undefined;
		spend(holders.length);
		for (const c of holders) tagged.set(String(c.id), [...(tagged.get(String(c.id)) ?? []), { contactTagId: '', tagId: tag.id, name: tag.name }]);
	}
	const targets = new Map<string, ContactSnapshot>();
	for (const { input } of requests) {
		const id = input.acId!;
		const fieldValues: ContactSnapshot['fieldValues'] = new Map();
		if (linkValues.has(id)) fieldValues.set(linkFieldId, { id: '', value: linkValues.get(id)! });
		if (stateValues.has(id)) fieldValues.set(stateFieldId, { id: '', value: stateValues.get(id)! });
		const email = input.email!.trim();
		targets.set(id, { id, email, firstName: '', lastName: '', phone: '', raw: { id, email }, fieldValues, lists: new Map(), tags: tagged.get(id) ?? [] });
	}
	return { targets, linkValues };
}

/** What the importer is sent for each planned contact. */
function importEntries(planned: Planned[]): BulkEntry[] {
	return planned.map((p) => ({
		itemIndex: p.request.itemIndex,
		contact: {
			email: p.target.email,
			...(p.fields.length ? { fields: p.fields.map((f) => ({ id: Number(f.id), value: f.value })) } : {}),
			...(p.tags.length ? { tags: p.tags } : {}),
			// Only the link, state and tags change: automations that run on imports have no reason to start.
			exclude_automations: true,
		},
	}));
}

/**
 * The importer matches contacts by email: each contact goes in under the email it had when read just now. Should one
 * have changed its email since, the importer writes into whichever contact has that email then, or creates one; its
 * report names the contacts it wrote. A contact it created (new, with nothing but what was imported) is deleted again;
 * one that existed is left alone and named in an error on that item; either way the batch is written one by one.
 */
async function importStates(
	session: AcSession,
	node: INode,
	planned: Planned[],
	outcomes: BatchOutcome[],
	oneByOne: (request: StateRequest) => Promise<void>,
): Promise<void> {
	const entries = importEntries(planned);
	const submittedAt = Date.now();
	const imported = await runBulkImport(session, entries).then(
		(results) => ({ results }),
		(error: unknown) => ({ error: error as Error }),
	);
	if ('error' in imported) {
		// Whether the import ran is unknown: each item fails and is tried again (its writes are by value).
		for (const p of planned) {
			outcomes.push({
				itemIndex: p.request.itemIndex,
				error: new NodeOperationError(node, `Could not record the sync state of ActiveCampaign contact ${p.target.id} (${p.target.email}): ${imported.error.message}`, {
					itemIndex: p.request.itemIndex,
				}),
			});
		}
		return;
	}
	const { results } = imported;
	const expected = new Set(planned.map((p) => p.target.id));
	const unexpected = new Set<string>();
	for (const result of results) if (result.ok) for (const id of result.batchContactIds) if (!expected.has(id)) unexpected.add(id);
	const byItem = new Map(planned.map((p) => [p.request.itemIndex, p]));
	for (const id of unexpected) {
		const found = await readContact(session, id).catch(() => undefined);
		if (!found) continue;
		const ours = planned.find((p) => p.target.email.toLowerCase() === found.email.toLowerCase());
		const createdNow = Date.parse(String(found.cdate ?? '')) >= submittedAt - 60_000 && !found.firstName && !found.lastName && !found.phone;
		if (createdNow) {
			const deleted = await session.request({ method: 'DELETE', path: `/api/3/contacts/${encodeURIComponent(id)}`, allowNotFound: true }).then(
				() => true,
				() => false,
			);
			if (!deleted && ours) {
				outcomes.push({
					itemIndex: ours.request.itemIndex,
					error: new NodeOperationError(node, `The import created ActiveCampaign contact ${id} (${found.email}) because this contact's email changed meanwhile, and it could not be deleted again: delete it by hand`, {
						itemIndex: ours.request.itemIndex,
					}),
				});
			}
		} else if (ours) {
			outcomes.push({
				itemIndex: ours.request.itemIndex,
				error: new NodeOperationError(
					node,
					`ActiveCampaign contact ${id} had the email ${found.email} when the import ran, so the import wrote this record's link and sync state into it; check its D365 Record ID`,
					{ itemIndex: ours.request.itemIndex },
				),
			});
		}
	}
	for (const result of results) {
		const p = byItem.get(result.itemIndex)!;
		if (!result.ok) {
			outcomes.push({ itemIndex: result.itemIndex, error: new NodeOperationError(node, `Could not record the sync state of ActiveCampaign contact ${p.target.id} (${p.target.email}): ${result.error}`, { itemIndex: result.itemIndex }) });
			continue;
		}
		if (unexpected.size) {
			// Which contact the importer wrote instead is not said per email: the batch's items are written one by
			// one (what the import already wrote is skipped there as unchanged).
			await oneByOne(p.request);
			continue;
		}
		outcomes.push({
			itemIndex: result.itemIndex,
			json: { operation: 'updated', id: p.target.id, email: p.target.email, link: p.request.input.link ?? null, state: p.state ?? null, tagsAdded: p.tags, tagsRemoved: [] },
		});
	}
}

export function sorted(outcomes: BatchOutcome[]): BatchOutcome[] {
	return outcomes.sort((a, b) => a.itemIndex - b.itemIndex);
}
