import type { IDataObject } from 'n8n-workflow';

import { param, type ItemOperation, type OpContext } from '../common';
import { resolveContactId } from './shared';

async function setStatus(ctx: OpContext, itemIndex: number, status: 1 | 2): Promise<IDataObject> {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const list = param(ctx, 'list', itemIndex);
	const body = await ctx.session.request<IDataObject>({
		method: 'POST',
		path: '/api/3/contactLists',
		body: { contactList: { list: Number(list), contact: Number(id), status } },
		itemIndex,
		// Sets a status: the same again changes nothing.
		repeatable: true,
	});
	return { id, list, status: status === 1 ? 'subscribed' : 'unsubscribed', contactList: (body.contactList as IDataObject) ?? null };
}

/** Contact → Subscribe to List. */
export const subscribe: ItemOperation = async (ctx, itemIndex) => await setStatus(ctx, itemIndex, 1);

/** Contact → Unsubscribe From List. */
export const unsubscribe: ItemOperation = async (ctx, itemIndex) => await setStatus(ctx, itemIndex, 2);
