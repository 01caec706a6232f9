/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
import { NodeApiError, type INode } from 'n8n-workflow';

import { activeCampaignStateHash } from '../../../nodes/shared/sync/records';
import { stateHash } from '../../../nodes/shared/sync/state';
import { parseSyncItem } from '../../../nodes/shared/sync/syncItem';
import { contactHash } from '../../../nodes/ActiveCampaignSync/helpers/values';
import { snapshotOf } from '../../../nodes/ActiveCampaignSync/helpers/contactRead';
import { activeCampaignMessage, toNodeApiError } from '../../../nodes/ActiveCampaignSync/transport/errors';
import type { ContactFieldDef } from '../../../nodes/ActiveCampaignSync/helpers/encode';

const node: INode = { id: '1', name: 'AC', type: 'n8n-nodes-ac-d365-sync.activeCampaignSync', typeVersion: 1, position: [0, 0], parameters: {} };

describe('ActiveCampaign error messages', () => {
	it("reads each of ActiveCampaign's envelopes", () => {
		expect(activeCampaignMessage({ message: 'No Result found for Subscriber with id 1' })).toBe('No Result found for Subscriber with id 1');
		expect(
			activeCampaignMessage({ errors: [{ title: 'Email address already exists in the system', detail: '', code: 'duplicate' }] }),
		).toBe('Email address already exists in the system');
		expect(activeCampaignMessage({ errors: [{ title: 'Not Found', detail: 'Contact not found' }] })).toBe('Not Found: Contact not found');
		expect(
			activeCampaignMessage({ success: 0, message: 'JSON payload did not pass validation.', failureReasons: [{ contact: 3, failureReason: "Field 'email' incorrect format" }] }),
		).toBe("JSON payload did not pass validation. — contact 3: Field 'email' incorrect format");
		expect(activeCampaignMessage({ result_code: 0, result_message: 'Contact not found' })).toBe('Contact not found');
		expect(activeCampaignMessage({})).toBeUndefined();
	});

	it('makes a NodeApiError with the API message, the code and advice, and never the key', () => {
		const key = 'super-secret-api-key-123';
		const error = toNodeApiError(
			node,
			{ status: 403, headers: {}, body: { message: `Forbidden for Api-Token: ${key}` }, message: '' },
			{ method: 'GET', path: '/api/3/contacts', exhausted: false, attempts: 1, secrets: [key], itemIndex: 2 },
		);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.httpCode).toBe('403');
		expect(error.context.itemIndex).toBe(2);
		expect(error.message).toContain('Forbidden');
		expect(`${error.message} ${error.description} ${JSON.stringify(error)}`).not.toContain(key);
		expect(error.description).toContain('Settings → Developer');
	});
});

describe('sync items', () => {
	it('validates the shape and names the first problem', () => {
		expect(parseSyncItem({ entity: 'contact', record: { email: 'a@b.com' } }).ok).toBe(true);
		const bad = parseSyncItem({ entity: 'deal' });
		expect(bad.ok).toBe(false);
		expect(!bad.ok && bad.error).toContain('entity');
		const badState = parseSyncItem({ entity: 'lead', state: { stored: { acHash: 'nothex', d365Hash: 'x' } } });
		expect(badState.ok).toBe(false);
	});

	it('accepts what the Field Map produces (nulls, removeTags, createOnly)', () => {
		const parsed = parseSyncItem({
			entity: 'contact',
			direction: 'toActiveCampaign',
			record: { email: 'a@b.com' },
			createOnly: {},
			match: { d365Id: '00000000-0000-4000-8000-000000000001', acId: null, email: 'a@b.com' },
			source: { system: 'dynamics', id: '00000000-0000-4000-8000-000000000001', modifiedAt: null, hash: '0123456789abcdef' },
			state: { stored: null, targetHashFields: ['email'] },
			tags: ['[D365: Contact]'],
			removeTags: ['[D365: Lead]'],
			related: {},
			policy: { conflict: 'dynamicsWins', precedence: 'contact' },
		});
		expect(parsed.ok && parsed.item.removeTags).toEqual(['[D365: Lead]']);
	});

	it('a contact hashes like the shared activeCampaignStateHash of the record our nodes emit, by perstag, title or id, with overlays', () => {
		const fields: ContactFieldDef[] = [{ id: '1', title: 'Lead Source', perstag: 'LEAD_SOURCE', type: 'dropdown', options: [] }];
		const snapshot = snapshotOf(
			{ id: '7', email: 'A@B.com', firstName: 'Ann', lastName: '', phone: '' },
			{ fieldValues: [{ contact: '7', field: '1', value: 'Web', id: '99' }] },
		);
		const expected = stateHash({ email: 'a@b.com', firstName: 'Ann', LEAD_SOURCE: 'Web' }, ['email', 'firstName', 'LEAD_SOURCE']);
		expect(contactHash(snapshot, fields, ['email', 'firstName', 'LEAD_SOURCE'])).toBe(expected);
		const viaTitle = contactHash(snapshot, fields, ['email', 'firstName', 'Lead Source']);
		expect(viaTitle).toBe(stateHash({ email: 'a@b.com', firstName: 'Ann', 'Lead Source': 'Web' }, ['email', 'firstName', 'Lead Source']));
		const emitted = { email: 'A@B.com', firstName: 'Ann', customFields: [{ id: '1', title: 'Lead Source', perstag: 'LEAD_SOURCE', type: 'dropdown', value: 'Web' }] };
		expect(activeCampaignStateHash(emitted, ['email', 'firstName', 'LEAD_SOURCE'])).toBe(expected);
		expect(contactHash(snapshot, fields, ['email', '1'])).toBe(activeCampaignStateHash(emitted, ['email', '1']));
		const after = contactHash(snapshot, fields, ['email', 'firstName', 'LEAD_SOURCE'], { fieldValues: new Map([['1', 'Referral']]) });
		expect(after).toBe(stateHash({ email: 'a@b.com', firstName: 'Ann', LEAD_SOURCE: 'Referral' }, ['email', 'firstName', 'LEAD_SOURCE']));
	});
});
