/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The pictures the documentation shows are in the repository: every image README.md and docs/*.md reference (Markdown
 * `![…](…)` or an HTML `<img src="…">`) exists, relative to the file that references it, and every picture in
 * docs/images/ is shown somewhere. The pictures themselves are taken by `npm run screenshots`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = [path.join(ROOT, 'README.md'), ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join(ROOT, 'docs', f))];

/** The local images a Markdown file references (remote ones, http(s) or data:, are not ours to check). */
function imagesOf(file: string): string[] {
	const text = readFileSync(file, 'utf8');
	const targets = [
		...[...text.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
		...[...text.matchAll(/<img\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]),
	];
	return targets.filter((target) => !/^(https?:|data:)/i.test(target)).map((target) => decodeURI(target.split(/[?#]/)[0]));
}

const references = DOCS.flatMap((file) => imagesOf(file).map((target) => ({ file: path.relative(ROOT, file), target, resolved: path.resolve(path.dirname(file), target) })));

describe('documentation images', () => {
	it('README.md shows pictures', () => {
		expect(references.filter((r) => r.file === 'README.md').length).toBeGreaterThan(0);
	});

	it.each(references.map((r) => [r.file, r.target, r.resolved] as const))('%s: %s exists', (_file, _target, resolved) => {
		expect(resolved.startsWith(ROOT + path.sep)).toBe(true);
		expect(existsSync(resolved)).toBe(true);
	});

	it('every picture in docs/images is shown in README.md or docs/', () => {
		const dir = path.join(ROOT, 'docs', 'images');
		const shown = new Set(references.map((r) => r.resolved));
		const pictures = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(png|jpe?g|gif|svg|webp)$/i.test(f)) : [];
		expect(pictures.filter((f) => !shown.has(path.join(dir, f)))).toEqual([]);
	});
});
