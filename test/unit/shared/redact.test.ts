/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Redaction replaces actual secret values, in whatever form they reach a text, and never ordinary words.
 */
import { NodeApiError, type INode } from 'n8n-workflow';

import { toNodeApiError as acError } from '../../../nodes/ActiveCampaignSync/transport/errors';
import { redact } from '../../../nodes/shared/transport/redact';

const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL29yZy5jcm0uZHluYW1pY3MuY29tIn0.c2lnbmF0dXJlLXZhbHVl';

describe('redact', () => {
	it('leaves ordinary words after "Bearer" alone: the word token, a WWW-Authenticate challenge', () => {
		const missing = 'The request is not authenticated: the Authorization header with a Bearer token is missing.';
		expect(redact(missing, ['sandbox-secret'])).toBe(missing);
		const challenge = 'Bearer authorization_uri=https://login.microsoftonline.com/tenant/oauth2/authorize, resource_id=https://org.crm.dynamics.com/';
		expect(redact(challenge)).toBe(challenge);
		expect(redact('Bearer error=invalid_token, error_description=Error during token validation!')).toBe(
			'Bearer error=invalid_token, error_description=Error during token validation!',
		);
		expect(redact('Use basic authentication or a bearer token.')).toBe('Use basic authentication or a bearer token.');
	});

	it('removes tokens after Bearer or Basic, and credential fields with or without a scheme', () => {
		expect(redact(`Bearer ${JWT}`)).toBe('Bearer [redacted]');
		expect(redact('Authorization: Basic dXNlcjpwYXNzd29yZA==')).toBe('Authorization: Basic [redacted]');
		expect(redact('sent Authorization: Bearer abc.def and access_token=opaque&x=1')).toBe('sent Authorization: Bearer [redacted] and access_token=[redacted]&x=1');
		expect(redact('{"access_token":null,"refresh_token":"0.AAA"}')).toBe('{"access_token":null,"refresh_token":"[redacted]"}');
	});

	it('removes a secret as given, trimmed, URL-encoded and JSON-escaped; a secret inside another one entirely', () => {
		const secret = ' Ab1~x.Y/z+q"w ';
		const text = `raw Ab1~x.Y/z+q"w, url ${encodeURIComponent('Ab1~x.Y/z+q"w')}, json ${JSON.stringify({ s: 'Ab1~x.Y/z+q"w' })}`;
		const out = redact(text, [secret]);
		expect(out).toBe('raw [redacted], url [redacted], json {"s":"[redacted]"}');
		expect(redact('key abcd-1234-efgh', ['abcd', 'abcd-1234-efgh'])).toBe('key [redacted]');
		// Values too short to be secrets (an empty token) change nothing.
		expect(redact('a token', ['', ' ', 'to'])).toBe('a token');
	});
});

describe('ActiveCampaign errors', () => {
	const node: INode = { id: 'n', name: 'ActiveCampaign Sync', type: 'test', typeVersion: 1, position: [0, 0], parameters: {} };

	it('removes the API key from a body that echoes it (also when the credential holds it with spaces around)', () => {
		const key = '4f8a1c9e2b7d6a5f3e1c0b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5';
		for (const stored of [key, ` ${key}\n`]) {
			for (const body of [
				{ message: `Invalid API key ${key} for this account` },
				{ errors: [{ title: 'Forbidden', detail: `key ${key} lacks permission` }] },
				{ message: 'Rate limit exceeded.', failureReasons: [`Too many imports for ${key}`] },
			]) {
				const error = acError(node, { status: 403, headers: {}, body, message: '' }, { method: 'GET', path: '/api/3/contacts', exhausted: false, attempts: 1, secrets: [stored] });
				expect(error).toBeInstanceOf(NodeApiError);
				const text = [error.message, error.description, error.stack, JSON.stringify(error)].join('\n');
				expect(text).not.toContain(key);
				expect(error.message).toContain('[redacted]');
			}
		}
	});
});
