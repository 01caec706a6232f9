/**
 * The sandbox's notion of "now". Tests move it forward (token expiry, overlap windows, watermarks) through the
 * control endpoint instead of waiting; rate limits keep using real time so throttling stays observable.
 */
export class Clock {
	private offsetMs = 0;
	private lastIssued = 0;

	now(): number {
		return Date.now() + this.offsetMs;
	}

	/**
	 * A timestamp that is never earlier than the previous one handed out by this method. Record versions and
	 * modified times take it, so two writes in one millisecond still order the way they happened.
	 */
	monotonicNow(): number {
		const now = this.now();
		this.lastIssued = Math.max(now, this.lastIssued);
		return this.lastIssued;
	}

	advance(ms: number): void {
		this.offsetMs += ms;
	}

	set(epochMs: number): void {
		this.offsetMs = epochMs - Date.now();
	}

	reset(): void {
		this.offsetMs = 0;
		this.lastIssued = 0;
	}

	get offset(): number {
		return this.offsetMs;
	}
}
