/**
 * Lookups given by key values (`/accounts(name='…')`): values with line breaks, tabs and quotes are found, and quotes
 * stay escaped on the way to Dataverse.
 */
import type { IDataObject } from 'n8n-workflow';

import { parseReference } from '../../../nodes/Dynamics365/helpers/values';
import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

describe('parseReference', () => {
	it('reads key values with line breaks, tabs and doubled quotes', () => {
		expect(parseReference("/accounts(name='line\nbreak')")).toEqual({ entitySet: 'accounts', key: { name: 'line\nbreak' } });
		expect(parseReference("accounts(name='a\r\nb\tc')")).toEqual({ entitySet: 'accounts', key: { name: 'a\r\nb\tc' } });
		expect(parseReference("accounts(name='O''Brien\n& Sons',accountnumber='A-1')")).toEqual({
			entitySet: 'accounts',
			key: { name: "O'Brien\n& Sons", accountnumber: 'A-1' },
		});
		expect(parseReference("https://org.crm.dynamics.com/api/data/v9.2/accounts(name='two\nlines')")).toEqual({ entitySet: 'accounts', key: { name: 'two\nlines' } });
		expect(parseReference("accounts(name='x'\n)")).toEqual({ entitySet: 'accounts', key: { name: 'x' } });
	});
});

describe('a lookup by a key value with a line break', () => {
	const accounts = ['Line\nBreak Ltd', "O'Brien\n& Sons", 'Windows\r\nLine Endings', 'Tab\tSeparated Co'];
	const ids: Record<string, string> = {};

	beforeAll(async () => {
		for (const name of accounts) {
			const created = await t.control<IDataObject>('POST', '/ui/accounts', { name });
			ids[name] = String(created.accountid);
		}
	});

	it('is found (column value bind and lookup column), quotes escaped', async () => {
		const literal = (name: string) => name.replace(/'/g, "''");
		const result = await t.run(
			{ resource: 'contact', operation: 'create', dataMode: 'autoMap', options: {} },
			[
				{ lastname: 'Bind', 'parentcustomerid_account@odata.bind': `/accounts(name='${literal(accounts[0])}')` },
				{ lastname: 'Quote', parentcustomerid: `/accounts(name='${literal(accounts[1])}')` },
				{ lastname: 'CRLF', parentcustomerid: `accounts(name='${literal(accounts[2])}')` },
				{ lastname: 'Tab', 'parentcustomerid_account@odata.bind': `/accounts(name='${literal(accounts[3])}')` },
				{ lastname: 'Missing', parentcustomerid: "/accounts(name='Line\nBreak Limited')" },
			],
			{ continueOnFail: true },
		);
		const out = jsonOf(result);
		expect(out.slice(0, 4).map((o) => o.error)).toEqual([undefined, undefined, undefined, undefined]);
		for (let i = 0; i < 4; i++) {
			const row = await t.control<IDataObject>('GET', `/state/contacts/${String(out[i].id)}`);
			expect(row._parentcustomerid_value).toBe(ids[accounts[i]]);
		}
		expect(String(out[4].error)).toMatch(/No account record has name = 'Line\nBreak Limited'/);
	});
});
