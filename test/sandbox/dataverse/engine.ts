/**
 * The data engine: writes (create, update, upsert, delete with Dataverse's validation and system columns), reads
 * (serialisation with $select, $expand and annotations) and collection queries ($filter, $orderby, paging).
 * HTTP concerns (URLs, headers, status codes) live in api.ts.
 */
import type { Clock } from '../core/clock';
import type { SeededRandom } from '../core/random';
import { DataverseError, errors } from './errors';
import { edmType, isLookupType, propertyName, stableGuid, type AlternateKeyDef, type ColumnDef, type Schema, type TableDef } from './metadata';
import { compileFilter, isGuid, parseFilter, type BoundProperty, type FilterBinder, type Predicate, type Value } from './odata/filter';
import { tokenize } from './odata/lexer';
import {
	decodeSkipToken,
	parseExpand,
	parseOrderBy,
	parseSelect,
	wantsAnnotation,
	type ExpandItem,
	type PageState,
	type Preferences,
} from './odata/query';
import { isLookupValue, keyString, type LookupValue, type Row, type Store, type StoredValue } from './store';
import { convertInput, formatted, toJson, toSecond } from './values';

export const MAX_PAGE_SIZE = 5000;
export const COUNT_LIMIT = 5000;

export type PrivilegeOp = 'Create' | 'Read' | 'Write' | 'Delete' | 'Append' | 'AppendTo';

export interface Caller {
	userId: string;
	/** Privileges this caller's role lacks, e.g. prvReadLead. */
	denied: ReadonlySet<string>;
	/** 4 for application users (non-interactive), 0 for people. */
	accessMode: number;
}

export interface OpContext {
	caller: Caller;
	prefs: Preferences;
	/** Resolves a `$n` Content-ID reference inside a batch change set to an entity path such as `contacts(<id>)`. */
	resolveContentId?: (ref: string) => string | undefined;
	/** Per-request cache of child rows grouped by parent id, for collection-valued $expand. */
	groups?: Map<string, Map<string, Row[]>>;
}

export interface EngineState {
	changeTracking: Map<string, boolean>;
	changeTrackingExpiryDays: number;
	businessUnitId: string;
	organizationId: string;
	defaultCurrencyId: string;
}

export interface MergeInput {
	targetId: string;
	subordinateId: string;
	/** Columns to set on the target (a Web API entity body; `@odata.bind` allowed). */
	updateContent?: Record<string, unknown>;
	performParentingChecks?: boolean;
}

export interface MergeResult {
	target: Row;
	subordinate: Row;
	/** Related records whose lookup moved from the subordinate to the target. */
	reparented: Row[];
}

export interface QualifyLeadInput {
	createAccount: boolean;
	createContact: boolean;
	createOpportunity: boolean;
	/** The lead's new statuscode; must belong to the Qualified state. */
	status: number;
	opportunityCurrency?: LookupValue;
	opportunityCustomer?: LookupValue;
}

/**
 * The state and status a merged subordinate gets ("deactivated"). account/contact: Inactive with its default
 * status; lead: Disqualified / Canceled (see README, Known differences).
 */
const MERGED_STATE: Record<string, [number, number]> = { account: [1, 2], contact: [1, 2], lead: [2, 7] };

/** What PerformParentingChecks compares between target and subordinate (sandbox choice, see README). */
const PARENT_COLUMNS: Record<string, string[]> = { account: ['parentaccountid'], contact: ['parentcustomerid'], lead: ['parentaccountid', 'parentcontactid'] };

/**
 * Relationships whose CascadeConfiguration.Merge is NoCascade (per the entity reference); every other relationship
 * to account/contact/lead in this schema is Merge: Cascade, and system lookups (createdby, ownerid, ...) target
 * systemuser, not the merged table.
 */
const NO_MERGE_CASCADE = new Set(['masterid']);

const QUALIFIED_STATE = 1;

/** Lead column → new record column, from "Define lead qualification experience" (Field mappings to other entities). */
const LEAD_TO_ACCOUNT: Array<[string, string]> = [
	['companyname', 'name'],
	['websiteurl', 'websiteurl'],
	['telephone1', 'address1_telephone1'],
	['address1_line1', 'address1_line1'],
	['address1_line2', 'address1_line2'],
	['address1_line3', 'address1_line3'],
	['address1_city', 'address1_city'],
	['address1_stateorprovince', 'address1_stateorprovince'],
	['address1_postalcode', 'address1_postalcode'],
	['address1_country', 'address1_country'],
];
const LEAD_TO_CONTACT: Array<[string, string]> = [
	['firstname', 'firstname'],
	['lastname', 'lastname'],
	['jobtitle', 'jobtitle'],
	['telephone1', 'managerphone'],
	['mobilephone', 'mobilephone'],
	['emailaddress1', 'emailaddress1'],
	['address1_line1', 'address1_line1'],
	['address1_line2', 'address1_line2'],
	['address1_line3', 'address1_line3'],
	['address1_city', 'address1_city'],
	['address1_stateorprovince', 'address1_stateorprovince'],
	['address1_postalcode', 'address1_postalcode'],
	['address1_country', 'address1_country'],
];
const LEAD_TO_OPPORTUNITY: Array<[string, string]> = [
	['subject', 'name'],
	['parentcontactid', 'parentcontactid'],
	['parentaccountid', 'parentaccountid'],
];

export const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
export const LOOKUP_LOGICAL_NAME = 'Microsoft.Dynamics.CRM.lookuplogicalname';
export const ASSOCIATED_NAV = 'Microsoft.Dynamics.CRM.associatednavigationproperty';

/** SQL Server orders uniqueidentifier values by their last group first; default ordering is by primary key. */
export function guidSortKey(id: string): string {
	const g = id.toLowerCase();
	return `${g.slice(24)}${g.slice(19, 23)}${g.slice(14, 18)}${g.slice(9, 13)}${g.slice(0, 8)}`;
}

export interface KeySpec {
	id?: string;
	key?: { def: AlternateKeyDef; values: StoredValue[]; raw: Record<string, StoredValue> };
}

export interface QueryInput {
	select?: string | null;
	filter?: string | null;
	orderby?: string | null;
	top?: number;
	expand?: string | null;
	count?: boolean;
	skiptoken?: string | null;
	aliases: Record<string, string>;
}

export interface QueryResult {
	rows: Row[];
	count?: number;
	total: number;
	next?: PageState;
	select?: string[];
	expand?: ExpandItem[];
}

export class Engine {
	baseUrl = 'http://127.0.0.1';

	constructor(
		readonly schema: Schema,
		readonly store: Store,
		readonly clock: Clock,
		public random: SeededRandom,
		readonly state: EngineState,
	) {}

	get apiBase(): string {
		return `${this.baseUrl}/api/data/v9.2`;
	}

	// -------------------------------------------------------------------------------------------------------------
	// Privileges

	privilegeId(name: string): string {
		return stableGuid(`privilege:${name}`);
	}

	checkPrivilege(caller: Caller, op: PrivilegeOp, table: TableDef): void {
		const name = `prv${op}${table.privilegeName}`;
		const denied = caller.denied.has(name) || (table.readOnly && (op === 'Create' || op === 'Write' || op === 'Delete'));
		if (!denied) return;
		const privilegeCount = 400 - caller.denied.size;
		throw new DataverseError(
			403,
			'0x80040220',
			`Principal user (Id=${caller.userId}, type=8, roleCount=1, privilegeCount=${privilegeCount}, accessMode=${caller.accessMode}), is missing ${name} privilege (Id=${this.privilegeId(name)}) on OTC=${table.objectTypeCode} for entity '${table.logicalName}'. context.Caller=${caller.userId}`,
		);
	}

	// -------------------------------------------------------------------------------------------------------------
	// Keys and references

	/** Parses a key predicate (the text between the parentheses of `contacts(...)`). */
	parseKey(table: TableDef, text: string): KeySpec {
		const trimmed = text.trim();
		if (isGuid(trimmed)) return { id: trimmed.toLowerCase() };
		const tokens = tokenize(trimmed);
		const pairs: Record<string, StoredValue> = {};
		let i = 0;
		while (tokens[i].kind !== 'eof') {
			const name = tokens[i];
			const eq = tokens[i + 1];
			const value = tokens[i + 2];
			if (name.kind !== 'ident' || eq?.kind !== '=' || !value) throw errors.alternateKeyInvalid(table.logicalName);
			let v: StoredValue;
			if (value.kind === 'string' || value.kind === 'guid') v = value.text;
			else if (value.kind === 'number') v = Number(value.text);
			else if (value.kind === 'ident' && (value.text === 'true' || value.text === 'false')) v = value.text === 'true';
			else throw errors.alternateKeyInvalid(table.logicalName);
			pairs[name.text] = v;
			i += 3;
			if (tokens[i].kind === ',') i++;
		}
		const names = Object.keys(pairs);
		if (names.length === 1 && names[0] === table.primaryIdAttribute && typeof pairs[names[0]] === 'string' && isGuid(String(pairs[names[0]]))) {
			return { id: String(pairs[names[0]]).toLowerCase() };
		}
		for (const def of this.store.keys(table.logicalName)) {
			const wanted = def.keyAttributes.map((a) => {
				const col = table.columns.get(a);
				return col && isLookupType(col.type) ? `_${a}_value` : a;
			});
			if (wanted.length !== names.length || !wanted.every((w) => names.includes(w))) continue;
			const raw: Record<string, StoredValue> = {};
			const values = def.keyAttributes.map((a, idx) => {
				const v = pairs[wanted[idx]];
				raw[a] = v;
				return v;
			});
			return { key: { def, values, raw } };
		}
		throw errors.alternateKeyInvalid(table.logicalName);
	}

	findByKey(table: TableDef, spec: KeySpec): Row | undefined {
		if (spec.id) return this.store.get(table.logicalName, spec.id);
		if (spec.key) return this.store.findByKey(table.logicalName, spec.key.def, spec.key.values);
		return undefined;
	}

	/** Resolves an `@odata.bind` / `@odata.id` reference: `/contacts(<id>)`, `contacts(key='x')`, an absolute URL or `$1`. */
	resolveReference(ref: string, ctx: OpContext, entitySet: string): { table: TableDef; row: Row | undefined; spec: KeySpec } {
		let path = ref.trim();
		if (path.startsWith('$') && ctx.resolveContentId) {
			const resolved = ctx.resolveContentId(path);
			if (!resolved) throw errors.odata(`Content-ID Reference: '${path}' does not exist in the batch context.`);
			path = resolved;
		}
		const apiAt = path.indexOf('/api/data/v9.2/');
		if (apiAt >= 0) path = path.slice(apiAt + '/api/data/v9.2/'.length);
		path = path.replace(/^\//, '');
		const m = /^([A-Za-z0-9_]+)\((.*)\)$/.exec(path);
		if (!m) {
			throw errors.payload(entitySet, `Microsoft.OData.ODataException: The entity reference '${ref}' is not a valid entity URI.`);
		}
		const target = this.schema.tableBySet(m[1]);
		if (!target) throw errors.resourceNotFound(m[1]);
		const spec = this.parseKey(target, decodeURIComponent(m[2]));
		return { table: target, row: this.findByKey(target, spec), spec };
	}

	// -------------------------------------------------------------------------------------------------------------
	// Writes

	/**
	 * Turns a request body into column values. Columns not valid for the operation are dropped silently, unknown
	 * properties are rejected, lookups are read from `<navigation>@odata.bind`.
	 */
	private readBody(
		table: TableDef,
		body: Record<string, unknown>,
		mode: 'create' | 'update',
		ctx: OpContext,
	): { values: Record<string, StoredValue>; deep: Array<{ nav: string; value: unknown }> } {
		const set = table.entitySetName;
		const nav = this.schema.navigation(table);
		const collections = this.schema.collections(table);
		const values: Record<string, StoredValue> = {};
		const deep: Array<{ nav: string; value: unknown }> = [];
		if (typeof body !== 'object' || body === null || Array.isArray(body)) {
			throw errors.payload(set, 'Microsoft.OData.ODataException: The request body is not a JSON object.');
		}
		for (const [key, value] of Object.entries(body)) {
			if (key === '@odata.type') {
				const expected = `Microsoft.Dynamics.CRM.${table.logicalName}`;
				if (String(value).replace(/^#/, '') !== expected) {
					throw errors.payload(
						set,
						`Microsoft.OData.ODataException: A resource with type '${String(value).replace(/^#/, '')}' was found, but it is not assignable to the expected type '${expected}'. The type specified in the resource must be equal to either the expected type or a derived type.`,
					);
				}
				continue;
			}
			if (key.startsWith('@')) continue;
			const at = key.indexOf('@');
			if (at >= 0) {
				const prop = key.slice(0, at);
				const annotation = key.slice(at + 1);
				if (annotation !== 'odata.bind') {
					if (!table.columns.has(prop) && !nav.has(prop) && !/^_.+_value$/.test(prop)) throw errors.undeclaredAnnotationOnly(set, prop);
					continue;
				}
				const target = nav.get(prop);
				if (!target) {
					if (collections.has(prop)) continue;
					throw errors.undeclaredAnnotationOnly(set, prop);
				}
				const col = target.column;
				if (mode === 'create' ? !col.validForCreate : !col.validForUpdate) continue;
				if (value === null) {
					values[col.logicalName] = null;
					continue;
				}
				if (typeof value !== 'string') throw errors.cannotConvert(set, JSON.stringify(value), 'Edm.String');
				const ref = this.resolveReference(value, ctx, set);
				if (ref.table.logicalName !== target.target) {
					throw errors.payload(
						set,
						`Microsoft.OData.ODataException: A resource with type 'Microsoft.Dynamics.CRM.${ref.table.logicalName}' was found, but it is not assignable to the expected type 'Microsoft.Dynamics.CRM.${target.target}'. The type specified in the resource must be equal to either the expected type or a derived type.`,
					);
				}
				if (!ref.row) {
					if (ref.spec.id) throw errors.recordNotFound(ref.table.logicalName, ref.spec.id);
					throw errors.recordNotFoundByKey(ref.table.logicalName);
				}
				this.checkPrivilege(ctx.caller, 'AppendTo', ref.table);
				values[col.logicalName] = { id: ref.row.id, table: ref.table.logicalName };
				continue;
			}
			if (nav.has(key) || collections.has(key)) {
				if (value !== null && typeof value === 'object') {
					deep.push({ nav: key, value });
					continue;
				}
				throw errors.invalidProperty(key, table.logicalName);
			}
			const col = table.columns.get(key);
			// A write-only column (serviceendpoint.authvalue) is accepted in a body, never returned.
			if (!col || isLookupType(col.type) || (!col.validForRead && !col.validForCreate && !col.validForUpdate)) throw errors.invalidProperty(key, table.logicalName);
			if (mode === 'create' ? !col.validForCreate : !col.validForUpdate) continue;
			values[col.logicalName] = convertInput(table, col, value, set);
		}
		return { values, deep };
	}

	private systemRequiredCheck(table: TableDef, values: Record<string, StoredValue>): void {
		for (const [name, value] of Object.entries(values)) {
			const col = table.columns.get(name);
			if (col?.requiredLevel === 'SystemRequired' && value === null) {
				throw errors.invalidArgument(`Attribute '${name}' cannot be set to NULL`);
			}
		}
	}

	/** Applies defaults and computed columns, and checks statecode/statuscode consistency. */
	private finish(table: TableDef, values: Record<string, StoredValue>, previous: Row | undefined, id: string): void {
		const cols = table.columns;
		if (cols.has('fullname') && table.logicalName !== 'systemuser') {
			const first = (values.firstname ?? '') as string;
			const last = (values.lastname ?? '') as string;
			values.fullname = `${first} ${last}`.trim() || null;
		}
		if (cols.has('fullname') && table.logicalName === 'systemuser') {
			values.fullname = `${(values.firstname ?? '') as string} ${(values.lastname ?? '') as string}`.trim() || null;
		}
		for (const money of ['revenue', 'estimatedvalue']) {
			if (cols.has(`${money}_base`)) values[`${money}_base`] = values[money] ?? null;
		}
		if (cols.has('objecttypecode')) {
			const obj = values.objectid;
			values.objecttypecode = isLookupValue(obj) ? obj.table : null;
		}
		if (cols.has('ownerid')) values.owninguser = values.ownerid ?? null;
		if (table.hasStateCode) {
			const stateCol = cols.get('statecode')!;
			const statusCol = cols.get('statuscode')!;
			const state = values.statecode as number;
			const prevState = previous?.values.statecode;
			const status = values.statuscode as number | null;
			const stateOption = stateCol.options!.find((o) => o.value === state)!;
			const statusChanged = previous ? status !== previous.values.statuscode : true;
			if (status === null || status === undefined || (state !== prevState && !statusChanged)) {
				values.statuscode = stateOption.defaultStatus ?? null;
			} else {
				const statusOption = statusCol.options!.find((o) => o.value === status);
				if (statusOption && statusOption.state !== state) {
					throw errors.invalidStatus(status, `${table.schemaName}State.${stateOption.invariantName}`, table.logicalName, id);
				}
			}
		}
	}

	private checkKeys(table: TableDef, values: Record<string, StoredValue>, exceptId?: string): void {
		const conflict = this.store.keyConflict(table.logicalName, values, exceptId);
		if (!conflict) return;
		const names = conflict.keyAttributes.map((a) => table.columns.get(a)?.displayName ?? a).join(', ');
		throw new DataverseError(
			412,
			'0x80040237',
			`A record that has the attribute values ${names} already exists. The entity key ${conflict.schemaName} requires that this set of attributes contains unique values. Select unique values and try again.`,
		);
	}

	/** Creates a row. `presetId` and `keyValues` come from an upsert URL; body values win over key values. */
	create(
		table: TableDef,
		body: Record<string, unknown>,
		ctx: OpContext,
		options: { presetId?: string; keyValues?: Record<string, StoredValue>; asUser?: string; at?: number } = {},
	): Row {
		this.checkPrivilege(ctx.caller, 'Create', table);
		const { values: input, deep } = this.readBody(table, body, 'create', ctx);
		// Deep insert of single-valued navigation properties: create the related record first, then bind it.
		for (const item of deep.filter((d) => this.schema.navigation(table).has(d.nav))) {
			const single = this.schema.navigation(table).get(item.nav)!;
			const target = this.schema.table(single.target)!;
			const child = this.create(target, item.value as Record<string, unknown>, ctx);
			input[single.column.logicalName] = { id: child.id, table: target.logicalName };
		}
		const binds = Object.entries(input).filter(([, v]) => isLookupValue(v));
		if (binds.length > 0) this.checkPrivilege(ctx.caller, 'Append', table);
		this.systemRequiredCheck(table, input);
		const pk = table.primaryIdAttribute;
		const id = ((input[pk] as string | undefined) ?? options.presetId ?? this.random.guid()).toLowerCase();
		if (this.store.get(table.logicalName, id)) throw errors.duplicateRecord();
		const now = toSecond(options.at ?? this.clock.monotonicNow());
		const userRef: LookupValue = { id: options.asUser ?? ctx.caller.userId, table: 'systemuser' };
		const values: Record<string, StoredValue> = {};
		for (const col of table.columns.values()) {
			// Columns only the platform writes start at their documented default (e.g. merged = false).
			values[col.logicalName] = col.type === 'Boolean' && !col.validForCreate && col.defaultBoolean !== undefined ? col.defaultBoolean : null;
		}
		Object.assign(values, options.keyValues ?? {}, input);
		values[pk] = id;
		values.createdon = now;
		values.modifiedon = now;
		values.createdby = userRef;
		values.modifiedby = userRef;
		if (table.columns.has('ownerid') && !values.ownerid) values.ownerid = userRef;
		if (table.columns.has('owningbusinessunit')) values.owningbusinessunit = { id: this.state.businessUnitId, table: 'businessunit' };
		if (table.columns.has('transactioncurrencyid')) {
			if (!values.transactioncurrencyid) values.transactioncurrencyid = { id: this.state.defaultCurrencyId, table: 'transactioncurrency' };
			values.exchangerate = 1;
		}
		if (table.hasStateCode) values.statecode = 0;
		this.finish(table, values, undefined, id);
		this.checkKeys(table, values);
		const version = this.store.nextVersion();
		values.versionnumber = version;
		const row: Row = { id, table: table.logicalName, values, version };
		this.store.insert(row);
		this.deepInsert(table, row, deep, ctx);
		return row;
	}

	/** Deep insert: related records nested in a create body. */
	private deepInsert(table: TableDef, parent: Row, deep: Array<{ nav: string; value: unknown }>, ctx: OpContext): void {
		for (const { nav, value } of deep) {
			if (this.schema.navigation(table).has(nav)) continue;
			const coll = this.schema.collections(table).get(nav);
			if (!coll || !Array.isArray(value)) throw errors.invalidProperty(nav, table.logicalName);
			const childNav = coll.column.targets!.length > 1 ? `${coll.column.logicalName}_${table.logicalName}` : coll.column.logicalName;
			for (const item of value) {
				this.create(coll.table, { ...(item as Record<string, unknown>), [`${childNav}@odata.bind`]: `${table.entitySetName}(${parent.id})` }, ctx);
			}
		}
	}

	update(table: TableDef, previous: Row, body: Record<string, unknown>, ctx: OpContext, options: { asUser?: string; at?: number } = {}): Row {
		this.checkPrivilege(ctx.caller, 'Write', table);
		const { values: input } = this.readBody(table, body, 'update', ctx);
		delete input[table.primaryIdAttribute];
		if (Object.values(input).some((v) => isLookupValue(v))) this.checkPrivilege(ctx.caller, 'Append', table);
		this.systemRequiredCheck(table, input);
		const values: Record<string, StoredValue> = { ...previous.values, ...input };
		values.modifiedon = toSecond(options.at ?? this.clock.monotonicNow());
		values.modifiedby = { id: options.asUser ?? ctx.caller.userId, table: 'systemuser' };
		this.finish(table, values, previous, previous.id);
		this.checkKeys(table, values, previous.id);
		const version = this.store.nextVersion();
		values.versionnumber = version;
		const row: Row = { id: previous.id, table: table.logicalName, values, version };
		this.store.replace(previous, row);
		return row;
	}

	remove(table: TableDef, row: Row, ctx: OpContext): void {
		this.checkPrivilege(ctx.caller, 'Delete', table);
		this.store.remove(row, true, ctx.caller.userId);
		// A service endpoint's steps go with it (relationship serviceendpoint_sdkmessageprocessingstep: Cascade).
		if (table.logicalName === 'serviceendpoint') {
			for (const step of [...this.store.rows('sdkmessageprocessingstep').values()]) {
				const handler = step.values.eventhandler;
				if (isLookupValue(handler) && handler.id === row.id) this.store.remove(step, true, ctx.caller.userId);
			}
		}
		// Notes follow their parent (cascade delete), as Dataverse does for annotations.
		if (table.logicalName !== 'annotation') {
			for (const note of [...this.store.rows('annotation').values()]) {
				const obj = note.values.objectid;
				if (isLookupValue(obj) && obj.id === row.id) this.store.remove(note);
			}
		}
		// Lookups pointing at the deleted row are cleared (RemoveLink), a versioned change of the referencing rows.
		for (const other of this.schema.tables) {
			for (const col of other.columns.values()) {
				if (!isLookupType(col.type) || !col.targets?.includes(table.logicalName) || col.computed) continue;
				if (other.logicalName === 'annotation' && col.logicalName === 'objectid') continue;
				for (const r of [...this.store.rows(other.logicalName).values()]) {
					const v = r.values[col.logicalName];
					if (isLookupValue(v) && v.id === row.id) {
						const values = { ...r.values, [col.logicalName]: null };
						if (col.logicalName === 'ownerid') continue;
						const version = this.store.nextVersion();
						values.versionnumber = version;
						this.store.replace(r, { ...r, values, version });
					}
				}
			}
		}
	}

	/**
	 * Writes values the platform sets itself (merge flags, re-parented lookups, state), bypassing the body rules that
	 * make those columns read-only for clients. Like any write it stamps modifiedon/modifiedby and takes a new row
	 * version, so the row shows up in change tracking.
	 */
	private platformWrite(table: TableDef, id: string, changes: Record<string, StoredValue>, ctx: OpContext): Row {
		const previous = this.store.get(table.logicalName, id)!;
		const values: Record<string, StoredValue> = { ...previous.values, ...changes };
		values.modifiedon = toSecond(this.clock.monotonicNow());
		values.modifiedby = { id: ctx.caller.userId, table: 'systemuser' };
		this.finish(table, values, previous, previous.id);
		const version = this.store.nextVersion();
		values.versionnumber = version;
		const row: Row = { id: previous.id, table: table.logicalName, values, version };
		this.store.replace(previous, row);
		return row;
	}

	// -------------------------------------------------------------------------------------------------------------
	// Messages: Merge and QualifyLead

	/**
	 * Merge (MergeRequest / the unbound Merge action): the target gets UpdateContent, every record related to the
	 * subordinate through a relationship whose CascadeConfiguration.Merge is Cascade is re-parented to the target, and
	 * the subordinate is deactivated with `merged` = true and `masterid` = the target. All or nothing.
	 */
	merge(table: TableDef, input: MergeInput, ctx: OpContext): MergeResult {
		const states = MERGED_STATE[table.logicalName];
		if (!states) throw errors.invalidArgument(`The Merge message is not supported for entity '${table.logicalName}'. Only account, contact, lead and incident records can be merged.`);
		this.checkPrivilege(ctx.caller, 'Read', table);
		this.checkPrivilege(ctx.caller, 'Write', table);
		const targetId = input.targetId.toLowerCase();
		const subordinateId = input.subordinateId.toLowerCase();
		if (targetId === subordinateId) throw errors.mergeEntitiesIdentical();
		const target = this.store.get(table.logicalName, targetId);
		if (!target) throw errors.recordNotFound(table.logicalName, targetId);
		const subordinate = this.store.get(table.logicalName, subordinateId);
		if (!subordinate) throw errors.recordNotFound(table.logicalName, subordinateId);
		if (target.values.statecode !== 0 || subordinate.values.statecode !== 0) throw errors.mergeEntityNotActive();
		return this.store.transaction(() => {
			const updated = this.update(table, target, input.updateContent ?? {}, ctx);
			if (input.performParentingChecks) {
				for (const column of PARENT_COLUMNS[table.logicalName]) {
					const mine = updated.values[column];
					const theirs = subordinate.values[column];
					if (isLookupValue(mine) && isLookupValue(theirs) && mine.id !== theirs.id) throw errors.mergeDifferentlyParented();
				}
			}
			const reparented = this.reparent(table, subordinate.id, updated.id, ctx);
			const [statecode, statuscode] = states;
			const deactivated = this.platformWrite(
				table,
				subordinate.id,
				{ statecode, statuscode, merged: true, masterid: { id: updated.id, table: table.logicalName } },
				ctx,
			);
			return { target: this.store.get(table.logicalName, updated.id)!, subordinate: deactivated, reparented };
		});
	}

	/** Moves every lookup that points at `fromId` to `toId`, except the relationships that don't cascade on merge. */
	private reparent(table: TableDef, fromId: string, toId: string, ctx: OpContext): Row[] {
		const moves: Array<{ table: TableDef; row: Row; column: string }> = [];
		for (const other of this.schema.tables) {
			for (const col of other.columns.values()) {
				if (!isLookupType(col.type) || col.computed || !col.targets?.includes(table.logicalName)) continue;
				if (NO_MERGE_CASCADE.has(col.logicalName)) continue;
				for (const row of this.store.rows(other.logicalName).values()) {
					const v = row.values[col.logicalName];
					if (!isLookupValue(v) || v.table !== table.logicalName || v.id !== fromId || row.id === fromId) continue;
					// The target itself a child of the subordinate (e.g. its parent account): it would become its own parent.
					if (other === table && row.id === toId) throw errors.mergeCyclicalParenting();
					moves.push({ table: other, row, column: col.logicalName });
				}
			}
		}
		const moved = new Map<string, Row>();
		for (const { table: t, row, column } of moves) {
			moved.set(`${t.logicalName}:${row.id}`, this.platformWrite(t, row.id, { [column]: { id: toId, table: table.logicalName } }, ctx));
		}
		return [...moved.values()];
	}

	/**
	 * QualifyLead (QualifyLeadRequest / the lead-bound QualifyLead action): creates the requested account, contact and
	 * opportunity from the lead with the documented field mappings, each with `originatingleadid` = the lead, then
	 * sets the lead to Qualified with the given status. Returns the created rows (account, contact, opportunity).
	 */
	qualifyLead(lead: Row, input: QualifyLeadInput, ctx: OpContext): Row[] {
		const leadTable = this.schema.table('lead')!;
		this.checkPrivilege(ctx.caller, 'Read', leadTable);
		this.checkPrivilege(ctx.caller, 'Write', leadTable);
		if (lead.values.statecode !== 0) throw errors.leadAlreadyClosed();
		const status = leadTable.columns.get('statuscode')!.options!.find((o) => o.value === input.status);
		if (!status || status.state !== QUALIFIED_STATE) throw errors.invalidStatus(input.status, 'LeadState.Qualified', 'lead', lead.id);
		const v = lead.values;
		const bind = (ref: LookupValue) => `/${this.schema.table(ref.table)!.entitySetName}(${ref.id})`;
		const mapped = (target: TableDef, map: Array<[string, string]>): Record<string, unknown> => {
			const body: Record<string, unknown> = { 'originatingleadid@odata.bind': `/leads(${lead.id})` };
			for (const [from, to] of map) {
				const value = v[from];
				if (value === null || value === undefined || !leadTable.columns.has(from) || !target.columns.has(to)) continue;
				if (isLookupValue(value)) body[`${to}@odata.bind`] = bind(value);
				else body[to] = value;
			}
			return body;
		};
		return this.store.transaction(() => {
			const created: Row[] = [];
			let account: Row | undefined;
			let contact: Row | undefined;
			if (input.createAccount) {
				const t = this.schema.table('account')!;
				account = this.create(t, mapped(t, LEAD_TO_ACCOUNT), ctx);
				created.push(account);
			}
			if (input.createContact) {
				const t = this.schema.table('contact')!;
				const body = mapped(t, LEAD_TO_CONTACT);
				if (account) body['parentcustomerid_account@odata.bind'] = `/accounts(${account.id})`;
				contact = this.create(t, body, ctx);
				created.push(contact);
			}
			if (input.createOpportunity) {
				const t = this.schema.table('opportunity')!;
				const body = mapped(t, LEAD_TO_OPPORTUNITY);
				if (!body['parentaccountid@odata.bind'] && account) body['parentaccountid@odata.bind'] = `/accounts(${account.id})`;
				if (!body['parentcontactid@odata.bind'] && contact) body['parentcontactid@odata.bind'] = `/contacts(${contact.id})`;
				const customer = input.opportunityCustomer ?? (account ? { id: account.id, table: 'account' } : contact ? { id: contact.id, table: 'contact' } : undefined);
				if (customer) body[`customerid_${customer.table}@odata.bind`] = bind(customer);
				if (input.opportunityCurrency) body['transactioncurrencyid@odata.bind'] = bind(input.opportunityCurrency);
				created.push(this.create(t, body, ctx));
			}
			this.update(leadTable, this.store.get('lead', lead.id)!, { statecode: QUALIFIED_STATE, statuscode: input.status }, ctx);
			return created;
		});
	}

	// -------------------------------------------------------------------------------------------------------------
	// Reads

	/** Display name of a referenced record, for lookup FormattedValue annotations. */
	lookupName(ref: { id: string; table: string }): string | undefined {
		const t = this.schema.table(ref.table);
		if (!t) return ref.table === 'businessunit' ? 'Sandbox' : undefined;
		const row = this.store.get(ref.table, ref.id);
		const v = row?.values[t.primaryNameAttribute];
		return typeof v === 'string' ? v : undefined;
	}

	private currencySymbol(row: Row): string {
		const ref = row.values.transactioncurrencyid;
		if (!isLookupValue(ref)) return '$';
		const c = this.store.get('transactioncurrency', ref.id);
		return (c?.values.currencysymbol as string | undefined) ?? '$';
	}

	/** Validates $select and returns the columns to output, in output order. */
	projection(table: TableDef, select: string[] | undefined): ColumnDef[] {
		const readable = [...table.columns.values()].filter((c) => c.validForRead);
		if (!select) return readable;
		const byProp = new Map(readable.map((c) => [propertyName(c), c]));
		const cols: ColumnDef[] = [];
		for (const name of select) {
			const col = byProp.get(name);
			if (!col) throw errors.propertyNotFound(name, table.logicalName);
			if (!cols.includes(col)) cols.push(col);
		}
		const pk = table.columns.get(table.primaryIdAttribute)!;
		if (!cols.includes(pk)) cols.push(pk);
		return cols;
	}

	validateExpand(table: TableDef, items: ExpandItem[]): void {
		for (const item of items) {
			const single = this.schema.navigation(table).get(item.nav);
			const coll = this.schema.collections(table).get(item.nav);
			if (!single && !coll) throw errors.propertyNotFound(item.nav, table.logicalName);
			const target = single ? this.schema.table(single.target)! : coll!.table;
			this.projection(target, item.select);
			if (item.expand) this.validateExpand(target, item.expand);
		}
	}

	serialize(table: TableDef, row: Row, select: string[] | undefined, prefs: Preferences, ctx: OpContext, expand?: ExpandItem[]): Record<string, unknown> {
		const cols = this.projection(table, select);
		const out: Record<string, unknown> = { '@odata.etag': `W/"${row.version}"` };
		const fv = wantsAnnotation(prefs, FORMATTED);
		const lln = wantsAnnotation(prefs, LOOKUP_LOGICAL_NAME);
		const anp = wantsAnnotation(prefs, ASSOCIATED_NAV);
		for (const col of cols) {
			const prop = propertyName(col);
			const value = row.values[col.logicalName];
			if (isLookupType(col.type) && isLookupValue(value)) {
				if (fv) {
					const name = this.lookupName(value);
					if (name !== undefined) out[`${prop}@${FORMATTED}`] = name;
				}
				if (anp) {
					const multi = (col.targets?.length ?? 1) > 1;
					out[`${prop}@${ASSOCIATED_NAV}`] = multi ? `${col.logicalName}_${value.table}` : col.logicalName;
				}
				if (lln) out[`${prop}@${LOOKUP_LOGICAL_NAME}`] = value.table;
			} else if (fv) {
				const f = formatted(col, value, (v) => this.lookupName(v), col.type === 'Money' ? this.currencySymbol(row) : '$');
				if (f !== undefined) out[`${prop}@${FORMATTED}`] = f;
			}
			out[prop] = toJson(col, value);
		}
		for (const item of expand ?? []) out[item.nav] = this.expandValue(table, row, item, prefs, ctx);
		return out;
	}

	private expandValue(table: TableDef, row: Row, item: ExpandItem, prefs: Preferences, ctx: OpContext): unknown {
		const single = this.schema.navigation(table).get(item.nav);
		if (single) {
			const target = this.schema.table(single.target)!;
			this.checkPrivilege(ctx.caller, 'Read', target);
			const ref = row.values[single.column.logicalName];
			if (!isLookupValue(ref) || ref.table !== target.logicalName) return null;
			const related = this.store.get(target.logicalName, ref.id);
			return related ? this.serialize(target, related, item.select, prefs, ctx, item.expand) : null;
		}
		const coll = this.schema.collections(table).get(item.nav)!;
		this.checkPrivilege(ctx.caller, 'Read', coll.table);
		const column = coll.column.logicalName;
		ctx.groups = ctx.groups ?? new Map();
		const groupKey = `${coll.table.logicalName}.${column}`;
		let grouped = ctx.groups.get(groupKey);
		if (!grouped) {
			grouped = new Map();
			for (const r of this.store.rows(coll.table.logicalName).values()) {
				const v = r.values[column];
				if (!isLookupValue(v) || v.table !== table.logicalName) continue;
				const list = grouped.get(v.id) ?? [];
				list.push(r);
				grouped.set(v.id, list);
			}
			ctx.groups.set(groupKey, grouped);
		}
		let children = grouped.get(row.id) ?? [];
		if (item.filter) {
			const predicate = this.compile(coll.table, item.filter, {}, ctx);
			children = children.filter(predicate);
		}
		children = this.sort(coll.table, children, item.orderby ?? undefined, ctx);
		if (item.top !== undefined) children = children.slice(0, item.top);
		return children.map((c) => this.serialize(coll.table, c, item.select, prefs, ctx, item.expand));
	}

	// -------------------------------------------------------------------------------------------------------------
	// Queries

	/** Comparable value of a column for filtering and ordering. */
	private comparable(col: ColumnDef, v: StoredValue | undefined): Value {
		if (v === undefined || v === null) return null;
		if (isLookupValue(v)) return v.id;
		return v as Value;
	}

	binder(table: TableDef, ctx: OpContext): FilterBinder {
		const bindPath = (t: TableDef, path: string[]): BoundProperty => {
			const [head, ...rest] = path;
			if (rest.length === 0) {
				const col = [...t.columns.values()].find((c) => c.validForRead && propertyName(c) === head);
				if (!col) throw errors.propertyNotFound(head, t.logicalName);
				return {
					edm: edmType(col),
					multi: col.multiSelect,
					get: (row) => this.comparable(col, (row as Row).values[col.logicalName]),
				};
			}
			const nav = this.schema.navigation(t).get(head);
			if (!nav) throw errors.propertyNotFound(head, t.logicalName);
			const target = this.schema.table(nav.target)!;
			const inner = bindPath(target, rest);
			return {
				edm: inner.edm,
				multi: inner.multi,
				get: (row) => {
					const ref = (row as Row).values[nav.column.logicalName];
					if (!isLookupValue(ref) || ref.table !== target.logicalName) return null;
					const related = this.store.get(target.logicalName, ref.id);
					return related ? inner.get(related) : null;
				},
			};
		};
		return {
			property: (path) => bindPath(table, path),
			propertyByName: (name) => {
				const col = table.columns.get(name);
				if (col && col.validForRead) return bindPath(table, [propertyName(col)]);
				return bindPath(table, [name]);
			},
			caseInsensitive: true,
			userId: ctx.caller.userId,
			now: () => this.clock.now(),
			strictTypes: true,
		};
	}

	compile(table: TableDef, filter: string, aliases: Record<string, string>, ctx: OpContext): Predicate {
		const ast = parseFilter(filter, aliases);
		return compileFilter(ast, this.binder(table, ctx), filter) as (row: unknown) => boolean;
	}

	/** Sort keys: the $orderby values, then the primary key in SQL Server order as the tie breaker. */
	private sortKeys(table: TableDef, orderby: string | undefined, ctx: OpContext): { keys: (row: Row) => unknown[]; desc: boolean[] } {
		const items = orderby ? parseOrderBy(orderby) : [];
		const binder = this.binder(table, ctx);
		const getters = items.map((item) => {
			const p = binder.property(item.property.split('/'));
			if (p.multi) throw errors.odata(`The $orderby query option is not supported on the multi-select choice column '${item.property}'.`);
			if (p.edm === 'Edm.Guid') return (row: Row) => {
				const v = p.get(row);
				return typeof v === 'string' ? guidSortKey(v) : v;
			};
			if (p.edm === 'Edm.String') return (row: Row) => {
				const v = p.get(row);
				return typeof v === 'string' ? v.toLowerCase() : v;
			};
			return (row: Row) => p.get(row);
		});
		return {
			keys: (row) => [...getters.map((g) => g(row)), guidSortKey(row.id)],
			desc: [...items.map((i) => i.desc), false],
		};
	}

	sort(table: TableDef, rows: Row[], orderby: string | undefined, ctx: OpContext): Row[] {
		const { keys, desc } = this.sortKeys(table, orderby, ctx);
		const decorated = rows.map((row) => ({ row, key: keys(row) }));
		decorated.sort((a, b) => compareKeys(a.key, b.key, desc));
		return decorated.map((d) => d.row);
	}

	/** Runs a collection query with keyset paging. */
	query(table: TableDef, input: QueryInput, ctx: OpContext): QueryResult {
		const select = parseSelect(input.select);
		this.projection(table, select);
		const expand = input.expand ? parseExpand(input.expand) : undefined;
		if (expand) this.validateExpand(table, expand);
		const state: PageState = input.skiptoken ? decodeSkipToken(input.skiptoken) : { page: 1, returned: 0 };
		let rows = [...this.store.rows(table.logicalName).values()];
		if (input.filter) {
			const predicate = this.compile(table, input.filter, input.aliases, ctx);
			rows = rows.filter(predicate);
		}
		const total = rows.length;
		const { keys, desc } = this.sortKeys(table, input.orderby ?? undefined, ctx);
		const decorated = rows.map((row) => ({ row, key: keys(row) }));
		decorated.sort((a, b) => compareKeys(a.key, b.key, desc));
		let start = 0;
		if (state.last) {
			// First row strictly after the cursor: stable under concurrent inserts and deletes.
			let lo = 0;
			let hi = decorated.length;
			while (lo < hi) {
				const mid = (lo + hi) >> 1;
				if (compareKeys(decorated[mid].key, state.last, desc) <= 0) lo = mid + 1;
				else hi = mid;
			}
			start = lo;
		}
		const maxPage = ctx.prefs.maxPageSize ? Math.min(ctx.prefs.maxPageSize, MAX_PAGE_SIZE) : MAX_PAGE_SIZE;
		let pageSize = maxPage;
		let limit = Infinity;
		if (input.top !== undefined && !ctx.prefs.maxPageSize) {
			limit = input.top - state.returned;
			pageSize = Math.min(pageSize, Math.max(0, limit));
		}
		const page = decorated.slice(start, start + pageSize);
		const more = start + pageSize < decorated.length && state.returned + page.length < limit;
		const last = page[page.length - 1];
		const result: QueryResult = {
			rows: page.map((d) => d.row),
			total,
			select,
			expand,
			count: input.count ? Math.min(total, COUNT_LIMIT) : undefined,
		};
		if (more && last) {
			result.next = {
				page: state.page + 1,
				last: last.key,
				lastId: last.row.id,
				firstId: page[0].row.id,
				returned: state.returned + page.length,
			};
		}
		return result;
	}

	/** The primary key plus alternate-key parts of a row, as the `contacts(<id>)` path. */
	entityPath(table: TableDef, row: Row): string {
		return `${table.entitySetName}(${row.id})`;
	}

	keyStringOf(values: StoredValue[]): string {
		return keyString(values);
	}
}

/** Compares sort keys; nulls sort first ascending (SQL Server). */
export function compareKeys(a: unknown[], b: unknown[], desc: boolean[]): number {
	for (let i = 0; i < a.length; i++) {
		const x = a[i];
		const y = b[i];
		let d = 0;
		if (x === y) d = 0;
		else if (x === null || x === undefined) d = -1;
		else if (y === null || y === undefined) d = 1;
		else if (typeof x === 'number' && typeof y === 'number') d = x - y;
		else d = String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
		if (d !== 0) return desc[i] ? -d : d;
	}
	return 0;
}
