/**
 * The in-memory account: plain records in id-ordered tables plus the few indexes that keep lookups O(1).
 * Timestamps are epoch milliseconds on the sandbox clock; they are formatted on the way out (see time.ts).
 */

export class Table<T extends { id: number }> {
	/** Insertion order is id order: ids only grow and are never reused. */
	readonly rows = new Map<number, T>();
	private nextId = 1;

	insert(row: Omit<T, 'id'> & { id?: number }): T {
		const id = row.id ?? this.nextId;
		this.nextId = Math.max(this.nextId, id + 1);
		const full = { ...row, id } as T;
		this.rows.set(id, full);
		return full;
	}

	get(id: unknown): T | undefined {
		const n = toId(id);
		return n === undefined ? undefined : this.rows.get(n);
	}

	delete(id: number): boolean {
		return this.rows.delete(id);
	}

	values(): T[] {
		return [...this.rows.values()];
	}

	get size(): number {
		return this.rows.size;
	}

	get peekNextId(): number {
		return this.nextId;
	}
}

/** A one-to-many index (`contact id → contactTag ids` etc.) kept in insertion order. */
export class MultiIndex {
	private readonly map = new Map<number, Set<number>>();

	add(key: number, value: number): void {
		let set = this.map.get(key);
		if (!set) this.map.set(key, (set = new Set()));
		set.add(value);
	}

	remove(key: number, value: number): void {
		const set = this.map.get(key);
		if (!set) return;
		set.delete(value);
		if (set.size === 0) this.map.delete(key);
	}

	get(key: number): number[] {
		return [...(this.map.get(key) ?? [])];
	}

	has(key: number): boolean {
		return (this.map.get(key)?.size ?? 0) > 0;
	}

	deleteKey(key: number): void {
		this.map.delete(key);
	}
}

/** A positive integer id from a number or a numeric string (ids arrive as either). */
export function toId(value: unknown): number | undefined {
	if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
	if (typeof value === 'string' && /^\d+$/.test(value.trim())) {
		const n = Number(value.trim());
		return n > 0 ? n : undefined;
	}
	return undefined;
}

export type Source = 'api' | 'admin' | 'public' | 'system' | 'import';

export interface Contact {
	id: number;
	email: string;
	firstName: string;
	lastName: string;
	phone: string;
	cdate: number;
	udate: number;
	ip: string;
	hash: string;
	/** Where the contact came from, for the state endpoints (not part of the API shape). */
	createdBy: Source | 'seed';
}

export type FieldType =
	| 'text'
	| 'textarea'
	| 'date'
	| 'datetime'
	| 'dropdown'
	| 'radio'
	| 'checkbox'
	| 'listbox'
	| 'hidden'
	| 'number'
	| 'NULL';

export interface Field {
	id: number;
	title: string;
	descript: string | null;
	type: FieldType;
	isrequired: number;
	perstag: string;
	defval: string | null;
	visible: number;
	ordernum: number;
	service: string;
	cdate: number;
	udate: number;
}

export interface FieldOption {
	id: number;
	field: number;
	label: string;
	value: string;
	orderid: number;
	isdefault: number;
	cdate: number;
	udate: number;
}

export interface FieldRel {
	id: number;
	field: number;
	relid: number;
	dorder: number;
	cdate: number;
}

export interface FieldValue {
	id: number;
	contact: number;
	field: number;
	value: string | null;
	cdate: number;
	udate: number;
}

export interface Tag {
	id: number;
	tag: string;
	tagType: string;
	description: string;
	cdate: number;
}

export interface ContactTag {
	id: number;
	contact: number;
	tag: number;
	cdate: number;
	udate: number;
}

export interface List {
	id: number;
	name: string;
	stringid: string;
	senderUrl: string;
	senderReminder: string;
	userid: number;
	cdate: number;
	udate: number | null;
}

/** 1 active, 2 unsubscribed; 0 unconfirmed and 3 bounced are accepted but unverified. */
export interface ContactList {
	id: number;
	contact: number;
	list: number;
	status: number;
	sourceid: number;
	sdate: number | null;
	udate: number;
	unsubdate: number | null;
	firstName: string;
	lastName: string;
	createdTimestamp: number;
}

export interface Automation {
	id: number;
	name: string;
	status: number;
	cdate: number;
	mdate: number;
	/** How many blocks the simulated automation has (for completedElements/totalElements). */
	totalElements: number;
	/** Its start trigger, when it is a contact custom object's (automations without one are started by the API only). */
	trigger?: AutomationTrigger;
}

/**
 * A contact custom object's automation trigger, as the builder sets it: "[Object] Created" pulls the record's related
 * contact in when a record is created; "[Object] Updated" when the chosen field changes from one value to another
 * (`from` / `to`: a value, or "Any"). An automation with such a trigger has no other trigger.
 */
export interface AutomationTrigger {
	type: 'customObjectCreated' | 'customObjectUpdated';
	/** The schema's id. */
	schemaId: string;
	field?: string;
	from?: string;
	to?: string;
}

export interface ContactAutomation {
	id: number;
	contact: number;
	automation: number;
	/** 1 active, 2 completed. */
	status: number;
	adddate: number;
	remdate: number | null;
	lastdate: number;
}

export interface Account {
	id: number;
	name: string;
	accountUrl: string | null;
	owner: number;
	createdTimestamp: number;
	updatedTimestamp: number;
}

export interface AccountContact {
	id: number;
	account: number;
	contact: number;
	jobTitle: string;
	createdTimestamp: number;
	updatedTimestamp: number;
}

export type AccountFieldType =
	| 'text'
	| 'textarea'
	| 'date'
	| 'datetime'
	| 'dropdown'
	| 'multiselect'
	| 'radio'
	| 'checkbox'
	| 'hidden'
	| 'currency'
	| 'number';

export interface AccountFieldMeta {
	id: number;
	fieldLabel: string;
	fieldType: AccountFieldType;
	fieldOptions: string[] | null;
	fieldDefault: unknown;
	fieldDefaultCurrency: string | null;
	isFormVisible: number;
	isRequired: number;
	displayOrder: number;
	createdTimestamp: number;
	updatedTimestamp: number;
}

export interface AccountFieldDatum {
	id: number;
	accountId: number;
	customFieldId: number;
	fieldValue: unknown;
	fieldCurrency: string | null;
	createdTimestamp: number;
	updatedTimestamp: number;
}

export interface CoLabels {
	singular: string;
	plural: string;
}

export interface CoField {
	id: string;
	labels: CoLabels;
	type: string;
	description?: string;
	required: boolean;
	scale?: number;
	defaultCurrency?: string;
	options?: Array<{ id: string; value: string }>;
	status?: 'marked_for_deletion';
}

export interface CoRelationship {
	id: string;
	labels: CoLabels;
	description: string;
	namespace: string;
	hasMany: boolean;
}

export interface CoSchema {
	id: string;
	slug: string;
	visibility: string;
	labels: CoLabels;
	description: string;
	appId?: string;
	fields: CoField[];
	relationships: CoRelationship[];
	icons: { default: string };
	createdTimestamp: number;
	updatedTimestamp: number;
}

export interface CoRecord {
	id: string;
	externalId: string | null;
	schemaId: string;
	fields: Map<string, unknown>;
	relationships: Record<string, string[]>;
	createdTimestamp: number;
	updatedTimestamp: number;
}

export interface Webhook {
	id: number;
	name: string;
	url: string;
	events: string[];
	sources: string[];
	listid: number;
	cdate: number;
	/** Cleared when the receiver answers 410 (not visible through the API). */
	active: boolean;
}

export interface Campaign {
	id: number;
	name: string;
	type: string;
	status: number;
	seriesid: number;
	cdate: number;
	mdate: number;
	sdate: number | null;
	ldate: number | null;
}

export interface Message {
	id: number;
	campaign: number;
	subject: string;
	fromname: string;
	fromemail: string;
	reply2: string;
	preheaderText: string;
	text: string;
	html: string;
	cdate: number;
	mdate: number;
}

export interface CampaignLink {
	id: number;
	campaign: number;
	message: number;
	link: string;
	name: string;
}

export type ActivityKind = 'sent' | 'open' | 'click';

export interface Activity {
	id: number;
	contact: number;
	kind: ActivityKind;
	tstamp: number;
	campaign: number;
	message: number;
	link: number | null;
}

export type ImportPhase = 'queued' | 'active' | 'completed';

export interface ImportBatch {
	batchId: string;
	createdAt: number;
	/** Sandbox time (clock.now) when the batch was queued. */
	queuedAt: number;
	/** Sandbox time when the batch is processed. */
	processAt: number;
	/** Sandbox time when the processed batch completes (set when it is processed). */
	completeAt: number | null;
	completedAt: number | null;
	phase: ImportPhase;
	contacts: BulkContactInput[];
	success: string[];
	failure: string[];
	callback?: Record<string, unknown>;
	excludeAutomations: boolean;
}

export interface BulkContactInput {
	email: string;
	first_name?: string;
	last_name?: string;
	phone?: string;
	customer_acct_name?: string;
	exclude_automations?: boolean;
	tags?: string[];
	fields?: Array<{ id: number | string; value: string }>;
	subscribe?: Array<{ listid: number | string }>;
	unsubscribe?: Array<{ listid: number | string }>;
}

export class AcState {
	readonly contacts = new Table<Contact>();
	readonly fields = new Table<Field>();
	readonly fieldOptions = new Table<FieldOption>();
	readonly fieldRels = new Table<FieldRel>();
	readonly fieldValues = new Table<FieldValue>();
	readonly tags = new Table<Tag>();
	readonly contactTags = new Table<ContactTag>();
	readonly lists = new Table<List>();
	readonly contactLists = new Table<ContactList>();
	readonly automations = new Table<Automation>();
	readonly contactAutomations = new Table<ContactAutomation>();
	readonly accounts = new Table<Account>();
	readonly accountContacts = new Table<AccountContact>();
	readonly accountFieldMeta = new Table<AccountFieldMeta>();
	readonly accountFieldData = new Table<AccountFieldDatum>();
	readonly webhooks = new Table<Webhook>();
	readonly campaigns = new Table<Campaign>();
	readonly messages = new Table<Message>();
	readonly campaignLinks = new Table<CampaignLink>();
	readonly activities = new Table<Activity>();

	readonly schemas = new Map<string, CoSchema>();
	/** schema id → record id → record */
	readonly records = new Map<string, Map<string, CoRecord>>();
	readonly imports = new Map<string, ImportBatch>();

	/** lower-case email → contact id */
	readonly contactByEmail = new Map<string, number>();
	/** contact id → field id → fieldValue id */
	readonly fieldValueByContact = new Map<number, Map<number, number>>();
	readonly contactTagsByContact = new MultiIndex();
	readonly contactListsByContact = new MultiIndex();
	readonly contactAutomationsByContact = new MultiIndex();
	readonly activitiesByContact = new MultiIndex();
	/** contact id → accountContact id (a contact has at most one account) */
	readonly accountContactByContact = new Map<number, number>();
	readonly accountContactsByAccount = new MultiIndex();

	contactByEmailAddress(email: string): Contact | undefined {
		const id = this.contactByEmail.get(email.trim().toLowerCase());
		return id === undefined ? undefined : this.contacts.get(id);
	}

	fieldValue(contactId: number, fieldId: number): FieldValue | undefined {
		const id = this.fieldValueByContact.get(contactId)?.get(fieldId);
		return id === undefined ? undefined : this.fieldValues.get(id);
	}

	fieldValuesOf(contactId: number): FieldValue[] {
		const byField = this.fieldValueByContact.get(contactId);
		if (!byField) return [];
		return [...byField.values()].map((id) => this.fieldValues.rows.get(id)!).sort((a, b) => a.id - b.id);
	}

	contactTagsOf(contactId: number): ContactTag[] {
		return this.contactTagsByContact.get(contactId).map((id) => this.contactTags.rows.get(id)!);
	}

	tagNamesOf(contactId: number): string[] {
		return this.contactTagsOf(contactId).map((ct) => this.tags.rows.get(ct.tag)?.tag ?? '');
	}

	contactListsOf(contactId: number): ContactList[] {
		return this.contactListsByContact.get(contactId).map((id) => this.contactLists.rows.get(id)!);
	}

	contactListFor(contactId: number, listId: number): ContactList | undefined {
		return this.contactListsOf(contactId).find((cl) => cl.list === listId);
	}

	contactAutomationsOf(contactId: number): ContactAutomation[] {
		return this.contactAutomationsByContact.get(contactId).map((id) => this.contactAutomations.rows.get(id)!);
	}

	accountContactOf(contactId: number): AccountContact | undefined {
		const id = this.accountContactByContact.get(contactId);
		return id === undefined ? undefined : this.accountContacts.rows.get(id);
	}

	accountOf(contactId: number): Account | undefined {
		const ac = this.accountContactOf(contactId);
		return ac ? this.accounts.rows.get(ac.account) : undefined;
	}

	accountByName(name: string): Account | undefined {
		const wanted = name.trim().toLowerCase();
		for (const account of this.accounts.rows.values()) if (account.name.toLowerCase() === wanted) return account;
		return undefined;
	}

	tagByName(name: string): Tag | undefined {
		const wanted = name.trim().toLowerCase();
		for (const tag of this.tags.rows.values()) if (tag.tag.toLowerCase() === wanted) return tag;
		return undefined;
	}

	fieldOptionsOf(fieldId: number): FieldOption[] {
		return this.fieldOptions.values().filter((o) => o.field === fieldId);
	}

	schemaBySlug(slug: string): CoSchema | undefined {
		for (const schema of this.schemas.values()) if (schema.slug === slug) return schema;
		return undefined;
	}

	recordsOf(schemaId: string): Map<string, CoRecord> {
		let map = this.records.get(schemaId);
		if (!map) this.records.set(schemaId, (map = new Map()));
		return map;
	}
}
