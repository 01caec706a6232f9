/**
 * Reading what changed since the change cursor (docs/DESIGN.md, "Reading changes"), for the polling trigger and the
 * Get Changes operations. Contacts are filtered by ActiveCampaign (`filters[updated_after]` / `filters[created_after]`,
 * keyset paging); accounts have no such filter, so their list is paged and compared. Records are emitted oldest
 * change first, so a read cut short by the poll budget can continue from the last emitted change.
 */
import type { IDataObject } from 'n8n-workflow';

import { knowsActiveCampaignSide } from '../../shared/sync/fieldState';
import { SYNC_FIELDS } from '../../shared/sync/state';
import {
	advanceCursor,
	readFrom,
	selectChanges,
	type ChangeCursor,
	type ChangedRecord,
	type ChangeKind,
} from '../../shared/sync/cursor';
import { acContactPageBodies, acPagesByOffset } from '../transport';
import { accountSnapshotOf, listedAccountSnapshots, presentAccount, readAccount } from './accounts';
import type { AccountSnapshot } from './values';
import { accountLinkOf, accountLinksOf, LIST_SIDE_LOADS, presentContact, readContact, sideLoadsByContact, snapshotFromList, type ContactSnapshot } from './contactRead';
import type { AcSession } from './session';
import { omitKeys } from '../../shared/object';

export type ChangeEvent = 'created' | 'updated' | 'any';
export type ChangeEntity = 'contact' | 'account';

export interface ChangeReadOptions {
	entity: ChangeEntity;
	event: ChangeEvent;
	cursor: ChangeCursor | undefined;
	/** ISO time to start from on the first read (else the first read starts now and returns nothing). */
	startFrom?: string;
	/**
	 * Reads never reach back before this time (the activation, or Start From), even with the overlap: changes made
	 * before the trigger started are not news.
	 */
	floor?: string;
	overlapMs: number;
	/** Include field values, tags and account (contacts) or custom fields (accounts). */
	details: boolean;
	/** Stop adding records after this many milliseconds (the poll budget); the rest comes next time. */
	budgetMs?: number;
	/** Emit at most this many records; the rest comes next time. */
	maxRecords?: number;
	/** The time the read started (injected in tests). */
	now?: () => number;
	/**
	 * A record whose details cannot be read (its retries ran out): `report` leaves it out and names it under
	 * `failed` (the caller remembers it and reads it again later); `stop` ends the read there, so the cursor does not
	 * pass it and the next read starts with it (the error is thrown when nothing was read before it).
	 */
	onReadFailure?: 'report' | 'stop';
	/**
	 * Accounts and account links have no change filter: finding their changes reads them whole. `everyMs` > 0 does that
	 * at most that often (`lastAt`: the previous scan); in between, an account read changes nothing and keeps its cursor,
	 * and changed contacts get their account links the cheaper way. The next scan covers everything since `lastAt`.
	 */
	scan?: { everyMs: number; lastAt?: string };
}

export interface ChangeReadResult {
	records: IDataObject[];
	cursor: ChangeCursor;
	/** False when the budget or the maximum cut the read short. */
	complete: boolean;
	/** True on a first read that only set the starting point. */
	initialized: boolean;
	from?: string;
	/** The floor to keep for the next reads. */
	floor: string;
	/** Records whose details could not be read (`onReadFailure: 'report'`). */
	failed: Array<{ id: string; email?: string; error: Error }>;
	/** When this read scanned the accounts and account links whole (see {@link ChangeReadOptions.scan}). */
	scannedAt?: string;
}

interface Candidate extends ChangedRecord {
	raw: IDataObject;
	/** Field values, tags and lists the contact list side-loaded for this contact (then it is not read on its own). */
	related?: IDataObject;
}

/** The changed contacts' account links, read before they are presented (contact id → link, null: none). */
type AccountLinksByContact = Map<string, ContactSnapshot['account']>;

/** ISO with an explicit UTC offset, the form ActiveCampaign's date filters accept unambiguously. */
export function filterTime(iso: string): string {
	return new Date(iso).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function iso(value: unknown): string | undefined {
	if (typeof value !== 'string' || !value) return undefined;
	const ms = Date.parse(value.replace(' ', 'T'));
	return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export async function readChanges(session: AcSession, options: ChangeReadOptions): Promise<ChangeReadResult> {
	const now = options.now ?? Date.now;
	const startedAt = now();
	const readStartedAt = new Date(startedAt).toISOString();
	if (!options.cursor && !options.startFrom) {
		// ActiveCampaign stamps changes at whole seconds: the floor is the start of this second.
		const floor = new Date(Math.floor(startedAt / 1000) * 1000).toISOString();
		// Nothing before this starting point is news: the first scan of accounts and links is due from here, not now.
		return { records: [], cursor: { watermark: readStartedAt, seen: {} }, complete: true, initialized: true, floor, failed: [], scannedAt: readStartedAt };
	}
	const floor = options.cursor ? options.floor : new Date(Date.parse(options.startFrom!)).toISOString();
	let since = options.cursor ? readFrom(options.cursor, options.overlapMs) : floor!;
	if (floor && Date.parse(floor) > Date.parse(since)) since = floor;

	const scan = options.scan;
	const scanDue = !scan || scan.everyMs <= 0 || !scan.lastAt || startedAt - Date.parse(scan.lastAt) >= scan.everyMs;
	if (options.entity === 'account' && !scanDue) {
		// Not yet time to read the accounts whole: the cursor stays, so the next scan covers this time too.
		return { records: [], cursor: options.cursor!, complete: true, initialized: false, from: since, floor: floor ?? since, failed: [] };
	}
	let candidates =
		options.entity === 'contact' ? await contactCandidates(session, options.event, since, options.details) : await accountCandidates(session, options.event, since);
	let accountLinks: AccountLinksByContact | undefined;
	if (options.entity === 'contact' && options.details && options.event !== 'created' && scanDue) {
		// Since the previous scan (when scans are spaced out), not only since this read's start.
		let scanFrom = scan?.lastAt && scan.everyMs > 0 ? new Date(Date.parse(scan.lastAt) - options.overlapMs).toISOString() : since;
		if (floor && Date.parse(floor) > Date.parse(scanFrom)) scanFrom = floor;
		if (Date.parse(scanFrom) > Date.parse(since)) scanFrom = since;
		({ candidates, accountLinks } = await withAccountLinkChanges(session, candidates, scanFrom, since));
	}
	const selected = selectChanges(candidates, options.cursor, since)
		.filter(({ record, kind }) => wanted(options.event, kind, record))
		.sort((a, b) => Date.parse(a.record.modifiedAt) - Date.parse(b.record.modifiedAt) || Number(a.record.id) - Number(b.record.id));

	let notRead: Set<string> | undefined;
	if (options.entity === 'contact' && options.details && !accountLinks) {
		// New contacts only: their account links the cheaper way (the link list, or one read each).
		let listed = selected.slice(0, options.maxRecords ?? selected.length).filter(({ record }) => record.related);
		if (scan && scan.everyMs > 0 && !scanDue) {
			// Between full scans, a changed contact the sync settled before keeps its account link unread: ActiveCampaign
			// lists links per contact or whole, never for a set of contacts, so that would be one read per contact. A link
			// or account change does not move the contact's modified time anyway: the next scan finds it. A contact new to
			// the sync, or whose state waits to try an ActiveCampaign value again, is read with its link.
			notRead = await settledContacts(session, listed);
			listed = listed.filter(({ record }) => !notRead!.has(record.id));
		}
		if (listed.length) accountLinks = await accountLinksOf(session, listed.map(({ record }) => record.id));
	}
	if (accountLinks) {
		// Which Dynamics account each changed contact's account is linked to: one read per account when few changed.
		const ids = selected.slice(0, options.maxRecords ?? selected.length).map(({ record }) => accountLinks!.get(record.id)?.id);
		await session.knowAccountLinks(ids.filter((id): id is string => !!id)).catch(() => undefined);
	}
	// Changed accounts' custom fields from the field value list when that is cheaper than two reads per account.
	const accountSnapshots =
		options.entity === 'account' && options.details
			? await listedAccountSnapshots(session, selected.slice(0, options.maxRecords ?? selected.length).map(({ record }) => record.raw)).catch(() => undefined)
			: undefined;
	const records: IDataObject[] = [];
	const emitted: ChangedRecord[] = [];
	const failed: ChangeReadResult['failed'] = [];
	let complete = true;
	for (const { record, kind } of selected) {
		if (options.maxRecords !== undefined && records.length >= options.maxRecords) {
			complete = false;
			break;
		}
		if (options.budgetMs !== undefined && records.length > 0 && now() - startedAt > options.budgetMs) {
			complete = false;
			break;
		}
		const read = await present(session, options.entity, record, options.details, notRead?.has(record.id) ? 'notRead' : accountLinks, accountSnapshots).then(
			(presented) => ({ presented }),
			(error: unknown) => ({ error: error as Error }),
		);
		if ('error' in read) {
			if ((options.onReadFailure ?? 'stop') === 'stop') {
				if (!records.length) throw read.error;
				complete = false;
				break;
			}
			failed.push({ id: record.id, email: typeof record.raw.email === 'string' ? record.raw.email : undefined, error: read.error });
			continue;
		}
		const { presented } = read;
		if (!presented) continue;
		records.push({ ...presented, changeType: kind });
		emitted.push(record);
	}
	const cursor = advanceCursor(options.cursor, emitted, readStartedAt, options.overlapMs, complete);
	return { records, cursor, complete, initialized: false, from: since, floor: floor ?? since, failed, ...(scanDue ? { scannedAt: readStartedAt } : {}) };
}

/**
 * The changed contacts (updated, not created) whose sync state, side-loaded with their field values, is a per-field
 * state that knows every ActiveCampaign side: the sync settled them before.
 */
async function settledContacts(session: AcSession, changed: Array<{ record: Candidate; kind: ChangeKind }>): Promise<Set<string>> {
	const out = new Set<string>();
	if (!changed.length) return out;
	const stateField = (await session.contactFields()).find((f) => f.perstag === SYNC_FIELDS.contactState.perstag);
	if (!stateField) return out;
	for (const { record, kind } of changed) {
		if (kind !== 'updated') continue;
		const values = (record.related?.fieldValues as IDataObject[] | undefined) ?? [];
		const state = values.find((fv) => String(fv.field) === stateField.id)?.value;
		if (knowsActiveCampaignSide(state)) out.add(record.id);
	}
	return out;
}

/**
 * Created: never emitted and created inside the window. Updated: a change to a contact that existed before
 * (or was emitted before), or a record changed after it was created.
 */
function wanted(event: ChangeEvent, kind: ChangeKind, record: Candidate): boolean {
	if (event === 'any') return true;
	if (event === 'created') return kind === 'created';
	return kind === 'updated' || (record.createdAt !== undefined && Date.parse(record.modifiedAt) > Date.parse(record.createdAt));
}

/**
 * Contacts changed since `since`, 100 per request. With details, each page side-loads the contacts' field values,
 * tags and lists (`include`), so reading N changed contacts costs about N / 100 requests, not 3 N.
 */
async function contactCandidates(session: AcSession, event: ChangeEvent, since: string, details: boolean): Promise<Candidate[]> {
	const qs: IDataObject = event === 'created' ? { 'filters[created_after]': filterTime(since) } : { 'filters[updated_after]': filterTime(since) };
	if (details) qs.include = LIST_SIDE_LOADS.join(',');
	const out: Candidate[] = [];
	for await (const { contacts, body } of acContactPageBodies(session.ctx, qs)) {
		const related = details ? sideLoadsByContact(body) : undefined;
		for (const c of contacts) {
			const modifiedAt = iso(c.udate) ?? iso(c.cdate);
			if (!modifiedAt) continue;
			const candidate: Candidate = { id: String(c.id), version: String(c.udate ?? c.cdate), modifiedAt, createdAt: iso(c.cdate), raw: c };
			if (related) candidate.related = related.get(String(c.id)) ?? {};
			out.push(candidate);
		}
	}
	return out;
}

/**
 * Contacts whose account link (account or job title) changed since `since`, or whose account changed (a rename changes
 * the account name the contact shows). ActiveCampaign keeps the link as its own object (`accountContacts`, with its
 * own timestamps) and a change to it or to the account does not move the contact's `udate`; neither list has a date
 * filter: both are read whole, 100 per request. A contact found both ways is one candidate, whose version names both
 * changes. (A link deleted in ActiveCampaign leaves nothing to find; it is seen when the contact changes otherwise.)
 */
async function withAccountLinkChanges(
	session: AcSession,
	candidates: Candidate[],
	since: string,
	/** The start of this read: a change found by a scan reaching further back counts as made now. */
	windowStart = since,
): Promise<{ candidates: Candidate[]; accountLinks: AccountLinksByContact }> {
	const from = Date.parse(since);
	const atLeast = (at: string) => (Date.parse(at) < Date.parse(windowStart) ? new Date(Date.parse(windowStart)).toISOString() : at);
	const byId = new Map(candidates.map((c) => [c.id, c]));
	// Accounts changed since (a rename changes the account name every contact of it shows).
	const changedAccounts = new Map<string, string>();
	const names = new Map<string, string>();
	for await (const page of acPagesByOffset(session.ctx, '/api/3/accounts', 'accounts')) {
		for (const account of page) {
			names.set(String(account.id), String(account.name ?? ''));
			const changedAt = iso(account.updatedTimestamp);
			if (changedAt && Date.parse(changedAt) >= from) changedAccounts.set(String(account.id), String(account.updatedTimestamp));
		}
	}
	// Read whole anyway, so every changed contact's link comes from here (the first link, as a contact's own read gives).
	const accountLinks: AccountLinksByContact = new Map();
	for await (const page of acPagesByOffset(session.ctx, '/api/3/accountContacts', 'accountContacts')) {
		for (const link of page) {
			const contactId = String(link.contact);
			const known = accountLinks.get(contactId);
			if (!known || Number(link.id) < Number(known.accountContactId)) {
				const accountId = String(link.account);
				accountLinks.set(contactId, accountLinkOf(link, names.get(accountId) ?? (await session.accountName(accountId)) ?? ''));
			}
			const linkChangedAt = iso(link.updatedTimestamp) ?? iso(link.createdTimestamp);
			const accountChange = changedAccounts.get(String(link.account));
			const linkChanged = linkChangedAt !== undefined && Date.parse(linkChangedAt) >= from;
			if (!linkChanged && accountChange === undefined) continue;
			const changedAt = atLeast(linkChanged ? linkChangedAt! : iso(accountChange)!);
			const id = String(link.contact);
			const existing = byId.get(id);
			const version = `link:${String(link.updatedTimestamp ?? link.createdTimestamp)}${accountChange ? `:${accountChange}` : ''}`;
			if (existing) {
				existing.version = `${existing.version}|${version}`;
				if (Date.parse(changedAt) > Date.parse(existing.modifiedAt)) existing.modifiedAt = changedAt;
				continue;
			}
			const candidate: Candidate = { id, version, modifiedAt: changedAt, raw: { id } };
			byId.set(id, candidate);
			candidates.push(candidate);
		}
	}
	// The list was read whole: a changed contact missing from it has no account.
	for (const candidate of candidates) if (!accountLinks.has(candidate.id)) accountLinks.set(candidate.id, null);
	return { candidates, accountLinks };
}

async function accountCandidates(session: AcSession, event: ChangeEvent, since: string): Promise<Candidate[]> {
	const from = Date.parse(since);
	const out: Candidate[] = [];
	for await (const page of acPagesByOffset(session.ctx, '/api/3/accounts', 'accounts')) {
		for (const a of page) {
			const modifiedAt = iso(a.updatedTimestamp) ?? iso(a.createdTimestamp);
			const createdAt = iso(a.createdTimestamp);
			if (!modifiedAt) continue;
			const at = Date.parse(event === 'created' ? (createdAt ?? modifiedAt) : modifiedAt);
			if (at < from) continue;
			out.push({ id: String(a.id), version: String(a.updatedTimestamp ?? a.createdTimestamp), modifiedAt, createdAt, raw: a });
		}
	}
	return out;
}

async function present(
	session: AcSession,
	entity: ChangeEntity,
	record: Pick<Candidate, 'raw' | 'related'>,
	details: boolean,
	/** 'notRead': the contact's account link is left unread (between full scans). */
	accountLinks?: AccountLinksByContact | 'notRead',
	accountSnapshots?: Map<string, AccountSnapshot>,
): Promise<IDataObject | undefined> {
	const { raw } = record;
	if (entity === 'contact') {
		if (!details) return omitKeys(raw, ['links']);
		if (record.related) {
			// Undefined (not read with the others): read for this contact.
			const account = accountLinks === 'notRead' ? accountLinks : accountLinks?.has(String(raw.id)) ? accountLinks.get(String(raw.id)) : undefined;
			return await presentContact(session, await snapshotFromList(session, raw, record.related, account));
		}
		// Found only by its account link (or the list did not side-load): read on its own.
		const snapshot = await readContact(session, String(raw.id), { tags: true, account: true });
		return snapshot ? await presentContact(session, snapshot) : undefined;
	}
	if (!details) return await presentAccount(session, accountSnapshotOf(raw, []));
	const snapshot = accountSnapshots?.get(String(raw.id)) ?? (await readAccount(session, String(raw.id)));
	return snapshot ? await presentAccount(session, snapshot) : undefined;
}

/** One record as Get Changes emits it, read by id (undefined when it no longer exists). */
export async function readRecord(session: AcSession, entity: ChangeEntity, id: string, details: boolean): Promise<IDataObject | undefined> {
	if (entity === 'contact') {
		const snapshot = await readContact(session, id, { tags: details, account: details });
		if (!snapshot) return undefined;
		if (details) return await presentContact(session, snapshot);
		return omitKeys(snapshot.raw, ['links']);
	}
	const snapshot = await readAccount(session, id);
	return snapshot ? await presentAccount(session, snapshot) : undefined;
}

/** A few recent records for a manual run ("Fetch Test Event"), without touching any cursor. */
export async function sampleRecords(session: AcSession, entity: ChangeEntity, size: number, details: boolean): Promise<IDataObject[]> {
	const out: IDataObject[] = [];
	if (entity === 'contact') {
		const body = await session.request<IDataObject>({ method: 'GET', path: '/api/3/contacts', qs: { 'orders[cdate]': 'DESC', limit: size } });
		for (const c of (body.contacts as IDataObject[] | undefined) ?? []) {
			const presented = await present(session, 'contact', { raw: c }, details);
			if (presented) out.push({ ...presented, changeType: 'sample' });
		}
		return out;
	}
	const head = await session.request<IDataObject>({ method: 'GET', path: '/api/3/accounts', qs: { limit: 1, offset: 0 } });
	const total = Number((head.meta as IDataObject | undefined)?.total ?? 0) || 0;
	const body = await session.request<IDataObject>({ method: 'GET', path: '/api/3/accounts', qs: { limit: size, offset: Math.max(0, total - size) } });
	for (const a of ((body.accounts as IDataObject[] | undefined) ?? []).reverse()) {
		const presented = await present(session, 'account', { raw: a }, details);
		if (presented) out.push({ ...presented, changeType: 'sample' });
	}
	return out;
}
