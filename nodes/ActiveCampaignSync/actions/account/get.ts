import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { accountSnapshotOf, presentAccount, readAccount } from '../../helpers/accounts';
import { param, type ItemOperation } from '../common';

/** Account → Get. */
export const get: ItemOperation = async (ctx, itemIndex) => {
	const id = param(ctx, 'accountId', itemIndex);
	const details = (ctx.fn.getNodeParameter('getAllOptions', itemIndex, {}) as IDataObject).details !== false;
	if (!details) {
		const body = await ctx.session.request<IDataObject>({ method: 'GET', path: `/api/3/accounts/${encodeURIComponent(id)}`, itemIndex });
		return await presentAccount(ctx.session, accountSnapshotOf(body.account as IDataObject, []));
	}
	const snapshot = await readAccount(ctx.session, id, itemIndex);
	if (!snapshot) throw new NodeOperationError(ctx.node, `No ActiveCampaign account with id ${id}`, { itemIndex });
	return await presentAccount(ctx.session, snapshot);
};
