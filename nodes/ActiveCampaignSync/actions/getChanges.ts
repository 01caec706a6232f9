import type { IDataObject } from 'n8n-workflow';

import { readCursor, writeCursor } from '../../shared/sync/cursor';
import { dueRetries, recordSuccess, retryStore } from '../../shared/sync/retries';
import { readChanges, readRecord, sampleRecords, type ChangeEntity } from '../helpers/changes';
import type { BatchOperation } from './common';

const SAMPLE_SIZE = 5;

/**
 * Get Changes (contacts or accounts): runs once per execution. The change cursor lives in the node's static data;
 * a manual run (editor) reads from it without moving it, or returns a small sample when there is none yet.
 */
export function getChangesOf(entity: ChangeEntity): BatchOperation {
	return async (ctx, itemIndices) => {
		const itemIndex = itemIndices[0];
		const startFrom = String(ctx.fn.getNodeParameter('startFrom', itemIndex, '') ?? '').trim();
		const options = ctx.fn.getNodeParameter('changeOptions', itemIndex, {}) as IDataObject;
		const details = options.details !== false;
		const overlapMs = Math.max(0, Number(options.overlapMinutes ?? 5)) * 60_000;
		const maxRecords = Number(options.maxRecords ?? 0) > 0 ? Number(options.maxRecords) : undefined;
		const staticData = ctx.fn.getWorkflowStaticData('node');
		const key = `${entity}Changes`;
		const stored = (staticData[key] ?? {}) as IDataObject;
		const cursor = readCursor(stored);
		const manual = ctx.fn.getMode() === 'manual';

		if (manual && !cursor && !startFrom) {
			const sample = await sampleRecords(ctx.session, entity, SAMPLE_SIZE, details);
			return sample.map((json) => ({ itemIndex, json }));
		}
		const result = await readChanges(ctx.session, {
			entity,
			event: 'any',
			cursor,
			startFrom: startFrom || undefined,
			overlapMs,
			details,
			maxRecords,
			floor: typeof stored.floor === 'string' ? stored.floor : undefined,
		});
		if (manual) return result.records.map((json) => ({ itemIndex, json }));
		const next: IDataObject = { floor: result.floor };
		writeCursor(next, result.cursor);
		staticData[key] = next;
		// Records whose write failed in an earlier run and are due again (the retry queue), read as they are now.
		const store = retryStore(ctx.fn.getWorkflowStaticData('global'));
		const emitted = new Set(result.records.map((r) => String(r.id)));
		const retried: IDataObject[] = [];
		for (const entry of dueRetries(store, 'activecampaign', [entity])) {
			if (emitted.has(entry.id)) continue;
			const record = await readRecord(ctx.session, entity, entry.id, details);
			if (!record) {
				// Gone from ActiveCampaign: nothing left to write.
				recordSuccess(store, entry);
				continue;
			}
			retried.push({ ...record, changeType: 'retry', retryAttempt: entry.attempts + 1 });
		}
		return [...result.records, ...retried].map((json) => ({ itemIndex, json }));
	};
}
