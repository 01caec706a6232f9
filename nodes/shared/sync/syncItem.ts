/**
 * The sync item: what the Field Map hands to the write nodes (docs/DESIGN.md, "The sync item"). Declared once, here;
 * the Field Map builds it (mapRecord.ts) and both write nodes parse their input with {@link parseSyncItem}.
 */
import { z } from 'zod';

import type { ConflictPolicy, LeadContactPrecedence } from './decide';

const hashPattern = /^[0-9a-f]{16}$/;

/** The v1 state as an object (older items); v1 and v2 states also travel as their stored text. */
const storedStateObject = z.object({ acHash: z.string().regex(hashPattern), d365Hash: z.string().regex(hashPattern) });

const looseRecord = z.record(z.string(), z.unknown());

export const DELETE_POLICIES = ['keep', 'flag', 'propagate'] as const;
export type DeletePolicy = (typeof DELETE_POLICIES)[number];

/** One mapped field pair with the digest of the source's value (fieldState.fieldHash). */
export const syncFieldSchema = z.object({
	key: z.string().min(1),
	activeCampaign: z.string(),
	dynamics: z.string(),
	direction: z.enum(['both', 'toActiveCampaign', 'toDynamics']),
	source: z.string().min(1),
	/**
	 * The contact's account mapped to a Dynamics account lookup: its digests name which account it is (the linked
	 * Dynamics account), not its name (fieldState.accountDigests).
	 */
	accountLink: z.boolean().optional(),
	/** The source value's older digest (by name) that a stored state may still hold. */
	sourceAlt: z.string().optional(),
	/** The source holds no value for this field now, and why (decide.NOT_HELD): its empty value is no edit. */
	notHeld: z.string().optional(),
	/** The source's value was not read in this run, and why (decide.NOT_READ): the field is not carried, its state kept. */
	notRead: z.string().optional(),
	/**
	 * The source's value is the same record under a new name (a lead's company whose ActiveCampaign account was
	 * renamed): carried when the target did not change the field, never over a change made there.
	 */
	renamed: z.boolean().optional(),
});

export type SyncField = z.infer<typeof syncFieldSchema>;

export const syncItemSchema = z.object({
	entity: z.enum(['lead', 'contact', 'account', 'opportunity']),
	direction: z.enum(['toActiveCampaign', 'toDynamics']).optional(),
	/** `deleted`: the source record was deleted (Dynamics change tracking); the write applies the delete policy. */
	event: z.enum(['created', 'updated', 'deleted']).nullish(),
	record: looseRecord.default({}),
	/** Dynamics columns set only when the write creates the record (defaults for required columns). */
	createOnly: looseRecord.default({}),
	match: z
		.object({
			d365Id: z.string().nullish(),
			d365Entity: z.string().nullish(),
			acId: z.union([z.string(), z.number()]).nullish(),
			email: z.string().nullish(),
			name: z.string().nullish(),
			externalId: z.string().nullish(),
			/** A Dynamics record merged into another (its master): the link moves there. */
			mergedInto: z.string().nullish(),
			/** A Dynamics contact qualified from a lead: the lead's ActiveCampaign contact moves to it. */
			originatingLead: z.string().nullish(),
			/** A qualified Dynamics lead: it never takes its ActiveCampaign contact back from the contact it became. */
			qualified: z.boolean().nullish(),
		})
		.passthrough()
		.default({}),
	source: z
		.object({
			system: z.string().nullish(),
			id: z.string().nullish(),
			modifiedAt: z.string().nullish(),
			/** Dynamics sources: the record's row version (`versionnumber`) as read; a state newer than it marks the read stale. */
			version: z.union([z.string(), z.number()]).nullish(),
			/** The ActiveCampaign account the record comes from (its API host): part of the id of a record created from it. */
			account: z.string().nullish(),
			/** Whole-record state hash of the source (reads states stored before per-field state). */
			hash: z.string().nullish(),
		})
		.passthrough()
		.default({}),
	state: z
		.object({
			/** The stored state as read with the source record (ActiveCampaign → Dynamics); text (v1 or v2) or a v1 object. */
			stored: z.union([z.string(), storedStateObject]).nullish(),
			/** The target's hash fields (whole-record hashes of older states). */
			targetHashFields: z.array(z.string()).default([]),
		})
		.passthrough()
		.default({ targetHashFields: [] }),
	/** Every mapped field pair (both directions), with the source's digests: the per-field state. */
	fields: z.array(syncFieldSchema).default([]),
	tags: z.array(z.string()).default([]),
	/** Tags to take off the contact (e.g. `[D365: Lead]` when a Dynamics contact takes it over). */
	removeTags: z.array(z.string()).default([]),
	related: z
		.object({ contactEmail: z.string().nullish(), accountName: z.string().nullish(), d365AccountId: z.string().nullish() })
		.passthrough()
		.default({}),
	policy: z
		.object({
			conflict: z.enum(['dynamicsWins', 'activeCampaignWins', 'newestWins']).optional(),
			precedence: z.enum(['contact', 'lead']).optional(),
			delete: z.enum(DELETE_POLICIES).optional(),
		})
		.passthrough()
		.default({}),
});

export type SyncItem = z.infer<typeof syncItemSchema>;
/** What the Field Map builds (before defaults are applied by parsing). */
export type SyncItemInput = z.input<typeof syncItemSchema>;

export interface SyncDefaults {
	conflict: ConflictPolicy;
	precedence: LeadContactPrecedence;
	delete: DeletePolicy;
}

/** Parses an input item as a sync item; a readable message naming the first problem when it is not one. */
export function parseSyncItem(json: unknown): { ok: true; item: SyncItem } | { ok: false; error: string } {
	const result = syncItemSchema.safeParse(json);
	if (result.success) return { ok: true, item: result.data };
	const issue = result.error.issues[0];
	const where = issue.path.length ? issue.path.join('.') : 'item';
	return { ok: false, error: `The input item is not a sync item from the Field Map: ${where}: ${issue.message}` };
}

/** The stored state of an item as text (v1 objects of older items are formatted), or undefined. */
export function storedStateText(item: Pick<SyncItem, 'state'>): string | undefined {
	const stored = item.state.stored;
	if (!stored) return undefined;
	if (typeof stored === 'string') return stored;
	return `v1:${stored.acHash}:${stored.d365Hash}`;
}

/** The pair keys of an item's mapping (all fields, both directions): the state's field set. */
export function stateKeys(item: Pick<SyncItem, 'fields'>): string[] {
	return item.fields.map((f) => f.key);
}
