import { startHarness, type Harness } from './testkit';

describe('Dataverse simulator: scripted faults on chosen requests', () => {
	let h: Harness;
	beforeAll(async () => {
		h = await startHarness('empty');
	});
	afterAll(() => h.close());
	beforeEach(async () => {
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
	});

	it('loses the answer of a request after applying it (the connection closes), once', async () => {
		const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
		await h.control('POST', '/scripted-faults', { match: '^POST /api/data/v9.2/contacts$', fault: 'lose' });
		await expect(h.call('POST', 'contacts', { body: { contactid: id, lastname: 'Lost answer' } })).rejects.toThrow();
		// The create was applied: the row exists, and sending it again is a duplicate of its own id.
		expect((await h.control('GET', `/state/contacts/${id}`)).json.lastname).toBe('Lost answer');
		const again = await h.call('POST', 'contacts', { body: { contactid: id, lastname: 'Lost answer' } });
		expect(again.status).toBe(412);
		expect(again.json.error.code).toBe('0x80040237');
		expect((await h.control('GET', '/scripted-faults')).json.value[0]).toMatchObject({ hits: 1, remaining: 0 });
	});

	it('throttles matching requests with the given Retry-After without running them, then lets them through', async () => {
		const date = new Date(Date.now() + 5000).toUTCString();
		await h.control('POST', '/scripted-faults', { match: 'PicklistAttributeMetadata', fault: 'throttle', retryAfter: date, times: 2 });
		const path = "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName";
		for (let i = 0; i < 2; i++) {
			const r = await h.call('GET', path);
			expect(r.status).toBe(429);
			expect(r.headers.get('retry-after')).toBe(date);
			expect(r.json.error.code).toBe('0x80072322');
		}
		expect((await h.call('GET', path)).status).toBe(200);
		// Requests that do not match are untouched.
		expect((await h.call('GET', "EntityDefinitions(LogicalName='contact')?$select=LogicalName")).status).toBe(200);
	});

	it('answers a server error without running the request; reset clears the rules', async () => {
		await h.control('POST', '/scripted-faults', { match: '^POST /api/data/v9.2/accounts', fault: 'error', status: 502, times: 5 });
		const r = await h.call('POST', 'accounts', { body: { name: 'Not created' } });
		expect(r.status).toBe(502);
		expect(r.headers.get('retry-after')).toBeNull();
		expect((await h.control('GET', '/state/accounts')).json.count).toBe(0);
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
		expect((await h.call('POST', 'accounts', { body: { name: 'Created' } })).status).toBe(204);
		await h.control('POST', '/scripted-faults', { match: '^GET /api/data/v9.2/accounts', fault: 'error', retryAfter: '7' });
		const unavailable = await h.call('GET', 'accounts');
		expect(unavailable.status).toBe(503);
		expect(unavailable.headers.get('retry-after')).toBe('7');
		expect((await h.control('POST', '/scripted-faults', { match: '(', fault: 'lose' })).status).toBe(400);
	});

	it('echoes the caller\'s access token (without "Bearer") in the error message when asked to', async () => {
		await h.control('POST', '/scripted-faults', { match: '^GET /api/data/v9.2/contacts', fault: 'error', status: 400, echoToken: true });
		const r = await h.call('GET', 'contacts');
		expect(r.status).toBe(400);
		expect(r.json.error.message).toBe(`The request was rejected (status 400). Credential presented: ${h.token}`);
		expect(r.json.error.message).not.toMatch(/Bearer/);
		expect((await h.call('GET', 'contacts')).status).toBe(200);
	});
});
