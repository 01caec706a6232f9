/**
 * Get Many: records matching criteria rows (compiled to an escaped `$filter`), a "modified since" time and an
 * optional raw `$filter`. Return All pages through `@odata.nextLink` with 5,000 records per page; Limit reads one
 * page of that size. Never `$top`.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import {
	criteriaFilter,
	criteriaOf,
	FORMATTED_VALUES,
	flattenRelatedContact,
	modifiedSinceFilter,
	rawFilter,
	relatedContactExpand,
	selectFor,
} from '../../helpers/query';
import { andFilters } from '../../transport/odata';
import { itemError, paired, tablesFor, type OperationContext } from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client, items } = ctx;
	const tables = await tablesFor(ctx);
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const table = tables[i];
			if (table instanceof Error) throw table;
			const returnAll = fns.getNodeParameter('returnAll', i, false) as boolean;
			const limit = returnAll ? undefined : (fns.getNodeParameter('limit', i, 50) as number);
			const options = fns.getNodeParameter('options', i, {}) as IDataObject;
			const criteria = criteriaOf(fns.getNodeParameter('criteria', i, {}));
			const filter = andFilters(
				criteriaFilter(table, criteria, (options.combinator as 'and' | 'or') ?? 'and'),
				modifiedSinceFilter(options.modifiedSince),
				rawFilter(table, options.rawFilter),
			);
			const expand = options.includeRelatedContactEmail ? relatedContactExpand(table) : undefined;
			const orderBy = (options.orderBy as string | undefined)?.trim();
			const { records } = await client.list<IDataObject>(
				table.entitySetName,
				{
					$select: selectFor(table, options.columns as string[] | undefined),
					$filter: filter,
					$orderby: orderBy || undefined,
					$expand: expand,
				},
				{ limit, prefer: options.formattedValues ? [FORMATTED_VALUES] : [], itemIndex: i, table: table.logicalName },
			);
			for (const record of records) out.push(paired(expand ? flattenRelatedContact(record) : record, i));
		} catch (error) {
			out.push(itemError(ctx, i, error));
		}
	}
	return out;
}
