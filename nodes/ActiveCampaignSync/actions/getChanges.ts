import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { workflowData } from '../../shared/preview';
import { readCursor, writeCursor } from '../../shared/sync/cursor';
import { countsText, dueRetries, recordFailure, recordSuccess, retryStore, retryText } from '../../shared/sync/retries';
import { readChanges, readRecord, sampleRecords, type ChangeEntity } from '../helpers/changes';
import type { BatchOperation, BatchOutcome } from './common';

const SAMPLE_SIZE = 5;

/**
 * Get Changes (contacts or accounts): runs once per execution. The change cursor lives in the node's static data;
 * a manual run (editor) reads from it without moving it, or returns a small sample when there is none yet; a preview
 * moves a copy of it that is not saved.
 */
export function getChangesOf(entity: ChangeEntity): BatchOperation {
	return async (ctx, itemIndices) => {
		const itemIndex = itemIndices[0];
		const startFrom = String(ctx.fn.getNodeParameter('startFrom', itemIndex, '') ?? '').trim();
		const options = ctx.fn.getNodeParameter('changeOptions', itemIndex, {}) as IDataObject;
		const details = options.details !== false;
		const overlapMs = Math.max(0, Number(options.overlapMinutes ?? 5)) * 60_000;
		const maxRecords = Number(options.maxRecords ?? 0) > 0 ? Number(options.maxRecords) : undefined;
		const scanEveryMs = Math.max(0, Number(options.scanEveryMinutes ?? 0)) * 60_000;
		const staticData = workflowData(ctx.fn, 'node');
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
			onReadFailure: 'report',
			...(manual ? {} : { scan: { everyMs: scanEveryMs, lastAt: typeof stored.scanAt === 'string' ? stored.scanAt : undefined } }),
		});
		const unread = (id: string, email: string | undefined, error: Error, retry?: string): BatchOutcome => ({
			itemIndex,
			error: new NodeOperationError(
				ctx.node,
				`Could not read ${entity} ${id}${email ? ` (${email})` : ''} from ActiveCampaign: ${error.message}${retry ? ` — ${retry}` : ''}`,
				{ itemIndex, description: (error as { description?: string }).description ?? undefined },
			),
		});
		if (manual) return [...result.records.map((json) => ({ itemIndex, json })), ...result.failed.map((f) => unread(f.id, f.email, f.error))];
		const next: IDataObject = { floor: result.floor };
		const scanAt = result.scannedAt ?? stored.scanAt;
		if (typeof scanAt === 'string') next.scanAt = scanAt;
		writeCursor(next, result.cursor);
		staticData[key] = next;
		// Records whose write or read failed in an earlier run and are due again (the retry queue), read as they are now.
		const store = retryStore(workflowData(ctx.fn, 'global'));
		const step = ctx.node.name;
		const emitted = new Set(result.records.map((r) => String(r.id)));
		const retried: IDataObject[] = [];
		const failures: BatchOutcome[] = [];
		const due = dueRetries(store, 'activecampaign', [entity]);
		// A record whose details could not be read is remembered: the cursor has passed it, the retry queue has not.
		for (const f of result.failed) {
			const entry = recordFailure(store, { system: 'activecampaign', kind: entity, id: f.id }, `read failed: ${f.error.message}`, step);
			failures.push(unread(f.id, f.email, f.error, `${retryText(entry)} ${countsText(store)}`));
		}
		for (const entry of due) {
			if (emitted.has(entry.id) || result.failed.some((f) => f.id === entry.id)) continue;
			let record: IDataObject | undefined;
			try {
				record = await readRecord(ctx.session, entity, entry.id, details);
			} catch (error) {
				const again = recordFailure(store, entry, `read failed: ${(error as Error).message}`, entry.step);
				failures.push(unread(entry.id, undefined, error as Error, `${retryText(again)} ${countsText(store)}`));
				continue;
			}
			if (!record) {
				// Gone from ActiveCampaign: nothing left to write.
				recordSuccess(store, entry);
				continue;
			}
			retried.push({ ...record, changeType: 'retry', retryAttempt: entry.attempts + 1 });
		}
		return [...[...result.records, ...retried].map((json) => ({ itemIndex, json })), ...failures];
	};
}
