/**
 * State changes shared by the API routes, the bulk importer and the "UI" control endpoints. Every change that the
 * real account would announce goes through here, so webhooks fire the same way whoever made it; the `source`
 * decides which hooks hear about it (`import` reaches none).
 */
import type { Clock } from '../core/clock';
import { md5 } from './serialize';
import type { AcSettings } from './settings';
import type {
	Account,
	AccountContact,
	AcState,
	Activity,
	ActivityKind,
	CoRecord,
	CoSchema,
	Contact,
	ContactAutomation,
	ContactList,
	ContactTag,
	Field,
	FieldValue,
	Source,
	Tag,
} from './state';
import type { AcEvent, WebhookDispatcher } from './webhooks';

/** What the automation builder offers as "any value" in an "[Object] Updated" trigger. */
export const ANY_VALUE = 'Any';

export interface ContactInput {
	email?: string;
	firstName?: string;
	lastName?: string;
	phone?: string;
}

export interface AccountFieldInput {
	fieldId: number;
	value: unknown;
	currency: string | null;
}

export interface FieldValueInput {
	field: number;
	value: string | null;
}

export class AcService {
	constructor(
		private readonly deps: {
			state: () => AcState;
			settings: () => AcSettings;
			clock: Clock;
			webhooks: WebhookDispatcher;
		},
	) {}

	get state(): AcState {
		return this.deps.state();
	}

	get settings(): AcSettings {
		return this.deps.settings();
	}

	now(): number {
		return this.deps.clock.monotonicNow();
	}

	emit(event: AcEvent): void {
		this.deps.webhooks.emit(event);
	}

	// ---------------------------------------------------------------- contacts

	createContact(input: ContactInput, fieldValues: FieldValueInput[], source: Source, at = this.now()): Contact {
		const email = (input.email ?? '').trim();
		const contact = this.state.contacts.insert({
			email,
			firstName: input.firstName ?? '',
			lastName: input.lastName ?? '',
			phone: input.phone ?? '',
			cdate: at,
			udate: at,
			ip: '0',
			hash: md5(`${email}:${at}`),
			createdBy: source,
		});
		if (email) this.state.contactByEmail.set(email.toLowerCase(), contact.id);
		for (const fv of fieldValues) this.writeFieldValue(contact.id, fv.field, fv.value, at);
		if (this.settings.contactCreateFiresSubscribe) this.emit({ type: 'subscribe', source, contactId: contact.id, listId: 0 });
		return contact;
	}

	/** Applies changed attributes and field values; one `update` event and one udate bump when anything changed. */
	updateContact(contact: Contact, input: ContactInput, fieldValues: FieldValueInput[], source: Source): boolean {
		const at = this.now();
		let changed = false;
		if (input.email !== undefined && input.email.trim() !== contact.email) {
			const email = input.email.trim();
			if (contact.email) this.state.contactByEmail.delete(contact.email.toLowerCase());
			contact.email = email;
			if (email) this.state.contactByEmail.set(email.toLowerCase(), contact.id);
			changed = true;
		}
		for (const key of ['firstName', 'lastName', 'phone'] as const) {
			const value = input[key];
			if (value !== undefined && value !== contact[key]) {
				contact[key] = value;
				changed = true;
			}
		}
		for (const fv of fieldValues) if (this.writeFieldValue(contact.id, fv.field, fv.value, at).changed) changed = true;
		if (changed || this.settings.bumpUdateOnNoopUpdate) {
			contact.udate = at;
			this.emit({ type: 'update', source, contactId: contact.id });
		}
		return changed;
	}

	/** Creates or updates the value of one field for one contact (no events, no contact udate). */
	writeFieldValue(contactId: number, fieldId: number, value: string | null, at = this.now()): { fv: FieldValue; changed: boolean; created: boolean } {
		const existing = this.state.fieldValue(contactId, fieldId);
		if (existing) {
			const changed = existing.value !== value;
			if (changed) {
				existing.value = value;
				existing.udate = at;
			}
			return { fv: existing, changed, created: false };
		}
		const fv = this.state.fieldValues.insert({ contact: contactId, field: fieldId, value, cdate: at, udate: at });
		let byField = this.state.fieldValueByContact.get(contactId);
		if (!byField) this.state.fieldValueByContact.set(contactId, (byField = new Map()));
		byField.set(fieldId, fv.id);
		return { fv, changed: true, created: true };
	}

	/** A single field value write from `/fieldValues`: bumps the contact and fires `update` when it changed. */
	setFieldValue(contact: Contact, fieldId: number, value: string | null, source: Source): FieldValue {
		const at = this.now();
		const { fv, changed } = this.writeFieldValue(contact.id, fieldId, value, at);
		if (changed || this.settings.bumpUdateOnNoopUpdate) {
			contact.udate = at;
			this.emit({ type: 'update', source, contactId: contact.id });
		}
		return fv;
	}

	deleteFieldValue(fv: FieldValue, source: Source): void {
		this.state.fieldValues.delete(fv.id);
		this.state.fieldValueByContact.get(fv.contact)?.delete(fv.field);
		const contact = this.state.contacts.rows.get(fv.contact);
		if (contact) {
			contact.udate = this.now();
			this.emit({ type: 'update', source, contactId: contact.id });
		}
	}

	deleteContact(contact: Contact): void {
		const s = this.state;
		for (const ct of s.contactTagsOf(contact.id)) s.contactTags.delete(ct.id);
		s.contactTagsByContact.deleteKey(contact.id);
		for (const cl of s.contactListsOf(contact.id)) s.contactLists.delete(cl.id);
		s.contactListsByContact.deleteKey(contact.id);
		for (const ca of s.contactAutomationsOf(contact.id)) s.contactAutomations.delete(ca.id);
		s.contactAutomationsByContact.deleteKey(contact.id);
		for (const fv of s.fieldValuesOf(contact.id)) s.fieldValues.delete(fv.id);
		s.fieldValueByContact.delete(contact.id);
		const ac = s.accountContactOf(contact.id);
		if (ac) this.removeAccountContact(ac);
		for (const id of s.activitiesByContact.get(contact.id)) s.activities.delete(id);
		s.activitiesByContact.deleteKey(contact.id);
		if (contact.email) s.contactByEmail.delete(contact.email.toLowerCase());
		s.contacts.delete(contact.id);
	}

	private touch(contact: Contact | undefined, enabled: boolean, at: number): void {
		if (contact && enabled) contact.udate = at;
	}

	// ---------------------------------------------------------------- tags

	ensureTag(name: string): Tag {
		return (
			this.state.tagByName(name) ??
			this.state.tags.insert({ tag: name.trim(), tagType: 'contact', description: '', cdate: this.now() })
		);
	}

	/** Adds a tag; `created` is false when the contact already had it (nothing changes then). */
	addContactTag(contactId: number, tagId: number, source: Source): { ct: ContactTag; created: boolean } {
		const existing = this.state.contactTagsOf(contactId).find((ct) => ct.tag === tagId);
		if (existing) return { ct: existing, created: false };
		const at = this.now();
		const ct = this.state.contactTags.insert({ contact: contactId, tag: tagId, cdate: at, udate: at });
		this.state.contactTagsByContact.add(contactId, ct.id);
		this.touch(this.state.contacts.rows.get(contactId), this.settings.tagChangesBumpUdate, at);
		this.emit({ type: 'contact_tag_added', source, contactId, tagName: this.state.tags.rows.get(tagId)?.tag ?? '' });
		return { ct, created: true };
	}

	removeContactTag(ct: ContactTag, source: Source): void {
		const tagName = this.state.tags.rows.get(ct.tag)?.tag ?? '';
		this.state.contactTags.delete(ct.id);
		this.state.contactTagsByContact.remove(ct.contact, ct.id);
		this.touch(this.state.contacts.rows.get(ct.contact), this.settings.tagChangesBumpUdate, this.now());
		this.emit({ type: 'contact_tag_removed', source, contactId: ct.contact, tagName });
	}

	deleteTag(tag: Tag): void {
		for (const ct of this.state.contactTags.values()) {
			if (ct.tag !== tag.id) continue;
			this.state.contactTags.delete(ct.id);
			this.state.contactTagsByContact.remove(ct.contact, ct.id);
		}
		this.state.tags.delete(tag.id);
	}

	// ---------------------------------------------------------------- lists

	setListStatus(contact: Contact, listId: number, status: number, source: Source, sourceid = 0): ContactList {
		const at = this.now();
		let cl = this.state.contactListFor(contact.id, listId);
		const previous = cl?.status;
		if (!cl) {
			cl = this.state.contactLists.insert({
				contact: contact.id,
				list: listId,
				status,
				sourceid,
				sdate: status === 1 ? at : null,
				udate: at,
				unsubdate: status === 2 ? at : null,
				firstName: contact.firstName,
				lastName: contact.lastName,
				createdTimestamp: at,
			});
			this.state.contactListsByContact.add(contact.id, cl.id);
		} else {
			cl.status = status;
			cl.sourceid = sourceid;
			cl.udate = at;
			if (status === 1 && previous !== 1) cl.sdate = at;
			if (status === 2 && previous !== 2) cl.unsubdate = at;
		}
		if (previous !== status) {
			this.touch(contact, this.settings.listChangesBumpUdate, at);
			if (status === 1) this.emit({ type: 'subscribe', source, contactId: contact.id, listId });
			if (status === 2) this.emit({ type: 'unsubscribe', source, contactId: contact.id, listId });
		}
		return cl;
	}

	// ---------------------------------------------------------------- automations

	/**
	 * A custom object record was created (`before` undefined) or updated: its related contacts (the schema's contact
	 * relationships) enter every automation whose trigger matches — "[Object] Created", or "[Object] Updated" for a
	 * field that changed from the trigger's `from` to its `to` ("Any" matches any value).
	 */
	customObjectRecordSaved(schema: CoSchema, record: CoRecord, before?: Map<string, unknown>): void {
		const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));
		const matches = (wanted: string | undefined, value: string) => wanted === undefined || wanted === ANY_VALUE || wanted === value;
		const contacts = schema.relationships
			.filter((r) => r.namespace === 'contacts')
			.flatMap((r) => record.relationships[r.id] ?? [])
			.map((id) => this.state.contacts.get(id))
			.filter((c): c is NonNullable<typeof c> => c !== undefined);
		for (const automation of this.state.automations.rows.values()) {
			const trigger = automation.trigger;
			if (!trigger || trigger.schemaId !== schema.id || automation.status !== 1) continue;
			if (trigger.type === 'customObjectCreated' && before !== undefined) continue;
			if (trigger.type === 'customObjectUpdated') {
				if (before === undefined || !trigger.field) continue;
				const from = text(before.get(trigger.field));
				const to = text(record.fields.get(trigger.field));
				if (from === to || !matches(trigger.from, from) || !matches(trigger.to, to)) continue;
			}
			for (const contact of contacts) this.addToAutomation(contact.id, automation.id);
		}
	}

	addToAutomation(contactId: number, automationId: number): ContactAutomation {
		const active = this.state.contactAutomationsOf(contactId).find((ca) => ca.automation === automationId && ca.status === 1);
		if (active) return active;
		const at = this.now();
		const ca = this.state.contactAutomations.insert({
			contact: contactId,
			automation: automationId,
			status: 1,
			adddate: at,
			remdate: null,
			lastdate: at,
		});
		this.state.contactAutomationsByContact.add(contactId, ca.id);
		return ca;
	}

	removeContactAutomation(ca: ContactAutomation): void {
		this.state.contactAutomations.delete(ca.id);
		this.state.contactAutomationsByContact.remove(ca.contact, ca.id);
	}

	// ---------------------------------------------------------------- accounts

	createAccount(
		name: string,
		accountUrl: string | null,
		owner: number,
		fields: AccountFieldInput[],
		source: Source,
	): Account {
		const at = this.now();
		const account = this.state.accounts.insert({ name, accountUrl, owner, createdTimestamp: at, updatedTimestamp: at });
		for (const f of fields) this.writeAccountFieldValue(account.id, f.fieldId, f.value, f.currency);
		this.emit({ type: 'account_add', source, accountId: account.id });
		return account;
	}

	updateAccount(account: Account, patch: { name?: string; accountUrl?: string | null; owner?: number }, fieldsChanged: boolean, source: Source): void {
		let changed = fieldsChanged;
		if (patch.name !== undefined && patch.name !== account.name) {
			account.name = patch.name;
			changed = true;
		}
		if (patch.accountUrl !== undefined && patch.accountUrl !== account.accountUrl) {
			account.accountUrl = patch.accountUrl;
			changed = true;
		}
		if (patch.owner !== undefined && patch.owner !== account.owner) {
			account.owner = patch.owner;
			changed = true;
		}
		if (changed || this.settings.bumpUdateOnNoopUpdate) {
			account.updatedTimestamp = this.now();
			this.emit({ type: 'account_update', source, accountId: account.id });
		}
	}

	/** Creates or updates one account custom field value; returns whether it changed. */
	writeAccountFieldValue(accountId: number, fieldId: number, value: unknown, currency: string | null): { changed: boolean; datumId: number } {
		const at = this.now();
		const existing = this.state.accountFieldData.values().find((d) => d.accountId === accountId && d.customFieldId === fieldId);
		if (existing) {
			const changed = JSON.stringify(existing.fieldValue) !== JSON.stringify(value) || (currency ?? existing.fieldCurrency) !== existing.fieldCurrency;
			if (changed) {
				existing.fieldValue = value;
				if (currency) existing.fieldCurrency = currency;
				existing.updatedTimestamp = at;
			}
			return { changed, datumId: existing.id };
		}
		const meta = this.state.accountFieldMeta.rows.get(fieldId);
		const datum = this.state.accountFieldData.insert({
			accountId,
			customFieldId: fieldId,
			fieldValue: value,
			fieldCurrency: currency ?? (meta?.fieldType === 'currency' ? meta.fieldDefaultCurrency : null),
			createdTimestamp: at,
			updatedTimestamp: at,
		});
		return { changed: true, datumId: datum.id };
	}

	deleteAccount(account: Account): void {
		for (const id of this.state.accountContactsByAccount.get(account.id)) {
			const ac = this.state.accountContacts.rows.get(id);
			if (ac) this.removeAccountContact(ac);
		}
		for (const d of this.state.accountFieldData.values()) if (d.accountId === account.id) this.state.accountFieldData.delete(d.id);
		this.state.accounts.delete(account.id);
	}

	addAccountContact(contactId: number, accountId: number, jobTitle: string, source: Source): AccountContact {
		const at = this.now();
		const ac = this.state.accountContacts.insert({ account: accountId, contact: contactId, jobTitle, createdTimestamp: at, updatedTimestamp: at });
		this.state.accountContactByContact.set(contactId, ac.id);
		this.state.accountContactsByAccount.add(accountId, ac.id);
		this.emit({ type: 'account_contact_add', source, contactId, accountId, accountContactId: ac.id });
		return ac;
	}

	updateAccountContact(ac: AccountContact, patch: { jobTitle?: string; account?: number }, source: Source): void {
		let changed = false;
		if (patch.jobTitle !== undefined && patch.jobTitle !== ac.jobTitle) {
			ac.jobTitle = patch.jobTitle;
			changed = true;
		}
		if (patch.account !== undefined && patch.account !== ac.account) {
			this.state.accountContactsByAccount.remove(ac.account, ac.id);
			ac.account = patch.account;
			this.state.accountContactsByAccount.add(ac.account, ac.id);
			changed = true;
		}
		if (changed) {
			ac.updatedTimestamp = this.now();
			this.emit({ type: 'account_contact_update', source, contactId: ac.contact, accountId: ac.account, accountContactId: ac.id });
		}
	}

	removeAccountContact(ac: AccountContact): void {
		this.state.accountContacts.delete(ac.id);
		if (this.state.accountContactByContact.get(ac.contact) === ac.id) this.state.accountContactByContact.delete(ac.contact);
		this.state.accountContactsByAccount.remove(ac.account, ac.id);
	}

	// ---------------------------------------------------------------- engagement

	recordActivity(
		contactId: number,
		kind: ActivityKind,
		campaignId: number,
		messageId: number,
		linkId: number | null,
		source: Source,
		at = this.now(),
	): Activity {
		const activity = this.state.activities.insert({ contact: contactId, kind, tstamp: at, campaign: campaignId, message: messageId, link: linkId });
		this.state.activitiesByContact.add(contactId, activity.id);
		const campaign = this.state.campaigns.rows.get(campaignId);
		if (campaign && kind === 'sent') {
			campaign.sdate ??= at;
			campaign.ldate = at;
		}
		// Each is a webhook event too: "sent" when the campaign is sent to the contact, with the contact and campaign.
		this.emit({ type: kind, source, contactId, campaignId, messageId, linkId: linkId ?? undefined });
		return activity;
	}
}

/** Whether a value fits a field type; a reason when it does not (used when `fieldValueValidation` is `reject`). */
export function fieldValueProblem(field: Field, value: string | null, options: string[]): string | undefined {
	if (value === null || value === '') return undefined;
	switch (field.type) {
		case 'date':
			return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'expected a date (YYYY-MM-DD)';
		case 'datetime':
			return /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?/.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T')))
				? undefined
				: 'expected an ISO-8601 date and time';
		case 'number':
			return /^-?\d+(\.\d+)?$/.test(value.trim()) ? undefined : 'expected a number';
		case 'dropdown':
		case 'radio':
		case 'checkbox':
		case 'listbox': {
			if (options.length === 0) return undefined;
			const parts = value.startsWith('||') ? value.split('||').filter((p) => p !== '') : [value];
			const bad = parts.filter((p) => !options.includes(p));
			return bad.length ? `not an option of this field: ${bad.join(', ')}` : undefined;
		}
		default:
			return undefined;
	}
}
