import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { parseSyncItem } from '../../../shared/sync/syncItem';
import { OPPORTUNITY_SLUG, PRIMARY_CONTACT, upsertRecord as upsert } from '../../helpers/customObjects';
import { param, type ItemOperation, type OpContext } from '../common';

/** Custom Object → Create or Update Record: by external id, related to a contact found by email; unchanged → skipped. */
export const upsertRecord: ItemOperation = async (ctx, itemIndex) => {
	const out = await upsertRecordOf(ctx, itemIndex);
	return ctx.session.preview ? { ...out, preview: true } : out;
};

async function upsertRecordOf(ctx: OpContext, itemIndex: number): Promise<IDataObject> {
	const schema = param(ctx, 'schema', itemIndex) || OPPORTUNITY_SLUG;
	const relationship = String((ctx.fn.getNodeParameter('recordOptions', itemIndex, {}) as IDataObject).relationship ?? PRIMARY_CONTACT) || PRIMARY_CONTACT;
	if (ctx.fn.getNodeParameter('dataMode', itemIndex, 'fields') === 'syncItem') {
		const parsed = parseSyncItem(ctx.fn.getInputData()[itemIndex]?.json);
		if (!parsed.ok) throw new NodeOperationError(ctx.node, parsed.error, { itemIndex });
		const item = parsed.item;
		if (item.entity !== 'opportunity') throw new NodeOperationError(ctx.node, `A ${item.entity} sync item is not an opportunity`, { itemIndex });
		const record = item.record as IDataObject;
		const fields = (record.fields && typeof record.fields === 'object' ? record.fields : {}) as IDataObject;
		return await upsert(
			ctx.session,
			ctx.node,
			{
				schema,
				externalId: String(item.match.externalId ?? item.match.d365Id ?? item.source.id ?? ''),
				fields,
				contactEmail: item.related.contactEmail ?? item.match.email ?? undefined,
				relationship,
			},
			itemIndex,
		);
	}
	const rows = ctx.fn.getNodeParameter('recordFields.field', itemIndex, []) as IDataObject[];
	const fields: IDataObject = {};
	for (const row of rows) if (String(row.id ?? '').trim()) fields[String(row.id).trim()] = row.value as IDataObject[string];
	return await upsert(
		ctx.session,
		ctx.node,
		{ schema, externalId: param(ctx, 'externalId', itemIndex), fields, contactEmail: param(ctx, 'contactEmail', itemIndex) || undefined, relationship },
		itemIndex,
	);
}
