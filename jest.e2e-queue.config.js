/**
 * End-to-end tests of n8n's queue mode: PostgreSQL, Redis, an n8n main, workers and a webhook processor (the pinned
 * n8n, installed once into .n8n-runtime/) with the packed package, against the sandbox. `npm run test:e2e:queue`.
 */
/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.queue.test.ts'],
	// Builds the package, installs the pinned n8n (if not there yet) and Debian's postgresql and redis-server (if missing).
	globalSetup: '<rootDir>/test/e2e/queue-global-setup.ts',
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
	},
	testTimeout: 15 * 60 * 1000,
	maxWorkers: 1,
	verbose: true,
};
