import { param, type ItemOperation } from '../common';
import { previewTargetExists, resolveContactId } from './shared';

/** Contact → Delete. */
export const deleteContact: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	if (ctx.session.preview) {
		// Whether there is a contact to delete (the real run's DELETE of a missing one fails with 404); nothing is sent.
		const contact = await previewTargetExists(ctx, 'contact', id, itemIndex, 'the delete would fail (404)');
		ctx.session.planWrite(itemIndex);
		return { operation: 'deleted', deleted: true, id, email: String(contact.email ?? '') || null, changes: [], preview: true };
	}
	await ctx.session.request({ method: 'DELETE', path: `/api/3/contacts/${id}`, itemIndex });
	return { deleted: true, id };
};
