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
	return `${new Date(epochMs).toISOString().slice(0, 19)}Z`;
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
	if (!isDay(day)) return undefined;
	const wall = Date.UTC(digits(day, 0, 4), digits(day, 5, 7) - 1, digits(day, 8, 10));
	return wallToInstant(wall, zone);
}

/** Whether `YYYY-MM-DD` is a real calendar day. */
export function isDay(day: string): boolean {
	if (day.length !== 10 || day.charCodeAt(4) !== 45 || day.charCodeAt(7) !== 45) return false;
	const y = digits(day, 0, 4);
	const m = digits(day, 5, 7);
	const d = digits(day, 8, 10);
	return y >= 0 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

function digits(text: string, from: number, to: number): number {
	let n = 0;
	for (let i = from; i < to; i++) {
		const c = text.charCodeAt(i) - 48;
		if (c < 0 || c > 9) return -1;
		n = n * 10 + c;
	}
	return n;
}

function daysInMonth(year: number, month: number): number {
	if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
	return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validParts(_wall: number, y: number, mo: number, d: number): boolean {
	return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function wallToInstant(wall: number, zone: Zone): number {
	const guess = wall - offsetAt(zone, wall) * 60_000;
	return wall - offsetAt(zone, guess) * 60_000;
}

let lastIso = '';
let lastInstant: number | undefined;

/**
 * An ISO date-time with an offset (or Z) as an instant, remembering the last one: a value is typically parsed for its
 * state hash and again for its conversion.
 */
export function instantOfOffsetIso(text: string): number | undefined {
	if (text === lastIso) return lastInstant;
	const instant = parseInstant(text, UTC_ZONE);
	lastIso = text;
	lastInstant = instant;
	return instant;
}

const UTC_ZONE: Zone = { fixed: 0 };
