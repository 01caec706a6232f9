/**
 * From what a workflow gives (column names with plain values, labels, lookups in several spellings) to what the Web
 * API takes (typed values, `<nav>@odata.bind`), driven by the table's live metadata. Each prepared record also
 * carries its values in the shape Dataverse returns them (`_x_value` for lookups), so it can be compared with the
 * current record and only differing columns written.
 */
import type { IDataObject } from 'n8n-workflow';

import { sameValue } from '../../shared/sync/canonical';
import { isEmpty } from '../../shared/sync/convert';
import type { ColumnInfo, TableInfo } from '../transport/metadata';
import {
	guidLiteral,
	isGuidText,
	isLookupColumn,
	listValues,
	optionValue,
	parseBoolean,
	toDateOnly,
	toUtcIso,
} from '../transport/odata';

/** A problem with one item's data; becomes that item's error. */
export class RecordError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'RecordError';
	}
}

/** A lookup given by a column value (`/accounts(name='Contoso')`) still to be turned into a GUID. */
export interface PendingBind {
	/** The `<nav>@odata.bind` key in the body. */
	bodyKey: string;
	/** `_x_value`, where the resolved GUID goes in the read shape. */
	readKey: string;
	entitySet: string;
	/** Key columns and their values (one or more, as in the URL). */
	key: Record<string, string>;
}

export interface PreparedRecord {
	/** The Web API body (binds with GUIDs, or still with a key until resolved). */
	body: IDataObject;
	/** Values in the shape Dataverse returns them, by property (`emailaddress1`, `_parentcustomerid_value`). */
	read: Record<string, unknown>;
	/** Which body keys carry each read property (a lookup's bind key, a column's own name). */
	bodyKeys: Record<string, string[]>;
	pending: PendingBind[];
	/**
	 * Lookups by a column value that matched no record, by read property, with why (resolveBinds with `mayWait`):
	 * left out of the body; the caller decides what the field's absence means.
	 */
	unresolved?: Record<string, string>;
	/** Input fields that are not writable columns (read-only, system, unknown in auto-map mode). */
	ignored: string[];
}

export interface TableDirectory {
	/** Entity set → logical name. */
	tableOfSet(entitySet: string): string | undefined;
	/** Logical name → entity set. */
	setOfTable(logicalName: string): string | undefined;
}

export interface PrepareOptions {
	mode: 'create' | 'update';
	/** Unknown fields are errors (columns defined in the node) or ignored (auto-mapped input). */
	unknownFields: 'error' | 'ignore';
	directory: TableDirectory;
}

const BIND_SUFFIX = '@odata.bind';

/**
 * Parses `/accounts(<guid>)`, `accounts(name='x')`, `accounts(name='x',accountnumber='1')`. Key values may hold any
 * character, line breaks included; a quote inside a quoted value is doubled (`'O''Brien'`).
 */
export function parseReference(value: string): { entitySet: string; id?: string; key?: Record<string, string> } | undefined {
	const text = value.trim();
	const match = /^(?:https?:\/\/[^/]+\/api\/data\/v[\d.]+\/|\/)?([A-Za-z0-9_]+)\(([\s\S]*)\)$/.exec(text);
	if (!match) return undefined;
	const inner = match[2].trim();
	if (isGuidText(inner)) return { entitySet: match[1], id: guidLiteral(inner) };
	const key: Record<string, string> = {};
	let rest = inner;
	while (rest.length) {
		const pair = /^\s*([A-Za-z0-9_]+)\s*=\s*('(?:[^']|'')*'|[^,]+)\s*(,|$)/.exec(rest);
		if (!pair) return undefined;
		const raw = pair[2].trim();
		key[pair[1]] = raw.startsWith("'") ? raw.slice(1, -1).replace(/''/g, "'") : raw;
		rest = rest.slice(pair[0].length);
	}
	return Object.keys(key).length ? { entitySet: match[1], key } : undefined;
}

/** The column and target table behind a `<nav>@odata.bind` key. */
function columnOfNavigation(table: TableInfo, nav: string): { column: ColumnInfo; target: string } | undefined {
	for (const column of table.columns.values()) {
		for (const [target, name] of Object.entries(column.navigation ?? {})) {
			if (name === nav || name.toLowerCase() === nav.toLowerCase()) return { column, target };
		}
	}
	return undefined;
}

/** A column's value in Web API form. */
export function convertValue(column: ColumnInfo, value: unknown): string | number | boolean | null {
	if (isEmpty(value)) return null;
	switch (column.type) {
			case 'Integer':
			case 'BigInt': {
				const n = typeof value === 'number' ? value : Number(String(value).trim());
				if (!Number.isInteger(n)) throw new RecordError(`The column '${column.logicalName}' takes a whole number; got '${String(value)}'`);
				return n;
			}
			case 'Decimal':
			case 'Double':
			case 'Money': {
				const n = typeof value === 'number' ? value : Number(String(value).trim().replace(/,/g, ''));
				if (!Number.isFinite(n)) throw new RecordError(`The column '${column.logicalName}' takes a number; got '${String(value)}'`);
				// Dataverse keeps the column's precision; rounding here keeps a rerun from seeing a difference.
				return column.precision !== undefined && column.type !== 'Double' ? Number(n.toFixed(column.precision)) : n;
			}
			case 'Boolean': {
				const parsed = parseBoolean(value);
				if (parsed !== undefined) return parsed;
				const text = String(value).trim().toLowerCase();
				if (column.trueLabel && text === column.trueLabel.toLowerCase()) return true;
				if (column.falseLabel && text === column.falseLabel.toLowerCase()) return false;
				throw new RecordError(
					`The column '${column.logicalName}' takes true or false${column.trueLabel ? ` (${column.trueLabel} / ${column.falseLabel})` : ''}; got '${String(value)}'`,
				);
			}
			case 'DateTime':
				return column.dateOnly ? toDateOnly(value, `value for '${column.logicalName}'`) : toUtcIso(value, `value for '${column.logicalName}'`);
			case 'Picklist':
			case 'State':
			case 'Status':
				return optionValue(column, value);
			case 'Uniqueidentifier':
				return guidLiteral(value, `value for '${column.logicalName}'`);
			default:
				if (column.multiSelect) {
					return listValues(value)
						.map((v) => optionValue(column, v))
						.join(',');
				}
				if (typeof value === 'object') {
					// Text columns take text: an object or a list is refused rather than stored in a form no one chose.
					throw new RecordError(
						`The column '${column.logicalName}' takes text; got ${Array.isArray(value) ? 'a list' : 'an object'} (${JSON.stringify(value).slice(0, 80)}). Pass JSON.stringify(...) to store it as text`,
					);
				}
				return String(value);
	}
}

/**
 * Choice values of a sync item are labels (ActiveCampaign holds labels): each becomes its option value by its label
 * alone, so a label that looks like a number ("100000001") is never taken for an option value.
 */
export function choiceLabelsToValues(table: TableInfo, record: IDataObject): IDataObject {
	const out: IDataObject = { ...record };
	for (const [name, value] of Object.entries(record)) {
		const column = table.columns.get(name);
		if (!column || isEmpty(value) || !(column.options?.length && (column.multiSelect || ['Picklist', 'State', 'Status'].includes(column.type)))) continue;
		const byLabel = (label: unknown): number => {
			if (typeof label === 'number') return label;
			const text = String(label).trim();
			const hit = column.options!.find((o) => o.label.toLowerCase() === text.toLowerCase());
			if (hit) return hit.value;
			throw new RecordError(
				`'${text}' is not a label of the choice column '${column.logicalName}'. Its labels: ${column.options!.map((o) => o.label).join(', ')}`,
			);
		};
		out[name] = column.multiSelect ? listValues(value).map(byLabel) : byLabel(value);
	}
	return out;
}

/** A lookup value for a column: a GUID, `account:<guid>`, `/accounts(<guid>)`, `accounts(name='x')`, or `{ id, entity }`. */
function lookupTarget(
	table: TableInfo,
	column: ColumnInfo,
	value: unknown,
	directory: TableDirectory,
): { target: string; entitySet: string; id?: string; key?: Record<string, string> } {
	const targets = column.targets ?? [];
	const fail = (why: string) =>
		new RecordError(
			`The lookup column '${column.logicalName}' of ${table.logicalName} ${why}. Give a GUID${targets.length > 1 ? ' with its table' : ''}, e.g. ${targets
				.slice(0, 2)
				.map((t) => `${t}:<guid> or /${directory.setOfTable(t) ?? `${t}s`}(<guid>)`)
				.join(', ')}, or /<entity set>(<column>='<value>')`,
		);
	let entity: string | undefined;
	let text: string;
	if (value && typeof value === 'object') {
		const v = value as IDataObject;
		entity = typeof v.entity === 'string' ? v.entity : typeof v.logicalName === 'string' ? v.logicalName : undefined;
		text = String(v.id ?? v.value ?? '');
	} else {
		text = String(value).trim();
	}
	const prefixed = /^([a-z0-9_]+):(.+)$/i.exec(text);
	if (!entity && prefixed && isGuidText(prefixed[2])) {
		entity = prefixed[1].toLowerCase();
		text = prefixed[2];
	}
	if (isGuidText(text)) {
		const target = entity ?? (targets.length === 1 ? targets[0] : undefined);
		if (!target) throw fail(`points to ${targets.join(' or ')}, so a bare GUID is ambiguous`);
		if (!targets.includes(target)) throw fail(`cannot point to ${target} (it points to ${targets.join(', ')})`);
		const entitySet = directory.setOfTable(target);
		if (!entitySet) throw fail(`points to ${target}, whose entity set is unknown`);
		return { target, entitySet, id: guidLiteral(text) };
	}
	const ref = parseReference(text);
	if (!ref) throw fail(`got '${text}'`);
	const target = directory.tableOfSet(ref.entitySet);
	if (!target || !targets.includes(target)) {
		throw fail(`cannot point to '${ref.entitySet}' (it points to ${targets.map((t) => directory.setOfTable(t) ?? t).join(', ')})`);
	}
	return { target, entitySet: ref.entitySet, id: ref.id, key: ref.key };
}

/**
 * Prepares one item's values for a write. Throws a RecordError naming the column when a value does not fit.
 */
export function prepareRecord(table: TableInfo, input: IDataObject, options: PrepareOptions): PreparedRecord {
	const prepared: PreparedRecord = { body: {}, read: {}, bodyKeys: {}, pending: [], ignored: [] };
	const writable = (column: ColumnInfo) =>
		(options.mode === 'create' ? column.validForCreate : column.validForUpdate) && !column.attributeOf && column.logicalName !== 'versionnumber';

	const addLookup = (column: ColumnInfo, resolved: ReturnType<typeof lookupTarget> | null, explicitNav?: string) => {
		const readKey = `_${column.logicalName}_value`;
		if (resolved === null) {
			// Clearing a lookup: bind every navigation property of the column to null is not possible; use the first.
			const nav = explicitNav ?? Object.values(column.navigation ?? {})[0] ?? column.logicalName;
			const bodyKey = `${nav}${BIND_SUFFIX}`;
			prepared.body[bodyKey] = null;
			prepared.read[readKey] = null;
			prepared.bodyKeys[readKey] = [bodyKey];
			return;
		}
		const nav = explicitNav ?? column.navigation?.[resolved.target] ?? column.logicalName;
		const bodyKey = `${nav}${BIND_SUFFIX}`;
		// A column set twice (e.g. customerid_account and customerid_contact): the last one wins.
		for (const previous of prepared.bodyKeys[readKey] ?? []) delete prepared.body[previous];
		prepared.pending = prepared.pending.filter((p) => p.readKey !== readKey);
		prepared.bodyKeys[readKey] = [bodyKey];
		if (resolved.id) {
			prepared.body[bodyKey] = `/${resolved.entitySet}(${resolved.id})`;
			prepared.read[readKey] = resolved.id;
		} else {
			prepared.body[bodyKey] = `/${resolved.entitySet}(${Object.entries(resolved.key ?? {})
				.map(([k, v]) => `${k}='${v.replace(/'/g, "''")}'`)
				.join(',')})`;
			prepared.read[readKey] = undefined;
			prepared.pending.push({ bodyKey, readKey, entitySet: resolved.entitySet, key: resolved.key ?? {} });
		}
	};

	for (const [field, value] of Object.entries(input)) {
		if (field.endsWith(BIND_SUFFIX)) {
			const nav = field.slice(0, -BIND_SUFFIX.length);
			const hit = columnOfNavigation(table, nav);
			if (!hit) {
				if (options.unknownFields === 'ignore') {
					prepared.ignored.push(field);
					continue;
				}
				throw new RecordError(`The table ${table.logicalName} has no lookup '${nav}' (in '${field}')`);
			}
			if (!writable(hit.column)) {
				prepared.ignored.push(field);
				continue;
			}
			if (isEmpty(value)) {
				addLookup(hit.column, null, nav);
				continue;
			}
			const text = String(value).trim();
			const resolved = isGuidText(text)
				? { target: hit.target, entitySet: options.directory.setOfTable(hit.target) ?? '', id: guidLiteral(text) }
				: lookupTarget(table, hit.column, text, options.directory);
			addLookup(hit.column, resolved, hit.column.navigation?.[resolved.target] === nav ? nav : undefined);
			continue;
		}
		if (field.includes('@') || field.startsWith('@')) continue; // annotations of a record read before
		const lookupValue = /^_(.+)_value$/.exec(field);
		const name = lookupValue && table.columns.has(lookupValue[1]) ? lookupValue[1] : field;
		const column = table.columns.get(name);
		if (!column) {
			if (options.unknownFields === 'ignore') {
				prepared.ignored.push(field);
				continue;
			}
			throw new RecordError(`The table ${table.logicalName} has no column '${field}'`);
		}
		if (!writable(column) || column.isPrimaryId) {
			prepared.ignored.push(field);
			continue;
		}
		if (isLookupColumn(column)) {
			if (isEmpty(value)) {
				addLookup(column, null);
				continue;
			}
			let lookup: unknown = value;
			if (lookupValue) {
				const target = input[`${field}@Microsoft.Dynamics.CRM.lookuplogicalname`];
				if (typeof target === 'string') lookup = { id: value, entity: target };
			}
			addLookup(column, lookupTarget(table, column, lookup, options.directory));
			continue;
		}
		const converted = convertValue(column, value);
		prepared.body[column.logicalName] = converted;
		prepared.read[column.logicalName] = converted;
		prepared.bodyKeys[column.logicalName] = [column.logicalName];
	}
	return prepared;
}

/** ApplicationRequired (and SystemRequired, user-settable) columns a create leaves empty. */
export function missingRequired(table: TableInfo, prepared: PreparedRecord): ColumnInfo[] {
	const missing: ColumnInfo[] = [];
	for (const column of table.columns.values()) {
		if (column.requiredLevel !== 'ApplicationRequired') continue;
		if (!column.validForCreate || column.attributeOf || column.isPrimaryId) continue;
		const property = isLookupColumn(column) ? `_${column.logicalName}_value` : column.logicalName;
		const keys = prepared.bodyKeys[property];
		const present = keys?.some((k) => prepared.body[k] !== null && prepared.body[k] !== undefined && prepared.body[k] !== '');
		if (!present) missing.push(column);
	}
	return missing;
}

/** The body keys whose values differ from the current record (in its read shape). */
export function changedBody(prepared: PreparedRecord, current: IDataObject): IDataObject {
	const body: IDataObject = {};
	for (const [property, keys] of Object.entries(prepared.bodyKeys)) {
		if (sameColumnValue(prepared.read[property], current[property])) continue;
		for (const key of keys) body[key] = prepared.body[key];
	}
	return body;
}

/** Whether a column's value to write equals its current value (money and decimals compared numerically). */
export function sameColumnValue(next: unknown, now: unknown): boolean {
	if (sameValue(next, now)) return true;
	return typeof next === 'number' && now !== null && now !== undefined && Math.abs(Number(now) - next) < 1e-9;
}

/** The read properties a prepared record touches (for `$select` of the current values). */
export function readProperties(prepared: PreparedRecord): string[] {
	return Object.keys(prepared.bodyKeys);
}
