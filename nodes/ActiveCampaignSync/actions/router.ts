/**
 * Resource → operation dispatch. Resource and operation are read per item. Per-item operations run in item order;
 * bulk operations (Create or Update Many) get all their items at once; Get Changes, Ensure Sync Fields and Ensure
 * Schema run once per execution. Every output item carries `pairedItem`; failures become error items when the node
 * continues on fail (the error output when it has one), else the run fails with the item's index.
 */
import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { isPreview } from '../../shared/preview';
import { countWritesNeeded, tallyOutcomes } from '../../shared/report';
import { isStateValue } from '../../shared/sync/fieldState';
import { bookWrites, countsText, deadLetterMessage, deadLetterReport, forgetPendingState, rememberLink, rememberPendingState, retryStore, retryText } from '../../shared/sync/retries';
import { AcSession } from '../helpers/session';
import { get as getAccount } from './account/get';
import { getAll as getAllAccounts } from './account/getAll';
import { linkContact } from './account/linkContact';
import { recordSyncState as recordAccountSyncState } from './account/recordSyncState';
import { upsert as upsertAccount } from './account/upsert';
import type { BatchOperation, ItemOperation, OpContext, OperationHandler, PrepareOperation } from './common';
import { addToAutomation } from './contact/addToAutomation';
import { addTag } from './contact/addTag';
import { deleteContact } from './contact/delete';
import { ensureSyncFields } from './contact/ensureSyncFields';
import { get as getContact } from './contact/get';
import { getActivities } from './contact/getActivities';
import { getAll as getAllContacts } from './contact/getAll';
import { removeFromAutomation } from './contact/removeFromAutomation';
import { removeTag } from './contact/removeTag';
import { linkText, optionalText, recordSyncState as recordContactSyncState, stateText } from './contact/recordSyncState';
import { sendCampaign } from './contact/sendCampaign';
import { subscribe } from './contact/subscribe';
import { unsubscribe } from './contact/unsubscribe';
import { update as updateContact } from './contact/update';
import { prepareUpsert, upsert as upsertContact } from './contact/upsert';
import { upsertMany } from './contact/upsertMany';
import { deleteRecord } from './customObject/deleteRecord';
import { ensureSchema } from './customObject/ensureSchema';
import { getAllRecords } from './customObject/getAllRecords';
import { upsertRecord } from './customObject/upsertRecord';
import { getChangesOf } from './getChanges';
import { errorOutputItem } from '../helpers/decided';
import { textList } from '../../shared/lists';

const item = (run: ItemOperation, prepare?: PrepareOperation): OperationHandler => ({ kind: 'item', run, prepare });
const batch = (run: BatchOperation): OperationHandler => ({ kind: 'batch', run });

export const HANDLERS: Record<string, Record<string, OperationHandler>> = {
	contact: {
		addTag: item(addTag),
		addToAutomation: item(addToAutomation),
		delete: item(deleteContact),
		ensureSyncFields: batch(ensureSyncFields),
		get: item(getContact),
		getActivities: item(getActivities),
		getAll: item(getAllContacts),
		getChanges: batch(getChangesOf('contact')),
		recordSyncState: batch(recordContactSyncState),
		removeFromAutomation: item(removeFromAutomation),
		removeTag: item(removeTag),
		sendCampaign: item(sendCampaign),
		subscribe: item(subscribe),
		unsubscribe: item(unsubscribe),
		update: item(updateContact),
		upsert: item(upsertContact, prepareUpsert),
		upsertMany: batch(upsertMany),
	},
	account: {
		get: item(getAccount),
		getAll: item(getAllAccounts),
		getChanges: batch(getChangesOf('account')),
		linkContact: item(linkContact),
		recordSyncState: batch(recordAccountSyncState),
		upsert: item(upsertAccount),
	},
	customObject: {
		deleteRecord: item(deleteRecord),
		ensureSchema: batch(ensureSchema),
		getAllRecords: item(getAllRecords),
		upsertRecord: item(upsertRecord),
	},
};

interface Produced {
	itemIndex: number;
	order: number;
	data: INodeExecutionData;
}

function asNodeError(fn: IExecuteFunctions, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
		return error;
	}
	return new NodeOperationError(fn.getNode(), error as Error, { itemIndex });
}

function errorItem(error: NodeApiError | NodeOperationError, itemIndex: number): INodeExecutionData {
	const json: IDataObject = { error: error.message };
	if (error.description) json.description = error.description;
	return { json, error, pairedItem: { item: itemIndex } };
}

export async function route(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const ctx: OpContext = { fn: this, session: new AcSession(this), node: this.getNode() };
	const produced: Produced[] = [];
	let order = 0;
	const push = (itemIndex: number, data: INodeExecutionData) => produced.push({ itemIndex, order: order++, data });
	const groups = new Map<string, { run: BatchOperation; indices: number[] }>();

	// Per-item operations that read ahead for all their items do so once, first.
	const preparing = new Map<string, { prepare: PrepareOperation; indices: number[] }>();
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		const resource = this.getNodeParameter('resource', itemIndex, '') as string;
		const operation = this.getNodeParameter('operation', itemIndex, '') as string;
		const handler = HANDLERS[resource]?.[operation];
		if (handler?.kind !== 'item' || !handler.prepare) continue;
		const group = preparing.get(`${resource}.${operation}`) ?? { prepare: handler.prepare, indices: [] };
		group.indices.push(itemIndex);
		preparing.set(`${resource}.${operation}`, group);
	}
	for (const { prepare, indices } of preparing.values()) await prepare(ctx, indices).catch(() => undefined);

	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const resource = this.getNodeParameter('resource', itemIndex) as string;
			const operation = this.getNodeParameter('operation', itemIndex) as string;
			const handler = HANDLERS[resource]?.[operation];
			if (!handler) {
				throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported for ${resource}`, { itemIndex });
			}
			if (handler.kind === 'batch') {
				const key = `${resource}.${operation}`;
				const group = groups.get(key) ?? { run: handler.run, indices: [] };
				group.indices.push(itemIndex);
				groups.set(key, group);
				continue;
			}
			const result = await handler.run(ctx, itemIndex);
			for (const json of Array.isArray(result) ? result : [result]) {
				if (!(json instanceof Error)) {
					push(itemIndex, { json, pairedItem: { item: itemIndex } });
					continue;
				}
				// One record of several failed: its own error item; the others are on the output already.
				const nodeError = asNodeError(this, json, itemIndex);
				if (!this.continueOnFail()) throw nodeError;
				push(itemIndex, errorItem(nodeError, itemIndex));
			}
		} catch (error) {
			const nodeError = asNodeError(this, error, itemIndex);
			if (!this.continueOnFail()) throw nodeError;
			push(itemIndex, errorItem(nodeError, itemIndex));
		}
	}

	for (const { run, indices } of groups.values()) {
		let outcomes;
		try {
			outcomes = await run(ctx, indices);
		} catch (error) {
			const nodeError = asNodeError(this, error, indices[0]);
			if (!this.continueOnFail()) throw nodeError;
			for (const itemIndex of indices) push(itemIndex, errorItem(nodeError, itemIndex));
			continue;
		}
		for (const outcome of outcomes) {
			if ('json' in outcome) {
				push(outcome.itemIndex, { json: outcome.json, pairedItem: { item: outcome.itemIndex } });
				continue;
			}
			const nodeError = asNodeError(this, outcome.error, outcome.itemIndex);
			if (!this.continueOnFail()) throw nodeError;
			push(outcome.itemIndex, errorItem(nodeError, outcome.itemIndex));
		}
	}

	if (ctx.session.preview) countPlannedWrites(this, ctx.session, produced);
	trackRetries(this, items, produced);
	tallyReport(this, items, produced);
	produced.sort((a, b) => a.itemIndex - b.itemIndex || a.order - b.order);
	return [produced.map((p) => errorOutputItem(p.data))];
}

/**
 * A preview's items say how many write requests the real run would send for them (`writeRequests`): those the
 * session counted for the item go on its first output, those of the run itself (a sync field it would create) on the
 * first output of all; an output that counted its own keeps it. The report adds them up.
 */
function countPlannedWrites(fn: IExecuteFunctions, session: AcSession, produced: Produced[]): void {
	const seen = new Set<number>();
	let runWrites = session.writesPlanned(-1);
	let total = 0;
	for (const p of [...produced].sort((a, b) => a.itemIndex - b.itemIndex || a.order - b.order)) {
		const json = p.data.json;
		// Only what a write step would do (a change read's records are data, not outcomes).
		if (p.data.error || json.preview !== true) continue;
		if (typeof json.writeRequests !== 'number') {
			json.writeRequests = (seen.has(p.itemIndex) ? 0 : session.writesPlanned(p.itemIndex)) + runWrites;
			runWrites = 0;
		}
		seen.add(p.itemIndex);
		total += json.writeRequests as number;
	}
	countWritesNeeded(fn, 'activeCampaign', total + runWrites);
}

/**
 * The sync report (nodes/shared/report.ts): what a sync write did per entity (a lead and a contact are both
 * ActiveCampaign contacts: the sync item names which), Record Sync State's failures (the Dynamics write before it
 * counted the rest), and a change read that failed.
 */
function tallyReport(fn: IExecuteFunctions, items: INodeExecutionData[], produced: Produced[]): void {
	if (!items.length) return;
	const resource = fn.getNodeParameter('resource', 0, '') as string;
	const operation = fn.getNodeParameter('operation', 0, '') as string;
	const outputs = produced.map((p) => p.data);
	const itemOf = new Map(produced.map((p) => [p.data, p.itemIndex]));
	const entity = (data: INodeExecutionData) => {
		const named = items[itemOf.get(data) ?? 0]?.json.entity;
		return typeof named === 'string' && named ? named : resource;
	};
	if (operation === 'getChanges') {
		tallyOutcomes(fn, { entity: resource, direction: 'toDynamics', only: ['failed'] }, outputs);
	} else if (resource === 'contact' && operation === 'getActivities') {
		// A contact whose activities could not be read: its notes wait for the next run.
		tallyOutcomes(fn, { entity: 'activity', direction: 'toDynamics', only: ['failed'] }, outputs);
	} else if (operation === 'recordSyncState') {
		tallyOutcomes(fn, { entity, direction: 'toDynamics', only: ['failed'] }, outputs);
	} else if ((SYNC_WRITES.has(`${resource}.${operation}`) || `${resource}.${operation}` === 'customObject.upsertRecord') && fn.getNodeParameter('dataMode', 0, 'fields') === 'syncItem') {
		tallyOutcomes(fn, { entity, direction: 'toActiveCampaign' }, outputs);
	}
}

/** Operations that write sync items (or their state): their failures go to the retry queue. */
const SYNC_WRITES = new Set(['contact.upsert', 'contact.upsertMany', 'account.upsert', 'contact.recordSyncState', 'account.recordSyncState']);

/**
 * The retry queue (nodes/shared/sync/retries.ts): a failed sync write is remembered for the source's Get Changes to
 * read again; a successful one is forgotten. Each error item says when it is tried again, or that it is a dead letter;
 * this step's dead letters that were not in this run are reported on the error output too. Manual runs (whose static
 * data n8n does not keep) leave the queue alone.
 */
function trackRetries(fn: IExecuteFunctions, items: INodeExecutionData[], produced: Produced[]): void {
	// A preview wrote nothing and failed nothing for real: the retry queue is not its business.
	if (fn.getMode() === 'manual' || !items.length || isPreview(fn)) return;
	const resource = fn.getNodeParameter('resource', 0, '') as string;
	const operation = fn.getNodeParameter('operation', 0, '') as string;
	if (!SYNC_WRITES.has(`${resource}.${operation}`)) return;
	if (operation !== 'recordSyncState' && fn.getNodeParameter('dataMode', 0, 'fields') !== 'syncItem') return;
	const outcomes = produced.map((p) => ({
		itemIndex: p.itemIndex,
		error: p.data.error ? { message: p.data.error.message, description: p.data.error.description } : undefined,
		readAgain: p.data.json.readAgain === true,
	}));
	const staticData = fn.getWorkflowStaticData('global');
	if (resource === 'contact' && operation === 'recordSyncState') {
		// The pair is known even though its link could not be written: kept for the next write of either record.
		// So is the state the write step computed: the other step's next write of the pair starts from it.
		for (const p of produced) {
			const link = linkText(fn.getNodeParameter('stateLink', p.itemIndex, '') as unknown);
			if (!link) continue;
			if (!p.data.error) {
				forgetPendingState(staticData, link);
				continue;
			}
			if (fn.getNodeParameter('stateAction', p.itemIndex, '')) continue;
			const acId = String(fn.getNodeParameter('stateContactId', p.itemIndex, '') ?? '').trim();
			if (/^\d+$/.test(acId)) rememberLink(staticData, link, acId);
			const state = stateText(fn.getNodeParameter('stateValue', p.itemIndex, '') as unknown);
			if (state && isStateValue(state)) {
				const stateBase = optionalText(fn.getNodeParameter('stateBase', p.itemIndex, '') as unknown);
				rememberPendingState(staticData, link, { state, stateFields: textList(fn.getNodeParameter('stateFields', p.itemIndex, '') as unknown), ...(stateBase ? { stateBase } : {}) });
			}
		}
	}
	const store = retryStore(staticData);
	const { notes, unreported } = bookWrites(store, fn.getNode().name, items.map((i) => i.json), outcomes);
	for (const p of produced) {
		const entry = p.data.error ? notes.get(p.itemIndex) : undefined;
		if (!entry) continue;
		// n8n keeps only the error's message on an error item: the next try is told there too.
		const error = p.data.error!;
		error.message = `${deadLetterMessage(entry, error.message)} — ${retryText(entry)} ${countsText(store)}`;
		p.data.json = { error: error.message, ...(error.description ? { description: error.description } : {}) };
	}
	if (!fn.continueOnFail()) return;
	for (const entry of unreported) {
		const report = deadLetterReport(entry);
		const error = new NodeOperationError(fn.getNode(), `${report.message} — ${countsText(store)}`, { description: report.description });
		produced.push({ itemIndex: 0, order: Number.MAX_SAFE_INTEGER, data: { json: { error: report.message, description: report.description }, error, pairedItem: { item: 0 } } });
	}
}
