/** Option lists for the editor, read live from the account; every list is paged, without a 100-item cap. */
import type { IDataObject, ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { AcSession } from '../helpers/session';
import { acAllByOffset } from '../transport';

const byName = (a: INodePropertyOptions, b: INodePropertyOptions) => a.name.localeCompare(b.name);

export async function getContactFields(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const fields = await new AcSession(this).contactFields();
	return fields
		.map((f) => ({ name: f.perstag ? `${f.title} (%${f.perstag}%)` : f.title, value: f.id, description: `Type: ${f.type}` }))
		.sort(byName);
}

export async function getAccountFields(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const fields = await new AcSession(this).accountFields();
	return fields.map((f) => ({ name: f.label, value: f.id, description: `Type: ${f.type}` })).sort(byName);
}

export async function getTags(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const tags = await new AcSession(this).tags();
	return [...tags.values()].map((t) => ({ name: t.name, value: t.name })).sort(byName);
}

export async function getLists(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return (await new AcSession(this).lists()).map((l) => ({ name: l.name, value: l.id })).sort(byName);
}

export async function getAutomations(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return (await new AcSession(this).automations()).map((a) => ({ name: a.name, value: a.id })).sort(byName);
}

export async function getCampaigns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const campaigns = await acAllByOffset(this, '/api/3/campaigns', 'campaigns');
	return campaigns.map((c: IDataObject) => ({ name: String(c.name ?? c.id), value: String(c.id) })).sort(byName);
}

export async function getSchemas(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const schemas = await new AcSession(this).schemas();
	return schemas
		.map((s) => ({ name: s.labels?.singular ? `${s.labels.singular} (${s.slug})` : s.slug, value: s.slug }))
		.sort(byName);
}
