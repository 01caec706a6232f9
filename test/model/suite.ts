/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The randomized convergence checker: random histories of people editing ActiveCampaign and Dynamics 365 between
 * runs of the real "Scheduled Sync" template (workflows/scheduled-sync.json), executed by n8n-core's WorkflowExecute
 * against the in-process sandbox, and the sync's guarantees checked after each (checks.ts). See README.md here.
 *
 * `npm test` runs it with a fixed seed; `npm run test:model` runs it with MODEL_RUNS histories (default 200),
 * MODEL_SEED to choose the seed, MODEL_SEED + MODEL_PATH to replay one history, MODEL_SURVEY=1 to run every history
 * without stopping at the first failure and list each kind of violation with a history that replays it.
 */
import fc from 'fast-check';

import { check, CHECK_NAMES, type Violation } from './checks';
import { formatHistory, histories, type Capabilities, type History } from './history';
import { HistoryRunner, RUN_OPTIONS, type Observation } from './runner';
import { startWorld, type World } from './world';
import { BATCH_THRESHOLDS } from '../../nodes/ActiveCampaignSync/helpers/prefetch';
import { STATE_THRESHOLDS } from '../../nodes/ActiveCampaignSync/helpers/recordStates';

const FIXED_SEED = 20260502;
/**
 * The histories run in this many shards, one per test file (convergence.shard<N>.model.test.ts), which jest runs in
 * parallel on its two workers: shard N runs every SHARDS-th share of MODEL_RUNS with seed MODEL_SEED + N (so its
 * failures print a replay with that seed). A replay (MODEL_PATH) runs in shard 0 only, with the seed given.
 */
export const SHARDS = 2;
/** Histories with Full Scan Every 60 in npm test. */
const SCAN_RUNS = 40;
const forced = process.env.MODEL_CHECK === '1';
const totalRuns = Number(process.env.MODEL_RUNS ?? 200);
const baseSeed = process.env.MODEL_SEED ? Number(process.env.MODEL_SEED) : FIXED_SEED;
const replayPath = process.env.MODEL_PATH || undefined;
const survey = process.env.MODEL_SURVEY === '1';
const dump = process.env.MODEL_DUMP === '1';
/** Only violations whose "(check) kind: message" matches this regular expression fail a history (to shrink one kind). */
const only = process.env.MODEL_ONLY ? new RegExp(process.env.MODEL_ONLY) : undefined;
/** Histories run while shrinking a failure, after which the smallest failing one found so far is reported. */
const shrinkBudget = Number(process.env.MODEL_SHRINK_RUNS ?? (forced ? 150 : 30));
/**
 * MODEL_BATCH_FROM=1: the paths meant for many records (read-ahead in the ActiveCampaign write step, Record Sync State
 * through the bulk importer) from this many items on, so that the histories' few people go through them too.
 */
// MODEL_SCAN_EVERY=1: Full Scan Every 60 on the ActiveCampaign change reads; event cycles run between scans, settle cycles scan.
if (process.env.MODEL_SCAN_EVERY === '1') RUN_OPTIONS.scanBetweenSettles = true;
if (process.env.MODEL_BATCH_FROM) {
	BATCH_THRESHOLDS.readAheadFrom = Number(process.env.MODEL_BATCH_FROM);
	STATE_THRESHOLDS.bulkFrom = Number(process.env.MODEL_BATCH_FROM);
	// MODEL_STATE_LISTS=1: Record Sync State plans from the value and tag lists (an Initial Sync's way), whatever they cost.
	if (process.env.MODEL_STATE_LISTS === '1') Object.assign(STATE_THRESHOLDS, { listsFrom: 1, listBudget: 1000 });
}


interface Outcome {
	history: History;
	observation?: Observation;
	violations: Violation[];
	error?: Error;
	ms: number;
}

async function probe(world: World): Promise<Capabilities> {
	// The Dataverse sandbox answers an unknown control endpoint with "No control endpoint …", and POST /ui/<set> with
	// an unknown set with "Resource not found for the segment …".
	const missing = (res: { status: number; body: unknown }) =>
		res.status === 404 && /No control endpoint|Resource not found for the segment/.test(JSON.stringify(res.body));
	const merge = await world.control('d365', 'POST', '/ui/merge', {});
	const qualify = await world.control('d365', 'POST', '/ui/leads/00000000-0000-4000-8000-000000000000/qualify', {
		createAccount: false,
		createContact: true,
		createOpportunity: false,
	});
	return { merge: !missing(merge), qualify: !missing(qualify) };
}

async function runHistory(world: World, history: History, capabilities: Capabilities): Promise<Outcome> {
	const started = Date.now();
	try {
		const observation = await new HistoryRunner(world, history, capabilities).run();
		return { history, observation, violations: check(observation), ms: Date.now() - started };
	} catch (error) {
		return { history, violations: [], error: error as Error, ms: Date.now() - started };
	}
}

function report(outcome: Outcome, replay: string, extra = ''): string {
	const lines = [`Replay: ${replay}`, extra, '', 'History (one event per line):', formatHistory(outcome.history), ''].filter((l, i) => l !== '' || i > 1);
	if (outcome.observation) {
		lines.push('What happened (each event as carried out; each cycle with its write requests):');
		for (const l of outcome.observation.lines) lines.push(`  ${l.text}${l.outcome ? `  →  ${l.outcome}` : ''}`);
		lines.push('');
	}
	if (dump && outcome.observation) {
		// MODEL_DUMP=1: every output item of every node, per cycle (for a replayed history).
		lines.push('Node outputs:');
		for (const o of outcome.observation.outputs) lines.push(`  cycle ${o.cycle} run ${o.run} ${o.node} [${o.output}] ${JSON.stringify(o.json).slice(0, Number(process.env.MODEL_DUMP_CHARS ?? 400))}`);
		lines.push('');
	}
	if (outcome.error) lines.push(`The history could not be run: ${outcome.error.stack ?? outcome.error.message}`);
	if (outcome.violations.length) {
		lines.push(`Violations (${outcome.violations.length}):`);
		for (const v of outcome.violations) lines.push(`  (${v.check}) ${CHECK_NAMES[v.check]} — ${v.kind}: ${v.message}`);
	}
	return lines.join('\n');
}

const failed = (o: Outcome) => o.error !== undefined || o.violations.some((v) => !only || only.test(`(${v.check}) ${v.kind}: ${v.message}`));

/**
 * One shard of the checker (see {@link SHARDS}). In npm test with the fixed seed (200 histories in all, and 40 with
 * Full Scan Every 60 in the last shard); npm run test:model sets MODEL_CHECK=1 for the soak and replays.
 */
export function convergenceSuite(shard: number): void {
	const replaying = replayPath !== undefined;
	const runs = replaying ? (shard === 0 ? 1 : 0) : Math.floor(totalRuns / SHARDS) + (shard < totalRuns % SHARDS ? 1 : 0);
	const seed = replaying ? baseSeed : baseSeed + shard;
	const scanHistories = shard === SHARDS - 1 && !forced;
	describe(`randomized convergence checker (Scheduled Sync template, both sandboxes), shard ${shard + 1} of ${SHARDS}`, () => {
		let world: World;
		let capabilities: Capabilities;

		beforeAll(async () => {
			world = await startWorld();
			capabilities = await probe(world);
		});

		afterAll(async () => {
			await world?.close();
		});

		// A safety net only: a busy machine (CI beside a soak) runs a history in several seconds.
		const timeout = Math.max(120_000, runs * 10_000 + shrinkBudget * 10_000);

		(runs > 0 ? it : it.skip)(
			survey ? `survey: ${runs} histories, every kind of violation with a replay` : `${runs} random histories keep the sync's guarantees`,
			async () => {
				const durations: number[] = [];
				const cycles: number[] = [];
				const parts: Record<string, number> = {};
				const eventKinds: Record<string, { done: number; na: number }> = {};
				let last: Outcome | undefined;
				const kinds = new Map<string, { count: number; first: Outcome; path: string; examples: string[] }>();
				let index = 0;
				let firstFailureIndex = -1;
				let failing = 0;

				const property = fc.asyncProperty(histories(), async (history) => {
					const runIndex = index++;
					// Shrinking runs a whole history per candidate: past the budget, candidates pass unexamined.
					if (!survey && firstFailureIndex >= 0 && runIndex - firstFailureIndex > shrinkBudget) return true;
					const outcome = await runHistory(world, history, capabilities);
					durations.push(outcome.ms);
					// The soak shows how far it is (a long run cut short still says how many histories passed).
					if (forced && !replaying && durations.length % 100 === 0) {
						const state = firstFailureIndex < 0 && !failed(outcome) ? 'no violation so far' : 'a violation found';
						process.stderr.write(`[model] shard ${shard + 1}/${SHARDS} (seed ${seed}): ${durations.length} of ${runs} histories, ${state}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
					}
					if (outcome.observation) {
						for (const line of outcome.observation.lines) {
							if (!line.outcome || line.text.includes(' cycle ')) continue;
							const kind = line.text.replace(/ (person|company) \d.*| (in|on) .*|:.*/g, '').trim();
							const entry = (eventKinds[kind] ??= { done: 0, na: 0 });
							if (/^(\([^)]*\) )?(done|Dynamics: done|ActiveCampaign: done)/.test(line.outcome) || / done: /.test(line.outcome)) entry.done++;
							else entry.na++;
						}
						cycles.push(outcome.observation.cycles.length);
						for (const [part, ms] of Object.entries(outcome.observation.timings)) parts[part] = (parts[part] ?? 0) + ms;
					}
					if (survey) {
						if (failed(outcome)) failing++;
						for (const key of new Set([...outcome.violations.map((v) => `(${v.check}) ${v.kind}`), ...(outcome.error ? ['runner error'] : [])])) {
							const entry = kinds.get(key) ?? { count: 0, first: outcome, path: String(runIndex), examples: [] };
							entry.count++;
							const example = outcome.violations.find((v) => `(${v.check}) ${v.kind}` === key)?.message ?? outcome.error?.message ?? '';
							if (entry.examples.length < 8) entry.examples.push(`MODEL_PATH=${runIndex}: ${example}`);
							kinds.set(key, entry);
						}
						return true;
					}
					if (!failed(outcome)) return true;
					if (firstFailureIndex < 0) firstFailureIndex = runIndex;
					last = outcome;
					return false;
				});

				const started = Date.now();
				const result = await fc.check(property, {
					seed,
					numRuns: runs,
					path: replayPath,
					endOnFailure: replayPath !== undefined,
				});
				const total = Date.now() - started;
				const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
				const summary = `${durations.length} histories in ${(total / 1000).toFixed(1)} s: ${mean(durations).toFixed(0)} ms per history, ${mean(cycles).toFixed(1)} cycles per history, ${(mean(durations) / Math.max(1, mean(cycles))).toFixed(0)} ms per cycle (seed ${seed})`;
				if (forced) {
					const spent = Object.entries(parts)
						.sort((a, b) => b[1] - a[1])
						.map(([part, ms]) => `${part} ${((100 * ms) / Math.max(1, total)).toFixed(0)}%`)
						.join(', ');
					console.log(`[model] ${summary}; time spent: ${spent}; capabilities: merge ${capabilities.merge}, qualify ${capabilities.qualify}`);
				}

				if (survey) {
					const carried = Object.entries(eventKinds)
						.map(([kind, n]) => `${kind} ${n.done}/${n.done + n.na}`)
						.join(', ');
					const lines = [
						`[model] survey: ${summary}`,
						`${failing} of ${durations.length} histories broke a guarantee`,
						`events carried out (of generated): ${carried}`,
						`${kinds.size} kinds of violation:`,
					];
					for (const [key, entry] of [...kinds.entries()].sort((a, b) => b[1].count - a[1].count)) {
						lines.push(`  ${key}: ${entry.count} histories; replay: MODEL_SEED=${seed} MODEL_PATH=${entry.path} npm run test:model`);
						for (const example of entry.examples) lines.push(`      ${example}`);
					}
					for (const [key, entry] of kinds) {
						lines.push('', `---- ${key} ----`, report(entry.first, `MODEL_SEED=${seed} MODEL_PATH=${entry.path} npm run test:model`));
					}
					console.log(lines.join('\n'));
					return;
				}

				if (result.failed) {
					const replay = `MODEL_SEED=${result.seed} MODEL_PATH=${result.counterexamplePath ?? ''} npm run test:model`;
					const text = last
						? report(last, replay, `Shrunk ${result.numShrinks} time(s) (shrinking stops after ${shrinkBudget} more histories); ${summary}`)
						: `${replay}\n${String(result.errorInstance ?? '')}`;
					throw new Error(`A random history broke the sync's guarantees.\n${text}`);
				}
			},
			timeout,
		);

		// In npm test only (the soak sets MODEL_SCAN_EVERY=1 for all of its histories): a few histories with Full Scan
		// Every 60, event cycles between scans and settle cycles scanning.
		(scanHistories ? it : it.skip)(
			`${SCAN_RUNS} random histories with Full Scan Every 60 keep the sync's guarantees`,
			async () => {
				RUN_OPTIONS.scanBetweenSettles = true;
				let last: Outcome | undefined;
				try {
					const result = await fc.check(
						fc.asyncProperty(histories(), async (history) => {
							const outcome = await runHistory(world, history, capabilities);
							if (failed(outcome)) last = outcome;
							return !failed(outcome);
						}),
						{ seed, numRuns: SCAN_RUNS, endOnFailure: true },
					);
					if (result.failed) {
						const replay = `MODEL_SCAN_EVERY=1 MODEL_SEED=${result.seed} MODEL_PATH=${result.counterexamplePath ?? ''} npm run test:model`;
						throw new Error(`A random history broke the sync's guarantees.\n${last ? report(last, replay) : `${replay}\n${String(result.errorInstance ?? '')}`}`);
					}
				} finally {
					RUN_OPTIONS.scanBetweenSettles = false;
				}
			},
			SCAN_RUNS * 4_000 + 60_000,
		);
	});
}
