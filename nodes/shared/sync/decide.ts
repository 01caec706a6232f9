export type ConflictPolicy = 'dynamicsWins' | 'activeCampaignWins' | 'newestWins';
export type SyncDirection = 'toActiveCampaign' | 'toDynamics';
export type LeadContactPrecedence = 'contact' | 'lead';

export const SKIP_REASONS = {
	unchanged: 'unchanged since last sync',
	noChanges: 'no changes',
	conflictLost: (policy: ConflictPolicy, winner: string) =>
		`conflict: both sides changed since the last sync and ${winner} wins (${policy})`,
	deletedInDynamics: 'deleted in Dynamics (tagged [D365: Deleted in Dynamics]; remove the tag to sync it again)',
	accountDeletedInDynamics: 'deleted in Dynamics (its D365 Account ID reads deleted:…; clear it to sync the account again)',
	staleRead: 'this read of the Dynamics record is older than what the last sync of it saw (another run wrote it meanwhile); it is read again on the next run',
	precedence: (kept: string, skipped: string) =>
		`a Dynamics ${kept} has the same email (${kept}s take precedence over ${skipped}s)`,
} as const;

/** Why a side holds no value for a field now (ActiveCampaign keeps a contact's job title on its account link). */
export const NOT_HELD = {
	jobTitleWithoutAccount: 'ActiveCampaign keeps the job title on the account link, and the contact has no account',
	jobTitleOnNewLink: 'the contact was linked to its account since the last sync without a job title: no edit of the job title',
} as const;

/**
 * Why a field's source value was not read in this run. Between two full scans (Full Scan Every) ActiveCampaign's change
 * read leaves the account link of a contact the sync settled before unread: a link or account change does not move
 * the contact's modified time, so the next scan finds it; until then the field is neither written nor recorded.
 */
export const NOT_READ = {
	accountBetweenScans: "the contact's account link is read on the next full scan (Full Scan Every)",
} as const;

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
