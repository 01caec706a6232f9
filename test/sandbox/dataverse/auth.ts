/**
 * A stand-in for the Microsoft Entra ID v2.0 endpoints (token and authorize) and Bearer validation on the Web API.
 * Clients map to systemusers (application users); tokens expire by the sandbox clock.
 */
import { createHash, randomBytes } from 'node:crypto';

import type { Clock } from '../core/clock';
import { bodyForm, header, json, type SandboxRequest, type SandboxResponse } from '../core/http';

export interface ClientConfig {
	clientId: string;
	clientSecret: string;
	/** The systemuser the client acts as (its application user). */
	userId: string;
	deniedPrivileges: string[];
	/** Allowed redirect URIs for the authorization-code flow; empty allows any. */
	redirectUris: string[];
}

export interface TokenInfo {
	clientId: string;
	userId: string;
	scope: string;
	tenant: string;
	expiresAt: number;
	delegated: boolean;
}

interface CodeInfo {
	clientId: string;
	userId: string;
	redirectUri: string;
	scope: string;
	tenant: string;
	expiresAt: number;
	codeChallenge?: string;
	codeChallengeMethod?: string;
}

export interface AuthSettings {
	/** Lifetime of access tokens in seconds (Entra ID: about an hour, reported as 3599). */
	tokenLifetimeSeconds: number;
	/** Refresh-token lifetime in seconds. */
	refreshTokenLifetimeSeconds: number;
	/** Reject scopes whose resource is not this environment's URL (Entra: AADSTS500011). */
	strictScope: boolean;
	/**
	 * What the token endpoint answers a valid request (an anomaly switch; Entra itself always answers `token`):
	 * `token` the documented JSON with `access_token`; `html` 200 with a sign-in web page (what a wrong Authority Host
	 * such as a portal or a proxy's login page answers); `noToken` 200 JSON without `access_token`.
	 */
	tokenEndpointAnswer: 'token' | 'html' | 'noToken';
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
	tokenLifetimeSeconds: 3599,
	refreshTokenLifetimeSeconds: 90 * 24 * 3600,
	strictScope: true,
	tokenEndpointAnswer: 'token',
};

export interface UserLookup {
	/** Finds a systemuser id by domain name or email (login_hint). */
	findUser(hint: string): string | undefined;
	exists(userId: string): boolean;
}

function b64url(value: unknown): string {
	return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

export class Auth {
	readonly clients = new Map<string, ClientConfig>();
	private tokens = new Map<string, TokenInfo>();
	private refreshTokens = new Map<string, TokenInfo>();
	private codes = new Map<string, CodeInfo>();
	settings: AuthSettings = { ...DEFAULT_AUTH_SETTINGS };
	baseUrl = 'http://127.0.0.1';

	constructor(
		private readonly clock: Clock,
		private readonly users: UserLookup,
	) {}

	reset(): void {
		this.clients.clear();
		this.tokens.clear();
		this.refreshTokens.clear();
		this.codes.clear();
		this.settings = { ...DEFAULT_AUTH_SETTINGS };
	}

	addClient(config: ClientConfig): void {
		this.clients.set(config.clientId, config);
	}

	/** Issues a token directly (for tests that need one without the HTTP round trip). */
	issue(clientId: string, userId: string, scope: string, tenant = 'sandbox-tenant', delegated = false): { token: string; info: TokenInfo } {
		const now = this.clock.now();
		const exp = now + this.settings.tokenLifetimeSeconds * 1000;
		const header = { typ: 'JWT', alg: 'RS256', kid: 'sandbox' };
		const payload = {
			aud: this.environmentUrl(),
			iss: `https://sts.windows.net/${tenant}/`,
			iat: Math.floor(now / 1000),
			nbf: Math.floor(now / 1000),
			exp: Math.floor(exp / 1000),
			appid: clientId,
			oid: userId,
			tid: tenant,
			scp: delegated ? 'user_impersonation' : undefined,
			ver: '1.0',
		};
		const token = `${b64url(header)}.${b64url(payload)}.${randomBytes(32).toString('base64url')}`;
		const info: TokenInfo = { clientId, userId, scope, tenant, expiresAt: exp, delegated };
		this.tokens.set(token, info);
		return { token, info };
	}

	environmentUrl(): string {
		return this.baseUrl;
	}

	private entraError(status: number, error: string, code: number, description: string): SandboxResponse {
		const now = new Date(this.clock.now());
		const traceId = randomUUIDish();
		const correlationId = randomUUIDish();
		const timestamp = now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
		return json(
			status,
			{
				error,
				error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
				error_codes: [code],
				timestamp,
				trace_id: traceId,
				correlation_id: correlationId,
				error_uri: `https://login.microsoftonline.com/error?code=${code}`,
			},
			{ 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
		);
	}

	private scopeProblem(scope: string, tenant: string, clientCredentials: boolean): SandboxResponse | undefined {
		const scopes = scope.split(/\s+/).filter(Boolean);
		const resourceScopes = scopes.filter((s) => !['openid', 'profile', 'offline_access', 'email'].includes(s));
		if (resourceScopes.length === 0) {
			return this.entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
		}
		for (const s of resourceScopes) {
			if (clientCredentials && !s.endsWith('/.default')) {
				return this.entraError(
					400,
					'invalid_scope',
					1002012,
					`The provided value for scope ${s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
				);
			}
			const resource = s.replace(/\/(\.default|user_impersonation)$/, '').replace(/\/$/, '');
			if (this.settings.strictScope && resource.toLowerCase() !== this.environmentUrl().replace(/\/$/, '').toLowerCase()) {
				return this.entraError(
					400,
					'invalid_resource',
					500011,
					`The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
				);
			}
		}
		return undefined;
	}

	private tokenResponse(clientId: string, userId: string, scope: string, tenant: string, delegated: boolean, withRefresh: boolean): SandboxResponse {
		const { token } = this.issue(clientId, userId, scope, tenant, delegated);
		const body: Record<string, unknown> = {
			token_type: 'Bearer',
			scope: delegated ? scope.split(/\s+/).filter((s) => !['openid', 'profile', 'offline_access', 'email'].includes(s)).map((s) => s.replace(/\/\.default$/, '/user_impersonation')).join(' ') : undefined,
			expires_in: this.settings.tokenLifetimeSeconds,
			ext_expires_in: this.settings.tokenLifetimeSeconds,
			access_token: token,
		};
		if (!delegated) delete body.scope;
		if (withRefresh) {
			const refresh = `0.sandbox.${randomBytes(48).toString('base64url')}`;
			this.refreshTokens.set(refresh, {
				clientId,
				userId,
				scope,
				tenant,
				delegated,
				expiresAt: this.clock.now() + this.settings.refreshTokenLifetimeSeconds * 1000,
			});
			body.refresh_token = refresh;
		}
		return json(200, body, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' });
	}

	/** POST /{tenant}/oauth2/v2.0/token */
	token(req: SandboxRequest, tenant: string): SandboxResponse {
		if (this.settings.tokenEndpointAnswer === 'html') {
			return {
				status: 200,
				headers: { 'Content-Type': 'text/html; charset=utf-8' },
				body: '<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><form method="post"><input name="loginfmt"></form></body></html>',
			};
		}
		if (this.settings.tokenEndpointAnswer === 'noToken') {
			return json(200, { token_type: 'Bearer', expires_in: this.settings.tokenLifetimeSeconds }, { 'Cache-Control': 'no-store, no-cache' });
		}
		const form = bodyForm(req);
		let clientId = form.get('client_id') ?? '';
		let clientSecret = form.get('client_secret') ?? '';
		const basic = header(req, 'authorization');
		if (basic?.startsWith('Basic ')) {
			const [id, secret] = Buffer.from(basic.slice(6), 'base64').toString('utf8').split(':');
			clientId = clientId || decodeURIComponent(id ?? '');
			clientSecret = clientSecret || decodeURIComponent(secret ?? '');
		}
		const grant = form.get('grant_type');
		if (!grant) return this.entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
		if (!['client_credentials', 'authorization_code', 'refresh_token'].includes(grant)) {
			return this.entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
		}
		if (!clientId) return this.entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
		const client = this.clients.get(clientId);
		if (!client) {
			return this.entraError(
				400,
				'unauthorized_client',
				700016,
				`Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
			);
		}
		if (!clientSecret) {
			return this.entraError(
				401,
				'invalid_client',
				7000218,
				"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
			);
		}
		if (clientSecret !== client.clientSecret) {
			return this.entraError(
				401,
				'invalid_client',
				7000215,
				`Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
			);
		}
		const scope = form.get('scope') ?? '';
		if (grant === 'client_credentials') {
			const problem = this.scopeProblem(scope, tenant, true);
			if (problem) return problem;
			return this.tokenResponse(clientId, client.userId, scope, tenant, false, false);
		}
		if (grant === 'authorization_code') {
			const code = form.get('code') ?? '';
			const info = this.codes.get(code);
			if (!info || info.expiresAt < this.clock.now() || info.clientId !== clientId) {
				return this.entraError(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
			}
			if ((form.get('redirect_uri') ?? '') !== info.redirectUri) {
				return this.entraError(400, 'invalid_grant', 50148, 'The redirect_uri specified in the token request does not match the redirect_uri used in the authorization request.');
			}
			if (info.codeChallenge) {
				const verifier = form.get('code_verifier') ?? '';
				const computed = info.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
				if (computed !== info.codeChallenge) return this.entraError(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
			}
			this.codes.delete(code);
			return this.tokenResponse(clientId, info.userId, scope || info.scope, tenant, true, true);
		}
		const refresh = form.get('refresh_token') ?? '';
		const info = this.refreshTokens.get(refresh);
		if (!info || info.expiresAt < this.clock.now() || info.clientId !== clientId) {
			return this.entraError(400, 'invalid_grant', 700082, 'The refresh token has expired due to inactivity. The token was issued on a date and was inactive for the configured lifetime.');
		}
		this.refreshTokens.delete(refresh);
		return this.tokenResponse(clientId, info.userId, scope || info.scope, tenant, info.delegated, true);
	}

	/** GET /{tenant}/oauth2/v2.0/authorize: signs in without a page (the user from login_hint, else the client's user). */
	authorize(req: SandboxRequest, tenant: string): SandboxResponse {
		const q = req.query;
		const clientId = q.get('client_id') ?? '';
		const client = this.clients.get(clientId);
		if (!client) {
			return this.entraError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
		}
		const redirectUri = q.get('redirect_uri') ?? '';
		if (!redirectUri || (client.redirectUris.length > 0 && !client.redirectUris.includes(redirectUri))) {
			return this.entraError(
				400,
				'invalid_request',
				50011,
				`The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
			);
		}
		const state = q.get('state');
		const target = new URL(redirectUri);
		if ((q.get('response_type') ?? '') !== 'code') {
			target.searchParams.set('error', 'unsupported_response_type');
			target.searchParams.set('error_description', 'AADSTS700054: response_type must be code for this sandbox.');
			if (state !== null) target.searchParams.set('state', state);
			return { status: 302, headers: { Location: target.toString() } };
		}
		const scope = q.get('scope') ?? '';
		const problem = this.scopeProblem(scope, tenant, false);
		if (problem) {
			target.searchParams.set('error', 'invalid_scope');
			target.searchParams.set('error_description', 'AADSTS500011: The resource principal was not found.');
			if (state !== null) target.searchParams.set('state', state);
			return { status: 302, headers: { Location: target.toString() } };
		}
		const hint = q.get('login_hint');
		const userId = (hint && this.users.findUser(hint)) || client.userId;
		const code = `0.sandbox-code.${randomBytes(32).toString('base64url')}`;
		this.codes.set(code, {
			clientId,
			userId,
			redirectUri,
			scope,
			tenant,
			expiresAt: this.clock.now() + 10 * 60 * 1000,
			codeChallenge: q.get('code_challenge') ?? undefined,
			codeChallengeMethod: q.get('code_challenge_method') ?? undefined,
		});
		target.searchParams.set('code', code);
		if (state !== null) target.searchParams.set('state', state);
		target.searchParams.set('session_state', randomUUIDish());
		return { status: 302, headers: { Location: target.toString() } };
	}

	/** Validates the Bearer token of an API request. */
	validate(req: SandboxRequest): { ok: true; info: TokenInfo } | { ok: false; reason: 'missing' | 'invalid' | 'expired' } {
		const auth = header(req, 'authorization');
		if (!auth || !/^Bearer\s+/i.test(auth)) return { ok: false, reason: 'missing' };
		const token = auth.replace(/^Bearer\s+/i, '').trim();
		const info = this.tokens.get(token);
		if (!info) return { ok: false, reason: 'invalid' };
		if (info.expiresAt <= this.clock.now()) return { ok: false, reason: 'expired' };
		if (!this.users.exists(info.userId) || !this.clients.has(info.clientId)) return { ok: false, reason: 'invalid' };
		return { ok: true, info };
	}

	/** The 401 the Web API answers, with the Bearer challenge that names the authority. */
	unauthorized(reason: 'missing' | 'invalid' | 'expired', tenant = 'sandbox-tenant'): SandboxResponse {
		const authority = `${this.baseUrl}/${tenant}/oauth2/authorize`;
		const challenge =
			reason === 'missing'
				? `Bearer authorization_uri=${authority}, resource_id=${this.environmentUrl()}/`
				: `Bearer error=invalid_token, error_description=Error during token validation!, authorization_uri=${authority}, resource_id=${this.environmentUrl()}/`;
		const message =
			reason === 'missing'
				? 'The request is not authenticated: the Authorization header with a Bearer token is missing.'
				: reason === 'expired'
					? 'The access token has expired. Acquire a new token and retry.'
					: 'The access token is not valid.';
		const response = json(401, { error: { code: '', message } }, { 'WWW-Authenticate': challenge, 'OData-Version': '4.0' });
		response.headers!['Content-Type'] = 'application/json; odata.metadata=minimal';
		return response;
	}
}

function randomUUIDish(): string {
	const h = randomBytes(16).toString('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
