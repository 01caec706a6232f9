/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Everything the end-to-end suites need installed, at once: every n8n of the compatibility matrix (./versions.ts) and
 * PostgreSQL and Redis for queue mode. `.ci/run` starts it in the background while the unit tests run; the suites'
 * global setups then find it all in place (they install whatever is missing themselves).
 */
import { installMatrix } from './install-runtimes';
import { ensureQueueServices } from './services';

async function prepare(): Promise<void> {
	const started = Date.now();
	await Promise.all([installMatrix((m) => console.log(`[prepare] ${m}`)), ensureQueueServices((m) => console.log(`[prepare] ${m}`))]);
	console.log(`[prepare] end-to-end prerequisites ready (${Math.round((Date.now() - started) / 1000)} s)`);
}

prepare().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
