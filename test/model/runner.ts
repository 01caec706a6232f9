/**
 * Runs one history against the sandbox and records what the checks need: every event as it was carried out (or why
 * it was not applicable), every field value a person wrote, the deletes, each cycle's executions and write counts,
 * every output item of every node, and the final state of both sides.
 */
import type { IDataObject, IRun } from 'n8n-workflow';

import {
	MAX_COMPANIES,
	MAX_PEOPLE,
	formatEvent,
	formatFaults,
	formatPolicies,
	type Batch,
	type Capabilities,
	type CompanyField,
	type History,
	type ModelEvent,
	type PersonEdit,
	type PersonField,
	type PersonKind,
} from './history';
import { FAIL_RUN_NODE } from '../../scripts/build-templates';
import { runError, scheduledSync, type Side, type TemplateJson, type World } from './world';

export const CONTACT_TAG: Record<PersonKind, string> = { contact: '[D365: Contact]', lead: '[D365: Lead]' };
const SET: Record<string, string> = { contact: 'contacts', lead: 'leads', account: 'accounts' };
const FIRST_NAMES = ['Ann', 'Bo', 'Cy', 'Di'];
const LAST_NAMES = ['Lee', 'Ng', 'Ortiz', 'Park'];

export interface PersonState {
	index: number;
	kind: PersonKind;
	d365Id?: string;
	acId?: string;
	/** Its Dynamics record was deleted, merged away, or (a lead) qualified into a contact. */
	gone?: 'deleted' | 'merged';
	/** Seqs of events that restructured its records (delete, merge, qualify). */
	structural: number[];
}

export interface CompanyState {
	index: number;
	d365Id?: string;
	acId?: string;
	/** The name a person would type for it now. */
	name?: string;
	gone?: 'deleted';
	structural: number[];
}

export type Target = { person: number } | { company: number };

/** A value a person set: by creating a record or editing it. `value` is canonical (null = empty). */
export interface EditRecord {
	seq: number;
	batch: number;
	target: Target;
	side: Side;
	/** The record written: Dynamics id (lower case) or ActiveCampaign id. */
	record: string;
	/** Model field: person fields, or `company.<name|website|phone>`. */
	field: string;
	value: string | null;
	kind: 'create' | 'edit';
	/** Account field: the account name the person chose (`value` is `company:<n>`). */
	accountName?: string;
}

export interface LogLine {
	seq: number;
	batch: number;
	text: string;
	outcome: string;
}

export interface DeleteRecord {
	seq: number;
	batch: number;
	target: Target;
	table: 'contact' | 'lead' | 'account';
	id: string;
	email?: string | null;
	name?: string | null;
	acTwin?: { id: string; email?: string; name?: string };
	/** Every Dynamics record id (contacts, leads, accounts) that existed when it was deleted. */
	existing: Set<string>;
}

export interface WriteCount {
	ac: number;
	d365: number;
	routes: Record<string, number>;
}

export interface CycleRecord {
	index: number;
	phase: 'init' | 'event' | 'settle' | 'quiet';
	batch?: number;
	/** Executions that failed as a whole. */
	errors: string[];
	/**
	 * Nodes that failed as a whole; with "continue using error output" n8n then passes the node's input items on
	 * to its first output unchanged.
	 */
	nodeErrors: Array<{ node: string; run: number; message: string }>;
	writes: WriteCount;
	/** Faults were on, two executions overlapped, or an execution failed: a change may wait for a later cycle. */
	disturbed: boolean;
}

export interface OutputRecord {
	cycle: number;
	run: number;
	node: string;
	output: number;
	json: IDataObject;
	/** The input item this one is paired with (the sync item a write node got). */
	input?: IDataObject;
}

export interface AcContactState {
	id: string;
	/** The `D365 Record ID` field as stored; `link` is the same when it is a `lead:`/`contact:` link. */
	rawLink: string | null;
	email: string;
	firstName: string;
	lastName: string;
	phone: string;
	account: { id: string; name: string; jobTitle: string } | null;
	tags: string[];
	link: string | null;
	udate: number;
}

export interface AcAccountState {
	id: string;
	/** The `D365 Account ID` field as stored; `link` is the same when it is a GUID. */
	rawLink: string | null;
	name: string;
	accountUrl: string | null;
	phone: string | null;
	link: string | null;
	updated: string;
}

export type D365Row = IDataObject;

export interface FinalState {
	acContacts: AcContactState[];
	acAccounts: AcAccountState[];
	d365: { contact: D365Row[]; lead: D365Row[]; account: D365Row[] };
}

export interface Observation {
	history: History;
	lines: LogLine[];
	edits: EditRecord[];
	deletes: DeleteRecord[];
	cycles: CycleRecord[];
	outputs: OutputRecord[];
	people: PersonState[];
	companies: CompanyState[];
	/** Dynamics lead ids added with a contact's email (lead/contact precedence). */
	shadowLeads: string[];
	/** ActiveCampaign contact ids that were linked to a Dynamics contact when it was merged away. */
	mergedTwins: string[];
	/** Dynamics contact ids merged away. */
	mergedIds: string[];
	/** Dynamics lead ids qualified into contacts. */
	qualifiedLeads: string[];
	/** Per batch (index = batch number), modified times (ms) of the records when its cycle started (see modifiedTimes). */
	modifiedAt: Array<Record<string, number>>;
	final: FinalState;
	/** Milliseconds spent per part of the history: reset, events, cycles by phase, final read. */
	timings: Record<string, number>;
	/** The workflow's static data after the last cycle (cursors, and the sync's retry queue where it keeps one). */
	staticData: IDataObject;
}

/** Canonical value: trimmed, empty = null. */
export function canon(value: unknown): string | null {
	if (value === undefined || value === null) return null;
	const text = String(value).trim();
	return text === '' ? null : text;
}

export function canonEmail(value: unknown): string | null {
	return canon(value)?.toLowerCase() ?? null;
}

/** How histories run: MODEL_SCAN_EVERY=1 (or a test) sets Full Scan Every 60 on the ActiveCampaign change reads. */
export const RUN_OPTIONS = { scanBetweenSettles: false };

/** Makes every ActiveCampaign change read's next run a full scan (its last scan long ago). */
export function forceScans(data: IDataObject): void {
	for (const [key, value] of Object.entries(data)) {
		if (!key.startsWith('node:') || !value || typeof value !== 'object') continue;
		for (const kind of ['contactChanges', 'accountChanges']) {
			const stored = (value as IDataObject)[kind] as IDataObject | undefined;
			if (stored && typeof stored.scanAt === 'string') stored.scanAt = new Date(0).toISOString();
		}
	}
}

const targetKey = (t: Target) => ('person' in t ? `person ${t.person}` : `company ${t.company}`);

export class HistoryRunner {
	readonly people: PersonState[] = [];
	readonly companies: CompanyState[] = [];
	readonly lines: LogLine[] = [];
	readonly edits: EditRecord[] = [];
	readonly deletes: DeleteRecord[] = [];
	readonly cycles: CycleRecord[] = [];
	readonly outputs: OutputRecord[] = [];
	readonly shadowLeads: string[] = [];
	readonly mergedTwins: string[] = [];
	readonly mergedIds: string[] = [];
	readonly qualifiedLeads: string[] = [];
	readonly modifiedAt: Observation['modifiedAt'] = [];
	/** Dynamics ids that no longer stand for a person or company (deleted, merged away, qualified). */
	private readonly retired = new Set<string>();
	private seq = 0;
	private batch = 0;
	private readonly timings: Record<string, number> = {};
	private workflow: TemplateJson;

	constructor(
		private readonly world: World,
		readonly history: History,
		private readonly capabilities: Capabilities,
	) {
		this.workflow = scheduledSync(history.policies, RUN_OPTIONS.scanBetweenSettles ? { scanEveryMinutes: 60 } : {});
	}

	private async timed<T>(part: string, fn: () => Promise<T>): Promise<T> {
		const started = Date.now();
		try {
			return await fn();
		} finally {
			this.timings[part] = (this.timings[part] ?? 0) + Date.now() - started;
		}
	}

	async run(): Promise<Observation> {
		const { world } = this;
		await this.timed('reset', async () => await world.reset());
		this.lines.push({ seq: 0, batch: 0, text: `policies: ${formatPolicies(this.history.policies)}`, outcome: '' });
		await this.cycle('init');
		for (const [i, batch] of this.history.batches.entries()) {
			this.batch = i + 1;
			await this.timed('events', async () => {
				for (const event of batch.events) await this.event(event);
				this.modifiedAt[this.batch] = await this.modifiedTimes();
			});
			await this.withFaults(batch, async () => await this.cycle('event', batch.overlap ? 2 : 1, batch.faults !== undefined));
		}
		this.batch = this.history.batches.length + 1;
		// Faults are off from here on: settle until a cycle writes nothing (at most 3), then one more quiet cycle.
		for (let i = 0; i < 3; i++) {
			// The retry queue's backoff is real time, which a history does not wait for: before each settle cycle the
			// backoff of every queued record (not a dead letter) has passed, so the retry itself is checked.
			this.world.harness.updateStatic((data) => {
				const queue = (data.global as IDataObject | undefined)?.syncRetries as Record<string, IDataObject> | undefined;
				for (const entry of Object.values(queue ?? {})) if (entry.dead !== true) entry.nextAt = new Date(0).toISOString();
				// Full Scan Every 60: the event cycles ran between scans; each settle cycle scans.
				if (RUN_OPTIONS.scanBetweenSettles) forceScans(data);
			});
			const settled = await this.cycle('settle');
			if (settled.writes.ac + settled.writes.d365 === 0) break;
		}
		await this.cycle('quiet');
		return {
			history: this.history,
			lines: this.lines,
			edits: this.edits,
			deletes: this.deletes,
			cycles: this.cycles,
			outputs: this.outputs,
			people: this.people,
			companies: this.companies,
			shadowLeads: this.shadowLeads,
			mergedTwins: this.mergedTwins,
			mergedIds: this.mergedIds,
			qualifiedLeads: this.qualifiedLeads,
			modifiedAt: this.modifiedAt,
			final: await this.timed('final state', async () => await readFinalState(this.world)),
			timings: this.timings,
			staticData: this.world.harness.savedStatic(),
		};
	}

	// ------------------------------------------------------------------------------------------- cycles

	private async withFaults(batch: Batch, fn: () => Promise<void | CycleRecord>): Promise<void> {
		const f = batch.faults;
		if (f) {
			if (f.ac) await this.world.must('ac', 'PUT', '/faults', { retryAfterSeconds: 0, ...f.ac });
			if (f.d365) await this.world.must('d365', 'PUT', '/faults', { retryAfterSeconds: 0, ...f.d365 });
			for (const s of f.scripted ?? []) await this.world.must('d365', 'POST', '/scripted-faults', s);
		}
		try {
			await fn();
		} finally {
			if (f) {
				await this.world.must('ac', 'DELETE', '/faults');
				await this.world.must('d365', 'DELETE', '/faults');
				await this.world.must('d365', 'DELETE', '/scripted-faults');
			}
		}
	}

	private async cycle(phase: CycleRecord['phase'], parallel = 1, faulted = false): Promise<CycleRecord> {
		const { world } = this;
		await world.must('ac', 'POST', '/stats/reset');
		await world.must('d365', 'POST', '/stats/reset');
		const key = `${phase} cycles${faulted ? ' (faults)' : ''}`;
		const runs = await this.timed(key, async () => await world.runCycle(this.workflow, parallel));
		const writes = await writeCount(world);
		const index = this.cycles.length;
		const errors: string[] = [];
		const nodeErrors: CycleRecord['nodeErrors'] = [];
		runs.forEach((run, r) => {
			const error = run.data.resultData.error;
			const crash = runError(run);
			if (crash) errors.push(crash);
			for (const [node, tasks] of Object.entries(run.data.resultData.runData)) {
				if (node === FAIL_RUN_NODE) continue; // the alert for the error workflow, not a crash (see runError)
				for (const task of tasks) if (task.error && task.error !== error) nodeErrors.push({ node, run: r, message: task.error.message });
			}
			this.outputs.push(...collectOutputs(run, index, r));
		});
		const record: CycleRecord = {
			index,
			phase,
			batch: phase === 'event' ? this.batch : undefined,
			errors,
			nodeErrors,
			writes,
			disturbed: faulted || parallel > 1 || errors.length > 0,
		};
		this.cycles.push(record);
		const notes = [
			`${phase} cycle ${index}${parallel > 1 ? ` (${parallel} executions at once)` : ''}${faulted ? ` (faults: ${formatFaults(this.history.batches[this.batch - 1].faults!)})` : ''}`,
		];
		this.lines.push({
			seq: this.seq,
			batch: this.batch,
			text: notes[0],
			outcome: `writes: ActiveCampaign ${writes.ac}, Dynamics ${writes.d365}${errors.length ? `; execution failed: ${errors.join(' | ')}` : ''}${
				nodeErrors.length ? `; node failed as a whole: ${nodeErrors.map((e) => `"${e.node}": ${e.message}`).join(' | ')}` : ''
			}`,
		});
		await this.timed('bookkeeping', async () => await this.learnLinks());
		return record;
	}

	/** Learns which record on the other side each person and company has, from the links the sync stored. */
	private async learnLinks(): Promise<void> {
		const sim = this.world.sandbox.ac.simulator;
		for (const contact of sim.state.contacts.values()) {
			const detail = sim.contactDetail(contact.id);
			const link = parseLink(detail?.fields.D365_RECORD_ID);
			if (!link || this.retired.has(link.id)) continue;
			const acId = String(contact.id);
			const owner = this.people.find((p) => p.acId === acId);
			if (owner) {
				if (!owner.gone) {
					owner.d365Id = link.id;
					owner.kind = link.entity;
				}
				continue;
			}
			const twin = this.people.find((p) => p.d365Id === link.id && !p.acId);
			if (twin) twin.acId = acId;
		}
		const { accounts } = await this.world.must<{ accounts: IDataObject[] }>('ac', 'GET', '/state/accounts');
		for (const account of accounts) {
			const link = accountLink(account);
			if (!link || this.retired.has(link)) continue;
			const acId = String(account.id);
			const owner = this.companies.find((c) => c.acId === acId);
			if (owner) {
				if (!owner.gone) owner.d365Id = link;
				continue;
			}
			const twin = this.companies.find((c) => c.d365Id === link && !c.acId);
			if (twin) twin.acId = acId;
		}
	}

	/** Modified time (ms) of every record when a cycle starts: Dynamics `modifiedon` by id, ActiveCampaign `udate` by `ac:<id>`. */
	private async modifiedTimes(): Promise<Record<string, number>> {
		const out: Record<string, number> = {};
		for (const table of ['contact', 'lead', 'account']) {
			const { value } = await this.world.must<{ value: IDataObject[] }>('d365', 'GET', `/state/${SET[table]}`);
			for (const row of value) out[String(row[`${table}id`]).toLowerCase()] = Date.parse(String(row.modifiedon));
		}
		for (const c of this.world.sandbox.ac.simulator.state.contacts.values()) out[`ac:${c.id}`] = c.udate;
		for (const a of this.world.sandbox.ac.simulator.state.accounts.values()) out[`acaccount:${a.id}`] = a.updatedTimestamp;
		return out;
	}

	// ------------------------------------------------------------------------------------------- events

	private async event(event: ModelEvent): Promise<void> {
		const text = formatEvent(event);
		let outcome: string;
		try {
			outcome = await this.apply(event);
		} catch (error) {
			outcome = `refused by the sandbox: ${(error as Error).message}`;
		}
		this.lines.push({ seq: this.seq, batch: this.batch, text, outcome });
	}

	/** The next position in the history; both clocks move one second, so every write has its own second. */
	private next(): number {
		this.world.tick(1);
		return ++this.seq;
	}

	/**
	 * The person an event means: the one with its number when that one qualifies, else — so that few events do
	 * nothing — the one at that position among those who qualify. The outcome names the person it acted on.
	 */
	private pickPerson(index: number, ok: (p: PersonState) => boolean, except?: PersonState): PersonState | undefined {
		const candidates = this.people.filter((p) => p !== except && ok(p)).sort((a, b) => a.index - b.index);
		return candidates.find((p) => p.index === index) ?? candidates[index % Math.max(1, candidates.length)];
	}

	private pickCompany(index: number, ok: (c: CompanyState) => boolean): CompanyState | undefined {
		const candidates = this.companies.filter(ok).sort((a, b) => a.index - b.index);
		return candidates.find((c) => c.index === index) ?? candidates[index % Math.max(1, candidates.length)];
	}

	/** A number for a new person or company: the one asked for when free, else the first free one. */
	private freeIndex(index: number, taken: number[], max: number): number | undefined {
		if (!taken.includes(index)) return index;
		return Array.from({ length: max }, (_, i) => i).find((i) => !taken.includes(i));
	}

	private record(seq: number, target: Target, side: Side, record: string, field: string, value: unknown, kind: 'create' | 'edit', accountName?: string): void {
		const v = field === 'email' ? canonEmail(value) : canon(value);
		this.edits.push({ seq, batch: this.batch, target, side, record, field, value: v, kind, ...(accountName ? { accountName: accountName.toLowerCase() } : {}) });
	}

	private async apply(event: ModelEvent): Promise<string> {
		switch (event.kind) {
			case 'createPerson':
				return await this.createPerson(event);
			case 'createCompany':
				return await this.createCompany(event);
			case 'editPerson':
				return await this.editPerson(event.person, event.side, event.edit);
			case 'editBoth': {
				const order: Array<[Side, PersonEdit]> = event.acFirst
					? [
							['ac', event.ac],
							['d365', event.d365],
						]
					: [
							['d365', event.d365],
							['ac', event.ac],
						];
				const both = this.pickPerson(event.person, (p) => !!p.acId && !!p.d365Id && !p.gone);
				const index = both?.index ?? event.person;
				const outcomes: string[] = [];
				for (const [s, e] of order) outcomes.push(`${s === 'ac' ? 'ActiveCampaign' : 'Dynamics'}: ${await this.editPerson(index, s, e)}`);
				return `${index !== event.person ? `(person ${index}) ` : ''}${outcomes.join('; ')}`;
			}
			case 'editCompany':
				return await this.editCompany(event.company, event.side, event.field, event.clear === true);
			case 'deletePerson':
				return await this.deletePerson(event.person);
			case 'deleteCompany':
				return await this.deleteCompany(event.company);
			case 'shadowLead':
				return await this.shadowLead(event.person);
			case 'merge':
				return await this.merge(event.target, event.subordinate);
			case 'qualify':
				return await this.qualify(event.person);
		}
	}

	private async createPerson(asked: Extract<ModelEvent, { kind: 'createPerson' }>): Promise<string> {
		const index = this.freeIndex(
			asked.person,
			this.people.map((p) => p.index),
			MAX_PEOPLE,
		);
		if (index === undefined) return `n/a: all ${MAX_PEOPLE} people exist`;
		const event = { ...asked, person: index };
		const seq = this.next();
		const email = `p${event.person}.s${seq}@model.test`;
		const state: PersonState = { index: event.person, kind: event.as, structural: [] };
		const target = { person: event.person };
		const done: string[] = [];
		for (const side of event.sides) {
			const s = side === event.sides[0] ? seq : this.next();
			const tag = event.sides.length > 1 ? (side === 'ac' ? 'a' : 'd') : '';
			const values: Partial<Record<PersonField, string>> = {
				email,
				firstName: `${FIRST_NAMES[event.person]}${s}${tag}`,
				lastName: `${LAST_NAMES[event.person]}${s}${tag}`,
			};
			if (event.withPhone) values.phone = `+1 555 01${String(s).padStart(3, '0')}`;
			// A company deleted in Dynamics is not offered any more (its ActiveCampaign account cannot be linked across).
			const company = event.company === undefined ? undefined : this.pickCompany(event.company, (c) => !c.gone);
			let accountName: string | undefined;
			if (side === 'd365') {
				const body: IDataObject = { emailaddress1: values.email, firstname: values.firstName, lastname: values.lastName };
				if (values.phone) body.telephone1 = values.phone;
				if (event.as === 'contact') {
					if (company?.d365Id && !company.gone) {
						body['parentcustomerid_account@odata.bind'] = `/accounts(${company.d365Id})`;
						values.account = `company:${company.index}`;
						accountName = await this.companyName(company, 'd365');
					}
				} else {
					body.subject = 'Model lead';
					const name = company ? await this.companyName(company, 'd365') : undefined;
					if (company && name) {
						body.companyname = name;
						values.account = `company:${company.index}`;
						accountName = name;
					}
				}
				// A job title lives on the account link in ActiveCampaign: only with an account.
				if (event.withJobTitle && values.account) body.jobtitle = values.jobTitle = `Title ${s}${tag}`;
				const row = await this.world.must<IDataObject>('d365', 'POST', `/ui/${SET[event.as]}`, body);
				state.d365Id = String(row[`${event.as}id`]).toLowerCase();
				done.push(`Dynamics ${event.as} ${state.d365Id}`);
			} else {
				const body: IDataObject = { email: values.email, firstName: values.firstName, lastName: values.lastName, tags: [CONTACT_TAG[event.as]] };
				if (values.phone) body.phone = values.phone;
				const name = company ? await this.companyName(company, 'ac') : undefined;
				if (company && name) {
					body.account = name;
					values.account = `company:${company.index}`;
					accountName = name;
					if (event.withJobTitle) body.jobTitle = values.jobTitle = `Title ${s}${tag}`;
				}
				const detail = await this.world.must<IDataObject>('ac', 'POST', '/ui/contacts', body);
				state.acId = String((detail.contact as IDataObject).id);
				done.push(`ActiveCampaign contact ${state.acId}`);
			}
			const recordId = (side === 'd365' ? state.d365Id : state.acId)!;
			for (const [field, value] of Object.entries(values)) this.record(s, target, side, recordId, field, value, 'create', field === 'account' ? accountName : undefined);
			// A field left empty is no value a person set: a first sync must not let it replace the other side's value.
		}
		this.people.push(state);
		return `${index !== asked.person ? `(person ${index}) ` : ''}done: ${email}, ${done.join(', ')}`;
	}

	/** The company's name as a person on that side sees it now (its record there, else the name it goes by). */
	private async companyName(company: CompanyState, side: Side): Promise<string | undefined> {
		if (side === 'd365' && company.d365Id && !company.gone) {
			const row = await this.d365Row('account', company.d365Id);
			if (row?.name) return String(row.name);
		}
		if (side === 'ac' && company.acId) {
			const account = this.world.sandbox.ac.simulator.state.accounts.get(Number(company.acId));
			if (account) return account.name;
		}
		return company.name;
	}

	private async createCompany(asked: Extract<ModelEvent, { kind: 'createCompany' }>): Promise<string> {
		const index = this.freeIndex(
			asked.company,
			this.companies.map((c) => c.index),
			MAX_COMPANIES,
		);
		if (index === undefined) return `n/a: all ${MAX_COMPANIES} companies exist`;
		const event = { ...asked, company: index };
		const seq = this.next();
		const name = `Co${event.company} n${seq}`;
		const website = event.withWebsite ? `https://c${event.company}-${seq}.model.test` : undefined;
		const phone = event.withPhone ? `+1 555 02${String(seq).padStart(3, '0')}` : undefined;
		const state: CompanyState = { index: event.company, name, structural: [] };
		let where: string;
		if (event.side === 'd365') {
			const row = await this.world.must<IDataObject>('d365', 'POST', '/ui/accounts', {
				name,
				...(website ? { websiteurl: website } : {}),
				...(phone ? { telephone1: phone } : {}),
			});
			state.d365Id = String(row.accountid).toLowerCase();
			where = `Dynamics account ${state.d365Id}`;
		} else {
			const created = await this.world.must<{ account: IDataObject }>('ac', 'POST', '/ui/accounts', { name, ...(website ? { accountUrl: website } : {}) });
			state.acId = String(created.account.id);
			if (phone) await this.world.must('ac', 'PATCH', `/ui/accounts/${state.acId}`, { fields: [{ label: 'Phone Number', value: phone }] });
			where = `ActiveCampaign account ${state.acId}`;
		}
		const target = { company: event.company };
		const recordId = (event.side === 'd365' ? state.d365Id : state.acId)!;
		this.record(seq, target, event.side, recordId, 'company.name', name, 'create');
		if (website) this.record(seq, target, event.side, recordId, 'company.website', website, 'create');
		if (phone) this.record(seq, target, event.side, recordId, 'company.phone', phone, 'create');
		this.companies.push(state);
		return `${index !== asked.company ? `(company ${index}) ` : ''}done: ${name}, ${where}`;
	}

	private async d365Row(table: string, id: string): Promise<IDataObject | undefined> {
		const res = await this.world.control<IDataObject>('d365', 'GET', `/state/${SET[table]}/${id}`);
		return res.status === 200 ? res.body : undefined;
	}

	private async editPerson(asked: number, side: Side, edit: PersonEdit): Promise<string> {
		const p = this.pickPerson(asked, side === 'd365' ? (x) => !!x.d365Id && !x.gone : (x) => !!x.acId);
		if (!p) return `n/a: no person has a ${side === 'd365' ? 'Dynamics record' : 'ActiveCampaign contact'}`;
		const outcome = await this.editPersonRecord(p, side, edit);
		return `${p.index !== asked ? `(person ${p.index}) ` : ''}${outcome}`;
	}

	private async editPersonRecord(p: PersonState, side: Side, edit: PersonEdit): Promise<string> {
		const index = p.index;
		const seq = this.next();
		const target = { person: index };
		let value: string | null;
		if (side === 'd365') {
			if (!p.d365Id || p.gone) return `n/a: person ${index} has no Dynamics record`;
			const row = await this.d365Row(p.kind, p.d365Id);
			if (!row || row.statecode !== 0) return `n/a: person ${index}'s Dynamics ${p.kind} is not active`;
			const body: IDataObject = {};
			let recorded: string | null;
			let accountName: string | undefined;
			switch (edit.field) {
				case 'account': {
					// Not a company deleted in Dynamics: linking to it there would mean bringing it back.
					const company = this.pickCompany(edit.company ?? 0, (c) => !c.gone && (p.kind === 'contact' ? !!c.d365Id : true));
					if (!company) return `n/a: no company to link`;
					if (p.kind === 'contact') {
						if (!company.d365Id || company.gone) return `n/a: company ${company.index} has no Dynamics account`;
						// Setting what is already there changes nothing: no edit for the sync to carry.
						if (String(row._parentcustomerid_value ?? '').toLowerCase() === company.d365Id.toLowerCase()) return `n/a: already company ${company.index}`;
						body['parentcustomerid_account@odata.bind'] = `/accounts(${company.d365Id})`;
						accountName = await this.companyName(company, 'd365');
					} else {
						const name = await this.companyName(company, 'd365');
						if (!name) return `n/a: company ${company.index} has no name yet`;
						if (canon(row.companyname) === canon(name)) return `n/a: already company ${company.index}`;
						body.companyname = name;
						accountName = name;
					}
					value = `company:${company.index}`;
					recorded = value;
					break;
				}
				case 'jobTitle': {
					const hasAccount = p.kind === 'contact' ? !!row._parentcustomerid_value : !!canon(row.companyname);
					if (!hasAccount) return `n/a: person ${index} has no account (ActiveCampaign keeps a job title on the account link)`;
					value = edit.clear ? null : `Title ${seq}d`;
					if (value === null && canon(row.jobtitle) === null) return 'n/a: no job title to clear';
					body.jobtitle = value;
					recorded = value;
					break;
				}
				default: {
					value = personValue(edit, index, seq, 'd');
					if (value === null && canon(row[D365_COLUMN[edit.field]]) === null) return `n/a: no ${edit.field} to clear`;
					body[D365_COLUMN[edit.field]] = value;
					recorded = value;
				}
			}
			await this.world.must('d365', 'PATCH', `/ui/${SET[p.kind]}/${p.d365Id}`, body);
			this.record(seq, target, side, p.d365Id, edit.field, recorded, 'edit', accountName);
			return `done: ${edit.field} = ${JSON.stringify(recorded)}`;
		}
		if (!p.acId) return `n/a: person ${index} has no ActiveCampaign contact`;
		const detail = this.world.sandbox.ac.simulator.contactDetail(Number(p.acId));
		if (!detail) return `n/a: person ${index}'s ActiveCampaign contact is gone`;
		const body: IDataObject = {};
		let accountName: string | undefined;
		switch (edit.field) {
			case 'account': {
				const company = this.pickCompany(edit.company ?? 0, (c) => !c.gone);
				if (!company) return `n/a: no company to link`;
				const name = await this.companyName(company, 'ac');
				if (!name) return `n/a: company ${company.index} has no name yet`;
				if (detail.account && canon(detail.account.name) === canon(name)) return `n/a: already company ${company.index}`;
				body.account = name;
				value = `company:${company.index}`;
				accountName = name;
				break;
			}
			case 'jobTitle':
				if (!detail.account) return `n/a: person ${index}'s ActiveCampaign contact has no account (a job title lives on the account link)`;
				value = edit.clear ? null : `Title ${seq}a`;
				if (value === null && canon(detail.account.jobTitle) === null) return 'n/a: no job title to clear';
				body.account = detail.account.name;
				body.jobTitle = value ?? '';
				break;
			default:
				value = personValue(edit, index, seq, 'a');
				if (value === null && canon((detail.contact as IDataObject)[edit.field]) === null) return `n/a: no ${edit.field} to clear`;
				body[edit.field] = value ?? '';
		}
		await this.world.must('ac', 'PATCH', `/ui/contacts/${p.acId}`, body);
		this.record(seq, target, side, p.acId, edit.field, value, 'edit', accountName);
		return `done: ${edit.field} = ${JSON.stringify(value)}`;
	}

	private async editCompany(asked: number, side: Side, field: CompanyField, clear: boolean): Promise<string> {
		const c = this.pickCompany(asked, side === 'd365' ? (x) => !!x.d365Id && !x.gone : (x) => !!x.acId);
		if (!c) return `n/a: no company has a ${side === 'd365' ? 'Dynamics' : 'ActiveCampaign'} account`;
		const index = c.index;
		const who = index !== asked ? `(company ${index}) ` : '';
		const seq = this.next();
		const value = field === 'name' ? `Co${index} n${seq}` : clear ? null : field === 'website' ? `https://c${index}-${seq}.model.test` : `+1 555 02${String(seq).padStart(3, '0')}`;
		if (side === 'd365') {
			if (!c.d365Id || c.gone) return `n/a: company ${index} has no Dynamics account`;
			const column = { name: 'name', website: 'websiteurl', phone: 'telephone1' }[field];
			if (value === null) {
				const row = await this.world.must<IDataObject>('d365', 'GET', `/state/accounts/${c.d365Id}`);
				if (canon(row[column]) === null) return `n/a: no ${field} to clear`;
			}
			await this.world.must('d365', 'PATCH', `/ui/accounts/${c.d365Id}`, { [column]: value });
		} else {
			if (!c.acId) return `n/a: company ${index} has no ActiveCampaign account`;
			const account = this.world.sandbox.ac.simulator.state.accounts.get(Number(c.acId));
			if (!account) return `n/a: company ${index}'s ActiveCampaign account is gone`;
			if (value === null) {
				const state = this.world.sandbox.ac.simulator.state;
				const current =
					field === 'website'
						? account.accountUrl
						: state.accountFieldData
								.values()
								.find((d) => d.accountId === account.id && state.accountFieldMeta.rows.get(d.customFieldId)?.fieldLabel === 'Phone Number')?.fieldValue;
				if (canon(current) === null) return `n/a: no ${field} to clear`;
			}
			const body: IDataObject =
				field === 'name' ? { name: value } : field === 'website' ? { accountUrl: value ?? '' } : { fields: [{ label: 'Phone Number', value: value ?? '' }] };
			await this.world.must('ac', 'PATCH', `/ui/accounts/${c.acId}`, body);
		}
		if (field === 'name') c.name = value ?? c.name;
		this.record(seq, { company: index }, side, (side === 'd365' ? c.d365Id : c.acId)!, `company.${field}`, value, 'edit');
		return `${who}done: ${field} = ${JSON.stringify(value)}`;
	}

	private async existingD365Ids(): Promise<Set<string>> {
		const ids = new Set<string>();
		for (const table of ['contact', 'lead', 'account']) {
			const { value } = await this.world.must<{ value: IDataObject[] }>('d365', 'GET', `/state/${SET[table]}`);
			for (const row of value) ids.add(String(row[`${table}id`]).toLowerCase());
		}
		return ids;
	}

	private async deletePerson(asked: number): Promise<string> {
		const p = this.pickPerson(asked, (x) => !!x.d365Id && !x.gone);
		if (!p?.d365Id) return `n/a: no person has a Dynamics record`;
		const index = p.index;
		const seq = this.next();
		const row = await this.d365Row(p.kind, p.d365Id);
		// Its twin: the ActiveCampaign contact linked to it now (none when the sync never linked them).
		const detail = p.acId ? this.world.sandbox.ac.simulator.contactDetail(Number(p.acId)) : undefined;
		const twin = parseLink(detail?.fields.D365_RECORD_ID)?.id === p.d365Id ? detail : undefined;
		const existing = await this.existingD365Ids();
		await this.world.must('d365', 'DELETE', `/ui/${SET[p.kind]}/${p.d365Id}`);
		this.deletes.push({
			seq,
			batch: this.batch,
			target: { person: index },
			table: p.kind,
			id: p.d365Id,
			email: canonEmail(row?.emailaddress1),
			acTwin: twin ? { id: String(p.acId), email: String(twin.contact.email ?? '') } : undefined,
			existing,
		});
		p.gone = 'deleted';
		p.structural.push(seq);
		this.retired.add(p.d365Id);
		return `${index !== asked ? `(person ${index}) ` : ''}done: deleted Dynamics ${p.kind} ${p.d365Id}`;
	}

	private async deleteCompany(asked: number): Promise<string> {
		const c = this.pickCompany(asked, (x) => !!x.d365Id && !x.gone);
		if (!c?.d365Id) return `n/a: no company has a Dynamics account`;
		const index = c.index;
		const seq = this.next();
		const row = await this.d365Row('account', c.d365Id);
		const { accounts } = await this.world.must<{ accounts: IDataObject[] }>('ac', 'GET', '/state/accounts');
		const linked = accounts.find((a) => accountLink(a) === c.d365Id);
		const twin = linked ? { name: String(linked.name), id: String(linked.id) } : undefined;
		const existing = await this.existingD365Ids();
		const { value: contacts } = await this.world.must<{ value: IDataObject[] }>('d365', 'GET', '/state/contacts');
		const children = new Set(contacts.filter((r) => String(r._parentcustomerid_value ?? '').toLowerCase() === c.d365Id).map((r) => String(r.contactid).toLowerCase()));
		await this.world.must('d365', 'DELETE', `/ui/accounts/${c.d365Id}`);
		this.deletes.push({
			seq,
			batch: this.batch,
			target: { company: index },
			table: 'account',
			id: c.d365Id,
			name: canon(row?.name),
			acTwin: twin,
			existing,
		});
		c.gone = 'deleted';
		c.structural.push(seq);
		this.retired.add(c.d365Id);
		// Dynamics clears the lookups that pointed at it (its contacts lose their account): a restructuring for them.
		for (const p of this.people) if (p.kind === 'contact' && p.d365Id && children.has(p.d365Id)) p.structural.push(seq);
		return `${index !== asked ? `(company ${index}) ` : ''}done: deleted Dynamics account ${c.d365Id}`;
	}

	private async shadowLead(asked: number): Promise<string> {
		const p = this.pickPerson(asked, (x) => !!x.d365Id && !x.gone && x.kind === 'contact');
		if (!p?.d365Id) return `n/a: no person has a Dynamics contact`;
		const who = p.index !== asked ? `(person ${p.index}) ` : '';
		const seq = this.next();
		const row = await this.d365Row('contact', p.d365Id);
		if (!row || row.statecode !== 0 || !canon(row.emailaddress1)) return `${who}n/a: the contact is not active or has no email`;
		const { value: leads } = await this.world.must<{ value: IDataObject[] }>('d365', 'GET', '/state/leads');
		if (leads.some((l) => l.statecode === 0 && canonEmail(l.emailaddress1) === canonEmail(row.emailaddress1))) return `${who}n/a: a lead has that email already`;
		const lead = await this.world.must<IDataObject>('d365', 'POST', '/ui/leads', {
			subject: 'Model shadow lead',
			firstname: `Shadow${seq}`,
			lastname: `Lead${seq}`,
			emailaddress1: row.emailaddress1,
		});
		const leadId = String(lead.leadid).toLowerCase();
		this.shadowLeads.push(leadId);
		// Its values are a person's too: should the lead end as the pair of the person's ActiveCampaign contact (the
		// contact's email changed before the first sync), they are the other side of that pair's first sync.
		const values = { email: String(row.emailaddress1), firstName: `Shadow${seq}`, lastName: `Lead${seq}` };
		for (const [field, value] of Object.entries(values)) this.record(seq, { person: p.index }, 'd365', leadId, field, value, 'create');
		return `${who}done: lead ${String(lead.leadid)} with ${String(row.emailaddress1)}`;
	}

	private async merge(targetIndex: number, subordinateIndex: number): Promise<string> {
		if (!this.capabilities.merge) return 'n/a: the Dataverse sandbox has no POST /__sandbox/ui/merge';
		const usable = (p: PersonState) => !!p.d365Id && !p.gone && p.kind === 'contact';
		const target = this.pickPerson(targetIndex, usable);
		const subordinate = target ? this.pickPerson(subordinateIndex, usable, target) : undefined;
		if (!target || !subordinate) return `n/a: fewer than two people have an active Dynamics contact`;
		const who = target.index !== targetIndex || subordinate.index !== subordinateIndex ? `(person ${subordinate.index} into person ${target.index}) ` : '';
		const seq = this.next();
		const twin = subordinate.acId ? this.world.sandbox.ac.simulator.contactDetail(Number(subordinate.acId)) : undefined;
		const res = await this.world.control('d365', 'POST', '/ui/merge', { table: 'contact', target: target!.d365Id, subordinate: subordinate!.d365Id });
		if (res.status >= 300) return `refused by the sandbox: ${res.status} ${JSON.stringify(res.body)}`;
		if (parseLink(twin?.fields.D365_RECORD_ID)?.id === subordinate.d365Id) this.mergedTwins.push(String(subordinate.acId));
		this.mergedIds.push(subordinate.d365Id!);
		subordinate!.gone = 'merged';
		subordinate!.structural.push(seq);
		this.retired.add(subordinate!.d365Id!);
		target!.structural.push(seq);
		return `${who}done: contact ${subordinate!.d365Id} merged into ${target!.d365Id}`;
	}

	private async qualify(asked: number): Promise<string> {
		if (!this.capabilities.qualify) return 'n/a: the Dataverse sandbox has no POST /__sandbox/ui/leads/<id>/qualify';
		const p = this.pickPerson(asked, (x) => !!x.d365Id && !x.gone && x.kind === 'lead');
		if (!p?.d365Id) return `n/a: no person has a Dynamics lead`;
		const who = p.index !== asked ? `(person ${p.index}) ` : '';
		const seq = this.next();
		const leadId = p.d365Id;
		const res = await this.world.control('d365', 'POST', `/ui/leads/${leadId}/qualify`, { createAccount: false, createContact: true, createOpportunity: false });
		if (res.status >= 300) return `refused by the sandbox: ${res.status} ${JSON.stringify(res.body)}`;
		const { value } = await this.world.must<{ value: IDataObject[] }>('d365', 'GET', '/state/contacts');
		const contact = value.find((c) => String(c._originatingleadid_value ?? '').toLowerCase() === leadId);
		p.structural.push(seq);
		this.retired.add(leadId);
		this.qualifiedLeads.push(leadId);
		if (contact) {
			p.kind = 'contact';
			p.d365Id = String(contact.contactid).toLowerCase();
			return `${who}done: lead ${leadId} qualified into contact ${p.d365Id}`;
		}
		p.gone = 'merged';
		return `${who}done: lead ${leadId} qualified (no contact found)`;
	}
}

const D365_COLUMN: Record<string, string> = {
	firstName: 'firstname',
	lastName: 'lastname',
	phone: 'telephone1',
	jobTitle: 'jobtitle',
	email: 'emailaddress1',
};

function personValue(edit: PersonEdit, person: number, seq: number, tag: string): string | null {
	switch (edit.field) {
		case 'firstName':
			return `${FIRST_NAMES[person]}${seq}${tag}`;
		case 'lastName':
			return `${LAST_NAMES[person]}${seq}${tag}`;
		case 'phone':
			return edit.clear ? null : `+1 555 03${String(seq).padStart(3, '0')}`;
		case 'email':
			return `p${person}.s${seq}${tag}@model.test`;
		default:
			return null;
	}
}

export function parseLink(value: unknown): { entity: PersonKind; id: string } | undefined {
	const m = /^(lead|contact):([0-9a-f-]{36})$/i.exec(String(value ?? '').trim());
	return m ? { entity: m[1].toLowerCase() as PersonKind, id: m[2].toLowerCase() } : undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `D365 Account ID` field's value as stored (it may hold a marker such as `deleted:<guid>`). */
function rawAccountLink(account: IDataObject): string | null {
	const field = ((account.customFields as IDataObject[] | undefined) ?? []).find((f) => f.label === 'D365 Account ID');
	return canon(field?.value)?.toLowerCase() ?? null;
}

/** The Dynamics account id an ActiveCampaign account is linked to (null when the field holds no GUID). */
function accountLink(account: IDataObject): string | null {
	const value = rawAccountLink(account);
	return value && GUID.test(value) ? value : null;
}

/** Write requests since the last stats reset: ActiveCampaign POST/PUT/PATCH/DELETE; Dataverse the same ($batch and *Multiple included) but the token endpoint. */
async function writeCount(world: World): Promise<WriteCount> {
	const routes: Record<string, number> = {};
	const count = async (side: Side) => {
		const stats = await world.must<{ routes: Record<string, { count: number }> }>(side, 'GET', '/stats');
		let n = 0;
		for (const [route, entry] of Object.entries(stats.routes)) {
			if (!/^(POST|PUT|PATCH|DELETE) /.test(route) || /oauth2|\(reads\)$/.test(route)) continue;
			n += entry.count;
			routes[`${side === 'ac' ? 'ActiveCampaign' : 'Dynamics'} ${route}`] = entry.count;
		}
		return n;
	};
	return { ac: await count('ac'), d365: await count('d365'), routes };
}

/** Every output item of every node of one execution, each with the input item it is paired with. */
export function collectOutputs(run: IRun, cycle: number, runIndex: number): OutputRecord[] {
	const out: OutputRecord[] = [];
	const runData = run.data.resultData.runData;
	for (const [node, tasks] of Object.entries(runData)) {
		tasks.forEach((task) => {
			const source = task.source?.[0];
			const inputs = source ? runData[source.previousNode]?.[source.previousNodeRun ?? 0]?.data?.main?.[source.previousNodeOutput ?? 0] : undefined;
			(task.data?.main ?? []).forEach((items, output) => {
				for (const item of items ?? []) {
					const paired = Array.isArray(item.pairedItem) ? item.pairedItem[0] : item.pairedItem;
					const inputIndex = typeof paired === 'number' ? paired : paired?.item;
					out.push({ cycle, run: runIndex, node, output, json: item.json, input: inputIndex === undefined ? undefined : inputs?.[inputIndex]?.json });
				}
			});
		});
	}
	return out;
}

export async function readFinalState(world: World): Promise<FinalState> {
	const sim = world.sandbox.ac.simulator;
	const acContacts: AcContactState[] = [];
	for (const contact of sim.state.contacts.values()) {
		const detail = sim.contactDetail(contact.id);
		if (!detail) continue;
		acContacts.push({
			id: String(contact.id),
			email: contact.email,
			firstName: contact.firstName,
			lastName: contact.lastName,
			phone: contact.phone,
			account: detail.account ? { id: detail.account.id, name: detail.account.name, jobTitle: detail.account.jobTitle } : null,
			tags: detail.tags,
			rawLink: canon(detail.fields.D365_RECORD_ID)?.toLowerCase() ?? null,
			link: parseLink(detail.fields.D365_RECORD_ID) ? canon(detail.fields.D365_RECORD_ID)!.toLowerCase() : null,
			udate: contact.udate,
		});
	}
	const { accounts } = await world.must<{ accounts: IDataObject[] }>('ac', 'GET', '/state/accounts');
	const acAccounts: AcAccountState[] = accounts.map((a) => ({
		id: String(a.id),
		name: String(a.name),
		accountUrl: canon(a.accountUrl),
		phone: canon(((a.customFields as IDataObject[] | undefined) ?? []).find((f) => f.label === 'Phone Number')?.value),
		rawLink: rawAccountLink(a),
		link: accountLink(a),
		updated: String(a.updatedTimestamp),
	}));
	const d365 = { contact: [] as D365Row[], lead: [] as D365Row[], account: [] as D365Row[] };
	for (const table of ['contact', 'lead', 'account'] as const) {
		d365[table] = (await world.must<{ value: D365Row[] }>('d365', 'GET', `/state/${SET[table]}`)).value;
	}
	return { acContacts, acAccounts, d365 };
}

export { targetKey };
