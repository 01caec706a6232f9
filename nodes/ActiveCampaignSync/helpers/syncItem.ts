/**
 * The sync item (docs/DESIGN.md, "The sync item"; built by nodes/shared/sync/mapRecord.ts): what the Field Map hands
 * to the write nodes. This file validates the ActiveCampaign-bound shapes.
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
			d365Id: z.string().nullish(),
			d365Entity: z.string().nullish(),
			acId: z.union([z.string(), z.number()]).nullish(),
			email: z.string().nullish(),
			name: z.string().nullish(),
			externalId: z.string().nullish(),
		})
		.passthrough()
		.default({}),
	source: z
		.object({
			system: z.string().nullish(),
			id: z.string().nullish(),
			modifiedAt: z.string().nullish(),
			hash: z.string().nullish(),
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
	/** Tags to take off the contact (e.g. `[D365: Lead]` when a Dynamics contact takes it over). */
	removeTags: z.array(z.string()).default([]),
	related: z
		.object({ contactEmail: z.string().nullish(), accountName: z.string().nullish() })
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
