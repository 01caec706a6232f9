/**
 * Contact → Create or Update Many: every input item goes through the bulk import API (250 contacts and at most
 * 399,999 bytes per request), custom fields by id, tags by name, and each item gets its own result or error back.
 * With sync items, the stored sync states can be read first (in bulk) so a rerun writes nothing for unchanged
 * records; changed records that are already linked go through the one-by-one sync path (conflicts, email changes).
 */
import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { NOT_HELD, precedenceAllows, SKIP_REASONS } from '../../../shared/sync/decide';
import { baseEntries, formatFieldState } from '../../../shared/sync/fieldState';
import { planField, planFields, sourceUnchanged, type PlanField } from '../../../shared/sync/planner';
import { holdBack, pendingLinkContacts, unlinkedEmails } from '../../../shared/sync/retries';
import { formatContactLink, isGuid, parseState, type LinkedEntity } from '../../../shared/sync/state';
import { packBatches, runBulkImport, type BulkEntry, type BulkOptions, type BulkResult } from '../../helpers/bulk';
import { contactsByIds, valuesOfField } from '../../helpers/contactRead';
import { sourceDigests, syncContactItem } from '../../helpers/contactSync';
import { linkAccount, uniqueNames, type DesiredContact } from '../../helpers/contactWrite';
import { encodeFieldValues } from '../../helpers/contactWrite';
import { parseSyncItem, stateKeys, type SyncItem } from '../../../shared/sync/syncItem';
import type { BatchOperation, BatchOutcome, OpContext } from '../common';
import { param, syncDefaults } from '../common';
import { desiredFromParameters } from './shared';

interface Prepared {
	itemIndex: number;
	contact: IDataObject;
	/** Shown in the item's output. */
	extra: IDataObject;
	/**
	 * Bulk import cannot set a job title (it lives on the account link): such a contact is imported without its
	 * account and with a state that holds neither, then linked with its job title in one request, and its state
	 * completed by a second import. A failure leaves the state saying "not written", so the next write tries again.
	 */
	accountLink?: { accountName: string; jobTitle: string; state: string };
}

function bulkContact(desired: DesiredContact, email: string): IDataObject {
	const contact: IDataObject = { email };
	if (desired.attributes.firstName !== undefined) contact.first_name = desired.attributes.firstName;
	if (desired.attributes.lastName !== undefined) contact.last_name = desired.attributes.lastName;
	if (desired.attributes.phone !== undefined) contact.phone = desired.attributes.phone;
	if (desired.accountName) contact.customer_acct_name = desired.accountName;
	const tags = uniqueNames(desired.tags);
	if (tags.length) contact.tags = tags;
	if (desired.fieldValues.length) contact.fields = desired.fieldValues.map(({ field, value }) => ({ id: Number(field.id), value }));
	if (desired.lists.length) contact.subscribe = desired.lists.map((listid) => ({ listid: Number(listid) }));
	return contact;
}

function failure(ctx: OpContext, itemIndex: number, error: unknown): BatchOutcome {
	if (error instanceof Error) return { itemIndex, error };
	return { itemIndex, error: new NodeOperationError(ctx.node, String(error), { itemIndex }) };
}

/** Lower-cased emails of the given contacts. */
async function emailsOf(ctx: OpContext, contactIds: string[]): Promise<Set<string>> {
	const emails = new Set<string>();
	for (const { contact } of await contactsByIds(ctx.session, contactIds)) {
		if (typeof contact.email === 'string' && contact.email) emails.add(contact.email.toLowerCase());
	}
	return emails;
}

export const upsertMany: BatchOperation = async (ctx, itemIndices) => {
	const outcomes: BatchOutcome[] = [];
	const prepared: Prepared[] = [];
	const syncItems: Array<{ itemIndex: number; item: SyncItem }> = [];
	const first = itemIndices[0];
	const options = ctx.fn.getNodeParameter('bulkOptions', first, {}) as IDataObject;

	for (const itemIndex of itemIndices) {
		try {
			if (ctx.fn.getNodeParameter('dataMode', itemIndex, 'fields') === 'syncItem') {
				const parsed = parseSyncItem(ctx.fn.getInputData()[itemIndex]?.json);
				if (!parsed.ok) throw new NodeOperationError(ctx.node, parsed.error, { itemIndex });
				syncItems.push({ itemIndex, item: parsed.item });
				continue;
			}
			const email = param(ctx, 'email', itemIndex);
			if (!email) throw new NodeOperationError(ctx.node, 'An email is needed', { itemIndex });
			const desired = await desiredFromParameters(ctx, itemIndex, 'additionalFields', email);
			prepared.push({ itemIndex, contact: bulkContact(desired, email), extra: {} });
		} catch (error) {
			outcomes.push(failure(ctx, itemIndex, error));
		}
	}

	if (syncItems.length) await prepareSyncItems(ctx, syncItems, prepared, outcomes);

	if (prepared.length && ctx.session.preview) {
		// The import matches by email: a contact with the email takes the values, else one is created. Nothing is sent;
		// the requests are counted: one per import request (on the first contact it carries), and for contacts with an
		// account, their account link and one more import of their state.
		for (const batch of packBatches(prepared)) ctx.session.planWrite(batch[0].itemIndex);
		const linking = prepared.filter((p) => p.accountLink);
		for (const p of linking) await linkAccount(ctx.session, '', null, p.accountLink!.accountName, p.accountLink!.jobTitle, p.itemIndex);
		const stateImports = linking.map((p) => ({ itemIndex: p.itemIndex, contact: { email: String(p.contact.email), fields: [{ id: 0, value: p.accountLink!.state }] } }));
		for (const batch of packBatches(stateImports)) ctx.session.planWrite(batch[0].itemIndex);
		for (const p of prepared) {
			const { fields, ...values } = p.contact;
			outcomes.push({ itemIndex: p.itemIndex, json: { operation: 'imported', preview: true, email: String(p.contact.email), values, ...(fields ? { fieldValues: fields } : {}), ...p.extra } });
		}
	} else if (prepared.length) {
		const entries: BulkEntry[] = prepared.map((p) => ({ itemIndex: p.itemIndex, contact: p.contact }));
		const byIndex = new Map(prepared.map((p) => [p.itemIndex, p]));
		const bulkOptions = {
			excludeAutomations: options.excludeAutomations === true,
			timeoutMs: Math.max(1, Number(options.timeoutMinutes ?? 15)) * 60_000,
		};
		const results = await runBulkImport(ctx.session, entries, bulkOptions);
		const linkErrors = await linkImportedAccounts(ctx, results, byIndex, bulkOptions);
		for (const result of results) {
			const p = byIndex.get(result.itemIndex)!;
			const linkError = linkErrors.get(result.itemIndex);
			if (result.ok && linkError) {
				outcomes.push({ itemIndex: result.itemIndex, error: linkError });
			} else if (result.ok) {
				outcomes.push({
					itemIndex: result.itemIndex,
					json: { operation: 'imported', email: String(p.contact.email), batchId: result.batchId, ...p.extra },
				});
			} else {
				outcomes.push({
					itemIndex: result.itemIndex,
					error: new NodeOperationError(ctx.node, result.error, {
						itemIndex: result.itemIndex,
						description: `Contact ${String(p.contact.email)}${result.batchId ? ` (import batch ${result.batchId})` : ''}`,
					}),
				});
			}
		}
	}
	return outcomes.sort((a, b) => a.itemIndex - b.itemIndex);
};

/**
 * Links the imported contacts that have a job title to their account (one request each, the job title on the link),
 * then records their complete sync state with one more import. Returns the items whose link could not be made.
 */
async function linkImportedAccounts(
	ctx: OpContext,
	results: BulkResult[],
	byIndex: Map<number, Prepared>,
	options: BulkOptions,
): Promise<Map<number, Error>> {
	const errors = new Map<number, Error>();
	const pending = results.filter((r) => r.ok && byIndex.get(r.itemIndex)?.accountLink) as Array<Extract<BulkResult, { ok: true }>>;
	if (!pending.length) return errors;
	// Which id is whose: the batches' contact ids read back (100 per request), by email.
	const idsByEmail = await contactIdsByEmail(ctx, [...new Set(pending.flatMap((r) => r.batchContactIds))]);
	const linked: BulkEntry[] = [];
	const { state: stateField } = await ctx.session.contactSyncFields();
	for (const result of pending) {
		const p = byIndex.get(result.itemIndex)!;
		const link = p.accountLink!;
		const email = String(p.contact.email);
		try {
			const id = idsByEmail.get(email.toLowerCase()) ?? String((await ctx.session.contactByEmail(email, result.itemIndex, true))?.id ?? '');
			if (!id) throw new NodeOperationError(ctx.node, `ActiveCampaign reported ${email} as imported, but no contact has this email`, { itemIndex: result.itemIndex });
			await linkAccount(ctx.session, id, null, link.accountName, link.jobTitle, result.itemIndex);
			linked.push({ itemIndex: result.itemIndex, contact: { email, fields: [{ id: Number(stateField.id), value: link.state }] } });
		} catch (error) {
			errors.set(
				result.itemIndex,
				new NodeOperationError(ctx.node, `Contact ${email} was imported, but its account "${link.accountName}" and job title could not be set: ${(error as Error).message}`, {
					itemIndex: result.itemIndex,
				}),
			);
		}
	}
	// If this import fails, the stored state still says "account and job title not written": the next write of the
	// record sets them again (unchanged values), and nothing is taken for a deletion.
	for (const result of linked.length ? await runBulkImport(ctx.session, linked, options) : []) {
		if (!result.ok) {
			errors.set(
				result.itemIndex,
				new NodeOperationError(ctx.node, `Contact was imported and linked to its account, but its sync state could not be recorded: ${result.error}`, {
					itemIndex: result.itemIndex,
				}),
			);
		}
	}
	return errors;
}

/** Lower-cased email → contact id for the given contacts (`GET /contacts?ids[]=…`, 100 per request). */
async function contactIdsByEmail(ctx: OpContext, contactIds: string[]): Promise<Map<string, string>> {
	const ids = new Map<string, string>();
	for (const { contact } of await contactsByIds(ctx.session, contactIds)) {
		if (typeof contact.email === 'string' && contact.email) ids.set(contact.email.toLowerCase(), String(contact.id));
	}
	return ids;
}

/** Whether a linked contact's stored state already holds this item's Dynamics values (nothing to carry). */
function sourceAlreadyStored(stored: string, item: SyncItem): boolean {
	const v1 = parseState(stored);
	if (v1) return v1.d365Hash === item.source.hash;
	if (!item.fields.length) return false;
	return sourceUnchanged(baseEntries(stored, stateKeys(item)), item.fields, 'toActiveCampaign');
}

async function prepareSyncItems(
	ctx: OpContext,
	items: Array<{ itemIndex: number; item: SyncItem }>,
	prepared: Prepared[],
	outcomes: BatchOutcome[],
): Promise<void> {
	const { link: linkField, state: stateField } = await ctx.session.contactSyncFields();
	const skipMatching = (ctx.fn.getNodeParameter('syncOptions', items[0].itemIndex, {}) as IDataObject).skipMatchingState !== false;

	// Lead and contact with one email in the same run: one of them keeps the ActiveCampaign contact.
	const byEmail = new Map<string, Array<{ itemIndex: number; item: SyncItem }>>();
	const valid: Array<{ itemIndex: number; item: SyncItem; email: string; link: string; entity: LinkedEntity }> = [];
	for (const entry of items) {
		const { item, itemIndex } = entry;
		try {
			if (item.entity !== 'lead' && item.entity !== 'contact') throw new NodeOperationError(ctx.node, `A ${item.entity} sync item cannot be written as a contact`, { itemIndex });
			if (item.direction === 'toDynamics') throw new NodeOperationError(ctx.node, 'This sync item goes to Dynamics 365 (direction "toDynamics")', { itemIndex });
			const d365Id = item.match.d365Id ?? item.source.id;
			if (!isGuid(d365Id)) throw new NodeOperationError(ctx.node, `The sync item has no Dynamics id (match.d365Id): "${d365Id ?? ''}"`, { itemIndex });
			if (item.event === 'deleted' || item.match.mergedInto) {
				valid.push({ itemIndex, item, email: '', link: formatContactLink({ entity: item.entity, id: d365Id }), entity: item.entity });
				continue;
			}
			if (!item.source.hash && !item.fields.length) throw new NodeOperationError(ctx.node, 'The sync item has no source hash (source.hash)', { itemIndex });
			const email = String(item.record.email ?? item.match.email ?? '').trim();
			if (!email) throw new NodeOperationError(ctx.node, 'The sync item has no email', { itemIndex });
			const link = formatContactLink({ entity: item.entity, id: d365Id });
			valid.push({ itemIndex, item, email, link, entity: item.entity });
			const group = byEmail.get(email.toLowerCase()) ?? [];
			group.push(entry);
			byEmail.set(email.toLowerCase(), group);
		} catch (error) {
			outcomes.push(failure(ctx, itemIndex, error));
		}
	}
	const dropped = new Set<number>();
	for (const group of byEmail.values()) {
		// Two records of one table with one email: ActiveCampaign holds one contact per email, so the first is
		// written and the others are reported (bulk import would silently keep only the last one's values).
		const firstOf = new Map<string, { itemIndex: number; item: SyncItem }>();
		for (const g of group) {
			const first = firstOf.get(g.item.entity);
			if (!first) {
				firstOf.set(g.item.entity, g);
				continue;
			}
			dropped.add(g.itemIndex);
			outcomes.push({
				itemIndex: g.itemIndex,
				json: {
					operation: 'skipped',
					reason: `another Dynamics ${g.item.entity} in this run has the same email (${String(first.item.match.d365Id ?? first.item.source.id ?? '')}); ActiveCampaign holds one contact per email`,
					email: String(g.item.record.email ?? g.item.match.email ?? ''),
					entity: g.item.entity,
					d365Id: g.item.match.d365Id ?? null,
				},
			});
		}
		const entities = new Set(group.map((g) => g.item.entity));
		if (entities.size < 2) continue;
		for (const g of group) {
			const precedence = g.item.policy.precedence ?? syncDefaults(ctx, g.itemIndex).precedence;
			const other = g.item.entity === 'lead' ? 'contact' : 'lead';
			if (!precedenceAllows(g.item.entity as LinkedEntity, other, precedence)) {
				// Read again when the record that has this email lets it go.
				const staticData = ctx.session.syncStaticData();
				const id = g.item.match.d365Id ?? g.item.source.id;
				const holder = group.find((o) => o.item.entity === other);
				const holderId = holder?.item.match.d365Id ?? holder?.item.source.id;
				if (staticData && id) {
					holdBack(
						staticData,
						String(g.item.record.email ?? g.item.match.email ?? ''),
						{ system: 'dynamics', kind: g.item.entity, id: String(id) },
						holderId ? `${other}:${holderId}` : undefined,
						sourceDigests(g.item),
					);
				}
				dropped.add(g.itemIndex);
				outcomes.push({ itemIndex: g.itemIndex, json: { operation: 'skipped', reason: SKIP_REASONS.precedence(other, g.item.entity), email: String(g.item.record.email ?? ''), entity: g.item.entity } });
			}
		}
	}

	// Every link in the account (contact id → lead:/contact:<guid>), and the emails of the linked contacts: a record
	// new to the sync whose email already belongs to a linked contact must not be bulk-imported over it (bulk import
	// matches by email); it goes through the one-by-one path, which applies the lead/contact precedence.
	const links = (await valuesOfField(ctx.session, linkField.id))!;
	const linkedContacts = new Map([...links].map(([contactId, value]) => [value.toLowerCase(), contactId]));
	// So are the contacts the sync holds without a recorded link: a link whose recording failed, or a contact unlinked
	// under delete policy Keep that remembers its side of the last sync.
	const staticData = ctx.session.syncStaticData();
	const pending = staticData ? pendingLinkContacts(staticData).filter((id) => !links.has(id)) : [];
	const claimedEmails = await emailsOf(ctx, [...new Set([...links.keys(), ...pending])]);
	for (const email of staticData ? unlinkedEmails(staticData) : []) claimedEmails.add(email);
	let states: Map<string, string> | undefined;
	if (skipMatching) states = await valuesOfField(ctx.session, stateField.id);

	for (const entry of valid) {
		if (dropped.has(entry.itemIndex)) continue;
		const { item, itemIndex } = entry;
		try {
			if (item.event === 'deleted' || item.match.mergedInto) {
				outcomes.push({ itemIndex, json: await syncContactItem(ctx.session, ctx.node, item, syncDefaults(ctx, itemIndex), itemIndex) });
				continue;
			}
			const record = item.record as IDataObject;
			const raw = record.fieldValues && typeof record.fieldValues === 'object' ? (record.fieldValues as IDataObject) : {};
			const encoded = (await encodeFieldValues(ctx.session, ctx.node, Object.entries(raw).map(([key, value]) => ({ key, value })), itemIndex)).filter(
				({ field }) => field.id !== linkField.id && field.id !== stateField.id,
			);
			const desired: DesiredContact = {
				email: entry.email,
				attributes: {},
				fieldValues: encoded,
				tags: item.tags,
				removeTags: [],
				lists: [],
			};
			for (const name of ['firstName', 'lastName', 'phone'] as const) {
				if (record[name] !== undefined) desired.attributes[name] = record[name] === null ? '' : String(record[name]);
			}
			const accountName = record.accountName ?? item.related.accountName;
			if (typeof accountName === 'string' && accountName.trim()) desired.accountName = accountName.trim();
			// The state of a new contact, by the one planner: each field as the import sends it. A job title with an
			// account is set right after the import (see Prepared.accountLink); without an account ActiveCampaign
			// cannot hold it, and the item says so under notWritten.
			const keys = stateKeys(item);
			const sent = new Map<string, unknown>([
				['email', desired.email],
				['firstName', desired.attributes.firstName],
				['lastName', desired.attributes.lastName],
				['phone', desired.attributes.phone],
				['accountName', desired.accountName],
			]);
			for (const { field, value } of desired.fieldValues) sent.set(field.id, value);
			const jobTitle = String(record.jobTitle ?? '').trim();
			const linkAfterImport = Boolean(
				jobTitle && desired.accountName && item.fields.some((f) => f.activeCampaign === 'jobTitle' && f.direction !== 'toDynamics'),
			);
			const planState = async (pendingLink: boolean) => {
				const planned: PlanField[] = [];
				for (const field of item.fields) {
					if (field.direction === 'toDynamics') {
						planned.push(planField(field, null, undefined));
						continue;
					}
					const def = !sent.has(field.activeCampaign) ? await ctx.session.contactField(field.activeCampaign) : undefined;
					const isJobTitle = field.activeCampaign === 'jobTitle';
					const value = isJobTitle ? jobTitle : (sent.get(field.activeCampaign) ?? (def ? sent.get(def.id) : undefined));
					let cannotHold: string | undefined;
					if (isJobTitle && jobTitle && !desired.accountName) cannotHold = NOT_HELD.jobTitleWithoutAccount;
					else if (pendingLink && (isJobTitle || field.activeCampaign === 'accountName')) cannotHold = 'set after the import';
					planned.push(planField(field, null, value, cannotHold ? { cannotHold } : {}));
				}
				const plan = planFields({ direction: 'toActiveCampaign', policy: item.policy.conflict ?? syncDefaults(ctx, itemIndex).conflict, exists: false, base: new Map(), fields: planned });
				return { notWritten: plan.notWritten, state: item.fields.length ? formatFieldState(keys, plan.entries) : '' };
			};
			const plan = await planState(linkAfterImport);
			const newState = plan.state;

			const linkedId = linkedContacts.get(entry.link);
			if (linkedId === undefined && item.entity === 'lead' && item.match.qualified === true) {
				outcomes.push({
					itemIndex,
					json: { operation: 'skipped', reason: 'the lead was qualified: the Dynamics contact it became is synced instead', email: entry.email, entity: 'lead' },
				});
				continue;
			}
			if (linkedId === undefined && claimedEmails.has(entry.email.toLowerCase())) {
				const json = await syncContactItem(ctx.session, ctx.node, item, syncDefaults(ctx, itemIndex), itemIndex);
				outcomes.push({ itemIndex, json });
				continue;
			}
			if (linkedId !== undefined) {
				const stored = states?.get(linkedId);
				if (skipMatching && stored !== undefined && sourceAlreadyStored(stored, item)) {
					outcomes.push({ itemIndex, json: { operation: 'skipped', reason: SKIP_REASONS.unchanged, id: linkedId, email: entry.email, link: entry.link } });
					continue;
				}
				// Linked and changed: one by one, with conflict, precedence and email-change handling.
				const json = await syncContactItem(ctx.session, ctx.node, item, syncDefaults(ctx, itemIndex), itemIndex);
				outcomes.push({ itemIndex, json });
				continue;
			}
			desired.fieldValues.push({ field: linkField, value: entry.link });
			if (newState) desired.fieldValues.push({ field: stateField, value: newState });

			if (linkAfterImport) {
				const complete = await planState(false);
				prepared.push({
					itemIndex,
					contact: bulkContact({ ...desired, accountName: undefined }, entry.email),
					extra: { link: entry.link, state: complete.state, entity: entry.entity, ...(complete.notWritten.length ? { notWritten: complete.notWritten as unknown as IDataObject[] } : {}) },
					accountLink: { accountName: desired.accountName!, jobTitle, state: complete.state },
				});
				continue;
			}
			prepared.push({
				itemIndex,
				contact: bulkContact(desired, entry.email),
				extra: { link: entry.link, state: newState, entity: entry.entity, ...(plan.notWritten.length ? { notWritten: plan.notWritten as unknown as IDataObject[] } : {}) },
			});
		} catch (error) {
			outcomes.push(failure(ctx, itemIndex, error));
		}
	}
}
