/**
 * Raw Filter: an expression that is not balanced outside quotes is refused with a reason, and a balanced one is
 * added as its own group, so it can never turn the criteria, the change watermark or the echo guard into alternatives.
 */
import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

const ESCAPE = "lastname eq 'Nope') or (1 eq 1";

describe('Raw Filter', () => {
	it('Get Many refuses an expression that closes a group it did not open, and reads nothing', async () => {
		await t.resetStats();
		const result = await t.run(
			{
				resource: 'contact',
				operation: 'getMany',
				returnAll: true,
				criteria: { conditions: [{ column: 'lastname', operator: 'eq', value: 'Nobody' }] },
				options: { rawFilter: ESCAPE },
			},
			[{}],
			{ continueOnFail: true },
		);
		const [item] = jsonOf(result);
		expect(String(item.error)).toMatch(/Raw Filter's parentheses do not balance \(a "\)" closes a group it did not open\)/);
		expect(await t.count(/^GET \/api\/data\/v9\.2\/contacts$/)).toBe(0);
	});

	it('Get Many refuses an unclosed group or string', async () => {
		for (const [raw, reason] of [
			["(lastname eq 'x'", /a "\(" is not closed/],
			["lastname eq 'x", /string that is not closed/],
		] as const) {
			const result = await t.run({ resource: 'contact', operation: 'getMany', returnAll: true, options: { rawFilter: raw } }, [{}], { continueOnFail: true });
			expect(String(jsonOf(result)[0].error)).toMatch(reason);
		}
	});

	it('a balanced "or" stays inside its group: the criteria still apply', async () => {
		const result = await t.run({
			resource: 'contact',
			operation: 'getMany',
			returnAll: true,
			criteria: { conditions: [{ column: 'lastname', operator: 'eq', value: 'Nobody' }] },
			options: { rawFilter: "lastname eq 'Nope' or 1 eq 1" },
		});
		expect(result.error).toBeUndefined();
		expect(jsonOf(result)).toHaveLength(0);
		// Quotes doubled inside a string are fine.
		const quoted = await t.run({ resource: 'contact', operation: 'getMany', returnAll: true, options: { rawFilter: "lastname eq 'O''Brien (x)'" } });
		expect(quoted.error).toBeUndefined();
	});

	it('Get Changes keeps its watermark whatever the Raw Filter says, and refuses an unbalanced one', async () => {
		const params = { resource: 'contact', operation: 'getChanges', options: { rawFilter: "lastname eq 'Nope' or 1 eq 1", manualSample: false, overlapMinutes: 0 } };
		const first = await t.runPersistent(params, [{}], { name: 'Changes', mode: 'trigger' });
		expect(first.error).toBeUndefined();
		t.sandbox.d365.server.clock.advance(60_000);
		// Nothing changed since: the "or 1 eq 1" does not reach past the watermark.
		const again = await t.runPersistent(params, [{}], { name: 'Changes', mode: 'trigger' });
		expect(again.error).toBeUndefined();
		expect(jsonOf(again)).toEqual([]);

		const refused = await t.runPersistent({ ...params, options: { ...params.options, rawFilter: ESCAPE } }, [{}], { name: 'Changes', mode: 'trigger' });
		expect(`${refused.error?.message ?? ''} ${JSON.stringify(jsonOf(refused))}`).toMatch(/parentheses do not balance/);
	});
});
