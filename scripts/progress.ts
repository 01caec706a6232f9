/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/require-node-api-error, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * One live line per long step of `npm run demo` (and `npm run screenshots`): what it is doing, for how long, and how
 * far (and how much is left, where that is known). In a terminal the line is rewritten in place every second; in a
 * log (output not a terminal) a plain line is printed every 15 seconds instead, so a log stays short and readable.
 */
const TTY = Boolean(process.stdout.isTTY);
const dim = (s: string) => (TTY ? `\x1b[2m${s}\x1b[0m` : s);
const started = Date.now();

export const clock = (ms: number) => {
	const s = Math.round(ms / 1000);
	return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
};
const stamp = () => dim(`[${clock(Date.now() - started).padStart(7)}]`);

/** How far a step is, as a short text ("812 MB of about 2,800 MB"), or nothing. */
export type Detail = () => Promise<string | undefined> | string | undefined;

/** The line now running (a new one ends it). */
const running: { line?: LiveLine } = {};

export class LiveLine {
	private readonly begun = Date.now();
	private timer?: ReturnType<typeof setInterval>;
	private lastDetail?: string;
	private lastPrinted = Date.now();
	private busy = false;

	constructor(
		readonly label: string,
		private readonly detail?: Detail,
	) {}

	start(): this {
		running.line?.end();
		running.line = this;
		if (TTY) this.draw();
		else console.log(`${stamp()} ${this.label}`);
		this.timer = setInterval(() => void this.tick(), 1000);
		return this;
	}

	private async tick(): Promise<void> {
		if (this.busy) return;
		this.busy = true;
		try {
			if (this.detail) this.lastDetail = (await this.detail()) ?? this.lastDetail;
		} catch {
			// a detail that cannot be read this second keeps the last one
		} finally {
			this.busy = false;
		}
		if (!this.timer) return;
		if (TTY) this.draw();
		else if (Date.now() - this.lastPrinted >= 15_000) {
			this.lastPrinted = Date.now();
			console.log(`${stamp()}   … ${this.status()}`);
		}
	}

	private status(): string {
		const parts = [`${clock(Date.now() - this.begun)} so far`];
		if (this.lastDetail) parts.unshift(this.lastDetail);
		return parts.join(' · ');
	}

	private draw(): void {
		const width = process.stdout.columns || 120;
		const text = `${this.label} ${dim(`(${this.status()})`)}`;
		process.stdout.write(`\r\x1b[K${stamp()} ${text}`.slice(0, width + 20));
	}

	/** Ends the line with how long the step took (and its last detail). */
	end(outcome = 'done'): void {
		if (!this.timer) return;
		clearInterval(this.timer);
		this.timer = undefined;
		if (running.line === this) running.line = undefined;
		const took = `${outcome} in ${clock(Date.now() - this.begun)}${this.lastDetail ? ` · ${this.lastDetail}` : ''}`;
		if (TTY) process.stdout.write(`\r\x1b[K${stamp()} ${this.label} ${dim(`(${took})`)}\n`);
		else console.log(`${stamp()}   … ${took}`);
	}
}

/** Runs `work` under a live line. */
export async function live<T>(label: string, work: () => Promise<T>, detail?: Detail): Promise<T> {
	const line = new LiveLine(label, detail).start();
	try {
		const result = await work();
		line.end();
		return result;
	} catch (error) {
		line.end('failed');
		throw error;
	}
}

/** A plain line (ends a live line first, so the two never mix). */
export function say(message: string): void {
	running.line?.end();
	console.log(`${stamp()} ${message}`);
}

/**
 * A `log` for code that reports steps as messages (the n8n set-up): a message ending in "…" starts a live line that
 * runs until the next message; `detailFor` may give it a measure of progress.
 */
export function stepLog(detailFor: (message: string) => Detail | undefined = () => undefined): (message: string) => void {
	return (message: string) => {
		if (/…$/.test(message.trim())) new LiveLine(message.trim().replace(/…$/, '…'), detailFor(message)).start();
		else say(message);
	};
}

/** Ends whatever live line is running (before the program prints its own output). */
export function settle(): void {
	running.line?.end();
}
