import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { presentContact, readContact } from '../../helpers/contactRead';
import { param, type ItemOperation } from '../common';
import { resolveContactId } from './shared';

/** Contact → Get: by id or email, with field values (and tags and account unless switched off). */
export const get: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const details = (ctx.fn.getNodeParameter('getOptions', itemIndex, {}) as IDataObject).details !== false;
	const snapshot = await readContact(ctx.session, id, { itemIndex, tags: details, account: details, mustExist: true });
	if (!snapshot) throw new NodeOperationError(ctx.node, `No ActiveCampaign contact with id ${id}`, { itemIndex });
	return await presentContact(ctx.session, snapshot);
};
