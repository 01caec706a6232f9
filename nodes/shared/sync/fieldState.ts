/**
 * Per-field sync state (format v2). For every mapped field pair it stores a short digest of the value each side held
 * at the last sync, so a step can tell, field by field, whether the source changed it, whether the target changed it,
 * and whether both did. It lives in ActiveCampaign's hidden sync-state field, so it is kept compact and never longer
 * than {@link STATE_MAX_LENGTH}.
 *
 * Layout: `v2<w>:` then one entry per field, `<code><ac><d365>`, where `code` is 3 characters naming the field (a
 * digest of its pair key) and `ac` / `d365` are `w` characters of the value digest (w = 4, 3 or 2, the widest that
 * fits; 4 characters are 24 bits). An unknown side is written as `w` dots.
 *
 * The state may end with `~<version>` (base 36): the Dynamics record's row version (`versionnumber`) its Dynamics side
 * reflects, at least. A read of the Dynamics record older than that (an overlapping run that read it before this
 * state was written) is recognised as stale and never written over newer values.
 *
 * Records synced with the older whole-record state (`v1:<acHash>:<d365Hash>`) keep working: {@link baseEntries} turns
 * it into per-field entries (a side whose whole hash still matches is "unchanged" on every field; otherwise each field
 * of that side is unknown), and the next write stores v2.
 */
import { canonical, canonicalEmail } from './canonical';
import { isGuid, parseState } from './state';

/**
 * ActiveCampaign does not document a size limit for hidden fields; 255 characters (a text column) is the safe
 * assumption, and the state never exceeds it.
 */
export const STATE_MAX_LENGTH = 255;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CODE_WIDTH = 3;
const HEADER = /^v2([234]):/;
const WIDTHS = [4, 3, 2] as const;

/**
 * The ActiveCampaign side of a field ActiveCampaign had no place for at the last sync (a job title without an account
 * link) while Dynamics held the value stored on the other side: ActiveCampaign holding nothing is then no edit, a
 * value a person puts there is one, and the Dynamics value is still to be carried once ActiveCampaign can hold it.
 * Stored as `*` characters (outside the digest alphabet).
 */
export const NOT_HELD = '****';

/** Per side, the digest of the value at the last sync; null when it is not known. */
export interface FieldEntry {
	ac: string | null;
	d365: string | null;
}

/** Entries by pair key. */
export type FieldStates = Map<string, FieldEntry>;

export type Side = 'ac' | 'd365';

/** The identity of a field pair in the state: its ActiveCampaign key and its Dynamics column. */
export function pairKey(activeCampaign: string, dynamics: string): string {
	return `${activeCampaign.trim().toLowerCase()}|${dynamics.trim().toLowerCase()}`;
}

/** The most fields whose state fits in {@link STATE_MAX_LENGTH} characters. */
export const MAX_STATE_FIELDS = Math.floor((STATE_MAX_LENGTH - 4) / (CODE_WIDTH + 2 * WIDTHS[WIDTHS.length - 1]));

/** The digest of one value as it takes part in the state: 24 bits as 4 characters. Emails compare case-insensitively. */
export function fieldHash(value: unknown, email = false): string {
	const c = email ? canonicalEmail(value) : canonical(value);
	return digest(c === null ? '\u0000' : `=${c}`, 24);
}

/** Whether a stored digest (possibly narrower than a full one) names the same value as a full digest. */
export function sameDigest(stored: string | null | undefined, full: string): boolean {
	return typeof stored === 'string' && stored.length > 0 && full.startsWith(stored);
}

/** Whether a stored digest names the value `full`, or the same value under its older digest `alt` (see {@link accountDigests}). */
export function sameValueDigest(stored: string | null | undefined, full: string, alt?: string): boolean {
	return sameDigest(stored, full) || (alt !== undefined && sameDigest(stored, alt));
}

/**
 * A contact's account where it maps to a Dynamics account lookup takes part in the state by which account it is, not by
 * its name: the Dynamics side digests the lookup's id, the ActiveCampaign side the Dynamics account its account is
 * linked to. Renaming an account is an edit of the account (synced as such), never a move of its contacts. An
 * ActiveCampaign account not linked (yet) is known by its name, as every account was in states stored before: that
 * name's digest (`alt`) still counts as the same value, so those states keep working and move over on their next write.
 */
export function accountDigests(linkedD365Id: unknown, name: unknown): { digest: string; alt?: string } {
	const byName = fieldHash(typeof name === 'string' ? name.trim() : name);
	return isGuid(linkedD365Id) ? { digest: fieldHash(linkedD365Id.toLowerCase()), alt: byName } : { digest: byName };
}

/** Field codes for a set of pair keys: 3 characters each, unique within the set, the same for the same set. */
export function fieldCodes(keys: readonly string[]): Map<string, string> {
	const id = keys.join('\n');
	const cached = codeCache.get(id);
	if (cached) return cached;
	const codes = new Map<string, string>();
	const taken = new Set<string>();
	for (const key of [...new Set(keys)].sort()) {
		let code = digest(key, 18).slice(0, CODE_WIDTH);
		for (let salt = 1; taken.has(code); salt++) code = digest(`${key}#${salt}`, 18).slice(0, CODE_WIDTH);
		taken.add(code);
		codes.set(key, code);
	}
	if (codeCache.size > 100) codeCache.clear();
	codeCache.set(id, codes);
	return codes;
}

/** Codes by field set (one mapping per entity: a handful of entries). */
const codeCache = new Map<string, Map<string, string>>();

/**
 * The v2 state of the given entries, for the mapping whose pair keys are `keys`. Entries of keys outside `keys` are
 * left out. Throws when even the narrowest digests do not fit (more than {@link MAX_STATE_FIELDS} fields).
 */
export function formatFieldState(keys: readonly string[], entries: FieldStates, version?: number): string {
	const codes = fieldCodes(keys);
	const present = [...codes].filter(([key]) => entries.has(key));
	// The version goes only where it fits beside the widest digests that fit without it (a mapping near the limit
	// keeps its digests and does without the stale-read check).
	for (const width of WIDTHS) {
		const length = 4 + present.length * (CODE_WIDTH + 2 * width);
		if (length > STATE_MAX_LENGTH) continue;
		let out = `v2${width}:`;
		for (const [key, code] of present) {
			const entry = entries.get(key)!;
			out += code + side(entry.ac, width) + side(entry.d365, width);
		}
		const suffix = versionSuffix(version);
		return out.length + suffix.length <= STATE_MAX_LENGTH ? out + suffix : out;
	}
	throw new Error(
		`The sync state of ${present.length} fields does not fit in ActiveCampaign's sync-state field (at most ${MAX_STATE_FIELDS} mapped fields per entity)`,
	);
}

function versionSuffix(version: number | undefined): string {
	return version !== undefined && Number.isSafeInteger(version) && version >= 0 ? `~${version.toString(36)}` : '';
}

/** The Dynamics row version a v2 state reflects (see the layout above); undefined when it names none. */
export function stateVersion(value: unknown): number | undefined {
	return splitState(typeof value === 'string' ? value : undefined)?.version;
}

/** The Dynamics row version of a record as a number (`versionnumber` comes as a number or a numeric string). */
export function rowVersion(value: unknown): number | undefined {
	const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
	return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A state without its row version: the state of another record (a relink), whose version says nothing about this one. */
export function withoutVersion<T extends string | null | undefined>(value: T): T {
	return (typeof value === 'string' && HEADER.test(value.trim()) ? value.trim().replace(/~[0-9a-z]*$/, '') : value) as T;
}

/**
 * A v2 state with one side forgotten: every entry's `side` unknown and no row version. What an ActiveCampaign contact
 * keeps of a pair whose Dynamics record is gone (its own values at the last sync); undefined when it is not v2.
 */
export function withSideUnknown(value: string | null | undefined, forget: Side): string | undefined {
	const split = splitState(value ?? undefined);
	if (!split) return undefined;
	let out = `v2${split.width}:`;
	for (const [code, entry] of split.entries) {
		out += code + side(forget === 'ac' ? null : entry.ac, split.width) + side(forget === 'd365' ? null : entry.d365, split.width);
	}
	return out;
}

/** The later of two row versions (either may be unknown). */
export function laterVersion(a: number | undefined, b: number | undefined): number | undefined {
	return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function side(value: string | null, width: number): string {
	if (value === null) return '.'.repeat(width);
	return value === NOT_HELD ? '*'.repeat(width) : value.slice(0, width).padEnd(width, '.');
}

/** Parses a v2 state for the mapping whose pair keys are `keys`; undefined when it is not v2. Unknown codes are dropped. */
export function parseFieldState(value: unknown, keys: readonly string[]): FieldStates | undefined {
	const split = splitState(typeof value === 'string' ? value : undefined);
	if (!split) return undefined;
	const byCode = new Map([...fieldCodes(keys)].map(([key, code]) => [code, key]));
	const entries: FieldStates = new Map();
	for (const [code, entry] of split.entries) {
		const key = byCode.get(code);
		if (key !== undefined) entries.set(key, entry);
	}
	return entries;
}

/**
 * Whether a value is a per-field (v2) state that knows the ActiveCampaign side of every field it holds: nothing on the
 * ActiveCampaign side waits to be tried again (see the planner's "cannot hold").
 */
export function knowsActiveCampaignSide(value: unknown): boolean {
	const split = splitState(typeof value === 'string' ? value : undefined);
	return !!split && [...split.entries.values()].every((entry) => entry.ac !== null);
}

/** Whether a value is a sync state this package wrote (v1 or v2). */
export function isStateValue(value: unknown): boolean {
	return parseState(value) !== undefined || (typeof value === 'string' && HEADER.test(value.trim()));
}

/** What {@link baseEntries} needs to read a v1 (whole-record) state. */
export interface LegacyContext {
	/** The side the step reads from. */
	sourceSide: Side;
	/** Whole-record state hash of the source now (over the mapping's source fields). */
	sourceWhole: string;
	/** Whole-record state hash of the target now; undefined when there is no target. */
	targetWhole?: string;
	/** Per field: the digests of both sides now. */
	fields: Array<{ key: string; source: string; target: string }>;
}

/**
 * The per-field base of a step: the entries of a v2 state, or entries derived from a v1 state (a side whose whole
 * hash is unchanged is taken as unchanged on every field, the other side as unknown), or none.
 */
export function baseEntries(stored: unknown, keys: readonly string[], legacy?: LegacyContext): FieldStates {
	const v2 = parseFieldState(stored, keys);
	if (v2) return v2;
	const v1 = parseState(stored);
	const entries: FieldStates = new Map();
	if (!v1 || !legacy) return entries;
	const targetSide: Side = legacy.sourceSide === 'ac' ? 'd365' : 'ac';
	const storedSource = legacy.sourceSide === 'ac' ? v1.acHash : v1.d365Hash;
	const storedTarget = targetSide === 'ac' ? v1.acHash : v1.d365Hash;
	const sourceSame = legacy.sourceWhole === storedSource;
	const targetSame = legacy.targetWhole !== undefined && legacy.targetWhole === storedTarget;
	if (!sourceSame && !targetSame) return entries;
	for (const field of legacy.fields) {
		const entry: FieldEntry = { ac: null, d365: null };
		if (sourceSame) entry[legacy.sourceSide] = field.source;
		if (targetSame) entry[targetSide] = field.target;
		entries.set(field.key, entry);
	}
	return entries;
}

/**
 * Applies the entries a step decided (`touched`) onto the state as it is now, leaving every other field as it is now:
 * two steps of one cycle that decided different fields both keep their decisions. Fields the current state lacks
 * take the step's entry.
 */
export function mergeFieldStates(current: FieldStates, decided: FieldStates, touched: readonly string[]): FieldStates {
	const merged: FieldStates = new Map(current);
	const touchedSet = new Set(touched);
	for (const [key, entry] of decided) {
		if (touchedSet.has(key) || !merged.has(key)) merged.set(key, entry);
	}
	return merged;
}

/** The field codes of the given pair keys within the mapping whose keys are `all`. */
export function codesOf(all: readonly string[], keys: readonly string[]): string[] {
	const codes = fieldCodes(all);
	return keys.map((key) => codes.get(key)).filter((code): code is string => code !== undefined);
}

/**
 * Stores a step's decisions into the state as it is now, without knowing the mapping: the entries of `next` whose
 * codes are in `touchedCodes` replace those of `current`; entries `current` lacks are taken from `next`; the rest
 * of `current` stays. `base` is the state the step started from: when `current` still equals it (or is not a v2
 * state), `next` is stored as it is.
 */
export function mergeStateText(current: string | undefined, next: string, touchedCodes: readonly string[], base?: string): string {
	const now = splitState(current);
	const decided = splitState(next);
	if (!decided || !now || now.width !== decided.width || (current ?? '').trim() === (base ?? '').trim()) return next;
	const touched = new Set(touchedCodes);
	const merged = new Map(now.entries);
	for (const [code, entry] of decided.entries) if (touched.has(code) || !merged.has(code)) merged.set(code, entry);
	// Keep the field set of the step's mapping: codes it does not know belong to an older mapping.
	for (const code of [...merged.keys()]) if (!decided.entries.has(code) && !touched.has(code)) merged.delete(code);
	let out = `v2${decided.width}:`;
	for (const [code, entry] of merged) out += code + side(entry.ac, decided.width) + side(entry.d365, decided.width);
	const suffix = versionSuffix(laterVersion(now.version, decided.version));
	return out.length + suffix.length <= STATE_MAX_LENGTH ? out + suffix : out;
}

/** A v2 state as entries by code (digests as stored, `null` for unknown). */
function splitState(value: string | undefined): { width: number; entries: Map<string, FieldEntry>; version?: number } | undefined {
	if (typeof value !== 'string') return undefined;
	const whole = value.trim();
	const header = HEADER.exec(whole);
	if (!header) return undefined;
	const width = Number(header[1]);
	const size = CODE_WIDTH + 2 * width;
	const tilde = whole.indexOf('~');
	const text = tilde < 0 ? whole : whole.slice(0, tilde);
	const versionText = tilde < 0 ? '' : whole.slice(tilde + 1);
	if (tilde >= 0 && !/^[0-9a-z]{1,11}$/.test(versionText)) return undefined;
	const version = versionText ? parseInt(versionText, 36) : undefined;
	const body = text.slice(header[0].length);
	if (body.length % size !== 0) return undefined;
	const entries = new Map<string, FieldEntry>();
	for (let at = 0; at < body.length; at += size) {
		const part = (from: number) => {
			const digest = body.slice(from, from + width);
			if (digest.includes('.')) return null;
			return digest.includes('*') ? NOT_HELD : digest;
		};
		entries.set(body.slice(at, at + CODE_WIDTH), { ac: part(at + CODE_WIDTH), d365: part(at + CODE_WIDTH + width) });
	}
	return { width, entries, ...(version !== undefined && Number.isSafeInteger(version) ? { version } : {}) };
}

/** `bits` bits of a string's digest as base64url characters (6 bits each). */
function digest(text: string, bits: number): string {
	let h1 = 0x811c9dc5;
	let h2 = 0x5bd1e995;
	for (let i = 0; i < text.length; i++) {
		const ch = text.charCodeAt(i);
		h1 = Math.imul(h1 ^ ch, 16777619);
		h2 = Math.imul(h2 ^ ch, 2246822507);
	}
	h1 ^= h1 >>> 15;
	h1 = Math.imul(h1, 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
	h1 ^= h1 >>> 16;
	let out = '';
	for (let shift = 26; out.length * 6 < bits; shift -= 6) out += B64[(h1 >>> shift) & 63];
	return out;
}
