import type { IDataObject } from 'n8n-workflow';

import { accountSnapshotOf, listedAccountSnapshots, presentAccount, readAccount } from '../../helpers/accounts';
import { acPagesByOffset } from '../../transport';
import { readEach, type ItemOperation } from '../common';

/** Account → Get Many: offset paging, 100 per request, no cap. */
export const getAll: ItemOperation = async (ctx, itemIndex) => {
	const returnAll = ctx.fn.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? undefined : (ctx.fn.getNodeParameter('limit', itemIndex, 50) as number);
	const filters = ctx.fn.getNodeParameter('filters', itemIndex, {}) as IDataObject;
	const details = (ctx.fn.getNodeParameter('getAllOptions', itemIndex, {}) as IDataObject).details !== false;
	const qs: IDataObject = {};
	if (typeof filters.search === 'string' && filters.search.trim()) qs.search = filters.search.trim();
	const accounts: IDataObject[] = [];
	for await (const page of acPagesByOffset(ctx.session.ctx, '/api/3/accounts', 'accounts', qs, { max: limit, itemIndex })) accounts.push(...page);
	// Their custom fields from the field value list when that is cheaper than two reads per account.
	const listed = details ? await listedAccountSnapshots(ctx.session, accounts, itemIndex) : undefined;
	return await readEach(ctx, itemIndex, accounts, 'account', async (a) => {
		if (!details) return await presentAccount(ctx.session, accountSnapshotOf(a, []));
		const snapshot = listed?.get(String(a.id)) ?? (await readAccount(ctx.session, String(a.id), itemIndex));
		return snapshot ? await presentAccount(ctx.session, snapshot) : undefined;
	});
};
