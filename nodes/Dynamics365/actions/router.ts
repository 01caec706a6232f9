/** Resource → operation dispatch of the Dynamics 365 node. */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

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

const OPERATIONS: Record<string, { execute: (ctx: OperationContext) => Promise<INodeExecutionData[]> }> = {
	addNote,
	create,
	createOrUpdate,
	delete: deleteRecord,
	get,
	getChanges,
	getMany,
	update,
};

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
	const ctx: OperationContext = { fns: this, client, items, resource, operation };
	return [await handler.execute(ctx)];
}
