/** Get: one record by id, with the chosen columns (all by default). */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { FORMATTED_VALUES, flattenRelatedContact, relatedContactExpand, selectFor } from '../../helpers/query';
import { itemError, paired, requireRecordId, tablesFor, type OperationContext } from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client, items } = ctx;
	const tables = await tablesFor(ctx);
	return await Promise.all(
		items.map(async (_, i): Promise<INodeExecutionData> => {
			try {
				const table = tables[i];
				if (table instanceof Error) throw table;
				const { id } = requireRecordId(ctx, i);
				const options = fns.getNodeParameter('options', i, {}) as IDataObject;
				const expand = options.includeRelatedContactEmail ? relatedContactExpand(table) : undefined;
				const record = await client.get<IDataObject>(
					`${table.entitySetName}(${id})`,
					{ $select: selectFor(table, options.columns as string[] | undefined), $expand: expand },
					{ prefer: options.formattedValues ? [FORMATTED_VALUES] : [], itemIndex: i, table: table.logicalName, action: 'read' },
				);
				delete record['@odata.context'];
				return paired(expand ? flattenRelatedContact(record) : record, i);
			} catch (error) {
				return itemError(ctx, i, error);
			}
		}),
	);
}
