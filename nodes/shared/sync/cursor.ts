/**
 * The change cursor of a trigger or a Get Changes operation, kept in the node's static data. Reads ask for records
 * modified at or after `watermark - overlap`; records already emitted at the same version are dropped; the watermark
 * moves to the time the read started. Nothing is lost to clock skew, indexing lag or same-second changes (the
 * overlap), and nothing is emitted twice (the version check).
 */
import type { IDataObject } from 'n8n-workflow';

export interface ChangeCursor extends IDataObject {
	/** ISO time: records modified at or after this (minus the overlap) are read next time. */
	watermark: string;
	/**
	 * id → `<version>@<modified ms>` of records emitted whose modified time is inside the current overlap window
	 * (the time lets old entries age out without another lookup).
	 */
	seen: Record<string, string>;
}

export interface ChangedRecord {
	id: string;
	/** A value that changes on every write of the record: Dataverse versionnumber, ActiveCampaign udate. */
	version: string;
	/** ISO modified time. */
	modifiedAt: string;
	/** ISO created time, to tell created from updated. */
	createdAt?: string;
}

export type ChangeKind = 'created' | 'updated';

export function readCursor(staticData: IDataObject): ChangeCursor | undefined {
	const watermark = staticData.watermark;
	if (typeof watermark !== 'string') return undefined;
	const seen = (staticData.seen ?? {}) as Record<string, string>;
	return { watermark, seen };
}

export function writeCursor(staticData: IDataObject, cursor: ChangeCursor): void {
	staticData.watermark = cursor.watermark;
	staticData.seen = cursor.seen;
}

/** Where the next read starts: the watermark minus the overlap. */
export function readFrom(cursor: ChangeCursor, overlapMs: number): string {
	return new Date(Date.parse(cursor.watermark) - overlapMs).toISOString();
}

/**
 * Splits fetched records into those to emit (new, or at a new version) and drops the rest; tells created from
 * updated: a record is `created` if it was never emitted and was created inside this read's window.
 */
export function selectChanges<T extends ChangedRecord>(
	records: readonly T[],
	cursor: ChangeCursor | undefined,
	windowStart: string,
): Array<{ record: T; kind: ChangeKind }> {
	const seen = cursor?.seen ?? {};
	const start = Date.parse(windowStart);
	const result: Array<{ record: T; kind: ChangeKind }> = [];
	const emitted = new Set<string>();
	for (const record of records) {
		if (emitted.has(record.id)) continue;
		if (seenVersion(seen[record.id]) === record.version) continue;
		emitted.add(record.id);
		const created =
			seen[record.id] === undefined &&
			record.createdAt !== undefined &&
			Date.parse(record.createdAt) >= start;
		result.push({ record, kind: created ? 'created' : 'updated' });
	}
	return result;
}

/**
 * The cursor after a read that started at `readStartedAt` and emitted `emitted`. When the read emitted only part
 * of a backlog (`complete: false`), the watermark moves to the newest emitted record instead, so the next read
 * continues from there.
 */
export function advanceCursor(
	cursor: ChangeCursor | undefined,
	emitted: readonly ChangedRecord[],
	readStartedAt: string,
	overlapMs: number,
	complete = true,
): ChangeCursor {
	let watermark = readStartedAt;
	if (!complete) {
		// A cut-short read moves only as far as what it emitted; with nothing emitted it stays where it was.
		watermark = emitted.length
			? emitted.reduce((max, r) => (Date.parse(r.modifiedAt) > Date.parse(max) ? r.modifiedAt : max), emitted[0].modifiedAt)
			: (cursor?.watermark ?? readStartedAt);
	}
	if (cursor && Date.parse(cursor.watermark) > Date.parse(watermark)) watermark = cursor.watermark;
	const keepFrom = Date.parse(watermark) - overlapMs;
	const seen: Record<string, string> = {};
	const modified = new Map<string, number>();
	for (const [id, version] of Object.entries(cursor?.seen ?? {})) {
		const at = Number(version.slice(version.lastIndexOf('@') + 1));
		if (!Number.isNaN(at) && at >= keepFrom) seen[id] = version;
	}
	for (const record of emitted) {
		const at = Date.parse(record.modifiedAt);
		if (at >= keepFrom && at >= (modified.get(record.id) ?? -Infinity)) {
			seen[record.id] = `${record.version}@${at}`;
			modified.set(record.id, at);
		}
	}
	return { watermark, seen };
}

function seenVersion(entry: string | undefined): string | undefined {
	if (entry === undefined) return undefined;
	const at = entry.lastIndexOf('@');
	return at < 0 ? entry : entry.slice(0, at);
}
