/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Contact → Create or Update Many through the bulk import API: 10,000 contacts in at most 45 import requests with
 * custom fields and tags; per-item results and errors; sync items with a rerun that writes nothing; 20 % injected
 * 429s losing nothing.
 */
import type { IDataObject } from 'n8n-workflow';

import { guid, jsonOf, setupAc, syncFields, type AcTest } from './helpers';

let t: AcTest;
beforeAll(async () => {
	t = await setupAc({ seed: 'demo' });
});
afterAll(async () => await t.close());

const IMPORT = 'POST /api/3/import/bulk_import';
const INFO = 'GET /api/3/import/info';

const manyByFields = {
	resource: 'contact',
	operation: 'upsertMany',
	dataMode: 'fields',
	email: '={{ $json.email }}',
	additionalFields: { firstName: '={{ $json.first }}', lastName: '={{ $json.last }}' },
	customFields: {
		fieldValues: [
			{ field: 'LEAD_SOURCE', value: '={{ $json.source }}' },
			{ field: 'ANNUAL_BUDGET', value: '={{ $json.budget }}' },
			{ field: 'Interests', value: '={{ $json.interests }}' },
		],
	},
	tags: ['={{ $json.tag }}', 'Bulk Imported'],
};

function people(n: number, prefix: string): IDataObject[] {
	return Array.from({ length: n }, (_, i) => ({
		email: `${prefix}.${i}@import.example.com`,
		first: `First${i}`,
		last: `Last${i}`,
		source: ['Website', 'Referral', 'Trade Show'][i % 3],
		budget: 1000 + i,
		interests: i % 2 ? '||CRM||Automation||' : 'Analytics',
		tag: `Cohort ${i % 4}`,
	}));
}

describe('Create or Update Many', () => {
	it('imports 10,000 contacts in at most 45 bulk import requests, each with its custom fields and tags', async () => {
		const input = people(10_000, 'tenk');
		await t.resetStats();
		const started = Date.now();
		const result = await t.run(manyByFields, input);
		const seconds = (Date.now() - started) / 1000;
		expect(result.error).toBeUndefined();
		const out = jsonOf(result);
		expect(out).toHaveLength(10_000);
		expect(out.every((o) => o.operation === 'imported')).toBe(true);
		result.outputs[0].forEach((item, i) => expect(item.pairedItem).toEqual({ item: i }));
		const imports = await t.count(IMPORT);
		const polls = await t.count(INFO);
		const stats = await t.stats();
		console.log(`[measure] Create or Update Many, 10,000 contacts: ${imports} import requests + ${polls} status polls (${stats.total} requests in all, ${seconds.toFixed(1)} s)`);
		expect(imports).toBeLessThanOrEqual(45);

		// Every one of the 10,000 contacts is there with its values and tags (read in-process from the simulator).
		const simulator = t.sandbox.ac.simulator;
		let complete = 0;
		input.forEach((p, i) => {
			const detail = simulator.contactDetail(String(p.email));
			expect(detail).toBeDefined();
			expect(detail!.contact.firstName).toBe(`First${i}`);
			expect(detail!.fields).toMatchObject({
				LEAD_SOURCE: ['Website', 'Referral', 'Trade Show'][i % 3],
				ANNUAL_BUDGET: String(1000 + i),
				INTERESTS: i % 2 ? '||CRM||Automation||' : '||Analytics||',
			});
			expect([...detail!.tags].sort()).toEqual(['Bulk Imported', `Cohort ${i % 4}`].sort());
			complete++;
		});
		expect(complete).toBe(10_000);
		// A safety net, not a measure: 10,000 contacts take about a minute alone, several on a busy machine.
	}, 600_000);

	it('maps a contact ActiveCampaign rejects to its own item on the error output; the others are imported', async () => {
		const input = [
			{ email: 'good.one@import.example.com', first: 'Good', tag: 'X' },
			{ email: 'not-an-email', first: 'Bad', tag: 'X' },
			{ email: 'good.two@import.example.com', first: 'Good', tag: 'X' },
		];
		const result = await t.run({ ...manyByFields, customFields: {} }, input, { onError: 'continueErrorOutput', continueOnFail: true });
		expect(result.error).toBeUndefined();
		const ok = jsonOf(result, 0);
		const failed = result.outputs[1] ?? [];
		expect(ok.map((o) => o.email)).toEqual(['good.one@import.example.com', 'good.two@import.example.com']);
		expect(failed).toHaveLength(1);
		expect(failed[0].pairedItem).toEqual({ item: 1 });
		expect(String(failed[0].json.error)).toContain("incorrect format");
		expect((await t.contact('good.two@import.example.com')).contact).toBeDefined();
	});

	it('sync items: link and state written; a rerun writes nothing; a changed linked record is written one by one', async () => {
		const items = Array.from({ length: 30 }, (_, i) => ({
			entity: i % 5 === 0 ? 'lead' : 'contact',
			direction: 'toActiveCampaign',
			record: { email: `synced.${i}@import.example.com`, firstName: `Syn${i}`, lastName: 'Ced', fieldValues: { LEAD_SOURCE: 'Dynamics 365' } },
			match: { d365Id: guid(i, 'b0'), email: `synced.${i}@import.example.com` },
			source: { system: 'dynamics', id: guid(i, 'b0'), modifiedAt: '2026-01-02T03:04:05Z', hash: `${i.toString(16).padStart(4, '0')}aaaaaaaaaaaa` },
			state: { targetHashFields: ['email', 'firstName', 'lastName', 'LEAD_SOURCE'] },
			fields: syncFields({ email: `synced.${i}@import.example.com`, firstName: `Syn${i}`, lastName: 'Ced', LEAD_SOURCE: 'Dynamics 365' }),
			tags: [i % 5 === 0 ? '[D365: Lead]' : '[D365: Contact]', '[D365: Pushed from Dynamics]'],
			policy: { conflict: 'dynamicsWins', precedence: 'contact' },
		}));
		const params = { resource: 'contact', operation: 'upsertMany', dataMode: 'syncItem', syncOptions: { skipMatchingState: true } };
		// A preview first: every record would be imported with these values and states; nothing is sent.
		await t.resetStats();
		const shown = jsonOf(await t.run({ ...params, preview: true }, items));
		expect(await t.count(/^(POST|PUT|DELETE) /)).toBe(0);
		expect(shown.every((o) => o.operation === 'imported' && o.preview === true)).toBe(true);
		expect(shown[5]).toMatchObject({ email: 'synced.5@import.example.com', link: `lead:${guid(5, 'b0')}`, values: { first_name: 'Syn5', last_name: 'Ced' } });
		const first = jsonOf(await t.run(params, items));
		expect(first.every((o) => o.operation === 'imported')).toBe(true);
		// One import request for the 30 (and the sync fields, where this is the first write), as the preview said.
		expect(shown.slice(1).every((o) => o.writeRequests === 0)).toBe(true);
		expect(await t.count(/^(POST|PUT|DELETE) /)).toBe(shown[0].writeRequests);
		expect(first.map((o) => o.state)).toEqual(shown.map((o) => o.state));
		const detail = await t.contact('synced.5@import.example.com');
		expect((detail.fields as IDataObject).D365_RECORD_ID).toBe(`lead:${guid(5, 'b0')}`);
		expect(String((detail.fields as IDataObject).D365_SYNC_STATE)).toMatch(/^v24:/);
		expect(detail.tags).toEqual(expect.arrayContaining(['[D365: Lead]', '[D365: Pushed from Dynamics]']));

		await t.resetStats();
		const rerun = jsonOf(await t.run(params, items));
		expect(rerun.every((o) => o.operation === 'skipped' && o.reason === 'unchanged since last sync')).toBe(true);
		const writes = await t.count(/^(POST|PUT|DELETE) /);
		console.log(`[measure] rerun of 30 synced items: ${writes} write requests, ${(await t.stats()).total} requests`);
		expect(writes).toBe(0);

		// One record changed in Dynamics, with a new email: updated in place through its link.
		const changed = items.map((item, i) =>
			i === 7
				? {
						...item,
						record: { ...item.record, email: 'synced.7.new@import.example.com', firstName: 'Renamed' },
						source: { ...item.source, hash: 'ffff000000000007' },
						fields: syncFields({ email: 'synced.7.new@import.example.com', firstName: 'Renamed', lastName: 'Ced', LEAD_SOURCE: 'Dynamics 365' }),
					}
				: item,
		);
		const third = jsonOf(await t.run(params, changed));
		expect(third.filter((o) => o.operation === 'skipped')).toHaveLength(29);
		expect(third[7]).toMatchObject({ operation: 'updated', matchedBy: 'link', email: 'synced.7.new@import.example.com' });
		const moved = await t.contact('synced.7.new@import.example.com');
		expect((moved.contact as IDataObject).firstName).toBe('Renamed');
		await expect(t.contact('synced.7@import.example.com')).rejects.toThrow(/404/);
	});

	it('sync items with a job title: linked to their account with it in the same run (bulk import cannot set it); a rerun writes nothing', async () => {
		const values = (i: number) => ({
			email: `titled.${i}@import.example.com`,
			firstName: `Tit${i}`,
			lastName: 'Led',
			accountName: i % 3 === 2 ? null : `Titled Account ${i % 2}`,
			jobTitle: `Role ${i}`,
		});
		const items = Array.from({ length: 12 }, (_, i) => ({
			entity: 'contact',
			direction: 'toActiveCampaign',
			record: values(i),
			match: { d365Id: guid(i, 'd7'), email: values(i).email },
			source: { system: 'dynamics', id: guid(i, 'd7'), modifiedAt: '2026-01-02T03:04:05Z', hash: `${i.toString(16).padStart(4, '0')}bbbbbbbbbbbb` },
			fields: syncFields(values(i)),
			tags: ['[D365: Contact]'],
			policy: { conflict: 'dynamicsWins', precedence: 'contact' },
		}));
		const params = { resource: 'contact', operation: 'upsertMany', dataMode: 'syncItem', syncOptions: { skipMatchingState: true } };
		await t.resetStats();
		const first = jsonOf(await t.run(params, items));
		expect(first.every((o) => o.operation === 'imported')).toBe(true);
		const links = await t.count(/^POST \/api\/3\/accountContacts$/);
		console.log(`[measure] 12 new contacts, 8 with an account and a job title: ${(await t.stats()).total} requests, ${links} account links`);
		expect(links).toBe(8);
		for (let i = 0; i < 12; i++) {
			const detail = await t.contact(values(i).email);
			if (i % 3 === 2) {
				// No account: ActiveCampaign cannot hold the job title, and the item says so.
				expect(detail.account).toBeNull();
				expect(first[i].notWritten).toEqual([expect.objectContaining({ activeCampaign: 'jobTitle' })]);
			} else {
				expect(detail.account).toMatchObject({ name: `Titled Account ${i % 2}`, jobTitle: `Role ${i}` });
				expect(first[i].notWritten).toBeUndefined();
			}
		}
		await t.resetStats();
		const rerun = jsonOf(await t.run(params, items));
		expect(rerun.every((o) => o.operation === 'skipped')).toBe(true);
		expect(await t.count(/^(POST|PUT|DELETE) /)).toBe(0);
	});

	it('one email three times in a batch (case and spaces differ): one is imported, the others are skipped with the reason', async () => {
		const emails = ['dup@batch.example.com', 'DUP@batch.example.com', ' dup@batch.example.com'];
		const items = emails.map((email, i) => ({
			entity: 'contact',
			direction: 'toActiveCampaign',
			record: { email, firstName: `Dup${i}`, lastName: 'Licate' },
			match: { d365Id: guid(i, 'e5'), email },
			source: { system: 'dynamics', id: guid(i, 'e5'), modifiedAt: '2026-01-02T03:04:05Z', hash: `${i.toString(16).padStart(4, '0')}cccccccccccc` },
			fields: syncFields({ email, firstName: `Dup${i}`, lastName: 'Licate' }),
			tags: ['[D365: Contact]'],
			policy: { conflict: 'dynamicsWins', precedence: 'contact' },
		}));
		const out = jsonOf(await t.run({ resource: 'contact', operation: 'upsertMany', dataMode: 'syncItem', syncOptions: { skipMatchingState: true } }, items));
		expect(out.map((o) => o.operation)).toEqual(['imported', 'skipped', 'skipped']);
		for (const skipped of out.slice(1)) expect(String(skipped.reason)).toMatch(/another Dynamics contact in this run has the same email/);
		const detail = await t.contact('dup@batch.example.com');
		expect((detail.contact as IDataObject).firstName).toBe('Dup0');
		expect((detail.fields as IDataObject).D365_RECORD_ID).toBe(`contact:${guid(0, 'e5')}`);
	});

	it('sync items of a later run respect the lead/contact precedence instead of importing over a linked contact', async () => {
		const params = { resource: 'contact', operation: 'upsertMany', dataMode: 'syncItem', syncOptions: { skipMatchingState: true } };
		const item = (entity: string, n: number, email: string, firstName: string) => ({
			entity,
			direction: 'toActiveCampaign',
			record: { email, firstName, lastName: 'Person' },
			match: { d365Id: guid(n, 'c0'), email },
			source: { system: 'dynamics', id: guid(n, 'c0'), modifiedAt: '2026-01-02T03:04:05Z', hash: `${n.toString(16).padStart(4, '0')}bbbbbbbbbbbb` },
			state: { targetHashFields: ['email', 'firstName', 'lastName'] },
			fields: syncFields({ email, firstName, lastName: 'Person' }),
			tags: [entity === 'lead' ? '[D365: Lead]' : '[D365: Contact]', '[D365: Pushed from Dynamics]'],
			policy: { conflict: 'dynamicsWins', precedence: 'contact' },
		});
		// Run 1: the Dynamics contact. Run 2: a Dynamics lead with the same email, as the initial sync's lead step sends it.
		expect(jsonOf(await t.run(params, [item('contact', 1, 'shared.person@import.example.com', 'Contact')]))).toMatchObject([{ operation: 'imported' }]);
		const lead = jsonOf(await t.run(params, [item('lead', 2, 'shared.person@import.example.com', 'Lead')]));
		expect(lead).toMatchObject([{ operation: 'skipped', reason: 'a Dynamics contact has the same email (contacts take precedence over leads)' }]);
		const detail = await t.contact('shared.person@import.example.com');
		expect((detail.fields as IDataObject).D365_RECORD_ID).toBe(`contact:${guid(1, 'c0')}`);
		expect((detail.contact as IDataObject).firstName).toBe('Contact');
		expect(detail.tags).not.toContain('[D365: Lead]');
	});

	it('with 20 % of requests answered 429, a 1,000-contact run loses nothing', async () => {
		await t.control('PUT', '/faults', { rate429: 0.2, retryAfterSeconds: 1, seed: 7 });
		try {
			await t.resetStats();
			const input = people(1000, 'flaky');
			const result = await t.run(manyByFields, input);
			expect(result.error).toBeUndefined();
			expect(jsonOf(result).filter((o) => o.operation === 'imported')).toHaveLength(1000);
			const readBack = await t.run({ resource: 'contact', operation: 'getAll', returnAll: true, filters: { search: 'flaky.' } });
			expect(readBack.error).toBeUndefined();
			const emails = new Set(jsonOf(readBack).map((c) => String(c.email)));
			const stats = await t.stats();
			console.log(`[measure] 1,000 contacts with 20 % injected 429s: ${stats.byStatus['429'] ?? 0} 429s absorbed in ${stats.total} requests; ${emails.size} contacts read back`);
			expect(stats.byStatus['429']).toBeGreaterThan(0);
			expect(input.every((p) => emails.has(String(p.email)))).toBe(true);
		} finally {
			await t.control('DELETE', '/faults');
		}
	});
});
