import {
	encodeAccountFieldValue,
	encodeContactFieldValue,
	multiValues,
	toAcDate,
	toAcDateTime,
	type AccountFieldDef,
	type ContactFieldDef,
} from '../../../nodes/ActiveCampaignSync/helpers/encode';

const field = (type: string, options: string[] = []): ContactFieldDef => ({
	id: '1',
	title: 'F',
	perstag: 'F',
	type,
	options: options.map((o) => ({ label: o, value: o.toLowerCase().replace(/ /g, '_') })),
});

const accountField = (type: string, options: string[] = [], defaultCurrency?: string): AccountFieldDef => ({
	id: '1',
	label: 'F',
	type,
	options,
	defaultCurrency,
});

describe('contact field encodings', () => {
	it('dates become YYYY-MM-DD, from dates, date-times (their own calendar day), Date objects and epoch ms', () => {
		expect(encodeContactFieldValue(field('date'), '2026-01-02')).toEqual({ ok: true, value: '2026-01-02' });
		expect(encodeContactFieldValue(field('date'), '2026-01-02T23:30:00-05:00')).toEqual({ ok: true, value: '2026-01-02' });
		expect(encodeContactFieldValue(field('date'), new Date('2026-03-04T10:00:00Z'))).toEqual({ ok: true, value: '2026-03-04' });
		expect(encodeContactFieldValue(field('date'), Date.parse('2026-03-04T10:00:00Z'))).toEqual({ ok: true, value: '2026-03-04' });
		expect(encodeContactFieldValue(field('date'), 'next tuesday').ok).toBe(false);
		expect(toAcDate('2026-02-30').ok).toBe(false);
	});

	it('date-times become ISO-8601 with an offset; no offset means UTC', () => {
		expect(encodeContactFieldValue(field('datetime'), '2020-05-19T02:45:00-05:00')).toEqual({ ok: true, value: '2020-05-19T02:45:00-05:00' });
		expect(encodeContactFieldValue(field('datetime'), '2020-05-19T07:45:00Z')).toEqual({ ok: true, value: '2020-05-19T07:45:00+00:00' });
		expect(encodeContactFieldValue(field('datetime'), '2020-05-19 07:45:00')).toEqual({ ok: true, value: '2020-05-19T07:45:00+00:00' });
		expect(toAcDateTime(new Date('2020-05-19T07:45:00.123Z'))).toEqual({ ok: true, value: '2020-05-19T07:45:00+00:00' });
		expect(toAcDateTime('garbage').ok).toBe(false);
	});

	it('multi-value fields become ||a||b||, from arrays, ||-strings or one value; labels map to option values', () => {
		const f = field('checkbox', ['Email Marketing', 'CRM']);
		expect(encodeContactFieldValue(f, ['Email Marketing', 'crm'])).toEqual({ ok: true, value: '||email_marketing||crm||' });
		expect(encodeContactFieldValue(field('listbox'), '||a||b||')).toEqual({ ok: true, value: '||a||b||' });
		expect(encodeContactFieldValue(field('listbox'), 'solo')).toEqual({ ok: true, value: '||solo||' });
		expect(encodeContactFieldValue(field('checkbox'), [])).toEqual({ ok: true, value: '' });
		expect(multiValues(['a', '', null, 'b'])).toEqual(['a', 'b']);
	});

	it('dropdown and radio take an option value or its label', () => {
		const f = field('dropdown', ['Trade Show', 'Website']);
		expect(encodeContactFieldValue(f, 'Trade Show')).toEqual({ ok: true, value: 'trade_show' });
		expect(encodeContactFieldValue(f, 'website')).toEqual({ ok: true, value: 'website' });
		expect(encodeContactFieldValue(field('radio', ['Email']), 'EMAIL')).toEqual({ ok: true, value: 'email' });
		// A value that is none of the options is refused, never stored (issue "Hardening", finding 6).
		expect(encodeContactFieldValue(f, 'Unknown')).toEqual({ ok: false, error: '"Unknown" is not one of its options (Trade Show, Website)' });
		expect(encodeContactFieldValue(field('radio', ['Email', 'Phone', 'SMS']), 'WhatsApp').ok).toBe(false);
		expect(encodeContactFieldValue(f, '||Website||Trade Show||').ok).toBe(false);
	});

	it('numbers, text and empty values', () => {
		expect(encodeContactFieldValue(field('number'), 12.5)).toEqual({ ok: true, value: '12.5' });
		expect(encodeContactFieldValue(field('number'), ' 40 ')).toEqual({ ok: true, value: '40' });
		expect(encodeContactFieldValue(field('number'), 'abc').ok).toBe(false);
		expect(encodeContactFieldValue(field('text'), 42)).toEqual({ ok: true, value: '42' });
		expect(encodeContactFieldValue(field('hidden'), { a: 1 }).ok).toBe(false);
		expect(encodeContactFieldValue(field('text'), ['a', 'b']).ok).toBe(false);
		expect(encodeContactFieldValue(field('hidden'), JSON.stringify({ a: 1 }))).toEqual({ ok: true, value: '{"a":1}' });
		expect(encodeContactFieldValue(field('text'), null)).toEqual({ ok: true, value: '' });
	});
});

describe('account field encodings', () => {
	it('currency is in cents with the field default currency, or the one given', () => {
		expect(encodeAccountFieldValue(accountField('currency', [], 'usd'), 123450)).toEqual({ ok: true, value: { fieldValue: 123450, fieldCurrency: 'usd' } });
		expect(encodeAccountFieldValue(accountField('currency'), '99.6')).toEqual({ ok: true, value: { fieldValue: 100, fieldCurrency: 'usd' } });
		expect(encodeAccountFieldValue(accountField('currency', [], 'usd'), { value: 500, currency: 'EUR' })).toEqual({
			ok: true,
			value: { fieldValue: 500, fieldCurrency: 'eur' },
		});
		expect(encodeAccountFieldValue(accountField('currency'), 'lots').ok).toBe(false);
	});

	it('multiselect values are arrays; numbers, dates and dropdowns', () => {
		expect(encodeAccountFieldValue(accountField('multiselect', ['A', 'B']), '||a||B||')).toEqual({ ok: true, value: { fieldValue: ['A', 'B'] } });
		expect(encodeAccountFieldValue(accountField('number'), '5200')).toEqual({ ok: true, value: { fieldValue: 5200 } });
		expect(encodeAccountFieldValue(accountField('date'), '2026-01-02T10:00:00Z')).toEqual({ ok: true, value: { fieldValue: '2026-01-02' } });
		expect(encodeAccountFieldValue(accountField('dropdown', ['Software']), 'software')).toEqual({ ok: true, value: { fieldValue: 'Software' } });
	});
});
