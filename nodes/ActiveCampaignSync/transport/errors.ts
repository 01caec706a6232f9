import { NodeApiError, type INode, type JsonObject } from 'n8n-workflow';

import { wasNotProcessed, type HttpFailure } from '../../shared/transport/failure';
import { redact } from '../../shared/transport/redact';

/**
 * ActiveCampaign's own words for a failure, from whichever of its error envelopes the endpoint used:
 * `{"message": "..."}`, `{"errors": [{"title": "...", "detail": "..."}]}`, the bulk importer's
 * `{"message": "...", "failureReasons": [...]}`, v1's `{"result_message": "..."}`.
 */
export function activeCampaignMessage(body: unknown): string | undefined {
	if (typeof body === 'string') return body.trim() && body.length < 500 && !body.startsWith('<') ? body.trim() : undefined;
	if (!body || typeof body !== 'object') return undefined;
	const data = body as Record<string, unknown>;
	const parts: string[] = [];
	if (Array.isArray(data.errors)) {
		for (const entry of data.errors) {
			if (!entry || typeof entry !== 'object') continue;
			const e = entry as Record<string, unknown>;
			const title = typeof e.title === 'string' ? e.title : '';
			const detail = typeof e.detail === 'string' && e.detail && e.detail !== title ? e.detail : '';
			const text = [title, detail].filter(Boolean).join(': ');
			if (text) parts.push(text);
		}
	} else if (typeof data.errors === 'string' && data.errors) {
		parts.push(data.errors);
	}
	if (!parts.length && typeof data.message === 'string' && data.message) parts.push(data.message);
	if (!parts.length && typeof data.result_message === 'string' && data.result_message) parts.push(data.result_message);
	if (Array.isArray(data.failureReasons) && data.failureReasons.length) {
		const reasons = data.failureReasons
			.slice(0, 5)
			.map((r) =>
				typeof r === 'string'
					? r
					: r && typeof r === 'object'
						? `contact ${(r as Record<string, unknown>).contact}: ${(r as Record<string, unknown>).failureReason}`
						: '',
			)
			.filter(Boolean);
		if (reasons.length) parts.push(reasons.join('; '));
	}
	return parts.length ? parts.join(' — ') : undefined;
}

/** The network code given to a 2xx answer whose body is not valid JSON. */
export const MALFORMED = 'EBADJSON';

const NOT_REPEATED =
	'It was not sent again: the request may already have taken effect, and repeating it could do it twice (for example send an email twice). Check in ActiveCampaign before running it again.';

/** What the user can do about a failure, by status. */
function advice(failure: HttpFailure, exhausted: boolean, repeatable: boolean): string {
	const status = failure.status;
	if (!repeatable && !exhausted && (status >= 500 || (status === 0 && failure.networkCode !== undefined && !wasNotProcessed(failure)))) {
		const what = status
			? `answered HTTP ${status}`
			: failure.networkCode === MALFORMED
				? 'sent an answer that is not valid JSON'
				: `did not answer (${failure.networkCode})`;
		return `ActiveCampaign ${what} while handling the request. ${NOT_REPEATED}`;
	}
	if (status === 0) {
		return `The request did not reach ActiveCampaign (${failure.networkCode ?? 'network error'}). Check the API URL in the credential and the network.`;
	}
	if (status === 401 || status === 403) {
		return 'ActiveCampaign refused the API key, or the key\'s user lacks the permission. Check the API URL and key in the credential (Settings → Developer in ActiveCampaign).';
	}
	if (status === 404) return 'The record does not exist (it may have been deleted), or the API URL in the credential is wrong.';
	if (status === 422) return 'ActiveCampaign rejected the data; the message says which attribute.';
	if (status === 429 || status === 503 || (status === 400 && exhausted)) {
		return 'ActiveCampaign kept throttling the requests (5 requests per second per account, shared by every integration). Try again later or run fewer workflows at the same time.';
	}
	if (status >= 500) return 'ActiveCampaign failed to process the request. It was retried; try again later.';
	return `ActiveCampaign answered HTTP ${status}.`;
}

export interface AcErrorContext {
	method: string;
	path: string;
	itemIndex?: number;
	exhausted: boolean;
	attempts: number;
	secrets: Array<string | undefined>;
	/** Whether the request was safe to repeat (false: a 5xx or a lost answer was not retried). Default true. */
	repeatable?: boolean;
}

/**
 * A NodeApiError carrying ActiveCampaign's message, the HTTP code and advice. The original error (which holds the
 * request headers, and with them the API key) is never attached; every text is redacted.
 */
export function toNodeApiError(node: INode, failure: HttpFailure, context: AcErrorContext): NodeApiError {
	const fromApi = activeCampaignMessage(failure.body);
	const fallback =
		failure.status === 0
			? `Could not reach ActiveCampaign: ${failure.networkCode ?? 'network error'}`
			: `ActiveCampaign answered HTTP ${failure.status}`;
	const message = redact(fromApi ?? fallback, context.secrets);
	const retried = context.attempts > 1 ? ` (after ${context.attempts} attempts)` : '';
	const description = redact(
		`${advice(failure, context.exhausted, context.repeatable !== false)} Request: ${context.method} ${context.path}${retried}.`,
		context.secrets,
	);
	const httpCode = failure.status ? String(failure.status) : undefined;
	const response: JsonObject = { message };
	if (httpCode) response.httpCode = httpCode;
	return new NodeApiError(node, response, {
		message,
		description,
		httpCode,
		itemIndex: context.itemIndex,
	});
}
