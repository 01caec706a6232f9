/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Get Many and Get against the sandbox: paging through 12,000 contacts, criteria compiled to an escaped $filter (no
 * OData injection), modified since, raw filter, columns, formatted values, the related contact email of opportunities.
 */
import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

const LIST = /^GET \/api\/data\/v9\.2\/contacts$/;

describe('Get Many', () => {
	it('returns all 12,000 seeded contacts in at most 3 list requests (Prefer: odata.maxpagesize, @odata.nextLink)', async () => {
		await t.control('POST', '/seed', { contacts: 12000 - 20 });
		const total = (await t.control<{ value?: unknown[] }>('GET', '/health')) as Record<string, unknown>;
		expect(total).toBeDefined();
		await t.resetStats();
		const result = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			options: { columns: ['emailaddress1', 'lastname'] },
		});
		expect(result.error).toBeUndefined();
		const records = jsonOf(result);
		expect(records).toHaveLength(12000);
		expect(new Set(records.map((r) => r.contactid)).size).toBe(12000);
		const listRequests = await t.count(LIST);
		expect(listRequests).toBeLessThanOrEqual(3);
		expect(listRequests).toBe(3);
		// No $top anywhere: paging is by maxpagesize and nextLink.
		const log = await t.control<{ requests: Array<{ path: string; route: string }> }>('GET', '/requests?last=50');
		expect(log.requests.filter((r) => LIST.test(r.route))).toHaveLength(3);
		console.log(`[measure] Get Many Return All: ${records.length} contacts in ${listRequests} list requests`);
	});

	it('with a limit reads one page of that size', async () => {
		await t.resetStats();
		const result = await t.run({ resource: 'contact', operation: 'getMany', returnAll: false, limit: 7, options: {} });
		expect(jsonOf(result)).toHaveLength(7);
		expect(await t.count(LIST)).toBe(1);
	});

	it('compiles criteria rows to a correctly escaped $filter: an injection attempt matches nothing', async () => {
		const injected = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: { conditions: [{ column: 'lastname', operator: 'eq', value: "x' or lastname ne 'y" }] },
			options: {},
		});
		expect(injected.error).toBeUndefined();
		expect(jsonOf(injected)).toHaveLength(0);

		// The same value in contains: quotes doubled, LIKE wildcards literal.
		const containsInjected = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: { conditions: [{ column: 'lastname', operator: 'contains', value: "x') or contains(lastname,'" }] },
			options: {},
		});
		expect(jsonOf(containsInjected)).toHaveLength(0);
		const wildcard = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: { conditions: [{ column: 'lastname', operator: 'contains', value: '%' }] },
			options: {},
		});
		expect(jsonOf(wildcard)).toHaveLength(0);

		// A real apostrophe still matches (O'Brien is in the demo data).
		const obrien = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: { conditions: [{ column: 'lastname', operator: 'eq', value: "O'Brien" }] },
			options: {},
		});
		expect(jsonOf(obrien).map((r) => r.lastname)).toEqual(["O'Brien"]);
	});

	it('URL-encodes +, #, & and % inside literals', async () => {
		const created = await t.run(
			{ resource: 'contact', operation: 'create', dataMode: 'autoMap', options: {} },
			[{ firstname: 'Plus', lastname: 'A+B #1 & 50%', emailaddress1: 'a+b@example.com' }],
		);
		expect(jsonOf(created)[0].operation).toBe('created');
		for (const [column, value] of [
			['lastname', 'A+B #1 & 50%'],
			['emailaddress1', 'a+b@example.com'],
		]) {
			const found = await t.run({
				resource: 'contact',
				operation: 'getMany',
				returnAll: true,
				criteria: { conditions: [{ column, operator: 'eq', value }] },
				options: {},
			});
			expect(jsonOf(found).map((r) => r.emailaddress1)).toEqual(['a+b@example.com']);
		}
	});

	it('validates GUID, number and date literals and reports the column', async () => {
		const badGuid = await t.run(
			{
				resource: 'contact',
				operation: 'getMany',
				returnAll: true,
				criteria: { conditions: [{ column: 'parentcustomerid', operator: 'eq', value: "1 or 1 eq 1" }] },
				options: {},
			},
			[{}],
			{ continueOnFail: true },
		);
		expect(String(jsonOf(badGuid)[0].error)).toMatch(/not a GUID/);
		const badNumber = await t.run(
			{
				resource: 'contact',
				operation: 'getMany',
				returnAll: true,
				criteria: { conditions: [{ column: 'new_score', operator: 'gt', value: '5) or (1 eq 1' }] },
				options: {},
			},
			[{}],
			{ continueOnFail: true },
		);
		expect(String(jsonOf(badNumber)[0].error)).toMatch(/new_score.*not a number/);
		const badDate = await t.run(
			{ resource: 'contact', operation: 'getMany', returnAll: true, options: { modifiedSince: 'yesterday' } },
			[{}],
			{ continueOnFail: true },
		);
		expect(String(jsonOf(badDate)[0].error)).toMatch(/not a date/);
	});

	it('filters by choice labels, lookups, modified since and a raw filter, combined with AND or OR', async () => {
		const contoso = t.demoIds['account:contoso'];
		const byLookup = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: { conditions: [{ column: 'parentcustomerid', operator: 'eq', value: contoso }] },
			options: { columns: ['emailaddress1', 'parentcustomerid'] },
		});
		const emails = jsonOf(byLookup).map((r) => r.emailaddress1);
		expect(emails).toContain('maria.garcia@contoso.com');
		for (const r of jsonOf(byLookup)) expect(r._parentcustomerid_value).toBe(contoso);

		const inactive = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: { conditions: [{ column: 'statecode', operator: 'eq', value: 'inactive' }] },
			options: { columns: ['fullname', 'statecode'] },
		});
		expect(jsonOf(inactive).map((r) => r.fullname)).toEqual(['Fatima Zahra']);

		const either = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: {
				conditions: [
					{ column: 'emailaddress1', operator: 'eq', value: 'maria.garcia@contoso.com' },
					{ column: 'emailaddress1', operator: 'eq', value: 'li.wei@fabrikam.com' },
				],
			},
			options: { combinator: 'or', rawFilter: "statecode eq 0" },
		});
		expect(jsonOf(either).map((r) => r.emailaddress1).sort()).toEqual(['li.wei@fabrikam.com', 'maria.garcia@contoso.com']);

		const oneOf = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: { conditions: [{ column: 'emailaddress1', operator: 'in', value: 'maria.garcia@contoso.com, li.wei@fabrikam.com' }] },
			options: {},
		});
		expect(jsonOf(oneOf)).toHaveLength(2);

		const since = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			options: { modifiedSince: new Date(Date.now() - 60_000).toISOString() },
		});
		// Only what this test file created recently (the seeded records are from 2025).
		expect(jsonOf(since).map((r) => r.emailaddress1)).toEqual(['a+b@example.com']);
	});

	it('returns formatted values and, for opportunities, the related contact email', async () => {
		const result = await t.run({
			resource: 'opportunity',
			operation: 'getMany',
			returnAll: true,
			options: { formattedValues: true, includeRelatedContactEmail: true, columns: ['name', 'salesstage', 'customerid', 'parentcontactid'] },
		});
		expect(result.error).toBeUndefined();
		const records = jsonOf(result);
		expect(records.length).toBe(6);
		expect(records[0]['salesstage@OData.Community.Display.V1.FormattedValue']).toEqual(expect.any(String));
		const withContact = records.filter((r) => r.relatedContactEmail);
		expect(withContact.length).toBeGreaterThan(0);
		for (const r of withContact) expect(String(r.relatedContactEmail)).toMatch(/@/);
		expect(records[0]).not.toHaveProperty('customerid_contact');
	});
});

describe('Get', () => {
	it('reads one record with chosen columns, and reports a missing one per item', async () => {
		const id = t.demoIds['contact:maria.garcia@contoso.com'];
		const result = await t.run(
			{ resource: 'contact', operation: 'get', recordId: '={{$json.id}}', options: { columns: ['emailaddress1'] } },
			[{ id }, { id: '00000000-0000-0000-0000-000000000001' }],
			{ continueOnFail: true },
		);
		const [found, missing] = jsonOf(result);
		expect(found).toMatchObject({ contactid: id, emailaddress1: 'maria.garcia@contoso.com' });
		expect(found).not.toHaveProperty('lastname');
		expect(String(missing.error)).toMatch(/Does Not Exist/);
		expect(result.outputs[0][1].pairedItem).toEqual({ item: 1 });
	});

	it('reads any table chosen from the metadata (Other Table)', async () => {
		const result = await t.run({
			resource: 'otherTable',
			table: { __rl: true, mode: 'name', value: 'systemusers' },
			operation: 'getMany',
			returnAll: true,
			options: { columns: ['fullname'] },
		});
		expect(result.error).toBeUndefined();
		expect(jsonOf(result).map((r) => r.fullname)).toContain('Sales User');
	});
});
