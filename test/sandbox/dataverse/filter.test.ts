import { compileFilter, parseFilter, type FilterBinder, type Value } from './odata/filter';
import { startHarness, type Harness } from './testkit';

/** A binder over plain objects, for parser/evaluator unit tests. */
function objectBinder(types: Record<string, string>): FilterBinder {
	return {
		property: (path) => {
			const name = path.join('/');
			if (!(name in types)) throw new Error(`unknown ${name}`);
			return { edm: types[name], multi: types[name] === 'multi', get: (row) => ((row as Record<string, Value>)[name] ?? null) as Value };
		},
		caseInsensitive: true,
		now: () => Date.UTC(2025, 5, 15, 12),
		strictTypes: true,
	};
}

describe('$filter parser and evaluator', () => {
	const types = {
		name: 'Edm.String',
		city: 'Edm.String',
		n: 'Edm.Int32',
		amount: 'Edm.Decimal',
		flag: 'Edm.Boolean',
		id: 'Edm.Guid',
		at: 'Edm.DateTimeOffset',
		day: 'Edm.Date',
	};
	const rows = [
		{ name: "O'Brien", city: 'Oslo', n: 1, amount: 10.5, flag: true, id: '0f8fad5b-d9cb-469f-a165-70867728950e', at: Date.parse('2024-01-01T00:00:00Z'), day: '2024-01-01' },
		{ name: 'Smith', city: 'Bergen', n: 2, amount: 99, flag: false, id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', at: Date.parse('2024-06-01T12:00:00Z'), day: '2024-06-01' },
		{ name: 'smithers', city: null, n: 3, amount: null, flag: false, id: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', at: null, day: null },
		{ name: "x' or name ne 'y", city: 'Oslo', n: 4, amount: 1, flag: true, id: '6ba7b810-9dad-41d1-80b4-00c04fd430c8', at: Date.parse('2025-01-01T00:00:00+01:00'), day: '2025-01-01' },
	];
	const names = (filter: string) => {
		const predicate = compileFilter(parseFilter(filter), objectBinder(types), filter);
		return rows.filter(predicate).map((r) => r.name);
	};

	it.each<[string, string[]]>([
		["name eq 'Smith'", ['Smith']],
		["name eq 'SMITH'", ['Smith']],
		["name ne 'Smith'", ["O'Brien", 'smithers', "x' or name ne 'y"]],
		["name eq 'O''Brien'", ["O'Brien"]],
		["name eq 'x'' or name ne ''y'", ["x' or name ne 'y"]],
		["name eq 'nobody'' or name ne ''y'", []],
		['n gt 2', ['smithers', "x' or name ne 'y"]],
		['n ge 2 and n le 3', ['Smith', 'smithers']],
		['n lt 2 or n gt 3', ["O'Brien", "x' or name ne 'y"]],
		["n eq 1 or n eq 2 and name eq 'nobody'", ["O'Brien"]],
		["(n eq 1 or n eq 2) and name eq 'Smith'", ['Smith']],
		["not (name eq 'Smith')", ["O'Brien", 'smithers', "x' or name ne 'y"]],
		["not contains(name,'smith')", ["O'Brien", "x' or name ne 'y"]],
		["contains(name,'MITH')", ['Smith', 'smithers']],
		["startswith(name,'smi')", ['Smith', 'smithers']],
		["endswith(name,'ers')", ['smithers']],
		["contains(name,'sm_th')", ['Smith', 'smithers']],
		['city eq null', ['smithers']],
		["city ne null and city eq 'oslo'", ["O'Brien", "x' or name ne 'y"]],
		["city ne 'Oslo'", ['Smith', 'smithers']],
		['amount gt 10', ["O'Brien", 'Smith']],
		['amount eq 10.5', ["O'Brien"]],
		['flag eq true', ["O'Brien", "x' or name ne 'y"]],
		['flag', ["O'Brien", "x' or name ne 'y"]],
		['id eq 7c9e6679-7425-40de-944b-e07fc1f90ae7', ['Smith']],
		['id eq 7C9E6679-7425-40DE-944B-E07FC1F90AE7', ['Smith']],
		["id eq '7c9e6679-7425-40de-944b-e07fc1f90ae7'", ['Smith']],
		['at gt 2024-03-01T00:00:00Z', ['Smith', "x' or name ne 'y"]],
		['at lt 2024-12-31T23:30:00.000-01:00', ["O'Brien", 'Smith', "x' or name ne 'y"]],
		['at ge 2024-06-01T12:00:00.5Z', ["x' or name ne 'y"]],
		['at eq 2024-01-01T00:00:00Z', ["O'Brien"]],
		['day ge 2024-06-01', ['Smith', "x' or name ne 'y"]],
		["Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['smith','o''brien'])", ["O'Brien", 'Smith']],
		['Microsoft.Dynamics.CRM.In(PropertyName=\'name\',PropertyValues=["Smith","O\'Brien"])', ["O'Brien", 'Smith']],
		["Microsoft.Dynamics.CRM.NotIn(PropertyName='n',PropertyValues=['1','2'])", ['smithers', "x' or name ne 'y"]],
		["Microsoft.Dynamics.CRM.Between(PropertyName='n',PropertyValues=['2','3'])", ['Smith', 'smithers']],
	])('%s', (filter, expected) => {
		expect(names(filter)).toEqual(expected);
	});

	it('resolves parameter aliases', () => {
		const filter = 'Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)';
		const predicate = compileFilter(parseFilter(filter, { '@p1': "'name'", '@p2': '["Smith","smithers"]' }), objectBinder(types), filter);
		expect(rows.filter(predicate).map((r) => r.name)).toEqual(['Smith', 'smithers']);
	});

	it.each<[string, RegExp]>([
		["name eq 'O'Brien'", /^There is an unterminated literal at position 17 in 'name eq 'O'Brien''\.$/],
		["name eq 'open", /^There is an unterminated literal at position 13 in 'name eq 'open'\.$/],
		["name eqq 'x'", /^'\)' or operator expected at position 5 in 'name eqq 'x''\.$/],
		['name eq', /^Expression expected at position 7 in 'name eq'\.$/],
		["(name eq 'x'", /^'\)' or operator expected at position 12/],
		['name eq #', /^Syntax error: character '#' is not valid at position 8/],
		["n eq 'one'", /^A binary operator with incompatible types was detected\. Found operand types 'Edm\.Int32' and 'Edm\.String' for operator kind 'Equal'\.$/],
		["at gt '2024-01-01'", /incompatible types/],
		["foo(name,'x')", /^An unknown function with name 'foo' was found/],
		['contains(n,1)', /^No function signature for the function with name 'contains'/],
		["name add 'x'", /not supported/],
	])('rejects %s', (filter, message) => {
		let error: unknown;
		try {
			compileFilter(parseFilter(filter), objectBinder(types), filter);
		} catch (e) {
			error = e;
		}
		expect(error).toBeDefined();
		expect((error as { status: number }).status).toBe(400);
		expect((error as Error).message).toMatch(message);
	});
});

describe('$filter over the Web API', () => {
	let h: Harness;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => h.close());

	const q = async (set: string, filter: string, select = 'fullname') => {
		const r = await h.call('GET', `${set}?$select=${select}&$filter=${encodeURIComponent(filter)}`);
		if (r.status !== 200) throw new Error(`${r.status} ${r.text}`);
		return r.json.value as Array<Record<string, unknown>>;
	};

	it('filters on strings case-insensitively, with escaped quotes', async () => {
		expect((await q('contacts', "lastname eq 'o''brien'")).map((c) => c.fullname)).toEqual(["Ethan O'Brien"]);
		expect(await q('contacts', "lastname eq 'x'' or lastname ne ''y'")).toEqual([]);
		expect((await q('contacts', "emailaddress1 eq 'MARIA.GARCIA@CONTOSO.COM'")).map((c) => c.fullname)).toEqual(['Maria Garcia']);
	});

	it('filters on lookups with unquoted GUIDs, on navigation paths, on option values and dates', async () => {
		const contoso = h.sim.demoIds['account:contoso'];
		const atContoso = await q('contacts', `_parentcustomerid_value eq ${contoso}`);
		expect(atContoso.map((c) => c.fullname).sort()).toEqual(['Alex Johnson', 'Emma Wilson', 'Liam Murphy', 'Maria Garcia']);
		expect((await q('contacts', "parentcustomerid_account/name eq 'Contoso Ltd'")).length).toBe(4);
		expect((await q('opportunities', 'salesstage eq 3 and statecode eq 0', 'name')).map((o) => o.name)).toEqual(['Litware training package']);
		expect((await q('opportunities', 'estimatedclosedate lt 2025-04-01', 'name')).map((o) => o.name).sort()).toEqual([
			'Litware training package',
			'Tailspin Toys holiday campaign',
		]);
		const all = await q('contacts', 'createdon ge 2025-01-06T09:00:00Z and createdon lt 2025-01-07T01:00:00+01:00', 'fullname,createdon');
		expect(all.length).toBeGreaterThan(0);
		expect((await q('contacts', 'Microsoft.Dynamics.CRM.ContainValues(PropertyName=\'new_interests\',PropertyValues=["100000003"])')).map((c) => c.fullname)).toEqual([
			'Maria Garcia',
		]);
		expect((await q('leads', "Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',PropertyValues=['sam.taylor@adatum.com','priya.patel@litware.com'])")).length).toBe(2);
	});

	it('answers malformed filters with 400 0x80060888 and unknown columns with 0x0', async () => {
		let r = await h.call('GET', `contacts?$filter=${encodeURIComponent("lastname eq 'O'Brien'")}`);
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe('0x80060888');
		r = await h.call('GET', `contacts?$filter=${encodeURIComponent("nosuch eq 'x'")}`);
		expect(r.status).toBe(400);
		expect(r.json.error).toEqual({ code: '0x0', message: "Could not find a property named 'nosuch' on type 'Microsoft.Dynamics.CRM.contact'." });
		r = await h.call('GET', `contacts?$filter=${encodeURIComponent("new_interests eq '100000000'")}`);
		expect(r.status).toBe(400);
	});
});
