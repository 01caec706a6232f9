/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Benchmark: items per second for mapping 100,000 contacts with 15 mapped fields, in both directions, with the
 * mapper the Field Map node runs per item — the built code in dist/, as n8n runs it (`npm run build` first).
 * Prints figures; asserts nothing. Run: npm run bench:fieldmap
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type * as MapRecordModule from '../nodes/shared/sync/mapRecord';
import type * as MappingModule from '../nodes/shared/sync/mapping';
import type { MappingDefinition } from '../nodes/shared/sync/mapping';

const dist = path.resolve(__dirname, '..', 'dist', 'nodes', 'shared', 'sync');
if (!existsSync(path.join(dist, 'mapRecord.js'))) {
	console.error('dist/ is missing: run `npm run build` first.');
	process.exit(1);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { mapRecord, prepareMapping } = require(path.join(dist, 'mapRecord.js')) as typeof MapRecordModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { resolvePairs } = require(path.join(dist, 'mapping.js')) as typeof MappingModule;
const FORMATTED = '@OData.Community.Display.V1.FormattedValue';

const COUNT = Number(process.env.BENCH_COUNT ?? 100_000);

const definition: MappingDefinition = {
	entity: 'contact',
	syncDirection: 'bidirectional',
	timeZone: 'America/Chicago',
	custom: [
		{ dynamics: { name: 'new_birthday', type: 'dateonly' }, activeCampaign: { key: 'BIRTHDAY', type: 'date' } },
		{ dynamics: { name: 'new_lastwebinar', type: 'datetime' }, activeCampaign: { key: 'LAST_WEBINAR', type: 'datetime' } },
		{ dynamics: { name: 'new_preferredchannel', type: 'picklist' }, activeCampaign: { key: 'PREFERRED_CHANNEL', type: 'radio' } },
		{ dynamics: { name: 'new_interests', type: 'multiselect' }, activeCampaign: { key: 'INTERESTS', type: 'checkbox' } },
		{ dynamics: { name: 'new_annualbudget', type: 'money' }, activeCampaign: { key: 'ANNUAL_BUDGET', type: 'number' } },
		{ dynamics: { name: 'new_score', type: 'integer' }, activeCampaign: { key: 'SCORE', type: 'number' } },
		{ dynamics: { name: 'new_notes', type: 'memo' }, activeCampaign: { key: 'NOTES', type: 'textarea' } },
		{ dynamics: { name: 'new_isvip', type: 'boolean' }, activeCampaign: { key: 'IS_VIP', type: 'text' } },
		{ dynamics: { name: 'mobilephone', type: 'string' }, activeCampaign: { key: 'MOBILE', type: 'text' } },
	],
};

function guid(i: number): string {
	const hex = i.toString(16).padStart(12, '0');
	return `00000000-0000-4000-8000-${hex}`;
}

function dynamicsContact(i: number) {
	return {
		contactid: guid(i),
		emailaddress1: `person${i}@example.com`,
		firstname: `First${i}`,
		lastname: `Last${i}`,
		telephone1: `+1 555 ${String(i).padStart(7, '0')}`,
		jobtitle: 'Engineer',
		_parentcustomerid_value: guid(i % 500),
		[`_parentcustomerid_value${FORMATTED}`]: `Account ${i % 500}`,
		'_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account',
		new_birthday: '1990-04-12',
		new_lastwebinar: '2026-03-01T15:30:00Z',
		new_preferredchannel: 2,
		[`new_preferredchannel${FORMATTED}`]: 'Phone',
		new_interests: '1,3',
		[`new_interests${FORMATTED}`]: 'Cloud; Security',
		new_annualbudget: 25000.5,
		new_score: i % 100,
		new_notes: 'Met at the spring webinar.',
		new_isvip: i % 7 === 0,
		mobilephone: '+1 555 0000',
		modifiedon: '2026-05-01T10:00:00Z',
	};
}

function activeCampaignContact(i: number) {
	return {
		id: String(i + 1),
		email: `person${i}@example.com`,
		firstName: `First${i}`,
		lastName: `Last${i}`,
		phone: '+1 555 0101',
		jobTitle: 'Engineer',
		accountName: `Account ${i % 500}`,
		udate: '2026-05-02T09:00:00-05:00',
		tags: ['[D365: Contact]'],
		customFields: [
			{ id: '1', perstag: 'BIRTHDAY', title: 'Birthday', value: '1990-04-12' },
			{ id: '2', perstag: 'LAST_WEBINAR', title: 'Last Webinar', value: '2026-03-01T09:30:00-06:00' },
			{ id: '3', perstag: 'PREFERRED_CHANNEL', title: 'Preferred Channel', value: 'Phone' },
			{ id: '4', perstag: 'INTERESTS', title: 'Interests', value: '||Cloud||Security||' },
			{ id: '5', perstag: 'ANNUAL_BUDGET', title: 'Annual Budget', value: '25000.5' },
			{ id: '6', perstag: 'SCORE', title: 'Score', value: String(i % 100) },
			{ id: '7', perstag: 'NOTES', title: 'Notes', value: 'Met at the spring webinar.' },
			{ id: '8', perstag: 'IS_VIP', title: 'Is VIP', value: i % 7 === 0 ? 'true' : 'false' },
			{ id: '9', perstag: 'MOBILE', title: 'Mobile', value: '+1 555 0000' },
			{ id: '10', perstag: 'D365_RECORD_ID', title: 'D365 Record ID', value: `contact:${guid(i)}` },
		],
	};
}

function run(label: string, step: 'toActiveCampaign' | 'toDynamics', make: (i: number) => object) {
	const pairs = resolvePairs(definition);
	const prepared = prepareMapping(definition, pairs, step);
	const records = Array.from({ length: COUNT }, (_, i) => make(i));
	const fieldCount = prepared.stepPairs.length;
	// Warm up the JIT on a slice, then measure the whole set.
	for (let i = 0; i < 2000; i++) mapRecord(prepared, records[i] as never);
	if (global.gc) global.gc();
	const heapBefore = process.memoryUsage().heapUsed;
	const started = process.hrtime.bigint();
	const cpuBefore = process.cpuUsage();
	let mapped = 0;
	for (const record of records) if (mapRecord(prepared, record as never).kind === 'mapped') mapped++;
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	const cpu = process.cpuUsage(cpuBefore);
	const cpuSeconds = (cpu.user + cpu.system) / 1e6;
	const heapAfter = process.memoryUsage().heapUsed;
	const perSecond = (n: number) => Math.round(n).toLocaleString('en-US');
	console.log(
		`${label}: ${COUNT.toLocaleString('en-US')} contacts, ${fieldCount} mapped fields, ${mapped.toLocaleString('en-US')} mapped in ${seconds.toFixed(2)} s → ` +
			`${perSecond(COUNT / seconds)} items/s wall, ${perSecond(COUNT / cpuSeconds)} items per CPU-second ` +
			`(heap +${Math.round((heapAfter - heapBefore) / 1048576)} MB; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`,
	);
	return COUNT / seconds;
}

const forward = run('Dynamics → ActiveCampaign', 'toActiveCampaign', dynamicsContact);
const back = run('ActiveCampaign → Dynamics', 'toDynamics', activeCampaignContact);
console.log(`target ≥ 100,000 items/s: ${forward >= 100_000 && back >= 100_000 ? 'met' : 'NOT met'}`);
