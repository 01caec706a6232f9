import { createHash } from 'crypto';

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
 */
export function stateHash(values: Record<string, unknown>, fields: readonly string[]): string {
	const pairs = [...new Set(fields)]
		.sort()
		.map((field) => [field, field === 'email' || field === 'emailaddress1' ? canonicalEmail(values[field]) : canonical(values[field])]);
	return createHash('sha256').update(JSON.stringify(pairs)).digest('hex').slice(0, 16);
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
