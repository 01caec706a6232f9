import { startAc, startReceiver, type AcHarness, type J } from './testkit';

function contacts(n: number, prefix = 'bulk') {
	return Array.from({ length: n }, (_, i) => ({ email: `${prefix}.${i}@example.com`, first_name: 'Bulk', last_name: String(i) }));
}

describe('ActiveCampaign simulator: bulk import', () => {
	let ac: AcHarness;
	beforeAll(async () => {
		ac = await startAc();
	});
	afterAll(() => ac.close());
	beforeEach(() =>
		ac.control('POST', '/reset', {
			settings: { requestsPerSecond: 100000, bulkImportDelayMs: 3_600_000, bulkImportActiveMs: 3_600_000, bulkImportStatusFalseMs: 150 },
		}),
	);

	const info = async (batchId: string) => (await ac.api('GET', `/api/3/import/info?batchId=${batchId}`)).body;

	it('queues, then reports false → waiting → active → completed with success ids and failed emails', async () => {
		const res = await ac.api('POST', '/api/3/import/bulk_import', {
			contacts: [
				{
					email: 'jane.doe@example.com',
					first_name: 'Jane',
					last_name: 'Doe',
					phone: '123-456-7890',
					customer_acct_name: 'Doe Industries',
					tags: ['Imported', 'VIP'],
					fields: [
						{ id: 1, value: 'Website' },
						{ id: 2, value: '||CRM||Analytics||' },
					],
					subscribe: [{ listid: 1 }],
					unsubscribe: [{ listid: 2 }],
				},
				{ email: 'maria.garcia@contoso.com', first_name: 'María', tags: ['Imported'] },
				{ email: 'bad.field@example.com', fields: [{ id: 999, value: 'x' }] },
			],
		});
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ Success: 1, queued_contacts: 3, message: 'Contact import queued' });
		const batchId = res.body.batchId;
		expect(batchId).toMatch(/^[0-9a-f-]{36}$/);

		// The phases follow the sandbox clock (the real-time timers are far behind: an hour's delay).
		const seen: Array<string | false> = [(await info(batchId)).status];
		ac.clock.advance(300);
		seen.push((await info(batchId)).status);
		ac.clock.advance(3_600_000);
		seen.push((await info(batchId)).status);
		ac.clock.advance(3_600_000);
		const done = await info(batchId);
		seen.push(done.status);
		expect(seen).toEqual([false, 'waiting', 'active', 'completed']);
		expect(done.success).toHaveLength(2);
		for (const id of done.success) expect(typeof id).toBe('string');
		expect(done.failure).toEqual(['bad.field@example.com']);

		const jane = (await ac.control('GET', '/state/contacts/jane.doe@example.com')).body;
		expect(String(jane.contact.id)).toBe(done.success[0]);
		expect(jane.contact).toMatchObject({ firstName: 'Jane', lastName: 'Doe', phone: '123-456-7890' });
		expect(jane.tags).toEqual(['Imported', 'VIP']);
		expect(jane.fields).toMatchObject({ LEAD_SOURCE: 'Website', INTERESTS: '||CRM||Analytics||' });
		expect(jane.lists).toEqual([
			{ list: '1', name: 'Newsletter', status: 1 },
			{ list: '2', name: 'Customers', status: 2 },
		]);
		expect(jane.account).toMatchObject({ name: 'Doe Industries' });
		const maria = (await ac.control('GET', '/state/contacts/1')).body;
		expect(maria.contact.firstName).toBe('María');
		expect(maria.tags).toContain('Imported');
		expect(done.success[1]).toBe('1');
		expect((await ac.api('GET', '/api/3/tags?search=Imported')).body.meta.total).toBe('1');
	});

	it('never fires webhooks for imported changes', async () => {
		const receiver = await startReceiver();
		try {
			await ac.api('POST', '/api/3/webhooks', {
				webhook: { name: 'all', url: receiver.url, events: ['subscribe', 'update', 'contact_tag_added', 'account_add'], sources: ['public', 'admin', 'api', 'system'] },
			});
			const res = await ac.api('POST', '/api/3/import/bulk_import', {
				contacts: [
					{ email: 'quiet.1@example.com', tags: ['T'], subscribe: [{ listid: 1 }], customer_acct_name: 'Quiet Co' },
					{ email: 'li.wei@fabrikam.com', last_name: 'Wei-Chen' },
				],
			});
			ac.sim.flushImports();
			expect((await info(res.body.batchId)).status).toBe('completed');
			await ac.sim.waitForWebhooks();
			expect(receiver.requests).toHaveLength(0);
			const log = (await ac.control('GET', '/state/webhookDeliveries?wait=1')).body;
			expect(log.deliveries).toHaveLength(0);
			expect(log.suppressed.length).toBeGreaterThan(0);
			expect(log.suppressed.every((s: J) => s.source === 'import')).toBe(true);
		} finally {
			await receiver.close();
		}
	});

	it('rejects invalid contacts with 400 and failureReasons, without queueing', async () => {
		const res = await ac.api('POST', '/api/3/import/bulk_import', {
			contacts: [{ email: 'ok@example.com' }, { email: 'invalid.email@' }, { first_name: 'no email' }],
		});
		expect(res.status).toBe(400);
		expect(res.body.success).toBe(0);
		expect(res.body.message).toMatch(/did not pass validation.*not queued/);
		expect(res.body.failureReasons).toEqual([
			{ contact: 1, failureReason: "Field 'email' incorrect format" },
			{ contact: 2, failureReason: "Field 'email' incorrect format" },
		]);
		expect((await ac.api('GET', '/api/3/import/bulk_import')).body).toEqual({ outstanding: [], recentlyCompleted: [] });
	});

	it('refuses more than 250 contacts and payloads over 399,999 bytes', async () => {
		const tooMany = await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(251) });
		expect(tooMany.status).toBe(400);
		expect(tooMany.body.success).toBe(0);
		expect((await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(250) })).status).toBe(200);
		const big = contacts(200).map((c) => ({ ...c, fields: [{ id: 6, value: 'x'.repeat(2000) }] }));
		const tooBig = await ac.api('POST', '/api/3/import/bulk_import', { contacts: big });
		expect(tooBig.status).toBe(400);
		expect(tooBig.body.message).toBe('Payload too large.');
		await ac.control('PUT', '/limits', { bulkImportOversizeStatus: 413 });
		expect((await ac.api('POST', '/api/3/import/bulk_import', { contacts: big })).status).toBe(413);
	});

	it('limits multi-contact requests per minute with a 400 "Rate limit exceeded."', async () => {
		await ac.control('PUT', '/limits', { bulkImportPerMinute: 3 });
		for (let i = 0; i < 3; i++) expect((await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(2, `m${i}`) })).status).toBe(200);
		const limited = await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(2, 'm9') });
		expect(limited.status).toBe(400);
		expect(limited.body).toEqual({
			success: 0,
			message: 'Rate limit exceeded.',
			failureReasons: ['Up to 3 imports may be requested per minute.Please batch contacts into larger requests, or retry this request in a minute.'],
		});
		// Single-contact requests have their own budget.
		expect((await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(1, 's') })).status).toBe(200);
	});

	it('limits single-contact requests to 20 per minute by default', async () => {
		for (let i = 0; i < 20; i++) expect((await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(1, `one${i}`) })).status).toBe(200);
		const limited = await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(1, 'one-more') });
		expect(limited.status).toBe(400);
		expect(limited.body.message).toBe('Rate limit exceeded.');
	});

	it('summarises outstanding and recently completed imports by day, and needs a batchId for /import/info', async () => {
		await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(3, 'a') });
		await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(2, 'b') });
		const outstanding = (await ac.api('GET', '/api/3/import/bulk_import')).body;
		expect(outstanding.outstanding).toEqual([{ forDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), batches: '2', contacts: '5' }]);
		ac.sim.flushImports();
		const after = (await ac.api('GET', '/api/3/import/bulk_import')).body;
		expect(after.outstanding).toEqual([]);
		expect(after.recentlyCompleted[0]).toMatchObject({ batches: '2', contacts: '5' });
		const missing = await ac.api('GET', '/api/3/import/info');
		expect(missing.status).toBe(400);
		expect(missing.body).toEqual({ success: 0, message: "'batchId' is a required field." });
		expect((await ac.api('GET', '/api/3/import/info?batchId=nope')).status).toBe(404);
	});

	it('draws on the 5 rps account budget (configurable)', async () => {
		await ac.control('PUT', '/limits', { requestsPerSecond: 1, burst: 1 });
		expect((await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(2, 'r1') })).status).toBe(200);
		expect((await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(2, 'r2') })).status).toBe(429);
		await ac.control('PUT', '/limits', { bulkImportCountsTowardRps: false });
		expect((await ac.api('POST', '/api/3/import/bulk_import', { contacts: contacts(2, 'r3') })).status).toBe(200);
	});

	it('posts to the callback URL when the import completes', async () => {
		const receiver = await startReceiver();
		try {
			const res = await ac.api('POST', '/api/3/import/bulk_import', {
				contacts: contacts(2, 'cb'),
				callback: { url: receiver.url, requestType: 'POST', detailed_results: 'true', params: [{ key: 'job', value: '42' }], headers: [{ key: 'X-Job', value: '42' }] },
			});
			ac.sim.flushImports();
			const [request] = await receiver.waitFor(1);
			expect(request.form.get('job')).toBe('42');
			expect(request.form.get('batchId')).toBe(res.body.batchId);
			expect(request.form.get('success')).toBe('2');
			expect(request.headers['x-job']).toBe('42');
		} finally {
			await receiver.close();
		}
	});
});
