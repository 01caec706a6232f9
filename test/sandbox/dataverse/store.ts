/* eslint-disable @n8n/community-nodes/require-node-api-error -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * In-memory rows per table, a global row version (like SQL rowversion: every write gets the next number), a
 * change log per table for change tracking, unique indexes for alternate keys, and a journal so a change set or a
 * *Multiple request can roll back all of its writes.
 */
import type { AlternateKeyDef } from './metadata';

export interface LookupValue {
	id: string;
	table: string;
}

export type StoredValue = string | number | boolean | null | number[] | LookupValue;

export interface Row {
	id: string;
	table: string;
	values: Record<string, StoredValue>;
	/** Row version: the `versionnumber` column and the `W/"n"` ETag. */
	version: number;
}

export interface ChangeEntry {
	version: number;
	id: string;
	deleted: boolean;
	/** Sandbox clock time of the change. */
	at: number;
}

/** A committed write of a tracked row: what a webhook step's message (Create, Update, Delete) is about. */
export interface RowWrite {
	message: 'Create' | 'Update' | 'Delete';
	table: string;
	id: string;
	/** The row before (Update, Delete) and after (Create, Update). */
	previous?: Row;
	next?: Row;
	/** Sandbox clock time of the write. */
	at: number;
	/** Who deleted the row (a Create or Update names its user in createdby / modifiedby). */
	by?: string;
}

export function isLookupValue(v: unknown): v is LookupValue {
	return typeof v === 'object' && v !== null && !Array.isArray(v) && 'id' in v && 'table' in v;
}

export function keyString(values: Array<StoredValue | undefined>): string {
	return values
		.map((v) => {
			if (v === null || v === undefined) return '\u0000null';
			if (isLookupValue(v)) return v.id.toLowerCase();
			return typeof v === 'string' ? v.toLowerCase() : String(v);
		})
		.join('\u0001');
}

export class Store {
	private tables = new Map<string, Map<string, Row>>();
	private changeLogs = new Map<string, ChangeEntry[]>();
	private keyIndexes = new Map<string, Map<string, Map<string, string>>>();
	private keyDefs = new Map<string, AlternateKeyDef[]>();
	private journal: Array<() => void> = [];
	private marks: number[] = [];
	/** Writes made inside an open transaction: announced when the outermost one commits, dropped if it rolls back. */
	private pendingWrites: RowWrite[] = [];
	/** Told of every committed write of a tracked row (the webhook dispatcher listens). */
	onWrite?: (write: RowWrite) => void;
	version = 1000000;

	constructor(private readonly now: () => number) {}

	rows(table: string): Map<string, Row> {
		let map = this.tables.get(table);
		if (!map) {
			map = new Map();
			this.tables.set(table, map);
		}
		return map;
	}

	get(table: string, id: string): Row | undefined {
		return this.rows(table).get(id.toLowerCase());
	}

	count(table: string): number {
		return this.rows(table).size;
	}

	changeLog(table: string): ChangeEntry[] {
		let log = this.changeLogs.get(table);
		if (!log) {
			log = [];
			this.changeLogs.set(table, log);
		}
		return log;
	}

	nextVersion(): number {
		this.version += 1;
		return this.version;
	}

	// ---------------------------------------------------------------------------------------------------------
	// Alternate keys

	setKeys(table: string, keys: AlternateKeyDef[]): void {
		this.keyDefs.set(table, keys);
		const indexes = new Map<string, Map<string, string>>();
		for (const key of keys) {
			const index = new Map<string, string>();
			for (const row of this.rows(table).values()) {
				const k = this.keyOf(row, key);
				if (k !== undefined) index.set(k, row.id);
			}
			indexes.set(key.logicalName, index);
		}
		this.keyIndexes.set(table, indexes);
	}

	keys(table: string): AlternateKeyDef[] {
		return this.keyDefs.get(table) ?? [];
	}

	/** The row holding these key values, if any. */
	findByKey(table: string, key: AlternateKeyDef, values: StoredValue[]): Row | undefined {
		const id = this.keyIndexes.get(table)?.get(key.logicalName)?.get(keyString(values));
		return id ? this.get(table, id) : undefined;
	}

	/** The first alternate key whose values in `values` already belong to another row. */
	keyConflict(table: string, values: Record<string, StoredValue>, exceptId?: string): AlternateKeyDef | undefined {
		for (const key of this.keys(table)) {
			const parts = key.keyAttributes.map((a) => values[a]);
			if (parts.some((p) => p === null || p === undefined)) continue;
			const owner = this.keyIndexes.get(table)?.get(key.logicalName)?.get(keyString(parts));
			if (owner && owner !== exceptId) return key;
		}
		return undefined;
	}

	private keyOf(row: Row, key: AlternateKeyDef): string | undefined {
		const parts = key.keyAttributes.map((a) => row.values[a]);
		if (parts.some((p) => p === null || p === undefined)) return undefined;
		return keyString(parts);
	}

	private indexRow(row: Row, add: boolean): void {
		for (const key of this.keys(row.table)) {
			const k = this.keyOf(row, key);
			if (k === undefined) continue;
			const index = this.keyIndexes.get(row.table)?.get(key.logicalName);
			if (!index) continue;
			if (add) index.set(k, row.id);
			else if (index.get(k) === row.id) index.delete(k);
		}
	}

	// ---------------------------------------------------------------------------------------------------------
	// Writes (journaled)

	insert(row: Row, track = true): void {
		const map = this.rows(row.table);
		map.set(row.id, row);
		this.indexRow(row, true);
		const logged = track ? this.log(row.table, row.id, false, row.version) : undefined;
		this.record(() => {
			this.indexRow(row, false);
			map.delete(row.id);
			if (logged) this.unlog(row.table, logged);
		});
		if (track) this.announce({ message: 'Create', table: row.table, id: row.id, next: row, at: this.now() });
	}

	/** Replaces a row's values (the caller has already merged and bumped the version). */
	replace(previous: Row, next: Row, track = true): void {
		const map = this.rows(next.table);
		this.indexRow(previous, false);
		map.set(next.id, next);
		this.indexRow(next, true);
		const logged = track ? this.log(next.table, next.id, false, next.version) : undefined;
		this.record(() => {
			this.indexRow(next, false);
			map.set(previous.id, previous);
			this.indexRow(previous, true);
			if (logged) this.unlog(next.table, logged);
		});
		if (track) this.announce({ message: 'Update', table: next.table, id: next.id, previous, next, at: this.now() });
	}

	remove(row: Row, track = true, by?: string): void {
		const map = this.rows(row.table);
		this.indexRow(row, false);
		map.delete(row.id);
		const logged = track ? this.log(row.table, row.id, true, this.nextVersion()) : undefined;
		this.record(() => {
			map.set(row.id, row);
			this.indexRow(row, true);
			if (logged) this.unlog(row.table, logged);
		});
		if (track) this.announce({ message: 'Delete', table: row.table, id: row.id, previous: row, at: this.now(), by });
	}

	private announce(write: RowWrite): void {
		this.pendingWrites.push(write);
		this.record(() => {
			const at = this.pendingWrites.lastIndexOf(write);
			if (at >= 0) this.pendingWrites.splice(at, 1);
		});
		if (this.marks.length === 0) this.flushWrites();
	}

	private flushWrites(): void {
		const writes = this.pendingWrites;
		this.pendingWrites = [];
		for (const write of writes) this.onWrite?.(write);
	}

	private log(table: string, id: string, deleted: boolean, version: number): ChangeEntry {
		const entry = { version, id, deleted, at: this.now() };
		this.changeLog(table).push(entry);
		return entry;
	}

	private unlog(table: string, entry: ChangeEntry): void {
		const log = this.changeLog(table);
		const at = log.lastIndexOf(entry);
		if (at >= 0) log.splice(at, 1);
	}

	private record(undo: () => void): void {
		if (this.marks.length > 0) this.journal.push(undo);
	}

	/** Runs `fn` atomically: if it throws, every write it made is undone. Nests. */
	transaction<T>(fn: () => T): T {
		this.marks.push(this.journal.length);
		try {
			const result = fn();
			this.marks.pop();
			if (this.marks.length === 0) {
				this.journal = [];
				this.flushWrites();
			}
			return result;
		} catch (error) {
			const mark = this.marks.pop()!;
			while (this.journal.length > mark) this.journal.pop()!();
			throw error;
		}
	}

	clear(): void {
		this.tables = new Map();
		this.changeLogs = new Map();
		for (const [table, keys] of this.keyDefs) this.setKeys(table, keys);
		this.journal = [];
		this.marks = [];
		this.pendingWrites = [];
		this.version = 1000000;
	}
}
