import { canonical, sameValue } from '../../../nodes/shared/sync/canonical';
import {
	advanceCursor,
	readCursor,
	readFrom,
	selectChanges,
	writeCursor,
	type ChangedRecord,
} from '../../../nodes/shared/sync/cursor';
import { precedenceAllows } from '../../../nodes/shared/sync/decide';
import {
	formatContactLink,
	formatState,
	parseContactLink,
	parseState,
	stateHash,
} from '../../../nodes/shared/sync/state';

describe('canonical values', () => {
	it.each([
		[null, null],
		[undefined, null],
		['', null],
		['  ', null],
		[100, '100'],
		['100', '100'],
		['100.50', '100.5'],
		[0.1 + 0.2, '0.3'],
		[true, 'true'],
		['||b||a||', '["a","b"]'],
		[['a', 'b'], '["a","b"]'],
		[['b', 'a', 'a'], '["a","b"]'],
		['2024-05-01T10:00:00-05:00', '2024-05-01T15:00:00Z'],
		['2024-05-01T15:00:00.000Z', '2024-05-01T15:00:00Z'],
		['2024-05-01', '2024-05-01'],
		['007', '007'],
		[' Maria ', 'Maria'],
	])('%p → %p', (input, expected) => {
		expect(canonical(input)).toBe(expected);
	});

	it('compares across encodings', () => {
		expect(sameValue('||x||y||', ['y', 'x'])).toBe(true);
		expect(sameValue('Smith', 'smith')).toBe(false);
	});
});

describe('state hash and stored state', () => {
	it('is independent of encoding and field order, and dependent on values and field names', () => {
		const a = stateHash({ email: 'A@B.com', score: '10', tags: '||x||y||' }, ['score', 'email', 'tags']);
		const b = stateHash({ email: 'a@b.com', score: 10, tags: ['y', 'x'], extra: 'ignored' }, ['email', 'tags', 'score']);
		expect(a).toBe(b);
		expect(a).toMatch(/^[0-9a-f]{16}$/);
		expect(stateHash({ email: 'a@b.com', score: 11 }, ['email', 'score'])).not.toBe(
			stateHash({ email: 'a@b.com', score: 10 }, ['email', 'score']),
		);
		expect(stateHash({ x: 1 }, ['x'])).not.toBe(stateHash({ y: 1 }, ['y']));
	});

	it('round-trips the state and link fields and rejects garbage', () => {
		const state = { acHash: '0123456789abcdef', d365Hash: 'fedcba9876543210' };
		expect(parseState(formatState(state))).toEqual(state);
		expect(parseState('v2:x:y')).toBeUndefined();
		expect(parseState(undefined)).toBeUndefined();
		const link = { entity: 'contact' as const, id: '5D3F0C9A-1B2C-4D5E-8F90-123456789ABC' };
		expect(parseContactLink(formatContactLink(link))).toEqual({ entity: 'contact', id: link.id.toLowerCase() });
		expect(parseContactLink('account:5d3f0c9a-1b2c-4d5e-8f90-123456789abc')).toBeUndefined();
		expect(parseContactLink('lead:not-a-guid')).toBeUndefined();
	});
});

describe('lead/contact precedence', () => {
	it('applies lead/contact precedence', () => {
		expect(precedenceAllows('lead', 'contact', 'contact')).toBe(false);
		expect(precedenceAllows('contact', 'lead', 'contact')).toBe(true);
		expect(precedenceAllows('lead', 'lead', 'contact')).toBe(true);
		expect(precedenceAllows('lead', undefined, 'contact')).toBe(true);
		expect(precedenceAllows('lead', 'contact', 'lead')).toBe(true);
	});
});

describe('change cursor', () => {
	const overlap = 5 * 60_000;
	const rec = (id: string, version: string, modifiedAt: string, createdAt?: string): ChangedRecord => ({
		id,
		version,
		modifiedAt,
		createdAt,
	});

	it('emits every change once across overlapping reads, including same-second changes and changes during a read', () => {
		// Poll 1 starts at 10:00:00 and reads from 09:55:00.
		const staticData = {};
		let cursor = readCursor(staticData);
		expect(cursor).toBeUndefined();
		const first = [rec('a', '1', '2026-01-01T09:58:00Z', '2026-01-01T09:58:00Z'), rec('b', '7', '2026-01-01T09:59:59Z', '2026-01-01T08:00:00Z')];
		const out1 = selectChanges(first, cursor, '2026-01-01T09:55:00Z');
		expect(out1.map((c) => [c.record.id, c.kind])).toEqual([
			['a', 'created'],
			['b', 'updated'],
		]);
		cursor = advanceCursor(cursor, first, '2026-01-01T10:00:00Z', overlap);
		writeCursor(staticData, cursor);
		cursor = readCursor(staticData)!;
		expect(readFrom(cursor, overlap)).toBe('2026-01-01T09:55:00.000Z');

		// Poll 2: 'b' was written again in the same second as before (new version), 'c' was created during poll 1,
		// 'a' comes back unchanged through the overlap.
		const second = [
			rec('a', '1', '2026-01-01T09:58:00Z', '2026-01-01T09:58:00Z'),
			rec('b', '8', '2026-01-01T09:59:59Z', '2026-01-01T08:00:00Z'),
			rec('c', '1', '2026-01-01T09:59:59Z', '2026-01-01T09:59:59Z'),
			rec('a', '2', '2026-01-01T10:00:30Z', '2026-01-01T09:58:00Z'),
		];
		const out2 = selectChanges(second, cursor, readFrom(cursor, overlap));
		expect(out2.map((c) => [c.record.id, c.record.version, c.kind])).toEqual([
			['b', '8', 'updated'],
			['c', '1', 'created'],
			['a', '2', 'updated'],
		]);
		cursor = advanceCursor(cursor, out2.map((c) => c.record), '2026-01-01T10:01:00Z', overlap);

		// Poll 3 sees nothing new.
		expect(selectChanges(second.slice(1), cursor, readFrom(cursor, overlap))).toEqual([]);
	});

	it('ages seen entries out of the overlap window', () => {
		let cursor = advanceCursor(undefined, [rec('old', '1', '2026-01-01T09:00:00Z')], '2026-01-01T09:01:00Z', overlap);
		expect(Object.keys(cursor.seen)).toEqual(['old']);
		cursor = advanceCursor(cursor, [], '2026-01-01T10:00:00Z', overlap);
		expect(cursor.seen).toEqual({});
	});

	it('continues a partial backlog from the last emitted record, never moving backwards', () => {
		const emitted = [rec('x', '1', '2026-01-01T08:00:00Z'), rec('y', '1', '2026-01-01T08:30:00Z')];
		const cursor = advanceCursor(undefined, emitted, '2026-01-01T10:00:00Z', overlap, false);
		expect(cursor.watermark).toBe('2026-01-01T08:30:00Z');
		const later = advanceCursor({ watermark: '2026-01-01T09:00:00Z', seen: {} }, emitted, '2026-01-01T10:00:00Z', overlap, false);
		expect(later.watermark).toBe('2026-01-01T09:00:00Z');
		// A read cut short before emitting anything does not skip the backlog.
		const stuck = advanceCursor({ watermark: '2026-01-01T07:00:00Z', seen: {} }, [], '2026-01-01T10:00:00Z', overlap, false);
		expect(stuck.watermark).toBe('2026-01-01T07:00:00Z');
	});
});
