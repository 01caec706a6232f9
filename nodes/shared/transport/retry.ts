import { sleep } from 'n8n-workflow';

import { describeFailure, isTransient, retryAfterMs, wasNotProcessed, type HttpFailure } from './failure';

export interface RetryPolicy {
	/** Attempts in all, the first included. */
	maxAttempts: number;
	/** First backoff when the server gives no Retry-After; doubles each attempt. */
	baseDelayMs: number;
	/** No single wait is longer than this, whatever Retry-After says (the request then fails). */
	maxDelayMs: number;
	/** The exponential backoff (without Retry-After) grows up to this, so many attempts never outgrow maxDelayMs. */
	maxBackoffMs?: number;
	/** Decides whether a failure is retried; defaults to {@link isTransient}. */
	shouldRetry?: (failure: HttpFailure, attempt: number) => boolean;
	/**
	 * Whether sending the request twice does no harm (reads, PUT/DELETE by id, upserts by a natural key). `false`: the
	 * request is retried only after a failure that proves the server did not act on it ({@link notProcessed}), never
	 * after a 5xx, a reset or a timeout, which may come after the server acted (a campaign sent twice). Undefined
	 * keeps the old behaviour: `shouldRetry` alone decides.
	 */
	repeatable?: boolean;
	/** For requests that are not repeatable: failures that prove nothing was done. Defaults to {@link wasNotProcessed}. */
	notProcessed?: (failure: HttpFailure) => boolean;
	/** A delay suggested by the failure itself (e.g. a body-level rate limit); undefined falls back to Retry-After. */
	delayHint?: (failure: HttpFailure) => number | undefined;
	/** Called before each wait (tests and logs). */
	onRetry?: (failure: HttpFailure, attempt: number, delayMs: number) => void;
	/** Injected in tests; n8n's sleep otherwise. */
	wait?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 6,
	baseDelayMs: 500,
	maxDelayMs: 60_000,
};

/**
 * Reads change nothing, so they may be more patient than writes: with a quarter of all attempts failing, six attempts
 * still lose about one request in 4,000 — one lost page or detail in a 2,000-record read. Ten attempts lose about one
 * in a million.
 */
export const READ_RETRY_POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 10 };

export type RetryOutcome<T> =
	| { ok: true; value: T; attempts: number }
	| {
			ok: false;
			failure: HttpFailure;
			attempts: number;
			/** Whether the attempts ran out on a transient failure (else the failure was not worth a retry). */
			exhausted: boolean;
			/** The error of the last attempt, to be turned into a NodeApiError by the transport. */
			error: unknown;
	  };

/**
 * Runs `send` until it succeeds, a failure is not transient, or the attempts run out. Waits `Retry-After` when the
 * server gives one, else exponential backoff with full jitter. Never throws: the outcome says what happened, and
 * each API's transport turns a failure into its own NodeApiError.
 */
export async function withRetry<T>(
	send: (attempt: number) => Promise<T>,
	policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<RetryOutcome<T>> {
	const wait = policy.wait ?? sleep;
	const retryable = policy.shouldRetry ?? ((failure: HttpFailure) => isTransient(failure));
	const notProcessed = policy.notProcessed ?? wasNotProcessed;
	const shouldRetry =
		policy.repeatable === false
			? (failure: HttpFailure, attempt: number) => notProcessed(failure) && retryable(failure, attempt)
			: retryable;
	for (let attempt = 1; ; attempt++) {
		let error: unknown;
		try {
			return { ok: true, value: await send(attempt), attempts: attempt };
		} catch (caught) {
			error = caught;
		}
		const failure = describeFailure(error);
		if (!shouldRetry(failure, attempt)) return { ok: false, failure, attempts: attempt, exhausted: false, error };
		if (attempt >= policy.maxAttempts) return { ok: false, failure, attempts: attempt, exhausted: true, error };
		const hinted = policy.delayHint?.(failure) ?? retryAfterMs(failure);
		const backoff = Math.random() * Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxBackoffMs ?? 30_000);
		const delay = hinted !== undefined ? hinted + Math.random() * 250 : backoff;
		if (delay > policy.maxDelayMs) return { ok: false, failure, attempts: attempt, exhausted: true, error };
		policy.onRetry?.(failure, attempt, delay);
		await wait(delay);
	}
}
