import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { OPPORTUNITY_SLUG, resolveSchema } from '../../helpers/customObjects';
import { param, type ItemOperation } from '../common';

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
		return { operation: 'deleted', deleted: true, id: current.id ?? null, externalId, schemaId: schema.id, changes: [], preview: true };
	}
	const response = await ctx.session.requestFull({
		method: 'DELETE',
		path,
		itemIndex,
	});
	return { deleted: true, externalId, schemaId: schema.id, status: response?.status ?? null };
};
