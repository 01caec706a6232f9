/* eslint-disable no-console, @n8n/community-nodes/no-restricted-globals -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Before any end-to-end suite: the package is built once and every n8n of the compatibility matrix is installed
 * (once; reused later), so the suites, which may run side by side, only pack and start.
 */
import { installMatrix } from './install-runtimes';
import { PROJECT_ROOT, run } from './runtime';

export default async function globalSetup(): Promise<void> {
	const log = (m: string) => console.log(`[e2e setup] ${m}`);
	// .ci/run builds once and runs both suites side by side: two builds at once would rewrite dist/ under each other.
	if (process.env.E2E_PREBUILT === '1') log('Using the package built before (E2E_PREBUILT=1)');
	else {
		log('Building the package…');
		await run('npm', ['run', 'build', '--silent'], { cwd: PROJECT_ROOT }, log);
	}
	await installMatrix(log);
}
