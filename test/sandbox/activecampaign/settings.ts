/**
 * Everything a test can change through `PUT /__sandbox/limits` (the name is the core's; it holds behaviour switches
 * too). Defaults are the real API's documented values; switches for undocumented behaviour default to the choice
 * explained in README.md.
 */
export interface AcSettings {
	/** Keys accepted in the `Api-Token` header (all share one account and one rate budget). */
	apiKeys: string[];
	/** The account's UTC offset, used in every `cdate`/`udate`-style timestamp (fixed, no DST). */
	timezoneOffset: string;

	/** The documented 5 requests per second per account (token bucket refill rate). */
	requestsPerSecond: number;
	/** Bucket size. The docs document no burst, so it equals the rate. */
	burst: number;
	/** 429 (documented) or 503 (seen in the wild) when the bucket is empty. */
	throttleStatus: 429 | 503;
	/** Fixed Retry-After seconds; null computes the seconds until a token is free (at least 1). */
	retryAfterSeconds: number | null;

	defaultLimit: number;
	maxLimit: number;

	/** Bulk import: documented limits. */
	bulkImportMaxContacts: number;
	bulkImportMaxBytes: number;
	/** HTTP status for a payload over `bulkImportMaxBytes` (undocumented: 400 with the importer's envelope). */
	bulkImportOversizeStatus: 400 | 413;
	bulkImportPerMinute: number;
	bulkImportSinglePerMinute: number;
	/** Whether bulk import requests also take a token from the 5 rps bucket (undocumented; assumed yes). */
	bulkImportCountsTowardRps: boolean;
	/** Milliseconds from queueing to processing (real time). */
	bulkImportDelayMs: number;
	/** Milliseconds a batch stays `active` before it reports `completed`. */
	bulkImportActiveMs: number;
	/** Milliseconds after queueing during which `/import/info` answers `status: false`. */
	bulkImportStatusFalseMs: number;

	/** `POST /contact/sync` status when an existing contact was updated (docs only show 201 for a create). */
	contactSyncUpdateStatus: 200 | 201;
	/** `POST /customObjects/records/{schemaId}` status when an existing record was updated. */
	recordUpdateStatus: 200 | 201;
	/** Re-adding a tag a contact already has: return the existing contactTag, or 422 duplicate. */
	contactTagReAdd: 'existing' | 'duplicate';
	/** Status used when `contactTagReAdd` is `existing`. */
	contactTagReAddStatus: 200 | 201;
	/** Field values that do not fit the field type (bad date, unknown option): `store` as given or `reject` with 422. */
	fieldValueValidation: 'store' | 'reject';
	/**
	 * `include` on the contact list (undocumented for that endpoint; real clients use it): `sideLoad` answers it as on a
	 * single contact, `ignore` leaves it out, as an account that does not honour it would.
	 */
	listInclude: 'sideLoad' | 'ignore';
	/** `filters[created_after|updated_after]` use >= and `_before` use <= when true; strict > and < when false. */
	dateFilterInclusive: boolean;
	/** A contact created through the API/UI fires `subscribe` with `list=0` (undocumented). */
	contactCreateFiresSubscribe: boolean;
	/** Adding/removing a tag bumps the contact's `udate`. */
	tagChangesBumpUdate: boolean;
	/** Changing a list status bumps the contact's `udate`. */
	listChangesBumpUdate: boolean;
	/** An update that changes nothing still bumps `udate` (and fires `update`). */
	bumpUdateOnNoopUpdate: boolean;
	/** Webhook delivery timeout. */
	webhookTimeoutMs: number;
}

export const DEFAULT_SETTINGS: AcSettings = {
	apiKeys: ['sandbox-key'],
	timezoneOffset: '-05:00',
	requestsPerSecond: 5,
	burst: 5,
	throttleStatus: 429,
	retryAfterSeconds: null,
	defaultLimit: 20,
	maxLimit: 100,
	bulkImportMaxContacts: 250,
	bulkImportMaxBytes: 399_999,
	bulkImportOversizeStatus: 400,
	bulkImportPerMinute: 100,
	bulkImportSinglePerMinute: 20,
	bulkImportCountsTowardRps: true,
	bulkImportDelayMs: 1000,
	bulkImportActiveMs: 200,
	bulkImportStatusFalseMs: 300,
	contactSyncUpdateStatus: 200,
	recordUpdateStatus: 200,
	contactTagReAdd: 'existing',
	contactTagReAddStatus: 201,
	fieldValueValidation: 'store',
	listInclude: 'sideLoad',
	dateFilterInclusive: true,
	contactCreateFiresSubscribe: true,
	tagChangesBumpUdate: true,
	listChangesBumpUdate: true,
	bumpUdateOnNoopUpdate: false,
	webhookTimeoutMs: 5000,
};

export function defaultSettings(): AcSettings {
	return { ...DEFAULT_SETTINGS, apiKeys: [...DEFAULT_SETTINGS.apiKeys] };
}

/** Applies a partial patch, ignoring unknown keys and values of the wrong type. */
export function applySettings(target: AcSettings, patch: Record<string, unknown>): string[] {
	const ignored: string[] = [];
	for (const [key, value] of Object.entries(patch)) {
		if (!(key in DEFAULT_SETTINGS)) {
			ignored.push(key);
			continue;
		}
		const current = (DEFAULT_SETTINGS as unknown as Record<string, unknown>)[key];
		const ok =
			Array.isArray(current)
				? Array.isArray(value) && value.every((v) => typeof v === 'string')
				: current === null || key === 'retryAfterSeconds'
					? value === null || typeof value === 'number'
					: typeof value === typeof current;
		if (!ok || (key === 'timezoneOffset' && !/^[+-]\d{2}:?\d{2}$/.test(String(value)))) {
			ignored.push(key);
			continue;
		}
		(target as unknown as Record<string, unknown>)[key] = Array.isArray(value) ? [...value] : value;
	}
	return ignored;
}
