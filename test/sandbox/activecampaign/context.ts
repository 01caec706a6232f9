/** Everything a route module needs, in one object the simulator owns and resets. */
import type { Clock } from '../core/clock';
import { SeededRandom } from '../core/random';
import { Serializer } from './serialize';
import { AcService } from './service';
import { defaultSettings, type AcSettings } from './settings';
import { AcState } from './state';
import { AccountTime } from './time';
import { WebhookDispatcher } from './webhooks';

export class AcContext {
	state = new AcState();
	settings: AcSettings = defaultSettings();
	time = new AccountTime(this.settings.timezoneOffset);
	apiBase = 'http://127.0.0.1';
	/** Ids of custom-object schemas and records (deterministic per seed). */
	random = new SeededRandom('activecampaign-uuids');
	readonly ser: Serializer;
	readonly webhooks: WebhookDispatcher;
	readonly service: AcService;

	constructor(readonly clock: Clock) {
		this.ser = new Serializer(this);
		this.webhooks = new WebhookDispatcher({
			state: () => this.state,
			settings: () => this.settings,
			time: () => this.time,
			now: () => this.clock.now(),
		});
		this.service = new AcService({
			state: () => this.state,
			settings: () => this.settings,
			clock,
			webhooks: this.webhooks,
		});
	}

	/** Call after changing `settings.timezoneOffset`. */
	refreshTime(): void {
		if (this.time.offset !== this.settings.timezoneOffset) this.time = new AccountTime(this.settings.timezoneOffset);
	}

	now(): number {
		return this.clock.monotonicNow();
	}

	uuid(): string {
		return this.random.guid();
	}
}
