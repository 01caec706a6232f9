import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { encodeAccountFields, previewAccountWrite, readAccount, syncAccountItem, writeAccount, type DesiredAccount } from '../../helpers/accounts';
import { planCreated } from '../../../shared/preview';
import { parseSyncItem } from '../../../shared/sync/syncItem';
import { param, syncDefaults, type ItemOperation } from '../common';
import { omitKeys } from '../../../shared/object';

/** Account → Create or Update: by name (search, then create or update only what differs), or a sync item. */
export const upsert: ItemOperation = async (ctx, itemIndex) => {
	if (ctx.fn.getNodeParameter('dataMode', itemIndex, 'fields') === 'syncItem') {
		const parsed = parseSyncItem(ctx.fn.getInputData()[itemIndex]?.json);
		if (!parsed.ok) throw new NodeOperationError(ctx.node, parsed.error, { itemIndex });
		const out = await syncAccountItem(ctx.session, ctx.node, parsed.item, syncDefaults(ctx, itemIndex), itemIndex);
		// A preview's every item says so, also one decided before any write (e.g. linked to another account).
		return ctx.session.preview ? { ...out, preview: true } : out;
	}
	const name = param(ctx, 'name', itemIndex);
	if (!name) throw new NodeOperationError(ctx.node, 'An account name is needed', { itemIndex });
	const additional = ctx.fn.getNodeParameter('additionalFields', itemIndex, {}) as IDataObject;
	const custom = ctx.fn.getNodeParameter('customFields.fieldValues', itemIndex, []) as Array<{ field?: string; value?: unknown }>;
	const fields = await encodeAccountFields(ctx.session, ctx.node, custom.map((c) => ({ key: String(c.field ?? ''), value: c.value })), itemIndex);
	const found = await ctx.session.accountByName(name, itemIndex);
	const target = found ? await readAccount(ctx.session, String(found.id), itemIndex) : undefined;
	const desired: DesiredAccount = { name, accountUrl: additional.accountUrl === undefined ? undefined : String(additional.accountUrl), fields };
	// A preview: what the write would change, field by field; nothing is sent.
	if (ctx.session.preview) {
		const shown = previewAccountWrite(target, desired);
		if (shown.operation !== 'skipped') ctx.session.planWrite(itemIndex);
		if (!target) planCreated(ctx.fn, 'account', name);
		return shown;
	}
	const result = omitKeys(await writeAccount(ctx.session, target, desired, itemIndex), ['after']);
	return { ...result } as unknown as IDataObject;
};
