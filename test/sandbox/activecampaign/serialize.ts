/**
 * Response shapes, copied field by field from the vendor's examples: ids and counts as strings, timestamps in
 * account time, `links` maps pointing back at this server.
 */
import { createHash } from 'node:crypto';

import type {
	Account,
	AccountContact,
	AccountFieldDatum,
	AccountFieldMeta,
	AcState,
	Activity,
	Automation,
	Campaign,
	CampaignLink,
	CoRecord,
	CoSchema,
	Contact,
	ContactAutomation,
	ContactList,
	ContactTag,
	Field,
	FieldOption,
	FieldRel,
	FieldValue,
	List,
	Message,
	Tag,
	Webhook,
} from './state';
import type { AccountTime } from './time';

export interface SerializerContext {
	readonly state: AcState;
	readonly time: AccountTime;
	readonly apiBase: string;
}

const CONTACT_LINKS = [
	'bounceLogs',
	'contactAutomations',
	'contactData',
	'contactGoals',
	'contactLists',
	'contactLogs',
	'contactTags',
	'contactDeals',
	'deals',
	'fieldValues',
	'geoIps',
	'notes',
	'organization',
	'plusAppend',
	'trackingLogs',
	'scoreValues',
	'accountContacts',
	'automationEntryCounts',
];

export function md5(text: string): string {
	return createHash('md5').update(text).digest('hex');
}

export function str(n: number | null | undefined): string | null {
	return n === null || n === undefined ? null : String(n);
}

export class Serializer {
	constructor(private readonly ctx: SerializerContext) {}

	private get t() {
		return this.ctx.time;
	}

	private link(path: string): string {
		return `${this.ctx.apiBase}/api/3/${path}`;
	}

	contact(c: Contact, extra: { relations?: boolean } = {}): Record<string, unknown> {
		const { state } = this.ctx;
		const account = state.accountOf(c.id);
		const [local = '', domain = ''] = c.email.split('@');
		const out: Record<string, unknown> = {
			cdate: this.t.iso(c.cdate),
			email: c.email,
			phone: c.phone,
			firstName: c.firstName,
			lastName: c.lastName,
			orgid: '0',
			orgname: account?.name ?? '',
			segmentio_id: '',
			bounced_hard: '0',
			bounced_soft: '0',
			bounced_date: null,
			ip: c.ip,
			ua: null,
			hash: c.hash,
			socialdata_lastcheck: null,
			email_local: local,
			email_domain: domain,
			sentcnt: String(state.activitiesByContact.get(c.id).filter((id) => state.activities.rows.get(id)?.kind === 'sent').length),
			rating_tstamp: null,
			gravatar: '0',
			deleted: '0',
			anonymized: '0',
			adate: null,
			udate: this.t.iso(c.udate),
			edate: null,
			deleted_at: null,
			created_utc_timestamp: this.t.local(c.cdate),
			updated_utc_timestamp: this.t.local(c.udate),
			created_timestamp: this.t.local(c.cdate),
			updated_timestamp: this.t.local(c.udate),
			email_empty: c.email === '',
			scoreValues: [],
		};
		if (extra.relations) {
			out.contactAutomations = state.contactAutomationsByContact.get(c.id).map(String);
			out.contactLists = state.contactListsByContact.get(c.id).map(String);
			out.fieldValues = state.fieldValuesOf(c.id).map((fv) => String(fv.id));
			out.geoIps = [];
			out.deals = [];
			const ac = state.accountContactOf(c.id);
			out.accountContacts = ac ? [String(ac.id)] : [];
		}
		out.links = Object.fromEntries(CONTACT_LINKS.map((name) => [name, this.link(`contacts/${c.id}/${name}`)]));
		out.id = String(c.id);
		out.organization = null;
		return out;
	}

	fieldValue(fv: FieldValue): Record<string, unknown> {
		return {
			contact: String(fv.contact),
			field: String(fv.field),
			value: fv.value,
			cdate: this.t.iso(fv.cdate),
			udate: this.t.iso(fv.udate),
			created_by: null,
			updated_by: null,
			links: {
				owner: this.link(`fieldValues/${fv.id}/owner`),
				field: this.link(`fieldValues/${fv.id}/field`),
			},
			id: String(fv.id),
			owner: String(fv.contact),
		};
	}

	field(f: Field): Record<string, unknown> {
		const { state } = this.ctx;
		return {
			title: f.title,
			descript: f.descript,
			type: f.type,
			isrequired: String(f.isrequired),
			perstag: f.perstag,
			defval: f.defval,
			show_in_list: '0',
			rows: '0',
			cols: '0',
			visible: String(f.visible),
			service: f.service,
			ordernum: String(f.ordernum),
			cdate: this.t.iso(f.cdate),
			udate: this.t.iso(f.udate),
			options: state.fieldOptionsOf(f.id).map((o) => String(o.id)),
			relations: state.fieldRels
				.values()
				.filter((r) => r.field === f.id)
				.map((r) => String(r.id)),
			links: {
				options: this.link(`fields/${f.id}/options`),
				relations: this.link(`fields/${f.id}/relations`),
			},
			id: String(f.id),
		};
	}

	fieldOption(o: FieldOption): Record<string, unknown> {
		return {
			field: String(o.field),
			orderid: o.orderid,
			value: o.value,
			label: o.label,
			isdefault: o.isdefault,
			cdate: this.t.iso(o.cdate),
			udate: this.t.iso(o.udate),
			links: { field: this.link(`fieldOptions/${o.id}/field`) },
			id: String(o.id),
		};
	}

	fieldRel(r: FieldRel): Record<string, unknown> {
		return {
			field: String(r.field),
			relid: String(r.relid),
			dorder: String(r.dorder),
			cdate: this.t.iso(r.cdate),
			links: [],
			id: String(r.id),
		};
	}

	tag(t: Tag, withCount = false): Record<string, unknown> {
		const out: Record<string, unknown> = {
			tagType: t.tagType,
			tag: t.tag,
			description: t.description,
			cdate: this.t.iso(t.cdate),
		};
		if (withCount) {
			let count = 0;
			for (const ct of this.ctx.state.contactTags.rows.values()) if (ct.tag === t.id) count++;
			out.subscriber_count = String(count);
		}
		out.links = { contactGoalTags: this.link(`tags/${t.id}/contactGoalTags`) };
		out.id = String(t.id);
		return out;
	}

	contactTag(ct: ContactTag): Record<string, unknown> {
		return {
			contact: String(ct.contact),
			tag: String(ct.tag),
			cdate: this.t.iso(ct.cdate),
			created_timestamp: this.t.local(ct.cdate),
			updated_timestamp: this.t.local(ct.udate),
			created_by: null,
			updated_by: null,
			links: {
				contact: this.link(`contactTags/${ct.id}/contact`),
				tag: this.link(`contactTags/${ct.id}/tag`),
			},
			id: String(ct.id),
		};
	}

	list(l: List): Record<string, unknown> {
		return {
			stringid: l.stringid,
			userid: String(l.userid),
			name: l.name,
			cdate: this.t.iso(l.cdate),
			p_use_tracking: '1',
			p_use_analytics_read: '0',
			p_use_analytics_link: '0',
			p_use_twitter: '0',
			p_use_facebook: '0',
			p_embed_image: '1',
			p_use_captcha: '1',
			send_last_broadcast: '0',
			private: '0',
			analytics_domains: null,
			analytics_source: '',
			analytics_ua: '',
			twitter_token: '',
			twitter_token_secret: '',
			facebook_session: null,
			carboncopy: null,
			subscription_notify: null,
			unsubscription_notify: null,
			require_name: '0',
			get_unsubscribe_reason: '0',
			to_name: 'Subscriber',
			optinoptout: '1',
			sender_name: '',
			sender_addr1: '',
			sender_addr2: '',
			sender_city: '',
			sender_state: '',
			sender_zip: '',
			sender_country: '',
			sender_phone: '',
			sender_url: l.senderUrl,
			sender_reminder: l.senderReminder,
			fulladdress: '',
			optinmessageid: '0',
			optoutconf: '0',
			deletestamp: null,
			udate: this.t.iso(l.udate),
			links: {
				contactGoalLists: this.link(`lists/${l.id}/contactGoalLists`),
				user: this.link(`lists/${l.id}/user`),
				addressLists: this.link(`lists/${l.id}/addressLists`),
			},
			id: String(l.id),
			user: String(l.userid),
		};
	}

	contactList(cl: ContactList): Record<string, unknown> {
		return {
			contact: String(cl.contact),
			list: String(cl.list),
			form: null,
			seriesid: '0',
			sdate: this.t.iso(cl.sdate),
			udate: this.t.iso(cl.udate),
			status: String(cl.status),
			responder: '1',
			sync: '0',
			unsubreason: null,
			campaign: null,
			message: null,
			first_name: cl.firstName,
			last_name: cl.lastName,
			ip4Sub: '0',
			sourceid: String(cl.sourceid),
			autosyncLog: null,
			ip4_last: '0',
			ip4Unsub: '0',
			created_timestamp: this.t.local(cl.createdTimestamp),
			updated_timestamp: this.t.local(cl.udate),
			created_by: null,
			updated_by: null,
			unsubscribeAutomation: null,
			links: Object.fromEntries(
				['automation', 'list', 'contact', 'form', 'autosyncLog', 'campaign', 'unsubscribeAutomation', 'message'].map(
					(name) => [name, this.link(`contactLists/${cl.id}/${name}`)],
				),
			),
			id: String(cl.id),
			automation: null,
		};
	}

	automation(a: Automation): Record<string, unknown> {
		const { state } = this.ctx;
		let entered = 0;
		let exited = 0;
		for (const ca of state.contactAutomations.rows.values()) {
			if (ca.automation !== a.id) continue;
			entered++;
			if (ca.status !== 1) exited++;
		}
		return {
			name: a.name,
			cdate: this.t.iso(a.cdate),
			mdate: this.t.iso(a.mdate),
			userid: '1',
			status: String(a.status),
			entered: String(entered),
			exited: String(exited),
			hidden: '0',
			defaultscreenshot: 'http://img-us1.com/default-series.gif',
			screenshot: '',
			links: Object.fromEntries(
				['campaigns', 'contactGoals', 'contactAutomations', 'blocks', 'goals', 'sms', 'sitemessages'].map((name) => [
					name,
					this.link(`automations/${a.id}/${name}`),
				]),
			),
			id: String(a.id),
		};
	}

	contactAutomation(ca: ContactAutomation): Record<string, unknown> {
		const automation = this.ctx.state.automations.rows.get(ca.automation);
		const total = automation?.totalElements ?? 1;
		const completed = ca.status === 2;
		return {
			contact: String(ca.contact),
			seriesid: String(ca.automation),
			startid: '0',
			status: String(ca.status),
			batchid: null,
			adddate: this.t.iso(ca.adddate),
			remdate: this.t.iso(ca.remdate),
			timespan: ca.remdate ? String(Math.round((ca.remdate - ca.adddate) / 1000)) : null,
			lastblock: '0',
			lastlogid: '0',
			lastdate: this.t.iso(ca.lastdate),
			completedElements: String(completed ? total : 0),
			totalElements: String(total),
			completed: completed ? 1 : 0,
			completeValue: completed ? 100 : 0,
			links: {
				automation: this.link(`contactAutomations/${ca.id}/automation`),
				contact: this.link(`contactAutomations/${ca.id}/contact`),
				contactGoals: this.link(`contactAutomations/${ca.id}/contactGoals`),
				automationLogs: this.link(`contactAutomations/${ca.id}/automationLogs`),
			},
			id: String(ca.id),
			automation: String(ca.automation),
		};
	}

	account(a: Account, opts: { counts?: boolean; fields?: boolean } = {}): Record<string, unknown> {
		const { state } = this.ctx;
		const out: Record<string, unknown> = {
			name: a.name,
			accountUrl: a.accountUrl,
			owner: String(a.owner),
			createdTimestamp: this.t.iso(a.createdTimestamp),
			updatedTimestamp: this.t.iso(a.updatedTimestamp),
			contactCount: opts.counts ? String(state.accountContactsByAccount.get(a.id).length) : '0',
			dealCount: '0',
			links: {
				notes: this.link(`accounts/${a.id}/notes`),
				accountCustomFieldData: this.link(`accounts/${a.id}/accountCustomFieldData`),
				accountContacts: this.link(`accounts/${a.id}/accountContacts`),
			},
		};
		if (opts.fields) {
			out.fields = state.accountFieldData
				.values()
				.filter((d) => d.accountId === a.id)
				.map((d) => ({
					customFieldId: d.customFieldId,
					fieldValue: d.fieldValue,
					...(d.fieldCurrency ? { fieldCurrency: d.fieldCurrency } : {}),
					accountId: String(a.id),
				}));
		}
		out.id = String(a.id);
		return out;
	}

	accountContact(ac: AccountContact): Record<string, unknown> {
		return {
			account: String(ac.account),
			contact: String(ac.contact),
			jobTitle: ac.jobTitle,
			createdTimestamp: this.t.iso(ac.createdTimestamp),
			updatedTimestamp: this.t.iso(ac.updatedTimestamp),
			links: {
				account: this.link(`accountContacts/${ac.id}/account`),
				contact: this.link(`accountContacts/${ac.id}/contact`),
			},
			id: String(ac.id),
		};
	}

	accountFieldMeta(m: AccountFieldMeta): Record<string, unknown> {
		return {
			id: String(m.id),
			fieldLabel: m.fieldLabel,
			fieldType: m.fieldType,
			fieldOptions: m.fieldOptions,
			fieldDefault: m.fieldDefault,
			fieldDefaultCurrency: m.fieldDefaultCurrency,
			isFormVisible: m.isFormVisible,
			isRequired: m.isRequired,
			displayOrder: m.displayOrder,
			personalization: '',
			knownFieldId: null,
			hideFieldFlag: 0,
			createdTimestamp: this.t.local(m.createdTimestamp),
			updatedTimestamp: this.t.local(m.updatedTimestamp),
			links: { accountCustomFieldData: this.link(`accountCustomFieldMeta/${m.id}/accountCustomFieldData`) },
		};
	}

	accountFieldDatum(d: AccountFieldDatum): Record<string, unknown> {
		return {
			id: String(d.id),
			accountCustomFieldMetumId: d.customFieldId,
			accountId: d.accountId,
			customFieldId: d.customFieldId,
			createdTimestamp: this.t.local(d.createdTimestamp),
			updatedTimestamp: this.t.local(d.updatedTimestamp),
			fieldValue: d.fieldValue,
			...(d.fieldCurrency ? { fieldCurrency: d.fieldCurrency } : {}),
			links: {
				account: this.link(`accountCustomFieldData/${d.id}/account`),
				accountCustomFieldMetum: this.link(`accountCustomFieldData/${d.id}/accountCustomFieldMetum`),
			},
		};
	}

	schema(s: CoSchema, showAll: boolean): Record<string, unknown> {
		return {
			id: s.id,
			slug: s.slug,
			visibility: s.visibility,
			labels: s.labels,
			description: s.description,
			...(s.appId ? { appId: s.appId } : {}),
			createdTimestamp: this.t.utcNanos(s.createdTimestamp),
			updatedTimestamp: this.t.utcNanos(s.updatedTimestamp),
			fields: s.fields
				.filter((f) => showAll || f.status !== 'marked_for_deletion')
				.map((f) => ({ ...f, inherited: false })),
			icons: s.icons,
			relationships: s.relationships.map((r) => ({ ...r, inherited: false })),
		};
	}

	record(r: CoRecord, schema: CoSchema): Record<string, unknown> {
		const deleted = new Set(schema.fields.filter((f) => f.status === 'marked_for_deletion').map((f) => f.id));
		return {
			id: r.id,
			externalId: r.externalId,
			schemaId: r.schemaId,
			fields: [...r.fields.entries()].filter(([id]) => !deleted.has(id)).map(([id, value]) => ({ id, value })),
			relationships: r.relationships,
			createdTimestamp: this.t.utcNanos(r.createdTimestamp),
			updatedTimestamp: this.t.utcNanos(r.updatedTimestamp),
		};
	}

	webhook(w: Webhook): Record<string, unknown> {
		return {
			cdate: this.t.iso(w.cdate),
			listid: String(w.listid),
			name: w.name,
			url: w.url,
			events: w.events,
			sources: w.sources,
			links: [],
			id: String(w.id),
		};
	}

	campaign(c: Campaign): Record<string, unknown> {
		const { state } = this.ctx;
		const acts = state.activities.values().filter((a) => a.campaign === c.id);
		const count = (kind: string) => acts.filter((a) => a.kind === kind).length;
		const unique = (kind: string) => new Set(acts.filter((a) => a.kind === kind).map((a) => a.contact)).size;
		const message = state.messages.values().find((m) => m.campaign === c.id);
		return {
			type: c.type,
			userid: '1',
			segmentid: '0',
			bounceid: '-1',
			realcid: '0',
			sendid: '0',
			threadid: '0',
			seriesid: String(c.seriesid),
			formid: '0',
			basetemplateid: '',
			basemessageid: '0',
			addressid: '0',
			source: 'web',
			name: c.name,
			cdate: this.t.iso(c.cdate),
			mdate: this.t.iso(c.mdate),
			sdate: this.t.iso(c.sdate),
			ldate: this.t.iso(c.ldate),
			send_amt: String(count('sent')),
			total_amt: String(count('sent')),
			opens: String(count('open')),
			uniqueopens: String(unique('open')),
			linkclicks: String(count('click')),
			uniquelinkclicks: String(unique('click')),
			subscriberclicks: String(unique('click')),
			forwards: '0',
			uniqueforwards: '0',
			hardbounces: '0',
			softbounces: '0',
			unsubscribes: '0',
			unsubreasons: '0',
			updates: '0',
			socialshares: '0',
			replies: '0',
			uniquereplies: '0',
			status: String(c.status),
			public: '1',
			tracklinks: 'all',
			trackreads: '1',
			links: {
				user: this.link(`campaigns/${c.id}/user`),
				automation: this.link(`campaigns/${c.id}/automation`),
				campaignMessage: this.link(`campaigns/${c.id}/campaignMessage`),
				campaignMessages: this.link(`campaigns/${c.id}/campaignMessages`),
				links: this.link(`campaigns/${c.id}/links`),
				campaignLists: this.link(`campaigns/${c.id}/campaignLists`),
			},
			id: String(c.id),
			user: '1',
			automation: c.seriesid ? String(c.seriesid) : null,
			message_id: message ? String(message.id) : null,
		};
	}

	message(m: Message): Record<string, unknown> {
		return {
			userid: '1',
			ed_instanceid: '0',
			ed_version: '2',
			cdate: this.t.iso(m.cdate),
			mdate: this.t.iso(m.mdate),
			name: m.subject,
			fromname: m.fromname,
			fromemail: m.fromemail,
			reply2: m.reply2,
			priority: '3',
			charset: 'utf-8',
			encoding: 'quoted-printable',
			format: 'mime',
			subject: m.subject,
			preheader_text: m.preheaderText,
			text: m.text,
			html: m.html,
			htmlfetch: '',
			textfetch: '',
			hidden: '0',
			preview_mime: '',
			preview_data: '',
			links: {
				user: this.link(`messages/${m.id}/user`),
			},
			id: String(m.id),
			user: '1',
			campaign: String(m.campaign),
		};
	}

	campaignLink(l: CampaignLink): Record<string, unknown> {
		return {
			campaignid: String(l.campaign),
			messageid: String(l.message),
			link: l.link,
			name: l.name,
			ref: '',
			tracked: '1',
			links: {
				campaign: this.link(`links/${l.id}/campaign`),
				message: this.link(`links/${l.id}/message`),
			},
			id: String(l.id),
			campaign: String(l.campaign),
			message: String(l.message),
		};
	}

	activity(a: Activity): Record<string, unknown> {
		const ref =
			a.kind === 'click'
				? { type: 'link', id: a.link ?? 0, referenceType: 'Link', action: 'click' }
				: a.kind === 'open'
					? { type: 'campaign-message', id: a.message, referenceType: 'CampaignMessage', action: 'open' }
					: { type: 'campaign', id: a.campaign, referenceType: 'Campaign', action: 'sent' };
		return {
			tstamp: this.t.iso(a.tstamp),
			subscriberid: String(a.contact),
			reference_type: ref.referenceType,
			reference_id: String(ref.id),
			reference_action: ref.action,
			jsonData: JSON.stringify({ campaignid: String(a.campaign), messageid: String(a.message), ...(a.link ? { linkid: String(a.link) } : {}) }),
			userid: '0',
			permission: '',
			referenceModelName: ref.type,
			notes: [],
			recipients: [],
			reference: { type: ref.type, id: String(ref.id) },
			user: null,
			id: String(a.id),
		};
	}
}
