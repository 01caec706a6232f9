/**
 * A sync write can fail after its first request (the contact was written, then its account link failed): the
 * conflicts the plan settled still happened, so the error item says who won them too.
 */
import { NodeApiError, NodeOperationError, type IDataObject, type INode, type INodeExecutionData } from 'n8n-workflow';

import type { StepPlan } from '../../shared/sync/planner';
import type { AcSession } from './session';

export async function keepingConflicts<T>(session: AcSession, node: INode, report: StepPlan['report'], itemIndex: number, write: () => Promise<T>): Promise<T> {
	const writesBefore = session.writesDone;
	try {
		return await write();
	} catch (caught) {
		const error = caught instanceof NodeApiError || caught instanceof NodeOperationError ? caught : new NodeOperationError(node, caught as Error, { itemIndex });
		// Only once something was written: a write that failed at its first request settled nothing.
		if (report.conflicts?.length && session.writesDone > writesBefore) {
			error.context.conflicts = report.conflicts as unknown as IDataObject[];
			if (report.conflict) error.context.conflict = report.conflict;
		}
		throw error;
	}
}

/**
 * The item n8n shows for a failed record. n8n replaces the data of an item that carries an error with the error's
 * message alone, which would drop what to do and the conflicts settled before the failure; so the item carries them
 * as data, `{ error, details }` like the Dynamics 365 node's (n8n routes an item whose only keys are error, message
 * and details to the error output all the same). `details` is the description, or with settled conflicts
 * `{ description, conflicts, conflict }`.
 */
export function errorOutputItem(data: INodeExecutionData): INodeExecutionData {
	const error = data.error;
	if (!error) return data;
	const { conflicts, conflict } = error.context ?? {};
	const details = Array.isArray(conflicts)
		? { ...(error.description ? { description: error.description } : {}), conflicts, ...(conflict ? { conflict } : {}) }
		: error.description;
	return { json: { error: error.message, ...(details ? { details } : {}) }, pairedItem: data.pairedItem };
}
