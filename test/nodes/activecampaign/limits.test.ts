/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The account's real limits (5 requests per second, 100 per page) and failures: Get Many of 12,000 contacts, the
 * shared limiter across concurrent executions, retries of 429/503 and of unparsable bodies, and the API key never
 * showing in errors or output.
 */
import type { IDataObject } from 'n8n-workflow';

import { jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo', fast: false });
	await t.realLimits();
});
afterAll(async () => await t.close());

describe('ActiveCampaign limits', () => {
	it('Get Many with Return All returns all 12,000 seeded contacts, at most 100 per request, with no unhandled 429', async () => {
		await t.control('POST', '/seed', { contacts: 12_000, withFieldValues: true, withTags: true });
		const health = await t.control<IDataObject>('GET', '/health');
		const total = Number(health.contacts);
		expect(total).toBe(12_025);
		// The sandbox would hand out up to 1,000 per page if asked: the page size is the node's own choice.
		await t.control('PUT', '/limits', { maxLimit: 1000 });
		await t.resetStats();
		const started = Date.now();
		const result = await t.run({ resource: 'contact', operation: 'getAll', returnAll: true });
		const seconds = (Date.now() - started) / 1000;
		expect(result.error).toBeUndefined();
		const contacts = jsonOf(result);
		expect(contacts).toHaveLength(total);
		expect(new Set(contacts.map((c) => c.id)).size).toBe(total);
		const pages = await t.count('GET /api/3/contacts');
		const stats = await t.stats();
		console.log(
			`[measure] Get Many (Return All) of ${total} contacts: ${pages} page requests (${Math.ceil(total / 100)} needed at 100 per page), ` +
				`${stats.byStatus['429'] ?? 0} throttled answers, ${seconds.toFixed(1)} s (${(stats.total / seconds).toFixed(2)} requests/s)`,
		);
		expect(pages).toBeLessThanOrEqual(Math.ceil(total / 100) + 1);
		expect(pages).toBeGreaterThanOrEqual(Math.ceil(total / 100));
		expect(stats.byStatus['429'] ?? 0).toBe(0);
		await t.control('PUT', '/limits', { maxLimit: 100 });
	});

	it('two executions at once share the account limit (5 requests per second)', async () => {
		await t.resetStats();
		const started = Date.now();
		const runs = await Promise.all([
			t.run({ resource: 'contact', operation: 'getAll', returnAll: false, limit: 1500 }),
			t.run({ resource: 'contact', operation: 'getAll', returnAll: false, limit: 1500 }),
		]);
		const seconds = (Date.now() - started) / 1000;
		for (const run of runs) expect(jsonOf(run)).toHaveLength(1500);
		const stats = await t.stats();
		console.log(`[measure] two concurrent executions: ${stats.total} requests in ${seconds.toFixed(1)} s, ${stats.byStatus['429'] ?? 0} throttled`);
		// The sandbox enforces 5 requests per second per account and answers 429 beyond it: no 429 across two
		// executions means they shared one limit. The rate itself is a printed figure, not an assertion.
		expect(stats.byStatus['429'] ?? 0).toBe(0);
	});

	it('waits out 429 and 503 answers (Retry-After) and unparsable bodies on reads', async () => {
		await t.control('PUT', '/faults', { rate429: 0.15, rate5xx: 0.15, rateMalformed: 0.2, retryAfterSeconds: 1, seed: 3 });
		try {
			await t.resetStats();
			const result = await t.run({ resource: 'contact', operation: 'getAll', returnAll: false, limit: 1500 });
			expect(result.error).toBeUndefined();
			const contacts = jsonOf(result);
			expect(contacts).toHaveLength(1500);
			expect(new Set(contacts.map((c) => c.id)).size).toBe(1500);
			const stats = await t.stats();
			const log = await t.control<{ requests: Array<{ fault?: string }> }>('GET', '/requests?last=500');
			const faults = log.requests.map((r) => r.fault).filter(Boolean);
			console.log(`[measure] faults absorbed while reading 1,500 contacts: ${JSON.stringify(stats.byStatus)}; injected: ${faults.join(', ')}`);
			expect(faults).toEqual(expect.arrayContaining(['429', '5xx', 'malformed']));
		} finally {
			await t.control('DELETE', '/faults');
		}
	});

	it('a per-item run with 20 % injected 429s loses nothing', async () => {
		await t.fast();
		await t.control('PUT', '/faults', { rate429: 0.2, retryAfterSeconds: 1, seed: 11 });
		try {
			await t.resetStats();
			const input = Array.from({ length: 20 }, (_, i) => ({ email: `per.item.${i}@flaky.example.com`, name: `Per${i}` }));
			const result = await t.run(
				{
					resource: 'contact',
					operation: 'upsert',
					dataMode: 'fields',
					email: '={{ $json.email }}',
					additionalFields: { firstName: '={{ $json.name }}' },
					customFields: { fieldValues: [{ field: 'LEAD_SOURCE', value: 'Referral' }] },
					tags: ['Flaky'],
				},
				input,
			);
			expect(result.error).toBeUndefined();
			expect(jsonOf(result).every((o) => o.operation === 'created')).toBe(true);
			for (const p of input) {
				const detail = await t.contact(p.email);
				expect((detail.fields as IDataObject).LEAD_SOURCE).toBe('Referral');
				expect(detail.tags).toEqual(['Flaky']);
			}
			const stats = await t.stats();
			console.log(`[measure] 20 contacts one by one with 20 % injected 429s: ${stats.byStatus['429'] ?? 0} 429s in ${stats.total} requests, nothing lost`);
		} finally {
			await t.control('DELETE', '/faults');
			await t.realLimits();
		}
	});

	it('the API key never appears in an error message, its description or the output of a failing request', async () => {
		const secret = 'sk-live-NEVER-SHOW-ME-0123456789';
		t.harness.setCredentials('activeCampaignSyncApi', { apiUrl: t.url, apiKey: secret });
		try {
			const failed = await t.run({ resource: 'contact', operation: 'get', contact: '1' });
			expect(failed.error).toBeDefined();
			const error = failed.error!;
			expect(error.message).toBe('Forbidden');
			expect(error.httpCode).toBe('403');
			const texts = [error.message, error.description ?? '', JSON.stringify(error), String(error.stack ?? ''), JSON.stringify(failed.run.data.resultData)];
			for (const text of texts) expect(text).not.toContain(secret);

			const continued = await t.run({ resource: 'contact', operation: 'getAll', returnAll: true }, [{}], { continueOnFail: true });
			const out = JSON.stringify(continued.outputs);
			expect(out).toContain('Forbidden');
			expect(out).not.toContain(secret);
			expect(JSON.stringify(continued.run.data)).not.toContain(secret);
		} finally {
			t.harness.setCredentials('activeCampaignSyncApi', { apiUrl: t.url, apiKey: 'sandbox-key' });
		}
	});
});
