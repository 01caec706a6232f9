/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The node with the delegated OAuth2 credential (authorization code): requests go out as the signed-in user, and an
 * expired access token is refreshed by n8n's OAuth2 machinery with the refresh token.
 */
import type { IDataObject } from 'n8n-workflow';

import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

const OAUTH = 'dynamics365OAuth2Api';

async function signIn(): Promise<IDataObject> {
	const redirect = 'http://localhost:5678/rest/oauth2-credential/callback';
	const authorize = new URL(`${t.url}/sandbox-tenant/oauth2/v2.0/authorize`);
	authorize.search = new URLSearchParams({
		client_id: 'sandbox-client',
		response_type: 'code',
		redirect_uri: redirect,
		scope: `${t.url}/user_impersonation offline_access`,
		login_hint: 'sales.user@sandbox.onmicrosoft.com',
		state: 's',
	}).toString();
	const res = await fetch(authorize, { redirect: 'manual' });
	const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
	const token = await fetch(`${t.url}/sandbox-tenant/oauth2/v2.0/token`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({
			grant_type: 'authorization_code',
			client_id: 'sandbox-client',
			client_secret: 'sandbox-secret',
			code,
			redirect_uri: redirect,
			scope: `${t.url}/user_impersonation offline_access`,
		}),
	});
	return (await token.json()) as IDataObject;
}

it('works with the signed-in user and refreshes an expired token', async () => {
	const tokenData = await signIn();
	expect(tokenData.refresh_token).toBeTruthy();
	t.harness.setCredentials(OAUTH, {
		environmentUrl: t.url,
		tenantId: 'sandbox-tenant',
		authorityHost: t.url,
		clientId: 'sandbox-client',
		clientSecret: 'sandbox-secret',
		oauthTokenData: tokenData,
	});
	const run = (input: IDataObject[]) =>
		t.run({ authentication: 'oAuth2', resource: 'contact', operation: 'createOrUpdate', dataMode: 'autoMap', matchOn: 'column', matchColumn: 'emailaddress1', options: {} }, input, {
			credentials: [OAUTH],
		});
	const first = await run([{ emailaddress1: 'oauth.user@example.org', lastname: 'OAuth' }]);
	expect(first.error).toBeUndefined();
	const [created] = jsonOf(first);
	const row = await t.control<IDataObject>('GET', `/state/contacts/${created.id}`);
	const salesUser = (await t.control<IDataObject[] | { value: IDataObject[] }>('GET', '/state/systemusers')) as IDataObject[] | { value: IDataObject[] };
	const users = (Array.isArray(salesUser) ? salesUser : salesUser.value) as IDataObject[];
	expect(users.find((u) => u.systemuserid === row._createdby_value)?.fullname).toBe('Sales User');

	// Two hours later the access token has expired: n8n refreshes it and the request goes through.
	await t.control('POST', '/clock', { advanceSeconds: 7200 });
	const second = await run([{ emailaddress1: 'oauth.user@example.org', lastname: 'OAuth', jobtitle: 'Refreshed' }]);
	expect(second.error).toBeUndefined();
	expect(jsonOf(second)[0].operation).toBe('updated');
	const stored = t.harness.storedCredentials(OAUTH)?.oauthTokenData as IDataObject;
	expect(stored.access_token).not.toBe(tokenData.access_token);
});
