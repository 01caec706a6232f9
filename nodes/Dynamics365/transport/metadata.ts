/**
 * Live table metadata from Dataverse (EntityDefinitions): entity sets, columns with their types and required levels,
 * alternate keys, lookup targets and navigation properties, option-set labels. Cached for a few minutes per
 * credential and environment (module-level, shared by executions of this n8n process), so a run does not re-read it
 * per item. The cache key is the client's `identity` (environment URL, credential, tenant, client id and a digest of
 * the secret): a credential never sees what another one loaded, so a wrong secret fails at once instead of showing
 * another credential's columns.
 */
export interface OptionInfo {
	value: number;
	label: string;
	/** Status options: the state they belong to. */
	state?: number;
}

export type RequiredLevel = 'None' | 'SystemRequired' | 'ApplicationRequired' | 'Recommended';

export interface ColumnInfo {
	logicalName: string;
	schemaName: string;
	displayName: string;
	/** AttributeType: String, Lookup, Picklist, ... */
	type: string;
	/** AttributeTypeName/Value: StringType, MultiSelectPicklistType, ... */
	typeName: string;
	requiredLevel: RequiredLevel;
	validForCreate: boolean;
	validForUpdate: boolean;
	validForRead: boolean;
	isPrimaryId: boolean;
	isPrimaryName: boolean;
	isCustom: boolean;
	/** Set on columns derived from another one (e.g. `parentcustomeridname`), which are read-only. */
	attributeOf?: string | null;
	/** Lookups: the tables they point to. */
	targets?: string[];
	/** Lookups: navigation property per target table, for `<nav>@odata.bind`. */
	navigation?: Record<string, string>;
	options?: OptionInfo[];
	trueLabel?: string;
	falseLabel?: string;
	dateOnly?: boolean;
	multiSelect?: boolean;
	/** Money and decimal columns: decimal places Dataverse keeps. */
	precision?: number;
}

export interface TableSummary {
	logicalName: string;
	entitySetName: string;
	displayName: string;
	primaryIdAttribute: string;
	primaryNameAttribute: string;
	changeTracking: boolean;
}

export interface AlternateKey {
	logicalName: string;
	displayName: string;
	keyAttributes: string[];
}

export interface TableInfo extends TableSummary {
	columns: Map<string, ColumnInfo>;
	keys: AlternateKey[];
}

/** A GET relative to the service root that returns parsed JSON. */
export type MetadataGet = (path: string, query?: Record<string, string>) => Promise<Record<string, unknown>>;

/** The outcome of one of several GETs sent together: its JSON, or its failure (the transport's error and status). */
export type MetadataPart = { ok: true; body: Record<string, unknown> } | { ok: false; status: number; error: unknown };

/** Several GETs in one request (`$batch`), each with its own outcome, in order. */
export type MetadataGetAll = (requests: Array<{ path: string; query?: Record<string, string> }>) => Promise<MetadataPart[]>;

const TTL_MS = 5 * 60 * 1000;

interface CacheEntry<T> {
	at: number;
	value: Promise<T>;
}

const tableCache = new Map<string, CacheEntry<TableInfo>>();
const listCache = new Map<string, CacheEntry<TableSummary[]>>();

/** Forgets cached metadata (all, or every credential's of one environment URL). Tests that change metadata call it. */
export function clearMetadataCache(environment?: string): void {
	for (const cache of [tableCache, listCache] as Array<Map<string, unknown>>) {
		for (const key of [...cache.keys()]) if (!environment || key.startsWith(`${environment}|`)) cache.delete(key);
	}
}

function cached<T>(cache: Map<string, CacheEntry<T>>, key: string, load: () => Promise<T>): Promise<T> {
	const hit = cache.get(key);
	if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
	const value = load();
	cache.set(key, { at: Date.now(), value });
	value.catch(() => cache.delete(key));
	return value;
}

type Json = Record<string, unknown>;

function labelOf(label: unknown, fallback: string): string {
	const l = label as { UserLocalizedLabel?: { Label?: string } | null; LocalizedLabels?: Array<{ Label?: string }> } | undefined;
	return l?.UserLocalizedLabel?.Label || l?.LocalizedLabels?.[0]?.Label || fallback;
}

function summaryOf(entity: Json): TableSummary {
	const logicalName = String(entity.LogicalName);
	return {
		logicalName,
		entitySetName: String(entity.EntitySetName ?? ''),
		displayName: labelOf(entity.DisplayName, logicalName),
		primaryIdAttribute: String(entity.PrimaryIdAttribute ?? `${logicalName}id`),
		primaryNameAttribute: String(entity.PrimaryNameAttribute ?? ''),
		changeTracking: entity.ChangeTrackingEnabled === true,
	};
}

const ENTITY_SELECT = 'LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,DisplayName,ChangeTrackingEnabled';
const ATTRIBUTE_SELECT =
	'LogicalName,SchemaName,AttributeType,AttributeTypeName,DisplayName,RequiredLevel,IsValidForCreate,IsValidForUpdate,IsValidForRead,IsPrimaryId,IsPrimaryName,IsCustomAttribute,AttributeOf';

/**
 * Every table of the environment (for "Other Table" pickers and entity-set resolution). `cacheKey` names the
 * credential's view of the environment (`DataverseClient.identity`, which starts with the environment URL).
 */
export async function listTables(cacheKey: string, get: MetadataGet): Promise<TableSummary[]> {
	return await cached(listCache, `${cacheKey}|tables`, async () => {
		const response = await get('EntityDefinitions', { $select: ENTITY_SELECT });
		const value = (response.value as Json[]) ?? [];
		return value.map(summaryOf).filter((t) => t.entitySetName);
	});
}

/**
 * One table's metadata, by logical name or entity set name; `cacheKey` as for {@link listTables}. Its eleven reads go
 * in one `$batch` (`getAll`).
 */
export async function getTable(cacheKey: string, get: MetadataGet, getAll: MetadataGetAll, name: string): Promise<TableInfo> {
	const trimmed = name.trim();
	if (!/^[a-z0-9_]+$/i.test(trimmed)) throw new Error(`'${name}' is not a table name`);
	let logicalName = trimmed;
	if (!Object.values(RESOURCE_TABLES).includes(trimmed)) {
		// Any other table may be given by logical name (new_project) or entity set name (new_projects).
		const tables = await listTables(cacheKey, get);
		const exact = tables.find((t) => t.logicalName === trimmed) ?? tables.find((t) => t.entitySetName === trimmed);
		const loose =
			tables.find((t) => t.logicalName === trimmed.toLowerCase()) ??
			tables.find((t) => t.entitySetName.toLowerCase() === trimmed.toLowerCase());
		logicalName = (exact ?? loose)?.logicalName ?? trimmed.toLowerCase();
	}
	return await cached(tableCache, `${cacheKey}|${logicalName}`, async () => await loadTable(getAll, logicalName));
}

async function loadTable(getAll: MetadataGetAll, logicalName: string): Promise<TableInfo> {
	const base = `EntityDefinitions(LogicalName='${logicalName}')`;
	const optionSet = (cast: string) => ({
		path: `${base}/Attributes/Microsoft.Dynamics.CRM.${cast}`,
		query: { $select: 'LogicalName', $expand: cast === 'BooleanAttributeMetadata' ? 'OptionSet($select=TrueOption,FalseOption)' : 'OptionSet($select=Options)' },
	});
	const parts = await getAll([
		{ path: base, query: { $select: ENTITY_SELECT, $expand: `Attributes($select=${ATTRIBUTE_SELECT}),Keys($select=LogicalName,KeyAttributes,DisplayName)` } },
		{ path: `${base}/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata`, query: { $select: 'LogicalName,Targets' } },
		optionSet('PicklistAttributeMetadata'),
		optionSet('StateAttributeMetadata'),
		optionSet('StatusAttributeMetadata'),
		optionSet('MultiSelectPicklistAttributeMetadata'),
		optionSet('BooleanAttributeMetadata'),
		{ path: `${base}/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata`, query: { $select: 'LogicalName,Format,DateTimeBehavior' } },
		{ path: `${base}/ManyToOneRelationships`, query: { $select: 'ReferencingAttribute,ReferencingEntityNavigationPropertyName,ReferencedEntity' } },
		{ path: `${base}/Attributes/Microsoft.Dynamics.CRM.MoneyAttributeMetadata`, query: { $select: 'LogicalName,Precision' } },
		{ path: `${base}/Attributes/Microsoft.Dynamics.CRM.DecimalAttributeMetadata`, query: { $select: 'LogicalName,Precision' } },
	]);
	// The table itself must load. A sub-query the environment does not support (a cast or navigation it does not
	// know: 400 / 404) leaves its part out; any other failure (throttling or server errors left after the retries)
	// fails the whole load, so a table without its option labels, lookup targets or date formats is never cached.
	const [first, ...rest] = parts;
	if (!first.ok) throw first.error;
	const entity = first.body;
	const [lookups, picklists, states, statuses, multi, booleans, dates, relationships, money, decimals] = rest.map((part): Json[] => {
		if (part.ok) return (part.body.value as Json[]) ?? [];
		if (part.status === 400 || part.status === 404) return [];
		throw part.error;
	});

	const summary = summaryOf(entity);
	const columns = new Map<string, ColumnInfo>();
	for (const a of (entity.Attributes as Json[]) ?? []) {
		const name = String(a.LogicalName);
		columns.set(name, {
			logicalName: name,
			schemaName: String(a.SchemaName ?? name),
			displayName: labelOf(a.DisplayName, name),
			type: String(a.AttributeType ?? 'String'),
			typeName: String((a.AttributeTypeName as Json | undefined)?.Value ?? ''),
			requiredLevel: String((a.RequiredLevel as Json | undefined)?.Value ?? 'None') as RequiredLevel,
			validForCreate: a.IsValidForCreate !== false,
			validForUpdate: a.IsValidForUpdate !== false,
			validForRead: a.IsValidForRead !== false,
			isPrimaryId: a.IsPrimaryId === true,
			isPrimaryName: a.IsPrimaryName === true,
			isCustom: a.IsCustomAttribute === true,
			attributeOf: (a.AttributeOf as string | null | undefined) ?? null,
			multiSelect: String((a.AttributeTypeName as Json | undefined)?.Value ?? '') === 'MultiSelectPicklistType',
		});
	}
	for (const l of lookups) {
		const column = columns.get(String(l.LogicalName));
		if (column) column.targets = ((l.Targets as string[]) ?? []).map(String);
	}
	const options = (rows: Json[]) => {
		for (const row of rows) {
			const column = columns.get(String(row.LogicalName));
			const set = row.OptionSet as Json | null | undefined;
			if (!column || !set) continue;
			if (set.TrueOption || set.FalseOption) {
				column.trueLabel = labelOf((set.TrueOption as Json | undefined)?.Label, 'Yes');
				column.falseLabel = labelOf((set.FalseOption as Json | undefined)?.Label, 'No');
				column.options = [
					{ value: 1, label: column.trueLabel },
					{ value: 0, label: column.falseLabel },
				];
				continue;
			}
			column.options = ((set.Options as Json[]) ?? []).map((o) => ({
				value: Number(o.Value),
				label: labelOf(o.Label, String(o.Value)),
				...(o.State !== undefined && o.State !== null ? { state: Number(o.State) } : {}),
			}));
		}
	};
	options(picklists);
	options(states);
	options(statuses);
	options(multi);
	options(booleans);
	for (const d of dates) {
		const column = columns.get(String(d.LogicalName));
		const behavior = (d.DateTimeBehavior as Json | undefined)?.Value;
		if (column) column.dateOnly = d.Format === 'DateOnly' || behavior === 'DateOnly';
	}
	for (const row of [...money, ...decimals]) {
		const column = columns.get(String(row.LogicalName));
		if (column && typeof row.Precision === 'number') column.precision = row.Precision;
	}
	const navigation = new Map<string, Record<string, string>>();
	for (const r of relationships) {
		const attribute = String(r.ReferencingAttribute ?? '');
		const nav = r.ReferencingEntityNavigationPropertyName;
		if (!attribute || typeof nav !== 'string') continue;
		const entry = navigation.get(attribute) ?? {};
		entry[String(r.ReferencedEntity)] = nav;
		navigation.set(attribute, entry);
	}
	for (const column of columns.values()) {
		if (!column.targets) continue;
		const known = navigation.get(column.logicalName) ?? {};
		const nav: Record<string, string> = {};
		for (const target of column.targets) {
			nav[target] =
				known[target] ??
				(column.type === 'Owner' || column.targets.length === 1
					? column.isCustom
						? column.schemaName
						: column.logicalName
					: `${column.logicalName}_${target}`);
		}
		column.navigation = nav;
	}
	const keys = ((entity.Keys as Json[]) ?? []).map((k) => ({
		logicalName: String(k.LogicalName),
		displayName: labelOf(k.DisplayName, String(k.LogicalName)),
		keyAttributes: ((k.KeyAttributes as string[]) ?? []).map(String),
	}));
	return { ...summary, columns, keys };
}

/** Columns a user can write on create (or update), without system and derived columns. */
export function writableColumns(table: TableInfo, forUpdate: boolean): ColumnInfo[] {
	return [...table.columns.values()].filter(
		(c) =>
			(forUpdate ? c.validForUpdate : c.validForCreate) &&
			!c.attributeOf &&
			(c.type !== 'Virtual' || c.multiSelect) &&
			c.type !== 'EntityName' &&
			c.logicalName !== 'versionnumber',
	);
}

export function readableColumns(table: TableInfo): ColumnInfo[] {
	return [...table.columns.values()].filter((c) => c.validForRead && !c.attributeOf && (c.type !== 'Virtual' || c.multiSelect));
}

/** The table name of a sales entity resource. */
export const RESOURCE_TABLES: Record<string, string> = {
	lead: 'lead',
	contact: 'contact',
	account: 'account',
	opportunity: 'opportunity',
};
