import type { IDataObject } from 'n8n-workflow';

import { OPPORTUNITY_SLUG, PRIMARY_CONTACT, resolveSchema } from '../../helpers/customObjects';
import { param, type ItemOperation } from '../common';
import { resolveContactId } from '../contact/shared';

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
	for await (const { items } of ctx.session.pages(`/api/3/customObjects/records/${schema.id}`, 'records', qs, { max: limit, itemIndex })) {
		for (const record of items) {
			const fields = Object.fromEntries(((record.fields as IDataObject[] | undefined) ?? []).map((f) => [String(f.id), f.value])) as IDataObject;
			out.push({ ...record, fields, schemaSlug: schema.slug });
		}
	}
	return out;
};
