/**
 * Seed data: system users, the currency, the `demo` data set (small, realistic, stable: the demo and end-to-end
 * sync tests depend on it) and deterministic bulk data for volume tests. Seed records are created and modified by
 * the human "Sales User", never by the sync's application user.
 */
import { SeededRandom } from '../core/random';
import type { Caller, Engine, OpContext } from './engine';
import { stableGuid } from './metadata';
import { parsePrefer } from './odata/query';
import type { Row } from './store';

export const IDS = {
	organization: stableGuid('organization:sandbox'),
	businessUnit: stableGuid('businessunit:sandbox'),
	usd: stableGuid('transactioncurrency:usd'),
	system: stableGuid('systemuser:SYSTEM'),
	salesUser: stableGuid('systemuser:sales.user'),
};

/** When the demo data set was "entered": a fixed time, so timestamps and watermarks repeat. */
export const DEMO_EPOCH = Date.UTC(2025, 0, 6, 9, 0, 0);

export function fullCaller(userId: string, accessMode = 0): Caller {
	return { userId, denied: new Set(), accessMode };
}

export function opContext(caller: Caller): OpContext {
	return { caller, prefs: parsePrefer(undefined) };
}

/** Creates a systemuser row directly (systemusers are read-only through the API). */
export function addSystemUser(
	engine: Engine,
	user: { id: string; firstname: string; lastname: string; domainname: string; email?: string; applicationid?: string; accessmode: number },
	at: number,
): Row {
	const table = engine.schema.table('systemuser')!;
	const values: Row['values'] = {};
	for (const c of table.columns.values()) values[c.logicalName] = null;
	const version = engine.store.nextVersion();
	Object.assign(values, {
		systemuserid: user.id,
		firstname: user.firstname,
		lastname: user.lastname,
		fullname: `${user.firstname} ${user.lastname}`.trim(),
		domainname: user.domainname,
		internalemailaddress: user.email ?? (user.applicationid ? null : user.domainname),
		applicationid: user.applicationid ?? null,
		azureactivedirectoryobjectid: stableGuid(`aad:${user.domainname}`),
		isdisabled: false,
		accessmode: user.accessmode,
		businessunitid: { id: IDS.businessUnit, table: 'businessunit' },
		createdon: at,
		modifiedon: at,
		versionnumber: version,
	});
	const row: Row = { id: user.id, table: 'systemuser', values, version };
	engine.store.insert(row, false);
	return row;
}

export function seedSystem(engine: Engine): void {
	const at = Date.UTC(2024, 0, 2, 8, 0, 0);
	addSystemUser(engine, { id: IDS.system, firstname: '', lastname: 'SYSTEM', domainname: 'SYSTEM', accessmode: 0 }, at);
	addSystemUser(
		engine,
		{ id: IDS.salesUser, firstname: 'Sales', lastname: 'User', domainname: 'sales.user@sandbox.onmicrosoft.com', accessmode: 0 },
		at,
	);
	const currency = engine.schema.table('transactioncurrency')!;
	const values: Row['values'] = {};
	for (const c of currency.columns.values()) values[c.logicalName] = null;
	const version = engine.store.nextVersion();
	Object.assign(values, {
		transactioncurrencyid: IDS.usd,
		currencyname: 'US Dollar',
		isocurrencycode: 'USD',
		currencysymbol: '$',
		exchangerate: 1,
		currencyprecision: 2,
		createdon: at,
		modifiedon: at,
		versionnumber: version,
	});
	engine.store.insert({ id: IDS.usd, table: 'transactioncurrency', values, version }, false);
	seedSdkMessages(engine, at);
}

/** The messages a webhook step can be registered for, and their filters per table (platform rows, read-only). */
export const SDK_MESSAGES = ['Create', 'Update', 'Delete'] as const;
const STEP_TABLES = ['account', 'contact', 'lead', 'opportunity', 'annotation'];

function seedSdkMessages(engine: Engine, at: number): void {
	const insert = (tableName: string, id: string, fields: Row['values']) => {
		const def = engine.schema.table(tableName)!;
		const values: Row['values'] = {};
		for (const c of def.columns.values()) values[c.logicalName] = null;
		const version = engine.store.nextVersion();
		Object.assign(values, { [def.primaryIdAttribute]: id, createdon: at, modifiedon: at, versionnumber: version }, fields);
		engine.store.insert({ id, table: tableName, values, version }, false);
	};
	for (const name of SDK_MESSAGES) {
		const messageId = stableGuid(`sdkmessage:${name}`);
		insert('sdkmessage', messageId, { name });
		for (const logical of STEP_TABLES) {
			insert('sdkmessagefilter', stableGuid(`sdkmessagefilter:${name}:${logical}`), {
				name: `${name} of ${logical}`,
				sdkmessageid: { id: messageId, table: 'sdkmessage' },
				primaryobjecttypecode: logical,
				iscustomprocessingstepallowed: true,
			});
		}
	}
}

interface DemoAccount {
	key: string;
	name: string;
	domain: string;
	city: string;
	country: string;
	industry: number;
	revenue: number;
	employees: number;
	phone: string;
}

const ACCOUNTS: DemoAccount[] = [
	{ key: 'contoso', name: 'Contoso Ltd', domain: 'contoso.com', city: 'Seattle', country: 'United States', industry: 7, revenue: 12500000, employees: 850, phone: '+1 206 555 0100' },
	{ key: 'fabrikam', name: 'Fabrikam Inc', domain: 'fabrikam.com', city: 'Toronto', country: 'Canada', industry: 12, revenue: 48000000, employees: 2300, phone: '+1 416 555 0110' },
	{ key: 'adatum', name: 'Adatum Corporation', domain: 'adatum.com', city: 'London', country: 'United Kingdom', industry: 16, revenue: 9200000, employees: 410, phone: '+44 20 7946 0120' },
	{ key: 'litware', name: 'Litware Inc', domain: 'litware.com', city: 'Austin', country: 'United States', industry: 6, revenue: 3100000, employees: 120, phone: '+1 512 555 0130' },
	{ key: 'northwind', name: 'Northwind Traders', domain: 'northwind.com', city: 'Stockholm', country: 'Sweden', industry: 33, revenue: 21000000, employees: 640, phone: '+46 8 555 0140' },
	{ key: 'tailspin', name: 'Tailspin Toys', domain: 'tailspintoys.com', city: 'Munich', country: 'Germany', industry: 22, revenue: 7400000, employees: 260, phone: '+49 89 555 0150' },
	{ key: 'wwi', name: 'Wide World Importers', domain: 'wideworldimporters.com', city: 'Lyon', country: 'France', industry: 10, revenue: 15800000, employees: 530, phone: '+33 4 55 50 16 00' },
	{ key: 'alpine', name: 'Alpine Ski House', domain: 'alpineskihouse.com', city: 'Innsbruck', country: 'Austria', industry: 25, revenue: 2600000, employees: 75, phone: '+43 512 555 0170' },
];

interface DemoPerson {
	first: string;
	last: string;
	email: string;
	account?: string;
	title: string;
	phone?: string;
	channel?: number;
	interests?: string;
	birthday?: string;
	score?: number;
	vip?: boolean;
	budget?: number;
	inactive?: boolean;
}

const CONTACTS: DemoPerson[] = [
	{ first: 'Maria', last: 'Garcia', email: 'maria.garcia@contoso.com', account: 'contoso', title: 'Head of Marketing', phone: '+1 206 555 0101', channel: 100000000, interests: '100000000,100000003', birthday: '1986-04-12', score: 72, vip: true, budget: 50000 },
	{ first: 'Li', last: 'Wei', email: 'li.wei@fabrikam.com', account: 'fabrikam', title: 'Data Analyst', phone: '+1 416 555 0111', channel: 100000000, interests: '100000001', score: 40 },
	{ first: 'Priya', last: 'Patel', email: 'priya.patel@litware.com', account: 'litware', title: 'Operations Manager', phone: '+1 512 555 0131', channel: 100000001, interests: '100000002', score: 55 },
	{ first: 'Jonas', last: 'Berg', email: 'jonas.berg@northwind.com', account: 'northwind', title: 'Supply Chain Director', phone: '+46 8 555 0141', channel: 100000000, birthday: '1979-11-03', score: 63, vip: true },
	{ first: 'Alex', last: 'Johnson', email: 'alex.johnson@contoso.com', account: 'contoso', title: 'IT Director', phone: '+1 206 555 0102', score: 35 },
	{ first: 'Emma', last: 'Wilson', email: 'emma.wilson@contoso.com', account: 'contoso', title: 'Procurement Lead', channel: 100000002 },
	{ first: 'Liam', last: 'Murphy', email: 'liam.murphy@contoso.com', account: 'contoso', title: 'Sales Engineer' },
	{ first: 'Daniel', last: 'Kim', email: 'daniel.kim@fabrikam.com', account: 'fabrikam', title: 'CFO', vip: true, budget: 120000 },
	{ first: 'Sofia', last: 'Rossi', email: 'sofia.rossi@fabrikam.com', account: 'fabrikam', title: 'Marketing Specialist', interests: '100000000,100000002,100000004' },
	{ first: 'Ava', last: 'Thompson', email: 'ava.thompson@fabrikam.com', account: 'fabrikam', title: 'Project Manager' },
	{ first: 'Kenji', last: 'Tanaka', email: 'kenji.tanaka@adatum.com', account: 'adatum', title: 'Security Architect', score: 81 },
	{ first: 'Omar', last: 'Haddad', email: 'omar.haddad@adatum.com', account: 'adatum', title: 'COO' },
	{ first: 'Isabella', last: 'Costa', email: 'isabella.costa@litware.com', account: 'litware', title: 'Trainer', channel: 100000003 },
	{ first: 'Ethan', last: "O'Brien", email: 'ethan.obrien@northwind.com', account: 'northwind', title: 'Logistics Planner' },
	{ first: 'Mia', last: 'Andersson', email: 'mia.andersson@northwind.com', account: 'northwind', title: 'Buyer' },
	{ first: 'Hannah', last: 'Müller', email: 'hannah.mueller@tailspintoys.com', account: 'tailspin', title: 'Brand Manager', interests: '100000000' },
	{ first: 'Lucas', last: 'Martin', email: 'lucas.martin@tailspintoys.com', account: 'tailspin', title: 'E-commerce Lead' },
	{ first: 'Chloe', last: 'Dubois', email: 'chloe.dubois@wideworldimporters.com', account: 'wwi', title: 'Import Coordinator' },
	{ first: 'Fatima', last: 'Zahra', email: 'fatima.zahra@wideworldimporters.com', account: 'wwi', title: 'Former Purchasing Manager', inactive: true },
	{ first: 'Noah', last: 'Brown', email: 'noah.brown@alpineskihouse.com', account: 'alpine', title: 'Owner', vip: true },
];

interface DemoLead extends DemoPerson {
	company: string;
	subject: string;
	source: number;
	rating: number;
	state?: [number, number];
}

const LEADS: DemoLead[] = [
	{ first: 'Sam', last: 'Taylor', email: 'sam.taylor@adatum.com', company: 'Adatum Corporation', title: 'Procurement Manager', subject: 'Interested in annual support plan', source: 8, rating: 1, phone: '+44 20 7946 0121', channel: 100000000, score: 20 },
	{ first: 'Priya', last: 'Patel', email: 'priya.patel@litware.com', company: 'Litware Inc', title: 'Operations Manager', subject: 'Webinar follow-up: workflow automation', source: 6, rating: 2, interests: '100000000' },
	{ first: 'Chris', last: 'Evans', email: 'chris.evans@tailspintoys.com', company: 'Tailspin Toys', title: 'Marketing Director', subject: 'Holiday campaign tooling', source: 7, rating: 1 },
	{ first: 'Nina', last: 'Petrova', email: 'nina.petrova@contoso.com', company: 'Contoso Ltd', title: 'HR Manager', subject: 'Onboarding portal', source: 8, rating: 3 },
	{ first: 'Raj', last: 'Mehta', email: 'raj.mehta@fabrikam.com', company: 'Fabrikam Inc', title: 'Engineering Manager', subject: 'API integration question', source: 9, rating: 2 },
	{ first: 'Laura', last: 'Schmidt', email: 'laura.schmidt@tailspintoys.com', company: 'Tailspin Toys', title: 'Controller', subject: 'Pricing request', source: 1, rating: 2 },
	{ first: 'Tom', last: 'Baker', email: 'tom.baker@contoso.com', company: 'Contoso Ltd', title: 'Facilities Lead', subject: 'Trade show contact', source: 7, rating: 3 },
	{ first: 'Yuki', last: 'Sato', email: 'yuki.sato@fabrikam.com', company: 'Fabrikam Inc', title: 'Product Owner', subject: 'Demo request', source: 8, rating: 1, score: 45 },
	{ first: 'Carlos', last: 'Ruiz', email: 'carlos.ruiz@tailspintoys.com', company: 'Tailspin Toys', title: 'Store Manager', subject: 'Partner referral', source: 4, rating: 2 },
	{ first: 'Grace', last: 'Lee', email: 'grace.lee@contoso.com', company: 'Contoso Ltd', title: 'VP Sales', subject: 'Expansion to APAC', source: 3, rating: 1, state: [1, 3] },
	{ first: 'Peter', last: 'Novak', email: 'peter.novak@fabrikam.com', company: 'Fabrikam Inc', title: 'Intern', subject: 'Student project', source: 10, rating: 3, state: [2, 6] },
	{ first: 'Olivia', last: 'White', email: 'olivia.white@tailspintoys.com', company: 'Tailspin Toys', title: 'Designer', subject: 'Newsletter signup', source: 8, rating: 3, interests: '100000003' },
	{ first: 'Ben', last: 'Carter', email: 'ben.carter@contoso.com', company: 'Contoso Ltd', title: 'Analyst', subject: 'Case study request', source: 8, rating: 2, interests: '100000004' },
	{ first: 'Zoe', last: 'Adams', email: 'zoe.adams@fabrikam.com', company: 'Fabrikam Inc', title: 'Consultant', subject: 'Seminar attendee', source: 6, rating: 2 },
	{ first: 'Marco', last: 'Bianchi', email: 'marco.bianchi@tailspintoys.com', company: 'Tailspin Toys', title: 'Sales Rep', subject: 'Reseller inquiry', source: 4, rating: 1 },
];

/** The demo data set. Returns the record ids by a readable key, for tests. */
export function seedDemo(engine: Engine): Record<string, string> {
	const random = new SeededRandom('dataverse-demo');
	const ctx = opContext(fullCaller(IDS.salesUser));
	const ids: Record<string, string> = {};
	let minute = 0;
	const at = () => DEMO_EPOCH + minute++ * 37 * 60000;
	const create = (logicalName: string, body: Record<string, unknown>) => {
		const table = engine.schema.table(logicalName)!;
		return engine.create(table, body, ctx, { presetId: random.guid(), at: at() });
	};
	for (const a of ACCOUNTS) {
		const row = create('account', {
			name: a.name,
			accountnumber: `ACC-${1001 + ACCOUNTS.indexOf(a)}`,
			emailaddress1: `info@${a.domain}`,
			telephone1: a.phone,
			websiteurl: `https://www.${a.domain}`,
			address1_city: a.city,
			address1_country: a.country,
			industrycode: a.industry,
			revenue: a.revenue,
			numberofemployees: a.employees,
		});
		ids[`account:${a.key}`] = row.id;
	}
	for (const p of CONTACTS) {
		const body: Record<string, unknown> = {
			firstname: p.first,
			lastname: p.last,
			emailaddress1: p.email,
			jobtitle: p.title,
			telephone1: p.phone ?? null,
			address1_city: ACCOUNTS.find((a) => a.key === p.account)?.city ?? null,
			new_preferredchannel: p.channel ?? null,
			new_interests: p.interests ?? null,
			new_birthday: p.birthday ?? null,
			new_score: p.score ?? null,
			new_isvip: p.vip ?? false,
			new_annualbudget: p.budget ?? null,
		};
		if (p.account) body['parentcustomerid_account@odata.bind'] = `/accounts(${ids[`account:${p.account}`]})`;
		let row = create('contact', body);
		if (p.inactive) row = engine.update(engine.schema.table('contact')!, row, { statecode: 1, statuscode: 2 }, ctx, { at: at() });
		ids[`contact:${p.email}`] = row.id;
	}
	const accountTable = engine.schema.table('account')!;
	for (const [account, email] of [
		['contoso', 'maria.garcia@contoso.com'],
		['fabrikam', 'daniel.kim@fabrikam.com'],
		['northwind', 'jonas.berg@northwind.com'],
		['litware', 'priya.patel@litware.com'],
		['adatum', 'kenji.tanaka@adatum.com'],
	]) {
		const row = engine.store.get('account', ids[`account:${account}`])!;
		engine.update(accountTable, row, { 'primarycontactid@odata.bind': `/contacts(${ids[`contact:${email}`]})` }, ctx, { at: at() });
	}
	const leadTable = engine.schema.table('lead')!;
	for (const l of LEADS) {
		let row = create('lead', {
			subject: l.subject,
			firstname: l.first,
			lastname: l.last,
			companyname: l.company,
			jobtitle: l.title,
			emailaddress1: l.email,
			telephone1: l.phone ?? null,
			leadsourcecode: l.source,
			leadqualitycode: l.rating,
			new_preferredchannel: l.channel ?? null,
			new_interests: l.interests ?? null,
			new_score: l.score ?? null,
		});
		if (l.state) row = engine.update(leadTable, row, { statecode: l.state[0], statuscode: l.state[1] }, ctx, { at: at() });
		ids[`lead:${l.email}`] = row.id;
	}
	const opportunities: Array<{ key: string; body: Record<string, unknown>; won?: boolean }> = [
		{
			key: 'contoso-erp',
			body: {
				name: 'Contoso ERP rollout',
				'customerid_account@odata.bind': `/accounts(${ids['account:contoso']})`,
				'parentaccountid@odata.bind': `/accounts(${ids['account:contoso']})`,
				'parentcontactid@odata.bind': `/contacts(${ids['contact:maria.garcia@contoso.com']})`,
				estimatedvalue: 125000,
				estimatedclosedate: '2025-06-30',
				closeprobability: 60,
				salesstage: 1,
				stepname: '2-Develop',
				opportunityratingcode: 1,
				msdyn_forecastcategory: 100000002,
				new_productline: 100000000,
				new_region: 'North America',
			},
		},
		{
			key: 'fabrikam-analytics',
			body: {
				name: 'Fabrikam analytics pilot',
				'customerid_contact@odata.bind': `/contacts(${ids['contact:li.wei@fabrikam.com']})`,
				'parentcontactid@odata.bind': `/contacts(${ids['contact:li.wei@fabrikam.com']})`,
				estimatedvalue: 45000,
				estimatedclosedate: '2025-04-15',
				closeprobability: 30,
				salesstage: 0,
				stepname: '1-Qualify',
				opportunityratingcode: 2,
				msdyn_forecastcategory: 100000001,
				new_productline: 100000001,
				new_region: 'North America',
			},
		},
		{
			key: 'northwind-supply',
			body: {
				name: 'Northwind supply chain upgrade',
				'customerid_account@odata.bind': `/accounts(${ids['account:northwind']})`,
				'parentaccountid@odata.bind': `/accounts(${ids['account:northwind']})`,
				'parentcontactid@odata.bind': `/contacts(${ids['contact:jonas.berg@northwind.com']})`,
				estimatedvalue: 80000,
				estimatedclosedate: '2025-09-01',
				closeprobability: 50,
				salesstage: 2,
				stepname: '3-Propose',
				opportunityratingcode: 1,
				msdyn_forecastcategory: 100000003,
				new_productline: 100000002,
				new_region: 'EMEA',
			},
		},
		{
			key: 'litware-training',
			body: {
				name: 'Litware training package',
				'customerid_contact@odata.bind': `/contacts(${ids['contact:priya.patel@litware.com']})`,
				'originatingleadid@odata.bind': `/leads(${ids['lead:priya.patel@litware.com']})`,
				estimatedvalue: 12000,
				estimatedclosedate: '2025-03-31',
				closeprobability: 80,
				salesstage: 3,
				stepname: '4-Close',
				opportunityratingcode: 1,
				msdyn_forecastcategory: 100000003,
				new_productline: 100000003,
				new_region: 'North America',
			},
		},
		{
			key: 'adatum-security',
			body: {
				name: 'Adatum security review',
				'customerid_account@odata.bind': `/accounts(${ids['account:adatum']})`,
				'parentaccountid@odata.bind': `/accounts(${ids['account:adatum']})`,
				estimatedvalue: 30000,
				estimatedclosedate: '2025-07-15',
				closeprobability: 40,
				salesstage: 1,
				stepname: '2-Develop',
				opportunityratingcode: 2,
				msdyn_forecastcategory: 100000001,
				new_productline: 100000001,
				new_region: 'EMEA',
			},
		},
		{
			key: 'tailspin-holiday',
			won: true,
			body: {
				name: 'Tailspin Toys holiday campaign',
				'customerid_account@odata.bind': `/accounts(${ids['account:tailspin']})`,
				'parentaccountid@odata.bind': `/accounts(${ids['account:tailspin']})`,
				estimatedvalue: 22000,
				estimatedclosedate: '2024-11-30',
				actualvalue: 21500,
				actualclosedate: '2024-11-28',
				closeprobability: 100,
				salesstage: 3,
				stepname: '4-Close',
				opportunityratingcode: 1,
				msdyn_forecastcategory: 100000005,
				new_productline: 100000000,
				new_region: 'EMEA',
			},
		},
	];
	const oppTable = engine.schema.table('opportunity')!;
	for (const o of opportunities) {
		let row = create('opportunity', o.body);
		if (o.won) row = engine.update(oppTable, row, { statecode: 1, statuscode: 3 }, ctx, { at: at() });
		ids[`opportunity:${o.key}`] = row.id;
	}
	const notes: Array<[string, string, string, string]> = [
		['contact', ids['contact:maria.garcia@contoso.com'], 'Call summary', 'Maria asked for the Q2 webinar schedule and pricing for 50 seats.'],
		['lead', ids['lead:sam.taylor@adatum.com'], 'Intro call', 'Sam is comparing three vendors; decision expected next quarter.'],
		['opportunity', ids['opportunity:contoso-erp'], 'Proposal sent', 'Proposal v2 sent with phased rollout plan.'],
		['account', ids['account:fabrikam'], 'Account review', 'Fabrikam renewed the support contract in December.'],
	];
	for (const [table, id, subject, text] of notes) {
		const set = engine.schema.table(table)!.entitySetName;
		const row = create('annotation', { subject, notetext: text, [`objectid_${table}@odata.bind`]: `/${set}(${id})` });
		ids[`note:${subject}`] = row.id;
	}
	return ids;
}

const FIRST = ['Anna', 'Ben', 'Carla', 'David', 'Elena', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jan', 'Kira', 'Leo', 'Mona', 'Nils', 'Olga', 'Paul', 'Rosa', 'Sven', 'Tara', 'Umar', 'Vera', 'Will', 'Xenia', 'Yann', 'Zara'];
const LAST = ['Andersen', 'Becker', 'Chen', 'Diaz', 'Eriksen', 'Fischer', 'Gupta', 'Hansen', 'Ivanova', 'Jones', 'Kowalski', 'Lopez', 'Moreau', 'Nakamura', 'Olsen', 'Perez', 'Quinn', 'Romano', 'Silva', 'Tanaka'];
const DOMAINS = ['contoso.com', 'fabrikam.com', 'tailspintoys.com'];

export interface BulkCounts {
	contacts?: number;
	leads?: number;
	accounts?: number;
	opportunities?: number;
}

/** Deterministic volume data (the n-th record of a run is always the same), created by the Sales User. */
export function seedBulk(engine: Engine, counts: BulkCounts, seed = 'bulk'): Record<string, number> {
	const ctx = opContext(fullCaller(IDS.salesUser));
	const created: Record<string, number> = {};
	const base = DEMO_EPOCH + 30 * 86400000;
	const start = {
		accounts: engine.store.count('account'),
		contacts: engine.store.count('contact'),
		leads: engine.store.count('lead'),
		opportunities: engine.store.count('opportunity'),
	};
	const run = (name: keyof BulkCounts, logical: string, make: (n: number, random: SeededRandom) => Record<string, unknown>) => {
		const n = counts[name] ?? 0;
		if (n <= 0) return;
		const random = new SeededRandom(`${seed}:${name}:${start[name]}`);
		const table = engine.schema.table(logical)!;
		for (let i = 0; i < n; i++) {
			const k = start[name] + i;
			engine.create(table, make(k, random), ctx, { presetId: random.guid(), at: base + k * 1000 });
		}
		created[name] = n;
	};
	run('accounts', 'account', (k) => ({
		name: `Bulk Account ${String(k + 1).padStart(6, '0')}`,
		accountnumber: `BULK-${k + 1}`,
		emailaddress1: `info${k + 1}@bulk-${DOMAINS[k % DOMAINS.length]}`,
		numberofemployees: (k * 7) % 5000,
	}));
	run('contacts', 'contact', (k) => {
		const first = FIRST[k % FIRST.length];
		const last = LAST[Math.floor(k / FIRST.length) % LAST.length];
		return {
			firstname: first,
			lastname: last,
			emailaddress1: `${first}.${last}.${k + 1}@${DOMAINS[k % DOMAINS.length]}`.toLowerCase(),
			jobtitle: 'Bulk contact',
			new_score: k % 1000,
		};
	});
	run('leads', 'lead', (k) => {
		const first = FIRST[(k + 3) % FIRST.length];
		const last = LAST[Math.floor(k / FIRST.length) % LAST.length];
		return {
			subject: `Bulk lead ${k + 1}`,
			firstname: first,
			lastname: last,
			companyname: `Company ${k % 97}`,
			emailaddress1: `lead.${first}.${last}.${k + 1}@${DOMAINS[k % DOMAINS.length]}`.toLowerCase(),
			leadsourcecode: (k % 10) + 1,
		};
	});
	run('opportunities', 'opportunity', (k, random) => ({
		name: `Bulk opportunity ${k + 1}`,
		estimatedvalue: 1000 + (k % 100) * 250,
		salesstage: k % 4,
		closeprobability: random.int(0, 100),
	}));
	return created;
}
