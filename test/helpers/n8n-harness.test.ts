/* eslint-disable @n8n/community-nodes/credential-password-field, @n8n/community-nodes/credential-unnecessary-password, @n8n/community-nodes/no-restricted-imports -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
	NodeApiError,
	type ICredentialDataDecryptedObject,
	type ICredentialType,
	type IExecuteFunctions,
	type IHttpRequestHelper,
	type INodeType,
	type IPollFunctions,
} from 'n8n-workflow';

import { N8nHarness } from './n8n-harness';

class EchoApi implements ICredentialType {
	name = 'echoApi';
	displayName = 'Echo API';
	properties = [
		{ displayName: 'URL', name: 'url', type: 'string' as const, default: '' },
		{ displayName: 'Key', name: 'key', type: 'string' as const, typeOptions: { password: true }, default: '' },
		{ displayName: 'Token', name: 'token', type: 'hidden' as const, typeOptions: { expirable: true }, default: '' },
	];
	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const res = (await this.helpers.httpRequest({ method: 'POST', url: `${credentials.url}/token`, json: true })) as {
			token: string;
		};
		return { token: res.token };
	}
	authenticate = {
		type: 'generic' as const,
		properties: { headers: { Authorization: '=Bearer {{$credentials.token}}', 'X-Key': '={{$credentials.key}}' } },
	};
}

class EchoNode implements INodeType {
	description = {
		displayName: 'Echo',
		name: 'echo',
		group: ['transform'],
		version: 1,
		description: 'Echo',
		defaults: { name: 'Echo' },
		inputs: ['main'],
		outputs: ['main'],
		credentials: [{ name: 'echoApi', required: true }],
		polling: true,
		properties: [{ displayName: 'Path', name: 'path', type: 'string', default: '/echo' }],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions) {
		const items = this.getInputData();
		const credentials = await this.getCredentials('echoApi');
		const out = [];
		for (let i = 0; i < items.length; i++) {
			try {
				const body = await this.helpers.httpRequestWithAuthentication.call(this, 'echoApi', {
					method: 'GET',
					url: `${credentials.url}${this.getNodeParameter('path', i)}`,
					json: true,
				});
				out.push({ json: body, pairedItem: { item: i } });
			} catch (error) {
				throw new NodeApiError(this.getNode(), error as never);
			}
		}
		return [out];
	}

	async poll(this: IPollFunctions) {
		const data = this.getWorkflowStaticData('node');
		data.count = ((data.count as number) ?? 0) + 1;
		return [[{ json: { count: data.count } }]];
	}
}

describe('n8n harness', () => {
	let server: Server;
	let url = '';
	let tokens = 0;
	beforeAll(async () => {
		server = createServer((req, res) => {
			if (req.url === '/token') {
				tokens++;
				res.end(JSON.stringify({ token: `t${tokens}` }));
				return;
			}
			// The first token is "expired": the API answers 401 until a second token is fetched.
			if (req.headers.authorization === 'Bearer t1') {
				res.statusCode = 401;
				res.end('{"error":"expired"}');
				return;
			}
			res.setHeader('Content-Type', 'application/json');
			res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization, key: req.headers['x-key'] }));
		});
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((r) => server.close(() => r())));

	it('runs a node through WorkflowExecute with generic auth and token refresh on 401', async () => {
		const harness = new N8nHarness({
			nodes: [EchoNode],
			credentialTypes: [EchoApi],
			credentials: { echoApi: { url, key: 'k1' } },
		});
		const result = await harness.runNode({ type: 'echo', parameters: { path: '/x' }, credentials: ['echoApi'] }, [{}, {}]);
		expect(result.error).toBeUndefined();
		expect(result.outputs[0].map((i) => i.json)).toEqual([
			{ path: '/x', auth: 'Bearer t2', key: 'k1' },
			{ path: '/x', auth: 'Bearer t2', key: 'k1' },
		]);
		expect(harness.credentialsHelper.events.preAuthentications.echoApi).toBe(2);
		expect(harness.storedCredentials('echoApi')?.token).toBe('t2');
	});

	it('keeps poll static data between polls', async () => {
		const harness = new N8nHarness({ nodes: [EchoNode], credentialTypes: [EchoApi], credentials: {} });
		const spec = { type: 'echo', parameters: {} };
		expect((await harness.poll(spec)).items?.[0].json).toEqual({ count: 1 });
		expect((await harness.poll(spec)).items?.[0].json).toEqual({ count: 2 });
		expect((await harness.poll(spec, 'manual')).items?.[0].json).toEqual({ count: 1 });
	});
});
