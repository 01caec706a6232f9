/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, @n8n/community-nodes/require-node-api-error, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * n8n in queue mode (scale-out) for the end-to-end suite: PostgreSQL and Redis as local processes (./services.ts),
 * one main (`n8n start`: editor, REST API, triggers), workers (`n8n worker`) and a webhook processor (`n8n webhook`),
 * all of the pinned n8n with the same encryption key. Each process has its own user folder with the packed package
 * installed into its `~/.n8n/nodes`, as on separate hosts: every process that loads workflows needs the package.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

import { freePort, N8nInstance } from './n8n';
import { ensureQueueServices, startPostgres, startRedis, type Postgres, type Redis } from './services';
import { setupN8n, type SetupOptions } from './setup';

type Log = (message: string) => void;

export interface QueueClusterOptions extends Omit<SetupOptions, 'userFolder'> {
	/** Folder for everything of the cluster (wiped first): PostgreSQL's data, each process's user folder. */
	baseDir: string;
	/** Workers to start with the cluster. */
	workers: number;
	/** Executions a worker runs at once (`n8n worker --concurrency`). */
	workerConcurrency?: number;
	/** Workflows to publish (activate) before the main starts. */
	publish?: string[];
}

/** The execution records n8n keeps in its database. */
export interface ExecutionRecord {
	id: number;
	workflowId: string;
	status: string;
	mode: string;
}

const FINISHED = new Set(['success', 'error', 'crashed', 'canceled']);

export class QueueCluster {
	readonly workers: N8nInstance[] = [];
	webhook!: N8nInstance;
	private workerCount = 0;

	private constructor(
		readonly options: QueueClusterOptions,
		readonly postgres: Postgres,
		readonly redis: Redis,
		readonly main: N8nInstance,
		private readonly log: Log,
	) {}

	/** Environment shared by every process of the cluster (and the CLI). */
	static env(postgres: Postgres, redis: Redis): Record<string, string> {
		return {
			EXECUTIONS_MODE: 'queue',
			...postgres.env,
			...redis.env,
			// Executions started from the editor also go to the workers (n8n 2.40.7 runs them on the main otherwise).
			OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
			// Each process its own pool of database connections; a few suffice here.
			DB_POSTGRESDB_POOL_SIZE: '4',
		};
	}

	static async start(options: QueueClusterOptions): Promise<QueueCluster> {
		const log = options.log ?? ((m: string) => console.log(m));
		await ensureQueueServices(log);
		rmSync(options.baseDir, { recursive: true, force: true });
		mkdirSync(options.baseDir, { recursive: true });
		const postgres = await startPostgres(options.baseDir, log);
		const redis = await startRedis(options.baseDir, log).catch(async (error: unknown) => {
			await postgres.stop();
			throw error;
		});
		const env = { ...QueueCluster.env(postgres, redis), ...options.env };
		let main: N8nInstance | undefined;
		try {
			// The main's set-up imports credentials and workflows with n8n's CLI: the first one migrates the database.
			main = await setupN8n({ ...options, userFolder: path.join(options.baseDir, 'main'), env });
			// One CLI process per workflow, side by side (the database is migrated by now).
			await Promise.all((options.publish ?? []).map(async (id) => await main!.publishWorkflow(id)));
			const cluster = new QueueCluster(options, postgres, redis, main, log);
			log('Starting the main…');
			await main.start();
			// Workers and the webhook processor start side by side once the main has migrated the database.
			await Promise.all([...Array.from({ length: options.workers }, async () => await cluster.addWorker()), cluster.startWebhookProcessor()]);
			return cluster;
		} catch (error) {
			await main?.stop();
			await redis.stop();
			await postgres.stop();
			throw error;
		}
	}

	private async process(name: string): Promise<N8nInstance> {
		const instance = new N8nInstance(this.main.runtime, {
			userFolder: path.join(this.options.baseDir, name),
			port: await freePort(),
			log: this.log,
			env: { ...QueueCluster.env(this.postgres, this.redis), ...this.options.env },
		});
		// The same tarball as the main's: every process runs the same version of the package.
		await instance.installPackage(this.main.tarball!);
		return instance;
	}

	/** Starts one more worker (its own user folder, the package installed into it). */
	async addWorker(): Promise<N8nInstance> {
		const name = `worker-${++this.workerCount}`;
		const worker = await this.process(name);
		this.log(`Starting ${name}…`);
		await worker.start('worker', [`--concurrency=${this.options.workerConcurrency ?? 1}`]);
		this.workers.push(worker);
		return worker;
	}

	private async startWebhookProcessor(): Promise<void> {
		this.webhook = await this.process('webhook');
		this.log('Starting the webhook processor…');
		await this.webhook.start('webhook');
	}

	/** Names of running workers, by index+1 in start order ("worker-1", …). */
	workerName(worker: N8nInstance): string {
		return path.basename(worker.options.userFolder);
	}

	/** Which worker's log says it ran an execution (all workers ever started, killed ones included). */
	private readonly allWorkers: N8nInstance[] = [];

	workerOf(executionId: number): string | undefined {
		for (const worker of new Set([...this.allWorkers, ...this.workers])) {
			if (worker.log.includes(`Worker started execution ${executionId} (`)) return this.workerName(worker);
		}
		return undefined;
	}

	/** Kills a worker with SIGKILL (a crash: no graceful shutdown); its log is kept for workerOf. */
	async killWorker(worker: N8nInstance): Promise<void> {
		this.allWorkers.push(worker);
		this.workers.splice(this.workers.indexOf(worker), 1);
		await worker.kill('SIGKILL');
	}

	/** The execution records of a workflow, oldest first (from n8n's database). */
	async executions(workflowId: string, afterId = 0): Promise<ExecutionRecord[]> {
		const rows = await this.postgres.sql(
			`select id, "workflowId", status, mode from execution_entity where "workflowId" = '${workflowId.replace(/'/g, "''")}' and id > ${afterId} order by id`,
		);
		return rows
			.split('\n')
			.filter(Boolean)
			.map((line) => {
				const [id, wf, status, mode] = line.split('|');
				return { id: Number(id), workflowId: wf, status, mode };
			});
	}

	async lastExecutionId(): Promise<number> {
		return Number((await this.postgres.sql('select coalesce(max(id), 0) from execution_entity')).trim());
	}

	/** Waits until `count` executions of a workflow newer than `afterId` have finished (or the timeout). */
	async waitForExecutions(workflowId: string, afterId: number, count: number, timeoutMs = 600_000): Promise<ExecutionRecord[]> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const found = await this.executions(workflowId, afterId);
			if (found.length >= count && found.slice(0, count).every((e) => FINISHED.has(e.status))) return found.slice(0, count);
			if (Date.now() > deadline) throw new Error(`${count} executions of ${workflowId} did not finish: ${JSON.stringify(found)}`);
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}

	/** An execution's run data (n8n stores it "flatted"), or undefined. */
	async executionData(executionId: number): Promise<RunData | undefined> {
		const text = (await this.postgres.sql(`select data from execution_data where "executionId" = ${executionId}`)).trim();
		return text ? (unflatten(text) as RunData) : undefined;
	}

	/** The workflow's static data as saved in the database (cursors, retry queue). */
	async staticData(workflowId: string): Promise<Record<string, unknown>> {
		const text = (await this.postgres.sql(`select "staticData" from workflow_entity where id = '${workflowId.replace(/'/g, "''")}'`)).trim();
		return text ? (JSON.parse(text) as Record<string, unknown>) : {};
	}

	/** POSTs to a production webhook through the webhook processor. */
	async callWebhook(webhookPath: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
		return await fetch(`${this.webhook.url}/webhook/${webhookPath}`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', ...headers },
			body: JSON.stringify(body),
		});
	}

	/** Every process's log (for checks that no secret was written). */
	get logs(): string[] {
		return [this.main, this.webhook, ...new Set([...this.allWorkers, ...this.workers])].filter(Boolean).map((p) => p.log);
	}

	async stop(): Promise<void> {
		const processes = [...this.workers, this.webhook, this.main].filter(Boolean);
		await Promise.all(processes.map(async (p) => await p.stop()));
		await this.redis.stop();
		await this.postgres.stop();
	}
}

export interface RunData {
	resultData: {
		error?: { message: string };
		runData: Record<string, Array<{ data?: { main: Array<Array<{ json: Record<string, unknown> }> | null> }; error?: { message: string } }>>;
	};
}

/** Items a node emitted on an output, across its runs. */
export function nodeItems(data: RunData | undefined, nodeName: string, output = 0): Array<Record<string, unknown>> {
	const runs = data?.resultData.runData[nodeName] ?? [];
	return runs.flatMap((r) => r.data?.main?.[output] ?? []).map((item) => item.json);
}

/**
 * Reads n8n's "flatted" serialization (a JSON array: entry 0 is the value; every string and object inside is the
 * index of its entry, as a string), which n8n uses for execution data with shared references.
 */
export function unflatten(text: string): unknown {
	const input = JSON.parse(text) as unknown[];
	const revived = new Map<number, unknown>();
	const resolve = (ref: unknown): unknown => {
		if (typeof ref !== 'string') return ref;
		const index = Number(ref);
		if (revived.has(index)) return revived.get(index);
		const entry = input[index];
		if (entry === null || typeof entry !== 'object') {
			revived.set(index, entry);
			return entry;
		}
		const out: Record<string, unknown> | unknown[] = Array.isArray(entry) ? [] : {};
		revived.set(index, out);
		for (const [key, value] of Object.entries(entry)) (out as Record<string, unknown>)[key] = resolve(value);
		return out;
	};
	return resolve('0');
}
