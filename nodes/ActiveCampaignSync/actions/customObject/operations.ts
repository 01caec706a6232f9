import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { ensureSchema as ensure, OPPORTUNITY_SLUG, PRIMARY_CONTACT, resolveSchema, upsertRecord as upsert, type ExtraField } from '../../helpers/customObjects';
import { parseSyncItem } from '../../../shared/sync/syncItem';
import { acPagesByOffset } from '../../transport';
import { resolveContactId } from '../contact/shared';
import { param, type BatchOperation, type ItemOperation, type OpContext } from '../common';

/** Custom Object → Ensure Schema (once per run); a preview lists what it would create, one item each. */
export const ensureSchema: BatchOperation = async (ctx, itemIndices) => {
	const itemIndex = itemIndices[0];
	const options = ctx.fn.getNodeParameter('schemaOptions', itemIndex, {}) as IDataObject;
	const raw = ctx.fn.getNodeParameter('schemaFields.field', itemIndex, []) as IDataObject[];
	const extraFields: ExtraField[] = raw.map((f) => ({
		id: String(f.id ?? '').trim(),
		label: String(f.label ?? '').trim() || String(f.id ?? '').trim(),
		type: String(f.type ?? 'text'),
		options: String(f.options ?? '')
			.split(',')
			.map((o) => o.trim())
			.filter(Boolean),
	}));
	const items = await ensure(ctx.session, ctx.node, {
		slug: String(options.slug ?? OPPORTUNITY_SLUG).trim() || OPPORTUNITY_SLUG,
		singular: String(options.singular ?? 'D365 Opportunity'),
		plural: String(options.plural ?? 'D365 Opportunities'),
		currency: String(options.currency ?? 'USD').toUpperCase(),
		extraFields,
	});
	return items.map((json) => ({ itemIndex, json }));
};

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

/** Custom Object → Get Many Records: all records, or those related to one contact. */
export const getAllRecords: ItemOperation = async (ctx, itemIndex) => {
	const schema = await resolveSchema(ctx.session, ctx.node, param(ctx, 'schema', itemIndex) || OPPORTUNITY_SLUG, itemIndex);
	const contact = param(ctx, 'contact', itemIndex);
	const returnAll = ctx.fn.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? undefined : (ctx.fn.getNodeParameter('limit', itemIndex, 50) as number);
	const qs: IDataObject = {};
	if (contact) {
		const relationship = schema.relationships.find((r) => r.namespace === 'contacts')?.id ?? PRIMARY_CONTACT;
		qs[`filters[relationships.${relationship}][eq]`] = await resolveContactId(ctx, contact, itemIndex);
	}
	const out: IDataObject[] = [];
	for await (const page of acPagesByOffset(ctx.session.ctx, `/api/3/customObjects/records/${schema.id}`, 'records', qs, { max: limit, itemIndex })) {
		for (const record of page) {
			const fields = Object.fromEntries(((record.fields as IDataObject[] | undefined) ?? []).map((f) => [String(f.id), f.value])) as IDataObject;
			out.push({ ...record, fields, schemaSlug: schema.slug });
		}
	}
	return out;
};

/** Custom Object → Delete Record: by external id (ActiveCampaign answers 202). */
export const deleteRecord: ItemOperation = async (ctx, itemIndex) => {
	const schema = await resolveSchema(ctx.session, ctx.node, param(ctx, 'schema', itemIndex) || OPPORTUNITY_SLUG, itemIndex);
	const externalId = param(ctx, 'deleteExternalId', itemIndex);
	if (!externalId) throw new NodeOperationError(ctx.node, 'An external ID is needed', { itemIndex });
	const path = `/api/3/customObjects/records/${schema.id}/external/${encodeURIComponent(externalId)}`;
	if (ctx.session.preview) {
		// Whether there is a record to delete (the real run's DELETE of a missing one fails with 404); nothing is sent.
		const current = (await ctx.session.request<IDataObject | undefined>({ method: 'GET', path, itemIndex, allowNotFound: true }))?.record as IDataObject | undefined;
		if (!current) {
			throw new NodeOperationError(ctx.node, `No ${schema.slug} record with external ID ${externalId}: the delete would fail (404)`, { itemIndex });
		}
		ctx.session.planWrite(itemIndex);
		return { operation: 'deleted', deleted: true, id: current.id ?? null, externalId, schemaId: schema.id, preview: true };
	}
	const response = await ctx.session.requestFull({
		method: 'DELETE',
		path,
		itemIndex,
	});
	return { deleted: true, externalId, schemaId: schema.id, status: response?.status ?? null };
};
