import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	INodeProperties,
} from 'n8n-workflow';

import {
	API_PATH,
	DynamicsSignInError,
	connectionOf,
	connectionProblems,
	expressions,
	readTokenAnswer,
	tokenUrl,
	unreachableTokenEndpoint,
} from '../nodes/Dynamics365/transport/connection';
import { GLOBAL_SYNC_PROPERTY } from '../nodes/shared/sync/globalSync';

/**
 * Server-to-server login to Dataverse: an Entra ID app registration (client id + secret) that Dataverse knows as an
 * application user. The access token is an expirable hidden field: n8n fetches it through `preAuthentication` when
 * it is empty, stores it with the credential, and fetches a new one when Dataverse answers 401 (expired). The inputs
 * are cleaned by the same rules the nodes use (`connection.ts`), and a failed sign-in names the field to fix.
 */
export class Dynamics365ClientCredentialsApi implements ICredentialType {
	name = 'dynamics365ClientCredentialsApi';

	displayName = 'Dynamics 365 (Client Credentials) API';

	icon: Icon = { light: 'file:dynamics365.svg', dark: 'file:dynamics365.dark.svg' };

	documentationUrl =
		'https://learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth#connect-as-an-app';

	properties: INodeProperties[] = [
		{
			displayName: 'Environment URL',
			name: 'environmentUrl',
			type: 'string',
			default: '',
			placeholder: 'https://yourorg.crm.dynamics.com',
			description: 'The Dataverse environment, as shown in the Power Platform admin center (without /api/data)',
			required: true,
		},
		{
			displayName: 'Tenant ID',
			name: 'tenantId',
			type: 'string',
			default: '',
			placeholder: '00000000-0000-0000-0000-000000000000',
			description: 'The Directory (tenant) ID of the Entra ID app registration',
			required: true,
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			description: 'The Application (client) ID of the app registration',
			required: true,
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Authority Host',
			name: 'authorityHost',
			type: 'string',
			default: 'https://login.microsoftonline.com',
			description:
				'The Entra ID sign-in host. Change it for sovereign clouds (e.g. https://login.microsoftonline.us for GCC High, https://login.chinacloudapi.cn for China) or a local sandbox.',
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
		GLOBAL_SYNC_PROPERTY,
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const connection = connectionOf(credentials);
		const problems = connectionProblems(connection, 'clientCredentials');
		if (problems.length) {
			throw new DynamicsSignInError(problems[0], [...problems.slice(1), 'Fix the credential and try again.'].join(' '));
		}
		const url = tokenUrl(connection);
		let answer: { statusCode: number; headers: Record<string, unknown>; body: unknown };
		try {
			answer = (await this.helpers.httpRequest({
				method: 'POST',
				url,
				headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
				body: new URLSearchParams({
					grant_type: 'client_credentials',
					client_id: connection.clientId,
					client_secret: connection.clientSecret,
					scope: `${connection.environmentUrl}/.default`,
				}).toString(),
				json: false,
				encoding: 'text',
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
			})) as typeof answer;
		} catch (error) {
			throw unreachableTokenEndpoint(url, error);
		}
		const { accessToken } = readTokenAnswer({ status: answer.statusCode, headers: answer.headers, body: answer.body }, url);
		return { accessToken };
	}

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.accessToken}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: `=${expressions.environmentUrl('$credentials.environmentUrl')}${API_PATH}`,
			url: '/WhoAmI',
			headers: { Accept: 'application/json', 'OData-MaxVersion': '4.0', 'OData-Version': '4.0' },
		},
	};
}
