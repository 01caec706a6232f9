/**
 * The sync item (docs/DESIGN.md, "The sync item"): what the Field Map hands to the write nodes. This file validates
 * the ActiveCampaign-bound shapes and holds the naming rules of state hashes on the ActiveCampaign side.
 */
import { z } from 'zod';

import type { ConflictPolicy, LeadContactPrecedence } from '../../shared/sync/decide';

const hashPattern = /^[0-9a-f]{16}$/;

const storedState = z.object({ acHash: z.string().regex(hashPattern), d365Hash: z.string().regex(hashPattern) });

const looseRecord = z.record(z.string(), z.unknown());

export const syncItemSchema = z.object({
	entity: z.enum(['lead', 'contact', 'account', 'opportunity']),
	direction: z.enum(['toActiveCampaign', 'toDynamics']).optional(),
	record: looseRecord.default({}),
	match: z
		.object({
			d365Id: z.string().optional(),
			d365Entity: z.string().optional(),
			acId: z.union([z.string(), z.number()]).optional(),
			email: z.string().optional(),
			name: z.string().optional(),
			externalId: z.string().optional(),
		})
		.passthrough()
		.default({}),
	source: z
		.object({
			system: z.string().optional(),
			id: z.string().optional(),
			modifiedAt: z.string().optional(),
			hash: z.string().optional(),
		})
		.passthrough()
		.default({}),
	state: z
		.object({
			stored: storedState.nullish(),
			targetHashFields: z.array(z.string()).default([]),
		})
		.passthrough()
		.default({ targetHashFields: [] }),
	tags: z.array(z.string()).default([]),
	related: z
		.object({ contactEmail: z.string().optional(), accountName: z.string().optional() })
		.passthrough()
		.default({}),
	policy: z
		.object({
			conflict: z.enum(['dynamicsWins', 'activeCampaignWins', 'newestWins']).optional(),
			precedence: z.enum(['contact', 'lead']).optional(),
		})
		.passthrough()
		.default({}),
});

export type SyncItem = z.infer<typeof syncItemSchema>;

export interface SyncDefaults {
	conflict: ConflictPolicy;
	precedence: LeadContactPrecedence;
}

/** Parses an input item as a sync item; a readable message naming the first problem when it is not one. */
export function parseSyncItem(json: unknown): { ok: true; item: SyncItem } | { ok: false; error: string } {
	const result = syncItemSchema.safeParse(json);
	if (result.success) return { ok: true, item: result.data };
	const issue = result.error.issues[0];
	const where = issue.path.length ? issue.path.join('.') : 'item';
	return { ok: false, error: `The input item is not a sync item from the Field Map: ${where}: ${issue.message}` };
}

/** Standard attributes of a contact as the sync item's ActiveCampaign record names them. */
export const CONTACT_STANDARD_FIELDS = ['email', 'firstName', 'lastName', 'phone', 'accountName', 'jobTitle'] as const;
export type ContactStandardField = (typeof CONTACT_STANDARD_FIELDS)[number];

export const ACCOUNT_STANDARD_FIELDS = ['name', 'accountUrl'] as const;

/**
 * The key a hash field name points at: a standard attribute, or a custom field given by perstag, title or id,
 * optionally prefixed `fieldValues.` (contacts) or `fields.` (accounts).
 */
export function hashFieldKey(name: string): { standard: true; key: string } | { standard: false; key: string } {
	const trimmed = name.trim();
	const stripped = trimmed.replace(/^(fieldValues|fields)\./, '');
	if (stripped !== trimmed) return { standard: false, key: stripped };
	if ((CONTACT_STANDARD_FIELDS as readonly string[]).includes(trimmed) || (ACCOUNT_STANDARD_FIELDS as readonly string[]).includes(trimmed)) {
		return { standard: true, key: trimmed };
	}
	return { standard: false, key: trimmed };
}
