/**
 * Metadata one execution needs, loaded once (every list paged, no 100-item cap) and reused by every item: custom
 * contact and account fields, tags (created on demand), lists, automations, custom object schemas. Also creates the
 * hidden sync fields and the D365 tags when they are missing.
 */
import { NodeApiError, type IDataObject, type IExecuteFunctions, type JsonObject } from 'n8n-workflow';

import { isPreview, planCreated, standInId, wasPlanned, workflowData } from '../../shared/preview';
import { SYNC_FIELDS, SYNC_TAGS } from '../../shared/sync/state';
import { STANDARD_FIELDS } from '../../shared/sync/mapping';
import {
	accountUrl,
	acAllByOffset,
	acListIfCheaper,
	acPageBodiesByOffset,
	acRequest,
	acRequestFull,
	type AcContext,
	type AcRequest,
	type AcResponse,
	type PageOptions,
} from '../transport';
import type { SyncItem } from '../../shared/sync/syncItem';
import type { ContactSnapshot } from './contactRead';
import type { AccountFieldDef, ContactFieldDef, FieldOption } from './encode';

export interface TagDef {
	id: string;
	name: string;
}

export interface NamedDef {
	id: string;
	name: string;
}

export interface SchemaField {
	id: string;
	labels?: { singular?: string; plural?: string };
	type: string;
	status?: string;
	[key: string]: unknown;
}

export interface SchemaDef {
	id: string;
	slug: string;
	labels?: { singular?: string; plural?: string };
	fields: SchemaField[];
	relationships: Array<{ id: string; namespace?: string; [key: string]: unknown }>;
}

export const ACCOUNT_LINK_LABEL = SYNC_FIELDS.accountLink.title;
export const ACCOUNT_STATE_LABEL = SYNC_FIELDS.accountState.title;

export class AcSession {
	private contactFieldsP?: Promise<ContactFieldDef[]>;
	private accountFieldsP?: Promise<AccountFieldDef[]>;
	private tagsP?: Promise<Map<string, TagDef>>;
	private listsP?: Promise<NamedDef[]>;
	private automationsP?: Promise<NamedDef[]>;
	private schemasP?: Promise<SchemaDef[]>;
	private syncFieldsP?: Promise<SyncFieldIds>;
	private accountLinksP?: Promise<AccountLinks>;
	private accountDataP?: Promise<IDataObject[]>;
	/** Links learnt one account at a time (knowAccountLinks): account id → Dynamics id, `deleted` or null. */
	private readonly linksByAccount = new Map<string, string | null>();
	/** The Dynamics account each account whose link reads `deleted:<id>` was linked to, learned with linksByAccount. */
	private readonly deletedByAccount = new Map<string, string>();
	private readonly accountsByName = new Map<string, Promise<IDataObject | undefined>>();
	private readonly contactsByEmail = new Map<string, Promise<IDataObject | undefined>>();
	private readonly accountNames = new Map<string, string>();

	/**
	 * Contacts read ahead for many sync items (helpers/prefetch.ts), each used once by readContact and dropped when
	 * this run writes the contact.
	 */
	readonly prefetched = new Map<string, ContactSnapshot>();
	/**
	 * Read ahead too: which contacts hold each value of the link field. A value stops being answered from here once this
	 * run writes it or writes a contact that held it.
	 */
	linkIndex?: { fieldId: string; byValue: Map<string, string[]>; stale: Set<string> };
	/** The sync items whose contacts are read ahead, a few at a time (helpers/prefetch.ts). */
	readAhead?: { items: Array<{ itemIndex: number; item: SyncItem }>; next: number };

	/**
	 * A preview (shared/preview.ts): reads as usual, writes nothing; a sync field or tag it would create is a stand-in
	 * that no record holds.
	 */
	readonly preview: boolean;

	constructor(readonly ctx: AcContext) {
		this.preview = isPreview(ctx);
	}

	/** A preview's writes by item (-1: the run's own, e.g. a sync field created once): what a real run would send. */
	private readonly plannedWrites = new Map<number, number>();

	/** In a preview: `count` write requests that the real run would send here for this item, and this one does not. */
	planWrite(itemIndex: number | undefined, count = 1): void {
		if (!this.preview || count <= 0) return;
		const key = itemIndex ?? -1;
		this.plannedWrites.set(key, (this.plannedWrites.get(key) ?? 0) + count);
	}

	/** A preview's stand-in for something the real run creates once: counted unless an earlier step of the run did. */
	private planCreation(kind: string, name: string, requests: number, itemIndex?: number): void {
		if (!wasPlanned(this.ctx, kind, name)) this.planWrite(itemIndex, requests);
		planCreated(this.ctx, kind, name);
	}

	/** A step that reports its own requests on its items (Ensure Sync Fields) drops what the session counted. */
	forgetPlannedWrites(itemIndex: number): void {
		this.plannedWrites.delete(itemIndex);
	}

	/** The write requests a preview counted for an item (-1: those of the run, not of one item). */
	writesPlanned(itemIndex: number): number {
		return this.plannedWrites.get(itemIndex) ?? 0;
	}

	/** This run wrote the contact: what was read ahead about it (its snapshot, the link values it held) is stale. */
	private touched(contactId: unknown, fieldValues?: unknown): void {
		const id = String(contactId ?? '');
		if (id) this.prefetched.delete(id);
		const index = this.linkIndex;
		if (!index) return;
		if (id) for (const [value, ids] of index.byValue) if (ids.includes(id)) index.stale.add(value);
		for (const fv of Array.isArray(fieldValues) ? (fieldValues as IDataObject[]) : []) {
			if (String(fv?.field) === index.fieldId && fv.value) index.stale.add(String(fv.value));
		}
	}

	/** Writes ActiveCampaign accepted in this run (a failed sync write reports what it settled only after one). */
	writesDone = 0;

	/** Keeps the read-ahead true: every write names the contact it changes (by path, body or answer). */
	private noteWrite(request: AcRequest, answer: unknown, accepted: boolean): void {
		if (request.method === 'GET') return;
		if (accepted) this.writesDone++;
		if (!this.prefetched.size && !this.linkIndex) return;
		const body = (request.body ?? {}) as IDataObject;
		const contact = (body.contact ?? {}) as IDataObject;
		const byPath = /^\/api\/3\/contacts\/(\d+)/.exec(request.path)?.[1];
		if (byPath) this.touched(byPath, contact.fieldValues);
		if (request.path === '/api/3/contact/sync') this.touched(((answer as IDataObject | undefined)?.contact as IDataObject | undefined)?.id, contact.fieldValues);
		const tagged = (body.contactTag as IDataObject | undefined)?.contact ?? (body.accountContact as IDataObject | undefined)?.contact;
		if (tagged !== undefined) this.touched(tagged);
	}

	/**
	 * The workflow's global static data, where the sync keeps its retry queue and held-back records; undefined in
	 * manual runs (n8n does not keep their static data) and outside executions.
	 */
	syncStaticData(): IDataObject | undefined {
		const ctx = this.ctx as Partial<IExecuteFunctions>;
		if (typeof ctx.getWorkflowStaticData !== 'function' || typeof ctx.getMode !== 'function' || ctx.getMode() === 'manual') return undefined;
		return workflowData(ctx as IExecuteFunctions, 'global');
	}

	/** The account's host (e.g. `acme.api-us1.com`): names the ActiveCampaign account on records our nodes emit. */
	async accountHost(): Promise<string> {
		const url = await accountUrl(this.ctx);
		return /^[a-z]+:\/\/([^/:]+)/i.exec(url)?.[1]?.toLowerCase() ?? url;
	}

	async request<T = IDataObject>(request: AcRequest): Promise<T> {
		const outcome = await acRequest.call<AcContext, [AcRequest], Promise<T>>(this.ctx, request).then(
			(answer) => ({ answer }),
			(error: unknown) => ({ error: error as Error }),
		);
		// A failed write may still have been applied.
		this.noteWrite(request, 'answer' in outcome ? outcome.answer : undefined, 'answer' in outcome);
		if ('error' in outcome) throw outcome.error;
		return outcome.answer;
	}

	async requestFull<T = IDataObject>(request: AcRequest): Promise<AcResponse<T> | undefined> {
		const outcome = await acRequestFull.call<AcContext, [AcRequest], Promise<AcResponse<T> | undefined>>(this.ctx, request).then(
			(answer) => ({ answer }),
			(error: unknown) => ({ error: error as Error }),
		);
		this.noteWrite(request, 'answer' in outcome ? outcome.answer?.body : undefined, 'answer' in outcome);
		if ('error' in outcome) throw outcome.error;
		return outcome.answer;
	}

	/** An offset-paged list, page by page with each page's body (the transport's pager: reads retried as it retries them). */
	pages(path: string, key: string, qs: IDataObject = {}, options: PageOptions = {}): AsyncGenerator<{ items: IDataObject[]; body: IDataObject }> {
		return acPageBodiesByOffset(this.ctx, path, key, qs, options);
	}

	// ------------------------------------------------------------------ contact fields

	async contactFields(): Promise<ContactFieldDef[]> {
		this.contactFieldsP ??= this.loadContactFields();
		return await this.contactFieldsP;
	}

	private async loadContactFields(): Promise<ContactFieldDef[]> {
		const fields: ContactFieldDef[] = [];
		const options = new Map<string, FieldOption[]>();
		for await (const { items, body } of this.pages('/api/3/fields', 'fields')) {
			for (const o of (body.fieldOptions as IDataObject[] | undefined) ?? []) {
				const list = options.get(String(o.field)) ?? [];
				list.push({ label: String(o.label ?? o.value ?? ''), value: String(o.value ?? o.label ?? '') });
				options.set(String(o.field), list);
			}
			for (const f of items) {
				fields.push({
					id: String(f.id),
					title: String(f.title ?? ''),
					perstag: String(f.perstag ?? ''),
					type: String(f.type ?? 'text'),
					options: [],
				});
			}
		}
		for (const field of fields) field.options = options.get(field.id) ?? [];
		return fields;
	}

	/** A contact field by id, perstag (with or without `%`) or title, case-insensitive. */
	async contactField(key: string | number): Promise<ContactFieldDef | undefined> {
		return findContactField(await this.contactFields(), key);
	}

	/** Creates a contact field when none has this title or perstag; visible in all lists. */
	async ensureContactField(def: { title: string; perstag?: string; type: string }): Promise<ContactFieldDef> {
		const existing = (await this.contactField(def.perstag ?? def.title)) ?? (await this.contactField(def.title));
		if (existing) return existing;
		if (this.preview) {
			const standIn: ContactFieldDef = { id: standInId(def.title), title: def.title, perstag: def.perstag ?? '', type: def.type, options: [] };
			(await this.contactFields()).push(standIn);
			// The field, then its relation to every list (once per run: an earlier step may create it).
			this.planCreation('contactField', def.title, 2);
			return standIn;
		}
		let body: IDataObject;
		try {
			body = await this.request<IDataObject>({
				method: 'POST',
				path: '/api/3/fields',
				body: { field: { title: def.title, type: def.type, perstag: def.perstag, visible: def.type === 'hidden' ? 0 : 1 } },
			});
		} catch (error) {
			// Another run created it meanwhile (two first runs at once): ActiveCampaign refuses the duplicate title.
			this.contactFieldsP = undefined;
			const created = (await this.contactField(def.perstag ?? def.title)) ?? (await this.contactField(def.title));
			if (created) return created;
			throw new NodeApiError(this.ctx.getNode(), error as JsonObject);
		}
		const created = (body.field ?? (body.fields as IDataObject[] | undefined)?.[0]) as IDataObject;
		const field: ContactFieldDef = {
			id: String(created.id),
			title: String(created.title ?? def.title),
			perstag: String(created.perstag ?? def.perstag ?? ''),
			type: String(created.type ?? def.type),
			options: [],
		};
		// A field belongs to lists; relid 0 makes it available in every list.
		await this.request({ method: 'POST', path: '/api/3/fieldRels', body: { fieldRel: { field: Number(field.id), relid: 0 } } });
		(await this.contactFields()).push(field);
		return field;
	}

	// ------------------------------------------------------------------ account fields

	async accountFields(): Promise<AccountFieldDef[]> {
		this.accountFieldsP ??= (async () =>
			(await acAllByOffset(this.ctx, '/api/3/accountCustomFieldMeta', 'accountCustomFieldMeta')).map(toAccountField))();
		return await this.accountFieldsP;
	}

	/** An account field by id or label, case-insensitive. */
	async accountField(key: string | number): Promise<AccountFieldDef | undefined> {
		return findAccountField(await this.accountFields(), key);
	}

	async ensureAccountField(def: { label: string; type: string }): Promise<AccountFieldDef> {
		const existing = await this.accountField(def.label);
		if (existing) return existing;
		if (this.preview) {
			const standIn = toAccountField({ id: standInId(def.label), fieldLabel: def.label, fieldType: def.type });
			(await this.accountFields()).push(standIn);
			this.planCreation('accountField', def.label, 1);
			return standIn;
		}
		let body: IDataObject;
		try {
			body = await this.request<IDataObject>({
				method: 'POST',
				path: '/api/3/accountCustomFieldMeta',
				body: { accountCustomFieldMetum: { fieldLabel: def.label, fieldType: def.type, isFormVisible: 0 } },
			});
		} catch (error) {
			// Another run created it meanwhile: ActiveCampaign refuses the duplicate label.
			this.accountFieldsP = undefined;
			const created = await this.accountField(def.label);
			if (created) return created;
			throw new NodeApiError(this.ctx.getNode(), error as JsonObject);
		}
		const field = toAccountField(body.accountCustomFieldMetum as IDataObject);
		(await this.accountFields()).push(field);
		return field;
	}

	// ------------------------------------------------------------------ tags

	async tags(): Promise<Map<string, TagDef>> {
		this.tagsP ??= (async () => {
			const map = new Map<string, TagDef>();
			for (const t of await acAllByOffset(this.ctx, '/api/3/tags', 'tags')) {
				const def = { id: String(t.id), name: String(t.tag ?? '') };
				if (!map.has(def.name.toLowerCase())) map.set(def.name.toLowerCase(), def);
			}
			return map;
		})();
		return await this.tagsP;
	}

	async tagByName(name: string): Promise<TagDef | undefined> {
		return (await this.tags()).get(name.trim().toLowerCase());
	}

	async tagById(id: string): Promise<TagDef | undefined> {
		for (const tag of (await this.tags()).values()) if (tag.id === String(id)) return tag;
		return undefined;
	}

	/** The tag with this name, created when missing (tags are matched by name, case-insensitive). */
	async ensureTag(name: string, itemIndex?: number): Promise<TagDef> {
		const wanted = name.trim();
		const existing = await this.tagByName(wanted);
		if (existing) return existing;
		const tags = await this.tags();
		if (this.preview) {
			const standIn = { id: standInId(wanted), name: wanted };
			tags.set(wanted.toLowerCase(), standIn);
			this.planCreation('tag', wanted, 1, itemIndex);
			return standIn;
		}
		try {
			const body = await this.request<IDataObject>({
				method: 'POST',
				path: '/api/3/tags',
				body: { tag: { tag: wanted, tagType: 'contact', description: '' } },
				itemIndex,
				// Names are unique: a repeat after a lost answer is refused as a duplicate and handled below.
				repeatable: true,
			});
			const tag = body.tag as IDataObject;
			const def = { id: String(tag.id), name: String(tag.tag ?? wanted) };
			tags.set(def.name.toLowerCase(), def);
			return def;
		} catch (error) {
			// Another execution created it in the meantime.
			const found = (await this.request<IDataObject>({
				method: 'GET',
				path: '/api/3/tags',
				qs: { 'filters[search][eq]': wanted, limit: 100 },
				itemIndex,
			})) as { tags?: IDataObject[] };
			const match = (found.tags ?? []).find((t) => String(t.tag).toLowerCase() === wanted.toLowerCase());
			if (!match) throw new NodeApiError(this.ctx.getNode(), error as JsonObject);
			const def = { id: String(match.id), name: String(match.tag) };
			tags.set(def.name.toLowerCase(), def);
			return def;
		}
	}

	// ------------------------------------------------------------------ lists, automations, schemas

	async lists(): Promise<NamedDef[]> {
		this.listsP ??= (async () =>
			(await acAllByOffset(this.ctx, '/api/3/lists', 'lists')).map((l) => ({ id: String(l.id), name: String(l.name ?? '') })))();
		return await this.listsP;
	}

	/** A list by id or name. */
	async list(key: string | number): Promise<NamedDef | undefined> {
		return findNamed(await this.lists(), key);
	}

	async automations(): Promise<NamedDef[]> {
		this.automationsP ??= (async () =>
			(await acAllByOffset(this.ctx, '/api/3/automations', 'automations')).map((a) => ({
				id: String(a.id),
				name: String(a.name ?? ''),
			})))();
		return await this.automationsP;
	}

	async automation(key: string | number): Promise<NamedDef | undefined> {
		return findNamed(await this.automations(), key);
	}

	async schemas(refresh = false): Promise<SchemaDef[]> {
		if (refresh) this.schemasP = undefined;
		this.schemasP ??= (async () =>
			(await acAllByOffset(this.ctx, '/api/3/customObjects/schemas', 'schemas', { showFields: 'all' })).map(
				(s) => s as unknown as SchemaDef,
			))();
		return await this.schemasP;
	}

	/** A schema by id or slug. */
	async schema(key: string): Promise<SchemaDef | undefined> {
		const wanted = key.trim();
		return (await this.schemas()).find((s) => s.id === wanted || s.slug === wanted);
	}

	// ------------------------------------------------------------------ records by key

	/** The contact with this email (ActiveCampaign matches emails case-insensitively), or undefined. */
	async contactByEmail(email: string, itemIndex?: number, fresh = false): Promise<IDataObject | undefined> {
		const key = email.trim().toLowerCase();
		if (fresh) this.contactsByEmail.delete(key);
		let found = this.contactsByEmail.get(key);
		if (!found) {
			found = (async () => {
				const body = await this.request<IDataObject>({ method: 'GET', path: '/api/3/contacts', qs: { email: email.trim() }, itemIndex });
				const contacts = (body.contacts as IDataObject[] | undefined) ?? [];
				return contacts.find((c) => String(c.email).toLowerCase() === key);
			})();
			this.contactsByEmail.set(key, found);
			found.catch(() => this.contactsByEmail.delete(key));
		}
		return await found;
	}

	forgetContactEmail(email: string): void {
		this.contactsByEmail.delete(email.trim().toLowerCase());
	}

	/** The account with exactly this name (case-insensitive), or undefined. */
	async accountByName(name: string, itemIndex?: number, fresh = false): Promise<IDataObject | undefined> {
		const key = name.trim().toLowerCase();
		if (fresh) this.accountsByName.delete(key);
		let found = this.accountsByName.get(key);
		if (!found) {
			found = (async () => {
				for (const account of await acAllByOffset(this.ctx, '/api/3/accounts', 'accounts', { search: name.trim() }, { itemIndex })) {
					if (String(account.name).trim().toLowerCase() === key) return account;
				}
				return undefined;
			})();
			this.accountsByName.set(key, found);
			found.catch(() => this.accountsByName.delete(key));
		}
		return await found;
	}

	rememberAccount(account: IDataObject): void {
		const name = String(account.name ?? '').trim();
		if (!name) return;
		this.accountsByName.set(name.toLowerCase(), Promise.resolve(account));
		this.accountNames.set(String(account.id), name);
	}

	/** An account's name by id (cached). */
	/** Learns these accounts' names for accountName(): the account list when cheaper than one read each. */
	async knowAccountNames(ids: string[], itemIndex?: number): Promise<void> {
		const unknown = ids.filter((id) => !this.accountNames.has(String(id)));
		if (unknown.length < 2) return;
		const accounts = await acListIfCheaper(this.ctx, '/api/3/accounts', 'accounts', unknown.length, { itemIndex });
		for (const account of accounts ?? []) this.accountNames.set(String(account.id), String(account.name ?? ''));
	}

	async accountName(id: string, itemIndex?: number): Promise<string | undefined> {
		const known = this.accountNames.get(String(id));
		if (known !== undefined) return known;
		const body = await this.request<IDataObject | undefined>({ method: 'GET', path: `/api/3/accounts/${id}`, itemIndex, allowNotFound: true });
		const account = body?.account as IDataObject | undefined;
		if (!account) return undefined;
		this.accountNames.set(String(id), String(account.name ?? ''));
		return String(account.name ?? '');
	}

	// ------------------------------------------------------------------ sync fields

	/** The hidden fields that hold links and sync state, and the D365 tags; created when missing (once per run). */
	async syncFields(): Promise<SyncFieldIds> {
		this.syncFieldsP ??= this.createSyncFields();
		try {
			return await this.syncFieldsP;
		} catch (error) {
			this.syncFieldsP = undefined;
			throw new NodeApiError(this.ctx.getNode(), error as JsonObject);
		}
	}

	/** Only the contact fields (no account fields, no tags): what a contact write needs. */
	async contactSyncFields(): Promise<{ link: ContactFieldDef; state: ContactFieldDef }> {
		const link = await this.ensureContactField({ ...SYNC_FIELDS.contactLink, type: 'hidden' });
		const state = await this.ensureContactField({ ...SYNC_FIELDS.contactState, type: 'hidden' });
		return { link, state };
	}

	async accountSyncFields(): Promise<{ link: AccountFieldDef; state: AccountFieldDef }> {
		const link = await this.ensureAccountField({ label: ACCOUNT_LINK_LABEL, type: 'hidden' });
		const state = await this.ensureAccountField({ label: ACCOUNT_STATE_LABEL, type: 'hidden' });
		return { link, state };
	}

	/**
	 * The account links of the whole account, read once per run (`accountCustomFieldData` has no filter by value):
	 * Dynamics account id → ActiveCampaign account id, and back. Values marked `deleted:` are not links.
	 */
	async accountLinks(itemIndex?: number): Promise<AccountLinks> {
		if (!this.accountLinksP) {
			this.accountLinksP = (async () => {
				const byD365 = new Map<string, string>();
				const byAccount = new Map<string, string>();
				const deleted = new Map<string, string>();
				const { link } = await this.accountSyncFieldsIfPresent();
				if (!link) return { byD365, byAccount, deleted };
				for (const d of await this.accountFieldData(itemIndex)) {
					if (String(d.customFieldId ?? d.accountCustomFieldMetumId) !== String(link.id)) continue;
					const value = String(d.fieldValue ?? '').trim().toLowerCase();
					const accountId = String(d.accountId ?? d.customerAccountId);
					if (!value) continue;
					if (value.startsWith('deleted:')) {
						deleted.set(accountId, value.slice('deleted:'.length));
						continue;
					}
					if (!byD365.has(value)) byD365.set(value, accountId);
					byAccount.set(accountId, value);
				}
				return { byD365, byAccount, deleted };
			})();
			this.accountLinksP.catch(() => (this.accountLinksP = undefined));
		}
		return await this.accountLinksP;
	}

	/**
	 * Every account custom field value in the account, read once per run (100 per request; the list has no filter by
	 * field): the account links, and the link and state of many accounts at once (Record Sync State).
	 */
	async accountFieldData(itemIndex?: number): Promise<IDataObject[]> {
		if (!this.accountDataP) {
			this.accountDataP = acAllByOffset(this.ctx, '/api/3/accountCustomFieldData', 'accountCustomFieldData', {}, { itemIndex });
			this.accountDataP.catch(() => (this.accountDataP = undefined));
		}
		return await this.accountDataP;
	}

	/**
	 * The Dynamics account an ActiveCampaign account is linked to: its id, `deleted` (its Dynamics account was deleted)
	 * or null — from what {@link knowAccountLinks} read for it, else from the run's account links.
	 */
	async linkedD365Of(accountId: string, itemIndex?: number): Promise<string | null> {
		const known = this.linksByAccount.get(String(accountId));
		if (known !== undefined && !this.accountLinksP) return known;
		const links = await this.accountLinks(itemIndex);
		return links.byAccount.get(String(accountId)) ?? (links.deleted.has(String(accountId)) ? 'deleted' : null);
	}

	/** The Dynamics account an account was linked to before that account was deleted in Dynamics (link `deleted:<id>`). */
	async deletedD365Of(accountId: string, itemIndex?: number): Promise<string | undefined> {
		const known = this.deletedByAccount.get(String(accountId));
		if (known !== undefined && !this.accountLinksP) return known;
		return (await this.accountLinks(itemIndex)).deleted.get(String(accountId));
	}

	/**
	 * Learns the links of these accounts the cheaper way: one read of each account's field values when that costs less
	 * than reading the field values of the whole account (which then serves every later look-up of the run).
	 */
	async knowAccountLinks(accountIds: string[], itemIndex?: number): Promise<void> {
		if (this.accountLinksP || this.accountDataP) return;
		const ids = [...new Set(accountIds.map(String))].filter((id) => !this.linksByAccount.has(id));
		if (!ids.length) return;
		const { link } = await this.accountSyncFieldsIfPresent();
		if (!link) return;
		const all = await acListIfCheaper(this.ctx, '/api/3/accountCustomFieldData', 'accountCustomFieldData', ids.length, { itemIndex });
		if (all) {
			this.accountDataP = Promise.resolve(all);
			return;
		}
		for (const id of ids) {
			const rows = await acAllByOffset(this.ctx, '/api/3/accountCustomFieldData', 'accountCustomFieldData', { 'filters[customerAccountId]': id }, { itemIndex });
			const row = rows.find((d) => String(d.customFieldId ?? d.accountCustomFieldMetumId) === String(link.id));
			const value = String(row?.fieldValue ?? '').trim().toLowerCase();
			this.linksByAccount.set(id, !value ? null : value.startsWith('deleted:') ? 'deleted' : value);
			if (value.startsWith('deleted:')) this.deletedByAccount.set(id, value.slice('deleted:'.length));
		}
	}

	/** Keeps the run's account links current after a write. */
	async setAccountLink(d365Id: string, accountId: string | undefined): Promise<void> {
		const links = await this.accountLinks();
		const key = d365Id.toLowerCase();
		const previous = links.byD365.get(key);
		if (previous) links.byAccount.delete(previous);
		if (accountId === undefined) {
			links.byD365.delete(key);
			if (previous) links.deleted.set(previous, key);
			return;
		}
		links.deleted.delete(accountId);
		links.byD365.set(key, accountId);
		links.byAccount.set(accountId, key);
	}

	/** The account sync fields when they exist (reading never creates them). */
	async accountSyncFieldsIfPresent(): Promise<{ link?: AccountFieldDef; state?: AccountFieldDef }> {
		return { link: await this.accountField(ACCOUNT_LINK_LABEL), state: await this.accountField(ACCOUNT_STATE_LABEL) };
	}

	private async createSyncFields(): Promise<SyncFieldIds> {
		const contact = await this.contactSyncFields();
		const account = await this.accountSyncFields();
		// Account custom fields the standard account mappings write (e.g. "Phone Number").
		for (const field of STANDARD_FIELDS.account) {
			if (field.activeCampaign.key !== 'name' && field.activeCampaign.key !== 'accountUrl') {
				await this.ensureAccountField({ label: field.activeCampaign.key, type: 'text' });
			}
		}
		const tags: Record<string, TagDef> = {};
		for (const name of Object.values(SYNC_TAGS)) tags[name] = await this.ensureTag(name);
		return { contact, account, tags };
	}
}

export interface AccountLinks {
	/** Dynamics account id (lower case) → ActiveCampaign account id. */
	byD365: Map<string, string>;
	/** ActiveCampaign account id → Dynamics account id. */
	byAccount: Map<string, string>;
	/** ActiveCampaign accounts whose Dynamics account was deleted (link `deleted:<id>`), with that id. */
	deleted: Map<string, string>;
}

export interface SyncFieldIds {
	contact: { link: ContactFieldDef; state: ContactFieldDef };
	account: { link: AccountFieldDef; state: AccountFieldDef };
	tags: Record<string, TagDef>;
}

export function findContactField(fields: ContactFieldDef[], key: string | number): ContactFieldDef | undefined {
	const raw = String(key).trim();
	if (!raw) return undefined;
	const byId = fields.find((f) => f.id === raw);
	if (byId) return byId;
	const tag = raw.replace(/^%|%$/g, '').toLowerCase();
	return fields.find((f) => f.perstag.toLowerCase() === tag) ?? fields.find((f) => f.title.toLowerCase() === raw.toLowerCase());
}

export function findAccountField(fields: AccountFieldDef[], key: string | number): AccountFieldDef | undefined {
	const raw = String(key).trim();
	if (!raw) return undefined;
	return fields.find((f) => f.id === raw) ?? fields.find((f) => f.label.toLowerCase() === raw.toLowerCase());
}

function findNamed(list: NamedDef[], key: string | number): NamedDef | undefined {
	const raw = String(key).trim();
	return list.find((l) => l.id === raw) ?? list.find((l) => l.name.toLowerCase() === raw.toLowerCase());
}

function toAccountField(m: IDataObject): AccountFieldDef {
	const options = Array.isArray(m.fieldOptions) ? (m.fieldOptions as unknown[]).map((o) => String(o)) : [];
	return {
		id: String(m.id),
		label: String(m.fieldLabel ?? ''),
		type: String(m.fieldType ?? 'text'),
		options,
		defaultCurrency: typeof m.fieldDefaultCurrency === 'string' && m.fieldDefaultCurrency ? m.fieldDefaultCurrency : undefined,
	};
}
