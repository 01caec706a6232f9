import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { readContact } from '../../helpers/contactRead';
import { previewContactWrite, writeContact } from '../../helpers/contactWrite';
import { param, type ItemOperation } from '../common';
import { desiredFromParameters } from './shared';
import { omitKeys } from '../../../shared/object';

/** Contact → Update: by id, only what differs (a new email is written to the same contact). */
export const update: ItemOperation = async (ctx, itemIndex) => {
	const contactId = param(ctx, 'contactId', itemIndex);
	const desired = await desiredFromParameters(ctx, itemIndex, 'updateFields', undefined);
	const needAccount = desired.accountName !== undefined || desired.jobTitle !== undefined;
	const target = await readContact(ctx.session, contactId, { itemIndex, account: needAccount, mustExist: true });
	if (!target) throw new NodeOperationError(ctx.node, `No ActiveCampaign contact with id ${contactId}`, { itemIndex });
	if (ctx.session.preview) return await previewContactWrite(ctx.session, target, desired, itemIndex);
	const result = omitKeys(await writeContact(ctx.session, target, desired, itemIndex), ['after']);
	return { ...result } as unknown as IDataObject;
};
