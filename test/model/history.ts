/**
 * Histories: what a person does on either side between Scheduled Sync cycles, generated with fast-check. Events name
 * people and companies by number ("person 1", "company 0"); the runner resolves them to the record on the side the
 * event happens, at the moment it happens (an event on a side where that record does not exist yet is logged as
 * "n/a" and does nothing). Values are made from the event's position in the history, so every edit writes a value
 * no other edit writes.
 */
import fc from 'fast-check';

import type { ConflictPolicy, DeletePolicy, Policies, Side } from './world';

export const MAX_PEOPLE = 3;
export const MAX_COMPANIES = 2;

export type PersonField = 'firstName' | 'lastName' | 'phone' | 'jobTitle' | 'email' | 'account';
export type CompanyField = 'name' | 'website' | 'phone';
export type PersonKind = 'contact' | 'lead';

export const PERSON_FIELDS: PersonField[] = ['firstName', 'lastName', 'phone', 'jobTitle', 'email', 'account'];
export const COMPANY_FIELDS: CompanyField[] = ['name', 'website', 'phone'];

export interface PersonEdit {
	field: PersonField;
	/** Clear the field instead of setting a new value (phone and job title only). */
	clear?: boolean;
	/** For `account`: which company to link (contacts: must exist on that side; leads: its name). */
	company?: number;
}

export type ModelEvent =
	| {
			kind: 'createPerson';
			person: number;
			/** Both: the same person (same email) entered on each side independently, with different names. */
			sides: Side[];
			as: PersonKind;
			company?: number;
			withPhone: boolean;
			withJobTitle: boolean;
	  }
	| { kind: 'createCompany'; company: number; side: Side; withWebsite: boolean; withPhone: boolean }
	| { kind: 'editPerson'; person: number; side: Side; edit: PersonEdit }
	/** Edits of one person on both sides before the next sync: the same field or two different ones. */
	| { kind: 'editBoth'; person: number; d365: PersonEdit; ac: PersonEdit; acFirst: boolean }
	| { kind: 'editCompany'; company: number; side: Side; field: CompanyField; clear?: boolean }
	| { kind: 'deletePerson'; person: number }
	| { kind: 'deleteCompany'; company: number }
	/** A Dynamics lead with the same email as this person's Dynamics contact (lead/contact precedence). */
	| { kind: 'shadowLead'; person: number }
	| { kind: 'merge'; target: number; subordinate: number }
	| { kind: 'qualify'; person: number };

export interface Faults {
	/** The profiles these faults come from (for the printed history). */
	profiles?: string[];
	/** Probabilistic faults of the sandbox core (`PUT /__sandbox/faults`); 429s carry `Retry-After: retryAfterSeconds`. */
	ac?: { rate429: number; rate5xx: number; rateReset: number; routePattern: string; seed: number; retryAfterSeconds?: number };
	d365?: { rate429: number; rate5xx: number; routePattern: string; seed: number; retryAfterSeconds?: number };
	/** Dataverse scripted faults: `lose` = applied, answer lost; `throttle` = 429 with the given Retry-After. */
	scripted?: Array<{ match: string; fault: 'lose' | 'throttle'; times: number; retryAfter?: string }>;
}

export interface Batch {
	events: ModelEvent[];
	/** Two Scheduled Sync executions at once for this batch's cycle. */
	overlap: boolean;
	/** Faults during this batch's cycle (switched off after it). */
	faults?: Faults;
}

export interface History {
	policies: Policies;
	batches: Batch[];
}

/** What the Dataverse sandbox offers beyond the basics (probed once per test file). */
export interface Capabilities {
	merge: boolean;
	qualify: boolean;
}

// ------------------------------------------------------------------------------------------------ arbitraries

const person = fc.integer({ min: 0, max: MAX_PEOPLE - 1 });
const company = fc.integer({ min: 0, max: MAX_COMPANIES - 1 });
const side = fc.constantFrom<Side>('d365', 'ac');

const personEdit: fc.Arbitrary<PersonEdit> = fc.oneof(
	{ weight: 3, arbitrary: fc.constantFrom<PersonField>('firstName', 'lastName', 'email').map((field): PersonEdit => ({ field })) },
	{
		weight: 3,
		arbitrary: fc.record({
			field: fc.constantFrom<PersonField>('phone', 'jobTitle'),
			clear: fc.integer({ min: 0, max: 5 }).map((n) => n === 5),
		}),
	},
	{ weight: 2, arbitrary: company.map((c): PersonEdit => ({ field: 'account', company: c })) },
);

/** The same field edited on the other side, to another value. */
function sameField(edit: PersonEdit): PersonEdit {
	return edit.field === 'account' ? { field: 'account', company: ((edit.company ?? 0) + 1) % MAX_COMPANIES } : { field: edit.field };
}

const createPerson = fc.record({
	kind: fc.constant('createPerson' as const),
	person,
	sides: fc.oneof({ weight: 3, arbitrary: side.map((s) => [s]) }, { weight: 1, arbitrary: fc.constant<Side[]>(['d365', 'ac']) }),
	as: fc.constantFrom<PersonKind>('contact', 'lead'),
	company: fc.option(company, { nil: undefined, freq: 4 }),
	withPhone: fc.boolean(),
	withJobTitle: fc.boolean(),
});

const createCompany = fc.record({
	kind: fc.constant('createCompany' as const),
	company,
	side,
	withWebsite: fc.boolean(),
	withPhone: fc.boolean(),
});

/** The people and companies a history starts with (in its first batch, before its other events). */
const setup: fc.Arbitrary<ModelEvent[]> = fc.array(fc.oneof({ weight: 2, arbitrary: createPerson }, { weight: 1, arbitrary: createCompany }), {
	minLength: 1,
	maxLength: 4,
});

function events(): fc.Arbitrary<ModelEvent> {
	const arbitraries: Array<fc.WeightedArbitrary<ModelEvent>> = [
		{ weight: 3, arbitrary: createPerson },
		{ weight: 2, arbitrary: createCompany },
		{ weight: 7, arbitrary: fc.record({ kind: fc.constant('editPerson' as const), person, side, edit: personEdit }) },
		{
			weight: 4,
			arbitrary: fc
				.record({ person, d365: personEdit, ac: personEdit, acFirst: fc.boolean(), same: fc.boolean() })
				.map(({ same, ...e }) => ({ kind: 'editBoth' as const, ...e, ac: same ? sameField(e.d365) : e.ac })),
		},
		{
			weight: 3,
			arbitrary: fc.record({
				kind: fc.constant('editCompany' as const),
				company,
				side,
				field: fc.constantFrom<CompanyField>('name', 'website', 'phone'),
				clear: fc.integer({ min: 0, max: 5 }).map((n) => n === 5),
			}),
		},
		{ weight: 2, arbitrary: fc.record({ kind: fc.constant('deletePerson' as const), person }) },
		{ weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteCompany' as const), company }) },
		{ weight: 1, arbitrary: fc.record({ kind: fc.constant('shadowLead' as const), person }) },
	];
	// Generated whether or not the sandbox can do them (the runner logs them as n/a where it cannot): a seed and path
	// then replay the same history before and after the sandbox gains the endpoints.
	arbitraries.push(
		{
			weight: 1,
			arbitrary: fc
				.record({ target: person, subordinate: person })
				.filter((m) => m.target !== m.subordinate)
				.map((m) => ({ kind: 'merge' as const, ...m })),
		},
		{ weight: 1, arbitrary: fc.record({ kind: fc.constant('qualify' as const), person }) },
	);
	return fc.oneof(...arbitraries);
}

/**
 * Faults for one cycle, as a few profiles. Injected 429s carry Retry-After: 0 and the rates stay low enough that a
 * retried request rarely fails six times in a row: the nodes' own backoff is real time, and a history must stay cheap.
 */
const FAULT_PROFILES: Record<string, Faults> = {
	'ActiveCampaign throttles writes': { ac: { rate429: 0.3, rate5xx: 0, rateReset: 0, routePattern: '^(POST|PUT|DELETE) ', seed: 0 } },
	'ActiveCampaign write errors': { ac: { rate429: 0, rate5xx: 0.2, rateReset: 0, routePattern: '^(POST|PUT|DELETE) ', seed: 0 } },
	'ActiveCampaign connection resets on writes': { ac: { rate429: 0, rate5xx: 0, rateReset: 0.15, routePattern: '^(POST|PUT|DELETE) ', seed: 0 } },
	// Creating an account is not repeated after a 5xx (it may have been applied): the item fails at once.
	'ActiveCampaign account creation fails': { ac: { rate429: 0, rate5xx: 0.5, rateReset: 0, routePattern: '^POST /api/3/accounts$', seed: 0 } },
	'Dynamics throttles writes': { d365: { rate429: 0.3, rate5xx: 0, routePattern: '^(POST|PATCH|DELETE) ', seed: 0 } },
	'Dynamics write errors': { d365: { rate429: 0, rate5xx: 0.2, routePattern: '^(POST|PATCH|DELETE) ', seed: 0 } },
	'Dynamics loses the answer to a $batch': { scripted: [{ match: '^POST /api/data/v9.2/\\$batch', fault: 'lose', times: 1 }] },
	'Dynamics loses the answer to a write': { scripted: [{ match: '^(POST|PATCH) /api/data/v9.2/(contacts|leads|accounts)', fault: 'lose', times: 1 }] },
	// Throttled for longer than a node waits (60 s): the write fails at once, and the record must be tried again later.
	'ActiveCampaign throttles writes for a minute': {
		ac: { rate429: 0.3, rate5xx: 0, rateReset: 0, routePattern: '^(POST|PUT|DELETE) ', seed: 0, retryAfterSeconds: 61 },
	},
	'Dynamics throttles a write for a minute': {
		scripted: [{ match: '^(POST /api/data/v9.2/\\$batch|PATCH |POST /api/data/v9.2/(contacts|leads|accounts))', fault: 'throttle', times: 1, retryAfter: '61' }],
	},
};

const profileNames = (side: 'ActiveCampaign' | 'Dynamics') => Object.keys(FAULT_PROFILES).filter((n) => n.startsWith(side));

/** At most one profile per side (two on one side would widen each other's routes). */
const faults: fc.Arbitrary<Faults> = fc
	.record({
		ac: fc.option(fc.constantFrom(...profileNames('ActiveCampaign')), { nil: undefined, freq: 2 }),
		d365: fc.option(fc.constantFrom(...profileNames('Dynamics')), { nil: undefined, freq: 2 }),
		seed: fc.integer({ min: 1, max: 10_000 }),
	})
	.filter(({ ac, d365 }) => ac !== undefined || d365 !== undefined)
	.map(({ ac, d365, seed }) => {
		const profiles = [ac, d365].filter((p): p is string => p !== undefined);
		const f: Faults = { profiles };
		for (const name of profiles) {
			const p = FAULT_PROFILES[name];
			if (p.ac) f.ac = { ...p.ac, seed };
			if (p.d365) f.d365 = { ...p.d365, seed };
			if (p.scripted) f.scripted = p.scripted;
		}
		return f;
	});

const batch: fc.Arbitrary<Batch> =
	fc.record({
		events: fc.array(events(), { minLength: 0, maxLength: 6 }),
		// Integers shrink towards 0: the rare case is the high end, so a shrunk history drops it when it can.
		overlap: fc.integer({ min: 0, max: 9 }).map((n) => n === 9),
		faults: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: faults }),
	});

const policies: fc.Arbitrary<Policies> = fc.record(
	{
		conflict: fc.constantFrom<ConflictPolicy>('dynamicsWins', 'activeCampaignWins', 'newestWins'),
		deletePolicy: fc.constantFrom<DeletePolicy>('keep', 'flag', 'propagate'),
		restricted: fc.record({
			// Not lastName: Dynamics requires it, so the Field Map refuses a "to ActiveCampaign only" last name.
			field: fc.constantFrom('firstName', 'phone', 'jobTitle', 'website') as fc.Arbitrary<NonNullable<Policies['restricted']>['field']>,
			direction: fc.constantFrom('toActiveCampaign', 'toDynamics') as fc.Arbitrary<NonNullable<Policies['restricted']>['direction']>,
		}),
	},
	{ requiredKeys: ['conflict', 'deletePolicy'] },
);

/** A history: policies and 1–3 batches of events, each batch followed by one Scheduled Sync cycle. */
export function histories(): fc.Arbitrary<History> {
	return fc
		.record({ policies, setup, batches: fc.array(batch, { minLength: 1, maxLength: 3 }) })
		.map(({ policies: p, setup: first, batches }) => {
			const h: History = { policies: p, batches: batches.map((b, i) => (i === 0 ? { ...b, events: [...first, ...b.events] } : b)) };
			return Object.assign(h, { [fc.toStringMethod]: () => formatHistory(h) });
		});
}

// ------------------------------------------------------------------------------------------------ printing

const sideName = (s: Side) => (s === 'd365' ? 'Dynamics' : 'ActiveCampaign');

function editText(edit: PersonEdit): string {
	if (edit.field === 'account') return `account → company ${edit.company}`;
	return edit.clear ? `${edit.field} cleared` : `${edit.field}`;
}

export function formatEvent(event: ModelEvent): string {
	switch (event.kind) {
		case 'createPerson':
			return `create person ${event.person} as ${event.as} in ${event.sides.map(sideName).join(' and in ')}${
				event.company !== undefined ? `, company ${event.company}` : ''
			}${event.withPhone ? ', with phone' : ''}${event.withJobTitle ? ', with job title' : ''}`;
		case 'createCompany':
			return `create company ${event.company} in ${sideName(event.side)}${event.withWebsite ? ', with website' : ''}${event.withPhone ? ', with phone' : ''}`;
		case 'editPerson':
			return `edit person ${event.person} in ${sideName(event.side)}: ${editText(event.edit)}`;
		case 'editBoth': {
			const d = `Dynamics: ${editText(event.d365)}`;
			const a = `ActiveCampaign: ${editText(event.ac)}`;
			return `edit person ${event.person} on both sides: ${event.acFirst ? `${a}; then ${d}` : `${d}; then ${a}`}`;
		}
		case 'editCompany':
			return `edit company ${event.company} in ${sideName(event.side)}: ${event.field}${event.clear && event.field !== 'name' ? ' cleared' : ''}`;
		case 'deletePerson':
			return `delete person ${event.person} in Dynamics`;
		case 'deleteCompany':
			return `delete company ${event.company} in Dynamics`;
		case 'shadowLead':
			return `add a Dynamics lead with person ${event.person}'s email (a contact takes precedence)`;
		case 'merge':
			return `merge person ${event.subordinate} into person ${event.target} in Dynamics`;
		case 'qualify':
			return `qualify person ${event.person}'s lead into a contact in Dynamics`;
	}
}

export function formatFaults(f: Faults): string {
	if (f.profiles?.length) return f.profiles.join(' + ');
	const parts: string[] = [];
	if (f.ac) parts.push(`ActiveCampaign 429 ${f.ac.rate429}, 5xx ${f.ac.rate5xx}, reset ${f.ac.rateReset} on /${f.ac.routePattern}/ (seed ${f.ac.seed})`);
	if (f.d365) parts.push(`Dynamics 429 ${f.d365.rate429}, 5xx ${f.d365.rate5xx} on /${f.d365.routePattern}/ (seed ${f.d365.seed})`);
	for (const s of f.scripted ?? []) parts.push(`Dynamics ${s.fault} ×${s.times} /${s.match}/`);
	return parts.join('; ');
}

export function formatPolicies(p: Policies): string {
	return `conflict ${p.conflict}, delete ${p.deletePolicy}${p.restricted ? `, ${p.restricted.field} only ${p.restricted.direction}` : ''}`;
}

export function formatHistory(h: History): string {
	const lines = [`policies: ${formatPolicies(h.policies)}`];
	h.batches.forEach((b, i) => {
		lines.push(`batch ${i + 1}${b.overlap ? ' (its cycle: two executions at once)' : ''}${b.faults ? ` (faults: ${formatFaults(b.faults)})` : ''}`);
		for (const e of b.events) lines.push(`  ${formatEvent(e)}`);
	});
	return lines.join('\n');
}
