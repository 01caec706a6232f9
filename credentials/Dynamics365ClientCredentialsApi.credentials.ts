import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	INodeProperties,
} from 'n8n-workflow';

/**
 * Server-to-server login to Dataverse: an Entra ID app registration (client id + secret) that Dataverse knows as an
 * application user. The access token is an expirable hidden field: n8n fetches it through `preAuthentication` when
 * it is empty, stores it with the credential, and fetches a new one when Dataverse answers 401 (expired).
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
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const authority = String(credentials.authorityHost || 'https://login.microsoftonline.com').replace(/\/+$/, '');
		const environment = String(credentials.environmentUrl).replace(/\/+$/, '');
		const response = (await this.helpers.httpRequest({
			method: 'POST',
			url: `${authority}/${encodeURIComponent(String(credentials.tenantId))}/oauth2/v2.0/token`,
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({
				grant_type: 'client_credentials',
				client_id: String(credentials.clientId),
				client_secret: String(credentials.clientSecret),
				scope: `${environment}/.default`,
			}).toString(),
			json: true,
		})) as { access_token?: string };
		return { accessToken: response.access_token ?? '' };
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
			baseURL: '={{$credentials.environmentUrl.replace(/\\/+$/, "")}}/api/data/v9.2',
			url: '/WhoAmI',
			headers: { Accept: 'application/json', 'OData-MaxVersion': '4.0', 'OData-Version': '4.0' },
		},
	};
}
