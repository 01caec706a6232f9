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

/** One table's metadata, by logical name or entity set name; `cacheKey` as for {@link listTables}. */
export async function getTable(cacheKey: string, get: MetadataGet, name: string): Promise<TableInfo> {
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
	return await cached(tableCache, `${cacheKey}|${logicalName}`, async () => await loadTable(get, logicalName));
}

/** Whether a metadata request failed because Dataverse does not support it here (400 or 404), not transiently. */
function notSupported(error: unknown): boolean {
	const e = error as { httpCode?: unknown; status?: unknown } | undefined;
	const status = Number(e?.httpCode ?? e?.status);
	return status === 400 || status === 404;
}

async function loadTable(get: MetadataGet, logicalName: string): Promise<TableInfo> {
	const base = `EntityDefinitions(LogicalName='${logicalName}')`;
	// A sub-query the environment does not support (a cast or navigation it does not know: 400 / 404) leaves its part
	// out. Any other failure (throttling or server errors left after the retries) fails the whole load, so a table
	// without its option labels, lookup targets or date formats is never cached.
	const optional = async (path: string, query: Record<string, string>): Promise<Json[]> => {
		let failure: unknown;
		try {
			return ((await get(path, query)).value as Json[]) ?? [];
		} catch (error) {
			if (notSupported(error)) return [];
			failure = error;
		}
		// Already a NodeApiError from the transport, with its status and Dataverse's message.
		throw failure;
	};
	const optionSet = (cast: string) =>
		optional(`${base}/Attributes/Microsoft.Dynamics.CRM.${cast}`, {
			$select: 'LogicalName',
			$expand: cast === 'BooleanAttributeMetadata' ? 'OptionSet($select=TrueOption,FalseOption)' : 'OptionSet($select=Options)',
		});
	const [entity, lookups, picklists, states, statuses, multi, booleans, dates, relationships, money, decimals] = await Promise.all([
		get(base, { $select: ENTITY_SELECT, $expand: `Attributes($select=${ATTRIBUTE_SELECT}),Keys($select=LogicalName,KeyAttributes,DisplayName)` }),
		optional(`${base}/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata`, { $select: 'LogicalName,Targets' }),
		optionSet('PicklistAttributeMetadata'),
		optionSet('StateAttributeMetadata'),
		optionSet('StatusAttributeMetadata'),
		optionSet('MultiSelectPicklistAttributeMetadata'),
		optionSet('BooleanAttributeMetadata'),
		optional(`${base}/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata`, { $select: 'LogicalName,Format,DateTimeBehavior' }),
		optional(`${base}/ManyToOneRelationships`, {
			$select: 'ReferencingAttribute,ReferencingEntityNavigationPropertyName,ReferencedEntity',
		}),
		optional(`${base}/Attributes/Microsoft.Dynamics.CRM.MoneyAttributeMetadata`, { $select: 'LogicalName,Precision' }),
		optional(`${base}/Attributes/Microsoft.Dynamics.CRM.DecimalAttributeMetadata`, { $select: 'LogicalName,Precision' }),
	]);

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
