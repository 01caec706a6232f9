/**
 * Create or Update in "Sync Item (from Field Map)" mode: matching by Dynamics id then email, echo skips, conflicts
 * under each policy, and the new stored state in the output.
 */
import type { IDataObject } from 'n8n-workflow';

import { fieldHash, formatFieldState, pairKey, parseFieldState } from '../../../nodes/shared/sync/fieldState';
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

/** ActiveCampaign key → Dynamics column of the mapped pairs these items carry. */
const AC_KEYS: Record<string, string> = { emailaddress1: 'email', firstname: 'firstName', lastname: 'lastName', jobtitle: 'jobTitle', name: 'name', websiteurl: 'accountUrl' };

/** Sync fields as the Field Map builds them from an ActiveCampaign record with the given values (by column). */
function fieldsOf(record: IDataObject, columns: string[]): IDataObject[] {
	return columns.map((column) => {
		const ac = AC_KEYS[column] ?? column;
		const value = column.endsWith('@odata.bind') ? /name='(.*)'\)$/.exec(String(record[column] ?? ''))?.[1] : record[column];
		return { key: pairKey(ac, column), activeCampaign: ac, dynamics: column, direction: 'both', source: fieldHash(value, column === 'emailaddress1') };
	});
}

/** The keys of a mapping over these columns. */
const keysOf = (columns: string[]) => columns.map((column) => pairKey(AC_KEYS[column] ?? column, column));

/** Each item stands for its own ActiveCampaign contact (records created from one get one derived id). */
let acIds = 40;

function syncItem(record: IDataObject, extra: IDataObject = {}): IDataObject {
	const acId = String(acIds++);
	const acRecord = { email: record.emailaddress1, firstName: record.firstname, lastName: record.lastname, title: record.jobtitle };
	return {
		entity: 'contact',
		direction: 'toDynamics',
		record,
		match: { email: record.emailaddress1, acId },
		source: { system: 'activecampaign', id: acId, modifiedAt: new Date().toISOString(), hash: stateHash(acRecord, ['email', 'firstName', 'lastName', 'title']) },
		state: { stored: null, targetHashFields: FIELDS },
		fields: fieldsOf(record, FIELDS),
		policy: { conflict: 'dynamicsWins', precedence: 'contact' },
		...extra,
	};
}

/** The state after a sync in which both sides hold the given values (by column). */
function syncedState(values: IDataObject, columns = FIELDS): string {
	return formatFieldState(
		keysOf(columns),
		new Map(columns.map((c) => [pairKey(AC_KEYS[c] ?? c, c), { ac: fieldHash(values[c], c === 'emailaddress1'), d365: fieldHash(values[c], c === 'emailaddress1') }])),
	);
}

async function row(id: string): Promise<IDataObject> {
	return await t.control<IDataObject>('GET', `/state/contacts/${id}`);
}

describe('Sync Item mode', () => {
	it('choice values of a sync item are labels: "Phone" is written as its option; "100000001" (a label ActiveCampaign may hold) is no label and is refused', async () => {
		const columns = [...FIELDS, 'new_preferredchannel'];
		const record = { emailaddress1: 'label.only@example.org', firstname: 'La', lastname: 'Bel', jobtitle: null, new_preferredchannel: 'Phone' };
		const written = jsonOf(await t.run(params, [syncItem(record, { fields: fieldsOf(record, columns), state: { stored: null, targetHashFields: columns } })]))[0];
		expect(written.operation).toBe('created');
		const row = (await t.control<{ value: IDataObject[] }>('GET', '/state/contacts')).value.find((c) => c.emailaddress1 === 'label.only@example.org')!;
		expect(row.new_preferredchannel).toBe(100000001);

		const numeric = { ...record, emailaddress1: 'number.label@example.org', new_preferredchannel: '100000001' };
		await t.resetStats();
		const refused = jsonOf(
			await t.run(params, [syncItem(numeric, { fields: fieldsOf(numeric, columns), state: { stored: null, targetHashFields: columns } })], { continueOnFail: true }),
		)[0];
		expect(String(refused.error)).toMatch(/'100000001' is not a label of the choice column 'new_preferredchannel'\. Its labels: Email, Phone, SMS, WhatsApp/);
		expect(await t.count(WRITES)).toBe(0);
	});

	it('creates a missing record and returns the new stored state, computed from the record as stored', async () => {
		const item = syncItem({ emailaddress1: 'sync.new@example.org', firstname: 'Sync', lastname: 'New', jobtitle: 'Buyer' });
		const [out] = jsonOf(await t.run(params, [item]));
		expect(out).toMatchObject({ operation: 'created', entity: 'contact', direction: 'toDynamics' });
		const stored = await row(String(out.id));
		expect(out.link).toBe(`contact:${out.id}`);
		expect(out.match).toMatchObject({ acId: (item.match as IDataObject).acId, d365Id: out.id, d365Entity: 'contact' });
		expect(out.state).toBe(syncedState(stored));
		expect(out.stateFields).toHaveLength(FIELDS.length);
		expect(out.stateBase).toBeNull();
		// A record created from ActiveCampaign gets an id derived from the ActiveCampaign record.
		expect(String(out.id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5/);
	});

	it('sets create-only columns (required-column defaults) on a new record and never on an update', async () => {
		const leadParams = { resource: 'lead', operation: 'createOrUpdate', dataMode: 'syncItem', options: {} };
		const lead = (lastname: string) => ({
			...syncItem({ emailaddress1: 'create.only@example.org', firstname: 'Create', lastname }),
			entity: 'lead',
			match: { email: 'create.only@example.org', acId: '77', d365Entity: 'lead' },
			createOnly: { subject: 'ActiveCampaign contact' },
			state: { stored: null, targetHashFields: ['emailaddress1', 'firstname', 'lastname'] },
			fields: fieldsOf({ emailaddress1: 'create.only@example.org', firstname: 'Create', lastname }, ['emailaddress1', 'firstname', 'lastname']),
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
		// Stored at the last sync: ActiveCampaign held exactly these values (Dynamics has changed the job title since).
		const stored = syncedState({ ...maria, jobtitle: 'Echo Title' });
		(item.state as IDataObject).stored = stored;
		await t.resetStats();
		const [out] = jsonOf(await t.run(params, [item]));
		expect(out).toMatchObject({ operation: 'skipped', reason: 'unchanged since last sync', state: null, stateBase: stored });
		expect(await t.count(WRITES)).toBe(0);
		expect((await row(String(out.id))).jobtitle).toBe(maria.jobtitle);
	});

	it('matches by the Dynamics id first, then by email', async () => {
		const id = t.demoIds['contact:li.wei@fabrikam.com'];
		const byId = syncItem({ emailaddress1: 'li.wei.new@fabrikam.com', firstname: 'Li', lastname: 'Wei', jobtitle: 'By Id' }, {
			match: { d365Id: id, email: 'li.wei.new@fabrikam.com' },
		});
		// Synced before with Dynamics' current values: this is a plain ActiveCampaign change.
		(byId.state as IDataObject).stored = syncedState(await row(id));
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
		// Both sides' digests, and the Dynamics row version they reflect (a stale read of it is recognised later).
		expect(out.state).toBe(`${syncedState(priya)}~${Number(priya.versionnumber).toString(36)}`);
		expect(await t.count(WRITES)).toBe(0);
	});

	describe('conflicts: both sides changed since the last sync', () => {
		let id: string;
		let base: IDataObject;
		let stored: string;
		beforeEach(async () => {
			// A synced contact: the stored state matches Dynamics, then a person edits it in Dynamics.
			const created = jsonOf(await t.run(params, [syncItem({ emailaddress1: `conflict.${Date.now()}@example.org`, firstname: 'Con', lastname: 'Flict', jobtitle: 'Original' })]))[0];
			id = String(created.id);
			stored = String(created.state);
			await t.control('PATCH', `/ui/contacts/${id}`, { jobtitle: 'Changed in Dynamics' });
			base = await row(id);
		});

		const changedInAc = (policy: string, modifiedAt: string) => {
			const item = syncItem({ emailaddress1: base.emailaddress1, firstname: 'Con', lastname: 'Flict', jobtitle: 'Changed in ActiveCampaign' }, {
				policy: { conflict: policy },
				match: { d365Id: id },
			});
			(item.state as IDataObject).stored = stored;
			(item.source as IDataObject).modifiedAt = modifiedAt;
			return item;
		};

		it('dynamicsWins: the ActiveCampaign change is skipped', async () => {
			const [out] = jsonOf(await t.run(params, [changedInAc('dynamicsWins', new Date().toISOString())]));
			expect(out.operation).toBe('skipped');
			expect(String(out.reason)).toMatch(/^conflict: .*Dynamics wins \(dynamicsWins\)/);
			expect(out.conflicts).toEqual([{ activeCampaign: 'jobTitle', dynamics: 'jobtitle', winner: 'dynamics', policy: 'dynamicsWins' }]);
			// The job title is settled: stored as if ActiveCampaign's value had been synced, so the other direction carries
			// Dynamics' change without deciding it again.
			const jobTitle = pairKey('jobTitle', 'jobtitle');
			expect(out.stateFields).toHaveLength(4);
			const settled = fieldHash('Changed in ActiveCampaign');
			expect(parseFieldState(out.state, keysOf(FIELDS))!.get(jobTitle)).toEqual({ ac: settled, d365: settled });
			expect((await row(id)).jobtitle).toBe('Changed in Dynamics');
		});

		it('activeCampaignWins: the ActiveCampaign change is written', async () => {
			const item = changedInAc('activeCampaignWins', new Date().toISOString());
			const [out] = jsonOf(await t.run(params, [item]));
			expect(out).toMatchObject({ operation: 'updated', changedColumns: ['jobtitle'] });
			const now = await row(id);
			expect(now.jobtitle).toBe('Changed in ActiveCampaign');
			expect(out.conflicts).toEqual([{ activeCampaign: 'jobTitle', dynamics: 'jobtitle', winner: 'activeCampaign', policy: 'activeCampaignWins' }]);
			expect(parseFieldState(out.state, keysOf(FIELDS))!.get(pairKey('jobTitle', 'jobtitle'))).toEqual({
				ac: fieldHash('Changed in ActiveCampaign'),
				d365: fieldHash(now.jobtitle),
			});
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
			fields: fieldsOf({ name: 'Sync Account Ltd', websiteurl: 'https://sync.example.org' }, ['name', 'websiteurl']),
		};
		const contactRecord = { emailaddress1: 'sync.account.contact@example.org', lastname: 'Member', 'parentcustomerid_account@odata.bind': "/accounts(name='Sync Account Ltd')" };
		const contactColumns = ['emailaddress1', 'lastname', 'parentcustomerid'];
		const contact = syncItem(contactRecord, {
			state: { targetHashFields: ['emailaddress1', 'lastname', 'parentcustomerid_account@odata.bind'] },
			fields: fieldsOf({ ...contactRecord, parentcustomerid: 'Sync Account Ltd' }, contactColumns),
		});
		const [acc] = jsonOf(await t.run(params, [account]));
		expect(acc).toMatchObject({ operation: 'created', entity: 'account' });
		expect(acc.link).toBe(acc.id);
		const [con] = jsonOf(await t.run(params, [contact]));
		expect(con.operation).toBe('created');
		const stored = await row(String(con.id));
		expect(stored._parentcustomerid_value).toBe(acc.id);
		// The digest of a lookup is over the related record's GUID, the same value Get Changes returns as _x_value.
		expect(parseFieldState(con.state, keysOf(contactColumns))!.get(pairKey('parentcustomerid', 'parentcustomerid'))!.d365).toBe(fieldHash(acc.id));
		// Again: nothing to write.
		const [again] = jsonOf(await t.run(params, [{ ...contact, match: { ...(contact.match as IDataObject), d365Id: con.id }, state: { ...(contact.state as IDataObject), stored: con.state } }]));
		expect(again).toMatchObject({ operation: 'skipped', reason: 'unchanged since last sync' });
	});
});

describe('Preview (No Writes)', () => {
	const preview = { ...params, preview: true };

	it('says what it would create and update, field by field, writes nothing, moves no retry queue; the real run then does exactly that', async () => {
		const id = t.demoIds['contact:priya.patel@litware.com'];
		const priya = await row(id);
		const changed = syncItem({ emailaddress1: priya.emailaddress1, firstname: priya.firstname, lastname: priya.lastname, jobtitle: 'Previewed Title' }, { match: { d365Id: id } });
		(changed.state as IDataObject).stored = syncedState(priya);
		const created = syncItem({ emailaddress1: 'preview.new@example.org', firstname: 'Pre', lastname: 'View', jobtitle: null });
		const staticBefore = t.harness.savedStatic();
		await t.resetStats();

		const shown = jsonOf(await t.runPersistent(preview, [changed, created], { name: 'Preview writes' }));
		expect(shown.map((o) => [o.operation, o.preview])).toEqual([
			['updated', true],
			['created', true],
		]);
		expect(shown[0]).toMatchObject({ id, changes: [{ field: 'jobtitle', before: priya.jobtitle ?? null, after: 'Previewed Title' }] });
		expect(shown[1].changes).toEqual(
			expect.arrayContaining([
				{ field: 'emailaddress1', before: null, after: 'preview.new@example.org' },
				{ field: 'firstname', before: null, after: 'Pre' },
				{ field: 'lastname', before: null, after: 'View' },
			]),
		);
		// Reads only (a read batch is a POST; so is the token request).
		expect(await t.count(/^(POST|PATCH|PUT|DELETE) (?!\/\{tenant\})(?!.*\(reads\)$)/)).toBe(0);
		expect((await row(id)).jobtitle).toBe(priya.jobtitle);
		// n8n creates an empty `global` on first use; nothing is in it.
		expect(t.harness.savedStatic()).toEqual({ ...staticBefore, global: staticBefore.global ?? {} });

		const real = jsonOf(await t.runPersistent(params, [changed, created], { name: 'Preview writes' }));
		expect(real.map((o) => [o.operation, o.id])).toEqual(shown.map((o) => [o.operation, o.id]));
		// Two writes are sent one by one (a $batch from four): the requests the preview counted.
		expect(shown.map((o) => o.writeRequests)).toEqual([1, 1]);
		expect(await t.count(/^(POST|PATCH|PUT|DELETE) (?!\/\{tenant\})(?!.*\(reads\)$)/)).toBe(2);
		expect(real.map((o) => o.state)).toEqual(shown.map((o) => o.state));
		expect((await row(id)).jobtitle).toBe('Previewed Title');
	});

	it('skips in a preview exactly as the real run would, with the reason', async () => {
		const id = t.demoIds['contact:li.wei@fabrikam.com'];
		const li = await row(id);
		const same = syncItem({ emailaddress1: li.emailaddress1, firstname: li.firstname, lastname: li.lastname, jobtitle: li.jobtitle ?? null }, { match: { d365Id: id } });
		const [out] = jsonOf(await t.run(preview, [same]));
		expect(out).toMatchObject({ operation: 'skipped', reason: 'no changes', id });
	});
});
