/**
 * "Sync Item (from Field Map)" mode of Contact → Create or Update (docs/DESIGN.md, "The sync model"): match by link
 * (`D365 Record ID`), then ActiveCampaign id, then email; lead/contact precedence; echo and conflict decisions from
 * the stored state; data, link and new state written in one request; tags added.
 */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';

import { isStandIn, type PreviewChange } from '../../shared/preview';
import { NOT_HELD, precedenceAllows, SKIP_REASONS } from '../../shared/sync/decide';
import { accountDigests, baseEntries, fieldHash, formatFieldState, mergeStateText, NOT_HELD as STATE_NOT_HELD, pairKey, parseFieldState, rowVersion, sameValueDigest, withoutVersion, withSideUnknown, type FieldStates } from '../../shared/sync/fieldState';
import { followStored, isEmailField, planField, planStep, resolveMatch, type PlanField } from '../../shared/sync/planner';
import { LEAD_COLUMNS_CARRIED_TO_CONTACT, STANDARD_FIELDS } from '../../shared/sync/mapping';
import { readActiveCampaign } from '../../shared/sync/records';
import {
	deletedAccountDigests,
	forgetHeldValues,
	forgetLink,
	forgetPendingState,
	forgetUnlinked,
	heldValues,
	holdBack,
	pendingLink,
	pendingLinkOf,
	queueRecheck,
	release,
	rememberQualified,
	rememberUnlinked,
	retryStore,
	unlinkedState,
	wasQualified,
	withPendingState,
} from '../../shared/sync/retries';
import { canonicalEmail } from '../../shared/sync/canonical';
import { formatContactLink, isGuid, parseContactLink, SYNC_TAGS, type ContactLink } from '../../shared/sync/state';
import { storedStateText, type DeletePolicy, type SyncDefaults, type SyncField, type SyncItem } from '../../shared/sync/syncItem';
import type { DeleteAction } from '../actions/common';
import { readContact, readContactAccount, type ContactSnapshot } from './contactRead';
import { applyTags, contactUpdate, emptyDesired, encodeFieldValues, linkAccount, writeContact } from './contactWrite';
import type { ContactFieldDef } from './encode';
import type { AccountLinks, AcSession } from './session';
import { contactHash, contactRecord } from './values';
import { keepingConflicts } from './decided';

/** Contact ids whose value of a field is exactly `value` (`GET /fieldValues?filters[fieldid]=&filters[val]=`, paged). */
export async function contactIdsWithFieldValue(
	session: AcSession,
	fieldId: string,
	value: string,
	itemIndex?: number,
): Promise<string[]> {
	// A field a preview would create: no contact holds a value of it yet.
	if (isStandIn(fieldId)) return [];
	const index = session.linkIndex;
	if (index?.fieldId === String(fieldId) && !index.stale.has(value)) return [...(index.byValue.get(value) ?? [])].sort((a, b) => Number(a) - Number(b));
	const ids: string[] = [];
	for await (const { items } of session.pages('/api/3/fieldValues', 'fieldValues', { 'filters[fieldid]': fieldId, 'filters[val]': value }, { itemIndex })) {
		for (const fv of items) {
			if (String(fv.field) === String(fieldId) && String(fv.value ?? '') === value) ids.push(String(fv.contact));
		}
	}
	return [...new Set(ids)].sort((a, b) => Number(a) - Number(b));
}

function text(value: unknown): string | undefined {
	if (value === undefined) return undefined;
	if (value === null) return '';
	return typeof value === 'string' ? value : String(value);
}

export interface ContactSyncOutput extends IDataObject {
	operation: 'created' | 'updated' | 'skipped' | 'relinked' | 'unlinked' | 'flagged' | 'deleted';
}

type Desired = ReturnType<typeof emptyDesired>;

/** The fields a sync item carries; items built by hand without them get one per record key (written this way only). */
export function syncFieldsOf(item: SyncItem): SyncField[] {
	if (item.fields.length) return item.fields;
	const record = item.record as IDataObject;
	const entries: Array<[string, unknown]> = [];
	for (const [key, value] of Object.entries(record)) {
		if (key === 'fieldValues' || key === 'fields') {
			if (value && typeof value === 'object') entries.push(...Object.entries(value as IDataObject));
		} else {
			entries.push([key, value]);
		}
	}
	if (item.related.accountName !== undefined && record.accountName === undefined) entries.push(['accountName', item.related.accountName]);
	return entries.map(([key, value]) => ({
		key: pairKey(key, ''),
		activeCampaign: key,
		dynamics: '',
		direction: 'toActiveCampaign' as const,
		source: fieldHash(value, key === 'email'),
	}));
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
	const d365Id = String(item.match.d365Id ?? item.source.id ?? '').toLowerCase();
	if (!isGuid(d365Id)) {
		throw new NodeOperationError(node, `The sync item has no Dynamics id (match.d365Id): "${d365Id}"`, { itemIndex });
	}
	const link: ContactLink = { entity, id: d365Id };
	const linkValue = formatContactLink(link);
	const base: IDataObject = { entity, d365Id: link.id, link: linkValue };
	const deletePolicy = item.policy.delete ?? defaults.delete;
	const { link: linkField, state: stateField } = await session.contactSyncFields();

	if (item.event === 'deleted') {
		const linked = await contactIdsWithFieldValue(session, linkField.id, linkValue, itemIndex);
		// A contact whose link to it could not be recorded is its contact too (the pending link holds its email).
		const staticData = session.syncStaticData();
		const pending = staticData ? pendingLink(staticData, linkValue) : undefined;
		if (pending && staticData) {
			forgetLink(staticData, linkValue);
			const twin = linked.length ? undefined : await readContact(session, pending, { itemIndex });
			const holds = twin?.fieldValues.get(linkField.id)?.value;
			if (twin && (!holds || holds.toLowerCase() === linkValue)) linked.push(pending);
		}
		return await applyDeletePolicy(session, base, linked, deletePolicy, 'deleted in Dynamics', itemIndex);
	}
	const mergedInto = item.match.mergedInto ? String(item.match.mergedInto).toLowerCase() : undefined;
	if (mergedInto && isGuid(mergedInto)) return await contactMerged(session, base, link, mergedInto, deletePolicy, itemIndex);

	const fields = syncFieldsOf(item);
	if (!fields.length) {
		throw new NodeOperationError(node, 'The sync item carries no fields (fields or record); build it with the Field Map', { itemIndex });
	}
	const policy = item.policy.conflict ?? defaults.conflict;
	const precedence = item.policy.precedence ?? defaults.precedence;
	const record = item.record as IDataObject;
	const email = text(record.email)?.trim() || item.match.email?.trim() || undefined;
	const contactFields = await session.contactFields();
	const accountName = text(record.accountName) ?? text(item.related.accountName);
	const needAccount =
		accountName !== undefined || record.jobTitle !== undefined || fields.some((f) => f.activeCampaign === 'accountName' || f.activeCampaign === 'jobTitle');

	// 1. The target, in the one match order: the link (or, for a contact qualified from a lead, the lead's link), the
	// ActiveCampaign id the item names, the email.
	const linked = await contactIdsWithFieldValue(session, linkField.id, linkValue, itemIndex);
	const staticData = session.syncStaticData();
	const pending = staticData ? pendingLink(staticData, linkValue) : undefined;
	if (pending && linked.length) forgetLink(staticData!, linkValue);
	if (pending && !linked.length) {
		// A link made in an earlier run whose recording failed: that contact is the twin unless it was linked to
		// another record since (the write records the link now).
		const twin = await readContact(session, pending, { itemIndex });
		const holds = twin?.fieldValues.get(linkField.id)?.value;
		if (twin && (!holds || holds.toLowerCase() === linkValue)) linked.push(pending);
		else forgetLink(staticData!, linkValue);
	}
	const originatingLead = item.match.originatingLead ? String(item.match.originatingLead).toLowerCase() : undefined;
	const fromLead =
		!linked.length && entity === 'contact' && originatingLead && isGuid(originatingLead)
			? await contactIdsWithFieldValue(session, linkField.id, formatContactLink({ entity: 'lead', id: originatingLead }), itemIndex)
			: [];
	const acId = item.match.acId !== undefined && item.match.acId !== null && String(item.match.acId) !== '' ? String(item.match.acId) : undefined;
	let natural: string[] = [];
	if (!linked.length && !fromLead.length && !acId && email) {
		const found = await session.contactByEmail(email, itemIndex);
		if (found) natural = [String(found.id)];
	}
	let match = resolveMatch({ link: [...linked, ...fromLead], id: acId, natural, naturalKind: 'email' });
	let target = match.target ? await readContact(session, match.target, { tags: true, account: needAccount, itemIndex }) : undefined;
	if (!target && match.matchedBy === 'id' && email) {
		// The named ActiveCampaign contact is gone: fall back to the email.
		const found = await session.contactByEmail(email, itemIndex);
		match = resolveMatch({ natural: found ? [String(found.id)] : [], naturalKind: 'email' });
		if (match.target) target = await readContact(session, match.target, { tags: true, account: needAccount, itemIndex });
	}
	// A link a merge moved to this contact is provisional (the merge cleared its state): when the Dynamics record has a
	// twin of its own — the contact of the lead it was qualified from, or an unlinked contact with its email — that one
	// takes the link, and this one is the merged-away record's twin (the delete policy; a flag cannot stay linked here).
	let displaced: IDataObject | undefined;
	if (target && match.matchedBy === 'link' && !target.fieldValues.get(stateField.id)?.value && entity === 'contact') {
		let twin: ContactSnapshot | undefined;
		if (originatingLead && isGuid(originatingLead)) {
			const leadTwin = (await contactIdsWithFieldValue(session, linkField.id, formatContactLink({ entity: 'lead', id: originatingLead }), itemIndex)).find((id) => id !== target!.id);
			if (leadTwin) twin = await readContact(session, leadTwin, { tags: true, account: needAccount, itemIndex });
		}
		if (!twin && email && canonicalEmail(email) !== canonicalEmail(target.email)) {
			const found = await session.contactByEmail(email, itemIndex);
			const owner = found && String(found.id) !== target.id ? await readContact(session, String(found.id), { tags: true, account: needAccount, itemIndex }) : undefined;
			if (owner && !owner.fieldValues.get(linkField.id)?.value) twin = owner;
		}
		if (twin) {
			const policy = deletePolicy === 'propagate' ? 'propagate' : 'keep';
			displaced = await applyDeletePolicy(session, {}, [target.id], policy, `its Dynamics record was merged into ${linkValue}, whose own ActiveCampaign contact is ${twin.id}`, itemIndex);
			target = twin;
			match = { target: twin.id, matchedBy: twin.fieldValues.get(linkField.id)?.value ? 'link' : 'email', others: 0 };
		}
	}
	const matchedBy = target ? match.matchedBy : undefined;
	if (entity === 'lead' && item.match.qualified === true && (!target || matchedBy !== 'link')) {
		// A qualified lead goes on as the contact it became; it is not brought into ActiveCampaign on its own, nor does
		// it take a contact it was never linked to (by email): that one is the contact's, or — the contact deleted —
		// the next active lead's with the email, which a link to an inactive lead would hold back for good.
		return { ...base, operation: 'skipped', reason: 'the lead was qualified: the Dynamics contact it became is synced instead' };
	}

	// 2. Who owns the ActiveCampaign contact: lead/contact precedence, relinking.
	let relinkFrom: ContactLink | undefined;
	let qualified = false;
	// The contact was kept only to flag that its Dynamics record was deleted (delete policy Flag Only).
	let flaggedDeleted = false;
	if (target) {
		// A link the sync made whose recording failed (a pending link) holds the contact as a recorded one does.
		const staticLinks = session.syncStaticData();
		const pendingHolder = !target.fieldValues.get(linkField.id)?.value && staticLinks ? pendingLinkOf(staticLinks, target.id) : undefined;
		const current = parseContactLink(target.fieldValues.get(linkField.id)?.value || pendingHolder);
		if (current && (current.entity !== link.entity || current.id !== link.id)) {
			const skip = (reason: string): ContactSyncOutput => ({ ...base, operation: 'skipped', reason, id: target!.id, email: target!.email, matchedBy });
			const qualifiedFrom = current.entity === 'lead' && originatingLead === current.id;
			qualified = qualifiedFrom;
			// A link kept only to flag that its Dynamics record was deleted (delete policy Flag Only) holds nothing back.
			// Nor does a lead that was qualified (its contact takes the link when it comes; it may never come).
			flaggedDeleted = !!target.tags?.some((t) => t.name.toLowerCase() === SYNC_TAGS.deletedInDynamics.toLowerCase());
			const holderDeleted = flaggedDeleted || (current.entity === 'lead' && wasQualified(session.syncStaticData(), formatContactLink(current)));
			if (!qualifiedFrom && !holderDeleted) {
				if (current.entity === link.entity) {
					// Read again when that record lets the contact go (e.g. it turns out to be qualified).
					const held = session.syncStaticData();
					if (held && email) holdBack(held, email, { system: 'dynamics', kind: link.entity, id: link.id }, formatContactLink(current), sourceDigests(item));
					return skip(`the ActiveCampaign contact is linked to another Dynamics ${current.entity} (${formatContactLink(current)})`);
				}
				if (link.entity === 'lead' && item.match.qualified === true) {
					return skip(`the lead was qualified; its ActiveCampaign contact belongs to the Dynamics contact ${current.id}`);
				}
				if (!precedenceAllows(link.entity, current.entity, precedence)) {
					// Read again when the record that has this email lets it go.
					const held = session.syncStaticData();
					if (held && email) holdBack(held, email, { system: 'dynamics', kind: link.entity, id: link.id }, formatContactLink(current), sourceDigests(item));
					return skip(SKIP_REASONS.precedence(current.entity, link.entity));
				}
			}
			relinkFrom = current;
			if (pendingHolder && staticLinks) forgetLink(staticLinks, pendingHolder);
			// The record it is taken from (precedence, not qualification) is held back until this one lets the email go.
			const held = session.syncStaticData();
			if (held && email && !qualifiedFrom && !holderDeleted) holdBack(held, email, { system: 'dynamics', kind: current.entity, id: current.id }, linkValue);
		}
	}

	// A qualified lead still linked: the contact it became takes the link when it syncs; meanwhile the link holds nothing
	// back, and records held back by it are read again.
	if (target && entity === 'lead' && item.match.qualified === true && (target.fieldValues.get(linkField.id)?.value ?? '').toLowerCase() === linkValue) {
		const held = session.syncStaticData();
		if (held && !wasQualified(held, linkValue)) {
			rememberQualified(held, linkValue);
			release(held, { holder: linkValue }, 'ActiveCampaign write');
		}
	}

	// 3. What each field would become, and the plan.
	const desiredOf = new Map<string, unknown>();
	const patches = new Map<string, (desired: Desired) => void>();
	const currentRecord = contactRecord(target, contactFields);
	const accountWillExist = !!target?.account || (!!accountName?.trim() && fields.some((f) => f.activeCampaign === 'accountName' && flowsTo(f)));
	const planned: PlanField[] = [];
	for (const field of fields) {
		const current = readActiveCampaign(currentRecord, field.activeCampaign);
		if (!flowsTo(field)) {
			planned.push(planField(field, current, undefined, field.accountLink ? { digests: await accountLinkDigests(session, target, undefined, null, itemIndex) } : {}));
			continue;
		}
		const { value, accountId, patch } = await desiredValue(session, node, field, record, item, itemIndex);
		desiredOf.set(field.key, value);
		patches.set(field.key, patch);
		const cannotHold =
			field.activeCampaign === 'jobTitle' && text(value)?.trim() && !accountWillExist
				? NOT_HELD.jobTitleWithoutAccount
				: undefined;
		// The account is the same account when it is the one linked to the Dynamics account, whatever its name.
		const equal = accountId !== undefined && target?.account ? target.account.id === accountId : undefined;
		const digests = field.accountLink ? await accountLinkDigests(session, target, accountId, value, itemIndex) : undefined;
		planned.push(planField(field, current, value, { cannotHold, equal, digests }));
	}
	const keys = fields.map((f) => f.key);
	// After a relink the stored state belonged to the other record; a contact qualified from the lead starts with the
	// lead's values, so the lead's state still tells what each side changed.
	let storedText = relinkFrom && !qualified ? undefined : ownState(target?.fieldValues.get(linkField.id)?.value, linkValue, target?.fieldValues.get(stateField.id)?.value ?? storedStateText(item));
	// The other step's state that Record Sync State could not store: what the sync wrote to Dynamics is its own.
	if (target && !relinkFrom) storedText = withPendingState(session.syncStaticData(), linkValue, storedText);
	// A contact whose Dynamics record went (delete policy Keep) kept its side of that pair's state: a record taking it
	// now meets ActiveCampaign's changes since that sync as changes, and its own values, where it was seen unchanged
	// since (held back by the other record), as no newer than them.
	// One kept flagged (Flag Only) still holds that pair's state: its ActiveCampaign side tells the same.
	const takeover = !target
		? undefined
		: relinkFrom && flaggedDeleted && !qualified
			? takeoverBase(session, linkValue, withSideUnknown(withoutVersion(target.fieldValues.get(stateField.id)?.value), 'd365'))
			: !relinkFrom && !target.fieldValues.get(linkField.id)?.value && !storedText
				? takeoverBase(session, linkValue, unlinkedState(session.syncStaticData(), target.id))
				: undefined;
	if (takeover) storedText = takeover.state;
	const { plan, state: plannedState, report, stale } = planStep({
		direction: 'toActiveCampaign',
		policy,
		exists: !!target,
		fields: planned,
		keys,
		stored: storedText,
		sourceWhole: item.source.hash ?? '',
		targetWhole: target ? contactHash(target, contactFields, item.state.targetHashFields) : undefined,
		sourceModifiedAt: item.source.modifiedAt,
		targetModifiedAt: target?.udate,
		dynamicsVersion: rowVersion(item.source.version),
		goneAccounts: deletedAccountDigests(session.syncStaticData()),
		// The new contact carries only some of the lead's values.
		adjustBase: qualified
			? (base) => {
					qualifiedAccountBase(base, storedText, keys, planned);
					// A field the new contact was not given (see LEAD_COLUMNS_CARRIED_TO_CONTACT) was cleared by nobody.
					planned.forEach((p) => p.source === fieldHash(null) && (p.accountLink || !LEAD_COLUMNS_CARRIED_TO_CONTACT.has(p.dynamics)) && base.delete(p.key));
				}
			: takeover
				? (base) => takeover.adjust(base, planned)
				: undefined,
	});
	if (stale) return staleRead(session, { ...base, id: target!.id, email: target!.email, matchedBy }, { system: 'dynamics', kind: entity, id: link.id });
	if (plan.conflicts.length && target) recheckWinner(session, plan.conflicts, 'contact', target.id);
	if (target) recheckUnknownValues(session, plan, planned, 'contact', target.id);

	// 4. Nothing to write: record what was learned about the fields (when anything was), and report why.
	let state = plannedState;
	if (target && plan.skipReason && !relinkFrom) {
		const bookkeeping: Array<{ field: string; value: string }> = [];
		if (target.fieldValues.get(linkField.id)?.value !== linkValue) bookkeeping.push({ field: linkField.id, value: linkValue });
		// Compared with the field as stored: the base may hold a state Record Sync State could not store. Unchanged on
		// such a base, the base is stored now: else the pair has no state in ActiveCampaign once that pending state is
		// forgotten, and its next change meets every field as changed on both sides.
		const held = target.fieldValues.get(stateField.id)?.value;
		const unchanged = plan.skipReason === SKIP_REASONS.unchanged;
		if (state && (unchanged ? storedText !== undefined && storedText !== held && state !== held : state !== (held ?? storedText))) {
			bookkeeping.push({ field: stateField.id, value: state });
		}
		if (session.preview) {
			// What the real run would still write: the link and state, and the tags (counted, not sent).
			if (bookkeeping.length) session.planWrite(itemIndex);
			const deletedMark = target.tags?.some((t) => t.name.toLowerCase() === SYNC_TAGS.deletedInDynamics.toLowerCase());
			const tags = unchanged
				? deletedMark
					? await applyTags(session, target.id, target, { ...emptyDesired(), tags: [], removeTags: [SYNC_TAGS.deletedInDynamics] }, itemIndex)
					: { added: [] as string[], removed: [] as string[] }
				: await applyTags(session, target.id, target, { ...emptyDesired(), tags: item.tags, removeTags: [...item.removeTags, SYNC_TAGS.deletedInDynamics] }, itemIndex);
			return { ...base, operation: 'skipped', reason: plan.skipReason, id: target.id, email: target.email, matchedBy, stateRecorded: bookkeeping.length > 0, tagsAdded: tags.added, tagsRemoved: tags.removed, ...report, preview: true };
		}
		// A lost conflict is stored as settled with the state: when the tags fail after it, the error still says who won.
		const tags = await keepingConflicts(session, node, report, itemIndex, async () => {
			if (bookkeeping.length) await putStateFields(session, target.id, bookkeeping, itemIndex);
			if (bookkeeping.some((b) => b.field === stateField.id)) settleTakeover(session, target.id, linkValue);
			if (plan.skipReason === SKIP_REASONS.unchanged) {
				// A person's tags stay as they are, but not the sync's own "deleted" mark on a contact this record holds now
				// (its removal failed after the link was written): while it is there, the other step skips the contact,
				// so once it is gone the contact is read again.
				if (!target.tags?.some((t) => t.name.toLowerCase() === SYNC_TAGS.deletedInDynamics.toLowerCase())) return { added: [] as string[], removed: [] as string[] };
				const removed = await applyTags(session, target.id, target, { ...emptyDesired(), tags: [], removeTags: [SYNC_TAGS.deletedInDynamics] }, itemIndex);
				const staticData = session.syncStaticData();
				if (staticData) queueRecheck(retryStore(staticData), { system: 'activecampaign', kind: 'contact', id: target.id }, 'no longer marked deleted in Dynamics', 'ActiveCampaign write');
				return removed;
			}
			return await applyTags(session, target.id, target, { ...emptyDesired(), tags: item.tags, removeTags: [...item.removeTags, SYNC_TAGS.deletedInDynamics] }, itemIndex);
		});
		return {
			...base,
			operation: 'skipped',
			reason: plan.skipReason,
			id: target.id,
			email: target.email,
			matchedBy,
			stateRecorded: bookkeeping.length > 0,
			tagsAdded: tags.added,
			tagsRemoved: tags.removed,
			...report,
			...(displaced ? { displaced: displacedOf(displaced) } : {}),
		};
	}

	// 5. One write for data, link and state; then tags and the account link.
	const desired = emptyDesired();
	for (const key of plan.write) patches.get(key)!(desired);
	if (!target) desired.email = email;
	if (!desired.email && !target) {
		throw new NodeOperationError(node, 'An email is needed to create a contact', { itemIndex });
	}
	desired.tags = [...item.tags, ...(relinkFrom ? [SYNC_TAGS[link.entity]] : [])];
	// A contact a Dynamics record takes (back) is no longer one whose record was deleted.
	desired.removeTags = [...item.removeTags, SYNC_TAGS.deletedInDynamics, ...(relinkFrom && relinkFrom.entity !== link.entity ? [SYNC_TAGS[relinkFrom.entity]] : [])].filter(
		(name) => !desired.tags.some((t) => t.toLowerCase() === name.toLowerCase()),
	);
	// The account and job title are written after the contact (a request of their own): until that has worked, the
	// state keeps their earlier entries, so a failure there is never read as "removed in ActiveCampaign".
	const linkKeys = plan.write.filter((key) => ['accountName', 'jobTitle'].includes(fields.find((f) => f.key === key)!.activeCampaign));
	let pendingState: string | undefined;
	if (linkKeys.length) {
		const earlier = baseEntries(storedText ?? '', keys);
		const interim = new Map(plan.entries);
		for (const key of linkKeys) interim.set(key, earlier.get(key) ?? { ac: planned.find((p) => p.key === key)!.target, d365: null });
		pendingState = state;
		state = formatFieldState(keys, interim, plan.version);
	}
	desired.fieldValues.push({ field: linkField, value: linkValue }, { field: stateField, value: state });
	if (session.preview) {
		// What the write would change, field by field, and the tags it would add and remove; nothing is sent.
		const changes: PreviewChange[] = plan.write.map((key) => {
			const field = fields.find((f) => f.key === key)!;
			const before = target ? readActiveCampaign(currentRecord, field.activeCampaign) : null;
			return { field: field.activeCampaign, before: (before ?? null) as PreviewChange['before'], after: (desiredOf.get(key) ?? null) as PreviewChange['after'] };
		});
		// The requests the write would send, counted: the contact (created, or updated where it differs), its tags, the
		// account link, and the state once that link is made.
		if (!target || Object.keys(contactUpdate(target, desired).contact).length) session.planWrite(itemIndex);
		const tags = await applyTags(session, target?.id ?? '', target, desired, itemIndex);
		if (desired.accountName !== undefined || desired.jobTitle !== undefined) {
			const current = target ? (target.account !== undefined ? target.account : await readContactAccount(session, target.id, itemIndex)) : null;
			await linkAccount(session, target?.id ?? '', current, desired.accountName, desired.jobTitle, itemIndex, desired.accountId);
		}
		if (pendingState !== undefined) session.planWrite(itemIndex);
		const out: ContactSyncOutput = {
			...base,
			operation: target ? 'updated' : 'created',
			id: target?.id ?? null,
			email: desired.email ?? target?.email ?? null,
			matchedBy: matchedBy ?? null,
			changes,
			tagsAdded: tags.added,
			tagsRemoved: tags.removed,
			state,
			...report,
			preview: true,
		};
		if (relinkFrom) out.relinkedFrom = formatContactLink(relinkFrom);
		if (target && !changes.length && !relinkFrom) Object.assign(out, { operation: 'skipped', reason: SKIP_REASONS.noChanges });
		return out;
	}
	const result = await keepingConflicts(session, node, report, itemIndex, async () => {
		const result = await writeContact(session, target, desired, itemIndex);
		let stateWritten = false;
		if (pendingState !== undefined) state = pendingState;
		// The contact's old email is free now: records held back by it are read again.
		if (target && desired.email !== undefined && canonicalEmail(desired.email) !== canonicalEmail(target.email)) freeEmail(session, target.email, linkValue);

		// ActiveCampaign may store a value differently from how it was sent: the state follows what it returned.
		if (result.after) {
			const after = contactRecord({ ...result.after, account: target?.account }, contactFields, {
				accountName: desired.accountName,
				jobTitle: desired.jobTitle,
			});
			// The account by which account the contact is in now (the one linked, or the one found or made by name).
			const accountNow = fields.some((f) => f.accountLink && plan.write.includes(f.key))
				? await accountLinkDigests(session, undefined, desired.accountId ?? (desired.accountName ? String((await session.accountByName(desired.accountName, itemIndex))?.id ?? '') || undefined : undefined), desired.accountName, itemIndex)
				: undefined;
			const stored = (key: string) => {
				const field = fields.find((f) => f.key === key)!;
				if (field.accountLink && accountNow) return accountNow.written;
				return fieldHash(readActiveCampaign(after, field.activeCampaign), isEmailField(field));
			};
			if (followStored(plan, stored)) {
				state = formatFieldState(keys, plan.entries, plan.version);
				await putStateFields(session, result.id, [{ field: stateField.id, value: state }], itemIndex);
				stateWritten = true;
			}
		}
		if (pendingState !== undefined && !stateWritten) await putStateFields(session, result.id, [{ field: stateField.id, value: state }], itemIndex);
		return result;
	});
	settleTakeover(session, result.id, linkValue);
	const bookkeeping = new Set([label(linkField), label(stateField)]);
	const dataChanges = result.changes.filter((c) => !bookkeeping.has(c));
	const out: ContactSyncOutput = {
		...base,
		operation: result.operation === 'skipped' ? 'updated' : result.operation,
		id: result.id,
		email: result.email,
		matchedBy: matchedBy ?? null,
		changes: dataChanges,
		tagsAdded: result.tagsAdded,
		tagsRemoved: result.tagsRemoved,
		state,
		...report,
	};
	if (relinkFrom) out.relinkedFrom = formatContactLink(relinkFrom);
	if (displaced) out.displaced = displacedOf(displaced);
	if (result.operation !== 'created' && dataChanges.length === 0 && !relinkFrom) {
		out.operation = 'skipped';
		out.reason = SKIP_REASONS.noChanges;
		out.stateRecorded = result.changes.some((c) => bookkeeping.has(c));
	}
	return out;
}

/**
 * Fields where ActiveCampaign won a conflict keep their ActiveCampaign value, which this step (Dynamics →
 * ActiveCampaign) does not carry to Dynamics: the record is read again on the next run, so the other step carries it.
 */
export function recheckWinner(session: AcSession, conflicts: Array<{ winner: string }>, kind: 'contact' | 'account', id: string): void {
	const staticData = session.syncStaticData();
	if (!staticData || !conflicts.some((c) => c.winner === 'activeCampaign')) return;
	queueRecheck(retryStore(staticData), { system: 'activecampaign', kind, id }, 'won a conflict: its values go to Dynamics', 'ActiveCampaign write');
}

/**
 * A field both ways where ActiveCampaign holds a value the state has no entry for, which this step leaves alone (the
 * Dynamics record has nothing there: a contact qualified from a lead before ActiveCampaign's edit reached the lead, a
 * record linked by email): the other step must carry it to Dynamics, but nothing marks the contact as changed in
 * ActiveCampaign (this step's own write is no change there), so the record is read again on the next run.
 */
export function recheckUnknownValues(
	session: AcSession,
	plan: { entries: Map<string, unknown>; write: string[] },
	planned: Array<{ key: string; direction: string; target: string }>,
	kind: 'contact' | 'account',
	id: string,
): void {
	const staticData = session.syncStaticData();
	const empty = fieldHash(null);
	if (!staticData || !planned.some((p) => p.direction === 'both' && p.target !== empty && !plan.entries.has(p.key) && !plan.write.includes(p.key))) return;
	queueRecheck(retryStore(staticData), { system: 'activecampaign', kind, id }, 'holds a value Dynamics does not have: it goes to Dynamics', 'ActiveCampaign write');
}

/**
 * The stored state as this record's own: the state of a contact linked to another Dynamics record (taken by email, by
 * precedence, from a lead) keeps its digests but not that record's row version.
 */
export function ownState(linkNow: string | null | undefined, link: string, stored: string | null | undefined): string | undefined {
	const text = stored ?? undefined;
	return (linkNow ?? '').toLowerCase() === link.toLowerCase() ? text : withoutVersion(text);
}

/** A sync item's source digest per field: what a held-back record held when the sync saw it. */
export function sourceDigests(item: SyncItem): Record<string, string> {
	return Object.fromEntries(item.fields.filter((f) => typeof f.source === 'string').map((f) => [f.key, f.source]));
}

/**
 * A contact qualified from a lead starts from the lead's state, but there the account pair has another key: the lead's
 * ActiveCampaign account ↔ its company name, the contact's ↔ its account lookup. The ActiveCampaign side of the lead's
 * entry is the account ActiveCampaign had at the last sync, and the contact is taken to start at that account (the
 * lead's account carries over): an account Dynamics gives the contact since is its edit, ActiveCampaign's unchanged
 * account is none. (The contact still without an account is the rule after this: nobody cleared it.)
 */
function qualifiedAccountBase(base: FieldStates, stored: string | undefined, keys: readonly string[], planned: PlanField[]): void {
	const account = planned.find((p) => p.accountLink);
	if (!account || base.has(account.key)) return;
	const leadKey = pairKey(account.activeCampaign, LEAD_ACCOUNT_COLUMN);
	const lead = parseFieldState(stored, keys.map((key) => (key === account.key ? leadKey : key)))?.get(leadKey);
	if (!lead?.ac || lead.ac === STATE_NOT_HELD) return;
	base.set(account.key, { ac: lead.ac, d365: lead.ac });
}

/** The lead's column its ActiveCampaign account maps to (a locked standard field). */
const LEAD_ACCOUNT_COLUMN = STANDARD_FIELDS.lead.find((f) => f.activeCampaign.type === 'accountName')!.dynamics.name;

/**
 * The base for a Dynamics record taking a contact whose own record went (unlinked under Keep, see
 * retries.rememberUnlinked; or flagged under Flag Only): a field
 * ActiveCampaign changed since that pair's last sync is a change (it goes to Dynamics, or meets the record's own change
 * under the policy); where the record was held back and has not changed the field since, its side counts as unchanged,
 * so ActiveCampaign's newer value stays. Every other field is as at a first sync.
 */
function takeoverBase(session: AcSession, link: string, state: string | undefined): { state: string; adjust: (base: FieldStates, planned: PlanField[]) => void } | undefined {
	if (!state) return undefined;
	const seen = heldValues(session.syncStaticData(), link);
	return {
		state,
		adjust: (base, planned) => {
			for (const p of planned) {
				const entry = base.get(p.key);
				if (!entry) continue;
				// A field ActiveCampaign did not change since: as at any first sync (the policy settles differing values).
				if (entry.ac === null || sameValueDigest(entry.ac, p.target, p.targetAlt)) base.delete(p.key);
				// Changed there, not by the record since it was held back: ActiveCampaign's value is the newer one.
				else if (seen?.[p.key] === p.source) base.set(p.key, { ac: entry.ac, d365: p.source });
			}
		},
	};
}

/** The record now holds the contact: what the takeover needed is spent. */
function settleTakeover(session: AcSession, acId: string, link: string): void {
	const staticData = session.syncStaticData();
	if (!staticData) return;
	forgetUnlinked(staticData, acId);
	forgetHeldValues(staticData, link);
	forgetPendingState(staticData, link);
}

/**
 * A Dynamics read older than what the last sync of the record saw (an overlapping run wrote it meanwhile) is not
 * written: the record is read again on the next run, as it is then.
 */
export function staleRead(session: AcSession, out: IDataObject, source: { system: 'dynamics'; kind: string; id: string }): IDataObject & { operation: 'skipped' } {
	const staticData = session.syncStaticData();
	if (staticData) queueRecheck(retryStore(staticData), source, 'read before another run synced a newer version', 'ActiveCampaign write');
	return { ...out, operation: 'skipped', reason: SKIP_REASONS.staleRead, readAgain: true };
}

function freeEmail(session: AcSession, email: string, holder?: string): void {
	const staticData = session.syncStaticData();
	if (staticData && (email || holder)) release(staticData, { email: email || undefined, holder: holder || undefined }, 'ActiveCampaign write');
}

/**
 * The digests of the contact's account field by which account it is (fieldState.accountDigests): the contact's account
 * now, and the account `accountId` (or, without one, the account named `name`) it is linked to after the write.
 */
async function accountLinkDigests(
	session: AcSession,
	target: ContactSnapshot | undefined,
	accountId: string | undefined | null,
	name: unknown,
	itemIndex: number,
): Promise<{ target: string; targetAlt?: string; written: string }> {
	// The run's account links are read only when the contact has an account or gets one.
	const links: Pick<AccountLinks, 'byAccount' | 'deleted'> =
		target?.account || accountId ? await session.accountLinks(itemIndex) : { byAccount: new Map<string, string>(), deleted: new Map<string, string>() };
	// An account whose Dynamics account was deleted (link `deleted:<id>`) is named by that id still, as the mapper
	// names it: the same account as at the last sync, not a new one.
	const linked = (id: string) => links.byAccount.get(id) ?? links.deleted.get(id);
	const now = target?.account ? accountDigests(linked(target.account.id), target.account.name) : accountDigests(undefined, null);
	const after = accountDigests(accountId ? linked(String(accountId)) : undefined, name);
	return { target: now.digest, ...(now.alt ? { targetAlt: now.alt } : {}), written: after.digest };
}

function flowsTo(field: SyncField): boolean {
	return field.direction === 'both' || field.direction === 'toActiveCampaign';
}

/** The value a field would get in ActiveCampaign (in ActiveCampaign's own form) and how to put it in the write. */
async function desiredValue(
	session: AcSession,
	node: INode,
	field: SyncField,
	record: IDataObject,
	item: SyncItem,
	itemIndex: number,
): Promise<{ value: unknown; accountId?: string; patch: (desired: Desired) => void }> {
	const key = field.activeCampaign;
	switch (key) {
		case 'email': {
			const value = text(record.email)?.trim() || item.match.email?.trim() || '';
			return { value, patch: (d) => (d.email = value || undefined) };
		}
		case 'firstName':
		case 'lastName':
		case 'phone': {
			const value = text(record[key]) ?? '';
			return { value, patch: (d) => (d.attributes[key] = value) };
		}
		case 'accountName': {
			const value = (text(record.accountName) ?? text(item.related.accountName) ?? '').trim();
			// The ActiveCampaign account linked to the contact's Dynamics account, when there is one.
			const d365Account = item.related.d365AccountId ? String(item.related.d365AccountId).toLowerCase() : undefined;
			const accountId = value && d365Account ? (await session.accountLinks(itemIndex)).byD365.get(d365Account) : undefined;
			return { value, accountId, patch: (d) => ((d.accountName = value), (d.accountId = accountId)) };
		}
		case 'jobTitle': {
			const value = text(record.jobTitle) ?? '';
			return { value, patch: (d) => (d.jobTitle = value) };
		}
	}
	const values = record.fieldValues && typeof record.fieldValues === 'object' ? (record.fieldValues as IDataObject) : {};
	const raw = key in values ? values[key] : record[key];
	const [encoded] = await encodeFieldValues(session, node, [{ key, value: raw }], itemIndex);
	if (!encoded) return { value: null, patch: () => undefined };
	return { value: encoded.value, patch: (d) => d.fieldValues.push(encoded) };
}

async function putStateFields(session: AcSession, contactId: string, fieldValues: Array<{ field: string; value: string }>, itemIndex: number) {
	await session.request({ method: 'PUT', path: `/api/3/contacts/${contactId}`, body: { contact: { fieldValues } }, itemIndex });
}

/**
 * The delete policy on the ActiveCampaign contacts linked to a Dynamics record that is gone: keep them and unlink
 * them (tagged, never recreated in Dynamics), flag them (tagged, still linked) or delete them.
 */
async function applyDeletePolicy(
	session: AcSession,
	base: IDataObject,
	contactIds: string[],
	policy: DeletePolicy,
	why: string,
	itemIndex: number,
): Promise<ContactSyncOutput> {
	if (!contactIds.length) return { ...base, operation: 'skipped', reason: `${why}; no ActiveCampaign contact is linked to it` };
	const operation = policy === 'propagate' ? 'deleted' : policy === 'keep' ? 'unlinked' : 'flagged';
	const outcome: ContactSyncOutput = { ...base, operation, reason: why, id: contactIds[0], ...(contactIds.length > 1 ? { ids: contactIds } : {}), deletePolicy: policy };
	if (session.preview) {
		// Counted per contact: the delete; or its "deleted" tag, and under Keep the unlink.
		for (const id of contactIds) {
			if (policy === 'propagate') {
				session.planWrite(itemIndex);
				continue;
			}
			const snapshot = await readContact(session, id, { itemIndex });
			if (snapshot) await applyTags(session, id, snapshot, { ...emptyDesired(), tags: [SYNC_TAGS.deletedInDynamics] }, itemIndex);
			if (policy === 'keep') session.planWrite(itemIndex);
		}
		return { ...outcome, preview: true };
	}
	const { link: linkField, state: stateField } = await session.contactSyncFields();
	for (const id of contactIds) {
		const snapshot = await readContact(session, id, { itemIndex });
		// Its Dynamics record is gone: records held back by it (or by its email) are read again.
		if (snapshot) freeEmail(session, snapshot.email, snapshot.fieldValues.get(linkField.id)?.value ?? undefined);
		if (policy === 'propagate') {
			await session.request({ method: 'DELETE', path: `/api/3/contacts/${id}`, itemIndex, allowNotFound: true });
			continue;
		}
		// Tagged first: a contact unlinked but not yet tagged would look new to the other step, which would create its
		// Dynamics record again; one tagged but still linked is skipped there, and the retry unlinks it.
		if (snapshot) await applyTags(session, id, snapshot, { ...emptyDesired(), tags: [SYNC_TAGS.deletedInDynamics] }, itemIndex);
		if (policy === 'keep') {
			const kept = withSideUnknown(snapshot?.fieldValues.get(stateField.id)?.value, 'd365');
			const staticData = session.syncStaticData();
			if (staticData && kept && snapshot) rememberUnlinked(staticData, id, kept, snapshot.email);
			await putStateFields(
				session,
				id,
				[
					{ field: linkField.id, value: '' },
					{ field: stateField.id, value: '' },
				],
				itemIndex,
			);
		}
	}
	return outcome;
}

/**
 * A Dynamics record merged into another: its ActiveCampaign contact moves to the master when the master has none;
 * otherwise the master keeps its own and the merged one is treated as deleted.
 */
async function contactMerged(
	session: AcSession,
	base: IDataObject,
	link: ContactLink,
	masterId: string,
	policy: DeletePolicy,
	itemIndex: number,
): Promise<ContactSyncOutput> {
	const { link: linkField, state: stateField } = await session.contactSyncFields();
	const losers = await contactIdsWithFieldValue(session, linkField.id, formatContactLink(link), itemIndex);
	const master: ContactLink = { entity: link.entity, id: masterId };
	const why = `merged into ${formatContactLink(master)} in Dynamics`;
	if (!losers.length) return { ...base, operation: 'skipped', reason: `${why}; no ActiveCampaign contact is linked to it` };
	const masters = await contactIdsWithFieldValue(session, linkField.id, formatContactLink(master), itemIndex);
	if (masters.length) {
		return await applyDeletePolicy(session, base, losers, policy, `${why}, which has its own ActiveCampaign contact ${masters[0]}`, itemIndex);
	}
	const relinked: ContactSyncOutput = { ...base, operation: 'relinked', reason: why, id: losers[0], link: formatContactLink(master), relinkedFrom: formatContactLink(link) };
	if (session.preview) {
		session.planWrite(itemIndex);
		return { ...relinked, preview: true };
	}
	// The state belonged to the merged record: the master's next change is compared from scratch.
	await putStateFields(
		session,
		losers[0],
		[
			{ field: linkField.id, value: formatContactLink(master) },
			{ field: stateField.id, value: '' },
		],
		itemIndex,
	);
	return relinked;
}

/** The contact a merge had linked provisionally, as the item that took the link back reports it. */
function displacedOf(outcome: IDataObject): IDataObject {
	return { id: outcome.id, operation: outcome.operation, reason: outcome.reason };
}

function label(field: ContactFieldDef): string {
	return field.perstag || field.title || field.id;
}

/** What Record Sync State stores: the link, the state a write step computed (merged into the stored one), tags. */
export interface RecordStateInput {
	acId?: string;
	email?: string;
	link?: string;
	state?: string;
	/** Codes of the fields the write step decided; empty: the state is stored as given. */
	stateFields?: string[];
	/** The state the write step started from. */
	stateBase?: string;
	tags?: string[];
	removeTags?: string[];
	/** The linked Dynamics record was deleted: what the delete policy does here. */
	action?: DeleteAction;
}

/** The state to store: the given one, or (with decided fields) the decisions merged into the state stored now. */
export function stateToStore(
	current: string | null | undefined,
	input: Pick<RecordStateInput, 'state' | 'stateFields' | 'stateBase' | 'link'>,
	linkNow: string | null | undefined,
): string | undefined {
	if (input.state === undefined || input.state === '') return undefined;
	if (!input.stateFields?.length) return input.state;
	// A state stored for another linked record keeps none of its row version here.
	const own = input.link ? ownState(linkNow, input.link, current) : (current ?? undefined);
	return mergeStateText(own, input.state, input.stateFields, input.stateBase);
}

/** Record Sync State for a contact: writes the link and state fields only when they differ; applies a deletion. */
export async function recordContactState(session: AcSession, node: INode, input: RecordStateInput, itemIndex: number): Promise<IDataObject> {
	const { link: linkField, state: stateField } = await session.contactSyncFields();
	let target: ContactSnapshot | undefined;
	if (input.acId) target = await readContact(session, input.acId, { itemIndex });
	if (!target && input.email) {
		const found = await session.contactByEmail(input.email, itemIndex);
		if (found) target = await readContact(session, String(found.id), { itemIndex });
	}
	if (!target) {
		if (input.action === 'delete') return { operation: 'skipped', reason: 'the ActiveCampaign contact no longer exists', link: input.link ?? null };
		throw new NodeOperationError(node, `No ActiveCampaign contact ${input.acId ? `with id ${input.acId}` : `with email ${input.email ?? '(none given)'}`}`, {
			itemIndex,
		});
	}
	if (input.action === 'relink' && input.link) {
		// Merged in Dynamics: the link moves to the master, unless another ActiveCampaign contact already has it.
		const base = { link: input.link, email: target.email };
		const others = (await contactIdsWithFieldValue(session, linkField.id, input.link, itemIndex)).filter((id) => id !== target!.id);
		if (others.length) {
			return await applyDeletePolicy(session, base, [target.id], 'keep', `merged into ${input.link} in Dynamics, which has its own ActiveCampaign contact ${others[0]}`, itemIndex);
		}
		const relinked: IDataObject = { ...base, operation: 'relinked', reason: `merged into ${input.link} in Dynamics`, id: target.id };
		if (session.preview) {
			const changes = [contactFieldChange(target, linkField, input.link), contactFieldChange(target, stateField, '')];
			session.planWrite(itemIndex);
			return { ...relinked, changes, preview: true };
		}
		await putStateFields(session, target.id, [{ field: linkField.id, value: input.link }, { field: stateField.id, value: '' }], itemIndex);
		return relinked;
	}
	if (input.action && input.action !== 'relink') {
		const policy: DeletePolicy = input.action === 'delete' ? 'propagate' : input.action === 'flag' ? 'flag' : 'keep';
		return await applyDeletePolicy(session, { link: input.link ?? null, email: target.email }, [target.id], policy, 'deleted in Dynamics', itemIndex);
	}
	const fieldValues: IDataObject[] = [];
	if (input.link !== undefined && input.link !== '' && (target.fieldValues.get(linkField.id)?.value ?? '') !== input.link) {
		// One ActiveCampaign contact per Dynamics record: a record another contact is linked to is not linked twice.
		const others = (await contactIdsWithFieldValue(session, linkField.id, input.link, itemIndex)).filter((id) => id !== target!.id);
		if (others.length) {
			return {
				operation: 'skipped',
				reason: `the Dynamics record ${input.link} is linked to another ActiveCampaign contact (${others[0]})`,
				id: target.id,
				email: target.email,
				link: null,
			};
		}
		fieldValues.push({ field: linkField.id, value: input.link });
	}
	const currentState = target.fieldValues.get(stateField.id)?.value ?? '';
	const state = stateToStore(currentState, input, target.fieldValues.get(linkField.id)?.value);
	if (state !== undefined && currentState !== state) fieldValues.push({ field: stateField.id, value: state });
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
			state: state ?? null,
			...tags,
		};
	}
	if (session.preview) {
		// What the write would change (the tags above were only worked out); nothing is sent.
		const changes = fieldValues.map((fv) => contactFieldChange(target, fv.field === linkField.id ? linkField : stateField, fv.value));
		session.planWrite(itemIndex);
		return { operation: 'updated', id: target.id, email: target.email, link: input.link ?? null, state: state ?? null, ...tags, changes, preview: true };
	}
	await session.request({ method: 'PUT', path: `/api/3/contacts/${target.id}`, body: { contact: { fieldValues } }, itemIndex });
	return { operation: 'updated', id: target.id, email: target.email, link: input.link ?? null, state: state ?? null, ...tags };
}

/** A preview's change of one contact field: its value now (null when it has none) and the value it would get. */
export function contactFieldChange(target: Pick<ContactSnapshot, 'fieldValues'>, field: ContactFieldDef, after: unknown): PreviewChange {
	const before = target.fieldValues.get(field.id)?.value;
	return { field: label(field), before: before ?? null, after: (after ?? null) as PreviewChange['after'] };
}
