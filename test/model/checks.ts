/**
 * The sync's guarantees, checked on what one history left behind (see README.md in this folder):
 *   (a) convergence of every linked pair, every record has its twin;
 *   (b) no duplicates on either side;
 *   (c) no lost edit (unless superseded, or a both-sides conflict the policy settled and a write node reported);
 *   (d) no resurrection of a record deleted in Dynamics (delete policies keep and flag);
 *   (e) the quiet cycle after settling writes nothing;
 *   (f) every failed write later succeeded, or was reported with `deadLetter: true`.
 */
import type { IDataObject } from 'n8n-workflow';

import { IDS } from '../sandbox/dataverse';
import type { Policies, Side } from './world';
import {
	canon,
	canonEmail,
	parseLink,
	type AcAccountState,
	type AcContactState,
	type D365Row,
	type EditRecord,
	type Observation,
	type OutputRecord,
	type PersonState,
	type Target,
} from './runner';

export type Check = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';

export interface Violation {
	check: Check;
	kind: string;
	message: string;
}

export const CHECK_NAMES: Record<Check, string> = {
	a: 'convergence',
	b: 'no duplicates',
	c: 'no lost edit',
	d: 'no resurrection',
	e: 'quiet after settling',
	f: 'failed writes retried or dead-lettered',
};

/** Names of a mapped field in each system: ActiveCampaign key, Dynamics columns (as write nodes report them). */
const FIELD_NAMES: Record<string, { ac: string[]; d365: string[]; label: string }> = {
	email: { ac: ['email'], d365: ['emailaddress1'], label: 'email' },
	firstName: { ac: ['firstName'], d365: ['firstname'], label: 'first name' },
	lastName: { ac: ['lastName'], d365: ['lastname'], label: 'last name' },
	phone: { ac: ['phone'], d365: ['telephone1'], label: 'phone' },
	jobTitle: { ac: ['jobTitle'], d365: ['jobtitle'], label: 'job title' },
	account: { ac: ['accountName'], d365: ['parentcustomerid', 'companyname', 'parentcustomerid_account@odata.bind'], label: 'account' },
	'company.name': { ac: ['name'], d365: ['name'], label: 'account name' },
	'company.website': { ac: ['accountUrl'], d365: ['websiteurl'], label: 'website' },
	'company.phone': { ac: ['Phone Number'], d365: ['telephone1'], label: 'account phone' },
};

const PERSON_FIELDS = ['email', 'firstName', 'lastName', 'phone', 'jobTitle', 'account'];
const COMPANY_FIELDS = ['company.name', 'company.website', 'company.phone'];

const sideName = (s: Side) => (s === 'd365' ? 'Dynamics' : 'ActiveCampaign');
const other = (s: Side): Side => (s === 'd365' ? 'ac' : 'd365');
const systemOf = (s: Side) => (s === 'd365' ? 'dynamics' : 'activeCampaign');
const show = (v: string | null | undefined) => (v === null || v === undefined ? '(empty)' : JSON.stringify(v));
const targetName = (t: Target) => ('person' in t ? `person ${t.person}` : `company ${t.company}`);

/** Which side is the source of a field restricted to one direction (undefined: both ways). */
function sourceSide(policies: Policies, field: string): Side | undefined {
	const r = policies.restricted;
	if (!r) return undefined;
	const key = field.startsWith('company.') ? field.slice('company.'.length) : field;
	const applies = field.startsWith('company.') ? ['website', 'phone'].includes(key) : ['firstName', 'lastName', 'phone', 'jobTitle'].includes(key);
	if (!applies || r.field !== key) return undefined;
	return r.direction === 'toDynamics' ? 'ac' : 'd365';
}

/** The identifiers an output item speaks about (ids, links, emails, names), lower-cased. */
function identifiers(json: IDataObject | undefined, into = new Set<string>()): Set<string> {
	if (!json) return into;
	const add = (v: unknown) => {
		if (typeof v !== 'string' && typeof v !== 'number') return;
		const text = String(v).trim().toLowerCase();
		if (!text) return;
		into.add(text);
		const link = parseLink(text);
		if (link) into.add(link.id);
	};
	for (const key of ['id', 'd365Id', 'acId', 'email', 'link', 'name', 'relinkedFrom']) add(json[key]);
	for (const nested of ['match', 'source']) {
		const obj = json[nested] as IDataObject | undefined;
		if (obj && typeof obj === 'object') for (const key of ['id', 'd365Id', 'acId', 'email', 'name']) add(obj[key]);
	}
	return into;
}

interface Context {
	obs: Observation;
	policies: Policies;
	acContacts: Map<string, AcContactState>;
	acAccounts: Map<string, AcAccountState>;
	d365: Map<string, { table: 'contact' | 'lead' | 'account'; row: D365Row }>;
	deletedIds: Set<string>;
	/** `contact:<id>` / `account:<id>` of ActiveCampaign records whose Dynamics twin was deleted or merged away. */
	deletedTwins: Set<string>;
	/** Every output item with the identifiers it names. */
	items: Array<OutputRecord & { ids: Set<string> }>;
	/** Lower-case names of accounts deleted in Dynamics (and of their ActiveCampaign twins). */
	deletedAccountNames: Set<string>;
	/**
	 * Divergences not reported under (a) because no sync can close them (an account link to an account deleted in
	 * Dynamics: linking it there would bring the account back); still unconverged for (f).
	 */
	excused: Violation[];
}

function context(obs: Observation): Context {
	const d365 = new Map<string, { table: 'contact' | 'lead' | 'account'; row: D365Row }>();
	for (const table of ['contact', 'lead', 'account'] as const) {
		for (const row of obs.final.d365[table]) d365.set(String(row[`${table}id`]).toLowerCase(), { table, row });
	}
	return {
		obs,
		policies: obs.history.policies,
		acContacts: new Map(obs.final.acContacts.map((c) => [c.id, c])),
		acAccounts: new Map(obs.final.acAccounts.map((a) => [a.id, a])),
		d365,
		deletedIds: new Set(obs.deletes.map((d) => d.id)),
		deletedTwins: new Set([
			...obs.deletes.flatMap((d) => (d.acTwin ? [`${'person' in d.target ? 'contact' : 'account'}:${d.acTwin.id}`] : [])),
			...obs.mergedTwins.map((id) => `contact:${id}`),
		]),
		items: obs.outputs.map((o) => ({ ...o, ids: identifiers(o.input, identifiers(o.json)) })),
		deletedAccountNames: deletedAccountNames(obs),
		excused: [],
	};
}

function deletedAccountNames(obs: Observation): Set<string> {
	const names = new Set<string>();
	const deleted = new Set(obs.deletes.filter((d) => d.table === 'account').map((d) => d.id));
	for (const d of obs.deletes) {
		if (d.table !== 'account') continue;
		for (const n of [d.name, d.acTwin?.name]) if (n) names.add(n.toLowerCase());
	}
	for (const a of obs.final.acAccounts) {
		if ((a.link && deleted.has(a.link)) || [...deleted].some((id) => a.rawLink?.includes(id))) names.add(a.name.toLowerCase());
	}
	for (const c of obs.companies) if (c.gone && c.name) names.add(c.name.toLowerCase());
	for (const e of obs.edits) {
		if (!('company' in e.target) || e.field !== 'company.name' || !e.value) continue;
		const index = e.target.company;
		if (obs.companies.find((c) => c.index === index)?.gone) names.add(e.value.toLowerCase());
	}
	return names;
}

// ------------------------------------------------------------------------------------------------ field values

const active = (row: D365Row) => row.statecode === 0;

function d365AccountName(row: D365Row, table: 'contact' | 'lead'): string | null {
	if (table === 'lead') return canon(row.companyname);
	if (row['_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname'] !== 'account') return null;
	return canon(row['_parentcustomerid_value@OData.Community.Display.V1.FormattedValue']);
}

function acPersonValue(c: AcContactState, field: string): string | null {
	switch (field) {
		case 'email':
			return canonEmail(c.email);
		case 'firstName':
			return canon(c.firstName);
		case 'lastName':
			return canon(c.lastName);
		case 'phone':
			return canon(c.phone);
		case 'jobTitle':
			return c.account ? canon(c.account.jobTitle) : null;
		case 'account':
			return c.account ? canon(c.account.name) : null;
	}
	return null;
}

function d365PersonValue(row: D365Row, table: 'contact' | 'lead', field: string): string | null {
	switch (field) {
		case 'email':
			return canonEmail(row.emailaddress1);
		case 'firstName':
			return canon(row.firstname);
		case 'lastName':
			return canon(row.lastname);
		case 'phone':
			return canon(row.telephone1);
		case 'jobTitle':
			return canon(row.jobtitle);
		case 'account':
			return d365AccountName(row, table);
	}
	return null;
}

function acCompanyValue(a: AcAccountState, field: string): string | null {
	return field === 'company.name' ? canon(a.name) : field === 'company.website' ? a.accountUrl : a.phone;
}

function d365CompanyValue(row: D365Row, field: string): string | null {
	return canon(field === 'company.name' ? row.name : field === 'company.website' ? row.websiteurl : row.telephone1);
}

/** Account names compare as ActiveCampaign matches them: case-insensitively. */
function same(field: string, a: string | null, b: string | null): boolean {
	if (field === 'account' || field === 'company.name' || field === 'email') return (a?.toLowerCase() ?? null) === (b?.toLowerCase() ?? null);
	return a === b;
}

// ------------------------------------------------------------------------------------------------ pairs

interface PersonPair {
	ac: AcContactState;
	table: 'contact' | 'lead';
	id: string;
	row: D365Row;
}

/**
 * The pair a person's record ends in: the record itself and its twin (an active Dynamics record and the contact linked
 * to it; when several contacts link to it — a duplicate reported under (b) — the person's own contact if it is one).
 */
function pairOfPersonRecord(ctx: Context, side: Side, record: string, person?: PersonState): PersonPair | undefined {
	let ac: AcContactState | undefined;
	if (side === 'ac') ac = ctx.acContacts.get(record);
	else {
		const linked = ctx.obs.final.acContacts.filter((c) => parseLink(c.link)?.id === record);
		ac = linked.find((c) => c.id === person?.acId) ?? linked[0];
	}
	const link = parseLink(ac?.link);
	if (!ac || !link || (side === 'd365' && link.id !== record)) return undefined;
	const found = ctx.d365.get(link.id);
	if (!found || found.table !== link.entity || !active(found.row)) return undefined;
	return { ac, table: link.entity, id: link.id, row: found.row };
}

interface CompanyPair {
	ac: AcAccountState;
	id: string;
	row: D365Row;
}

function pairOfCompanyRecord(ctx: Context, side: Side, record: string): CompanyPair | undefined {
	const ac = side === 'ac' ? ctx.acAccounts.get(record) : ctx.obs.final.acAccounts.find((a) => a.link === record);
	if (!ac?.link || (side === 'd365' && ac.link !== record)) return undefined;
	const found = ctx.d365.get(ac.link);
	if (!found || found.table !== 'account' || !active(found.row)) return undefined;
	return { ac, id: ac.link, row: found.row };
}

const isPerson = (e: EditRecord) => 'person' in e.target;

/** Edits of a pair's records (either side) for one field. */
function editsOf(edits: EditRecord[], person: boolean, records: { ac: string; d365: string }, field: string): EditRecord[] {
	return edits.filter((e) => isPerson(e) === person && e.field === field && e.record === (e.side === 'ac' ? records.ac : records.d365));
}

/** The company a person's account value names (by the records' ids, else by name), as edits record it. */
function companyKey(ctx: Context, name: string | null, ids: { acAccountId?: string; d365AccountId?: string }): string | null {
	if (name === null) return null;
	const companies = ctx.obs.companies;
	const byId = companies.find((c) => (ids.acAccountId && c.acId === ids.acAccountId) || (ids.d365AccountId && c.d365Id === ids.d365AccountId));
	if (byId) return `company:${byId.index}`;
	const lower = name.toLowerCase();
	for (const c of companies) {
		const names = [c.name, c.acId ? ctx.acAccounts.get(c.acId)?.name : undefined, c.d365Id ? String(ctx.d365.get(c.d365Id)?.row.name ?? '') : undefined];
		if (names.some((n) => n && n.toLowerCase() === lower)) return `company:${c.index}`;
	}
	return `name:${lower}`;
}

/** A person's field value on one side at the end, in the form edits record it. */
function finalPersonValue(ctx: Context, pair: PersonPair, side: Side, field: string): string | null {
	if (side === 'ac') {
		const v = acPersonValue(pair.ac, field);
		return field === 'account' ? companyKey(ctx, v, { acAccountId: pair.ac.account?.id }) : v;
	}
	const v = d365PersonValue(pair.row, pair.table, field);
	if (field !== 'account') return v;
	return companyKey(ctx, v, { d365AccountId: pair.table === 'contact' ? String(pair.row._parentcustomerid_value ?? '').toLowerCase() : undefined });
}

/**
 * An edit that sets a field back to the value its side held when the window began (A → B → A between two syncs): no
 * change the sync can see. The value before the window is the side's last earlier edit, or empty.
 */
function restoresWindowStart(ctx: Context, e: EditRecord, mine: EditRecord[]): boolean {
	const inWindow = mine.filter((x) => x.side === e.side && x.seq < e.seq && sameWindow(ctx, x.batch, e.batch));
	if (!inWindow.length) return false;
	const before = mine.filter((x) => x.side === e.side && x.seq < e.seq && !sameWindow(ctx, x.batch, e.batch)).sort((a, b) => b.seq - a.seq)[0];
	if (!before && inWindow.some((x) => x.kind === 'create')) return false;
	return same(e.field, before?.value ?? null, e.value);
}

/** The last edit that the sync could see: a restoring edit of the source side stands for nothing in its window. */
function lastSeenEdit(ctx: Context, mine: EditRecord[], source: Side): EditRecord | undefined {
	// A value cleared before the first sync voids that side's earlier values too: no sync ever saw them.
	const cleared = mine.filter((e) => clearedBeforeFirstSync(ctx, e, mine));
	const ordered = mine
		.filter((e) => !cleared.some((c) => c === e || (c.side === e.side && e.seq < c.seq && e.batch === c.batch)))
		.sort((a, b) => b.seq - a.seq);
	let last: EditRecord | undefined = ordered[0];
	while (last && last.side === source && restoresWindowStart(ctx, last, mine)) {
		const current: EditRecord = last;
		const windowStart = Math.min(...mine.filter((x) => sameWindow(ctx, x.batch, current.batch)).map((x) => x.seq));
		last = ordered.find((x) => x.seq < windowStart);
	}
	return last;
}

/**
 * A value cleared before the two records were first synced is no value (there was nothing synced to clear): the other
 * side's record was created in the same batch or later, whichever fields its creation set.
 */
function clearedBeforeFirstSync(ctx: Context, e: EditRecord, mine: EditRecord[]): boolean {
	if (e.value !== null) return false;
	const sameTarget = (x: EditRecord) => JSON.stringify(x.target) === JSON.stringify(e.target);
	return [...mine, ...ctx.obs.edits.filter(sameTarget)].some((x) => x.kind === 'create' && x.side !== e.side && x.batch >= e.batch);
}

// ------------------------------------------------------------------------------------------------ (a) convergence

/** A link field value that is not a link but names a record deleted or merged away (e.g. `deleted:<guid>`). */
function namesGone(ctx: Context, raw: string): boolean {
	const ids = raw.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [];
	return ids.some((id) => ctx.deletedIds.has(id) || ctx.obs.mergedIds.includes(id));
}

function convergence(ctx: Context, out: Violation[]): void {
	const { obs } = ctx;
	for (const ac of obs.final.acContacts) {
		const link = parseLink(ac.link);
		if (!link) {
			const tagged = ac.tags.some((t) => t === '[D365: Contact]' || t === '[D365: Lead]');
			if (ac.rawLink && !namesGone(ctx, ac.rawLink)) {
				out.push({ check: 'a', kind: 'dangling-link', message: `ActiveCampaign contact ${ac.id} (${ac.email}) holds "${ac.rawLink}" in D365 Record ID, which names no Dynamics record` });
			} else if (tagged && !ac.rawLink && !ctx.deletedTwins.has(`contact:${ac.id}`) && !ac.tags.includes('[D365: Deleted in Dynamics]')) {
				// (A contact tagged [D365: Deleted in Dynamics] was unlinked on purpose: its record was deleted or merged.)
				out.push({
					check: 'a',
					kind: 'missing-twin',
					message: `ActiveCampaign contact ${ac.id} (${ac.email}, tagged ${ac.tags.filter((t) => t.startsWith('[D365')).join(' ')}) never got a Dynamics record (no D365 Record ID)`,
				});
			}
			continue;
		}
		const found = ctx.d365.get(link.id);
		if (!found || found.table !== link.entity) {
			if (!ctx.deletedIds.has(link.id)) {
				out.push({ check: 'a', kind: 'dangling-link', message: `ActiveCampaign contact ${ac.id} (${ac.email}) links to ${ac.link}, which does not exist and was never deleted` });
			}
			continue;
		}
		if (!active(found.row)) continue;
		const person = obs.people.find((p) => p.acId === ac.id);
		for (const field of PERSON_FIELDS) {
			const a = acPersonValue(ac, field);
			const d = d365PersonValue(found.row, link.entity, field);
			if (field === 'jobTitle' && !ac.account) continue; // ActiveCampaign keeps a job title on the account link only
			if (same(field, a, d)) continue;
			const source = sourceSide(ctx.policies, field);
			if (source) {
				// The non-source side's value may stay (when a person last set it there, or no one ever set it). The
				// person's edits of the record this one came from count too (a contact qualified from a lead).
				const last = lastSeenEdit(ctx, editsOf(obs.edits, true, { ac: ac.id, d365: link.id }, field), source);
				if (!last || last.side !== source) continue;
				const ownEdits = person ? obs.edits.filter((e) => 'person' in e.target && e.target.person === person.index && e.field === field) : [];
				const latest = ownEdits.sort((a, b) => b.seq - a.seq)[0];
				if (latest && latest.seq > last.seq && latest.side !== source) continue;
			}
			const violation: Violation = {
				check: 'a',
				kind: 'divergent-field',
				message: `${person ? `person ${person.index}: ` : ''}ActiveCampaign contact ${ac.id} ↔ Dynamics ${link.entity} ${link.id}: ${FIELD_NAMES[field].label} is ${show(a)} in ActiveCampaign but ${show(d)} in Dynamics`,
			};
			const deletedAccount = field === 'account' && [a, d].some((n) => n !== null && ctx.deletedAccountNames.has(n.toLowerCase()));
			(deletedAccount ? ctx.excused : out).push(violation);
		}
	}
	for (const acc of obs.final.acAccounts) {
		if (!acc.link) {
			if (acc.rawLink && !namesGone(ctx, acc.rawLink)) {
				out.push({ check: 'a', kind: 'dangling-link', message: `ActiveCampaign account ${acc.id} (${acc.name}) holds "${acc.rawLink}" in D365 Account ID, which names no Dynamics record` });
			} else if (!acc.rawLink && !ctx.deletedTwins.has(`account:${acc.id}`)) {
				out.push({ check: 'a', kind: 'missing-twin', message: `ActiveCampaign account ${acc.id} (${acc.name}) never got a Dynamics account (no D365 Account ID)` });
			}
			continue;
		}
		const found = ctx.d365.get(acc.link);
		if (!found || found.table !== 'account') {
			if (!ctx.deletedIds.has(acc.link)) {
				out.push({ check: 'a', kind: 'dangling-link', message: `ActiveCampaign account ${acc.id} (${acc.name}) links to ${acc.link}, which does not exist and was never deleted` });
			}
			continue;
		}
		if (!active(found.row)) continue;
		const company = obs.companies.find((c) => c.acId === acc.id);
		for (const field of COMPANY_FIELDS) {
			const a = acCompanyValue(acc, field);
			const d = d365CompanyValue(found.row, field);
			if (same(field, a, d)) continue;
			const source = sourceSide(ctx.policies, field);
			if (source) {
				const last = lastSeenEdit(ctx, editsOf(obs.edits, false, { ac: acc.id, d365: acc.link }, field), source);
				if (!last || last.side !== source) continue;
			}
			out.push({
				check: 'a',
				kind: 'divergent-field',
				message: `${company ? `company ${company.index}: ` : ''}ActiveCampaign account ${acc.id} ↔ Dynamics account ${acc.link}: ${FIELD_NAMES[field].label} is ${show(a)} in ActiveCampaign but ${show(d)} in Dynamics`,
			});
		}
	}
	// Every active Dynamics record has its ActiveCampaign twin (a lead whose email an active contact has excepted).
	const linked = new Set([...obs.final.acContacts.map((c) => parseLink(c.link)?.id), ...obs.final.acAccounts.map((a) => a.link)].filter(Boolean) as string[]);
	const contactEmails = new Set(obs.final.d365.contact.filter(active).map((r) => canonEmail(r.emailaddress1)));
	const deletedTagged = new Set(obs.final.acContacts.filter((c) => c.tags.includes('[D365: Deleted in Dynamics]')).map((c) => canonEmail(c.email)));
	for (const [id, { table, row }] of ctx.d365) {
		if (!active(row) || linked.has(id)) continue;
		if (table === 'account') {
			if (!canon(row.name)) continue;
			out.push({ check: 'a', kind: 'missing-twin', message: `Dynamics account ${id} (${String(row.name)}) has no ActiveCampaign account linked to it` });
			continue;
		}
		const email = canonEmail(row.emailaddress1);
		if (!email) continue;
		if (table === 'lead' && contactEmails.has(email)) continue;
		// A lead held back by a contact with its email that was then deleted: its ActiveCampaign contact is marked
		// deleted, and the lead takes it when the lead changes next (documented; no event tells the sync before).
		if (table === 'lead' && deletedTagged.has(email)) continue;
		out.push({ check: 'a', kind: 'missing-twin', message: `Dynamics ${table} ${id} (${email}) has no ActiveCampaign contact linked to it` });
	}
}

// ------------------------------------------------------------------------------------------------ (b) duplicates

function duplicates(ctx: Context, out: Violation[]): void {
	const { obs } = ctx;
	const group = <T>(items: T[], key: (t: T) => string | null | undefined) => {
		const map = new Map<string, T[]>();
		for (const item of items) {
			const k = key(item);
			if (!k) continue;
			map.set(k, [...(map.get(k) ?? []), item]);
		}
		return [...map.entries()].filter(([, list]) => list.length > 1);
	};
	for (const [link, list] of group(obs.final.acContacts, (c) => c.link?.toLowerCase())) {
		out.push({ check: 'b', kind: 'duplicate-ac-contact', message: `${list.length} ActiveCampaign contacts link to ${link}: ${list.map((c) => `${c.id} (${c.email})`).join(', ')}` });
	}
	for (const [link, list] of group(obs.final.acAccounts, (a) => a.link)) {
		out.push({ check: 'b', kind: 'duplicate-ac-account', message: `${list.length} ActiveCampaign accounts link to Dynamics account ${link}: ${list.map((a) => `${a.id} (${a.name})`).join(', ')}` });
	}
	// Records people entered themselves (the Sales User in the sandbox) may share an email; a duplicate is one the
	// sync made.
	const bySync = (rows: D365Row[]) => rows.some((r) => String(r._createdby_value ?? '').toLowerCase() !== IDS.salesUser.toLowerCase());
	for (const table of ['contact', 'lead'] as const) {
		for (const [email, list] of group(obs.final.d365[table].filter(active), (r) => canonEmail(r.emailaddress1)).filter(([, l]) => bySync(l))) {
			out.push({ check: 'b', kind: `duplicate-d365-${table}`, message: `${list.length} active Dynamics ${table}s have the email ${email}: ${list.map((r) => String(r[`${table}id`])).join(', ')}` });
		}
	}
	for (const [name, list] of group(obs.final.d365.account.filter(active), (r) => canon(r.name)?.toLowerCase()).filter(([, l]) => bySync(l))) {
		out.push({ check: 'b', kind: 'duplicate-d365-account', message: `${list.length} active Dynamics accounts are named "${name}": ${list.map((r) => String(r.accountid)).join(', ')}` });
	}
	// Created twice: write nodes' own reports across every execution of the history.
	const created = ctx.items.filter((i) => i.output === 0 && i.json.operation === 'created' && /^Write /.test(i.node));
	const toAc = created.filter((i) => / to ActiveCampaign$/.test(i.node));
	const toD365 = created.filter((i) => / to Dynamics$/.test(i.node));
	const sourceId = (i: OutputRecord) => String((i.input?.source as IDataObject | undefined)?.id ?? (i.input?.match as IDataObject | undefined)?.d365Id ?? i.json.d365Id ?? '').toLowerCase();
	// The same record reported "created" twice (an upsert by email that found it after all) is one record: count ids.
	const distinctIds = <T extends OutputRecord>(list: T[]) => new Set(list.map((i) => String(i.json.id))).size > 1;
	for (const [id, list] of group(toAc, sourceId).filter(([, l]) => distinctIds(l))) {
		out.push({
			check: 'b',
			kind: 'created-twice-in-ac',
			message: `Dynamics record ${id} was created in ActiveCampaign ${list.length} times (${list.map((i) => `"${i.node}" cycle ${i.cycle} execution ${i.run + 1}: id ${String(i.json.id)}`).join('; ')})`,
		});
	}
	const acSource = (i: OutputRecord) => String((i.input?.source as IDataObject | undefined)?.id ?? (i.input?.match as IDataObject | undefined)?.acId ?? i.json.acId ?? '');
	for (const [id, list] of group(toD365, (i) => `${/accounts/.test(i.node) ? 'account' : 'contact'} ${acSource(i)}`).filter(([, l]) => distinctIds(l))) {
		out.push({
			check: 'b',
			kind: 'created-twice-in-d365',
			message: `ActiveCampaign ${id} was created in Dynamics ${list.length} times (${list.map((i) => `"${i.node}" cycle ${i.cycle} execution ${i.run + 1}: id ${String(i.json.id)}`).join('; ')})`,
		});
	}
}

// ------------------------------------------------------------------------------------------------ (c) lost edits

interface Report {
	item: OutputRecord;
	winner: string;
	policy: string;
}

function conflictReports(ctx: Context, ids: Set<string>, field: string): Report[] {
	const names = FIELD_NAMES[field];
	const reports: Report[] = [];
	for (const item of ctx.items) {
		// A write that failed after settling conflicts reports them in its error item's details.
		const conflicts = item.json.conflicts ?? (item.json.details as IDataObject | undefined)?.conflicts;
		if (!Array.isArray(conflicts)) continue;
		if (![...item.ids].some((id) => ids.has(id))) continue;
		for (const c of conflicts as IDataObject[]) {
			if (names.ac.includes(String(c.activeCampaign)) || names.d365.includes(String(c.dynamics))) {
				reports.push({ item, winner: String(c.winner), policy: String(c.policy) });
			}
		}
	}
	return reports;
}

/** Any report of today's kind (a skip reason or a `conflict` note) on an item about these records, for the message. */
function legacyReport(ctx: Context, ids: Set<string>): string | undefined {
	for (const item of ctx.items) {
		if (![...item.ids].some((id) => ids.has(id))) continue;
		const reason = String(item.json.reason ?? item.json.skipReason ?? '');
		if (/^conflict/.test(reason)) return `"${item.node}" said "${reason}"`;
		if (typeof item.json.conflict === 'string') return `"${item.node}" said conflict "${item.json.conflict}"`;
	}
	return undefined;
}

/** Whether every cycle from batch `from` up to (not including) batch `to` was disturbed: changes may wait together. */
function sameWindow(ctx: Context, a: number, b: number): boolean {
	if (a === b) return true;
	const [from, to] = a < b ? [a, b] : [b, a];
	for (let batch = from; batch < to; batch++) {
		const cycle = ctx.obs.cycles.find((c) => c.phase === 'event' && c.batch === batch);
		if (!cycle?.disturbed) return false;
	}
	return true;
}

function personIds(ctx: Context, p: PersonState | undefined, pair: PersonPair): Set<string> {
	const ids = new Set<string>([pair.id, pair.ac.id]);
	if (p?.d365Id) ids.add(p.d365Id);
	for (const e of ctx.obs.edits) if (p && 'person' in e.target && e.target.person === p.index && e.field === 'email' && e.value) ids.add(e.value);
	for (const email of [canonEmail(pair.ac.email), canonEmail(pair.row.emailaddress1)]) if (email) ids.add(email);
	return ids;
}

/**
 * ActiveCampaign keeps a job title on the contact's link to its account. Under Propagate, an account deleted in Dynamics
 * is deleted in ActiveCampaign, and its links with it: a job title set in ActiveCampaign on the link to an account that
 * Dynamics deletes before the title reached it goes with the account (seeds 16001, 22001; the limit is in docs/DESIGN.md).
 */
function jobTitleWentWithAccount(ctx: Context, e: EditRecord): boolean {
	if (ctx.policies.deletePolicy !== 'propagate' || e.side !== 'ac' || !('person' in e.target)) return false;
	const person = e.target.person;
	const accountThen = ctx.obs.edits
		// The account the title was set with: set before it, or at the same creation (one seq).
		.filter((x) => x.side === 'ac' && x.field === 'account' && x.seq <= e.seq && 'person' in x.target && x.target.person === person)
		.sort((a, b) => b.seq - a.seq)[0];
	const name = accountThen?.accountName?.toLowerCase();
	return !!name && ctx.obs.deletes.some((d) => d.table === 'account' && d.batch >= e.batch && [d.name, d.acTwin?.name].some((n) => n?.toLowerCase() === name));
}

function lostEdits(ctx: Context, out: Violation[]): void {
	const { obs, policies } = ctx;
	for (const e of obs.edits) {
		const field = e.field;
		const source = sourceSide(policies, field);
		if (source && e.side !== source) continue; // the non-source side of a one-way field
		/** Final values on the edit's side and the other, as edits record them (account: also the plain name). */
		let finals: { own: string | null; other: string | null; ownName?: string | null; otherName?: string | null };
		let ids: Set<string>;
		let owner: string;
		let records: { ac: string; d365: string };
		/** A lead's company is a name (text), not a link: two names are two values even for one company. */
		let byName = false;
		const person = isPerson(e);
		if ('person' in e.target) {
			const index = e.target.person;
			const p = obs.people.find((x) => x.index === index);
			if (!p || p.structural.some((s) => s > e.seq)) continue; // restructured afterwards (delete, merge, qualify)
			const pair = pairOfPersonRecord(ctx, e.side, e.record, p);
			if (!pair) continue; // deleted, merged away, or without twin (reported under (a))
			if (field === 'jobTitle' && !pair.ac.account) continue; // ActiveCampaign cannot hold it without an account
			const name = (side: Side) =>
				(side === 'ac' ? acPersonValue(pair.ac, 'account') : d365PersonValue(pair.row, pair.table, 'account'))?.toLowerCase() ?? null;
			finals = {
				own: finalPersonValue(ctx, pair, e.side, field),
				other: finalPersonValue(ctx, pair, other(e.side), field),
				ownName: name(e.side),
				otherName: name(other(e.side)),
			};
			ids = personIds(ctx, p, pair);
			records = { ac: pair.ac.id, d365: pair.id };
			byName = field === 'account' && pair.table === 'lead';
			owner = `person ${index} (ActiveCampaign contact ${pair.ac.id} ↔ Dynamics ${pair.table} ${pair.id})`;
		} else {
			const index = e.target.company;
			const c = obs.companies.find((x) => x.index === index);
			if (!c || c.structural.some((s) => s > e.seq)) continue;
			const pair = pairOfCompanyRecord(ctx, e.side, e.record);
			if (!pair) continue;
			const values = { ac: acCompanyValue(pair.ac, field), d365: d365CompanyValue(pair.row, field) };
			finals = { own: values[e.side], other: values[other(e.side)] };
			ids = new Set([pair.ac.id, pair.id, pair.ac.name.toLowerCase()]);
			records = { ac: pair.ac.id, d365: pair.id };
			owner = `company ${index} (ActiveCampaign account ${pair.ac.id} ↔ Dynamics account ${pair.id})`;
		}
		if (field === 'jobTitle' && jobTitleWentWithAccount(ctx, e)) continue;
		if (field === 'account') {
			if (e.accountName && ctx.deletedAccountNames.has(e.accountName)) continue; // see excused divergences under (a)
			if ([finals.ownName, finals.otherName].some((n) => n && ctx.deletedAccountNames.has(n))) continue;
		}
		const holds = (key: string | null, name?: string | null) =>
			same(field, key, e.value) || (field === 'account' && e.accountName !== undefined && name === e.accountName);
		if (holds(finals.own, finals.ownName) && holds(finals.other, finals.otherName)) continue;
		// The person's edits of the field on this pair, and on the Dynamics record this one came from (a contact
		// qualified from a lead starts with the lead's values).
		const mine = [
			...editsOf(obs.edits, person, records, field),
			...(person && 'person' in e.target
				? obs.edits.filter(
						(x) => 'person' in x.target && x.target.person === (e.target as { person: number }).person && x.field === field && x.side === 'd365' && x.record !== records.d365 && ctx.obs.qualifiedLeads.includes(x.record),
					)
				: []),
		];
		if (mine.some((x) => x.seq > e.seq)) continue; // superseded by a later value of that field on this pair
		if (clearedBeforeFirstSync(ctx, e, mine)) continue;
		const label = FIELD_NAMES[field].label;
		const what = `${owner}: ${label} ${show(e.value)} set in ${sideName(e.side)} (${e.kind === 'create' ? 'at creation' : 'edit'} #${e.seq}, batch ${e.batch})`;
		const finalText = `ends ${show(finals.own)} in ${sideName(e.side)} and ${show(finals.other)} in ${sideName(other(e.side))}`;
		if (source && restoresWindowStart(ctx, e, mine)) continue; // no change the sync could see
		if (source) {
			// A one-way field: its source side's value goes across whatever the conflict policy says.
			out.push({
				check: 'c',
				kind: 'lost-edit',
				message: `${what} was lost: it ${finalText}; ${label} syncs only ${sideName(e.side)} → ${sideName(other(e.side))}, so this value must reach ${sideName(other(e.side))}`,
			});
			continue;
		}
		// An ActiveCampaign contact created with an account by a name the company no longer has anywhere (renamed in
		// Dynamics before the first sync) names another account as far as any sync can tell: matched by name, it
		// becomes an account of its own.
		const namedElsewhere = (x: EditRecord) => field === 'account' && x.side === 'ac' && x.kind === 'create' && !!x.accountName && companyKey(ctx, x.accountName, {}) !== x.value;
		const differs = (x: EditRecord) =>
			!same(field, x.value, e.value) || (byName && (x.accountName ?? '').toLowerCase() !== (e.accountName ?? '').toLowerCase()) || namedElsewhere(x) !== namedElsewhere(e);
		const rival = mine.find((x) => x !== e && x.side === other(e.side) && differs(x) && sameWindow(ctx, x.batch, e.batch));
		if (!rival) {
			out.push({ check: 'c', kind: 'lost-edit', message: `${what} was lost: it ${finalText}, and no later edit of that field superseded it` });
			continue;
		}
		// A value set back to what the field held at the last sync (A → B → A on one side between two syncs) is no
		// change the sync can see: the other side's change goes across and there is no conflict to report.
		const before = mine.filter((x) => x.seq < e.seq && x.batch < e.batch && !sameWindow(ctx, x.batch, e.batch)).sort((a, b) => a.seq - b.seq).pop();
		const beforeContested = before !== undefined && mine.some((x) => x.side !== before.side && x.seq < e.seq && sameWindow(ctx, x.batch, before.batch));
		if (before && !beforeContested && !differs(before)) continue;
		// Nothing set before the window: a value set and cleared again inside it leaves the field as the last sync saw it.
		if (!before && restoresWindowStart(ctx, e, mine)) continue;
		// A window that spans a disturbed cycle (faults) may still have synced this pair in that cycle: a value set back
		// to the one an earlier batch set without a rival is, as far as the sync can see, no change.
		const earlier = before ? undefined : mine.filter((x) => x.batch < e.batch).sort((a, b) => a.seq - b.seq).pop();
		const earlierContested = earlier !== undefined && mine.some((x) => x.side !== earlier.side && x.batch === earlier.batch && differs(x));
		if (earlier && !earlierContested && !differs(earlier)) continue;
		const expected = expectedWinner(ctx, records, e, rival);
		if (expected === e.side) {
			out.push({
				check: 'c',
				kind: 'lost-edit',
				message: `${what} was lost: it ${finalText}; ${sideName(other(e.side))} also set ${show(rival.value)} (#${rival.seq}) but ${policies.conflict} should keep ${sideName(e.side)}'s value`,
			});
			continue;
		}
		const reports = conflictReports(ctx, ids, field);
		const winner = systemOf(other(e.side));
		if (!reports.some((r) => r.winner === winner)) {
			const legacy = legacyReport(ctx, ids);
			out.push({
				check: 'c',
				kind: 'unreported-conflict',
				message: `${what} lost a conflict with ${sideName(other(e.side))}'s ${show(rival.value)} (#${rival.seq}) under ${policies.conflict}, but no write node reported conflicts: [{ activeCampaign: '${FIELD_NAMES[field].ac[0]}', dynamics: '${FIELD_NAMES[field].d365[0]}', winner: '${winner}' }] for it${
					reports.length ? ` (reported: ${reports.map((r) => `winner ${r.winner}`).join(', ')})` : ''
				}${legacy ? `; only today's report form: ${legacy}` : ''}`,
			});
		}
	}
}

/** The side the policy keeps when both sides set a field between two syncs (undefined: cannot tell). */
function expectedWinner(ctx: Context, records: { ac: string; d365: string }, e: EditRecord, rival: EditRecord): Side | undefined {
	switch (ctx.policies.conflict) {
		case 'dynamicsWins':
			return 'd365';
		case 'activeCampaignWins':
			return 'ac';
		case 'newestWins': {
			// The records' modified times when the deciding cycle started (the sync compares those), in whole seconds: an
			// account's too — a later edit of another field makes its record the newer one (seed 18001).
			const times = ctx.obs.modifiedAt[Math.max(e.batch, rival.batch)];
			const ac = times?.[isPerson(e) ? `ac:${records.ac}` : `acaccount:${records.ac}`];
			const d365 = times?.[records.d365];
			if (ac === undefined || d365 === undefined) return undefined;
			return Math.floor(d365 / 1000) >= Math.floor(ac / 1000) ? 'd365' : 'ac';
		}
	}
}

// ------------------------------------------------------------------------------------------------ (d) resurrection

function resurrections(ctx: Context, out: Violation[]): void {
	const { obs, policies } = ctx;
	if (policies.deletePolicy === 'propagate') return;
	for (const del of obs.deletes) {
		// Only a record the sync had linked can come back through the sync; an unlinked look-alike is a new record.
		if (!del.acTwin) continue;
		const tables = del.table === 'account' ? (['account'] as const) : (['contact', 'lead'] as const);
		const fresh = tables.flatMap((table) => obs.final.d365[table].filter((r) => !del.existing.has(String(r[`${table}id`]).toLowerCase())).map((row) => ({ table, row })));
		if (!fresh.length) continue;
		if (del.table === 'account') {
			const twin = del.acTwin ? ctx.acAccounts.get(del.acTwin.id) : undefined;
			const names = new Set([del.name, del.acTwin?.name, twin?.name].filter(Boolean).map((n) => String(n).toLowerCase()));
			for (const { row } of fresh) {
				const id = String(row.accountid).toLowerCase();
				// A new account linked from another ActiveCampaign account than the twin (one a person created there,
				// with the same name) is a new record, not the deleted one back.
				const linkedFrom = [...ctx.acAccounts.values()].find((a) => a.link === id);
				const byName = linkedFrom ? linkedFrom.id === del.acTwin.id : names.has(String(row.name ?? '').toLowerCase());
				if (byName || twin?.link === id) {
					out.push({
						check: 'd',
						kind: 'resurrection',
						message: `company ${targetName(del.target).split(' ')[1]}: Dynamics account ${del.id} (${del.name}) was deleted (#${del.seq}, delete policy ${policies.deletePolicy}) and came back as account ${id} (${String(row.name)})`,
					});
				}
			}
			continue;
		}
		const twin = del.acTwin ? ctx.acContacts.get(del.acTwin.id) : undefined;
		const emails = new Set([del.email, canonEmail(del.acTwin?.email), canonEmail(twin?.email)].filter(Boolean) as string[]);
		const twinLink = parseLink(twin?.link)?.id;
		for (const { table, row } of fresh) {
			const id = String(row[`${table}id`]).toLowerCase();
			const email = canonEmail(row.emailaddress1);
			if ((email && emails.has(email)) || twinLink === id) {
				out.push({
					check: 'd',
					kind: 'resurrection',
					message: `${targetName(del.target)}: Dynamics ${del.table} ${del.id} (${del.email}) was deleted (#${del.seq}, delete policy ${policies.deletePolicy}) and came back as ${table} ${id} (${email})${
						twinLink === id ? `, now linked from ActiveCampaign contact ${twin!.id}` : ''
					}`,
				});
			}
		}
	}
}

// ------------------------------------------------------------------------------------------------ (e) quiet

function quiet(ctx: Context, out: Violation[]): void {
	const cycles = ctx.obs.cycles;
	const last = cycles[cycles.length - 1];
	if (last && last.phase === 'quiet' && last.writes.ac + last.writes.d365 > 0) {
		const settle = cycles.filter((c) => c.phase === 'settle').map((c) => `${c.writes.ac + c.writes.d365}`);
		out.push({
			check: 'e',
			kind: 'not-quiet',
			message: `the quiet cycle after settling wrote (ActiveCampaign ${last.writes.ac}, Dynamics ${last.writes.d365}: ${Object.entries(last.writes.routes)
				.map(([r, n]) => `${r} ×${n}`)
				.join(', ')}); settle cycles wrote ${settle.join(', ')}`,
		});
	}
}

// ------------------------------------------------------------------------------------------------ (f) failed writes

function failedWrites(ctx: Context, out: Violation[], earlier: Violation[]): void {
	const { obs } = ctx;
	for (const cycle of obs.cycles) {
		if (cycle.phase !== 'settle' && cycle.phase !== 'quiet') continue;
		if (cycle.errors.length) {
			out.push({ check: 'f', kind: 'run-failed', message: `the ${cycle.phase} cycle ${cycle.index} (faults off) failed: ${cycle.errors.join(' | ')}` });
		}
		for (const e of cycle.nodeErrors) {
			out.push({ check: 'f', kind: 'node-failed', message: `"${e.node}" failed as a whole in the ${cycle.phase} cycle ${cycle.index} (faults off): ${e.message}` });
		}
	}
	const failed = ctx.items.filter(
		(i) => (/^(Write|Record) /.test(i.node) && i.output === 1) || (/^Map /.test(i.node) && i.output === 2) || (i.output === 0 && typeof i.json.error === 'string' && /^(Write|Record|Map) /.test(i.node)),
	);
	const text = (i: (typeof ctx.items)[number]) => `${String(i.json.error ?? '')} ${String(i.json.message ?? '')} ${String(i.json.description ?? '')}`;
	// Reported: a dead letter, or a failure whose error item says when it is tried again while the workflow's retry
	// queue holds it (real-time backoff outlasts a history; the record is neither lost nor silent).
	const deadLetters = ctx.items.filter((i) => i.json.deadLetter === true || /Dead letter/.test(text(i)));
	const retryNotes = failed.filter((i) => /Tried again/.test(text(i)));
	const unsettled = [...earlier.filter((v) => v.check === 'a'), ...ctx.excused];
	const seen = new Set<string>();
	for (const item of failed) {
		const ids = [...item.ids];
		const unconverged = unsettled.filter((v) => ids.some((id) => id.length > 2 && v.message.toLowerCase().includes(id)));
		if (!unconverged.length) continue; // the record converged later (retried, or carried by a later change)
		// The same step wrote the same record later (the retry succeeded); what still differs has another cause.
		const later = ctx.items.some(
			(i) => i.node === item.node && i.cycle > item.cycle && i.output === 0 && typeof i.json.error !== 'string' && ids.some((id) => id.length > 2 && i.ids.has(id)),
		);
		if (later) continue;
		if (deadLetters.some((d) => ids.some((id) => d.ids.has(id) || text(d).toLowerCase().includes(id)))) continue;
		if (queuedRetry(obs, ids) && retryNotes.some((r) => ids.some((id) => r.ids.has(id)))) continue;
		// A write for a Dynamics record that was deleted afterwards has nothing left to do.
		if (ids.some((id) => ctx.deletedIds.has(id))) continue;
		// Nor one for an account (named by its ActiveCampaign twin) deleted in Dynamics afterwards: the failed write was
		// the overlapping run's second try of an account the first run created (seed 16000: two executions at once,
		// one throttled). What still differs is the deleted account's name, excused under (a).
		const deletedAfter = obs.deletes.some(
			(d) => d.table === 'account' && d.batch > item.cycle && [d.name, d.acTwin?.name, d.acTwin?.id].some((n) => n && ids.includes(String(n).toLowerCase())),
		);
		if (deletedAfter && item.node === 'Write accounts to Dynamics') continue;
		const key = `${item.node}|${ids.sort().join(',')}`;
		if (seen.has(key)) continue;
		seen.add(key);
		const queued = queuedRetry(obs, ids);
		out.push({
			check: 'f',
			kind: 'failed-write-lost',
			message: `"${item.node}" failed in ${obs.cycles[item.cycle]?.phase} cycle ${item.cycle} (${String(item.json.error ?? '').slice(0, 160)}) for ${ids.slice(0, 4).join(', ')}; the record never converged (${unconverged[0].message.slice(0, 200)}) and no output item reported it with deadLetter: true${
				queued ? `; the workflow's static data still queues it for a retry (${queued})` : ''
			}`,
		});
	}
}

/** A retry-queue entry in the workflow's static data naming one of these ids (whatever the queue's layout), as text. */
function queuedRetry(obs: Observation, ids: string[]): string | undefined {
	const found: string[] = [];
	const visit = (value: unknown, depth: number) => {
		if (!value || typeof value !== 'object' || depth > 4 || found.length) return;
		const entry = value as IDataObject;
		if (typeof entry.id === 'string' && ids.includes(entry.id.toLowerCase()) && ('attempts' in entry || 'nextAt' in entry)) {
			found.push(`attempts ${String(entry.attempts)}, next at ${String(entry.nextAt)}, dead ${String(entry.dead)}`);
			return;
		}
		for (const child of Object.values(entry)) visit(child, depth + 1);
	};
	visit(obs.staticData, 0);
	return found[0];
}

// ------------------------------------------------------------------------------------------------ all

export function check(obs: Observation): Violation[] {
	const ctx = context(obs);
	const out: Violation[] = [];
	convergence(ctx, out);
	duplicates(ctx, out);
	lostEdits(ctx, out);
	resurrections(ctx, out);
	quiet(ctx, out);
	failedWrites(ctx, out, [...out]);
	return out;
}
