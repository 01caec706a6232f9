#!/usr/bin/env node
// Runs n8n's official community-package scanner (@n8n/scan-community-package) on what would be published: the tarball
// `npm pack` makes, unpacked into a temporary folder. Its CLI only scans packages already on the registry (it downloads
// them and the source their provenance names), so this calls the same pieces the CLI does:
//   - analyzePackage on the unpacked tarball (compiled .js and package.json: the scanner's "tarball leg"), and
//   - analyzePackage on this checkout with the scanner's SOURCE_FILE_PATTERNS (its "source leg").
// analyzePackage passes a package with warnings; this script is stricter and fails on any error or warning, counting
// them with the scanner's own ESLint config (buildScanConfig).
//
// Usage: node .ci/scan.mjs [path/to/package.tgz]   (without a tarball: packs the built package first)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ESLint } from 'eslint';
import glob from 'fast-glob';
import { analyzePackage, buildScanConfig, SOURCE_FILE_PATTERNS } from '@n8n/scan-community-package/scanner/scanner.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(tmpdir(), 'n8n-scan-'));

try {
	let tarball = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
	if (!tarball) {
		execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
		tarball = path.join(work, readdirSync(work).find((f) => f.endsWith('.tgz')));
	}
	const unpacked = path.join(work, 'package');
	execFileSync('mkdir', ['-p', unpacked]);
	execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);

	const legs = [
		{ name: `tarball ${path.basename(tarball)}`, dir: unpacked, patterns: ['**/*.js', 'package.json'] },
		{ name: 'source (this checkout)', dir: root, patterns: SOURCE_FILE_PATTERNS },
	];
	let failed = false;
	for (const leg of legs) {
		const verdict = await analyzePackage(leg.dir, leg.patterns);
		const counts = await countProblems(leg.dir, leg.patterns);
		const ok = verdict.passed && counts.errors === 0 && counts.warnings === 0;
		failed ||= !ok;
		console.log(
			`${ok ? 'PASS' : 'FAIL'} scanner, ${leg.name}: analyzePackage ${verdict.passed ? 'passed' : `failed (${verdict.message})`}; ` +
				`${counts.files} files, ${counts.errors} errors, ${counts.warnings} warnings`,
		);
		if (counts.report) console.log(counts.report);
		else if (verdict.details) console.log(verdict.details);
	}
	if (failed) process.exitCode = 1;
} finally {
	rmSync(work, { recursive: true, force: true });
}

/** The scanner's lint with its own config, keeping warnings (analyzePackage only reports files with errors). */
async function countProblems(dir, patterns) {
	const eslint = new ESLint({ cwd: dir, allowInlineConfig: false, overrideConfigFile: true, overrideConfig: await buildScanConfig() });
	const files = glob.sync(patterns, { cwd: dir, absolute: true, ignore: ['node_modules/**', '**/package-lock.json'] });
	const results = await eslint.lintFiles(files);
	const errors = results.reduce((n, r) => n + r.errorCount, 0);
	const warnings = results.reduce((n, r) => n + r.warningCount, 0);
	const report = errors + warnings > 0 ? await (await eslint.loadFormatter('stylish')).format(results) : '';
	return { files: files.length, errors, warnings, report };
}
