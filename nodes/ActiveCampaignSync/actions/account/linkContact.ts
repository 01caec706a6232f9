import { NodeOperationError } from 'n8n-workflow';

import { readContactAccount } from '../../helpers/contactRead';
import { linkAccount } from '../../helpers/contactWrite';
import { resolveContactId } from '../contact/shared';
import { param, type ItemOperation } from '../common';
import type { PreviewChange } from '../../../shared/preview';

/** Account → Link Contact: a contact belongs to one account; a link to another account is moved. */
export const linkContact: ItemOperation = async (ctx, itemIndex) => {
	const contactId = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const account = param(ctx, 'account', itemIndex);
	if (!account) throw new NodeOperationError(ctx.node, 'An account (name or id) is needed to link the contact to', { itemIndex });
	const jobTitle = param(ctx, 'jobTitle', itemIndex);
	const current = await readContactAccount(ctx.session, contactId, itemIndex);
	const byId = /^\d+$/.test(account);
	const changes = await linkAccount(
		ctx.session,
		contactId,
		current,
		byId ? undefined : account,
		jobTitle === '' ? undefined : jobTitle,
		itemIndex,
		byId ? account : undefined,
	);
	if (ctx.session.preview) {
		// Nothing was sent: the link as the real run would leave it.
		const accountName = byId ? ((await ctx.session.accountName(account, itemIndex)) ?? null) : account;
		const previewChanges: PreviewChange[] = [];
		if (changes.includes('account')) previewChanges.push({ field: 'account', before: current?.name ?? null, after: accountName });
		if (changes.includes('jobTitle')) previewChanges.push({ field: 'jobTitle', before: current?.jobTitle ?? null, after: jobTitle });
		return {
			operation: changes.length ? 'updated' : 'skipped',
			...(changes.length ? {} : { reason: 'no changes' }),
			contactId,
			accountName,
			movedFrom: current && changes.includes('account') ? current.id : null,
			changes: previewChanges,
			preview: true,
		};
	}
	const after = await readContactAccount(ctx.session, contactId, itemIndex);
	return {
		operation: changes.length ? 'updated' : 'skipped',
		...(changes.length ? {} : { reason: 'no changes' }),
		contactId,
		accountId: after?.id ?? null,
		accountName: after?.name ?? null,
		jobTitle: after?.jobTitle ?? null,
		movedFrom: current && after && current.id !== after.id ? current.id : null,
		changes,
	};
};
