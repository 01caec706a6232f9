import { matchCriteria, type CriteriaRow } from '../../../nodes/shared/sync/criteria';
import {
	MappingError,
	missingRequired,
	pairsForStep,
	resolvePairs,
	type MappingDefinition,
} from '../../../nodes/shared/sync/mapping';

describe('criteria operators', () => {
	const record: Record<string, unknown> = {
		source: 'Web Form',
		score: '42',
		created: '2026-03-01T10:00:00Z',
		interests: '||Cloud||Security||',
		empty: '',
	};
	const read = (field: string) => record[field];
	const holds = (row: CriteriaRow) => matchCriteria([row], read).matched;

	it.each([
		[{ field: 'source', operator: 'equals', value: 'web form' }, true],
		[{ field: 'source', operator: 'equals', value: 'Web' }, false],
		[{ field: 'source', operator: 'notEquals', value: 'Referral' }, true],
		[{ field: 'source', operator: 'notEquals', value: 'WEB FORM' }, false],
		[{ field: 'source', operator: 'contains', value: 'form' }, true],
		[{ field: 'source', operator: 'notContains', value: 'form' }, false],
		[{ field: 'source', operator: 'notContains', value: 'phone' }, true],
		[{ field: 'source', operator: 'startsWith', value: 'web' }, true],
		[{ field: 'source', operator: 'startsWith', value: 'form' }, false],
		[{ field: 'score', operator: 'greaterThan', value: '9' }, true],
		[{ field: 'score', operator: 'lessThan', value: '100' }, true],
		[{ field: 'score', operator: 'lessThan', value: '42' }, false],
		[{ field: 'created', operator: 'greaterThan', value: '2026-02-28' }, true],
		[{ field: 'created', operator: 'lessThan', value: '2026-02-28T00:00:00Z' }, false],
		[{ field: 'interests', operator: 'contains', value: 'security' }, true],
		[{ field: 'interests', operator: 'equals', value: 'Cloud' }, true],
		[{ field: 'empty', operator: 'isEmpty' }, true],
		[{ field: 'missing', operator: 'isEmpty' }, true],
		[{ field: 'source', operator: 'isEmpty' }, false],
		[{ field: 'source', operator: 'isNotEmpty' }, true],
		[{ field: 'missing', operator: 'isNotEmpty' }, false],
	] as Array<[CriteriaRow, boolean]>)('%o → %p', (row, expected) => {
		expect(holds(row)).toBe(expected);
	});

	it('needs every row to hold and names the one that failed', () => {
		const result = matchCriteria(
			[
				{ field: 'source', operator: 'contains', value: 'web' },
				{ field: 'score', operator: 'greaterThan', value: '50' },
			],
			read,
		);
		expect(result).toEqual({
			matched: false,
			row: { field: 'score', operator: 'greaterThan', value: '50' },
			reason: 'out of scope: score is greater than "50" does not hold',
		});
	});
});

describe('mapping definition', () => {
	const contacts: MappingDefinition = { entity: 'contact', syncDirection: 'bidirectional' };

	it('maps the standard fields by default', () => {
		expect(resolvePairs(contacts).map((p) => [p.dynamics.name, p.activeCampaign.key])).toEqual([
			['emailaddress1', 'email'],
			['firstname', 'firstName'],
			['lastname', 'lastName'],
			['telephone1', 'phone'],
			['jobtitle', 'jobTitle'],
			['parentcustomerid', 'accountName'],
		]);
	});

	it('lets a standard field be switched off or remapped, but never Email or Account', () => {
		const pairs = resolvePairs({
			...contacts,
			standard: { phone: { enabled: false }, jobTitle: { enabled: false, remapTo: { name: 'new_position', type: 'string' } } },
		});
		expect(pairs.find((p) => p.activeCampaign.key === 'phone')).toBeUndefined();
		expect(pairs.find((p) => p.activeCampaign.key === 'jobTitle')?.dynamics.name).toBe('new_position');
		expect(() => resolvePairs({ ...contacts, standard: { email: { enabled: false } } })).toThrow(
			'"Email" is always mapped and cannot be switched off or remapped',
		);
		expect(() =>
			resolvePairs({ ...contacts, standard: { account: { enabled: false, remapTo: { name: 'new_company', type: 'string' } } } }),
		).toThrow('"Account" is always mapped');
		expect(() => resolvePairs({ entity: 'lead', syncDirection: 'bidirectional', standard: { account: { enabled: false } } })).toThrow(
			MappingError,
		);
	});

	it('keeps the five opportunity fields fixed and takes at most 20 custom fields', () => {
		const opportunity: MappingDefinition = { entity: 'opportunity', syncDirection: 'dynamicsToActiveCampaign' };
		expect(resolvePairs(opportunity).map((p) => p.activeCampaign.key)).toEqual([
			'name',
			'estimated-revenue',
			'estimated-close-date',
			'actual-revenue',
			'stage',
		]);
		expect(() => resolvePairs({ ...opportunity, standard: { stage: { enabled: false } } })).toThrow('is fixed');
		const custom = (n: number) =>
			Array.from({ length: n }, (_, i) => ({
				dynamics: { name: `new_field${i}`, type: 'string' as const },
				activeCampaign: { key: `field-${i}`, type: 'text' as const },
			}));
		expect(resolvePairs({ ...opportunity, custom: custom(20) })).toHaveLength(25);
		expect(() => resolvePairs({ ...opportunity, custom: custom(21) })).toThrow(
			'Opportunities take at most 20 custom fields (21 mapped)',
		);
		expect(() => resolvePairs({ ...opportunity, syncDirection: 'bidirectional' })).toThrow('one way only');
	});

	it('refuses incompatible pairs, naming both fields', () => {
		expect(() =>
			resolvePairs({
				...contacts,
				custom: [{ dynamics: { name: 'new_birthday', type: 'dateonly' }, activeCampaign: { key: 'INTERESTS', type: 'checkbox' } }],
			}),
		).toThrow(
			'ActiveCampaign field "INTERESTS" (checkbox) cannot be mapped to Dynamics column "new_birthday" (dateonly): the types are not compatible',
		);
	});

	it('refuses two mappings writing the same field', () => {
		expect(() =>
			resolvePairs({
				...contacts,
				custom: [
					{ dynamics: { name: 'new_a', type: 'string' }, activeCampaign: { key: 'NOTES', type: 'text' } },
					{ dynamics: { name: 'new_b', type: 'string' }, activeCampaign: { key: 'notes', type: 'text' } },
				],
			}),
		).toThrow('ActiveCampaign field "notes" is written by two mappings');
	});

	it('filters fields by direction and never writes against it', () => {
		const definition: MappingDefinition = {
			...contacts,
			standard: { phone: { direction: 'toDynamics' }, jobTitle: { direction: 'toActiveCampaign' } },
		};
		const pairs = resolvePairs(definition);
		const keys = (step: 'toActiveCampaign' | 'toDynamics') => pairsForStep(definition, pairs, step).map((p) => p.activeCampaign.key);
		expect(keys('toActiveCampaign')).not.toContain('phone');
		expect(keys('toActiveCampaign')).toContain('jobTitle');
		expect(keys('toDynamics')).toContain('phone');
		expect(keys('toDynamics')).not.toContain('jobTitle');
		// A one-way entity ignores field directions and writes nothing against its own direction.
		const push: MappingDefinition = { ...definition, syncDirection: 'dynamicsToActiveCampaign' };
		expect(pairsForStep(push, pairs, 'toActiveCampaign')).toHaveLength(6);
		expect(pairsForStep(push, pairs, 'toDynamics')).toHaveLength(0);
	});

	it('lists required Dynamics columns left without a value', () => {
		const leads: MappingDefinition = { entity: 'lead', syncDirection: 'bidirectional' };
		const pairs = pairsForStep(leads, resolvePairs(leads), 'toDynamics');
		expect(missingRequired(leads, pairs, ['lastname', 'subject'])).toEqual(['subject']);
		expect(missingRequired({ ...leads, defaults: { subject: 'From ActiveCampaign' } }, pairs, ['lastname', 'subject'])).toEqual([]);
	});
});
