import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { presentContact, readContact } from '../../helpers/contactRead';
import { param, type ItemOperation } from '../common';
import { plannedNames } from '../../../shared/preview';
import { resolveContactId } from './shared';

/** Contact → Get: by id or email, with field values (and tags and account unless switched off). */
export const get: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const details = (ctx.fn.getNodeParameter('getOptions', itemIndex, {}) as IDataObject).details !== false;
	const snapshot = await readContact(ctx.session, id, { itemIndex, tags: details, account: details, mustExist: true });
	if (!snapshot) throw new NodeOperationError(ctx.node, `No ActiveCampaign contact with id ${id}`, { itemIndex });
	// In a preview execution, the tags an earlier step would have added (Add Tag): the record as the run would leave it.
	for (const name of snapshot.tags ? plannedNames(ctx.fn, `tagOf:${id}`) : []) {
		if (!snapshot.tags!.some((t) => t.name.toLowerCase() === name.toLowerCase())) snapshot.tags!.push({ contactTagId: '', tagId: '', name });
	}
	return await presentContact(ctx.session, snapshot);
};
