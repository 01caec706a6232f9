/**
 * The four silent failures found by the first probes (issue "Sync correctness"), each as a history run through the
 * real Scheduled Sync template in n8n-core's engine against the sandbox: a lost edit under a field-level direction,
 * a resurrected delete, duplicates from overlapping runs, and a failed write never retried.
 */
import type { IDataObject } from 'n8n-workflow';

import { runError, scheduledSync, startWorld, type World } from '../../model/world';

let world: World;
beforeAll(async () => {
	world = await startWorld();
});
afterAll(async () => await world.close());
beforeEach(async () => await world.reset());

interface AcDetail {
	contact: IDataObject;
	account: { name: string; jobTitle?: string | null } | null;
	tags: string[];
	fields: Record<string, string | null>;
}

const acContact = async (email: string) => await world.must<AcDetail>('ac', 'GET', `/state/contacts/${encodeURIComponent(email)}`);
const d365Rows = async (set: string) => (await world.must<{ value: IDataObject[] }>('d365', 'GET', `/state/${set}`)).value;

/** One Scheduled Sync execution (or several at once) that must not fail as a whole; a person's edits come after it. */
async function cycle(workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' }), parallel = 1) {
	const runs = await world.runCycle(workflow, parallel);
	for (const run of runs) expect(runError(run)).toBeUndefined();
	world.tick(2);
	return runs;
}

/** The retry queue's backoff has passed (real time, which the tests do not wait for). */
function retryNow(): void {
	world.harness.updateStatic((data) => {
		const queue = (data.global as IDataObject | undefined)?.syncRetries as Record<string, IDataObject> | undefined;
		for (const entry of Object.values(queue ?? {})) entry.nextAt = new Date(0).toISOString();
	});
}

/** One cycle under ActiveCampaign faults (it may fail), then two clean cycles with the retry queue due. */
async function faultedCycleThenRetries(faults: IDataObject): Promise<void> {
	await world.must('ac', 'PUT', '/faults', faults);
	await world.runCycle(scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' }));
	world.tick(2);
	await world.must('ac', 'DELETE', '/faults');
	retryNow();
	await cycle();
	retryNow();
	await cycle();
}

/** Every ActiveCampaign write is answered 429 for longer than a node waits (until the faults are cleared). */
async function throttleActiveCampaignWrites(): Promise<void> {
	await world.must('ac', 'PUT', '/faults', { rate429: 1, retryAfterSeconds: 61, routePattern: '^(POST|PUT|DELETE) ' });
}

/** A Dynamics contact synced to ActiveCampaign: returns its Dynamics id. */
async function syncedContact(email: string, workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' })): Promise<string> {
	await cycle(workflow);
	const row = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', {
		firstname: 'Ann',
		lastname: 'Lee',
		emailaddress1: email,
		telephone1: '+1 555 0100',
	});
	world.tick(2);
	await cycle(workflow);
	const linked = await acContact(email);
	expect(linked.fields.D365_RECORD_ID).toBe(`contact:${String(row.contactid)}`);
	return String(row.contactid);
}

/** Two Dynamics accounts and a Dynamics contact at the first, synced to ActiveCampaign (two cycles after a first one). */
async function contactAtAccount(workflow: ReturnType<typeof scheduledSync>, names: [string, string], email: string) {
	await cycle(workflow);
	const first = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: names[0] });
	const second = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: names[1] });
	const person = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', {
		firstname: 'Ann',
		lastname: 'Lee',
		emailaddress1: email,
		'parentcustomerid_account@odata.bind': `/accounts(${String(first.accountid)})`,
	});
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	return { first, second, person };
}

it('1. an edit is not lost when the other side changes another field in the same cycle (Phone only to Dynamics)', async () => {
	const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep', restricted: { field: 'phone', direction: 'toDynamics' } });
	const id = await syncedContact('ann.lee@example.org', workflow);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('ann.lee@example.org')}`, { phone: '+1 555 0199' });
	await world.must('d365', 'PATCH', `/ui/contacts/${id}`, { firstname: 'Anna' });
	world.tick(2);
	await cycle(workflow);
	const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`);
	expect(row.telephone1).toBe('+1 555 0199');
	expect((await acContact('ann.lee@example.org')).contact.firstName).toBe('Anna');
	// And nothing moves on the next cycle.
	await world.must('ac', 'POST', '/stats/reset');
	await world.must('d365', 'POST', '/stats/reset');
	await cycle(workflow);
	const writes = (await world.must<{ requests: Array<{ method: string }> }>('ac', 'GET', '/requests')).requests.filter((r) => r.method !== 'GET');
	expect(writes).toEqual([]);
});

it('2. a contact deleted in Dynamics is not created again when its ActiveCampaign twin changes (Keep)', async () => {
	const id = await syncedContact('del.me@example.org');
	await world.must('d365', 'DELETE', `/ui/contacts/${id}`);
	world.tick(2);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('del.me@example.org')}`, { firstName: 'Still Here' });
	world.tick(2);
	await cycle();
	await cycle();
	expect((await d365Rows('contacts')).filter((c) => String(c.emailaddress1).toLowerCase() === 'del.me@example.org')).toEqual([]);
	const twin = await acContact('del.me@example.org');
	expect(twin.tags).toContain('[D365: Deleted in Dynamics]');
	expect(twin.fields.D365_RECORD_ID ?? '').toBe('');
});

it('3. two overlapping runs create one Dynamics lead for one ActiveCampaign contact', async () => {
	await cycle();
	await world.must('ac', 'POST', '/ui/contacts', { email: 'twice@example.org', firstName: 'Tw', lastName: 'Ice', tags: ['[D365: Lead]'] });
	world.tick(2);
	await cycle(undefined, 2);
	await cycle();
	const leads = (await d365Rows('leads')).filter((l) => String(l.emailaddress1).toLowerCase() === 'twice@example.org');
	expect(leads).toHaveLength(1);
	expect((await acContact('twice@example.org')).fields.D365_RECORD_ID).toBe(`lead:${String(leads[0].leadid)}`);
});

it('4. a record whose write failed is written on a later run, without changing again', async () => {
	const id = await syncedContact('retry.me@example.org');
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('retry.me@example.org')}`, { lastName: 'Changed In AC' });
	world.tick(2);
	// Every write to this Dynamics contact fails during the next run (a server error, not retried by the request).
	await world.must('d365', 'POST', '/scripted-faults', { match: `^PATCH .*contacts\\(${id}\\)`, fault: 'error', status: 400, times: 50 });
	const [run] = await cycle();
	// The failure is on the error output and says when it is tried again.
	const failed = run.data.resultData.runData['Write contacts to Dynamics'][0].data!.main[1]!;
	expect(failed).toHaveLength(1);
	expect(String(failed[0].json.message)).toMatch(/^Tried again on the next run \(attempt 1 of 6 failed\)\. Retry queue: 1 record waiting, 0 dead letters\.$/);
	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`)).lastname).toBe('Lee');
	await world.must('d365', 'DELETE', '/scripted-faults');
	await cycle();
	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`)).lastname).toBe('Changed In AC');
});

it('a write that fails after settling conflicts still says on its error output who won them (found by the soak, seed 4242)', async () => {
	await cycle();
	const company = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Acme' });
	await world.must('d365', 'POST', '/ui/contacts', {
		firstname: 'Ann',
		lastname: 'Lee',
		emailaddress1: 'both.sides@example.org',
		'parentcustomerid_account@odata.bind': `/accounts(${String(company.accountid)})`,
	});
	await world.must('ac', 'POST', '/ui/contacts', { email: 'both.sides@example.org', firstName: 'Annie', lastName: 'Leigh' });
	world.tick(2);
	// The contact is written (Dynamics wins both names), then linking it to its account is throttled for longer than a
	// node waits.
	await world.must('ac', 'PUT', '/faults', { rate429: 1, routePattern: '^POST /api/3/accountContacts$', retryAfterSeconds: 61, seed: 1 });
	const [run] = await cycle();
	await world.must('ac', 'DELETE', '/faults');
	expect((await acContact('both.sides@example.org')).contact).toMatchObject({ firstName: 'Ann', lastName: 'Lee' });
	const failed = run.data.resultData.runData['Write contacts to ActiveCampaign'][0].data!.main[1]!;
	expect(failed).toHaveLength(1);
	expect(String(failed[0].json.error)).toMatch(/Tried again on the next run \(attempt 1 of 6 failed\)/);
	expect(failed[0].json.details).toMatchObject({
		conflicts: [
			{ activeCampaign: 'firstName', dynamics: 'firstname', winner: 'dynamics', policy: 'dynamicsWins' },
			{ activeCampaign: 'lastName', dynamics: 'lastname', winner: 'dynamics', policy: 'dynamicsWins' },
		],
		conflict: 'resolved: dynamicsWins',
	});
	// Not linked yet; the retry links it, and nothing moves after that.
	expect((await acContact('both.sides@example.org')).account).toBeNull();
	await cycle();
	expect((await acContact('both.sides@example.org')).account).toMatchObject({ name: 'Acme' });
});

it('a write that fails at its first request reports no conflicts as settled (nothing was written)', async () => {
	await cycle();
	await world.must('d365', 'POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'first.fails@example.org' });
	await world.must('ac', 'POST', '/ui/contacts', { email: 'first.fails@example.org', firstName: 'Annie', lastName: 'Leigh' });
	world.tick(2);
	await world.must('ac', 'PUT', '/faults', { rate429: 1, routePattern: '^PUT /api/3/contacts/', retryAfterSeconds: 61, seed: 1 });
	const [run] = await cycle();
	await world.must('ac', 'DELETE', '/faults');
	expect((await acContact('first.fails@example.org')).contact).toMatchObject({ firstName: 'Annie', lastName: 'Leigh' });
	const failed = run.data.resultData.runData['Write contacts to ActiveCampaign'][0].data!.main[1]!;
	expect(failed).toHaveLength(1);
	expect(String(failed[0].json.error)).toMatch(/Tried again on the next run/);
	expect(JSON.stringify(failed[0].json.details ?? null)).not.toMatch(/conflicts/);
});

it('a merge moves a link provisionally: the master\'s own twin (same email, never synced) takes it back (soak, seed 9001)', async () => {
	const subordinate = await syncedContact('bo.ng@example.org');
	const master = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'ann.lee.m@example.org' });
	await world.must('ac', 'POST', '/ui/contacts', { email: 'ann.lee.m@example.org', firstName: 'Annie', lastName: 'Lee' });
	const merged = await world.control('d365', 'POST', '/ui/merge', { table: 'contact', target: String(master.contactid), subordinate });
	expect(merged.status).toBeLessThan(300);
	world.tick(2);
	await cycle();
	await cycle();
	const twin = await acContact('ann.lee.m@example.org');
	expect(twin.fields.D365_RECORD_ID).toBe(`contact:${String(master.contactid)}`);
	const moved = await acContact('bo.ng@example.org');
	expect(moved.fields.D365_RECORD_ID ?? '').toBe('');
	expect(moved.tags).toContain('[D365: Deleted in Dynamics]');
	const active = (await d365Rows('contacts')).filter((c) => c.statecode === 0 && String(c.emailaddress1).toLowerCase() === 'ann.lee.m@example.org');
	expect(active).toHaveLength(1);
});

it("renaming a contact's account in ActiveCampaign does not undo a move of the contact in Dynamics (ActiveCampaign wins; soak, seed 4242)", async () => {
	const workflow = scheduledSync({ conflict: 'activeCampaignWins', deletePolicy: 'keep' });
	const { first, second, person } = await contactAtAccount(workflow, ['Northwind', 'Contoso'], 'ann.moves@example.org');
	expect((await acContact('ann.moves@example.org')).account?.name).toBe('Northwind');

	// In one window: Dynamics moves the contact to Contoso; ActiveCampaign renames Northwind (an edit of the account).
	await world.must('d365', 'PATCH', `/ui/contacts/${String(person.contactid)}`, { 'parentcustomerid_account@odata.bind': `/accounts(${String(second.accountid)})` });
	const northwind = [...world.sandbox.ac.simulator.state.accounts.values()].find((a) => a.name === 'Northwind')!;
	await world.must('ac', 'PATCH', `/ui/accounts/${northwind.id}`, { name: 'Northwind Traders' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);

	const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(person.contactid)}`);
	expect(String(row._parentcustomerid_value).toLowerCase()).toBe(String(second.accountid).toLowerCase());
	expect((await acContact('ann.moves@example.org')).account?.name).toBe('Contoso');
	const renamed = await world.must<IDataObject>('d365', 'GET', `/state/accounts/${String(first.accountid)}`);
	expect(renamed.name).toBe('Northwind Traders');
});

it("a job title ActiveCampaign cannot hold is not cleared in Dynamics, and goes back once the contact has an account again (soak, seed 9001)", async () => {
	const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'propagate' });
	await cycle(workflow);
	const company = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Fabrikam' });
	await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Contoso' });
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', {
		firstname: 'Cy',
		lastname: 'Ortiz',
		emailaddress1: 'cy.ortiz@example.org',
		companyname: 'Fabrikam',
		jobtitle: 'Buyer',
		subject: 'Web lead',
	});
	world.tick(2);
	await cycle(workflow);
	expect((await acContact('cy.ortiz@example.org')).account).toMatchObject({ name: 'Fabrikam', jobTitle: 'Buyer' });

	// The account is deleted in Dynamics and, by the delete policy, in ActiveCampaign: the contact loses its link and
	// the job title on it. That is no edit of the lead's job title.
	await world.must('d365', 'DELETE', `/ui/accounts/${String(company.accountid)}`);
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	expect((await acContact('cy.ortiz@example.org')).account).toBeNull();
	expect((await world.must<IDataObject>('d365', 'GET', `/state/leads/${String(lead.leadid)}`)).jobtitle).toBe('Buyer');

	// Linked to another account with no job title: the lead's job title goes onto the new link.
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('cy.ortiz@example.org')}`, { account: 'Contoso' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	expect((await world.must<IDataObject>('d365', 'GET', `/state/leads/${String(lead.leadid)}`)).jobtitle).toBe('Buyer');
	expect((await acContact('cy.ortiz@example.org')).account).toMatchObject({ name: 'Contoso', jobTitle: 'Buyer' });
});

it("a lead's company: an ActiveCampaign rename reaches the lead, but never undoes a change made to the lead (ActiveCampaign wins; soak, seed 4242)", async () => {
	const workflow = scheduledSync({ conflict: 'activeCampaignWins', deletePolicy: 'keep' });
	await cycle(workflow);
	await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Northwind' });
	await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Contoso' });
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Lu', lastname: 'Ma', emailaddress1: 'lu.ma@example.org', companyname: 'Northwind', subject: 'Web lead' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	expect((await acContact('lu.ma@example.org')).account?.name).toBe('Northwind');
	const leadRow = async () => await world.must<IDataObject>('d365', 'GET', `/state/leads/${String(lead.leadid)}`);
	const northwind = () => [...world.sandbox.ac.simulator.state.accounts.values()].find((a) => a.name.startsWith('Northwind'))!;

	// A rename alone reaches the lead's company name.
	await world.must('ac', 'PATCH', `/ui/accounts/${northwind().id}`, { name: 'Northwind Traders' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	expect((await leadRow()).companyname).toBe('Northwind Traders');

	// In one window: Dynamics moves the lead to Contoso; ActiveCampaign renames its account again.
	await world.must('d365', 'PATCH', `/ui/leads/${String(lead.leadid)}`, { companyname: 'Contoso' });
	await world.must('ac', 'PATCH', `/ui/accounts/${northwind().id}`, { name: 'Northwind Ltd' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	expect((await leadRow()).companyname).toBe('Contoso');
	expect((await acContact('lu.ma@example.org')).account?.name).toBe('Contoso');
});

it('Flag Only: a lead with the email of a deleted (flagged) contact takes its ActiveCampaign contact (soak, seed 9001, many-record paths)', async () => {
	const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'flag' });
	const contactId = await syncedContact('flag.me@example.org', workflow);
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'flag.me@example.org', subject: 'Web lead' });
	world.tick(2);
	await cycle(workflow);
	expect((await acContact('flag.me@example.org')).fields.D365_RECORD_ID).toBe(`contact:${contactId}`);
	await world.must('d365', 'DELETE', `/ui/contacts/${contactId}`);
	world.tick(2);
	await cycle(workflow);
	const taken = await acContact('flag.me@example.org');
	expect(taken.fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
	expect(taken.tags).not.toContain('[D365: Deleted in Dynamics]');
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('flag.me@example.org')}`, { email: 'flag.me.now@example.org' });
	world.tick(2);
	await cycle(workflow);
	expect((await world.must<IDataObject>('d365', 'GET', `/state/leads/${String(lead.leadid)}`)).emailaddress1).toBe('flag.me.now@example.org');
});

it('Keep: a contact deleted while its unlink failed is unlinked on the retry, and the lead with its email takes the ActiveCampaign contact (soak, seed 4242)', async () => {
	const contactId = await syncedContact('gone.later@example.org');
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'gone.later@example.org', subject: 'Web lead' });
	world.tick(2);
	await cycle();
	expect((await acContact('gone.later@example.org')).fields.D365_RECORD_ID).toBe(`contact:${contactId}`);
	await world.must('d365', 'DELETE', `/ui/contacts/${contactId}`);
	world.tick(2);
	// ActiveCampaign throttles every write during the next run, so the unlink of the deleted contact lands in the retry queue.
	await world.must('ac', 'PUT', '/faults', { rate429: 1, retryAfterSeconds: 0, routePattern: '^(POST|PUT|DELETE) ' });
	await cycle();
	expect((await acContact('gone.later@example.org')).fields.D365_RECORD_ID).toBe(`contact:${contactId}`);
	await world.must('ac', 'DELETE', '/faults');
	await cycle();
	await cycle();
	const taken = await acContact('gone.later@example.org');
	expect(taken.fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
	expect((await d365Rows('contacts')).filter((c) => String(c.emailaddress1).toLowerCase() === 'gone.later@example.org')).toEqual([]);
});

it('a lead qualified into a contact that is deleted before it syncs holds nothing back: a new lead with the email takes the ActiveCampaign contact (soak, seed 4242)', async () => {
	await cycle();
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'qualified.gone@example.org', subject: 'Web lead' });
	world.tick(2);
	await cycle();
	expect((await acContact('qualified.gone@example.org')).fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
	await world.must('d365', 'POST', `/ui/leads/${String(lead.leadid)}/qualify`, { createAccount: false, createContact: true, createOpportunity: false });
	world.tick(2);
	const contact = (await d365Rows('contacts')).find((c) => String(c._originatingleadid_value ?? '').toLowerCase() === String(lead.leadid).toLowerCase())!;
	const second = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Ann', lastname: 'Again', emailaddress1: 'qualified.gone@example.org', subject: 'Second lead' });
	world.tick(2);
	await world.must('d365', 'DELETE', `/ui/contacts/${String(contact.contactid)}`);
	world.tick(2);
	await cycle();
	await cycle();
	const twin = await acContact('qualified.gone@example.org');
	expect(twin.fields.D365_RECORD_ID).toBe(`lead:${String(second.leadid)}`);
	expect(twin.contact.lastName).toBe('Again');
});

it("a Dynamics edit is not recorded as synced by the other step after the sync wrote other fields of the record (soak, seed 9002, many-record paths)", async () => {
	const id = await syncedContact('edited.both@example.org');
	await world.must('d365', 'PATCH', `/ui/contacts/${id}`, { firstname: 'Anna' });
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('edited.both@example.org')}`, { phone: '+1 555 0199' });
	world.tick(2);
	// Every ActiveCampaign write is throttled for longer than a node waits: the first name does not reach ActiveCampaign
	// and the state is not recorded, but the phone reaches Dynamics (so the sync's user changed the record last).
	await throttleActiveCampaignWrites();
	await cycle();
	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`)).telephone1).toBe('+1 555 0199');
	// Next run: only the first ActiveCampaign write fails (the first name, again); the state is recorded after it.
	await world.must('ac', 'PUT', '/faults', { rate429: 1, retryAfterSeconds: 61, routePattern: '^(POST|PUT|DELETE) ', maxFaults: 1 });
	await cycle();
	await world.must('ac', 'DELETE', '/faults');
	retryNow();
	await cycle();
	await cycle();
	expect((await acContact('edited.both@example.org')).contact).toMatchObject({ firstName: 'Anna', phone: '+1 555 0199' });
	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`)).firstname).toBe('Anna');
});

it("Keep: a lead held back by a contact that is then deleted takes the ActiveCampaign contact without undoing an ActiveCampaign edit made since the last sync (soak, seed 6002)", async () => {
	const contactId = await syncedContact('held.lead@example.org');
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Shadow', lastname: 'Lead', emailaddress1: 'held.lead@example.org', subject: 'Web lead' });
	world.tick(2);
	await cycle();
	expect((await acContact('held.lead@example.org')).fields.D365_RECORD_ID).toBe(`contact:${contactId}`);
	await world.must('d365', 'DELETE', `/ui/contacts/${contactId}`);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('held.lead@example.org')}`, { firstName: 'Annie' });
	world.tick(2);
	await cycle();
	await cycle();
	const taken = await acContact('held.lead@example.org');
	expect(taken.fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
	// The first name changed in ActiveCampaign after the lead was seen: it stays and reaches the lead. The last name
	// changed on neither side since: the lead's goes across.
	expect(taken.contact).toMatchObject({ firstName: 'Annie', lastName: 'Lead' });
	expect(await world.must<IDataObject>('d365', 'GET', `/state/leads/${String(lead.leadid)}`)).toMatchObject({ firstname: 'Annie', lastname: 'Lead' });
});

it('a Dynamics contact made from an ActiveCampaign contact whose link could not be recorded keeps it: a lead with that email does not take it (soak, seed 6003)', async () => {
	await cycle();
	await world.must('ac', 'POST', '/ui/contacts', { email: 'link.pending@example.org', firstName: 'Ann', lastName: 'Lee', tags: ['[D365: Contact]'] });
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Shadow', lastname: 'Lead', emailaddress1: 'link.pending@example.org', subject: 'Web lead' });
	world.tick(2);
	// Every ActiveCampaign write is throttled for longer than a node waits: the Dynamics contact is made, its link is not recorded.
	await throttleActiveCampaignWrites();
	await cycle();
	await world.must('ac', 'DELETE', '/faults');
	const made = (await d365Rows('contacts')).filter((c) => String(c.emailaddress1).toLowerCase() === 'link.pending@example.org');
	expect(made).toHaveLength(1);
	retryNow();
	await cycle();
	await cycle();
	const twin = await acContact('link.pending@example.org');
	expect(twin.fields.D365_RECORD_ID).toBe(`contact:${String(made[0].contactid)}`);
	expect(twin.contact).toMatchObject({ firstName: 'Ann', lastName: 'Lee' });
	expect((await d365Rows('contacts')).filter((c) => String(c.emailaddress1).toLowerCase() === 'link.pending@example.org')).toHaveLength(1);
	expect(String(lead.leadid)).toBeTruthy();
});

it('Keep: a Dynamics contact deleted before its link to an ActiveCampaign contact was recorded is not created again, and the lead with that email takes the contact', async () => {
	await cycle();
	await world.must('ac', 'POST', '/ui/contacts', { email: 'never.recorded@example.org', firstName: 'Ann', lastName: 'Lee', tags: ['[D365: Contact]'] });
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Shadow', lastname: 'Lead', emailaddress1: 'never.recorded@example.org', subject: 'Web lead' });
	world.tick(2);
	await throttleActiveCampaignWrites();
	await cycle();
	await world.must('ac', 'DELETE', '/faults');
	const made = (await d365Rows('contacts')).filter((c) => String(c.emailaddress1).toLowerCase() === 'never.recorded@example.org');
	expect(made).toHaveLength(1);
	await world.must('d365', 'DELETE', `/ui/contacts/${String(made[0].contactid)}`);
	world.tick(2);
	retryNow();
	await cycle();
	await cycle();
	await cycle();
	expect((await d365Rows('contacts')).filter((c) => String(c.emailaddress1).toLowerCase() === 'never.recorded@example.org')).toEqual([]);
	const twin = await acContact('never.recorded@example.org');
	expect(twin.fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
});

it("a value the sync wrote to Dynamics is the sync's own even when Record Sync State failed: a later ActiveCampaign edit of it is not lost to a conflict (soak, seed 6004, Full Scan Every)", async () => {
	const id = await syncedContact('state.unstored@example.org');
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('state.unstored@example.org')}`, { phone: '+1 555 0111' });
	world.tick(2);
	// The phone reaches Dynamics; recording the state in ActiveCampaign is throttled for longer than a node waits.
	await throttleActiveCampaignWrites();
	await cycle();
	await world.must('ac', 'DELETE', '/faults');
	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`)).telephone1).toBe('+1 555 0111');
	// A person edits the Dynamics record (another field), and the phone again in ActiveCampaign.
	await world.must('d365', 'PATCH', `/ui/contacts/${id}`, { lastname: 'Leigh' });
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('state.unstored@example.org')}`, { phone: '+1 555 0122' });
	world.tick(2);
	retryNow();
	await cycle();
	await cycle();
	expect((await acContact('state.unstored@example.org')).contact).toMatchObject({ phone: '+1 555 0122', lastName: 'Leigh' });
	expect(await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`)).toMatchObject({ telephone1: '+1 555 0122', lastname: 'Leigh' });
});

it('Keep: a lead that takes the ActiveCampaign contact of a deleted contact gets the values it lacks from it (soak, seed 4245)', async () => {
	const contactId = await syncedContact('taken.over@example.org');
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'taken.over@example.org', subject: 'Web lead' });
	await world.must('d365', 'DELETE', `/ui/contacts/${contactId}`);
	world.tick(2);
	await cycle();
	await cycle();
	const taken = await acContact('taken.over@example.org');
	expect(taken.fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
	expect(taken.contact.phone).toBe('+1 555 0100');
	expect((await world.must<IDataObject>('d365', 'GET', `/state/leads/${String(lead.leadid)}`)).telephone1).toBe('+1 555 0100');
});

it('Newest Wins: a conflict settled while the winner could not be written is not decided again after a later edit of another field (soak, seed 6005)', async () => {
	const newest = scheduledSync({ conflict: 'newestWins', deletePolicy: 'keep' });
	await cycle(newest);
	// One person on both sides before the first sync: the phone set in ActiveCampaign, then a newer one in Dynamics.
	await world.must('ac', 'POST', '/ui/contacts', { email: 'settled@example.org', firstName: 'Ann', lastName: 'Lee', phone: '+1 555 0101', tags: ['[D365: Contact]'] });
	world.tick(2);
	const row = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'settled@example.org', telephone1: '+1 555 0202' });
	world.tick(2);
	// Dynamics's phone wins, but ActiveCampaign throttles every write of the run: nothing reaches it.
	await throttleActiveCampaignWrites();
	await cycle(newest);
	await world.must('ac', 'DELETE', '/faults');
	// Another field changes in ActiveCampaign: the contact is now the newer record, but the phone was settled already.
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('settled@example.org')}`, { lastName: 'Leigh' });
	world.tick(2);
	retryNow();
	await cycle(newest);
	await cycle(newest);
	expect((await acContact('settled@example.org')).contact).toMatchObject({ phone: '+1 555 0202', lastName: 'Leigh' });
	expect(await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(row.contactid)}`)).toMatchObject({ telephone1: '+1 555 0202', lastname: 'Leigh' });
});

it('a conflict lost by the Dynamics → ActiveCampaign step is reported even when adding the tags fails after the state was stored (ActiveCampaign wins; soak, seed 7001)', async () => {
	const acWins = scheduledSync({ conflict: 'activeCampaignWins', deletePolicy: 'keep' });
	await cycle(acWins);
	await world.must('ac', 'POST', '/ui/contacts', { email: 'lost.tags@example.org', firstName: 'Annie', lastName: 'Leigh' });
	world.tick(2);
	await world.must('d365', 'POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Leigh', emailaddress1: 'lost.tags@example.org' });
	world.tick(2);
	// ActiveCampaign keeps its first name: the step skips the contact, records the settled state, then tagging it is
	// throttled for longer than a node waits.
	await world.must('ac', 'PUT', '/faults', { rate429: 1, routePattern: '^POST /api/3/contactTags$', retryAfterSeconds: 61, seed: 1 });
	const [run] = await cycle(acWins);
	await world.must('ac', 'DELETE', '/faults');
	const failed = run.data.resultData.runData['Write contacts to ActiveCampaign'][0].data!.main[1]!;
	expect(failed).toHaveLength(1);
	expect(failed[0].json.details).toMatchObject({
		conflicts: [{ activeCampaign: 'firstName', dynamics: 'firstname', winner: 'activeCampaign', policy: 'activeCampaignWins' }],
		conflict: 'resolved: activeCampaignWins',
	});
	retryNow();
	await cycle(acWins);
	expect((await acContact('lost.tags@example.org')).contact).toMatchObject({ firstName: 'Annie' });
	const row = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'lost.tags@example.org')!;
	expect(row.firstname).toBe('Annie');
});

it('Keep: a contact deleted in Dynamics is not created again when tagging its ActiveCampaign twin fails after the unlink (soak, seed 7002)', async () => {
	const id = await syncedContact('tag.after.unlink@example.org');
	await world.must('d365', 'DELETE', `/ui/contacts/${id}`);
	world.tick(2);
	// Tagging the twin "[D365: Deleted in Dynamics]" is throttled for longer than a node waits.
	await world.must('ac', 'PUT', '/faults', { rate429: 1, routePattern: '^POST /api/3/contactTags$', retryAfterSeconds: 61, seed: 1 });
	await world.runCycle(scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' }));
	world.tick(2);
	await world.must('ac', 'DELETE', '/faults');
	retryNow();
	await cycle();
	await cycle();
	expect((await d365Rows('contacts')).filter((c) => String(c.emailaddress1).toLowerCase() === 'tag.after.unlink@example.org')).toEqual([]);
	const twin = await acContact('tag.after.unlink@example.org');
	expect(twin.tags).toContain('[D365: Deleted in Dynamics]');
	expect(twin.fields.D365_RECORD_ID ?? '').toBe('');
});

it('a pair whose state Record Sync State could not store keeps it: a later Dynamics edit is no conflict (ActiveCampaign wins; soak, seed 9001)', async () => {
	const acWins = scheduledSync({ conflict: 'activeCampaignWins', deletePolicy: 'keep' });
	await cycle(acWins);
	await world.must('d365', 'POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'kept.state@example.org' });
	world.tick(2);
	await world.must('ac', 'POST', '/ui/contacts', { email: 'kept.state@example.org', firstName: 'Annie', lastName: 'Leigh', tags: ['[D365: Contact]'] });
	world.tick(2);
	// The first sync of the pair writes Dynamics, then recording its state in ActiveCampaign is throttled.
	await throttleActiveCampaignWrites();
	await world.runCycle(acWins);
	world.tick(2);
	await world.must('ac', 'DELETE', '/faults');
	retryNow();
	// Nothing changed since: the state the sync kept for the pair is stored now (not only the link).
	await cycle(acWins);
	const id = String((await d365Rows('contacts')).find((c) => c.emailaddress1 === 'kept.state@example.org')!.contactid);
	await world.must('d365', 'PATCH', `/ui/contacts/${id}`, { emailaddress1: 'kept.state.new@example.org' });
	world.tick(2);
	await cycle(acWins);
	retryNow();
	await cycle(acWins);
	const row = (await d365Rows('contacts')).find((c) => c.contactid === id)!;
	expect(row.emailaddress1).toBe('kept.state.new@example.org');
	expect((await acContact('kept.state.new@example.org')).contact).toMatchObject({ firstName: 'Annie', lastName: 'Leigh' });
});

it('a lead qualified into a contact before an ActiveCampaign edit reached it: the edit reaches the contact (the setting of soak seed 9000, whose exact history replays in test:model)', async () => {
	await cycle();
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'qualified.phone@example.org', subject: 'Model' });
	world.tick(2);
	await world.must('ac', 'POST', '/ui/contacts', { email: 'qualified.phone@example.org', firstName: 'Ann', lastName: 'Lee', tags: ['[D365: Lead]'] });
	world.tick(2);
	const { contacts } = await world.must<{ contacts: IDataObject[] }>('ac', 'GET', '/state/contacts?email=qualified.phone%40example.org');
	await world.must('ac', 'PATCH', `/ui/contacts/${String((contacts[0].contact as IDataObject).id)}`, { phone: '+1 555 0300' });
	world.tick(2);
	await world.must('d365', 'POST', `/ui/leads/${String(lead.leadid)}/qualify`, { createAccount: false, createContact: true, createOpportunity: false });
	world.tick(2);
	// The contact's first write to ActiveCampaign is throttled; the lead's (and the phone to the qualified lead) go through.
	await faultedCycleThenRetries({ rate429: 1, retryAfterSeconds: 61, routePattern: '^(POST|PUT|DELETE) ', maxFaults: 1 });
	const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'qualified.phone@example.org')!;
	expect(contact.telephone1).toBe('+1 555 0300');
	expect((await acContact('qualified.phone@example.org')).fields.D365_RECORD_ID).toBe(`contact:${String(contact.contactid)}`);
});

it("a job title cleared in ActiveCampaign reaches the lead although the lead's account was deleted in Dynamics meanwhile (Keep; soak, seed 10001)", async () => {
	await cycle();
	const account = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Gone Ltd' });
	world.tick(2);
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', {
		firstname: 'Ann',
		lastname: 'Lee',
		emailaddress1: 'title.cleared@example.org',
		subject: 'Model',
		companyname: 'Gone Ltd',
		jobtitle: 'Buyer',
	});
	world.tick(2);
	await cycle();
	expect((await acContact('title.cleared@example.org')).account).toMatchObject({ name: 'Gone Ltd' });
	// A person clears the job title in ActiveCampaign; the account is deleted in Dynamics (Keep: the ActiveCampaign
	// account stays, its link reads deleted:<id>).
	const { contacts } = await world.must<{ contacts: IDataObject[] }>('ac', 'GET', '/state/contacts?email=title.cleared%40example.org');
	await world.must('ac', 'PATCH', `/ui/contacts/${String((contacts[0].contact as IDataObject).id)}`, { account: 'Gone Ltd', jobTitle: '' });
	world.tick(2);
	await world.must('d365', 'DELETE', `/ui/accounts/${String(account.accountid)}`);
	world.tick(2);
	await cycle();
	await cycle();
	const row = (await d365Rows('leads')).find((l) => l.leadid === lead.leadid)!;
	expect(row.jobtitle ?? null).toBeNull();
	expect((await acContact('title.cleared@example.org')).account).toMatchObject({ name: 'Gone Ltd' });
});

it('a lead held back by a contact is released when the contact\'s email changes in two overlapping runs (ActiveCampaign wins; the setting of soak seed 10000, whose exact history replays in test:model)', async () => {
	const acWins = scheduledSync({ conflict: 'activeCampaignWins', deletePolicy: 'keep' });
	await cycle(acWins);
	const contact = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'held.lead@example.org' });
	world.tick(2);
	await world.must('ac', 'POST', '/ui/contacts', { email: 'held.lead@example.org', firstName: 'Annie', lastName: 'Lee', tags: ['[D365: Contact]'] });
	world.tick(2);
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Shadow', lastname: 'Lead', emailaddress1: 'held.lead@example.org', subject: 'Model' });
	world.tick(2);
	await cycle(acWins);
	// The contact takes the email on both sides; then it changes on both, and two executions run at once.
	const { contacts } = await world.must<{ contacts: IDataObject[] }>('ac', 'GET', '/state/contacts?email=held.lead%40example.org');
	await world.must('ac', 'PATCH', `/ui/contacts/${String((contacts[0].contact as IDataObject).id)}`, { email: 'moved.ac@example.org' });
	world.tick(2);
	await world.must('d365', 'PATCH', `/ui/contacts/${String(contact.contactid)}`, { emailaddress1: 'moved.d365@example.org' });
	world.tick(2);
	await cycle(acWins, 2);
	retryNow();
	await cycle(acWins);
	retryNow();
	await cycle(acWins);
	// The lead's email is free now: it has its own ActiveCampaign contact.
	expect((await acContact('held.lead@example.org')).fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
});

it('Keep: a lead that takes the contact of a deleted contact clears the "deleted" mark even when removing it failed at first, and gets the phone (soak, seed 11001)', async () => {
	const id = await syncedContact('mark.stays@example.org');
	const { contacts } = await world.must<{ contacts: IDataObject[] }>('ac', 'GET', '/state/contacts?email=mark.stays%40example.org');
	await world.must('ac', 'PATCH', `/ui/contacts/${String((contacts[0].contact as IDataObject).id)}`, { phone: '+1 555 0333' });
	world.tick(2);
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Shadow', lastname: 'Lead', emailaddress1: 'mark.stays@example.org', subject: 'Model' });
	world.tick(2);
	await world.must('d365', 'DELETE', `/ui/contacts/${id}`);
	world.tick(2);
	// The contact is unlinked and marked; the lead takes it, but removing the mark is throttled for longer than a node waits.
	await faultedCycleThenRetries({ rate429: 1, routePattern: '^DELETE /api/3/contactTags', retryAfterSeconds: 61 });
	const twin = await acContact('mark.stays@example.org');
	expect(twin.fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
	expect(twin.tags).not.toContain('[D365: Deleted in Dynamics]');
	expect((await d365Rows('leads')).find((l) => l.leadid === lead.leadid)!.telephone1).toBe('+1 555 0333');
});

it('a lead qualified before its first sync does not take its ActiveCampaign contact by email: the next active lead with the email does, once the contact it became is deleted (soak, seed 12000)', async () => {
	await cycle();
	await world.must('ac', 'POST', '/ui/contacts', { email: 'qualified.first@example.org', firstName: 'Ann', lastName: 'Lee', tags: ['[D365: Lead]'] });
	const first = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'qualified.first@example.org', subject: 'Model' });
	world.tick(2);
	await world.must('d365', 'POST', `/ui/leads/${String(first.leadid)}/qualify`, { createAccount: false, createContact: true, createOpportunity: false });
	const contact = (await d365Rows('contacts')).find((c) => String(c._originatingleadid_value ?? '').toLowerCase() === String(first.leadid).toLowerCase())!;
	const second = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Shadow', lastname: 'Lead', emailaddress1: 'qualified.first@example.org', subject: 'Model' });
	world.tick(2);
	await world.must('d365', 'DELETE', `/ui/contacts/${String(contact.contactid)}`);
	world.tick(2);
	const [run] = await cycle();
	const written = run.data.resultData.runData['Write leads to ActiveCampaign'][0].data!.main[0]!.map((i) => i.json);
	expect(written.find((i) => i.d365Id === String(first.leadid).toLowerCase())).toMatchObject({ operation: 'skipped', reason: expect.stringMatching(/qualified/) });
	await cycle();
	expect((await acContact('qualified.first@example.org')).fields.D365_RECORD_ID).toBe(`lead:${String(second.leadid).toLowerCase()}`);
});

it("Flag Only: a lead held back by a contact that is then deleted takes the ActiveCampaign contact without undoing an ActiveCampaign edit made since the last sync (soak, seed 14001)", async () => {
	const flag = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'flag' });
	const contactId = await syncedContact('flagged.lead@example.org', flag);
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Shadow', lastname: 'Lead', emailaddress1: 'flagged.lead@example.org', subject: 'Web lead' });
	world.tick(2);
	await cycle(flag);
	await world.must('d365', 'DELETE', `/ui/contacts/${contactId}`);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('flagged.lead@example.org')}`, { firstName: 'Annie' });
	world.tick(2);
	await cycle(flag);
	await cycle(flag);
	const taken = await acContact('flagged.lead@example.org');
	expect(taken.fields.D365_RECORD_ID).toBe(`lead:${String(lead.leadid)}`);
	expect(taken.tags).not.toContain('[D365: Deleted in Dynamics]');
	// As under Keep: ActiveCampaign's newer first name stays and reaches the lead; the lead's last name goes across.
	expect(taken.contact).toMatchObject({ firstName: 'Annie', lastName: 'Lead' });
	expect(await world.must<IDataObject>('d365', 'GET', `/state/leads/${String(lead.leadid)}`)).toMatchObject({ firstname: 'Annie', lastname: 'Lead' });
});

it('a phone cleared in ActiveCampaign reaches the Dynamics contact the sync made from it while its link could not be recorded (soak, seed 14000)', async () => {
	await cycle();
	await world.must('ac', 'POST', '/ui/contacts', { email: 'unrecorded.link@example.org', firstName: 'Ann', lastName: 'Lee', phone: '+1 555 0101', tags: ['[D365: Contact]'] });
	world.tick(2);
	// The Dynamics contact is made; recording its link and state in ActiveCampaign is throttled.
	await throttleActiveCampaignWrites();
	await world.runCycle(scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' }));
	world.tick(2);
	await world.must('ac', 'DELETE', '/faults');
	const made = (await d365Rows('contacts')).filter((c) => c.emailaddress1 === 'unrecorded.link@example.org');
	expect(made.map((c) => c.telephone1)).toEqual(['+1 555 0101']);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('unrecorded.link@example.org')}`, { phone: null });
	world.tick(2);
	retryNow();
	await cycle();
	retryNow();
	await cycle();
	const row = (await d365Rows('contacts')).find((c) => c.contactid === made[0].contactid)!;
	expect(row.telephone1 ?? null).toBeNull();
	expect((await acContact('unrecorded.link@example.org')).fields.D365_RECORD_ID).toBe(`contact:${String(row.contactid)}`);
});

it("Delete It Too, newest wins: a contact moved in Dynamics off an account deleted there keeps the move, although ActiveCampaign's newer edit met the contact without its deleted account (soak, seed 17000)", async () => {
	const workflow = scheduledSync({ conflict: 'newestWins', deletePolicy: 'propagate' });
	const { first: doomed, second: next, person } = await contactAtAccount(workflow, ['Doomed Co', 'Next Co'], 'moved.off@example.org');
	expect((await acContact('moved.off@example.org')).account?.name).toBe('Doomed Co');

	// Dynamics deletes the account and moves the contact to another; then a person edits the contact in ActiveCampaign.
	await world.must('d365', 'DELETE', `/ui/accounts/${String(doomed.accountid)}`);
	await world.must('d365', 'PATCH', `/ui/contacts/${String(person.contactid)}`, { 'parentcustomerid_account@odata.bind': `/accounts(${String(next.accountid)})` });
	world.tick(2);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('moved.off@example.org')}`, { phone: '+1 555 0177' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);

	const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(person.contactid)}`);
	expect(String(row._parentcustomerid_value).toLowerCase()).toBe(String(next.accountid).toLowerCase());
	expect(row.telephone1).toBe('+1 555 0177');
	expect((await acContact('moved.off@example.org')).account?.name).toBe('Next Co');
});

it('Delete It Too, Dynamics wins: a contact put at another account in ActiveCampaign after its account was deleted in Dynamics keeps the new account (soak, seed 19001)', async () => {
	const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'propagate' });
	await cycle(workflow);
	const doomed = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Doomed Co' });
	await world.must('ac', 'POST', '/ui/contacts', { email: 'moved.later@example.org', firstName: 'Ann', lastName: 'Lee', account: 'Doomed Co', jobTitle: 'Buyer', tags: ['[D365: Contact]'] });
	world.tick(2);
	await cycle(workflow);
	const person = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'moved.later@example.org')!;
	expect(String(person._parentcustomerid_value).toLowerCase()).toBe(String(doomed.accountid).toLowerCase());

	// Dynamics deletes the account (the sync deletes its ActiveCampaign twin; both sides of the contact lose it) and
	// makes another; then a person puts the contact at that one in ActiveCampaign: no edit in Dynamics stands against it.
	await world.must('d365', 'DELETE', `/ui/accounts/${String(doomed.accountid)}`);
	const next = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Next Co' });
	world.tick(2);
	await cycle(workflow);
	expect((await acContact('moved.later@example.org')).account).toBeNull();
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('moved.later@example.org')}`, { account: 'Next Co' });
	world.tick(2);
	retryNow();
	await cycle(workflow);
	retryNow();
	await cycle(workflow);

	const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(person.contactid)}`);
	expect(String(row._parentcustomerid_value).toLowerCase()).toBe(String(next.accountid).toLowerCase());
	expect((await acContact('moved.later@example.org')).account?.name).toBe('Next Co');
});

it('Dynamics wins: a job title typed in ActiveCampaign with a new account stands over the Dynamics job title ActiveCampaign could not hold before (Keep; soak, seed 18001)', async () => {
	const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' });
	const { first: doomed, person } = await contactAtAccount(workflow, ['Doomed Co', 'Next Co'], 'title.later@example.org');
	expect((await acContact('title.later@example.org')).account?.name).toBe('Doomed Co');

	// Dynamics sets a job title and deletes the account: ActiveCampaign loses the link, so it cannot hold the title;
	// ActiveCampaign edits the phone meanwhile.
	await world.must('d365', 'PATCH', `/ui/contacts/${String(person.contactid)}`, { jobtitle: 'Buyer' });
	await world.must('d365', 'DELETE', `/ui/accounts/${String(doomed.accountid)}`);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('title.later@example.org')}`, { phone: '+1 555 0123' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	expect((await acContact('title.later@example.org')).account).toBeNull();
	// Later a person puts the contact at another account in ActiveCampaign and types its job title there.
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('title.later@example.org')}`, { account: 'Next Co', jobTitle: 'Director' });
	world.tick(2);
	// And Dynamics edits another field of the contact after it, so the Dynamics → ActiveCampaign step meets it first.
	await world.must('d365', 'PATCH', `/ui/contacts/${String(person.contactid)}`, { lastname: 'Lee-Ortiz' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);

	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(person.contactid)}`)).jobtitle).toBe('Director');
	expect((await acContact('title.later@example.org')).account).toMatchObject({ name: 'Next Co', jobTitle: 'Director' });
});

it('Dynamics wins: a job title set in Dynamics after the contact got an account in ActiveCampaign wins over one typed there at the same time (the setting of soak seed 20001, whose exact history replays in test:model)', async () => {
	const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' });
	await cycle(workflow);
	await world.must('d365', 'POST', '/ui/accounts', { name: 'Fabrikam' });
	const person = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'both.titles@example.org' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	// ActiveCampaign links the contact to the account, with no job title on the link; Dynamics throttles that run's
	// writes, so the link reaches it on a retry.
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('both.titles@example.org')}`, { account: 'Fabrikam' });
	world.tick(2);
	await world.must('d365', 'PUT', '/faults', { rate429: 1, retryAfterSeconds: 61, routePattern: '^(POST|PATCH|DELETE) ' });
	await world.runCycle(workflow);
	world.tick(2);
	await world.must('d365', 'DELETE', '/faults');
	// Then both sides set a job title, Dynamics last: a conflict, and Dynamics wins it.
	await world.must('d365', 'PATCH', `/ui/contacts/${String(person.contactid)}`, { jobtitle: 'Buyer' });
	world.tick(2);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('both.titles@example.org')}`, { jobTitle: 'Director' });
	world.tick(2);
	await world.must('d365', 'PATCH', `/ui/contacts/${String(person.contactid)}`, { jobtitle: 'Head Buyer' });
	world.tick(2);
	retryNow();
	await cycle(workflow);
	retryNow();
	await cycle(workflow);

	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(person.contactid)}`)).jobtitle).toBe('Head Buyer');
	expect((await acContact('both.titles@example.org')).account).toMatchObject({ name: 'Fabrikam', jobTitle: 'Head Buyer' });
});

it('ActiveCampaign wins, Keep: a contact whose account is deleted in Dynamics loses the link in ActiveCampaign too — its flagged account is the same account, no edit there (soak, seed 21001)', async () => {
	const workflow = scheduledSync({ conflict: 'activeCampaignWins', deletePolicy: 'keep' });
	const { first: doomed, person } = await contactAtAccount(workflow, ['Doomed Co', 'Next Co'], 'kept.title@example.org');
	await world.must('d365', 'PATCH', `/ui/contacts/${String(person.contactid)}`, { jobtitle: 'Buyer' });
	world.tick(2);
	await cycle(workflow);
	expect((await acContact('kept.title@example.org')).account).toMatchObject({ name: 'Doomed Co', jobTitle: 'Buyer' });

	await world.must('d365', 'DELETE', `/ui/accounts/${String(doomed.accountid)}`);
	world.tick(2);
	retryNow();
	await cycle(workflow);
	retryNow();
	await cycle(workflow);

	// The account flagged as deleted in Dynamics is the account the contact had: only Dynamics changed, so the link
	// goes in ActiveCampaign as well; the job title stays in Dynamics (ActiveCampaign cannot hold it now).
	expect((await acContact('kept.title@example.org')).account).toBeNull();
	const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(person.contactid)}`);
	expect(row._parentcustomerid_value ?? null).toBeNull();
	expect(row.jobtitle).toBe('Buyer');
});

it("ActiveCampaign wins, Keep: a lead qualified into a contact that Dynamics then puts at another account — the move reaches ActiveCampaign, whose account is the lead's, unchanged (soak, seed 21000)", async () => {
	const workflow = scheduledSync({ conflict: 'activeCampaignWins', deletePolicy: 'keep' });
	await cycle(workflow);
	const moved = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Moved Co' });
	await world.must('d365', 'POST', '/ui/accounts', { name: 'Lead Co' });
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'qualified.moved@example.org', subject: 'Model', companyname: 'Lead Co' });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	expect((await acContact('qualified.moved@example.org')).account).toMatchObject({ name: 'Lead Co' });

	// Dynamics qualifies the lead into a contact (no account) and puts that contact at another account.
	await world.must('d365', 'POST', `/ui/leads/${String(lead.leadid)}/qualify`, { createAccount: false, createContact: true, createOpportunity: false });
	const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'qualified.moved@example.org')!;
	await world.must('d365', 'PATCH', `/ui/contacts/${String(contact.contactid)}`, { 'parentcustomerid_account@odata.bind': `/accounts(${String(moved.accountid)})` });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);

	const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(contact.contactid)}`);
	expect(String(row._parentcustomerid_value).toLowerCase()).toBe(String(moved.accountid).toLowerCase());
	const twin = await acContact('qualified.moved@example.org');
	expect(twin.fields.D365_RECORD_ID).toBe(`contact:${String(contact.contactid)}`);
	expect(twin.account).toMatchObject({ name: 'Moved Co' });
});

it('Dynamics wins, Keep: a job title the qualification carried to the contact and Dynamics then cleared is cleared in ActiveCampaign too; a phone it does not carry stays (soak, seed 22000)', async () => {
	const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' });
	await cycle(workflow);
	const company = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Title Co' });
	const lead = await world.must<IDataObject>('d365', 'POST', '/ui/leads', {
		firstname: 'Ann',
		lastname: 'Lee',
		emailaddress1: 'qualified.cleared@example.org',
		subject: 'Model',
		companyname: 'Title Co',
		jobtitle: 'Buyer',
		telephone1: '+1 555 0400',
	});
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);
	expect((await acContact('qualified.cleared@example.org')).account).toMatchObject({ name: 'Title Co', jobTitle: 'Buyer' });
	expect((await acContact('qualified.cleared@example.org')).contact.phone).toBe('+1 555 0400');

	// Qualified into a contact (the job title carries over, the business phone does not), put at the account, and its
	// job title cleared before the next sync.
	await world.must('d365', 'POST', `/ui/leads/${String(lead.leadid)}/qualify`, { createAccount: false, createContact: true, createOpportunity: false });
	const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'qualified.cleared@example.org')!;
	expect(contact.jobtitle).toBe('Buyer');
	await world.must('d365', 'PATCH', `/ui/contacts/${String(contact.contactid)}`, { 'parentcustomerid_account@odata.bind': `/accounts(${String(company.accountid)})` });
	await world.must('d365', 'PATCH', `/ui/contacts/${String(contact.contactid)}`, { jobtitle: null });
	world.tick(2);
	await cycle(workflow);
	await cycle(workflow);

	const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(contact.contactid)}`);
	expect(row.jobtitle ?? null).toBeNull();
	expect(row.telephone1).toBe('+1 555 0400');
	const twin = await acContact('qualified.cleared@example.org');
	expect(twin.fields.D365_RECORD_ID).toBe(`contact:${String(contact.contactid)}`);
	expect(twin.account).toMatchObject({ name: 'Title Co' });
	expect(twin.account?.jobTitle || null).toBeNull();
	expect(twin.contact.phone).toBe('+1 555 0400');
});

it("an ActiveCampaign job title cleared while Dynamics moves the contact to another account is not undone by the move (soak, seed 26000)", async () => {
	await cycle();
	await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Co Zero' });
	world.tick(1);
	await world.must('ac', 'POST', '/ui/contacts', {
		email: 'moved.cleared@example.org',
		firstName: 'Mo',
		lastName: 'Ved',
		tags: ['[D365: Contact]'],
		account: 'Co Zero',
		jobTitle: 'Title Two',
	});
	world.tick(1);
	const second = await world.must<IDataObject>('d365', 'POST', '/ui/accounts', { name: 'Co One' });
	world.tick(2);
	// The first sync: ActiveCampaign throttles some writes (they are retried by the request).
	await world.must('ac', 'PUT', '/faults', { rate429: 0.3, retryAfterSeconds: 0, routePattern: '^(POST|PUT|DELETE) ', seed: 0 });
	const [first] = await world.runCycle(scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' }));
	expect(runError(first)).toBeUndefined();
	await world.must('ac', 'DELETE', '/faults');
	world.tick(2);
	const contact = (await d365Rows('contacts')).find((c) => c.emailaddress1 === 'moved.cleared@example.org')!;
	expect(contact.jobtitle).toBe('Title Two');

	// In one window: Dynamics moves the contact to Co One; ActiveCampaign clears the job title (on the Co Zero link).
	await world.must('d365', 'PATCH', `/ui/contacts/${String(contact.contactid)}`, { 'parentcustomerid_account@odata.bind': `/accounts(${String(second.accountid)})` });
	world.tick(1);
	await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent('moved.cleared@example.org')}`, { account: 'Co Zero', jobTitle: '' });
	world.tick(2);
	// ActiveCampaign throttles contact updates for longer than a node waits; by this seed's draws the one that records
	// the state after the sync moved the link to Co One fails: the link has moved, its state is not recorded.
	await world.must('ac', 'PUT', '/faults', { rate429: 0.5, retryAfterSeconds: 61, routePattern: '^PUT /api/3/contacts/', seed: 1 });
	await world.runCycle(scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' }));
	await world.must('ac', 'DELETE', '/faults');
	expect((await acContact('moved.cleared@example.org')).account).toMatchObject({ name: 'Co One', jobTitle: '' });
	world.tick(2);
	retryNow();
	await cycle();
	retryNow();
	await cycle();

	const twin = await acContact('moved.cleared@example.org');
	expect(twin.account?.name).toBe('Co One');
	expect(twin.account?.jobTitle || null).toBeNull();
	expect((await world.must<IDataObject>('d365', 'GET', `/state/contacts/${String(contact.contactid)}`)).jobtitle ?? null).toBeNull();
});
