import type { IDataObject } from 'n8n-workflow';

import { runWrites } from '../../../nodes/Dynamics365/helpers/records';
import type { DataverseClient } from '../../../nodes/Dynamics365/transport';
import { contactTable } from './fixtures';

const table = contactTable();
const ID = '11111111-2222-4333-8444-555555555555';

/** A client whose create was applied on the first attempt, whose answer was lost, and whose retry hit its own id. */
function fakeClient(existing: string[]): DataverseClient {
	return {
		trySend: async () => ({
			ok: false,
			attempts: 2,
			failure: { status: 412, headers: {}, message: '', body: { error: { code: '0x80040237', message: 'A record with matching key values already exists.' } } },
			error: new Error('duplicate'),
		}),
		list: async (_set: string, query: IDataObject) => ({
			records: existing.filter((id) => String(query.$filter).includes(id)).map((id) => ({ contactid: id, modifiedon: '2025-01-01T00:00:00Z' })),
			pages: 1,
		}),
	} as unknown as DataverseClient;
}

describe('writes', () => {
	it('counts a retried create that failed as a duplicate of its own id as created', async () => {
		const [result] = await runWrites(fakeClient([ID]), [{ kind: 'create', table, id: ID, body: { lastname: 'A' } }], { method: 'single' });
		expect(result).toEqual({ ok: true, id: ID, status: 204 });
	});

	it('keeps the failure when the record does not exist (a real duplicate, e.g. of an alternate key)', async () => {
		const [result] = await runWrites(fakeClient([]), [{ kind: 'create', table, id: ID, body: { lastname: 'A' } }], { method: 'single' });
		expect(result.ok).toBe(false);
	});
});
