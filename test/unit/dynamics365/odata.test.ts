import {
	andFilters,
	compileCondition,
	compileCriteria,
	encodeQuery,
	escapeLike,
	guidLiteral,
	inFilter,
	literalFor,
	numberLiteral,
	ODataValueError,
	optionValue,
	stringLiteral,
	toUtcIso,
} from '../../../nodes/Dynamics365/transport/odata';
import { contactTable } from './fixtures';

const table = contactTable();
const col = (name: string) => table.columns.get(name)!;

describe('OData literals', () => {
	it('doubles single quotes in strings', () => {
		expect(stringLiteral("O'Brien")).toBe("'O''Brien'");
		expect(stringLiteral("x' or lastname ne 'y")).toBe("'x'' or lastname ne ''y'");
		expect(stringLiteral('')).toBe("''");
	});

	it('makes LIKE wildcards literal for contains/startswith/endswith', () => {
		expect(escapeLike('50%_[a]')).toBe('50[%][_][[]a]');
	});

	it('validates GUIDs, numbers and dates', () => {
		expect(guidLiteral('{D47226F1-DFAF-4FF2-AC61-0EB9614F7EF2}')).toBe('d47226f1-dfaf-4ff2-ac61-0eb9614f7ef2');
		expect(() => guidLiteral('1 or 1 eq 1')).toThrow(ODataValueError);
		expect(numberLiteral('12.5')).toBe('12.5');
		expect(numberLiteral(-3)).toBe('-3');
		expect(() => numberLiteral('5) or (1 eq 1')).toThrow(/not a number/);
		expect(toUtcIso('2025-03-04T10:11:12+02:00')).toBe('2025-03-04T08:11:12Z');
		expect(toUtcIso('2025-03-04')).toBe('2025-03-04T00:00:00Z');
		expect(() => toUtcIso('yesterday')).toThrow(/not a date/);
	});

	it('resolves choice labels case-insensitively and lists the valid ones otherwise', () => {
		expect(optionValue(col('new_preferredchannel'), 'phone')).toBe(100000001);
		expect(optionValue(col('new_preferredchannel'), '100000000')).toBe(100000000);
		expect(() => optionValue(col('new_preferredchannel'), 'Fax')).toThrow(
			"'Fax' is not a valid choice for the column 'new_preferredchannel'. Valid choices: Email (100000000), Phone (100000001)",
		);
	});

	it('types literals by column', () => {
		expect(literalFor(col('lastname'), 'x')).toBe("'x'");
		expect(literalFor(col('new_score'), '7')).toBe('7');
		expect(literalFor(col('new_isvip'), 'Yes')).toBe('true');
		expect(literalFor(col('new_birthday'), '1990-05-17T10:00:00Z')).toBe('1990-05-17');
		expect(literalFor(col('statecode'), 'inactive')).toBe('1');
		expect(literalFor(col('parentcustomerid'), 'D47226F1-DFAF-4FF2-AC61-0EB9614F7EF2')).toBe('d47226f1-dfaf-4ff2-ac61-0eb9614f7ef2');
	});
});

describe('criteria', () => {
	it('compiles each operator with the right property and escaping', () => {
		expect(compileCondition(col('lastname'), 'eq', "x' or lastname ne 'y")).toBe("lastname eq 'x'' or lastname ne ''y'");
		expect(compileCondition(col('lastname'), 'contains', "50%'")).toBe("contains(lastname,'50[%]''')");
		expect(compileCondition(col('lastname'), 'notContains', 'a')).toBe("not contains(lastname,'a')");
		expect(compileCondition(col('lastname'), 'startsWith', 'a')).toBe("startswith(lastname,'a')");
		expect(compileCondition(col('parentcustomerid'), 'eq', 'd47226f1-dfaf-4ff2-ac61-0eb9614f7ef2')).toBe(
			'_parentcustomerid_value eq d47226f1-dfaf-4ff2-ac61-0eb9614f7ef2',
		);
		expect(compileCondition(col('new_lastwebinar'), 'ge', '2025-01-01')).toBe('new_lastwebinar ge 2025-01-01T00:00:00Z');
		expect(compileCondition(col('emailaddress1'), 'isNull', undefined)).toBe('emailaddress1 eq null');
		expect(compileCondition(col('emailaddress1'), 'in', "a@x.com, b'@x.com")).toBe("(emailaddress1 eq 'a@x.com' or emailaddress1 eq 'b''@x.com')");
		expect(compileCondition(col('new_interests'), 'contains', 'Webinars')).toBe(
			"Microsoft.Dynamics.CRM.ContainValues(PropertyName='new_interests',PropertyValues=['100000000'])",
		);
		expect(() => compileCondition(col('new_score'), 'contains', '1')).toThrow(/text columns only/);
	});

	it('joins rows with and/or and other filters with and', () => {
		const filter = compileCriteria((n) => col(n), [
			{ column: 'lastname', operator: 'eq', value: 'A' },
			{ column: 'firstname', operator: 'eq', value: 'B' },
		], 'or');
		expect(filter).toBe("(lastname eq 'A') or (firstname eq 'B')");
		expect(andFilters(filter, 'modifiedon ge 2025-01-01T00:00:00Z', undefined)).toBe(
			"((lastname eq 'A') or (firstname eq 'B')) and (modifiedon ge 2025-01-01T00:00:00Z)",
		);
		expect(andFilters("(a eq 1)", undefined)).toBe('(a eq 1)');
	});

	it('builds bulk lookups with In or OR chains', () => {
		expect(inFilter('emailaddress1', ["'a'", "'b'"])).toBe("Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',PropertyValues=['a','b'])");
		expect(inFilter('_x_value', ['g1', 'g2'], true)).toBe('(_x_value eq g1 or _x_value eq g2)');
		expect(inFilter('contactid', ['g1'])).toBe('contactid eq g1');
	});

	it('percent-encodes values so +, #, & and % arrive as typed', () => {
		const qs = encodeQuery({ $filter: "lastname eq 'A+B #1 & 50%'", $select: 'a,b', $top: undefined });
		expect(qs).toBe("$filter=lastname%20eq%20'A%2BB%20%231%20%26%2050%25'&$select=a,b");
		expect(new URLSearchParams(qs).get('$filter')).toBe("lastname eq 'A+B #1 & 50%'");
	});
});
