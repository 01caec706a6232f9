/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The Dynamics 365 credentials against the sandbox's token endpoint and Web API:
 * - metadata (column pickers, the trigger's table) is cached per credential, never shared by two credentials of one
 *   environment URL;
 * - the inputs are cleaned once, the same way for the token request, the credential test, the OAuth2 URLs and the
 *   nodes (spaces, `/api/data/v9.2`, an Authority Host without a scheme or with a tenant path);
 * - a failed sign-in says which field to fix, and a token endpoint that answers without a token is reported as such.
 */
import type { IDataObject, INodePropertyOptions } from 'n8n-workflow';

import { Dynamics365ClientCredentialsApi } from '../../../credentials/Dynamics365ClientCredentialsApi.credentials';
import { Dynamics365OAuth2Api } from '../../../credentials/Dynamics365OAuth2Api.credentials';
import { Dynamics365 } from '../../../nodes/Dynamics365/Dynamics365.node';
import { Dynamics365Trigger } from '../../../nodes/Dynamics365/Dynamics365Trigger.node';
import { clearMetadataCache } from '../../../nodes/Dynamics365/transport/metadata';
import { AcD365FieldMap } from '../../../nodes/FieldMap/AcD365FieldMap.node';
import { N8nHarness, type NodeSpec } from '../../helpers/n8n-harness';
import { CRED, credentialsFor, jsonOf, setupD365, type D365Test } from './helpers';

/** Table metadata loads: its reads go together in one $batch (the list of tables alone is a plain GET). */
const METADATA = /EntityDefinitions|\$batch/;

const OAUTH = 'dynamics365OAuth2Api';
const TOKEN_ROUTE = /oauth2\/v2\.0\/token/;

let t: D365Test;
let harness: N8nHarness;
beforeAll(async () => {
	t = await setupD365();
	harness = new N8nHarness({
		nodes: [Dynamics365, Dynamics365Trigger, AcD365FieldMap],
		credentialTypes: [Dynamics365ClientCredentialsApi, Dynamics365OAuth2Api],
		credentials: { [CRED]: credentialsFor(t.url) },
	});
	await t.control('POST', '/clients', { clientId: 'second-app', clientSecret: 'second-app-secret-0042' });
});
afterAll(async () => await t.close());
beforeEach(() => useCredential(credentialsFor(t.url)));
afterEach(async () => {
	await t.control('PUT', '/auth', { tokenEndpointAnswer: 'token', strictScope: true });
});

/** Sets the client-credentials credential (without a stored token: the next request signs in). */
function useCredential(data: IDataObject): void {
	harness.setCredentials(CRED, { ...data, accessToken: '' } as never);
}

const dynamicsSpec = (parameters: IDataObject, credentials = [CRED]): NodeSpec => ({
	type: 'dynamics365',
	parameters: { authentication: 'clientCredentials', ...parameters } as never,
	credentials,
});
const fieldMapSpec: NodeSpec = {
	type: 'acD365FieldMap',
	parameters: { dynamicsAuthentication: 'clientCredentials', entity: 'contact' } as never,
	credentials: [CRED],
};
const contactColumns = async () => (await harness.loadOptions(dynamicsSpec({ resource: 'contact' }), 'loadOptions', 'getColumns')) as INodePropertyOptions[];
const fieldMapColumns = async () => (await harness.loadOptions(fieldMapSpec, 'loadOptions', 'getDynamicsColumns')) as INodePropertyOptions[];
const getManyContacts = async (extra: Partial<NodeSpec> = {}) =>
	await harness.runNode({ ...dynamicsSpec({ resource: 'contact', operation: 'getMany', returnAll: false, limit: 3, options: {} }), ...extra }, [{}]);

describe('metadata cache per credential', () => {
	beforeEach(() => clearMetadataCache());

	it('a credential with a wrong secret does not see the columns another credential loaded (column picker, Field Map picker)', async () => {
		expect((await contactColumns()).map((c) => c.value)).toContain('emailaddress1');
		expect((await fieldMapColumns()).length).toBeGreaterThan(5);

		useCredential(credentialsFor(t.url, { clientSecret: 'wrong-secret-for-the-picker' }));
		await t.resetStats();
		await expect(contactColumns()).rejects.toThrow(/check the Client Secret/);
		await expect(fieldMapColumns()).rejects.toThrow(/check the Client Secret/);
		expect(await t.count(TOKEN_ROUTE)).toBe(2);
		expect(await t.count(/EntityDefinitions/)).toBe(0);
	});

	it('the first poll of a trigger whose credential has a wrong secret fails instead of returning nothing', async () => {
		const trigger = { type: 'dynamics365Trigger', name: 'Wrong secret trigger', parameters: { events: ['contact.updated'], mode: 'watermark', options: {} } as never, credentials: [CRED] };
		// Another credential of the same environment loads the contact table first.
		expect((await contactColumns()).length).toBeGreaterThan(5);
		useCredential(credentialsFor(t.url, { clientSecret: 'wrong-secret-for-the-trigger' }));
		await expect(harness.poll(trigger)).rejects.toThrow(/check the Client Secret/);
	});

	it('a second application user of the same environment loads its own metadata; the same credential hits its cache', async () => {
		expect((await contactColumns()).length).toBeGreaterThan(5);
		await t.resetStats();
		expect((await contactColumns()).length).toBeGreaterThan(5);
		expect(await t.count(METADATA)).toBe(0);

		useCredential(credentialsFor(t.url, { clientId: 'second-app', clientSecret: 'second-app-secret-0042' }));
		expect((await contactColumns()).length).toBeGreaterThan(5);
		const loads = await t.count(METADATA);
		expect(loads).toBeGreaterThan(0);
		expect((await contactColumns()).length).toBeGreaterThan(5);
		expect(await t.count(METADATA)).toBe(loads);
	});
});

describe('credential inputs are cleaned the same way everywhere', () => {
	const host = () => new URL(t.url).host;
	const variants: Array<[string, () => IDataObject]> = [
		['an Environment URL with /api/data/v9.2/ and spaces', () => ({ environmentUrl: `  ${t.url}/api/data/v9.2/ ` })],
		['a Client ID and a Tenant ID with spaces', () => ({ clientId: ' sandbox-client ', tenantId: ' sandbox-tenant\t' })],
		['an Authority Host without a scheme', () => ({ authorityHost: host() })],
		['an Authority Host with the tenant path', () => ({ authorityHost: `${t.url}/sandbox-tenant/` })],
		['an Authority Host with the whole token endpoint path', () => ({ authorityHost: `${t.url}/sandbox-tenant/oauth2/v2.0/token` })],
		['a Client Secret with a line break after it', () => ({ clientSecret: 'sandbox-secret\n' })],
	];

	it.each(variants)('works with %s: credential test, node run and column picker', async (_, overrides) => {
		clearMetadataCache();
		useCredential(credentialsFor(t.url, overrides()));
		expect(await harness.testCredential(CRED)).toEqual({ status: 'OK', message: 'Connection tested successfully' });
		useCredential(credentialsFor(t.url, overrides()));
		const result = await getManyContacts();
		expect(result.error?.message).toBeUndefined();
		expect(jsonOf(result)).toHaveLength(3);
		expect((await contactColumns()).map((c) => c.value)).toContain('lastname');
	});

	it('cleans the OAuth2 credential the same way: its URLs and scope, and a token refresh through them', async () => {
		const resolved = harness.credentialsHelper.applyDefaults(OAUTH, {
			environmentUrl: ' https://contoso.crm4.dynamics.com/api/data/v9.2/ ',
			authorityHost: 'login.microsoftonline.us/contoso-tenant/',
			tenantId: ' 11111111-2222-3333-4444-555555555555 ',
		} as never);
		expect(resolved.scope).toBe('https://contoso.crm4.dynamics.com/user_impersonation offline_access');
		expect(resolved.accessTokenUrl).toBe('https://login.microsoftonline.us/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token');
		expect(resolved.authUrl).toBe('https://login.microsoftonline.us/11111111-2222-3333-4444-555555555555/oauth2/v2.0/authorize');
		expect(harness.credentialsHelper.applyDefaults(OAUTH, { environmentUrl: 'https://x.crm.dynamics.com' } as never).accessTokenUrl).toBe(
			'https://login.microsoftonline.com/organizations/oauth2/v2.0/token',
		);

		const tokenData = await signIn();
		harness.setCredentials(OAUTH, {
			environmentUrl: `${t.url}/api/data/v9.2 `,
			tenantId: ' sandbox-tenant ',
			authorityHost: `${host()}/sandbox-tenant`,
			clientId: 'sandbox-client',
			clientSecret: 'sandbox-secret',
			oauthTokenData: tokenData,
		} as never);
		await t.control('POST', '/clock', { advanceSeconds: 7200 });
		await t.resetStats();
		const result = await getManyContacts({ parameters: { authentication: 'oAuth2', resource: 'contact', operation: 'getMany', returnAll: false, limit: 3, options: {} } as never, credentials: [OAUTH] });
		expect(result.error?.message).toBeUndefined();
		expect(jsonOf(result)).toHaveLength(3);
		expect(await t.count(TOKEN_ROUTE)).toBe(1);
		expect((harness.storedCredentials(OAUTH)?.oauthTokenData as IDataObject).access_token).not.toBe(tokenData.access_token);
	});
});

describe('a failed sign-in names the field to fix', () => {
	async function signInError(overrides: IDataObject): Promise<{ message: string; description: string; test: string; tokenRequests: number }> {
		clearMetadataCache();
		useCredential(credentialsFor(t.url, overrides));
		await t.resetStats();
		const result = await getManyContacts();
		const tokenRequests = await t.count(TOKEN_ROUTE);
		useCredential(credentialsFor(t.url, overrides));
		const test = await harness.testCredential(CRED);
		expect(test.status).toBe('Error');
		expect(result.error).toBeDefined();
		return { message: String(result.error?.message), description: String(result.error?.description), test: test.message, tokenRequests };
	}

	it('a token endpoint that answers 200 with a web page: the Authority Host, not a missing Bearer token', async () => {
		await t.control('PUT', '/auth', { tokenEndpointAnswer: 'html' });
		const failure = await signInError({});
		expect(failure.message).toBe('The token endpoint answered without an access token (HTTP 200, text/html): check the Authority Host');
		expect(failure.test).toContain('The token endpoint answered without an access token (HTTP 200, text/html): check the Authority Host');
		expect(failure.description).toMatch(/is not a Microsoft Entra ID token endpoint/);
		expect(`${failure.message} ${failure.description}`).not.toMatch(/redacted|Bearer/);
		// Nothing was stored as a token, and no request went to Dataverse without one.
		expect(harness.storedCredentials(CRED)?.accessToken).toBe('');
		expect(failure.tokenRequests).toBe(1);
		expect((await t.stats()).byStatus['401'] ?? 0).toBe(0);
	});

	it('a token endpoint that answers 200 JSON without access_token', async () => {
		await t.control('PUT', '/auth', { tokenEndpointAnswer: 'noToken' });
		const failure = await signInError({});
		expect(failure.message).toBe('The token endpoint answered without an access token (HTTP 200, application/json): check the Authority Host');
	});

	it.each([
		['a wrong secret', { clientSecret: 'not-the-secret-value' }, /\(HTTP 401\): check the Client Secret$/, /secret's Value \(not its Secret ID\).*AADSTS7000215/],
		['an unknown client id', { clientId: 'no-such-app' }, /\(HTTP 400\): check the Client ID$/, /AADSTS700016/],
		['an environment the tenant does not know', { environmentUrl: 'https://other.crm.dynamics.com' }, /\(HTTP 400\): check the Environment URL$/, /AADSTS500011/],
	])('%s', async (_, overrides, message, description) => {
		const failure = await signInError(overrides);
		expect(failure.message).toMatch(message);
		expect(failure.test).toMatch(message);
		expect(failure.description).toMatch(description);
		// One token request: a sign-in that cannot succeed is not repeated.
		expect(failure.tokenRequests).toBe(1);
		expect(`${failure.message} ${failure.description} ${failure.test}`).not.toContain('not-the-secret-value');
	});

	it('an Authority Host that does not answer, an Authority Host that is not a URL, an empty Client ID', async () => {
		const unreachable = await signInError({ authorityHost: 'http://127.0.0.1:9' });
		expect(unreachable.message).toBe('Could not reach the token endpoint: check the Authority Host');
		expect(unreachable.description).toMatch(/^The request to http:\/\/127\.0\.0\.1:9\/sandbox-tenant\/oauth2\/v2\.0\/token got no answer \(ECONNREFUSED\)/);
		expect(unreachable.test).toMatch(/check the Authority Host/);
		const notUrl = await signInError({ authorityHost: 'https://' });
		expect(notUrl.message).toMatch(/^The Authority Host 'https:\/\/' is not a URL/);
		expect(notUrl.tokenRequests).toBe(0);
		const noClient = await signInError({ clientId: '   ' });
		expect(noClient.message).toMatch(/^The Client ID is empty/);
		expect(noClient.tokenRequests).toBe(0);
	});

	it('a node whose Environment URL is not a URL says so before any request', async () => {
		useCredential(credentialsFor(t.url, { environmentUrl: 'https://' }));
		await t.resetStats();
		const result = await getManyContacts();
		expect(result.error?.message).toMatch(/^The Environment URL 'https:\/\/' is not a URL/);
		expect((await t.stats()).total).toBe(0);
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
