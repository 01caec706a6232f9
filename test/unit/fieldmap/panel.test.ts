/**
 * What the Field Map's panel shows: the whole standard mapping of the entity as rows from the start (each pair with
 * its state and direction, locked pairs marked), and "Use the Mapping of Another Step" by name.
 */
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { AcD365FieldMap } from '../../../nodes/FieldMap/AcD365FieldMap.node';
import { definitionFromParameters } from '../../../nodes/FieldMap/definition';
import { resolvePairs, STANDARD_FIELDS } from '../../../nodes/shared/sync/mapping';

const description = new AcD365FieldMap().description;
const standardFor = (entity: string) =>
	description.properties.find((p) => p.name === 'standardOverrides' && (p.displayOptions?.show?.entity as string[] | undefined)?.includes(entity))!;

describe.each(['contact', 'lead', 'account'] as const)('Standard Mappings of a %s', (entity) => {
	const property = standardFor(entity);
	const rows = (property.default as { override: Array<{ field: string; enabled: boolean; direction: string }> }).override;
	const fieldOptions = ((property.options as Array<{ values: INodeProperties[] }>)[0].values.find((v) => v.name === 'field')!.options ?? []) as INodePropertyOptions[];

	it('lists every standard pair as a row, on and both ways, readable without hovering', () => {
		expect(rows.map((r) => r.field)).toEqual(STANDARD_FIELDS[entity].map((f) => f.key));
		for (const row of rows) expect(row).toMatchObject({ enabled: true, direction: 'both' });
		for (const field of STANDARD_FIELDS[entity]) {
			const option = fieldOptions.find((o) => o.value === field.key)!;
			expect(option.name).toContain(field.activeCampaign.key);
			expect(option.name).toContain(field.dynamics.name);
			expect(option.name.endsWith('(locked)')).toBe(Boolean(field.locked));
		}
	});

	it('the rows as shipped are the default mapping; a switched-off row switches the pair off', () => {
		const asShipped = definitionFromParameters({ entity, mappingSource: 'here', standardOverrides: property.default } as never);
		const none = definitionFromParameters({ entity, mappingSource: 'here' } as never);
		expect(resolvePairs(asShipped)).toEqual(resolvePairs(none));
		const unlocked = STANDARD_FIELDS[entity].find((f) => !f.locked)!;
		const off = { override: rows.map((r) => (r.field === unlocked.key ? { ...r, enabled: false } : r)) };
		const pairs = resolvePairs(definitionFromParameters({ entity, mappingSource: 'here', standardOverrides: off } as never));
		expect(pairs.map((p) => p.id)).not.toContain(`standard:${unlocked.key}`);
	});
});

it('is not offered as an AI tool', () => {
	expect(description.usableAsTool).toBeUndefined();
});
