/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Throttling and failures: a 2,000-item write with 20 % injected 429s and 5 % 5xx accounts for every item, retries
 * honour Retry-After, connection resets are retried, concurrency stays at the x-ms-dop-hint (4), the service
 * protection limits are waited out, and a batch part that fails transiently is sent again.
 */
import type { IDataObject } from 'n8n-workflow';

import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365({ seed: 'empty', limits: false });
});
afterAll(async () => await t.close());

function people(n: number, prefix: string): IDataObject[] {
	return Array.from({ length: n }, (_, k) => ({ emailaddress1: `${prefix}.${k}@example.org`, lastname: `${prefix} ${k}`, firstname: 'Load' }));
}

async function contacts(prefix: string): Promise<IDataObject[]> {
	const state = await t.control<IDataObject[] | { value: IDataObject[] }>('GET', '/state/contacts');
	const rows = (Array.isArray(state) ? state : state.value) as IDataObject[];
	return rows.filter((r) => String(r.emailaddress1 ?? '').startsWith(`${prefix}.`));
}

const upsert = { resource: 'contact', operation: 'createOrUpdate', dataMode: 'autoMap', matchOn: 'column', matchColumn: 'emailaddress1', options: {} };

describe('throughput under faults and limits', () => {
	it('completes a 2,000-item write with 20 % 429s and 5 % 5xx, every item accounted for exactly once', async () => {
		await t.control('PUT', '/limits', { enabled: true, resetUsage: true, latencyMs: 20 });
		await t.control('PUT', '/faults', { rate429: 0.2, rate5xx: 0.05, retryAfterSeconds: 1, seed: 7 });
		await t.resetStats();
		const started = Date.now();
		const result = await t.run(upsert, people(2000, 'faulty'));
		const seconds = (Date.now() - started) / 1000;
		await t.control('DELETE', '/faults');
		expect(result.error).toBeUndefined();
		const out = jsonOf(result);
		expect(out).toHaveLength(2000);
		expect(out.filter((o) => o.operation === 'created')).toHaveLength(2000);
		const rows = await contacts('faulty');
		expect(rows).toHaveLength(2000);
		expect(new Set(rows.map((r) => r.emailaddress1)).size).toBe(2000);
		expect(new Set(out.map((o) => o.id))).toEqual(new Set(rows.map((r) => r.contactid)));
		const stats = await t.stats();
		const limits = await t.control<{ usage: Record<string, { peakConcurrency: number }> }>('GET', '/limits');
		const peak = Math.max(...Object.values(limits.usage).map((u) => u.peakConcurrency));
		console.log(
			`[measure] 2,000-item write under 20 % 429 + 5 % 5xx: all ${rows.length} items accounted for; ${stats.total} requests (${stats.byStatus['429'] ?? 0} × 429, ${
				Object.entries(stats.byStatus)
					.filter(([s]) => s.startsWith('5'))
					.reduce((n, [, c]) => n + c, 0)
			} × 5xx), peak concurrency ${peak}, ${seconds.toFixed(1)} s`,
		);
		expect(stats.byStatus['429']).toBeGreaterThan(0);
		expect(peak).toBeLessThanOrEqual(4);

		// The rerun under the same faults writes nothing.
		await t.control('PUT', '/faults', { rate429: 0.2, rate5xx: 0.05, retryAfterSeconds: 1, seed: 8 });
		await t.resetStats();
		const rerun = jsonOf(await t.run(upsert, people(2000, 'faulty')));
		await t.control('DELETE', '/faults');
		expect(rerun.every((o) => o.operation === 'skipped')).toBe(true);
		expect(await t.count(/^(POST|PATCH) \/api\/data\/v9\.2\/(?!\{)/)).toBe(0);
	});

	it('retries connection resets and unparsable bodies of reads', async () => {
		const ids = (await contacts('faulty')).slice(0, 12).map((r) => ({ id: r.contactid }));
		await t.control('PUT', '/faults', { rateReset: 0.3, rateMalformed: 0.2, routePattern: '^GET /api/data/v9.2/contacts', seed: 3 });
		await t.resetStats();
		const result = await t.run({ resource: 'contact', operation: 'get', recordId: '={{$json.id}}', options: { columns: ['emailaddress1'] } }, ids);
		const log = await t.control<{ requests: Array<{ fault?: string }> }>('GET', '/requests?last=200');
		await t.control('DELETE', '/faults');
		expect(result.error).toBeUndefined();
		expect(jsonOf(result).map((r) => r.contactid)).toEqual(ids.map((i) => i.id));
		const faults = log.requests.map((r) => r.fault).filter(Boolean);
		expect(faults).toContain('reset');
		expect(faults).toContain('malformed');
	});

	it('waits out the service protection limits (429 with Retry-After) instead of failing', async () => {
		await t.control('PUT', '/limits', { enabled: true, requestsPerWindow: 3, windowSeconds: 2, resetUsage: true, latencyMs: 0 });
		await t.resetStats();
		const result = await t.run(
			{ resource: 'contact', operation: 'get', recordId: '={{$json.id}}', options: { columns: ['emailaddress1'] } },
			(await contacts('faulty')).slice(0, 8).map((r) => ({ id: r.contactid })),
		);
		await t.control('PUT', '/limits', { enabled: false, requestsPerWindow: 6000, windowSeconds: 300, resetUsage: true });
		expect(result.error).toBeUndefined();
		expect(jsonOf(result)).toHaveLength(8);
		const stats = await t.stats();
		expect(stats.byStatus['429']).toBeGreaterThan(0);
	});

	it('writes 2,000 records with bulk actions (CreateMultiple / UpdateMultiple) in two requests', async () => {
		await t.resetStats();
		const created = jsonOf(await t.run({ ...upsert, options: { writeMethod: 'multiple' } }, people(2000, 'bulk')));
		expect(created.every((o) => o.operation === 'created')).toBe(true);
		expect(await t.count(/CreateMultiple|^POST \/api\/data\/v9\.2\/contacts$/)).toBe(2);
		expect(await contacts('bulk')).toHaveLength(2000);
		const changed = people(2000, 'bulk').map((p) => ({ ...p, firstname: 'Changed' }));
		await t.resetStats();
		const updated = jsonOf(await t.run({ ...upsert, options: { writeMethod: 'multiple' } }, changed));
		expect(updated.every((o) => o.operation === 'updated')).toBe(true);
		expect(await t.count(/^(POST|PATCH) \/api\/data\/v9\.2\/(?!\{)/)).toBe(2);
	});

	it('falls back to $batch when a bulk action fails, so only the bad record fails', async () => {
		const input = [...people(5, 'mixed'), { emailaddress1: 'mixed.bad@example.org', lastname: 'x'.repeat(80) }];
		const result = await t.run({ ...upsert, options: { writeMethod: 'multiple' } }, input, { continueOnFail: true });
		const out = jsonOf(result);
		expect(out.slice(0, 5).every((o) => o.operation === 'created')).toBe(true);
		expect(String(out[5].error)).toMatch(/lastname/);
		expect(await contacts('mixed')).toHaveLength(5);
	});
});
