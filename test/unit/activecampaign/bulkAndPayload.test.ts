import { BULK_MAX_BYTES, packBatches } from '../../../nodes/ActiveCampaignSync/helpers/bulk';
import { parseWebhookBody, webhookSource } from '../../../nodes/ActiveCampaignSync/helpers/webhookPayload';

describe('bulk import packing', () => {
	it('never more than 250 contacts per request', () => {
		const entries = Array.from({ length: 10_000 }, (_, i) => ({ contact: { email: `p${i}@example.com` } }));
		const batches = packBatches(entries);
		expect(batches).toHaveLength(40);
		expect(Math.max(...batches.map((b) => b.length))).toBe(250);
		expect(batches.flat()).toHaveLength(10_000);
	});

	it('never more than 399,999 bytes per request body, order kept', () => {
		const big = 'x'.repeat(3000);
		const entries = Array.from({ length: 600 }, (_, i) => ({ i, contact: { email: `p${i}@example.com`, fields: [{ id: 1, value: big }] } }));
		const batches = packBatches(entries);
		for (const batch of batches) {
			const body = JSON.stringify({ contacts: batch.map((e) => e.contact) });
			expect(Buffer.byteLength(body)).toBeLessThanOrEqual(BULK_MAX_BYTES);
			expect(batch.length).toBeLessThanOrEqual(250);
		}
		expect(batches.length).toBeGreaterThan(3);
		expect(batches.flat().map((e) => e.i)).toEqual(entries.map((e) => e.i));
	});

	it('a contact larger than the limit alone gets its own request', () => {
		const entries = [{ contact: { email: 'a@x.com' } }, { contact: { email: 'b@x.com', notes: 'y'.repeat(BULK_MAX_BYTES) } }, { contact: { email: 'c@x.com' } }];
		expect(packBatches(entries).map((b) => b.length)).toEqual([1, 1, 1]);
	});
});

describe('webhook payloads', () => {
	const raw =
		'type=update&date_time=2026-01-02T10%3A00%3A00-05%3A00&initiated_from=admin&initiated_by=admin&list=0&contact%5Bid%5D=42&contact%5Bemail%5D=a%40b.com&contact%5Bfields%5D%5Blead_source%5D=Web&contact%5Btags%5D=vip%2C+D365%3A+Lead&account%5Bfields%5D%5B0%5D%5Bid%5D=1&account%5Bfields%5D%5B0%5D%5Bvalue%5D=Retail';

	it('parses urlencoded PHP-bracket bodies into nested objects', () => {
		const payload = parseWebhookBody(raw);
		expect(payload).toMatchObject({
			type: 'update',
			initiated_from: 'admin',
			contact: { id: '42', email: 'a@b.com', fields: { lead_source: 'Web' }, tags: 'vip, D365: Lead' },
			account: { fields: [{ id: '1', value: 'Retail' }] },
		});
		expect(webhookSource(payload)).toBe('admin');
	});

	it('accepts flat bracketed keys (a parsed form) and already nested bodies alike', () => {
		const flat = Object.fromEntries(new URLSearchParams(raw));
		expect(parseWebhookBody(flat)).toEqual(parseWebhookBody(raw));
		expect(parseWebhookBody(parseWebhookBody(raw))).toEqual(parseWebhookBody(raw));
		expect(parseWebhookBody(Buffer.from(raw))).toEqual(parseWebhookBody(raw));
	});
});
