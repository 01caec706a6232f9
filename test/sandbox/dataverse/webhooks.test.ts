/**
 * Dataverse webhooks registered through the Web API alone (docs/dynamics/real-time-research.md): a service endpoint
 * (contract 8, Http Header authentication) and a step per message and table; the sandbox calls the URL after each
 * committed write with the RemoteExecutionContext.
 */
import { startReceiver, type Receiver } from '../activecampaign/testkit';
import { startHarness, type Harness } from './testkit';

let h: Harness;
let receiver: Receiver;
let receiverUrl: string;

/** The calls received since the test began, their bodies parsed. */
const received = {
	get calls() {
		return receiver.requests.map((r) => ({ headers: r.headers, body: JSON.parse(r.body) as Record<string, unknown> }));
	},
};

beforeAll(async () => {
	h = await startHarness('empty');
	receiver = await startReceiver();
	receiverUrl = receiver.url;
});
afterAll(async () => {
	await h.close();
	await receiver.close();
});
beforeEach(async () => {
	await h.control('POST', '/reset', { seed: 'empty' });
	h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
	receiver.requests.length = 0;
	receiver.respondWith(204);
});

const idOf = (entityId: string | null) => /\(([^)]+)\)$/.exec(entityId ?? '')![1];

async function idByName(set: string, filter: string): Promise<string> {
	const res = await h.call('GET', `${set}?$filter=${encodeURIComponent(filter)}`);
	expect(res.status).toBe(200);
	expect(res.json.value).toHaveLength(1);
	return res.json.value[0][set === 'sdkmessages' ? 'sdkmessageid' : 'sdkmessagefilterid'];
}

/** A webhook endpoint with a header secret, and a step for one message on one table. */
async function register(message: string, table: string, extra: Record<string, unknown> = {}): Promise<{ endpoint: string; step: string }> {
	const endpoint = await h.call('POST', 'serviceendpoints', {
		body: {
			name: 'n8n test hook',
			url: receiverUrl,
			contract: 8,
			authtype: 5,
			authvalue: '<settings><setting name="x-n8n-secret" value="s3cr&amp;t" /></settings>',
		},
	});
	expect(endpoint.status).toBe(204);
	const endpointId = idOf(endpoint.headers.get('odata-entityid'));
	const messageId = await idByName('sdkmessages', `name eq '${message}'`);
	const filterId = await idByName('sdkmessagefilters', `primaryobjecttypecode eq '${table}' and _sdkmessageid_value eq ${messageId}`);
	const step = await h.call('POST', 'sdkmessageprocessingsteps', {
		body: {
			name: `n8n: ${message} of ${table}`,
			stage: 40,
			mode: 1,
			rank: 1,
			supporteddeployment: 0,
			asyncautodelete: true,
			'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
			'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
			'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filterId})`,
			...extra,
		},
	});
	expect(step.status).toBe(204);
	return { endpoint: endpointId, step: idOf(step.headers.get('odata-entityid')) };
}

it('calls the endpoint after a Create with the RemoteExecutionContext, the x-ms-dynamics headers and the header secret', async () => {
	const { step } = await register('Create', 'contact');
	const created = await h.call('POST', 'contacts', { body: { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'ann@example.org' } });
	const contactId = idOf(created.headers.get('odata-entityid'));
	await h.sim.waitForWebhooks();
	expect(received.calls).toHaveLength(1);
	const [call] = received.calls;
	expect(call.headers['x-n8n-secret']).toBe('s3cr&t');
	expect(call.headers['x-ms-dynamics-entity-name']).toBe('contact');
	expect(call.headers['x-ms-dynamics-request-name']).toBe('Create');
	expect(call.headers['x-ms-correlation-request-id']).toBe(call.body.CorrelationId);
	expect(call.body).toMatchObject({ MessageName: 'Create', PrimaryEntityName: 'contact', PrimaryEntityId: contactId, Stage: 40, Mode: 1, Depth: 1 });
	expect(call.body.OwningExtension).toMatchObject({ Id: step, LogicalName: 'sdkmessageprocessingstep' });
	const whoAmI = (await h.call('GET', 'WhoAmI')).json.UserId;
	expect(call.body.UserId).toBe(whoAmI);
	const target = (call.body.InputParameters as Array<{ key: string; value: { Attributes: Array<{ key: string; value: unknown }>; LogicalName: string } }>)[0];
	expect(target.key).toBe('Target');
	expect(target.value.LogicalName).toBe('contact');
	expect(target.value.Attributes).toEqual(expect.arrayContaining([{ key: 'emailaddress1', value: 'ann@example.org' }]));
	expect(String(target.value.Attributes.find((a) => a.key === 'modifiedon')?.value)).toMatch(/^\/Date\(\d+\)\/$/);
});

it('runs an Update step only when a filtering attribute changed, and names the person who changed it', async () => {
	await register('Update', 'contact', { filteringattributes: 'firstname,telephone1' });
	const created = await h.control('POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Lee' });
	const id = created.json.contactid as string;
	await h.control('PATCH', `/ui/contacts/${id}`, { lastname: 'Leigh' });
	await h.control('PATCH', `/ui/contacts/${id}`, { telephone1: '+1 555 0100' });
	await h.sim.waitForWebhooks();
	expect(received.calls).toHaveLength(1);
	const attributes = ((received.calls[0].body.InputParameters as Array<{ value: { Attributes: Array<{ key: string }> } }>)[0].value.Attributes).map((a) => a.key);
	expect(attributes).toEqual(expect.arrayContaining(['contactid', 'telephone1', 'modifiedon', 'modifiedby']));
	expect(attributes).not.toContain('lastname');
	const users = (await h.control('GET', '/users')).json.value as Array<{ systemuserid: string; fullname: string }>;
	expect(received.calls[0].body.UserId).toBe(users.find((u) => u.fullname === 'Sales User')!.systemuserid);
});

it('a Delete step gets an EntityReference; a write rolled back in a change set calls nothing', async () => {
	await register('Delete', 'account');
	await register('Create', 'account');
	const id = (await h.control('POST', '/ui/accounts', { name: 'Contoso' })).json.accountid as string;
	await h.control('DELETE', `/ui/accounts/${id}`);
	await h.sim.waitForWebhooks();
	expect(received.calls.map((r) => r.body.MessageName)).toEqual(['Create', 'Delete']);
	expect((received.calls[1].body.InputParameters as Array<{ value: unknown }>)[0].value).toMatchObject({ Id: id, LogicalName: 'account' });
	receiver.requests.length = 0;
	// A change set whose second operation fails: the first create is undone, and no step runs for it.
	const boundary = 'batch_1';
	const changeset = 'changeset_1';
	const part = (n: number, body: string) =>
		[`--${changeset}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', `Content-ID: ${n}`, '', `POST ${h.api}/accounts HTTP/1.1`, 'Content-Type: application/json; type=entry', '', body].join('\r\n');
	const raw = `--${boundary}\r\nContent-Type: multipart/mixed; boundary=${changeset}\r\n\r\n${part(1, '{"name":"Fabrikam"}')}\r\n${part(2, '{"name":"x","nosuchcolumn":1}')}\r\n--${changeset}--\r\n--${boundary}--\r\n`;
	const batch = await h.call('POST', '$batch', { raw, headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}` } });
	expect(batch.text).toContain('HTTP/1.1 400 Bad Request');
	await h.sim.waitForWebhooks();
	expect(received.calls).toEqual([]);
	expect((await h.control('GET', '/state/accounts')).json.count).toBe(0);
});

it('the auth value cannot be read back; deleting the endpoint deletes its steps; 503 gets one more attempt', async () => {
	const { endpoint, step } = await register('Create', 'lead');
	const read = await h.call('GET', `serviceendpoints(${endpoint})`);
	expect(read.status).toBe(200);
	expect(read.json).toMatchObject({ contract: 8, authtype: 5, url: receiverUrl });
	expect(read.json).not.toHaveProperty('authvalue');
	const steps = await h.call('GET', `serviceendpoints(${endpoint})/serviceendpoint_sdkmessageprocessingstep?$select=name`);
	expect(steps.json.value.map((s: { sdkmessageprocessingstepid: string }) => s.sdkmessageprocessingstepid)).toEqual([step]);

	receiver.respondWith(503);
	await h.control('POST', '/ui/leads', { lastname: 'Ortiz', subject: 'Web lead' });
	await h.sim.waitForWebhooks();
	expect(received.calls).toHaveLength(2);
	expect(h.sim.webhookDeliveries().at(-1)).toMatchObject({ status: 503, attempts: 2 });

	expect((await h.call('DELETE', `serviceendpoints(${endpoint})`)).status).toBe(204);
	expect((await h.call('GET', `sdkmessageprocessingsteps(${step})`)).status).toBe(404);
	receiver.requests.length = 0;
	await h.control('POST', '/ui/leads', { lastname: 'Again', subject: 'Web lead' });
	await h.sim.waitForWebhooks();
	expect(received.calls).toEqual([]);
});

it('an auth value that is not <settings> XML makes the call fail without calling', async () => {
	const endpoint = await h.call('POST', 'serviceendpoints', { body: { name: 'bad', url: receiverUrl, contract: 8, authtype: 5, authvalue: 'Authorization: Basic abc' } });
	const endpointId = idOf(endpoint.headers.get('odata-entityid'));
	const messageId = await idByName('sdkmessages', "name eq 'Create'");
	const filterId = await idByName('sdkmessagefilters', `primaryobjecttypecode eq 'contact' and _sdkmessageid_value eq ${messageId}`);
	await h.call('POST', 'sdkmessageprocessingsteps', {
		body: {
			name: 'bad step',
			stage: 40,
			mode: 1,
			'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
			'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
			'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filterId})`,
		},
	});
	await h.control('POST', '/ui/contacts', { lastname: 'Lee' });
	await h.sim.waitForWebhooks();
	expect(received.calls).toEqual([]);
	expect(h.sim.webhookDeliveries().at(-1)?.error).toMatch(/invalid http headers in authValue/);
});
