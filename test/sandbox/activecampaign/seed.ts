/**
 * Seed data. `demo` is small, readable and stable (the end-to-end sync tests and the demo rely on it);
 * `empty` keeps the catalogue (lists, tags, fields, automations, account fields, campaigns) without contacts,
 * accounts or activity. `seedBulk` adds many synthetic contacts deterministically.
 *
 * Seeding uses fixed timestamps in the past and a silent service, so it never fires webhooks.
 */
import { Clock } from '../core/clock';
import { SeededRandom } from '../core/random';
import type { AcContext } from './context';
import { AcService } from './service';
import type { AccountFieldType, FieldType } from './state';
import type { WebhookDispatcher } from './webhooks';

export type AcSeedName = 'demo' | 'empty';

/** 2025-01-06 09:00:00 -05:00: demo records are created from here on, one step per record. */
export const SEED_BASE = Date.parse('2025-01-06T14:00:00Z');
const DAY = 86_400_000;

class SeedClock extends Clock {
	at = SEED_BASE;
	override now(): number {
		return this.at;
	}
	override monotonicNow(): number {
		return this.at;
	}
}

function seedService(ctx: AcContext, clock: SeedClock): AcService {
	const silent = { emit: () => undefined } as unknown as WebhookDispatcher;
	return new AcService({ state: () => ctx.state, settings: () => ctx.settings, clock, webhooks: silent });
}

/** The people the Dynamics 365 simulator also seeds (same names and emails). */
export const SHARED_PEOPLE = [
	{ firstName: 'Maria', lastName: 'Garcia', email: 'maria.garcia@contoso.com', phone: '+1 206 555 0101', account: 'Contoso Ltd', jobTitle: 'Head of Marketing' },
	{ firstName: 'Li', lastName: 'Wei', email: 'li.wei@fabrikam.com', phone: '+1 416 555 0111', account: 'Fabrikam Inc', jobTitle: 'Data Analyst' },
	{ firstName: 'Sam', lastName: 'Taylor', email: 'sam.taylor@adatum.com', phone: '+44 20 7946 0121', account: undefined, jobTitle: 'Procurement Manager' },
	{ firstName: 'Priya', lastName: 'Patel', email: 'priya.patel@litware.com', phone: '+1 512 555 0131', account: undefined, jobTitle: 'Operations Manager' },
	{ firstName: 'Jonas', lastName: 'Berg', email: 'jonas.berg@northwind.com', phone: '+46 8 555 0141', account: undefined, jobTitle: 'Supply Chain Director' },
];

const AC_ONLY_NAMES = [
	'Diego Alvarez',
	'Hana Suzuki',
	'Victor Nguyen',
	'Olivia Martinez',
	'Liam Anderson',
	'Ava Thomas',
	'Ethan Moore',
	'Sophia Jackson',
	'Mason White',
	'Isabella Harris',
	'Lucas Clark',
	'Mia Lewis',
	'Logan Walker',
	'Charlotte Hall',
	'James Young',
	'Amelia King',
	'Benjamin Wright',
	'Harper Scott',
	'Elijah Green',
	'Evelyn Baker',
];

export const DEMO_TAGS = [
	'Customer',
	'Prospect',
	'VIP',
	'Webinar Attendee',
	'Newsletter Subscriber',
	'[D365: Lead]',
	'[D365: Contact]',
	'[D365: Pushed from Dynamics]',
	'[D365: Pulled from ActiveCampaign]',
];

export const DEMO_FIELDS: Array<{ title: string; type: FieldType; perstag: string; options?: string[] }> = [
	{ title: 'Lead Source', type: 'dropdown', perstag: 'LEAD_SOURCE', options: ['Website', 'Referral', 'Trade Show', 'Partner', 'Dynamics 365'] },
	{ title: 'Interests', type: 'checkbox', perstag: 'INTERESTS', options: ['Email Marketing', 'CRM', 'Automation', 'Analytics'] },
	{ title: 'Birthday', type: 'date', perstag: 'BIRTHDAY' },
	{ title: 'Last Webinar', type: 'datetime', perstag: 'LAST_WEBINAR' },
	{ title: 'Annual Budget', type: 'number', perstag: 'ANNUAL_BUDGET' },
	{ title: 'Notes', type: 'textarea', perstag: 'NOTES' },
	{ title: 'Preferred Channel', type: 'radio', perstag: 'PREFERRED_CHANNEL', options: ['Email', 'Phone', 'SMS'] },
	{ title: 'Segment', type: 'listbox', perstag: 'SEGMENT', options: ['SMB', 'Mid-Market', 'Enterprise'] },
	{ title: 'D365 Contact ID', type: 'hidden', perstag: 'D365_CONTACT_ID' },
	{ title: 'Job Title', type: 'text', perstag: 'JOB_TITLE' },
];

export const DEMO_ACCOUNT_FIELDS: Array<{ label: string; type: AccountFieldType; options?: string[]; currency?: string }> = [
	{ label: 'Industry', type: 'dropdown', options: ['Manufacturing', 'Software', 'Retail', 'Healthcare', 'Financial Services'] },
	{ label: 'Annual Revenue', type: 'currency', currency: 'usd' },
	{ label: 'Number of Employees', type: 'number' },
	{ label: 'Description', type: 'textarea' },
];

export const DEMO_LISTS = ['Newsletter', 'Customers'];
export const DEMO_AUTOMATIONS = ['Welcome Series', 'D365 Sales Follow-up', 'Webinar Invite'];

/** Contoso and Fabrikam match the Dynamics 365 demo accounts; the other three exist only in ActiveCampaign. */
const DEMO_ACCOUNTS: Array<{ name: string; url: string; industry: string; revenueCents: number; employees: number }> = [
	{ name: 'Contoso Ltd', url: 'https://www.contoso.com', industry: 'Manufacturing', revenueCents: 12_500_000_00, employees: 850 },
	{ name: 'Fabrikam Inc', url: 'https://www.fabrikam.com', industry: 'Software', revenueCents: 48_000_000_00, employees: 2300 },
	{ name: 'Proseware Inc', url: 'https://www.proseware.example.com', industry: 'Healthcare', revenueCents: 12_250_000_00, employees: 95 },
	{ name: 'Trey Research', url: 'https://www.treyresearch.example.com', industry: 'Software', revenueCents: 9_500_000_00, employees: 120 },
	{ name: 'Coho Winery', url: 'https://www.cohowinery.example.com', industry: 'Retail', revenueCents: 3_100_000_00, employees: 40 },
];

/** Lists, tags, fields, automations, account fields, campaigns and messages: present in both seeds. */
function seedCatalogue(ctx: AcContext, clock: SeedClock): void {
	const { state } = ctx;
	const at = () => (clock.at += 60_000);
	for (const [i, name] of DEMO_LISTS.entries()) {
		const t = at();
		state.lists.insert({
			name,
			stringid: name.toLowerCase(),
			senderUrl: 'https://www.example.com',
			senderReminder: i === 0 ? 'You signed up for our newsletter on example.com.' : 'You are a customer of Example Co.',
			userid: 1,
			cdate: t,
			udate: t,
		});
	}
	for (const name of DEMO_TAGS) {
		state.tags.insert({
			tag: name,
			tagType: 'contact',
			description: name.startsWith('[D365') ? 'Used by the Dynamics 365 integration' : '',
			cdate: at(),
		});
	}
	for (const [i, def] of DEMO_FIELDS.entries()) {
		const t = at();
		const field = state.fields.insert({
			title: def.title,
			descript: null,
			type: def.type,
			isrequired: 0,
			perstag: def.perstag,
			defval: null,
			visible: def.type === 'hidden' ? 0 : 1,
			ordernum: i + 1,
			service: '',
			cdate: t,
			udate: t,
		});
		state.fieldRels.insert({ field: field.id, relid: 0, dorder: 0, cdate: t });
		(def.options ?? []).forEach((value, j) =>
			state.fieldOptions.insert({ field: field.id, label: value, value, orderid: j + 1, isdefault: 0, cdate: t, udate: t }),
		);
	}
	for (const name of DEMO_AUTOMATIONS) {
		const t = at();
		state.automations.insert({ name, status: 1, cdate: t, mdate: t, totalElements: 3 });
	}
	for (const [i, def] of DEMO_ACCOUNT_FIELDS.entries()) {
		const t = at();
		state.accountFieldMeta.insert({
			fieldLabel: def.label,
			fieldType: def.type,
			fieldOptions: def.options ?? null,
			fieldDefault: null,
			fieldDefaultCurrency: def.currency ?? null,
			isFormVisible: 1,
			isRequired: 0,
			displayOrder: i + 1,
			createdTimestamp: t,
			updatedTimestamp: t,
		});
	}
	const campaigns = [
		{ name: 'Spring Product Update', subject: "What's new this spring", links: ['https://www.example.com/spring', 'https://www.example.com/pricing'] },
		{ name: 'Webinar: CRM meets Marketing', subject: 'Join our live webinar', links: ['https://www.example.com/webinar'] },
	];
	for (const def of campaigns) {
		const t = at();
		const campaign = state.campaigns.insert({ name: def.name, type: 'single', status: 5, seriesid: 0, cdate: t, mdate: t, sdate: null, ldate: null });
		const message = state.messages.insert({
			campaign: campaign.id,
			subject: def.subject,
			fromname: 'Example Co.',
			fromemail: 'news@example.com',
			reply2: 'news@example.com',
			preheaderText: '',
			text: `${def.subject}\n\nRead more at ${def.links[0]}`,
			html: `<html><body><h1>${def.subject}</h1>${def.links.map((l) => `<p><a href="${l}">${l}</a></p>`).join('')}</body></html>`,
			cdate: t,
			mdate: t,
		});
		for (const link of def.links) state.campaignLinks.insert({ campaign: campaign.id, message: message.id, link, name: link });
	}
}

export function seed(ctx: AcContext, name: AcSeedName): void {
	const clock = new SeedClock();
	seedCatalogue(ctx, clock);
	if (name === 'empty') return;
	seedDemo(ctx, clock);
}

function seedDemo(ctx: AcContext, clock: SeedClock): void {
	const { state } = ctx;
	const service = seedService(ctx, clock);
	const random = new SeededRandom('ac-demo');
	const field = (perstag: string) => state.fields.values().find((f) => f.perstag === perstag)!.id;
	const tag = (name: string) => state.tagByName(name)!.id;
	const step = (ms: number) => (clock.at += ms);

	clock.at = SEED_BASE + DAY;
	const accounts = new Map<string, number>();
	for (const def of DEMO_ACCOUNTS) {
		step(3_600_000);
		const account = service.createAccount(
			def.name,
			def.url,
			1,
			[
				{ fieldId: 1, value: def.industry, currency: null },
				{ fieldId: 2, value: def.revenueCents, currency: 'usd' },
				{ fieldId: 3, value: def.employees, currency: null },
			],
			'admin',
		);
		accounts.set(def.name, account.id);
	}

	const people = [
		...SHARED_PEOPLE,
		...AC_ONLY_NAMES.map((full, i) => {
			const [firstName, lastName] = full.split(' ');
			const accountNames = ['Proseware Inc', 'Trey Research', 'Coho Winery', undefined];
			return {
				firstName,
				lastName,
				email: `${firstName.toLowerCase()}.${lastName.toLowerCase()}@example.com`,
				phone: `+1 555 01${String(10 + i).padStart(2, '0')}`,
				account: accountNames[i % accountNames.length],
				jobTitle: ['Marketing Manager', 'Sales Rep', 'CEO', 'Analyst', 'Consultant'][i % 5],
			};
		}),
	];

	const leadSources = DEMO_FIELDS[0].options!.filter((o) => o !== 'Dynamics 365');
	const segments = DEMO_FIELDS[7].options!;
	const channels = DEMO_FIELDS[6].options!;
	people.forEach((p, i) => {
		clock.at = SEED_BASE + (i + 2) * DAY;
		const fieldValues = [
			{ field: field('LEAD_SOURCE'), value: i < 5 ? 'Dynamics 365' : random.pick(leadSources) },
			{ field: field('JOB_TITLE'), value: p.jobTitle },
			{ field: field('SEGMENT'), value: `||${random.pick(segments)}||` },
			{ field: field('PREFERRED_CHANNEL'), value: random.pick(channels) },
		];
		if (i % 2 === 0) fieldValues.push({ field: field('INTERESTS'), value: '||CRM||Automation||' });
		if (i === 0) fieldValues.push({ field: field('BIRTHDAY'), value: '1986-04-12' });
		else if (i % 3 === 0) fieldValues.push({ field: field('BIRTHDAY'), value: `19${70 + (i % 25)}-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 27) + 1).padStart(2, '0')}` });
		if (i % 4 === 0) fieldValues.push({ field: field('ANNUAL_BUDGET'), value: String(5000 + i * 2500) });
		if (i % 5 === 1) fieldValues.push({ field: field('LAST_WEBINAR'), value: ctx.time.iso(SEED_BASE + 10 * DAY + i * 3_600_000)! });
		if (i === 0) fieldValues.push({ field: field('NOTES'), value: 'Met at the Contoso trade show; interested in the automation add-on.' });
		const contact = service.createContact({ email: p.email, firstName: p.firstName, lastName: p.lastName, phone: p.phone }, fieldValues, 'admin');
		step(600_000);
		if (p.account) service.addAccountContact(contact.id, accounts.get(p.account)!, p.jobTitle, 'admin');
		step(60_000);
		service.setListStatus(contact, 1, i % 7 === 6 ? 2 : 1, 'admin');
		if (i % 3 === 0) service.setListStatus(contact, 2, 1, 'admin');
		step(60_000);
		const tags = i % 3 === 0 ? ['Customer'] : ['Prospect'];
		if (i % 6 === 1) tags.push('VIP');
		if (i % 5 === 1) tags.push('Webinar Attendee');
		for (const name of tags) service.addContactTag(contact.id, tag(name), 'admin');
		// A later edit, so udate differs from cdate.
		clock.at += (i % 4) * DAY + 3_600_000 + i * 60_000;
		service.updateContact(contact, { phone: p.phone }, [{ field: field('PREFERRED_CHANNEL'), value: 'Email' }], 'admin');
	});

	// Automations: contact 1 finished the welcome series, a few are in the webinar invite.
	clock.at = SEED_BASE + 30 * DAY;
	const done = service.addToAutomation(1, 1);
	done.status = 2;
	done.remdate = clock.at + DAY;
	done.lastdate = clock.at + DAY;
	for (const contactId of [6, 7, 11]) service.addToAutomation(contactId, 3);

	// Engagement: campaign 1 went to most contacts; some opened and clicked.
	clock.at = SEED_BASE + 32 * DAY;
	for (const contact of state.contacts.values()) {
		if (contact.id % 4 === 3) continue;
		service.recordActivity(contact.id, 'sent', 1, 1, null, 'system', clock.at + contact.id * 1000);
		if (contact.id % 2 === 1) service.recordActivity(contact.id, 'open', 1, 1, null, 'public', clock.at + 3_600_000 + contact.id * 60_000);
		if (contact.id % 3 === 1) service.recordActivity(contact.id, 'click', 1, 1, 1 + (contact.id % 2), 'public', clock.at + 7_200_000 + contact.id * 60_000);
	}
	clock.at = SEED_BASE + 40 * DAY;
	for (const contactId of [1, 2, 5, 6, 10]) {
		service.recordActivity(contactId, 'sent', 2, 2, null, 'system', clock.at + contactId * 1000);
		service.recordActivity(contactId, 'open', 2, 2, null, 'public', clock.at + 1_800_000 + contactId * 60_000);
	}
	service.recordActivity(5, 'click', 2, 2, 3, 'public', clock.at + 2_000_000);
}

export interface BulkSeedOptions {
	contacts: number;
	withFieldValues?: boolean;
	withTags?: boolean;
	withLists?: boolean;
	/** Spread the contacts over this many new accounts (`Bulk Account <n>`), each contact linked to one. */
	withAccounts?: number;
	seed?: number | string;
	/** Domain of the generated addresses (default bulk.example.com). */
	domain?: string;
	/**
	 * Each contact linked to a Dynamics lead the way the sync links it: tagged `[D365: Lead]`, D365_RECORD_ID
	 * `lead:<guid>` (a made-up id; the sync fields must exist, as after the sync's Prepare step).
	 */
	linkedAsLeads?: boolean;
}

const FIRST = ['Ada', 'Ben', 'Cara', 'Dev', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivo', 'Jill', 'Kai', 'Lena', 'Milo', 'Nia', 'Otto', 'Pia', 'Quinn', 'Rosa', 'Sven', 'Tara'];
const LAST = ['Adams', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fox', 'Gray', 'Hill', 'Ito', 'Jones', 'Khan', 'Lopez', 'Meyer', 'Nunez', 'Olsen', 'Park', 'Reed', 'Silva', 'Tran', 'Vogel'];

/**
 * Appends `contacts` synthetic contacts after the existing ones (ids continue), with cdate increasing with the id
 * and udate a deterministic while later. Returns the first and last id.
 */
export function seedBulk(ctx: AcContext, options: BulkSeedOptions): { first: number; last: number; count: number } {
	const { state } = ctx;
	const count = Math.max(0, Math.floor(options.contacts));
	const clock = new SeedClock();
	const service = seedService(ctx, clock);
	const random = new SeededRandom(options.seed ?? 'ac-bulk');
	const domain = options.domain ?? 'bulk.example.com';
	const leadSource = state.fields.values().find((f) => f.perstag === 'LEAD_SOURCE');
	const budget = state.fields.values().find((f) => f.perstag === 'ANNUAL_BUDGET');
	const segment = state.fields.values().find((f) => f.perstag === 'SEGMENT');
	const linkField = state.fields.values().find((f) => f.perstag === 'D365_RECORD_ID');
	if (options.linkedAsLeads && !linkField) throw new Error('linkedAsLeads needs the D365_RECORD_ID field (run the sync\'s Prepare step first)');
	const leadTag = options.linkedAsLeads ? service.ensureTag('[D365: Lead]').id : undefined;
	const tagIds = ['Customer', 'Prospect', 'VIP'].map((n) => state.tagByName(n)?.id).filter((id): id is number => id !== undefined);
	const firstId = state.contacts.peekNextId;
	const start = SEED_BASE + 60 * DAY;
	const accounts: number[] = [];
	for (let a = 0; a < Math.max(0, Math.floor(options.withAccounts ?? 0)); a++) {
		let name = `Bulk Account ${a + 1}`;
		while (state.accountByName(name)) name = `${name}x`;
		accounts.push(service.createAccount(name, null, 1, [], 'admin').id);
	}
	let last = firstId - 1;
	for (let i = 0; i < count; i++) {
		const id = firstId + i;
		const first = FIRST[id % FIRST.length];
		const lastName = LAST[Math.floor(id / FIRST.length) % LAST.length];
		let email = `${first.toLowerCase()}.${lastName.toLowerCase()}.${id}@${domain}`;
		while (state.contactByEmailAddress(email)) email = `x${email}`;
		clock.at = start + i * 37_000;
		const values = [];
		if (options.withFieldValues) {
			if (leadSource) values.push({ field: leadSource.id, value: random.pick(state.fieldOptionsOf(leadSource.id).map((o) => o.value).concat('Website')) });
			if (budget) values.push({ field: budget.id, value: String(random.int(1, 200) * 500) });
			if (segment) values.push({ field: segment.id, value: `||${random.pick(['SMB', 'Mid-Market', 'Enterprise'])}||` });
		}
		if (linkField) {
			const hex = id.toString(16).padStart(12, '0');
			if (options.linkedAsLeads) values.push({ field: linkField.id, value: `lead:0b0b0b0b-0000-4000-8000-${hex}` });
		}
		const contact = service.createContact({ email, firstName: first, lastName, phone: `+1 555 ${String(id).padStart(7, '0')}` }, values, 'admin');
		contact.createdBy = 'seed';
		if (options.withTags && tagIds.length && random.chance(0.6)) service.addContactTag(contact.id, random.pick(tagIds), 'admin');
		if (leadTag !== undefined) service.addContactTag(contact.id, leadTag, 'admin');
		if (options.withLists && state.lists.rows.has(1) && random.chance(0.5)) service.setListStatus(contact, 1, 1, 'admin');
		if (accounts.length) service.addAccountContact(contact.id, accounts[i % accounts.length], '', 'admin');
		contact.udate = clock.at + random.int(0, 30 * 24) * 3_600_000;
		last = contact.id;
	}
	return { first: firstId, last, count };
}
