import { canonical, canonicalEmail } from './canonical';

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
} as const;

export type LinkedEntity = 'lead' | 'contact';

/**
 * The state hash of a record: a short digest of the canonical values of the given fields. Two records with the same
 * values in those fields hash the same, whatever encoding each API used. Field names are part of the digest.
 * Not a security digest: it only has to tell "changed since the last sync" apart, fast (two 32-bit lanes).
 */
export function stateHash(values: Record<string, unknown>, fields: readonly string[]): string {
	const hasher = new Hasher();
	for (const field of sortedFields(fields)) {
		const value = values[field];
		const c = field === 'email' || field === 'emailaddress1' ? canonicalEmail(value) : canonical(value);
		hasher.update(field);
		hasher.separator(1);
		if (c === null) hasher.separator(0);
		else hasher.update(c);
		hasher.separator(2);
	}
	return hasher.digest();
}

const sortedCache = new WeakMap<readonly string[], string[]>();

function sortedFields(fields: readonly string[]): string[] {
	let sorted = sortedCache.get(fields);
	if (!sorted) {
		sorted = [...new Set(fields)].sort();
		sortedCache.set(fields, sorted);
	}
	return sorted;
}

/** 64 bits as 16 hex characters, from two seeded 32-bit multiplicative hashes fed character by character. */
class Hasher {
	private h1 = 0xdeadbeef;
	private h2 = 0x41c6ce57;

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
		return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
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

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: unknown): value is string {
	return typeof value === 'string' && GUID.test(value);
}

/** `lead:<guid>` / `contact:<guid>`, the value of the contact link field. */
export function formatContactLink(link: ContactLink): string {
	return `${link.entity}:${link.id.toLowerCase()}`;
}

export function parseContactLink(value: unknown): ContactLink | undefined {
	if (typeof value !== 'string') return undefined;
	const [entity, id] = value.trim().split(':');
	if ((entity !== 'lead' && entity !== 'contact') || !isGuid(id)) return undefined;
	return { entity, id: id.toLowerCase() };
}
