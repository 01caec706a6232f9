import { sleep } from 'n8n-workflow';

/**
 * At most `limit` grants in any rolling window of `windowMs`, whatever the server's own algorithm (a fixed window, a
 * sliding window or a token bucket of the same rate all accept this). Callers are served in order; time is
 * Date.now() and waiting is n8n's sleep.
 */
export class RateLimiter {
	private readonly grants: number[] = [];
	private queue: Promise<void> = Promise.resolve();
	/** Until this time nobody gets a grant (set after the server said "slow down"). */
	private pausedUntil = 0;

	constructor(
		readonly limit: number,
		readonly windowMs: number = 1000,
		private readonly wait: (ms: number) => Promise<void> = sleep,
	) {}

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

	private async takeGrant(): Promise<void> {
		for (;;) {
			const now = Date.now();
			if (now < this.pausedUntil) {
				await this.wait(this.pausedUntil - now);
				continue;
			}
			while (this.grants.length && this.grants[0] <= now - this.windowMs) this.grants.shift();
			if (this.grants.length < this.limit) {
				this.grants.push(now);
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
