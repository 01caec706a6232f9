/* eslint-disable @n8n/community-nodes/no-restricted-globals -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Dataverse webhooks (use-webhooks, register-web-hook): an enabled `sdkmessageprocessingstep` whose event handler is
 * a `serviceendpoint` with contract 8 (Webhook) is run after each committed Create, Update or Delete of its table
 * (its `sdkmessagefilter`); an Update only when one of its `filteringattributes` changed. The run POSTs the
 * RemoteExecutionContext as JSON with the `x-ms-dynamics-*` headers and the endpoint's authentication (HttpHeader:
 * headers; HttpQueryString and WebhookKey: query values), after the write's response, as an asynchronous step does.
 * Only the status code counts: 2xx is success; 502, 503 and 504 get one more attempt; the timeout is 60 seconds.
 * Known difference: a synchronous step (mode 0) is delivered the same way (it never blocks or rolls back the write).
 */
import { SeededRandom } from '../core/random';
import type { Engine } from './engine';
import type { Schema, TableDef } from './metadata';
import { IDS } from './seed';
import { isLookupValue, type Row, type RowWrite, type StoredValue } from './store';

const CONTRACTS = 'http://schemas.microsoft.com/xrm/2011/Contracts';
/** Columns every write sets: not what a step's filtering attributes are about. */
const SYSTEM_COLUMNS = new Set(['modifiedon', 'modifiedby', 'versionnumber', 'modifiedonbehalfby']);

export interface DataverseDelivery {
	id: number;
	stepId: string;
	endpointId: string;
	url: string;
	message: string;
	entity: string;
	recordId: string;
	at: string;
	/** Header names sent (their values may be secrets). */
	headerNames: string[];
	body: Record<string, unknown>;
	status: number | null;
	attempts: number;
	error?: string;
}

export class DataverseWebhooks {
	readonly deliveries: DataverseDelivery[] = [];
	private readonly inflight = new Set<Promise<void>>();
	private nextId = 1;
	private generation = 0;
	/** Its own ids (correlation, operation, request), so records get the same ids whether or not a step runs. */
	private random = new SeededRandom('dataverse:webhooks');
	timeoutMs = 60_000;

	constructor(
		private readonly engine: Engine,
		private readonly schema: Schema,
	) {}

	reset(): void {
		this.generation++;
		this.deliveries.length = 0;
		this.nextId = 1;
		this.random = new SeededRandom('dataverse:webhooks');
	}

	/** Resolves when every delivery started so far has finished. */
	async drain(): Promise<void> {
		while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
	}

	/** A committed write: runs every step registered for it. */
	onWrite(write: RowWrite): void {
		const store = this.engine.store;
		if (store.count('sdkmessageprocessingstep') === 0) return;
		const table = this.schema.table(write.table);
		if (!table) return;
		for (const step of store.rows('sdkmessageprocessingstep').values()) {
			if (step.values.statecode !== 0) continue;
			const filter = lookupRow(this.engine, step.values.sdkmessagefilterid);
			const message = lookupRow(this.engine, step.values.sdkmessageid);
			if (!filter || !message || message.values.name !== write.message) continue;
			if (String(filter.values.primaryobjecttypecode ?? '') !== write.table) continue;
			if (write.message === 'Update' && !filteredIn(step, write)) continue;
			const endpoint = lookupRow(this.engine, step.values.eventhandler);
			if (!endpoint || endpoint.table !== 'serviceendpoint' || endpoint.values.contract !== 8) continue;
			this.enqueue(step, endpoint, table, write);
		}
	}

	private enqueue(step: Row, endpoint: Row, table: TableDef, write: RowWrite): void {
		const at = new Date(write.at).toISOString();
		const body = remoteExecutionContext(this.random, step, table, write);
		const organization = hostOf(this.engine.baseUrl);
		const record: DataverseDelivery = {
			id: this.nextId++,
			stepId: step.id,
			endpointId: endpoint.id,
			url: String(endpoint.values.url ?? ''),
			message: write.message,
			entity: write.table,
			recordId: write.id,
			at,
			headerNames: [],
			body,
			status: null,
			attempts: 0,
		};
		this.deliveries.push(record);
		if (this.deliveries.length > 5000) this.deliveries.splice(0, this.deliveries.length - 5000);
		const generation = this.generation;
		const auth = authenticationOf(Number(endpoint.values.authtype ?? 0), String(endpoint.values.authvalue ?? ''));
		const headers: Record<string, string> = {
			'Content-Type': 'application/json; charset=utf-8',
			'x-ms-dynamics-organization': organization,
			'x-ms-dynamics-entity-name': write.table,
			'x-ms-dynamics-request-name': write.message,
			'x-ms-correlation-request-id': String(body.CorrelationId),
			'x-request-id': String(body.RequestId),
			...(auth.ok ? auth.headers : {}),
		};
		record.headerNames = Object.keys(headers);
		const send = async () => {
			// After the write's response, as an asynchronous step's system job runs.
			await new Promise((resolve) => setImmediate(resolve));
			if (generation !== this.generation) return;
			if (!auth.ok) {
				record.error = 'The webhook call failed because of invalid http headers in authValue. Check if the authValue format is correct. (0x80050203)';
				return;
			}
			const url = withQuery(record.url, auth.query);
			for (let attempt = 1; attempt <= 2; attempt++) {
				record.attempts = attempt;
				try {
					const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
					record.status = response.status;
					await response.arrayBuffer().catch(() => undefined);
					if (![502, 503, 504].includes(response.status)) return;
				} catch (error) {
					record.error = error instanceof Error ? error.message : String(error);
					return;
				}
			}
		};
		const running = send();
		this.inflight.add(running);
		void running.finally(() => this.inflight.delete(running));
	}
}

function lookupRow(engine: Engine, value: StoredValue | undefined): Row | undefined {
	return isLookupValue(value) ? engine.store.get(value.table, value.id) : undefined;
}

/** An Update runs the step when one of its filtering attributes changed (no list: any change). */
function filteredIn(step: Row, write: RowWrite): boolean {
	const list = String(step.values.filteringattributes ?? '')
		.split(',')
		.map((c) => c.trim().toLowerCase())
		.filter(Boolean);
	if (!list.length) return true;
	const changed = changedColumns(write);
	return list.some((c) => changed.has(c));
}

function changedColumns(write: RowWrite): Set<string> {
	const out = new Set<string>();
	const before = write.previous?.values ?? {};
	for (const [name, value] of Object.entries(write.next?.values ?? {})) {
		if (SYSTEM_COLUMNS.has(name)) continue;
		if (JSON.stringify(before[name] ?? null) !== JSON.stringify(value ?? null)) out.add(name);
	}
	return out;
}

/**
 * The endpoint's authentication: HttpHeader (5) and HttpQueryString (6) take `<settings><setting name=".." value=".."
 * /></settings>`; WebhookKey (4) takes the key itself, sent as `?code=`.
 */
function authenticationOf(authType: number, authValue: string): { ok: boolean; headers: Record<string, string>; query: Record<string, string> } {
	if (authType === 4) return { ok: authValue !== '', headers: {}, query: authValue ? { code: authValue } : {} };
	if (authType !== 5 && authType !== 6) return { ok: true, headers: {}, query: {} };
	const pairs: Record<string, string> = {};
	const settings = /^\s*<settings>([\s\S]*)<\/settings>\s*$/.exec(authValue);
	if (!settings) return { ok: false, headers: {}, query: {} };
	const rest = settings[1].replace(/<setting\s+name="([^"]*)"\s+value="([^"]*)"\s*\/>/g, (_, name: string, value: string) => {
		pairs[xmlText(name)] = xmlText(value);
		return '';
	});
	if (rest.trim() !== '' || !Object.keys(pairs).length) return { ok: false, headers: {}, query: {} };
	return authType === 5 ? { ok: true, headers: pairs, query: {} } : { ok: true, headers: {}, query: pairs };
}

function xmlText(text: string): string {
	return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function withQuery(url: string, query: Record<string, string>): string {
	if (!Object.keys(query).length) return url;
	const parsed = new URL(url);
	for (const [name, value] of Object.entries(query)) parsed.searchParams.set(name, value);
	return parsed.toString();
}

function hostOf(url: string | undefined): string {
	try {
		return new URL(url ?? '').host;
	} catch {
		return 'sandbox';
	}
}

const wcfDate = (ms: number) => `/Date(${ms})/`;

/** The RemoteExecutionContext as Microsoft's sample shows it (use-webhooks), for this step and write. */
function remoteExecutionContext(random: SeededRandom, step: Row, table: TableDef, write: RowWrite): Record<string, unknown> {
	const row = write.next ?? write.previous!;
	const modifiedBy = write.next?.values.modifiedby;
	const userId = write.message === 'Delete' ? (write.by ?? IDS.system) : isLookupValue(modifiedBy) ? modifiedBy.id : IDS.system;
	const target =
		write.message === 'Delete'
			? { __type: `EntityReference:${CONTRACTS}`, Id: row.id, KeyAttributes: [], LogicalName: table.logicalName, Name: null, RowVersion: null }
			: {
					__type: `Entity:${CONTRACTS}`,
					Attributes: targetAttributes(table, write),
					EntityState: null,
					FormattedValues: [],
					Id: row.id,
					KeyAttributes: [],
					LogicalName: table.logicalName,
					RelatedEntities: [],
					RowVersion: String(row.version),
				};
	return {
		BusinessUnitId: IDS.businessUnit,
		CorrelationId: random.guid(),
		Depth: 1,
		InitiatingUserId: userId,
		InputParameters: [{ key: 'Target', value: target }],
		IsExecutingOffline: false,
		IsInTransaction: false,
		IsOfflinePlayback: false,
		IsolationMode: 1,
		MessageName: write.message,
		Mode: Number(step.values.mode ?? 1),
		OperationCreatedOn: wcfDate(write.at),
		OperationId: random.guid(),
		OrganizationId: IDS.organization,
		OrganizationName: 'sandbox',
		OutputParameters: write.message === 'Create' ? [{ key: 'id', value: row.id }] : [],
		OwningExtension: { Id: step.id, KeyAttributes: [], LogicalName: 'sdkmessageprocessingstep', Name: String(step.values.name ?? ''), RowVersion: null },
		ParentContext: null,
		PostEntityImages: [],
		PreEntityImages: [],
		PrimaryEntityId: row.id,
		PrimaryEntityName: table.logicalName,
		RequestId: random.guid(),
		SecondaryEntityName: 'none',
		SharedVariables: [],
		Stage: Number(step.values.stage ?? 40),
		UserId: userId,
	};
}

/** Create: every value set; Update: the changed columns and the ones the platform sets (as in Microsoft's sample). */
function targetAttributes(table: TableDef, write: RowWrite): Array<{ key: string; value: unknown }> {
	const values = write.next!.values;
	const names =
		write.message === 'Create'
			? Object.keys(values).filter((name) => values[name] !== null)
			: [table.primaryIdAttribute, ...changedColumns(write), 'modifiedon', 'modifiedby'];
	const out: Array<{ key: string; value: unknown }> = [];
	for (const name of new Set(names)) {
		const column = table.columns.get(name);
		if (!column || !column.validForRead) continue;
		out.push({ key: name, value: wireValue(column.type, values[name] ?? null) });
	}
	return out;
}

function wireValue(type: string, value: StoredValue): unknown {
	if (value === null) return null;
	if (isLookupValue(value)) return { __type: `EntityReference:${CONTRACTS}`, Id: value.id, KeyAttributes: [], LogicalName: value.table, Name: null, RowVersion: null };
	if (type === 'DateTime' && typeof value === 'number') return wcfDate(value);
	if (type === 'Money') return { __type: `Money:${CONTRACTS}`, Value: value };
	if (['Picklist', 'State', 'Status'].includes(type)) {
		if (Array.isArray(value)) return value.map((v) => ({ __type: `OptionSetValue:${CONTRACTS}`, Value: v }));
		return { __type: `OptionSetValue:${CONTRACTS}`, Value: value };
	}
	return value;
}
