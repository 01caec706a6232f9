import { FV, startHarness, type ApiResult, type Harness } from './testkit';

describe('Dataverse simulator: queries and paging', () => {
	let h: Harness;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => h.close());

	describe('with 12,000+ contacts', () => {
		beforeAll(async () => {
			await h.control('POST', '/reset', {});
			h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
			const seeded = await h.control('POST', '/seed', { contacts: 12000 });
			expect(seeded.json.created.contacts).toBe(12000);
		});

		it('pages 12,020 contacts at odata.maxpagesize=5000 in 3 requests with an opaque $skiptoken', async () => {
			const seen = new Set<string>();
			let url: string | undefined = 'contacts?$select=fullname,emailaddress1';
			let requests = 0;
			while (url) {
				const r: ApiResult = await h.call('GET', url, { headers: { Prefer: 'odata.maxpagesize=5000' } });
				requests++;
				expect(r.status).toBe(200);
				expect(r.headers.get('preference-applied')).toBe('odata.maxpagesize=5000');
				for (const c of r.json.value) seen.add(c.contactid);
				url = r.json['@odata.nextLink'];
				if (url) {
					expect(url).toMatch(new RegExp(`^${h.api}/contacts\\?\\$select=fullname,emailaddress1&\\$skiptoken=%3Ccookie%20pagenumber%3D%22\\d%22`));
					expect(r.json.value).toHaveLength(5000);
				}
			}
			expect(requests).toBe(3);
			expect(seen.size).toBe(12020);
		});

		it('caps @odata.count and $count at 5000 and reports totalrecordcountlimitexceeded', async () => {
			let r = await h.call('GET', 'contacts?$select=contactid&$count=true', {
				headers: { Prefer: 'odata.maxpagesize=10,odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"' },
			});
			expect(r.json['@odata.count']).toBe(5000);
			expect(r.json['@Microsoft.Dynamics.CRM.totalrecordcount']).toBe(5000);
			expect(r.json['@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded']).toBe(true);
			expect(r.json.value).toHaveLength(10);
			r = await h.call('GET', 'contacts/$count');
			expect(r.headers.get('content-type')).toBe('text/plain');
			expect(r.text).toBe('5000');
			r = await h.call('GET', `contacts/$count?$filter=${encodeURIComponent("startswith(lastname,'Chen')")}`);
			expect(Number(r.text)).toBeGreaterThan(0);
			expect(Number(r.text)).toBeLessThan(5000);
		});

		it('filters and orders 12k rows and keeps paging stable while rows are inserted', async () => {
			const first = await h.call('GET', `contacts?$select=fullname,new_score&$orderby=new_score desc,lastname asc&$filter=${encodeURIComponent('new_score ge 500')}`, {
				headers: { Prefer: 'odata.maxpagesize=1000' },
			});
			const scores = first.json.value.map((c: { new_score: number }) => c.new_score);
			expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
			// Insert rows that sort before and after the cursor, then continue.
			await h.call('POST', 'contacts', { body: { lastname: 'Aaa-new', new_score: 999 } });
			await h.call('POST', 'contacts', { body: { lastname: 'Zzz-new', new_score: 500 } });
			const ids = new Set(first.json.value.map((c: { contactid: string }) => c.contactid));
			let url: string | undefined = first.json['@odata.nextLink'];
			let total = ids.size;
			while (url) {
				const r: ApiResult = await h.call('GET', url, { headers: { Prefer: 'odata.maxpagesize=1000' } });
				for (const c of r.json.value) {
					expect(ids.has(c.contactid)).toBe(false);
					ids.add(c.contactid);
				}
				total += r.json.value.length;
				url = r.json['@odata.nextLink'];
			}
			// Bulk scores are k % 1000, so 6,000 rows match. Each is returned exactly once; of the two inserted rows only
			// the one sorting after the cursor shows up (keyset paging, not offsets).
			expect(total).toBe(6001);
		});
	});

	describe('with the demo data', () => {
		beforeAll(async () => {
			await h.control('POST', '/reset', {});
			h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		});

		it('$top limits rows; with odata.maxpagesize $top is ignored', async () => {
			let r = await h.call('GET', 'contacts?$select=fullname&$top=3');
			expect(r.json.value).toHaveLength(3);
			expect(r.json['@odata.nextLink']).toBeUndefined();
			r = await h.call('GET', 'contacts?$select=fullname&$top=3', { headers: { Prefer: 'odata.maxpagesize=5' } });
			expect(r.json.value).toHaveLength(5);
			expect(r.json['@odata.nextLink']).toBeDefined();
		});

		it('caps odata.maxpagesize at 5000', async () => {
			const r = await h.call('GET', 'contacts?$select=fullname', { headers: { Prefer: 'odata.maxpagesize=9000' } });
			expect(r.status).toBe(200);
			expect(r.headers.get('preference-applied')).toBe('odata.maxpagesize=5000');
		});

		it('$skip is not supported (400)', async () => {
			const r = await h.call('GET', 'contacts?$skip=5');
			expect(r.status).toBe(400);
			expect(r.json.error).toEqual({ code: '0x80060888', message: 'The query parameter $skip is not supported' });
		});

		it('$orderby on several keys, ascending and descending', async () => {
			const r = await h.call('GET', 'contacts?$select=lastname,address1_city&$orderby=address1_city desc,lastname asc');
			const rows = r.json.value as Array<{ lastname: string; address1_city: string }>;
			for (let i = 1; i < rows.length; i++) {
				const a = rows[i - 1];
				const b = rows[i];
				expect(a.address1_city.localeCompare(b.address1_city) >= 0).toBe(true);
				if (a.address1_city === b.address1_city) expect(a.lastname.localeCompare(b.lastname) <= 0).toBe(true);
			}
		});

		it('formatted values for choices, state, money, dates, lookups and numbers', async () => {
			const opp = h.sim.demoIds['opportunity:contoso-erp'];
			const r = await h.call('GET', `opportunities(${opp})?$select=salesstage,statecode,statuscode,estimatedvalue,estimatedclosedate,_customerid_value,closeprobability,modifiedon`, {
				headers: { Prefer: 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"' },
			});
			expect(r.json).toMatchObject({
				salesstage: 1,
				[`salesstage${FV}`]: 'Develop',
				[`statecode${FV}`]: 'Open',
				[`statuscode${FV}`]: 'In Progress',
				estimatedvalue: 125000,
				[`estimatedvalue${FV}`]: '$125,000.00',
				estimatedclosedate: '2025-06-30',
				[`estimatedclosedate${FV}`]: '6/30/2025',
				[`_customerid_value${FV}`]: 'Contoso Ltd',
				[`closeprobability${FV}`]: '60',
			});
			expect(r.json[`modifiedon${FV}`]).toMatch(/^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2} (AM|PM)$/);
			expect(r.json['_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname']).toBeUndefined();
			expect(r.headers.get('preference-applied')).toBe('odata.include-annotations="OData.Community.Display.V1.FormattedValue"');
		});

		it('expands collection-valued navigation properties with nested options', async () => {
			const contoso = h.sim.demoIds['account:contoso'];
			const r = await h.call('GET', `accounts(${contoso})?$select=name&$expand=contact_customer_accounts($select=fullname;$orderby=fullname desc;$top=2)`);
			expect(r.status).toBe(200);
			expect(r.json.contact_customer_accounts.map((c: { fullname: string }) => c.fullname)).toEqual(['Maria Garcia', 'Liam Murphy']);
		});

		it('lists entity sets in the service document and serves a CSDL $metadata document', async () => {
			let r = await h.call('GET', '');
			expect(r.json.value).toEqual(expect.arrayContaining([{ name: 'contacts', kind: 'EntitySet', url: 'contacts' }]));
			r = await h.call('GET', '$metadata');
			expect(r.text).toContain('<EntitySet Name="contacts" EntityType="Microsoft.Dynamics.CRM.contact">');
			expect(r.text).toContain('Org.OData.Capabilities.V1.ChangeTracking');
		});

		it('RetrieveTotalRecordCount reports counts beyond 5000', async () => {
			const r = await h.call('GET', "RetrieveTotalRecordCount(EntityNames=['contact','lead'])");
			expect(r.json.EntityRecordCountCollection).toMatchObject({ Count: 2, Keys: ['contact', 'lead'] });
		});
	});
});
