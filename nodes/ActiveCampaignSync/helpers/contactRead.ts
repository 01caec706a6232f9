/** Reading a contact with what the write steps and the Field Map need: field values, tags, account, lists. */
import type { IDataObject } from 'n8n-workflow';

import { isStandIn } from '../../shared/preview';
import { NOT_READ } from '../../shared/sync/decide';
import { parseContactLink, parseState, SYNC_FIELDS } from '../../shared/sync/state';
import { acAllByOffset, acContactPageBodies, acListIfCheaper, MAX_PAGE_SIZE } from '../transport';
import type { AcSession } from './session';
import { omitKeys } from '../../shared/object';

export interface ContactSnapshot {
	id: string;
	email: string;
	firstName: string;
	lastName: string;
	phone: string;
	cdate?: string;
	udate?: string;
	raw: IDataObject;
	/** field id → { fieldValue id, value } */
	fieldValues: Map<string, { id: string; value: string | null }>;
	/** list id → status */
	lists: Map<string, number>;
	/** Present when asked for. */
	tags?: Array<{ contactTagId: string; tagId: string; name: string }>;
	/** Present when asked for; null when the contact has no account. */
	account?: AccountLink | null;
	/** The account link was left unread on purpose (between full scans, see changes.ts). */
	accountNotRead?: boolean;
}

/** A contact's account link (ActiveCampaign's accountContact): the account, and the job title kept on the link. */
export interface AccountLink {
	id: string;
	name: string;
	jobTitle: string;
	accountContactId: string;
	/**
	 * Never changed since it was made (its updated time is its created time): a link made without a job title has
	 * none yet. A link that was moved or edited carries the job title it had, so an empty one there was someone's.
	 */
	untouched?: boolean;
}

/** The link as the API returns it, with its account's name. */
export function accountLinkOf(link: IDataObject, name: string): AccountLink {
	const created = typeof link.createdTimestamp === 'string' ? Date.parse(link.createdTimestamp) : NaN;
	const updated = typeof link.updatedTimestamp === 'string' ? Date.parse(link.updatedTimestamp) : NaN;
	return {
		id: String(link.account),
		name,
		jobTitle: String(link.jobTitle ?? ''),
		accountContactId: String(link.id),
		...(Number.isNaN(created) || Number.isNaN(updated) ? {} : { untouched: updated <= created }),
	};
}

export interface ReadOptions {
	tags?: boolean;
	account?: boolean;
	itemIndex?: number;
	/** Fail with ActiveCampaign's own 404 message instead of answering undefined. */
	mustExist?: boolean;
}

/** GET /contacts/{id} (field values and lists come side-loaded), plus tags and the account link when asked. */
export async function readContact(session: AcSession, id: string, options: ReadOptions = {}): Promise<ContactSnapshot | undefined> {
	// Read ahead for this run and not written since (AcSession.prefetched): used once, then read afresh.
	const ahead = session.prefetched.get(String(id));
	if (ahead) {
		session.prefetched.delete(String(id));
		return ahead;
	}
	const body = await session.request<IDataObject | undefined>({
		method: 'GET',
		path: `/api/3/contacts/${encodeURIComponent(id)}`,
		itemIndex: options.itemIndex,
		allowNotFound: !options.mustExist,
	});
	const contact = body?.contact as IDataObject | undefined;
	if (!body || !contact) return undefined;
	const snapshot = snapshotOf(contact, body);
	if (options.tags) snapshot.tags = await readContactTags(session, snapshot.id, options.itemIndex);
	if (options.account) snapshot.account = await readContactAccount(session, snapshot.id, options.itemIndex);
	return snapshot;
}

export function snapshotOf(contact: IDataObject, sideLoaded: IDataObject = {}): ContactSnapshot {
	const fieldValues = new Map<string, { id: string; value: string | null }>();
	for (const fv of (sideLoaded.fieldValues as IDataObject[] | undefined) ?? []) {
		if (typeof fv !== 'object' || fv === null) continue;
		if (fv.contact !== undefined && String(fv.contact) !== String(contact.id)) continue;
		fieldValues.set(String(fv.field), { id: String(fv.id), value: fv.value === null || fv.value === undefined ? null : String(fv.value) });
	}
	const lists = new Map<string, number>();
	for (const cl of (sideLoaded.contactLists as IDataObject[] | undefined) ?? []) {
		if (typeof cl !== 'object' || cl === null) continue;
		lists.set(String(cl.list), Number(cl.status));
	}
	return {
		id: String(contact.id),
		email: String(contact.email ?? ''),
		firstName: String(contact.firstName ?? ''),
		lastName: String(contact.lastName ?? ''),
		phone: String(contact.phone ?? ''),
		cdate: typeof contact.cdate === 'string' ? contact.cdate : undefined,
		udate: typeof contact.udate === 'string' ? contact.udate : undefined,
		raw: contact,
		fieldValues,
		lists,
	};
}

/** The relations Get Changes asks the contact list to side-load (`include`), so a changed contact needs no read of its own. */
export const LIST_SIDE_LOADS = ['fieldValues', 'contactTags', 'contactLists'] as const;

/**
 * Each contact's side-loaded relations from one page of the contact list, or undefined when the answer lacks one of
 * them (ActiveCampaign does not document `include` on the list: then each contact is read on its own, as before).
 */
export function sideLoadsByContact(body: IDataObject): Map<string, IDataObject> | undefined {
	if (!LIST_SIDE_LOADS.every((name) => Array.isArray(body[name]))) return undefined;
	const out = new Map<string, IDataObject>();
	for (const name of LIST_SIDE_LOADS) {
		for (const related of body[name] as IDataObject[]) {
			if (typeof related !== 'object' || related === null) continue;
			const contact = String(related.contact);
			const entry = out.get(contact) ?? Object.fromEntries(LIST_SIDE_LOADS.map((n) => [n, [] as IDataObject[]]));
			(entry[name] as IDataObject[]).push(related);
			out.set(contact, entry);
		}
	}
	return out;
}

/**
 * A contact as the contact list returned it with its side-loads (sideLoadsByContact), and its account link when the
 * caller read every link already (undefined: read it for this contact).
 */
export async function snapshotFromList(
	session: AcSession,
	contact: IDataObject,
	related: IDataObject | undefined,
	/** 'notRead': left unread on purpose (undefined: read it now). */
	account: ContactSnapshot['account'] | 'notRead' | undefined,
): Promise<ContactSnapshot> {
	const sideLoaded = related ?? {};
	const snapshot = snapshotOf(contact, sideLoaded);
	snapshot.tags = [];
	for (const ct of (sideLoaded.contactTags as IDataObject[] | undefined) ?? []) {
		const tag = await session.tagById(String(ct.tag));
		snapshot.tags.push({ contactTagId: String(ct.id), tagId: String(ct.tag), name: tag?.name ?? '' });
	}
	if (account === 'notRead') snapshot.accountNotRead = true;
	else snapshot.account = account !== undefined ? account : await readContactAccount(session, snapshot.id);
	return snapshot;
}

/**
 * The account link of each of these contacts (null: none), the cheaper way: the whole link list, 100 per request, when
 * that takes fewer requests than one per contact; else each contact's own. Account names come the same way.
 */
export async function accountLinksOf(session: AcSession, contactIds: string[], itemIndex?: number): Promise<Map<string, ContactSnapshot['account']>> {
	const out = new Map<string, ContactSnapshot['account']>();
	const wanted = new Set(contactIds.map(String));
	if (!wanted.size) return out;
	let links = await acListIfCheaper(session.ctx, '/api/3/accountContacts', 'accountContacts', wanted.size, { itemIndex });
	if (!links) {
		// One read each; the accounts' names after, all at once (the account list when cheaper).
		links = [];
		for (const id of wanted) {
			const body = await session.request<IDataObject>({ method: 'GET', path: `/api/3/contacts/${id}/accountContacts`, itemIndex });
			links.push(...((body.accountContacts as IDataObject[] | undefined) ?? []).map((link) => ({ ...link, contact: link.contact ?? id })));
		}
	}
	const first = new Map<string, IDataObject>();
	for (const link of links) {
		const contact = String(link.contact);
		if (!wanted.has(contact)) continue;
		const known = first.get(contact);
		if (!known || Number(link.id) < Number(known.id)) first.set(contact, link);
	}
	await session.knowAccountNames([...new Set([...first.values()].map((l) => String(l.account)))], itemIndex);
	for (const id of wanted) {
		const link = first.get(id);
		out.set(
			id,
			link
				? accountLinkOf(link, (await session.accountName(String(link.account), itemIndex)) ?? '')
				: null,
		);
	}
	return out;
}

/**
 * These contacts (those that exist), 100 ids per request (`ids[]`, documented; in the path, so that no query
 * serialiser renames it). With `include`, each comes with its field values, tags and lists side-loaded, or with
 * `related` undefined when the answer lacks them.
 */
export async function contactsByIds(session: AcSession, ids: string[], include = false): Promise<Array<{ contact: IDataObject; related?: IDataObject }>> {
	const out: Array<{ contact: IDataObject; related?: IDataObject }> = [];
	for (let start = 0; start < ids.length; start += MAX_PAGE_SIZE) {
		const path = `/api/3/contacts?${ids
			.slice(start, start + MAX_PAGE_SIZE)
			.map((id) => `ids%5B%5D=${encodeURIComponent(id)}`)
			.join('&')}`;
		const qs: IDataObject = include ? { include: LIST_SIDE_LOADS.join(',') } : {};
		for await (const { contacts, body } of acContactPageBodies(session.ctx, qs, { path })) {
			const related = include ? sideLoadsByContact(body) : undefined;
			for (const contact of contacts) out.push({ contact, related: related ? (related.get(String(contact.id)) ?? {}) : undefined });
		}
	}
	return out;
}

/**
 * Every contact's value of one custom field (`GET /fieldValues?filters[fieldid]=`, paged): contact id → value, empty
 * values left out. With `perRecord`, only when that takes no more requests than `perRecord` searches (else undefined).
 */
export async function valuesOfField(session: AcSession, fieldId: string, perRecord?: number): Promise<Map<string, string> | undefined> {
	// A field a preview would create: no contact holds a value of it yet.
	if (isStandIn(fieldId)) return new Map();
	const qs = { 'filters[fieldid]': fieldId };
	const values =
		perRecord === undefined
			? await acAllByOffset(session.ctx, '/api/3/fieldValues', 'fieldValues', qs)
			: await acListIfCheaper(session.ctx, '/api/3/fieldValues', 'fieldValues', perRecord, { qs });
	if (!values) return undefined;
	const map = new Map<string, string>();
	for (const fv of values) {
		if (String(fv.field) !== String(fieldId)) continue;
		if (fv.value !== null && fv.value !== undefined && String(fv.value) !== '') map.set(String(fv.contact), String(fv.value));
	}
	return map;
}

/** Which contacts hold each value of a field (valuesOfField inverted); undefined when searching is cheaper. */
export async function holdersOfValues(session: AcSession, fieldId: string, perRecord: number): Promise<Map<string, string[]> | undefined> {
	const values = await valuesOfField(session, fieldId, perRecord);
	return values ? holdersByValue(values) : undefined;
}

/** Contact id → value, turned into value → the contacts holding it. */
export function holdersByValue(values: Map<string, string>): Map<string, string[]> {
	const byValue = new Map<string, string[]>();
	for (const [contact, value] of values) byValue.set(value, [...(byValue.get(value) ?? []), contact]);
	return byValue;
}

/**
 * These contacts (those that exist) as snapshots with field values and tags, 100 per request, and their accounts the
 * cheaper way when asked; empty when the answer lacks the side-loads (then each is read on its own when needed).
 */
export async function snapshotsByIds(session: AcSession, ids: string[], withAccounts: boolean): Promise<Map<string, ContactSnapshot>> {
	const out = new Map<string, ContactSnapshot>();
	const found = await contactsByIds(session, ids, true);
	if (found.some((f) => !f.related)) return out;
	const accounts = withAccounts ? await accountLinksOf(session, ids) : undefined;
	for (const { contact, related } of found) {
		const id = String(contact.id);
		out.set(id, await snapshotFromList(session, contact, related, accounts ? (accounts.get(id) ?? null) : null));
	}
	return out;
}

export async function readContactTags(
	session: AcSession,
	contactId: string,
	itemIndex?: number,
): Promise<Array<{ contactTagId: string; tagId: string; name: string }>> {
	const body = await session.request<IDataObject>({ method: 'GET', path: `/api/3/contacts/${contactId}/contactTags`, itemIndex });
	const out: Array<{ contactTagId: string; tagId: string; name: string }> = [];
	for (const ct of (body.contactTags as IDataObject[] | undefined) ?? []) {
		const tag = await session.tagById(String(ct.tag));
		out.push({ contactTagId: String(ct.id), tagId: String(ct.tag), name: tag?.name ?? '' });
	}
	return out;
}

export async function readContactAccount(
	session: AcSession,
	contactId: string,
	itemIndex?: number,
): Promise<ContactSnapshot['account']> {
	const body = await session.request<IDataObject>({ method: 'GET', path: `/api/3/contacts/${contactId}/accountContacts`, itemIndex });
	const link = ((body.accountContacts as IDataObject[] | undefined) ?? [])[0];
	if (!link) return null;
	const name = (await session.accountName(String(link.account), itemIndex)) ?? '';
	return accountLinkOf(link, name);
}

/**
 * The contact as the nodes output it (docs/DESIGN.md): ActiveCampaign's attributes, `customFields` as
 * `[{ id, title, perstag, type, value }]`, tag names, the account name and job title, and the parsed link and sync state.
 */
export async function presentContact(session: AcSession, snapshot: ContactSnapshot): Promise<IDataObject> {
	const fields = await session.contactFields();
	const customFields: IDataObject[] = [];
	let link: string | undefined;
	let state: string | undefined;
	for (const [fieldId, fv] of snapshot.fieldValues) {
		const field = fields.find((f) => f.id === fieldId);
		customFields.push({ id: fieldId, title: field?.title ?? null, perstag: field?.perstag ?? null, type: field?.type ?? null, value: fv.value });
		if (field?.perstag === SYNC_FIELDS.contactLink.perstag) link = fv.value ?? undefined;
		if (field?.perstag === SYNC_FIELDS.contactState.perstag) state = fv.value ?? undefined;
	}
	// The ids of related objects are left out: what they name is in customFields, tags, account and lists.
	const attributes = omitKeys(snapshot.raw, ['links', 'fieldValues', 'contactTags', 'contactLists', 'accountContacts', 'contactAutomations', 'deals', 'geoIps']);
	const out: IDataObject = { ...attributes, id: snapshot.id, customFields };
	if (snapshot.tags) out.tags = snapshot.tags.map((t) => t.name);
	if (snapshot.account !== undefined) {
		out.accountId = snapshot.account?.id ?? null;
		out.accountName = snapshot.account?.name ?? null;
		out.jobTitle = snapshot.account?.jobTitle ?? null;
		if (snapshot.account?.untouched !== undefined) out.accountLinkUntouched = snapshot.account.untouched;
		// The Dynamics account the contact's account is linked to: Dynamics binds the lookup by it, not by a name that
		// may have changed on one side.
		out.accountD365Id = snapshot.account ? await session.linkedD365Of(snapshot.account.id) : null;
		// Its Dynamics account deleted: still the account the contact was on (not a new link, for the job title).
		if (out.accountD365Id === 'deleted' && snapshot.account) out.accountDeletedD365Id = (await session.deletedD365Of(snapshot.account.id)) ?? null;
	} else if (snapshot.accountNotRead) {
		out.accountNotRead = NOT_READ.accountBetweenScans;
	}
	out.lists = [...snapshot.lists].map(([list, status]) => ({ list, status }));
	out.d365Link = link ?? null;
	const parsedLink = parseContactLink(link);
	out.d365 = parsedLink ? { entity: parsedLink.entity, id: parsedLink.id } : null;
	out.syncState = state ?? null;
	out.activeCampaignAccount = await session.accountHost();
	const stored = parseState(state);
	out.storedState = stored ? { ...stored } : null;
	return out;
}
