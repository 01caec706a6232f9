import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { countRequest, countWritesNeeded, reasonPhrase, reportHtml, tallyOutcomes, takeReport } from '../../../nodes/shared/report';
import { SKIP_REASONS } from '../../../nodes/shared/sync/decide';
import type { RetryStore } from '../../../nodes/shared/sync/retries';

const execution = (id: string) => ({ getExecutionId: () => id });

const out = (json: IDataObject, error?: Error): INodeExecutionData => ({ json, ...(error ? { error: error as never } : {}) });

describe('sync report', () => {
	it('counts each execution on its own, and a report takes its tally', () => {
		const a = execution('a1');
		const b = execution('b1');
		countRequest(a, 'activeCampaign');
		countRequest(a, 'activeCampaign');
		countRequest(a, 'dynamics');
		countRequest(b, 'dynamics');
		tallyOutcomes(a, { entity: 'contact', direction: 'toDynamics' }, [out({ operation: 'created' }), out({ operation: 'updated', conflicts: [{ field: 'phone' }] })]);
		tallyOutcomes(b, { entity: 'account', direction: 'toActiveCampaign' }, [out({ operation: 'created' })]);

		const report = takeReport(a, undefined);
		expect(report.requests).toEqual({ activeCampaign: 2, dynamics: 1 });
		expect(report.entities).toEqual([
			expect.objectContaining({ entity: 'contact', direction: 'toDynamics', created: 1, updated: 1, conflicts: 1, failed: 0 }),
		]);
		expect(report.totals).toMatchObject({ created: 1, updated: 1, conflicts: 1 });
		expect(report.needsAttention).toBe(false);
		// Taken: a second report of the same execution starts from nothing.
		expect(takeReport(a, undefined).totals.created).toBe(0);
		expect(takeReport(b, undefined).requests.dynamics).toBe(1);
	});

	it('sorts each output item into one column: deletes with flags and unlinks, failures, skips by one phrase per reason', () => {
		const fn = execution('c1');
		tallyOutcomes(fn, { entity: 'lead', direction: 'toActiveCampaign' }, [
			out({ operation: 'flagged' }),
			out({ operation: 'unlinked' }),
			out({ operation: 'deleted' }),
			out({ operation: 'relinked' }),
			out({ operation: 'skipped', reason: SKIP_REASONS.noChanges }),
			out({ operation: 'skipped', reason: SKIP_REASONS.unchanged }),
			out({ operation: 'skipped', reason: SKIP_REASONS.conflictLost('dynamicsWins', 'Dynamics') }),
			out({ error: 'ActiveCampaign answered 500' }, new Error('ActiveCampaign answered 500')),
			out({ error: 'Dead letter: …' }),
			// A read step's record is no outcome.
			out({ id: 'x', email: 'a@example.com' }),
		]);
		const [lead] = takeReport(fn, undefined).entities;
		expect(lead).toMatchObject({ deleted: 3, updated: 1, failed: 2, skipped: { unchanged: 2, 'the other side won a conflict': 1 } });
	});

	it('limits a step to the outcomes it owns and names each item\'s entity', () => {
		const fn = execution('d1');
		tallyOutcomes(
			fn,
			{ entity: (item) => item.json.entity as string, direction: 'toDynamics', only: ['failed'] },
			[out({ operation: 'updated', entity: 'lead' }), out({ error: 'x', entity: 'lead' }, new Error('x')), out({ error: 'y', entity: 'contact' }, new Error('y'))],
		);
		const report = takeReport(fn, undefined);
		expect(report.entities.map((t) => [t.entity, t.updated, t.failed])).toEqual([
			['contact', 0, 1],
			['lead', 0, 1],
		]);
		expect(report.needsAttention).toBe(true);
		expect(report.summary).toBe('Needs attention: 2 failed (Contacts → Dynamics 1, Leads → Dynamics 1). 0 created, 0 updated, 0 deleted, 0 skipped; 0 ActiveCampaign and 0 Dynamics requests.');
	});

	it('says the report in one sentence: problems first, then what was written and what it cost', () => {
		const fn = execution('s1');
		countRequest(fn, 'activeCampaign');
		tallyOutcomes(fn, { entity: 'contact', direction: 'toActiveCampaign' }, [
			out({ operation: 'created' }),
			out({ operation: 'updated', conflicts: [{ field: 'phone' }] }),
			out({ operation: 'skipped', reason: SKIP_REASONS.unchanged }),
		]);
		expect(takeReport(fn, undefined).summary).toBe(
			'Synced. 1 created, 1 updated, 0 deleted, 1 skipped, 1 conflict decided; 1 ActiveCampaign and 0 Dynamics requests.',
		);
	});

	it('leaves record ids out of a reason, so that reasons differing only by the record count together', () => {
		expect(reasonPhrase('the Dynamics record lead:0b7e5a86-1c2d-4e5f-8a9b-0c1d2e3f4a5b is linked to another ActiveCampaign contact (42)')).toBe(
			'the Dynamics record lead:… is linked to another ActiveCampaign contact',
		);
		expect(reasonPhrase(undefined)).toBe('no reason given');
	});

	it('adds the retry queue by entity and direction: a Dynamics source goes to ActiveCampaign', () => {
		const entry = (system: 'dynamics' | 'activecampaign', kind: string, dead: boolean) => ({
			system,
			kind,
			id: `${system}-${kind}-${String(dead)}`,
			attempts: dead ? 5 : 1,
			lastError: 'x',
			step: 's',
			firstFailedAt: '',
			lastFailedAt: '',
			nextAt: '',
			dead,
		});
		const store: RetryStore = {
			a: entry('dynamics', 'lead', false),
			b: entry('dynamics', 'lead', true),
			c: entry('activecampaign', 'contact', false),
		};
		const report = takeReport(execution('e1'), store);
		expect(report.entities.map((t) => [t.entity, t.direction, t.retriesPending, t.deadLetters])).toEqual([
			['contact', 'toDynamics', 1, 0],
			['lead', 'toActiveCampaign', 1, 1],
		]);
		expect(report.totals).toMatchObject({ retriesPending: 2, deadLetters: 1 });
		expect(report.needsAttention).toBe(true);
	});

	it('is a preview report when the steps previewed', () => {
		const fn = execution('f1');
		tallyOutcomes(fn, { entity: 'contact', direction: 'toActiveCampaign' }, [out({ operation: 'created', preview: true })]);
		expect(takeReport(fn, undefined).preview).toBe(true);
	});

	it('adds up the write requests a preview says a real run would send, apart from the reads it sent', () => {
		const fn = execution('f2');
		countRequest(fn, 'activeCampaign');
		countRequest(fn, 'dynamics');
		countWritesNeeded(fn, 'activeCampaign', 5);
		countWritesNeeded(fn, 'activeCampaign', 2);
		countWritesNeeded(fn, 'dynamics', 1);
		const report = takeReport(fn, undefined);
		expect(report).toMatchObject({ preview: true, requests: { activeCampaign: 1, dynamics: 1 }, writesNeeded: { activeCampaign: 7, dynamics: 1 } });
		expect(report.summary).toMatch(/^Preview, nothing written\. .*; 1 ActiveCampaign and 1 Dynamics requests; a real run would also send 7 ActiveCampaign and 1 Dynamics write requests\.$/);
		expect(reportHtml(report)).toContain('A real run would also send 7 ActiveCampaign and 1 Dynamics write requests.');
		// A real run's report says nothing of the kind.
		const real = execution('f3');
		countRequest(real, 'dynamics');
		expect(takeReport(real, undefined).writesNeeded).toBeUndefined();
	});

	it('counts nothing without an execution id (a list of options loading in the editor)', () => {
		countRequest({}, 'dynamics');
		tallyOutcomes({}, { entity: 'contact', direction: 'toDynamics' }, [out({ operation: 'created' })]);
		expect(takeReport({}, undefined).totals.created).toBe(0);
	});

	it('draws a self-contained page: bars as inline-styled boxes (n8n strips SVG), every text escaped, nothing loaded from elsewhere', () => {
		const fn = execution('g1');
		countRequest(fn, 'activeCampaign');
		tallyOutcomes(fn, { entity: 'contact', direction: 'toDynamics' }, [
			out({ operation: 'created' }),
			out({ operation: 'skipped', reason: 'no email address <script>alert(1)</script>' }),
		]);
		const html = reportHtml(takeReport(fn, undefined));
		expect(html).not.toContain('<svg');
		expect(html).toMatch(/<span title="created: 1" style="display:inline-block;height:14px;vertical-align:middle;width:\d+px;background:#2e7d32"><\/span>/);
		expect(html).toContain('Contacts <span style="color:#666">→ Dynamics</span>');
		expect(html).toContain('1 ActiveCampaign requests');
		expect(html).not.toContain('<script>');
		expect(html).toContain('&lt;script&gt;');
		expect(html).not.toMatch(/\b(src|href)=|@import|url\(/);
	});
});
