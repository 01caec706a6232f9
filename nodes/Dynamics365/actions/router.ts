/** Resource → operation dispatch of the Dynamics 365 node. */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { isPreview } from '../../shared/preview';
import { tallyOutcomes } from '../../shared/report';
import { bookWrites, countsText, deadLetterMessage, deadLetterReport, retryStore, retryText } from '../../shared/sync/retries';
import { DataverseClient } from '../transport';
import type { OperationContext } from './common';
import * as addNote from './record/addNote';
import * as create from './record/create';
import * as createOrUpdate from './record/createOrUpdate';
import * as deleteRecord from './record/delete';
import * as get from './record/get';
import * as getChanges from './record/getChanges';
import * as getMany from './record/getMany';
import * as update from './record/update';
import * as getStatus from './globalSync/getStatus';

const OPERATIONS: Record<string, { execute: (ctx: OperationContext) => Promise<INodeExecutionData[]> }> = {
	addNote,
	create,
	createOrUpdate,
	delete: deleteRecord,
	get,
	getChanges,
	getMany,
	getStatus,
	update,
};

/** The operations that write (and offer a preview). */
const WRITE_OPERATIONS = new Set(['addNote', 'create', 'createOrUpdate', 'delete', 'update']);

/** Error items of this node carry only `error` and `details` (what n8n routes to the error output). */
function isErrorItem(entry: INodeExecutionData): boolean {
	return typeof entry.json.error === 'string' && !('operation' in entry.json);
}

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	// Resource and operation take no expressions, so they are the same for every item.
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const handler = OPERATIONS[operation];
	if (!handler) throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`);
	if (operation === 'addNote' && resource !== 'lead' && resource !== 'contact') {
		throw new NodeOperationError(this.getNode(), 'Notes can be added to leads and contacts');
	}
	const authentication = this.getNodeParameter('authentication', 0, 'clientCredentials') as string;
	const client = await DataverseClient.create(this, authentication);
	const preview = isPreview(this);
	client.previewOnly = preview;
	const ctx: OperationContext = { fns: this, client, items, resource, operation };
	const out = await handler.execute(ctx);
	// A preview's every outcome says so; one that would send nothing (skipped) needs no write request.
	if (preview && WRITE_OPERATIONS.has(operation)) {
		for (const entry of out) if (!isErrorItem(entry) && entry.json.preview !== true) Object.assign(entry.json, { preview: true, writeRequests: 0 });
	}
	// A preview wrote nothing and failed nothing for real: the retry queue is not its business.
	const syncItems = operation === 'createOrUpdate' && this.getNodeParameter('dataMode', 0, 'defineBelow') === 'syncItem';
	if (syncItems && !preview) trackRetries(this, items, out);
	// The sync report (nodes/shared/report.ts): what the write did, and a change read that failed.
	if (syncItems) tallyOutcomes(this, { entity: resource, direction: 'toDynamics' }, out);
	if (operation === 'getChanges') tallyOutcomes(this, { entity: resource, direction: 'toActiveCampaign', only: ['failed'] }, out);
	// Marketing activities become notes on the Dynamics timeline.
	if (operation === 'addNote') tallyOutcomes(this, { entity: 'note', direction: 'toDynamics' }, out);
	return [out];
}

/**
 * The retry queue (nodes/shared/sync/retries.ts) for sync items: a failed write is remembered for the source's Get
 * Changes to read again, a successful one forgotten; each error item says when it is tried again or that it is a
 * dead letter, and this step's other dead letters are reported too. Manual runs leave the queue alone.
 */
function trackRetries(fns: IExecuteFunctions, items: INodeExecutionData[], out: INodeExecutionData[]): void {
	if (fns.getMode() === 'manual' || !items.length) return;
	const itemOf = (entry: INodeExecutionData) => {
		const paired = entry.pairedItem;
		return typeof paired === 'object' && paired !== null && !Array.isArray(paired) ? paired.item : 0;
	};
	const outcomes = out.map((entry) => ({
		itemIndex: itemOf(entry),
		error: isErrorItem(entry) ? { message: String(entry.json.error), description: entry.json.details as string | undefined } : undefined,
	}));
	const store = retryStore(fns.getWorkflowStaticData('global'));
	const { notes, unreported } = bookWrites(store, fns.getNode().name, items.map((i) => i.json), outcomes);
	for (const entry of out) {
		const retry = isErrorItem(entry) ? notes.get(itemOf(entry)) : undefined;
		if (!retry) continue;
		entry.json.error = deadLetterMessage(retry, String(entry.json.error));
		entry.json.message = `${retryText(retry)} ${countsText(store)}`;
	}
	if (!fns.continueOnFail()) return;
	for (const entry of unreported) {
		const report = deadLetterReport(entry);
		out.push({ json: { error: report.message, details: report.description, message: countsText(store) }, pairedItem: { item: 0 } });
	}
}
