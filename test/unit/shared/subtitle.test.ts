/* eslint-disable @n8n/community-nodes/no-dangerous-functions -- not shipped: evaluates the nodes' subtitle expressions as the editor would, in a test */
/**
 * The subtitles the editor shows under each node on the canvas: what the step does in words, never internal values.
 * Each is evaluated the way n8n reads an expression (split at `{{` … `}}` by n8n-workflow's own parser, then each
 * part run), for the parameters of the template steps. A subtitle n8n cannot parse shows nothing at all on the canvas,
 * which is what happened while a nested object in the expression ended with `}}`.
 */
import { ExpressionParser, type INodeTypeDescription } from 'n8n-workflow';

import { ActiveCampaignSync } from '../../../nodes/ActiveCampaignSync/ActiveCampaignSync.node';
import { Dynamics365 } from '../../../nodes/Dynamics365/Dynamics365.node';
import { AcD365FieldMap } from '../../../nodes/FieldMap/AcD365FieldMap.node';

function subtitle(description: INodeTypeDescription, parameters: Record<string, unknown>): string {
	const expression = String(description.subtitle);
	expect(expression.startsWith('=')).toBe(true);
	return ExpressionParser.splitExpression(expression.slice(1))
		.map((chunk) => {
			if (chunk.type === 'text') return chunk.text;
			expect(chunk.hasClosingBrackets).toBe(true);
			return String(new Function('$parameter', `return (${chunk.text});`)(parameters));
		})
		.join('');
}

describe('node subtitles on the canvas', () => {
	it('ActiveCampaign Sync says the action', () => {
		const description = new ActiveCampaignSync().description;
		expect(subtitle(description, { resource: 'contact', operation: 'upsert' })).toBe('Create or update a contact');
		expect(subtitle(description, { resource: 'contact', operation: 'recordSyncState' })).not.toMatch(/recordSyncState/);
		expect(subtitle(description, { resource: 'customObject', operation: 'upsertRecord' })).not.toBe('');
		// Every action reads as a sentence on the canvas (no word lost to a dropped apostrophe).
		expect(subtitle(description, { resource: 'contact', operation: 'getActivities' })).toBe('Get the activities of a contact');
	});

	it('Dynamics 365 says the action, and the table of Other Table', () => {
		const description = new Dynamics365().description;
		expect(subtitle(description, { resource: 'lead', operation: 'createOrUpdate' })).toMatch(/^Create or update/);
		expect(subtitle(description, { resource: 'contact', operation: 'getChanges' })).not.toMatch(/getChanges|^$/);
		expect(subtitle(description, { resource: 'otherTable', operation: 'get', table: { value: 'new_project' } })).toMatch(/ \(new_project\)$/);
	});

	it('AC-D365 Field Map says the entity and where it goes, short enough for the canvas', () => {
		const description = new AcD365FieldMap().description;
		expect(subtitle(description, { entity: 'contact', step: 'toActiveCampaign' })).toBe('Contacts → ActiveCampaign');
		expect(subtitle(description, { entity: 'lead', step: 'toDynamics' })).toBe('Leads → Dynamics');
		expect(subtitle(description, { entity: 'opportunity', step: 'toActiveCampaign' })).toBe('Opportunities → ActiveCampaign');
	});
});
