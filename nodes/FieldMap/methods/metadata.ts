/**
 * Live field lists for the Field Map's pickers and its required-column check: Dataverse attribute metadata and
 * ActiveCampaign custom fields, all pages. Requests go through n8n's authenticated request helper with bounded retries.
 */
import {
	NodeApiError,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type ILoadOptionsFunctions,
	type JsonObject,
} from 'n8n-workflow';

import { withRetry } from '../../shared/transport/retry';
import { dynamicsTypeOf, activeCampaignTypeOf, type ActiveCampaignType, type DynamicsType } from '../../shared/sync/fieldTypes';
import type { Entity } from '../../shared/sync/mapping';

type Context = IExecuteFunctions | ILoadOptionsFunctions;

export interface DynamicsColumn {
	name: string;
	label: string;
	type: DynamicsType;
	required: boolean;
	writable: boolean;
}

export interface ActiveCampaignField {
	key: string;
	label: string;
	type: ActiveCampaignType;
}

function parameter(context: Context, name: string, fallback: unknown): unknown {
	try {
		return 'getInputData' in context
			? (context as IExecuteFunctions).getNodeParameter(name, 0, fallback)
			: (context as ILoadOptionsFunctions).getNodeParameter(name, fallback);
	} catch {
		return fallback;
	}
}

export function dynamicsCredentialType(context: Context): string | undefined {
	const auth = parameter(context, 'dynamicsAuthentication', 'none');
	if (auth === 'clientCredentials') return 'dynamics365ClientCredentialsApi';
	if (auth === 'oAuth2') return 'dynamics365OAuth2Api';
	return undefined;
}

async function send(context: Context, credentialType: string, options: IHttpRequestOptions): Promise<IDataObject> {
	const outcome = await withRetry(
		async () =>
			(await context.helpers.httpRequestWithAuthentication.call(context, credentialType, options)) as IDataObject,
	);
	if (outcome.ok) return outcome.value;
	const body = outcome.failure.body as IDataObject | undefined;
	const apiMessage =
		((body?.error as IDataObject | undefined)?.message as string | undefined) ?? (body?.message as string | undefined);
	throw new NodeApiError(context.getNode(), { message: apiMessage ?? outcome.failure.message } as JsonObject, {
		message: `Could not read field metadata: ${apiMessage ?? outcome.failure.message}`,
		httpCode: outcome.failure.status ? String(outcome.failure.status) : undefined,
	});
}

/** Columns of a Dataverse table with their Field Map types, required levels and writability. */
export async function dynamicsColumns(context: Context, entity: Entity): Promise<DynamicsColumn[]> {
	const credentialType = dynamicsCredentialType(context);
	if (!credentialType) return [];
	const credentials = await context.getCredentials(credentialType);
	const base = `${String(credentials.environmentUrl).replace(/\/+$/, '')}/api/data/v9.2/EntityDefinitions(LogicalName='${entity}')`;
	const headers = { Accept: 'application/json', 'OData-MaxVersion': '4.0', 'OData-Version': '4.0' };
	const attributes = await send(context, credentialType, {
		method: 'GET',
		url: `${base}/Attributes`,
		qs: {
			$select: 'LogicalName,AttributeType,AttributeTypeName,DisplayName,RequiredLevel,IsValidForCreate,IsValidForUpdate,AttributeOf',
		},
		headers,
		json: true,
	});
	const dateBehaviours = await send(context, credentialType, {
		method: 'GET',
		url: `${base}/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata`,
		qs: { $select: 'LogicalName,Format,DateTimeBehavior' },
		headers,
		json: true,
	});
	const behaviour = new Map<string, IDataObject>();
	for (const row of (dateBehaviours.value as IDataObject[]) ?? []) behaviour.set(String(row.LogicalName), row);
	const columns: DynamicsColumn[] = [];
	for (const row of (attributes.value as IDataObject[]) ?? []) {
		if (row.AttributeOf) continue;
		const name = String(row.LogicalName);
		const type = dynamicsTypeOf({ ...row, ...(behaviour.get(name) ?? {}) } as never);
		if (!type) continue;
		const label =
			((row.DisplayName as IDataObject | undefined)?.UserLocalizedLabel as IDataObject | undefined)?.Label ?? name;
		columns.push({
			name,
			label: String(label),
			type,
			required: (row.RequiredLevel as IDataObject | undefined)?.Value === 'ApplicationRequired',
			writable: row.IsValidForCreate === true || row.IsValidForUpdate === true,
		});
	}
	return columns.sort((a, b) => a.label.localeCompare(b.label));
}

/** Custom fields of ActiveCampaign contacts (or accounts), every page. */
export async function activeCampaignFields(context: Context, entity: Entity): Promise<ActiveCampaignField[]> {
	const credentials = await context.getCredentials('activeCampaignSyncApi').catch(() => undefined);
	if (!credentials) return [];
	const base = `${String(credentials.apiUrl).replace(/\/+$/, '')}/api/3`;
	const account = entity === 'account';
	const fields: ActiveCampaignField[] = [];
	for (let offset = 0; ; ) {
		const page = await send(context, 'activeCampaignSyncApi', {
			method: 'GET',
			url: `${base}/${account ? 'accountCustomFieldMeta' : 'fields'}`,
			qs: { limit: 100, offset },
			json: true,
		});
		const rows = ((account ? page.accountCustomFieldMeta : page.fields) as IDataObject[]) ?? [];
		for (const row of rows) {
			const type = activeCampaignTypeOf(String(account ? row.fieldType : row.type));
			if (!type) continue;
			const title = String(account ? row.fieldLabel : row.title);
			const perstag = account ? '' : String(row.perstag ?? '');
			fields.push({ key: perstag || title, label: title, type });
		}
		offset += rows.length;
		const total = Number((page.meta as IDataObject | undefined)?.total ?? 0);
		if (rows.length === 0 || offset >= total) break;
	}
	return fields;
}
