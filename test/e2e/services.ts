/* eslint-disable @n8n/community-nodes/no-dangerous-functions, @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, @n8n/community-nodes/require-node-api-error, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * PostgreSQL and Redis for n8n's queue mode, from Debian's packages, run as plain local processes in a folder of
 * the suite's (wiped at each start) on free loopback ports: no containers, no service manager, nothing outside loopback. Every process is tied
 * to the test process (Linux parent-death signal through util-linux `setpriv`), so it stops by itself if the tests
 * die; `stop()` ends it normally.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { freePort } from './n8n';
import { tiedToParent } from './runtime';

const exec = promisify(execFile);
type Log = (message: string) => void;

/** Where Debian's PostgreSQL keeps its programs (the newest installed major version). */
function postgresBinDir(): string | undefined {
	const root = '/usr/lib/postgresql';
	if (!existsSync(root)) return undefined;
	const versions = readdirSync(root)
		.filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')))
		.sort((a, b) => Number(b) - Number(a));
	return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

function redisServer(): string | undefined {
	return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((file) => existsSync(file));
}

/**
 * Installs Debian's `postgresql` and `redis-server` packages where they are missing (as root, as in CI, or with
 * sudo without a password). The
 * packages' own services are not used: Debian's maintainer scripts may start them, which matters not; this suite
 * runs its own processes on other ports.
 */
export async function ensureQueueServices(log: Log = (m) => console.log(m)): Promise<void> {
	if (postgresBinDir() && redisServer()) return;
	// As root (CI here), or through sudo without a password (hosted CI runners).
	const root = process.getuid?.() === 0;
	if (!root && !(await exec('sudo', ['-n', 'true']).then(() => true, () => false))) {
		throw new Error('PostgreSQL and Redis are missing; install them: sudo apt-get install -y postgresql redis-server');
	}
	log('Installing PostgreSQL and Redis from Debian packages (apt-get)…');
	const apt = async (args: string[]) =>
		await exec(root ? 'apt-get' : 'sudo', root ? args : ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args], {
			env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
			maxBuffer: 64 * 1024 * 1024,
		});
	await apt(['update', '-qq']);
	await apt(['install', '-y', '-qq', '--no-install-recommends', 'postgresql', 'redis-server']);
	if (!postgresBinDir() || !redisServer()) throw new Error('apt-get installed postgresql and redis-server, but their programs were not found');
}

/** A local service process of the suite. */
export class LocalService {
	private exited = false;
	private output = '';

	constructor(
		readonly name: string,
		readonly port: number,
		private readonly child: ChildProcess,
		private readonly cleanup: () => void = () => undefined,
	) {
		child.stdout?.on('data', (chunk) => this.collect(chunk));
		child.stderr?.on('data', (chunk) => this.collect(chunk));
		child.on('exit', () => (this.exited = true));
	}

	private collect(chunk: Buffer): void {
		this.output = (this.output + chunk.toString()).slice(-20_000);
	}

	get log(): string {
		return this.output;
	}

	get running(): boolean {
		return !this.exited;
	}

	async stop(): Promise<void> {
		if (!this.exited) {
			await new Promise<void>((resolve) => {
				const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
				this.child.once('exit', () => {
					clearTimeout(timer);
					resolve();
				});
				// PostgreSQL: SIGINT is its "fast shutdown"; Redis ends on SIGINT too.
				this.child.kill('SIGINT');
			});
		}
		this.cleanup();
	}
}

/** An empty folder `name` under `baseDir` (what a killed run left there is removed first). */
function freshDir(baseDir: string, name: string): string {
	const dir = path.join(baseDir, name);
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	return dir;
}

async function waitFor(what: string, check: () => Promise<boolean>, service: LocalService, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (!service.running) throw new Error(`${what} exited while starting:\n${service.log.slice(-3000)}`);
		if (await check().catch(() => false)) return;
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	throw new Error(`${what} did not start in ${timeoutMs / 1000} s:\n${service.log.slice(-3000)}`);
}

/** A non-root account to run PostgreSQL as (it refuses to run as root): Debian's `postgres` user. */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
	if (process.getuid?.() !== 0) return undefined;
	const uid = Number((await exec('id', ['-u', 'postgres'])).stdout.trim());
	const gid = Number((await exec('id', ['-g', 'postgres'])).stdout.trim());
	return { uid, gid };
}

export interface Postgres extends LocalService {
	/** n8n's DB_POSTGRESDB_* settings for this server. */
	env: Record<string, string>;
	/** Runs one SQL statement with psql; returns its unaligned, tuples-only output. */
	sql(statement: string): Promise<string>;
}

/**
 * A fresh PostgreSQL cluster in a folder of its own (initdb), listening on 127.0.0.1 only, with a database `n8n` and
 * trust authentication for its owner `n8n` on loopback; removed by stop().
 */
export async function startPostgres(baseDir: string, log: Log = (m) => console.log(m)): Promise<Postgres> {
	const bin = postgresBinDir();
	if (!bin) throw new Error('PostgreSQL is not installed (call ensureQueueServices first)');
	const user = await postgresUser();
	// Run as the postgres user, the cluster needs a folder that user can reach: the project's may sit under a folder
	// only root may enter (a CI checkout in a private temp folder), so it goes into the system's temp folder then.
	const dir = user ? mkdtempSync(path.join(tmpdir(), 'n8n-queue-postgres-')) : freshDir(baseDir, 'postgres');
	const data = path.join(dir, 'data');
	const socket = path.join(dir, 'socket');
	mkdirSync(data);
	mkdirSync(socket);
	if (user) for (const folder of [dir, data, socket]) chownSync(folder, user.uid, user.gid);
	const remove = () => rmSync(dir, { recursive: true, force: true });
	try {
		const [initCommand, initArgs] = tiedToParent(path.join(bin, 'initdb'), ['-D', data, '-U', 'n8n', '--auth=trust', '-E', 'UTF8', '--no-sync'], user);
		await exec(initCommand, initArgs, { cwd: dir });
	} catch (error) {
		remove();
		throw error;
	}
	const port = await freePort();
	const [command, args] = tiedToParent(
		path.join(bin, 'postgres'),
		['-D', data, '-p', String(port), '-k', socket, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'],
		user,
	);
	const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
	const service = new LocalService('PostgreSQL', port, child, remove) as Postgres;
	const psql = async (database: string, statement: string) =>
		(await exec(path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'n8n', '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atc', statement], { maxBuffer: 256 * 1024 * 1024 })).stdout;
	await waitFor('PostgreSQL', async () => (await psql('postgres', 'select 1')).trim() === '1', service);
	await psql('postgres', 'create database n8n');
	service.env = {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: '127.0.0.1',
		DB_POSTGRESDB_PORT: String(port),
		DB_POSTGRESDB_DATABASE: 'n8n',
		DB_POSTGRESDB_USER: 'n8n',
		DB_POSTGRESDB_PASSWORD: 'n8n',
	};
	service.sql = async (statement) => await psql('n8n', statement);
	log(`PostgreSQL listening on 127.0.0.1:${port} (${path.basename(dir)})`);
	return service;
}

export interface Redis extends LocalService {
	/** n8n's QUEUE_BULL_REDIS_* settings for this server. */
	env: Record<string, string>;
}

/** A Redis server on 127.0.0.1 without persistence (nothing written to disk). */
export async function startRedis(baseDir: string, log: Log = (m) => console.log(m)): Promise<Redis> {
	const server = redisServer();
	if (!server) throw new Error('Redis is not installed (call ensureQueueServices first)');
	const dir = freshDir(baseDir, 'redis');
	const port = await freePort();
	const [command, args] = tiedToParent(server, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
	const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
	const service = new LocalService('Redis', port, child, () => rmSync(dir, { recursive: true, force: true })) as Redis;
	await waitFor('Redis', async () => /ready to accept connections/i.test(service.log), service);
	service.env = { QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(port) };
	log(`Redis listening on 127.0.0.1:${port}`);
	return service;
}
