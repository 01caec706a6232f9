import type { IDataObject } from 'n8n-workflow';

import { param, type ItemOperation } from '../common';
import { resolveContactId } from './shared';

/** Contact → Remove From Automation: ends every run of that automation for the contact. */
export const removeFromAutomation: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const automation = param(ctx, 'automation', itemIndex);
	const body = await ctx.session.request<IDataObject>({ method: 'GET', path: `/api/3/contacts/${id}/contactAutomations`, itemIndex });
	const runs = ((body.contactAutomations as IDataObject[] | undefined) ?? []).filter(
		(ca) => String(ca.automation ?? ca.seriesid) === automation,
	);
	if (ctx.session.preview) {
		ctx.session.planWrite(itemIndex, runs.length);
		return {
			operation: runs.length ? 'removedFromAutomation' : 'skipped',
			...(runs.length ? {} : { reason: 'the contact is not in this automation' }),
			id,
			automation,
			removed: runs.length,
			changes: runs.length ? [{ field: 'automation', before: automation, after: null }] : [],
			preview: true,
		};
	}
	for (const run of runs) {
		await ctx.session.request({ method: 'DELETE', path: `/api/3/contactAutomations/${run.id}`, itemIndex });
	}
	return { id, automation, removed: runs.length };
};
