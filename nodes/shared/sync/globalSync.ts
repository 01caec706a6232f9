/**
 * Global Sync: the official app's one switch for the whole integration ("Sync Settings → Global Sync"), kept in the
 * Dynamics 365 credential because every template and every user workflow that syncs uses that one credential. On (the
 * default) syncs both ways; the guide's "off" pauses Dynamics → ActiveCampaign only; "pause both ways" stops
 * ActiveCampaign → Dynamics too. A paused direction reads nothing and keeps its cursors, so switching back on catches
 * up with everything that changed meanwhile; a direction that never ran starts with everything (the initial sync).
 */
import type { IDataObject, INodeProperties } from 'n8n-workflow';

export type GlobalSyncMode = 'on' | 'pauseToActiveCampaign' | 'pauseBothWays';

export interface GlobalSync {
	mode: GlobalSyncMode;
	dynamicsToActiveCampaign: boolean;
	activeCampaignToDynamics: boolean;
	/** One sentence for run data, answers and the report. */
	summary: string;
}

const SUMMARIES: Record<GlobalSyncMode, string> = {
	on: 'Global Sync is on: both directions sync.',
	pauseToActiveCampaign: 'Global Sync is off: Dynamics → ActiveCampaign is paused (ActiveCampaign → Dynamics goes on).',
	pauseBothWays: 'Global Sync is off: both directions are paused.',
};

/** The credential field (both Dynamics 365 credential types). */
export const GLOBAL_SYNC_PROPERTY: INodeProperties = {
	displayName: 'Global Sync',
	name: 'globalSync',
	type: 'options',
	options: [
		{ name: 'On', value: 'on', description: 'Sync both ways' },
		{
			name: 'Off: Pause Dynamics → ActiveCampaign',
			value: 'pauseToActiveCampaign',
			description: "The official app's \"off\": nothing goes from Dynamics to ActiveCampaign; ActiveCampaign → Dynamics goes on",
		},
		{ name: 'Off: Pause Both Ways', value: 'pauseBothWays', description: 'Nothing syncs in either direction' },
	],
	default: 'on',
	description:
		'The switch for the whole integration, read by every sync template that uses this credential. A paused direction reads nothing and keeps its place: switched on again, it catches up with what changed meanwhile. The first cycle with it on reads everything (the initial sync).',
};

export function globalSyncOf(credentials: IDataObject | undefined): GlobalSync {
	const value = credentials?.globalSync ?? '';
	// A credential saved before the switch existed has none: on, as the official app's default.
	const mode = (value === '' ? 'on' : value) as GlobalSyncMode;
	if (!(mode in SUMMARIES)) {
		throw new Error(`Global Sync "${String(value)}" is not one of ${Object.keys(SUMMARIES).join(', ')}: set it in the Dynamics 365 credential`);
	}
	return {
		mode,
		dynamicsToActiveCampaign: mode === 'on',
		activeCampaignToDynamics: mode !== 'pauseBothWays',
		summary: SUMMARIES[mode],
	};
}

/** What a paused Dynamics read says (run data, the report). */
export const PAUSED_TO_ACTIVECAMPAIGN =
	'Paused by Global Sync (Dynamics 365 credential): nothing was read from Dynamics and the cursor was kept; switched on again, the next run reads everything changed meanwhile.';
