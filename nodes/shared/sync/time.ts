/**
 * Time-zone arithmetic for conversions, fast enough for 100,000 records a second: a zone's UTC offset is computed
 * once per hour of time (luxon/Intl is slow per call) and ISO strings are formatted by hand.
 */
import { IANAZone } from 'luxon';

export interface Zone {
	/** Minutes east of UTC for a fixed-offset zone. */
	fixed?: number;
	iana?: IANAZone;
	cache?: Map<number, number>;
}

const zones = new Map<string, Zone>();
const HOUR = 3_600_000;

/** An IANA name (`America/Chicago`) or an offset (`-05:00`, `UTC+2`); unknown names fall back to UTC. */
export function zoneOf(spec: string): Zone {
	let zone = zones.get(spec);
	if (zone) return zone;
	const text = spec.trim();
	const offset = /^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(text);
	if (offset) {
		zone = { fixed: (Number(offset[2]) * 60 + Number(offset[3] ?? 0)) * (offset[1] === '-' ? -1 : 1) };
	} else if (/^(utc|gmt|z)?$/i.test(text)) {
		zone = { fixed: 0 };
	} else {
		const iana = IANAZone.create(text);
		zone = iana.isValid ? { iana, cache: new Map() } : { fixed: 0 };
	}
	zones.set(spec, zone);
	return zone;
}

/** The zone's offset from UTC, in minutes, at an instant. */
export function offsetAt(zone: Zone, epochMs: number): number {
	if (zone.fixed !== undefined) return zone.fixed;
	const bucket = Math.floor(epochMs / HOUR);
	let offset = zone.cache!.get(bucket);
	if (offset === undefined) {
		// Transitions happen on whole hours (or half hours in a few zones): check both ends of the hour.
		const start = zone.iana!.offset(bucket * HOUR);
		const end = zone.iana!.offset(bucket * HOUR + HOUR - 1);
		offset = start === end ? start : zone.iana!.offset(epochMs);
		if (start === end) {
			if (zone.cache!.size > 100_000) zone.cache!.clear();
			zone.cache!.set(bucket, offset);
		}
	}
	return offset;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `YYYY-MM-DD` of an instant in the zone. */
export function localDate(epochMs: number, zone: Zone): string {
	const local = new Date(epochMs + offsetAt(zone, epochMs) * 60_000);
	return `${local.getUTCFullYear()}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}`;
}

/** `YYYY-MM-DDTHH:mm:ss±HH:MM` of an instant in the zone (seconds precision). */
export function localIso(epochMs: number, zone: Zone): string {
	const minutes = offsetAt(zone, epochMs);
	const local = new Date(epochMs + minutes * 60_000);
	const sign = minutes < 0 ? '-' : '+';
	const abs = Math.abs(minutes);
	return (
		`${local.getUTCFullYear()}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}` +
		`T${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}` +
		`${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
	);
}

/** `YYYY-MM-DDTHH:mm:ssZ` (UTC, seconds precision). */
export function utcIso(epochMs: number): string {
	return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An ISO date-time as an instant. With an offset or Z it is absolute; without, it is wall time in `zone` (how
 * ActiveCampaign writes some timestamps). Undefined when the text is not a valid date-time.
 */
export function parseInstant(text: string, zone: Zone): number | undefined {
	const m = DATE_TIME.exec(text.trim());
	if (!m) return undefined;
	const [, y, mo, d, h, mi, s = '0', fraction = ''] = m;
	const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, fraction ? Math.round(Number(fraction) * 1000) : 0);
	if (!validParts(wall, +y, +mo, +d) || +h > 23 || +mi > 59 || +s > 59) return undefined;
	const designator = m[8];
	if (designator) {
		if (designator.toUpperCase() === 'Z') return wall;
		const sign = designator[0] === '-' ? -1 : 1;
		const digits = designator.slice(1).replace(':', '');
		return wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
	}
	return wallToInstant(wall, zone);
}

/** Midnight of a `YYYY-MM-DD` day in the zone, as an instant. */
export function startOfDay(day: string, zone: Zone): number | undefined {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
	if (!m) return undefined;
	const wall = Date.UTC(+m[1], +m[2] - 1, +m[3]);
	if (!validParts(wall, +m[1], +m[2], +m[3])) return undefined;
	return wallToInstant(wall, zone);
}

/** Whether `YYYY-MM-DD` is a real calendar day. */
export function isDay(day: string): boolean {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
	return m !== null && validParts(Date.UTC(+m[1], +m[2] - 1, +m[3]), +m[1], +m[2], +m[3]);
}

function validParts(wall: number, y: number, mo: number, d: number): boolean {
	const date = new Date(wall);
	return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function wallToInstant(wall: number, zone: Zone): number {
	const guess = wall - offsetAt(zone, wall) * 60_000;
	return wall - offsetAt(zone, guess) * 60_000;
}
