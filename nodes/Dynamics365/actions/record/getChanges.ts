/**
 * Get Changes: the records created or updated since the previous run of this node, once per run (not per input
 * item). The cursor lives in the node's static data (saved by n8n in production and CLI runs); a manual run returns
 * a few recent changes and leaves the cursor alone (n8n gives editor runs no static data); a preview reads the changes
 * since the cursor on a copy of it that is not saved. While Global Sync pauses Dynamics → ActiveCampaign it reads nothing
 * and keeps its cursor (the Sync report says so). See helpers/changes.ts for the reading rules.
 */
import { NodeOperationError, type IDataObject, type INodeExecutionData } from 'n8n-workflow';

import { notePaused } from '../../../shared/report';
import { dueRetries, retryStore } from '../../../shared/sync/retries';
import { workflowData } from '../../../shared/preview';
import { readCursor } from '../../../shared/sync/cursor';
import { changeItem, readByIds, readChanges, readDeltaChanges, sampleChanges, type ChangeReadOptions } from '../../helpers/changes';
import { criteriaFilter, criteriaOf, rawFilter, relatedContactExpand, selectFor } from '../../helpers/query';
import { andFilters } from '../../transport/odata';
import { itemError, paired, tableNameFor, type OperationContext } from '../common';

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client } = ctx;
	// Global Sync paused Dynamics → ActiveCampaign: nothing is read, the cursor and the retry queue wait as they are.
	if (!client.globalSync.dynamicsToActiveCampaign) {
		notePaused(fns, 'toActiveCampaign');
		return [];
	}
	try {
		const table = await client.table(tableNameFor(ctx, 0));
		const options = fns.getNodeParameter('options', 0, {}) as IDataObject;
		const criteria = criteriaOf(fns.getNodeParameter('criteria', 0, {}));
		const raw = rawFilter(table, options.rawFilter);
		const readOptions: ChangeReadOptions = {
			table,
			select: selectFor(table, options.columns as string[] | undefined),
			filter: andFilters(criteriaFilter(table, criteria, (options.combinator as 'and' | 'or') ?? 'and'), raw),
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
		const staticData = workflowData(fns, 'node');
		const slots = (staticData.changes ??= {}) as IDataObject;
		const slot = (slots[table.logicalName] ??= {}) as IDataObject;
		const readMode = String(options.readMode ?? 'modifiedOn');
		const tracking = readMode === 'changeTracking' || (readMode === 'auto' && table.changeTracking);
		if (tracking && !table.changeTracking) {
			throw new NodeOperationError(fns.getNode(), `Change tracking is not enabled for the ${table.logicalName} table`, {
				description:
					'Enable "Track changes" in the table\'s settings (Power Apps → Tables → the table → Properties → Advanced options), or set "Detect Changes By" to Modified Time.',
			});
		}
		let result;
		if (tracking) {
			const deltas = (staticData.deltas ??= {}) as IDataObject;
			const delta = (deltas[table.logicalName] ??= {}) as IDataObject;
			const watermark = readCursor(slot)?.watermark;
			// Moving from Modified Time to change tracking: the first delta read reports what changed since the old
			// cursor (minus the overlap), so nothing between the two is missed.
			const startFrom = !delta.deltaLink && !delta.since && watermark ? new Date(Date.parse(watermark) - readOptions.overlapMs).toISOString() : readOptions.startFrom;
			result = await readDeltaChanges(client, delta, { ...readOptions, filter: undefined, expand: undefined, startFrom, criteria, rawFilter: raw });
		} else {
			result = await readChanges(client, slot, readOptions);
		}
		const out = result.changes.map((change) => paired(changeItem(table, change), 0));
		// Records whose write failed in an earlier run and are due again (the retry queue), read as they are now.
		const store = retryStore(workflowData(fns, 'global'));
		const emitted = new Set(result.changes.map((c) => c.id));
		const due = dueRetries(store, 'dynamics', [table.logicalName]).filter((e) => !emitted.has(e.id));
		if (due.length) {
			const found = await readByIds(client, readOptions, due.map((e) => e.id));
			for (const entry of due) {
				const id = entry.id.toLowerCase();
				const record = found.get(id);
				// Gone from Dynamics since it failed (read by id alone, so not merely out of the criteria): it goes on as a
				// delete, so the write step applies the delete policy (unlinks, tags) instead of the record being dropped.
				const change = record ? { event: 'updated' as const, id, record } : { event: 'deleted' as const, id, record: { id } };
				out.push(paired({ ...changeItem(table, change), retryAttempt: entry.attempts + 1 }, 0));
			}
		}
		return out;
	} catch (error) {
		return [itemError(ctx, 0, error)];
	}
}
