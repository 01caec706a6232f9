import { splitCommas, textList } from '../../../nodes/shared/lists';

describe('textList: one reading of a list parameter', () => {
	it.each([
		[['a', ' b ', ''], ['a', 'b']],
		['a, b,,c ', ['a', 'b', 'c']],
		['["Smith, John", " VIP "]', ['Smith, John', 'VIP']],
		['[not json', ['[not json']],
		['', []],
		[undefined, []],
		[null, []],
		[42, ['42']],
		[{ a: 1 }, []],
	])('%j → %j', (value, expected) => {
		expect(textList(value)).toEqual(expected);
	});

	it('splitCommas trims and drops empty entries', () => {
		expect(splitCommas(' firstname , ,lastname,')).toEqual(['firstname', 'lastname']);
	});
});
