/**
 * EntityDefinitions: table and column definitions (EntityMetadata, AttributeMetadata and its derived types, option
 * sets, alternate keys), rendered from metadata.ts with $select, $filter, $expand and type casts.
 */
import { errors } from './errors';
import type { Engine } from './engine';
import { stableGuid, type ColumnDef, type OptionDef, type TableDef } from './metadata';
import { compileFilter, parseFilter, type FilterBinder, type Value } from './odata/filter';
import { parseExpand, parseSelect, type ExpandItem } from './odata/query';

type Json = Record<string, unknown>;

export function label(text: string, seed: string): Json {
	if (!text) return { LocalizedLabels: [], UserLocalizedLabel: null };
	const l = { Label: text, LanguageCode: 1033, IsManaged: true, MetadataId: stableGuid(`label:${seed}`), HasChanged: null };
	return { LocalizedLabels: [l], UserLocalizedLabel: { ...l } };
}

function managed(value: boolean, name: string, canBeChanged = true): Json {
	return { Value: value, CanBeChanged: canBeChanged, ManagedPropertyLogicalName: name };
}

const CAST_TYPES: Record<string, (c: ColumnDef) => boolean> = {
	StringAttributeMetadata: (c) => c.type === 'String',
	MemoAttributeMetadata: (c) => c.type === 'Memo',
	IntegerAttributeMetadata: (c) => c.type === 'Integer',
	BigIntAttributeMetadata: (c) => c.type === 'BigInt',
	DecimalAttributeMetadata: (c) => c.type === 'Decimal',
	DoubleAttributeMetadata: (c) => c.type === 'Double',
	MoneyAttributeMetadata: (c) => c.type === 'Money',
	BooleanAttributeMetadata: (c) => c.type === 'Boolean',
	DateTimeAttributeMetadata: (c) => c.type === 'DateTime',
	LookupAttributeMetadata: (c) => c.type === 'Lookup' || c.type === 'Customer' || c.type === 'Owner',
	PicklistAttributeMetadata: (c) => c.type === 'Picklist',
	StateAttributeMetadata: (c) => c.type === 'State',
	StatusAttributeMetadata: (c) => c.type === 'Status',
	MultiSelectPicklistAttributeMetadata: (c) => c.type === 'Virtual' && c.multiSelect === true,
	UniqueIdentifierAttributeMetadata: (c) => c.type === 'Uniqueidentifier',
	EntityNameAttributeMetadata: (c) => c.type === 'EntityName',
};

export function attributeTypeName(col: ColumnDef): string {
	return Object.keys(CAST_TYPES).find((name) => CAST_TYPES[name](col)) ?? 'AttributeMetadata';
}

const BASE_ATTRIBUTE_PROPS = [
	'MetadataId',
	'LogicalName',
	'SchemaName',
	'EntityLogicalName',
	'AttributeType',
	'AttributeTypeName',
	'DisplayName',
	'Description',
	'RequiredLevel',
	'IsValidForCreate',
	'IsValidForUpdate',
	'IsValidForRead',
	'IsValidForForm',
	'IsValidForGrid',
	'IsPrimaryId',
	'IsPrimaryName',
	'IsCustomAttribute',
	'IsLogical',
	'IsManaged',
	'IsSecured',
	'IsValidODataAttribute',
	'IsFilterable',
	'IsSearchable',
	'IsRetrievable',
	'AttributeOf',
	'ColumnNumber',
	'SourceType',
	'IntroducedVersion',
	'IsAuditEnabled',
	'IsCustomizable',
	'IsRenameable',
	'HasChanged',
];

const TYPE_PROPS: Record<string, string[]> = {
	StringAttributeMetadata: ['MaxLength', 'Format', 'FormatName', 'DatabaseLength', 'IsLocalizable', 'ImeMode'],
	MemoAttributeMetadata: ['MaxLength', 'Format', 'FormatName', 'DatabaseLength', 'ImeMode'],
	IntegerAttributeMetadata: ['MinValue', 'MaxValue', 'Format'],
	BigIntAttributeMetadata: ['MinValue', 'MaxValue'],
	DecimalAttributeMetadata: ['MinValue', 'MaxValue', 'Precision', 'ImeMode'],
	DoubleAttributeMetadata: ['MinValue', 'MaxValue', 'Precision', 'ImeMode'],
	MoneyAttributeMetadata: ['MinValue', 'MaxValue', 'Precision', 'PrecisionSource', 'IsBaseCurrency', 'CalculationOf', 'ImeMode'],
	BooleanAttributeMetadata: ['DefaultValue'],
	DateTimeAttributeMetadata: ['Format', 'DateTimeBehavior', 'CanChangeDateTimeBehavior', 'MinSupportedValue', 'MaxSupportedValue', 'ImeMode'],
	LookupAttributeMetadata: ['Targets', 'Format'],
	PicklistAttributeMetadata: ['DefaultFormValue'],
	StateAttributeMetadata: ['DefaultFormValue'],
	StatusAttributeMetadata: ['DefaultFormValue'],
	MultiSelectPicklistAttributeMetadata: ['DefaultFormValue'],
	UniqueIdentifierAttributeMetadata: [],
	EntityNameAttributeMetadata: [],
};

const OPTION_SET_TYPES = new Set([
	'PicklistAttributeMetadata',
	'StateAttributeMetadata',
	'StatusAttributeMetadata',
	'MultiSelectPicklistAttributeMetadata',
	'BooleanAttributeMetadata',
]);

const ENTITY_PROPS = [
	'MetadataId',
	'LogicalName',
	'SchemaName',
	'EntitySetName',
	'LogicalCollectionName',
	'CollectionSchemaName',
	'PrimaryIdAttribute',
	'PrimaryNameAttribute',
	'PrimaryImageAttribute',
	'ObjectTypeCode',
	'OwnershipType',
	'TableType',
	'IsCustomEntity',
	'IsActivity',
	'IsManaged',
	'IsIntersect',
	'IsLogicalEntity',
	'IsValidForAdvancedFind',
	'ChangeTrackingEnabled',
	'CanChangeTrackingBeEnabled',
	'IsOptimisticConcurrencyEnabled',
	'HasNotes',
	'HasActivities',
	'DisplayName',
	'DisplayCollectionName',
	'Description',
	'IsAuditEnabled',
	'IsCustomizable',
	'CanCreateAttributes',
	'IntroducedVersion',
	'HasChanged',
];

export class MetadataApi {
	constructor(private readonly engine: Engine) {}

	private get schema() {
		return this.engine.schema;
	}

	private get context(): string {
		return `${this.engine.apiBase}/$metadata`;
	}

	entityJson(t: TableDef): Json {
		return {
			MetadataId: t.metadataId,
			LogicalName: t.logicalName,
			SchemaName: t.schemaName,
			EntitySetName: t.entitySetName,
			LogicalCollectionName: t.entitySetName,
			CollectionSchemaName: t.collectionSchemaName,
			PrimaryIdAttribute: t.primaryIdAttribute,
			PrimaryNameAttribute: t.primaryNameAttribute,
			PrimaryImageAttribute: null,
			ObjectTypeCode: t.objectTypeCode,
			OwnershipType: t.ownershipType,
			TableType: 'Standard',
			IsCustomEntity: t.isCustom,
			IsActivity: false,
			IsManaged: true,
			IsIntersect: false,
			IsLogicalEntity: false,
			IsValidForAdvancedFind: true,
			ChangeTrackingEnabled: this.engine.state.changeTracking.get(t.logicalName) ?? false,
			CanChangeTrackingBeEnabled: managed(t.canChangeTrackingBeEnabled, 'canchangetrackingbeenabled'),
			IsOptimisticConcurrencyEnabled: true,
			HasNotes: t.logicalName !== 'annotation' && !t.readOnly,
			HasActivities: !t.readOnly && t.logicalName !== 'annotation',
			DisplayName: label(t.displayName, `${t.logicalName}.displayname`),
			DisplayCollectionName: label(t.displayCollectionName, `${t.logicalName}.displaycollectionname`),
			Description: label('', ''),
			IsAuditEnabled: managed(false, 'canmodifyauditsettings'),
			IsCustomizable: managed(true, 'iscustomizable'),
			CanCreateAttributes: managed(true, 'cancreateattributes'),
			IntroducedVersion: '5.0.0.0',
			HasChanged: null,
		};
	}

	attributeJson(t: TableDef, col: ColumnDef, index: number): Json {
		const typeName = attributeTypeName(col);
		const base: Json = {
			'@odata.type': `#Microsoft.Dynamics.CRM.${typeName}`,
			MetadataId: col.metadataId,
			LogicalName: col.logicalName,
			SchemaName: col.schemaName,
			EntityLogicalName: t.logicalName,
			AttributeType: col.type,
			AttributeTypeName: { Value: col.typeName },
			DisplayName: label(col.displayName, `${t.logicalName}.${col.logicalName}`),
			Description: label('', ''),
			RequiredLevel: {
				Value: col.requiredLevel,
				CanBeChanged: col.requiredLevel !== 'SystemRequired',
				ManagedPropertyLogicalName: 'canmodifyrequirementlevelsettings',
			},
			IsValidForCreate: col.validForCreate,
			IsValidForUpdate: col.validForUpdate,
			IsValidForRead: col.validForRead,
			IsValidForForm: true,
			IsValidForGrid: true,
			IsPrimaryId: col.isPrimaryId === true,
			IsPrimaryName: col.isPrimaryName === true,
			IsCustomAttribute: col.isCustom,
			IsLogical: col.computed === true,
			IsManaged: !col.isCustom,
			IsSecured: false,
			IsValidODataAttribute: true,
			IsFilterable: true,
			IsSearchable: col.type === 'String' || col.type === 'Memo',
			IsRetrievable: true,
			AttributeOf: null,
			ColumnNumber: index + 1,
			SourceType: col.computed ? 1 : 0,
			IntroducedVersion: col.isCustom ? '1.0' : '5.0.0.0',
			IsAuditEnabled: managed(true, 'canmodifyauditsettings'),
			IsCustomizable: managed(true, 'iscustomizable'),
			IsRenameable: managed(true, 'isrenameable'),
			HasChanged: null,
		};
		switch (typeName) {
			case 'StringAttributeMetadata':
			case 'MemoAttributeMetadata':
				Object.assign(base, {
					MaxLength: col.maxLength,
					Format: col.format ?? 'Text',
					FormatName: { Value: col.format ?? 'Text' },
					DatabaseLength: (col.maxLength ?? 0) * 2,
					IsLocalizable: false,
					ImeMode: 'Auto',
				});
				break;
			case 'IntegerAttributeMetadata':
				Object.assign(base, { MinValue: col.minValue, MaxValue: col.maxValue, Format: 'None' });
				break;
			case 'BigIntAttributeMetadata':
				Object.assign(base, { MinValue: Number.MIN_SAFE_INTEGER, MaxValue: Number.MAX_SAFE_INTEGER });
				break;
			case 'DecimalAttributeMetadata':
			case 'DoubleAttributeMetadata':
				Object.assign(base, { MinValue: -100000000000, MaxValue: 100000000000, Precision: col.precision ?? 2, ImeMode: 'Auto' });
				break;
			case 'MoneyAttributeMetadata':
				Object.assign(base, {
					MinValue: col.minValue,
					MaxValue: col.maxValue,
					Precision: col.precision ?? 2,
					PrecisionSource: 2,
					IsBaseCurrency: col.logicalName.endsWith('_base'),
					CalculationOf: null,
					ImeMode: 'Auto',
				});
				break;
			case 'BooleanAttributeMetadata':
				Object.assign(base, { DefaultValue: col.defaultBoolean ?? false });
				break;
			case 'DateTimeAttributeMetadata':
				Object.assign(base, {
					Format: col.format,
					DateTimeBehavior: { Value: col.dateBehavior ?? 'UserLocal' },
					CanChangeDateTimeBehavior: managed(col.isCustom, 'canchangedatetimebehavior'),
					MinSupportedValue: '1753-01-01T00:00:00Z',
					MaxSupportedValue: '9999-12-30T23:59:59Z',
					ImeMode: 'Auto',
				});
				break;
			case 'LookupAttributeMetadata':
				Object.assign(base, { Targets: col.targets ?? [], Format: 'None' });
				break;
			case 'PicklistAttributeMetadata':
			case 'StateAttributeMetadata':
			case 'StatusAttributeMetadata':
			case 'MultiSelectPicklistAttributeMetadata':
				Object.assign(base, { DefaultFormValue: typeName === 'PicklistAttributeMetadata' || typeName === 'MultiSelectPicklistAttributeMetadata' ? -1 : null });
				break;
		}
		return base;
	}

	private optionJson(t: TableDef, col: ColumnDef, o: OptionDef): Json {
		const json: Json = {
			Value: o.value,
			Color: null,
			IsManaged: !col.isCustom,
			ExternalValue: null,
			ParentValues: [],
			Tag: null,
			IsHidden: false,
			MetadataId: null,
			HasChanged: null,
			Label: label(o.label, `${t.logicalName}.${col.logicalName}.${o.value}`),
			Description: label('', ''),
		};
		if (col.type === 'State') Object.assign(json, { DefaultStatus: o.defaultStatus, InvariantName: o.invariantName });
		if (col.type === 'Status') Object.assign(json, { State: o.state, TransitionData: null });
		return json;
	}

	optionSetJson(t: TableDef, col: ColumnDef): Json {
		const name = col.optionSetName ?? `${t.logicalName}_${col.logicalName}`;
		const json: Json = {
			MetadataId: stableGuid(`optionset:${name}`),
			HasChanged: null,
			IsCustomOptionSet: col.isCustom,
			IsGlobal: col.isGlobalOptionSet === true,
			IsManaged: !col.isCustom,
			Name: name,
			ExternalTypeName: null,
			OptionSetType: col.type === 'Boolean' ? 'Boolean' : col.type === 'State' ? 'State' : col.type === 'Status' ? 'Status' : 'Picklist',
			IntroducedVersion: '5.0.0.0',
			Description: label('', ''),
			DisplayName: label(col.displayName, `optionset:${name}`),
			IsCustomizable: managed(true, 'iscustomizable'),
		};
		if (col.type === 'Boolean') {
			json.TrueOption = this.optionJson(t, col, { value: 1, label: col.trueLabel ?? 'Yes' });
			json.FalseOption = this.optionJson(t, col, { value: 0, label: col.falseLabel ?? 'No' });
		} else {
			json.Options = (col.options ?? []).map((o) => this.optionJson(t, col, o));
		}
		return json;
	}

	keyJson(t: TableDef, key: { logicalName: string; schemaName: string; keyAttributes: string[]; metadataId: string }): Json {
		return {
			MetadataId: key.metadataId,
			LogicalName: key.logicalName,
			SchemaName: key.schemaName,
			EntityLogicalName: t.logicalName,
			KeyAttributes: key.keyAttributes,
			EntityKeyIndexStatus: 'Active',
			DisplayName: label(key.schemaName, `key:${key.logicalName}`),
			IsManaged: false,
			IsCustomizable: managed(true, 'iscustomizable'),
			IntroducedVersion: '1.0',
			AsyncJob: null,
			HasChanged: null,
		};
	}

	// -------------------------------------------------------------------------------------------------------------

	private binderFor(allowed: string[], typeName: string): FilterBinder {
		return {
			property: (path) => {
				if (!allowed.includes(path[0])) throw errors.propertyNotFound(path[0], typeName);
				return {
					edm: 'any',
					get: (row) => {
						let v: unknown = row;
						for (const seg of path) v = v && typeof v === 'object' ? (v as Json)[seg] : undefined;
						return (v ?? null) as Value;
					},
				};
			},
			caseInsensitive: true,
			now: () => this.engine.clock.now(),
			strictTypes: false,
		};
	}

	private selectFields(obj: Json, select: string[] | undefined, allowed: string[], typeName: string): Json {
		if (!select) return obj;
		for (const s of select) if (!allowed.includes(s)) throw errors.propertyNotFound(s, typeName);
		const out: Json = {};
		if (obj['@odata.type']) out['@odata.type'] = obj['@odata.type'];
		for (const s of select) out[s] = obj[s];
		out.MetadataId = obj.MetadataId;
		return out;
	}

	private table(segment: string): TableDef {
		const m = /^EntityDefinitions\((.*)\)$/.exec(segment);
		if (!m) throw errors.resourceNotFound(segment);
		const key = m[1];
		const byName = /^LogicalName='([^']*)'$/.exec(key);
		const t = byName
			? this.schema.table(byName[1])
			: this.schema.tables.find((x) => x.metadataId === key.toLowerCase());
		if (!t) {
			throw errors.odata(`Could not find entity with ${byName ? `logical name '${byName[1]}'` : `id '${key}'`}.`, 404);
		}
		return t;
	}

	/** Handles GET EntityDefinitions[...]; `segments` start with the EntityDefinitions segment. */
	get(segments: string[], query: URLSearchParams): Json {
		const select = parseSelect(query.get('$select'));
		const filter = query.get('$filter');
		const expand = query.get('$expand') ? parseExpand(query.get('$expand')!) : [];
		const ctx = this.context;
		if (segments.length === 1 && segments[0] === 'EntityDefinitions') {
			let tables = this.schema.tables;
			if (filter) {
				const predicate = compileFilter(parseFilter(filter), this.binderFor(ENTITY_PROPS, 'EntityMetadata'), filter);
				tables = tables.filter((t) => predicate(this.entityJson(t)));
			}
			return {
				'@odata.context': `${ctx}#EntityDefinitions${select ? `(${select.join(',')})` : ''}`,
				value: tables.map((t) => this.entityWithExpand(t, select, expand)),
			};
		}
		const t = this.table(segments[0]);
		if (segments.length === 1) {
			return {
				'@odata.context': `${ctx}#EntityDefinitions${select ? `(${select.join(',')})` : ''}/$entity`,
				...this.entityWithExpand(t, select, expand),
			};
		}
		const nav = segments[1];
		if (nav === 'Keys' || nav.startsWith('Keys(')) {
			const keys = this.engine.store.keys(t.logicalName).map((k) => this.keyJson(t, k));
			if (nav === 'Keys') return { '@odata.context': `${ctx}#EntityDefinitions('${t.logicalName}')/Keys`, value: keys };
			const m = /^Keys\(LogicalName='([^']*)'\)$/.exec(nav);
			const key = keys.find((k) => k.LogicalName === m?.[1] || `Keys(${String(k.MetadataId)})` === nav);
			if (!key) throw errors.odata(`Could not find the entity key '${nav}'.`, 404);
			return { '@odata.context': `${ctx}#EntityDefinitions('${t.logicalName}')/Keys/$entity`, ...key };
		}
		if (nav === 'Attributes') {
			const cast = segments[2];
			const typeName = cast ? this.castName(cast) : undefined;
			if (segments.length > 3) throw errors.resourceNotFound(segments[3]);
			const allowed = typeName ? [...BASE_ATTRIBUTE_PROPS, ...TYPE_PROPS[typeName]] : BASE_ATTRIBUTE_PROPS;
			this.checkAttributeExpand(expand, typeName);
			let cols = [...t.columns.values()];
			if (typeName) cols = cols.filter(CAST_TYPES[typeName]);
			let items = cols.map((c) => this.attributeJson(t, c, [...t.columns.values()].indexOf(c)));
			if (filter) {
				const predicate = compileFilter(parseFilter(filter), this.binderFor(allowed, typeName ?? 'AttributeMetadata'), filter);
				items = items.filter((i) => predicate(i));
			}
			return {
				'@odata.context': `${ctx}#EntityDefinitions('${t.logicalName}')/Attributes${typeName ? `/Microsoft.Dynamics.CRM.${typeName}` : ''}${select ? `(${select.join(',')})` : ''}`,
				value: items.map((i) => this.attributeWithExpand(t, i, select, allowed, typeName, expand)),
			};
		}
		const attr = /^Attributes\((.*)\)$/.exec(nav);
		if (!attr) throw errors.resourceNotFound(nav);
		const key = attr[1];
		const byName = /^LogicalName='([^']*)'$/.exec(key);
		const col = [...t.columns.values()].find((c) => (byName ? c.logicalName === byName[1] : c.metadataId === key.toLowerCase()));
		if (!col) throw errors.odata(`Could not find attribute with ${byName ? `logical name '${byName[1]}'` : `id '${key}'`} for entity '${t.logicalName}'.`, 404);
		const json = this.attributeJson(t, col, [...t.columns.values()].indexOf(col));
		let typeName: string | undefined;
		let rest = segments.slice(2);
		if (rest[0]?.startsWith('Microsoft.Dynamics.CRM.')) {
			typeName = this.castName(rest[0]);
			if (!CAST_TYPES[typeName](col)) {
				throw errors.odata(`The attribute '${col.logicalName}' is not of type 'Microsoft.Dynamics.CRM.${typeName}'.`, 404);
			}
			rest = rest.slice(1);
		}
		const allowed = typeName ? [...BASE_ATTRIBUTE_PROPS, ...TYPE_PROPS[typeName]] : BASE_ATTRIBUTE_PROPS;
		if (rest[0] === 'OptionSet' || rest[0] === 'GlobalOptionSet') {
			if (!typeName || !OPTION_SET_TYPES.has(typeName)) throw errors.propertyNotFound(rest[0], typeName ?? 'AttributeMetadata');
			const os = rest[0] === 'GlobalOptionSet' && !col.isGlobalOptionSet ? null : this.optionSetJson(t, col);
			if (!os) return { '@odata.context': `${ctx}#Edm.Null`, '@odata.null': true };
			return {
				'@odata.context': `${ctx}#EntityDefinitions('${t.logicalName}')/Attributes(${col.metadataId})/Microsoft.Dynamics.CRM.${typeName}/${rest[0]}${select ? `(${select.join(',')})` : ''}/$entity`,
				...this.selectOptionSet(os, select),
			};
		}
		if (rest.length > 0) throw errors.resourceNotFound(rest[0]);
		this.checkAttributeExpand(expand, typeName);
		const contextSelect = [...(select ?? []), ...expand.map((e) => e.nav)];
		return {
			'@odata.context': `${ctx}#EntityDefinitions('${t.logicalName}')/Attributes${typeName ? `/Microsoft.Dynamics.CRM.${typeName}` : ''}${contextSelect.length ? `(${contextSelect.join(',')})` : ''}/$entity`,
			...this.attributeWithExpand(t, json, select, allowed, typeName, expand),
		};
	}

	private castName(segment: string): string {
		const name = segment.replace(/^Microsoft\.Dynamics\.CRM\./, '');
		if (!segment.startsWith('Microsoft.Dynamics.CRM.') || !(name in CAST_TYPES)) throw errors.resourceNotFound(segment);
		return name;
	}

	private checkAttributeExpand(expand: ExpandItem[], typeName: string | undefined): void {
		for (const e of expand) {
			if ((e.nav === 'OptionSet' || e.nav === 'GlobalOptionSet') && typeName && OPTION_SET_TYPES.has(typeName)) continue;
			throw errors.propertyNotFound(e.nav, typeName ?? 'AttributeMetadata');
		}
	}

	private selectOptionSet(os: Json, select: string[] | undefined): Json {
		if (!select) return os;
		const out: Json = {};
		for (const s of select) {
			if (!(s in os)) throw errors.propertyNotFound(s, 'OptionSetMetadata');
			out[s] = os[s];
		}
		out.MetadataId = os.MetadataId;
		return out;
	}

	private attributeWithExpand(t: TableDef, json: Json, select: string[] | undefined, allowed: string[], typeName: string | undefined, expand: ExpandItem[]): Json {
		const out = this.selectFields(json, select, allowed, typeName ?? 'AttributeMetadata');
		const col = t.columns.get(String(json.LogicalName))!;
		for (const e of expand) {
			const os = e.nav === 'GlobalOptionSet' && !col.isGlobalOptionSet ? null : this.optionSetJson(t, col);
			out[e.nav] = os ? this.selectOptionSet(os, e.select) : null;
		}
		return out;
	}

	private entityWithExpand(t: TableDef, select: string[] | undefined, expand: ExpandItem[]): Json {
		const out = this.selectFields(this.entityJson(t), select, ENTITY_PROPS, 'EntityMetadata');
		for (const e of expand) {
			if (e.nav === 'Attributes') {
				let items = [...t.columns.values()].map((c, i) => this.attributeJson(t, c, i));
				if (e.filter) {
					const predicate = compileFilter(parseFilter(e.filter), this.binderFor(BASE_ATTRIBUTE_PROPS, 'AttributeMetadata'), e.filter);
					items = items.filter((i) => predicate(i));
				}
				out.Attributes = items.map((i) => this.selectFields(i, e.select, BASE_ATTRIBUTE_PROPS, 'AttributeMetadata'));
			} else if (e.nav === 'Keys') {
				out.Keys = this.engine.store.keys(t.logicalName).map((k) => this.keyJson(t, k));
			} else {
				throw errors.propertyNotFound(e.nav, 'EntityMetadata');
			}
		}
		return out;
	}
}
