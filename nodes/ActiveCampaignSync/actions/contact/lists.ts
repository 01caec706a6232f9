import type { IDataObject } from 'n8n-workflow';

import { param, type ItemOperation, type OpContext } from '../common';
import { resolveContactId } from './shared';

const STATUS_NAMES: Record<string, string> = { '1': 'subscribed', '2': 'unsubscribed' };

async function setStatus(ctx: OpContext, itemIndex: number, status: 1 | 2): Promise<IDataObject> {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const list = param(ctx, 'list', itemIndex);
	if (ctx.session.preview) {
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

/** Contact → Subscribe to List. */
export const subscribe: ItemOperation = async (ctx, itemIndex) => await setStatus(ctx, itemIndex, 1);

/** Contact → Unsubscribe From List. */
export const unsubscribe: ItemOperation = async (ctx, itemIndex) => await setStatus(ctx, itemIndex, 2);
