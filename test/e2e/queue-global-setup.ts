/* eslint-disable no-console, @n8n/community-nodes/no-restricted-globals -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Before the queue-mode suite: the package is built, the pinned n8n installed (reused when test/e2e/global-setup.ts
 * or an earlier run installed it) and PostgreSQL and Redis installed from Debian's packages where missing.
 */
import { ensureRuntime, PROJECT_ROOT, run } from './runtime';
import { ensureQueueServices } from './services';
import { PINNED } from './versions';

export default async function globalSetup(): Promise<void> {
	const log = (m: string) => console.log(`[queue setup] ${m}`);
	// .ci/run builds once and runs both suites side by side: two builds at once would rewrite dist/ under each other.
	if (process.env.E2E_PREBUILT === '1') log('Using the package built before (E2E_PREBUILT=1)');
	else {
		log('Building the package…');
		await run('npm', ['run', 'build', '--silent'], { cwd: PROJECT_ROOT }, log);
	}
	await ensureRuntime(log, PINNED);
	await ensureQueueServices(log);
}
