import { startAc, startReceiver, type AcHarness, type Receiver, type J } from './testkit';

const ALL_SOURCES = ['public', 'admin', 'api', 'system'];

describe('ActiveCampaign simulator: webhooks', () => {
	let ac: AcHarness;
	let receiver: Receiver;
	beforeAll(async () => {
		ac = await startAc();
	});
	afterAll(() => ac.close());
	beforeEach(async () => {
		await ac.control('POST', '/reset', { settings: { requestsPerSecond: 100000 } });
		receiver = await startReceiver();
	});
	afterEach(async () => {
		await ac.sim.waitForWebhooks();
		await receiver.close();
	});

	const hook = (events: string[], sources = ALL_SOURCES, extra: Record<string, unknown> = {}) =>
		ac.api('POST', '/api/3/webhooks', { webhook: { name: `hook ${events.join(',')}`, url: receiver.url, events, sources, ...extra } });

	it('lists exactly the documented webhook events', async () => {
		const res = await ac.api('GET', '/api/3/webhook/events');
		expect(res.body).toEqual({
			webhookEvents: [
				'bounce',
				'click',
				'contact_tag_added',
				'contact_tag_removed',
				'deal_add',
				'deal_note_add',
				'deal_pipeline_add',
				'deal_stage_add',
				'deal_task_add',
				'deal_task_complete',
				'deal_tasktype_add',
				'deal_update',
				'forward',
				'list_add',
				'open',
				'reply',
				'sent',
				'share',
				'sms_reply',
				'sms_sent',
				'sms_unsub',
				'subscribe',
				'subscriber_note',
				'unsubscribe',
				'update',
			],
			meta: { total: 25 },
		});
	});

	it('creates, lists with filters, gets, updates and deletes webhooks', async () => {
		const created = await hook(['subscribe', 'unsubscribe'], ['public', 'system']);
		expect(created.status).toBe(201);
		expect(created.body.webhook).toMatchObject({ listid: '0', url: receiver.url, events: ['subscribe', 'unsubscribe'], sources: ['public', 'system'], links: [], id: '1' });
		await hook(['update'], ['admin'], { listid: 2, name: 'Second' });
		expect((await ac.api('GET', '/api/3/webhooks')).body.meta.total).toBe('2');
		expect((await ac.api('GET', '/api/3/webhooks?filters[name]=Second')).body.webhooks.map((w: J) => w.id)).toEqual(['2']);
		expect((await ac.api('GET', '/api/3/webhooks?filters[listid]=2')).body.webhooks).toHaveLength(1);
		expect((await ac.api('GET', `/api/3/webhooks?filters[url]=${encodeURIComponent(receiver.url)}`)).body.webhooks).toHaveLength(2);
		const put = await ac.api('PUT', '/api/3/webhooks/1', { webhook: { events: ['update'] } });
		expect(put.body.webhook.events).toEqual(['update']);
		expect((await ac.api('DELETE', '/api/3/webhooks/1')).body).toEqual({});
		expect((await ac.api('GET', '/api/3/webhooks/1')).status).toBe(404);
	});

	it('validates webhook attributes (required fields, known events and sources, https only on 443)', async () => {
		const missing = await ac.api('POST', '/api/3/webhooks', { webhook: { name: 'x', url: receiver.url, events: ['update'] } });
		expect(missing.status).toBe(422);
		expect((await hook(['made_up_event'])).status).toBe(422);
		expect((await hook(['update'], ['somewhere'])).status).toBe(422);
		const port = await ac.api('POST', '/api/3/webhooks', { webhook: { name: 'x', url: 'https://example.com:8443/hook', events: ['update'], sources: ['api'] } });
		expect(port.status).toBe(422);
		expect((await ac.api('POST', '/api/3/webhooks', { webhook: { name: 'x', url: 'https://example.com/hook', events: ['account_update'], sources: ['api'] } })).status).toBe(201);
	});

	it('posts an urlencoded PHP-bracket payload once for an API-originated contact update', async () => {
		await hook(['update'], ['api']);
		const res = await ac.api('PUT', '/api/3/contacts/2', { contact: { firstName: 'Lee', fieldValues: [{ field: 10, value: 'Buyer' }] } });
		expect(res.status).toBe(200);
		const [req] = await receiver.waitFor(1);
		expect(req.method).toBe('POST');
		expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
		const f = req.form;
		expect(f.get('type')).toBe('update');
		expect(f.get('initiated_from')).toBe('api');
		expect(f.get('initiated_by')).toBe('api');
		expect(f.get('date_time')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-05:00$/);
		expect(f.get('contact[id]')).toBe('2');
		expect(f.get('contact[email]')).toBe('li.wei@fabrikam.com');
		expect(f.get('contact[first_name]')).toBe('Lee');
		expect(f.get('contact[fields][job_title]')).toBe('Buyer');
		expect(f.get('contact[tags]')).toBe('Prospect, VIP, Webinar Attendee');
		expect(f.get('contact[orgname]')).toBe('Fabrikam Inc');
		expect(req.body).toContain('contact%5Bemail%5D=li.wei%40fabrikam.com');
		await ac.sim.waitForWebhooks();
		expect(receiver.requests).toHaveLength(1);
		const log = (await ac.control('GET', '/state/webhookDeliveries?wait=1')).body.deliveries;
		expect(log).toHaveLength(1);
		expect(log[0]).toMatchObject({ webhookId: '1', type: 'update', source: 'api', status: 200 });
	});

	it('honours sources: API changes reach api hooks, "UI" edits through the control endpoints reach admin hooks', async () => {
		await hook(['update'], ['admin']);
		await ac.api('PUT', '/api/3/contacts/3', { contact: { lastName: 'Taylor-API' } });
		await ac.sim.waitForWebhooks();
		expect(receiver.requests).toHaveLength(0);
		const ui = await ac.control('PATCH', '/ui/contacts/3', { lastName: 'Taylor-UI', fieldValues: [{ perstag: 'NOTES', value: 'Edited in the UI' }] });
		expect(ui.status).toBe(200);
		const [req] = await receiver.waitFor(1);
		expect(req.form.get('initiated_from')).toBe('admin');
		expect(req.form.get('contact[last_name]')).toBe('Taylor-UI');
		expect(req.form.get('contact[fields][notes]')).toBe('Edited in the UI');
	});

	it('sends contact_tag_added / contact_tag_removed with the tag name', async () => {
		await hook(['contact_tag_added', 'contact_tag_removed'], ['api']);
		const ct = await ac.api('POST', '/api/3/contactTags', { contactTag: { contact: 4, tag: 7 } });
		await ac.api('POST', '/api/3/contactTags', { contactTag: { contact: 4, tag: 7 } }); // already there: no event
		await ac.api('DELETE', `/api/3/contactTags/${ct.body.contactTag.id}`);
		const reqs = await receiver.waitFor(2);
		await ac.sim.waitForWebhooks();
		expect(reqs.map((r) => [r.form.get('type'), r.form.get('tag')])).toEqual([
			['contact_tag_added', '[D365: Contact]'],
			['contact_tag_removed', '[D365: Contact]'],
		]);
		expect(reqs[0].form.get('contact[tags]')).toContain('[D365: Contact]');
		expect(receiver.requests).toHaveLength(2);
	});

	it('sends subscribe/unsubscribe with the list id and applies the hook listid', async () => {
		await hook(['subscribe', 'unsubscribe'], ['api'], { listid: 2 });
		await ac.api('POST', '/api/3/contactLists', { contactList: { list: 1, contact: 3, status: 1 } });
		await ac.api('POST', '/api/3/contactLists', { contactList: { list: 2, contact: 3, status: 1 } });
		await ac.api('POST', '/api/3/contactLists', { contactList: { list: 2, contact: 3, status: 2 } });
		const reqs = await receiver.waitFor(2);
		await ac.sim.waitForWebhooks();
		expect(reqs.map((r) => [r.form.get('type'), r.form.get('list')])).toEqual([
			['subscribe', '2'],
			['unsubscribe', '2'],
		]);
	});

	it('fires subscribe with list 0 when a contact is created (configurable)', async () => {
		await hook(['subscribe'], ['api', 'admin']);
		await ac.api('POST', '/api/3/contact/sync', { contact: { email: 'hooked@example.com' } });
		await ac.control('POST', '/ui/contacts', { email: 'ui.created@example.com', firstName: 'Ui' });
		const reqs = await receiver.waitFor(2);
		expect(reqs.map((r) => [r.form.get('contact[email]'), r.form.get('initiated_from'), r.form.get('list')])).toEqual([
			['hooked@example.com', 'api', '0'],
			['ui.created@example.com', 'admin', '0'],
		]);
		await ac.control('PUT', '/limits', { contactCreateFiresSubscribe: false });
		await ac.api('POST', '/api/3/contacts', { contact: { email: 'silent@example.com' } });
		await ac.sim.waitForWebhooks();
		expect(receiver.requests).toHaveLength(2);
	});

	it('sends account_add / account_update with the account block', async () => {
		await hook(['account_add', 'account_update', 'account_contact_add'], ['api']);
		const created = await ac.api('POST', '/api/3/accounts', { account: { name: 'Hooked Co', accountUrl: 'https://hooked.example.com', fields: [{ customFieldId: 1, fieldValue: 'Retail' }] } });
		await ac.api('PUT', `/api/3/accounts/${created.body.account.id}`, { account: { name: 'Hooked Company' } });
		await ac.api('POST', '/api/3/accountContacts', { accountContact: { contact: 5, account: created.body.account.id } });
		const reqs = await receiver.waitFor(3);
		expect(reqs.map((r) => r.form.get('type'))).toEqual(['account_add', 'account_update', 'account_contact_add']);
		expect(reqs[0].form.get('account[name]')).toBe('Hooked Co');
		expect(reqs[0].form.get('account[fields][0][key]')).toBe('Industry');
		expect(reqs[0].form.get('account[fields][0][value]')).toBe('Retail');
		expect(reqs[1].form.get('account[name]')).toBe('Hooked Company');
		expect(reqs[2].form.get('contact[email]')).toBe('jonas.berg@northwind.com');
	});

	it('does not retry a failed delivery', async () => {
		await hook(['update'], ['api']);
		receiver.respondWith(500);
		await ac.api('PUT', '/api/3/contacts/2', { contact: { phone: '1' } });
		await receiver.waitFor(1);
		await ac.sim.waitForWebhooks();
		expect(receiver.requests).toHaveLength(1);
		expect(ac.sim.webhookDeliveries()[0].status).toBe(500);
	});

	it('deactivates a hook that answers 410', async () => {
		await hook(['update'], ['api']);
		receiver.respondWith(410);
		await ac.api('PUT', '/api/3/contacts/2', { contact: { phone: '1' } });
		await receiver.waitFor(1);
		await ac.sim.waitForWebhooks();
		receiver.respondWith(200);
		await ac.api('PUT', '/api/3/contacts/2', { contact: { phone: '2' } });
		await ac.sim.waitForWebhooks();
		expect(receiver.requests).toHaveLength(1);
		const state = (await ac.control('GET', '/state/webhooks')).body.webhooks;
		expect(state[0].active).toBe(false);
		expect(ac.sim.webhookDeliveries()[0].deactivatedHook).toBe(true);
	});

	it('does not hold the API response while a slow receiver answers', async () => {
		await hook(['update'], ['api']);
		// The receiver answers nothing until released: the API answers first, whenever the delivery is made.
		receiver.hold();
		const res = await ac.api('PUT', '/api/3/contacts/2', { contact: { phone: '3' } });
		expect(res.status).toBe(200);
		expect(receiver.answered()).toBe(0);
		await receiver.waitFor(1);
		receiver.release();
	});

	it('sends open and click events from engagement with the campaign and link blocks', async () => {
		await hook(['open', 'click'], ['public']);
		await ac.control('POST', '/engagement', { email: 'maria.garcia@contoso.com', type: 'click', campaignId: 1 });
		const [req] = await receiver.waitFor(1);
		expect(req.form.get('type')).toBe('click');
		expect(req.form.get('campaign[id]')).toBe('1');
		expect(req.form.get('campaign[message][subject]')).toBe("What's new this spring");
		expect(req.form.get('link[url]')).toBe('https://www.example.com/spring');
	});
});
