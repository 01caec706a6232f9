import type { IDataObject, INode } from 'n8n-workflow';

import { encodeRecordValue, upsertRecord, validateExtraFields } from '../../../nodes/ActiveCampaignSync/helpers/customObjects';
import type { AcRequest } from '../../../nodes/ActiveCampaignSync/transport';
import type { AcSession } from '../../../nodes/ActiveCampaignSync/helpers/session';

const node: INode = { id: '1', name: 'AC', type: 'x', typeVersion: 1, position: [0, 0], parameters: {} };

function fakeSession(existing?: IDataObject) {
	const requests: AcRequest[] = [];
	const session = {
		ctx: { getNode: () => node },
		schema: async () => ({
			id: 'schema-1',
			slug: 'd365-opportunity',
			fields: [
				{ id: 'name', type: 'text' },
				{ id: 'estimated-revenue', type: 'currency' },
				{ id: 'estimated-close-date', type: 'date' },
			],
			relationships: [{ id: 'primary-contact', namespace: 'contacts' }],
		}),
		contactByEmail: async () => ({ id: '42', email: 'a@b.com' }),
		request: async (request: AcRequest) => {
			requests.push(request);
			if (request.method === 'GET') return existing ? { record: existing } : undefined;
			return { record: { id: existing?.id ?? 'new-id', ...(request.body as IDataObject).record as IDataObject } };
		},
	} as unknown as AcSession;
	return { session, requests };
}

describe('custom object records', () => {
	it('upserts by external id and never sends the record id', async () => {
		const { session, requests } = fakeSession({ id: 'rec-9', externalId: 'OPP-1', fields: [{ id: 'name', value: 'Old' }], relationships: { 'primary-contact': ['42'] } });
		const out = await upsertRecord(
			session,
			node,
			{ schema: 'd365-opportunity', externalId: 'OPP-1', fields: { name: 'New', estimated_revenue: '1500', 'estimated-close-date': '2026-05-01T10:00:00Z' }, contactEmail: 'a@b.com', relationship: 'primary-contact' },
			0,
		);
		expect(out).toMatchObject({ operation: 'updated', id: 'rec-9' });
		const post = requests.find((r) => r.method === 'POST')!;
		expect(post.path).toBe('/api/3/customObjects/records/schema-1');
		const record = (post.body as IDataObject).record as IDataObject;
		expect(record).not.toHaveProperty('id');
		expect(record).toEqual({
			externalId: 'OPP-1',
			fields: [
				{ id: 'name', value: 'New' },
				{ id: 'estimated-revenue', value: 1500 },
				{ id: 'estimated-close-date', value: '2026-05-01' },
			],
			relationships: { 'primary-contact': [42] },
		});
	});

	it('an unchanged record is not written', async () => {
		const { session, requests } = fakeSession({ id: 'rec-9', externalId: 'OPP-1', fields: [{ id: 'name', value: 'Same' }], relationships: { 'primary-contact': ['42'] } });
		const out = await upsertRecord(session, node, { schema: 'x', externalId: 'OPP-1', fields: { name: 'Same' }, contactEmail: 'a@b.com', relationship: 'primary-contact' }, 0);
		expect(out).toMatchObject({ operation: 'skipped', reason: 'no changes' });
		expect(requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
	});

	it('encodes values per field type and validates added fields', () => {
		expect(encodeRecordValue({ id: 'd', type: 'date' }, '2026-01-02T12:00:00Z')).toEqual({ ok: true, value: '2026-01-02' });
		expect(encodeRecordValue({ id: 'n', type: 'number' }, '12')).toEqual({ ok: true, value: 12 });
		expect(encodeRecordValue({ id: 'b', type: 'boolean' }, 'yes')).toEqual({ ok: true, value: true });
		expect(encodeRecordValue({ id: 'm', type: 'multiselect' }, '||a||b||')).toEqual({ ok: true, value: ['a', 'b'] });
		expect(encodeRecordValue({ id: 'c', type: 'currency' }, 'x').ok).toBe(false);
		expect(() => validateExtraFields(node, [{ id: 'stage', label: 'Stage', type: 'text' }])).toThrow(/fixed opportunity fields/);
		expect(() => validateExtraFields(node, [{ id: 'a_b', label: 'A', type: 'text' }, { id: 'a-b', label: 'B', type: 'text' }])).toThrow(/given twice/);
		expect(() => validateExtraFields(node, [{ id: 'bad id', label: 'A', type: 'text' }])).toThrow(/letters, digits/);
		expect(() => validateExtraFields(node, [{ id: 'x', label: 'A', type: 'blob' }])).toThrow(/use one of/);
	});
});
