/**
 * Get Changes: the records created or updated since the previous run of this node, once per run (not per input
 * item). The cursor lives in the node's static data (saved by n8n in production and CLI runs); a manual run returns
 * a few recent changes and leaves the cursor alone. See helpers/changes.ts for the reading rules.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { changeItem, readChanges, sampleChanges, type ChangeReadOptions } from '../../helpers/changes';
import { criteriaFilter, criteriaOf, relatedContactExpand, selectFor } from '../../helpers/query';
import { andFilters } from '../../transport/odata';
import { itemError, paired, tableNameFor, type OperationContext } from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client } = ctx;
	try {
		const table = await client.table(tableNameFor(ctx, 0));
		const options = fns.getNodeParameter('options', 0, {}) as IDataObject;
		const criteria = criteriaOf(fns.getNodeParameter('criteria', 0, {}));
		const readOptions: ChangeReadOptions = {
			table,
			select: selectFor(table, options.columns as string[] | undefined),
			filter: andFilters(criteriaFilter(table, criteria, (options.combinator as 'and' | 'or') ?? 'and'), (options.rawFilter as string | undefined)?.trim() || undefined),
			overlapMs: Number(options.overlapMinutes ?? 5) * 60_000,
			ignoreOwnChanges: options.ignoreOwnChanges !== false,
			startFrom: (options.startFrom as string | undefined) || undefined,
			maxRecords: Number(options.maxRecords ?? 10_000),
			expand: options.includeRelatedContactEmail ? relatedContactExpand(table) : undefined,
			formattedValues: options.formattedValues === true,
		};
		if (fns.getMode() === 'manual' && options.manualSample !== false) {
			const sample = await sampleChanges(client, readOptions);
			return sample.map((change) => paired(changeItem(table, change), 0));
		}
		const staticData = fns.getWorkflowStaticData('node');
		const slots = (staticData.changes ??= {}) as IDataObject;
		const slot = (slots[table.logicalName] ??= {}) as IDataObject;
		const result = await readChanges(client, slot, readOptions);
		return result.changes.map((change) => paired(changeItem(table, change), 0));
	} catch (error) {
		return [itemError(ctx, 0, error)];
	}
}
