/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * `npm run sandbox`: both simulators in the foreground with the demo data set.
 * Ports: AC_SANDBOX_PORT (default 4010), D365_SANDBOX_PORT (default 4020). SANDBOX_SEED=empty starts without records.
 */
import { SANDBOX_CREDENTIALS, startSandbox, type SeedName } from './index';

async function main() {
	const acPort = Number(process.env.AC_SANDBOX_PORT ?? 4010);
	const d365Port = Number(process.env.D365_SANDBOX_PORT ?? 4020);
	const seed = (process.env.SANDBOX_SEED ?? 'demo') as SeedName;
	const host = process.env.SANDBOX_HOST ?? '127.0.0.1';
	const sandbox = await startSandbox({ acPort, d365Port, seed, host });

	console.log(`ActiveCampaign sandbox:  ${sandbox.ac.url}/api/3   (Api-Token: ${SANDBOX_CREDENTIALS.acApiKey})`);
	console.log(
		`Dynamics 365 sandbox:    ${sandbox.d365.url}/api/data/v9.2   (token: POST ${sandbox.d365.url}/<tenant>/oauth2/v2.0/token, ` +
			`client ${SANDBOX_CREDENTIALS.d365ClientId} / ${SANDBOX_CREDENTIALS.d365ClientSecret})`,
	);
	console.log(`Control endpoints:       ${sandbox.ac.url}/__sandbox/health and ${sandbox.d365.url}/__sandbox/health`);
	console.log('Sandbox ready. Ctrl-C stops it.');

	const stop = async () => {
		await sandbox.close();
		process.exit(0);
	};
	process.on('SIGINT', () => void stop());
	process.on('SIGTERM', () => void stop());
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
