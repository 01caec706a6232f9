/** Tags and contactTags, lists and contactLists, automations and contactAutomations. */
import { json, type Router } from '../../core/http';
import type { AcContext } from '../context';
import { asString, envelope, errors, fieldError, message, missingAttribute, noResult, orders, page } from '../respond';
import { toId, type Tag } from '../state';

const TAG_OPERATORS: Record<string, (name: string, wanted: string) => boolean> = {
	eq: (n, w) => n === w,
	neq: (n, w) => n !== w,
	lt: (n, w) => n < w,
	lte: (n, w) => n <= w,
	gt: (n, w) => n > w,
	gte: (n, w) => n >= w,
	contains: (n, w) => n.includes(w),
	starts_with: (n, w) => n.startsWith(w),
};

export function slugify(text: string): string {
	return text
		.trim()
		.replace(/[^A-Za-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '');
}

export function registerTagListAutomationRoutes(router: Router, ctx: AcContext): void {

	// ------------------------------------------------------------- tags

	router.post('/api/3/tags', (req) => {
		const body = envelope(req, 'tag');
		const name = asString(body?.tag)?.trim();
		if (!name) return fieldError('The tag name was not provided.', 'field_missing', 'tag');
		const tagType = asString(body?.tagType) ?? 'contact';
		if (tagType !== 'contact' && tagType !== 'template') return fieldError(`Invalid tag type "${tagType}".`, 'field_invalid', 'tagType');
		if (ctx.state.tagByName(name)) return fieldError('Duplicate entry', 'duplicate', 'tag', `A tag named "${name}" already exists.`);
		const tag = ctx.state.tags.insert({ tag: name, tagType, description: asString(body?.description) ?? '', cdate: ctx.now() });
		return json(201, { tag: ctx.ser.tag(tag) });
	});

	router.get('/api/3/tags', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		let rows = ctx.state.tags.values();
		const search = req.query.get('search');
		if (search) rows = rows.filter((t) => t.tag.toLowerCase().includes(search.trim().toLowerCase()));
		let filterValue: string | undefined;
		for (const [key, value] of req.query.entries()) {
			const m = /^filters\[search\](?:\[([a-z_]+)\])?$/.exec(key);
			if (!m) continue;
			const op = TAG_OPERATORS[m[1] ?? 'contains'];
			if (!op) return message(400, `Unsupported operator "${m[1]}" for filters[search].`);
			const wanted = value.trim().toLowerCase();
			filterValue = wanted;
			rows = rows.filter((t) => op(t.tag.toLowerCase(), wanted));
		}
		const order = orders(req).find((o) => o.field === 'search');
		const orderValue = req.query.get('orders[search]')?.toLowerCase();
		if (order && orderValue) {
			const wanted = (filterValue ?? search ?? '').trim().toLowerCase();
			const weight = (t: Tag) => {
				const n = t.tag.toLowerCase();
				return n === wanted ? 0 : n.startsWith(wanted) ? 1 : 2;
			};
			rows = [...rows].sort((a, b) => {
				if (orderValue === 'weight') return weight(a) - weight(b) || a.id - b.id;
				const diff = a.tag.localeCompare(b.tag, 'en', { sensitivity: 'base' });
				return orderValue === 'desc' ? -diff : diff;
			});
		}
		return json(200, {
			tags: rows.slice(offset, offset + limit).map((t) => ctx.ser.tag(t)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/tags/:id', (req) => {
		const tag = ctx.state.tags.get(req.params.id);
		if (!tag) return noResult('Tag', req.params.id);
		return json(200, { tag: ctx.ser.tag(tag, true) });
	});

	router.put('/api/3/tags/:id', (req) => {
		const tag = ctx.state.tags.get(req.params.id);
		if (!tag) return noResult('Tag', req.params.id);
		const body = envelope(req, 'tag') ?? {};
		const name = asString(body.tag)?.trim();
		if (name) {
			const other = ctx.state.tagByName(name);
			if (other && other.id !== tag.id) return fieldError('Duplicate entry', 'duplicate', 'tag', `A tag named "${name}" already exists.`);
			tag.tag = name;
		}
		const tagType = asString(body.tagType);
		if (tagType === 'contact' || tagType === 'template') tag.tagType = tagType;
		if (body.description !== undefined) tag.description = asString(body.description) ?? '';
		return json(200, { tag: ctx.ser.tag(tag) });
	});

	router.delete('/api/3/tags/:id', (req) => {
		const tag = ctx.state.tags.get(req.params.id);
		if (!tag) return noResult('Tag', req.params.id);
		ctx.service.deleteTag(tag);
		return json(200, {});
	});

	router.post('/api/3/contactTags', (req) => {
		const body = envelope(req, 'contactTag');
		if (!body || body.contact === undefined || body.contact === null || body.contact === '') return missingAttribute('contact');
		if (body.tag === undefined || body.tag === null || body.tag === '') return missingAttribute('tag');
		const contact = ctx.state.contacts.get(body.contact);
		if (!contact) return errors(404, [{ status: 404, title: 'Not Found', detail: 'Contact not found' }]);
		const tag = ctx.state.tags.get(body.tag);
		if (!tag) return errors(404, [{ status: 404, title: 'Not Found', detail: 'Tag not found' }]);
		const { ct, created } = ctx.service.addContactTag(contact.id, tag.id, 'api');
		if (!created) {
			if (ctx.settings.contactTagReAdd === 'duplicate') {
				return fieldError('The contact already has this tag.', 'duplicate', 'tag');
			}
			return json(ctx.settings.contactTagReAddStatus, { contactTag: ctx.ser.contactTag(ct) });
		}
		return json(201, { contactTag: ctx.ser.contactTag(ct) });
	});

	router.get('/api/3/contactTags/:id', (req) => {
		const ct = ctx.state.contactTags.get(req.params.id);
		if (!ct) return noResult('SubscriberTag', req.params.id);
		return json(200, { contactTag: ctx.ser.contactTag(ct) });
	});

	router.delete('/api/3/contactTags/:id', (req) => {
		const ct = ctx.state.contactTags.get(req.params.id);
		if (!ct) return noResult('SubscriberTag', req.params.id);
		ctx.service.removeContactTag(ct, 'api');
		return json(200, {});
	});

	// ------------------------------------------------------------- lists

	router.post('/api/3/lists', (req) => {
		const body = envelope(req, 'list');
		const name = asString(body?.name)?.trim();
		if (!name) return fieldError('The list name was not provided.', 'field_missing', 'name');
		const at = ctx.now();
		const list = ctx.state.lists.insert({
			name,
			stringid: asString(body?.stringid) ?? slugify(name).toLowerCase(),
			senderUrl: asString(body?.sender_url) ?? '',
			senderReminder: asString(body?.sender_reminder) ?? '',
			userid: toId(body?.user) ?? 1,
			cdate: at,
			udate: at,
		});
		// Documented as 200.
		return json(200, { list: ctx.ser.list(list) });
	});

	router.get('/api/3/lists', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		let rows = ctx.state.lists.values();
		for (const [key, value] of req.query.entries()) {
			const m = /^filters\[name\](?:\[([a-z_]+)\])?$/.exec(key);
			if (!m) continue;
			const op = TAG_OPERATORS[m[1] ?? 'contains'];
			if (!op) return message(400, `Unsupported operator "${m[1]}" for filters[name].`);
			rows = rows.filter((l) => op(l.name.toLowerCase(), value.trim().toLowerCase()));
		}
		return json(200, {
			lists: rows.slice(offset, offset + limit).map((l) => ctx.ser.list(l)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/lists/:id', (req) => {
		const list = ctx.state.lists.get(req.params.id);
		if (!list) return noResult('_List', req.params.id);
		return json(200, { list: ctx.ser.list(list) });
	});

	router.put('/api/3/lists/:id', (req) => {
		const list = ctx.state.lists.get(req.params.id);
		if (!list) return noResult('_List', req.params.id);
		const body = envelope(req, 'list') ?? {};
		const name = asString(body.name)?.trim();
		if (name) list.name = name;
		if (body.stringid !== undefined) list.stringid = asString(body.stringid) ?? list.stringid;
		if (body.sender_url !== undefined) list.senderUrl = asString(body.sender_url) ?? '';
		if (body.sender_reminder !== undefined) list.senderReminder = asString(body.sender_reminder) ?? '';
		list.udate = ctx.now();
		return json(200, { list: ctx.ser.list(list) });
	});

	router.delete('/api/3/lists/:id', (req) => {
		const list = ctx.state.lists.get(req.params.id);
		if (!list) return noResult('_List', req.params.id, 403);
		for (const cl of ctx.state.contactLists.values()) {
			if (cl.list !== list.id) continue;
			ctx.state.contactLists.delete(cl.id);
			ctx.state.contactListsByContact.remove(cl.contact, cl.id);
		}
		ctx.state.lists.delete(list.id);
		return json(200, {});
	});

	router.post('/api/3/contactLists', (req) => {
		const body = envelope(req, 'contactList');
		if (!body || body.list === undefined) return missingAttribute('list');
		if (body.contact === undefined) return missingAttribute('contact');
		if (body.status === undefined) return missingAttribute('status');
		const list = ctx.state.lists.get(body.list);
		if (!list) return fieldError('The related list does not exist.', 'related_missing', 'list');
		const contact = ctx.state.contacts.get(body.contact);
		if (!contact) return fieldError('The related contact does not exist.', 'related_missing', 'contact');
		const status = Number(body.status);
		if (![0, 1, 2, 3].includes(status)) return fieldError('Invalid status; use 1 to subscribe or 2 to unsubscribe.', 'field_invalid', 'status');
		const cl = ctx.service.setListStatus(contact, list.id, status, 'api', Number(body.sourceid ?? 0) || 0);
		const out = ctx.ser.contactList(cl);
		out.status = status;
		return json(200, { contacts: [ctx.ser.contact(contact)], contactList: out });
	});

	router.get('/api/3/contactLists/:id', (req) => {
		const cl = ctx.state.contactLists.get(req.params.id);
		if (!cl) return noResult('SubscriberList', req.params.id);
		return json(200, { contactList: ctx.ser.contactList(cl) });
	});

	// ------------------------------------------------------------- automations

	router.get('/api/3/automations', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		const rows = ctx.state.automations.values();
		return json(200, {
			automations: rows.slice(offset, offset + limit).map((a) => ctx.ser.automation(a)),
			meta: { total: String(rows.length), starts: [], filtered: false, smsLogs: [] },
		});
	});

	router.get('/api/3/automations/:id', (req) => {
		const automation = ctx.state.automations.get(req.params.id);
		if (!automation) return noResult('Series', req.params.id);
		return json(200, { automation: ctx.ser.automation(automation) });
	});

	router.post('/api/3/contactAutomations', (req) => {
		const body = envelope(req, 'contactAutomation');
		if (!body || body.contact === undefined) return missingAttribute('contact');
		if (body.automation === undefined) return missingAttribute('automation');
		const contact = ctx.state.contacts.get(body.contact);
		const automation = ctx.state.automations.get(body.automation);
		if (!contact || !automation) return message(403, 'Could not create SubscriberSeries');
		const ca = ctx.service.addToAutomation(contact.id, automation.id);
		return json(201, { contacts: [ctx.ser.contact(contact)], contactAutomation: ctx.ser.contactAutomation(ca) });
	});

	router.get('/api/3/contactAutomations', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		const contactId = req.query.get('filters[contact]');
		const automationId = req.query.get('filters[seriesid]') ?? req.query.get('filters[automation]');
		const rows = ctx.state.contactAutomations
			.values()
			.filter((ca) => (contactId ? String(ca.contact) === contactId.trim() : true))
			.filter((ca) => (automationId ? String(ca.automation) === automationId.trim() : true));
		return json(200, {
			contactAutomations: rows.slice(offset, offset + limit).map((ca) => ctx.ser.contactAutomation(ca)),
			meta: { total: String(rows.length), showcase_stats: [] },
		});
	});

	router.get('/api/3/contactAutomations/:id', (req) => {
		const ca = ctx.state.contactAutomations.get(req.params.id);
		if (!ca) return noResult('SubscriberSeries', req.params.id);
		return json(200, { contactAutomation: ctx.ser.contactAutomation(ca) });
	});

	router.delete('/api/3/contactAutomations/:id', (req) => {
		const ca = ctx.state.contactAutomations.get(req.params.id);
		// Documented as a 403 with this message.
		if (!ca) return noResult('SubscriberSeries', req.params.id, 403);
		ctx.service.removeContactAutomation(ca);
		return json(200, {});
	});
}
