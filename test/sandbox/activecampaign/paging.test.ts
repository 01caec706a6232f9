import { startAc, type AcHarness } from './testkit';

describe('ActiveCampaign simulator: paging over 12,000 contacts', () => {
	let ac: AcHarness;
	beforeAll(async () => {
		ac = await startAc();
		const seeded = await ac.control('POST', '/seed', { contacts: 12000, withFieldValues: true, withTags: true });
		expect(seeded.body.totalContacts).toBe(12025);
	});
	afterAll(() => ac.close());

	it('walks every contact exactly once with orders[id]=ASC and id_greater', async () => {
		const ids: number[] = [];
		let last = 0;
		let requests = 0;
		let firstTotal = '';
		for (;;) {
			const res = await ac.api('GET', `/api/3/contacts?orders[id]=ASC&id_greater=${last}&limit=100`);
			requests++;
			expect(res.status).toBe(200);
			if (requests === 1) firstTotal = res.body.meta.total;
			const page: Array<{ id: string }> = res.body.contacts;
			if (page.length === 0) break;
			for (const c of page) ids.push(Number(c.id));
			last = Number(page[page.length - 1].id);
			if (requests === 2) {
				// A contact created while paging shows up at the end, not twice and not skipped.
				await ac.api('POST', '/api/3/contacts', { contact: { email: 'late.arrival@example.com' } });
			}
		}
		expect(firstTotal).toBe('12025');
		expect(ids).toHaveLength(12026);
		expect(new Set(ids).size).toBe(12026);
		expect(ids).toEqual([...ids].sort((a, b) => a - b));
		expect(requests).toBe(122); // 121 pages of up to 100, then an empty one
	});

	it('reports the remaining count in meta.total for id_greater and answers a deep page', async () => {
		const res = await ac.api('GET', '/api/3/contacts?orders[id]=ASC&id_greater=12000&limit=100');
		expect(res.body.meta.total).toBe('26');
		const deep = await ac.api('GET', '/api/3/contacts?limit=100&offset=11900');
		expect(deep.body.contacts).toHaveLength(100);
		expect(deep.body.contacts[0].id).toBe('11901');
	});

	it('pages the n8n way (offset += received until meta.total) with a filter', async () => {
		const query = 'filters[updated_after]=2025-03-20&orders[id]=ASC';
		let offset = 0;
		let total = Infinity;
		const seen = new Set<string>();
		while (offset < total) {
			const res = await ac.api('GET', `/api/3/contacts?${query}&limit=100&offset=${offset}`);
			total = Number(res.body.meta.total);
			for (const c of res.body.contacts) {
				expect(c.udate >= '2025-03-20').toBe(true);
				seen.add(c.id);
			}
			offset += res.body.contacts.length;
			if (res.body.contacts.length === 0) break;
		}
		expect(seen.size).toBe(total);
		expect(total).toBeGreaterThan(1000);
		expect(total).toBeLessThan(12026);
	});
});
