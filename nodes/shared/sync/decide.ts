import type { StoredState } from './state';

export type ConflictPolicy = 'dynamicsWins' | 'activeCampaignWins' | 'newestWins';
export type SyncDirection = 'toActiveCampaign' | 'toDynamics';
export type LeadContactPrecedence = 'contact' | 'lead';

export const SKIP_REASONS = {
	unchanged: 'unchanged since last sync',
	noChanges: 'no changes',
	conflictLost: (policy: ConflictPolicy, winner: string) =>
		`conflict: both sides changed since the last sync and ${winner} wins (${policy})`,
	precedence: (kept: string, skipped: string) =>
		`a Dynamics ${kept} has the same email (${kept}s take precedence over ${skipped}s)`,
} as const;

export interface SyncDecisionInput {
	direction: SyncDirection;
	policy: ConflictPolicy;
	/** State hash of the source record now. */
	sourceHash: string;
	/** State hash of the target record now; undefined when there is no target record yet. */
	targetHash?: string;
	/** The link's stored state, when the record was synced before. */
	stored?: StoredState;
	/** Modified times (ISO) of both records, for `newestWins`. */
	sourceModifiedAt?: string;
	targetModifiedAt?: string;
}

export type SyncDecision = { action: 'write'; conflict: boolean } | { action: 'skip'; reason: string };

/**
 * Decides whether a step writes a source record to its target. Uses the stored state hashes of the last sync:
 * an unchanged source is an echo (or a change to unmapped fields) and is skipped; a target that changed since the
 * last sync is a conflict the policy resolves. Without stored state (first sync), differing records are a
 * conflict too. Equal records are written through and left to the write step's own diff ("no changes").
 */
export function decideSync(input: SyncDecisionInput): SyncDecision {
	const { direction, stored } = input;
	if (input.targetHash === undefined) return { action: 'write', conflict: false };

	const storedSource = stored ? (direction === 'toActiveCampaign' ? stored.d365Hash : stored.acHash) : undefined;
	const storedTarget = stored ? (direction === 'toActiveCampaign' ? stored.acHash : stored.d365Hash) : undefined;

	if (storedSource !== undefined && input.sourceHash === storedSource) {
		return { action: 'skip', reason: SKIP_REASONS.unchanged };
	}
	const targetChanged = storedTarget === undefined || input.targetHash !== storedTarget;
	if (!targetChanged) return { action: 'write', conflict: false };

	const sourceWins = sourceWinsConflict(input);
	if (sourceWins) return { action: 'write', conflict: true };
	const winner = direction === 'toActiveCampaign' ? 'ActiveCampaign' : 'Dynamics';
	return { action: 'skip', reason: SKIP_REASONS.conflictLost(input.policy, winner) };
}

function sourceWinsConflict(input: SyncDecisionInput): boolean {
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
			// A tie goes to Dynamics, the system of record for sales data.
			return source === target ? sourceIsDynamics : source > target;
		}
	}
}

/**
 * Lead or contact with one email: ActiveCampaign has one contact per email, Dynamics may have both. Given the entity
 * already linked to the ActiveCampaign contact and the entity of the incoming Dynamics record, says whether the
 * incoming one may take (or keep) the contact.
 */
export function precedenceAllows(
	incoming: 'lead' | 'contact',
	linked: 'lead' | 'contact' | undefined,
	precedence: LeadContactPrecedence,
): boolean {
	if (linked === undefined || linked === incoming) return true;
	return incoming === precedence;
}
