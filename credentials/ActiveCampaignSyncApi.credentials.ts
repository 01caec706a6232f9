import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class ActiveCampaignSyncApi implements ICredentialType {
	name = 'activeCampaignSyncApi';

	displayName = 'ActiveCampaign Sync API';

	icon: Icon = { light: 'file:activecampaign.svg', dark: 'file:activecampaign.dark.svg' };

	documentationUrl = 'https://developers.activecampaign.com/reference/authentication';

	properties: INodeProperties[] = [
		{
			displayName: 'API URL',
			name: 'apiUrl',
			type: 'string',
			default: '',
			placeholder: 'https://youraccount.api-us1.com',
			description:
				'The API URL shown in ActiveCampaign under Settings → Developer. Do not build it from the account name.',
			required: true,
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'The API key shown under Settings → Developer. Every key of the account shares 5 requests per second.',
			required: true,
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'Api-Token': '={{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			// The API URL as ActiveCampaign shows it, with a trailing slash, or with /api/3 (as the nodes accept it).
			baseURL: '={{$credentials.apiUrl.trim().replace(/\\/+$/, "").replace(/\\/api\\/3$/i, "")}}',
			url: '/api/3/fields?limit=1',
		},
	};
}
