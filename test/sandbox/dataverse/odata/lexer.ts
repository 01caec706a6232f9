/**
 * OData v4 URL expression lexer ($filter, $orderby, key predicates, function parameters). Error messages follow
 * the wording of Microsoft.OData.Core, which is what Dataverse returns.
 */
import { errors } from '../errors';

export type TokenKind =
	| 'ident'
	| 'string'
	| 'dqstring'
	| 'number'
	| 'guid'
	| 'datetime'
	| 'date'
	| 'enum'
	| 'alias'
	| '('
	| ')'
	| ','
	| '/'
	| '='
	| '['
	| ']'
	| ':'
	| 'eof';

export interface Token {
	kind: TokenKind;
	/** The token's text; for strings, the unescaped value. */
	text: string;
	pos: number;
	/** Enum literals: the type name before the quoted member. */
	enumType?: string;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z_])/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})(?![0-9A-Za-z_])/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![0-9A-Za-z_:T])/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![0-9A-Za-z_])/;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_.$]*/;

export function tokenize(text: string): Token[] {
	const tokens: Token[] = [];
	let i = 0;
	while (i < text.length) {
		const c = text[i];
		if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
			i++;
			continue;
		}
		const rest = text.slice(i);
		if ('(),/=[]:'.includes(c)) {
			tokens.push({ kind: c as TokenKind, text: c, pos: i });
			i++;
			continue;
		}
		if (c === "'") {
			const { value, end } = readQuoted(text, i, "'");
			tokens.push({ kind: 'string', text: value, pos: i });
			i = end;
			continue;
		}
		if (c === '"') {
			const { value, end } = readDoubleQuoted(text, i);
			tokens.push({ kind: 'dqstring', text: value, pos: i });
			i = end;
			continue;
		}
		if (c === '@') {
			const m = /^@[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
			if (!m) throw invalidCharacter(c, i, text);
			tokens.push({ kind: 'alias', text: m[0], pos: i });
			i += m[0].length;
			continue;
		}
		let m = GUID.exec(rest);
		if (m) {
			tokens.push({ kind: 'guid', text: m[0].toLowerCase(), pos: i });
			i += m[0].length;
			continue;
		}
		m = DATETIME.exec(rest);
		if (m) {
			tokens.push({ kind: 'datetime', text: m[0], pos: i });
			i += m[0].length;
			continue;
		}
		m = DATE.exec(rest);
		if (m) {
			tokens.push({ kind: 'date', text: m[0], pos: i });
			i += m[0].length;
			continue;
		}
		m = NUMBER.exec(rest);
		if (m && (c !== '-' || /\d/.test(text[i + 1] ?? ''))) {
			tokens.push({ kind: 'number', text: m[0], pos: i });
			i += m[0].length;
			continue;
		}
		m = IDENT.exec(rest);
		if (m) {
			const ident = m[0];
			if (text[i + ident.length] === "'" && ident.includes('.')) {
				// Enum literal: Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'
				const { value, end } = readQuoted(text, i + ident.length, "'");
				tokens.push({ kind: 'enum', text: value, pos: i, enumType: ident });
				i = end;
				continue;
			}
			tokens.push({ kind: 'ident', text: ident, pos: i });
			i += ident.length;
			continue;
		}
		throw invalidCharacter(c, i, text);
	}
	tokens.push({ kind: 'eof', text: '', pos: text.length });
	return tokens;
}

function readQuoted(text: string, start: number, quote: string): { value: string; end: number } {
	let value = '';
	let i = start + 1;
	for (;;) {
		if (i >= text.length) throw errors.odata(`There is an unterminated literal at position ${text.length} in '${text}'.`);
		const c = text[i];
		if (c === quote) {
			if (text[i + 1] === quote) {
				value += quote;
				i += 2;
				continue;
			}
			return { value, end: i + 1 };
		}
		value += c;
		i++;
	}
}

function readDoubleQuoted(text: string, start: number): { value: string; end: number } {
	let i = start + 1;
	while (i < text.length) {
		if (text[i] === '\\') {
			i += 2;
			continue;
		}
		if (text[i] === '"') {
			const raw = text.slice(start, i + 1);
			try {
				return { value: JSON.parse(raw) as string, end: i + 1 };
			} catch {
				break;
			}
		}
		i++;
	}
	throw errors.odata(`There is an unterminated literal at position ${text.length} in '${text}'.`);
}

function invalidCharacter(c: string, pos: number, text: string) {
	return errors.odata(`Syntax error: character '${c}' is not valid at position ${pos} in '${text}'.`);
}

/** A cursor over tokens with the parse errors Microsoft.OData.Core raises. */
export class TokenStream {
	private index = 0;

	constructor(
		private readonly tokens: Token[],
		readonly text: string,
	) {}

	get current(): Token {
		return this.tokens[this.index];
	}

	/** The current token's kind (a method, so TypeScript does not narrow it across next()). */
	kind(): TokenKind {
		return this.tokens[this.index].kind;
	}

	peek(offset = 1): Token {
		return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)];
	}

	next(): Token {
		const t = this.tokens[this.index];
		if (this.index < this.tokens.length - 1) this.index++;
		return t;
	}

	isIdent(value: string): boolean {
		return this.current.kind === 'ident' && this.current.text === value;
	}

	expect(kind: TokenKind): Token {
		if (this.current.kind !== kind) {
			if (kind === ')') throw errors.odata(`')' or ',' expected at position ${this.current.pos} in '${this.text}'.`);
			throw errors.odata(`Syntax error at position ${this.current.pos} in '${this.text}'.`);
		}
		return this.next();
	}
}
