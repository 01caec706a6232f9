/** Update: writes the given columns of the record with the given id (PATCH with If-Match: *, never a create). */
import type { INodeExecutionData } from 'n8n-workflow';

import type { TableInfo } from '../../transport/metadata';
import { resolveBinds } from '../../helpers/records';
import { prepareRecord, RecordError, type PreparedRecord } from '../../helpers/values';
import {
	directoryFor,
	itemError,
	opportunityInput,
	paired,
	previewChanges,
	previewStored,
	recordInput,
	requireRecordId,
	tablesFor,
	writeAndReport,
	type OperationContext,
	type PlannedWrites,
} from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client, items } = ctx;
	const out: Array<INodeExecutionData | undefined> = new Array(items.length);
	const dataMode = fns.getNodeParameter('dataMode', 0, 'defineBelow') as string;
	const tables = await tablesFor(ctx);
	const directory = await directoryFor(client, tables.filter((t): t is TableInfo => !(t instanceof Error)));
	const prepared: Array<PreparedRecord | undefined> = new Array(items.length);
	const ids: string[] = new Array(items.length);
	for (let i = 0; i < items.length; i++) {
		try {
			const table = tables[i];
			if (table instanceof Error) throw table;
			ids[i] = requireRecordId(ctx, i).id;
			const input = { ...recordInput(ctx, i, dataMode), ...opportunityInput(ctx, i) };
			delete input[table.primaryIdAttribute];
			prepared[i] = prepareRecord(table, input, { mode: 'update', unknownFields: dataMode === 'autoMap' ? 'ignore' : 'error', directory });
			if (!Object.keys(prepared[i]!.body).length) throw new RecordError('Nothing to update: no writable column has a value');
		} catch (error) {
			out[i] = itemError(ctx, i, error);
			prepared[i] = undefined;
		}
	}
	for (const [index, error] of await resolveBinds(client, prepared, directory)) {
		out[index] = itemError(ctx, index, error);
		prepared[index] = undefined;
	}
	let ops: PlannedWrites = [];
	prepared.forEach((record, i) => {
		const table = tables[i];
		if (record && !(table instanceof Error)) ops.push({ index: i, op: { kind: 'update', table, id: ids[i], body: record.body } });
	});
	if (client.previewOnly) {
		// What each update would change, from the record as stored now.
		ops = await previewStored(ctx, ops, out, ({ index, op }, stored) => previewChanges(prepared[index]!, op.body ?? {}, stored));
	}
	await writeAndReport(ctx, ops, out, 'update', (op) => ({
		operation: 'updated',
		id: op.id,
		entity: op.table.logicalName,
		changedColumns: Object.keys(op.body ?? {}),
	}));
	return out.map((o, i) => o ?? paired({}, i));
}
