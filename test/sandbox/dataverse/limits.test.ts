import { startHarness, type Harness } from './testkit';

describe('Dataverse simulator: service protection limits and envelopes', () => {
	let h: Harness;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => h.close());
	beforeEach(async () => {
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
	});

	it('has the documented defaults, changeable through PUT /__sandbox/limits', async () => {
		const r = await h.control('GET', '/limits');
		expect(r.json).toMatchObject({ enabled: true, requestsPerWindow: 6000, windowSeconds: 300, executionTimeMsPerWindow: 1200000, concurrentRequests: 52 });
		const api = await h.call('GET', 'contacts?$top=1');
		expect(api.headers.get('x-ms-dop-hint')).toBe('4');
		expect(api.headers.get('x-ms-ratelimit-burst-remaining-xrm-requests')).toBe('5999');
	});

	it('answers 429 0x80072322 with Retry-After after the request limit; a $batch counts once; per user', async () => {
		await h.control('PUT', '/limits', { requestsPerWindow: 3 });
		const boundary = 'batch_x';
		const batch = [1, 2, 3]
			.map((i) => `--${boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST contacts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"lastname":"B${i}"}`)
			.join('\r\n');
		const b = await h.call('POST', '$batch', { raw: `${batch}\r\n--${boundary}--\r\n`, headers: { 'Content-Type': `multipart/mixed;boundary=${boundary}` } });
		expect(b.status).toBe(200);
		expect((await h.call('GET', 'contacts?$top=1')).status).toBe(200);
		expect((await h.call('GET', 'contacts?$top=1')).status).toBe(200);
		const r = await h.call('GET', 'contacts?$top=1');
		expect(r.status).toBe(429);
		expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(r.json).toEqual({ error: { code: '0x80072322', message: 'Number of requests exceeded the limit of 3 over time window of 300 seconds.' } });
		// Another user (client) has its own budget; control endpoints are free.
		await h.control('POST', '/clients', { clientId: 'other', clientSecret: 'o' });
		const other = await h.tokenFor('other', 'o');
		expect((await h.call('GET', 'contacts?$top=1', { token: other })).status).toBe(200);
		expect((await h.control('GET', '/state/accounts')).status).toBe(200);
	});

	it('answers 429 0x80072321 once the combined execution time is exceeded (operations of a batch add up)', async () => {
		await h.control('PUT', '/limits', { executionTimeMsPerWindow: 100, executionMsPerOperation: 40 });
		const boundary = 'batch_y';
		const batch = [1, 2, 3]
			.map((i) => `--${boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST contacts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"lastname":"E${i}"}`)
			.join('\r\n');
		expect((await h.call('POST', '$batch', { raw: `${batch}\r\n--${boundary}--\r\n`, headers: { 'Content-Type': `multipart/mixed;boundary=${boundary}` } })).status).toBe(200);
		const r = await h.call('GET', 'contacts?$top=1');
		expect(r.status).toBe(429);
		expect(r.headers.get('retry-after')).toBeTruthy();
		expect(r.json.error.code).toBe('0x80072321');
		expect(r.json.error.message).toBe(
			'Combined execution time of incoming requests exceeded limit of 100 milliseconds over time window of 300 seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.',
		);
	});

	it('answers 429 0x80072326 immediately above the concurrency limit', async () => {
		await h.control('PUT', '/limits', { concurrentRequests: 2, latencyMs: 300 });
		const results = await Promise.all(Array.from({ length: 5 }, () => h.call('GET', 'contacts?$top=1')));
		const statuses = results.map((r) => r.status).sort();
		expect(statuses).toEqual([200, 200, 429, 429, 429]);
		const throttled = results.find((r) => r.status === 429)!;
		expect(throttled.json.error).toEqual({ code: '0x80072326', message: 'Number of concurrent requests exceeded the limit of 2.' });
		expect(throttled.headers.get('retry-after')).toBeTruthy();
		await h.control('PUT', '/limits', { latencyMs: 0 });
		expect((await h.call('GET', 'contacts?$top=1')).status).toBe(200);
		const limits = await h.control('GET', '/limits');
		expect(Object.values(limits.json.usage as Record<string, { peakConcurrency: number }>)[0].peakConcurrency).toBe(2);
	});

	it('limits can be switched off', async () => {
		await h.control('PUT', '/limits', { enabled: false, requestsPerWindow: 1 });
		for (let i = 0; i < 3; i++) expect((await h.call('GET', 'contacts?$top=1')).status).toBe(200);
	});

	it('uses Dataverse envelopes for injected faults, unknown paths and unparsable bodies', async () => {
		await h.control('PUT', '/faults', { rate429: 1, retryAfterSeconds: 7 });
		let r = await h.call('GET', 'contacts?$top=1');
		expect(r.status).toBe(429);
		expect(r.headers.get('retry-after')).toBe('7');
		expect(r.json.error.code).toBe('0x80072322');
		await h.control('PUT', '/faults', { rate429: 0, rate5xx: 1 });
		r = await h.call('GET', 'contacts?$top=1');
		expect(r.status).toBeGreaterThanOrEqual(500);
		expect(r.json.error).toEqual({ code: expect.stringMatching(/^0x/), message: expect.any(String) });
		await h.control('DELETE', '/faults');
		r = await h.call('GET', `${h.url}/nothing/here`);
		expect(r.status).toBe(404);
		expect(r.json.error.message).toContain('No HTTP resource was found');
		r = await h.call('POST', 'contacts', { raw: '{"lastname": ', headers: { 'Content-Type': 'application/json' } });
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe('0x80048d19');
		r = await h.call('PATCH', 'contacts', { body: {} });
		expect(r.status).toBe(405);
		expect(r.headers.get('odata-version')).toBe('4.0');
	});
});
