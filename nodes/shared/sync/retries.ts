/**
 * The retry queue: records whose write failed are remembered in the workflow's static data (bounded) and read again
 * by the Get Changes step of their source on the following runs, with backoff, until a write succeeds. After
 * {@link RETRY_POLICY.maxAttempts} failures a record is a dead letter: reported on the write step's error output on
 * every run, and tried once a day, until it succeeds (or changes and succeeds) or someone clears it.
 * Pure: the nodes pass their static data in.
 */
import type { IDataObject } from 'n8n-workflow';

import { accountDigests, mergeStateText } from './fieldState';

export type SourceSystem = 'dynamics' | 'activecampaign';

export interface RetryEntry extends IDataObject {
	system: SourceSystem;
	/** Dynamics: the table (lead, contact, account, opportunity); ActiveCampaign: contact or account. */
	kind: string;
	id: string;
	attempts: number;
	lastError: string;
	/** The step (node name) where it last failed. */
	step: string;
	firstFailedAt: string;
	lastFailedAt: string;
	/** Not retried before this time (ISO). */
	nextAt: string;
	dead: boolean;
}

export const RETRY_POLICY = {
	maxAttempts: 6,
	/** After the first failure: the very next run; then base × 3^(n−2), at most maxDelayMs. */
	baseDelayMs: 5 * 60_000,
	maxDelayMs: 6 * 60 * 60_000,
	/** Dead letters are tried again this often. */
	deadLetterDelayMs: 24 * 60 * 60_000,
	maxEntries: 5000,
} as const;

const STORE_KEY = 'syncRetries';

export type RetryStore = Record<string, RetryEntry>;

/** The retry queue in a workflow's global static data. */
export function retryStore(staticData: IDataObject): RetryStore {
	if (!staticData[STORE_KEY] || typeof staticData[STORE_KEY] !== 'object') staticData[STORE_KEY] = {};
	return staticData[STORE_KEY] as RetryStore;
}

/** The retry queue as it stands, without creating one (a reader that finds none changes nothing). */
export function queuedRetries(staticData: IDataObject): RetryStore | undefined {
	const store = staticData[STORE_KEY];
	return store && typeof store === 'object' ? (store as RetryStore) : undefined;
}

export function retryKey(system: SourceSystem, kind: string, id: string): string {
	return `${system}:${kind}:${id.toLowerCase()}`;
}

/** The source record a sync item (or a write step's output for one) comes from, as the queue names it. */
export function sourceOf(json: IDataObject | undefined): { system: SourceSystem; kind: string; id: string } | undefined {
	const source = json?.source as IDataObject | undefined;
	const system = source?.system;
	const id = source?.id;
	if ((system !== 'dynamics' && system !== 'activecampaign') || (typeof id !== 'string' && typeof id !== 'number') || String(id) === '') {
		return undefined;
	}
	const entity = String(json?.entity ?? '');
	const kind = system === 'activecampaign' ? (entity === 'account' ? 'account' : 'contact') : entity;
	if (!kind) return undefined;
	return { system, kind, id: String(id) };
}

function delayAfter(attempts: number): number {
	if (attempts <= 1) return 0;
	return Math.min(RETRY_POLICY.maxDelayMs, RETRY_POLICY.baseDelayMs * 3 ** (attempts - 2));
}

/** Remembers a failed write of a record; returns its entry (dead once the attempts are used up). */
export function recordFailure(
	store: RetryStore,
	source: { system: SourceSystem; kind: string; id: string },
	error: string,
	step: string,
	now = Date.now(),
): RetryEntry {
	const key = retryKey(source.system, source.kind, source.id);
	const previous = store[key];
	const attempts = (previous?.attempts ?? 0) + 1;
	const dead = attempts >= RETRY_POLICY.maxAttempts;
	const at = new Date(now).toISOString();
	const entry: RetryEntry = {
		system: source.system,
		kind: source.kind,
		id: source.id,
		attempts,
		lastError: error.slice(0, 500),
		step,
		firstFailedAt: previous?.firstFailedAt ?? at,
		lastFailedAt: at,
		nextAt: new Date(now + (dead ? RETRY_POLICY.deadLetterDelayMs : delayAfter(attempts))).toISOString(),
		dead,
	};
	store[key] = entry;
	trim(store);
	return entry;
}

/** Queues a record to be read again on the next run without a failure (e.g. what held it back is gone). */
export function queueRecheck(store: RetryStore, source: SourceRef, reason: string, step: string, now = Date.now()): void {
	const key = retryKey(source.system, source.kind, source.id);
	if (store[key]) {
		store[key].nextAt = new Date(now).toISOString();
		return;
	}
	const at = new Date(now).toISOString();
	store[key] = { ...source, attempts: 0, lastError: reason, step, firstFailedAt: at, lastFailedAt: at, nextAt: at, dead: false };
	trim(store);
}

const HELD_KEY = 'syncHeldBack';

type SourceRef = { system: SourceSystem; kind: string; id: string };

/** A record held back by another that has its email (`holder`: the link of the record that keeps the contact). */
interface Held extends SourceRef {
	email: string;
	holder?: string;
}

function heldOf(staticData: IDataObject): Held[] {
	if (!Array.isArray(staticData[HELD_KEY])) staticData[HELD_KEY] = [];
	return staticData[HELD_KEY] as unknown as Held[];
}

/**
 * Records skipped because another record has their email (lead/contact precedence): when the sync frees that email
 * (the other record's email changed) or the other record goes (deleted, merged), they are queued to be read again.
 */
export function holdBack(staticData: IDataObject, email: string, source: SourceRef, holder?: string, values?: Record<string, string>): void {
	if (values && Object.keys(values).length) rememberHeldValues(staticData, `${source.kind}:${source.id}`, values);
	const held = heldOf(staticData);
	const key = email.trim().toLowerCase();
	if (held.some((h) => h.email === key && h.system === source.system && h.kind === source.kind && h.id === source.id)) return;
	held.push({ ...source, email: key, ...(holder ? { holder: holder.toLowerCase() } : {}) });
	if (held.length > RETRY_POLICY.maxEntries) held.splice(0, held.length - RETRY_POLICY.maxEntries);
}

/** The sync freed an email, or the record that held it went: what it held back is read again. Returns how many. */
export function release(staticData: IDataObject, by: { email?: string; holder?: string }, step: string, now = Date.now()): number {
	const held = heldOf(staticData);
	const email = by.email?.trim().toLowerCase();
	const holder = by.holder?.toLowerCase();
	const freed = held.filter((h) => (email !== undefined && h.email === email) || (holder !== undefined && h.holder === holder));
	if (!freed.length) return 0;
	const store = retryStore(staticData);
	for (const h of freed) queueRecheck(store, { system: h.system, kind: h.kind, id: h.id }, `${h.email} is free again`, step, now);
	staticData[HELD_KEY] = held.filter((h) => !freed.includes(h));
	return freed.length;
}

/**
 * Records held back by `holder` for an email it no longer has (`email`: its email now) are read again, as {@link release}
 * does when the sync changes that email: a release an overlapping run's saved static data undid is made again.
 */
export function releaseMoved(staticData: IDataObject, holder: string, email: string | undefined, step: string, now = Date.now()): number {
	if (!Array.isArray(staticData[HELD_KEY])) return 0;
	const key = holder.toLowerCase();
	const current = (email ?? '').trim().toLowerCase();
	const held = staticData[HELD_KEY] as unknown as Held[];
	const freed = held.filter((h) => h.holder === key && h.email !== current);
	if (!freed.length) return 0;
	const store = retryStore(staticData);
	for (const h of freed) queueRecheck(store, { system: h.system, kind: h.kind, id: h.id }, `${h.email} is free again`, step, now);
	staticData[HELD_KEY] = held.filter((h) => !freed.includes(h));
	return freed.length;
}

/** {@link release} by email. */
export function releaseEmail(staticData: IDataObject, email: string, step: string, now = Date.now()): number {
	return release(staticData, { email }, step, now);
}

const LINKS_KEY = 'syncPendingLinks';

/**
 * Links that a write made but could not record (the ActiveCampaign contact's link field write failed): the pair is
 * known, so the next write of either record finds its twin by it even if an email changed meanwhile.
 */
function pendingLinksOf(staticData: IDataObject): IDataObject {
	return linkMap(staticData, LINKS_KEY);
}

/** A map by link in the workflow's static data (created when missing). */
function linkMap(staticData: IDataObject, key: string): IDataObject {
	const map = staticData[key];
	if (map && typeof map === 'object' && !Array.isArray(map)) return map as IDataObject;
	staticData[key] = {};
	return staticData[key] as IDataObject;
}

/** Sets a link's value as the newest entry, keeping at most {@link RETRY_POLICY.maxEntries} (the oldest go). */
function putBounded(map: IDataObject, link: string, value: string | boolean): void {
	delete map[link.toLowerCase()];
	map[link.toLowerCase()] = value;
	const keys = Object.keys(map);
	for (const key of keys.slice(0, Math.max(0, keys.length - RETRY_POLICY.maxEntries))) delete map[key];
}

export function rememberLink(staticData: IDataObject, link: string, acId: string): void {
	putBounded(pendingLinksOf(staticData), link, acId);
}

export function pendingLink(staticData: IDataObject, link: string): string | undefined {
	const acId = pendingLinksOf(staticData)[link.toLowerCase()];
	return typeof acId === 'string' && acId ? acId : undefined;
}

export function forgetLink(staticData: IDataObject, link: string): void {
	delete pendingLinksOf(staticData)[link.toLowerCase()];
}

/** The Dynamics link whose recording on ActiveCampaign contact `acId` failed (see {@link rememberLink}), if any. */
export function pendingLinkOf(staticData: IDataObject, acId: string): string | undefined {
	for (const [link, id] of Object.entries(pendingLinksOf(staticData))) if (id === acId) return link;
	return undefined;
}

/** The ActiveCampaign contacts that have a link waiting to be recorded. */
export function pendingLinkContacts(staticData: IDataObject): string[] {
	return Object.values(pendingLinksOf(staticData)).filter((id): id is string => typeof id === 'string' && id !== '');
}

const PENDING_STATES_KEY = 'syncPendingStates';

/** A state a write step computed that Record Sync State could not store (see {@link rememberPendingState}). */
export interface PendingState {
	state: string;
	stateFields?: string[];
	stateBase?: string;
}

/**
 * The state Record Sync State failed to store, by link: the other step's next write of the pair starts from it (what
 * the sync wrote to Dynamics is then known as the sync's own, not as a person's change), until a state is stored.
 */
export function rememberPendingState(staticData: IDataObject, link: string, pending: PendingState): void {
	putBounded(linkMap(staticData, PENDING_STATES_KEY), link, JSON.stringify(pending));
}

export function pendingState(staticData: IDataObject | undefined, link: string): PendingState | undefined {
	const value = (staticData?.[PENDING_STATES_KEY] as IDataObject | undefined)?.[link.toLowerCase()];
	if (typeof value !== 'string') return undefined;
	try {
		const parsed = JSON.parse(value) as Partial<PendingState>;
		if (typeof parsed.state !== 'string' || !parsed.state) return undefined;
		return {
			state: parsed.state,
			...(Array.isArray(parsed.stateFields) ? { stateFields: parsed.stateFields.map(String) } : {}),
			...(typeof parsed.stateBase === 'string' ? { stateBase: parsed.stateBase } : {}),
		};
	} catch {
		return undefined;
	}
}

/** The stored state as it would be had Record Sync State stored the pending one for this link (merged per field). */
export function withPendingState(staticData: IDataObject | undefined, link: string, stored: string | undefined): string | undefined {
	const pending = pendingState(staticData, link);
	if (!pending) return stored;
	return pending.stateFields?.length ? mergeStateText(stored, pending.state, pending.stateFields, pending.stateBase) : pending.state;
}

export function forgetPendingState(staticData: IDataObject, link: string): void {
	delete linkMap(staticData, PENDING_STATES_KEY)[link.toLowerCase()];
}

const UNLINKED_KEY = 'syncUnlinkedStates';

/**
 * ActiveCampaign contacts unlinked because their Dynamics record went (delete policy Keep), with their side of the
 * pair's last state: a Dynamics record that takes such a contact later still knows which fields ActiveCampaign
 * changed since that sync (a person's edit there is not a first sync's conflict).
 */
export function rememberUnlinked(staticData: IDataObject, acId: string, acSideState: string, email: string): void {
	putBounded(linkMap(staticData, UNLINKED_KEY), acId, JSON.stringify({ state: acSideState, email: email.trim().toLowerCase() }));
}

function unlinkedEntry(staticData: IDataObject | undefined, acId: string): { state: string; email: string } | undefined {
	const value = (staticData?.[UNLINKED_KEY] as IDataObject | undefined)?.[acId.toLowerCase()];
	if (typeof value !== 'string') return undefined;
	try {
		const parsed = JSON.parse(value) as { state?: unknown; email?: unknown };
		return typeof parsed.state === 'string' && parsed.state ? { state: parsed.state, email: typeof parsed.email === 'string' ? parsed.email : '' } : undefined;
	} catch {
		return undefined;
	}
}

export function unlinkedState(staticData: IDataObject | undefined, acId: string): string | undefined {
	return unlinkedEntry(staticData, acId)?.state;
}

/** The emails of the contacts {@link rememberUnlinked} keeps (as they were when unlinked). */
export function unlinkedEmails(staticData: IDataObject): string[] {
	return Object.keys(linkMap(staticData, UNLINKED_KEY))
		.map((id) => unlinkedEntry(staticData, id)?.email ?? '')
		.filter(Boolean);
}

export function forgetUnlinked(staticData: IDataObject, acId: string): void {
	delete linkMap(staticData, UNLINKED_KEY)[acId.toLowerCase()];
}

const HELD_VALUES_KEY = 'syncHeldValues';

/**
 * The field digests (pair key → source digest) a held-back Dynamics record had when the sync saw it: when it later
 * takes an ActiveCampaign contact, a field it has not changed since is no newer than what that contact holds.
 */
export function rememberHeldValues(staticData: IDataObject, link: string, digests: Record<string, string>): void {
	putBounded(linkMap(staticData, HELD_VALUES_KEY), link, JSON.stringify(digests));
}

export function heldValues(staticData: IDataObject | undefined, link: string): Record<string, string> | undefined {
	const value = (staticData?.[HELD_VALUES_KEY] as IDataObject | undefined)?.[link.toLowerCase()];
	if (typeof value !== 'string') return undefined;
	try {
		const parsed = JSON.parse(value) as unknown;
		return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, string>) : undefined;
	} catch {
		return undefined;
	}
}

export function forgetHeldValues(staticData: IDataObject, link: string): void {
	delete linkMap(staticData, HELD_VALUES_KEY)[link.toLowerCase()];
}

const DELETED_ACCOUNTS_KEY = 'syncDeletedAccounts';

/**
 * Dynamics accounts whose ActiveCampaign account the sync deleted (delete policy Propagate). Their contacts lost the
 * account in ActiveCampaign through the sync, not by a person's edit: a Dynamics change of such a contact's account
 * (e.g. to another account) is no conflict with that (see deletedAccountDigests).
 */
export function rememberDeletedAccount(staticData: IDataObject, d365Id: string): void {
	putBounded(linkMap(staticData, DELETED_ACCOUNTS_KEY), d365Id, true);
}

/** The account-field digests (fieldState.accountDigests) of the accounts {@link rememberDeletedAccount} keeps. */
export function deletedAccountDigests(staticData: IDataObject | undefined): Set<string> {
	const kept = staticData?.[DELETED_ACCOUNTS_KEY] as IDataObject | undefined;
	return new Set(Object.keys(kept ?? {}).map((id) => accountDigests(id, undefined).digest));
}

const QUALIFIED_KEY = 'syncQualifiedLeads';

/**
 * Leads seen qualified while an ActiveCampaign contact was still linked to them: such a link holds the contact for the
 * contact the lead became, not against another lead with its email (that contact may never come: deleted meanwhile).
 */
export function rememberQualified(staticData: IDataObject, link: string): void {
	putBounded(linkMap(staticData, QUALIFIED_KEY), link, true);
}

export function wasQualified(staticData: IDataObject | undefined, link: string): boolean {
	const seen = staticData?.[QUALIFIED_KEY] as IDataObject | undefined;
	return !!seen && seen[link.toLowerCase()] === true;
}

/** Forgets a record whose write succeeded (or was skipped with a reason). Returns whether it was queued. */
export function recordSuccess(store: RetryStore, source: { system: SourceSystem; kind: string; id: string }): boolean {
	const key = retryKey(source.system, source.kind, source.id);
	if (!(key in store)) return false;
	delete store[key];
	return true;
}

/** Records of one source whose next try is due. */
export function dueRetries(store: RetryStore, system: SourceSystem, kinds: readonly string[], now = Date.now()): RetryEntry[] {
	return Object.values(store).filter((e) => e.system === system && kinds.includes(e.kind) && Date.parse(e.nextAt) <= now);
}

/** Dead letters of one step. */
export function deadLetters(store: RetryStore, step: string): RetryEntry[] {
	return Object.values(store).filter((e) => e.dead && e.step === step);
}

/** Counts for a run's output. */
export function retryCounts(store: RetryStore): { pending: number; deadLetters: number } {
	const entries = Object.values(store);
	return { pending: entries.filter((e) => !e.dead).length, deadLetters: entries.filter((e) => e.dead).length };
}

/** Keeps the queue bounded: the oldest failures go first (dead letters last). */
function trim(store: RetryStore): void {
	const keys = Object.keys(store);
	if (keys.length <= RETRY_POLICY.maxEntries) return;
	const order = keys.sort(
		(a, b) => Number(store[a].dead) - Number(store[b].dead) || Date.parse(store[a].lastFailedAt) - Date.parse(store[b].lastFailedAt),
	);
	for (const key of order.slice(0, keys.length - RETRY_POLICY.maxEntries)) delete store[key];
}

/** What a write step's run did with each input item: its error when it failed. */
export interface WriteOutcome {
	itemIndex: number;
	error?: { message: string; description?: string | null };
	/** Skipped and queued to be read again (a stale read): not forgotten as written. */
	readAgain?: boolean;
}

/**
 * Books a write step's run into the queue: failed records are remembered, written ones forgotten. Returns the note
 * to put on each failed item's output (by item index) and the step's dead letters that were not in this run.
 */
export function bookWrites(
	store: RetryStore,
	step: string,
	inputs: ReadonlyArray<IDataObject | undefined>,
	outcomes: readonly WriteOutcome[],
	now = Date.now(),
): { notes: Map<number, RetryEntry>; unreported: RetryEntry[] } {
	const notes = new Map<number, RetryEntry>();
	const seen = new Set<string>();
	inputs.forEach((json, itemIndex) => {
		const source = sourceOf(json);
		if (!source) return;
		seen.add(retryKey(source.system, source.kind, source.id));
		const failed = outcomes.find((o) => o.itemIndex === itemIndex && o.error);
		if (!failed?.error) {
			if (!outcomes.some((o) => o.itemIndex === itemIndex && o.readAgain)) recordSuccess(store, source);
			return;
		}
		const { message, description } = failed.error;
		notes.set(itemIndex, recordFailure(store, source, `${message}${description ? ` — ${description}` : ''}`, step, now));
	});
	const unreported = deadLetters(store, step).filter((e) => !seen.has(retryKey(e.system, e.kind, e.id)));
	return { notes, unreported };
}

/** What a failed item says about its next try, in words (error outputs carry text, not extra fields). */
export function retryText(entry: RetryEntry): string {
	if (entry.dead) {
		return `Dead letter: failed ${entry.attempts} times since ${entry.firstFailedAt}; tried again once a day (next ${entry.nextAt}) until it succeeds or is cleared.`;
	}
	return `Tried again ${entry.attempts === 1 ? 'on the next run' : `from ${entry.nextAt}`} (attempt ${entry.attempts} of ${RETRY_POLICY.maxAttempts} failed).`;
}

/** How many records the retry queue holds, in words (for the run's error items). */
export function countsText(store: RetryStore): string {
	const { pending, deadLetters } = retryCounts(store);
	return `Retry queue: ${pending} record${pending === 1 ? '' : 's'} waiting, ${deadLetters} dead letter${deadLetters === 1 ? '' : 's'}.`;
}

/** The message of an error item: dead letters say so first. */
export function deadLetterMessage(entry: RetryEntry, message: string): string {
	return entry.dead && !message.startsWith('Dead letter') ? `Dead letter: ${message}` : message;
}

/** A report of a dead letter that was not in this run. */
export function deadLetterReport(entry: RetryEntry): { message: string; description: string } {
	return {
		message: `Dead letter: ${entry.system} ${entry.kind} ${entry.id} failed ${entry.attempts} times`,
		description: `${entry.lastError} ${retryText(entry)}`,
	};
}
