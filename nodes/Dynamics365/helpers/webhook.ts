/**
 * A Dataverse webhook registered through the Web API alone (docs/dynamics/real-time-research.md): one service endpoint
 * (contract 8, Http Header authentication with a secret only this trigger knows) and one asynchronous post-operation
 * step per message and table. Dataverse then POSTs the RemoteExecutionContext of every Create, Update or Delete to
 * n8n's webhook URL within seconds. Deleting the endpoint deletes its steps (cascade).
 */
import { createHash, timingSafeEqual } from 'crypto';
import { NodeApiError, NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';

import type { DataverseClient } from '../transport';
import { guidLiteral, stringLiteral } from '../transport/odata';

/** The header Dataverse sends the secret in (an Http Header endpoint's `authvalue`). */
export const CALLER_CHECK_HEADER = 'x-n8n-dataverse-secret';

const MESSAGES: Record<string, string> = { created: 'Create', updated: 'Update', deleted: 'Delete' };
const EVENTS: Record<string, string> = { Create: 'created', Update: 'updated', Delete: 'deleted' };

export interface Registration {
	endpointId: string;
	stepIds: string[];
}

/** SHA-256 of the secret: what the workflow keeps, so its static data never holds the secret itself. */
export function secretDigest(secret: string): string {
	return createHash('sha256').update(secret).digest('hex');
}

/** Whether a call carries the secret whose digest was kept (compared in constant time). */
export function carriesSecret(given: unknown, digest: unknown): boolean {
	if (typeof digest !== 'string' || !digest) return false;
	const text = Array.isArray(given) ? given[0] : given;
	if (typeof text !== 'string' || !text) return false;
	// Hashed once more, so both sides have one length whatever was stored.
	const hash = (value: string) => createHash('sha256').update(value).digest();
	return timingSafeEqual(hash(secretDigest(text)), hash(digest));
}

function xmlAttribute(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Registers the endpoint and a step for each event (`contact.updated`, …). All or nothing: when a step cannot be
 * registered, the endpoint (and with it the steps made so far) is deleted again.
 */
export async function registerWebhook(
	client: DataverseClient,
	node: INode,
	options: { name: string; url: string; secret: string; events: string[]; filteringColumns?: string },
): Promise<Registration> {
	const created = await client.send<IDataObject>({
		method: 'POST',
		path: 'serviceendpoints',
		prefer: ['return=representation'],
		body: {
			name: options.name.slice(0, 256),
			description: 'Registered by an n8n Dynamics 365 Trigger; removed when its workflow is unpublished.',
			url: options.url,
			contract: 8,
			authtype: 5,
			messageformat: 2,
			authvalue: `<settings><setting name="${CALLER_CHECK_HEADER}" value="${xmlAttribute(options.secret)}" /></settings>`,
		},
	});
	const endpointId = createdId(created.body, created.headers, 'serviceendpointid');
	const stepIds: string[] = [];
	try {
		const messageIds = new Map<string, string>();
		for (const event of options.events) {
			const [table, kind] = event.split('.');
			const message = MESSAGES[kind];
			if (!message) continue;
			let messageId = messageIds.get(message);
			if (!messageId) {
				const found = await client.get<IDataObject>('sdkmessages', { $select: 'sdkmessageid', $filter: `name eq ${stringLiteral(message)}` });
				messageId = String(((found.value as IDataObject[] | undefined) ?? [])[0]?.sdkmessageid ?? '');
				if (!messageId) throw new NodeOperationError(node, `Dataverse has no "${message}" message to register a webhook step for`);
				messageIds.set(message, messageId);
			}
			const filters = await client.get<IDataObject>('sdkmessagefilters', {
				$select: 'sdkmessagefilterid',
				$filter: `primaryobjecttypecode eq ${stringLiteral(table)} and _sdkmessageid_value eq ${guidLiteral(messageId)}`,
			});
			const filterId = String(((filters.value as IDataObject[] | undefined) ?? [])[0]?.sdkmessagefilterid ?? '');
			if (!filterId) throw new NodeOperationError(node, `Dataverse offers no "${message}" webhook step for the ${table} table`);
			const step = await client.send<IDataObject>({
				method: 'POST',
				path: 'sdkmessageprocessingsteps',
				prefer: ['return=representation'],
				body: {
					name: `${options.name} — ${message} of ${table}`.slice(0, 256),
					description: 'n8n Dynamics 365 Trigger',
					stage: 40,
					mode: 1,
					rank: 1,
					supporteddeployment: 0,
					asyncautodelete: true,
					...(message === 'Update' && options.filteringColumns ? { filteringattributes: options.filteringColumns } : {}),
					'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
					'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
					'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filterId})`,
				},
			});
			stepIds.push(createdId(step.body, step.headers, 'sdkmessageprocessingstepid'));
		}
	} catch (error) {
		const failure = error instanceof NodeOperationError || error instanceof NodeApiError ? error : new NodeOperationError(node, error as Error);
		const removed = await removeWebhook(client, endpointId).then(
			() => true,
			() => false,
		);
		// Never an endpoint left behind unsaid: it would call n8n for nothing until someone deletes it.
		if (!removed) {
			failure.description = `${failure.description ? `${failure.description} ` : ''}Removing the half-made registration failed too: delete the service endpoint "${options.name.slice(0, 256)}" (id ${endpointId}) in Dynamics (Plug-in Registration Tool, or DELETE serviceendpoints(${endpointId})).`;
		}
		throw failure;
	}
	return { endpointId, stepIds };
}

/** Deletes the endpoint and, by cascade, its steps; one already gone is as good as deleted. */
export async function removeWebhook(client: DataverseClient, endpointId: string): Promise<void> {
	const outcome = await client.trySend({ method: 'DELETE', path: `serviceendpoints(${endpointId})` });
	if (!outcome.ok && outcome.failure.status !== 404) throw outcome.error;
}

/** The URL the endpoint calls, or undefined when it is gone. */
export async function registeredUrl(client: DataverseClient, endpointId: string): Promise<string | undefined> {
	const outcome = await client.trySend<IDataObject>({ method: 'GET', path: `serviceendpoints(${endpointId})`, query: { $select: 'url' } });
	if (!outcome.ok) {
		if (outcome.failure.status === 404) return undefined;
		throw outcome.error;
	}
	return typeof outcome.response.body.url === 'string' ? outcome.response.body.url : undefined;
}

function createdId(body: IDataObject | undefined, headers: Record<string, string>, key: string): string {
	const fromBody = body && typeof body[key] === 'string' ? body[key] : undefined;
	const fromHeader = /\(([0-9a-fA-F-]{36})\)\s*$/.exec(headers['odata-entityid'] ?? '')?.[1];
	return String(fromBody ?? fromHeader ?? '').toLowerCase();
}

/** What one Dataverse call says happened: the trigger's output item. */
export interface WebhookChange extends IDataObject {
	event: string;
	entity: string;
	id: string;
	changedAt: string | null;
	changedBy: string | null;
	columns: IDataObject;
	operationId: string | null;
	correlationId: string | null;
}

/** Reads the RemoteExecutionContext Dataverse posts; undefined when it is not one. */
export function webhookChange(body: unknown): WebhookChange | undefined {
	if (!body || typeof body !== 'object') return undefined;
	const context = body as IDataObject;
	const event = EVENTS[String(context.MessageName ?? '')];
	const entity = typeof context.PrimaryEntityName === 'string' ? context.PrimaryEntityName : '';
	const id = typeof context.PrimaryEntityId === 'string' ? context.PrimaryEntityId.toLowerCase() : '';
	if (!event || !entity || !id) return undefined;
	const target = ((context.InputParameters as IDataObject[] | undefined) ?? []).find((p) => p.key === 'Target')?.value as IDataObject | undefined;
	const columns: IDataObject = {};
	for (const attribute of (target?.Attributes as IDataObject[] | undefined) ?? []) {
		if (typeof attribute.key === 'string') columns[attribute.key] = plainValue(attribute.value);
	}
	const user = context.InitiatingUserId ?? context.UserId;
	return {
		event,
		entity,
		id,
		changedAt: wcfDate(context.OperationCreatedOn),
		changedBy: typeof user === 'string' ? user.toLowerCase() : null,
		columns,
		operationId: typeof context.OperationId === 'string' ? context.OperationId : null,
		correlationId: typeof context.CorrelationId === 'string' ? context.CorrelationId : null,
	};
}

/** `/Date(1506409448000-0700)/` → ISO (UTC); anything else → null. */
function wcfDate(value: unknown): string | null {
	const match = typeof value === 'string' ? /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value) : null;
	return match ? new Date(Number(match[1])).toISOString() : null;
}

/** Entity references, option sets and money as plain values (an id, a number); dates as ISO. */
function plainValue(value: unknown): IDataObject[string] {
	if (Array.isArray(value)) return value.map((v) => plainValue(v)) as IDataObject[];
	if (value && typeof value === 'object') {
		const object = value as IDataObject;
		if (typeof object.Id === 'string' && typeof object.LogicalName === 'string') return { id: object.Id.toLowerCase(), table: object.LogicalName };
		if ('Value' in object) return object.Value as IDataObject[string];
		return object;
	}
	if (typeof value === 'string') return wcfDate(value) ?? value;
	return value as IDataObject[string];
}
