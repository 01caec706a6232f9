/**
 * The mapping definition: which fields of an entity sync, in which direction, under which scope. One definition
 * serves both steps of a two-way sync (Dynamics → ActiveCampaign and back). Pure data and validation; no HTTP.
 */
import type { CriteriaRow } from './criteria';
import { CRITERIA_OPERATORS } from './criteria';
import type { ConflictPolicy, LeadContactPrecedence, SyncDirection } from './decide';
import {
	ACTIVECAMPAIGN_TYPES,
	DYNAMICS_TYPES,
	isCompatible,
	type ActiveCampaignType,
	type DynamicsType,
} from './fieldTypes';
import type { OptionLabels } from './convert';

export const ENTITIES = ['lead', 'contact', 'account', 'opportunity'] as const;
export type Entity = (typeof ENTITIES)[number];

/** Whole-entity direction, as the official integration offers it. */
export type EntitySyncDirection = 'bidirectional' | 'dynamicsToActiveCampaign' | 'activeCampaignToDynamics';
/** A field's own direction; only meaningful when the entity is bi-directional. */
export type FieldDirection = 'both' | 'toActiveCampaign' | 'toDynamics';

export interface DynamicsFieldRef {
	/** Column logical name; for lookups the column (e.g. `parentcustomerid`), not `_x_value`. */
	name: string;
	type: DynamicsType;
	/** Choice labels by value (optional; formatted values are used otherwise). */
	options?: OptionLabels;
	/** Lookups: the related table, e.g. `account`. */
	target?: string;
}

export interface ActiveCampaignFieldRef {
	/** Standard key (`email`, `firstName`, ...) or a custom field's personalization tag, title or id. */
	key: string;
	type: ActiveCampaignType;
}

export interface CustomMapping {
	dynamics: DynamicsFieldRef;
	activeCampaign: ActiveCampaignFieldRef;
	direction?: FieldDirection;
}

export interface StandardOverride {
	/** Off: the standard pair does not sync (and, with `remapTo`, the ActiveCampaign field maps to another column). */
	enabled?: boolean;
	direction?: FieldDirection;
	/** A Dynamics custom column that takes the standard ActiveCampaign field instead. */
	remapTo?: DynamicsFieldRef;
}

export interface MappingDefinition {
	entity: Entity;
	syncDirection: EntitySyncDirection;
	standard?: Record<string, StandardOverride>;
	custom?: CustomMapping[];
	/** Scope: rows on Dynamics columns (for records coming from Dynamics) and on ActiveCampaign fields. */
	criteria?: { dynamics?: CriteriaRow[]; activeCampaign?: CriteriaRow[] };
	/** Values for required Dynamics columns nothing maps (e.g. a lead's Topic). Expressions are resolved by n8n. */
	defaults?: Record<string, unknown>;
	conflictPolicy?: ConflictPolicy;
	precedence?: LeadContactPrecedence;
	/** ActiveCampaign account time zone (IANA name or offset). */
	timeZone?: string;
	/** ActiveCampaign contacts neither linked nor tagged: skip them, or create them in Dynamics as leads/contacts. */
	untaggedContacts?: 'skip' | 'lead' | 'contact';
	/**
	 * A record deleted in Dynamics: `keep` (default) never recreates it and unlinks and tags its ActiveCampaign twin,
	 * `flag` tags the twin and keeps the link, `propagate` deletes the twin.
	 */
	deletePolicy?: 'keep' | 'flag' | 'propagate';
}

export interface StandardField {
	key: string;
	label: string;
	dynamics: DynamicsFieldRef;
	activeCampaign: ActiveCampaignFieldRef;
	/** Email and Account cannot be switched off or remapped; opportunity fields are fixed. */
	locked?: boolean;
}

const text = (key: string): ActiveCampaignFieldRef => ({ key, type: 'text' });
const str = (name: string): DynamicsFieldRef => ({ name, type: 'string' });

/**
 * Columns Dynamics copies from a lead to the contact it is qualified into, under the same name, by its default lead →
 * contact mappings ("Define lead qualification experience": e.g. the business phone goes to another column). A mapped
 * field outside these that the new contact leaves empty was not carried, so nobody cleared it; one of these left empty
 * was cleared in Dynamics after the qualification. An organisation that changed these mappings gets the first rule for
 * a column it added, and the second for one it removed.
 */
export const LEAD_COLUMNS_CARRIED_TO_CONTACT: ReadonlySet<string> = new Set([
	'firstname',
	'lastname',
	'jobtitle',
	'mobilephone',
	'emailaddress1',
	'address1_line1',
	'address1_line2',
	'address1_line3',
	'address1_city',
	'address1_stateorprovince',
	'address1_postalcode',
	'address1_country',
]);

/** The standard mappings of each entity, on by default. */
export const STANDARD_FIELDS: Record<Entity, StandardField[]> = {
	lead: [
		{ key: 'email', label: 'Email', dynamics: str('emailaddress1'), activeCampaign: { key: 'email', type: 'email' }, locked: true },
		{ key: 'firstName', label: 'First Name', dynamics: str('firstname'), activeCampaign: text('firstName') },
		{ key: 'lastName', label: 'Last Name', dynamics: str('lastname'), activeCampaign: text('lastName') },
		{ key: 'phone', label: 'Phone', dynamics: str('telephone1'), activeCampaign: text('phone') },
		{ key: 'jobTitle', label: 'Job Title', dynamics: str('jobtitle'), activeCampaign: text('jobTitle') },
		{
			key: 'account',
			label: 'Account',
			dynamics: str('companyname'),
			activeCampaign: { key: 'accountName', type: 'accountName' },
			locked: true,
		},
	],
	contact: [
		{ key: 'email', label: 'Email', dynamics: str('emailaddress1'), activeCampaign: { key: 'email', type: 'email' }, locked: true },
		{ key: 'firstName', label: 'First Name', dynamics: str('firstname'), activeCampaign: text('firstName') },
		{ key: 'lastName', label: 'Last Name', dynamics: str('lastname'), activeCampaign: text('lastName') },
		{ key: 'phone', label: 'Phone', dynamics: str('telephone1'), activeCampaign: text('phone') },
		{ key: 'jobTitle', label: 'Job Title', dynamics: str('jobtitle'), activeCampaign: text('jobTitle') },
		{
			key: 'account',
			label: 'Account',
			dynamics: { name: 'parentcustomerid', type: 'lookup', target: 'account' },
			activeCampaign: { key: 'accountName', type: 'accountName' },
			locked: true,
		},
	],
	account: [
		{ key: 'name', label: 'Account Name', dynamics: str('name'), activeCampaign: text('name'), locked: true },
		{ key: 'website', label: 'Website', dynamics: str('websiteurl'), activeCampaign: text('accountUrl') },
		{ key: 'phone', label: 'Phone', dynamics: str('telephone1'), activeCampaign: text('Phone Number') },
	],
	opportunity: [
		{ key: 'name', label: 'Name', dynamics: str('name'), activeCampaign: text('name'), locked: true },
		{
			key: 'estimatedRevenue',
			label: 'Est. Revenue',
			dynamics: { name: 'estimatedvalue', type: 'money' },
			activeCampaign: { key: 'estimated-revenue', type: 'currency' },
			locked: true,
		},
		{
			key: 'estimatedCloseDate',
			label: 'Est. Close Date',
			dynamics: { name: 'estimatedclosedate', type: 'dateonly' },
			activeCampaign: { key: 'estimated-close-date', type: 'date' },
			locked: true,
		},
		{
			key: 'actualRevenue',
			label: 'Actual Revenue',
			dynamics: { name: 'actualvalue', type: 'money' },
			activeCampaign: { key: 'actual-revenue', type: 'currency' },
			locked: true,
		},
		{
			key: 'stage',
			label: 'Stage',
			dynamics: { name: 'salesstage', type: 'picklist' },
			activeCampaign: text('stage'),
			locked: true,
		},
	],
};

/** Dataverse does not enforce ApplicationRequired columns; these are the standard tables' ones (used without metadata). */
export const KNOWN_REQUIRED_COLUMNS: Record<Entity, string[]> = {
	lead: ['lastname', 'subject'],
	contact: ['lastname'],
	account: ['name'],
	opportunity: ['name', 'customerid'],
};

export const MAX_OPPORTUNITY_CUSTOM_FIELDS = 20;

/** One effective field pair of a definition. */
export interface FieldPair {
	/** `standard:<key>` or `custom:<column>` — unique within a definition. */
	id: string;
	label: string;
	dynamics: DynamicsFieldRef;
	activeCampaign: ActiveCampaignFieldRef;
	direction: FieldDirection;
	standard: boolean;
}

export class MappingError extends Error {}

/** Checks a definition and returns its effective field pairs. Throws {@link MappingError} with every problem found. */
export function resolvePairs(definition: MappingDefinition): FieldPair[] {
	const problems: string[] = [];
	const entity = definition.entity;
	if (!ENTITIES.includes(entity)) throw new MappingError(`Unknown entity "${String(entity)}"`);
	if (entity === 'opportunity' && definition.syncDirection !== 'dynamicsToActiveCampaign') {
		problems.push('Opportunities sync one way only, from Dynamics to ActiveCampaign');
	}
	const pairs: FieldPair[] = [];
	const overrides = definition.standard ?? {};
	for (const key of Object.keys(overrides)) {
		if (!STANDARD_FIELDS[entity].some((f) => f.key === key)) {
			problems.push(`"${key}" is not a standard field of ${entity}s (standard fields: ${STANDARD_FIELDS[entity].map((f) => f.key).join(', ')})`);
		}
	}
	for (const field of STANDARD_FIELDS[entity]) {
		const override = overrides[field.key] ?? {};
		const enabled = override.enabled !== false;
		if (field.locked && (!enabled || override.remapTo)) {
			problems.push(
				entity === 'opportunity'
					? `The opportunity field "${field.label}" is fixed and cannot be switched off or remapped`
					: `"${field.label}" is always mapped and cannot be switched off or remapped`,
			);
			continue;
		}
		const direction = override.direction ?? 'both';
		if (enabled) {
			pairs.push({ id: `standard:${field.key}`, label: field.label, dynamics: field.dynamics, activeCampaign: field.activeCampaign, direction, standard: true });
		} else if (override.remapTo) {
			pairs.push({
				id: `standard:${field.key}`,
				label: field.label,
				dynamics: override.remapTo,
				activeCampaign: field.activeCampaign,
				direction,
				standard: true,
			});
		}
	}
	const custom = definition.custom ?? [];
	if (entity === 'opportunity' && custom.length > MAX_OPPORTUNITY_CUSTOM_FIELDS) {
		problems.push(`Opportunities take at most ${MAX_OPPORTUNITY_CUSTOM_FIELDS} custom fields (${custom.length} mapped)`);
	}
	for (const mapping of custom) {
		const problem = checkCustom(mapping);
		if (problem) {
			problems.push(problem);
			continue;
		}
		pairs.push({
			id: `custom:${mapping.dynamics.name}`,
			label: `${mapping.activeCampaign.key} ↔ ${mapping.dynamics.name}`,
			dynamics: mapping.dynamics,
			activeCampaign: mapping.activeCampaign,
			direction: mapping.direction ?? 'both',
			standard: false,
		});
	}
	for (const pair of pairs) {
		if (!isCompatible(pair.activeCampaign.type, pair.dynamics.type)) {
			problems.push(incompatible(pair.activeCampaign, pair.dynamics));
		}
	}
	problems.push(...duplicates(pairs));
	for (const row of [...(definition.criteria?.dynamics ?? []), ...(definition.criteria?.activeCampaign ?? [])]) {
		if (!row.field) problems.push('A criteria row has no field');
		if (!CRITERIA_OPERATORS.includes(row.operator)) problems.push(`Unknown criteria operator "${String(row.operator)}"`);
	}
	if (problems.length) throw new MappingError(problems.join('; '));
	return pairs;
}

export function incompatible(ac: ActiveCampaignFieldRef, dynamics: DynamicsFieldRef): string {
	return `ActiveCampaign field "${ac.key}" (${ac.type}) cannot be mapped to Dynamics column "${dynamics.name}" (${dynamics.type}): the types are not compatible`;
}

function checkCustom(mapping: CustomMapping): string | undefined {
	const d = mapping.dynamics;
	const a = mapping.activeCampaign;
	if (!d?.name || !a?.key) return 'A custom mapping needs both a Dynamics column and an ActiveCampaign field';
	if (!DYNAMICS_TYPES.includes(d.type)) return `Dynamics column "${d.name}" has an unknown type "${String(d.type)}"`;
	if (!ACTIVECAMPAIGN_TYPES.includes(a.type)) return `ActiveCampaign field "${a.key}" has an unknown type "${String(a.type)}"`;
	if (d.name === 'emailaddress1' || a.key === 'email') return 'Email is mapped as a standard field and cannot be mapped again';
	return undefined;
}

function duplicates(pairs: FieldPair[]): string[] {
	const problems: string[] = [];
	const seen = new Map<string, string>();
	for (const pair of pairs) {
		for (const [side, name, writes] of [
			['Dynamics column', pair.dynamics.name, pair.direction !== 'toActiveCampaign'],
			['ActiveCampaign field', pair.activeCampaign.key.toLowerCase(), pair.direction !== 'toDynamics'],
		] as const) {
			if (!writes) continue;
			const key = `${side}:${name}`;
			const other = seen.get(key);
			if (other) problems.push(`${side} "${name}" is written by two mappings (${other} and ${pair.label})`);
			else seen.set(key, pair.label);
		}
	}
	return problems;
}

/**
 * The pairs a step writes. A one-way entity syncs every field its way (field directions do not apply); a
 * bi-directional one honours each field's direction. A step against the entity's direction writes nothing.
 */
export function pairsForStep(definition: MappingDefinition, pairs: readonly FieldPair[], step: SyncDirection): FieldPair[] {
	if (!stepAllowed(definition, step)) return [];
	if (definition.syncDirection !== 'bidirectional') return [...pairs];
	return pairs.filter((p) => p.direction === 'both' || p.direction === step);
}

export function stepAllowed(definition: MappingDefinition, step: SyncDirection): boolean {
	switch (definition.syncDirection) {
		case 'bidirectional':
			return true;
		case 'dynamicsToActiveCampaign':
			return step === 'toActiveCampaign';
		case 'activeCampaignToDynamics':
			return step === 'toDynamics';
	}
}

/**
 * Required Dynamics columns a step that writes to Dynamics leaves without a value: neither mapped nor defaulted.
 * `required` comes from live metadata (ApplicationRequired) or {@link KNOWN_REQUIRED_COLUMNS}.
 */
export function missingRequired(
	definition: MappingDefinition,
	stepPairs: readonly FieldPair[],
	required: readonly string[],
): string[] {
	const mapped = new Set(stepPairs.map((p) => p.dynamics.name));
	const defaults = definition.defaults ?? {};
	return required.filter((column) => !mapped.has(column) && (defaults[column] === undefined || defaults[column] === ''));
}
