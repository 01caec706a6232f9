/**
 * Custom objects: the "D365 Opportunity" schema (created or completed on demand) and records upserted by external
 * id, related to a contact found by email. The record id is never sent: ActiveCampaign then matches by external id.
 */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';

import { isStandIn, standInId, type PreviewChange } from '../../shared/preview';
import { sameValue } from '../../shared/sync/canonical';
import { SKIP_REASONS } from '../../shared/sync/decide';
import { toAcDate, toAcDateTime, multiValues } from './encode';
import type { AcSession, SchemaDef, SchemaField } from './session';

export const OPPORTUNITY_SLUG = 'd365-opportunity';
export const PRIMARY_CONTACT = 'primary-contact';
export const MAX_EXTRA_FIELDS = 20;

export const OPPORTUNITY_FIELDS = {
	name: 'name',
	estimatedRevenue: 'estimated-revenue',
	estimatedCloseDate: 'estimated-close-date',
	actualRevenue: 'actual-revenue',
	stage: 'stage',
} as const;

export const CUSTOM_OBJECT_FIELD_TYPES = ['text', 'textarea', 'number', 'decimal', 'currency', 'date', 'datetime', 'dropdown', 'multiselect', 'boolean'];

export interface ExtraField {
	id: string;
	label: string;
	type: string;
	/** Options of dropdown and multiselect fields. */
	options?: string[];
}

function labels(label: string) {
	return { singular: label, plural: label.endsWith('s') ? label : `${label}s` };
}

export function opportunitySchemaFields(currency: string): IDataObject[] {
	return [
		{ id: OPPORTUNITY_FIELDS.name, labels: labels('Name'), type: 'text', required: false },
		{ id: OPPORTUNITY_FIELDS.estimatedRevenue, labels: labels('Estimated Revenue'), type: 'currency', required: false, defaultCurrency: currency },
		{ id: OPPORTUNITY_FIELDS.estimatedCloseDate, labels: labels('Estimated Close Date'), type: 'date', required: false },
		{ id: OPPORTUNITY_FIELDS.actualRevenue, labels: labels('Actual Revenue'), type: 'currency', required: false, defaultCurrency: currency },
		{ id: OPPORTUNITY_FIELDS.stage, labels: labels('Stage'), type: 'text', required: false },
	];
}

/** Field ids compare with `-` and `_` as the same character, case-insensitively. */
export function fieldKey(id: string): string {
	return id.trim().toLowerCase().replace(/_/g, '-');
}

export function extraFieldDefinition(field: ExtraField, currency: string): IDataObject {
	const def: IDataObject = { id: field.id, labels: labels(field.label || field.id), type: field.type, required: false };
	if (field.type === 'currency') def.defaultCurrency = currency;
	if (field.type === 'number') def.scale = 0;
	if (field.type === 'decimal') def.scale = 2;
	if (field.type === 'dropdown' || field.type === 'multiselect') def.options = (field.options ?? []).map((value) => ({ value }));
	return def;
}

export function validateExtraFields(node: INode, fields: ExtraField[]): void {
	if (fields.length > MAX_EXTRA_FIELDS) {
		throw new NodeOperationError(node, `At most ${MAX_EXTRA_FIELDS} additional fields are allowed (got ${fields.length})`);
	}
	const fixed = new Set(Object.values(OPPORTUNITY_FIELDS).map(fieldKey));
	const seen = new Set<string>();
	for (const field of fields) {
		if (!/^[A-Za-z0-9_-]+$/.test(field.id)) {
			throw new NodeOperationError(node, `Field id "${field.id}" may contain letters, digits, "-" and "_" only`);
		}
		if (fixed.has(fieldKey(field.id))) throw new NodeOperationError(node, `Field id "${field.id}" is one of the fixed opportunity fields`);
		if (seen.has(fieldKey(field.id))) throw new NodeOperationError(node, `Field id "${field.id}" is given twice ("-" and "_" count as the same)`);
		seen.add(fieldKey(field.id));
		if (!CUSTOM_OBJECT_FIELD_TYPES.includes(field.type)) {
			throw new NodeOperationError(node, `Field "${field.id}" has type "${field.type}"; use one of ${CUSTOM_OBJECT_FIELD_TYPES.join(', ')}`);
		}
	}
}

export interface EnsureSchemaOptions {
	slug: string;
	singular: string;
	plural: string;
	currency: string;
	extraFields: ExtraField[];
}

/**
 * Creates the schema, or adds the fields and the contact relationship it lacks: one item. A preview (session.preview)
 * creates nothing and lists what it would create, one item each (see {@link previewSchema}).
 */
export async function ensureSchema(session: AcSession, node: INode, options: EnsureSchemaOptions): Promise<IDataObject[]> {
	validateExtraFields(node, options.extraFields);
	const wantedFields = [...opportunitySchemaFields(options.currency), ...options.extraFields.map((f) => extraFieldDefinition(f, options.currency))];
	const relationship = {
		id: PRIMARY_CONTACT,
		labels: { singular: 'Primary Contact', plural: 'Primary Contacts' },
		description: 'The contact this record belongs to',
		namespace: 'contacts',
		hasMany: false,
	};
	const existing = (await session.schemas(true)).find((s) => s.slug === options.slug);
	if (!existing && session.preview) return previewSchema(options, undefined, wantedFields, true);
	if (!existing) {
		const body = await session.request<IDataObject>({
			method: 'POST',
			path: '/api/3/customObjects/schemas',
			body: {
				schema: {
					slug: options.slug,
					labels: { singular: options.singular, plural: options.plural },
					description: 'Opportunities synced from Microsoft Dynamics 365 (one way, Dynamics → ActiveCampaign)',
					fields: wantedFields,
					relationships: [relationship],
				},
			},
		});
		const schema = body.schema as unknown as SchemaDef;
		await session.schemas(true);
		return [
			{
				operation: 'created',
				schemaId: schema.id,
				slug: schema.slug,
				fieldsAdded: wantedFields.map((f) => f.id as string),
				fields: liveFields(schema).map((f) => ({ id: f.id, type: f.type })),
			},
		];
	}
	const present = new Map(existing.fields.map((f) => [fieldKey(f.id), f]));
	const missing = wantedFields.filter((f) => !present.has(fieldKey(String(f.id))));
	const deleted = wantedFields.filter((f) => present.get(fieldKey(String(f.id)))?.status === 'marked_for_deletion');
	if (deleted.length) {
		throw new NodeOperationError(node, `Field id "${deleted[0].id}" was deleted from the schema and cannot be reused; choose another id`);
	}
	const mismatched = wantedFields.filter((f) => {
		const current = present.get(fieldKey(String(f.id)));
		return current && current.type !== f.type;
	});
	if (mismatched.length) {
		const f = mismatched[0];
		throw new NodeOperationError(
			node,
			`Field "${f.id}" exists in schema ${options.slug} with type "${present.get(fieldKey(String(f.id)))?.type}", not "${f.type}"; a field's type cannot change`,
		);
	}
	const needsRelationship = !existing.relationships.some((r) => r.id === PRIMARY_CONTACT);
	if (!missing.length && !needsRelationship) {
		const skipped: IDataObject = {
			operation: 'skipped',
			reason: SKIP_REASONS.noChanges,
			schemaId: existing.id,
			slug: existing.slug,
			fieldsAdded: [],
			fields: liveFields(existing).map((f) => ({ id: f.id, type: f.type })),
		};
		return [session.preview ? { ...skipped, preview: true } : skipped];
	}
	if (session.preview) return previewSchema(options, existing, missing, needsRelationship);
	const update: IDataObject = {};
	if (missing.length) update.fields = missing;
	if (needsRelationship) update.relationships = [relationship];
	const body = await session.request<IDataObject>({ method: 'PUT', path: `/api/3/customObjects/schemas/${existing.id}`, body: { schema: update } });
	const schema = body.schema as unknown as SchemaDef;
	await session.schemas(true);
	return [
		{
			operation: 'updated',
			schemaId: existing.id,
			slug: existing.slug,
			fieldsAdded: missing.map((f) => f.id as string),
			relationshipAdded: needsRelationship,
			fields: liveFields(schema ?? existing).map((f) => ({ id: f.id, type: f.type })),
		},
	];
}

/**
 * What Ensure Schema would create, one item each (`preview: true`, `operation: "created"`, `kind`: schema, field or
 * relationship, and its definition as `changes` from null): the schema when it is missing, each field it lacks, the
 * contact relationship when it lacks it.
 */
function previewSchema(options: EnsureSchemaOptions, existing: SchemaDef | undefined, fields: IDataObject[], relationship: boolean): IDataObject[] {
	const created = (kind: string, name: string, definition: IDataObject): IDataObject => ({
		preview: true,
		operation: 'created',
		kind,
		name,
		schemaId: existing?.id ?? null,
		slug: options.slug,
		changes: Object.entries(definition).map(([field, after]): PreviewChange => ({ field, before: null, after })),
	});
	const items: IDataObject[] = [];
	if (!existing) items.push(created('schema', options.slug, { slug: options.slug, singular: options.singular, plural: options.plural }));
	for (const f of fields) {
		const labels = f.labels as { singular?: string } | undefined;
		items.push(created('field', String(f.id), { label: labels?.singular ?? String(f.id), type: f.type, ...(f.defaultCurrency ? { defaultCurrency: f.defaultCurrency } : {}) }));
	}
	if (relationship) items.push(created('relationship', PRIMARY_CONTACT, { namespace: 'contacts', hasMany: false }));
	// One request makes all of it (the schema with its fields, or one update with what it lacks).
	items.forEach((item, k) => (item.writeRequests = k === 0 ? 1 : 0));
	return items;
}

function liveFields(schema: SchemaDef): SchemaField[] {
	return (schema.fields ?? []).filter((f) => f.status !== 'marked_for_deletion');
}

/** A record field value in the form ActiveCampaign accepts for the field's type. */
export function encodeRecordValue(field: SchemaField, value: unknown): { ok: true; value: unknown } | { ok: false; error: string } {
	if (value === undefined || value === null || value === '') return { ok: true, value: null };
	switch (field.type) {
		case 'date': {
			const d = toAcDate(value);
			return d.ok ? d : { ok: false, error: d.error };
		}
		case 'datetime': {
			const d = toAcDateTime(value);
			return d.ok ? { ok: true, value: new Date(Date.parse(d.value)).toISOString().replace(/\.000Z$/, 'Z') } : { ok: false, error: d.error };
		}
		case 'number':
		case 'decimal':
		case 'currency': {
			if (field.type === 'currency' && typeof value === 'object' && !Array.isArray(value)) return { ok: true, value };
			const n = typeof value === 'number' ? value : Number(String(value).trim());
			return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, error: `"${String(value)}" is not a number` };
		}
		case 'boolean':
			if (typeof value === 'boolean') return { ok: true, value };
			if (/^(true|1|yes)$/i.test(String(value))) return { ok: true, value: true };
			if (/^(false|0|no)$/i.test(String(value))) return { ok: true, value: false };
			return { ok: false, error: `"${String(value)}" is not true or false` };
		case 'multiselect':
			return { ok: true, value: multiValues(value) };
		default:
			return { ok: true, value: typeof value === 'object' ? JSON.stringify(value) : String(value) };
	}
}

export async function resolveSchema(session: AcSession, node: INode, key: string, itemIndex: number): Promise<SchemaDef> {
	const schema = await session.schema(key);
	// A preview creates no schema: the opportunity schema that Ensure Schema (or the first real write's run of it) would
	// create stands in, so that the records are previewed as the real run writes them.
	if (!schema && session.preview && key.trim() === OPPORTUNITY_SLUG) {
		return {
			id: standInId(OPPORTUNITY_SLUG),
			slug: OPPORTUNITY_SLUG,
			fields: opportunitySchemaFields('USD') as SchemaField[],
			relationships: [{ id: PRIMARY_CONTACT, namespace: 'contacts' }],
		};
	}
	if (!schema) {
		throw new NodeOperationError(node, `No custom object schema "${key}"`, {
			itemIndex,
			description: 'Run Custom Object → Ensure Schema first (it creates the "D365 Opportunity" schema), or check the slug.',
		});
	}
	return schema;
}

export interface RecordInput {
	schema: string;
	externalId: string;
	fields: IDataObject;
	contactEmail?: string;
	contactId?: string;
	relationship: string;
}

export async function upsertRecord(session: AcSession, node: INode, input: RecordInput, itemIndex: number): Promise<IDataObject> {
	const externalId = String(input.externalId ?? '').trim();
	if (!externalId) throw new NodeOperationError(node, 'An external id is needed (the Dynamics opportunity id)', { itemIndex });
	const schema = await resolveSchema(session, node, input.schema, itemIndex);
	const live = liveFields(schema);
	const fields: Array<{ id: string; value: unknown }> = [];
	for (const [key, raw] of Object.entries(input.fields ?? {})) {
		const field = live.find((f) => f.id === key) ?? live.find((f) => fieldKey(f.id) === fieldKey(key));
		if (!field) {
			throw new NodeOperationError(node, `Schema ${schema.slug} has no field "${key}"`, {
				itemIndex,
				description: `Its fields: ${live.map((f) => f.id).join(', ')}. Add fields with Ensure Schema.`,
			});
		}
		const encoded = encodeRecordValue(field, raw);
		if (!encoded.ok) throw new NodeOperationError(node, `Field "${field.id}" (${field.type}): ${encoded.error}`, { itemIndex });
		fields.push({ id: field.id, value: encoded.value });
	}

	let contactId = input.contactId ? String(input.contactId).trim() : '';
	if (!contactId && input.contactEmail && input.contactEmail.trim()) {
		const contact = await session.contactByEmail(input.contactEmail, itemIndex);
		if (contact) {
			contactId = String(contact.id);
		} else if (session.preview) {
			// In a preview the contact may be one an earlier step of the same run would create: it stands in.
			contactId = standInId(`contact ${input.contactEmail.trim().toLowerCase()}`);
		} else {
			throw new NodeOperationError(node, `No ActiveCampaign contact with email ${input.contactEmail} to relate the record to`, {
				itemIndex,
				description: 'Sync the contact first (the opportunity is linked to its primary contact).',
			});
		}
	}
	if (contactId && !schema.relationships.some((r) => r.id === input.relationship)) {
		throw new NodeOperationError(node, `Schema ${schema.slug} has no relationship "${input.relationship}"`, { itemIndex });
	}

	// A stand-in schema (a preview) holds no records yet.
	const currentBody = isStandIn(schema.id)
		? undefined
		: await session.request<IDataObject | undefined>({
				method: 'GET',
				path: `/api/3/customObjects/records/${schema.id}/external/${encodeURIComponent(externalId)}`,
				itemIndex,
				allowNotFound: true,
			});
	const current = currentBody?.record as IDataObject | undefined;
	if (current) {
		const currentFields = new Map(((current.fields as IDataObject[] | undefined) ?? []).map((f) => [String(f.id), f.value]));
		const changed = fields.filter((f) => !sameValue(valueOf(currentFields.get(f.id)), valueOf(f.value)));
		const related = ((current.relationships as IDataObject | undefined)?.[input.relationship] as unknown[] | undefined) ?? [];
		const relationChanged = contactId !== '' && !(related.length === 1 && String(related[0]) === contactId);
		if (!changed.length && !relationChanged) {
			return { operation: 'skipped', reason: SKIP_REASONS.noChanges, id: current.id, externalId, schemaId: schema.id, contactId: related[0] ?? null };
		}
	}
	if (session.preview) {
		session.planWrite(itemIndex);
		return previewRecord(current, externalId, schema.id, contactId, fields, input.relationship);
	}
	const record: IDataObject = { externalId, fields };
	if (contactId) record.relationships = { [input.relationship]: [Number(contactId)] };
	// An upsert by external id: sending it twice leaves one record.
	const body = await session.request<IDataObject>({
		method: 'POST',
		path: `/api/3/customObjects/records/${schema.id}`,
		body: { record },
		itemIndex,
		repeatable: true,
	});
	const saved = (body.record ?? {}) as IDataObject;
	return {
		operation: current ? 'updated' : 'created',
		id: saved.id ?? current?.id ?? null,
		externalId,
		schemaId: schema.id,
		contactId: contactId || null,
		fields: Object.fromEntries(fields.map((f) => [f.id, f.value])) as IDataObject,
	};
}

/**
 * What {@link upsertRecord} would write, nothing sent (a preview): created, or updated with the fields that differ
 * (the upsert sends them all) and the contact it would relate the record to.
 */
function previewRecord(
	current: IDataObject | undefined,
	externalId: string,
	schemaId: string,
	contactId: string,
	fields: Array<{ id: string; value: unknown }>,
	relationship: string,
): IDataObject {
	const currentFields = new Map(((current?.fields as IDataObject[] | undefined) ?? []).map((f) => [String(f.id), f.value]));
	const related = ((current?.relationships as IDataObject | undefined)?.[relationship] as unknown[] | undefined) ?? [];
	const changes: PreviewChange[] = [];
	for (const f of fields) {
		const before = current ? currentFields.get(f.id) : null;
		if (current && sameValue(valueOf(before), valueOf(f.value))) continue;
		changes.push({ field: f.id, before: (before ?? null) as PreviewChange['before'], after: (f.value ?? null) as PreviewChange['after'] });
	}
	if (contactId && !(related.length === 1 && String(related[0]) === contactId)) {
		changes.push({ field: relationship, before: related.length ? related.map(String).join(',') : null, after: contactId });
	}
	return {
		operation: current ? 'updated' : 'created',
		id: current?.id ?? null,
		externalId,
		schemaId,
		contactId: contactId || null,
		fields: Object.fromEntries(fields.map((f) => [f.id, f.value])) as IDataObject,
		changes,
		preview: true,
	};
}

/** Currency values may come back as `{ value, currency }`; compare the amounts. */
function valueOf(value: unknown): unknown {
	if (value && typeof value === 'object' && !Array.isArray(value) && 'value' in (value as object)) return (value as { value: unknown }).value;
	return value;
}
