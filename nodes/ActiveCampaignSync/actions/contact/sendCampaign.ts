import { NodeApiError, type IDataObject, type JsonObject } from 'n8n-workflow';

import { param, type ItemOperation } from '../common';
import { isStandIn, standInName } from '../../../shared/preview';
import { previewTargetExists, resolveContactId } from './shared';

/**
 * Contact → Send Campaign. API v3 has no call that sends a campaign to one contact: the supported way is an
 * automation whose first step sends the email (recommended); the legacy v1 `campaign_send` call sends an existing
 * campaign message right away. Neither request is repeatable: after a 5xx or a timeout the email may have gone out,
 * so the item fails instead of sending it a second time (429s, which ActiveCampaign answers before acting, are waited out).
 */
export const sendCampaign: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	if (ctx.fn.getNodeParameter('sendMethod', itemIndex, 'automation') === 'automation') {
		const automation = param(ctx, 'sendAutomation', itemIndex);
		if (ctx.session.preview) {
			await previewTargetExists(ctx, 'automation', automation, itemIndex);
			ctx.session.planWrite(itemIndex);
			return { operation: 'sent', id, method: 'automation', automation, changes: [], preview: true };
		}
		const body = await ctx.session.request<IDataObject>({
			method: 'POST',
			path: '/api/3/contactAutomations',
			body: { contactAutomation: { contact: id, automation } },
			itemIndex,
		});
		return { id, method: 'automation', automation, contactAutomation: (body.contactAutomation as IDataObject) ?? null };
	}
	// A preview's stand-in for a contact it would create is named by its email.
	const contact = isStandIn(id) ? { contact: { email: standInName(id) } } : await ctx.session.request<IDataObject>({ method: 'GET', path: `/api/3/contacts/${id}`, itemIndex });
	const email = String((contact.contact as IDataObject | undefined)?.email ?? '');
	const campaign = param(ctx, 'campaign', itemIndex);
	const messageId = param(ctx, 'messageId', itemIndex);
	const form = new URLSearchParams({ email, campaignid: campaign, type: 'mime', action: 'send' });
	if (messageId) form.set('messageid', messageId);
	if (ctx.session.preview) {
		await previewTargetExists(ctx, 'campaign', campaign, itemIndex);
		ctx.session.planWrite(itemIndex);
		return { operation: 'sent', id, email, method: 'v1', campaign, messageId: messageId || null, changes: [], preview: true };
	}
	const body = await ctx.session.request<IDataObject>({
		method: 'POST',
		path: '/admin/api.php',
		qs: { api_action: 'campaign_send', api_output: 'json' },
		body: form.toString(),
		form: true,
		itemIndex,
	});
	if (Number(body.result_code) !== 1) {
		const message = String(body.result_message ?? 'ActiveCampaign did not send the campaign');
		throw new NodeApiError(ctx.node, { message } as JsonObject, {
			message,
			description: 'The v1 campaign_send call failed. Check that the campaign and message exist and the contact can receive it.',
			itemIndex,
		});
	}
	return { id, email, method: 'v1', campaign, messageId: messageId || null, result: String(body.result_message ?? '') };
};
