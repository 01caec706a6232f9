/**
 * The command-bar web resource (docs/dynamics/sales-action-button.js) sends what the Sales Actions template checks:
 * the secret header, the record (id without braces), its email, and the signed-in Dynamics user; and it shows the
 * webhook's answer. The end-to-end suite runs the same file against the real template in n8n.
 */
import { loadSalesActionButton, type ButtonOptions } from '../../e2e/sales-action-button';

const SECRET = 'b'.repeat(64);
const URL = 'https://n8n.example.com/webhook/d365-sales-action';
const RECORD = '0F5C2D1E-3B4A-4C5D-8E6F-7A8B9C0D1E2F';
const USER = '7D1A2B3C-4D5E-4F60-8A9B-0C1D2E3F4A5B';

function setup(answer: { status: number; body: unknown }, overrides: Partial<ButtonOptions> = {}) {
	const calls: Array<{ url: string; headers: Record<string, string>; body: Record<string, unknown> }> = [];
	const fakeFetch = (async (url: string, init: { headers: Record<string, string>; body: string }) => {
		calls.push({ url, headers: init.headers, body: JSON.parse(init.body) as Record<string, unknown> });
		return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'Content-Type': 'application/json' } });
	}) as unknown as typeof fetch;
	const button = loadSalesActionButton({
		record: { entityName: 'lead', id: `{${RECORD}}`, email: 'sam.taylor@adatum.com' },
		user: { id: `{${USER}}`, name: 'Alex Allowed', email: 'alex@contoso.com' },
		settings: { acd365_SalesActionsUrl: URL, acd365_SalesActionsSecret: SECRET },
		fetch: fakeFetch,
		...overrides,
	});
	return { ...button, calls };
}

describe('sales action command-bar button', () => {
	it('posts the record, its email and the signed-in user with the secret header, and shows the result', async () => {
		const { api, formContext, alerts, calls } = setup({ status: 200, body: { ok: true, action: 'addToAutomation', contact: 'sam.taylor@adatum.com' } });
		const result = await api.addToAutomation(formContext, '2');
		expect(result).toMatchObject({ ok: true, status: 200 });
		expect(calls).toEqual([
			{
				url: URL,
				headers: { 'Content-Type': 'application/json', 'X-Sync-Secret': SECRET },
				body: {
					recordType: 'lead',
					recordId: RECORD.toLowerCase(),
					email: 'sam.taylor@adatum.com',
					action: 'addToAutomation',
					automation: '2',
					userId: USER.toLowerCase(),
					userEmail: 'alex@contoso.com',
					userName: 'Alex Allowed',
				},
			},
		]);
		expect(alerts).toEqual(['sam.taylor@adatum.com was added to the automation.']);
	});

	it("shows the webhook's reason when the user is not allowed, and never the secret", async () => {
		const reason = 'alex@contoso.com is not allowed to run sales actions; add them under Allowed Dynamics users';
		const { api, formContext, alerts, calls } = setup({ status: 403, body: { ok: false, error: reason } });
		const result = await api.sendCampaign(formContext, '1');
		expect(result).toMatchObject({ ok: false, status: 403, message: reason });
		expect(calls[0].body).toMatchObject({ action: 'sendCampaign', campaign: '1' });
		expect(alerts).toEqual([reason]);
		expect(JSON.stringify({ result, alerts })).not.toContain(SECRET);
	});

	it('calls nothing when a setting is missing or the form is not a lead or contact', async () => {
		const missing = setup({ status: 200, body: {} }, { settings: { acd365_SalesActionsUrl: URL } });
		expect(await missing.api.addToAutomation(missing.formContext, '2')).toMatchObject({ ok: false, status: 0 });
		expect(missing.alerts[0]).toMatch(/acd365_SalesActionsSecret does not exist/);
		expect(missing.calls).toEqual([]);

		const account = setup({ status: 200, body: {} }, { record: { entityName: 'account', id: RECORD } });
		expect(await account.api.addToAutomation(account.formContext, '2')).toMatchObject({ ok: false });
		expect(account.alerts).toEqual(['Sales actions run on leads and contacts only.']);
		expect(account.calls).toEqual([]);

		const noTarget = setup({ status: 200, body: {} });
		expect(await noTarget.api.addToAutomation(noTarget.formContext, '')).toMatchObject({ ok: false });
		expect(noTarget.alerts[0]).toMatch(/names no ActiveCampaign automation id/);
		expect(noTarget.calls).toEqual([]);
	});

	it('reports a failure without an answer body by its HTTP status', async () => {
		const { api, formContext, alerts } = setup({ status: 502, body: 'not json' });
		expect(await api.addToAutomation(formContext, '2')).toMatchObject({ ok: false, status: 502 });
		expect(alerts[0]).toMatch(/failed|HTTP 502/);
	});
});
