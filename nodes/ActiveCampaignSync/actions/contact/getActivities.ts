import type { IDataObject } from 'n8n-workflow';

import { activityNote } from '../../../shared/activityNote';
import { filterTime } from '../../helpers/changes';
import { param, type ItemOperation } from '../common';
import { resolveContactId } from './shared';

function parseJson(value: unknown): IDataObject {
	if (typeof value !== 'string' || !value.trim()) return {};
	try {
		const parsed = JSON.parse(value) as unknown;
		return parsed && typeof parsed === 'object' ? (parsed as IDataObject) : {};
	} catch {
		return {};
	}
}

/**
 * Contact → Get Activities: the contact's sends, opens and clicks since a time, oldest first, each with the Dynamics
 * note it makes (`note.subject`, `note.text`).
 */
export const getActivities: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const since = param(ctx, 'since', itemIndex);
	const returnAll = ctx.fn.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? Infinity : (ctx.fn.getNodeParameter('limit', itemIndex, 50) as number);
	const details = (ctx.fn.getNodeParameter('activityOptions', itemIndex, {}) as IDataObject).details !== false;
	const qs: IDataObject = { contact: id, 'orders[tstamp]': 'ASC' };
	if (since) qs.after = filterTime(since);
	if (details) qs.include = 'reference.campaign,reference.campaignMessage,reference.link';
	const out: IDataObject[] = [];
	const campaigns = new Map<string, IDataObject>();
	const messages = new Map<string, IDataObject>();
	const links = new Map<string, IDataObject>();
	const max = Number.isFinite(limit) ? limit : undefined;
	for await (const { items: page, body } of ctx.session.pages('/api/3/activities', 'activities', qs, { max, itemIndex })) {
		for (const c of (body.campaigns as IDataObject[] | undefined) ?? []) campaigns.set(String(c.id), c);
		for (const m of (body.campaignMessages as IDataObject[] | undefined) ?? []) messages.set(String(m.id), m);
		for (const l of (body.links as IDataObject[] | undefined) ?? []) links.set(String(l.id), l);
		for (const a of page) {
			const data = parseJson(a.jsonData);
			const campaignId = data.campaignid === undefined ? undefined : String(data.campaignid);
			const messageId = data.messageid === undefined ? undefined : String(data.messageid);
			const linkId = data.linkid === undefined ? (a.reference_type === 'Link' ? String(a.reference_id) : undefined) : String(data.linkid);
			const activity = {
				id: String(a.id),
				contactId: id,
				type: String(a.reference_action ?? ''),
				tstamp: (a.tstamp as string | undefined) ?? null,
				campaignId: campaignId ?? null,
				campaignName: campaignId ? ((campaigns.get(campaignId)?.name as string | undefined) ?? null) : null,
				messageId: messageId ?? null,
				subject: messageId ? ((messages.get(messageId)?.subject as string | undefined) ?? null) : null,
				linkId: linkId ?? null,
				link: linkId ? ((links.get(linkId)?.link as string | undefined) ?? null) : null,
				referenceType: a.reference_type ?? null,
				referenceId: a.reference_id ?? null,
			};
			// The Dynamics note this activity makes: the same subject as its webhook delivery's (shared/activityNote.ts).
			out.push({ ...activity, note: activityNote({ type: activity.type, at: activity.tstamp, campaignName: activity.campaignName, subject: activity.subject, link: activity.link }) });
		}
	}
	return out;
};
