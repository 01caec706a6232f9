import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { emptyDesired, encodeFieldValues, type DesiredContact } from '../../helpers/contactWrite';
import { param, type OpContext } from '../common';
import { standInId, wasPlanned } from '../../../shared/preview';
import { textList } from '../../../shared/lists';

/** A contact given by ActiveCampaign id or by email: its id (in a preview, a stand-in for one it would create). */
export async function resolveContactId(ctx: OpContext, value: string, itemIndex: number): Promise<string> {
	const key = String(value ?? '').trim();
	if (!key) throw new NodeOperationError(ctx.node, 'No contact given (an ActiveCampaign ID or an email)', { itemIndex });
	if (/^\d+$/.test(key)) return key;
	if (key.includes('@')) {
		const contact = await ctx.session.contactByEmail(key, itemIndex);
		// In a preview, a contact an earlier step would create stands in (nothing can be read of it yet).
		if (!contact && ctx.session.preview && wasPlanned(ctx.fn, 'contact', key)) return standInId(key);
		if (!contact) throw new NodeOperationError(ctx.node, `No ActiveCampaign contact with email ${key}`, { itemIndex });
		return String(contact.id);
	}
	throw new NodeOperationError(ctx.node, `"${key}" is neither a contact ID nor an email`, { itemIndex });
}

/** The values to write, from the node's fields (Create or Update, Create or Update Many, Update). */
export async function desiredFromParameters(
	ctx: OpContext,
	itemIndex: number,
	collection: 'additionalFields' | 'updateFields',
	email: string | undefined,
): Promise<DesiredContact> {
	const fields = ctx.fn.getNodeParameter(collection, itemIndex, {}) as IDataObject;
	const desired = emptyDesired();
	const givenEmail = email ?? (typeof fields.email === 'string' && fields.email.trim() ? fields.email.trim() : undefined);
	if (givenEmail) desired.email = givenEmail;
	for (const name of ['firstName', 'lastName', 'phone'] as const) {
		if (fields[name] !== undefined) desired.attributes[name] = String(fields[name]);
	}
	if (typeof fields.accountName === 'string' && fields.accountName.trim()) desired.accountName = fields.accountName.trim();
	if (fields.jobTitle !== undefined) desired.jobTitle = String(fields.jobTitle);
	const custom = ctx.fn.getNodeParameter('customFields.fieldValues', itemIndex, []) as Array<{ field?: string; value?: unknown }>;
	desired.fieldValues = await encodeFieldValues(
		ctx.session,
		ctx.node,
		custom.map((c) => ({ key: String(c.field ?? ''), value: c.value })),
		itemIndex,
	);
	desired.tags = textList(ctx.fn.getNodeParameter('tags', itemIndex, []));
	desired.lists = textList(ctx.fn.getNodeParameter('lists', itemIndex, []));
	return desired;
}


const STATUS_NAMES: Record<string, string> = { '1': 'subscribed', '2': 'unsubscribed' };

/**
 * In a preview: the contact, automation, list or campaign a write names, as it is — the real write would fail without
 * it, so the preview fails the same way (saying how) instead of saying it would succeed. One read.
 */
export async function previewTargetExists(
	ctx: OpContext,
	kind: 'contact' | 'automation' | 'list' | 'campaign',
	id: string,
	itemIndex: number,
	failure = 'the real run would fail',
): Promise<IDataObject> {
	const body = await ctx.session.request<IDataObject | undefined>({ method: 'GET', path: `/api/3/${kind}s/${encodeURIComponent(id)}`, itemIndex, allowNotFound: true });
	const found = body?.[kind] as IDataObject | undefined;
	if (!found) throw new NodeOperationError(ctx.node, `No ActiveCampaign ${kind} with id ${id}: ${failure}`, { itemIndex });
	return found;
}

/** Subscribe / Unsubscribe: the contact's status on a list (in a preview, its status before and after). */
export async function setListStatus(ctx: OpContext, itemIndex: number, status: 1 | 2): Promise<IDataObject> {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const list = param(ctx, 'list', itemIndex);
	if (ctx.session.preview) {
		await previewTargetExists(ctx, 'list', list, itemIndex);
		// The contact's status on the list now; the real run sends the status either way (it is repeatable).
		const body = await ctx.session.request<IDataObject>({ method: 'GET', path: `/api/3/contacts/${id}/contactLists`, itemIndex });
		const membership = ((body.contactLists as IDataObject[] | undefined) ?? []).find((cl) => String(cl.list) === String(list));
		const before = membership ? (STATUS_NAMES[String(membership.status)] ?? String(membership.status)) : null;
		ctx.session.planWrite(itemIndex);
		return {
			operation: STATUS_NAMES[status],
			id,
			list,
			status: STATUS_NAMES[status],
			changes: before === STATUS_NAMES[status] ? [] : [{ field: `list ${list}`, before, after: STATUS_NAMES[status] }],
			preview: true,
		};
	}
	const body = await ctx.session.request<IDataObject>({
		method: 'POST',
		path: '/api/3/contactLists',
		body: { contactList: { list: Number(list), contact: Number(id), status } },
		itemIndex,
		// Sets a status: the same again changes nothing.
		repeatable: true,
	});
	return { id, list, status: STATUS_NAMES[status], contactList: (body.contactList as IDataObject) ?? null };
}

/** A preview's item for a tag change: the contact's tags before and after (a tag the run would create is named). */
export function previewOfTags(id: string, operation: 'updated' | 'skipped', current: Array<{ name: string }>, tags: string[], what: IDataObject): IDataObject {
	const before = current.map((t) => t.name);
	return {
		operation,
		...(operation === 'skipped' ? { reason: 'no changes' } : {}),
		id,
		...what,
		tags,
		changes: operation === 'skipped' ? [] : [{ field: 'tags', before, after: tags }],
		preview: true,
	};
}

export { param };
