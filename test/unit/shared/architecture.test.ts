/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- not shipped: a test that reads the source tree */
/**
 * The layering rules of docs/DESIGN.md, checked on the source: a node reaches another node only through that node's
 * `client.ts`; `shared/` imports no node; a transport imports nothing from its node's helpers or actions.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const NODES = resolve(__dirname, '../../../nodes');

function sources(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return sources(path);
		return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
	});
}

/** Every relative import of every source file under nodes/, as paths relative to nodes/. */
const imports = sources(NODES).flatMap((file) =>
	[...readFileSync(file, 'utf8').matchAll(/from '(\.[^']*)'/g)].map((m) => ({
		from: relative(NODES, file).split(sep).join('/'),
		to: relative(NODES, resolve(dirname(file), m[1])).split(sep).join('/'),
	})),
);
const top = (path: string) => path.split('/')[0];

it('reads the imports of the node sources', () => {
	expect(imports.length).toBeGreaterThan(100);
});

it("a node reaches another node only through that node's client.ts", () => {
	const crossing = imports.filter((i) => top(i.from) !== top(i.to) && top(i.to) !== 'shared' && !/^[^/]+\/client$/.test(i.to));
	expect(crossing).toEqual([]);
});

it('shared/ imports no node', () => {
	expect(imports.filter((i) => top(i.from) === 'shared' && top(i.to) !== 'shared')).toEqual([]);
});

it("a transport imports nothing from its node's helpers, actions or methods", () => {
	const upward = imports.filter((i) => /^[^/]+\/transport\//.test(i.from) && /^[^/]+\/(helpers|actions|methods)\//.test(i.to));
	expect(upward).toEqual([]);
});
