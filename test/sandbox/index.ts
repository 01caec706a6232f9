import { createActiveCampaignSimulator, type ActiveCampaignSimulator } from './activecampaign';
import { Clock } from './core/clock';
import { SimulatorServer } from './core/server';
import { createDataverseSimulator, type DataverseSimulator } from './dataverse';

export { Clock } from './core/clock';
export { SimulatorServer, NO_FAULTS, type FaultSettings } from './core/server';

/** Seed data sets both simulators understand: `demo` is small and readable, `empty` has no records. */
export type SeedName = 'demo' | 'empty';

export interface SandboxOptions {
	/** 0 picks a free port (tests); the CLI uses AC_SANDBOX_PORT / D365_SANDBOX_PORT. */
	acPort?: number;
	d365Port?: number;
	host?: string;
	seed?: SeedName;
}

export interface Sandbox {
	ac: { url: string; server: SimulatorServer; simulator: ActiveCampaignSimulator };
	d365: { url: string; server: SimulatorServer; simulator: DataverseSimulator };
	close(): Promise<void>;
}

/** The documented default credentials of the sandbox (see test/sandbox/README.md). */
export const SANDBOX_CREDENTIALS = {
	acApiKey: 'sandbox-key',
	d365ClientId: 'sandbox-client',
	d365ClientSecret: 'sandbox-secret',
	d365TenantId: 'sandbox-tenant',
} as const;

/** Starts both simulators in this process. Each has its own clock so tests can move one without the other. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
	const host = options.host ?? '127.0.0.1';
	const seed = options.seed ?? 'demo';

	const acClock = new Clock();
	const acSimulator = createActiveCampaignSimulator(acClock, { seed });
	const acServer = new SimulatorServer(acSimulator, acClock);
	const acUrl = await acServer.listen(options.acPort ?? 0, host);
	acSimulator.setBaseUrl(acUrl);

	const d365Clock = new Clock();
	const d365Simulator = createDataverseSimulator(d365Clock, { seed });
	const d365Server = new SimulatorServer(d365Simulator, d365Clock);
	const d365Url = await d365Server.listen(options.d365Port ?? 0, host);
	d365Simulator.setBaseUrl(d365Url);

	return {
		ac: { url: acUrl, server: acServer, simulator: acSimulator },
		d365: { url: d365Url, server: d365Server, simulator: d365Simulator },
		async close() {
			await Promise.all([acServer.close(), d365Server.close()]);
		},
	};
}
