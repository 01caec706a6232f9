import type { IDataObject } from 'n8n-workflow';

import { param, type ItemOperation } from '../common';
import { previewTargetExists, resolveContactId } from './shared';

/** Contact → Add to Automation. */
export const addToAutomation: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const automation = param(ctx, 'automation', itemIndex);
	if (ctx.session.preview) {
		await previewTargetExists(ctx, 'automation', automation, itemIndex);
		ctx.session.planWrite(itemIndex);
		return { operation: 'addedToAutomation', id, automation, changes: [{ field: 'automation', before: null, after: automation }], preview: true };
	}
	const body = await ctx.session.request<IDataObject>({
		method: 'POST',
		path: '/api/3/contactAutomations',
		body: { contactAutomation: { contact: id, automation } },
		itemIndex,
	});
	return { id, automation, contactAutomation: (body.contactAutomation as IDataObject) ?? null };
};
