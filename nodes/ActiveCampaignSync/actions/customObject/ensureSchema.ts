import type { IDataObject } from 'n8n-workflow';

import { ensureSchema as ensure, OPPORTUNITY_SLUG, type ExtraField } from '../../helpers/customObjects';
import type { BatchOperation } from '../common';
import { splitCommas } from '../../../shared/lists';

/** Custom Object → Ensure Schema (once per run); a preview lists what it would create, one item each. */
export const ensureSchema: BatchOperation = async (ctx, itemIndices) => {
	const itemIndex = itemIndices[0];
	const options = ctx.fn.getNodeParameter('schemaOptions', itemIndex, {}) as IDataObject;
	const raw = ctx.fn.getNodeParameter('schemaFields.field', itemIndex, []) as IDataObject[];
	const extraFields: ExtraField[] = raw.map((f) => ({
		id: String(f.id ?? '').trim(),
		label: String(f.label ?? '').trim() || String(f.id ?? '').trim(),
		type: String(f.type ?? 'text'),
		options: splitCommas(String(f.options ?? '')),
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
