/**
 * Rate-limit primitives the simulators compose. They run on real time (Date.now), not the sandbox clock, so a
 * test that moves the clock forward does not also refill the buckets.
 */

/** A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`. */
export class TokenBucket {
	private tokens: number;
	private updatedAt: number;

	constructor(
		private capacity: number,
		private refillPerSecond: number,
	) {
		this.tokens = capacity;
		this.updatedAt = Date.now();
	}

	configure(capacity: number, refillPerSecond: number): void {
		this.refill();
		const grew = capacity > this.capacity;
		this.capacity = capacity;
		this.refillPerSecond = refillPerSecond;
		// A raised limit applies at once (a test switching throttling off must not wait for the old bucket to refill).
		this.tokens = grew ? capacity : Math.min(this.tokens, capacity);
	}

	/** Takes one token; when none is left, returns the whole seconds until one will be (at least 1). */
	take(): { ok: true } | { ok: false; retryAfterSeconds: number } {
		this.refill();
		if (this.tokens >= 1) {
			this.tokens -= 1;
			return { ok: true };
		}
		const waitMs = ((1 - this.tokens) / this.refillPerSecond) * 1000;
		return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
	}

	get remaining(): number {
		this.refill();
		return Math.floor(this.tokens);
	}

	reset(): void {
		this.tokens = this.capacity;
		this.updatedAt = Date.now();
	}

	private refill(): void {
		const now = Date.now();
		this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.refillPerSecond);
		this.updatedAt = now;
	}
}

/** Counts events in a sliding window; used for "N requests per W seconds" limits. */
export class SlidingWindowCounter {
	private events: number[] = [];

	constructor(
		public limit: number,
		public windowMs: number,
	) {}

	/** Records one event if under the limit; otherwise returns when the oldest event leaves the window. */
	tryAdd(weight = 1): { ok: true } | { ok: false; retryAfterSeconds: number } {
		const now = Date.now();
		this.prune(now);
		if (this.events.length + weight > this.limit) {
			const oldest = this.events[0] ?? now;
			return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000)) };
		}
		for (let i = 0; i < weight; i++) this.events.push(now);
		return { ok: true };
	}

	get count(): number {
		this.prune(Date.now());
		return this.events.length;
	}

	reset(): void {
		this.events = [];
	}

	private prune(now: number): void {
		const cutoff = now - this.windowMs;
		let drop = 0;
		while (drop < this.events.length && this.events[drop] <= cutoff) drop++;
		if (drop > 0) this.events.splice(0, drop);
	}
}

/** Sums a quantity (such as execution milliseconds) over a sliding window. */
export class SlidingWindowSum {
	private entries: Array<{ at: number; amount: number }> = [];

	constructor(
		public limit: number,
		public windowMs: number,
	) {}

	add(amount: number): void {
		this.entries.push({ at: Date.now(), amount });
	}

	/** Whether the sum already exceeds the limit, and when enough of it leaves the window to be under it again. */
	check(): { ok: true } | { ok: false; retryAfterSeconds: number } {
		const now = Date.now();
		this.prune(now);
		let total = this.total;
		if (total <= this.limit) return { ok: true };
		let retryAt = now;
		for (const entry of this.entries) {
			total -= entry.amount;
			retryAt = entry.at + this.windowMs;
			if (total <= this.limit) break;
		}
		return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) };
	}

	get total(): number {
		return this.entries.reduce((sum, e) => sum + e.amount, 0);
	}

	reset(): void {
		this.entries = [];
	}

	private prune(now: number): void {
		const cutoff = now - this.windowMs;
		this.entries = this.entries.filter((e) => e.at > cutoff);
	}
}

/** Tracks requests in flight. */
export class ConcurrencyGauge {
	private current = 0;
	public peak = 0;

	constructor(public limit: number) {}

	tryEnter(): boolean {
		if (this.current >= this.limit) return false;
		this.current++;
		this.peak = Math.max(this.peak, this.current);
		return true;
	}

	leave(): void {
		this.current = Math.max(0, this.current - 1);
	}

	get inFlight(): number {
		return this.current;
	}

	reset(): void {
		this.current = 0;
		this.peak = 0;
	}
}
