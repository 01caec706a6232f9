/** Delete: removes the record with the given id; many items go out in `$batch` requests. */
import type { INodeExecutionData } from 'n8n-workflow';

import { itemError, paired, previewStored, requireRecordId, tablesFor, writeAndReport, type OperationContext, type PlannedWrites } from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { client, items } = ctx;
	const out: Array<INodeExecutionData | undefined> = new Array(items.length);
	const tables = await tablesFor(ctx);
	let ops: PlannedWrites = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const table = tables[i];
			if (table instanceof Error) throw table;
			ops.push({ index: i, op: { kind: 'delete', table, id: requireRecordId(ctx, i).id } });
		} catch (error) {
			out[i] = itemError(ctx, i, error);
		}
	}
	// A preview checks that each record is there to delete.
	if (client.previewOnly) ops = await previewStored(ctx, ops, out);
	await writeAndReport(ctx, ops, out, 'delete', (op) => ({ operation: 'deleted', id: op.id, entity: op.table.logicalName }));
	return out.map((o, i) => o ?? paired({}, i));
}
