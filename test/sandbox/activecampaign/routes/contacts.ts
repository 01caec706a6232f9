/** Contacts: create, sync (upsert by email), list/search/filter, get with side-loads, update, delete. */
import { json, type Router, type SandboxRequest, type SandboxResponse } from '../../core/http';
import type { AcContext } from '../context';
import {
	asString,
	compareValues,
	envelope,
	fieldError,
	isValidEmail,
	message,
	noResult,
	orders,
	page,
} from '../respond';
import { md5 } from '../serialize';
import { fieldValueProblem, type ContactInput, type FieldValueInput } from '../service';
import { toId, type Contact } from '../state';
import { toSecond } from '../time';

export function duplicateEmail(): SandboxResponse {
	return fieldError('Email address already exists in the system', 'duplicate', 'email');
}

/** The error AC answers for a malformed address (seen in public client fixtures). */
export function invalidEmail(): SandboxResponse {
	return json(422, {
		errors: [
			{
				title: 'Contact Email Address is not valid.',
				detail: '',
				code: 'email_invalid',
				error: 'must_be_valid_email_address',
				source: { pointer: '/data/attributes/email' },
			},
		],
	});
}

/** Reads `{contact: {...}}` attributes and inline `fieldValues`; an error response when a value is rejected. */
export function readContactBody(
	ctx: AcContext,
	body: Record<string, unknown> | undefined,
): { input: ContactInput; fieldValues: FieldValueInput[]; error?: SandboxResponse } {
	const input: ContactInput = {};
	const fieldValues: FieldValueInput[] = [];
	if (!body) return { input, fieldValues };
	input.email = asString(body.email);
	input.firstName = asString(body.firstName);
	input.lastName = asString(body.lastName);
	input.phone = asString(body.phone);
	const raw = Array.isArray(body.fieldValues) ? body.fieldValues : [];
	for (const item of raw) {
		if (!item || typeof item !== 'object') continue;
		const entry = item as Record<string, unknown>;
		const fieldId = toId(entry.field);
		const field = fieldId === undefined ? undefined : ctx.state.fields.rows.get(fieldId);
		// Unknown field ids are skipped (see README: known differences).
		if (!field) continue;
		const value = entry.value === null ? null : (asString(entry.value) ?? '');
		const error = checkFieldValue(ctx, field.id, value);
		if (error) return { input, fieldValues, error };
		fieldValues.push({ field: field.id, value });
	}
	return { input, fieldValues };
}

export function checkFieldValue(ctx: AcContext, fieldId: number, value: string | null): SandboxResponse | undefined {
	if (ctx.settings.fieldValueValidation !== 'reject') return undefined;
	const field = ctx.state.fields.rows.get(fieldId);
	if (!field) return undefined;
	const problem = fieldValueProblem(
		field,
		value,
		ctx.state.fieldOptionsOf(field.id).map((o) => o.value),
	);
	return problem
		? fieldError(`Invalid value for field "${field.title}"`, 'field_invalid', `fieldValues/${field.id}`, problem)
		: undefined;
}

function contactResponse(ctx: AcContext, status: number, contact: Contact): SandboxResponse {
	return json(status, {
		fieldValues: ctx.state.fieldValuesOf(contact.id).map((fv) => ctx.ser.fieldValue(fv)),
		contact: ctx.ser.contact(contact, { relations: false }),
	});
}

export function registerContactRoutes(router: Router, ctx: AcContext): void {

	router.post('/api/3/contacts', (req) => {
		const body = envelope(req, 'contact');
		const { input, fieldValues, error } = readContactBody(ctx, body);
		if (error) return error;
		const email = (input.email ?? '').trim();
		if (!email || !isValidEmail(email)) return invalidEmail();
		if (ctx.state.contactByEmailAddress(email)) return duplicateEmail();
		const contact = ctx.service.createContact({ ...input, email }, fieldValues, 'api');
		return contactResponse(ctx, 201, contact);
	});

	router.post('/api/3/contact/sync', (req) => {
		const body = envelope(req, 'contact');
		const { input, fieldValues, error } = readContactBody(ctx, body);
		if (error) return error;
		const email = (input.email ?? '').trim();
		if (!email || !isValidEmail(email)) return invalidEmail();
		const existing = ctx.state.contactByEmailAddress(email);
		if (existing) {
			// Matching is case-insensitive; the stored address keeps its spelling.
			ctx.service.updateContact(existing, { ...input, email: undefined }, fieldValues, 'api');
			return contactResponse(ctx, ctx.settings.contactSyncUpdateStatus, existing);
		}
		const contact = ctx.service.createContact({ ...input, email }, fieldValues, 'api');
		return contactResponse(ctx, 201, contact);
	});

	router.get('/api/3/contacts', (req) => listContacts(ctx, req));

	router.get('/api/3/contacts/:id', (req) => {
		const contact = ctx.state.contacts.get(req.params.id);
		if (!contact) return noResult('Subscriber', req.params.id);
		return json(200, {
			contactAutomations: ctx.state.contactAutomationsOf(contact.id).map((ca) => ctx.ser.contactAutomation(ca)),
			contactLists: ctx.state.contactListsOf(contact.id).map((cl) => ctx.ser.contactList(cl)),
			deals: [],
			fieldValues: ctx.state.fieldValuesOf(contact.id).map((fv) => ctx.ser.fieldValue(fv)),
			geoAddresses: [],
			geoIps: [],
			contact: ctx.ser.contact(contact, { relations: true }),
		});
	});

	router.put('/api/3/contacts/:id', (req) => {
		const contact = ctx.state.contacts.get(req.params.id);
		if (!contact) return noResult('Subscriber', req.params.id);
		const { input, fieldValues, error } = readContactBody(ctx, envelope(req, 'contact'));
		if (error) return error;
		if (input.email !== undefined) {
			const email = input.email.trim();
			if (!isValidEmail(email)) return invalidEmail();
			const other = ctx.state.contactByEmailAddress(email);
			if (other && other.id !== contact.id) return duplicateEmail();
			input.email = email;
		}
		ctx.service.updateContact(contact, input, fieldValues, 'api');
		return contactResponse(ctx, 200, contact);
	});

	router.delete('/api/3/contacts/:id', (req) => {
		const contact = ctx.state.contacts.get(req.params.id);
		if (!contact) return message(404, `No result found for contact with id ${req.params.id}`);
		ctx.service.deleteContact(contact);
		return json(200, {});
	});

	const withContact = (handler: (contact: Contact) => SandboxResponse) => (req: SandboxRequest) => {
		const contact = ctx.state.contacts.get(req.params.id);
		return contact ? handler(contact) : noResult('Subscriber', req.params.id);
	};

	router.get(
		'/api/3/contacts/:id/fieldValues',
		withContact((c) => json(200, { fieldValues: ctx.state.fieldValuesOf(c.id).map((fv) => ctx.ser.fieldValue(fv)) })),
	);
	router.get(
		'/api/3/contacts/:id/contactTags',
		withContact((c) => json(200, { contactTags: ctx.state.contactTagsOf(c.id).map((ct) => ctx.ser.contactTag(ct)) })),
	);
	router.get(
		'/api/3/contacts/:id/contactLists',
		withContact((c) => json(200, { contactLists: ctx.state.contactListsOf(c.id).map((cl) => ctx.ser.contactList(cl)) })),
	);
	router.get(
		'/api/3/contacts/:id/contactAutomations',
		withContact((c) =>
			json(200, { contactAutomations: ctx.state.contactAutomationsOf(c.id).map((ca) => ctx.ser.contactAutomation(ca)) }),
		),
	);
	router.get(
		'/api/3/contacts/:id/accountContacts',
		withContact((c) => {
			const ac = ctx.state.accountContactOf(c.id);
			return json(200, { accountContacts: ac ? [ctx.ser.accountContact(ac)] : [] });
		}),
	);
	// Relations the sandbox does not model answer with their documented empty envelopes.
	for (const name of ['bounceLogs', 'trackingLogs', 'deals', 'contactDeals', 'notes', 'geoIps', 'scoreValues', 'contactLogs', 'contactGoals']) {
		router.get(
			`/api/3/contacts/:id/${name}`,
			withContact(() => json(200, { [name]: [] })),
		);
	}
}

type ContactSort = (a: Contact, b: Contact) => number;

const ORDERABLE: Record<string, (c: Contact) => string | number> = {
	id: (c) => c.id,
	cdate: (c) => c.cdate,
	email: (c) => c.email.toLowerCase(),
	first_name: (c) => c.firstName.toLowerCase(),
	last_name: (c) => c.lastName.toLowerCase(),
	name: (c) => `${c.firstName} ${c.lastName}`.trim().toLowerCase(),
};

/**
 * `include` on the contact list: absent from ActiveCampaign's reference for this endpoint, but used by real clients
 * (`include=fieldValues`, `include=contactTags.tag`, `include=fieldValues,contactTags.tag,contactAutomations`) and
 * answered as on a single contact: each related object once, in a top-level array beside `contacts`, and each contact
 * naming its related ids. Names it does not know are ignored.
 */
const INCLUDABLE = ['fieldValues', 'contactTags', 'contactLists', 'contactAutomations'] as const;

function includes(raw: string | null): Set<string> {
	return new Set((raw ?? '').split(',').map((name) => name.trim()).filter(Boolean));
}

function sideLoads(ctx: AcContext, contacts: Contact[], raw: string | null): Record<string, unknown> {
	const wanted = includes(raw);
	const out: Record<string, unknown> = {};
	const { state, ser } = ctx;
	if (wanted.has('fieldValues')) out.fieldValues = contacts.flatMap((c) => state.fieldValuesOf(c.id).map((fv) => ser.fieldValue(fv)));
	if (wanted.has('contactTags') || wanted.has('contactTags.tag')) {
		const contactTags = contacts.flatMap((c) => state.contactTagsOf(c.id));
		out.contactTags = contactTags.map((ct) => ser.contactTag(ct));
		if (wanted.has('contactTags.tag')) {
			const tagIds = [...new Set(contactTags.map((ct) => ct.tag))];
			out.tags = tagIds.flatMap((id) => {
				const tag = state.tags.rows.get(id);
				return tag ? [ser.tag(tag)] : [];
			});
		}
	}
	if (wanted.has('contactLists')) out.contactLists = contacts.flatMap((c) => state.contactListsOf(c.id).map((cl) => ser.contactList(cl)));
	if (wanted.has('contactAutomations')) out.contactAutomations = contacts.flatMap((c) => state.contactAutomationsOf(c.id).map((ca) => ser.contactAutomation(ca)));
	return out;
}

function withRelations(ctx: AcContext, contact: Contact, raw: string | null): Record<string, unknown> {
	const wanted = includes(raw);
	const out = ctx.ser.contact(contact);
	const { state } = ctx;
	const ids: Record<(typeof INCLUDABLE)[number], () => string[]> = {
		fieldValues: () => state.fieldValuesOf(contact.id).map((fv) => String(fv.id)),
		contactTags: () => state.contactTagsOf(contact.id).map((ct) => String(ct.id)),
		contactLists: () => state.contactListsByContact.get(contact.id).map(String),
		contactAutomations: () => state.contactAutomationsByContact.get(contact.id).map(String),
	};
	for (const name of INCLUDABLE) if (wanted.has(name) || (name === 'contactTags' && wanted.has('contactTags.tag'))) out[name] = ids[name]();
	return out;
}

function listContacts(ctx: AcContext, req: SandboxRequest): SandboxResponse {
	const { settings } = ctx;
	const q = req.query;
	const { limit, offset } = page(req, settings.defaultLimit, settings.maxLimit);
	const predicates: Array<(c: Contact) => boolean> = [];

	const ids = [...q.getAll('ids[]'), ...q.getAll('ids')]
		.flatMap((v) => v.split(','))
		.map(toId)
		.filter((n): n is number => n !== undefined);
	if (ids.length > 0) {
		const wanted = new Set(ids);
		predicates.push((c) => wanted.has(c.id));
	}
	const email = q.get('email');
	if (email) {
		const wanted = email.trim().toLowerCase();
		predicates.push((c) => c.email.toLowerCase() === wanted);
	}
	const emailLike = q.get('email_like');
	if (emailLike) {
		const wanted = emailLike.trim().toLowerCase();
		predicates.push((c) => c.email.toLowerCase().includes(wanted));
	}
	const exclude = toId(q.get('exclude'));
	if (exclude !== undefined) predicates.push((c) => c.id !== exclude);
	const idGreater = Number(q.get('id_greater'));
	if (q.has('id_greater') && Number.isFinite(idGreater)) predicates.push((c) => c.id > idGreater);
	const idLess = Number(q.get('id_less'));
	if (q.has('id_less') && Number.isFinite(idLess)) predicates.push((c) => c.id < idLess);
	const phone = q.get('phone');
	if (phone) predicates.push((c) => c.phone.startsWith(phone));
	const search = q.get('search');
	if (search) {
		const wanted = search.trim().toLowerCase();
		predicates.push((c) => {
			const org = ctx.state.accountOf(c.id)?.name ?? '';
			return [c.email, c.firstName, c.lastName, `${c.firstName} ${c.lastName}`, c.phone, org].some((v) =>
				v.toLowerCase().includes(wanted),
			);
		});
	}
	const tagId = toId(q.get('tagid'));
	if (q.get('tagid') && q.get('tagid') !== '0') {
		const members = new Set<number>();
		for (const ct of ctx.state.contactTags.rows.values()) if (ct.tag === tagId) members.add(ct.contact);
		predicates.push((c) => members.has(c.id));
	}
	const listId = toId(q.get('listid'));
	const status = Number(q.get('status') ?? -1);
	const statusFilter = Number.isFinite(status) && status !== -1 ? status : undefined;
	if ((q.get('listid') && q.get('listid') !== '0') || statusFilter !== undefined) {
		const members = new Set<number>();
		for (const cl of ctx.state.contactLists.rows.values()) {
			if (q.get('listid') && q.get('listid') !== '0' && cl.list !== listId) continue;
			if (statusFilter !== undefined && cl.status !== statusFilter) continue;
			members.add(cl.contact);
		}
		predicates.push((c) => members.has(c.id));
	}
	const seriesId = toId(q.get('seriesid'));
	if (q.get('seriesid') && q.get('seriesid') !== '0') {
		const members = new Set<number>();
		for (const ca of ctx.state.contactAutomations.rows.values()) if (ca.automation === seriesId) members.add(ca.contact);
		predicates.push((c) => members.has(c.id));
	}
	for (const [param, key, after] of [
		['filters[created_after]', 'cdate', true],
		['filters[created_before]', 'cdate', false],
		['filters[updated_after]', 'udate', true],
		['filters[updated_before]', 'udate', false],
	] as const) {
		const raw = q.get(param);
		if (raw === null || raw === '') continue;
		const parsed = ctx.time.parse(raw);
		if (parsed === undefined) {
			return message(400, `${param} must be a date: YYYY-MM-DD, YYYY-MM-DD HH:MM:SS (account time) or ISO-8601.`);
		}
		const bound = toSecond(parsed);
		const inclusive = settings.dateFilterInclusive;
		predicates.push((c) => {
			const at = toSecond(c[key]);
			if (after) return inclusive ? at >= bound : at > bound;
			return inclusive ? at <= bound : at < bound;
		});
	}

	let rows: Contact[] = [];
	for (const contact of ctx.state.contacts.rows.values()) {
		if (predicates.every((p) => p(contact))) rows.push(contact);
	}
	const sorts = orders(req).filter((o) => ORDERABLE[o.field]);
	if (sorts.length > 0) {
		const compare: ContactSort = (a, b) => {
			for (const { field, desc } of sorts) {
				const get = ORDERABLE[field];
				const diff = compareValues(get(a), get(b));
				if (diff !== 0) return desc ? -diff : diff;
			}
			return a.id - b.id;
		};
		rows = rows.sort(compare);
	}
	const total = rows.length;
	const pageRows = rows.slice(offset, offset + limit);
	const include = settings.listInclude === 'sideLoad' ? q.get('include') : null;
	return json(200, {
		scoreValues: [],
		...sideLoads(ctx, pageRows, include),
		contacts: pageRows.map((c) => withRelations(ctx, c, include)),
		meta: {
			total: String(total),
			page_input: {
				segmentid: Number(q.get('segmentid') ?? 0) || 0,
				formid: Number(q.get('formid') ?? 0) || 0,
				listid: listId ?? 0,
				tagid: tagId ?? 0,
				limit,
				offset,
				search: search ?? null,
				sort: null,
				seriesid: seriesId ?? 0,
				waitid: Number(q.get('waitid') ?? 0) || 0,
				status: statusFilter ?? -1,
				forceQuery: Number(q.get('forceQuery') ?? 0) || 0,
				cacheid: md5(req.rawQuery),
			},
		},
	});
}
