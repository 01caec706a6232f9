import {
	accountDigests,
	baseEntries,
	codesOf,
	fieldCodes,
	fieldHash,
	formatFieldState,
	MAX_STATE_FIELDS,
	mergeStateText,
	NOT_HELD,
	pairKey,
	parseFieldState,
	STATE_MAX_LENGTH,
	stateVersion,
	withoutVersion,
	type FieldStates,
} from '../../../nodes/shared/sync/fieldState';
import { SKIP_REASONS } from '../../../nodes/shared/sync/decide';
import { planField, planFields, planStep, resolveMatch, sourceUnchanged, sourceWins, type PlanInput } from '../../../nodes/shared/sync/planner';
import { formatState } from '../../../nodes/shared/sync/state';
import type { SyncField } from '../../../nodes/shared/sync/syncItem';

const h = (value: unknown) => fieldHash(value);

function field(name: string, direction: SyncField['direction'] = 'both', source: unknown = 'new'): SyncField {
	return { key: pairKey(name, name.toLowerCase()), activeCampaign: name, dynamics: name.toLowerCase(), direction, source: h(source) };
}

describe('per-field state (v2)', () => {
	const keys = ['firstname|firstname', 'lastname|lastname', 'phone|telephone1'];

	it('round-trips entries, unknown sides included, and drops codes of fields the mapping no longer has', () => {
		const entries: FieldStates = new Map([
			[keys[0], { ac: h('Ann'), d365: h('Ann') }],
			[keys[1], { ac: null, d365: h('Lee') }],
		]);
		const text = formatFieldState(keys, entries);
		expect(text).toMatch(/^v24:/);
		expect(parseFieldState(text, keys)).toEqual(entries);
		expect(parseFieldState(text, [keys[0], 'email|emailaddress1'])).toEqual(new Map([[keys[0], entries.get(keys[0])]]));
		expect(parseFieldState('v1:0123456789abcdef:fedcba9876543210', keys)).toBeUndefined();
		expect(parseFieldState('v24:abc', keys)).toBeUndefined();
	});

	it('never exceeds the field size: narrower digests for many fields, an error past the maximum', () => {
		for (const n of [1, 10, 22, 23, 28, 29, MAX_STATE_FIELDS]) {
			const many = Array.from({ length: n }, (_, i) => `custom_${i}|new_col_${i}`);
			const entries: FieldStates = new Map(many.map((k) => [k, { ac: h(k), d365: h(`${k}!`) }]));
			const text = formatFieldState(many, entries);
			expect(text.length).toBeLessThanOrEqual(STATE_MAX_LENGTH);
			const back = parseFieldState(text, many)!;
			expect(back.size).toBe(n);
			for (const k of many) expect(h(k).startsWith(back.get(k)!.ac!)).toBe(true);
		}
		const tooMany = Array.from({ length: MAX_STATE_FIELDS + 1 }, (_, i) => `f${i}|c${i}`);
		expect(() => formatFieldState(tooMany, new Map(tooMany.map((k) => [k, { ac: 'AAAA', d365: 'AAAA' }])))).toThrow(/at most/);
	});

	it('gives every field of a mapping its own code', () => {
		const many = Array.from({ length: 5000 }, (_, i) => `k${i}|c${i}`);
		expect(new Set(fieldCodes(many).values()).size).toBe(5000);
	});

	it('reads a v1 state as per-field entries: a side whose whole hash is unchanged is unchanged on every field', () => {
		const stored = formatState({ acHash: 'aaaaaaaaaaaaaaaa', d365Hash: 'dddddddddddddddd' });
		const fields = [{ key: keys[0], source: h('Ann'), target: h('Anne') }];
		const targetSame = baseEntries(stored, keys, { sourceSide: 'ac', sourceWhole: 'xxxxxxxxxxxxxxxx', targetWhole: 'dddddddddddddddd', fields });
		expect(targetSame.get(keys[0])).toEqual({ ac: null, d365: h('Anne') });
		const sourceSame = baseEntries(stored, keys, { sourceSide: 'ac', sourceWhole: 'aaaaaaaaaaaaaaaa', targetWhole: 'zzzzzzzzzzzzzzzz', fields });
		expect(sourceSame.get(keys[0])).toEqual({ ac: h('Ann'), d365: null });
		expect(baseEntries(stored, keys, { sourceSide: 'ac', sourceWhole: 'x', targetWhole: 'y', fields }).size).toBe(0);
		expect(baseEntries(undefined, keys).size).toBe(0);
	});

	it('merges a step\'s decisions into the state stored now, keeping the other step\'s', () => {
		const base = formatFieldState(keys, new Map(keys.map((k) => [k, { ac: h('old'), d365: h('old') }])));
		// Step 1 (to ActiveCampaign) decided the first name and stored its state.
		const afterStep1 = formatFieldState(keys, new Map([...parseFieldState(base, keys)!, [keys[0], { ac: h('D'), d365: h('D') }]]));
		// Step 2 (to Dynamics) started from the old state and decided the phone.
		const step2 = formatFieldState(keys, new Map([...parseFieldState(base, keys)!, [keys[2], { ac: h('P'), d365: h('P') }]]));
		const merged = parseFieldState(mergeStateText(afterStep1, step2, codesOf(keys, [keys[2]]), base), keys)!;
		expect(merged.get(keys[0])).toEqual({ ac: h('D'), d365: h('D') });
		expect(merged.get(keys[2])).toEqual({ ac: h('P'), d365: h('P') });
		expect(merged.get(keys[1])).toEqual({ ac: h('old'), d365: h('old') });
		// Unchanged since the step read it: stored as given.
		expect(mergeStateText(base, step2, codesOf(keys, [keys[2]]), base)).toBe(step2);
		expect(mergeStateText('v1:0123456789abcdef:fedcba9876543210', step2, [], base)).toBe(step2);
	});

	it('carries the Dynamics row version it reflects: parsed, kept by the later of two merged states, dropped for another record', () => {
		const entries: FieldStates = new Map(keys.map((k) => [k, { ac: h('x'), d365: h('x') }]));
		const text = formatFieldState(keys, entries, 1_000_009);
		expect(text).toMatch(/~lfm1$/);
		expect(stateVersion(text)).toBe(1_000_009);
		expect(parseFieldState(text, keys)).toEqual(entries);
		expect(stateVersion(formatFieldState(keys, entries))).toBeUndefined();
		expect(parseFieldState(`${formatFieldState(keys, entries)}~NOT-A-VERSION`, keys)).toBeUndefined();
		const older = formatFieldState(keys, entries, 900);
		expect(stateVersion(mergeStateText(text, older, codesOf(keys, [keys[0]]), 'v24:'))).toBe(1_000_009);
		expect(stateVersion(mergeStateText(older, text, codesOf(keys, [keys[0]]), 'v24:'))).toBe(1_000_009);
		expect(withoutVersion(text)).toBe(formatFieldState(keys, entries));
		// Near the size limit the digests keep their width and the version is left out.
		const many = Array.from({ length: MAX_STATE_FIELDS }, (_, i) => `f${i}|c${i}`);
		const full = formatFieldState(many, new Map(many.map((k) => [k, { ac: h(k), d365: h(k) }])), 2 ** 40);
		expect(full.length).toBeLessThanOrEqual(STATE_MAX_LENGTH);
	});
});

describe('the write planner', () => {
	const first = field('firstName');
	const phone = field('phone');

	function input(overrides: Partial<PlanInput> = {}): PlanInput {
		return { direction: 'toActiveCampaign', policy: 'dynamicsWins', exists: true, base: new Map(), fields: [], ...overrides };
	}

	const entry = (ac: string, d365: string) => ({ ac: h(ac), d365: h(d365) });

	it('writes a field the source changed and the target did not; leaves a field only the target changed', () => {
		const base: FieldStates = new Map([
			[first.key, entry('Ann', 'Ann')],
			[phone.key, entry('1', '1')],
		]);
		const plan = planFields(
			input({
				base,
				fields: [
					planField({ ...first, source: h('Anna') }, 'Ann', 'Anna'),
					// Phone: Dynamics unchanged (1), ActiveCampaign changed to 2.
					planField({ ...phone, source: h('1') }, '2', '1'),
				],
			}),
		);
		expect(plan.write).toEqual([first.key]);
		expect(plan.decisions.get(phone.key)).toBe('unchanged');
		expect(plan.entries.get(first.key)).toEqual({ ac: h('Anna'), d365: h('Anna') });
		// The phone keeps its stored entry, so the other step still sees ActiveCampaign's change.
		expect(plan.entries.get(phone.key)).toEqual(entry('1', '1'));
		expect(plan.touched).toEqual([first.key]);
	});

	it("knows a contact's account by which account it is: a rename is no move, and states stored by name still read as unchanged", () => {
		const account: SyncField = { key: pairKey('accountName', 'parentcustomerid'), activeCampaign: 'accountName', dynamics: 'parentcustomerid', direction: 'both', source: '', accountLink: true };
		const northwind = '065cca38-fa0a-4a7e-9298-a84d43777f87';
		const contoso = 'd966d38f-f084-412b-96bf-1cbebaec1793';
		const before = accountDigests(northwind, 'Northwind');
		const renamed = accountDigests(northwind, 'Northwind Traders');
		expect(renamed.digest).toBe(before.digest);
		expect(accountDigests(contoso, 'Northwind').digest).not.toBe(before.digest);
		// Dynamics (the source) moved the contact to Contoso; ActiveCampaign only renamed Northwind: written, no conflict.
		const moved = planFields(
			input({
				policy: 'activeCampaignWins',
				base: new Map([[account.key, { ac: before.digest, d365: h(northwind) }]]),
				fields: [planField({ ...account, source: h(contoso) }, 'Northwind Traders', 'Contoso', { digests: { target: renamed.digest, targetAlt: renamed.alt, written: accountDigests(contoso, 'Contoso').digest } })],
			}),
		);
		expect(plan(moved)).toEqual({ write: [account.key], conflicts: [] });
		// A state stored before (the account by its name) still reads as unchanged on that side.
		const legacy = planFields(
			input({
				direction: 'toDynamics',
				base: new Map([[account.key, { ac: h('Northwind'), d365: h(northwind) }]]),
				fields: [planField({ ...account, source: before.digest, sourceAlt: before.alt }, northwind, northwind, { equal: true })],
			}),
		);
		expect(legacy.sourceChanged).toBe(false);
		expect(legacy.entries.get(account.key)).toEqual({ ac: before.digest, d365: h(northwind) });

		function plan(result: ReturnType<typeof planFields>) {
			return { write: result.write, conflicts: result.conflicts };
		}
	});

	it('settles a field both sides changed by the policy, field by field, and reports it', () => {
		const base: FieldStates = new Map([[first.key, entry('Ann', 'Ann')]]);
		const fields = [planField({ ...first, source: h('Anne') }, 'Annie', 'Anne')];
		const dyn = planFields(input({ base, fields, policy: 'dynamicsWins' }));
		expect(dyn.write).toEqual([first.key]);
		expect(dyn.conflicts).toEqual([{ activeCampaign: 'firstName', dynamics: 'firstname', winner: 'dynamics', policy: 'dynamicsWins' }]);
		const ac = planFields(input({ base, fields, policy: 'activeCampaignWins' }));
		expect(ac.write).toEqual([]);
		expect(ac.skipReason).toBe(SKIP_REASONS.conflictLost('activeCampaignWins', 'ActiveCampaign'));
		expect(ac.conflicts[0].winner).toBe('activeCampaign');
		// Settled: stored as if Dynamics's value had been synced, so the ActiveCampaign → Dynamics step carries "Annie"
		// without deciding again (and would even if this sync's own writes had made Dynamics the newer record).
		expect(ac.entries.get(first.key)).toEqual(entry('Anne', 'Anne'));
		const back = planFields(input({ direction: 'toDynamics', base: ac.entries, fields: [planField({ ...first, source: h('Annie') }, 'Anne', 'Annie')], policy: 'dynamicsWins' }));
		expect(back.write).toEqual([first.key]);
		expect(back.conflicts).toEqual([]);
	});

	it('records as in sync a field both sides changed to the same value', () => {
		const base: FieldStates = new Map([[first.key, entry('Ann', 'Ann')]]);
		const plan = planFields(input({ base, fields: [planField({ ...first, source: h('Bo') }, 'Bo', 'Bo')] }));
		expect(plan.write).toEqual([]);
		expect(plan.conflicts).toEqual([]);
		expect(plan.skipReason).toBe(SKIP_REASONS.noChanges);
		expect(plan.entries.get(first.key)).toEqual(entry('Bo', 'Bo'));
	});

	it('says "unchanged since last sync" when the source changed nothing', () => {
		const base: FieldStates = new Map([[first.key, entry('Ann', 'Ann')]]);
		const plan = planFields(input({ base, fields: [planField({ ...first, source: h('Ann') }, 'Annie', 'Ann')] }));
		expect(plan.skipReason).toBe(SKIP_REASONS.unchanged);
		expect(sourceUnchanged(base, [{ ...first, source: h('Ann') }], 'toActiveCampaign')).toBe(true);
		expect(sourceUnchanged(base, [{ ...first, source: h('X') }], 'toActiveCampaign')).toBe(false);
	});

	it('honours field directions: a field of the other direction is never written; a one-way field is written over a target edit', () => {
		const toDynamicsOnly = field('phone', 'toDynamics');
		const base: FieldStates = new Map([[toDynamicsOnly.key, entry('1', '1')]]);
		const plan = planFields(input({ base, fields: [planField({ ...toDynamicsOnly, source: h('2') }, '3', '2')] }));
		expect(plan.write).toEqual([]);
		expect(plan.decisions.get(toDynamicsOnly.key)).toBe('otherDirection');
		expect(plan.entries.get(toDynamicsOnly.key)).toEqual(entry('1', '1'));

		const toAcOnly = field('phone', 'toActiveCampaign');
		const oneWay = planFields(input({ base: new Map([[toAcOnly.key, entry('1', '1')]]), policy: 'activeCampaignWins', fields: [planField({ ...toAcOnly, source: h('2') }, '3', '2')] }));
		expect(oneWay.write).toEqual([toAcOnly.key]);
		expect(oneWay.conflicts).toEqual([]);
	});

	it('counts a field without a stored entry as empty on both sides: a set value is a change, an empty one never replaces a value', () => {
		const toDynamicsOnly = field('phone', 'toDynamics');
		// A new link: the other direction's field is left to the other step.
		const created = planFields(input({ exists: false, fields: [planField({ ...toDynamicsOnly, source: h('555') }, null, undefined), planField({ ...first, source: h('Ann') }, null, 'Ann')] }));
		expect(created.write).toEqual([first.key]);
		expect(created.entries.has(toDynamicsOnly.key)).toBe(false);
		// The other step: ActiveCampaign (its source) holds nothing for the phone, so Dynamics' phone stays.
		const back = planFields(input({ direction: 'toDynamics', base: created.entries, fields: [planField({ ...toDynamicsOnly, source: h(null) }, '555', null)] }));
		expect(back.write).toEqual([]);
		// A first link where ActiveCampaign already had a phone: it is ActiveCampaign's (the field's source) to carry.
		const set = planFields(input({ direction: 'toDynamics', fields: [planField({ ...toDynamicsOnly, source: h('777') }, '555', '777')] }));
		expect(set.write).toEqual([toDynamicsOnly.key]);
		// Both set before the first link, both ways: the policy decides; an empty side never wins.
		const both = planFields(input({ policy: 'activeCampaignWins', fields: [planField({ ...first, source: h('Ann') }, 'Anne', 'Ann')] }));
		expect(both.conflicts).toHaveLength(1);
		const emptyTarget = planFields(input({ policy: 'activeCampaignWins', fields: [planField({ ...first, source: h('Ann') }, null, 'Ann')] }));
		expect(emptyTarget.write).toEqual([first.key]);
		expect(emptyTarget.conflicts).toEqual([]);
	});

	it('never writes a value the target cannot hold, and keeps it to be carried once the target can hold it', () => {
		const job = field('jobTitle');
		const base: FieldStates = new Map([[job.key, entry('', '')]]);
		const plan = planFields(input({ base, fields: [planField({ ...job, source: h('CEO') }, null, 'CEO', { cannotHold: 'no account' })] }));
		expect(plan.write).toEqual([]);
		expect(plan.notWritten).toEqual([{ activeCampaign: 'jobTitle', dynamics: 'jobtitle', reason: 'no account' }]);
		// ActiveCampaign holds nothing there: its side is marked "not held", the Dynamics value still to be carried.
		expect(plan.entries.get(job.key)).toEqual({ ac: NOT_HELD, d365: h('CEO') });
		// The other direction then sees ActiveCampaign unchanged: the job title is not written back as empty.
		const back = planFields(input({ direction: 'toDynamics', base: plan.entries, fields: [planField({ ...job, source: h(null) }, 'CEO', null)] }));
		expect(back.write).toEqual([]);
		expect(back.skipReason).toBe(SKIP_REASONS.unchanged);
	});

	it('a value ActiveCampaign had no place for (NOT_HELD): carried once it can hold it; an edit made there since stands, or meets a later Dynamics edit as a conflict', () => {
		const job = field('jobTitle');
		const toAc = (base: FieldStates, ac: string | null, d365: string | null, policy: PlanInput['policy'] = 'dynamicsWins') =>
			planFields(input({ policy, base, fields: [planField({ ...job, source: h(d365) }, ac, d365)] }));
		const toD365 = (base: FieldStates, ac: string | null, d365: string | null, policy: PlanInput['policy'] = 'dynamicsWins') =>
			planFields(input({ policy, direction: 'toDynamics', base, fields: [planField({ ...job, source: h(ac) }, d365, ac)] }));
		// ActiveCampaign could not hold the contact's job title (no account); Dynamics held "Buyer".
		const pending: FieldStates = new Map([[job.key, { ac: NOT_HELD, d365: h('Buyer') }]]);
		// The contact gets an account and no job title: the Dynamics value goes onto the link; ActiveCampaign's empty
		// value is no edit for the other step.
		expect(toAc(pending, null, 'Buyer').write).toEqual([job.key]);
		expect(toD365(pending, null, 'Buyer').write).toEqual([]);
		// A person types a job title there: it stands over the older Dynamics value, under every policy, in both orders.
		for (const policy of ['dynamicsWins', 'activeCampaignWins', 'newestWins'] as const) {
			const first = toAc(pending, 'Director', 'Buyer', policy);
			expect(first.write).toEqual([]);
			expect(first.conflicts).toEqual([]);
			const then = toD365(first.entries, 'Director', 'Buyer', policy);
			expect(then.write).toEqual([job.key]);
			expect(then.conflicts).toEqual([]);
			expect(toD365(pending, 'Director', 'Buyer', policy).write).toEqual([job.key]);
		}
		// Dynamics held nothing then and a person set "6d" since, while another typed "5a" in ActiveCampaign: a conflict.
		const empty: FieldStates = new Map([[job.key, { ac: NOT_HELD, d365: h(null) }]]);
		const both = toAc(empty, '5a', '6d', 'dynamicsWins');
		expect(both.write).toEqual([job.key]);
		expect(both.conflicts).toEqual([{ activeCampaign: 'jobTitle', dynamics: 'jobtitle', winner: 'dynamics', policy: 'dynamicsWins' }]);
		// The marker survives the state text at every width.
		const text = formatFieldState([job.key], pending);
		expect(parseFieldState(text, [job.key])!.get(job.key)).toEqual({ ac: NOT_HELD, d365: h('Buyer').slice(0, Number(text[2])) });
	});

	it('newest change wins by the records\' modified times (a tie goes to Dynamics)', () => {
		const t = (s: string, tt: string) => sourceWins({ direction: 'toActiveCampaign', policy: 'newestWins', sourceModifiedAt: s, targetModifiedAt: tt });
		expect(t('2026-01-01T10:00:05Z', '2026-01-01T10:00:00Z')).toBe(true);
		expect(t('2026-01-01T09:00:00Z', '2026-01-01T10:00:00-05:00')).toBe(false);
		expect(t('2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z')).toBe(true);
		expect(sourceWins({ direction: 'toDynamics', policy: 'newestWins', sourceModifiedAt: '2026-01-01T10:00:00Z', targetModifiedAt: '2026-01-01T10:00:00Z' })).toBe(false);
	});

	it('never writes a Dynamics read older than the version the stored state reflects (an overlapping run synced a newer one)', () => {
		const keys = [first.key];
		const stored = formatFieldState(keys, new Map([[first.key, entry('Bo6a', 'Bo6a')]]), 1_000_010);
		const step = (dynamicsVersion: number) =>
			planStep({ direction: 'toActiveCampaign', policy: 'dynamicsWins', exists: true, fields: [planField({ ...first, source: h('Bo3') }, 'Bo6a', 'Bo3')], keys, stored, sourceWhole: '', dynamicsVersion });
		const stale = step(1_000_009);
		expect(stale.stale).toBe(true);
		expect(stale.plan.write).toEqual([]);
		expect(stale.plan.skipReason).toBe(SKIP_REASONS.staleRead);
		const fresh = step(1_000_012);
		expect(fresh.stale).toBeUndefined();
		expect(fresh.plan.write).toEqual([first.key]);
		expect(stateVersion(fresh.state)).toBe(1_000_012);
		// To Dynamics: after a write the state reflects at least the version after it (one above the one read).
		const written = planStep({ direction: 'toDynamics', policy: 'dynamicsWins', exists: true, fields: [planField({ ...first, source: h('New') }, 'Bo6a', 'New')], keys, stored, sourceWhole: '', dynamicsVersion: 1_000_020 });
		expect(written.plan.write).toEqual([first.key]);
		expect(stateVersion(written.state)).toBe(1_000_021);
	});

	it('matches in one order: link, then the named id, then the natural key', () => {
		expect(resolveMatch({ link: ['7', '8'], id: '3', natural: ['5'] })).toEqual({ target: '7', matchedBy: 'link', others: 1 });
		expect(resolveMatch({ link: [], id: '3', natural: ['5'] })).toEqual({ target: '3', matchedBy: 'id', others: 0 });
		expect(resolveMatch({ natural: ['5'], naturalKind: 'name' })).toEqual({ target: '5', matchedBy: 'name', others: 0 });
		expect(resolveMatch({})).toEqual({ others: 0 });
	});
});
