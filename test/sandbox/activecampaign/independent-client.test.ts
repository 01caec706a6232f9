/* eslint-disable @n8n/community-nodes/no-restricted-globals -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * An "independent" API client written only from ActiveCampaign's public v3 documentation (request and response
 * shapes as documented, nothing from the simulator's code), run against the simulator with its default, real
 * limits. It must work with nothing but the base URL changed.
 */
import { Clock } from '../core/clock';
import { SimulatorServer } from '../core/server';
import { createActiveCampaignSimulator } from './index';

// ----------------------------------------------------------------------------------------------------------------
// The client. Docs: https://developers.activecampaign.com/reference (base URL, Api-Token header, 5 req/s with 429 +
// Retry-After, limit/offset paging with meta.total, orders[id]=ASC + id_greater for contacts).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;

class AcApiError extends Error {
	constructor(
		readonly status: number,
		readonly body: unknown,
	) {
		super(`ActiveCampaign API error ${status}: ${JSON.stringify(body)}`);
	}
}

class DocClient {
	requests = 0;
	throttled = 0;

	constructor(
		private readonly baseUrl: string,
		private readonly apiKey: string,
	) {}

	async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
		for (let attempt = 0; attempt < 10; attempt++) {
			this.requests++;
			const res = await fetch(`${this.baseUrl}/api/3${path}`, {
				method,
				headers: { 'Api-Token': this.apiKey, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
				body: body ? JSON.stringify(body) : undefined,
			});
			if (res.status === 429) {
				this.throttled++;
				const wait = Number(res.headers.get('Retry-After') ?? '1');
				await new Promise((r) => setTimeout(r, wait * 1000));
				continue;
			}
			const text = await res.text();
			const data = text ? JSON.parse(text) : {};
			if (res.status >= 400) throw new AcApiError(res.status, data);
			return { status: res.status, data: data as T };
		}
		throw new Error('gave up after repeated 429s');
	}

	async createField(title: string, type: string, options: string[]): Promise<string> {
		const { data } = await this.request<J>('POST', '/fields', { field: { type, title, descript: '', perstag: '', visible: 1, ordernum: 1 } });
		// The documented example answers with the fields list; clients in the wild read `field`.
		const field = data.field ?? data.fields[0];
		if (options.length) {
			await this.request('POST', '/fieldOption/bulk', {
				fieldOptions: options.map((value, i) => ({ orderid: i + 1, value, label: value, isdefault: false, field: field.id })),
			});
		}
		await this.request('POST', '/fieldRels', { fieldRel: { field: Number(field.id), relid: 0 } });
		return String(field.id);
	}

	async syncContact(contact: { email: string; firstName?: string; lastName?: string; fieldValues?: Array<{ field: string; value: string }> }) {
		const { status, data } = await this.request<J>('POST', '/contact/sync', { contact });
		return { status, contact: data.contact as { id: string; email: string; udate: string }, fieldValues: data.fieldValues as J[] };
	}

	async findOrCreateTag(name: string): Promise<string> {
		const { data } = await this.request<J>('GET', `/tags?search=${encodeURIComponent(name)}`);
		const found = (data.tags as J[]).find((t) => t.tag === name);
		if (found) return found.id;
		const created = await this.request<J>('POST', '/tags', { tag: { tag: name, tagType: 'contact', description: '' } });
		return created.data.tag.id;
	}

	async tagContact(contactId: string, tagId: string): Promise<string> {
		const { data } = await this.request<J>('POST', '/contactTags', { contactTag: { contact: contactId, tag: tagId } });
		return data.contactTag.id;
	}

	async subscribe(contactId: string, listName: string) {
		const { data } = await this.request<J>('GET', '/lists?limit=100');
		const list = (data.lists as J[]).find((l) => l.name === listName);
		const res = await this.request<J>('POST', '/contactLists', { contactList: { list: list.id, contact: contactId, status: 1 } });
		return res.data.contactList;
	}

	async *allContacts(): AsyncGenerator<{ id: string; email: string }> {
		let last = '0';
		for (;;) {
			const { data } = await this.request<J>('GET', `/contacts?orders[id]=ASC&id_greater=${last}&limit=100`);
			if (data.contacts.length === 0) return;
			for (const c of data.contacts) yield c;
			last = data.contacts[data.contacts.length - 1].id;
		}
	}

	async contactTotal(): Promise<number> {
		const { data } = await this.request<J>('GET', '/contacts?limit=1');
		return Number(data.meta.total);
	}

	async bulkImport(contacts: unknown[]): Promise<string> {
		const { data } = await this.request<J>('POST', '/import/bulk_import', { contacts });
		if (!data.batchId) throw new Error(`import not queued: ${JSON.stringify(data)}`);
		return data.batchId;
	}

	async waitForImport(batchId: string, timeoutMs = 15000): Promise<{ status: string; success: string[]; failure: string[] }> {
		const until = Date.now() + timeoutMs;
		while (Date.now() < until) {
			const { data } = await this.request<J>('GET', `/import/info?batchId=${encodeURIComponent(batchId)}`);
			if (data.status === 'completed' || data.status === 'failed') return data;
			await new Promise((r) => setTimeout(r, 500));
		}
		throw new Error('import did not complete');
	}

	async ensureSchema(slug: string): Promise<string> {
		const { data } = await this.request<J>('GET', '/customObjects/schemas?limit=100');
		const existing = (data.schemas as J[]).find((s) => s.slug === slug);
		if (existing) return existing.id;
		const created = await this.request<J>('POST', '/customObjects/schemas', {
			schema: {
				slug,
				labels: { singular: 'Opportunity', plural: 'Opportunities' },
				description: 'Opportunities from the CRM',
				fields: [
					{ id: 'name', labels: { singular: 'Name', plural: 'Names' }, type: 'text', required: true },
					{ id: 'amount', labels: { singular: 'Amount', plural: 'Amounts' }, type: 'number', scale: 2 },
				],
				relationships: [
					{ id: 'primary-contact', labels: { singular: 'Primary Contact', plural: 'Primary Contacts' }, description: 'Primary contact', namespace: 'contacts', hasMany: false },
				],
			},
		});
		return created.data.schema.id;
	}

	async upsertRecord(schemaId: string, externalId: string, fields: Array<{ id: string; value: unknown }>, contactId: string) {
		const { status, data } = await this.request<J>('POST', `/customObjects/records/${schemaId}`, {
			record: { externalId, fields, relationships: { 'primary-contact': [Number(contactId)] } },
		});
		return { status, record: data.record };
	}

	async recordByExternalId(schemaId: string, externalId: string) {
		const { data } = await this.request<J>('GET', `/customObjects/records/${schemaId}/external/${encodeURIComponent(externalId)}`);
		return data.record;
	}
}

// ----------------------------------------------------------------------------------------------------------------

describe('an independent, documentation-only client against the ActiveCampaign simulator', () => {
	let server: SimulatorServer;
	let baseUrl: string;

	beforeAll(async () => {
		const clock = new Clock();
		// Defaults only: the real 5 requests/second limit is on.
		const simulator = createActiveCampaignSimulator(clock, { seed: 'demo' });
		server = new SimulatorServer(simulator, clock);
		baseUrl = await server.listen(0);
		simulator.setBaseUrl(baseUrl);
	});
	afterAll(() => server.close());

	it('runs a typical integration flow with only the base URL changed', async () => {
		const client = new DocClient(baseUrl, 'sandbox-key');

		const fieldId = await client.createField('Favorite Color', 'dropdown', ['Red', 'Green', 'Blue']);
		expect(fieldId).toMatch(/^\d+$/);

		const created = await client.syncContact({
			email: 'client.flow@example.com',
			firstName: 'Client',
			lastName: 'Flow',
			fieldValues: [{ field: fieldId, value: 'Green' }],
		});
		expect(created.status).toBe(201);
		expect(created.fieldValues.find((fv) => fv.field === fieldId).value).toBe('Green');
		const updated = await client.syncContact({ email: 'Client.Flow@example.com', fieldValues: [{ field: fieldId, value: 'Blue' }] });
		expect([200, 201]).toContain(updated.status);
		expect(updated.contact.id).toBe(created.contact.id);

		const tagId = await client.findOrCreateTag('Integration Test');
		const again = await client.findOrCreateTag('Integration Test');
		expect(again).toBe(tagId);
		expect(await client.tagContact(created.contact.id, tagId)).toMatch(/^\d+$/);

		const membership = await client.subscribe(created.contact.id, 'Newsletter');
		expect(String(membership.status)).toBe('1');

		const total = await client.contactTotal();
		const seen: string[] = [];
		for await (const c of client.allContacts()) seen.push(c.id);
		expect(seen).toHaveLength(total);
		expect(new Set(seen).size).toBe(total);
		expect(seen).toContain(created.contact.id);

		const batchId = await client.bulkImport(
			Array.from({ length: 20 }, (_, i) => ({
				email: `imported.${i}@example.com`,
				first_name: 'Imported',
				last_name: String(i),
				tags: ['Integration Test'],
				fields: [{ id: Number(fieldId), value: 'Red' }],
				subscribe: [{ listid: 1 }],
			})),
		);
		const result = await client.waitForImport(batchId);
		expect(result.status).toBe('completed');
		expect(result.success).toHaveLength(20);
		expect(result.failure).toEqual([]);
		expect(await client.contactTotal()).toBe(total + 20);

		const schemaId = await client.ensureSchema('crm-opportunity');
		expect(await client.ensureSchema('crm-opportunity')).toBe(schemaId);
		const first = await client.upsertRecord(schemaId, 'OPP-1', [{ id: 'name', value: 'Big deal' }, { id: 'amount', value: 1200.5 }], created.contact.id);
		expect(first.status).toBe(201);
		const second = await client.upsertRecord(schemaId, 'OPP-1', [{ id: 'name', value: 'Bigger deal' }, { id: 'amount', value: 1800 }], created.contact.id);
		expect(second.record.id).toBe(first.record.id);
		const read = await client.recordByExternalId(schemaId, 'OPP-1');
		expect(read.fields).toContainEqual({ id: 'name', value: 'Bigger deal' });
		expect(read.relationships['primary-contact']).toEqual([created.contact.id]);

		// With the real limit on, the client will usually have been told to wait at least once; either way it got through.
		expect(client.requests).toBeGreaterThan(20);
	});

	it('surfaces documented errors the way the docs describe them', async () => {
		const client = new DocClient(baseUrl, 'sandbox-key');
		await expect(client.request('POST', '/contacts', { contact: { email: 'maria.garcia@contoso.com' } })).rejects.toMatchObject({
			status: 422,
			body: { errors: [expect.objectContaining({ code: 'duplicate' })] },
		});
		await expect(client.request('GET', '/contacts/99999')).rejects.toMatchObject({
			status: 404,
			body: { message: 'No Result found for Subscriber with id 99999' },
		});
		const wrongKey = new DocClient(baseUrl, 'not-a-key');
		await expect(wrongKey.request('GET', '/contacts')).rejects.toMatchObject({ status: 403 });
	});
});
