/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * A Scheduled Sync cycle with many Dynamics changes (issue "ActiveCampaign → Dynamics at the rate-limit floor"): the
 * ActiveCampaign write step finds the linked contacts from the link field's values once and reads them ten at a time
 * just before writing them, instead of four requests per contact; the outcome is the one-by-one outcome: every change
 * arrives, both-sides conflicts go by the policy and are reported, ActiveCampaign-only edits go to Dynamics, and the
 * next cycle writes nothing.
 */
import type { IDataObject } from 'n8n-workflow';

import { runError, scheduledSync, startWorld, type World } from '../../model/world';

let world: World;
beforeAll(async () => {
	world = await startWorld();
});
afterAll(async () => await world.close());

const workflow = scheduledSync({ conflict: 'dynamicsWins', deletePolicy: 'keep' });

async function cycle() {
	const [run] = await world.runCycle(workflow);
	expect(runError(run)).toBeUndefined();
	world.tick(2);
	return run;
}

async function routes(side: 'ac' | 'd365'): Promise<Record<string, number>> {
	const stats = await world.must<{ routes: Record<string, { count: number }> }>(side, 'GET', '/stats');
	return Object.fromEntries(Object.entries(stats.routes).map(([route, r]) => [route, r.count]));
}

it('30 Dynamics changes, some also edited in ActiveCampaign: read ahead, written once each, conflicts by the policy', async () => {
	await world.reset();
	await cycle();
	const ids: string[] = [];
	for (let i = 0; i < 30; i++) {
		const row = await world.must<IDataObject>('d365', 'POST', '/ui/contacts', { firstname: `F${i}`, lastname: 'Before', emailaddress1: `ahead${i}@example.org` });
		ids.push(String(row.contactid));
	}
	world.tick(2);
	await cycle();
	for (const [i, id] of ids.entries()) await world.must('d365', 'PATCH', `/ui/contacts/${id}`, { lastname: `After${i}` });
	// In ActiveCampaign: a phone on five contacts (only there), a last name on three (a conflict Dynamics wins).
	for (let i = 0; i < 5; i++) await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent(`ahead${i}@example.org`)}`, { phone: `+1 555 77${i}` });
	for (let i = 5; i < 8; i++) await world.must('ac', 'PATCH', `/ui/contacts/${encodeURIComponent(`ahead${i}@example.org`)}`, { lastName: `AcSide${i}` });
	world.tick(2);
	await world.must('ac', 'POST', '/stats/reset');
	const run = await cycle();
	const ac = await routes('ac');
	// The write step reads no contact on its own: the five by id are Record Sync State's of the five phones that went
	// to Dynamics (fewer than ten, one by one), as are five of the 35 PUTs.
	expect(ac['GET /api/3/contacts/:id']).toBe(5);
	expect(ac['GET /api/3/contacts/:id/contactTags'] ?? 0).toBe(0);
	expect(ac['PUT /api/3/contacts/:id']).toBe(35);
	for (const [i, id] of ids.entries()) {
		const contact = (await world.must<{ contact: IDataObject }>('ac', 'GET', `/state/contacts/${encodeURIComponent(`ahead${i}@example.org`)}`)).contact;
		const row = await world.must<IDataObject>('d365', 'GET', `/state/contacts/${id}`);
		expect([contact.lastName, row.lastname]).toEqual([`After${i}`, `After${i}`]);
		if (i < 5) expect([contact.phone, row.telephone1]).toEqual([`+1 555 77${i}`, `+1 555 77${i}`]);
	}
	const written = run.data.resultData.runData['Write contacts to ActiveCampaign'][0].data!.main[0]!.map((o) => o.json);
	const conflicted = written.filter((o) => Array.isArray(o.conflicts) && (o.conflicts as IDataObject[]).some((c) => c.activeCampaign === 'lastName' && c.winner === 'dynamics'));
	expect(conflicted.map((o) => o.email).sort()).toEqual(['ahead5@example.org', 'ahead6@example.org', 'ahead7@example.org']);

	await world.must('ac', 'POST', '/stats/reset');
	await world.must('d365', 'POST', '/stats/reset');
	await cycle();
	const writes = (side: Record<string, number>) => Object.entries(side).filter(([r]) => /^(POST|PUT|PATCH|DELETE) /.test(r) && !/token|\(reads\)$/.test(r));
	expect(writes(await routes('ac'))).toEqual([]);
	expect(writes(await routes('d365'))).toEqual([]);
	console.log(`[measure] 30 Dynamics changes to ActiveCampaign: ${JSON.stringify(ac)}`);
});
