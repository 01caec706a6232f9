/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The Dynamics 365 Trigger through n8n's PollContext against the sandbox: every change emitted exactly once with the
 * right event across polls (same-second changes, changes made while a poll runs), the echo guard, first activation
 * from now or a start date, manual samples, criteria, backlog drained in parts, change tracking with deletions.
 */
import type { IDataObject } from 'n8n-workflow';

import { jsonOf, setupD365, type D365Test } from './helpers';

let t: D365Test;
beforeAll(async () => {
	t = await setupD365();
});
afterAll(async () => await t.close());

const contactEvents = { events: ['contact.created', 'contact.updated'], mode: 'watermark', options: {} };

async function uiCreate(set: string, body: IDataObject): Promise<string> {
	const created = await t.control<IDataObject>('POST', `/ui/${set}`, body);
	const id = (created.id ?? created.contactid ?? created.leadid ?? created.accountid ?? created.opportunityid) as string;
	expect(id).toBeTruthy();
	return id;
}

async function uiUpdate(set: string, id: string, body: IDataObject): Promise<void> {
	await t.control('PATCH', `/ui/${set}/${id}`, body);
}

async function startOfSecond(): Promise<void> {
	while (Date.now() % 1000 > 150) await new Promise((r) => setTimeout(r, 20));
}

/** Collects every emitted (id, event) to check exactly-once delivery. */
class Ledger {
	readonly emitted: Array<{ trigger: string; id: string; event: string; entity: string }> = [];
	constructor(private readonly trigger: string) {}
	add(items: IDataObject[] | null): IDataObject[] {
		for (const item of items ?? []) {
			this.emitted.push({ trigger: this.trigger, id: String(item.id), event: String(item.event), entity: String(item.entity) });
		}
		return items ?? [];
	}
	count(id: string, event?: string): number {
		return this.emitted.filter((e) => e.id === id && (!event || e.event === event)).length;
	}
}

describe('Dynamics 365 Trigger (modified time)', () => {
	const name = 'Contacts';
	const ledger = new Ledger(name);

	it('starts from now on first activation: nothing from before is emitted', async () => {
		expect(await t.poll(contactEvents, 'trigger', name)).toBeNull();
	});

	it('emits a created record once, then nothing', async () => {
		const id = await uiCreate('contacts', { firstname: 'Trig', lastname: 'One', emailaddress1: 'trig.one@example.org' });
		const items = ledger.add(await t.poll(contactEvents, 'trigger', name));
		expect(items).toEqual([expect.objectContaining({ id, event: 'created', entity: 'contact', contactid: id, lastname: 'One' })]);
		expect(ledger.add(await t.poll(contactEvents, 'trigger', name))).toEqual([]);
	});

	it('tells updates from creations and emits each version once', async () => {
		const id = ledger.emitted[0].id;
		await uiUpdate('contacts', id, { jobtitle: 'Updated once' });
		expect(ledger.add(await t.poll(contactEvents, 'trigger', name))).toEqual([
			expect.objectContaining({ id, event: 'updated', jobtitle: 'Updated once' }),
		]);
		expect(ledger.add(await t.poll(contactEvents, 'trigger', name))).toEqual([]);
	});

	it('catches changes in the same second as the previous poll (second-precision modifiedon)', async () => {
		await startOfSecond();
		const a = await uiCreate('contacts', { lastname: 'Same Second A' });
		const first = ledger.add(await t.poll(contactEvents, 'trigger', name));
		expect(first.map((i) => i.id)).toEqual([a]);
		// Within the same second: a new record and a second change to the first one.
		const b = await uiCreate('contacts', { lastname: 'Same Second B' });
		await uiUpdate('contacts', a, { jobtitle: 'same second update' });
		const rowA = await t.control<IDataObject>('GET', `/state/contacts/${a}`);
		const rowB = await t.control<IDataObject>('GET', `/state/contacts/${b}`);
		expect(rowA.modifiedon).toBe(rowB.modifiedon);
		expect(String(rowA.createdon)).toBe(String(rowA.modifiedon));
		const second = ledger.add(await t.poll(contactEvents, 'trigger', name));
		expect(second.map((i) => `${i.id}:${i.event}`).sort()).toEqual([`${a}:updated`, `${b}:created`].sort());
		expect(ledger.add(await t.poll(contactEvents, 'trigger', name))).toEqual([]);
	});

	it('catches changes made while a poll runs, exactly once', async () => {
		const before = await uiCreate('contacts', { lastname: 'Before Poll' });
		// Activation in a later second than that creation: it is not emitted as created.
		await new Promise((r) => setTimeout(r, 1000));
		const local = new Ledger('Contacts and leads');
		await t.control('PUT', '/limits', { latencyMs: 400 });
		try {
			const events = { ...contactEvents, events: ['contact.created', 'contact.updated', 'lead.created', 'lead.updated'] };
			const pollNamed = 'Contacts and leads';
			expect(await t.poll(events, 'trigger', pollNamed)).toBeNull();
			await t.resetStats();
			const running = t.poll(events, 'trigger', pollNamed);
			// While the contacts query is held by the sandbox (not yet run): this change is in this poll's read.
			await new Promise((r) => setTimeout(r, 150));
			const during = await uiCreate('contacts', { lastname: 'During Read' });
			// After the contacts query ran, while the leads query runs: this change is for the next poll.
			for (let i = 0; i < 100 && (await t.count(/^GET \/api\/data\/v9\.2\/contacts$/)) === 0; i++) await new Promise((r) => setTimeout(r, 20));
			const after = await uiCreate('contacts', { lastname: 'After Read' });
			await uiUpdate('contacts', before, { jobtitle: 'changed while polling' });
			const lead = await uiCreate('leads', { lastname: 'Lead During', subject: 'Interest' });
			const firstItems = local.add(await running);
			const secondItems = local.add(await t.poll(events, 'trigger', pollNamed));
			const thirdItems = local.add(await t.poll(events, 'trigger', pollNamed));
			const all = [...firstItems, ...secondItems, ...thirdItems].map((i) => `${i.entity}:${i.id}:${i.event}`);
			expect(all.filter((k) => k.includes(during))).toEqual([`contact:${during}:created`]);
			expect(all.filter((k) => k.includes(after))).toEqual([`contact:${after}:created`]);
			expect(all.filter((k) => k.includes(before))).toEqual([`contact:${before}:updated`]);
			expect(all.filter((k) => k.includes(lead))).toEqual([`lead:${lead}:created`]);
			expect(thirdItems).toEqual([]);
			expect(new Set(all).size).toBe(all.length);
		} finally {
			await t.control('PUT', '/limits', { latencyMs: 0 });
		}
	});

	it('ignores changes made by its own connection (echo guard, on by default)', async () => {
		const own = jsonOf(
			await t.run({ resource: 'contact', operation: 'create', dataMode: 'autoMap', options: {} }, [{ lastname: 'Written By Sync', emailaddress1: 'echo@example.org' }]),
		)[0];
		const human = await uiCreate('contacts', { lastname: 'Written By Human' });
		const items = ledger.add(await t.poll(contactEvents, 'trigger', name));
		expect(items.map((i) => i.id)).toContain(human);
		expect(ledger.count(String(own.id))).toBe(0);

		// A person then edits the record the sync created: that change is emitted.
		await uiUpdate('contacts', String(own.id), { jobtitle: 'Edited by a person' });
		expect(ledger.add(await t.poll(contactEvents, 'trigger', name)).map((i) => `${i.id}:${i.event}`)).toEqual([`${own.id}:updated`]);
		expect(ledger.add(await t.poll(contactEvents, 'trigger', name))).toEqual([]);

		// With the guard off, the connection's own changes are emitted too.
		const unguarded = { ...contactEvents, options: { ignoreOwnChanges: false, startFrom: new Date(Date.now() - 60_000).toISOString() } };
		const all = await t.poll(unguarded, 'trigger', 'Unguarded');
		expect((all ?? []).map((i) => i.id)).toContain(own.id);
	});

	it('emits each change exactly once over all polls of this test', () => {
		const keys = ledger.emitted.map((e) => `${e.id}:${e.event}`);
		// Updated events may repeat for a record changed several times; created events never do.
		const created = keys.filter((k) => k.endsWith(':created'));
		expect(new Set(created).size).toBe(created.length);
	});

	it('starts from a given date when asked, and filters by criteria', async () => {
		const since = { events: ['contact.created', 'contact.updated'], mode: 'watermark', options: { startFrom: '2025-01-01T00:00:00Z' } };
		const items = (await t.poll(since, 'trigger', 'From 2025')) ?? [];
		expect(items.length).toBeGreaterThan(20);
		expect(items.find((i) => i.emailaddress1 === 'maria.garcia@contoso.com')?.event).toBe('created');
		expect(await t.poll(since, 'trigger', 'From 2025')).toBeNull();

		const filtered = {
			...since,
			criteria: { conditions: [{ column: 'emailaddress1', operator: 'endsWith', value: '@contoso.com' }] },
		};
		const contoso = (await t.poll(filtered, 'trigger', 'Contoso only')) ?? [];
		expect(contoso.length).toBeGreaterThan(0);
		expect(contoso.every((i) => String(i.emailaddress1).endsWith('@contoso.com'))).toBe(true);
	});

	it('returns a recent sample in manual mode without touching the cursor', async () => {
		const sample = await t.poll({ ...contactEvents, events: ['opportunity.created', 'opportunity.updated'] }, 'manual', 'Manual');
		expect(sample?.length).toBeGreaterThan(0);
		expect(sample!.length).toBeLessThanOrEqual(3);
		expect(sample![0]).toMatchObject({ entity: 'opportunity', event: expect.stringMatching(/created|updated/) });
		// The manual run did not activate anything: the first real poll still starts from now.
		expect(await t.poll({ ...contactEvents, events: ['opportunity.created', 'opportunity.updated'] }, 'trigger', 'Manual')).toBeNull();
	});

	it('emits only the chosen events and several entities in one poll', async () => {
		const onlyCreated = { events: ['account.created', 'opportunity.updated'], mode: 'watermark', options: {} };
		expect(await t.poll(onlyCreated, 'trigger', 'Mixed')).toBeNull();
		const account = await uiCreate('accounts', { name: 'Trigger Account' });
		await uiUpdate('accounts', t.demoIds['account:contoso'], { telephone1: '555-0100' });
		await uiUpdate('opportunities', t.demoIds['opportunity:contoso-erp'], { description: 'changed' });
		const items = (await t.poll(onlyCreated, 'trigger', 'Mixed')) ?? [];
		expect(items.map((i) => `${i.entity}:${i.event}`).sort()).toEqual(['account:created', 'opportunity:updated']);
		expect(items.find((i) => i.entity === 'account')?.id).toBe(account);
	});
});

describe('Dynamics 365 Trigger (change tracking)', () => {
	it('reports creations, updates and deletions through delta links, without its own changes', async () => {
		const events = { events: ['lead.created', 'lead.updated', 'lead.deleted'], mode: 'changeTracking', options: {} };
		expect(await t.poll(events, 'trigger', 'Delta')).toBeNull();
		const created = await uiCreate('leads', { lastname: 'Delta', subject: 'New lead' });
		const existing = t.demoIds['lead:sam.taylor@adatum.com'];
		await uiUpdate('leads', existing, { jobtitle: 'Delta update' });
		const doomed = await uiCreate('leads', { lastname: 'Doomed', subject: 'x' });
		const first = (await t.poll(events, 'trigger', 'Delta')) ?? [];
		expect(first.map((i) => `${i.id}:${i.event}`).sort()).toEqual([`${created}:created`, `${doomed}:created`, `${existing}:updated`].sort());
		await t.control('DELETE', `/ui/leads/${doomed}`);
		jsonOf(
			await t.run({ resource: 'lead', operation: 'update', recordId: created, dataMode: 'autoMap', options: {} }, [{ jobtitle: 'By the sync' }]),
		);
		const second = (await t.poll(events, 'trigger', 'Delta')) ?? [];
		expect(second.map((i) => `${i.id}:${i.event}`)).toEqual([`${doomed}:deleted`]);
		expect(second[0]).toMatchObject({ entity: 'lead', event: 'deleted' });
		expect(await t.poll(events, 'trigger', 'Delta')).toBeNull();
	});

	it('says when a table has change tracking off', async () => {
		await t.control('PUT', '/change-tracking', { tables: { account: false } });
		const { clearMetadataCache } = await import('../../../nodes/Dynamics365/transport/metadata');
		clearMetadataCache();
		await expect(t.poll({ events: ['account.created'], mode: 'changeTracking', options: {} }, 'trigger', 'No tracking')).rejects.toThrow(
			'Change tracking is not enabled for the account table',
		);
		await t.control('PUT', '/change-tracking', { tables: { account: true } });
		clearMetadataCache();
	});

	it('a Raw Filter applies in both modes: in change tracking the changed records are read again through it, deletions pass', async () => {
		for (const mode of ['watermark', 'changeTracking'] as const) {
			const name = `Raw filter ${mode}`;
			const events = { events: ['lead.created', 'lead.updated', 'lead.deleted'].filter((e) => mode === 'changeTracking' || !e.endsWith('deleted')), mode, options: { rawFilter: "contains(subject,'Renewal') and statecode eq 0" } };
			expect(await t.poll(events, 'trigger', name)).toBeNull();
			const wanted = await uiCreate('leads', { lastname: `Wanted ${mode}`, subject: 'Renewal 2027' });
			const other = await uiCreate('leads', { lastname: `Other ${mode}`, subject: 'New business' });
			await t.resetStats();
			const first = (await t.poll(events, 'trigger', name)) ?? [];
			expect(first.map((i) => `${i.id}:${i.event}`)).toEqual([`${wanted}:created`]);
			// Change tracking: the one read of the changes, and one more of their ids through the filter.
			if (mode === 'changeTracking') expect(await t.count(/^GET \/api\/data\/v9\.2\/leads$/)).toBe(2);
			await t.control('DELETE', `/ui/leads/${other}`);
			const second = (await t.poll(events, 'trigger', name)) ?? [];
			expect(second.map((i) => `${i.id}:${i.event}`)).toEqual(mode === 'changeTracking' ? [`${other}:deleted`] : []);
			expect(wanted).toBeTruthy();
		}
	});

	it('change tracking with a Raw Filter: a failed read through the filter passes over nothing; the next poll reads the change again', async () => {
		const events = { events: ['lead.created', 'lead.updated'], mode: 'changeTracking', options: { rawFilter: "contains(subject,'Renewal')" } };
		expect(await t.poll(events, 'trigger', 'Raw filter retry')).toBeNull();
		const wanted = await uiCreate('leads', { lastname: 'Wanted again', subject: 'Renewal 2028' });
		await t.control('POST', '/scripted-faults', { match: '^GET /api/data/v9\\.2/leads\\?.*\\$filter=', fault: 'error', status: 400, times: 1 });
		await expect(t.poll(events, 'trigger', 'Raw filter retry')).rejects.toThrow();
		expect(((await t.poll(events, 'trigger', 'Raw filter retry')) ?? []).map((i) => `${i.id}:${i.event}`)).toEqual([`${wanted}:created`]);
		expect(await t.poll(events, 'trigger', 'Raw filter retry')).toBeNull();
	});

	it('refuses a Raw Filter with a column the table lacks, a related table or a function a paged read does not take, before reading', async () => {
		for (const [raw, reason] of [
			["nosuchcolumn eq 'x'", /names the column 'nosuchcolumn', which the table lead does not have/],
			["parentcontactid/fullname eq 'x'", /reads a related table/],
			["tolower(subject) eq 'x'", /uses the function 'tolower'/],
			["Microsoft.Dynamics.CRM.In(PropertyName='nosuch',PropertyValues=['a'])", /names the column 'nosuch'/],
			['subject eq $x', /has a character a filter cannot hold/],
		] as const) {
			await t.resetStats();
			await expect(t.poll({ events: ['lead.created'], mode: 'watermark', options: { rawFilter: raw } }, 'trigger', `Refused ${raw}`)).rejects.toThrow(reason);
			expect(await t.count(/^GET \/api\/data\/v9\.2\/leads$/)).toBe(0);
		}
		// What it takes: the table's columns (lookups as _x_value), literals, and the query functions on its columns.
		const fine = "Microsoft.Dynamics.CRM.In(PropertyName='subject',PropertyValues=['Renewal 2027']) and _parentcontactid_value ne null or createdon gt 2020-01-01T00:00:00Z or leadid eq 00000000-0000-0000-0000-000000000001 or 1 eq 1";
		await expect(t.poll({ events: ['lead.created'], mode: 'watermark', options: { rawFilter: fine } }, 'trigger', 'Fine filter')).resolves.toBeNull();
	});

	it('refuses deleted events in modified-time mode', async () => {
		await expect(t.poll({ events: ['lead.deleted'], mode: 'watermark', options: {} }, 'trigger', 'Bad')).rejects.toThrow(/Change Tracking/);
	});
});

describe('Dynamics 365 Trigger (backlog)', () => {
	let big: D365Test;
	beforeAll(async () => {
		big = await setupD365({ seed: 'empty' });
		await big.control('POST', '/seed', { contacts: 12000 });
	});
	afterAll(async () => {
		await big.close();
	});

	it('drains a large backlog over several polls within the poll budget, each record once', async () => {
		const params = { events: ['contact.created', 'contact.updated'], mode: 'watermark', options: { startFrom: '2020-01-01T00:00:00Z' } };
		// A short budget and slow pages: a poll stops fetching after the first page and leaves the rest.
		await big.control('PUT', '/limits', { latencyMs: 700 });
		const seen = new Map<string, number>();
		let polls = 0;
		for (; polls < 10; polls++) {
			const items = await big.poll(params, 'trigger', 'Backlog', 1000);
			if (!items) break;
			expect(items.length).toBeLessThanOrEqual(5000);
			for (const i of items) seen.set(String(i.id), (seen.get(String(i.id)) ?? 0) + 1);
		}
		await big.control('PUT', '/limits', { latencyMs: 0 });
		console.log(`[measure] Trigger backlog: ${seen.size} records emitted over ${polls} polls (budget 1 s, 700 ms per request)`);
		expect(seen.size).toBe(12000);
		expect([...seen.values()].every((n) => n === 1)).toBe(true);
		expect(polls).toBeGreaterThanOrEqual(3);
	});
});
