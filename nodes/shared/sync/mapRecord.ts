/**
 * Maps one source record to the sync item a write step consumes (docs/DESIGN.md, "The sync item"), or says why it
 * is skipped, or why it cannot be converted. Pure: no HTTP, no n8n context.
 */
import type { IDataObject } from 'n8n-workflow';

import { canonical, canonicalEmail } from './canonical';
import { toActiveCampaign, toDynamics, type ConversionContext } from './convert';
import { matchCriteria } from './criteria';
import { NOT_HELD, NOT_READ, SKIP_REASONS, type ConflictPolicy, type LeadContactPrecedence, type SyncDirection } from './decide';
import { accountDigests, baseEntries, fieldHash, isStateValue, sameDigest, sameValueDigest, MAX_STATE_FIELDS, pairKey, rowVersion } from './fieldState';
import type { Entity, FieldDirection, FieldPair, MappingDefinition } from './mapping';
import { MappingError, pairsForStep, stepAllowed } from './mapping';
import { sourceUnchanged } from './planner';
import {
	ActiveCampaignKeyPlan,
	ActiveCampaignReader,
	dynamicsHashValue,
	dynamicsStateHashWith,
	type DynamicsAccessor,
	accessor,
	readDynamics,
	readDynamicsWith,
	readTags,
} from './records';
import { isGuid, parseContactLink, parseState, stateHashOf, SYNC_FIELDS, SYNC_TAGS, type LinkedEntity } from './state';
import type { DeletePolicy, SyncField } from './syncItem';

/** A sync item as the Field Map builds it (the shape nodes/shared/sync/syncItem.ts declares). */
export interface SyncItem extends IDataObject {
	entity: Entity;
	direction: SyncDirection;
	event?: 'created' | 'updated' | 'deleted';
	record: IDataObject;
	/** Dynamics columns set only when the write creates the record (defaults for required columns). */
	createOnly: IDataObject;
	match: IDataObject;
	source: { system: 'dynamics' | 'activecampaign'; id: string; account?: string; modifiedAt: string | null; version?: number; hash: string };
	state: { stored: string | null; targetHashFields: string[] };
	fields: Array<SyncField & IDataObject>;
	tags: string[];
	removeTags: string[];
	related: IDataObject;
	policy: { conflict: ConflictPolicy; precedence: LeadContactPrecedence; delete: DeletePolicy };
}

export type MapOutcome =
	| { kind: 'mapped'; item: SyncItem }
	| {
			kind: 'skipped';
			reason: string;
			/**
			 * Another step reports it: one ActiveCampaign contact read feeds the contact and the lead step, so a contact
			 * one step leaves to the other is no skip, and one that neither takes is reported by the lead step alone.
			 */
			elsewhere?: boolean;
	  }
	| { kind: 'error'; message: string; problems: string[] };

/** Standard ActiveCampaign keys that are record properties rather than custom fields. */
const AC_TOP_LEVEL: Record<Entity, Set<string>> = {
	lead: new Set(['email', 'firstName', 'lastName', 'phone', 'jobTitle', 'accountName']),
	contact: new Set(['email', 'firstName', 'lastName', 'phone', 'jobTitle', 'accountName']),
	account: new Set(['name', 'accountUrl']),
	opportunity: new Set(),
};

export interface PreparedMapping {
	definition: MappingDefinition;
	step: SyncDirection;
	/** Pairs this step writes. */
	stepPairs: FieldPair[];
	/** Every Dynamics column / ActiveCampaign key in the mapping (any direction): the state hash fields. */
	dynamicsHashFields: string[];
	activeCampaignHashFields: string[];
	conversion: ConversionContext;
	policy: { conflict: ConflictPolicy; precedence: LeadContactPrecedence; delete: DeletePolicy };
	/** Every pair as the per-field state names it, in `pairs` order (the same list for every item of the run). */
	stateFields: StateField[];
	stateKeys: string[];
	/** Reads ActiveCampaign records of this run (remembers where each custom field is). */
	activeCampaignReader: ActiveCampaignReader;
	/**
	 * The ActiveCampaign keys read per record in one pass: the hash fields, then the link and state fields.
	 * `pairSlots[i]` is the slot of step pair i's key.
	 */
	activeCampaignPlan: ActiveCampaignKeyPlan;
	pairSlots: number[];
	/** Per step pair, what reading and writing it needs, worked out once. */
	plans: PairPlan[];
	/** Accessors of the Dataverse hash columns, in `dynamicsHashFields` order. */
	dynamicsHashAccessors: DynamicsAccessor[];
	idKey: string;
	defaults: Array<[string, unknown]>;
}

/** The link and state fields read with every ActiveCampaign record (contacts by tag or title; accounts by title). */
const SYNC_KEYS = [
	SYNC_FIELDS.contactLink.perstag,
	SYNC_FIELDS.contactLink.title,
	SYNC_FIELDS.contactState.perstag,
	SYNC_FIELDS.contactState.title,
	SYNC_FIELDS.accountLink.title,
	SYNC_FIELDS.accountState.title,
];

interface StateField {
	key: string;
	activeCampaign: string;
	dynamics: string;
	direction: FieldDirection;
	email: boolean;
	/** Slot of the ActiveCampaign key in `activeCampaignHashFields`. */
	acSlot: number;
	/** The contact's account mapped to a Dynamics account lookup: digested by which account it is (accountDigests). */
	accountLink: boolean;
	/** The Dynamics side holds a name (a lead's company), not a lookup. */
	byName: boolean;
}

/** A field's direction with the entity's direction applied. */
function effectiveDirection(definition: MappingDefinition, pair: FieldPair): FieldDirection {
	if (definition.syncDirection === 'dynamicsToActiveCampaign') return 'toActiveCampaign';
	if (definition.syncDirection === 'activeCampaignToDynamics') return 'toDynamics';
	return pair.direction;
}

interface PairPlan {
	pair: FieldPair;
	accessor: DynamicsAccessor;
	/** For lookups: the annotation that names the related table. */
	lookupTableKey?: string;
	/** ActiveCampaign key is a record property (true) or a custom field (false). */
	topLevel: boolean;
}

export function prepareMapping(definition: MappingDefinition, pairs: FieldPair[], step: SyncDirection): PreparedMapping {
	const stepPairs = pairsForStep(definition, pairs, step);
	const activeCampaignHashFields = [...new Set(pairs.map((p) => p.activeCampaign.key))];
	const dynamicsHashFields = [...new Set(pairs.map((p) => p.dynamics.name))];
	if (pairs.length > MAX_STATE_FIELDS) {
		throw new MappingError(
			`${pairs.length} fields are mapped; the sync state of at most ${MAX_STATE_FIELDS} fields per entity fits in ActiveCampaign's sync-state field`,
		);
	}
	const stateFields: StateField[] = pairs.map((pair) => ({
		key: pairKey(pair.activeCampaign.key, pair.dynamics.name),
		activeCampaign: pair.activeCampaign.key,
		dynamics: pair.dynamics.name,
		direction: effectiveDirection(definition, pair),
		email: pair.activeCampaign.key === 'email' || pair.dynamics.name === 'emailaddress1',
		acSlot: activeCampaignHashFields.indexOf(pair.activeCampaign.key),
		// A contact's ActiveCampaign account (lead: its company name; contact: the account lookup).
		accountLink:
			(definition.entity === 'lead' || definition.entity === 'contact') &&
			pair.activeCampaign.key === 'accountName' &&
			(pair.dynamics.type !== 'lookup' || (pair.dynamics.target ?? 'account') === 'account'),
		byName: pair.dynamics.type !== 'lookup',
	}));
	return {
		stateFields,
		stateKeys: stateFields.map((f) => f.key),
		definition,
		step,
		stepPairs,
		plans: stepPairs.map((pair) => ({
			pair,
			accessor: accessor(pair.dynamics.name),
			lookupTableKey:
				pair.dynamics.type === 'lookup' ? `_${pair.dynamics.name}_value@Microsoft.Dynamics.CRM.lookuplogicalname` : undefined,
			topLevel: AC_TOP_LEVEL[definition.entity].has(pair.activeCampaign.key),
		})),
		dynamicsHashFields,
		dynamicsHashAccessors: dynamicsHashFields.map(accessor),
		idKey: `${definition.entity}id`,
		defaults: Object.entries(definition.defaults ?? {}),
		activeCampaignHashFields,
		conversion: { timeZone: definition.timeZone || 'UTC' },
		policy: {
			conflict: definition.conflictPolicy ?? 'dynamicsWins',
			precedence: definition.precedence ?? 'contact',
			delete: definition.deletePolicy ?? 'keep',
		},
		activeCampaignReader: new ActiveCampaignReader(),
		activeCampaignPlan: new ActiveCampaignKeyPlan([...activeCampaignHashFields, ...SYNC_KEYS]),
		pairSlots: stepPairs.map((pair) => activeCampaignHashFields.indexOf(pair.activeCampaign.key)),
	};
}

export function mapRecord(prepared: PreparedMapping, source: IDataObject): MapOutcome {
	const { definition, step } = prepared;
	if (!stepAllowed(definition, step)) {
		const way = definition.syncDirection === 'dynamicsToActiveCampaign' ? 'from Dynamics to ActiveCampaign' : 'from ActiveCampaign to Dynamics';
		return { kind: 'skipped', reason: `out of scope: ${definition.entity}s sync one way only, ${way}` };
	}
	return step === 'toActiveCampaign' ? fromDynamics(prepared, source) : fromActiveCampaign(prepared, source);
}

function fromDynamics(prepared: PreparedMapping, source: IDataObject): MapOutcome {
	const { definition } = prepared;
	const entity = definition.entity;
	// Merged away into a master that is gone as well (deleted since): as deleted.
	if (source.event === 'deleted' || (source.merged === true && !isGuid(source._masterid_value))) return deletedInDynamics(prepared, source);
	const id = String(source[prepared.idKey] ?? '');
	if (!isGuid(id)) {
		return {
			kind: 'error',
			message: `The input is not a Dynamics ${entity}: it has no ${entity}id`,
			problems: [`missing ${entity}id`],
		};
	}
	const criteria = definition.criteria?.dynamics ?? [];
	const scope = criteria.length
		? matchCriteria(criteria, (field) => {
				const { value, formatted } = readDynamics(source, field);
				return formatted ?? value;
			})
		: ({ matched: true } as const);
	if (!scope.matched) return { kind: 'skipped', reason: scope.reason };

	const record: IDataObject = {};
	const fields: IDataObject = {};
	const problems: string[] = [];
	for (const plan of prepared.plans) {
		const pair = plan.pair;
		const converted = toActiveCampaign(
			readLookupAware(source, plan),
			pair.dynamics.type,
			pair.activeCampaign.type,
			prepared.conversion,
			pair.dynamics.options,
		);
		if (!converted.ok) {
			problems.push(`Dynamics "${pair.dynamics.name}" → ActiveCampaign "${pair.activeCampaign.key}": ${converted.error}`);
			continue;
		}
		if (plan.topLevel) record[pair.activeCampaign.key] = converted.value as IDataObject[string];
		else fields[pair.activeCampaign.key] = converted.value as IDataObject[string];
	}
	if (problems.length) return conversionError(entity, id, problems);
	if (Object.keys(fields).length || entity === 'opportunity') {
		record[entity === 'lead' || entity === 'contact' ? 'fieldValues' : 'fields'] = fields;
	}

	const match: IDataObject = { d365Id: id, d365Entity: entity };
	if (source.merged === true && isGuid(source._masterid_value)) match.mergedInto = String(source._masterid_value).toLowerCase();
	if (entity === 'contact' && isGuid(source._originatingleadid_value)) match.originatingLead = String(source._originatingleadid_value).toLowerCase();
	if (entity === 'lead' && source.statecode === 1) match.qualified = true;
	const related: IDataObject = {};
	const tags: string[] = [];
	if (entity === 'lead' || entity === 'contact') {
		const email = canonicalEmail(source.emailaddress1);
		if (!email) return { kind: 'skipped', reason: 'no email address (ActiveCampaign contacts are matched by email)' };
		match.email = email;
		tags.push(entity === 'lead' ? SYNC_TAGS.lead : SYNC_TAGS.contact, SYNC_TAGS.pushedFromDynamics);
		if (entity === 'contact') {
			const account = readDynamics(source, 'parentcustomerid');
			if (account.formatted && source[`_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname`] !== 'contact') {
				related.accountName = account.formatted;
				// ActiveCampaign links the contact to the account linked to this one, whatever its name there.
				if (isGuid(account.value)) related.d365AccountId = String(account.value).toLowerCase();
			}
		} else if (typeof source.companyname === 'string' && source.companyname.trim()) {
			related.accountName = source.companyname.trim();
		}
	} else if (entity === 'account') {
		const name = typeof source.name === 'string' ? source.name.trim() : '';
		if (!name) return { kind: 'skipped', reason: 'no account name (ActiveCampaign accounts are matched by name)' };
		match.name = name;
	} else {
		match.externalId = id;
		const contactEmail = relatedContactEmail(source);
		if (!contactEmail) {
			// Say "include it" only when the read did not include the related contact at all.
			const read = ['relatedContactEmail', 'parentcontactid', 'customerid_contact'].some((key) => key in source);
			return {
				kind: 'skipped',
				reason: read
					? 'no related contact with an email address (an opportunity syncs to the ActiveCampaign contact of its Dynamics contact; this one has no contact, or the contact has no email)'
					: 'no related contact with an email address (opportunities sync to the contact they belong to; include the related contact email when reading opportunities)',
			};
		}
		related.contactEmail = contactEmail;
		const account = readDynamics(source, 'parentaccountid').formatted ?? readDynamics(source, 'customerid').formatted;
		if (account) related.accountName = account;
	}

	return {
		kind: 'mapped',
		item: {
			entity,
			direction: 'toActiveCampaign',
			...(source.event === 'created' || source.event === 'updated' ? { event: source.event } : {}),
			record,
			createOnly: {},
			match,
			source: {
				system: 'dynamics',
				id,
				modifiedAt: typeof source.modifiedon === 'string' ? source.modifiedon : null,
				...(rowVersion(source.versionnumber) !== undefined ? { version: rowVersion(source.versionnumber) } : {}),
				hash: dynamicsStateHashWith(source, prepared.dynamicsHashFields, prepared.dynamicsHashAccessors),
			},
			state: { stored: null, targetHashFields: prepared.activeCampaignHashFields },
			fields: prepared.stateFields.map((f) => syncField(f, fieldHash(dynamicsHashValue(source, f.dynamics), f.email))),
			tags,
			removeTags: entity === 'contact' ? [SYNC_TAGS.lead] : [],
			related,
			policy: prepared.policy,
		},
	};
}

function fromActiveCampaign(prepared: PreparedMapping, source: IDataObject): MapOutcome {
	const { definition } = prepared;
	const entity = definition.entity;
	const id = source.id === undefined || source.id === null ? '' : String(source.id);
	if (!id) return { kind: 'error', message: 'The input is not an ActiveCampaign record: it has no id', problems: ['missing id'] };

	const reader = prepared.activeCampaignReader;
	// One pass over the record's custom fields: hash fields first, then link and state (SYNC_KEYS order).
	const values = prepared.activeCampaignPlan.values(source);
	const at = prepared.activeCampaignHashFields.length;
	const linkByTag = values[at];
	const linkByTitle = values[at + 1];
	const stateByTag = values[at + 2];
	const stateByTitle = values[at + 3];
	const accountLink = values[at + 4];
	const accountState = values[at + 5];
	const match: IDataObject = { acId: id };
	let stored: string | undefined;
	const tags: string[] = [];
	if (entity === 'lead' || entity === 'contact') {
		const sourceTags = readTags(source);
		if (sourceTags.some((t) => t.toLowerCase() === SYNC_TAGS.deletedInDynamics.toLowerCase())) {
			return { kind: 'skipped', reason: SKIP_REASONS.deletedInDynamics, elsewhere: entity === 'contact' };
		}
		const link = parseContactLink(linkByTag ?? linkByTitle);
		const target = link?.entity ?? untaggedTarget(sourceTags, definition);
		if (!target) {
			return {
				kind: 'skipped',
				reason: `not linked or tagged for Dynamics (tag it ${SYNC_TAGS.lead} or ${SYNC_TAGS.contact}, or set Untagged Contacts)`,
				elsewhere: entity === 'contact',
			};
		}
		if (target !== entity) return { kind: 'skipped', reason: `belongs to the ${target} sync (linked or tagged as a Dynamics ${target})`, elsewhere: true };
		if (link) {
			match.d365Id = link.id;
			stored = stateText(stateByTag ?? stateByTitle);
		} else {
			tags.push(entity === 'lead' ? SYNC_TAGS.lead : SYNC_TAGS.contact, SYNC_TAGS.pulledFromActiveCampaign);
		}
		match.d365Entity = entity;
		const email = canonicalEmail(source.email);
		if (!email) return { kind: 'skipped', reason: 'no email address' };
		match.email = email;
	} else if (entity === 'account') {
		if (typeof accountLink === 'string' && accountLink.trim().toLowerCase().startsWith('deleted:')) {
			return { kind: 'skipped', reason: SKIP_REASONS.accountDeletedInDynamics };
		}
		if (isGuid(accountLink)) {
			match.d365Id = String(accountLink).toLowerCase();
			stored = stateText(accountState);
		}
		match.d365Entity = 'account';
		const name = typeof source.name === 'string' ? source.name.trim() : '';
		if (!name) return { kind: 'skipped', reason: 'no account name' };
		match.name = name;
	}

	const criteria = definition.criteria?.activeCampaign ?? [];
	const scope = criteria.length ? matchCriteria(criteria, (key) => reader.read(source, key)) : ({ matched: true } as const);
	if (!scope.matched) return { kind: 'skipped', reason: scope.reason };

	const hash = stateHashOf(prepared.activeCampaignHashFields, values);
	const base = stored ? baseEntries(stored, prepared.stateKeys) : undefined;
	// Between full scans the change read may leave a settled contact's account link unread (decide.NOT_READ): its
	// account and job title are then neither carried nor recorded.
	const accountNotRead = stored && (entity === 'lead' || entity === 'contact') && source.accountNotRead ? NOT_READ.accountBetweenScans : undefined;
	const notRead = (key: string) => accountNotRead !== undefined && ACCOUNT_KEYS.has(key);
	const fields = prepared.stateFields.map((f) => {
		if (notRead(f.activeCampaign)) return { ...syncField(f, fieldHash(null)), notRead: accountNotRead };
		if (!f.accountLink) return syncField(f, fieldHash(values[f.acSlot], f.email));
		// An account whose Dynamics account was deleted is named by that id still: the same account as at the last sync.
		const linkedId = source.accountD365Id === 'deleted' && isGuid(source.accountDeletedD365Id) ? source.accountDeletedD365Id : source.accountD365Id;
		const { digest, alt } = accountDigests(linkedId, values[f.acSlot]);
		const field: SyncField & IDataObject = { ...syncField(f, digest), ...(alt ? { sourceAlt: alt } : {}) };
		// A lead's company is a name: the same account under a new name (a rename) is a value to carry, but no
		// person's edit of the lead's company.
		const before = f.byName ? base?.get(f.key) : undefined;
		const name = fieldHash(typeof values[f.acSlot] === 'string' ? (values[f.acSlot] as string).trim() : values[f.acSlot]);
		if (before && sameValueDigest(before.ac, digest, alt) && before.d365 !== null && !sameDigest(before.d365, name)) field.renamed = true;
		return field;
	});
	if (stored && !fields.some((f) => f.renamed) && unchangedSince(prepared, stored, hash, fields)) return { kind: 'skipped', reason: SKIP_REASONS.unchanged };
	const jobTitle = (entity === 'lead' || entity === 'contact') && !accountNotRead ? jobTitleNotHeld(prepared, source, values, fields, stored) : undefined;
	if (jobTitle) jobTitle.field.notHeld = jobTitle.reason;

	const record: IDataObject = {};
	const problems: string[] = [];
	for (let p = 0; p < prepared.stepPairs.length; p++) {
		const pair = prepared.stepPairs[p];
		if (jobTitle && pair.activeCampaign.key === 'jobTitle') continue;
		if (notRead(pair.activeCampaign.key)) continue;
		const converted = toDynamics(
			values[prepared.pairSlots[p]],
			pair.activeCampaign.type,
			pair.dynamics.type,
			prepared.conversion,
			pair.dynamics.options,
		);
		if (!converted.ok) {
			problems.push(`ActiveCampaign "${pair.activeCampaign.key}" → Dynamics "${pair.dynamics.name}": ${converted.error}`);
			continue;
		}
		if (pair.dynamics.type === 'lookup') {
			const target = pair.dynamics.target ?? 'account';
			// The contact's ActiveCampaign account belongs to a Dynamics account that was deleted: it is not created
			// again there, so the lookup is left as it is.
			if (pair.activeCampaign.key === 'accountName' && source.accountD365Id === 'deleted') continue;
			const key = `${pair.dynamics.name}_${target}@odata.bind`;
			// The contact's account by its link to Dynamics when it has one (names can differ between the sides).
			const linked = pair.activeCampaign.key === 'accountName' && target === 'account' && isGuid(source.accountD365Id) ? String(source.accountD365Id).toLowerCase() : undefined;
			record[key] =
				converted.value === null ? null : linked ? `/accounts(${linked})` : `/${entitySetOf(target)}(name='${String(converted.value).replace(/'/g, "''")}')`;
		} else {
			record[pair.dynamics.name] = converted.value as IDataObject[string];
		}
	}
	if (problems.length) return conversionError(entity, id, problems);

	const createOnly: IDataObject = {};
	for (const [column, value] of prepared.defaults) {
		if (record[column] === undefined && value !== undefined && value !== '') createOnly[column] = value as IDataObject[string];
	}

	return {
		kind: 'mapped',
		item: {
			entity,
			direction: 'toDynamics',
			record,
			createOnly,
			match,
			source: {
				system: 'activecampaign',
				id,
				...(typeof source.activeCampaignAccount === 'string' ? { account: source.activeCampaignAccount } : {}),
				modifiedAt: modifiedTime(source),
				hash,
			},
			state: { stored: stored ?? null, targetHashFields: prepared.dynamicsHashFields },
			fields,
			tags,
			removeTags: [],
			related: {},
			policy: prepared.policy,
		},
	};
}

/** The ActiveCampaign keys a contact's account link holds (its account, and the job title on the link). */
const ACCOUNT_KEYS = new Set(['accountName', 'jobTitle']);

function syncField(f: StateField, source: string): SyncField & IDataObject {
	return { key: f.key, activeCampaign: f.activeCampaign, dynamics: f.dynamics, direction: f.direction, source, ...(f.accountLink ? { accountLink: true } : {}) };
}

function stateText(value: unknown): string | undefined {
	return isStateValue(value) ? String(value).trim() : undefined;
}

/**
 * ActiveCampaign keeps a contact's job title on its account link, so an empty job title is no edit when the contact
 * has no account, or was linked to its account since the last sync by a new link that nobody has changed since (a
 * new link starts without one). The field is then
 * not carried, and the other step brings the Dynamics job title across once ActiveCampaign can hold it.
 */
function jobTitleNotHeld(
	prepared: PreparedMapping,
	source: IDataObject,
	values: unknown[],
	fields: Array<SyncField & IDataObject>,
	stored: string | undefined,
): { field: SyncField; reason: string } | undefined {
	const at = prepared.stateFields.findIndex((f) => f.activeCampaign === 'jobTitle');
	if (at < 0 || canonical(values[prepared.stateFields[at].acSlot]) !== null) return undefined;
	const field = fields[at];
	if (source.accountName === null || (typeof source.accountName === 'string' && !source.accountName.trim())) return { field, reason: NOT_HELD.jobTitleWithoutAccount };
	// A link moved or edited since it was made keeps its job title: an empty one there is a value someone set (the
	// sync itself moves a link when Dynamics moves the contact).
	if (source.accountLinkUntouched === false) return undefined;
	const account = prepared.stateFields.findIndex((f) => f.activeCampaign === 'accountName');
	const before = account < 0 || !stored ? undefined : baseEntries(stored, prepared.stateKeys).get(prepared.stateFields[account].key);
	if (!before) return undefined;
	return sameValueDigest(before.ac, fields[account].source, fields[account].sourceAlt) ? undefined : { field, reason: NOT_HELD.jobTitleOnNewLink };
}

/** The ActiveCampaign record changed none of the fields it carries to Dynamics since the last sync. */
function unchangedSince(prepared: PreparedMapping, stored: string, wholeHash: string, fields: SyncField[]): boolean {
	const v1 = parseState(stored);
	if (v1) return v1.acHash === wholeHash;
	return sourceUnchanged(
		baseEntries(stored, prepared.stateKeys),
		fields.map((f) => (f.notRead ? { ...f, sourceNotRead: f.notRead } : f)),
		'toDynamics',
	);
}

/** A Dynamics record deleted (a change-tracking deletion): the write step applies the delete policy to its twin. */
function deletedInDynamics(prepared: PreparedMapping, source: IDataObject): MapOutcome {
	const entity = prepared.definition.entity;
	const id = String(source.id ?? source[prepared.idKey] ?? '').toLowerCase();
	if (!isGuid(id)) return { kind: 'error', message: `The deleted ${entity} has no id`, problems: ['missing id'] };
	if (entity === 'opportunity') {
		return { kind: 'skipped', reason: 'deleted in Dynamics (opportunity records stay in ActiveCampaign)' };
	}
	return {
		kind: 'mapped',
		item: {
			entity,
			direction: 'toActiveCampaign',
			event: 'deleted',
			record: {},
			createOnly: {},
			match: { d365Id: id, d365Entity: entity },
			source: { system: 'dynamics', id, modifiedAt: null, hash: '' },
			state: { stored: null, targetHashFields: prepared.activeCampaignHashFields },
			fields: [],
			tags: [],
			removeTags: [],
			related: {},
			policy: prepared.policy,
		},
	};
}

function untaggedTarget(tags: string[], definition: MappingDefinition): LinkedEntity | undefined {
	const isLead = tags.includes(SYNC_TAGS.lead);
	const isContact = tags.includes(SYNC_TAGS.contact);
	if (isLead && isContact) return definition.precedence === 'lead' ? 'lead' : 'contact';
	if (isLead) return 'lead';
	if (isContact) return 'contact';
	const untagged = definition.untaggedContacts ?? 'skip';
	return untagged === 'skip' ? undefined : untagged;
}

function conversionError(entity: Entity, id: string, problems: string[]): MapOutcome {
	return {
		kind: 'error',
		message: `Cannot map ${entity} ${id}: ${problems.length === 1 ? problems[0] : `${problems.length} values do not convert`}`,
		problems,
	};
}

function relatedContactEmail(source: IDataObject): string | null {
	for (const candidate of [
		source.relatedContactEmail,
		(source.parentcontactid as IDataObject | undefined)?.emailaddress1,
		(source.customerid_contact as IDataObject | undefined)?.emailaddress1,
	]) {
		const email = canonicalEmail(candidate);
		if (email) return email;
	}
	return null;
}

function modifiedTime(source: IDataObject): string | null {
	for (const key of ['udate', 'updated_timestamp', 'updatedTimestamp', 'updated_utc_timestamp']) {
		const value = source[key];
		if (typeof value === 'string' && value) return value;
	}
	return null;
}

function entitySetOf(table: string): string {
	return table === 'opportunity' ? 'opportunities' : `${table}s`;
}

/** A Customer lookup may point at another table than the mapping's (a contact's parent can be a contact). */
function readLookupAware(source: IDataObject, plan: PairPlan): { value: unknown; formatted?: string } {
	const read = readDynamicsWith(source, plan.accessor);
	if (plan.lookupTableKey === undefined || !plan.pair.dynamics.target) return read;
	const table = source[plan.lookupTableKey];
	return typeof table === 'string' && table !== plan.pair.dynamics.target ? { value: null } : read;
}
