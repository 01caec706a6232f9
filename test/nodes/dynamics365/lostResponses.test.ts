/**
 * Writes whose answer was lost after Dataverse applied them: the node sends them again and must report the records
 * that exist as written (not as failed), without creating a second record.
 */
import type { IDataObject } from 'n8n-workflow';

import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365({ seed: 'empty' });
});
afterAll(async () => await t.close());
afterEach(async () => {
	await t.control('DELETE', '/scripted-faults');
});

async function contacts(prefix: string): Promise<IDataObject[]> {
	const state = await t.control<{ value: IDataObject[] }>('GET', '/state/contacts');
	return state.value.filter((r) => String(r.lastname ?? '').startsWith(prefix));
}

function people(n: number, prefix: string): IDataObject[] {
	return Array.from({ length: n }, (_, k) => ({ lastname: `${prefix} ${k}`, emailaddress1: `${prefix.toLowerCase().replace(/\W+/g, '.')}.${k}@example.org` }));
}

describe('a CreateMultiple whose answer was lost', () => {
	it('reports every record the first request created as created (the retry fails as a duplicate of its own ids)', async () => {
		await t.control('POST', '/scripted-faults', { match: '^POST /api/data/v9.2/contacts/Microsoft.Dynamics.CRM.CreateMultiple$', fault: 'lose' });
		await t.resetStats();
		const result = await t.run({ resource: 'contact', operation: 'create', dataMode: 'autoMap', options: { writeMethod: 'multiple' } }, people(5, 'Lost Bulk'), {
			continueOnFail: true,
		});
		const out = jsonOf(result);
		const rows = await contacts('Lost Bulk');
		expect(rows).toHaveLength(5);
		expect(out.map((o) => o.error)).toEqual([undefined, undefined, undefined, undefined, undefined]);
		expect(out.map((o) => o.operation)).toEqual(['created', 'created', 'created', 'created', 'created']);
		expect(new Set(out.map((o) => o.id))).toEqual(new Set(rows.map((r) => r.contactid)));
		// The lost request and its retry (412: the records exist); then the per-record $batch (412 each).
		const log = await t.control<{ requests: Array<{ path: string; status: number }> }>('GET', '/requests?last=50');
		expect(log.requests.filter((r) => r.path.endsWith('CreateMultiple')).map((r) => r.status)).toEqual([0, 412]);
	});

	it('writes a CreateMultiple that was refused (throttled, not applied) through $batch, each record once', async () => {
		await t.control('POST', '/scripted-faults', { match: 'CreateMultiple$', fault: 'throttle', retryAfter: '61' });
		const result = await t.run({ resource: 'contact', operation: 'create', dataMode: 'autoMap', options: { writeMethod: 'multiple' } }, people(4, 'Refused Bulk'), {
			continueOnFail: true,
		});
		const out = jsonOf(result);
		expect(out.map((o) => o.operation)).toEqual(['created', 'created', 'created', 'created']);
		const rows = await contacts('Refused Bulk');
		expect(rows).toHaveLength(4);
		expect(new Set(out.map((o) => o.id))).toEqual(new Set(rows.map((r) => r.contactid)));
	});
});
