/**
 * The write planner: given a sync item's fields, the target record's current values and the stored per-field state,
 * decides field by field what one sync step writes, which conflicts the policy settles, why a record is skipped, and
 * the state to store afterwards. Every write path (ActiveCampaign contacts one by one and in bulk, ActiveCampaign
 * accounts, Dynamics Create or Update) calls it; the nodes only read and write. Pure: no HTTP, no n8n context.
 *
 * Per field, with "changed" meaning "differs from the value stored at the last sync" (a side stored as unknown counts
 * as changed; a field with no stored entry counts as empty on both sides):
 * - the target already holds the source's value → in sync (state recorded);
 * - the source did not change it → not written (if the target changed it, the other step carries it back);
 * - the source changed it and the target did not → written;
 * - both changed it to different values → a conflict the policy settles for that field alone (a field that syncs
 *   only this way is written: the other side is not its source); a conflict the target wins is stored as settled,
 *   so the other step carries the target's value without deciding it again;
 * - the target cannot hold it now (e.g. a job title without an account) → not written, and left "unknown" on the
 *   source side so it is tried again, never written back as empty;
 * - the source cannot hold it now → its empty value is no edit: not written, the target's side left "unknown" so
 *   the other step carries the target's value back when the source can hold it.
 */
import { canonicalEmail, sameValue } from './canonical';
import { SKIP_REASONS, type ConflictPolicy, type SyncDirection } from './decide';
import { baseEntries, fieldHash, formatFieldState, laterVersion, NOT_HELD, sameValueDigest, stateVersion, type FieldEntry, type FieldStates, type Side } from './fieldState';
import type { FieldDirection } from './mapping';
import type { SyncField } from './syncItem';

/** One mapped field as a step sees it. */
export interface PlanField {
	/** Pair key ({@link pairKey}). */
	key: string;
	activeCampaign: string;
	dynamics: string;
	/** The field's own direction (the entity's direction already applied). */
	direction: FieldDirection;
	/** Digest of the source's value now. */
	source: string;
	/** Digest of the target's value now (of an empty value when there is no target yet). */
	target: string;
	/** Older digests of the same values that a stored state may hold (fieldState.accountDigests). */
	sourceAlt?: string;
	targetAlt?: string;
	/** The target already holds the source's value (compared in the target's own form). */
	equal: boolean;
	/** Digest of the target's value after writing the source's value. */
	written: string;
	/** Why the target cannot hold this value now; the field is then not written. */
	cannotHold?: string;
	/** Why the source holds no value for this field now: its empty value is no edit, and is never carried. */
	sourceNotHeld?: string;
	/** Why the source's value was not read in this run: the field is not written and its state entry kept as it is. */
	sourceNotRead?: string;
	/** The source shows the same record under a new name (syncItem `renamed`): carried only over an unchanged target. */
	sourceRenamed?: boolean;
	/** The contact's account (digests by linked account: fieldState.accountDigests). */
	accountLink?: boolean;
}

export interface PlanInput {
	direction: SyncDirection;
	policy: ConflictPolicy;
	/** The target record exists (false: the step creates it). */
	exists: boolean;
	/** Entries of the stored state (see fieldState.baseEntries). */
	base: FieldStates;
	fields: PlanField[];
	sourceModifiedAt?: string | null;
	targetModifiedAt?: string | null;
}

export type FieldDecision =
	| 'write'
	| 'inSync'
	| 'unchanged'
	| 'conflictWon'
	| 'conflictLost'
	| 'notHeld'
	| 'notRead'
	| 'otherDirection';

export interface DecidedConflict {
	activeCampaign: string;
	dynamics: string;
	winner: 'dynamics' | 'activeCampaign';
	policy: ConflictPolicy;
}

export interface PlanResult {
	/** Pair keys to write. */
	write: string[];
	decisions: Map<string, FieldDecision>;
	/** Conflicts the policy settled (both sides changed the same field to different values). */
	conflicts: DecidedConflict[];
	/** Fields the target cannot hold now, with the reason. */
	notWritten: Array<{ activeCampaign: string; dynamics: string; reason: string }>;
	/** The state after this step (assuming the writes succeed): every field's entry. */
	entries: FieldStates;
	/** Keys whose entry this step decided (the rest keep whatever the state holds when it is stored). */
	touched: string[];
	/** Whether the source changed any field this step carries. */
	sourceChanged: boolean;
	/** Set when nothing is written: why. */
	skipReason?: string;
	/** The Dynamics row version the state after this step reflects (fieldState), when known. */
	version?: number;
}

const SYSTEM: Record<Side, 'dynamics' | 'activeCampaign'> = { ac: 'activeCampaign', d365: 'dynamics' };

/** The digest of an empty value: what a side held when there is no stored entry. */
const EMPTY = fieldHash(null);
const EMPTY_ENTRY: FieldEntry = { ac: EMPTY, d365: EMPTY };

/**
 * Whether a side changed from its stored digest. An unknown stored side counts as changed, except when the value now
 * is empty: an empty value never replaces the other side's on the strength of a base nobody knows (as with no entry).
 */
function changedFrom(stored: string | null, now: string, alt?: string): boolean {
	if (stored === null && now === EMPTY) return false;
	// ActiveCampaign had no place for the value: holding nothing is no edit, a value a person put there is one.
	if (stored === NOT_HELD) return now !== EMPTY;
	return !sameValueDigest(stored, now, alt);
}

function flows(field: PlanField, direction: SyncDirection): boolean {
	return field.direction === 'both' || field.direction === direction;
}

export function planFields(input: PlanInput): PlanResult {
	const sourceSide: Side = input.direction === 'toActiveCampaign' ? 'd365' : 'ac';
	const targetSide: Side = sourceSide === 'ac' ? 'd365' : 'ac';
	const entry = (source: string | null, target: string | null): FieldEntry =>
		sourceSide === 'ac' ? { ac: source, d365: target } : { ac: target, d365: source };

	const decisions = new Map<string, FieldDecision>();
	const entries: FieldStates = new Map(input.base);
	const touched: string[] = [];
	const write: string[] = [];
	const conflicts: DecidedConflict[] = [];
	const notWritten: PlanResult['notWritten'] = [];
	let sourceChanged = false;
	let lost = false;

	const record = (field: PlanField, decision: FieldDecision, value?: FieldEntry) => {
		decisions.set(field.key, decision);
		if (value) {
			entries.set(field.key, value);
			touched.push(field.key);
		}
	};

	for (const field of input.fields) {
		// A field without a stored entry (a new link, a field added to the mapping) counts as empty on both sides: a
		// value someone set is a change, an empty one is not (it never replaces the other side's value).
		const base = input.base.get(field.key) ?? EMPTY_ENTRY;
		if (!flows(field, input.direction)) {
			record(field, 'otherDirection');
			continue;
		}
		if (field.sourceNotRead) {
			// Nothing known of the source's value: no write, and the stored entry stays for the run that reads it.
			record(field, 'notRead');
			continue;
		}
		if (field.sourceNotHeld) {
			// The source (ActiveCampaign) has no place for the value: that is no edit. The target's value is kept as its
			// base and marked as still to be carried, so the other step carries it across once the source can hold it,
			// and a value a person types there meanwhile is an edit made after it.
			notWritten.push({ activeCampaign: field.activeCampaign, dynamics: field.dynamics, reason: field.sourceNotHeld });
			record(field, 'notHeld', entry(NOT_HELD, field.target));
			continue;
		}
		const srcChanged = changedFrom(base[sourceSide], field.source, field.sourceAlt);
		if (srcChanged) sourceChanged = true;
		if (field.equal) {
			record(field, 'inSync', entry(field.source, field.target));
			continue;
		}
		if (input.exists && !srcChanged && field.sourceRenamed && !field.cannotHold && !changedFrom(base[targetSide], field.target, field.targetAlt)) {
			// A rename reaches a target nobody changed; a change made there is a person's edit and stays.
			sourceChanged = true;
			write.push(field.key);
			record(field, 'write', entry(field.source, field.written));
			continue;
		}
		if (input.exists && !srcChanged && base[targetSide] === NOT_HELD && field.target === EMPTY && field.source !== EMPTY && !field.cannotHold) {
			// The value the target had no place for at the last sync, and nobody put one there since: carried now.
			write.push(field.key);
			record(field, 'write', entry(field.source, field.written));
			continue;
		}
		if (input.exists && !srcChanged) {
			record(field, 'unchanged');
			continue;
		}
		if (field.cannotHold) {
			notWritten.push({ activeCampaign: field.activeCampaign, dynamics: field.dynamics, reason: field.cannotHold });
			if (targetSide === 'ac' && field.target === EMPTY) {
				// ActiveCampaign holds nothing and has no place for the value: the value is still to be carried (see NOT_HELD).
				record(field, 'notHeld', entry(field.source, NOT_HELD));
				continue;
			}
			// Unknown on the source side: tried again next time; the target's own value is kept as its base.
			record(field, 'notHeld', entry(null, field.target));
			continue;
		}
		const tgtChanged = changedFrom(base[targetSide], field.target, field.targetAlt);
		if (!input.exists || !tgtChanged || field.direction === input.direction) {
			write.push(field.key);
			record(field, 'write', entry(field.source, field.written));
			continue;
		}
		const sourceWinsIt = sourceWins(input);
		conflicts.push({
			activeCampaign: field.activeCampaign,
			dynamics: field.dynamics,
			winner: SYSTEM[sourceWinsIt ? sourceSide : targetSide],
			policy: input.policy,
		});
		if (sourceWinsIt) {
			write.push(field.key);
			record(field, 'conflictWon', entry(field.source, field.written));
		} else {
			// Settled for the other side: recorded as if this side's value had been synced and the winner changed it
			// since, so the other step carries the winner's value (even an empty one) without deciding again — by
			// then this sync's own writes (tags, state) may have made the loser look newer.
			lost = true;
			record(field, 'conflictLost', entry(field.source, field.written));
		}
	}

	const result: PlanResult = { write, decisions, conflicts, notWritten, entries, touched, sourceChanged };
	if (!write.length && input.exists) {
		if (!sourceChanged) result.skipReason = SKIP_REASONS.unchanged;
		else if (lost) result.skipReason = SKIP_REASONS.conflictLost(input.policy, input.direction === 'toActiveCampaign' ? 'ActiveCampaign' : 'Dynamics');
		else result.skipReason = SKIP_REASONS.noChanges;
	}
	return result;
}

/** One write step's plan from its stored state, as every write path makes it. */
export interface StepInput {
	direction: SyncDirection;
	policy: ConflictPolicy;
	/** The target record exists. */
	exists: boolean;
	fields: PlanField[];
	/** Every pair key of the mapping (the state's field set). */
	keys: readonly string[];
	/** The stored state (v2, or v1) the step starts from. */
	stored?: string | null;
	/** Whole-record hashes of the source and the target now (read v1 states). */
	sourceWhole: string;
	targetWhole?: string;
	sourceModifiedAt?: string | null;
	targetModifiedAt?: string | null;
	/**
	 * The Dynamics record's row version: for Dynamics → ActiveCampaign the version that was read (the source), for
	 * ActiveCampaign → Dynamics the version before the write (the target). The state remembers it (fieldState).
	 */
	dynamicsVersion?: number;
	/**
	 * Account digests of the accounts deleted in Dynamics whose ActiveCampaign account the sync deleted
	 * (retries.deletedAccountDigests): a side of a contact that held one of them and holds no account now lost it with
	 * the account, by nobody's edit of the contact.
	 */
	goneAccounts?: ReadonlySet<string>;
	/** Adjusts the base before planning (e.g. what the node knows beyond the stored state). */
	adjustBase?: (base: FieldStates) => void;
}

/**
 * The target may store a value differently from how it was sent (ActiveCampaign trims, reformats): the written fields'
 * entries follow what it returned, so the next run does not read its own write as a change. Whether any entry moved.
 */
export function followStored(plan: Pick<PlanResult, 'write' | 'entries'>, stored: (key: string) => string): boolean {
	let moved = false;
	for (const key of plan.write) {
		const entry = plan.entries.get(key)!;
		const actual = stored(key);
		if (entry.ac === actual) continue;
		plan.entries.set(key, { ...entry, ac: actual });
		moved = true;
	}
	return moved;
}

export interface StepPlan {
	plan: PlanResult;
	/**
	 * Dynamics → ActiveCampaign: the Dynamics record was read before the stored state was written (an overlapping run
	 * synced a newer version meanwhile). Nothing is written; the caller has the record read again.
	 */
	stale?: boolean;
	/** The state after the step (v2 text). */
	state: string;
	/** What the step's output item reports: decided conflicts and values not written. */
	report: { conflicts?: DecidedConflict[]; conflict?: string; notWritten?: PlanResult['notWritten'] };
}

export function planStep(input: StepInput): StepPlan {
	const storedVersion = input.exists ? stateVersion(input.stored) : undefined;
	if (input.direction === 'toActiveCampaign' && storedVersion !== undefined && input.dynamicsVersion !== undefined && input.dynamicsVersion < storedVersion) {
		const plan: PlanResult = { write: [], decisions: new Map(), conflicts: [], notWritten: [], entries: new Map(), touched: [], sourceChanged: false, skipReason: SKIP_REASONS.staleRead };
		return { plan, state: String(input.stored), report: {}, stale: true };
	}
	const base = input.exists
		? baseEntries(input.stored ?? undefined, input.keys, {
				sourceSide: input.direction === 'toActiveCampaign' ? 'd365' : 'ac',
				sourceWhole: input.sourceWhole,
				targetWhole: input.targetWhole,
				fields: input.fields.map((p) => ({ key: p.key, source: p.source, target: p.target })),
			})
		: new Map();
	// A side that held a deleted account and holds none now lost it with the account (the sync's delete in
	// ActiveCampaign, the person's delete in Dynamics): nobody edited that field on that side.
	for (const p of input.goneAccounts?.size ? input.fields : []) {
		const entry = base.get(p.key);
		if (!p.accountLink || !entry) continue;
		const [acNow, d365Now] = input.direction === 'toActiveCampaign' ? [p.target, p.source] : [p.source, p.target];
		const gone = (side: string | null, now: string) => !!side && now === EMPTY && input.goneAccounts!.has(side);
		const settled = { ac: gone(entry.ac, acNow) ? EMPTY : entry.ac, d365: gone(entry.d365, d365Now) ? EMPTY : entry.d365 };
		if (settled.ac !== entry.ac || settled.d365 !== entry.d365) base.set(p.key, settled);
	}
	input.adjustBase?.(base);
	const plan = planFields({
		direction: input.direction,
		policy: input.policy,
		exists: input.exists,
		base,
		fields: input.fields,
		sourceModifiedAt: input.sourceModifiedAt,
		targetModifiedAt: input.targetModifiedAt,
	});
	const report: StepPlan['report'] = {};
	if (plan.conflicts.length) {
		report.conflicts = plan.conflicts;
		report.conflict = `resolved: ${input.policy}`;
	}
	if (plan.notWritten.length) report.notWritten = plan.notWritten;
	// After a write to Dynamics its version is above the one read before it: a later read at or below that is stale.
	const written = input.direction === 'toDynamics' && plan.write.length > 0 && input.dynamicsVersion !== undefined ? input.dynamicsVersion + 1 : input.dynamicsVersion;
	plan.version = laterVersion(storedVersion, written);
	return { plan, state: formatFieldState(input.keys, plan.entries, plan.version), report };
}

/** Whether the source side wins a conflict under the policy (newest change: the record's modified times; a tie goes to Dynamics). */
export function sourceWins(input: Pick<PlanInput, 'direction' | 'policy' | 'sourceModifiedAt' | 'targetModifiedAt'>): boolean {
	const sourceIsDynamics = input.direction === 'toActiveCampaign';
	switch (input.policy) {
		case 'dynamicsWins':
			return sourceIsDynamics;
		case 'activeCampaignWins':
			return !sourceIsDynamics;
		case 'newestWins': {
			const source = Date.parse(input.sourceModifiedAt ?? '');
			const target = Date.parse(input.targetModifiedAt ?? '');
			if (Number.isNaN(source)) return false;
			if (Number.isNaN(target)) return true;
			return source === target ? sourceIsDynamics : source > target;
		}
	}
}

/** Whether the stored entries say the source changed nothing since the last sync (the step has nothing to carry). */
export function sourceUnchanged(
	base: FieldStates,
	fields: ReadonlyArray<Pick<PlanField, 'key' | 'direction' | 'source' | 'sourceAlt' | 'sourceNotHeld' | 'sourceNotRead'>>,
	direction: SyncDirection,
): boolean {
	const side: Side = direction === 'toActiveCampaign' ? 'd365' : 'ac';
	return fields.every((f) => !(f.direction === 'both' || f.direction === direction) || f.sourceNotHeld || f.sourceNotRead || !changedFrom((base.get(f.key) ?? EMPTY_ENTRY)[side], f.source, f.sourceAlt));
}

/** Emails compare case-insensitively on both sides. */
export function isEmailField(field: Pick<SyncField, 'activeCampaign' | 'dynamics'>): boolean {
	return field.activeCampaign === 'email' || field.dynamics === 'emailaddress1';
}

/**
 * A sync item's field as the planner takes it, from the target's current value and the value the step would write
 * (both in the target's own form). `equal` overrides the canonical comparison when the node compares its own way;
 * `digests` override the target's digests when they are not those of the values (fieldState.accountDigests).
 */
export function planField(
	field: SyncField,
	current: unknown,
	desired: unknown,
	options: { cannotHold?: string; equal?: boolean; digests?: { target: string; targetAlt?: string; written: string } } = {},
): PlanField {
	const email = isEmailField(field);
	return {
		key: field.key,
		activeCampaign: field.activeCampaign,
		dynamics: field.dynamics,
		direction: field.direction,
		source: field.source,
		...(field.sourceAlt ? { sourceAlt: field.sourceAlt } : {}),
		target: options.digests?.target ?? fieldHash(current, email),
		...(options.digests?.targetAlt ? { targetAlt: options.digests.targetAlt } : {}),
		equal: options.equal ?? (email ? canonicalEmail(current) === canonicalEmail(desired) : sameValue(current, desired)),
		written: options.digests?.written ?? fieldHash(desired, email),
		...(options.cannotHold ? { cannotHold: options.cannotHold } : {}),
		...(field.notHeld ? { sourceNotHeld: field.notHeld } : {}),
		...(field.notRead ? { sourceNotRead: field.notRead } : {}),
		...(field.renamed ? { sourceRenamed: true } : {}),
		...(field.accountLink ? { accountLink: true } : {}),
	};
}

export type MatchedBy = 'link' | 'id' | 'email' | 'name';

export interface MatchCandidates<T> {
	/** Records that carry this record's link (ActiveCampaign), or the record with the linked id (Dynamics). */
	link?: T[];
	/** The record with the id the item names (its own id on the other side, e.g. `match.acId`). */
	id?: T;
	/** Records with the same natural key (email for leads and contacts, name for accounts). */
	natural?: T[];
	naturalKind?: 'email' | 'name';
}

/** The match order of every write path: the link, then the id the item names, then the natural key (first hit). */
export function resolveMatch<T>(candidates: MatchCandidates<T>): { target?: T; matchedBy?: MatchedBy; others: number } {
	if (candidates.link?.length) return { target: candidates.link[0], matchedBy: 'link', others: candidates.link.length - 1 };
	if (candidates.id) return { target: candidates.id, matchedBy: 'id', others: 0 };
	if (candidates.natural?.length) {
		return { target: candidates.natural[0], matchedBy: candidates.naturalKind ?? 'email', others: candidates.natural.length - 1 };
	}
	return { others: 0 };
}
