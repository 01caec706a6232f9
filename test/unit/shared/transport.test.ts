/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
import { NodeApiError, type INode } from 'n8n-workflow';

import { describeFailure, isTransient, retryAfterMs, wasNotProcessed } from '../../../nodes/shared/transport/failure';
import { ADAPTIVE_RATE, mapWithConcurrency, RateLimiter } from '../../../nodes/shared/transport/rateLimiter';
import { TokenBucket } from '../../sandbox/core/limits';
import { redact } from '../../../nodes/shared/transport/redact';
import { withRetry } from '../../../nodes/shared/transport/retry';

const node: INode = { id: '1', name: 'n', type: 't', typeVersion: 1, position: [0, 0], parameters: {} };

function axiosLike(status: number, data: unknown, headers: Record<string, string> = {}) {
	const error = new Error(`Request failed with status code ${status}`) as Error & { response: unknown; isAxiosError: boolean };
	error.isAxiosError = true;
	error.response = { status, data, headers };
	return error;
}

describe('describeFailure', () => {
	it('reads status, headers and body through NodeApiError wrapping', () => {
		const wrapped = new NodeApiError(node, axiosLike(429, '{"error":{"code":"0x80072322","message":"slow down"}}', { 'Retry-After': '7' }) as never);
		const failure = describeFailure(wrapped);
		expect(failure.status).toBe(429);
		expect(failure.body).toEqual({ error: { code: '0x80072322', message: 'slow down' } });
		expect(retryAfterMs(failure)).toBe(7000);
		expect(isTransient(failure)).toBe(true);
	});

	it('recognises connection resets and leaves refused connections alone', () => {
		const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
		expect(isTransient(describeFailure(new NodeApiError(node, reset as never)))).toBe(true);
		const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
		expect(isTransient(describeFailure(refused))).toBe(false);
		expect(isTransient(describeFailure(axiosLike(404, { message: 'No Result found' })))).toBe(false);
	});
});

describe('withRetry', () => {
	it('waits Retry-After, then succeeds', async () => {
		const waits: number[] = [];
		let calls = 0;
		const result = await withRetry(
			async () => {
				calls++;
				if (calls < 3) throw axiosLike(429, {}, { 'retry-after': '2' });
				return 'ok';
			},
			{ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 60_000, wait: async (ms) => void waits.push(ms) },
		);
		expect(result).toEqual({ ok: true, value: 'ok', attempts: 3 });
		expect(calls).toBe(3);
		expect(waits).toHaveLength(2);
		for (const w of waits) expect(w).toBeGreaterThanOrEqual(2000);
	});

	it('stops after the attempt budget and does not retry a 400', async () => {
		let calls = 0;
		const busy = await withRetry(
			async () => {
				calls++;
				throw axiosLike(503, 'busy');
			},
			{ maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1000, wait: async () => undefined },
		);
		expect(busy).toMatchObject({ ok: false, exhausted: true, attempts: 4, failure: { status: 503, body: 'busy' } });
		expect(calls).toBe(4);

		calls = 0;
		const bad = await withRetry(async () => {
			calls++;
			throw axiosLike(400, { message: 'bad' });
		});
		expect(bad).toMatchObject({ ok: false, exhausted: false, failure: { status: 400, body: { message: 'bad' } } });
		expect(calls).toBe(1);
	});
});

describe('withRetry: requests that must not run twice', () => {
	const policy = { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 1000, wait: async () => undefined };
	const network = (code: string) => Object.assign(new Error(code), { code });

	async function attempts(error: () => unknown, repeatable: boolean | undefined): Promise<number> {
		let calls = 0;
		await withRetry(async () => {
			calls++;
			throw error();
		}, { ...policy, repeatable });
		return calls;
	}

	it('a non-repeatable request is not retried after a 5xx, a reset or a timeout (the server may have acted)', async () => {
		for (const status of [500, 502, 503, 504]) expect(await attempts(() => axiosLike(status, { message: 'x' }), false)).toBe(1);
		expect(await attempts(() => network('ECONNRESET'), false)).toBe(1);
		expect(await attempts(() => network('ETIMEDOUT'), false)).toBe(1);
	});

	it('a non-repeatable request is retried after a 429 and a connection that was never made', async () => {
		expect(await attempts(() => axiosLike(429, {}, { 'retry-after': '0' }), false)).toBe(6);
		expect(await attempts(() => network('EAI_AGAIN'), false)).toBe(6);
		expect(wasNotProcessed(describeFailure(network('ECONNREFUSED')))).toBe(true);
		// Refused connections are not retried at all (a wrong URL), repeatable or not.
		expect(await attempts(() => network('ECONNREFUSED'), false)).toBe(1);
	});

	it('repeatable requests, and requests that say nothing (the old behaviour), keep retrying 5xx and resets', async () => {
		expect(await attempts(() => axiosLike(502, 'bad gateway'), true)).toBe(6);
		expect(await attempts(() => axiosLike(502, 'bad gateway'), undefined)).toBe(6);
		expect(await attempts(() => network('ECONNRESET'), undefined)).toBe(6);
	});
});

describe('RateLimiter', () => {
	it('never hands out more than the rate allows, measured on its own clock', async () => {
		let now = 1_000_000;
		const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
		try {
			const limiter = new RateLimiter(5, 1000, async (ms) => {
				now += ms;
			});
			const grants: number[] = [];
			await Promise.all(Array.from({ length: 23 }, async () => {
				await limiter.acquire();
				grants.push(now);
			}));
			// In any one-second window at most 5 grants (the burst) plus what refilled.
			for (let i = 0; i < grants.length; i++) {
				const inWindow = grants.filter((t) => t >= grants[i] && t < grants[i] + 1000).length;
				expect(inWindow).toBeLessThanOrEqual(5);
			}
			expect(grants[grants.length - 1] - grants[0]).toBeGreaterThanOrEqual(4000);
			limiter.pause(10_000);
			const before = now;
			await limiter.acquire();
			expect(now - before).toBeGreaterThanOrEqual(10_000);
		} finally {
			spy.mockRestore();
		}
	});

	it('after a throttled answer sends more slowly (once per window however many answers say so), and calm brings it back to the limit', async () => {
		let now = 2_000_000;
		const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
		try {
			const limiter = new RateLimiter(5, 1000, async (ms) => {
				now += ms;
			});
			await limiter.acquire();
			limiter.throttled(1000);
			limiter.throttled(1000);
			limiter.throttled(1000);
			expect(limiter.currentRate).toBeCloseTo(5 * ADAPTIVE_RATE.decrease);
			// Spaced evenly at the lower rate after the pause: no burst of five.
			const grants: number[] = [];
			for (let i = 0; i < 4; i++) {
				await limiter.acquire();
				grants.push(now);
			}
			expect(grants[0]).toBeGreaterThanOrEqual(2_001_000);
			for (let i = 1; i < grants.length; i++) expect(grants[i] - grants[i - 1]).toBeGreaterThanOrEqual(Math.floor(1000 / limiter.currentRate));
			// Throttled again and again: never below the floor.
			for (let i = 0; i < 20; i++) {
				now += 1000;
				limiter.throttled(0);
			}
			expect(limiter.currentRate).toBeCloseTo(5 * ADAPTIVE_RATE.floor);
			// Calm: it grows back to the limit, one step per calm stretch.
			const steps = Math.ceil((5 - 5 * ADAPTIVE_RATE.floor) / (5 * ADAPTIVE_RATE.increase));
			for (let i = 0; i < steps + 1; i++) {
				now += ADAPTIVE_RATE.growEveryMs;
				await limiter.acquire();
			}
			expect(limiter.currentRate).toBe(5);
		} finally {
			spy.mockRestore();
		}
	});

	it('two and four processes sharing one account settle near its rate with few throttled answers (simulated clock, the ActiveCampaign simulator\'s token bucket)', async () => {
		const figures: string[] = [];
		for (const clients of [2, 4]) {
			const result = await simulateSharedAccount(clients, 600_000);
			figures.push(`${clients} processes: ${result.perSecond.toFixed(2)} requests/s, ${result.throttledPer1000.toFixed(1)} throttled per 1,000`);
			expect(result.perSecond).toBeGreaterThanOrEqual(4.5);
			expect(result.perSecond).toBeLessThanOrEqual(5.05);
			expect(result.throttledPer1000).toBeLessThan(20);
		}
		console.log(`[measure] adaptive limiter, 600 simulated seconds, every process always busy: ${figures.join('; ')}`);
	});

	it('maps with bounded concurrency in order', async () => {
		let inFlight = 0;
		let peak = 0;
		const out = await mapWithConcurrency([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
			inFlight++;
			peak = Math.max(peak, inFlight);
			await new Promise((r) => setImmediate(r));
			inFlight--;
			return n * 2;
		});
		expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
		expect(peak).toBe(3);
	});
});

describe('redact', () => {
	it('removes given secrets, bearer tokens and credential-looking fields', () => {
		const text =
			'Api-Token: abcd1234efgh sent; Authorization: Bearer eyJhbGciOi.x.y; client_secret=s3cr3t&x=1 {"access_token":"tok123"}';
		const out = redact(text, ['abcd1234efgh']);
		expect(out).not.toMatch(/abcd1234efgh|eyJhbGciOi|s3cr3t|tok123/);
		expect(out).toContain('x=1');
	});
});

/**
 * `clients` processes, each with its own limiter at ActiveCampaign's 5 requests/s and always something to send, against
 * one account's token bucket (5 per second, burst 5, integer Retry-After as the simulator answers), on a simulated clock.
 */
async function simulateSharedAccount(clients: number, durationMs: number): Promise<{ perSecond: number; throttledPer1000: number }> {
	let now = 5_000_000;
	const start = now;
	const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
	const timers: Array<{ at: number; resolve: () => void }> = [];
	const wait = async (ms: number) => await new Promise<void>((resolve) => timers.push({ at: now + Math.max(0, ms), resolve }));
	try {
		const bucket = new TokenBucket(5, 5);
		let ok = 0;
		let throttled = 0;
		let running = true;
		const latencyMs = 40;
		const loops = Array.from({ length: clients }, async (_, i) => {
			const limiter = new RateLimiter(5, 1000, wait);
			await wait(i * 37);
			while (running) {
				await limiter.acquire();
				await wait(latencyMs / 2);
				const taken = bucket.take();
				await wait(latencyMs / 2);
				if (taken.ok) ok++;
				else {
					throttled++;
					limiter.throttled(taken.retryAfterSeconds * 1000);
				}
			}
		});
		while (now - start < durationMs) {
			await new Promise((r) => setImmediate(r));
			timers.sort((a, b) => a.at - b.at);
			const next = timers.shift();
			if (!next) break;
			now = Math.max(now, next.at);
			next.resolve();
		}
		running = false;
		for (const t of timers.splice(0)) t.resolve();
		await Promise.race([Promise.all(loops), new Promise((r) => setImmediate(r))]);
		return { perSecond: ok / (durationMs / 1000), throttledPer1000: (throttled / (ok + throttled)) * 1000 };
	} finally {
		spy.mockRestore();
	}
}
