/**
 * ActiveCampaign posts webhooks as `application/x-www-form-urlencoded` with PHP-style bracketed keys
 * (`contact[fields][lead_source]=Web`). n8n may hand the body over raw, as flat bracketed keys or already nested;
 * this turns any of those into one nested object.
 */
import type { IDataObject } from 'n8n-workflow';

type Tree = { [key: string]: Tree | string };

function segments(key: string): string[] {
	const first = key.indexOf('[');
	if (first <= 0) return [key];
	const out = [key.slice(0, first)];
	const re = /\[([^\]]*)\]/g;
	let match: RegExpExecArray | null;
	while ((match = re.exec(key.slice(first)))) out.push(match[1]);
	return out;
}

function assign(tree: Tree, path: string[], value: string): void {
	let node = tree;
	for (let i = 0; i < path.length - 1; i++) {
		const part = path[i] === '' ? String(Object.keys(node).length) : path[i];
		const next = node[part];
		if (typeof next !== 'object') node[part] = {};
		node = node[part] as Tree;
	}
	const last = path[path.length - 1] === '' ? String(Object.keys(node).length) : path[path.length - 1];
	node[last] = value;
}

/** Objects whose keys are 0..n-1 become arrays. */
function finish(value: Tree | string): unknown {
	if (typeof value === 'string') return value;
	const keys = Object.keys(value);
	const entries = keys.map((k) => [k, finish(value[k])] as const);
	if (keys.length && keys.every((k, i) => k === String(i))) return entries.map(([, v]) => v);
	return Object.fromEntries(entries);
}

function flatten(value: unknown, prefix: string, out: Array<[string, string]>): void {
	if (value === null || value === undefined) {
		out.push([prefix, '']);
	} else if (Array.isArray(value)) {
		value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
	} else if (typeof value === 'object') {
		for (const [k, v] of Object.entries(value as IDataObject)) flatten(v, prefix ? `${prefix}[${k}]` : k, out);
	} else {
		out.push([prefix, String(value)]);
	}
}

export function parseWebhookBody(body: unknown): IDataObject {
	const pairs: Array<[string, string]> = [];
	if (typeof body === 'string' || body instanceof URLSearchParams) {
		for (const [k, v] of new URLSearchParams(body as string)) pairs.push([k, v]);
	} else if (body && typeof body === 'object') {
		if (typeof (body as { toString?: unknown }).toString === 'function' && Buffer.isBuffer(body)) {
			for (const [k, v] of new URLSearchParams(body.toString('utf8'))) pairs.push([k, v]);
		} else {
			flatten(body, '', pairs);
		}
	}
	const tree: Tree = {};
	for (const [key, value] of pairs) {
		if (!key) continue;
		assign(tree, segments(key), value);
	}
	return finish(tree) as IDataObject;
}

/** The source of a delivery: `initiated_from` (public, admin, api, system). */
export function webhookSource(payload: IDataObject): string {
	return String(payload.initiated_from ?? payload.initiated_by ?? '').toLowerCase();
}
