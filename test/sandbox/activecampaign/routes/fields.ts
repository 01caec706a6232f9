/** Custom contact fields, their options and list relations, and contact field values. */
import { json, type Router, type SandboxResponse } from '../../core/http';
import type { AcContext } from '../context';
import { asString, bodyObject, envelope, errors, fieldError, missingAttribute, noResult, page } from '../respond';
import { toId, type Field, type FieldType, type FieldValue } from '../state';
import { checkFieldValue } from './contacts';

export const FIELD_TYPES: FieldType[] = [
	'text',
	'textarea',
	'date',
	'datetime',
	'dropdown',
	'radio',
	'checkbox',
	'listbox',
	'hidden',
	'number',
	'NULL',
];

function duplicateTitle(title: string): SandboxResponse {
	return errors(422, [
		{
			title: 'There is already a field with this title',
			detail: `There is already a field named '${title}' -- choose another name`,
			code: 'duplicate',
		},
	]);
}

export function perstagFrom(text: string): string {
	return text
		.trim()
		.toUpperCase()
		.replace(/[^A-Z0-9]+/g, '_')
		.replace(/^_+|_+$/g, '');
}

export function uniquePerstag(ctx: AcContext, wanted: string, exceptId?: number): string {
	const taken = new Set(
		ctx.state.fields
			.values()
			.filter((f) => f.id !== exceptId)
			.map((f) => f.perstag),
	);
	let candidate = wanted || 'FIELD';
	for (let i = 2; taken.has(candidate); i++) candidate = `${wanted}_${i}`;
	return candidate;
}

export function registerFieldRoutes(router: Router, ctx: AcContext): void {
	const fieldResponse = (field: Field) => ctx.ser.field(field);

	router.post('/api/3/fields', (req) => {
		const body = envelope(req, 'field');
		const title = asString(body?.title)?.trim();
		const type = asString(body?.type);
		if (!title) return fieldError('The field title was not provided.', 'field_missing', 'title');
		if (!type) return fieldError('The field type was not provided.', 'field_missing', 'type');
		if (!FIELD_TYPES.includes(type as FieldType)) return fieldError(`Invalid field type "${type}".`, 'field_invalid', 'type');
		if (ctx.state.fields.values().some((f) => f.title.toLowerCase() === title.toLowerCase())) return duplicateTitle(title);
		const at = ctx.now();
		const perstagInput = asString(body?.perstag);
		const field = ctx.state.fields.insert({
			title,
			descript: asString(body?.descript) ?? null,
			type: type as FieldType,
			isrequired: Number(body?.isrequired ?? 0) ? 1 : 0,
			perstag: uniquePerstag(ctx, perstagInput ? perstagInput.toUpperCase().replace(/[^A-Z0-9_]/g, '') : perstagFrom(title)),
			defval: asString(body?.defval) ?? null,
			visible: body?.visible === undefined ? 1 : Number(body.visible) ? 1 : 0,
			ordernum: Number(body?.ordernum ?? ctx.state.fields.size + 1) || ctx.state.fields.size + 1,
			service: asString(body?.service) ?? '',
			cdate: at,
			udate: at,
		});
		const out = fieldResponse(field);
		// The vendor example for this call shows the list envelope; clients in the wild read `field`. Both are given.
		return json(201, { field: out, fieldOptions: [], fieldRels: [], fields: [out] });
	});

	router.get('/api/3/fields', (req) => {
		const { limit, offset } = page(req, 100, ctx.settings.maxLimit);
		let rows = ctx.state.fields.values();
		const perstag = req.query.get('filters[perstag]');
		if (perstag) rows = rows.filter((f) => f.perstag.toLowerCase() === perstag.trim().toLowerCase());
		const total = rows.length;
		rows = rows.slice(offset, offset + limit);
		const ids = new Set(rows.map((f) => f.id));
		return json(200, {
			fieldOptions: ctx.state.fieldOptions
				.values()
				.filter((o) => ids.has(o.field))
				.map((o) => ctx.ser.fieldOption(o)),
			fieldRels: ctx.state.fieldRels
				.values()
				.filter((r) => ids.has(r.field))
				.map((r) => ctx.ser.fieldRel(r)),
			fields: rows.map(fieldResponse),
			meta: { total: String(total) },
		});
	});

	router.get('/api/3/fields/:id', (req) => {
		const field = ctx.state.fields.get(req.params.id);
		if (!field) return noResult('Field', req.params.id);
		return json(200, {
			fieldOptions: ctx.state.fieldOptionsOf(field.id).map((o) => ctx.ser.fieldOption(o)),
			fieldRels: ctx.state.fieldRels
				.values()
				.filter((r) => r.field === field.id)
				.map((r) => ctx.ser.fieldRel(r)),
			field: fieldResponse(field),
		});
	});

	router.get('/api/3/fields/:id/options', (req) => {
		const field = ctx.state.fields.get(req.params.id);
		if (!field) return noResult('Field', req.params.id);
		return json(200, { fieldOptions: ctx.state.fieldOptionsOf(field.id).map((o) => ctx.ser.fieldOption(o)) });
	});

	router.put('/api/3/fields/:id', (req) => {
		const field = ctx.state.fields.get(req.params.id);
		if (!field) return noResult('Field', req.params.id);
		const body = envelope(req, 'field') ?? {};
		const title = asString(body.title)?.trim();
		if (title && ctx.state.fields.values().some((f) => f.id !== field.id && f.title.toLowerCase() === title.toLowerCase())) {
			return duplicateTitle(title);
		}
		const type = asString(body.type);
		if (type && !FIELD_TYPES.includes(type as FieldType)) return fieldError(`Invalid field type "${type}".`, 'field_invalid', 'type');
		if (title) field.title = title;
		if (type) field.type = type as FieldType;
		if (body.descript !== undefined) field.descript = asString(body.descript) ?? null;
		if (body.defval !== undefined) field.defval = asString(body.defval) ?? null;
		if (body.perstag !== undefined) {
			field.perstag = uniquePerstag(ctx, (asString(body.perstag) ?? '').toUpperCase().replace(/[^A-Z0-9_]/g, ''), field.id);
		}
		if (body.visible !== undefined) field.visible = Number(body.visible) ? 1 : 0;
		if (body.isrequired !== undefined) field.isrequired = Number(body.isrequired) ? 1 : 0;
		if (body.ordernum !== undefined) field.ordernum = Number(body.ordernum) || field.ordernum;
		if (body.service !== undefined) field.service = asString(body.service) ?? '';
		field.udate = ctx.now();
		return json(200, { field: fieldResponse(field) });
	});

	router.delete('/api/3/fields/:id', (req) => {
		const field = ctx.state.fields.get(req.params.id);
		if (!field) return noResult('Field', req.params.id);
		for (const fv of ctx.state.fieldValues.values()) {
			if (fv.field !== field.id) continue;
			ctx.state.fieldValues.delete(fv.id);
			ctx.state.fieldValueByContact.get(fv.contact)?.delete(field.id);
		}
		for (const o of ctx.state.fieldOptionsOf(field.id)) ctx.state.fieldOptions.delete(o.id);
		for (const r of ctx.state.fieldRels.values()) if (r.field === field.id) ctx.state.fieldRels.delete(r.id);
		ctx.state.fields.delete(field.id);
		return json(200, {});
	});

	router.post('/api/3/fieldOption/bulk', (req) => {
		const list = bodyObject(req).fieldOptions;
		const bulkFailed = json(422, { errors: 'Bulk operation failed. Request must contain an array of fieldOption objects.' });
		if (!Array.isArray(list) || list.length === 0) return bulkFailed;
		const prepared: Array<{ field: number; label: string; value: string; orderid: number; isdefault: number }> = [];
		for (const item of list) {
			if (!item || typeof item !== 'object') return bulkFailed;
			const entry = item as Record<string, unknown>;
			const fieldId = toId(entry.field);
			if (fieldId === undefined) return missingAttribute('field');
			if (!ctx.state.fields.rows.has(fieldId)) return noResult('Field', String(entry.field));
			const value = asString(entry.value);
			if (value === undefined) return missingAttribute('value');
			prepared.push({
				field: fieldId,
				value,
				label: asString(entry.label) ?? value,
				orderid: Number(entry.orderid ?? ctx.state.fieldOptionsOf(fieldId).length + prepared.length + 1) || 0,
				isdefault: entry.isdefault === true || Number(entry.isdefault) === 1 ? 1 : 0,
			});
		}
		const at = ctx.now();
		const created = prepared.map((p) => ctx.state.fieldOptions.insert({ ...p, cdate: at, udate: at }));
		return json(201, { fieldOptions: created.map((o) => ctx.ser.fieldOption(o)) });
	});

	router.delete('/api/3/fieldOptions/:id', (req) => {
		const option = ctx.state.fieldOptions.get(req.params.id);
		if (!option) return noResult('FieldOption', req.params.id);
		ctx.state.fieldOptions.delete(option.id);
		return json(200, {});
	});

	router.post('/api/3/fieldRels', (req) => {
		const body = envelope(req, 'fieldRel');
		const fieldId = toId(body?.field);
		if (fieldId === undefined) return missingAttribute('field');
		if (!ctx.state.fields.rows.has(fieldId)) return noResult('Field', String(body?.field));
		const relid = Number(body?.relid ?? 0);
		if (!Number.isInteger(relid) || relid < 0 || (relid > 0 && !ctx.state.lists.rows.has(relid))) {
			return fieldError('The related list does not exist.', 'related_missing', 'relid');
		}
		const rel = ctx.state.fieldRels.insert({ field: fieldId, relid, dorder: 0, cdate: ctx.now() });
		return json(201, {
			fieldRel: { relid: rel.relid, field: rel.field, cdate: ctx.time.iso(rel.cdate), links: [], id: String(rel.id) },
		});
	});

	router.delete('/api/3/fieldRels/:id', (req) => {
		const rel = ctx.state.fieldRels.get(req.params.id);
		if (!rel) return noResult('FieldRel', req.params.id);
		ctx.state.fieldRels.delete(rel.id);
		return json(200, {});
	});

	// ------------------------------------------------------------- values

	const valueResponse = (fv: FieldValue) => {
		const contact = ctx.state.contacts.rows.get(fv.contact);
		return json(200, { contacts: contact ? [ctx.ser.contact(contact)] : [], fieldValue: ctx.ser.fieldValue(fv) });
	};

	router.get('/api/3/fieldValues', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		const fieldId = req.query.get('filters[fieldid]');
		const val = req.query.get('filters[val]');
		const rows = ctx.state.fieldValues
			.values()
			.filter((fv) => (fieldId ? String(fv.field) === fieldId.trim() : true))
			.filter((fv) => (val !== null ? (fv.value ?? '') === val : true));
		return json(200, {
			fieldValues: rows.slice(offset, offset + limit).map((fv) => ctx.ser.fieldValue(fv)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/fieldValues/:id', (req) => {
		const fv = ctx.state.fieldValues.get(req.params.id);
		// Documented as a 403 with this message.
		if (!fv) return noResult('FieldValue', req.params.id, 403);
		return json(200, { fieldValue: ctx.ser.fieldValue(fv) });
	});

	router.post('/api/3/fieldValues', (req) => {
		const body = envelope(req, 'fieldValue');
		if (!body || body.contact === undefined) return missingAttribute('contact');
		if (body.field === undefined) return missingAttribute('field');
		if (body.value === undefined) return missingAttribute('value');
		const contact = ctx.state.contacts.get(body.contact);
		if (!contact) return noResult('Subscriber', String(body.contact));
		const field = ctx.state.fields.get(body.field);
		if (!field) return noResult('Field', String(body.field));
		const value = body.value === null ? null : (asString(body.value) ?? '');
		const problem = checkFieldValue(ctx, field.id, value);
		if (problem) return problem;
		return valueResponse(ctx.service.setFieldValue(contact, field.id, value, 'api'));
	});

	router.put('/api/3/fieldValues/:id', (req) => {
		const fv = ctx.state.fieldValues.get(req.params.id);
		if (!fv) return noResult('FieldValue', req.params.id);
		const body = envelope(req, 'fieldValue') ?? {};
		if (body.value === undefined) return missingAttribute('value');
		const value = body.value === null ? null : (asString(body.value) ?? '');
		const problem = checkFieldValue(ctx, fv.field, value);
		if (problem) return problem;
		const contact = ctx.state.contacts.rows.get(fv.contact);
		if (!contact) return noResult('Subscriber', fv.contact);
		return valueResponse(ctx.service.setFieldValue(contact, fv.field, value, 'api'));
	});

	router.delete('/api/3/fieldValues/:id', (req) => {
		const fv = ctx.state.fieldValues.get(req.params.id);
		if (!fv) return noResult('FieldValue', req.params.id);
		ctx.service.deleteFieldValue(fv, 'api');
		return json(200, {});
	});
}
