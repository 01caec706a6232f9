/**
 * Query options shared by Get, Get Many, Get Changes and the trigger: `$select` from chosen columns, criteria rows
 * compiled to `$filter`, the related-contact expansion of opportunities, formatted values.
 */
import type { IDataObject } from 'n8n-workflow';

import type { ColumnInfo, TableInfo } from '../transport/metadata';
import { RecordError } from './values';
import { compileCriteria, queryProperty, toUtcIso, type CriteriaOperator, type Criterion } from '../transport/odata';
import { GUID_TEXT } from '../../shared/guid';

export const FORMATTED_VALUES = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname"';

/** `$select` of chosen columns (lookups as `_x_value`), with the primary key; undefined selects all columns. */
export function selectFor(table: TableInfo, columns: readonly string[] | undefined, always: readonly string[] = []): string | undefined {
	const chosen = (columns ?? []).map((c) => c.trim()).filter(Boolean);
	if (!chosen.length) return undefined;
	const properties = new Set<string>([table.primaryIdAttribute, ...always]);
	for (const name of chosen) {
		const column = table.columns.get(name) ?? table.columns.get(/^_(.+)_value$/.exec(name)?.[1] ?? '');
		if (!column) throw new RecordError(`The table ${table.logicalName} has no column '${name}'`);
		properties.add(queryProperty(column));
	}
	return [...properties].join(',');
}

export function columnLookup(table: TableInfo): (name: string) => ColumnInfo {
	return (name: string) => {
		const column = table.columns.get(name) ?? table.columns.get(/^_(.+)_value$/.exec(name)?.[1] ?? '');
		if (!column) throw new RecordError(`The table ${table.logicalName} has no column '${name}'`);
		return column;
	};
}

export interface CriteriaInput {
	conditions?: Array<{ column?: string; operator?: string; value?: unknown }>;
}

/** The criteria rows of a node parameter. */
export function criteriaOf(parameter: unknown): Criterion[] {
	const rows = ((parameter as CriteriaInput | undefined)?.conditions ?? []) as Array<{ column?: string; operator?: string; value?: unknown }>;
	return rows
		.filter((r) => r.column)
		.map((r) => ({ column: String(r.column), operator: (r.operator ?? 'eq') as CriteriaOperator, value: r.value }));
}

export function criteriaFilter(table: TableInfo, criteria: readonly Criterion[], combinator: 'and' | 'or' = 'and'): string | undefined {
	return compileCriteria(columnLookup(table), criteria, combinator);
}

export function modifiedSinceFilter(value: unknown): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	return `modifiedon ge ${toUtcIso(value, "'Modified Since'")}`;
}

/** Opportunities: expand the customer contact's and the parent contact's email (the Field Map links by it). */
export const RELATED_CONTACT_EXPAND = 'customerid_contact($select=emailaddress1),parentcontactid($select=emailaddress1)';

export function relatedContactExpand(table: TableInfo): string | undefined {
	if (table.logicalName !== 'opportunity') return undefined;
	return RELATED_CONTACT_EXPAND;
}

/** Moves the expanded contact emails into `relatedContactEmail` / `relatedContactId`. */
export function flattenRelatedContact(record: IDataObject): IDataObject {
	const customer = record.customerid_contact as IDataObject | null | undefined;
	const parent = record.parentcontactid as IDataObject | null | undefined;
	const chosen = customer?.emailaddress1 ? customer : parent?.emailaddress1 ? parent : customer ?? parent;
	const result: IDataObject = { ...record };
	delete result.customerid_contact;
	delete result.parentcontactid;
	result.relatedContactEmail = (chosen?.emailaddress1 as string | undefined) ?? null;
	result.relatedContactId = (chosen?.contactid as string | undefined) ?? null;
	return result;
}

/**
 * A Raw Filter as typed, checked before it is sent. Its parentheses must balance and its quotes close, so it cannot
 * close the group it is placed in and turn the compiled parts (criteria, watermark, echo guard) into alternatives of
 * its own. Every name in it must be a column of the table (lookups as `_x_value`), and the only functions are those a
 * paged Dataverse read takes: contains, startswith, endswith and the Microsoft.Dynamics.CRM query functions (whose
 * PropertyName must be a column too); paths into related tables and lambda operators are refused. A mistake is named
 * here, before any request, rather than answered by Dataverse in the middle of a run.
 */
export function rawFilter(table: TableInfo, value: unknown): string | undefined {
	const text = typeof value === 'string' ? value.trim() : '';
	if (!text) return undefined;
	let depth = 0;
	let quoted = false;
	for (const c of text) {
		// A doubled quote inside a string closes and reopens it: the state after both is the same.
		if (c === "'") quoted = !quoted;
		if (quoted) continue;
		if (c === '(') depth++;
		if (c === ')' && --depth < 0) break;
	}
	if (quoted) throw new RecordError(`The Raw Filter has a string that is not closed (a single quote is missing): ${text}`);
	if (depth !== 0) {
		throw new RecordError(
			`The Raw Filter's parentheses do not balance (${depth < 0 ? 'a ")" closes a group it did not open' : 'a "(" is not closed'}): ${text}`,
		);
	}
	checkFilterNames(table, text);
	return `(${text})`;
}

const FILTER_KEYWORDS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or', 'not', 'null', 'true', 'false']);
const FILTER_FUNCTIONS = new Set(['contains', 'startswith', 'endswith', 'not']);
const QUERY_FUNCTION = /^Microsoft\.Dynamics\.CRM\.[A-Za-z]+$/;
const LITERAL = new RegExp(`^(?:${GUID_TEXT}|-?\\d[\\w:.+-]*)`, 'i');

/** The names in a Raw Filter: columns of the table, keywords, and the functions a paged read takes (see rawFilter). */
function checkFilterNames(table: TableInfo, text: string): void {
	const known = (name: string) => table.columns.has(name) || table.columns.has(/^_(.+)_value$/.exec(name)?.[1] ?? '') || name === table.primaryIdAttribute;
	const refuse = (why: string) => {
		throw new RecordError(`The Raw Filter ${why}: ${text}`);
	};
	let i = 0;
	while (i < text.length) {
		const rest = text.slice(i);
		const c = text[i];
		if (/\s/.test(c) || '(),[]='.includes(c)) {
			i++;
			continue;
		}
		if (c === "'") {
			// A string: up to its closing quote (a doubled quote is one quote inside it).
			let j = i + 1;
			while (j < text.length && !(text[j] === "'" && text[j + 1] !== "'")) j += text[j] === "'" ? 2 : 1;
			const literal = text.slice(i, j + 1);
			// A query function's PropertyName names a column.
			if (/PropertyName\s*=\s*$/.test(text.slice(0, i)) && !known(literal.slice(1, -1).replace(/''/g, "'"))) {
				refuse(`names the column '${literal.slice(1, -1)}', which the table ${table.logicalName} does not have`);
			}
			i = j + 1;
			continue;
		}
		const literal = LITERAL.exec(rest);
		if (literal) {
			i += literal[0].length;
			continue;
		}
		const word = /^[A-Za-z_][\w.]*(?:\/[\w.]+)*/.exec(rest)?.[0];
		if (!word) refuse(`has a character a filter cannot hold ('${c}')`);
		i += word!.length;
		const after = text.slice(i).trimStart();
		if (word!.includes('/')) refuse(`reads a related table ('${word}'); filter on this table's columns (a lookup as _name_value)`);
		if (after.startsWith('(')) {
			const name = word!;
			if (!FILTER_FUNCTIONS.has(name.toLowerCase()) && !QUERY_FUNCTION.test(name)) {
				refuse(`uses the function '${name}', which a paged Dataverse read does not take here; use contains, startswith, endswith or a Microsoft.Dynamics.CRM query function`);
			}
			continue;
		}
		if (/^Property(Name|Value|Values)$/.test(word!) && after.startsWith('=')) continue;
		if (FILTER_KEYWORDS.has(word!.toLowerCase())) continue;
		if (!known(word!)) refuse(`names the column '${word}', which the table ${table.logicalName} does not have`);
	}
}
