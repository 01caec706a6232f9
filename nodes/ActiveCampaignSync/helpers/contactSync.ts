/**
 * "Sync Item (from Field Map)" mode of Contact → Create or Update (docs/DESIGN.md, "The sync model"): match by link
 * (`D365 Record ID`), then ActiveCampaign id, then email; lead/contact precedence; echo and conflict decisions from
 * the stored state; data, link and new state written in one request; tags added.
 */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';

import { decideSync, precedenceAllows, SKIP_REASONS } from '../../shared/sync/decide';
import {
	formatContactLink,
	formatState,
	isGuid,
	parseContactLink,
	parseState,
	SYNC_TAGS,
	type ContactLink,
	type StoredState,
} from '../../shared/sync/state';
import { readContact, type ContactSnapshot } from './contactRead';
import { applyTags, emptyDesired, encodeFieldValues, writeContact, type ContactAttribute } from './contactWrite';
import type { ContactFieldDef } from './encode';
import type { AcSession } from './session';
import type { SyncDefaults, SyncItem } from './syncItem';
import { contactHash, type ContactOverlay } from './values';

/** Contact ids whose value of a field is exactly `value` (`GET /fieldValues?filters[fieldid]=&filters[val]=`, paged). */
export async function contactIdsWithFieldValue(
	session: AcSession,
	fieldId: string,
	value: string,
	itemIndex?: number,
): Promise<string[]> {
	const ids: string[] = [];
	let offset = 0;
	for (;;) {
		const body = await session.request<IDataObject>({
			method: 'GET',
			path: '/api/3/fieldValues',
			qs: { 'filters[fieldid]': fieldId, 'filters[val]': value, limit: 100, offset },
			itemIndex,
		});
		const page = (body.fieldValues as IDataObject[] | undefined) ?? [];
		for (const fv of page) {
			if (String(fv.field) === String(fieldId) && String(fv.value ?? '') === value) ids.push(String(fv.contact));
		}
		offset += page.length;
		const total = Number((body.meta as IDataObject | undefined)?.total);
		if (!page.length || (Number.isFinite(total) ? offset >= total : page.length < 100)) break;
	}
	return [...new Set(ids)].sort((a, b) => Number(a) - Number(b));
}

function text(value: unknown): string | undefined {
	if (value === undefined) return undefined;
	if (value === null) return '';
	return typeof value === 'string' ? value : String(value);
}

export interface ContactSyncOutput extends IDataObject {
	operation: 'created' | 'updated' | 'skipped';
}

export async function syncContactItem(
	session: AcSession,
	node: INode,
	item: SyncItem,
	defaults: SyncDefaults,
	itemIndex: number,
): Promise<ContactSyncOutput> {
	if (item.entity !== 'lead' && item.entity !== 'contact') {
		throw new NodeOperationError(node, `A ${item.entity} sync item cannot be written as a contact; use the ${item.entity === 'account' ? 'Account' : 'Custom Object'} resource`, { itemIndex });
	}
	if (item.direction === 'toDynamics') {
		throw new NodeOperationError(node, 'This sync item goes to Dynamics 365 (direction "toDynamics"); write it with the Dynamics 365 node', { itemIndex });
	}
	const entity = item.entity;
	const d365Id = item.match.d365Id ?? item.source.id;
	if (!isGuid(d365Id)) {
		throw new NodeOperationError(node, `The sync item has no Dynamics id (match.d365Id): "${d365Id ?? ''}"`, { itemIndex });
	}
	const sourceHash = item.source.hash;
	if (!sourceHash) {
		throw new NodeOperationError(node, 'The sync item has no source hash (source.hash); it is needed to tell echoes from changes', { itemIndex });
	}
	const link: ContactLink = { entity, id: d365Id };
	const linkValue = formatContactLink(link);
	const policy = item.policy.conflict ?? defaults.conflict;
	const precedence = item.policy.precedence ?? defaults.precedence;
	const record = item.record as IDataObject;
	const email = text(record.email)?.trim() || item.match.email?.trim() || undefined;
	const hashFields = item.state.targetHashFields;

	const { link: linkField, state: stateField } = await session.contactSyncFields();
	const fields = await session.contactFields();
	const accountName = text(record.accountName) ?? text(item.related.accountName);
	const jobTitle = text(record.jobTitle);
	const needAccount =
		accountName !== undefined || jobTitle !== undefined || hashFields.some((f) => f === 'accountName' || f === 'jobTitle');

	// 1. The target: the contact linked to this Dynamics record, else the given ActiveCampaign id, else the email.
	let target: ContactSnapshot | undefined;
	let matchedBy: 'link' | 'acId' | 'email' | undefined;
	const linked = await contactIdsWithFieldValue(session, linkField.id, linkValue, itemIndex);
	if (linked.length) {
		target = await readContact(session, linked[0], { tags: true, account: needAccount, itemIndex });
		if (target) matchedBy = 'link';
	}
	if (!target && item.match.acId !== undefined && String(item.match.acId) !== '') {
		target = await readContact(session, String(item.match.acId), { tags: true, account: needAccount, itemIndex });
		if (target) matchedBy = 'acId';
	}
	if (!target && email) {
		const found = await session.contactByEmail(email, itemIndex);
		if (found) {
			target = await readContact(session, String(found.id), { tags: true, account: needAccount, itemIndex });
			if (target) matchedBy = 'email';
		}
	}

	const base: IDataObject = { entity, d365Id: link.id, link: linkValue };

	// 2. Who owns the ActiveCampaign contact: lead/contact precedence, relinking.
	let relinkFrom: ContactLink | undefined;
	let stored: StoredState | undefined;
	if (target) {
		const current = parseContactLink(target.fieldValues.get(linkField.id)?.value);
		if (current && (current.entity !== link.entity || current.id !== link.id)) {
			if (current.entity === link.entity) {
				return {
					...base,
					operation: 'skipped',
					reason: `the ActiveCampaign contact is linked to another Dynamics ${current.entity} (${formatContactLink(current)})`,
					id: target.id,
					email: target.email,
					matchedBy,
				};
			}
			if (!precedenceAllows(link.entity, current.entity, precedence)) {
				return {
					...base,
					operation: 'skipped',
					reason: SKIP_REASONS.precedence(current.entity, link.entity),
					id: target.id,
					email: target.email,
					matchedBy,
				};
			}
			relinkFrom = current;
		}
		// The stored state belongs to the link it was written for; after a relink there is no base.
		stored = relinkFrom ? undefined : (parseState(target.fieldValues.get(stateField.id)?.value) ?? item.state.stored ?? undefined);
	}

	// 3. What to write.
	const desired = emptyDesired();
	desired.email = email;
	for (const name of ['firstName', 'lastName', 'phone'] as ContactAttribute[]) {
		const value = text(record[name]);
		if (value !== undefined) desired.attributes[name] = value;
	}
	const rawValues = record.fieldValues && typeof record.fieldValues === 'object' ? (record.fieldValues as IDataObject) : {};
	desired.fieldValues = (await encodeFieldValues(session, node, Object.entries(rawValues).map(([key, value]) => ({ key, value })), itemIndex)).filter(
		({ field }) => field.id !== linkField.id && field.id !== stateField.id,
	);
	if (accountName !== undefined && accountName.trim() !== '') desired.accountName = accountName;
	if (jobTitle !== undefined) desired.jobTitle = jobTitle;
	desired.tags = [...item.tags, ...(relinkFrom ? [SYNC_TAGS[link.entity]] : [])];
	desired.removeTags = [...item.removeTags, ...(relinkFrom ? [SYNC_TAGS[relinkFrom.entity]] : [])].filter(
		(name) => !desired.tags.some((t) => t.toLowerCase() === name.toLowerCase()),
	);

	// 4. Echo and conflict decisions.
	if (target) {
		const decision = decideSync({
			direction: 'toActiveCampaign',
			policy,
			sourceHash,
			targetHash: contactHash(target, fields, hashFields),
			stored,
			sourceModifiedAt: item.source.modifiedAt ?? undefined,
			targetModifiedAt: target.udate,
		});
		if (decision.action === 'skip') {
			return { ...base, operation: 'skipped', reason: decision.reason, id: target.id, email: target.email, matchedBy };
		}
		if (decision.conflict) base.conflict = `resolved: ${policy}`;
	}

	// 5. The new state, computed over the target's values as they will be after this write (checked against what
	// ActiveCampaign returns below).
	const overlay: ContactOverlay = {
		email: desired.email,
		attributes: desired.attributes,
		fieldValues: new Map(desired.fieldValues.map(({ field, value }) => [field.id, value])),
		accountName: desired.accountName,
		jobTitle: desired.jobTitle,
	};
	const acHash = contactHash(target, fields, hashFields, overlay);
	const newState = formatState({ acHash, d365Hash: sourceHash });
	desired.fieldValues.push({ field: linkField, value: linkValue }, { field: stateField, value: newState });

	// 6. One write for data, link and state; then tags, lists, account.
	const result = await writeContact(session, target, desired, itemIndex);
	let state = newState;
	if (result.after) {
		// The hash of the contact as ActiveCampaign returned it: if it stored a value differently from how it was sent,
		// the state is corrected so the next reader of this contact computes the same hash.
		const after: ContactSnapshot = { ...result.after, account: target?.account };
		const actual = contactHash(after, fields, hashFields, { accountName: desired.accountName, jobTitle: desired.jobTitle });
		if (actual !== acHash) {
			state = formatState({ acHash: actual, d365Hash: sourceHash });
			await session.request({
				method: 'PUT',
				path: `/api/3/contacts/${result.id}`,
				body: { contact: { fieldValues: [{ field: stateField.id, value: state }] } },
				itemIndex,
			});
		}
	}
	const bookkeeping = new Set([label(linkField), label(stateField)]);
	const dataChanges = result.changes.filter((c) => !bookkeeping.has(c));
	const out: ContactSyncOutput = {
		...base,
		operation: result.operation,
		id: result.id,
		email: result.email,
		matchedBy: matchedBy ?? null,
		changes: dataChanges,
		tagsAdded: result.tagsAdded,
		tagsRemoved: result.tagsRemoved,
		state,
	};
	if (relinkFrom) out.relinkedFrom = formatContactLink(relinkFrom);
	if (result.operation !== 'created' && dataChanges.length === 0 && !relinkFrom) {
		out.operation = 'skipped';
		out.reason = SKIP_REASONS.noChanges;
		out.stateRecorded = result.changes.some((c) => bookkeeping.has(c));
	}
	return out;
}

function label(field: ContactFieldDef): string {
	return field.perstag || field.title || field.id;
}

/** Record Sync State for a contact: writes the link and state fields only when they differ. */
export async function recordContactState(
	session: AcSession,
	node: INode,
	input: { acId?: string; email?: string; link?: string; state?: string; tags?: string[]; removeTags?: string[] },
	itemIndex: number,
): Promise<IDataObject> {
	const { link: linkField, state: stateField } = await session.contactSyncFields();
	let target: ContactSnapshot | undefined;
	if (input.acId) target = await readContact(session, input.acId, { itemIndex });
	if (!target && input.email) {
		const found = await session.contactByEmail(input.email, itemIndex);
		if (found) target = await readContact(session, String(found.id), { itemIndex });
	}
	if (!target) {
		throw new NodeOperationError(node, `No ActiveCampaign contact ${input.acId ? `with id ${input.acId}` : `with email ${input.email ?? '(none given)'}`}`, {
			itemIndex,
		});
	}
	const fieldValues: IDataObject[] = [];
	if (input.link !== undefined && input.link !== '' && (target.fieldValues.get(linkField.id)?.value ?? '') !== input.link) {
		fieldValues.push({ field: linkField.id, value: input.link });
	}
	if (input.state !== undefined && input.state !== '' && (target.fieldValues.get(stateField.id)?.value ?? '') !== input.state) {
		fieldValues.push({ field: stateField.id, value: input.state });
	}
	const desiredTags = { ...emptyDesired(), tags: input.tags ?? [], removeTags: input.removeTags ?? [] };
	const tagChanges = await applyTags(session, target.id, target, desiredTags, itemIndex);
	const tags = { tagsAdded: tagChanges.added, tagsRemoved: tagChanges.removed };
	if (!fieldValues.length) {
		const operation = tagChanges.added.length || tagChanges.removed.length ? 'updated' : 'skipped';
		return {
			operation,
			...(operation === 'skipped' ? { reason: SKIP_REASONS.noChanges } : {}),
			id: target.id,
			email: target.email,
			link: input.link ?? null,
			state: input.state ?? null,
			...tags,
		};
	}
	await session.request({ method: 'PUT', path: `/api/3/contacts/${target.id}`, body: { contact: { fieldValues } }, itemIndex });
	return { operation: 'updated', id: target.id, email: target.email, link: input.link ?? null, state: input.state ?? null, ...tags };
}
