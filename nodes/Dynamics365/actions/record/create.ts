/**
 * Create: one record per item, written together in `$batch` (or CreateMultiple) requests. Required columns
 * (ApplicationRequired, which Dataverse itself does not enforce) are checked before anything is sent.
 */
import { randomUUID } from 'crypto';
import type { INodeExecutionData } from 'n8n-workflow';

import type { TableInfo } from '../../transport/metadata';
import { resolveBinds } from '../../helpers/records';
import { missingRequired, prepareRecord, RecordError, type PreparedRecord } from '../../helpers/values';
import {
	directoryFor,
	itemError,
	opportunityInput,
	paired,
	previewChanges,
	recordInput,
	tablesFor,
	writeAndReport,
	type OperationContext,
	type PlannedWrites,
} from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client, items } = ctx;
	const out: Array<INodeExecutionData | undefined> = new Array(items.length);
	const dataMode = fns.getNodeParameter('dataMode', 0, 'defineBelow') as string;
	const checkRequired = fns.getNodeParameter('options.checkRequired', 0, true) as boolean;
	const tables = await tablesFor(ctx);
	const directory = await directoryFor(client, tables.filter((t): t is TableInfo => !(t instanceof Error)));
	const prepared: Array<PreparedRecord | undefined> = new Array(items.length);
	for (let i = 0; i < items.length; i++) {
		try {
			const table = tables[i];
			if (table instanceof Error) throw table;
			const input = { ...recordInput(ctx, i, dataMode), ...opportunityInput(ctx, i) };
			prepared[i] = prepareRecord(table, input, { mode: 'create', unknownFields: dataMode === 'autoMap' ? 'ignore' : 'error', directory });
		} catch (error) {
			out[i] = itemError(ctx, i, error);
		}
	}
	for (const [index, error] of await resolveBinds(client, prepared, directory)) {
		out[index] = itemError(ctx, index, error);
		prepared[index] = undefined;
	}
	const ops: PlannedWrites = [];
	for (let i = 0; i < items.length; i++) {
		const record = prepared[i];
		const table = tables[i];
		if (!record || table instanceof Error) continue;
		try {
			if (checkRequired) {
				const missing = missingRequired(table, record);
				if (missing.length) {
					throw new RecordError(
						`Missing required column${missing.length > 1 ? 's' : ''} for a new ${table.logicalName}: ${missing
							.map((c) => `${c.displayName} (${c.logicalName})`)
							.join(', ')}`,
					);
				}
			}
			const changes = client.previewOnly ? previewChanges(record, record.body) : undefined;
			ops.push({ index: i, op: { kind: 'create', table, id: randomUUID(), body: record.body }, changes });
		} catch (error) {
			out[i] = itemError(ctx, i, error);
		}
	}
	await writeAndReport(ctx, ops, out, 'create', (op, id) => ({ operation: 'created', id, entity: op.table.logicalName }));
	return out.map((o, i) => o ?? paired({}, i));
}
