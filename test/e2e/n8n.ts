/* eslint-disable @n8n/community-nodes/no-dangerous-functions, @n8n/community-nodes/no-hardcoded-secrets, @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * One real n8n instance for end-to-end tests and the demo: its own user folder (SQLite database, settings), our
 * package installed the way users install it manually (`npm install` of the packed tarball into `~/.n8n/nodes`),
 * started as a server and driven through its CLI and REST API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { PROJECT_ROOT, run, tiedToParent, type Runtime } from './runtime';
import { FAIL_RUN_NODE } from '../../scripts/build-templates';

export interface N8nOptions {
	userFolder: string;
	port: number;
	/** Extra environment for every n8n process (server and CLI). */
	env?: NodeJS.ProcessEnv;
	log?: (message: string) => void;
}

/**
 * What an n8n process runs: `start` (the main process: editor, REST API, triggers, webhooks), and in queue mode
 * `worker` (runs executions from the queue) and `webhook` (a webhook processor: production webhooks only).
 */
export type N8nCommand = 'start' | 'worker' | 'webhook';

export const OWNER = { email: 'owner@example.com', password: 'Sandbox-demo-1', firstName: 'Demo', lastName: 'Owner' };

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
	return await new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
		});
	});
}

/** Packs the built package (`npm pack`) exactly as it would be published; returns the tarball path. */
export async function packPackage(outDir: string): Promise<string> {
	mkdirSync(outDir, { recursive: true });
	const output = await run('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: PROJECT_ROOT });
	const name = output.trim().split('\n').pop()!.trim();
	return path.join(outDir, name);
}

/** What a manual install did: on which Node and npm, with which ignore-scripts setting, and what ended up installed. */
export interface InstallReport {
	node: string;
	npm: string;
	ignoreScripts: string;
	/** Top-level entries of `~/.n8n/nodes/node_modules` (a scope counts as one). */
	installed: string[];
}

/** The environment minus every npm setting passed down by the npm process that started the tests. */
export function userNpmEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
	return Object.fromEntries(Object.entries(env).filter(([key]) => !/^npm_/i.test(key)));
}

/** npm's own entry script (npm-cli.js), to run npm with another Node than the one it came with. */
export function npmCli(): string {
	const candidates = [
		path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
		path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
		process.env.npm_execpath ?? '',
	];
	const found = candidates.find((file) => file.endsWith('npm-cli.js') && existsSync(file));
	if (!found) throw new Error(`npm-cli.js not found next to ${process.execPath}`);
	return found;
}

/** The six nodes the package adds, by node type name. */
export const PACKAGE_NODE_TYPES = [
	'n8n-nodes-ac-d365-sync.dynamics365',
	'n8n-nodes-ac-d365-sync.dynamics365Trigger',
	'n8n-nodes-ac-d365-sync.activeCampaignSync',
	'n8n-nodes-ac-d365-sync.activeCampaignSyncTrigger',
	'n8n-nodes-ac-d365-sync.acD365FieldMap',
	'n8n-nodes-ac-d365-sync.acD365SyncReport',
];

export class N8nInstance {
	private server?: ChildProcess;
	private cookie?: string;
	readonly url: string;
	private serverLog = '';
	/** The last installPackage's report. */
	installReport?: InstallReport;
	/** The tarball the last installPackage installed. */
	tarball?: string;
	/** What start() started. */
	private command: N8nCommand = 'start';

	constructor(
		readonly runtime: Runtime,
		readonly options: N8nOptions,
	) {
		this.url = `http://127.0.0.1:${options.port}`;
		mkdirSync(options.userFolder, { recursive: true });
	}

	get nodesDir(): string {
		return path.join(this.options.userFolder, '.n8n', 'nodes');
	}

	/** Environment every n8n process of this instance shares. */
	private env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
		return {
			...this.runtime.env,
			// Test runners set NODE_ENV=test; n8n must run as it does for users.
			NODE_ENV: 'production',
			N8N_USER_FOLDER: this.options.userFolder,
			N8N_PORT: String(this.options.port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_ENCRYPTION_KEY: 'sandbox-e2e-encryption-key',
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_SECURE_COOKIE: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
			N8N_COMMUNITY_PACKAGES_REINSTALL_MISSING: 'false',
			N8N_LOG_LEVEL: 'warn',
			DB_SQLITE_POOL_SIZE: '4',
			EXECUTIONS_DATA_PRUNE: 'false',
			GENERIC_TIMEZONE: 'UTC',
			...this.options.env,
			...extra,
		};
	}

	/**
	 * Installs the packed package into the instance's community-nodes folder the way the README tells users to
	 * (`cd ~/.n8n/nodes && npm install <tarball>`): npm run by this runtime's Node (20 or 24), with npm's default
	 * settings. The test runner's own npm settings are not passed on: `npm run` exports the repository's
	 * `ignore-scripts=true` (and more) as npm_config_* variables, which would hide an install that fails for users.
	 */
	async installPackage(tarball: string): Promise<InstallReport> {
		mkdirSync(this.nodesDir, { recursive: true });
		const manifest = path.join(this.nodesDir, 'package.json');
		if (!existsSync(manifest)) writeFileSync(manifest, JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
		const env = userNpmEnv(this.runtime.env);
		const npm = (args: string[]) => run(this.runtime.nodeBin, [npmCli(), ...args], { cwd: this.nodesDir, env });
		const ignoreScripts = (await npm(['config', 'get', 'ignore-scripts'])).trim();
		const npmVersion = (await npm(['--version'])).trim();
		await npm(['install', tarball, '--no-audit', '--no-fund', '--loglevel=error']);
		const installed = readdirSync(path.join(this.nodesDir, 'node_modules')).filter((name) => !name.startsWith('.'));
		this.installReport = { node: this.runtime.spec.node, npm: npmVersion, ignoreScripts, installed };
		this.tarball = tarball;
		return this.installReport;
	}

	/** Runs an n8n CLI command against this instance's database; returns its output. */
	async cli(args: string[], options: { allowFailure?: boolean; env?: NodeJS.ProcessEnv; onChild?: (pid: number) => void } = {}): Promise<string> {
		const brokerPort = await freePort();
		return await new Promise((resolve, reject) => {
			const [command, argv] = tiedToParent(this.runtime.nodeBin, [this.runtime.n8nBin, ...args]);
			const child = spawn(command, argv, {
				cwd: this.options.userFolder,
				env: this.env({ N8N_RUNNERS_BROKER_PORT: String(brokerPort), ...options.env }),
			});
			let stdout = '';
			let stderr = '';
			if (child.pid !== undefined) options.onChild?.(child.pid);
			child.stdout.on('data', (chunk) => (stdout += chunk));
			child.stderr.on('data', (chunk) => (stderr += chunk));
			child.on('error', reject);
			child.on('close', (code) => {
				if (code === 0 || options.allowFailure) resolve(stdout + (code === 0 ? '' : stderr));
				else reject(new Error(`n8n ${args.join(' ')} exited with ${code}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
			});
		});
	}

	/**
	 * `n8n execute --id <id> --rawOutput`: the run's data as n8n returns it. A failed run's data is printed at log
	 * level info (after "Execution error:"), so that level is used and the data found in the output either way.
	 */
	async execute(workflowId: string, options: { onChild?: (pid: number) => void } = {}): Promise<ExecutionResult> {
		const output = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput'], { allowFailure: true, env: { N8N_LOG_LEVEL: 'info' }, onChild: options.onChild });
		const run = lastJsonObject(output);
		if (!run) throw new Error(`n8n execute printed no result:\n${output.slice(-3000)}`);
		return new ExecutionResult(run as unknown as RawRun);
	}

	async importCredentials(file: string): Promise<void> {
		await this.cli(['import:credentials', `--input=${file}`]);
	}

	async importWorkflow(file: string): Promise<void> {
		await this.cli(['import:workflow', `--input=${file}`]);
	}

	/** Imports every workflow file of a folder in one CLI run. */
	async importWorkflows(dir: string): Promise<void> {
		await this.cli(['import:workflow', '--separate', `--input=${dir}`]);
	}

	/** Marks a workflow active (n8n 2.x publishes it); takes effect at the next start. */
	async publishWorkflow(id: string): Promise<void> {
		await this.cli(['publish:workflow', `--id=${id}`]);
	}

	/**
	 * Starts the server (`n8n start`), or in queue mode a worker or a webhook processor, and waits until it is ready.
	 * The process has its own process group (so kill() also ends the task runner it starts) and is tied to this
	 * process: it gets SIGKILL if the tests die (see tiedToParent).
	 */
	async start(command: N8nCommand = 'start', args: string[] = []): Promise<void> {
		if (this.server) return;
		const brokerPort = await freePort();
		// A worker answers /healthz/readiness on its own small server once it takes jobs from the queue.
		const workerEnv: NodeJS.ProcessEnv =
			command === 'worker'
				? { QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: String(this.options.port), N8N_WORKER_SERVER_ADDRESS: '127.0.0.1' }
				: {};
		this.serverLog = '';
		this.command = command;
		const [program, argv] = tiedToParent(this.runtime.nodeBin, [this.runtime.n8nBin, command, ...args]);
		this.server = spawn(program, argv, {
			cwd: this.options.userFolder,
			env: this.env({ N8N_RUNNERS_BROKER_PORT: String(brokerPort), N8N_LOG_LEVEL: 'info', ...workerEnv }),
			detached: true,
		});
		this.server.stdout!.on('data', (chunk) => this.collect(chunk));
		this.server.stderr!.on('data', (chunk) => this.collect(chunk));
		const deadline = Date.now() + 180_000;
		while (Date.now() < deadline) {
			if (this.server.exitCode !== null || this.server.signalCode !== null) throw new Error(`n8n ${command} exited while starting:\n${this.serverLog.slice(-4000)}`);
			if (await this.answers()) return;
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
		throw new Error(`n8n ${command} did not become ready in 3 minutes:\n${this.serverLog.slice(-4000)}`);
	}

	/** The started process's id (its process group's too). */
	get pid(): number | undefined {
		return this.server?.pid;
	}

	/**
	 * Ends the process and its process group at once with a signal (default SIGKILL: a crash, no graceful shutdown)
	 * and waits for it to be gone.
	 */
	async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
		const server = this.server;
		if (!server?.pid) return;
		this.server = undefined;
		this.cookie = undefined;
		const closed = new Promise<void>((resolve) => {
			if (server.exitCode !== null || server.signalCode !== null) resolve();
			else server.once('close', () => resolve());
		});
		try {
			process.kill(-server.pid, signal);
		} catch {
			// already gone
		}
		await closed;
	}

	/**
	 * Whether the started server answers its REST API. `/healthz/readiness` alone is not enough where n8n does not yet
	 * gate it on the end of the server's start (n8n-io/n8n#26742; 2.40.7 and 2.41.1 do, 1.123.81 does not): 1.123.81
	 * answers it 200 as soon as the database is migrated, seconds before its REST routes are registered, and
	 * meanwhile answers 404 to every /rest call (owner setup included). So the editor page, which n8n registers after
	 * all REST routes and type files, must answer too.
	 */
	private async answers(): Promise<boolean> {
		try {
			const readiness = await fetch(`${this.url}/healthz/readiness`);
			await readiness.arrayBuffer();
			if (!readiness.ok) return false;
			// Workers and webhook processors serve no editor.
			if (this.command !== 'start') return true;
			const editor = await fetch(`${this.url}/`, { headers: { Accept: 'text/html' } });
			await editor.arrayBuffer();
			return editor.ok;
		} catch {
			return false; // not listening yet
		}
	}

	private collect(chunk: Buffer): void {
		this.serverLog += chunk.toString();
		if (this.serverLog.length > 200_000) this.serverLog = this.serverLog.slice(-100_000);
	}

	get log(): string {
		return this.serverLog;
	}

	async stop(): Promise<void> {
		const server = this.server;
		if (!server) return;
		this.server = undefined;
		this.cookie = undefined;
		if (server.exitCode !== null || server.signalCode !== null) return;
		await new Promise<void>((resolve) => {
			const timer = setTimeout(() => killGroup(server, 'SIGKILL'), 20_000);
			server.once('close', () => {
				clearTimeout(timer);
				resolve();
			});
			server.kill('SIGTERM');
		});
		// What n8n started and left behind (its task runner, if n8n did not end it) goes with it.
		killGroup(server, 'SIGKILL');
	}

	/** Sets up the owner account on a fresh instance (idempotent) and logs in. */
	async login(): Promise<void> {
		const setup = await fetch(`${this.url}/rest/owner/setup`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify(OWNER),
		});
		if (!setup.ok && setup.status !== 400) throw new Error(`owner setup failed: ${setup.status} ${await setup.text()}`);
		const login = await fetch(`${this.url}/rest/login`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: OWNER.email, password: OWNER.password }),
		});
		if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
		this.cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
	}

	/** An authenticated call to n8n's internal REST API (what the editor uses). */
	async rest<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
		if (!this.cookie) await this.login();
		const response = await fetch(`${this.url}/rest${route}`, {
			method,
			headers: { 'Content-Type': 'application/json', Cookie: this.cookie!, 'browser-id': 'e2e' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await response.text();
		if (!response.ok) throw new Error(`${method} /rest${route} → ${response.status}: ${text.slice(0, 2000)}`);
		const parsed = text ? (JSON.parse(text) as { data?: T }) : {};
		return (parsed.data ?? parsed) as T;
	}

	/** A request with the signed-in session (a browser following a link of the editor), redirects not followed. */
	async browse(url: string): Promise<Response> {
		if (!this.cookie) await this.login();
		return await fetch(url.startsWith('http') ? url : `${this.url}${url}`, { headers: { Cookie: this.cookie!, 'browser-id': 'e2e' }, redirect: 'manual' });
	}

	/** Node types n8n loaded (as the editor sees them). */
	async nodeTypes(): Promise<Array<{ name: string; displayName: string }>> {
		if (!this.cookie) await this.login();
		const response = await fetch(`${this.url}/types/nodes.json`, { headers: { Cookie: this.cookie! } });
		if (!response.ok) throw new Error(`GET /types/nodes.json → ${response.status}`);
		return (await response.json()) as Array<{ name: string; displayName: string }>;
	}
}

/** Signals a process's whole process group (it was started detached), if any of it is left. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (!child.pid) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		// nothing left
	}
}

interface RawRun {
	finished?: boolean;
	status?: string;
	data: {
		resultData: {
			error?: { message: string; description?: string };
			lastNodeExecuted?: string;
			runData: Record<string, Array<{ data?: { main: Array<Array<{ json: Record<string, unknown> }> | null> }; error?: { message: string } }>>;
		};
	};
}

/** The outcome of a CLI execution: each node's output items by output index. */
export class ExecutionResult {
	constructor(readonly raw: RawRun) {}

	get error(): string | undefined {
		return this.raw.data.resultData.error?.message;
	}

	/**
	 * Why the run stopped, unless its template's last step failed it on purpose (its Sync report needs attention and
	 * Settings → failRunOnAlert is on): the report then says what failed.
	 */
	get crash(): string | undefined {
		return this.raw.data.resultData.lastNodeExecuted === FAIL_RUN_NODE ? undefined : this.error;
	}

	/** Items a node emitted on an output (0 = main/first), across all its runs. */
	items(nodeName: string, output = 0): Array<Record<string, unknown>> {
		const runs = this.raw.data.resultData.runData[nodeName] ?? [];
		return runs.flatMap((r) => r.data?.main?.[output] ?? []).map((item) => item.json);
	}

	ran(nodeName: string): boolean {
		return (this.raw.data.resultData.runData[nodeName] ?? []).length > 0;
	}

	nodeError(nodeName: string): string | undefined {
		return this.raw.data.resultData.runData[nodeName]?.find((r) => r.error)?.error?.message;
	}
}

/** The last top-level JSON object printed in a command's output whose shape is a run (`data.resultData`). */
function lastJsonObject(output: string): Record<string, unknown> | undefined {
	const lines = output.split('\n');
	for (let start = lines.length - 1; start >= 0; start--) {
		if (lines[start] !== '{') continue;
		for (let end = start + 1; end < lines.length; end++) {
			if (lines[end] !== '}') continue;
			try {
				const parsed = JSON.parse(lines.slice(start, end + 1).join('\n')) as Record<string, unknown>;
				if ((parsed.data as Record<string, unknown> | undefined)?.resultData) return parsed;
			} catch {
				// not the end of this object yet
			}
		}
	}
	return undefined;
}

/** Workflow JSON files shipped in `workflows/`. */
export function templateFiles(): string[] {
	const dir = path.join(PROJECT_ROOT, 'workflows');
	return readdirSync(dir)
		.filter((f) => f.endsWith('.json'))
		.map((f) => path.join(dir, f));
}

export function readJson<T>(file: string): T {
	return JSON.parse(readFileSync(file, 'utf8')) as T;
}
