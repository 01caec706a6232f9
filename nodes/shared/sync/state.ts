import { canonical, canonicalEmail } from './canonical';
import { GUID_PATTERN } from '../guid';

/** Titles and personalization tags of the hidden ActiveCampaign fields that hold the link and the sync state. */
export const SYNC_FIELDS = {
	contactLink: { title: 'D365 Record ID', perstag: 'D365_RECORD_ID' },
	contactState: { title: 'D365 Sync State', perstag: 'D365_SYNC_STATE' },
	accountLink: { title: 'D365 Account ID' },
	accountState: { title: 'D365 Account Sync State' },
} as const;

export const SYNC_TAGS = {
	lead: '[D365: Lead]',
	contact: '[D365: Contact]',
	pushedFromDynamics: '[D365: Pushed from Dynamics]',
	pulledFromActiveCampaign: '[D365: Pulled from ActiveCampaign]',
	/** On an ActiveCampaign contact whose Dynamics record was deleted (delete policy Keep or Flag Only). */
	deletedInDynamics: '[D365: Deleted in Dynamics]',
} as const;

export type LinkedEntity = 'lead' | 'contact';

/**
 * The state hash of a record: a short digest of the canonical values of the given fields. Two records with the same
 * values in those fields hash the same, whatever encoding each API used. Field names are part of the digest.
 * Not a security digest: it only has to tell "changed since the last sync" apart, fast (two 32-bit lanes).
 */
export function stateHash(values: Record<string, unknown>, fields: readonly string[]): string {
	const plan = hashPlan(fields);
	const hasher = new Hasher(plan.h1, plan.h2);
	for (let i = 0; i < plan.sorted.length; i++) feed(hasher, values[plan.sorted[i]], plan.email[i]);
	return hasher.digest();
}

/** {@link stateHash} of values given in `fields` order (an array instead of an object): the same digest. */
export function stateHashOf(fields: readonly string[], values: readonly unknown[]): string {
	const plan = hashPlan(fields);
	const hasher = new Hasher(plan.h1, plan.h2);
	for (let i = 0; i < plan.sorted.length; i++) feed(hasher, values[plan.position[i]], plan.email[i]);
	return hasher.digest();
}

function feed(hasher: Hasher, value: unknown, email: boolean): void {
	const c = email ? canonicalEmail(value) : canonical(value);
	if (c === null) hasher.separator(0);
	else hasher.update(c);
	hasher.separator(2);
}

interface HashPlan {
	sorted: string[];
	/** For each sorted field, its index in the field list as given (first occurrence). */
	position: number[];
	email: boolean[];
	/** Hasher state after the field names: they are part of every digest, so they are hashed once per field list. */
	h1: number;
	h2: number;
}

const plans = new WeakMap<readonly string[], HashPlan>();

function hashPlan(fields: readonly string[]): HashPlan {
	let plan = plans.get(fields);
	if (!plan) {
		const sorted = [...new Set(fields)].sort();
		const prefix = new Hasher(0xdeadbeef, 0x41c6ce57);
		for (const field of sorted) {
			prefix.update(field);
			prefix.separator(1);
		}
		prefix.separator(3);
		plan = {
			sorted,
			position: sorted.map((f) => fields.indexOf(f)),
			email: sorted.map((f) => f === 'email' || f === 'emailaddress1'),
			h1: prefix.h1,
			h2: prefix.h2,
		};
		plans.set(fields, plan);
	}
	return plan;
}

/** 64 bits as 16 hex characters, from two seeded 32-bit multiplicative hashes fed character by character. */
class Hasher {
	constructor(
		public h1: number,
		public h2: number,
	) {}

	update(text: string): void {
		let h1 = this.h1;
		let h2 = this.h2;
		for (let i = 0; i < text.length; i++) {
			const ch = text.charCodeAt(i);
			h1 = Math.imul(h1 ^ ch, 2654435761);
			h2 = Math.imul(h2 ^ ch, 1597334677);
		}
		this.h1 = h1;
		this.h2 = h2;
	}

	separator(code: number): void {
		this.h1 = Math.imul(this.h1 ^ code, 2654435761);
		this.h2 = Math.imul(this.h2 ^ code, 1597334677);
	}

	digest(): string {
		let h1 = this.h1;
		let h2 = this.h2;
		h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
		h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
		return hex8(h2 >>> 0) + hex8(h1 >>> 0);
	}
}

export interface StoredState {
	acHash: string;
	d365Hash: string;
}

/** `v1:<acHash>:<d365Hash>`, the value of the sync-state field. */
export function formatState(state: StoredState): string {
	return `v1:${state.acHash}:${state.d365Hash}`;
}

export function parseState(value: unknown): StoredState | undefined {
	if (typeof value !== 'string') return undefined;
	const match = /^v1:([0-9a-f]{16}):([0-9a-f]{16})$/.exec(value.trim());
	return match ? { acHash: match[1], d365Hash: match[2] } : undefined;
}

export interface ContactLink {
	entity: LinkedEntity;
	id: string;
}

export function isGuid(value: unknown): value is string {
	return typeof value === 'string' && GUID_PATTERN.test(value);
}

/** `lead:<guid>` / `contact:<guid>`, the value of the contact link field. */
export function formatContactLink(link: ContactLink): string {
	return `${link.entity}:${link.id.toLowerCase()}`;
}

export function parseContactLink(value: unknown): ContactLink | undefined {
	if (typeof value !== 'string') return undefined;
	const text = value.length === 41 || value.length === 44 ? value : value.trim();
	const entity = text.startsWith('contact:') ? 'contact' : text.startsWith('lead:') ? 'lead' : undefined;
	if (!entity) return undefined;
	const id = text.slice(entity.length + 1);
	if (id.length !== 36 || !isGuid(id)) return undefined;
	return { entity, id: id.toLowerCase() };
}

const HEX = '0123456789abcdef';

function hex8(n: number): string {
	let out = '';
	for (let shift = 28; shift >= 0; shift -= 4) out += HEX[(n >>> shift) & 15];
	return out;
}
