import { startHarness, type Harness } from './testkit';

describe('Dataverse simulator: change tracking', () => {
	let h: Harness;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => h.close());
	beforeEach(async () => {
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
	});

	const track = { Prefer: 'odata.track-changes' };

	it('returns all rows and a delta link, then changed rows and $deletedEntity entries', async () => {
		const initial = await h.call('GET', 'accounts?$select=name,telephone1', { headers: track });
		expect(initial.status).toBe(200);
		expect(initial.headers.get('preference-applied')).toBe('odata.track-changes');
		expect(initial.json['@odata.context']).toBe(`${h.api}/$metadata#accounts(name,telephone1)`);
		expect(initial.json.value).toHaveLength(8);
		const deltaLink: string = initial.json['@odata.deltaLink'];
		expect(deltaLink).toMatch(new RegExp(`^${h.api}/accounts\\?\\$select=name,telephone1&\\$deltatoken=\\d+%21\\d{2}%2f\\d{2}%2f\\d{4}%20\\d{2}%3a\\d{2}%3a\\d{2}$`));

		const empty = await h.call('GET', deltaLink);
		expect(empty.json.value).toEqual([]);
		expect(empty.json['@odata.context']).toBe(`${h.api}/$metadata#accounts(name,telephone1)/$delta`);

		const created = await h.call('POST', 'accounts', { body: { name: 'Delta Co', telephone1: '555000' } });
		const newId = /\(([^)]+)\)/.exec(created.headers.get('odata-entityid')!)![1];
		const fabrikam = h.sim.demoIds['account:fabrikam'];
		await h.control('PATCH', `/ui/accounts/${fabrikam}`, { telephone1: '+1 416 555 9999' });
		const alpine = h.sim.demoIds['account:alpine'];
		expect((await h.call('DELETE', `accounts(${alpine})`)).status).toBe(204);
		// A record created and deleted between two reads still shows as deleted.
		const temp = await h.call('POST', 'accounts', { body: { name: 'Temp' } });
		await h.call('DELETE', temp.headers.get('odata-entityid')!);

		const delta = await h.call('GET', deltaLink);
		expect(delta.status).toBe(200);
		const value = delta.json.value as Array<Record<string, unknown>>;
		const changed = value.filter((v) => !v['@odata.context']);
		const deleted = value.filter((v) => v['@odata.context']);
		expect(changed.map((v) => v.name).sort()).toEqual(['Delta Co', 'Fabrikam Inc']);
		expect(changed.find((v) => v.accountid === fabrikam)).toMatchObject({ telephone1: '+1 416 555 9999', '@odata.etag': expect.stringMatching(/^W\/"\d+"$/) });
		expect(changed.find((v) => v.accountid === newId)).toBeDefined();
		expect(deleted).toEqual([
			{ '@odata.context': `${h.api}/$metadata#accounts/$deletedEntity`, id: alpine, reason: 'deleted' },
			expect.objectContaining({ reason: 'deleted' }),
		]);
		// Changed rows come before deletions.
		expect(value.findIndex((v) => v['@odata.context'])).toBe(changed.length);
		const count = await h.call('GET', `accounts/$count?${deltaLink.split('?')[1]}`);
		expect(count.text).toBe('4');
		// The new delta link starts after these changes.
		const next = await h.call('GET', delta.json['@odata.deltaLink']);
		expect(next.json.value).toEqual([]);
	});

	it('rejects $filter, $orderby, $expand and $top with the documented message', async () => {
		for (const option of ['$filter=name eq \'x\'', '$orderby=name', '$expand=primarycontactid', '$top=5']) {
			const r = await h.call('GET', `accounts?$select=name&${option}`, { headers: track });
			expect(r.status).toBe(400);
			const name = option.split('=')[0];
			expect(r.json.error.message).toBe(`The "${name}" query parameter isn't supported when Change Tracking is enabled.`);
		}
	});

	it('expires delta tokens after the configured days (sandbox clock)', async () => {
		const initial = await h.call('GET', 'contacts?$select=fullname', { headers: track });
		const link: string = initial.json['@odata.deltaLink'];
		await h.control('POST', '/clock', { advanceSeconds: 6 * 86400 });
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		expect((await h.call('GET', link)).status).toBe(200);
		await h.control('POST', '/clock', { advanceSeconds: 2 * 86400 });
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		const expired = await h.call('GET', link);
		expect(expired.status).toBe(400);
		expect(expired.json.error.message).toBe('Version stamp associated with the client has expired. Please perform a full sync.');
		await h.control('PUT', '/change-tracking', { expiryDays: 30 });
		expect((await h.call('GET', link)).status).toBe(200);
	});

	it('pages large initial and delta reads with nextLink, the delta link on the last page', async () => {
		await h.control('POST', '/seed', { leads: 120 });
		let r = await h.call('GET', 'leads?$select=fullname', { headers: { Prefer: 'odata.track-changes,odata.maxpagesize=50' } });
		let pages = 1;
		let rows = r.json.value.length;
		while (r.json['@odata.nextLink']) {
			expect(r.json['@odata.deltaLink']).toBeUndefined();
			r = await h.call('GET', r.json['@odata.nextLink'], { headers: { Prefer: 'odata.track-changes,odata.maxpagesize=50' } });
			rows += r.json.value.length;
			pages++;
		}
		expect(rows).toBe(135);
		expect(pages).toBe(3);
		const deltaLink = r.json['@odata.deltaLink'];
		await h.control('POST', '/seed', { leads: 70 });
		r = await h.call('GET', deltaLink, { headers: { Prefer: 'odata.maxpagesize=50' } });
		expect(r.json.value).toHaveLength(50);
		expect(r.json['@odata.nextLink']).toBeDefined();
		r = await h.call('GET', r.json['@odata.nextLink'], { headers: { Prefer: 'odata.maxpagesize=50' } });
		expect(r.json.value).toHaveLength(20);
		expect(r.json['@odata.deltaLink']).toBeDefined();
	});

	it('is a per-table flag: off for notes by default, switchable, reported in metadata', async () => {
		let r = await h.call('GET', 'annotations?$select=subject', { headers: track });
		expect(r.json['@odata.deltaLink']).toBeUndefined();
		r = await h.call('GET', 'EntityDefinitions?$select=LogicalName&$filter=ChangeTrackingEnabled eq true');
		expect(r.json.value.map((e: { LogicalName: string }) => e.LogicalName).sort()).toEqual(['account', 'contact', 'lead', 'opportunity']);
		await h.control('PUT', '/change-tracking', { tables: { annotation: true } });
		r = await h.call('GET', 'annotations?$select=subject', { headers: track });
		expect(r.json['@odata.deltaLink']).toBeDefined();
	});
});
