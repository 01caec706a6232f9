/** End-to-end tests: a real n8n (installed once into .n8n-runtime/) with the packed package, against the sandbox. */
/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.test.ts'],
	// Builds the package once and installs every n8n of the compatibility matrix (test/e2e/versions.ts) once.
	globalSetup: '<rootDir>/test/e2e/global-setup.ts',
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
	},
	// Installing n8n the first time takes minutes; a scheduled-sync cycle is an `n8n execute` process.
	testTimeout: 30 * 60 * 1000,
	// The full suite (sync.e2e) and the smoke sets of the compatibility matrix (smoke-*.e2e) run side by side: each has
	// its own n8n, user folder and sandbox on free loopback ports (about 1 GB of memory each).
	maxWorkers: 3,
	verbose: true,
};
