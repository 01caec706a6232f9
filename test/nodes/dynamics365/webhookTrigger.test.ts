/**
 * The Dynamics 365 Trigger's Dataverse Webhook mode through n8n's HookContext and WebhookContext against the sandbox:
 * publishing registers a service endpoint and one step per event, Dataverse's calls become items (only with the
 * secret header, not for the connection's own writes, not while Global Sync pauses Dynamics → ActiveCampaign),
 * unpublishing removes the registration.
 */
import type { IDataObject } from 'n8n-workflow';

import { CRED, credentialsFor, setupD365, type D365Test } from './helpers';
import { CALLER_CHECK_HEADER } from '../../../nodes/Dynamics365/helpers/webhook';
import type { DataverseDelivery } from '../../sandbox/dataverse/webhooks';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365({ seed: 'empty' });
});
afterAll(async () => await t.close());

const NAME = 'When Dynamics changes';
const spec = (parameters: IDataObject) => ({ type: 'dynamics365Trigger', name: NAME, parameters: parameters as never, credentials: [CRED] });
const instant = { events: ['contact.created', 'contact.updated', 'account.deleted'], mode: 'webhook', webhookOptions: {} };

const sim = () => t.sandbox.d365.simulator;
const rows = (table: string) => [...sim().engine.store.rows(table).values()];

/** The secret the endpoint sends (write-only through the API; read here from the sandbox's store). */
function registeredSecret(): string {
	const endpoint = rows('serviceendpoint')[0];
	return /value="([^"]+)"/.exec(String(endpoint.values.authvalue))![1];
}

/** Dataverse's calls since `from`, delivered to the trigger's webhook() with the given secret header. */
async function deliver(from: number, secret = registeredSecret()): Promise<{ items: IDataObject[]; calls: DataverseDelivery[] }> {
	await sim().waitForWebhooks();
	const calls = sim().webhookDeliveries().slice(from);
	const items: IDataObject[] = [];
	for (const call of calls) {
		const answer = await t.harness.webhook(spec(instant), { body: call.body, headers: { [CALLER_CHECK_HEADER]: secret, 'content-type': 'application/json' } });
		for (const item of answer.workflowData?.[0] ?? []) items.push(item.json);
	}
	return { items, calls };
}

it('publishing registers one endpoint (contract 8, Http Header) and a step per event; the check finds it', async () => {
	expect(await t.harness.webhookMethod(spec(instant), 'checkExists')).toBe(false);
	expect(await t.harness.webhookMethod(spec(instant), 'create')).toBe(true);
	const [endpoint] = rows('serviceendpoint');
	expect(endpoint.values).toMatchObject({ contract: 8, authtype: 5, url: expect.stringMatching(/^http:\/\/localhost:5678\/webhook\/.+\/dataverse$/) });
	const steps = rows('sdkmessageprocessingstep');
	expect(steps.map((s) => s.values.name).sort()).toEqual(
		[`Create of contact`, `Delete of account`, `Update of contact`].map((m) => `n8n test-workflow ${NAME} — ${m}`).sort(),
	);
	expect(steps.every((s) => s.values.stage === 40 && s.values.mode === 1)).toBe(true);
	// The workflow keeps the secret's digest, never the secret.
	const saved = JSON.stringify(t.harness.savedStatic());
	expect(saved).not.toContain(registeredSecret());
	expect(await t.harness.webhookMethod(spec(instant), 'checkExists')).toBe(true);
});

it("a person's change becomes one item; the connection's own write and a call without the secret start nothing", async () => {
	const from = sim().webhookDeliveries().length;
	const person = await t.control<IDataObject>('POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'ann.lee@example.org' });
	// The connection's own write (what the sync writes): Dataverse calls, the trigger leaves it out.
	await t.run({ resource: 'contact', operation: 'update', recordId: String(person.contactid), dataMode: 'autoMap', options: {} }, [{ lastname: 'Leigh' }]);
	expect(rows('contact')[0].values.lastname).toBe('Leigh');
	await t.control('PATCH', `/ui/contacts/${String(person.contactid)}`, { telephone1: '+1 555 0100' });
	const { items, calls } = await deliver(from);
	expect(calls.map((c) => c.message)).toEqual(['Create', 'Update', 'Update']);
	expect(items).toEqual([
		expect.objectContaining({ event: 'created', entity: 'contact', id: person.contactid, columns: expect.objectContaining({ emailaddress1: 'ann.lee@example.org' }) }),
		expect.objectContaining({ event: 'updated', entity: 'contact', id: person.contactid, columns: expect.objectContaining({ telephone1: '+1 555 0100' }) }),
	]);
	expect(String(items[1].changedAt)).toMatch(/^\d{4}-\d\d-\d\dT/);

	const answered: { status?: number; body?: unknown } = {};
	const forged = await t.harness.webhook(spec(instant), { body: calls[0].body, headers: { [CALLER_CHECK_HEADER]: 'guess' } }, answered);
	expect(forged.workflowData).toBeUndefined();
	expect(answered.status).toBe(403);
});

it('a deleted account arrives as a delete; Global Sync paused answers and starts nothing', async () => {
	const account = await t.control<IDataObject>('POST', '/ui/accounts', { name: 'Contoso' });
	let from = sim().webhookDeliveries().length;
	await t.control('DELETE', `/ui/accounts/${String(account.accountid)}`);
	expect((await deliver(from)).items).toEqual([expect.objectContaining({ event: 'deleted', entity: 'account', id: account.accountid })]);

	t.harness.setCredentials(CRED, credentialsFor(t.url, { globalSync: 'pauseToActiveCampaign' }));
	try {
		from = sim().webhookDeliveries().length;
		await t.control('POST', '/ui/contacts', { lastname: 'Paused' });
		const { items, calls } = await deliver(from);
		expect(calls).toHaveLength(1);
		expect(items).toEqual([]);
	} finally {
		t.harness.setCredentials(CRED, credentialsFor(t.url));
	}
});

it('unpublishing removes the endpoint and its steps; a second removal is fine', async () => {
	expect(await t.harness.webhookMethod(spec(instant), 'delete')).toBe(true);
	expect(rows('serviceendpoint')).toEqual([]);
	expect(rows('sdkmessageprocessingstep')).toEqual([]);
	expect(await t.harness.webhookMethod(spec(instant), 'delete')).toBe(true);
	expect(await t.harness.webhookMethod(spec(instant), 'checkExists')).toBe(false);
});

it('a registration that fails half-way leaves nothing behind and says why', async () => {
	await t.control('POST', '/scripted-faults', { match: '^POST /api/data/v9.2/sdkmessageprocessingsteps', fault: 'error', status: 403, times: 5 });
	try {
		await expect(t.harness.webhookMethod(spec(instant), 'create')).rejects.toThrow(/403|Forbidden|privilege/i);
	} finally {
		await t.control('DELETE', '/scripted-faults');
	}
	expect(rows('serviceendpoint')).toEqual([]);
	expect(rows('sdkmessageprocessingstep')).toEqual([]);
});

it('when removing a half-made registration fails too, the error says which endpoint to delete by hand', async () => {
	await t.control('POST', '/scripted-faults', { match: '^POST /api/data/v9.2/sdkmessageprocessingsteps', fault: 'error', status: 403, times: 5 });
	await t.control('POST', '/scripted-faults', { match: '^DELETE /api/data/v9.2/serviceendpoints', fault: 'error', status: 403, times: 5 });
	try {
		const failure = await t.harness.webhookMethod(spec(instant), 'create').then(
			() => undefined,
			(error: { description?: string }) => error,
		);
		const [endpoint] = rows('serviceendpoint');
		expect(failure?.description).toContain(`delete the service endpoint "n8n test-workflow ${NAME}" (id ${endpoint.id})`);
	} finally {
		await t.control('DELETE', '/scripted-faults');
	}
	await t.control('DELETE', `/ui/serviceendpoints/${rows('serviceendpoint')[0].id}`);
	expect(rows('serviceendpoint')).toEqual([]);
});
