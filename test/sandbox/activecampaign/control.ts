/**
 * Simulator-specific control endpoints under `/__sandbox/`: bulk seeding, free state reads, "UI user" edits
 * (source `admin`, so webhooks fire with `initiated_from=admin`), engagement events, webhook and import helpers.
 * None of them is counted or throttled.
 */
import { bodyJson, json, Router, type SandboxResponse } from '../core/http';
import type { AcContext } from './context';
import type { BulkImporter } from './routes/bulkImport';
import { upsertRecord } from './routes/customObjects';
import { seedBulk, type BulkSeedOptions } from './seed';
import { ANY_VALUE, type FieldValueInput } from './service';
import { toId, type ActivityKind, type AutomationTrigger, type CoSchema, type Contact } from './state';

export interface ContactDetail {
	contact: Record<string, unknown>;
	tags: string[];
	contactTags: Array<{ id: string; tag: string; name: string }>;
	/** perstag → value */
	fields: Record<string, string | null>;
	fieldValues: Array<{ id: string; field: string; perstag: string; value: string | null }>;
	lists: Array<{ list: string; name: string; status: number }>;
	account: { id: string; name: string; jobTitle: string; accountContactId: string } | null;
	automations: Array<{ id: string; automation: string; name: string; status: number }>;
	activities: Array<{ id: string; kind: ActivityKind; tstamp: string; campaign: string; link: string | null }>;
}

export function contactDetail(ctx: AcContext, contact: Contact): ContactDetail {
	const { state, ser, time } = ctx;
	const fieldValues = state.fieldValuesOf(contact.id).map((fv) => ({
		id: String(fv.id),
		field: String(fv.field),
		perstag: state.fields.rows.get(fv.field)?.perstag ?? '',
		value: fv.value,
	}));
	const ac = state.accountContactOf(contact.id);
	const account = ac ? state.accounts.rows.get(ac.account) : undefined;
	return {
		contact: ser.contact(contact, { relations: true }),
		tags: state.tagNamesOf(contact.id),
		contactTags: state.contactTagsOf(contact.id).map((ct) => ({
			id: String(ct.id),
			tag: String(ct.tag),
			name: state.tags.rows.get(ct.tag)?.tag ?? '',
		})),
		fields: Object.fromEntries(fieldValues.map((fv) => [fv.perstag, fv.value])),
		fieldValues,
		lists: state.contactListsOf(contact.id).map((cl) => ({
			list: String(cl.list),
			name: state.lists.rows.get(cl.list)?.name ?? '',
			status: cl.status,
		})),
		account: ac && account ? { id: String(account.id), name: account.name, jobTitle: ac.jobTitle, accountContactId: String(ac.id) } : null,
		automations: state.contactAutomationsOf(contact.id).map((ca) => ({
			id: String(ca.id),
			automation: String(ca.automation),
			name: state.automations.rows.get(ca.automation)?.name ?? '',
			status: ca.status,
		})),
		activities: state.activitiesByContact.get(contact.id).map((id) => {
			const a = state.activities.rows.get(id)!;
			return { id: String(a.id), kind: a.kind, tstamp: time.iso(a.tstamp)!, campaign: String(a.campaign), link: a.link ? String(a.link) : null };
		}),
	};
}

/**
 * The two triggers the builder offers for each contact custom object (a schema related to contacts): "[Object]
 * Created" and "[Object] Updated", named after the object's singular label.
 */
function objectTriggers(ctx: AcContext): Array<{ name: string; type: AutomationTrigger['type']; schemaId: string; schema: CoSchema }> {
	return [...ctx.state.schemas.values()]
		.filter((schema) => schema.relationships.some((r) => r.namespace === 'contacts'))
		.flatMap((schema) => [
			{ name: `${schema.labels.singular} Created`, type: 'customObjectCreated' as const, schemaId: schema.id, schema },
			{ name: `${schema.labels.singular} Updated`, type: 'customObjectUpdated' as const, schemaId: schema.id, schema },
		]);
}

function obj(value: unknown): Record<string, unknown> {
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function strings(value: unknown): string[] {
	return Array.isArray(value) ? value.map((v) => String(v)) : [];
}

export function buildControlRouter(ctx: AcContext, importer: BulkImporter): Router {
	const router = new Router();
	const { service } = ctx;
	const state = () => ctx.state;
	const bad = (text: string, status = 400) => json(status, { error: text });

	/** `[{field|perstag|title, value}]` → field ids; an error for an unknown field. */
	const readFieldValues = (raw: unknown): { values: FieldValueInput[]; error?: SandboxResponse } => {
		const values: FieldValueInput[] = [];
		for (const item of Array.isArray(raw) ? raw : []) {
			const entry = obj(item);
			const key = String(entry.field ?? entry.perstag ?? entry.title ?? '');
			const field =
				state().fields.get(key) ??
				state()
					.fields.values()
					.find((f) => f.perstag.toLowerCase() === key.toLowerCase() || f.title.toLowerCase() === key.toLowerCase());
			if (!field) return { values, error: bad(`Unknown field "${key}"`) };
			values.push({ field: field.id, value: entry.value === null ? null : String(entry.value ?? '') });
		}
		return { values };
	};

	/** Tags, lists and account of a "UI" edit. */
	const applyExtras = (contact: Contact, body: Record<string, unknown>): SandboxResponse | undefined => {
		for (const name of [...strings(body.tags), ...strings(body.addTags)]) {
			const tag = state().tags.get(name) ?? service.ensureTag(name);
			service.addContactTag(contact.id, tag.id, 'admin');
		}
		for (const name of strings(body.removeTags)) {
			const tag = state().tags.get(name) ?? state().tagByName(name);
			const ct = tag ? state().contactTagsOf(contact.id).find((c) => c.tag === tag.id) : undefined;
			if (ct) service.removeContactTag(ct, 'admin');
		}
		for (const [key, status] of [
			['lists', 1],
			['subscribe', 1],
			['unsubscribe', 2],
		] as const) {
			for (const id of strings(body[key])) {
				const list = state().lists.get(id);
				if (!list) return bad(`Unknown list ${id}`);
				service.setListStatus(contact, list.id, status, 'admin');
			}
		}
		if (typeof body.account === 'string' && body.account.trim()) {
			const name = body.account.trim();
			const account = state().accountByName(name) ?? service.createAccount(name, null, 1, [], 'admin');
			const current = state().accountContactOf(contact.id);
			if (!current) service.addAccountContact(contact.id, account.id, String(body.jobTitle ?? ''), 'admin');
			else service.updateAccountContact(current, { account: account.id, jobTitle: body.jobTitle === undefined ? undefined : String(body.jobTitle) }, 'admin');
		}
		return undefined;
	};

	router
		.post('/seed', (req) => {
			const body = bodyJson<BulkSeedOptions>(req) ?? ({} as BulkSeedOptions);
			if (!Number.isFinite(body.contacts) || body.contacts < 0) return bad('Give "contacts": <number>.');
			const started = Date.now();
			const result = seedBulk(ctx, body);
			return json(200, { ok: true, ...result, totalContacts: state().contacts.size, ms: Date.now() - started });
		})
		.get('/state/contacts', (req) => {
			const email = req.query.get('email');
			if (email) {
				const contact = state().contactByEmailAddress(email);
				return json(200, { contacts: contact ? [contactDetail(ctx, contact)] : [] });
			}
			const limit = Math.min(Number(req.query.get('limit') ?? 100) || 100, 5000);
			const offset = Number(req.query.get('offset') ?? 0) || 0;
			const rows = state().contacts.values();
			return json(200, {
				total: rows.length,
				contacts: rows.slice(offset, offset + limit).map((c) => ({
					id: String(c.id),
					email: c.email,
					firstName: c.firstName,
					lastName: c.lastName,
					phone: c.phone,
					cdate: ctx.time.iso(c.cdate),
					udate: ctx.time.iso(c.udate),
				})),
			});
		})
		.get('/state/contacts/:id', (req) => {
			const contact = state().contacts.get(req.params.id) ?? state().contactByEmailAddress(req.params.id);
			return contact ? json(200, contactDetail(ctx, contact)) : bad(`No contact ${req.params.id}`, 404);
		})
		.get('/state/accounts', () =>
			json(200, {
				accounts: state()
					.accounts.values()
					.map((a) => ({
						...ctx.ser.account(a, { counts: true, fields: true }),
						customFields: state()
							.accountFieldData.values()
							.filter((d) => d.accountId === a.id)
							.map((d) => ({
								id: String(d.customFieldId),
								label: state().accountFieldMeta.rows.get(d.customFieldId)?.fieldLabel ?? '',
								value: d.fieldValue,
								currency: d.fieldCurrency,
							})),
						contacts: state()
							.accountContactsByAccount.get(a.id)
							.map((id) => String(state().accountContacts.rows.get(id)?.contact)),
					})),
			}),
		)
		.get('/state/customObjects', () =>
			json(200, {
				schemas: [...state().schemas.values()].map((s) => ({ ...ctx.ser.schema(s, true), recordCount: state().recordsOf(s.id).size })),
			}),
		)
		.get('/state/customObjects/:slug/records', (req) => {
			const schema = state().schemaBySlug(req.params.slug) ?? state().schemas.get(req.params.slug);
			if (!schema) return bad(`No schema ${req.params.slug}`, 404);
			return json(200, {
				schema: ctx.ser.schema(schema, true),
				records: [...state().recordsOf(schema.id).values()].map((r) => ctx.ser.record(r, schema)),
			});
		})
		.get('/state/webhooks', () =>
			json(200, { webhooks: state().webhooks.values().map((w) => ({ ...ctx.ser.webhook(w), active: w.active })) }),
		)
		.get('/state/webhookDeliveries', async (req) => {
			if (req.query.get('wait') !== null) await ctx.webhooks.drain();
			const type = req.query.get('type');
			return json(200, {
				pending: ctx.webhooks.pending,
				deliveries: ctx.webhooks.deliveries.filter((d) => (type ? d.type === type : true)),
				suppressed: ctx.webhooks.suppressed,
			});
		})
		.post('/webhooks/drain', async () => {
			await ctx.webhooks.drain();
			return json(200, { ok: true, deliveries: ctx.webhooks.deliveries.length });
		})
		.get('/state/imports', () =>
			json(200, {
				imports: [...state().imports.values()].map((b) => ({
					batchId: b.batchId,
					status: importer.status(b),
					queued: b.contacts.length,
					createdAt: ctx.time.iso(b.createdAt),
					completedAt: ctx.time.iso(b.completedAt),
					success: b.success,
					failure: b.failure,
				})),
				callbacks: importer.callbacks,
				bulkImportRequestsLastMinute: { multi: importer.multiWindow.count, single: importer.singleWindow.count },
			}),
		)
		.post('/imports/flush', () => {
			importer.flush();
			return json(200, { ok: true });
		})
		.post('/ui/contacts', (req) => {
			const body = obj(bodyJson(req));
			const email = String(body.email ?? '').trim();
			if (!email) return bad('email is required');
			if (state().contactByEmailAddress(email)) return bad(`A contact with email ${email} exists`, 409);
			const { values, error } = readFieldValues(body.fieldValues);
			if (error) return error;
			const contact = service.createContact(
				{ email, firstName: body.firstName as string | undefined, lastName: body.lastName as string | undefined, phone: body.phone as string | undefined },
				values,
				'admin',
			);
			const problem = applyExtras(contact, body);
			if (problem) return problem;
			return json(201, contactDetail(ctx, contact));
		})
		.patch('/ui/contacts/:id', (req) => {
			const contact = state().contacts.get(req.params.id) ?? state().contactByEmailAddress(req.params.id);
			if (!contact) return bad(`No contact ${req.params.id}`, 404);
			const body = obj(bodyJson(req));
			const { values, error } = readFieldValues(body.fieldValues);
			if (error) return error;
			if (typeof body.email === 'string') {
				const other = state().contactByEmailAddress(body.email);
				if (other && other.id !== contact.id) return bad(`A contact with email ${body.email} exists`, 409);
			}
			service.updateContact(
				contact,
				{
					email: body.email as string | undefined,
					firstName: body.firstName as string | undefined,
					lastName: body.lastName as string | undefined,
					phone: body.phone as string | undefined,
				},
				values,
				'admin',
			);
			const problem = applyExtras(contact, body);
			if (problem) return problem;
			return json(200, contactDetail(ctx, contact));
		})
		.delete('/ui/contacts/:id', (req) => {
			const contact = state().contacts.get(req.params.id);
			if (!contact) return bad(`No contact ${req.params.id}`, 404);
			service.deleteContact(contact);
			return json(200, { ok: true });
		})
		.post('/ui/accounts', (req) => {
			const body = obj(bodyJson(req));
			const name = String(body.name ?? '').trim();
			if (!name) return bad('name is required');
			if (state().accountByName(name)) return bad(`An account named ${name} exists`, 409);
			const account = service.createAccount(name, (body.accountUrl as string | undefined) ?? null, 1, [], 'admin');
			return json(201, { account: ctx.ser.account(account, { fields: true }) });
		})
		.patch('/ui/accounts/:id', (req) => {
			const account = state().accounts.get(req.params.id);
			if (!account) return bad(`No account ${req.params.id}`, 404);
			const body = obj(bodyJson(req));
			let fieldsChanged = false;
			for (const item of Array.isArray(body.fields) ? body.fields : []) {
				const entry = obj(item);
				const meta =
					state().accountFieldMeta.get(entry.id ?? entry.customFieldId) ??
					state()
						.accountFieldMeta.values()
						.find((m) => m.fieldLabel.toLowerCase() === String(entry.label ?? '').toLowerCase());
				if (!meta) return bad(`Unknown account field ${JSON.stringify(entry)}`);
				const currency = typeof entry.currency === 'string' ? entry.currency : null;
				if (service.writeAccountFieldValue(account.id, meta.id, entry.value, currency).changed) fieldsChanged = true;
			}
			service.updateAccount(
				account,
				{ name: body.name as string | undefined, accountUrl: body.accountUrl as string | undefined },
				fieldsChanged,
				'admin',
			);
			return json(200, { account: ctx.ser.account(account, { fields: true }) });
		})
		.post('/ui/customObjects/:slug/records', (req) => {
			const schema = state().schemaBySlug(req.params.slug) ?? state().schemas.get(req.params.slug);
			if (!schema) return bad(`No schema ${req.params.slug}`, 404);
			return upsertRecord(ctx, schema, obj(obj(bodyJson(req)).record ?? bodyJson(req)));
		})
		// The automation builder: the triggers it offers for contact custom objects, and an automation started by one.
		.get('/automationTriggers', () => json(200, { triggers: objectTriggers(ctx).map(({ name, type, schemaId }) => ({ name, type, schemaId })) }))
		.post('/automations', (req) => {
			const body = obj(bodyJson(req));
			const wanted = obj(body.trigger);
			const offered = objectTriggers(ctx);
			const trigger = offered.find((t) => t.name === wanted.name);
			if (typeof body.name !== 'string' || !body.name.trim()) return bad('Give the automation a name.');
			if (!trigger) return bad(`No trigger "${String(wanted.name)}"; the builder offers: ${offered.map((t) => t.name).join(', ') || 'none (no contact custom object)'}`);
			if (trigger.type === 'customObjectUpdated' && !trigger.schema.fields.some((f) => f.id === wanted.field)) {
				return bad(`"${trigger.name}" needs a field of the object: ${trigger.schema.fields.map((f) => f.id).join(', ')}`);
			}
			const at = ctx.now();
			const automation = state().automations.insert({
				name: body.name.trim(),
				status: 1,
				cdate: at,
				mdate: at,
				totalElements: 1,
				trigger: {
					type: trigger.type,
					schemaId: trigger.schema.id,
					...(trigger.type === 'customObjectUpdated'
						? { field: String(wanted.field), from: String(wanted.from ?? ANY_VALUE), to: String(wanted.to ?? ANY_VALUE) }
						: {}),
				},
			});
			return json(201, { automation: { ...ctx.ser.automation(automation), trigger: automation.trigger } });
		})
		.post('/engagement', (req) => {
			const body = obj(bodyJson(req));
			const contact =
				state().contacts.get(body.contactId) ?? (typeof body.email === 'string' ? state().contactByEmailAddress(body.email) : undefined);
			if (!contact) return bad('Give an existing contactId or email.');
			const kind = String(body.type ?? 'open') as ActivityKind;
			if (!['open', 'click', 'sent'].includes(kind)) return bad('type must be open, click or sent');
			const campaign = state().campaigns.get(body.campaignId ?? 1);
			if (!campaign) return bad('Unknown campaign');
			const message = state().messages.values().find((m) => m.campaign === campaign.id);
			const links = state().campaignLinks.values().filter((l) => l.campaign === campaign.id);
			const linkId = kind === 'click' ? (toId(body.linkId) ?? links[0]?.id ?? null) : null;
			const activity = service.recordActivity(contact.id, kind, campaign.id, message?.id ?? 0, linkId, 'public');
			return json(201, { activity: ctx.ser.activity(activity) });
		});
	return router;
}
