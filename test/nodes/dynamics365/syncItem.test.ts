/**
 * Create or Update in "Sync Item (from Field Map)" mode: matching by Dynamics id then email, echo skips, conflicts
 * under each policy, and the new stored state in the output.
 */
import type { IDataObject } from 'n8n-workflow';

import { stateHash } from '../../../nodes/shared/sync/state';
import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

const FIELDS = ['emailaddress1', 'firstname', 'lastname', 'jobtitle'];
const params = { resource: 'contact', operation: 'createOrUpdate', dataMode: 'syncItem', options: {} };
const WRITES = /^(POST|PATCH) \/api\/data\/v9\.2\/(?!\{)/;

function syncItem(record: IDataObject, extra: IDataObject = {}): IDataObject {
	const acRecord = { email: record.emailaddress1, firstName: record.firstname, lastName: record.lastname, title: record.jobtitle };
	return {
		entity: 'contact',
		direction: 'toDynamics',
		record,
		match: { email: record.emailaddress1, acId: '42' },
		source: { system: 'activecampaign', id: '42', modifiedAt: new Date().toISOString(), hash: stateHash(acRecord, ['email', 'firstName', 'lastName', 'title']) },
		state: { stored: null, targetHashFields: FIELDS },
		policy: { conflict: 'dynamicsWins', precedence: 'contact' },
		...extra,
	};
}

async function row(id: string): Promise<IDataObject> {
	return await t.control<IDataObject>('GET', `/state/contacts/${id}`);
}

describe('Sync Item mode', () => {
	it('creates a missing record and returns the new stored state, computed from the record as stored', async () => {
		const item = syncItem({ emailaddress1: 'sync.new@example.org', firstname: 'Sync', lastname: 'New', jobtitle: 'Buyer' });
		const [out] = jsonOf(await t.run(params, [item]));
		expect(out).toMatchObject({ operation: 'created', entity: 'contact', direction: 'toDynamics' });
		const stored = await row(String(out.id));
		expect(out.link).toBe(`contact:${out.id}`);
		expect(out.match).toMatchObject({ acId: '42', d365Id: out.id, d365Entity: 'contact' });
		expect(out.state).toEqual({ acHash: (item.source as IDataObject).hash, d365Hash: stateHash(stored, FIELDS) });
		expect(out.stateValue).toBe(`v1:${(item.source as IDataObject).hash}:${stateHash(stored, FIELDS)}`);
	});

	it('sets create-only columns (required-column defaults) on a new record and never on an update', async () => {
		const leadParams = { resource: 'lead', operation: 'createOrUpdate', dataMode: 'syncItem', options: {} };
		const lead = (lastname: string) => ({
			...syncItem({ emailaddress1: 'create.only@example.org', firstname: 'Create', lastname }),
			entity: 'lead',
			match: { email: 'create.only@example.org', acId: '77', d365Entity: 'lead' },
			createOnly: { subject: 'ActiveCampaign contact' },
			state: { stored: null, targetHashFields: ['emailaddress1', 'firstname', 'lastname'] },
		});
		const [created] = jsonOf(await t.run(leadParams, [lead('Only')]));
		expect(created).toMatchObject({ operation: 'created', entity: 'lead' });
		expect((await t.control<IDataObject>('GET', `/state/leads/${created.id}`)).subject).toBe('ActiveCampaign contact');
		await t.control('PATCH', `/ui/leads/${created.id}`, { subject: 'Renamed by sales' });
		// The next sync of the same lead carries the state recorded after the first write.
		const next = { ...lead('Changed'), state: { stored: created.state, targetHashFields: ['emailaddress1', 'firstname', 'lastname'] } };
		const [updated] = jsonOf(await t.run(leadParams, [next]));
		expect(updated).toMatchObject({ operation: 'updated', id: created.id });
		const after = await t.control<IDataObject>('GET', `/state/leads/${created.id}`);
		expect([after.subject, after.lastname]).toEqual(['Renamed by sales', 'Changed']);
	});

	it('skips an echo (the source is unchanged since the last sync) without writing, keeping the stored state', async () => {
		const maria = await row(t.demoIds['contact:maria.garcia@contoso.com']);
		const item = syncItem({ emailaddress1: maria.emailaddress1, firstname: maria.firstname, lastname: maria.lastname, jobtitle: 'Echo Title' });
		const stored = { acHash: (item.source as IDataObject).hash as string, d365Hash: '0123456789abcdef' };
		(item.state as IDataObject).stored = stored;
		await t.resetStats();
		const [out] = jsonOf(await t.run(params, [item]));
		expect(out).toMatchObject({ operation: 'skipped', reason: 'unchanged since last sync', state: stored });
		expect(await t.count(WRITES)).toBe(0);
		expect((await row(String(out.id))).jobtitle).toBe(maria.jobtitle);
	});

	it('matches by the Dynamics id first, then by email', async () => {
		const id = t.demoIds['contact:li.wei@fabrikam.com'];
		const byId = syncItem({ emailaddress1: 'li.wei.new@fabrikam.com', firstname: 'Li', lastname: 'Wei', jobtitle: 'By Id' }, {
			match: { d365Id: id, email: 'li.wei.new@fabrikam.com' },
		});
		// Synced before: the stored Dynamics hash is the record's current one, so this is a plain ActiveCampaign change.
		(byId.state as IDataObject).stored = { acHash: 'cccccccccccccccc', d365Hash: stateHash(await row(id), FIELDS) };
		const [first] = jsonOf(await t.run(params, [byId]));
		expect(first).toMatchObject({ operation: 'updated', id });
		expect((await row(id)).emailaddress1).toBe('li.wei.new@fabrikam.com');

		const byEmail = syncItem({ emailaddress1: 'LI.WEI.NEW@fabrikam.com', firstname: 'Li', lastname: 'Wei', jobtitle: 'By Email' });
		(byEmail.state as IDataObject).stored = (first.state as IDataObject);
		const [second] = jsonOf(await t.run(params, [byEmail]));
		expect(second).toMatchObject({ operation: 'updated', id });
	});

	it('reports "no changes" with the state of both sides when the records are already equal', async () => {
		const id = t.demoIds['contact:priya.patel@litware.com'];
		const priya = await row(id);
		const item = syncItem({ emailaddress1: priya.emailaddress1, firstname: priya.firstname, lastname: priya.lastname, jobtitle: priya.jobtitle ?? null });
		await t.resetStats();
		const [out] = jsonOf(await t.run(params, [item]));
		expect(out).toMatchObject({ operation: 'skipped', reason: 'no changes', id });
		expect(out.state).toEqual({ acHash: (item.source as IDataObject).hash, d365Hash: stateHash(priya, FIELDS) });
		expect(await t.count(WRITES)).toBe(0);
	});

	describe('conflicts: both sides changed since the last sync', () => {
		let id: string;
		let base: IDataObject;
		let storedD365: string;
		beforeEach(async () => {
			// A synced contact: the stored state matches Dynamics, then a person edits it in Dynamics.
			const created = jsonOf(await t.run(params, [syncItem({ emailaddress1: `conflict.${Date.now()}@example.org`, firstname: 'Con', lastname: 'Flict', jobtitle: 'Original' })]))[0];
			id = String(created.id);
			storedD365 = (created.state as IDataObject).d365Hash as string;
			await t.control('PATCH', `/ui/contacts/${id}`, { jobtitle: 'Changed in Dynamics' });
			base = await row(id);
		});

		const changedInAc = (policy: string, modifiedAt: string) => {
			const item = syncItem({ emailaddress1: base.emailaddress1, firstname: 'Con', lastname: 'Flict', jobtitle: 'Changed in ActiveCampaign' }, {
				policy: { conflict: policy },
				match: { d365Id: id },
			});
			(item.state as IDataObject).stored = { acHash: 'aaaaaaaaaaaaaaaa', d365Hash: storedD365 };
			(item.source as IDataObject).modifiedAt = modifiedAt;
			return item;
		};

		it('dynamicsWins: the ActiveCampaign change is skipped', async () => {
			const [out] = jsonOf(await t.run(params, [changedInAc('dynamicsWins', new Date().toISOString())]));
			expect(out.operation).toBe('skipped');
			expect(String(out.reason)).toMatch(/^conflict: .*Dynamics wins \(dynamicsWins\)/);
			expect(out.state).toEqual({ acHash: 'aaaaaaaaaaaaaaaa', d365Hash: storedD365 });
			expect((await row(id)).jobtitle).toBe('Changed in Dynamics');
		});

		it('activeCampaignWins: the ActiveCampaign change is written', async () => {
			const item = changedInAc('activeCampaignWins', new Date().toISOString());
			const [out] = jsonOf(await t.run(params, [item]));
			expect(out).toMatchObject({ operation: 'updated', changedColumns: ['jobtitle'] });
			const now = await row(id);
			expect(now.jobtitle).toBe('Changed in ActiveCampaign');
			expect(out.state).toEqual({ acHash: (item.source as IDataObject).hash, d365Hash: stateHash(now, FIELDS) });
		});

		it('newestWins: the older side loses', async () => {
			const older = jsonOf(await t.run(params, [changedInAc('newestWins', '2020-01-01T00:00:00Z')]))[0];
			expect(older.operation).toBe('skipped');
			expect(String(older.reason)).toMatch(/newestWins/);
			const newer = jsonOf(await t.run(params, [changedInAc('newestWins', new Date(Date.now() + 60_000).toISOString())]))[0];
			expect(newer.operation).toBe('updated');
		});

		it('uses the node option when the item names no policy', async () => {
			const item = changedInAc('activeCampaignWins', new Date().toISOString());
			delete item.policy;
			const [skipped] = jsonOf(await t.run(params, [item]));
			expect(skipped.operation).toBe('skipped');
			const [written] = jsonOf(await t.run({ ...params, options: { conflictPolicy: 'activeCampaignWins' } }, [item]));
			expect(written.operation).toBe('updated');
		});
	});

	it('refuses items going to ActiveCampaign, per item', async () => {
		const item = syncItem({ emailaddress1: 'wrong.way@example.org', lastname: 'Way' }, { direction: 'toActiveCampaign' });
		const [out] = jsonOf(await t.run(params, [item], { continueOnFail: true }));
		expect(String(out.error)).toMatch(/toActiveCampaign/);
	});

	it('links accounts by name and resolves the contact → account lookup by name', async () => {
		const account = {
			entity: 'account',
			direction: 'toDynamics',
			record: { name: 'Sync Account Ltd', websiteurl: 'https://sync.example.org' },
			match: { name: 'Sync Account Ltd' },
			source: { hash: 'bbbbbbbbbbbbbbbb' },
			state: { targetHashFields: ['name', 'websiteurl'] },
		};
		const contact = syncItem(
			{ emailaddress1: 'sync.account.contact@example.org', lastname: 'Member', 'parentcustomerid_account@odata.bind': "/accounts(name='Sync Account Ltd')" },
			{ state: { targetHashFields: ['emailaddress1', 'lastname', 'parentcustomerid_account@odata.bind'] } },
		);
		const [acc] = jsonOf(await t.run(params, [account]));
		expect(acc).toMatchObject({ operation: 'created', entity: 'account' });
		expect(acc.link).toBe(acc.id);
		const [con] = jsonOf(await t.run(params, [contact]));
		expect(con.operation).toBe('created');
		const stored = await row(String(con.id));
		expect(stored._parentcustomerid_value).toBe(acc.id);
		// The hash of a bind field is over the lookup's GUID, the same value Get Changes returns as _x_value.
		expect((con.state as IDataObject).d365Hash).toBe(
			stateHash({ emailaddress1: stored.emailaddress1, lastname: stored.lastname, 'parentcustomerid_account@odata.bind': acc.id }, [
				'emailaddress1',
				'lastname',
				'parentcustomerid_account@odata.bind',
			]),
		);
		// Again: nothing to write.
		const [again] = jsonOf(await t.run(params, [contact]));
		expect(again).toMatchObject({ operation: 'skipped', reason: 'no changes' });
	});
});
