/**
 * Full Scan Every (Minutes) on ActiveCampaign's change reads, through the real Scheduled Sync template against the
 * sandbox: between two scans a changed contact the sync settled before costs no account link read, its account is
 * neither carried nor recorded, and the next scan carries an account change made meanwhile.
 */
import type { IDataObject } from 'n8n-workflow';

import { forceScans } from '../../model/runner';
import { runError, scheduledSync, startWorld, type World } from '../../model/world';

let world: World;
beforeAll(async () => {
	world = await startWorld();
});
afterAll(async () => await world.close());
beforeEach(async () => await world.reset());

const workflow = () => scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' }, { scanEveryMinutes: 60 });

async function cycle(template = workflow()) {
	const [run] = await world.runCycle(template);
	expect(runError(run)).toBeUndefined();
	world.tick(2);
	return run;
}

/** The next run of every ActiveCampaign change read scans (its last scan an hour ago and more). */
const scanDue = () => world.harness.updateStatic(forceScans);

const acRequests = async () =>
	(await world.must<{ requests: Array<{ method: string; path: string }> }>('ac', 'GET', '/requests?last=2000')).requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);

it('between scans a settled contact costs no account link read; an account change made meanwhile reaches Dynamics with the next scan', async () => {
	const template = workflow();
	await cycle(template);
	const fabrikam = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Fabrikam' });
	const contoso = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Contoso' });
	const person = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', {
		firstname: 'Ann',
		lastname: 'Lee',
		emailaddress1: 'ann.scans@example.org',
		jobtitle: 'Buyer',
		'parentcustomerid_account@odata.bind': `/accounts(${String(fabrikam.accountid)})`,
	});
	world.tick(2);
	await cycle(template);
	await cycle(template);
	const id = String(person.contactid);
	const contact = async () => await world.must<{ account: { name: string; jobTitle: string } | null; contact: IDataObject }>('ac', 'GET', `/state/contacts/${encodeURIComponent('ann.scans@example.org')}`);
	expect((await contact()).account).toMatchObject({ name: 'Fabrikam', jobTitle: 'Buyer' });

	// In ActiveCampaign: a new phone (moves the contact's modified time) and a move to Contoso (does not).
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('ann.scans@example.org')}`, { phone: '+1 555 0142', account: 'Contoso' });
	world.tick(2);
	await world.must('ac', 'POST', '/stats/reset');
	const between = await cycle(template);
	const requests = await acRequests();
	expect(requests.filter((r) => /^GET \/api\/3\/contacts\/\d+\/accountContacts$/.test(r))).toEqual([]);
	expect(requests.filter((r) => /^GET \/api\/3\/(accountContacts|accounts)$/.test(r))).toEqual([]);
	const read = between.data.resultData.runData['ActiveCampaign contact changes'][0].data!.main[0]!.map((i) => i.json);
	expect(read).toEqual([expect.objectContaining({ email: 'ann.scans@example.org', accountNotRead: expect.stringMatching(/next full scan/) })]);
	let row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`);
	expect(row.telephone1).toBe('+1 555 0142');
	expect(String(row._parentcustomerid_value).toLowerCase()).toBe(String(fabrikam.accountid).toLowerCase());
	expect(row.jobtitle).toBe('Buyer');
	// Nothing moved back: ActiveCampaign still shows Contoso.
	expect((await contact()).account?.name).toBe('Contoso');

	scanDue();
	await cycle(template);
	row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`);
	expect(String(row._parentcustomerid_value).toLowerCase()).toBe(String(contoso.accountid).toLowerCase());
	expect(row.telephone1).toBe('+1 555 0142');
	// The new link starts without a job title (no edit of it): the Dynamics one goes onto it.
	await cycle(template);
	expect((await contact()).account).toMatchObject({ name: 'Contoso', jobTitle: 'Buyer' });
	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`)).jobtitle).toBe('Buyer');
});

it("a new contact whose new account has not reached Dynamics yet is written without it, and its account follows once the account has", async () => {
	const template = workflow();
	await cycle(template);
	// Between scans: a new account in ActiveCampaign (accounts go across with the next scan) and a contact in it.
	await world.must('ac', 'POST', '/ui/accounts', { name: 'Tailspin' });
	await world.must('ac', 'POST', '/ui/contacts', { email: 'bo.new@example.org', firstName: 'Bo', lastName: 'Ng', account: 'Tailspin', tags: ['[D365: Contact]'] });
	world.tick(2);
	const run = await cycle(template);
	const written = run.data.resultData.runData['Write contacts to Dynamics'][0].data!.main[0]!.map((i) => i.json);
	expect(written).toEqual([
		expect.objectContaining({
			operation: 'created',
			notWritten: [expect.objectContaining({ activeCampaign: 'accountName', reason: expect.stringMatching(/no account record has name = 'Tailspin' in Dynamics yet/) })],
		}),
	]);
	const created = (await world.must<{ value: IDataObject[] }>('d365', 'GET', '/state/contacts')).value.find((c) => c.emailaddress1 === 'bo.new@example.org')!;
	expect(created._parentcustomerid_value ?? null).toBeNull();

	// The next scan takes the account across and reads its contacts again (a new account is a changed one): the
	// contact's account follows in the same run.
	scanDue();
	await cycle(template);
	const account = (await world.must<{ value: IDataObject[] }>('d365', 'GET', '/state/accounts')).value.find((a) => a.name === 'Tailspin')!;
	const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(created.contactid)}`);
	expect(String(row._parentcustomerid_value).toLowerCase()).toBe(String(account.accountid).toLowerCase());
});
