import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { isCompatible, type ActiveCampaignType } from '../../shared/sync/fieldTypes';
import { STANDARD_FIELDS, type Entity } from '../../shared/sync/mapping';
import { splitTyped } from '../definition';
import { activeCampaignFields, dynamicsColumns } from './metadata';

function entityOf(context: ILoadOptionsFunctions): Entity {
	return context.getNodeParameter('entity', 'contact') as Entity;
}

/** Standard fields that can be switched off, remapped or given a direction (Email and Account are locked). */
export async function getStandardFields(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return STANDARD_FIELDS[entityOf(this)]
		.filter((field) => !field.locked)
		.map((field) => ({
			name: field.label,
			value: field.key,
			description: `ActiveCampaign ${field.activeCampaign.key} ↔ Dynamics ${field.dynamics.name}`,
		}));
}

/** Writable Dataverse columns of the entity, with their types (`name|type` values). */
export async function getDynamicsColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const columns = await dynamicsColumns(this, entityOf(this));
	return columns
		.filter((column) => column.writable || entityOf(this) === 'opportunity')
		.map((column) => ({
			name: `${column.label} (${column.name})`,
			value: `${column.name}|${column.type}`,
			description: `${column.type}${column.required ? ', required' : ''}`,
		}));
}

/** Every Dataverse column (for criteria and defaults: plain logical names). */
export async function getDynamicsColumnNames(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const columns = await dynamicsColumns(this, entityOf(this));
	return columns.map((column) => ({ name: `${column.label} (${column.name})`, value: column.name, description: column.type }));
}

/**
 * ActiveCampaign fields that can pair with the Dynamics column chosen in the same row: only compatible types are
 * offered.
 */
export async function getCompatibleActiveCampaignFields(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const entity = entityOf(this);
	let dynamicsType: string | undefined;
	try {
		const chosen = this.getCurrentNodeParameter('&dynamicsField');
		if (chosen) dynamicsType = splitTyped(chosen, '').type || undefined;
	} catch {
		dynamicsType = undefined;
	}
	const fields = await activeCampaignFields(this, entity);
	return fields
		.filter((field) => !dynamicsType || isCompatible(field.type, dynamicsType as never))
		.map((field) => ({ name: `${field.label} (${field.type})`, value: `${field.key}|${field.type}`, description: field.key }));
}

/** ActiveCampaign fields for criteria: the standard keys and every custom field. */
export async function getActiveCampaignCriteriaFields(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const entity = entityOf(this);
	const standard =
		entity === 'account'
			? ['name', 'accountUrl']
			: ['email', 'firstName', 'lastName', 'phone', 'jobTitle', 'accountName'];
	const fields = await activeCampaignFields(this, entity);
	return [
		...standard.map((key) => ({ name: key, value: key })),
		...fields.map((field) => ({ name: `${field.label} (${field.type as ActiveCampaignType})`, value: field.key })),
	];
}
