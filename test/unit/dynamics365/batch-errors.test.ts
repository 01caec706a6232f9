/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
import { NodeApiError, type INode } from 'n8n-workflow';

import { boundaryOf, parseBatch, writeBatch, BatchParseError } from '../../../nodes/Dynamics365/transport/batch';
import { explainFailure, parsePrivilege, toNodeApiError } from '../../../nodes/Dynamics365/transport/errors';
import { createdId, isTransientPart } from '../../../nodes/Dynamics365/transport';

const node: INode = { id: '1', name: 'Dynamics 365', type: 'n8n-nodes-ac-d365-sync.dynamics365', typeVersion: 1, position: [0, 0], parameters: {} };

describe('$batch writer', () => {
	it('writes one application/http part per operation with CRLF line ends', () => {
		const body = writeBatch(
			[
				{ method: 'POST', url: 'contacts', body: { lastname: 'A' } },
				{ method: 'PATCH', url: 'contacts(00000000-0000-0000-0000-000000000001)', headers: { 'If-Match': '*' }, body: { lastname: 'B' } },
				{ method: 'DELETE', url: 'accounts(00000000-0000-0000-0000-000000000002)' },
			],
			'/api/data/v9.2',
			'batch_x',
		);
		expect(body.split('\r\n')).toEqual([
			'--batch_x',
			'Content-Type: application/http',
			'Content-Transfer-Encoding: binary',
			'Content-ID: 1',
			'',
			'POST /api/data/v9.2/contacts HTTP/1.1',
			'Content-Type: application/json; type=entry',
			'Accept: application/json',
			'',
			'{"lastname":"A"}',
			'--batch_x',
			'Content-Type: application/http',
			'Content-Transfer-Encoding: binary',
			'Content-ID: 2',
			'',
			'PATCH /api/data/v9.2/contacts(00000000-0000-0000-0000-000000000001) HTTP/1.1',
			'If-Match: *',
			'Content-Type: application/json; type=entry',
			'Accept: application/json',
			'',
			'{"lastname":"B"}',
			'--batch_x',
			'Content-Type: application/http',
			'Content-Transfer-Encoding: binary',
			'Content-ID: 3',
			'',
			'DELETE /api/data/v9.2/accounts(00000000-0000-0000-0000-000000000002) HTTP/1.1',
			'Accept: application/json',
			'',
			'--batch_x--',
			'',
		]);
	});
});

describe('$batch parser', () => {
	const response = [
		'--batchresponse_1',
		'Content-Type: application/http',
		'Content-Transfer-Encoding: binary',
		'',
		'HTTP/1.1 204 No Content',
		'OData-Version: 4.0',
		'Location: https://org.crm.dynamics.com/api/data/v9.2/contacts(8d3a8e9e-5a48-ef11-a317-000d3a5a5a5a)',
		'OData-EntityId: https://org.crm.dynamics.com/api/data/v9.2/contacts(8d3a8e9e-5a48-ef11-a317-000d3a5a5a5a)',
		'',
		'',
		'--batchresponse_1',
		'Content-Type: multipart/mixed; boundary=changesetresponse_2',
		'',
		'--changesetresponse_2',
		'Content-Type: application/http',
		'Content-Transfer-Encoding: binary',
		'Content-ID: 1',
		'',
		'HTTP/1.1 204 No Content',
		'',
		'',
		'--changesetresponse_2--',
		'--batchresponse_1',
		'Content-Type: application/http',
		'Content-Transfer-Encoding: binary',
		'',
		'HTTP/1.1 400 Bad Request',
		'Content-Type: application/json; odata.metadata=minimal',
		'OData-Version: 4.0',
		'',
		'{"error":{"code":"0x80044331","message":"A validation error occurred."}}',
		'--batchresponse_1',
		'Content-Type: application/http',
		'Content-Transfer-Encoding: binary',
		'',
		'HTTP/1.1 429 Too Many Requests',
		'Retry-After: 3',
		'',
		'{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}',
		'--batchresponse_1--',
		'',
	].join('\r\n');

	it('returns the parts in order, flattening change sets', () => {
		const parts = parseBatch(response, 'multipart/mixed; boundary=batchresponse_1');
		expect(parts.map((p) => p.status)).toEqual([204, 204, 400, 429]);
		expect(createdId(parts[0])).toBe('8d3a8e9e-5a48-ef11-a317-000d3a5a5a5a');
		expect(parts[2].body).toEqual({ error: { code: '0x80044331', message: 'A validation error occurred.' } });
		expect(parts[3].headers['retry-after']).toBe('3');
		expect(parts.map(isTransientPart)).toEqual([false, false, false, true]);
	});

	it('reads LF-only bodies, quoted boundaries, and refuses truncated ones', () => {
		expect(parseBatch(response.replace(/\r\n/g, '\n'), 'multipart/mixed; boundary="batchresponse_1"')).toHaveLength(4);
		expect(boundaryOf('multipart/mixed; boundary="b_1"; charset=utf-8')).toBe('b_1');
		expect(() => parseBatch('{"value":[{"trunc', 'application/json')).toThrow(BatchParseError);
		expect(() => parseBatch(response.slice(0, 300), 'multipart/mixed; boundary=batchresponse_1')).toThrow(/incomplete/);
	});
});

describe('errors', () => {
	const privilege = {
		status: 403,
		headers: {},
		message: 'Request failed with status code 403',
		body: {
			error: {
				code: '0x80040220',
				message:
					"Principal user (Id=52ba71eb-7340-47b6-a7ea-974c66724af6, type=8, roleCount=1, privilegeCount=399, accessMode=4), is missing prvReadLead privilege (Id=21d66467-6cb3-4832-a269-52c6302c9656) on OTC=4 for entity 'lead'.",
			},
		},
	};

	it('explains a missing privilege: the privilege, the table and the fix', () => {
		const explained = explainFailure(privilege);
		expect(explained.message).toBe('The Dynamics 365 user of this connection is missing the prvReadLead privilege (Read on the lead table)');
		expect(explained.description).toMatch(/^Ask an administrator to add it to the application user's security role/);
		expect(explained.description).toMatch(/0x80040220/);
		expect(parsePrivilege('prvAppendToAccount')).toEqual({ access: 'AppendTo', entity: 'Account' });
	});

	it('explains record-level access, throttling, network and token failures', () => {
		expect(
			explainFailure({
				status: 403,
				headers: {},
				message: '',
				body: { error: { code: '0x80048306', message: 'Principal with id 1 does not have WriteAccess right(s) for record with id 2 of entity contact.' } },
			}).message,
		).toBe('The Dynamics 365 user of this connection has no Write access to this contact record');
		expect(explainFailure({ status: 429, headers: {}, message: '', body: { error: { code: '0x80072322', message: 'Number of requests exceeded' } } }).description).toMatch(
			/still exceeded after the retries/,
		);
		expect(explainFailure({ status: 0, headers: {}, message: 'socket hang up', body: undefined, networkCode: 'ECONNREFUSED' }).message).toMatch(/ECONNREFUSED/);
		expect(
			explainFailure({ status: 401, headers: {}, message: '', body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } })
				.message,
		).toMatch(/AADSTS7000215/);
	});

	it('builds NodeApiErrors without secrets, tokens or the original request', () => {
		const secret = 'super-secret-value-123';
		const token = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.sig';
		const error = toNodeApiError(
			node,
			{
				status: 400,
				headers: {},
				message: '',
				body: { error: { code: '0x0', message: `Bad value near Authorization: Bearer ${token} and client_secret=${secret} and ${secret}` } },
			},
			{ itemIndex: 3, secrets: [secret, token] },
		);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.httpCode).toBe('400');
		expect((error as unknown as { context: { itemIndex: number } }).context.itemIndex).toBe(3);
		const everything = JSON.stringify({ message: error.message, description: error.description, cause: error.cause, context: error.context, stack: error.stack });
		expect(everything).not.toContain(secret);
		expect(everything).not.toContain(token);
		expect(everything).not.toMatch(/Bearer [A-Za-z0-9]/);
	});
});
