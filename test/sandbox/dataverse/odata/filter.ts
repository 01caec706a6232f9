/**
 * $filter: a parser (OData v4 grammar, Microsoft.OData.Core precedence: or < and < comparison < unary < primary)
 * and a compiler that turns the syntax tree into a predicate over rows. Property access, value types and the
 * Dataverse query functions come from a binder, so the same code filters records and metadata.
 */
import { errors } from '../errors';
import { tokenize, TokenStream, type Token } from './lexer';

export type LiteralType = 'string' | 'number' | 'boolean' | 'null' | 'guid' | 'datetime' | 'date' | 'enum';

export type FilterNode =
	| { kind: 'literal'; type: LiteralType; value: string | number | boolean | null; text: string; pos: number; edm: string }
	| { kind: 'property'; path: string[]; pos: number }
	| { kind: 'binary'; op: string; left: FilterNode; right: FilterNode; pos: number }
	| { kind: 'not'; operand: FilterNode; pos: number }
	| { kind: 'call'; name: string; args: FilterNode[]; named: Record<string, FilterNode>; pos: number }
	| { kind: 'array'; items: FilterNode[]; pos: number };

const COMPARISON = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const OP_KIND: Record<string, string> = {
	eq: 'Equal',
	ne: 'NotEqual',
	gt: 'GreaterThan',
	ge: 'GreaterThanOrEqual',
	lt: 'LessThan',
	le: 'LessThanOrEqual',
	and: 'And',
	or: 'Or',
};

/** Parses a $filter expression. `aliases` resolves parameter aliases (`@p1`) from the query string. */
export function parseFilter(text: string, aliases: Record<string, string> = {}): FilterNode {
	const stream = new TokenStream(tokenize(text), text);
	const node = parseOr(stream, aliases);
	if (stream.kind() !== 'eof') {
		throw errors.odata(`')' or operator expected at position ${stream.current.pos} in '${text}'.`);
	}
	return node;
}

function parseOr(s: TokenStream, aliases: Record<string, string>): FilterNode {
	let left = parseAnd(s, aliases);
	while (s.isIdent('or')) {
		const pos = s.next().pos;
		left = { kind: 'binary', op: 'or', left, right: parseAnd(s, aliases), pos };
	}
	return left;
}

function parseAnd(s: TokenStream, aliases: Record<string, string>): FilterNode {
	let left = parseComparison(s, aliases);
	while (s.isIdent('and')) {
		const pos = s.next().pos;
		left = { kind: 'binary', op: 'and', left, right: parseComparison(s, aliases), pos };
	}
	return left;
}

function parseComparison(s: TokenStream, aliases: Record<string, string>): FilterNode {
	let left = parseUnary(s, aliases);
	while (s.kind() === 'ident' && COMPARISON.has(s.current.text)) {
		const op = s.next();
		left = { kind: 'binary', op: op.text, left, right: parseUnary(s, aliases), pos: op.pos };
	}
	if (s.kind() === 'ident' && ['add', 'sub', 'mul', 'div', 'mod', 'has', 'in'].includes(s.current.text)) {
		throw errors.odata(`The '${s.current.text}' operator is not supported by Dataverse query translation at position ${s.current.pos} in '${s.text}'.`);
	}
	return left;
}

function parseUnary(s: TokenStream, aliases: Record<string, string>): FilterNode {
	if (s.isIdent('not')) {
		const pos = s.next().pos;
		return { kind: 'not', operand: parseUnary(s, aliases), pos };
	}
	return parsePrimary(s, aliases);
}

function literal(type: LiteralType, value: string | number | boolean | null, t: Token, edm: string): FilterNode {
	return { kind: 'literal', type, value, text: t.text, pos: t.pos, edm };
}

function parsePrimary(s: TokenStream, aliases: Record<string, string>): FilterNode {
	const t = s.current;
	switch (t.kind) {
		case '(': {
			s.next();
			const inner = parseOr(s, aliases);
			if (s.kind() !== ')') throw errors.odata(`')' or operator expected at position ${s.current.pos} in '${s.text}'.`);
			s.next();
			return inner;
		}
		case 'string':
		case 'dqstring':
			s.next();
			return literal('string', t.text, t, 'Edm.String');
		case 'number': {
			s.next();
			const clean = t.text.replace(/[mMdDfFlL]$/, '');
			const value = Number(clean);
			const isInt = /^-?\d+$/.test(clean);
			const edm = isInt ? (Math.abs(value) <= 2147483647 ? 'Edm.Int32' : 'Edm.Int64') : 'Edm.Decimal';
			return literal('number', value, t, edm);
		}
		case 'guid':
			s.next();
			return literal('guid', t.text, t, 'Edm.Guid');
		case 'datetime':
			s.next();
			return literal('datetime', t.text, t, 'Edm.DateTimeOffset');
		case 'date':
			s.next();
			return literal('date', t.text, t, 'Edm.Date');
		case 'enum':
			s.next();
			return literal('enum', t.text, t, t.enumType ?? 'Edm.String');
		case 'alias': {
			s.next();
			const raw = aliases[t.text];
			if (raw === undefined) throw errors.odata(`Could not find an alias named '${t.text}' in the request.`);
			return parseAliasValue(raw, aliases);
		}
		case '[':
			return parseArray(s, aliases);
		case 'ident':
			return parseIdentifier(s, aliases);
		case 'eof':
			throw errors.odata(`Expression expected at position ${t.pos} in '${s.text}'.`);
		default:
			throw errors.odata(`Syntax error at position ${t.pos} in '${s.text}'.`);
	}
}

function parseAliasValue(raw: string, aliases: Record<string, string>): FilterNode {
	const stream = new TokenStream(tokenize(raw), raw);
	const node = stream.kind() === '[' ? parseArray(stream, aliases) : parsePrimary(stream, aliases);
	if (stream.kind() !== 'eof') throw errors.odata(`Syntax error at position ${stream.current.pos} in '${raw}'.`);
	return node;
}

function parseArray(s: TokenStream, aliases: Record<string, string>): FilterNode {
	const open = s.expect('[');
	const items: FilterNode[] = [];
	if (s.kind() !== ']') {
		for (;;) {
			items.push(parsePrimary(s, aliases));
			if (s.kind() === ',') {
				s.next();
				continue;
			}
			break;
		}
	}
	if (s.kind() !== ']') {
		throw errors.odata(
			"Invalid JSON. A comma character ',' was expected in scope 'Array'. Every two elements in an array and properties of an object must be separated by commas.",
		);
	}
	s.next();
	return { kind: 'array', items, pos: open.pos };
}

function parseIdentifier(s: TokenStream, aliases: Record<string, string>): FilterNode {
	const t = s.next();
	if (t.text === 'true' || t.text === 'false') return literal('boolean', t.text === 'true', t, 'Edm.Boolean');
	if (t.text === 'null') return literal('null', null, t, 'null');
	if (s.kind() === '(') {
		// Function call: positional (contains(name,'x')) or named (Microsoft.Dynamics.CRM.In(PropertyName='x',...)).
		s.next();
		const args: FilterNode[] = [];
		const named: Record<string, FilterNode> = {};
		if (s.kind() !== ')') {
			for (;;) {
				if (s.kind() === 'ident' && s.peek().kind === '=') {
					const name = s.next().text;
					s.next();
					named[name] = s.kind() === '[' ? parseArray(s, aliases) : parseOr(s, aliases);
				} else {
					args.push(parseOr(s, aliases));
				}
				if (s.kind() === ',') {
					s.next();
					continue;
				}
				break;
			}
		}
		if (s.kind() !== ')') throw errors.odata(`')' or ',' expected at position ${s.current.pos} in '${s.text}'.`);
		s.next();
		return { kind: 'call', name: t.text, args, named, pos: t.pos };
	}
	const path = [t.text];
	while (s.kind() === '/') {
		s.next();
		const seg = s.current;
		if (seg.kind !== 'ident') throw errors.odata(`Syntax error at position ${seg.pos} in '${s.text}'.`);
		s.next();
		if (s.kind() === '(' && (seg.text === 'any' || seg.text === 'all')) {
			throw errors.odata(`Lambda expressions ('${seg.text}') are not supported by this sandbox at position ${seg.pos} in '${s.text}'.`);
		}
		path.push(seg.text);
	}
	return { kind: 'property', path, pos: t.pos };
}

// ------------------------------------------------------------------------------------------------------------------
// Compilation

/** A comparable value: strings, numbers (dates as epoch ms), booleans, null, or number arrays (multi-select). */
export type Value = string | number | boolean | null | number[];

export interface BoundProperty {
	/** Edm type of the property (Edm.String, Edm.Int32, Edm.Guid, Edm.DateTimeOffset, Edm.Date, ...). */
	edm: string;
	get: (row: unknown) => Value;
	/** Multi-select choice columns. */
	multi?: boolean;
}

export interface FilterBinder {
	/** Resolves a property path; throws the "Could not find a property" error for unknown names. */
	property(path: string[]): BoundProperty;
	/** Resolves a PropertyName parameter of a Dataverse query function (a column logical name). */
	propertyByName?(name: string): BoundProperty;
	/** Whether string comparisons ignore case (Dataverse: yes). */
	caseInsensitive: boolean;
	/** The caller's systemuserid, for EqualUserId. */
	userId?: string;
	now: () => number;
	/** Whether literal/property type mismatches are errors (records) or compared loosely (metadata). */
	strictTypes: boolean;
}

export type Predicate = (row: unknown) => boolean;

export function compileFilter(node: FilterNode, binder: FilterBinder, text: string): Predicate {
	const c = new Compiler(binder, text);
	return c.boolean(node);
}

type Getter = { edm: string; get: (row: unknown) => Value; literal?: Extract<FilterNode, { kind: 'literal' }>; multi?: boolean };

const NUMERIC = new Set(['Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double']);

class Compiler {
	constructor(
		private readonly binder: FilterBinder,
		private readonly text: string,
	) {}

	boolean(node: FilterNode): Predicate {
		switch (node.kind) {
			case 'binary': {
				if (node.op === 'and') {
					const l = this.boolean(node.left);
					const r = this.boolean(node.right);
					return (row) => l(row) && r(row);
				}
				if (node.op === 'or') {
					const l = this.boolean(node.left);
					const r = this.boolean(node.right);
					return (row) => l(row) || r(row);
				}
				return this.comparison(node.op, node.left, node.right);
			}
			case 'not': {
				const inner = this.boolean(node.operand);
				return (row) => !inner(row);
			}
			case 'call':
				return this.call(node);
			case 'property': {
				const p = this.binder.property(node.path);
				if (p.edm !== 'Edm.Boolean') throw this.notBoolean();
				return (row) => p.get(row) === true;
			}
			case 'literal':
				if (node.type === 'boolean') return () => node.value === true;
				throw this.notBoolean();
			default:
				throw this.notBoolean();
		}
	}

	private notBoolean() {
		return errors.odata(`The $filter expression must evaluate to a single boolean value.`);
	}

	private operand(node: FilterNode): Getter {
		if (node.kind === 'property') {
			const p = this.binder.property(node.path);
			return { edm: p.edm, get: p.get, multi: p.multi };
		}
		if (node.kind === 'literal') {
			return { edm: node.edm, get: () => node.value, literal: node };
		}
		throw errors.odata(`Syntax error at position ${node.pos} in '${this.text}'.`);
	}

	private comparison(op: string, leftNode: FilterNode, rightNode: FilterNode): Predicate {
		let left = this.operand(leftNode);
		let right = this.operand(rightNode);
		if (left.literal && !right.literal) {
			// Normalise to property-op-literal; flip the operator.
			[left, right] = [right, left];
			op = { gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' }[op] ?? op;
		}
		const edm = this.checkTypes(op, left, right);
		const l = this.normaliser(edm, left);
		const r = this.normaliser(edm, right);
		const ci = this.binder.caseInsensitive;
		const cmp = (a: Value, b: Value): number => {
			if (typeof a === 'string' && typeof b === 'string') {
				const x = ci ? a.toLowerCase() : a;
				const y = ci ? b.toLowerCase() : b;
				return x < y ? -1 : x > y ? 1 : 0;
			}
			if (typeof a === 'number' && typeof b === 'number') return a - b;
			if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
			return String(a).localeCompare(String(b));
		};
		return (row) => {
			const a = l(row);
			const b = r(row);
			const aNull = a === null || a === undefined;
			const bNull = b === null || b === undefined;
			if (aNull || bNull) {
				if (op === 'eq') return aNull && bNull;
				// Dataverse's "ne" condition also matches rows where the column is null.
				if (op === 'ne') return !(aNull && bNull);
				return false;
			}
			const d = cmp(a, b);
			switch (op) {
				case 'eq':
					return d === 0;
				case 'ne':
					return d !== 0;
				case 'gt':
					return d > 0;
				case 'ge':
					return d >= 0;
				case 'lt':
					return d < 0;
				default:
					return d <= 0;
			}
		};
	}

	/** Returns the type both sides are compared as, or throws the OData incompatible-types error. */
	private checkTypes(op: string, left: Getter, right: Getter): string {
		if (left.edm === 'null') return right.edm;
		if (right.edm === 'null') return left.edm;
		if (left.multi && right.literal) {
			throw errors.odata(
				`The operator '${op}' is not supported on a multi-select choice column; use Microsoft.Dynamics.CRM.ContainValues.`,
			);
		}
		if (!this.binder.strictTypes) return left.edm;
		const a = left.edm;
		const b = right.edm;
		if (a === b) return a;
		if (NUMERIC.has(a) && NUMERIC.has(b)) return a;
		if (a === 'Edm.Guid' && b === 'Edm.String' && right.literal && isGuid(String(right.literal.value))) return a;
		if ((a === 'Edm.DateTimeOffset' && b === 'Edm.Date') || (a === 'Edm.Date' && b === 'Edm.DateTimeOffset')) return a;
		throw errors.odata(
			`A binary operator with incompatible types was detected. Found operand types '${a}' and '${b}' for operator kind '${OP_KIND[op] ?? op}'.`,
		);
	}

	private normaliser(edm: string, g: Getter): (row: unknown) => Value {
		if (g.literal) {
			const v = this.convertLiteral(edm, g.literal);
			return () => v;
		}
		return g.get;
	}

	private convertLiteral(edm: string, lit: Extract<FilterNode, { kind: 'literal' }>): Value {
		if (lit.value === null) return null;
		switch (edm) {
			case 'Edm.DateTimeOffset':
				return lit.type === 'date' ? Date.parse(`${lit.value}T00:00:00Z`) : Date.parse(String(lit.value));
			case 'Edm.Date':
				return lit.type === 'datetime' ? new Date(Date.parse(String(lit.value))).toISOString().slice(0, 10) : String(lit.value);
			case 'Edm.Guid':
				return String(lit.value).toLowerCase();
			default:
				return lit.value as Value;
		}
	}

	private call(node: Extract<FilterNode, { kind: 'call' }>): Predicate {
		const name = node.name;
		if (name === 'contains' || name === 'startswith' || name === 'endswith') return this.stringFunction(node);
		if (name.startsWith('Microsoft.Dynamics.CRM.')) return this.crmFunction(node, name.slice('Microsoft.Dynamics.CRM.'.length));
		throw errors.odata(
			`An unknown function with name '${name}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.`,
		);
	}

	private stringFunction(node: Extract<FilterNode, { kind: 'call' }>): Predicate {
		const [target, arg] = node.args;
		if (node.args.length !== 2 || !target || !arg || arg.kind !== 'literal' || target.kind !== 'property') {
			throw errors.odata(
				`No function signature for the function with name '${node.name}' matches the specified arguments. The function signatures considered are: ${node.name}(Edm.String Nullable=true, Edm.String Nullable=true).`,
			);
		}
		const p = this.binder.property(target.path);
		if (this.binder.strictTypes && (p.edm !== 'Edm.String' || arg.type !== 'string')) {
			throw errors.odata(
				`No function signature for the function with name '${node.name}' matches the specified arguments. The function signatures considered are: ${node.name}(Edm.String Nullable=true, Edm.String Nullable=true).`,
			);
		}
		const pattern = likePattern(String(arg.value), node.name, this.binder.caseInsensitive);
		return (row) => {
			const v = p.get(row);
			return typeof v === 'string' && pattern.test(v);
		};
	}

	private crmFunction(node: Extract<FilterNode, { kind: 'call' }>, fn: string): Predicate {
		const propNode = node.named.PropertyName;
		if (!propNode || propNode.kind !== 'literal' || typeof propNode.value !== 'string') {
			throw errors.odata(`The function 'Microsoft.Dynamics.CRM.${fn}' requires a PropertyName parameter.`);
		}
		const resolve = this.binder.propertyByName ?? ((n: string) => this.binder.property([n]));
		const p = resolve(propNode.value);
		const values = (): Value[] => {
			const v = node.named.PropertyValues;
			if (!v) throw errors.odata(`The function 'Microsoft.Dynamics.CRM.${fn}' requires a PropertyValues parameter.`);
			const items = v.kind === 'array' ? v.items : [v];
			return items.map((item) => {
				if (item.kind !== 'literal') throw errors.odata(`Syntax error at position ${item.pos} in '${this.text}'.`);
				return coerce(p.edm, item.value);
			});
		};
		const single = (): Value => {
			const v = node.named.PropertyValue;
			if (!v || v.kind !== 'literal') throw errors.odata(`The function 'Microsoft.Dynamics.CRM.${fn}' requires a PropertyValue parameter.`);
			return coerce(p.edm, v.value);
		};
		const ci = this.binder.caseInsensitive;
		const same = (a: Value, b: Value) =>
			typeof a === 'string' && typeof b === 'string' && ci ? a.toLowerCase() === b.toLowerCase() : a === b;
		const now = this.binder.now();
		const dayStart = (ms: number) => Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), new Date(ms).getUTCDate());
		const dateMs = (row: unknown): number | null => {
			const v = p.get(row);
			if (v === null || v === undefined) return null;
			return typeof v === 'number' ? v : Date.parse(`${String(v)}T00:00:00Z`);
		};
		const inRange = (from: number, to: number) => (row: unknown) => {
			const v = dateMs(row);
			return v !== null && v >= from && v < to;
		};
		const DAY = 86400000;
		switch (fn) {
			case 'In':
			case 'NotIn': {
				const list = values();
				const negate = fn === 'NotIn';
				return (row) => {
					const v = p.get(row);
					if (v === null || v === undefined) return false;
					const hit = list.some((x) => same(v as Value, x));
					return negate ? !hit : hit;
				};
			}
			case 'ContainValues':
			case 'DoesNotContainValues': {
				const list = values().map(Number);
				const negate = fn === 'DoesNotContainValues';
				return (row) => {
					const v = p.get(row);
					const arr = Array.isArray(v) ? v : [];
					const hit = list.some((x) => arr.includes(x));
					return negate ? !hit : hit;
				};
			}
			case 'Between':
			case 'NotBetween': {
				const [lo, hi] = values();
				const negate = fn === 'NotBetween';
				return (row) => {
					const v = p.get(row);
					if (v === null || v === undefined) return false;
					const hit = (v as number | string) >= (lo as number | string) && (v as number | string) <= (hi as number | string);
					return negate ? !hit : hit;
				};
			}
			case 'EqualUserId':
			case 'NotEqualUserId': {
				const me = (this.binder.userId ?? '').toLowerCase();
				return (row) => (p.get(row) === me) === (fn === 'EqualUserId');
			}
			case 'Today':
				return inRange(dayStart(now), dayStart(now) + DAY);
			case 'Yesterday':
				return inRange(dayStart(now) - DAY, dayStart(now));
			case 'Tomorrow':
				return inRange(dayStart(now) + DAY, dayStart(now) + 2 * DAY);
			case 'Last7Days':
				return inRange(now - 7 * DAY, now);
			case 'Next7Days':
				return inRange(now, now + 7 * DAY);
			case 'LastXDays':
				return inRange(dayStart(now) - Number(single()) * DAY, now);
			case 'NextXDays':
				return inRange(now, dayStart(now) + (Number(single()) + 1) * DAY);
			case 'LastXHours':
				return inRange(now - Number(single()) * 3600000, now);
			case 'NextXHours':
				return inRange(now, now + Number(single()) * 3600000);
			case 'OlderThanXDays': {
				const limit = now - Number(single()) * DAY;
				return (row) => {
					const v = dateMs(row);
					return v !== null && v < limit;
				};
			}
			case 'On':
			case 'OnOrAfter':
			case 'OnOrBefore': {
				const raw = single();
				const day = typeof raw === 'number' ? dayStart(raw) : Date.parse(`${String(raw).slice(0, 10)}T00:00:00Z`);
				if (fn === 'On') return inRange(day, day + DAY);
				if (fn === 'OnOrAfter') return inRange(day, Number.MAX_SAFE_INTEGER);
				return inRange(Number.MIN_SAFE_INTEGER, day + DAY);
			}
			case 'ThisMonth': {
				const d = new Date(now);
				return inRange(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
			}
			case 'ThisYear': {
				const d = new Date(now);
				return inRange(Date.UTC(d.getUTCFullYear(), 0, 1), Date.UTC(d.getUTCFullYear() + 1, 0, 1));
			}
			default:
				throw errors.odata(`The query function 'Microsoft.Dynamics.CRM.${fn}' is not supported by this sandbox.`, 501);
		}
	}
}

function coerce(edm: string, value: string | number | boolean | null): Value {
	if (value === null) return null;
	if (NUMERIC.has(edm)) return Number(value);
	if (edm === 'Edm.Guid') return String(value).toLowerCase();
	if (edm === 'Edm.DateTimeOffset') return Date.parse(String(value));
	if (edm === 'Edm.Boolean') return value === true || value === 'true';
	return String(value);
}

export function isGuid(value: string): boolean {
	return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value);
}

/** contains/startswith/endswith become SQL LIKE conditions in Dataverse, so %, _ and [...] act as wildcards. */
function likePattern(value: string, fn: string, ci: boolean): RegExp {
	let re = '';
	for (let i = 0; i < value.length; i++) {
		const c = value[i];
		if (c === '%') re += '.*';
		else if (c === '_') re += '.';
		else if (c === '[') {
			const end = value.indexOf(']', i + 1);
			if (end > i + 1) {
				let set = value.slice(i + 1, end);
				if (set.startsWith('^')) set = `^${set.slice(1).replace(/[\\\]]/g, '\\$&')}`;
				else set = set.replace(/[\\\]^]/g, '\\$&');
				re += `[${set}]`;
				i = end;
			} else re += '\\[';
		} else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
	}
	const body = fn === 'startswith' ? `^${re}` : fn === 'endswith' ? `${re}$` : re;
	return new RegExp(body, ci ? 'is' : 's');
}
