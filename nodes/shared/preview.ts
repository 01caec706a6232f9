/**
 * Preview (dry run): a node whose "Preview (No Writes)" parameter is on reads as in a real run, decides as in a real run,
 * and writes nothing. Each item says what the real run would do (`preview: true`, the operation, and per field the
 * value before and after); no cursor, retry queue or remembered state moves, because the node works on a copy of the
 * workflow's static data that n8n never saves; and the transports refuse to send a write, so a path that does not
 * know about previews fails loudly instead of writing.
 */
import { NodeOperationError, type IDataObject, type IDisplayOptions, type INode, type INodeProperties } from 'n8n-workflow';

/** The parameter's name on every operation that offers a preview. */
export const PREVIEW_PARAMETER = 'preview';

interface ParameterContext {
	getNodeParameter(name: string, itemIndex: number, fallback?: unknown): unknown;
}

interface PreviewContext extends ParameterContext {
	getWorkflowStaticData(type: string): IDataObject;
}

/** Whether the node runs as a preview (read for the first item: the whole run is one or the other). */
export function isPreview(fn: ParameterContext): boolean {
	try {
		return fn.getNodeParameter(PREVIEW_PARAMETER, 0, false) === true;
	} catch {
		return false;
	}
}

const copies = new WeakMap<object, Map<string, IDataObject>>();

/**
 * The workflow's static data (`global` or this node's), as the node should use it: in a preview a copy, the same one
 * for the whole execution of the node, which n8n never saves.
 */
export function workflowData(fn: PreviewContext, type: 'global' | 'node'): IDataObject {
	const data = fn.getWorkflowStaticData(type);
	if (!isPreview(fn)) return data;
	let byType = copies.get(fn);
	if (!byType) copies.set(fn, (byType = new Map()));
	let copy = byType.get(type);
	// Static data is JSON (n8n stores it so): a JSON copy is a deep one.
	if (!copy) byType.set(type, (copy = JSON.parse(JSON.stringify(data)) as IDataObject));
	return copy;
}

const PREVIEW_DESCRIPTION =
	'Whether to only show what the step would do: each item says what it would create, update or skip and which values would change, and nothing is written. No change cursor, retry queue or sync state moves.';

/** The parameter as the nodes show it, on the operations that offer a preview (`show`). */
export function previewProperty(show: NonNullable<IDisplayOptions['show']>, description = PREVIEW_DESCRIPTION): INodeProperties {
	return {
		displayName: 'Preview (No Writes)',
		name: PREVIEW_PARAMETER,
		type: 'boolean',
		default: false,
		displayOptions: { show },
		description,
	};
}

/** One field a previewed write would change: its value now (null on a new record) and after. */
export interface PreviewChange extends IDataObject {
	field: string;
	before: IDataObject[string];
	after: IDataObject[string];
}

/** The id of a stand-in for a sync field or tag a preview would create: no record holds it. */
export function standInId(name: string): string {
	return `preview:${name}`;
}

export function isStandIn(id: unknown): boolean {
	return typeof id === 'string' && id.startsWith('preview:');
}

/** The name a stand-in was made for. */
export function standInName(id: string): string {
	return id.replace(/^preview:/, '');
}

/** The error a transport raises when a preview would send a write: no write path may reach the network in a preview. */
export function previewWriteError(node: INode, method: string, path: string): NodeOperationError {
	return new NodeOperationError(node, `Preview: this step would send ${method} ${path}, and a preview writes nothing`, {
		description: 'Nothing was written. Turn "Preview (No Writes)" off to run the step for real.',
	});
}

/**
 * What earlier steps of the same preview execution would have created, by kind and name (e.g. the ActiveCampaign
 * accounts the account step would create, which the contact step then links to rather than creates again). Kept in
 * this process's memory by execution id, as the sync report's tally is (one execution runs in one process); entries
 * older than a day are dropped.
 */
const plannedByExecution = new Map<string, { touched: number; names: Map<string, string> }>();
const PLANNED_KEEP_MS = 24 * 60 * 60 * 1000;

function plannedOf(fn: unknown): Map<string, string> | undefined {
	let id: unknown;
	try {
		id = (fn as { getExecutionId?: () => unknown }).getExecutionId?.();
	} catch {
		return undefined;
	}
	if (id === undefined || id === null || id === '') return undefined;
	const now = Date.now();
	let entry = plannedByExecution.get(String(id));
	if (!entry) {
		for (const [other, old] of plannedByExecution) if (now - old.touched > PLANNED_KEEP_MS) plannedByExecution.delete(other);
		plannedByExecution.set(String(id), (entry = { touched: now, names: new Map() }));
	}
	entry.touched = now;
	return entry.names;
}

/** A preview step would create this record: later steps of the execution take it as there. */
export function planCreated(fn: unknown, kind: string, name: string): void {
	plannedOf(fn)?.set(`${kind}:${name.trim().toLowerCase()}`, name.trim());
}

/** Whether an earlier step of this preview execution would have created the record. */
export function wasPlanned(fn: unknown, kind: string, name: string): boolean {
	return plannedOf(fn)?.has(`${kind}:${name.trim().toLowerCase()}`) ?? false;
}

/** What earlier steps of this preview execution would have created of a kind, by name as given. */
export function plannedNames(fn: unknown, kind: string): string[] {
	return [...(plannedOf(fn)?.entries() ?? [])].filter(([key]) => key.startsWith(`${kind}:`)).map(([, name]) => name);
}
