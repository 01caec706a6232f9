import { param, type ItemOperation } from '../common';
import { resolveContactId } from './shared';

/** Contact → Delete. */
export const deleteContact: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	await ctx.session.request({ method: 'DELETE', path: `/api/3/contacts/${id}`, itemIndex });
	return { deleted: true, id };
};
