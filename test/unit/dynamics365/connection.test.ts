/**
 * The one place that cleans the Dynamics 365 credential inputs: the functions the node and the token request use, and
 * the n8n expressions the OAuth2 credential and the test request use, give the same results.
 */
import { Dynamics365ClientCredentialsApi } from '../../../credentials/Dynamics365ClientCredentialsApi.credentials';
import { Dynamics365OAuth2Api } from '../../../credentials/Dynamics365OAuth2Api.credentials';
import {
	connectionIdentity,
	connectionOf,
	connectionProblems,
	normalizeAuthorityHost,
	normalizeEnvironmentUrl,
	normalizeId,
	readTokenAnswer,
	type DynamicsSignInError,
} from '../../../nodes/Dynamics365/transport/connection';
import { N8nHarness } from '../../helpers/n8n-harness';

const ENVIRONMENTS: Array<[string, string]> = [
	['https://contoso.crm4.dynamics.com', 'https://contoso.crm4.dynamics.com'],
	['  https://contoso.crm4.dynamics.com/ ', 'https://contoso.crm4.dynamics.com'],
	['https://contoso.crm4.dynamics.com/api/data/v9.2', 'https://contoso.crm4.dynamics.com'],
	['https://contoso.crm4.dynamics.com/api/data/v9.2/', 'https://contoso.crm4.dynamics.com'],
	['https://contoso.crm4.dynamics.com/api/data/v9.1/accounts?$top=1', 'https://contoso.crm4.dynamics.com'],
	['https://contoso.crm4.dynamics.com/API/DATA', 'https://contoso.crm4.dynamics.com'],
	['https://contoso.crm4.dynamics.com/main.aspx?appid=1234#x', 'https://contoso.crm4.dynamics.com'],
	['contoso.crm4.dynamics.com', 'https://contoso.crm4.dynamics.com'],
	['https://contoso.crm4.dynamics.com\n', 'https://contoso.crm4.dynamics.com'],
	['127.0.0.1:4020', 'http://127.0.0.1:4020'],
	['localhost:4020/api/data/v9.2', 'http://localhost:4020'],
	['http://127.0.0.1:4020', 'http://127.0.0.1:4020'],
	['', ''],
];

const AUTHORITIES: Array<[string, string]> = [
	['', 'https://login.microsoftonline.com'],
	['https://login.microsoftonline.com', 'https://login.microsoftonline.com'],
	['https://login.microsoftonline.us/', 'https://login.microsoftonline.us'],
	[' login.microsoftonline.com ', 'https://login.microsoftonline.com'],
	['https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555', 'https://login.microsoftonline.com'],
	['https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token', 'https://login.microsoftonline.com'],
	['login.chinacloudapi.cn/common/', 'https://login.chinacloudapi.cn'],
	['127.0.0.1:4020/sandbox-tenant', 'http://127.0.0.1:4020'],
];

describe('credential inputs', () => {
	it.each(ENVIRONMENTS)('Environment URL %j → %j', (input, expected) => {
		expect(normalizeEnvironmentUrl(input)).toBe(expected);
	});

	it.each(AUTHORITIES)('Authority Host %j → %j', (input, expected) => {
		expect(normalizeAuthorityHost(input)).toBe(expected);
	});

	it('ids lose spaces and braces; the secret only its surrounding spaces', () => {
		expect(normalizeId(' 11111111-2222-3333-4444-555555555555 ')).toBe('11111111-2222-3333-4444-555555555555');
		expect(normalizeId('{11111111-2222-3333-4444-555555555555}\t')).toBe('11111111-2222-3333-4444-555555555555');
		expect(normalizeId('abc def')).toBe('abcdef');
		expect(connectionOf({ clientSecret: '  a~b.c d \n' }).clientSecret).toBe('a~b.c d');
		expect(connectionOf({}, 'organizations').tenantId).toBe('organizations');
	});

	it('names what is missing or malformed, field by field', () => {
		expect(connectionProblems(connectionOf({}), 'clientCredentials')).toEqual([
			expect.stringMatching(/^The Environment URL is empty/),
			expect.stringMatching(/^The Tenant ID is empty/),
			expect.stringMatching(/^The Client ID is empty/),
			expect.stringMatching(/^The Client Secret is empty/),
		]);
		expect(connectionProblems(connectionOf({ environmentUrl: 'https://', authorityHost: 'ftp://x' }), 'oAuth2')).toEqual([
			"The Environment URL 'https://' is not a URL: enter it as https://yourorg.crm.dynamics.com",
			"The Authority Host 'ftp://x' is not a URL: leave it at https://login.microsoftonline.com unless you use a sovereign cloud",
		]);
	});

	it('the credentials’ expressions clean the inputs exactly as the functions do', () => {
		const harness = new N8nHarness({ nodes: [], credentialTypes: [Dynamics365ClientCredentialsApi, Dynamics365OAuth2Api], credentials: {} });
		for (const [environmentUrl] of ENVIRONMENTS) {
			for (const [authorityHost] of AUTHORITIES) {
				const oauth = harness.credentialsHelper.applyDefaults('dynamics365OAuth2Api', { environmentUrl, authorityHost, tenantId: ' t1 ' } as never);
				const connection = connectionOf({ environmentUrl, authorityHost, tenantId: ' t1 ' });
				expect(oauth.scope).toBe(`${connection.environmentUrl}/user_impersonation offline_access`);
				expect(oauth.accessTokenUrl).toBe(`${connection.authorityHost}/t1/oauth2/v2.0/token`);
				expect(oauth.authUrl).toBe(`${connection.authorityHost}/t1/oauth2/v2.0/authorize`);
			}
		}
		const baseURL = String(new Dynamics365ClientCredentialsApi().test.request.baseURL);
		expect(baseURL.startsWith('={{')).toBe(true);
		expect(baseURL.endsWith('}}/api/data/v9.2')).toBe(true);
		// Only the closing braces of the expression: a `}}` inside would end it early.
		expect(baseURL.slice(3, -'}}/api/data/v9.2'.length)).not.toContain('}}');
	});

	it('keys caches by credential: another client, tenant, secret or credential id is another key', () => {
		const base = { environmentUrl: 'https://contoso.crm.dynamics.com', tenantId: 't', clientId: 'c', clientSecret: 's1' };
		const key = (over: Record<string, string> = {}, id = 'cred-1') => connectionIdentity('dynamics365ClientCredentialsApi', connectionOf({ ...base, ...over }), id);
		const keys = [key(), key({ clientSecret: 's2' }), key({ clientId: 'c2' }), key({ tenantId: 't2' }), key({}, 'cred-2'), key({ environmentUrl: 'https://other.crm.dynamics.com' })];
		expect(new Set(keys).size).toBe(keys.length);
		expect(key({ environmentUrl: ' https://contoso.crm.dynamics.com/api/data/v9.2 ' })).toBe(key());
		expect(keys.join('\n')).not.toMatch(/s1|s2/);
		expect(key().startsWith('https://contoso.crm.dynamics.com|')).toBe(true);
	});
});

describe('token endpoint answers', () => {
	const url = 'https://login.microsoftonline.com/t/oauth2/v2.0/token';
	const fail = (answer: Parameters<typeof readTokenAnswer>[0]): DynamicsSignInError => {
		try {
			readTokenAnswer(answer, url);
		} catch (error) {
			return error as DynamicsSignInError;
		}
		throw new Error('no error');
	};
	const entra = (status: number, code: number, text: string) => ({
		status,
		headers: { 'Content-Type': 'application/json; charset=utf-8' },
		body: JSON.stringify({ error: 'invalid_request', error_description: `AADSTS${code}: ${text}\r\nTrace ID: 1\r\nCorrelation ID: 2`, error_codes: [code] }),
	});

	it('reads the access token of a JSON answer (string or parsed)', () => {
		expect(readTokenAnswer({ status: 200, headers: {}, body: '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ.a.b"}' }, url)).toEqual({ accessToken: 'eyJ.a.b', expiresIn: 3599 });
		expect(readTokenAnswer({ status: 200, headers: {}, body: { access_token: 'x.y.z' } }, url).accessToken).toBe('x.y.z');
	});

	it.each([
		[401, 7000215, 'Invalid client secret provided.', 'Client Secret'],
		[401, 7000222, 'The provided client secret keys for app are expired.', 'Client Secret'],
		[400, 700016, "Application with identifier 'x' was not found in the directory 'y'.", 'Client ID'],
		[400, 90002, "Tenant 'x' not found.", 'Tenant ID'],
		[400, 900023, "Specified tenant identifier 'x y' is neither a valid DNS name, nor a valid external domain.", 'Tenant ID'],
		[400, 500011, 'The resource principal named https://x was not found in the tenant named y.', 'Environment URL'],
	])('HTTP %i AADSTS%i names the %s', (status, code, text, field) => {
		const error = fail(entra(status, code, text));
		expect(error.message).toBe(`Sign-in to Microsoft Entra ID failed (HTTP ${status}): check the ${field}`);
		expect(error.description).toContain(`AADSTS${code}: ${text}`);
		expect(error.description).not.toMatch(/Trace ID/);
		expect(error.httpCode).toBe(String(status));
	});

	it('a web page, an empty 200 and a 404 page name the Authority Host, without quoting the page', () => {
		const page = fail({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<html>secret-looking page</html>' });
		expect(page.message).toBe('The token endpoint answered without an access token (HTTP 200, text/html): check the Authority Host');
		expect(`${page.message} ${page.description}`).not.toContain('secret-looking');
		expect(fail({ status: 200, headers: {}, body: '' }).message).toBe(
			'The token endpoint answered without an access token (HTTP 200, no content type): check the Authority Host',
		);
		expect(fail({ status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"access_token":"  "}' }).message).toMatch(/without an access token/);
		expect(fail({ status: 404, headers: { 'Content-Type': 'text/html' }, body: '<html>Not found</html>' }).message).toBe(
			'The token endpoint answered HTTP 404 (text/html) without an Entra ID error: check the Authority Host',
		);
	});
});
