import { startHarness, type Harness } from './testkit';

describe('Dataverse simulator: authentication and privileges', () => {
	let h: Harness;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => h.close());
	beforeEach(async () => {
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
	});

	const tokenRequest = (form: Record<string, string>, tenant = 'contoso-tenant') =>
		fetch(`${h.url}/${tenant}/oauth2/v2.0/token`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams(form),
		});

	it('issues client-credentials tokens in the Entra ID shape, for any tenant id', async () => {
		const res = await tokenRequest({ grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret', scope: `${h.url}/.default` });
		expect(res.status).toBe(200);
		const body = (await res.json()) as Record<string, unknown>;
		expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
		expect(typeof body.access_token).toBe('string');
		expect(String(body.access_token).split('.')).toHaveLength(3);
		expect(body.refresh_token).toBeUndefined();
	});

	it('rejects a wrong secret with 401 invalid_client (AADSTS7000215)', async () => {
		const res = await tokenRequest({ grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'nope', scope: `${h.url}/.default` });
		expect(res.status).toBe(401);
		const body = (await res.json()) as Record<string, unknown>;
		expect(body.error).toBe('invalid_client');
		expect(String(body.error_description)).toMatch(/^AADSTS7000215: Invalid client secret provided/);
		expect(body.error_codes).toEqual([7000215]);
	});

	it('rejects an unsupported grant, an unknown client and a scope without /.default', async () => {
		let res = await tokenRequest({ grant_type: 'password', client_id: 'sandbox-client', client_secret: 'sandbox-secret' });
		expect(res.status).toBe(400);
		expect(((await res.json()) as { error: string }).error).toBe('unsupported_grant_type');
		res = await tokenRequest({ grant_type: 'client_credentials', client_id: 'who', client_secret: 'x', scope: `${h.url}/.default` });
		expect(res.status).toBe(400);
		expect(((await res.json()) as { error: string }).error).toBe('unauthorized_client');
		res = await tokenRequest({ grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret', scope: `${h.url}/user_impersonation` });
		expect(res.status).toBe(400);
		expect(((await res.json()) as { error: string }).error).toBe('invalid_scope');
		res = await tokenRequest({ grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret', scope: 'https://other.crm.dynamics.com/.default' });
		expect(res.status).toBe(400);
		expect(((await res.json()) as { error: string }).error).toBe('invalid_resource');
	});

	it('answers 200 with a web page, or 200 without access_token, when the token endpoint anomaly switch says so', async () => {
		const form = { grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret', scope: `${h.url}/.default` };
		await h.control('PUT', '/auth', { tokenEndpointAnswer: 'html' });
		let res = await tokenRequest(form);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^text\/html/);
		expect(await res.text()).toMatch(/^<!DOCTYPE html>/);
		await h.control('PUT', '/auth', { tokenEndpointAnswer: 'noToken' });
		res = await tokenRequest(form);
		expect(res.status).toBe(200);
		const body = (await res.json()) as Record<string, unknown>;
		expect(body.token_type).toBe('Bearer');
		expect(body.access_token).toBeUndefined();
		await h.control('POST', '/reset', {});
		expect((await tokenRequest(form)).status).toBe(200);
		expect(((await (await tokenRequest(form)).json()) as Record<string, unknown>).access_token).toEqual(expect.any(String));
	});

	it('answers 401 with a Bearer challenge and an error body for a missing, bad or expired token', async () => {
		let r = await h.call('GET', 'contacts', { token: null });
		expect(r.status).toBe(401);
		expect(r.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=http:\/\/127\.0\.0\.1:\d+\/sandbox-tenant\/oauth2\/authorize, resource_id=/);
		expect(r.json.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
		r = await h.call('GET', 'contacts', { token: 'not-a-token' });
		expect(r.status).toBe(401);
		expect(r.headers.get('www-authenticate')).toContain('error=invalid_token');
		expect((await h.call('GET', 'contacts?$top=1')).status).toBe(200);
		await h.control('POST', '/clock', { advanceSeconds: 3600 });
		r = await h.call('GET', 'contacts?$top=1');
		expect(r.status).toBe(401);
		expect(r.json.error.message).toMatch(/expired/);
		// A fresh token works again.
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		expect((await h.call('GET', 'contacts?$top=1')).status).toBe(200);
	});

	it('honours a configured token lifetime', async () => {
		await h.control('PUT', '/auth', { tokenLifetimeSeconds: 60 });
		const res = await tokenRequest({ grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret', scope: `${h.url}/.default` });
		const body = (await res.json()) as { expires_in: number; access_token: string };
		expect(body.expires_in).toBe(60);
		await h.control('POST', '/clock', { advanceSeconds: 61 });
		expect((await h.call('GET', 'WhoAmI', { token: body.access_token })).status).toBe(401);
	});

	it('supports the authorization-code flow (with PKCE) and refresh tokens for delegated credentials', async () => {
		await h.control('POST', '/users', { firstname: 'Dana', lastname: 'Delegate', domainname: 'dana@contoso.onmicrosoft.com' });
		const verifier = 'a-very-long-code-verifier-string-for-pkce-1234567890';
		const { createHash } = await import('node:crypto');
		const challenge = createHash('sha256').update(verifier).digest('base64url');
		const authorize = new URL(`${h.url}/common/oauth2/v2.0/authorize`);
		authorize.search = new URLSearchParams({
			client_id: 'sandbox-client',
			response_type: 'code',
			redirect_uri: 'http://localhost:5678/rest/oauth2-credential/callback',
			scope: `${h.url}/user_impersonation offline_access`,
			state: 'xyz',
			login_hint: 'dana@contoso.onmicrosoft.com',
			code_challenge: challenge,
			code_challenge_method: 'S256',
		}).toString();
		const redirect = await fetch(authorize, { redirect: 'manual' });
		expect(redirect.status).toBe(302);
		const location = new URL(redirect.headers.get('location')!);
		expect(location.searchParams.get('state')).toBe('xyz');
		const code = location.searchParams.get('code')!;
		let res = await tokenRequest({
			grant_type: 'authorization_code',
			client_id: 'sandbox-client',
			client_secret: 'sandbox-secret',
			code,
			redirect_uri: 'http://localhost:5678/rest/oauth2-credential/callback',
			code_verifier: verifier,
		});
		expect(res.status).toBe(200);
		const first = (await res.json()) as { access_token: string; refresh_token: string; scope: string };
		expect(first.refresh_token).toBeTruthy();
		const who = await h.call('GET', 'WhoAmI', { token: first.access_token });
		const dana = await h.call('GET', "systemusers?$filter=domainname eq 'dana@contoso.onmicrosoft.com'&$select=systemuserid");
		expect(who.json.UserId).toBe(dana.json.value[0].systemuserid);
		// The code is single-use.
		res = await tokenRequest({ grant_type: 'authorization_code', client_id: 'sandbox-client', client_secret: 'sandbox-secret', code, redirect_uri: 'http://localhost:5678/rest/oauth2-credential/callback', code_verifier: verifier });
		expect(res.status).toBe(400);
		res = await tokenRequest({ grant_type: 'refresh_token', client_id: 'sandbox-client', client_secret: 'sandbox-secret', refresh_token: first.refresh_token });
		expect(res.status).toBe(200);
		const second = (await res.json()) as { access_token: string; refresh_token: string };
		expect(second.refresh_token).not.toBe(first.refresh_token);
		expect((await h.call('GET', 'WhoAmI', { token: second.access_token })).json.UserId).toBe(who.json.UserId);
	});

	it('WhoAmI returns the application user of the client', async () => {
		const r = await h.call('GET', 'WhoAmI');
		expect(r.status).toBe(200);
		expect(r.json['@odata.context']).toBe(`${h.api}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`);
		expect(Object.keys(r.json).sort()).toEqual(['@odata.context', 'BusinessUnitId', 'OrganizationId', 'UserId']);
		const user = await h.call('GET', `systemusers(${r.json.UserId})?$select=fullname,accessmode,applicationid`);
		expect(user.json.fullname).toBe('# sandbox-sync');
		expect(user.json.accessmode).toBe(4);
		expect((await h.call('POST', 'WhoAmI', { body: {} })).status).toBe(404);
	});

	it('answers 403 0x80040220 with the principal/privilege message for a client lacking prvReadLead', async () => {
		const created = await h.control('POST', '/clients', { clientId: 'no-lead-read', clientSecret: 'x', deniedPrivileges: ['prvReadLead'] });
		expect(created.status).toBe(201);
		const token = await h.tokenFor('no-lead-read', 'x');
		const r = await h.call('GET', 'leads?$select=fullname', { token });
		expect(r.status).toBe(403);
		expect(r.json.error.code).toBe('0x80040220');
		expect(r.json.error.message).toMatch(
			new RegExp(
				`^Principal user \\(Id=${created.json.userId}, type=8, roleCount=1, privilegeCount=\\d+, accessMode=4\\), is missing prvReadLead privilege \\(Id=[0-9a-f-]{36}\\) on OTC=4 for entity 'lead'\\. context\\.Caller=${created.json.userId}$`,
			),
		);
		expect((await h.call('GET', 'contacts?$top=1', { token })).status).toBe(200);
		const leadId = h.sim.demoIds['lead:sam.taylor@adatum.com'];
		expect((await h.call('GET', `leads(${leadId})`, { token })).status).toBe(403);
		// Expanding into a table the caller can't read is refused too.
		const opp = h.sim.demoIds['opportunity:litware-training'];
		expect((await h.call('GET', `opportunities(${opp})?$expand=originatingleadid($select=fullname)`, { token })).status).toBe(403);
	});

	it('system users are read-only for API clients', async () => {
		const r = await h.call('POST', 'systemusers', { body: { firstname: 'X', lastname: 'Y' } });
		expect(r.status).toBe(403);
		expect(r.json.error.message).toContain('prvCreateUser');
	});
});
