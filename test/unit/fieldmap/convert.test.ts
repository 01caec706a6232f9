import { toActiveCampaign, toDynamics, type ConversionContext } from '../../../nodes/shared/sync/convert';
import { isCompatible, type ActiveCampaignType, type DynamicsType } from '../../../nodes/shared/sync/fieldTypes';

const chicago: ConversionContext = { timeZone: 'America/Chicago' };
const fixed: ConversionContext = { timeZone: '-05:00' };

const leadQuality = { '1': 'Hot', '2': 'Warm', '3': 'Cold' };
const colours = { '100000000': 'Red', '100000001': 'Green', '100000002': 'Blue' };

interface Case {
	d: DynamicsType;
	a: ActiveCampaignType;
	dynamics: { value: unknown; formatted?: string };
	activeCampaign: unknown;
	/** What toDynamics gives back when it is not the original value (labels for choices). */
	back?: unknown;
	options?: Record<string, string>;
	context?: ConversionContext;
}

const cases: Case[] = [
	{ d: 'string', a: 'text', dynamics: { value: 'Ana María' }, activeCampaign: 'Ana María' },
	{ d: 'string', a: 'hidden', dynamics: { value: 'x-1' }, activeCampaign: 'x-1' },
	{ d: 'memo', a: 'textarea', dynamics: { value: 'line 1\nline 2' }, activeCampaign: 'line 1\nline 2' },
	{ d: 'string', a: 'textarea', dynamics: { value: 'short' }, activeCampaign: 'short' },
	{ d: 'integer', a: 'number', dynamics: { value: 42 }, activeCampaign: 42 },
	{ d: 'integer', a: 'text', dynamics: { value: -7 }, activeCampaign: '-7' },
	{ d: 'bigint', a: 'text', dynamics: { value: 9007199254740991 }, activeCampaign: '9007199254740991' },
	{ d: 'decimal', a: 'number', dynamics: { value: 12.5 }, activeCampaign: 12.5 },
	{ d: 'double', a: 'text', dynamics: { value: 0.125 }, activeCampaign: '0.125' },
	{ d: 'money', a: 'currency', dynamics: { value: 1234.56 }, activeCampaign: 123456 },
	{ d: 'money', a: 'number', dynamics: { value: 99.99 }, activeCampaign: 99.99 },
	{ d: 'money', a: 'text', dynamics: { value: 10 }, activeCampaign: '10' },
	{ d: 'boolean', a: 'text', dynamics: { value: true }, activeCampaign: 'true' },
	{ d: 'boolean', a: 'hidden', dynamics: { value: false }, activeCampaign: 'false' },
	{ d: 'boolean', a: 'dropdown', dynamics: { value: true, formatted: 'Yes' }, activeCampaign: 'Yes', options: { '1': 'Yes', '0': 'No' } },
	{ d: 'boolean', a: 'radio', dynamics: { value: false }, activeCampaign: 'No', options: { '1': 'Yes', '0': 'No' } },
	{ d: 'datetime', a: 'datetime', dynamics: { value: '2026-03-01T15:30:00Z' }, activeCampaign: '2026-03-01T09:30:00-06:00', context: chicago },
	{ d: 'datetime', a: 'datetime', dynamics: { value: '2026-07-01T15:30:00Z' }, activeCampaign: '2026-07-01T10:30:00-05:00', context: chicago },
	{ d: 'dateonly', a: 'date', dynamics: { value: '2026-02-28' }, activeCampaign: '2026-02-28' },
	{ d: 'datetime', a: 'date', dynamics: { value: '2026-02-28T05:00:00Z' }, activeCampaign: '2026-02-28', context: fixed },
	{ d: 'picklist', a: 'dropdown', dynamics: { value: 2, formatted: 'Warm' }, activeCampaign: 'Warm', back: 'Warm', options: leadQuality },
	{ d: 'picklist', a: 'radio', dynamics: { value: 1 }, activeCampaign: 'Hot', back: 'Hot', options: leadQuality },
	{ d: 'picklist', a: 'text', dynamics: { value: 3, formatted: 'Cold' }, activeCampaign: 'Cold', back: 'Cold' },
	{ d: 'picklist', a: 'listbox', dynamics: { value: 3, formatted: 'Cold' }, activeCampaign: '||Cold||', back: 'Cold' },
	{ d: 'state', a: 'dropdown', dynamics: { value: 0, formatted: 'Open' }, activeCampaign: 'Open', back: 'Open' },
	{
		d: 'multiselect',
		a: 'checkbox',
		dynamics: { value: '100000000,100000002', formatted: 'Red; Blue' },
		activeCampaign: '||Red||Blue||',
		back: ['Red', 'Blue'],
	},
	{
		d: 'multiselect',
		a: 'listbox',
		dynamics: { value: '100000001' },
		activeCampaign: '||Green||',
		back: ['Green'],
		options: colours,
	},
	{
		d: 'multiselect',
		a: 'multiselect',
		dynamics: { value: '100000000', formatted: 'Red' },
		activeCampaign: '||Red||',
		back: ['Red'],
	},
	{ d: 'lookup', a: 'accountName', dynamics: { value: 'a0f0c3f2-0000-4000-8000-000000000001', formatted: 'Contoso Ltd' }, activeCampaign: 'Contoso Ltd', back: 'Contoso Ltd' },
	{ d: 'string', a: 'accountName', dynamics: { value: 'Contoso Ltd' }, activeCampaign: 'Contoso Ltd' },
];

describe('conversions between Dynamics and ActiveCampaign', () => {
	it.each(cases.map((c) => [`${c.d} ↔ ${c.a} (${JSON.stringify(c.dynamics.value)})`, c]))('%s', (_name, c) => {
		const context = c.context ?? fixed;
		expect(isCompatible(c.a, c.d)).toBe(true);
		const forward = toActiveCampaign(c.dynamics, c.d, c.a, context, c.options);
		expect(forward).toEqual({ ok: true, value: c.activeCampaign });
		const back = toDynamics(c.activeCampaign, c.a, c.d, context, c.options);
		expect(back).toEqual({ ok: true, value: c.back ?? c.dynamics.value });
	});

	it('round-trips Dynamics → ActiveCampaign → Dynamics to the original value for every mapped type', () => {
		for (const c of cases) {
			const context = c.context ?? fixed;
			const forward = toActiveCampaign(c.dynamics, c.d, c.a, context, c.options);
			if (!forward.ok) throw new Error(forward.error);
			const back = toDynamics(forward.value, c.a, c.d, context, c.options);
			if (!back.ok) throw new Error(back.error);
			// Choices come back as labels, which the Dynamics node resolves through metadata; resolve them here.
			const labels = c.options ?? labelsFromFormatted(c);
			const resolved = resolveLabels(back.value, c.d, labels);
			expect([c.d, c.a, resolved]).toEqual([c.d, c.a, normalizeOriginal(c.dynamics.value, c.d)]);
		}
	});

	it('empty values clear the other side', () => {
		expect(toActiveCampaign({ value: null }, 'string', 'text', fixed)).toEqual({ ok: true, value: null });
		expect(toDynamics('', 'number', 'integer', fixed)).toEqual({ ok: true, value: null });
		expect(toDynamics('||||', 'checkbox', 'multiselect', fixed)).toEqual({ ok: true, value: null });
	});

	it.each([
		['abc', 'text', 'integer', /not a number/],
		['12.5', 'text', 'integer', /not a whole number/],
		['maybe', 'text', 'boolean', /not a yes\/no value/],
		['31/12/2026', 'date', 'dateonly', /not a date/],
		['2026-02-30', 'date', 'dateonly', /not a date/],
		['yesterday', 'datetime', 'datetime', /not a date and time/],
		['||A||B||', 'listbox', 'picklist', /several values/],
	] as const)('reports %p (%s → %s) instead of guessing', (value, ac, d, message) => {
		const result = toDynamics(value, ac, d, fixed);
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.error).toMatch(message);
	});

	it('reports choices whose label is unknown', () => {
		const result = toActiveCampaign({ value: 7 }, 'picklist', 'dropdown', fixed);
		expect(result).toEqual({ ok: false, error: 'no label is known for choice value 7' });
		expect(toActiveCampaign({ value: 'x' }, 'money', 'currency', fixed).ok).toBe(false);
	});

	it('reads an ActiveCampaign datetime without offset as account time', () => {
		expect(toDynamics('2026-01-15 08:00:00', 'datetime', 'datetime', fixed)).toEqual({ ok: true, value: '2026-01-15T13:00:00Z' });
		expect(toDynamics('2026-01-15', 'date', 'datetime', chicago)).toEqual({ ok: true, value: '2026-01-15T06:00:00Z' });
	});
});

function labelsFromFormatted(c: Case): Record<string, string> {
	if (c.dynamics.formatted === undefined) return {};
	const values = String(c.dynamics.value).split(',');
	const labels = c.dynamics.formatted.split(';').map((s) => s.trim());
	return Object.fromEntries(values.map((v, i) => [v, labels[i] ?? labels[0]]));
}

function resolveLabels(value: unknown, type: DynamicsType, labels: Record<string, string>): unknown {
	const byLabel = Object.fromEntries(Object.entries(labels).map(([v, l]) => [l.toLowerCase(), v]));
	if (type === 'picklist' || type === 'state' || type === 'status') return Number(byLabel[String(value).toLowerCase()]);
	if (type === 'multiselect') return (value as string[]).map((l) => byLabel[l.toLowerCase()]).join(',');
	if (type === 'lookup') return Object.entries(labels).find(([, l]) => l === value)?.[0];
	return value;
}

function normalizeOriginal(value: unknown, type: DynamicsType): unknown {
	if (type === 'multiselect') return String(value);
	return value;
}
