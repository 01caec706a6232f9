/**
 * Global Sync → Get Status: the integration's switch as the Dynamics 365 credential says it (shared/sync/globalSync.ts),
 * one item per input item, for a template's steps to follow (an If before an ActiveCampaign → Dynamics part, a
 * webhook's answer). No request is sent. A paused direction is noted for the run's Sync report.
 */
import type { INodeExecutionData } from 'n8n-workflow';

import { notePaused } from '../../../shared/report';
import { paired, type OperationContext } from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { mode, dynamicsToActiveCampaign, activeCampaignToDynamics, summary } = ctx.client.globalSync;
	if (!dynamicsToActiveCampaign) notePaused(ctx.fns, 'toActiveCampaign');
	if (!activeCampaignToDynamics) notePaused(ctx.fns, 'toDynamics');
	return ctx.items.map((_, i) => paired({ globalSync: mode, dynamicsToActiveCampaign, activeCampaignToDynamics, summary }, i));
}
