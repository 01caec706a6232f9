/**
 * Writing a contact: create by email through `contact/sync`, or update by id (so a changed email updates the same
 * contact), with custom fields, tags by name, list subscriptions and the account link. Every part is compared with
 * the contact's current values first (canonical comparison) and only what differs is written.
 */
import { NodeApiError, NodeOperationError, type IDataObject, type INode, type JsonObject } from 'n8n-workflow';

import { canonicalEmail, sameValue } from '../../shared/sync/canonical';
import { readContact, readContactAccount, readContactTags, snapshotOf, type ContactSnapshot } from './contactRead';
import { encodeContactFieldValue, type ContactFieldDef } from './encode';
import type { AcSession } from './session';
import { planCreated, standInId, wasPlanned, type PreviewChange } from '../../shared/preview';

export type ContactAttribute = 'firstName' | 'lastName' | 'phone';

export interface DesiredContact {
	email?: string;
	attributes: Partial<Record<ContactAttribute, string>>;
	/** Encoded values, one per field. */
	fieldValues: Array<{ field: ContactFieldDef; value: string }>;
	/** Account to link by name; undefined leaves the link alone. */
	accountName?: string;
	/** The account to link by id (it wins over the name), e.g. the one linked to the contact's Dynamics account. */
	accountId?: string;
	/** Job title on the account link; undefined leaves it alone. */
	jobTitle?: string;
	tags: string[];
	removeTags: string[];
	/** List ids to subscribe to. */
	lists: string[];
}

export interface ContactWriteResult {
	operation: 'created' | 'updated' | 'skipped';
	reason?: string;
	id: string;
	email: string;
	/** What was written: attribute names, field perstags/titles, `tags`, `lists`, `account`, `jobTitle`. */
	changes: string[];
	tagsAdded: string[];
	tagsRemoved: string[];
	/** The contact as ActiveCampaign returned it after the data write (attributes and field values), when one was made. */
	after?: ContactSnapshot;
}

export function emptyDesired(): DesiredContact {
	return { attributes: {}, fieldValues: [], tags: [], removeTags: [], lists: [] };
}

/** Resolves custom fields given by perstag, title or id and encodes each value for its field type. */
export async function encodeFieldValues(
	session: AcSession,
	node: INode,
	entries: Array<{ key: string; value: unknown }>,
	itemIndex: number,
): Promise<Array<{ field: ContactFieldDef; value: string }>> {
	const out = new Map<string, { field: ContactFieldDef; value: string }>();
	for (const { key, value } of entries) {
		if (String(key).trim() === '') continue;
		const field = await session.contactField(key);
		if (!field) {
			throw new NodeOperationError(node, `No ActiveCampaign custom field has the personalization tag, title or id "${key}"`, {
				itemIndex,
				description: 'Custom fields are matched by personalization tag (e.g. LEAD_SOURCE), title or id. Check the field list under Contacts → Manage Fields.',
			});
		}
		const encoded = encodeContactFieldValue(field, value);
		if (!encoded.ok) {
			throw new NodeOperationError(node, `Field "${field.title}" (${field.type}): ${encoded.error}`, { itemIndex });
		}
		out.set(field.id, { field, value: encoded.value });
	}
	return [...out.values()];
}

function fieldLabel(field: ContactFieldDef): string {
	return field.perstag || field.title || field.id;
}

/** Creates the contact (`contact/sync`) or updates it by id with only what differs, then tags, lists and account. */
export async function writeContact(
	session: AcSession,
	target: ContactSnapshot | undefined,
	desired: DesiredContact,
	itemIndex: number,
): Promise<ContactWriteResult> {
	const changes: string[] = [];
	let id: string;
	let email: string;
	let operation: ContactWriteResult['operation'];
	let after: ContactSnapshot | undefined;
	/** The written contact as returned; re-read when the answer lacks the field values. */
	const afterWrite = async (body: IDataObject): Promise<ContactSnapshot | undefined> => {
		const contact = body.contact as IDataObject | undefined;
		if (contact && Array.isArray(body.fieldValues)) return snapshotOf(contact, body);
		return contact ? await readContact(session, String(contact.id), { itemIndex }) : undefined;
	};

	if (!target) {
		if (!desired.email) {
			throw new NodeOperationError(session.ctx.getNode(), 'An email is needed to create a contact', { itemIndex });
		}
		const contact: IDataObject = { email: desired.email, ...desired.attributes };
		if (desired.fieldValues.length) {
			contact.fieldValues = desired.fieldValues.map(({ field, value }) => ({ field: field.id, value }));
		}
		// An upsert by email: sending it twice leaves one contact.
		const body = await session.request<IDataObject>({ method: 'POST', path: '/api/3/contact/sync', body: { contact }, itemIndex, repeatable: true });
		const created = body.contact as IDataObject;
		id = String(created.id);
		email = String(created.email ?? desired.email);
		session.forgetContactEmail(email);
		after = await afterWrite(body);
		changes.push('email', ...Object.keys(desired.attributes), ...desired.fieldValues.map(({ field }) => fieldLabel(field)));
		operation = 'created';
	} else {
		id = target.id;
		email = target.email;
		const update = contactUpdate(target, desired);
		const contact = update.contact;
		changes.push(...update.changes);
		if (Object.keys(contact).length) {
			const body = await session.request<IDataObject>({ method: 'PUT', path: `/api/3/contacts/${id}`, body: { contact }, itemIndex });
			email = String((body.contact as IDataObject | undefined)?.email ?? desired.email ?? email);
			session.forgetContactEmail(target.email);
			after = await afterWrite(body);
		}
		operation = 'updated';
	}

	const tagChanges = await applyTags(session, id, target, desired, itemIndex);
	if (tagChanges.added.length || tagChanges.removed.length) changes.push('tags');

	for (const listId of desired.lists) {
		if (target?.lists.get(String(listId)) === 1) continue;
		await session.request({
			method: 'POST',
			path: '/api/3/contactLists',
			body: { contactList: { list: Number(listId), contact: Number(id), status: 1 } },
			itemIndex,
			// Sets a status: the same again changes nothing.
			repeatable: true,
		});
		if (!changes.includes('lists')) changes.push('lists');
	}

	if (desired.accountName !== undefined || desired.jobTitle !== undefined) {
		const current = target ? (target.account !== undefined ? target.account : await readContactAccount(session, id, itemIndex)) : null;
		changes.push(...(await linkAccount(session, id, current, desired.accountName, desired.jobTitle, itemIndex, desired.accountId)));
	}

	if (operation === 'updated' && changes.length === 0) {
		return { operation: 'skipped', reason: 'no changes', id, email, changes, tagsAdded: [], tagsRemoved: [] };
	}
	return { operation, id, email, changes, tagsAdded: tagChanges.added, tagsRemoved: tagChanges.removed, after };
}

/** What an update of the contact sends: only what differs (email, attributes, field values), and their names. */
export function contactUpdate(target: ContactSnapshot, desired: DesiredContact): { contact: IDataObject; changes: string[] } {
	const contact: IDataObject = {};
	const changes: string[] = [];
	if (desired.email !== undefined && canonicalEmail(desired.email) !== canonicalEmail(target.email)) {
		contact.email = desired.email;
		changes.push('email');
	}
	for (const [name, value] of Object.entries(desired.attributes) as Array<[ContactAttribute, string]>) {
		if (value === undefined) continue;
		if (!sameValue(target[name], value)) {
			contact[name] = value;
			changes.push(name);
		}
	}
	const fieldValues = desired.fieldValues.filter(({ field, value }) => !sameValue(target.fieldValues.get(field.id)?.value, value));
	if (fieldValues.length) {
		contact.fieldValues = fieldValues.map(({ field, value }) => ({ field: field.id, value }));
		changes.push(...fieldValues.map(({ field }) => fieldLabel(field)));
	}
	return { contact, changes };
}

/**
 * What {@link writeContact} would do, sending no write (a preview): the operation, each value before and after (before
 * null on a new contact), the tags it would add and remove, the lists it would subscribe to and the account link.
 * The one comparison the write makes: only what differs counts.
 */
export async function previewContactWrite(
	session: AcSession,
	target: ContactSnapshot | undefined,
	desired: DesiredContact,
	itemIndex: number,
): Promise<IDataObject> {
	if (!target && !desired.email) throw new NodeOperationError(session.ctx.getNode(), 'An email is needed to create a contact', { itemIndex });
	const changes: PreviewChange[] = [];
	const change = (field: string, before: unknown, after: unknown) =>
		changes.push({ field, before: (before ?? null) as PreviewChange['before'], after: (after ?? null) as PreviewChange['after'] });
	if (!target) change('email', null, desired.email);
	else if (desired.email !== undefined && canonicalEmail(desired.email) !== canonicalEmail(target.email)) change('email', target.email, desired.email);
	for (const [name, value] of Object.entries(desired.attributes) as Array<[ContactAttribute, string]>) {
		if (value !== undefined && (!target || !sameValue(target[name], value))) change(name, target ? target[name] : null, value);
	}
	for (const { field, value } of desired.fieldValues) {
		const before = target?.fieldValues.get(field.id)?.value;
		if (!target || !sameValue(before, value)) change(fieldLabel(field), before, value);
	}
	// The contact itself: created, or updated when anything of it differs.
	if (!target || changes.length) session.planWrite(itemIndex);
	for (const listId of desired.lists) {
		if (target?.lists.get(String(listId)) === 1) continue;
		change(`list ${listId}`, null, 'subscribed');
		session.planWrite(itemIndex);
	}
	// Tags and the account link: in a preview these send nothing, and count what the write would send.
	const tags = await applyTags(session, target?.id ?? '', target, desired, itemIndex);
	if (desired.accountName !== undefined || desired.jobTitle !== undefined) {
		const current = target ? (target.account !== undefined ? target.account : await readContactAccount(session, target.id, itemIndex)) : null;
		if (desired.accountName !== undefined && (current?.name ?? '').toLowerCase() !== desired.accountName.toLowerCase()) change('account', current?.name, desired.accountName);
		if (desired.jobTitle !== undefined && !sameValue(current?.jobTitle ?? '', desired.jobTitle)) change('jobTitle', current?.jobTitle, desired.jobTitle);
		await linkAccount(session, target?.id ?? '', current, desired.accountName, desired.jobTitle, itemIndex, desired.accountId);
	}
	const operation = !target ? 'created' : changes.length || tags.added.length || tags.removed.length ? 'updated' : 'skipped';
	// Later steps of the same preview may name the contact it would create by its email (resolveContactId).
	if (!target && desired.email) planCreated(session.ctx, 'contact', desired.email);
	return {
		operation,
		...(operation === 'skipped' ? { reason: 'no changes' } : {}),
		id: target?.id ?? null,
		email: desired.email ?? target?.email ?? null,
		changes,
		tagsAdded: tags.added,
		tagsRemoved: tags.removed,
		preview: true,
	};
}

/** Adds and removes the tags by name (only what differs); a preview (session.preview) says which, and sends nothing. */
export async function applyTags(
	session: AcSession,
	contactId: string,
	target: ContactSnapshot | undefined,
	desired: DesiredContact,
	itemIndex: number,
): Promise<{ added: string[]; removed: string[] }> {
	const added: string[] = [];
	const removed: string[] = [];
	const wanted = uniqueNames(desired.tags);
	const unwanted = uniqueNames(desired.removeTags).filter((n) => !wanted.some((w) => w.toLowerCase() === n.toLowerCase()));
	if (!wanted.length && !unwanted.length) return { added, removed };
	const current = target ? (target.tags ?? (await readContactTags(session, contactId, itemIndex))) : [];
	const has = (name: string) => current.find((t) => t.name.toLowerCase() === name.toLowerCase());
	for (const name of wanted) {
		if (has(name)) continue;
		const tag = await session.ensureTag(name, itemIndex);
		if (session.preview) {
			session.planWrite(itemIndex);
			added.push(tag.name);
			continue;
		}
		await session.request({
			method: 'POST',
			path: '/api/3/contactTags',
			body: { contactTag: { contact: contactId, tag: tag.id } },
			itemIndex,
			// A contact has a tag or not: adding it again answers the existing contactTag.
			repeatable: true,
		});
		added.push(tag.name);
	}
	for (const name of unwanted) {
		const present = has(name);
		if (!present) continue;
		if (session.preview) session.planWrite(itemIndex);
		else await session.request({ method: 'DELETE', path: `/api/3/contactTags/${present.contactTagId}`, itemIndex, allowNotFound: true });
		removed.push(present.name);
	}
	return { added, removed };
}

export function uniqueNames(names: string[]): string[] {
	const seen = new Set<string>();
	const out: string[] = [];
	for (const raw of names) {
		const name = String(raw ?? '').trim();
		if (!name || seen.has(name.toLowerCase())) continue;
		seen.add(name.toLowerCase());
		out.push(name);
	}
	return out;
}

/**
 * Links a contact to an account by id or by name (created when missing) and sets the job title on the link; an
 * empty name removes the link. A contact belongs to one account: a link to another account is moved (also when
 * ActiveCampaign answers 422 "already associated" because the link appeared meanwhile).
 */
export async function linkAccount(
	session: AcSession,
	contactId: string,
	current: ContactSnapshot['account'],
	accountName: string | undefined,
	jobTitle: string | undefined,
	itemIndex: number,
	accountId?: string,
): Promise<string[]> {
	const changes: string[] = [];
	// A preview (session.preview) decides as the write does and counts each request instead of sending it.
	const send = async (request: Parameters<AcSession['request']>[0]) => (session.preview ? session.planWrite(itemIndex) : void (await session.request(request)));
	if (accountId === undefined && accountName !== undefined && accountName.trim() === '') {
		// No account (it was removed on the other side): the link goes, and the job title with it.
		if (current) {
			await send({ method: 'DELETE', path: `/api/3/accountContacts/${current.accountContactId}`, itemIndex, allowNotFound: true });
			changes.push('account');
		}
		return changes;
	}
	let targetAccountId = accountId;
	if (targetAccountId === undefined && accountName !== undefined && accountName.trim() !== '') {
		targetAccountId = String((await ensureAccount(session, accountName, itemIndex)).id);
	}
	if (targetAccountId === undefined || current?.id === targetAccountId) {
		// The account stays; only the job title may change, and it lives on the existing link.
		if (current && jobTitle !== undefined && !sameValue(current.jobTitle, jobTitle)) {
			await send({
				method: 'PUT',
				path: `/api/3/accountContacts/${current.accountContactId}`,
				body: { accountContact: { jobTitle } },
				itemIndex,
			});
			changes.push('jobTitle');
		}
		return changes;
	}
	const move = async (link: { accountContactId: string; jobTitle: string }) => {
		const body: IDataObject = { account: Number(targetAccountId) };
		if (jobTitle !== undefined) body.jobTitle = jobTitle;
		await send({ method: 'PUT', path: `/api/3/accountContacts/${link.accountContactId}`, body: { accountContact: body }, itemIndex });
	};
	if (current) {
		await move(current);
	} else {
		try {
			await send({
				method: 'POST',
				path: '/api/3/accountContacts',
				body: { accountContact: { contact: Number(contactId), account: Number(targetAccountId), ...(jobTitle !== undefined ? { jobTitle } : {}) } },
				itemIndex,
				// A repeat after a lost answer is refused with 422 "already associated", handled below.
				repeatable: true,
			});
		} catch (error) {
			const text = String((error as Error).message ?? '');
			// Older n8n (1.x) hands the transport a 422 without its body, so the status alone must do: the link exists.
			const refused = /already associated/i.test(text) || String((error as { httpCode?: unknown }).httpCode) === '422';
			if (!refused) throw new NodeApiError(session.ctx.getNode(), error as JsonObject);
			const existing = await readContactAccount(session, contactId, itemIndex);
			if (!existing) throw new NodeApiError(session.ctx.getNode(), error as JsonObject);
			if (existing.id !== targetAccountId) await move(existing);
		}
	}
	changes.push('account');
	if (jobTitle !== undefined && jobTitle !== '') changes.push('jobTitle');
	return changes;
}

/** The account with this name, created when missing. */
export async function ensureAccount(session: AcSession, name: string, itemIndex: number): Promise<IDataObject> {
	const existing = await session.accountByName(name, itemIndex);
	if (existing) return existing;
	if (session.preview) {
		// Created once by the real run (by this step, or by an earlier one such as the account step): later items find
		// the stand-in.
		const standIn: IDataObject = { id: standInId(name.trim()), name: name.trim() };
		session.rememberAccount(standIn);
		if (!wasPlanned(session.ctx, 'account', name)) session.planWrite(itemIndex);
		planCreated(session.ctx, 'account', name);
		return standIn;
	}
	try {
		// Names are unique: a repeat after a lost answer is refused as a duplicate and handled below.
		const body = await session.request<IDataObject>({
			method: 'POST',
			path: '/api/3/accounts',
			body: { account: { name: name.trim() } },
			itemIndex,
			repeatable: true,
		});
		const account = body.account as IDataObject;
		session.rememberAccount(account);
		return account;
	} catch (error) {
		// Names are unique: another writer created it meanwhile.
		const again = await session.accountByName(name, itemIndex, true);
		if (again) return again;
		throw new NodeApiError(session.ctx.getNode(), error as JsonObject);
	}
}
