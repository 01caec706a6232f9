import {
	bookWrites,
	deadLetterReport,
	dueRetries,
	recordFailure,
	retryCounts,
	retryStore,
	RETRY_POLICY,
	sourceOf,
} from '../../../nodes/shared/sync/retries';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const lead = { system: 'dynamics' as const, kind: 'lead', id: '0f8fad5b-d9cb-469f-a165-70867728950e' };

describe('the retry queue', () => {
	it('names the source record of a sync item or of a write step\'s output', () => {
		expect(sourceOf({ entity: 'lead', source: { system: 'activecampaign', id: '42' } })).toEqual({ system: 'activecampaign', kind: 'contact', id: '42' });
		expect(sourceOf({ entity: 'account', source: { system: 'activecampaign', id: 7 } })).toEqual({ system: 'activecampaign', kind: 'account', id: '7' });
		expect(sourceOf({ entity: 'lead', source: { system: 'dynamics', id: lead.id } })).toEqual(lead);
		expect(sourceOf({ entity: 'lead', source: {} })).toBeUndefined();
		expect(sourceOf({ email: 'x@y.z' })).toBeUndefined();
	});

	it('retries on the next run, then with growing waits, and makes a dead letter of the last failure', () => {
		const store = retryStore({});
		let entry = recordFailure(store, lead, 'Service Unavailable', 'Write leads', T0);
		expect(entry).toMatchObject({ attempts: 1, dead: false, nextAt: new Date(T0).toISOString() });
		expect(dueRetries(store, 'dynamics', ['lead'], T0)).toHaveLength(1);
		expect(dueRetries(store, 'dynamics', ['contact'], T0)).toHaveLength(0);
		expect(dueRetries(store, 'activecampaign', ['lead'], T0)).toHaveLength(0);
		entry = recordFailure(store, lead, 'Service Unavailable', 'Write leads', T0);
		expect(Date.parse(entry.nextAt) - T0).toBe(RETRY_POLICY.baseDelayMs);
		expect(dueRetries(store, 'dynamics', ['lead'], T0)).toHaveLength(0);
		entry = recordFailure(store, lead, 'Service Unavailable', 'Write leads', T0);
		expect(Date.parse(entry.nextAt) - T0).toBe(RETRY_POLICY.baseDelayMs * 3);
		for (let i = entry.attempts; i < RETRY_POLICY.maxAttempts; i++) entry = recordFailure(store, lead, 'Bad Request', 'Write leads', T0);
		expect(entry).toMatchObject({ attempts: RETRY_POLICY.maxAttempts, dead: true, lastError: 'Bad Request', firstFailedAt: new Date(T0).toISOString() });
		expect(Date.parse(entry.nextAt) - T0).toBe(RETRY_POLICY.deadLetterDelayMs);
		expect(retryCounts(store)).toEqual({ pending: 0, deadLetters: 1 });
		expect(deadLetterReport(entry).message).toBe(`Dead letter: dynamics lead ${lead.id} failed ${RETRY_POLICY.maxAttempts} times`);
	});

	it('books a write step\'s run: failures queued, successes forgotten, dead letters of other records reported', () => {
		const store = retryStore({});
		const item = (id: string) => ({ entity: 'contact', source: { system: 'activecampaign', id } });
		for (let i = 0; i < RETRY_POLICY.maxAttempts; i++) recordFailure(store, { system: 'activecampaign', kind: 'contact', id: '9' }, 'x', 'Write', T0);
		const first = bookWrites(store, 'Write', [item('1'), item('2')], [{ itemIndex: 0 }, { itemIndex: 1, error: { message: 'Conflict', description: 'try later' } }], T0);
		expect(first.notes.get(1)).toMatchObject({ attempts: 1, lastError: 'Conflict — try later' });
		expect(first.unreported.map((e) => e.id)).toEqual(['9']);
		expect(retryCounts(store)).toEqual({ pending: 1, deadLetters: 1 });
		const second = bookWrites(store, 'Write', [item('2'), item('9')], [{ itemIndex: 0 }, { itemIndex: 1 }], T0);
		expect(second.unreported).toEqual([]);
		expect(retryCounts(store)).toEqual({ pending: 0, deadLetters: 0 });
	});

	it('stays bounded, dropping the oldest failures first', () => {
		const store = retryStore({});
		for (let i = 0; i < RETRY_POLICY.maxEntries + 10; i++) {
			recordFailure(store, { system: 'activecampaign', kind: 'contact', id: String(i) }, 'x', 'Write', T0 + i);
		}
		expect(Object.keys(store)).toHaveLength(RETRY_POLICY.maxEntries);
		expect(store['activecampaign:contact:0']).toBeUndefined();
		expect(store[`activecampaign:contact:${RETRY_POLICY.maxEntries + 9}`]).toBeDefined();
	});
});
