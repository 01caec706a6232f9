import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { readContact } from '../../helpers/contactRead';
import { syncContactItem } from '../../helpers/contactSync';
import { previewContactWrite, writeContact } from '../../helpers/contactWrite';
import { parseSyncItem } from '../../../shared/sync/syncItem';
import { prepareContactItems, readAheadFor } from '../../helpers/prefetch';
import type { SyncItem } from '../../../shared/sync/syncItem';
import { param, syncDefaults, type ItemOperation, type PrepareOperation } from '../common';
import { desiredFromParameters } from './shared';
import { omitKeys } from '../../../shared/object';

/** Contact → Create or Update: by email via contact/sync, by id when the id is known; only what differs. */
export const upsert: ItemOperation = async (ctx, itemIndex) => {
	if (ctx.fn.getNodeParameter('dataMode', itemIndex, 'fields') === 'syncItem') {
		const parsed = parseSyncItem(ctx.fn.getInputData()[itemIndex]?.json);
		if (!parsed.ok) throw new NodeOperationError(ctx.node, parsed.error, { itemIndex });
		// Reading ahead only saves requests: the item reads what it misses itself.
		await readAheadFor(ctx.session, itemIndex).catch(() => undefined);
		return await syncContactItem(ctx.session, ctx.node, parsed.item, syncDefaults(ctx, itemIndex), itemIndex);
	}
	const email = param(ctx, 'email', itemIndex);
	if (!email) throw new NodeOperationError(ctx.node, 'An email is needed', { itemIndex });
	const desired = await desiredFromParameters(ctx, itemIndex, 'additionalFields', email);
	const contactId = String((ctx.fn.getNodeParameter('additionalFields', itemIndex, {}) as IDataObject).contactId ?? '').trim();
	const needAccount = desired.accountName !== undefined || desired.jobTitle !== undefined;
	let target;
	if (contactId) {
		target = await readContact(ctx.session, contactId, { itemIndex, account: needAccount, mustExist: true });
		if (!target) throw new NodeOperationError(ctx.node, `No ActiveCampaign contact with id ${contactId}`, { itemIndex });
	} else {
		const found = await ctx.session.contactByEmail(email, itemIndex);
		if (found) target = await readContact(ctx.session, String(found.id), { itemIndex, account: needAccount });
	}
	if (ctx.session.preview) return await previewContactWrite(ctx.session, target, desired, itemIndex);
	const result = omitKeys(await writeContact(ctx.session, target, desired, itemIndex), ['after']);
	return { ...result } as unknown as IDataObject;
};

/** Sync items: which contacts hold their links, read once for all of them (helpers/prefetch.ts). */
export const prepareUpsert: PrepareOperation = async (ctx, itemIndices) => {
	const items: Array<{ itemIndex: number; item: SyncItem }> = [];
	for (const itemIndex of itemIndices) {
		if (ctx.fn.getNodeParameter('dataMode', itemIndex, 'fields') !== 'syncItem') continue;
		const parsed = parseSyncItem(ctx.fn.getInputData()[itemIndex]?.json);
		if (parsed.ok) items.push({ itemIndex, item: parsed.item });
	}
	await prepareContactItems(ctx.session, items);
};
