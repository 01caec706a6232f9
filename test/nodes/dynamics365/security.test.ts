/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Secrets never reach an output item, the run data or an error (message, description, stack), even when Dataverse
 * answers an error whose body echoes the access token without a "Bearer" prefix, and even when that token was fetched
 * or refreshed during the same execution (after the node had started). The sandbox's scripted fault `echoToken` makes
 * the error body quote the token as it arrived.
 */
import type { IDataObject } from 'n8n-workflow';

import { CRED, credentialsFor, jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());
afterEach(async () => {
	await t.control('DELETE', '/scripted-faults');
	t.harness.setCredentials(CRED, credentialsFor(t.url));
});

const OAUTH = 'dynamics365OAuth2Api';
const getManyContacts = { resource: 'contact', operation: 'getMany', returnAll: false, limit: 5, options: {} };
const contactTrigger = { events: ['contact.created', 'contact.updated'], mode: 'watermark', options: { startFrom: '2020-01-01T00:00:00Z' } };

/** Every later GET of contacts answers 400 with the token echoed in the error message. */
async function echoTokenOnContactReads(status = 400): Promise<void> {
	await t.control('POST', '/scripted-faults', { match: '^GET /api/data/v9.2/contacts', fault: 'error', status, echoToken: true, times: 50 });
}

async function faultHits(): Promise<number> {
	const rules = await t.control<{ value: Array<{ hits: number }> }>('GET', '/scripted-faults');
	return rules.value.reduce((sum, r) => sum + r.hits, 0);
}

function storedToken(): string {
	return String(t.harness.storedCredentials(CRED)?.accessToken ?? '');
}

/** Everything of an error a user or a log can see. */
function errorText(error: unknown): string {
	const e = error as { message?: string; description?: string; stack?: string; messages?: string[] };
	return [e?.message, e?.description, e?.stack, JSON.stringify(e?.messages ?? []), JSON.stringify(error ?? null)].join('\n');
}

describe('a Dataverse error body that echoes the access token', () => {
	it('is redacted from output items and run data when the token was fetched in the same execution (Get Many, continue on fail)', async () => {
		t.harness.setCredentials(CRED, { ...credentialsFor(t.url), accessToken: '' });
		await echoTokenOnContactReads();
		const result = await t.run(getManyContacts, [{}], { continueOnFail: true });
		const token = storedToken();
		expect(token.length).toBeGreaterThan(20);
		expect(await faultHits()).toBeGreaterThan(0);
		const [item] = jsonOf(result);
		expect(String(item.error)).toMatch(/The request was rejected \(status 400\)/);
		expect(String(item.error)).toContain('[redacted]');
		expect(JSON.stringify(result.outputs)).not.toContain(token);
		expect(JSON.stringify(result.run)).not.toContain(token);
	});

	it('is redacted when the stored token expired and was refreshed in the same execution (Get Many, continue on fail)', async () => {
		expect(jsonOf(await t.run(getManyContacts)).length).toBeGreaterThan(0);
		const before = storedToken();
		expect(before.length).toBeGreaterThan(20);
		await t.control('POST', '/clock', { advanceSeconds: 7200 });
		await echoTokenOnContactReads();
		const result = await t.run(getManyContacts, [{}], { continueOnFail: true });
		const refreshed = storedToken();
		expect(refreshed).not.toBe(before);
		expect(await faultHits()).toBeGreaterThan(0);
		expect(String(jsonOf(result)[0].error)).toContain('[redacted]');
		const text = JSON.stringify(result.run);
		expect(text).not.toContain(refreshed);
		expect(text).not.toContain(before);
	});

	it('is redacted from the error of a node that stops (no continue on fail), with a server error', async () => {
		t.harness.setCredentials(CRED, { ...credentialsFor(t.url), accessToken: '' });
		// 500 with a Retry-After beyond the 60 s a request may wait: the node gives up at once.
		await t.control('POST', '/scripted-faults', { match: '^GET /api/data/v9.2/contacts', fault: 'error', status: 500, retryAfter: '61', echoToken: true, times: 50 });
		const result = await t.run(getManyContacts);
		const token = storedToken();
		expect(result.error).toBeDefined();
		expect(errorText(result.error)).not.toContain(token);
		expect(JSON.stringify(result.run)).not.toContain(token);
		expect(String(result.error?.message)).toMatch(/An unexpected error occurred/);
	});

	it('is redacted from a trigger poll error (message, description, stack) after a token fetch and after a refresh', async () => {
		t.harness.setCredentials(CRED, { ...credentialsFor(t.url), accessToken: '' });
		await echoTokenOnContactReads(403);
		const fetched = await t.poll(contactTrigger, 'trigger', 'Echo fetch').then(
			() => undefined,
			(error: unknown) => error,
		);
		expect(fetched).toBeDefined();
		const first = storedToken();
		expect(first.length).toBeGreaterThan(20);
		expect(errorText(fetched)).not.toContain(first);
		expect(String((fetched as Error).message)).toMatch(/rejected/);

		await t.control('POST', '/clock', { advanceSeconds: 7200 });
		const refreshed = await t.poll(contactTrigger, 'trigger', 'Echo refresh').then(
			() => undefined,
			(error: unknown) => error,
		);
		expect(refreshed).toBeDefined();
		const second = storedToken();
		expect(second).not.toBe(first);
		expect(errorText(refreshed)).not.toContain(second);
		expect(errorText(refreshed)).not.toContain(first);
	});

	it('is redacted when the OAuth2 credential refreshed its token in the same execution', async () => {
		const tokenData = await signIn();
		t.harness.setCredentials(OAUTH, {
			environmentUrl: t.url,
			tenantId: 'sandbox-tenant',
			authorityHost: t.url,
			clientId: 'sandbox-client',
			clientSecret: 'sandbox-secret',
			oauthTokenData: tokenData,
		});
		await t.control('POST', '/clock', { advanceSeconds: 7200 });
		await echoTokenOnContactReads();
		const result = await t.run({ ...getManyContacts, authentication: 'oAuth2' }, [{}], { continueOnFail: true, credentials: [OAUTH] });
		const stored = t.harness.storedCredentials(OAUTH)?.oauthTokenData as IDataObject;
		expect(stored.access_token).not.toBe(tokenData.access_token);
		expect(await faultHits()).toBeGreaterThan(0);
		expect(String(jsonOf(result)[0].error)).toContain('[redacted]');
		const text = JSON.stringify(result.run);
		for (const secret of [stored.access_token, stored.refresh_token, tokenData.access_token, tokenData.refresh_token, 'sandbox-secret']) {
			expect(text).not.toContain(String(secret));
		}
	});
});

async function signIn(): Promise<IDataObject> {
	const redirect = 'http://localhost:5678/rest/oauth2-credential/callback';
	const scope = `${t.url}/user_impersonation offline_access`;
	const authorize = new URL(`${t.url}/sandbox-tenant/oauth2/v2.0/authorize`);
	authorize.search = new URLSearchParams({ client_id: 'sandbox-client', response_type: 'code', redirect_uri: redirect, scope, state: 's' }).toString();
	const res = await fetch(authorize, { redirect: 'manual' });
	const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
	const token = await fetch(`${t.url}/sandbox-tenant/oauth2/v2.0/token`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'sandbox-client', client_secret: 'sandbox-secret', code, redirect_uri: redirect, scope }),
	});
	return (await token.json()) as IDataObject;
}
