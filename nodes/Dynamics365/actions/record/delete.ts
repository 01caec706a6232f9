/** Delete: removes the record with the given id; many items go out in `$batch` requests. */
import type { INodeExecutionData } from 'n8n-workflow';

import { runWrites, type WriteOperation } from '../../helpers/records';
import { itemError, paired, requireRecordId, tablesFor, type OperationContext } from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client, items } = ctx;
	const out: Array<INodeExecutionData | undefined> = new Array(items.length);
	const tables = await tablesFor(ctx);
	const ops: Array<{ index: number; op: WriteOperation }> = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const table = tables[i];
			if (table instanceof Error) throw table;
			ops.push({ index: i, op: { kind: 'delete', table, id: requireRecordId(ctx, i).id } });
		} catch (error) {
			out[i] = itemError(ctx, i, error);
		}
	}
	const results = await runWrites(
		client,
		ops.map((o) => o.op),
		{ batchSize: fns.getNodeParameter('options.batchSize', 0, 1000) as number },
	);
	results.forEach((result, k) => {
		const { index, op } = ops[k];
		out[index] = result.ok
			? paired({ operation: 'deleted', id: op.id, entity: op.table.logicalName }, index)
			: itemError(ctx, index, client.error(result.failure, { itemIndex: index, table: op.table.logicalName, action: 'delete' }));
	});
	return out.map((o, i) => o ?? paired({}, i));
}
