import { Clock } from '../core/clock';
import { createActiveCampaignSimulator } from './index';
import { startAc, type AcHarness, type J } from './testkit';

describe('ActiveCampaign simulator: seeds and control endpoints', () => {
	let ac: AcHarness;
	beforeAll(async () => {
		ac = await startAc();
	});
	afterAll(() => ac.close());
	beforeEach(() => ac.control('POST', '/reset', { settings: { requestsPerSecond: 100000 } }));

	it('seeds the demo data: shared people, accounts, catalogue, D365 tags created but not applied', async () => {
		const health = (await ac.control('GET', '/health')).body;
		expect(health).toMatchObject({ simulator: 'activecampaign', seed: 'demo', contacts: 25, accounts: 5, lists: 2, automations: 3 });
		for (const email of ['maria.garcia@contoso.com', 'li.wei@fabrikam.com', 'sam.taylor@adatum.com', 'priya.patel@litware.com', 'jonas.berg@northwind.com']) {
			expect((await ac.api('GET', `/api/3/contacts?email=${email}`)).body.meta.total).toBe('1');
		}
		const others = (await ac.api('GET', '/api/3/contacts?limit=100')).body.contacts.slice(5);
		expect(others.every((c: J) => c.email.endsWith('@example.com'))).toBe(true);
		expect((await ac.control('GET', '/state/contacts/li.wei@fabrikam.com')).body.account.name).toBe('Fabrikam Inc');
		const tags = (await ac.api('GET', '/api/3/tags?search=[D365')).body.tags;
		expect(tags).toHaveLength(4);
		for (const t of tags) expect((await ac.api('GET', `/api/3/contacts?tagid=${t.id}`)).body.meta.total).toBe('0');
	});

	it('is deterministic: two simulators seed identical data', () => {
		const a = createActiveCampaignSimulator(new Clock(), { seed: 'demo' });
		const b = createActiveCampaignSimulator(new Clock(), { seed: 'demo' });
		const dump = (s: typeof a) => JSON.stringify([...s.state.contacts.values()].map((c) => s.contactDetail(c.id)));
		expect(dump(a)).toBe(dump(b));
		a.seedBulk({ contacts: 50, withFieldValues: true, withTags: true });
		b.seedBulk({ contacts: 50, withFieldValues: true, withTags: true });
		expect(dump(a)).toBe(dump(b));
	});

	it('resets to the empty seed: catalogue only', async () => {
		await ac.control('POST', '/reset', { seed: 'empty' });
		const health = (await ac.control('GET', '/health')).body;
		expect(health).toMatchObject({ seed: 'empty', contacts: 0, accounts: 0, tags: 9, fields: 10, lists: 2, automations: 3 });
		expect((await ac.api('GET', '/api/3/contacts')).body).toMatchObject({ contacts: [], meta: { total: '0' } });
		expect((await ac.api('GET', '/api/3/accountCustomFieldMeta')).body.accountCustomFieldMeta).toHaveLength(4);
		await ac.control('POST', '/reset', { seed: 'demo' });
		expect((await ac.control('GET', '/health')).body.contacts).toBe(25);
	});

	it('reset restores the default limits (plus the settings the simulator was created with)', async () => {
		await ac.control('PUT', '/limits', { requestsPerSecond: 77, contactSyncUpdateStatus: 201, timezoneOffset: '+01:00' });
		await ac.control('POST', '/reset', {});
		// The harness creates the simulator with the rate limit off.
		expect((await ac.control('GET', '/limits')).body).toMatchObject({ requestsPerSecond: 100000, contactSyncUpdateStatus: 200, timezoneOffset: '-05:00' });
		const plain = createActiveCampaignSimulator(new Clock());
		plain.setLimits({ requestsPerSecond: 77 });
		await plain.reset({});
		expect(plain.getLimits()).toMatchObject({ requestsPerSecond: 5, burst: 5 });
	});

	it('bulk-seeds contacts through the control endpoint, with field values and tags', async () => {
		const res = await ac.control('POST', '/seed', { contacts: 500, withFieldValues: true, withTags: true, withLists: true });
		expect(res.body).toMatchObject({ ok: true, first: 26, last: 525, count: 500, totalContacts: 525 });
		const detail = (await ac.control('GET', '/state/contacts/300')).body;
		expect(Object.keys(detail.fields).sort()).toEqual(['ANNUAL_BUDGET', 'LEAD_SOURCE', 'SEGMENT']);
		expect((await ac.api('GET', '/api/3/contacts?limit=1')).body.meta.total).toBe('525');
	});

	it('reads state for free: contacts by email or id, accounts, imports, deliveries', async () => {
		const byEmail = (await ac.control('GET', '/state/contacts?email=MARIA.GARCIA@contoso.com')).body.contacts[0];
		expect(byEmail).toMatchObject({
			tags: ['Customer'],
			account: { name: 'Contoso Ltd', jobTitle: 'Head of Marketing' },
			lists: [
				{ list: '1', name: 'Newsletter', status: 1 },
				{ list: '2', name: 'Customers', status: 1 },
			],
		});
		expect(byEmail.fields.LEAD_SOURCE).toBe('Dynamics 365');
		expect(byEmail.automations[0]).toMatchObject({ name: 'Welcome Series', status: 2 });
		const list = (await ac.control('GET', '/state/contacts?limit=2')).body;
		expect(list.total).toBe(25);
		expect(list.contacts).toHaveLength(2);
		const accounts = (await ac.control('GET', '/state/accounts')).body.accounts;
		expect(accounts[0]).toMatchObject({ name: 'Contoso Ltd', contacts: ['1'] });
		expect(accounts[0].customFields.find((f: J) => f.label === 'Annual Revenue')).toMatchObject({ value: 1250000000, currency: 'usd' });
		expect((await ac.control('GET', '/state/imports')).body.imports).toEqual([]);
		expect((await ac.control('GET', '/state/webhookDeliveries')).body.deliveries).toEqual([]);
	});

	it('edits as a UI user: create and patch contacts (tags, lists, account), create and patch accounts', async () => {
		const created = await ac.control('POST', '/ui/contacts', {
			email: 'ui.user@example.com',
			firstName: 'Ui',
			fieldValues: [{ field: 'Lead Source', value: 'Referral' }],
			tags: ['VIP'],
			lists: [1],
			account: 'Contoso Ltd',
			jobTitle: 'Buyer',
		});
		expect(created.status).toBe(201);
		expect(created.body).toMatchObject({ tags: ['VIP'], account: { name: 'Contoso Ltd', jobTitle: 'Buyer' }, fields: { LEAD_SOURCE: 'Referral' } });
		const id = created.body.contact.id;
		const udate = created.body.contact.udate;
		ac.clock.advance(61_000);
		const patched = await ac.control('PATCH', `/ui/contacts/${id}`, { lastName: 'User', removeTags: ['VIP'], addTags: ['Customer'], unsubscribe: [1] });
		expect(patched.body).toMatchObject({ tags: ['Customer'], lists: [{ list: '1', name: 'Newsletter', status: 2 }] });
		expect(patched.body.contact.udate).not.toBe(udate);
		const account = await ac.control('POST', '/ui/accounts', { name: 'UI Account' });
		expect(account.status).toBe(201);
		const upd = await ac.control('PATCH', `/ui/accounts/${account.body.account.id}`, { fields: [{ label: 'Industry', value: 'Software' }] });
		expect(upd.body.account.fields).toEqual([{ customFieldId: 1, fieldValue: 'Software', accountId: account.body.account.id }]);
	});
});
