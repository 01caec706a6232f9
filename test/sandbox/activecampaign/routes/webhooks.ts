/** Webhook registry (`/webhooks`, `/webhook/events`). Delivery lives in ../webhooks.ts. */
import { json, type Router } from '../../core/http';
import type { AcContext } from '../context';
import { asString, envelope, fieldError, noResult, page } from '../respond';
import type { Webhook } from '../state';
import { EXTRA_WEBHOOK_EVENTS, WEBHOOK_EVENTS, WEBHOOK_SOURCES } from '../webhooks';

function stringArray(value: unknown): string[] | undefined {
	return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

export function registerWebhookRoutes(router: Router, ctx: AcContext): void {

	/** Validates the attributes present in `body` (all four are required when `create`). */
	const read = (body: Record<string, unknown>, create: boolean) => {
		const out: Partial<Omit<Webhook, 'id'>> = {};
		for (const key of ['name', 'url', 'events', 'sources'] as const) {
			if (create && (body[key] === undefined || body[key] === null || body[key] === '')) {
				return { error: fieldError(`The webhook ${key} was not provided.`, 'field_missing', key) };
			}
		}
		if (body.name !== undefined) out.name = asString(body.name) ?? '';
		if (body.url !== undefined) {
			const url = asString(body.url) ?? '';
			let parsed: URL;
			try {
				parsed = new URL(url);
			} catch {
				return { error: fieldError('The webhook url is not a valid URL.', 'field_invalid', 'url') };
			}
			if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
				return { error: fieldError('The webhook url must use http or https.', 'field_invalid', 'url') };
			}
			if (parsed.protocol === 'https:' && parsed.port && parsed.port !== '443') {
				return { error: fieldError('For https endpoints, webhooks can only be sent on port 443.', 'field_invalid', 'url') };
			}
			out.url = url;
		}
		if (body.events !== undefined) {
			const events = stringArray(body.events);
			const known = [...WEBHOOK_EVENTS, ...EXTRA_WEBHOOK_EVENTS];
			if (!events || events.length === 0) return { error: fieldError('events must be a non-empty array.', 'field_invalid', 'events') };
			const unknown = events.filter((e) => !known.includes(e));
			if (unknown.length) return { error: fieldError(`Unknown webhook event(s): ${unknown.join(', ')}`, 'field_invalid', 'events') };
			out.events = [...events];
		}
		if (body.sources !== undefined) {
			const sources = stringArray(body.sources);
			if (!sources || sources.length === 0) return { error: fieldError('sources must be a non-empty array.', 'field_invalid', 'sources') };
			const unknown = sources.filter((s) => !WEBHOOK_SOURCES.includes(s));
			if (unknown.length) return { error: fieldError(`Unknown webhook source(s): ${unknown.join(', ')}`, 'field_invalid', 'sources') };
			out.sources = [...sources];
		}
		if (body.listid !== undefined && body.listid !== null) {
			const listid = Number(body.listid);
			if (!Number.isInteger(listid) || listid < 0) return { error: fieldError('listid must be a list id or 0.', 'field_invalid', 'listid') };
			out.listid = listid;
		}
		return { out };
	};

	router.post('/api/3/webhooks', (req) => {
		const { out, error } = read(envelope(req, 'webhook') ?? {}, true);
		if (error) return error;
		const hook = ctx.state.webhooks.insert({
			name: out!.name!,
			url: out!.url!,
			events: out!.events!,
			sources: out!.sources!,
			listid: out!.listid ?? 0,
			cdate: ctx.now(),
			active: true,
		});
		return json(201, { webhook: ctx.ser.webhook(hook) });
	});

	router.get('/api/3/webhooks', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		const name = req.query.get('filters[name]');
		const url = req.query.get('filters[url]');
		const listid = req.query.get('filters[listid]');
		const rows = ctx.state.webhooks
			.values()
			.filter((w) => (name !== null ? w.name.toLowerCase() === name.toLowerCase() : true))
			.filter((w) => (url !== null ? w.url === url : true))
			.filter((w) => (listid !== null ? String(w.listid) === listid.trim() : true));
		return json(200, {
			webhooks: rows.slice(offset, offset + limit).map((w) => ctx.ser.webhook(w)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/webhooks/:id', (req) => {
		const hook = ctx.state.webhooks.get(req.params.id);
		if (!hook) return noResult('Webhook', req.params.id);
		return json(200, { webhook: ctx.ser.webhook(hook) });
	});

	router.put('/api/3/webhooks/:id', (req) => {
		const hook = ctx.state.webhooks.get(req.params.id);
		if (!hook) return noResult('Webhook', req.params.id);
		const { out, error } = read(envelope(req, 'webhook') ?? {}, false);
		if (error) return error;
		Object.assign(hook, out);
		// Saving a hook again re-activates one that a 410 switched off.
		hook.active = true;
		return json(200, { webhook: ctx.ser.webhook(hook) });
	});

	router.delete('/api/3/webhooks/:id', (req) => {
		const hook = ctx.state.webhooks.get(req.params.id);
		if (!hook) return noResult('Webhook', req.params.id);
		ctx.state.webhooks.delete(hook.id);
		return json(200, {});
	});

	router.get('/api/3/webhook/events', () => json(200, { webhookEvents: WEBHOOK_EVENTS, meta: { total: WEBHOOK_EVENTS.length } }));
}
