/**
 * Parsing of the OData system query options Dataverse supports on entity sets ($select, $expand, $orderby, $top,
 * $count, $skiptoken) and of the Prefer header, plus the opaque paging cookie.
 */
import { errors } from '../errors';

export interface ExpandItem {
	nav: string;
	select?: string[];
	filter?: string;
	orderby?: string;
	top?: number;
	expand?: ExpandItem[];
}

export interface Preferences {
	returnRepresentation: boolean;
	/** Raw annotation patterns from odata.include-annotations, e.g. ["*"] or ["OData.Community.Display.V1.FormattedValue"]. */
	annotations: string[];
	annotationsRaw?: string;
	maxPageSize?: number;
	trackChanges: boolean;
	continueOnError: boolean;
}

/** Splits on a separator outside parentheses, brackets and quotes. */
export function splitTopLevel(text: string, separator: string): string[] {
	const parts: string[] = [];
	let depth = 0;
	let quote: string | null = null;
	let start = 0;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (quote) {
			if (c === quote) {
				if (text[i + 1] === quote) i++;
				else quote = null;
			}
			continue;
		}
		if (c === "'" || c === '"') quote = c;
		else if (c === '(' || c === '[') depth++;
		else if (c === ')' || c === ']') depth--;
		else if (c === separator && depth === 0) {
			parts.push(text.slice(start, i));
			start = i + 1;
		}
	}
	parts.push(text.slice(start));
	return parts.map((p) => p.trim()).filter((p) => p !== '');
}

export function parseSelect(value: string | null | undefined): string[] | undefined {
	if (value === null || value === undefined) return undefined;
	const items = splitTopLevel(value, ',');
	return items.length === 0 || items.includes('*') ? undefined : items;
}

export function parseExpand(value: string): ExpandItem[] {
	return splitTopLevel(value, ',').map((part) => {
		const open = part.indexOf('(');
		if (open < 0) return { nav: part };
		if (!part.endsWith(')')) throw errors.odata(`Syntax error at position ${part.length} in '${value}'.`);
		const nav = part.slice(0, open).trim();
		const inner = part.slice(open + 1, -1);
		const item: ExpandItem = { nav };
		for (const option of splitTopLevel(inner, ';')) {
			const eq = option.indexOf('=');
			if (eq < 0) throw errors.odata(`Syntax error at position ${open + 1} in '${value}'.`);
			const name = option.slice(0, eq).trim();
			const v = option.slice(eq + 1).trim();
			switch (name) {
				case '$select':
					item.select = parseSelect(v);
					break;
				case '$filter':
					item.filter = v;
					break;
				case '$orderby':
					item.orderby = v;
					break;
				case '$top':
					item.top = parseTop(v);
					break;
				case '$expand':
					item.expand = parseExpand(v);
					break;
				default:
					throw errors.odata(`The query parameter '${name}' is not supported in an expand option.`);
			}
		}
		return item;
	});
}

export function parseTop(value: string): number {
	if (!/^\d+$/.test(value.trim())) throw errors.odata(`Invalid value '${value}' for $top query option found. The $top query option requires a non-negative integer value.`);
	return Number(value.trim());
}

export interface OrderItem {
	property: string;
	desc: boolean;
}

export function parseOrderBy(value: string): OrderItem[] {
	return splitTopLevel(value, ',').map((part) => {
		const m = /^(\S+)(?:\s+(asc|desc))?$/i.exec(part);
		if (!m) throw errors.odata(`Syntax error at position 0 in '${value}'.`);
		return { property: m[1], desc: (m[2] ?? 'asc').toLowerCase() === 'desc' };
	});
}

/** Parses one or more Prefer headers. */
export function parsePrefer(header: string | undefined): Preferences {
	const prefs: Preferences = { returnRepresentation: false, annotations: [], trackChanges: false, continueOnError: false };
	if (!header) return prefs;
	for (const raw of splitTopLevel(header, ',')) {
		const eq = raw.indexOf('=');
		const name = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase();
		const value = eq < 0 ? '' : raw.slice(eq + 1).trim();
		switch (name) {
			case 'return':
				prefs.returnRepresentation = value.toLowerCase() === 'representation';
				break;
			case 'odata.include-annotations': {
				const unquoted = value.replace(/^"|"$/g, '');
				prefs.annotationsRaw = unquoted;
				prefs.annotations = unquoted
					.split(',')
					.map((s) => s.trim())
					.filter(Boolean);
				break;
			}
			case 'odata.maxpagesize': {
				const n = Number(value);
				if (Number.isInteger(n) && n > 0) prefs.maxPageSize = n;
				break;
			}
			case 'odata.track-changes':
				prefs.trackChanges = true;
				break;
			case 'odata.continue-on-error':
				prefs.continueOnError = value === '' || value.toLowerCase() === 'true';
				break;
		}
	}
	return prefs;
}

/** Whether an annotation (e.g. OData.Community.Display.V1.FormattedValue) was asked for. */
export function wantsAnnotation(prefs: Preferences, name: string): boolean {
	return prefs.annotations.some((pattern) => {
		if (pattern === '*') return true;
		if (pattern.startsWith('-')) return false;
		if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
		return pattern === name;
	});
}

// ---------------------------------------------------------------------------------------------------------------
// Paging cookie ($skiptoken), shaped like Dataverse's: <cookie pagenumber="2" pagingcookie="..." istracking="False" />

export interface PageState {
	/** Next page number (2 for the second page). */
	page: number;
	/** Sort values of the last row returned, then its primary key. */
	last?: unknown[];
	lastId?: string;
	firstId?: string;
	/** Rows returned so far (for $top without maxpagesize). */
	returned: number;
	/** Change tracking: the delta token the whole paged read belongs to, and the version range. */
	tracking?: { from: number; to: number; token: string; initial: boolean; offset: number };
}

export function encodeSkipToken(state: PageState): string {
	const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
	const inner =
		`<cookie page="${state.page - 1}">` +
		(state.lastId ? `<id last="{${state.lastId.toUpperCase()}}" first="{${(state.firstId ?? state.lastId).toUpperCase()}}" />` : '') +
		`<sandbox state="${payload}" /></cookie>`;
	const pagingCookie = encodeURIComponent(encodeURIComponent(inner));
	return `<cookie pagenumber="${state.page}" pagingcookie="${pagingCookie}" istracking="${state.tracking ? 'True' : 'False'}" />`;
}

export function decodeSkipToken(token: string): PageState {
	const m = /pagingcookie="([^"]*)"/.exec(token);
	const bad = () => errors.invalidArgument(`The $skiptoken value is not valid.`);
	if (!m) throw bad();
	try {
		const inner = decodeURIComponent(decodeURIComponent(m[1]));
		const s = /<sandbox state="([^"]+)"/.exec(inner);
		if (!s) throw bad();
		const state = JSON.parse(Buffer.from(s[1], 'base64url').toString('utf8')) as PageState;
		if (typeof state.page !== 'number') throw bad();
		return state;
	} catch {
		throw bad();
	}
}
