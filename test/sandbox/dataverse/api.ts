/* eslint-disable @n8n/community-nodes/require-node-api-error -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The Web API dispatcher: resolves `/api/data/v9.2/...` resource paths and applies the HTTP semantics (status codes,
 * conditional headers, Prefer / Preference-Applied, OData annotations). Used by the HTTP route and by $batch.
 */
import { mergeAction, qualifyLeadAction } from './actions';
import { ChangeTracker } from './changeTracking';
import { COUNT_LIMIT, MAX_PAGE_SIZE, type Caller, type Engine, type OpContext } from './engine';
import { DataverseError, errors } from './errors';
import { edmType, isLookupType, propertyName, type TableDef } from './metadata';
import { MetadataApi } from './metadataApi';
import { decodeSkipToken, encodeSkipToken, parseExpand, parsePrefer, parseSelect, parseTop, splitTopLevel, wantsAnnotation, type PageState, type Preferences } from './odata/query';
import type { Row, StoredValue } from './store';
import { toJson } from './values';

export interface ApiRequest {
	method: string;
	/** Path below /api/data/v9.2/, still percent-encoded, without a leading slash. */
	path: string;
	rawQuery: string;
	headers: Record<string, string | undefined>;
	body: string;
}

export interface ApiResponse {
	status: number;
	headers: Record<string, string>;
	body?: string;
}

export interface CallContext {
	caller: Caller;
	resolveContentId?: (ref: string) => string | undefined;
	/** Set inside $batch so responses carry Location headers as the docs show. */
	inBatch?: boolean;
}

export const JSON_TYPE = 'application/json; odata.metadata=minimal';

const KNOWN_OPTIONS = new Set(['$select', '$filter', '$orderby', '$top', '$expand', '$count', '$skiptoken', '$deltatoken', '$skip', '$apply', '$search', '$format']);

export type BulkHandler = (table: TableDef, action: string, req: ApiRequest, ctx: OpContext) => ApiResponse;

export class Api {
	readonly metadata: MetadataApi;
	readonly tracker: ChangeTracker;
	bulk?: BulkHandler;
	batch?: (req: ApiRequest, call: CallContext) => ApiResponse;
	whoAmI?: (caller: Caller) => Record<string, unknown>;

	constructor(readonly engine: Engine) {
		this.metadata = new MetadataApi(engine);
		this.tracker = new ChangeTracker(engine);
	}

	private get base(): string {
		return this.engine.apiBase;
	}

	json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
		return { status, headers: { 'OData-Version': '4.0', 'Content-Type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
	}

	empty(status: number, headers: Record<string, string> = {}): ApiResponse {
		return { status, headers: { 'OData-Version': '4.0', ...headers } };
	}

	errorResponse(error: DataverseError): ApiResponse {
		return this.json(error.status, error.toBody(), error.headers);
	}

	handle(req: ApiRequest, call: CallContext): ApiResponse {
		try {
			return this.dispatch(req, call);
		} catch (error) {
			if (error instanceof DataverseError) return this.errorResponse(error);
			throw error;
		}
	}

	private dispatch(req: ApiRequest, call: CallContext): ApiResponse {
		const prefs = parsePrefer(req.headers.prefer);
		const ctx: OpContext = { caller: call.caller, prefs, resolveContentId: call.resolveContentId };
		const query = new URLSearchParams(req.rawQuery);
		let path = req.path.replace(/\/+$/, '');
		if (path.startsWith('$') && call.resolveContentId && /^\$\d+/.test(path)) {
			// $1/lastname inside a change set.
			const m = /^(\$\d+)(.*)$/.exec(path)!;
			const resolved = call.resolveContentId(m[1]);
			if (!resolved) throw errors.odata(`Content-ID Reference: '${m[1]}' does not exist in the batch context.`);
			path = `${resolved}${m[2]}`;
		}
		const segments = splitTopLevel(path, '/').map((s) => safeDecode(s));
		const method = req.method.toUpperCase();

		if (segments.length === 0) {
			if (method !== 'GET') throw errors.methodNotAllowed(method);
			return this.json(200, {
				'@odata.context': `${this.base}/$metadata`,
				value: this.engine.schema.tables.map((t) => ({ name: t.entitySetName, kind: 'EntitySet', url: t.entitySetName })),
			});
		}
		const head = segments[0];
		if (head === '$batch') {
			if (method !== 'POST') throw errors.methodNotAllowed(method);
			if (call.inBatch) throw errors.odata('Batch requests cannot be nested.');
			if (!this.batch) throw errors.resourceNotFound(head);
			return this.batch(req, call);
		}
		if (head === 'WhoAmI' || head === 'WhoAmI()') {
			if (method !== 'GET') throw errors.noHttpResource(`${this.base}/${req.path}`);
			return this.json(200, { '@odata.context': `${this.base}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`, ...this.whoAmI!(call.caller) });
		}
		if (head === 'Merge') {
			if (method !== 'POST') throw errors.noHttpResource(`${this.base}/${req.path}`);
			return mergeAction(this, req, ctx);
		}
		if (head === '$metadata') {
			return { status: 200, headers: { 'OData-Version': '4.0', 'Content-Type': 'application/xml' }, body: this.csdl() };
		}
		if (head === 'EntityDefinitions' || head.startsWith('EntityDefinitions(')) {
			if (method === 'POST' && segments[1] === 'Keys') return this.createKey(segments[0], req);
			if (method !== 'GET') throw errors.methodNotAllowed(method);
			return this.json(200, this.metadata.get(segments, query));
		}
		if (head.startsWith('RetrieveTotalRecordCount(')) return this.totalRecordCount(head);

		const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$/.exec(head);
		const table = m ? this.engine.schema.tableBySet(m[1]) : undefined;
		if (!m || !table) throw errors.resourceNotFound(m ? m[1] : head);
		const keyText = m[2];
		const rest = segments.slice(1);

		if (keyText === undefined) {
			if (rest.length === 0) {
				if (method === 'GET') return this.retrieveMultiple(table, req, query, ctx);
				if (method === 'POST') return this.createRecord(table, req, ctx, call);
				throw errors.methodNotAllowed(method);
			}
			if (rest[0] === '$count' && rest.length === 1) {
				if (method !== 'GET') throw errors.methodNotAllowed(method);
				return this.countRows(table, query, ctx);
			}
			if (rest[0].startsWith('Microsoft.Dynamics.CRM.') && rest.length === 1) {
				const action = rest[0].slice('Microsoft.Dynamics.CRM.'.length);
				if (method !== 'POST') throw errors.noHttpResource(`${this.base}/${req.path}`);
				if (!this.bulk || !['CreateMultiple', 'UpdateMultiple', 'UpsertMultiple'].includes(action)) throw errors.resourceNotFound(rest[0]);
				return this.bulk(table, action, req, ctx);
			}
			throw errors.resourceNotFound(rest[0]);
		}

		const spec = this.engine.parseKey(table, keyText);
		if (rest.length === 1 && rest[0].startsWith('Microsoft.Dynamics.CRM.')) {
			// Actions bound to a record: only lead's QualifyLead here.
			if (rest[0] !== 'Microsoft.Dynamics.CRM.QualifyLead' || table.logicalName !== 'lead') throw errors.resourceNotFound(rest[0]);
			if (method !== 'POST') throw errors.noHttpResource(`${this.base}/${req.path}`);
			return qualifyLeadAction(this, this.findOrThrow(table, spec), req, ctx);
		}
		if (rest.length === 0) {
			switch (method) {
				case 'GET':
					return this.retrieve(table, spec, req, query, ctx);
				case 'PATCH':
					return this.upsert(table, spec, req, query, ctx, call);
				case 'DELETE':
					return this.deleteRecord(table, spec, req, ctx);
				default:
					throw errors.methodNotAllowed(method);
			}
		}
		return this.subResource(table, spec, rest, method, req, query, ctx);
	}

	// -------------------------------------------------------------------------------------------------------------

	private readJson(req: ApiRequest, table: TableDef): Record<string, unknown> {
		const text = req.body.trim();
		if (!text) return {};
		try {
			const value = JSON.parse(text) as unknown;
			if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
			return value as Record<string, unknown>;
		} catch {
			throw errors.payload(table.entitySetName, 'Microsoft.OData.ODataException: Invalid JSON. The request body could not be read as a JSON object.');
		}
	}

	private entityId(table: TableDef, row: Row): string {
		return `${this.base}/${table.entitySetName}(${row.id})`;
	}

	private locationHeaders(table: TableDef, row: Row, inBatch?: boolean): Record<string, string> {
		const url = this.entityId(table, row);
		return inBatch ? { Location: url, 'OData-EntityId': url } : { 'OData-EntityId': url };
	}

	private contextFor(table: TableDef, select: string[] | undefined, entity: boolean, expandNames: string[] = []): string {
		const cols = [...(select ?? []), ...expandNames];
		return `${this.base}/$metadata#${table.entitySetName}${cols.length ? `(${cols.join(',')})` : ''}${entity ? '/$entity' : ''}`;
	}

	private preferenceApplied(prefs: Preferences, extra: string[] = []): Record<string, string> {
		const applied = [...extra];
		if (prefs.annotationsRaw !== undefined) applied.push(`odata.include-annotations="${prefs.annotationsRaw}"`);
		return applied.length ? { 'Preference-Applied': applied.join(',') } : {};
	}

	private createRecord(table: TableDef, req: ApiRequest, ctx: OpContext, call: CallContext): ApiResponse {
		const body = this.readJson(req, table);
		const row = this.engine.store.transaction(() => this.engine.create(table, body, ctx));
		return this.writeResponse(table, row, 201, req, ctx, call);
	}

	private writeResponse(table: TableDef, row: Row, createdStatus: 200 | 201, req: ApiRequest, ctx: OpContext, call: CallContext): ApiResponse {
		if (ctx.prefs.returnRepresentation) {
			const query = new URLSearchParams(req.rawQuery);
			const select = parseSelect(query.get('$select'));
			const body = { '@odata.context': this.contextFor(table, select, true), ...this.engine.serialize(table, row, select, ctx.prefs, ctx) };
			return this.json(createdStatus, body, {
				...this.preferenceApplied(ctx.prefs, ['return=representation']),
				ETag: `W/"${row.version}"`,
				...(call.inBatch ? this.locationHeaders(table, row, true) : {}),
			});
		}
		return this.empty(204, this.locationHeaders(table, row, call.inBatch));
	}

	private findOrThrow(table: TableDef, spec: ReturnType<Engine['parseKey']>): Row {
		const row = this.engine.findByKey(table, spec);
		if (row) return row;
		if (spec.id) throw errors.recordNotFound(table.logicalName, spec.id);
		throw errors.recordNotFoundByKey(table.logicalName);
	}

	private retrieve(table: TableDef, spec: ReturnType<Engine['parseKey']>, req: ApiRequest, query: URLSearchParams, ctx: OpContext): ApiResponse {
		this.engine.checkPrivilege(ctx.caller, 'Read', table);
		this.rejectUnknownOptions(query, ['$select', '$expand']);
		const select = parseSelect(query.get('$select'));
		this.engine.projection(table, select);
		const expand = query.get('$expand');
		const items = expand ? parseExpand(expand) : undefined;
		if (items) this.engine.validateExpand(table, items);
		const row = this.findOrThrow(table, spec);
		const ifNoneMatch = req.headers['if-none-match'];
		if (ifNoneMatch && ifNoneMatch !== 'null' && !items && ctx.prefs.annotations.length === 0) {
			if (ifNoneMatch === '*' || etagMatches(ifNoneMatch, row.version)) {
				return this.empty(304, { 'Content-Type': JSON_TYPE, ETag: `W/"${row.version}"` });
			}
		}
		const body = {
			'@odata.context': this.contextFor(table, select, true, items?.map((i) => i.nav)),
			...this.engine.serialize(table, row, select, ctx.prefs, ctx, items),
		};
		return this.json(200, body, { ETag: `W/"${row.version}"`, ...this.preferenceApplied(ctx.prefs) });
	}

	private upsert(table: TableDef, spec: ReturnType<Engine['parseKey']>, req: ApiRequest, query: URLSearchParams, ctx: OpContext, call: CallContext): ApiResponse {
		const body = this.readJson(req, table);
		const existing = this.engine.findByKey(table, spec);
		const ifMatch = req.headers['if-match'];
		const ifNoneMatch = req.headers['if-none-match'];
		if (ifMatch) {
			if (!existing) {
				if (spec.id) throw errors.recordNotFound(table.logicalName, spec.id);
				throw errors.recordNotFoundByKey(table.logicalName);
			}
			if (ifMatch !== '*' && !etagMatches(ifMatch, existing.version)) throw errors.versionMismatch();
		}
		if (ifNoneMatch === '*' && existing) throw errors.duplicateRecord();
		return this.engine.store.transaction(() => {
			if (existing) {
				const row = this.engine.update(table, existing, body, ctx);
				return this.writeResponse(table, row, 200, req, ctx, call);
			}
			const row = this.engine.create(table, body, ctx, { presetId: spec.id, keyValues: spec.key?.raw });
			return this.writeResponse(table, row, 201, req, ctx, call);
		});
	}

	private deleteRecord(table: TableDef, spec: ReturnType<Engine['parseKey']>, req: ApiRequest, ctx: OpContext): ApiResponse {
		const row = this.findOrThrow(table, spec);
		const ifMatch = req.headers['if-match'];
		if (ifMatch && ifMatch !== '*' && !etagMatches(ifMatch, row.version)) throw errors.versionMismatch();
		this.engine.store.transaction(() => this.engine.remove(table, row, ctx));
		return this.empty(204);
	}

	/** Single property, navigation property and $ref operations below a record. */
	private subResource(
		table: TableDef,
		spec: ReturnType<Engine['parseKey']>,
		rest: string[],
		method: string,
		req: ApiRequest,
		query: URLSearchParams,
		ctx: OpContext,
	): ApiResponse {
		const name = rest[0];
		const nav = this.engine.schema.navigation(table).get(name);
		const coll = this.engine.schema.collections(table).get(name.replace(/\(.*\)$/, ''));
		const row = () => this.findOrThrow(table, spec);
		if (nav && rest[1] === '$ref') {
			if (method === 'DELETE') {
				const r = row();
				this.engine.store.transaction(() => this.engine.update(table, r, { [`${name}@odata.bind`]: null }, ctx));
				return this.empty(204);
			}
			if (method === 'PUT') {
				const body = this.readJson(req, table);
				const ref = body['@odata.id'];
				if (typeof ref !== 'string') throw errors.payload(table.entitySetName, "Microsoft.OData.ODataException: The '@odata.id' property is required.");
				const r = row();
				this.engine.store.transaction(() => this.engine.update(table, r, { [`${name}@odata.bind`]: ref }, ctx));
				return this.empty(204);
			}
			throw errors.methodNotAllowed(method);
		}
		if (coll && (rest[1] === '$ref' || rest.length === 1)) {
			const child = coll.table;
			const childNav = coll.column.targets!.length > 1 ? `${coll.column.logicalName}_${table.logicalName}` : coll.column.logicalName;
			const parent = row();
			if (rest[1] === '$ref' && method === 'POST') {
				const ref = this.readJson(req, table)['@odata.id'];
				if (typeof ref !== 'string') throw errors.payload(table.entitySetName, "Microsoft.OData.ODataException: The '@odata.id' property is required.");
				const target = this.engine.resolveReference(ref, ctx, table.entitySetName);
				if (!target.row || target.table !== child) throw errors.recordNotFound(child.logicalName, target.spec.id ?? '');
				const r = target.row;
				this.engine.store.transaction(() => this.engine.update(child, r, { [`${childNav}@odata.bind`]: `${table.entitySetName}(${parent.id})` }, ctx));
				return this.empty(204);
			}
			if (rest[1] === '$ref' && method === 'DELETE') {
				const keyMatch = /\((.*)\)$/.exec(name);
				const idParam = query.get('$id');
				const childId = keyMatch?.[1] ?? (idParam ? /\(([^)]*)\)\s*$/.exec(idParam)?.[1] : undefined);
				const target = childId ? this.engine.store.get(child.logicalName, childId) : undefined;
				if (!target) throw errors.recordNotFound(child.logicalName, childId ?? '');
				this.engine.store.transaction(() => this.engine.update(child, target, { [`${childNav}@odata.bind`]: null }, ctx));
				return this.empty(204);
			}
			if (method !== 'GET') throw errors.methodNotAllowed(method);
			this.engine.checkPrivilege(ctx.caller, 'Read', table);
			this.engine.checkPrivilege(ctx.caller, 'Read', child);
			const select = parseSelect(query.get('$select'));
			this.engine.projection(child, select);
			let rows = [...this.engine.store.rows(child.logicalName).values()].filter((r) => {
				const v = r.values[coll.column.logicalName];
				return typeof v === 'object' && v !== null && !Array.isArray(v) && v.id === parent.id;
			});
			if (query.get('$filter')) rows = rows.filter(this.engine.compile(child, query.get('$filter')!, aliasesOf(query), ctx));
			rows = this.engine.sort(child, rows, query.get('$orderby') ?? undefined, ctx);
			if (query.get('$top')) rows = rows.slice(0, parseTop(query.get('$top')!));
			return this.json(
				200,
				{
					'@odata.context': this.contextFor(child, select, false),
					value: rows.map((r) => this.engine.serialize(child, r, select, ctx.prefs, ctx)),
				},
				this.preferenceApplied(ctx.prefs),
			);
		}
		if (nav && rest.length === 1) {
			if (method !== 'GET') throw errors.methodNotAllowed(method);
			this.engine.checkPrivilege(ctx.caller, 'Read', table);
			const target = this.engine.schema.table(nav.target)!;
			this.engine.checkPrivilege(ctx.caller, 'Read', target);
			const ref = row().values[nav.column.logicalName];
			const related = ref && typeof ref === 'object' && !Array.isArray(ref) && ref.table === target.logicalName ? this.engine.store.get(target.logicalName, ref.id) : undefined;
			if (!related) return this.empty(204);
			const select = parseSelect(query.get('$select'));
			return this.json(200, {
				'@odata.context': this.contextFor(target, select, true),
				...this.engine.serialize(target, related, select, ctx.prefs, ctx),
			});
		}
		// A single column: GET (value or $value), PUT {"value": x}, DELETE (clears it).
		const col = [...table.columns.values()].find((c) => c.validForRead && propertyName(c) === name);
		if (!col) throw errors.resourceNotFound(name);
		if (method === 'GET') {
			this.engine.checkPrivilege(ctx.caller, 'Read', table);
			const value = toJson(col, row().values[col.logicalName] as StoredValue);
			if (rest[1] === '$value') {
				if (value === null) return this.empty(204);
				return { status: 200, headers: { 'OData-Version': '4.0', 'Content-Type': 'text/plain' }, body: String(value) };
			}
			if (value === null) return this.empty(204);
			return this.json(200, { '@odata.context': `${this.base}/$metadata#${table.entitySetName}(${row().id})/${name}`, value });
		}
		if (isLookupType(col.type)) throw errors.methodNotAllowed(method);
		if (method === 'PUT') {
			const body = this.readJson(req, table);
			if (!('value' in body)) throw errors.payload(table.entitySetName, "Microsoft.OData.ODataException: The 'value' property is required.");
			const r = row();
			this.engine.store.transaction(() => this.engine.update(table, r, { [col.logicalName]: body.value }, ctx));
			return this.empty(204);
		}
		if (method === 'DELETE') {
			const r = row();
			this.engine.store.transaction(() => this.engine.update(table, r, { [col.logicalName]: null }, ctx));
			return this.empty(204);
		}
		throw errors.methodNotAllowed(method);
	}

	private rejectUnknownOptions(query: URLSearchParams, allowed: string[]): void {
		for (const key of query.keys()) {
			if (!key.startsWith('$')) continue;
			if (key === '$skip') throw errors.odata('The query parameter $skip is not supported');
			if (!KNOWN_OPTIONS.has(key)) throw errors.odata(`The query parameter '${key}' is not supported.`);
			if (!allowed.includes(key)) throw errors.odata(`The query parameter '${key}' is not supported on a single entity.`);
		}
	}

	private nextLink(table: TableDef, rawQuery: string, state: PageState): string {
		const kept = rawQuery
			.split('&')
			.filter((p) => p && !/^(\$skiptoken|%24skiptoken|\$deltatoken|%24deltatoken)=/i.test(p));
		kept.push(`$skiptoken=${encodeURIComponent(encodeSkipToken(state))}`);
		return `${this.base}/${table.entitySetName}?${kept.join('&')}`;
	}

	private deltaLink(table: TableDef, rawQuery: string, token: string): string {
		const kept = rawQuery.split('&').filter((p) => p && !/^(\$skiptoken|%24skiptoken|\$deltatoken|%24deltatoken)=/i.test(p));
		// Encoded like Dataverse's links: 919042%2108%2f22%2f2017%2008%3a10%3a44
		const encoded = encodeURIComponent(token).replace(/!/g, '%21').replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
		kept.push(`$deltatoken=${encoded}`);
		return `${this.base}/${table.entitySetName}?${kept.join('&')}`;
	}

	private retrieveMultiple(table: TableDef, req: ApiRequest, query: URLSearchParams, ctx: OpContext): ApiResponse {
		this.engine.checkPrivilege(ctx.caller, 'Read', table);
		if (query.has('fetchXml')) throw errors.odata('FetchXML queries are not supported by this sandbox.', 501);
		if (query.has('savedQuery') || query.has('userQuery')) throw errors.odata('Saved and user queries are not supported by this sandbox.', 501);
		for (const key of query.keys()) {
			if (!key.startsWith('$')) continue;
			if (key === '$skip') throw errors.odata('The query parameter $skip is not supported');
			if (key === '$apply' || key === '$search') throw errors.odata(`The query parameter ${key} is not supported by this sandbox.`, 501);
			if (!KNOWN_OPTIONS.has(key)) throw errors.odata(`The query parameter '${key}' is not supported.`);
		}
		const prefs = ctx.prefs;
		const pageSize = prefs.maxPageSize ? Math.min(prefs.maxPageSize, MAX_PAGE_SIZE) : MAX_PAGE_SIZE;
		const applied: string[] = prefs.maxPageSize ? [`odata.maxpagesize=${pageSize}`] : [];
		const deltaToken = query.get('$deltatoken');
		const skiptoken = query.get('$skiptoken');
		const state = skiptoken ? decodeSkipToken(skiptoken) : undefined;
		const tracking = deltaToken !== null || state?.tracking !== undefined || (prefs.trackChanges && this.tracker.enabled(table));
		if (tracking) {
			if (!this.tracker.enabled(table)) throw errors.invalidArgument(`Change tracking is not enabled for the entity '${table.logicalName}'.`);
			this.tracker.checkOptions(query);
			this.engine.checkPrivilege(ctx.caller, 'Read', table);
			if (prefs.trackChanges) applied.push('odata.track-changes');
			const select = parseSelect(query.get('$select'));
			this.engine.projection(table, select);
			const isDelta = deltaToken !== null || state?.tracking?.initial === false;
			if (isDelta) {
				const page = this.tracker.delta(table, deltaToken ?? state!.tracking!.token, pageSize, state);
				const body: Record<string, unknown> = {
					'@odata.context': `${this.contextFor(table, select, false)}/$delta`,
					value: page.items.map((item) =>
						item.row
							? this.engine.serialize(table, item.row, select, prefs, ctx)
							: { '@odata.context': `${this.base}/$metadata#${table.entitySetName}/$deletedEntity`, id: item.deletedId, reason: 'deleted' },
					),
				};
				if (page.next) body['@odata.nextLink'] = this.nextLink(table, req.rawQuery, page.next);
				if (page.deltaToken) body['@odata.deltaLink'] = this.deltaLink(table, req.rawQuery, page.deltaToken);
				return this.json(200, body, this.preferenceApplied(prefs, applied));
			}
			// Initial read: every row, paged like a normal query; the delta link comes with the last page.
			const token = state?.tracking?.token ?? this.tracker.currentToken();
			const result = this.engine.query(table, { select: query.get('$select'), skiptoken, aliases: {} }, ctx);
			const body: Record<string, unknown> = {
				'@odata.context': this.contextFor(table, select, false),
				value: result.rows.map((r) => this.engine.serialize(table, r, select, prefs, ctx)),
			};
			if (result.next) {
				result.next.tracking = { from: 0, to: 0, token, initial: true, offset: 0 };
				body['@odata.nextLink'] = this.nextLink(table, req.rawQuery, result.next);
			} else {
				body['@odata.deltaLink'] = this.deltaLink(table, req.rawQuery, token);
			}
			return this.json(200, body, this.preferenceApplied(prefs, applied));
		}

		const top = query.get('$top');
		const count = query.get('$count');
		if (count !== null && count !== 'true' && count !== 'false') throw errors.odata(`'${count}' is not a valid count option.`);
		const result = this.engine.query(
			table,
			{
				select: query.get('$select'),
				filter: query.get('$filter'),
				orderby: query.get('$orderby'),
				top: top !== null ? parseTop(top) : undefined,
				expand: query.get('$expand'),
				count: count === 'true',
				skiptoken,
				aliases: aliasesOf(query),
			},
			ctx,
		);
		const body: Record<string, unknown> = {
			'@odata.context': this.contextFor(table, result.select, false, result.expand?.map((e) => e.nav)),
		};
		if (result.count !== undefined) body['@odata.count'] = result.count;
		if (wantsAnnotation(prefs, 'Microsoft.Dynamics.CRM.totalrecordcount')) {
			body['@Microsoft.Dynamics.CRM.totalrecordcount'] = result.count !== undefined ? Math.min(result.total, COUNT_LIMIT) : -1;
		}
		if (wantsAnnotation(prefs, 'Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded')) {
			body['@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded'] = result.total > COUNT_LIMIT;
		}
		body.value = result.rows.map((r) => this.engine.serialize(table, r, result.select, prefs, ctx, result.expand));
		if (result.next) body['@odata.nextLink'] = this.nextLink(table, req.rawQuery, result.next);
		return this.json(200, body, this.preferenceApplied(prefs, applied));
	}

	private countRows(table: TableDef, query: URLSearchParams, ctx: OpContext): ApiResponse {
		this.engine.checkPrivilege(ctx.caller, 'Read', table);
		const deltaToken = query.get('$deltatoken');
		let n: number;
		if (deltaToken !== null) n = this.tracker.countChanges(table, deltaToken);
		else {
			let rows = [...this.engine.store.rows(table.logicalName).values()];
			if (query.get('$filter')) rows = rows.filter(this.engine.compile(table, query.get('$filter')!, aliasesOf(query), ctx));
			n = Math.min(rows.length, COUNT_LIMIT);
		}
		return { status: 200, headers: { 'OData-Version': '4.0', 'Content-Type': 'text/plain' }, body: String(n) };
	}

	private totalRecordCount(segment: string): ApiResponse {
		const m = /^RetrieveTotalRecordCount\(EntityNames=(.*)\)$/.exec(segment);
		if (!m) throw errors.resourceNotFound(segment);
		let names: string[];
		try {
			names = JSON.parse(m[1].replace(/'/g, '"')) as string[];
		} catch {
			throw errors.odata(`Syntax error at position 0 in '${m[1]}'.`);
		}
		const keys: string[] = [];
		const values: number[] = [];
		for (const name of names) {
			const t = this.engine.schema.table(name);
			if (!t) throw errors.invalidArgument(`The entity with a name = '${name}' was not found in the MetadataCache.`);
			keys.push(name);
			values.push(this.engine.store.count(name));
		}
		return this.json(200, {
			'@odata.context': `${this.base}/$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse`,
			EntityRecordCountCollection: { Count: keys.length, IsReadOnly: false, Keys: keys, Values: values },
		});
	}

	private createKey(segment: string, req: ApiRequest): ApiResponse {
		const m = /^EntityDefinitions\(LogicalName='([^']*)'\)$/.exec(segment);
		const table = m ? this.engine.schema.table(m[1]) : undefined;
		if (!table) throw errors.resourceNotFound(segment);
		const body = this.readJson(req, table);
		const attrs = body.KeyAttributes;
		const schemaName = typeof body.SchemaName === 'string' ? body.SchemaName : undefined;
		if (!Array.isArray(attrs) || attrs.length === 0 || !schemaName) {
			throw errors.invalidArgument('An entity key requires a SchemaName and at least one KeyAttributes entry.');
		}
		const def = this.addAlternateKey?.(table, schemaName, attrs.map(String));
		if (!def) throw errors.invalidArgument('The entity key could not be created.');
		return this.empty(204, { 'OData-EntityId': `${this.base}/EntityDefinitions(${table.metadataId})/Keys(${def.metadataId})` });
	}

	addAlternateKey?: (table: TableDef, schemaName: string, attributes: string[]) => { metadataId: string };

	/** A small CSDL document: entity types, keys, properties and entity sets with the change-tracking annotation. */
	private csdl(): string {
		const lines = [
			'<?xml version="1.0" encoding="utf-8"?>',
			'<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
			'<edmx:DataServices>',
			'<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
		];
		for (const t of this.engine.schema.tables) {
			lines.push(`<EntityType Name="${t.logicalName}"><Key><PropertyRef Name="${t.primaryIdAttribute}" /></Key>`);
			for (const c of t.columns.values()) {
				lines.push(`<Property Name="${propertyName(c)}" Type="${edmType(c)}" />`);
			}
			for (const [name, nav] of this.engine.schema.navigation(t)) {
				lines.push(`<NavigationProperty Name="${name}" Type="mscrm.${nav.target}" Nullable="false" />`);
			}
			for (const [name, coll] of this.engine.schema.collections(t)) {
				lines.push(`<NavigationProperty Name="${name}" Type="Collection(mscrm.${coll.table.logicalName})" />`);
			}
			lines.push('</EntityType>');
		}
		lines.push('<EntityContainer Name="System">');
		for (const t of this.engine.schema.tables) {
			lines.push(`<EntitySet Name="${t.entitySetName}" EntityType="Microsoft.Dynamics.CRM.${t.logicalName}">`);
			if (this.engine.state.changeTracking.get(t.logicalName)) {
				lines.push(
					'<Annotation Term="Org.OData.Capabilities.V1.ChangeTracking"><Record><PropertyValue Property="Supported" Bool="true" /></Record></Annotation>',
				);
			}
			lines.push('</EntitySet>');
		}
		lines.push('</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>');
		return lines.join('\n');
	}
}

export function aliasesOf(query: URLSearchParams): Record<string, string> {
	const aliases: Record<string, string> = {};
	for (const [k, v] of query) if (k.startsWith('@')) aliases[k] = v;
	return aliases;
}

export function etagMatches(header: string, version: number): boolean {
	return header
		.split(',')
		.map((s) => s.trim())
		.some((tag) => tag === '*' || tag === `W/"${version}"` || tag === `"${version}"`);
}

function safeDecode(segment: string): string {
	try {
		return decodeURIComponent(segment);
	} catch {
		return segment;
	}
}
