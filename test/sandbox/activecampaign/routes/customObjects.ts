/**
 * Custom objects: schemas (unique slug, typed fields, relationships) and records with the documented
 * id/externalId matching rules of `POST /customObjects/records/{schemaId}`.
 */
import { empty, json, type Router, type SandboxRequest, type SandboxResponse } from '../../core/http';
import { header } from '../../core/http';
import type { AcContext } from '../context';
import { asString, coInvalid, envelope, errors, message } from '../respond';
import type { CoField, CoLabels, CoRecord, CoRelationship, CoSchema } from '../state';

export const CO_FIELD_TYPES = ['text', 'textarea', 'number', 'decimal', 'currency', 'date', 'datetime', 'dropdown', 'multiselect', 'boolean'];
const NAMESPACES = ['contacts', 'accounts', 'deals'];
const ICON = 'https://d226aj4ao1t61q.cloudfront.net/n9mayqo2d_customobject.png';

const schemaNotFound = () => message(404, 'Not Found');
const recordNotFound = () => errors(404, [{ status: 404, title: 'Not Found' }]);

function labelsOf(value: unknown): CoLabels | undefined {
	if (!value || typeof value !== 'object') return undefined;
	const v = value as Record<string, unknown>;
	const singular = asString(v.singular);
	const plural = asString(v.plural);
	return singular && plural ? { singular, plural } : undefined;
}

/** Field ids compare with `-` and `_` as the same character. */
function fieldKey(id: string): string {
	return id.toLowerCase().replace(/_/g, '-');
}

export function registerCustomObjectRoutes(router: Router, ctx: AcContext): void {

	const readField = (raw: unknown, existing?: CoField): { field?: CoField; error?: SandboxResponse } => {
		const v = (raw ?? {}) as Record<string, unknown>;
		const id = asString(v.id) ?? asString(v.slug);
		if (!id || !/^[A-Za-z0-9_-]+$/.test(id)) {
			return { error: coInvalid('schema.fields.id', 'Schema field ids may contain letters, digits, "-" and "_" only') };
		}
		const labels = labelsOf(v.labels) ?? existing?.labels;
		if (!labels) return { error: coInvalid('schema.fields.labels', 'Schema fields must provide labels') };
		const type = asString(v.type) ?? existing?.type;
		if (!type || !CO_FIELD_TYPES.includes(type)) {
			return { error: coInvalid('schema.fields.type', `Schema field type must be one of ${CO_FIELD_TYPES.join(', ')}`) };
		}
		if (existing && existing.type !== type) return { error: coInvalid('schema.fields.type', `The type of field "${id}" cannot be changed`) };
		const field: CoField = {
			id: existing?.id ?? id,
			labels,
			type,
			required: Boolean(v.required ?? v.isRequired ?? existing?.required ?? false),
		};
		const description = asString(v.description) ?? existing?.description;
		if (description !== undefined) field.description = description;
		if (type === 'number' || type === 'decimal') field.scale = Number(v.scale ?? existing?.scale ?? (type === 'decimal' ? 2 : 0)) || 0;
		if (type === 'currency') field.defaultCurrency = asString(v.defaultCurrency) ?? existing?.defaultCurrency ?? 'USD';
		if (type === 'dropdown' || type === 'multiselect') {
			const options = [...(existing?.options ?? [])];
			for (const o of Array.isArray(v.options) ? v.options : []) {
				const value = asString((o as Record<string, unknown>)?.value);
				if (value !== undefined && !options.some((x) => x.value === value)) options.push({ id: ctx.uuid(), value });
			}
			field.options = options;
		}
		return { field };
	};

	const readRelationship = (raw: unknown): { rel?: CoRelationship; error?: SandboxResponse } => {
		const v = (raw ?? {}) as Record<string, unknown>;
		const id = asString(v.id);
		if (!id) return { error: coInvalid('schema.relationships.id', 'Relationships must provide an id') };
		const labels = labelsOf(v.labels);
		if (!labels) return { error: coInvalid('schema.relationships.labels', 'Relationships must provide labels') };
		const namespace = asString(v.namespace);
		if (!namespace || !NAMESPACES.includes(namespace)) {
			return { error: coInvalid('schema.relationships.namespace', `Relationship namespace must be one of ${NAMESPACES.join(', ')}`) };
		}
		return { rel: { id, labels, description: asString(v.description) ?? '', namespace, hasMany: Boolean(v.hasMany) } };
	};

	/** Builds the schema a create or update would produce, without saving it. */
	const buildSchema = (body: Record<string, unknown>, existing?: CoSchema): { schema?: CoSchema; error?: SandboxResponse } => {
		const slug = existing?.slug ?? asString(body.slug);
		if (!slug || !/^[a-z0-9][a-z0-9_-]*$/i.test(slug)) return { error: coInvalid('schema.slug', 'Schema slug is required and may contain letters, digits, "-" and "_"') };
		if (!existing && ctx.state.schemaBySlug(slug)) return { error: coInvalid('schema.slug', 'Schema slug must be unique') };
		const labels = labelsOf(body.labels) ?? existing?.labels;
		if (!labels) return { error: coInvalid('schema.labels', 'Schema must provide singular and plural labels') };
		const fields: CoField[] = existing ? existing.fields.map((f) => ({ ...f })) : [];
		for (const raw of Array.isArray(body.fields) ? body.fields : []) {
			const id = asString((raw as Record<string, unknown>)?.id) ?? '';
			const index = fields.findIndex((f) => fieldKey(f.id) === fieldKey(id));
			const current = index >= 0 ? fields[index] : undefined;
			if (current && (current.status === 'marked_for_deletion' || current.id !== id)) {
				return { error: coInvalid('schema.fields.id', `Field id "${id}" is already in use`) };
			}
			if (!existing && current) return { error: coInvalid('schema.fields.id', `Field id "${id}" is already in use`) };
			const { field, error } = readField(raw, current);
			if (error) return { error };
			if (index >= 0) fields[index] = field!;
			else fields.push(field!);
		}
		const relationships: CoRelationship[] = existing ? existing.relationships.map((r) => ({ ...r })) : [];
		for (const raw of Array.isArray(body.relationships) ? body.relationships : []) {
			const { rel, error } = readRelationship(raw);
			if (error) return { error };
			const index = relationships.findIndex((r) => r.id === rel!.id);
			if (index >= 0) relationships[index] = rel!;
			else relationships.push(rel!);
		}
		const at = ctx.now();
		const schema: CoSchema = {
			id: existing?.id ?? ctx.uuid(),
			slug,
			visibility: existing?.visibility ?? 'private',
			labels,
			description: asString(body.description) ?? existing?.description ?? '',
			fields,
			relationships,
			icons: existing?.icons ?? { default: ICON },
			createdTimestamp: existing?.createdTimestamp ?? at,
			updatedTimestamp: at,
		};
		const appId = asString(body.appId) ?? existing?.appId;
		if (appId) schema.appId = appId;
		return { schema };
	};

	const showAll = (req: SandboxRequest) => req.query.get('showFields') === 'all';

	router.get('/api/3/customObjects/schemas', (req) => {
		const limit = Math.min(Math.max(Number(req.query.get('limit')) || 20, 1), 100);
		const offset = Math.max(Number(req.query.get('offset')) || 0, 0);
		const all = [...ctx.state.schemas.values()];
		const rows = all.slice(offset, offset + limit);
		return json(200, {
			schemas: rows.map((s) => ctx.ser.schema(s, showAll(req))),
			meta: { total: all.length, count: rows.length, limit, offset },
		});
	});

	router.post('/api/3/customObjects/schemas', (req) => {
		const body = envelope(req, 'schema');
		if (!body) return coInvalid('schema', 'A schema object is required');
		const { schema, error } = buildSchema(body);
		if (error) return error;
		ctx.state.schemas.set(schema!.id, schema!);
		return json(201, { schema: ctx.ser.schema(schema!, showAll(req)) });
	});

	router.get('/api/3/customObjects/schemas/:id', (req) => {
		const schema = ctx.state.schemas.get(req.params.id);
		if (!schema) return schemaNotFound();
		return json(200, { schema: ctx.ser.schema(schema, showAll(req)) });
	});

	router.put('/api/3/customObjects/schemas/:id', (req) => {
		const existing = ctx.state.schemas.get(req.params.id);
		if (!existing) return schemaNotFound();
		const body = envelope(req, 'schema') ?? {};
		const { schema, error } = buildSchema(body, existing);
		if (error) return error;
		const validateOnly = (header(req, 'validateOnly') ?? '').toLowerCase() === 'true';
		if (!validateOnly) ctx.state.schemas.set(schema!.id, schema!);
		return json(200, { schema: ctx.ser.schema(schema!, showAll(req)) });
	});

	router.delete('/api/3/customObjects/schemas/:id/fields/:fieldId', (req) => {
		const schema = ctx.state.schemas.get(req.params.id);
		if (!schema) return schemaNotFound();
		const field = schema.fields.find((f) => f.id === req.params.fieldId && f.status !== 'marked_for_deletion');
		if (!field) return errors(404, [{ status: 404, title: 'Not Found', detail: `Field ${req.params.fieldId} not found` }]);
		field.status = 'marked_for_deletion';
		schema.updatedTimestamp = ctx.now();
		return json(202, { schema: ctx.ser.schema(schema, showAll(req)) });
	});

	router.delete('/api/3/customObjects/schemas/:id', (req) => {
		const schema = ctx.state.schemas.get(req.params.id);
		if (!schema) return schemaNotFound();
		ctx.state.schemas.delete(schema.id);
		ctx.state.records.delete(schema.id);
		return empty(200);
	});

	// ------------------------------------------------------------- records

	const withSchema = (handler: (schema: CoSchema, req: SandboxRequest) => SandboxResponse) => (req: SandboxRequest) => {
		const schema = ctx.state.schemas.get(req.params.schemaId);
		return schema ? handler(schema, req) : schemaNotFound();
	};

	router.get(
		'/api/3/customObjects/records/:schemaId',
		withSchema((schema, req) => {
			const limit = Math.min(Math.max(Number(req.query.get('limit')) || 20, 1), 100);
			const offset = Math.max(Number(req.query.get('offset')) || 0, 0);
			let rows = [...ctx.state.recordsOf(schema.id).values()];
			for (const [key, value] of req.query.entries()) {
				const m = /^filters\[relationships\.([^\]]+)\]\[eq\]$/.exec(key);
				if (m) rows = rows.filter((r) => (r.relationships[m[1]] ?? []).includes(value.trim()));
				const ext = /^filters\[externalId\]\[eq\]$/.exec(key);
				if (ext) rows = rows.filter((r) => r.externalId === value);
			}
			const pageRows = rows.slice(offset, offset + limit);
			return json(200, {
				records: pageRows.map((r) => ctx.ser.record(r, schema)),
				meta: { total: rows.length, count: pageRows.length, limit, offset },
			});
		}),
	);

	router.post(
		'/api/3/customObjects/records/:schemaId',
		withSchema((schema, req) => {
			const body = envelope(req, 'record');
			if (!body) return errors(400, [{ status: 400, title: 'Bad Request' }]);
			return upsertRecord(ctx, schema, body);
		}),
	);

	const byExternal = withSchema((schema, req) => {
		const record = [...ctx.state.recordsOf(schema.id).values()].find((r) => r.externalId === req.params.externalId);
		return record ? json(200, { record: ctx.ser.record(record, schema) }) : recordNotFound();
	});
	router.get('/api/3/customObjects/records/:schemaId/external/:externalId', byExternal);
	// The generated spec lists this path without the customObjects prefix.
	router.get('/api/3/records/:schemaId/external/:externalId', byExternal);

	router.delete(
		'/api/3/customObjects/records/:schemaId/external/:externalId',
		withSchema((schema, req) => {
			const records = ctx.state.recordsOf(schema.id);
			const record = [...records.values()].find((r) => r.externalId === req.params.externalId);
			if (!record) return recordNotFound();
			records.delete(record.id);
			return empty(202);
		}),
	);

	router.get(
		'/api/3/customObjects/records/:schemaId/:recordId',
		withSchema((schema, req) => {
			const record = ctx.state.recordsOf(schema.id).get(req.params.recordId);
			return record ? json(200, { record: ctx.ser.record(record, schema) }) : recordNotFound();
		}),
	);

	router.delete(
		'/api/3/customObjects/records/:schemaId/:recordId',
		withSchema((schema, req) => {
			const records = ctx.state.recordsOf(schema.id);
			if (!records.delete(req.params.recordId)) return recordNotFound();
			return empty(202);
		}),
	);
}

/** Validates a field value against its schema field; the stored value or an error detail. */
function coerceFieldValue(field: CoField, value: unknown): { value?: unknown; problem?: string } {
	if (value === null) return { value: null };
	switch (field.type) {
		case 'text':
		case 'textarea':
			return typeof value === 'string' || typeof value === 'number' ? { value: String(value) } : { problem: `${field.id} must be a string` };
		case 'number':
		case 'decimal': {
			const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
			return typeof n === 'number' && Number.isFinite(n) ? { value: n } : { problem: `${field.id} must be a number` };
		}
		case 'currency': {
			if (value && typeof value === 'object') return { value };
			const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
			return typeof n === 'number' && Number.isFinite(n) ? { value: n } : { problem: `${field.id} must be a currency amount` };
		}
		case 'date':
			return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
				? { value }
				: { problem: `${field.id} must be a date (YYYY-MM-DD)` };
		case 'datetime':
			return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value))
				? { value }
				: { problem: `${field.id} must be an ISO-8601 date-time` };
		case 'boolean':
			return typeof value === 'boolean' ? { value } : { problem: `${field.id} must be true or false` };
		case 'dropdown': {
			const allowed = (field.options ?? []).map((o) => o.value);
			return typeof value === 'string' && allowed.includes(value) ? { value } : { problem: `${field.id} cannot accept a value that is not one of its options` };
		}
		case 'multiselect': {
			const allowed = (field.options ?? []).map((o) => o.value);
			const values = Array.isArray(value) ? value : [value];
			return values.every((v) => typeof v === 'string' && allowed.includes(v))
				? { value: values }
				: { problem: `${field.id} cannot accept a value that is not one of its options` };
		}
		default:
			return { value };
	}
}

/**
 * The documented matching table:
 * id matches + externalId matches → update; id matches + externalId differs → create (new id, given externalId);
 * id matches + externalId omitted → update; id unknown/omitted + externalId matches → update (id unchanged);
 * neither matches → create with a new id.
 */
export function upsertRecord(ctx: AcContext, schema: CoSchema, body: Record<string, unknown>): SandboxResponse {
	const records = ctx.state.recordsOf(schema.id);
	const id = asString(body.id);
	const externalId = body.externalId === undefined || body.externalId === null ? undefined : asString(body.externalId);
	const byId = id !== undefined ? records.get(id) : undefined;
	const byExternal = externalId !== undefined ? [...records.values()].find((r) => r.externalId === externalId) : undefined;

	let target: CoRecord | undefined;
	if (byId && (externalId === undefined || byId.externalId === externalId)) target = byId;
	else if (byExternal) target = byExternal;

	const fields = new Map<string, unknown>(target ? target.fields : []);
	const live = schema.fields.filter((f) => f.status !== 'marked_for_deletion');
	for (const raw of Array.isArray(body.fields) ? body.fields : []) {
		const entry = (raw ?? {}) as Record<string, unknown>;
		const fieldId = asString(entry.id) ?? '';
		const field = live.find((f) => f.id === fieldId);
		if (!field) return coInvalid(fieldId, `${fieldId} cannot accept a value that is not defined in the schema.`);
		const { value, problem } = coerceFieldValue(field, entry.value);
		if (problem) return coInvalid(fieldId, problem);
		if (value === null) fields.delete(field.id);
		else fields.set(field.id, value);
	}
	for (const field of live) {
		if (field.required && !fields.has(field.id)) return coInvalid(field.id, `${field.id} is required.`);
	}

	const relationships: Record<string, string[]> = { ...(target?.relationships ?? {}) };
	const rawRels = body.relationships;
	if (rawRels && typeof rawRels === 'object' && !Array.isArray(rawRels)) {
		for (const [relId, value] of Object.entries(rawRels as Record<string, unknown>)) {
			const rel = schema.relationships.find((r) => r.id === relId);
			if (!rel) return coInvalid(`relationships.${relId}`, `${relId} is not a relationship of this schema.`, `relationships/${relId}`);
			const ids = (Array.isArray(value) ? value : [value]).map((v) => asString(v)).filter((v): v is string => !!v);
			if (!rel.hasMany && ids.length > 1) return coInvalid(`relationships.${relId}`, `${relId} accepts a single id.`, `relationships/${relId}`);
			relationships[relId] = ids;
		}
	}

	const at = ctx.now();
	if (target) {
		const before = target.fields;
		target.fields = fields;
		target.relationships = relationships;
		target.updatedTimestamp = at;
		ctx.service.customObjectRecordSaved(schema, target, before);
		return json(ctx.settings.recordUpdateStatus, { record: ctx.ser.record(target, schema) });
	}
	const record: CoRecord = {
		id: ctx.uuid(),
		externalId: externalId ?? null,
		schemaId: schema.id,
		fields,
		relationships,
		createdTimestamp: at,
		updatedTimestamp: at,
	};
	records.set(record.id, record);
	ctx.service.customObjectRecordSaved(schema, record);
	return json(201, { record: ctx.ser.record(record, schema) });
}
