/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Installs every n8n of the compatibility matrix (./versions.ts) into .n8n-runtime/: the Node headers one version at
 * a time, then the n8n versions side by side. Installed versions are reused. The end-to-end suite's global setup
 * calls it; `npx tsx test/e2e/install-runtimes.ts` does the same by hand.
 */
import { ensureNodeHeaders, ensureRuntime } from './runtime';
import { MATRIX } from './versions';

export async function installMatrix(log: (message: string) => void = (m) => console.log(m)): Promise<void> {
	const started = Date.now();
	const specs = Object.entries(MATRIX);
	for (const node of new Set(specs.map(([, spec]) => spec.node))) await ensureNodeHeaders(node, log);
	await Promise.all(specs.map(([name, spec]) => ensureRuntime((m) => log(`[${name} ${spec.n8n}] ${m}`), spec)));
	log(`n8n runtimes ready: ${specs.map(([name, spec]) => `${name} n8n ${spec.n8n} on Node ${spec.node}`).join('; ')} (${Math.round((Date.now() - started) / 1000)} s)`);
}

if (require.main === module) {
	installMatrix().catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	});
}
