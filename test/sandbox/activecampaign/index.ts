/* eslint-disable no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * The ActiveCampaign API v3 simulator: `createActiveCampaignSimulator(clock, { seed })` gives a {@link Simulator}
 * for the sandbox core plus typed accessors for tests. See README.md for what is simulated and how it differs
 * from the real service.
 */
import type { Clock } from '../core/clock';
import { header, json, Router, type SandboxRequest, type SandboxResponse } from '../core/http';
import { TokenBucket } from '../core/limits';
import type { Simulator } from '../core/server';
import { AcContext } from './context';
import { buildControlRouter, contactDetail, type ContactDetail } from './control';
import { registerAccountRoutes } from './routes/accounts';
import { BulkImporter, registerBulkImportRoutes } from './routes/bulkImport';
import { registerContactRoutes } from './routes/contacts';
import { registerCustomObjectRoutes } from './routes/customObjects';
import { registerEngagementRoutes, v1Key, v1Unauthorized } from './routes/engagement';
import { registerFieldRoutes } from './routes/fields';
import { registerTagListAutomationRoutes } from './routes/tagsListsAutomations';
import { registerWebhookRoutes } from './routes/webhooks';
import { seed, seedBulk, type AcSeedName, type BulkSeedOptions } from './seed';
import { applySettings, defaultSettings, type AcSettings } from './settings';
import { AcState } from './state';
import { SeededRandom } from '../core/random';
import type { DeliveryRecord } from './webhooks';

export type { AcSettings } from './settings';
export type { ContactDetail } from './control';
export type { DeliveryRecord } from './webhooks';
export type { AcSeedName, BulkSeedOptions } from './seed';

export interface ActiveCampaignSimulatorOptions {
	seed?: AcSeedName | string;
	/** Settings applied on top of the defaults (and again on every reset). */
	settings?: Partial<AcSettings>;
}

export interface ActiveCampaignSimulator extends Simulator {
	setBaseUrl(url: string): void;
	/** Everything the routes use: state, settings, serializer, service, webhook dispatcher. */
	readonly ctx: AcContext;
	readonly state: AcState;
	readonly settings: AcSettings;
	readonly seedName: string;
	contactDetail(idOrEmail: number | string): ContactDetail | undefined;
	webhookDeliveries(): DeliveryRecord[];
	/** Resolves when every webhook delivery started so far has finished. */
	waitForWebhooks(): Promise<void>;
	/** Processes and completes every queued bulk import now. */
	flushImports(): void;
	seedBulk(options: BulkSeedOptions): { first: number; last: number; count: number };
}

const V1_PATH = '/admin/api.php';
const BULK_IMPORT_ROUTE = 'POST /api/3/import/bulk_import';

class ActiveCampaignSimulatorImpl implements ActiveCampaignSimulator {
	readonly name = 'activecampaign';
	readonly router = new Router();
	readonly controlRouter: Router;
	readonly ctx: AcContext;
	private readonly importer: BulkImporter;
	private readonly bucket: TokenBucket;
	private currentSeed: string;

	constructor(
		clock: Clock,
		private readonly options: ActiveCampaignSimulatorOptions,
	) {
		this.ctx = new AcContext(clock);
		this.importer = new BulkImporter(this.ctx);
		this.bucket = new TokenBucket(this.ctx.settings.burst, this.ctx.settings.requestsPerSecond);
		// Literal paths before parameterised ones where they share a prefix.
		registerBulkImportRoutes(this.router, this.ctx, this.importer);
		registerContactRoutes(this.router, this.ctx);
		registerFieldRoutes(this.router, this.ctx);
		registerTagListAutomationRoutes(this.router, this.ctx);
		registerAccountRoutes(this.router, this.ctx);
		registerCustomObjectRoutes(this.router, this.ctx);
		registerWebhookRoutes(this.router, this.ctx);
		registerEngagementRoutes(this.router, this.ctx);
		this.controlRouter = buildControlRouter(this.ctx, this.importer);
		this.currentSeed = options.seed ?? 'demo';
		this.resetState({ seed: this.currentSeed });
	}

	get state(): AcState {
		return this.ctx.state;
	}

	get settings(): AcSettings {
		return this.ctx.settings;
	}

	get seedName(): string {
		return this.currentSeed;
	}

	setBaseUrl(url: string): void {
		this.ctx.apiBase = url.replace(/\/+$/, '');
	}

	gate(req: SandboxRequest, routeName: string): SandboxResponse | undefined {
		const { settings } = this.ctx;
		if (req.path === V1_PATH) {
			const key = v1Key(req);
			if (!key || !settings.apiKeys.includes(key)) return v1Unauthorized();
		} else {
			const key = header(req, 'api-token');
			if (!key || !settings.apiKeys.includes(key.trim())) return json(403, { message: 'Forbidden' });
		}
		if (routeName === BULK_IMPORT_ROUTE && !settings.bulkImportCountsTowardRps) return undefined;
		const taken = this.bucket.take();
		if (taken.ok) return undefined;
		return this.throttle(settings.retryAfterSeconds ?? taken.retryAfterSeconds, settings.throttleStatus);
	}

	private throttle(retryAfterSeconds: number, status: number): SandboxResponse {
		const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
		return json(status, { message: status === 503 ? 'Service Unavailable' : 'Too Many Requests' }, {
			'Retry-After': String(seconds),
			'RateLimit-Limit': String(this.ctx.settings.requestsPerSecond),
			'RateLimit-Remaining': '0',
		});
	}

	throttledResponse(retryAfterSeconds: number): SandboxResponse {
		return this.throttle(retryAfterSeconds, 429);
	}

	serverErrorResponse(status: number): SandboxResponse {
		const text: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };
		return json(status, { message: text[status] ?? 'Server Error' });
	}

	notFoundResponse(): SandboxResponse {
		return json(404, { message: 'Not Found' });
	}

	badBodyResponse(message: string): SandboxResponse {
		return json(400, { message });
	}

	reset(options: Record<string, unknown>): void {
		const seedName = typeof options.seed === 'string' ? options.seed : (this.options.seed ?? 'demo');
		this.resetState({ seed: seedName, settings: options.settings as Record<string, unknown> | undefined });
	}

	private resetState({ seed: seedName, settings }: { seed: string; settings?: Record<string, unknown> }): void {
		if (seedName !== 'demo' && seedName !== 'empty') {
			console.warn(`[sandbox:activecampaign] unknown seed "${seedName}"; using "demo" (known: demo, empty)`);
		}
		const seedKey: AcSeedName = seedName === 'empty' ? 'empty' : 'demo';
		const ctx = this.ctx;
		this.importer.reset();
		ctx.webhooks.reset();
		ctx.state = new AcState();
		ctx.settings = defaultSettings();
		applySettings(ctx.settings, (this.options.settings ?? {}) as Record<string, unknown>);
		if (settings) applySettings(ctx.settings, settings);
		ctx.refreshTime();
		ctx.random = new SeededRandom(`activecampaign-${seedKey}`);
		this.configureLimits();
		this.bucket.reset();
		seed(ctx, seedKey);
		this.currentSeed = seedKey;
	}

	private configureLimits(): void {
		const s = this.ctx.settings;
		this.bucket.configure(Math.max(1, s.burst), Math.max(0.001, s.requestsPerSecond));
		this.importer.applyLimits();
	}

	getLimits(): Record<string, unknown> {
		return { ...this.ctx.settings, apiKeys: [...this.ctx.settings.apiKeys] };
	}

	setLimits(patch: Record<string, unknown>): void {
		const next = { ...patch };
		// Raising the rate without naming a burst raises the burst with it (no burst is documented).
		if (typeof next.requestsPerSecond === 'number' && next.burst === undefined) next.burst = Math.max(1, Math.ceil(next.requestsPerSecond));
		applySettings(this.ctx.settings, next);
		this.ctx.refreshTime();
		this.configureLimits();
	}

	summary(): Record<string, unknown> {
		const s = this.ctx.state;
		return {
			seed: this.currentSeed,
			contacts: s.contacts.size,
			accounts: s.accounts.size,
			tags: s.tags.size,
			fields: s.fields.size,
			lists: s.lists.size,
			automations: s.automations.size,
			webhooks: s.webhooks.size,
			schemas: s.schemas.size,
			imports: s.imports.size,
			webhookDeliveries: this.ctx.webhooks.deliveries.length,
		};
	}

	contactDetail(idOrEmail: number | string): ContactDetail | undefined {
		const contact =
			this.ctx.state.contacts.get(idOrEmail) ??
			(typeof idOrEmail === 'string' ? this.ctx.state.contactByEmailAddress(idOrEmail) : undefined);
		return contact ? contactDetail(this.ctx, contact) : undefined;
	}

	webhookDeliveries(): DeliveryRecord[] {
		return [...this.ctx.webhooks.deliveries];
	}

	waitForWebhooks(): Promise<void> {
		return this.ctx.webhooks.drain();
	}

	flushImports(): void {
		this.importer.flush();
	}

	seedBulk(options: BulkSeedOptions) {
		return seedBulk(this.ctx, options);
	}
}

export function createActiveCampaignSimulator(
	clock: Clock,
	options: ActiveCampaignSimulatorOptions = {},
): ActiveCampaignSimulator {
	return new ActiveCampaignSimulatorImpl(clock, options);
}

export { defaultSettings };
