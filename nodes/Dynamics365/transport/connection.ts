/**
 * The inputs of the Dynamics 365 credentials, cleaned in one place. The credential classes (their
 * `preAuthentication`, test request and the OAuth2 URL/scope expressions) and the nodes' transport all use these
 * rules, so a value the node accepts is a value the token request accepts, and the other way round:
 *
 * - Environment URL: spaces removed, `https://` added when no scheme is given (`http://` for localhost), anything
 *   from `/api/data` (or `/main.aspx`, `?`, `#`) on removed, no trailing slash.
 * - Authority Host: the same scheme rules, reduced to scheme and host (a tenant or `/oauth2/...` path is dropped);
 *   empty means `https://login.microsoftonline.com`.
 * - Tenant ID, Client ID: spaces and surrounding braces removed. Client Secret: surrounding spaces removed.
 *
 * It also reads what a token endpoint answered, and says which field is wrong when sign-in fails.
 */
import { createHash } from 'crypto';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const API_PATH = '/api/data/v9.2';

type Rule = readonly [RegExp, string];

const SCHEME_RULES: Rule[] = [
	[/\s+/g, ''],
	// A loopback host without a scheme (a local sandbox or proxy) is plain HTTP; any other host HTTPS.
	[/^(?=(?:localhost|127(?:\.\d+){3}|\[::1\])(?::\d+)?(?:[/?#]|$))/i, 'http://'],
	[/^(?![a-z][a-z\d+.-]*:\/\/)(?=.)/i, 'https://'],
];

const ENVIRONMENT_RULES: Rule[] = [
	...SCHEME_RULES,
	[/[?#].*$/, ''],
	[/\/(?:api\/data|main\.aspx)(?:[/.].*)?$/i, ''],
	[/\/+$/, ''],
];

const AUTHORITY_RULES: Rule[] = [...SCHEME_RULES, [/^([a-z][a-z\d+.-]*:\/\/[^/?#]*).*$/i, '$1']];

const ID_RULES: Rule[] = [
	[/\s+/g, ''],
	[/^\{(.*)\}$/, '$1'],
];

function apply(value: unknown, rules: readonly Rule[]): string {
	let text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
	for (const [pattern, replacement] of rules) text = text.replace(pattern, replacement);
	return text;
}

/**
 * The same rules as an n8n expression body over a credential field (e.g. `$self["environmentUrl"]`), for the hidden
 * fields of the OAuth2 credential and the test request, which n8n resolves without running our code.
 */
function expression(ref: string, rules: readonly Rule[], fallback?: string): string {
	const chain = rules.map(([pattern, replacement]) => `.replace(${pattern.toString()}, ${JSON.stringify(replacement)})`).join('');
	const body = `(${ref} || "").toString()${chain}`;
	return fallback === undefined ? `{{ ${body} }}` : `{{ ${body} || ${JSON.stringify(fallback)} }}`;
}

export const normalizeEnvironmentUrl = (value: unknown): string => apply(value, ENVIRONMENT_RULES);
export const normalizeAuthorityHost = (value: unknown): string => apply(value, AUTHORITY_RULES) || DEFAULT_AUTHORITY_HOST;
export const normalizeId = (value: unknown): string => apply(value, ID_RULES);
export const normalizeSecret = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

/** n8n expressions (`{{ … }}`, without the leading `=`) that clean a credential field like the functions above. */
export const expressions = {
	environmentUrl: (ref: string) => expression(ref, ENVIRONMENT_RULES),
	authorityHost: (ref: string) => expression(ref, AUTHORITY_RULES, DEFAULT_AUTHORITY_HOST),
	id: (ref: string, fallback?: string) => expression(ref, ID_RULES, fallback),
};

/** The cleaned inputs of either Dynamics 365 credential. */
export interface DynamicsConnection {
	/** The fields as entered (trimmed), for messages. */
	entered: { environmentUrl: string; authorityHost: string };
	environmentUrl: string;
	tenantId: string;
	clientId: string;
	clientSecret: string;
	authorityHost: string;
}

export function connectionOf(credentials: Record<string, unknown>, defaultTenant = ''): DynamicsConnection {
	const entered = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
	return {
		entered: { environmentUrl: entered(credentials.environmentUrl), authorityHost: entered(credentials.authorityHost) },
		environmentUrl: normalizeEnvironmentUrl(credentials.environmentUrl),
		tenantId: normalizeId(credentials.tenantId) || defaultTenant,
		clientId: normalizeId(credentials.clientId),
		clientSecret: normalizeSecret(credentials.clientSecret),
		authorityHost: normalizeAuthorityHost(credentials.authorityHost),
	};
}

export function tokenUrl(connection: DynamicsConnection): string {
	return `${connection.authorityHost}/${encodeURIComponent(connection.tenantId)}/oauth2/v2.0/token`;
}

function isHttpUrl(value: string): boolean {
	try {
		const url = new URL(value);
		return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
	} catch {
		return false;
	}
}

/** What is wrong with the Environment URL, or undefined. */
export function environmentProblem(connection: DynamicsConnection): string | undefined {
	if (!connection.environmentUrl) return 'The Environment URL is empty: enter the URL of the environment, e.g. https://yourorg.crm.dynamics.com';
	if (!isHttpUrl(connection.environmentUrl)) {
		return `The Environment URL '${connection.entered.environmentUrl}' is not a URL: enter it as https://yourorg.crm.dynamics.com`;
	}
	return undefined;
}

/** What is missing or malformed, field by field (empty when the inputs can be used). */
export function connectionProblems(connection: DynamicsConnection, kind: 'clientCredentials' | 'oAuth2'): string[] {
	const problems: string[] = [];
	const environment = environmentProblem(connection);
	if (environment) problems.push(environment);
	if (!isHttpUrl(connection.authorityHost)) {
		problems.push(`The Authority Host '${connection.entered.authorityHost}' is not a URL: leave it at ${DEFAULT_AUTHORITY_HOST} unless you use a sovereign cloud`);
	}
	if (kind === 'clientCredentials') {
		if (!connection.tenantId) problems.push('The Tenant ID is empty: enter the Directory (tenant) ID of the app registration');
		if (!connection.clientId) problems.push('The Client ID is empty: enter the Application (client) ID of the app registration');
		if (!connection.clientSecret) problems.push('The Client Secret is empty: enter the value of a client secret of the app registration');
	}
	return problems;
}

/**
 * A failed sign-in, with the field to fix. Thrown by the credential's `preAuthentication`; the transport shows its
 * message and description as they are (they hold no secret).
 */
export class DynamicsSignInError extends Error {
	readonly isDynamicsSignInError = true;

	/** The network code (ECONNRESET, ENOTFOUND, ...) when the token endpoint did not answer. */
	code?: string;

	constructor(
		message: string,
		readonly description: string,
		readonly httpCode?: string,
	) {
		super(message);
		this.name = 'DynamicsSignInError';
	}
}

export function isSignInError(error: unknown): error is DynamicsSignInError {
	return !!error && typeof error === 'object' && (error as { isDynamicsSignInError?: unknown }).isDynamicsSignInError === true;
}

/** Entra ID error codes (AADSTS…) and the credential field each points to. */
const ENTRA_FIELDS: Array<{ codes: number[]; field: string; fix: string }> = [
	{ codes: [7000215], field: 'Client Secret', fix: 'Enter the secret\'s Value (not its Secret ID) from Certificates & secrets of the app registration.' },
	{ codes: [7000222], field: 'Client Secret', fix: 'The secret has expired: create a new client secret and enter its value.' },
	{ codes: [7000218], field: 'Client Secret', fix: 'Enter the value of a client secret of the app registration.' },
	{ codes: [700016], field: 'Client ID', fix: 'Enter the Application (client) ID of an app registration in this tenant, or check the Tenant ID.' },
	{ codes: [90002, 900023], field: 'Tenant ID', fix: 'Enter the Directory (tenant) ID (a GUID) or a verified domain of your tenant.' },
	{ codes: [500011, 1002012, 70011], field: 'Environment URL', fix: 'The Environment URL is the token\'s scope: enter the environment\'s URL, e.g. https://yourorg.crm.dynamics.com.' },
];

export interface TokenAnswer {
	status: number;
	headers: Record<string, unknown>;
	body: unknown;
}

function headerOf(headers: Record<string, unknown>, name: string): string {
	for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return String(value ?? '');
	return '';
}

function parsed(body: unknown): Record<string, unknown> | undefined {
	if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
	const text = typeof body === 'string' ? body : '';
	if (!/^\s*\{/.test(text)) return undefined;
	try {
		return JSON.parse(text) as Record<string, unknown>;
	} catch {
		return undefined;
	}
}

/**
 * The access token of a token endpoint's answer, or a DynamicsSignInError that names the field to fix. Never
 * includes the answer's body in the error (a page or a proxy's answer may hold anything).
 */
export function readTokenAnswer(answer: TokenAnswer, url: string): { accessToken: string; expiresIn?: number } {
	const type = headerOf(answer.headers, 'content-type').split(';')[0].trim() || 'no content type';
	const body = parsed(answer.body);
	const accessToken = typeof body?.access_token === 'string' ? body.access_token.trim() : '';
	if (answer.status >= 200 && answer.status < 300 && accessToken) {
		return { accessToken, expiresIn: typeof body?.expires_in === 'number' ? body.expires_in : undefined };
	}
	const entraCode = typeof body?.error === 'string' ? body.error : undefined;
	const description = typeof body?.error_description === 'string' ? body.error_description.split(/\r?\n| Trace ID:/)[0].trim() : '';
	if (entraCode || description) {
		const codes = Array.isArray(body?.error_codes) ? (body.error_codes as unknown[]).map(Number) : [];
		const aadsts = Number(/AADSTS(\d+)/.exec(description)?.[1]);
		if (Number.isFinite(aadsts)) codes.push(aadsts);
		const known = ENTRA_FIELDS.find((entry) => entry.codes.some((c) => codes.includes(c)));
		const what = description || entraCode;
		if (known) {
			return fail(
				`Sign-in to Microsoft Entra ID failed (HTTP ${answer.status}): check the ${known.field}`,
				`${known.fix} Entra ID said: ${what}`,
				answer.status,
			);
		}
		return fail(
			`Sign-in to Microsoft Entra ID failed (HTTP ${answer.status}): ${what}`,
			'Check the credential: Tenant ID, Client ID, Client Secret and Environment URL.',
			answer.status,
		);
	}
	if (answer.status >= 200 && answer.status < 300) {
		return fail(
			`The token endpoint answered without an access token (HTTP ${answer.status}, ${type}): check the Authority Host`,
			`${url} is not a Microsoft Entra ID token endpoint. Leave the Authority Host at ${DEFAULT_AUTHORITY_HOST} (sovereign clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn), without a path.`,
			answer.status,
		);
	}
	return fail(
		`The token endpoint answered HTTP ${answer.status} (${type}) without an Entra ID error: check the Authority Host`,
		`${url} did not answer like a Microsoft Entra ID token endpoint. Leave the Authority Host at ${DEFAULT_AUTHORITY_HOST} (sovereign clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn), without a path, and check the Tenant ID.`,
		answer.status,
	);
}

function fail(message: string, description: string, status: number): never {
	throw new DynamicsSignInError(message, description, String(status));
}

/** A sign-in error for a token endpoint that could not be reached at all. */
export function unreachableTokenEndpoint(url: string, error: unknown): DynamicsSignInError {
	const raw = (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (error as { cause?: { code?: unknown } })?.cause?.code;
	const code = typeof raw === 'string' && /^E[A-Z_]+$/.test(raw) ? raw : undefined;
	// The code goes to the description only: n8n replaces a message that names a network code with its own words.
	const failure = new DynamicsSignInError(
		'Could not reach the token endpoint: check the Authority Host',
		`The request to ${url} got no answer${code ? ` (${code})` : ''}. Leave the Authority Host at ${DEFAULT_AUTHORITY_HOST} (sovereign clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn) and check the network path to it.`,
	);
	if (code) failure.code = code;
	return failure;
}

/** Every secret value in a credential's data: the client secret and the tokens n8n stores with it. */
export function credentialSecrets(credentials: Record<string, unknown> | undefined): string[] {
	if (!credentials) return [];
	const tokenData = (credentials.oauthTokenData ?? {}) as Record<string, unknown>;
	const values = [credentials.clientSecret, credentials.accessToken, tokenData.access_token, tokenData.refresh_token, tokenData.id_token];
	return values.filter((v): v is string => typeof v === 'string' && v.trim().length >= 4).map((v) => v.trim());
}

/**
 * A key naming one credential's view of one environment, for caches of what that credential read (metadata, WhoAmI):
 * the environment, the credential (its id when n8n gives one), the tenant, the client and a digest of the secret. Two
 * credentials never share an entry, and a credential whose secret changed starts afresh.
 */
export function connectionIdentity(credentialType: string, connection: DynamicsConnection, credentialId?: string): string {
	const secret = createHash('sha256').update(connection.clientSecret).digest('hex').slice(0, 16);
	return [connection.environmentUrl, credentialType, credentialId ?? '', connection.tenantId, connection.clientId, secret].join('|');
}
