import { sleep } from 'n8n-workflow';

/**
 * How a limiter adapts when the server says "slow down" although this limiter kept to the limit: another process
 * (a second n8n worker, another integration) spends the same account's budget. Each throttled answer lowers the rate
 * (at most once per window, so a burst of throttled answers counts once); every calm stretch raises it a little, back
 * to the limit. Measured against the ActiveCampaign simulator (token bucket, integer Retry-After) with two and four
 * clients: see test/unit/shared/transport.test.ts and the README's "Running at scale".
 */
export const ADAPTIVE_RATE = {
	/** The rate is multiplied by this on a throttled answer. */
	decrease: 0.7,
	/** Never below this share of the limit. */
	floor: 0.2,
	/** Raised by this share of the limit … */
	increase: 0.01,
	/** … after this long without a throttled answer (and again after each such stretch). */
	growEveryMs: 10_000,
} as const;

/**
 * At most `limit` grants in any rolling window of `windowMs`, whatever the server's own algorithm (a fixed window, a
 * sliding window or a token bucket of the same rate all accept this). Callers are served in order; time is
 * Date.now() and waiting is n8n's sleep. After the server throttled (see {@link RateLimiter.throttled}) the grants are
 * also spaced evenly at the lower rate it adapted to, until calm brings it back to the limit.
 */
export class RateLimiter {
	private readonly grants: number[] = [];
	private queue: Promise<void> = Promise.resolve();
	/** Until this time nobody gets a grant (set after the server said "slow down"). */
	private pausedUntil = 0;
	/** Grants per window now (the limit unless the server throttled). */
	private rate: number;
	private lastGrant = -Infinity;
	private calmSince = 0;
	private lastDecrease = -Infinity;

	constructor(
		readonly limit: number,
		readonly windowMs: number = 1000,
		private readonly wait: (ms: number) => Promise<void> = sleep,
	) {
		this.rate = limit;
	}

	/** Grants per window this limiter allows now. */
	get currentRate(): number {
		return this.rate;
	}

	/** Waits for a grant. Calls are queued, so a burst of callers is spread evenly. */
	async acquire(): Promise<void> {
		const turn = this.queue.then(async () => await this.takeGrant());
		this.queue = turn.catch(() => undefined);
		await turn;
	}

	/** Stops granting for `ms` (a 429 with Retry-After affects every caller of the account). */
	pause(ms: number): void {
		this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
	}

	/** The server throttled a request this limiter granted: pause for `ms` and lower the rate (see {@link ADAPTIVE_RATE}). */
	throttled(ms: number): void {
		this.pause(ms);
		const now = Date.now();
		this.calmSince = now;
		if (now - this.lastDecrease < this.windowMs) return;
		this.lastDecrease = now;
		this.rate = Math.max(this.limit * ADAPTIVE_RATE.floor, this.rate * ADAPTIVE_RATE.decrease);
	}

	private async takeGrant(): Promise<void> {
		for (;;) {
			const now = Date.now();
			if (now < this.pausedUntil) {
				await this.wait(this.pausedUntil - now);
				continue;
			}
			if (this.rate < this.limit) {
				if (now - this.calmSince >= ADAPTIVE_RATE.growEveryMs) {
					this.rate = Math.min(this.limit, this.rate + this.limit * ADAPTIVE_RATE.increase);
					this.calmSince = now;
				}
				const next = this.lastGrant + this.windowMs / this.rate;
				if (this.rate < this.limit && now < next) {
					await this.wait(Math.ceil(next - now));
					continue;
				}
			}
			while (this.grants.length && this.grants[0] <= now - this.windowMs) this.grants.shift();
			if (this.grants.length < this.limit) {
				this.grants.push(now);
				this.lastGrant = now;
				return;
			}
			await this.wait(this.grants[0] + this.windowMs - now + 1);
		}
	}
}

const limiters = new Map<string, RateLimiter>();

/**
 * The limiter for one account, shared by every request of every execution in this n8n process: the limit belongs
 * to the account, not to the workflow.
 */
export function limiterFor(key: string, limit: number, windowMs = 1000): RateLimiter {
	let limiter = limiters.get(key);
	if (!limiter || limiter.limit !== limit || limiter.windowMs !== windowMs) {
		limiter = new RateLimiter(limit, windowMs);
		limiters.set(key, limiter);
	}
	return limiter;
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(
	items: readonly T[],
	concurrency: number,
	fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
		while (next < items.length) {
			const index = next++;
			results[index] = await fn(items[index], index);
		}
	});
	await Promise.all(workers);
	return results;
}
