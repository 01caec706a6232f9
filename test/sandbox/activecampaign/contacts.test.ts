import { AC_TIMESTAMP, startAc, type AcHarness, type J } from './testkit';

describe('ActiveCampaign simulator: contacts', () => {
	let ac: AcHarness;
	beforeAll(async () => {
		ac = await startAc();
	});
	afterAll(() => ac.close());
	beforeEach(() => ac.control('POST', '/reset', { settings: { requestsPerSecond: 100000 } }));

	it('requires the Api-Token header and answers 403 JSON without or with a wrong key', async () => {
		const none = await ac.api('GET', '/api/3/contacts', undefined, { 'Api-Token': '' });
		expect(none.status).toBe(403);
		expect(typeof none.body.message).toBe('string');
		const wrong = await ac.api('GET', '/api/3/contacts', undefined, { 'Api-Token': 'nope' });
		expect(wrong.status).toBe(403);
		expect(wrong.headers.get('content-type')).toContain('application/json');
	});

	it('accepts additional configured keys (one account, shared budget)', async () => {
		await ac.control('PUT', '/limits', { apiKeys: ['sandbox-key', 'second-user-key'] });
		expect((await ac.api('GET', '/api/3/contacts', undefined, { 'Api-Token': 'second-user-key' })).status).toBe(200);
	});

	it('answers unknown paths with a 404 JSON message', async () => {
		const res = await ac.api('GET', '/api/3/nothingHere');
		expect(res.status).toBe(404);
		expect(res.body).toEqual({ message: 'Not Found' });
	});

	it('creates a contact: 201, string ids, local-offset timestamps, inline field values', async () => {
		const res = await ac.api('POST', '/api/3/contacts', {
			contact: {
				email: 'new.person@example.com',
				firstName: 'New',
				lastName: 'Person',
				phone: '7223224241',
				fieldValues: [
					{ field: '3', value: '2008-01-20' },
					{ field: 2, value: '||CRM||Analytics||' },
				],
			},
		});
		expect(res.status).toBe(201);
		const c = res.body.contact;
		expect(c.id).toMatch(/^\d+$/);
		expect(c).toMatchObject({ email: 'new.person@example.com', firstName: 'New', lastName: 'Person', phone: '7223224241' });
		expect(c.cdate).toMatch(AC_TIMESTAMP);
		expect(c.udate).toMatch(AC_TIMESTAMP);
		expect(c.links.contactTags).toBe(`${ac.url}/api/3/contacts/${c.id}/contactTags`);
		expect(res.body.fieldValues).toHaveLength(2);
		expect(res.body.fieldValues[0]).toMatchObject({ contact: c.id, field: '3', value: '2008-01-20', owner: c.id });
		expect(res.body.fieldValues[1]).toMatchObject({ field: '2', value: '||CRM||Analytics||' });
		expect(typeof res.body.fieldValues[0].id).toBe('string');
	});

	it('rejects a duplicate email (case-insensitive) with 422 code duplicate', async () => {
		const res = await ac.api('POST', '/api/3/contacts', { contact: { email: 'Maria.Garcia@Contoso.com' } });
		expect(res.status).toBe(422);
		expect(res.body).toEqual({
			errors: [
				{ title: 'Email address already exists in the system', detail: '', code: 'duplicate', source: { pointer: '/data/attributes/email' } },
			],
		});
	});

	it('rejects an invalid or missing email with 422 email_invalid', async () => {
		for (const email of ['not-an-email', '', undefined]) {
			const res = await ac.api('POST', '/api/3/contacts', { contact: { email, firstName: 'X' } });
			expect(res.status).toBe(422);
			expect(res.body.errors[0].code).toBe('email_invalid');
		}
	});

	it('answers a malformed JSON body with 400', async () => {
		const res = await ac.api('POST', '/api/3/contacts', '{"contact": ', { 'Content-Type': 'application/json' });
		expect(res.status).toBe(400);
		expect(res.body.message).toBeDefined();
	});

	it('syncs by case-insensitive email: 201 on create, 200 on update (configurable), one contact', async () => {
		const created = await ac.api('POST', '/api/3/contact/sync', { contact: { email: 'sync.me@example.com', firstName: 'Sync' } });
		expect(created.status).toBe(201);
		const updated = await ac.api('POST', '/api/3/contact/sync', {
			contact: { email: 'SYNC.ME@example.com', lastName: 'Me', fieldValues: [{ field: '10', value: 'CTO' }] },
		});
		expect(updated.status).toBe(200);
		expect(updated.body.contact.id).toBe(created.body.contact.id);
		expect(updated.body.contact).toMatchObject({ email: 'sync.me@example.com', firstName: 'Sync', lastName: 'Me' });
		expect(updated.body.fieldValues.map((fv: J) => [fv.field, fv.value])).toEqual([['10', 'CTO']]);
		await ac.control('PUT', '/limits', { contactSyncUpdateStatus: 201 });
		expect((await ac.api('POST', '/api/3/contact/sync', { contact: { email: 'sync.me@example.com' } })).status).toBe(201);
		const list = await ac.api('GET', '/api/3/contacts?email=sync.me@example.com');
		expect(list.body.meta.total).toBe('1');
	});

	it('sync requires an email', async () => {
		expect((await ac.api('POST', '/api/3/contact/sync', { contact: { firstName: 'No Email' } })).status).toBe(422);
	});

	it('gets a contact with its documented side-loads, and 404s with the documented message', async () => {
		const res = await ac.api('GET', '/api/3/contacts/1');
		expect(res.status).toBe(200);
		expect(Object.keys(res.body).sort()).toEqual(
			['contact', 'contactAutomations', 'contactLists', 'deals', 'fieldValues', 'geoAddresses', 'geoIps'].sort(),
		);
		expect(res.body.contact.email).toBe('maria.garcia@contoso.com');
		expect(res.body.contact.orgname).toBe('Contoso Ltd');
		expect(res.body.contact.fieldValues).toEqual(res.body.fieldValues.map((fv: J) => fv.id));
		expect(res.body.contactLists.length).toBeGreaterThan(0);
		expect(res.body.contactAutomations[0]).toMatchObject({ contact: '1', automation: '1', seriesid: '1', status: '2' });
		const missing = await ac.api('GET', '/api/3/contacts/999999');
		expect(missing.status).toBe(404);
		expect(missing.body).toEqual({ message: 'No Result found for Subscriber with id 999999' });
	});

	it('side-loads related objects on the contact list with include (as real clients use it), each contact naming its ids', async () => {
		const plain = await ac.api('GET', '/api/3/contacts?limit=3');
		expect(Object.keys(plain.body).sort()).toEqual(['contacts', 'meta', 'scoreValues']);
		expect(plain.body.contacts[0].fieldValues).toBeUndefined();
		const res = await ac.api('GET', '/api/3/contacts?limit=3&include=fieldValues,contactTags.tag,contactLists');
		expect(res.status).toBe(200);
		const ids = res.body.contacts.map((c: J) => c.id);
		expect(res.body.fieldValues.length).toBeGreaterThan(3);
		expect(res.body.fieldValues.every((fv: J) => ids.includes(fv.contact))).toBe(true);
		for (const contact of res.body.contacts as J[]) {
			const one = await ac.api('GET', `/api/3/contacts/${contact.id}`);
			expect(contact.fieldValues).toEqual(one.body.fieldValues.map((fv: J) => fv.id));
			expect(res.body.fieldValues.filter((fv: J) => fv.contact === contact.id)).toEqual(one.body.fieldValues);
			const tags = (await ac.api('GET', `/api/3/contacts/${contact.id}/contactTags`)).body.contactTags;
			expect(res.body.contactTags.filter((ct: J) => ct.contact === contact.id)).toEqual(tags);
			expect(contact.contactTags).toEqual(tags.map((ct: J) => ct.id));
			expect(res.body.contactLists.filter((cl: J) => cl.contact === contact.id)).toEqual(one.body.contactLists);
		}
		const tagIds = new Set(res.body.contactTags.map((ct: J) => ct.tag));
		expect(res.body.tags.map((t: J) => t.id).sort()).toEqual([...tagIds].sort());
		expect(res.body.contactAutomations).toBeUndefined();
	});

	it('serves the per-contact relation endpoints', async () => {
		const tags = await ac.api('GET', '/api/3/contacts/1/contactTags');
		expect(tags.body.contactTags[0]).toMatchObject({ contact: '1', tag: expect.stringMatching(/^\d+$/) });
		const fvs = await ac.api('GET', '/api/3/contacts/1/fieldValues');
		expect(fvs.body.fieldValues.length).toBeGreaterThan(3);
		const lists = await ac.api('GET', '/api/3/contacts/1/contactLists');
		expect(lists.body.contactLists[0]).toMatchObject({ contact: '1', list: '1', status: '1' });
		const acs = await ac.api('GET', '/api/3/contacts/1/accountContacts');
		expect(acs.body.accountContacts[0]).toMatchObject({ account: '1', contact: '1' });
		expect((await ac.api('GET', '/api/3/contacts/1/deals')).body).toEqual({ deals: [] });
		expect((await ac.api('GET', '/api/3/contacts/424242/contactTags')).status).toBe(404);
	});

	it('updates a contact, including its email, and refuses an email another contact has', async () => {
		const before = await ac.api('GET', '/api/3/contacts/3');
		ac.clock.advance(5000);
		const res = await ac.api('PUT', '/api/3/contacts/3', {
			contact: { email: 'sam.t@adatum.com', firstName: 'Samuel', fieldValues: [{ field: '6', value: 'Changed email' }] },
		});
		expect(res.status).toBe(200);
		expect(res.body.contact).toMatchObject({ id: '3', email: 'sam.t@adatum.com', firstName: 'Samuel' });
		expect(res.body.contact.udate > before.body.contact.udate).toBe(true);
		expect((await ac.api('GET', '/api/3/contacts?email=sam.taylor@adatum.com')).body.meta.total).toBe('0');
		const dup = await ac.api('PUT', '/api/3/contacts/3', { contact: { email: 'li.wei@fabrikam.com' } });
		expect(dup.status).toBe(422);
		expect(dup.body.errors[0].code).toBe('duplicate');
		expect((await ac.api('PUT', '/api/3/contacts/987654', { contact: { firstName: 'x' } })).status).toBe(404);
	});

	it('does not bump udate for an update that changes nothing (configurable)', async () => {
		const before = (await ac.api('GET', '/api/3/contacts/2')).body.contact;
		ac.clock.advance(60_000);
		await ac.api('PUT', '/api/3/contacts/2', { contact: { firstName: before.firstName } });
		expect((await ac.api('GET', '/api/3/contacts/2')).body.contact.udate).toBe(before.udate);
		await ac.control('PUT', '/limits', { bumpUdateOnNoopUpdate: true });
		await ac.api('PUT', '/api/3/contacts/2', { contact: { firstName: before.firstName } });
		expect((await ac.api('GET', '/api/3/contacts/2')).body.contact.udate).not.toBe(before.udate);
	});

	it('deletes a contact: 200 {} then 404', async () => {
		const res = await ac.api('DELETE', '/api/3/contacts/25');
		expect(res.status).toBe(200);
		expect(res.body).toEqual({});
		expect((await ac.api('GET', '/api/3/contacts/25')).status).toBe(404);
		const again = await ac.api('DELETE', '/api/3/contacts/25');
		expect(again.status).toBe(404);
		expect(again.body.message).toBe('No result found for contact with id 25');
	});

	describe('listing', () => {
		it('pages with limit (default 20, capped at 100) and offset; meta.total is a string with page_input', async () => {
			const first = await ac.api('GET', '/api/3/contacts');
			expect(first.body.contacts).toHaveLength(20);
			expect(first.body.meta.total).toBe('25');
			expect(first.body.meta.page_input).toMatchObject({ limit: 20, offset: 0, status: -1 });
			const second = await ac.api('GET', '/api/3/contacts?offset=20');
			expect(second.body.contacts.map((c: J) => c.id)).toEqual(['21', '22', '23', '24', '25']);
			await ac.sim.seedBulk({ contacts: 300 });
			const capped = await ac.api('GET', '/api/3/contacts?limit=250');
			expect(capped.body.contacts).toHaveLength(100);
			expect(capped.body.meta.page_input.limit).toBe(100);
		});

		it('filters by email (exact), email_like, search, phone (starts with), ids[] and exclude', async () => {
			const q = async (query: string) => (await ac.api('GET', `/api/3/contacts?${query}`)).body.contacts.map((c: J) => c.email);
			expect(await q('email=LI.WEI@fabrikam.com')).toEqual(['li.wei@fabrikam.com']);
			expect(await q('email=li.wei')).toEqual([]);
			expect(await q('email_like=contoso')).toEqual(['maria.garcia@contoso.com']);
			expect(await q('search=Garcia')).toEqual(['maria.garcia@contoso.com']);
			expect(await q('search=fabrikam')).toEqual(['li.wei@fabrikam.com']);
			expect(await q('phone=%2B1%20206%20555')).toEqual(['maria.garcia@contoso.com']);
			expect(await q('phone=555%200111')).toEqual([]);
			expect(await q('ids[]=2&ids[]=4')).toEqual(['li.wei@fabrikam.com', 'priya.patel@litware.com']);
			expect(await q('ids=2,4&exclude=2')).toEqual(['priya.patel@litware.com']);
		});

		it('filters by tagid, listid (+status) and seriesid', async () => {
			const customer = (await ac.api('GET', '/api/3/tags?search=Customer')).body.tags[0].id;
			const tagged = await ac.api('GET', `/api/3/contacts?tagid=${customer}&limit=100`);
			expect(tagged.body.contacts.length).toBeGreaterThan(0);
			for (const c of tagged.body.contacts) {
				const tags = (await ac.api('GET', `/api/3/contacts/${c.id}/contactTags`)).body.contactTags.map((t: J) => t.tag);
				expect(tags).toContain(customer);
			}
			const unsubscribed = await ac.api('GET', '/api/3/contacts?listid=1&status=2&limit=100');
			for (const c of unsubscribed.body.contacts) {
				const lists = (await ac.api('GET', `/api/3/contacts/${c.id}/contactLists`)).body.contactLists;
				expect(lists.find((l: J) => l.list === '1').status).toBe('2');
			}
			expect(unsubscribed.body.contacts.length).toBeGreaterThan(0);
			const all = Number((await ac.api('GET', '/api/3/contacts?listid=1')).body.meta.total);
			const active = Number((await ac.api('GET', '/api/3/contacts?listid=1&status=1')).body.meta.total);
			expect(active + unsubscribed.body.contacts.length).toBe(all);
			const webinar = await ac.api('GET', '/api/3/contacts?seriesid=3');
			expect(webinar.body.contacts.map((c: J) => c.id)).toEqual(['6', '7', '11']);
		});

		it('orders by id, email, first_name, last_name and cdate, in query-string order', async () => {
			const ids = async (query: string) => (await ac.api('GET', `/api/3/contacts?limit=100&${query}`)).body.contacts.map((c: J) => c.id);
			expect((await ids('orders[id]=DESC')).slice(0, 3)).toEqual(['25', '24', '23']);
			const byEmail = (await ac.api('GET', '/api/3/contacts?limit=100&orders[email]=ASC')).body.contacts.map((c: J) => c.email);
			expect(byEmail).toEqual([...byEmail].sort());
			const byLast = (await ac.api('GET', '/api/3/contacts?limit=100&orders[last_name]=DESC')).body.contacts.map((c: J) => c.lastName.toLowerCase());
			expect(byLast).toEqual([...byLast].sort().reverse());
			expect(await ids('orders[cdate]=ASC')).toEqual(await ids('orders[id]=ASC'));
			const byFirstThenId = (await ac.api('GET', '/api/3/contacts?limit=100&orders[first_name]=ASC&orders[id]=DESC')).body.contacts;
			expect(byFirstThenId[0].firstName).toBe('Amelia');
		});

		it('keyset pages with orders[id]=ASC and id_greater / id_less', async () => {
			const page = await ac.api('GET', '/api/3/contacts?orders[id]=ASC&id_greater=20&limit=3');
			expect(page.body.contacts.map((c: J) => c.id)).toEqual(['21', '22', '23']);
			expect(page.body.meta.total).toBe('5');
			const less = await ac.api('GET', '/api/3/contacts?orders[id]=DESC&id_less=4');
			expect(less.body.contacts.map((c: J) => c.id)).toEqual(['3', '2', '1']);
		});

		it('filters on created/updated dates given as ISO with or without offset, or account-time "YYYY-MM-DD HH:MM:SS", inclusively', async () => {
			const contact = (await ac.api('GET', '/api/3/contacts/7')).body.contact;
			const udate: string = contact.udate; // e.g. 2025-01-14T10:12:00-05:00
			const local = udate.slice(0, 19).replace('T', ' ');
			const utc = new Date(udate).toISOString();
			for (const value of [udate, local, utc, udate.slice(0, 19)]) {
				const after = await ac.api('GET', `/api/3/contacts?filters[updated_after]=${encodeURIComponent(value)}&limit=100`);
				const before = await ac.api('GET', `/api/3/contacts?filters[updated_before]=${encodeURIComponent(value)}&limit=100`);
				expect(after.body.contacts.every((c: J) => c.udate >= udate)).toBe(true);
				expect(after.body.contacts.map((c: J) => c.id)).toContain('7');
				expect(before.body.contacts.map((c: J) => c.id)).toContain('7');
				expect(Number(after.body.meta.total) + Number(before.body.meta.total)).toBe(25 + 1);
			}
			await ac.control('PUT', '/limits', { dateFilterInclusive: false });
			const strict = await ac.api('GET', `/api/3/contacts?filters[updated_after]=${encodeURIComponent(udate)}&limit=100`);
			expect(strict.body.contacts.map((c: J) => c.id)).not.toContain('7');
			const created = await ac.api('GET', '/api/3/contacts?filters[created_after]=2025-01-20&filters[created_before]=2025-01-22');
			expect(created.body.contacts.map((c: J) => c.cdate.slice(0, 10))).toEqual(['2025-01-20', '2025-01-21']);
			expect((await ac.api('GET', '/api/3/contacts?filters[updated_after]=yesterday')).status).toBe(400);
		});

		it('sees changes through filters[updated_after] after the clock moves', async () => {
			ac.clock.set(Date.parse('2026-03-01T12:00:00Z'));
			const mark = '2026-03-01T07:00:00-05:00';
			expect((await ac.api('GET', `/api/3/contacts?filters[updated_after]=${encodeURIComponent(mark)}`)).body.meta.total).toBe('0');
			await ac.api('PUT', '/api/3/contacts/5', { contact: { lastName: 'Berg-Olsen' } });
			const changed = await ac.api('GET', `/api/3/contacts?filters[updated_after]=${encodeURIComponent(mark)}`);
			expect(changed.body.contacts.map((c: J) => c.id)).toEqual(['5']);
			expect(changed.body.contacts[0].udate).toBe('2026-03-01T07:00:00-05:00');
		});
	});

	it('prints timestamps in the configured account offset', async () => {
		await ac.control('PUT', '/limits', { timezoneOffset: '+02:00' });
		const c = (await ac.api('GET', '/api/3/contacts/1')).body.contact;
		expect(c.cdate).toBe('2025-01-08T16:00:00+02:00');
	});
});
