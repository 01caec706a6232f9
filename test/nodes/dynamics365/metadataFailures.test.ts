/**
 * Table metadata is loaded with several sub-queries (option labels, lookup targets, date formats, precision) in one
 * $batch. Its load failing for good (throttled or a server error after the retries) must not leave an incomplete
 * table in the five-minute cache: the run fails with the real reason and the next run loads the table again.
 */
import type { IDataObject } from 'n8n-workflow';

import { clearMetadataCache } from '../../../nodes/Dynamics365/transport/metadata';
import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365({ seed: 'empty' });
});
afterAll(async () => await t.close());
beforeEach(() => clearMetadataCache());
afterEach(async () => {
	await t.control('DELETE', '/scripted-faults');
});

const create = { resource: 'contact', operation: 'create', dataMode: 'autoMap', options: {} };

it('does not cache a table whose metadata load was throttled; the next run writes the choice by its label', async () => {
	// Retry-After above the 60 s a request may wait: the node gives up on that request at once.
	await t.control('POST', '/scripted-faults', { match: '^POST .*\\$batch', fault: 'throttle', retryAfter: '61' });
	const first = jsonOf(await t.run(create, [{ lastname: 'Channel One', new_preferredchannel: 'Email' }], { continueOnFail: true }));
	expect(first).toHaveLength(1);
	expect(String(first[0].error)).toMatch(/Number of requests exceeded the limit/);

	const second = jsonOf(await t.run(create, [{ lastname: 'Channel Two', new_preferredchannel: 'Email' }], { continueOnFail: true }));
	expect(second[0].error).toBeUndefined();
	expect(second[0].operation).toBe('created');
	const row = await t.control<IDataObject>('GET', `/state/contacts/${String(second[0].id)}`);
	expect(row.new_preferredchannel).toBe(100000000);
});

it('does not cache a table whose metadata load failed with a server error', async () => {
	await t.control('POST', '/scripted-faults', { match: '^POST .*\\$batch', fault: 'error', status: 503, retryAfter: '61' });
	const account = await t.control<IDataObject>('POST', '/ui/accounts', { name: 'Metadata Account' });
	const input = [{ lastname: 'With Account', parentcustomerid: `account:${String(account.accountid)}` }];
	const first = jsonOf(await t.run(create, input, { continueOnFail: true }));
	expect(String(first[0].error)).toMatch(/temporarily unavailable/i);

	const second = jsonOf(await t.run(create, input, { continueOnFail: true }));
	expect(second[0].operation).toBe('created');
	const row = await t.control<IDataObject>('GET', `/state/contacts/${String(second[0].id)}`);
	expect(row._parentcustomerid_value).toBe(account.accountid);
});
