/**
 * The Field Map node's parameters → a mapping definition. The same parser reads this node's own parameters and
 * another Field Map node's (`$('Other Field Map').params`), so a two-way sync is configured once.
 */
import type { IDataObject } from 'n8n-workflow';

import type { CriteriaRow } from '../shared/sync/criteria';
import { ACTIVECAMPAIGN_TYPES, DYNAMICS_TYPES, type ActiveCampaignType, type DynamicsType } from '../shared/sync/fieldTypes';
import type {
	CustomMapping,
	EntitySyncDirection,
	FieldDirection,
	MappingDefinition,
	StandardOverride,
} from '../shared/sync/mapping';
import { ENTITIES, MappingError } from '../shared/sync/mapping';

/** `name|type` as the field pickers encode their values; a bare name defaults the type. */
export function splitTyped(value: unknown, fallbackType: string): { name: string; type: string } {
	const text = String(value ?? '').trim();
	const at = text.lastIndexOf('|');
	if (at <= 0) return { name: text, type: fallbackType };
	return { name: text.slice(0, at), type: text.slice(at + 1) };
}

function list(value: unknown, key: string): IDataObject[] {
	if (!value || typeof value !== 'object') return [];
	const rows = (value as IDataObject)[key];
	return Array.isArray(rows) ? (rows as IDataObject[]) : [];
}

function criteriaRows(value: unknown): CriteriaRow[] {
	return list(value, 'condition')
		.filter((row) => String(row.field ?? '').trim() !== '')
		.map((row) => ({
			field: String(row.field).trim(),
			operator: String(row.operator ?? 'equals') as CriteriaRow['operator'],
			value: row.value === undefined || row.value === null ? undefined : String(row.value),
		}));
}

function dynamicsRef(value: unknown) {
	const { name, type } = splitTyped(value, 'string');
	if (!DYNAMICS_TYPES.includes(type as DynamicsType)) {
		throw new MappingError(`Dynamics column "${name}" has an unknown type "${type}" (expected one of ${DYNAMICS_TYPES.join(', ')})`);
	}
	return { name, type: type as DynamicsType, ...(type === 'lookup' ? { target: 'account' } : {}) };
}

function activeCampaignRef(value: unknown) {
	const { name, type } = splitTyped(value, 'text');
	if (!ACTIVECAMPAIGN_TYPES.includes(type as ActiveCampaignType)) {
		throw new MappingError(
			`ActiveCampaign field "${name}" has an unknown type "${type}" (expected one of ${ACTIVECAMPAIGN_TYPES.join(', ')})`,
		);
	}
	return { key: name, type: type as ActiveCampaignType };
}

/** Reads a definition from Field Map parameters (this node's or another Field Map node's). */
export function definitionFromParameters(params: IDataObject): MappingDefinition {
	if (params.mappingSource === 'json') return definitionFromJson(params.mappingJson);
	const entity = String(params.entity ?? '') as MappingDefinition['entity'];
	if (!ENTITIES.includes(entity)) throw new MappingError(`Unknown entity "${entity}"`);
	const syncDirection = (
		entity === 'opportunity' ? 'dynamicsToActiveCampaign' : String(params.syncDirection ?? 'bidirectional')
	) as EntitySyncDirection;

	const standard: Record<string, StandardOverride> = {};
	for (const row of list(params.standardOverrides, 'override')) {
		const field = String(row.field ?? '').trim();
		if (!field) continue;
		const enabled = row.enabled !== false;
		standard[field] = {
			enabled,
			...(row.direction ? { direction: row.direction as FieldDirection } : {}),
			...(!enabled && row.remapTo ? { remapTo: dynamicsRef(row.remapTo) } : {}),
		};
	}

	const custom: CustomMapping[] = [];
	for (const row of list(params.customMappings, 'mapping')) {
		if (!row.dynamicsField) continue;
		const activeCampaign =
			entity === 'opportunity'
				? { key: String(row.objectFieldId ?? '').trim(), type: String(row.objectFieldType ?? 'text') as ActiveCampaignType }
				: activeCampaignRef(row.activeCampaignField);
		custom.push({
			dynamics: dynamicsRef(row.dynamicsField),
			activeCampaign,
			direction: (row.direction as FieldDirection) || 'both',
		});
	}

	const scoped = params.scope === 'criteria';
	const defaults: IDataObject = {};
	for (const row of list(params.requiredDefaults, 'default')) {
		const column = String(row.column ?? '').trim();
		if (column) defaults[column] = row.value;
	}
	const options = (params.options ?? {}) as IDataObject;
	return {
		entity,
		syncDirection,
		standard,
		custom,
		criteria: scoped
			? { dynamics: criteriaRows(params.dynamicsCriteria), activeCampaign: criteriaRows(params.activeCampaignCriteria) }
			: undefined,
		defaults,
		conflictPolicy: (options.conflictPolicy as MappingDefinition['conflictPolicy']) ?? 'dynamicsWins',
		precedence: (options.precedence as MappingDefinition['precedence']) ?? 'contact',
		timeZone: (options.timeZone as string) || 'UTC',
		untaggedContacts: (options.untaggedContacts as MappingDefinition['untaggedContacts']) ?? 'skip',
		deletePolicy: (options.deletePolicy as MappingDefinition['deletePolicy']) ?? 'keep',
	};
}

/** A definition given as JSON (text or object), e.g. exported from another workflow. */
export function definitionFromJson(value: unknown): MappingDefinition {
	let parsed: unknown = value;
	let parseError: string | undefined;
	if (typeof value === 'string') {
		try {
			parsed = JSON.parse(value);
		} catch (error) {
			parseError = (error as Error).message;
		}
	}
	if (parseError !== undefined) throw new MappingError(`The mapping JSON does not parse: ${parseError}`);
	if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
		throw new MappingError('The mapping JSON must be an object with at least "entity" and "syncDirection"');
	}
	const definition = parsed as MappingDefinition;
	if (!ENTITIES.includes(definition.entity)) throw new MappingError(`Unknown entity "${String(definition.entity)}"`);
	return { ...definition, syncDirection: definition.syncDirection ?? 'bidirectional' };
}

/** A shared definition must be for the entity this node is set to. */
export function expectEntity(definition: MappingDefinition, entity: MappingDefinition['entity']): void {
	if (definition.entity !== entity) {
		throw new MappingError(
			`the shared definition is for ${definition.entity}s but this node is set to ${entity}s; choose the same entity`,
		);
	}
}
