/**
 * Engagement: the contact activity feed, campaigns (with aggregates computed from the recorded activity),
 * messages, and the legacy v1 `campaign_send` action. Also the read-only `/users` endpoints clients use to test
 * a key.
 */
import { bodyForm, header, json, type Router, type SandboxRequest } from '../../core/http';
import type { AcContext } from '../context';
import { asString, envelope, message, noResult, orders, page } from '../respond';
import { toId } from '../state';

export const SANDBOX_USER = {
	username: 'admin',
	firstName: 'Sandbox',
	lastName: 'Admin',
	email: 'admin@example.com',
	phone: '',
	signature: null,
};

export function registerEngagementRoutes(router: Router, ctx: AcContext): void {

	router.get('/api/3/activities', (req) => {
		const contactParam = req.query.get('contact');
		if (!contactParam) return message(400, 'The contact parameter is required.');
		const contactId = toId(contactParam);
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		let rows = contactId === undefined ? [] : ctx.state.activitiesByContact.get(contactId).map((id) => ctx.state.activities.rows.get(id)!);
		const afterRaw = req.query.get('after');
		if (afterRaw) {
			const after = ctx.time.parse(afterRaw);
			if (after === undefined) return message(400, 'after must be a date and time.');
			rows = rows.filter((a) => a.tstamp > after);
		}
		const desc = orders(req).find((o) => o.field === 'tstamp')?.desc ?? true;
		rows.sort((a, b) => (desc ? b.tstamp - a.tstamp || b.id - a.id : a.tstamp - b.tstamp || a.id - b.id));
		const pageRows = rows.slice(offset, offset + limit);
		const include = (req.query.get('include') ?? '').split(',').map((s) => s.trim());
		const out: Record<string, unknown> = {};
		const contact = contactId === undefined ? undefined : ctx.state.contacts.rows.get(contactId);
		if (contact && include.some((i) => i === 'contact' || i === 'reference.contact')) out.contacts = [ctx.ser.contact(contact)];
		if (include.some((i) => i.startsWith('reference.campaign') && i !== 'reference.campaignMessage')) {
			const ids = new Set(pageRows.map((a) => a.campaign));
			out.campaigns = [...ids].map((id) => ctx.state.campaigns.rows.get(id)).filter(Boolean).map((c) => ctx.ser.campaign(c!));
		}
		if (include.some((i) => i === 'reference.campaignMessage' || i === 'reference.campaign.campaignMessage')) {
			const ids = new Set(pageRows.map((a) => a.message));
			out.campaignMessages = [...ids].map((id) => ctx.state.messages.rows.get(id)).filter(Boolean).map((m) => ctx.ser.message(m!));
		}
		if (include.includes('reference.link')) {
			const ids = new Set(pageRows.map((a) => a.link).filter((id): id is number => id !== null));
			out.links = [...ids].map((id) => ctx.state.campaignLinks.rows.get(id)).filter(Boolean).map((l) => ctx.ser.campaignLink(l!));
		}
		out.activities = pageRows.map((a) => ctx.ser.activity(a));
		out.meta = { total: String(rows.length) };
		return json(200, out);
	});

	router.get('/api/3/campaigns', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		let rows = ctx.state.campaigns.values();
		const series = req.query.get('filters[seriesid]');
		if (series) rows = rows.filter((c) => String(c.seriesid) === series.trim());
		const sort = orders(req).find((o) => o.field === 'sdate' || o.field === 'ldate');
		if (sort) {
			const key = sort.field as 'sdate' | 'ldate';
			rows.sort((a, b) => ((a[key] ?? 0) - (b[key] ?? 0)) * (sort.desc ? -1 : 1) || a.id - b.id);
		}
		return json(200, {
			campaigns: rows.slice(offset, offset + limit).map((c) => ctx.ser.campaign(c)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/campaigns/:id', (req) => {
		const campaign = ctx.state.campaigns.get(req.params.id);
		if (!campaign) return noResult('Campaign', req.params.id);
		return json(200, { campaign: ctx.ser.campaign(campaign) });
	});

	router.get('/api/3/campaigns/:id/links', (req) => {
		const campaign = ctx.state.campaigns.get(req.params.id);
		if (!campaign) return noResult('Campaign', req.params.id);
		return json(200, {
			links: ctx.state.campaignLinks
				.values()
				.filter((l) => l.campaign === campaign.id)
				.map((l) => ctx.ser.campaignLink(l)),
		});
	});

	router.get('/api/3/messages', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		const rows = ctx.state.messages.values();
		return json(200, {
			messages: rows.slice(offset, offset + limit).map((m) => ctx.ser.message(m)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/messages/:id', (req) => {
		const m = ctx.state.messages.get(req.params.id);
		if (!m) return noResult('Message', req.params.id);
		return json(200, { message: ctx.ser.message(m) });
	});

	router.post('/api/3/messages', (req) => {
		const body = envelope(req, 'message');
		const fromemail = asString(body?.fromemail) ?? asString(body?.email);
		const fromname = asString(body?.fromname);
		const reply2 = asString(body?.reply2);
		if (!body || !fromname || !fromemail || !reply2) return message(400, 'fromname, email (fromemail) and reply2 are required.');
		const at = ctx.now();
		const m = ctx.state.messages.insert({
			campaign: toId(body.campaign) ?? 0,
			subject: asString(body.subject) ?? '',
			fromname,
			fromemail,
			reply2,
			preheaderText: asString(body.preheader_text) ?? '',
			text: asString(body.text) ?? '',
			html: asString(body.html) ?? '',
			cdate: at,
			mdate: at,
		});
		return json(201, { message: ctx.ser.message(m) });
	});

	router.put('/api/3/messages/:id', (req) => {
		const m = ctx.state.messages.get(req.params.id);
		if (!m) return noResult('Message', req.params.id);
		const body = envelope(req, 'message') ?? {};
		for (const [key, prop] of [
			['fromname', 'fromname'],
			['fromemail', 'fromemail'],
			['reply2', 'reply2'],
			['subject', 'subject'],
			['preheader_text', 'preheaderText'],
			['text', 'text'],
			['html', 'html'],
		] as const) {
			const value = asString(body[key]);
			if (value !== undefined) m[prop] = value;
		}
		m.mdate = ctx.now();
		return json(200, { message: ctx.ser.message(m) });
	});

	router.delete('/api/3/messages/:id', (req) => {
		const m = ctx.state.messages.get(req.params.id);
		if (!m) return noResult('Message', req.params.id);
		ctx.state.messages.delete(m.id);
		return json(200, {});
	});

	const user = { ...SANDBOX_USER, links: {}, id: '1' };
	router.get('/api/3/users/me', () => json(200, { user }));
	router.get('/api/3/users', () => json(200, { users: [user], meta: { total: '1' } }));
	router.get('/api/3/users/:id', (req) => (req.params.id === '1' ? json(200, { user }) : noResult('User', req.params.id)));

	// ------------------------------------------------------------- legacy v1

	const v1 = (req: SandboxRequest) => handleV1(ctx, req);
	router.get('/admin/api.php', v1);
	router.post('/admin/api.php', v1);
}

/** v1 answers 200 with `result_code` 1/0 whatever happened. */
function v1Result(code: 0 | 1, text: string, extra: Record<string, unknown> = {}) {
	return json(200, { ...extra, result_code: code, result_message: text, result_output: 'json' });
}

export function v1Unauthorized() {
	return v1Result(0, 'You are not authorized to access this file');
}

export function v1Key(req: SandboxRequest): string | undefined {
	return header(req, 'api-token') || req.query.get('api_key') || undefined;
}

function handleV1(ctx: AcContext, req: SandboxRequest) {
	const params = new URLSearchParams(req.query);
	const contentType = header(req, 'content-type') ?? '';
	if (req.method === 'POST' && (contentType.includes('application/x-www-form-urlencoded') || contentType === '')) {
		for (const [k, v] of bodyForm(req)) params.set(k, v);
	}
	const action = params.get('api_action');
	if (!action) return v1Result(1, 'API key is valid');
	if (action !== 'campaign_send') return v1Result(0, `The sandbox does not implement api_action=${action}`);

	const { service } = ctx;
	const email = params.get('email') ?? '';
	const contact = ctx.state.contactByEmailAddress(email);
	if (!email || !contact) return v1Result(0, 'Contact not found');
	const campaign = ctx.state.campaigns.get(params.get('campaignid'));
	if (!campaign) return v1Result(0, 'Campaign not found');
	const messageId = toId(params.get('messageid'));
	const campaignMessages = ctx.state.messages.values().filter((m) => m.campaign === campaign.id);
	const msg = messageId === undefined ? campaignMessages[0] : campaignMessages.find((m) => m.id === messageId);
	if (!msg) return v1Result(0, 'Message not found');
	const action2 = (params.get('action') ?? '').toLowerCase();
	switch (action2) {
		case 'send':
			service.recordActivity(contact.id, 'sent', campaign.id, msg.id, null, 'api');
			return v1Result(1, 'Message sent');
		case 'copy':
		case 'test':
			return v1Result(1, 'Message sent');
		case 'source':
		case 'preview':
			return v1Result(1, 'Message source generated', { source: msg.html });
		case 'messagesize':
			return v1Result(1, 'Message size calculated', { size: Buffer.byteLength(msg.html) });
		case 'spamcheck':
			return v1Result(1, 'Spam check completed', { spamrate: 0 });
		default:
			return v1Result(0, 'Invalid action; use send, copy, test, source, messagesize, spamcheck or preview');
	}
}
