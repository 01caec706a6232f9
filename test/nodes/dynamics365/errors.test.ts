/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Credentials and errors: the credential test (WhoAmI) with a good and a wrong secret, a missing privilege explained
 * (privilege, table, fix), and no secret or token in any error or output.
 */
import type { IDataObject } from 'n8n-workflow';

import { CRED, credentialsFor, jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

const NO_LEAD_SECRET = 'no-lead-read-secret-4711';

function useClient(clientId: string, clientSecret: string): void {
	t.harness.setCredentials(CRED, credentialsFor(t.url, { clientId, clientSecret }));
}

afterEach(() => useClient('sandbox-client', 'sandbox-secret'));

describe('credential test', () => {
	it('calls WhoAmI and succeeds with the right secret', async () => {
		await t.resetStats();
		expect(await t.harness.testCredential(CRED)).toEqual({ status: 'OK', message: 'Connection tested successfully' });
		expect(await t.count(/WhoAmI/)).toBe(1);
	});

	it('fails with a wrong secret, without showing the secret', async () => {
		useClient('sandbox-client', 'wrong-secret-value-123');
		const result = await t.harness.testCredential(CRED);
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/401/);
		expect(result.message).not.toContain('wrong-secret-value-123');
	});
});

describe('missing privilege', () => {
	beforeAll(async () => {
		await t.control('POST', '/clients', { clientId: 'no-lead-read', clientSecret: NO_LEAD_SECRET, deniedPrivileges: ['prvReadLead'] });
	});

	it('names the privilege, the table and the fix (node)', async () => {
		useClient('no-lead-read', NO_LEAD_SECRET);
		const result = await t.run({ resource: 'lead', operation: 'getMany', returnAll: true, options: {} });
		const error = result.error!;
		expect(error).toBeDefined();
		const text = `${error.message} ${error.description}`;
		console.log(`[measure] privilege error: ${error.message} | ${String(error.description).slice(0, 160)}…`);
		expect(error.message).toMatch(/prvReadLead/);
		expect(error.message).toMatch(/lead table/);
		expect(text).toMatch(/ask an administrator to add it to the application user's security role/i);
		expect(error.httpCode).toBe('403');
		expect(text).not.toContain(NO_LEAD_SECRET);
	});

	it('names the privilege, the table and the fix (trigger), per item with continue on fail (node)', async () => {
		useClient('no-lead-read', NO_LEAD_SECRET);
		await expect(t.poll({ events: ['lead.created'], mode: 'watermark', options: { startFrom: '2025-01-01T00:00:00Z' } }, 'trigger', 'No leads')).rejects.toThrow(
			/prvReadLead.*lead table/,
		);
		const result = await t.run(
			{ resource: 'lead', operation: 'get', recordId: t.demoIds['lead:sam.taylor@adatum.com'], options: {} },
			[{}, {}],
			{ continueOnFail: true },
		);
		const out = jsonOf(result);
		expect(out).toHaveLength(2);
		for (const item of out) {
			expect(String(item.error)).toMatch(/prvReadLead/);
			expect(String(item.details)).toMatch(/security role/);
		}
	});
});

describe('secrets', () => {
	it('never puts the client secret or the access token in errors or output', async () => {
		// A successful run stores a token; then requests fail in several ways.
		await t.run({ resource: 'contact', operation: 'getMany', returnAll: false, limit: 1, options: {} });
		const token = String(t.harness.storedCredentials(CRED)?.accessToken ?? '');
		expect(token.length).toBeGreaterThan(10);
		const failures: IDataObject[] = [];
		const collect = (value: unknown) => failures.push(JSON.parse(JSON.stringify(value ?? null)) as IDataObject);

		const notFound = await t.run({ resource: 'contact', operation: 'get', recordId: '00000000-0000-0000-0000-000000000009', options: {} });
		collect({ message: notFound.error?.message, description: notFound.error?.description, error: notFound.error });
		const badFilter = await t.run({ resource: 'contact', operation: 'getMany', returnAll: true, options: { rawFilter: 'lastname eq' } }, [{}], { continueOnFail: true });
		collect(jsonOf(badFilter));

		useClient('sandbox-client', 'sandbox-secret-but-wrong');
		t.harness.setCredentials(CRED, { ...credentialsFor(t.url, { clientSecret: 'sandbox-secret-but-wrong' }), accessToken: '' });
		const badSecret = await t.run({ resource: 'contact', operation: 'getMany', returnAll: false, limit: 1, options: {} });
		collect({ message: badSecret.error?.message, description: badSecret.error?.description, error: badSecret.error });

		const text = JSON.stringify(failures);
		expect(text).not.toContain('sandbox-secret');
		expect(text).not.toContain(token);
		expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9]/);
		expect(String(notFound.error?.message)).toMatch(/Does Not Exist/);
		expect(String(badFilter.outputs[0][0].json.error)).toMatch(/expected|syntax|position/i);
	});
});
