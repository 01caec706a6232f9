import { startHarness, type Harness } from './testkit';

interface Op {
	method: string;
	url: string;
	body?: unknown;
	contentId?: string;
	headers?: Record<string, string>;
}

function part(op: Op): string {
	const lines = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
	if (op.contentId) lines.push(`Content-ID: ${op.contentId}`);
	lines.push('', `${op.method} ${op.url} HTTP/1.1`);
	if (op.body !== undefined) lines.push('Content-Type: application/json; type=entry');
	for (const [k, v] of Object.entries(op.headers ?? {})) lines.push(`${k}: ${v}`);
	lines.push('', op.body !== undefined ? JSON.stringify(op.body) : '');
	return lines.join('\r\n');
}

/** Builds a batch body: an array entry is a change set. */
function batchBody(boundary: string, items: Array<Op | Op[]>): string {
	const chunks = items.map((item) => {
		if (!Array.isArray(item)) return `--${boundary}\r\n${part(item)}`;
		const cs = `changeset_${Math.random().toString(16).slice(2)}`;
		const inner = item.map((op) => `--${cs}\r\n${part(op)}`).join('\r\n');
		return `--${boundary}\r\nContent-Type: multipart/mixed; boundary=${cs}\r\n\r\n${inner}\r\n--${cs}--`;
	});
	return `${chunks.join('\r\n')}\r\n--${boundary}--\r\n`;
}

interface PartResponse {
	status: number;
	headers: Record<string, string>;
	body: string;
	contentId?: string;
}

/** Parses a batch response into its HTTP responses (change-set parts flattened). */
function parseResponse(text: string, contentType: string): PartResponse[] {
	const boundary = /boundary=([^;]+)/.exec(contentType)![1];
	const out: PartResponse[] = [];
	const parts = text.split(`--${boundary}`).slice(1, -1);
	for (const p of parts) {
		const trimmed = p.replace(/^\r\n/, '');
		const inner = /^Content-Type: multipart\/mixed; boundary=(\S+)/.exec(trimmed);
		if (inner) {
			out.push(...parseResponse(trimmed.slice(trimmed.indexOf('\r\n\r\n') + 4), `boundary=${inner[1]}`));
			continue;
		}
		const contentId = /Content-ID: (\S+)/.exec(trimmed.split('\r\n\r\n')[0])?.[1];
		const http = trimmed.slice(trimmed.indexOf('\r\n\r\n') + 4);
		const [head, ...rest] = http.split('\r\n\r\n');
		const [statusLine, ...headerLines] = head.split('\r\n');
		const headers: Record<string, string> = {};
		for (const l of headerLines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
		out.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n').trim(), contentId });
	}
	return out;
}

describe('Dataverse simulator: $batch and *Multiple actions', () => {
	let h: Harness;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => h.close());
	beforeEach(async () => {
		await h.control('POST', '/reset', {});
		h.token = await h.tokenFor('sandbox-client', 'sandbox-secret');
	});

	const send = async (items: Array<Op | Op[]>, prefer?: string) => {
		const boundary = 'batch_80dd1615-2a10-428a-bb6f-0e559792721f';
		const r = await h.call('POST', '$batch', {
			raw: batchBody(boundary, items),
			headers: { 'Content-Type': `multipart/mixed; boundary="${boundary}"`, ...(prefer ? { Prefer: prefer } : {}) },
		});
		return { ...r, parts: r.status < 500 && r.headers.get('content-type')?.startsWith('multipart') ? parseResponse(r.text, r.headers.get('content-type')!) : [] };
	};
	const countContacts = async (lastname: string) =>
		(await h.call('GET', `contacts?$select=contactid&$filter=lastname eq '${lastname}'`)).json.value.length as number;

	it('runs independent requests in order with absolute and relative URLs, and writes the documented response', async () => {
		const r = await send([
			{ method: 'POST', url: `${h.api}/contacts`, body: { lastname: 'Batch1' } },
			{ method: 'POST', url: '/api/data/v9.2/contacts', body: { lastname: 'Batch2' } },
			{ method: 'GET', url: "contacts?$select=lastname&$filter=startswith(lastname,'Batch')" },
		]);
		expect(r.status).toBe(200);
		expect(r.headers.get('content-type')).toMatch(/^multipart\/mixed; boundary=batchresponse_[0-9a-f-]{36}$/);
		expect(r.text.startsWith('--batchresponse_')).toBe(true);
		expect(r.parts.map((p) => p.status)).toEqual([204, 204, 200]);
		expect(r.parts[0].headers['odata-entityid']).toMatch(/contacts\([0-9a-f-]{36}\)$/);
		expect(r.parts[0].headers.location).toBe(r.parts[0].headers['odata-entityid']);
		expect(JSON.parse(r.parts[2].body).value.map((c: { lastname: string }) => c.lastname).sort()).toEqual(['Batch1', 'Batch2']);
		expect(r.text).toContain('Content-Transfer-Encoding: binary');
	});

	it('change sets are atomic: one failure rolls back every operation in the set', async () => {
		const r = await send([
			[
				{ method: 'POST', url: 'contacts', body: { lastname: 'Rollback' }, contentId: '1' },
				{ method: 'POST', url: 'contacts', body: { lastname: 'Rollback', new_score: 'NaN' }, contentId: '2' },
			],
		]);
		expect(r.status).toBe(400);
		expect(r.parts).toHaveLength(1);
		expect(JSON.parse(r.parts[0].body).error.code).toBe('0x80048d19');
		expect(await countContacts('Rollback')).toBe(0);
	});

	it('Content-ID references work in URLs and in @odata.bind inside a change set', async () => {
		const r = await send([
			[
				{ method: 'POST', url: 'accounts', body: { name: 'Ref Co' }, contentId: '1' },
				{ method: 'POST', url: 'contacts', body: { lastname: 'RefPerson', 'parentcustomerid_account@odata.bind': '$1' }, contentId: '2' },
				{ method: 'PATCH', url: '$1', body: { 'primarycontactid@odata.bind': '$2' }, contentId: '3' },
				{ method: 'PUT', url: '$2/jobtitle', body: { value: 'Referenced' }, contentId: '4' },
			],
		]);
		expect(r.status).toBe(200);
		expect(r.parts.map((p) => [p.contentId, p.status])).toEqual([
			['1', 204],
			['2', 204],
			['3', 204],
			['4', 204],
		]);
		const account = await h.call('GET', `${r.parts[0].headers['odata-entityid']}?$select=name&$expand=primarycontactid($select=fullname,jobtitle,_parentcustomerid_value)`);
		expect(account.json.primarycontactid).toMatchObject({ fullname: 'RefPerson', jobtitle: 'Referenced', _parentcustomerid_value: account.json.accountid });
		const bad = await send([[{ method: 'POST', url: 'contacts', body: { lastname: 'x', 'parentcustomerid_account@odata.bind': '$9' }, contentId: '1' }]]);
		expect(bad.status).toBe(400);
		expect(JSON.parse(bad.parts[0].body).error.message).toBe("Content-ID Reference: '$9' does not exist in the batch context.");
	});

	it('stops at the first error by default; continues with odata.continue-on-error', async () => {
		const ops: Op[] = [
			{ method: 'POST', url: 'contacts', body: { lastname: 'Stop1' } },
			{ method: 'POST', url: 'contacts', body: { lastname: 'x'.repeat(60) } },
			{ method: 'POST', url: 'contacts', body: { lastname: 'Stop3' } },
		];
		let r = await send(ops);
		expect(r.status).toBe(400);
		expect(r.parts.map((p) => p.status)).toEqual([204, 400]);
		expect(JSON.parse(r.parts[1].body).error.code).toBe('0x80044331');
		expect(await countContacts('Stop1')).toBe(1);
		expect(await countContacts('Stop3')).toBe(0);
		r = await send(ops, 'odata.continue-on-error');
		expect(r.status).toBe(200);
		expect(r.parts.map((p) => p.status)).toEqual([204, 400, 204]);
		expect(await countContacts('Stop3')).toBe(1);
	});

	it('refuses GET inside a change set and more than 1000 operations', async () => {
		let r = await send([[{ method: 'GET', url: 'contacts' }]]);
		expect(r.status).toBe(400);
		expect(r.json.error.message).toMatch(/An invalid HTTP method 'GET' was detected for a request in a change set/);
		const many: Op[] = Array.from({ length: 1001 }, (_, i) => ({ method: 'POST', url: 'contacts', body: { lastname: `Many${i}` } }));
		r = await send(many);
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe('0x80060888');
		const thousand = await send([many.slice(0, 500), many.slice(500, 1000)]);
		expect(thousand.status).toBe(200);
		expect(thousand.parts).toHaveLength(1000);
	});

	it('accepts LF line endings and rejects a batch without a multipart boundary', async () => {
		const boundary = 'batch_lf';
		const body = batchBody(boundary, [{ method: 'POST', url: 'contacts', body: { lastname: 'LfOnly' } }]).replace(/\r\n/g, '\n');
		const r = await h.call('POST', '$batch', { raw: body, headers: { 'Content-Type': `multipart/mixed;boundary=${boundary}` } });
		expect(r.status).toBe(200);
		expect(await countContacts('LfOnly')).toBe(1);
		const bad = await h.call('POST', '$batch', { body: { requests: [] } });
		expect(bad.status).toBe(400);
	});

	it('CreateMultiple returns the Ids; UpdateMultiple and UpsertMultiple answer 204', async () => {
		let r = await h.call('POST', 'contacts/Microsoft.Dynamics.CRM.CreateMultiple', {
			body: {
				Targets: [
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', lastname: 'Multi1', emailaddress1: 'multi1@contoso.com' },
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', lastname: 'Multi2' },
				],
			},
		});
		expect(r.status).toBe(200);
		expect(r.json['@odata.context']).toBe(`${h.api}/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse`);
		expect(r.json.Ids).toHaveLength(2);
		const [id1, id2] = r.json.Ids as string[];
		r = await h.call('POST', 'contacts/Microsoft.Dynamics.CRM.UpdateMultiple', {
			body: {
				Targets: [
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', contactid: id1, jobtitle: 'Updated 1' },
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', contactid: id2, jobtitle: 'Updated 2' },
				],
			},
		});
		expect(r.status).toBe(204);
		expect((await h.call('GET', `contacts(${id2})?$select=jobtitle`)).json.jobtitle).toBe('Updated 2');
		await h.control('POST', '/keys', { table: 'contact', attributes: ['emailaddress1'] });
		r = await h.call('POST', 'contacts/Microsoft.Dynamics.CRM.UpsertMultiple', {
			body: {
				Targets: [
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', '@odata.id': "contacts(emailaddress1='multi1@contoso.com')", jobtitle: 'Upserted existing' },
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', '@odata.id': "contacts(emailaddress1='multi3@contoso.com')", lastname: 'Multi3' },
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', '@odata.id': `contacts(${id2})`, jobtitle: 'By id' },
				],
			},
		});
		expect(r.status).toBe(204);
		expect((await h.call('GET', `contacts(${id1})?$select=jobtitle`)).json.jobtitle).toBe('Upserted existing');
		expect(await countContacts('Multi3')).toBe(1);
	});

	it('*Multiple actions require @odata.type on every target and are all-or-nothing', async () => {
		let r = await h.call('POST', 'contacts/Microsoft.Dynamics.CRM.CreateMultiple', {
			body: { Targets: [{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', lastname: 'AllOrNothing' }, { lastname: 'AllOrNothing' }] },
		});
		expect(r.status).toBe(400);
		expect(await countContacts('AllOrNothing')).toBe(0);
		r = await h.call('POST', 'contacts/Microsoft.Dynamics.CRM.CreateMultiple', {
			body: {
				Targets: [
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', lastname: 'AllOrNothing' },
					{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', lastname: 'AllOrNothing', new_preferredchannel: 3 },
				],
			},
		});
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe('0x8004431a');
		expect(await countContacts('AllOrNothing')).toBe(0);
		r = await h.call('POST', 'contacts/Microsoft.Dynamics.CRM.UpdateMultiple', {
			body: { Targets: [{ '@odata.type': 'Microsoft.Dynamics.CRM.contact', contactid: '00000000-0000-0000-0000-0000000000aa', jobtitle: 'x' }] },
		});
		expect(r.status).toBe(404);
		expect(r.json.error.code).toBe('0x80040217');
	});

	it('counts a $batch of GETs only under its own route name (reads), any other $batch under $batch', async () => {
		await h.control('POST', '/stats/reset');
		await send([{ method: 'GET', url: 'contacts?$select=lastname' }, { method: 'GET', url: "EntityDefinitions(LogicalName='contact')?$select=LogicalName" }]);
		await send([{ method: 'GET', url: 'contacts?$select=lastname' }, { method: 'POST', url: 'contacts', body: { lastname: 'Counted' } }]);
		const routes = (await h.control<{ routes: Record<string, { count: number }> }>('GET', '/stats')).json.routes;
		expect(routes['POST /api/data/v9.2/$batch (reads)']?.count).toBe(1);
		expect(routes['POST /api/data/v9.2/$batch']?.count).toBe(1);
	});
});
