/**
 * Live field lists for the Field Map's pickers and its required-column check, read through the Dynamics 365 and
 * ActiveCampaign nodes' own transports (their metadata caches, throttling and retries).
 */
import type { IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import { AcSession } from '../../ActiveCampaignSync/client';
import { DataverseClient, type ColumnInfo } from '../../Dynamics365/client';
import { activeCampaignTypeOf, dynamicsTypeOf, type ActiveCampaignType, type DynamicsType } from '../../shared/sync/fieldTypes';
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

/** The Dynamics authentication chosen on the node, or undefined when Dynamics is not connected. */
export function dynamicsAuthentication(context: Context): 'clientCredentials' | 'oAuth2' | undefined {
	const auth = parameter(context, 'dynamicsAuthentication', 'none');
	return auth === 'clientCredentials' || auth === 'oAuth2' ? auth : undefined;
}

/** The Field Map's type of a Dataverse column (undefined for columns it cannot map). */
export function columnType(column: ColumnInfo): DynamicsType | undefined {
	return dynamicsTypeOf({
		AttributeType: column.type,
		AttributeTypeName: { Value: column.typeName },
		DateTimeBehavior: column.dateOnly ? 'DateOnly' : undefined,
	});
}

/** Columns of a Dataverse table with their Field Map types, required levels and writability. */
export async function dynamicsColumns(context: Context, entity: Entity): Promise<DynamicsColumn[]> {
	const authentication = dynamicsAuthentication(context);
	if (!authentication) return [];
	const client = await DataverseClient.create(context, authentication);
	const table = await client.table(entity);
	const columns: DynamicsColumn[] = [];
	for (const column of table.columns.values()) {
		const type = columnType(column);
		if (!type || column.attributeOf) continue;
		columns.push({
			name: column.logicalName,
			label: column.displayName || column.logicalName,
			type,
			required: column.requiredLevel === 'ApplicationRequired',
			writable: column.validForCreate || column.validForUpdate,
		});
	}
	return columns.sort((a, b) => a.label.localeCompare(b.label));
}

/** Custom fields of ActiveCampaign contacts (or accounts), every page. */
export async function activeCampaignFields(context: Context, entity: Entity): Promise<ActiveCampaignField[]> {
	const connected = await context.getCredentials('activeCampaignSyncApi').then(
		() => true,
		() => false,
	);
	if (!connected) return [];
	const session = new AcSession(context);
	const fields: ActiveCampaignField[] = [];
	if (entity === 'account') {
		for (const field of await session.accountFields()) {
			const type = activeCampaignTypeOf(field.type);
			if (type) fields.push({ key: field.label, label: field.label, type });
		}
	} else {
		for (const field of await session.contactFields()) {
			const type = activeCampaignTypeOf(field.type);
			if (type) fields.push({ key: field.perstag || field.title, label: field.title, type });
		}
	}
	return fields;
}
