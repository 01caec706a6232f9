/**
 * Retries and requests that must not run twice: with injected 5xx answers, Send Campaign and Add to Automation make
 * exactly one attempt and report the error on the item (the server may have acted: a second attempt could send the
 * email twice); reads and upserts keep retrying; a 429 (answered before anything is done) is waited out for all.
 */
import type { IDataObject } from 'n8n-workflow';

import type { RunResult } from '../../helpers/n8n-harness';
import { SeededRandom } from '../../sandbox/core/random';
import { jsonOf, setupAc, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo' });
});
afterAll(async () => await t.close());
afterEach(async () => await t.control('DELETE', '/faults'));

/**
 * A fault seed for which the requests of the faulted route get, in order, a fault (true) or a normal answer (false).
 * Mirrors the sandbox's draw: one number per request of a matching route, and one more to pick the 5xx status.
 */
function seedFor(pattern: boolean[], rate: number, kind: '5xx' | '429'): number {
	for (let seed = 1; seed < 100_000; seed++) {
		const random = new SeededRandom(seed);
		const ok = pattern.every((faulted) => {
			const hit = random.next() < rate;
			if (hit && kind === '5xx') random.next();
			return hit === faulted;
		});
		if (ok) return seed;
	}
	throw new Error('no seed');
}

function descriptionOf(result: RunResult, index = 0): string {
	// What n8n keeps of a failed item: its data (n8n reduces an item's `error` to the message).
	return String(result.outputs[0][index].json.details);
}

describe('requests that must not run twice', () => {
	it('Send Campaign (automation and v1) and Add to Automation make one attempt on a 5xx and report it on the item', async () => {
		await t.control('PUT', '/faults', { rate5xx: 1, routePattern: '^POST /(api/3/contactAutomations|admin/api\\.php)$' });
		await t.resetStats();
		const result = await t.run(
			{ resource: 'contact', operation: 'sendCampaign', contact: '3', sendMethod: 'automation', sendAutomation: '2' },
			[{}],
			{ continueOnFail: true },
		);
		expect(await t.count('POST /api/3/contactAutomations')).toBe(1);
		const [sent] = jsonOf(result);
		expect(String(sent.error)).toMatch(/Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout/);
		expect(descriptionOf(result)).toContain('It was not sent again');

		await t.resetStats();
		const v1 = await t.run(
			{ resource: 'contact', operation: 'sendCampaign', contact: '3', sendMethod: 'v1', campaign: '2' },
			[{}],
			{ continueOnFail: true },
		);
		expect(await t.count('POST /admin/api.php')).toBe(1);
		expect(descriptionOf(v1)).toContain('It was not sent again');

		await t.resetStats();
		const added = await t.run({ resource: 'contact', operation: 'addToAutomation', contact: '5', automation: '2' }, [{}, {}], {
			continueOnFail: true,
		});
		// Two items, one attempt each.
		expect(await t.count('POST /api/3/contactAutomations')).toBe(2);
		expect(jsonOf(added).every((o) => typeof o.error === 'string')).toBe(true);
	});

	it('a 429 is waited out for them too: ActiveCampaign answers it before doing anything', async () => {
		const seed = seedFor([true, false], 0.5, '429');
		await t.control('PUT', '/faults', { rate429: 0.5, retryAfterSeconds: 0, seed, routePattern: '^POST /api/3/contactAutomations$' });
		await t.resetStats();
		const result = await t.run({ resource: 'contact', operation: 'addToAutomation', contact: '6', automation: '2' });
		expect(result.error).toBeUndefined();
		expect(await t.count('POST /api/3/contactAutomations')).toBe(2);
		expect(jsonOf(result)[0]).toMatchObject({ id: '6', automation: '2' });
	});

	it('a read still retries 5xx answers', async () => {
		const seed = seedFor([true, true, false], 0.5, '5xx');
		await t.control('PUT', '/faults', { rate5xx: 0.5, seed, routePattern: '^GET /api/3/contacts/:id$' });
		await t.resetStats();
		const result = await t.run({ resource: 'contact', operation: 'get', contact: '3' });
		expect(result.error).toBeUndefined();
		expect(await t.count('GET /api/3/contacts/:id')).toBe(3);
		expect(jsonOf(result)[0]).toMatchObject({ id: '3' });
	});

	it('an upsert marked safe to repeat (contact/sync by email) still retries 5xx answers', async () => {
		const seed = seedFor([true, false], 0.5, '5xx');
		await t.control('PUT', '/faults', { rate5xx: 0.5, seed, routePattern: '^POST /api/3/contact/sync$' });
		await t.resetStats();
		const result = await t.run({ resource: 'contact', operation: 'upsert', dataMode: 'fields', email: 'retried.upsert@example.net', additionalFields: { firstName: 'Retried' } });
		expect(result.error).toBeUndefined();
		expect(await t.count('POST /api/3/contact/sync')).toBe(2);
		expect(((await t.contact('retried.upsert@example.net')).contact as IDataObject).firstName).toBe('Retried');
	});
});
