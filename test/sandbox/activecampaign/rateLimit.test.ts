import { sleep, startAc, type AcHarness } from './testkit';

describe('ActiveCampaign simulator: limits and error envelopes', () => {
	let ac: AcHarness;
	beforeAll(async () => {
		ac = await startAc({ settings: { requestsPerSecond: 5, burst: 5 } });
	});
	afterAll(() => ac.close());
	beforeEach(async () => {
		// reset restores the real defaults: 5 requests per second, no burst beyond that.
		await ac.control('POST', '/reset', {});
	});

	it('is on by default with the documented 5 requests/second and answers 429 with an integer Retry-After', async () => {
		expect((await ac.control('GET', '/limits')).body).toMatchObject({ requestsPerSecond: 5, burst: 5, throttleStatus: 429 });
		const results = await Promise.all(Array.from({ length: 12 }, () => ac.api('GET', '/api/3/tags')));
		const ok = results.filter((r) => r.status === 200);
		const throttled = results.filter((r) => r.status === 429);
		// Five tokens, refilled at 5 per second: a slow machine may refill one while the burst is in flight.
		expect(ok.length).toBeGreaterThanOrEqual(5);
		expect(ok.length).toBeLessThanOrEqual(6);
		expect(throttled.length).toBe(12 - ok.length);
		const t = throttled[0];
		expect(t.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
		expect(t.headers.get('ratelimit-limit')).toBe('5');
		expect(t.headers.get('ratelimit-remaining')).toBe('0');
		expect(t.body).toEqual({ message: 'Too Many Requests' });
	});

	it('lets a client that sleeps Retry-After seconds succeed', async () => {
		let throttled;
		for (let i = 0; i < 20 && !throttled; i++) {
			const res = await ac.api('GET', '/api/3/lists');
			if (res.status === 429) throttled = res;
		}
		expect(throttled).toBeDefined();
		await sleep(Number(throttled!.headers.get('retry-after')) * 1000);
		expect((await ac.api('GET', '/api/3/lists')).status).toBe(200);
	});

	it('shares one budget between all keys of the account', async () => {
		await ac.control('PUT', '/limits', { apiKeys: ['sandbox-key', 'other-key'] });
		const a = await Promise.all(Array.from({ length: 5 }, () => ac.api('GET', '/api/3/tags')));
		expect(a.every((r) => r.status === 200)).toBe(true);
		const b = await Promise.all(Array.from({ length: 3 }, () => ac.api('GET', '/api/3/tags', undefined, { 'Api-Token': 'other-key' })));
		expect(b.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(2);
	});

	it('can answer 503 instead of 429', async () => {
		await ac.control('PUT', '/limits', { throttleStatus: 503, retryAfterSeconds: 2 });
		const results = await Promise.all(Array.from({ length: 8 }, () => ac.api('GET', '/api/3/tags')));
		const limited = results.find((r) => r.status !== 200)!;
		expect(limited.status).toBe(503);
		expect(limited.headers.get('retry-after')).toBe('2');
	});

	it('can be switched off for fast tests through PUT /__sandbox/limits', async () => {
		const limits = await ac.control('PUT', '/limits', { requestsPerSecond: 1000 });
		expect(limits.body).toMatchObject({ requestsPerSecond: 1000, burst: 1000 });
		const results = await Promise.all(Array.from({ length: 50 }, () => ac.api('GET', '/api/3/tags')));
		expect(results.every((r) => r.status === 200)).toBe(true);
	});

	it('does not count or throttle control endpoints, nor unauthenticated requests', async () => {
		const control = await Promise.all(Array.from({ length: 20 }, () => ac.control('GET', '/state/contacts?limit=1')));
		expect(control.every((r) => r.status === 200)).toBe(true);
		const denied = await Promise.all(Array.from({ length: 10 }, () => ac.api('GET', '/api/3/tags', undefined, { 'Api-Token': 'bad' })));
		expect(denied.every((r) => r.status === 403)).toBe(true);
		const api = await Promise.all(Array.from({ length: 5 }, () => ac.api('GET', '/api/3/tags')));
		expect(api.every((r) => r.status === 200)).toBe(true);
	});

	it('uses its own envelopes for injected faults', async () => {
		await ac.control('PUT', '/limits', { requestsPerSecond: 1000 });
		await ac.control('PUT', '/faults', { rate429: 1, retryAfterSeconds: 3 });
		const t = await ac.api('GET', '/api/3/tags');
		expect(t.status).toBe(429);
		expect(t.headers.get('retry-after')).toBe('3');
		expect(t.body).toEqual({ message: 'Too Many Requests' });
		await ac.control('PUT', '/faults', { rate429: 0, rate5xx: 1 });
		const e = await ac.api('GET', '/api/3/tags');
		expect([500, 502, 503, 504]).toContain(e.status);
		expect(typeof e.body.message).toBe('string');
		await ac.control('DELETE', '/faults');
	});

	it('counts requests by route in /__sandbox/stats', async () => {
		await ac.control('POST', '/stats/reset');
		await ac.api('GET', '/api/3/contacts/1');
		await ac.api('GET', '/api/3/contacts/2');
		const stats = (await ac.control('GET', '/stats')).body;
		expect(stats.routes['GET /api/3/contacts/:id']).toEqual({ count: 2, byStatus: { '200': 2 } });
	});
});
