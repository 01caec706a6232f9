/**
 * Timestamps in the account's local offset, the way ActiveCampaign prints them: `2018-09-28T13:50:41-05:00`
 * (second precision), `2018-09-28 13:50:41` for the `*_timestamp` columns, and UTC with nanoseconds for custom
 * objects (`2021-04-16T16:12:22.222000000Z`).
 */
export class AccountTime {
	readonly offsetMinutes: number;

	constructor(readonly offset: string) {
		this.offsetMinutes = parseOffset(offset);
	}

	/** `2018-09-28T13:50:41-05:00` */
	iso(ms: number | null | undefined): string | null {
		if (ms === null || ms === undefined) return null;
		return `${this.localParts(ms).replace(' ', 'T')}${this.offset}`;
	}

	/** `2018-09-28 13:50:41` in account time. */
	local(ms: number | null | undefined): string | null {
		if (ms === null || ms === undefined) return null;
		return this.localParts(ms);
	}

	/** `2018-09-28` in account time. */
	date(ms: number): string {
		return this.localParts(ms).slice(0, 10);
	}

	/** `2021-04-16T16:12:22.222000000Z` */
	utcNanos(ms: number): string {
		return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
	}

	/**
	 * Parses what clients send in date filters: ISO-8601 with `Z` or an offset (absolute), ISO or
	 * `YYYY-MM-DD HH:MM[:SS]` without an offset (account time), or `YYYY-MM-DD` (account-time midnight).
	 */
	parse(value: string | null | undefined): number | undefined {
		if (!value) return undefined;
		const text = value.trim();
		const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text);
		if (!m) return undefined;
		const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
		const utc = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.round(Number(`0.${frac}`) * 1000));
		if (Number.isNaN(utc)) return undefined;
		const offsetMinutes = zone ? (zone.toUpperCase() === 'Z' ? 0 : parseOffset(zone)) : this.offsetMinutes;
		return utc - offsetMinutes * 60_000;
	}

	private localParts(ms: number): string {
		const shifted = new Date(ms + this.offsetMinutes * 60_000).toISOString();
		return `${shifted.slice(0, 10)} ${shifted.slice(11, 19)}`;
	}
}

export function parseOffset(offset: string): number {
	const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset.trim());
	if (!m) throw new Error(`Invalid timezone offset "${offset}" (expected e.g. -05:00)`);
	const minutes = Number(m[2]) * 60 + Number(m[3]);
	return m[1] === '-' ? -minutes : minutes;
}

/** Whole seconds, so filters compare at the precision the API prints. */
export function toSecond(ms: number): number {
	return Math.floor(ms / 1000) * 1000;
}
