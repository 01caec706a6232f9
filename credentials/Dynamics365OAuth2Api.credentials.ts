import type { Icon, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

import { API_PATH, expressions } from '../nodes/Dynamics365/transport/connection';
import { GLOBAL_SYNC_PROPERTY } from '../nodes/shared/sync/globalSync';

const AUTHORITY = expressions.authorityHost('$self["authorityHost"]');
const TENANT = expressions.id('$self["tenantId"]', 'organizations');
const ENVIRONMENT = expressions.environmentUrl('$self["environmentUrl"]');

/**
 * Delegated login to Dataverse as a signed-in user (authorization code flow), built on n8n's OAuth2 credential: the
 * editor's "Connect" button signs in, n8n stores and refreshes the tokens. The URLs and the scope clean the inputs by
 * the same rules as the nodes and the client-credentials credential (`connection.ts`).
 */
export class Dynamics365OAuth2Api implements ICredentialType {
	name = 'dynamics365OAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'Dynamics 365 OAuth2 API';

	icon: Icon = { light: 'file:dynamics365.svg', dark: 'file:dynamics365.dark.svg' };

	documentationUrl =
		'https://learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth#app-registration';

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
			default: 'organizations',
			description: 'The Directory (tenant) ID, or "organizations" for any work account',
		},
		{
			displayName: 'Authority Host',
			name: 'authorityHost',
			type: 'string',
			default: 'https://login.microsoftonline.com',
			description: 'The Entra ID sign-in host. Change it for sovereign clouds or a local sandbox.',
		},
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'hidden',
			default: 'authorizationCode',
		},
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			default: `=${AUTHORITY}/${TENANT}/oauth2/v2.0/authorize`,
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			default: `=${AUTHORITY}/${TENANT}/oauth2/v2.0/token`,
		},
		{
			displayName: 'Scope',
			name: 'scope',
			type: 'hidden',
			default: `=${ENVIRONMENT}/user_impersonation offline_access`,
		},
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: 'prompt=select_account',
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'hidden',
			default: 'body',
		},
		GLOBAL_SYNC_PROPERTY,
	];

	/**
	 * The credential screen's Test: WhoAmI as the signed-in user, with the token n8n keeps for this credential (n8n
	 * refreshes it when it has expired). The Environment URL is cleaned like everywhere else (a trailing slash or
	 * /api/data/v9.2 is fine).
	 */
	test: ICredentialTestRequest = {
		request: {
			baseURL: `=${expressions.environmentUrl('$credentials.environmentUrl')}${API_PATH}`,
			url: '/WhoAmI',
			headers: { Accept: 'application/json', 'OData-MaxVersion': '4.0', 'OData-Version': '4.0' },
		},
	};
}
