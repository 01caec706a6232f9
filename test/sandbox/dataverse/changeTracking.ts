/**
 * Change tracking (Prefer: odata.track-changes): delta tokens shaped like Dataverse's
 * (`<rowversion>!<MM/dd/yyyy HH:mm:ss>`), changed rows with their current values, then `$deletedEntity` entries.
 */
import { DataverseError } from './errors';
import type { Engine } from './engine';
import type { TableDef } from './metadata';
import type { PageState } from './odata/query';
import type { Row } from './store';

export interface DeltaItem {
	row?: Row;
	deletedId?: string;
}

export interface DeltaPage {
	items: DeltaItem[];
	next?: PageState;
	/** Set on the last page: the token for the next delta link. */
	deltaToken?: string;
}

function pad(n: number): string {
	return String(n).padStart(2, '0');
}

export function formatDeltaToken(version: number, at: number): string {
	const d = new Date(at);
	return `${version}!${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function parseDeltaToken(token: string): { version: number; at: number } {
	const m = /^(\d+)!(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(token.trim());
	if (!m) throw new DataverseError(400, '0x80040203', `The delta token '${token}' is not valid.`);
	const at = Date.UTC(Number(m[4]), Number(m[2]) - 1, Number(m[3]), Number(m[5]), Number(m[6]), Number(m[7]));
	return { version: Number(m[1]), at };
}

export class ChangeTracker {
	constructor(private readonly engine: Engine) {}

	enabled(table: TableDef): boolean {
		return this.engine.state.changeTracking.get(table.logicalName) === true;
	}

	/** Rejects query options that change tracking does not support (documented message). */
	checkOptions(query: URLSearchParams): void {
		for (const option of ['$filter', '$orderby', '$expand', '$top']) {
			if (query.has(option)) {
				throw new DataverseError(400, '0x80060888', `The "${option}" query parameter isn't supported when Change Tracking is enabled.`);
			}
		}
	}

	/** A token for "now": the current row version and the sandbox clock time. */
	currentToken(): string {
		return formatDeltaToken(this.engine.store.version, this.engine.clock.now());
	}

	private checkExpiry(at: number): void {
		const days = this.engine.state.changeTrackingExpiryDays;
		if (this.engine.clock.now() - at > days * 86400000) {
			throw new DataverseError(400, '0x80040203', 'Version stamp associated with the client has expired. Please perform a full sync.');
		}
	}

	/** The changes after a delta token, newest state per row: new/updated rows by version, then deletions. */
	changes(table: TableDef, fromVersion: number, toVersion: number): DeltaItem[] {
		const log = this.engine.store.changeLog(table.logicalName);
		let lo = 0;
		let hi = log.length;
		while (lo < hi) {
			const mid = (lo + hi) >> 1;
			if (log[mid].version <= fromVersion) lo = mid + 1;
			else hi = mid;
		}
		const latest = new Map<string, { version: number; deleted: boolean }>();
		for (let i = lo; i < log.length && log[i].version <= toVersion; i++) {
			const e = log[i];
			latest.delete(e.id);
			latest.set(e.id, { version: e.version, deleted: e.deleted });
		}
		const updated: DeltaItem[] = [];
		const deleted: DeltaItem[] = [];
		for (const [id, entry] of latest) {
			const row = this.engine.store.get(table.logicalName, id);
			if (row) updated.push({ row });
			else if (entry.deleted) deleted.push({ deletedId: id });
		}
		return [...updated, ...deleted];
	}

	/** One page of a delta read. `state` continues a paged read (from its $skiptoken). */
	delta(table: TableDef, token: string, pageSize: number, state: PageState | undefined): DeltaPage {
		const tracking = state?.tracking ?? (() => {
			const parsed = parseDeltaToken(token);
			this.checkExpiry(parsed.at);
			return { from: parsed.version, to: this.engine.store.version, token, initial: false, offset: 0 };
		})();
		const all = this.changes(table, tracking.from, tracking.to);
		const items = all.slice(tracking.offset, tracking.offset + pageSize);
		if (tracking.offset + pageSize < all.length) {
			return {
				items,
				next: {
					page: (state?.page ?? 1) + 1,
					returned: tracking.offset + items.length,
					tracking: { ...tracking, offset: tracking.offset + items.length },
				},
			};
		}
		return { items, deltaToken: formatDeltaToken(tracking.to, this.engine.clock.now()) };
	}

	countChanges(table: TableDef, token: string): number {
		const parsed = parseDeltaToken(token);
		this.checkExpiry(parsed.at);
		return this.changes(table, parsed.version, this.engine.store.version).length;
	}
}
