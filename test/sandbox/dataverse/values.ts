/**
 * Column values: conversion of request JSON to stored values (with Dataverse's validation errors), conversion of
 * stored values to Web API JSON, and the OData.Community.Display.V1.FormattedValue strings.
 */
import { DataverseError, errors } from './errors';
import { edmType, type ColumnDef, type TableDef } from './metadata';
import { isLookupValue, type StoredValue } from './store';
import { isGuid } from './odata/filter';

/** Truncates to whole seconds: Dataverse stores date/time values with second precision. */
export function toSecond(ms: number): number {
	return Math.floor(ms / 1000) * 1000;
}

export function isoSeconds(ms: number): string {
	return new Date(toSecond(ms)).toISOString().replace('.000Z', 'Z');
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?$/;

/** Parses an Edm.DateTimeOffset payload value; a bare date is read as midnight UTC. */
export function parseDateTime(value: string): number | undefined {
	if (DATE_ONLY.test(value)) return Date.parse(`${value}T00:00:00Z`);
	if (!DATE_TIME.test(value)) return undefined;
	const hasZone = /(?:Z|[+-]\d{2}:\d{2})$/.test(value);
	const ms = Date.parse(hasZone ? value : `${value}Z`);
	return Number.isNaN(ms) ? undefined : ms;
}

function literalText(value: unknown): string {
	return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Converts one payload value for a column. `entitySet` names the payload in the 0x80048d19 message.
 * Lookups are not handled here (they are written through @odata.bind).
 */
export function convertInput(table: TableDef, col: ColumnDef, value: unknown, entitySet: string): StoredValue {
	if (value === null) return null;
	const bad = () => errors.cannotConvert(entitySet, literalText(value), edmType(col));
	switch (col.type) {
		case 'String':
		case 'Memo': {
			if (typeof value !== 'string') throw bad();
			if (col.maxLength !== undefined && value.length > col.maxLength) throw errors.maxLength(col.logicalName, table.logicalName, col.maxLength);
			return value;
		}
		case 'Integer':
		case 'BigInt': {
			if (typeof value !== 'number' || !Number.isInteger(value)) throw bad();
			if (col.type === 'Integer' && (value > 2147483647 || value < -2147483648)) throw bad();
			if (col.minValue !== undefined && col.maxValue !== undefined && (value < col.minValue || value > col.maxValue)) {
				throw new DataverseError(
					400,
					'0x80044330',
					`A validation error occurred. The value ${value} of '${col.logicalName}' on record of type '${table.logicalName}' is outside the valid range(${col.minValue} to ${col.maxValue}).`,
				);
			}
			return value;
		}
		case 'Decimal':
		case 'Double':
		case 'Money': {
			const n = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
			if (typeof n !== 'number' || !Number.isFinite(n)) throw bad();
			if (col.minValue !== undefined && col.maxValue !== undefined && (n < col.minValue || n > col.maxValue)) {
				throw new DataverseError(
					400,
					'0x80044330',
					`A validation error occurred. The value ${n} of '${col.logicalName}' on record of type '${table.logicalName}' is outside the valid range(${col.minValue} to ${col.maxValue}).`,
				);
			}
			return col.precision !== undefined ? Number(n.toFixed(col.precision)) : n;
		}
		case 'Boolean':
			if (typeof value !== 'boolean') throw bad();
			return value;
		case 'DateTime': {
			if (typeof value !== 'string') throw bad();
			if (col.format === 'DateOnly') {
				if (!DATE_ONLY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw bad();
				return value;
			}
			const ms = parseDateTime(value);
			if (ms === undefined) throw bad();
			return toSecond(ms);
		}
		case 'Picklist':
		case 'State':
		case 'Status': {
			if (typeof value !== 'number' || !Number.isInteger(value)) throw bad();
			checkOption(table, col, value);
			return value;
		}
		case 'Virtual': {
			if (!col.multiSelect) throw bad();
			if (typeof value !== 'string') throw bad();
			if (value.trim() === '') return null;
			const parts = value.split(',').map((p) => p.trim());
			const numbers: number[] = [];
			for (const p of parts) {
				if (!/^-?\d+$/.test(p)) throw bad();
				const n = Number(p);
				checkOption(table, col, n);
				if (!numbers.includes(n)) numbers.push(n);
			}
			return numbers.sort((a, b) => a - b);
		}
		case 'Uniqueidentifier':
			if (typeof value !== 'string' || !isGuid(value)) throw bad();
			return value.toLowerCase();
		default:
			throw bad();
	}
}

function checkOption(table: TableDef, col: ColumnDef, value: number): void {
	const options = col.options ?? [];
	if (!options.some((o) => o.value === value)) {
		throw errors.optionOutOfRange(
			col.logicalName,
			table.logicalName,
			value,
			options.map((o) => o.value),
		);
	}
}

/** Converts a stored value to its Web API JSON form. */
export function toJson(col: ColumnDef, value: StoredValue | undefined): unknown {
	if (value === null || value === undefined) return null;
	if (isLookupValue(value)) return value.id;
	switch (col.type) {
		case 'DateTime':
			return col.format === 'DateOnly' ? value : isoSeconds(value as number);
		case 'Virtual':
			return Array.isArray(value) ? value.join(',') : value;
		default:
			return value;
	}
}

const NUMBER_FORMAT = new Intl.NumberFormat('en-US');

/** The formatted value Dataverse returns for a column (en-US, UTC user time zone), or undefined when it has none. */
export function formatted(
	col: ColumnDef,
	value: StoredValue | undefined,
	lookupName: (v: { id: string; table: string }) => string | undefined,
	currencySymbol = '$',
): string | undefined {
	if (value === null || value === undefined) return undefined;
	if (isLookupValue(value)) return lookupName(value);
	switch (col.type) {
		case 'Picklist':
		case 'State':
		case 'Status':
			return col.options?.find((o) => o.value === value)?.label;
		case 'Virtual':
			if (!Array.isArray(value)) return undefined;
			return value.map((v) => col.options?.find((o) => o.value === v)?.label ?? String(v)).join('; ');
		case 'Boolean':
			return value ? (col.trueLabel ?? 'Yes') : (col.falseLabel ?? 'No');
		case 'Money': {
			const n = value as number;
			const text = Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: col.precision ?? 2, maximumFractionDigits: col.precision ?? 2 });
			return n < 0 ? `-${currencySymbol}${text}` : `${currencySymbol}${text}`;
		}
		case 'Integer':
		case 'BigInt':
		case 'Decimal':
		case 'Double':
			return NUMBER_FORMAT.format(value as number);
		case 'DateTime': {
			if (col.format === 'DateOnly') {
				const [y, m, d] = String(value).split('-').map(Number);
				return `${m}/${d}/${y}`;
			}
			const dt = new Date(value as number);
			const h = dt.getUTCHours();
			const hour12 = h % 12 === 0 ? 12 : h % 12;
			const minutes = String(dt.getUTCMinutes()).padStart(2, '0');
			return `${dt.getUTCMonth() + 1}/${dt.getUTCDate()}/${dt.getUTCFullYear()} ${hour12}:${minutes} ${h < 12 ? 'AM' : 'PM'}`;
		}
		default:
			return undefined;
	}
}
