/**
 * Create or Update: finds the existing records of all items in a few bulk queries (by record id, an alternate key
 * or a column value; sync items by Dynamics id, then email, then name), compares their current values with the new
 * ones and writes only the columns that differ, all writes together in `$batch` (or `*Multiple`) requests. Each item
 * reports whether it created, updated or skipped its record, and why.
 */
import { randomUUID } from 'crypto';
import { NodeOperationError, type IDataObject, type INodeExecutionData } from 'n8n-workflow';

import { isPreview, workflowData } from '../../../shared/preview';
import { SKIP_REASONS, type ConflictPolicy } from '../../../shared/sync/decide';
import { codesOf, fieldHash, formatFieldState, rowVersion, sameValueDigest, withoutVersion, type FieldStates } from '../../../shared/sync/fieldState';
import { isEmailField, planField, planStep, type PlanField, type PlanResult } from '../../../shared/sync/planner';
import { formatContactLink, isGuid } from '../../../shared/sync/state';
import { deletedAccountDigests, queueRecheck, release, releaseMoved, retryStore, withPendingState } from '../../../shared/sync/retries';
import { parseSyncItem, stateKeys, storedStateText, type SyncItem } from '../../../shared/sync/syncItem';
import type { ColumnInfo, TableInfo } from '../../transport/metadata';
import { findByColumns, matchKey, primaryColumn, recordsById, resolveBinds, type WriteMethod, type WriteOperation } from '../../helpers/records';
import { createdIdFor, d365Hash, hashValueOf, readPropertyOf } from '../../helpers/sync';
import {
	changedBody,
	choiceLabelsToValues,
	convertValue,
	missingRequired,
	prepareRecord,
	RecordError,
	readProperties,
	sameColumnValue,
	type PreparedRecord,
} from '../../helpers/values';
import { isLookupColumn, queryProperty, toUtcIso } from '../../transport/odata';
import {
	directoryFor,
	itemError,
	opportunityInput,
	paired,
	parseRecordId,
	previewChanges,
	recordInput,
	sendWrites,
	tablesFor,
	type OperationContext,
} from '../common';

type Matcher = { kind: 'id'; id: string } | { kind: 'columns'; columns: ColumnInfo[]; values: unknown[] };

interface SyncPlan {
	item: SyncItem;
	/** The stored state the item was read with (ActiveCampaign's sync-state field), as text. */
	storedText?: string;
	/** The item's link: the Dynamics record it is synced with (not found = deleted in Dynamics). */
	linkedId?: string;
	hashFields: string[];
	policy: ConflictPolicy;
	/** The id a record created from this item gets (derived from the ActiveCampaign record). */
	createId: string;
	/** The per-field plan of this step (set by decide). */
	fields?: PlanResult;
	/** Account-field digests of the accounts the sync deleted in ActiveCampaign (retries.rememberDeletedAccount). */
	goneAccounts?: Set<string>;
}

interface Plan {
	index: number;
	table: TableInfo;
	prepared: PreparedRecord;
	matchers: Matcher[];
	skipIfModifiedAfter?: string;
	multipleMatches: 'error' | 'first';
	sync?: SyncPlan;
	/** Sync items: columns set only when the record is created (defaults for required columns). */
	createOnly?: PreparedRecord;
	round: number;
	existing?: IDataObject;
	/** How many records matched (when several did). */
	matched?: number;
}

function matcherKey(table: TableInfo, matcher: Matcher): string {
	if (matcher.kind === 'id') return `${table.logicalName}|id|${matcher.id}`;
	return `${table.logicalName}|${matcher.columns.map((c) => c.logicalName).join(',')}|${matcher.values.map(matchKey).join('|')}`;
}

/** Body keys of columns that may be written on create or on update. */
function restrict(table: TableInfo, prepared: PreparedRecord, body: IDataObject, mode: 'create' | 'update'): IDataObject {
	const result: IDataObject = {};
	for (const [property, keys] of Object.entries(prepared.bodyKeys)) {
		const name = /^_(.+)_value$/.exec(property)?.[1] ?? property;
		const column = table.columns.get(name);
		if (column && !(mode === 'create' ? column.validForCreate : column.validForUpdate)) continue;
		for (const key of keys) if (key in body) result[key] = body[key];
	}
	return result;
}

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client, items } = ctx;
	const out: Array<INodeExecutionData | undefined> = new Array(items.length);
	const dataMode = fns.getNodeParameter('dataMode', 0, 'defineBelow') as string;
	const writeMethod = fns.getNodeParameter('options.writeMethod', 0, 'auto') as WriteMethod;
	const batchSize = fns.getNodeParameter('options.batchSize', 0, 1000) as number;
	const checkRequired = fns.getNodeParameter('options.checkRequired', 0, true) as boolean;
	const preview = isPreview(fns);

	// Sync items name their own table; other modes use the resource (or the chosen table).
	let tables: Array<TableInfo | Error>;
	if (dataMode === 'syncItem') {
		tables = await Promise.all(
			items.map(async (item) => {
				const sync = item.json as Partial<SyncItem>;
				const entity = String(sync.match?.d365Entity || sync.entity || '').trim();
				if (!entity) return new RecordError('The sync item names no entity (entity or match.d365Entity)');
				try {
					return await client.table(entity);
				} catch (error) {
					return error as Error;
				}
			}),
		);
	} else {
		tables = await tablesFor(ctx);
	}
	const loaded = tables.filter((t): t is TableInfo => !(t instanceof Error));
	const directory = await directoryFor(client, loaded);

	const plans: Array<Plan | undefined> = new Array(items.length);
	for (let i = 0; i < items.length; i++) {
		try {
			const table = tables[i];
			if (table instanceof Error) throw table;
			plans[i] = buildPlan(ctx, i, table, dataMode, directory);
		} catch (error) {
			out[i] = itemError(ctx, i, error);
		}
	}

	// Lookups given by a column value become GUIDs first (they take part in the comparison).
	// A sync item's account that has not reached Dynamics yet (ActiveCampaign's new accounts go across on the account
	// step, or with Full Scan Every at the next scan) does not hold its contact back: the account waits (planSync).
	const bindErrors = await resolveBinds(client, plans.map((p) => p?.prepared), directory, (index, bind) => {
		const plan = plans[index];
		return !!plan?.sync && plan.sync.item.fields.some((f) => f.accountLink && readPropertyOf(plan.table, f.dynamics) === bind.readKey);
	});
	for (const [index, error] of bindErrors) {
		out[index] = itemError(ctx, index, error);
		plans[index] = undefined;
	}

	// Items that would match the same record run in successive rounds, so the second sees the first's write.
	const seen = new Map<string, number>();
	for (const plan of plans) {
		if (!plan) continue;
		const key = matcherKey(plan.table, plan.matchers[0] ?? { kind: 'id', id: randomUUID() });
		plan.round = seen.get(key) ?? 0;
		seen.set(key, plan.round + 1);
	}
	let rounds = Math.max(0, ...[...seen.values()]);
	// The sync's own user: a record it changed last is unchanged on the Dynamics side.
	const me = dataMode === 'syncItem' && plans.some((p) => p?.sync) ? (await client.whoAmI()).toLowerCase() : undefined;
	const goneAccounts = me && fns.getMode() !== 'manual' ? deletedAccountDigests(workflowData(fns, 'global')) : undefined;
	for (const plan of plans) if (plan?.sync) plan.sync.goneAccounts = goneAccounts;
	for (let round = 0; round < rounds; round++) {
		const active = plans.filter((p): p is Plan => !!p && p.round === round);
		await findExisting(ctx, active, out);
		followMerges(active, out);
		// A record another item of this run reaches by its link is not also taken by an unlinked item's email or name
		// (e.g. an ActiveCampaign account renamed while another took its old name): the unlinked one is new.
		const linkedTargets = new Set(active.filter((p) => p.sync?.linkedId && p.existing).map((p) => String(p.existing![p.table.primaryIdAttribute]).toLowerCase()));
		for (const plan of active) {
			if (plan.sync && !plan.sync.linkedId && plan.existing && linkedTargets.has(String(plan.existing[plan.table.primaryIdAttribute]).toLowerCase())) {
				plan.existing = undefined;
			}
		}
		for (const plan of active) {
			// A linked record that no longer exists was deleted in Dynamics (or merged into one that was): never
			// created again.
			const gone = !plan.existing || (plan.existing.merged === true && typeof plan.existing._masterid_value !== 'string');
			if (plan.sync?.linkedId && gone && !out[plan.index]) out[plan.index] = paired(deletedOutput(plan), plan.index);
		}
		const writes: Array<{ plan: Plan; op: WriteOperation; changed: string[] }> = [];
		for (const plan of active) {
			if (out[plan.index]) continue;
			try {
				adoptPendingState(fns, plan);
				const decision = decide(plan, checkRequired, me);
				if ('skip' in decision) out[plan.index] = paired(decision.skip, plan.index);
				else writes.push({ plan, op: decision.op, changed: decision.changed });
				recheckWinners(fns, plan);
				releaseMovedAway(fns, plan);
			} catch (error) {
				out[plan.index] = itemError(ctx, plan.index, error);
			}
		}
		// A preview sends nothing: every write is taken as done, and its item says what it would change.
		const results = await sendWrites(ctx, writes.map((w) => w.op), { method: writeMethod, batchSize });
		const written: Array<{ plan: Plan; id: string; operation: 'created' | 'updated'; changed: string[]; op: WriteOperation; share?: number }> = [];
		results.forEach((result, k) => {
			const { plan, op, changed } = writes[k];
			if (!result.ok && plan.sync && op.kind === 'create' && result.failure.status === 412) {
				// Another run created the record of this ActiveCampaign record meanwhile (same derived id): update it
				// in the next round instead.
				plan.matchers = [{ kind: 'id', id: op.id }];
				plan.existing = undefined;
				plan.round = round + 1;
				rounds = Math.max(rounds, round + 2);
				return;
			}
			if (!result.ok) {
				out[plan.index] = itemError(ctx, plan.index, client.error(result.failure, { itemIndex: plan.index, table: plan.table.logicalName, action: op.kind }));
				return;
			}
			written.push({ plan, id: result.id, operation: op.kind === 'create' ? 'created' : 'updated', changed, op, share: result.writeRequests });
		});
		// Sync items report the state after the write: the hash of the target's mapped columns as stored now.
		const after = preview ? new Map<string, IDataObject>() : await readBack(ctx, written.filter((w) => w.plan.sync));
		for (const w of written) {
			// A Dynamics record's old email is free now: records held back by it are read again.
			const oldEmail = w.plan.existing?.emailaddress1;
			if (w.plan.sync && typeof oldEmail === 'string' && w.changed.includes('emailaddress1') && fns.getMode() !== 'manual') {
				const entity = w.plan.table.logicalName;
				const holder = entity === 'lead' || entity === 'contact' ? formatContactLink({ entity, id: w.id }) : undefined;
				release(workflowData(fns, 'global'), { email: oldEmail, holder }, fns.getNode().name);
			}
			const json: IDataObject = { operation: w.operation, id: w.id, entity: w.plan.table.logicalName, changedColumns: w.changed };
			if (w.plan.matched && w.plan.matched > 1) json.matchedRecords = w.plan.matched;
			if (w.plan.sync) Object.assign(json, syncOutput(w.plan, w.id, settleWritten(w.plan, after.get(w.id))));
			if (preview) Object.assign(json, { preview: true, changes: previewChanges(w.plan.prepared, w.op.body ?? {}, w.plan.existing), writeRequests: w.share ?? 0 });
			out[w.plan.index] = paired(json, w.plan.index);
		}
	}
	return out.map((o, i) => o ?? paired({ operation: 'skipped', reason: 'not processed' }, i));
}

function buildPlan(
	ctx: OperationContext,
	i: number,
	table: TableInfo,
	dataMode: string,
	directory: Awaited<ReturnType<typeof directoryFor>>,
): Plan {
	const { fns } = ctx;
	const multipleMatches = fns.getNodeParameter('options.multipleMatches', i, 'error') as 'error' | 'first';
	if (dataMode === 'syncItem') {
		const parsed = parseSyncItem(ctx.items[i].json);
		if (!parsed.ok) throw new RecordError(parsed.error);
		const item = parsed.item;
		if (item.direction && item.direction !== 'toDynamics') {
			throw new RecordError(`This sync item goes ${item.direction}; the Dynamics 365 node writes items going toDynamics`);
		}
		const prepared = prepareRecord(table, choiceLabelsToValues(table, item.record as IDataObject), { mode: 'create', unknownFields: 'error', directory });
		const matchers: Matcher[] = [];
		const linked = parseRecordId(item.match.d365Id);
		if (linked) {
			// Linked: the link alone decides. A record that is gone was deleted; matching it by email would recreate it.
			matchers.push({ kind: 'id', id: linked.id });
		} else {
			const email = item.match.email ?? item.record.emailaddress1;
			const emailColumn = table.columns.get('emailaddress1');
			if (email && emailColumn && (table.logicalName === 'lead' || table.logicalName === 'contact')) {
				matchers.push({ kind: 'columns', columns: [emailColumn], values: [email] });
			}
			const nameColumn = table.columns.get(table.primaryNameAttribute);
			const name = item.match.name ?? item.record[table.primaryNameAttribute];
			if (name && nameColumn && table.logicalName !== 'lead' && table.logicalName !== 'contact') {
				matchers.push({ kind: 'columns', columns: [nameColumn], values: [name] });
			}
		}
		const defaultPolicy = fns.getNodeParameter('options.conflictPolicy', i, 'dynamicsWins') as ConflictPolicy;
		const hashFields = item.state.targetHashFields.length ? item.state.targetHashFields.map(String) : Object.keys(item.record);
		const createOnly = Object.keys(item.createOnly).length
			? prepareRecord(table, choiceLabelsToValues(table, item.createOnly as IDataObject), { mode: 'create', unknownFields: 'error', directory })
			: undefined;
		const sourceId = String(item.source.id ?? item.match.acId ?? '');
		return {
			index: i,
			table,
			prepared,
			createOnly,
			matchers,
			multipleMatches: 'first',
			round: 0,
			skipIfModifiedAfter: undefined,
			sync: {
				item,
				// A state the last Record Sync State of this pair could not store still tells what the sync wrote.
				storedText:
					linked && (item.entity === 'lead' || item.entity === 'contact') && fns.getMode() !== 'manual'
						? withPendingState(workflowData(fns, 'global'), formatContactLink({ entity: item.entity, id: linked.id }), storedStateText(item))
						: storedStateText(item),
				linkedId: linked?.id,
				hashFields,
				policy: item.policy.conflict ?? defaultPolicy,
				createId: sourceId ? createdIdFor(String(item.source.account ?? ''), table.logicalName, sourceId) : randomUUID(),
			},
		};
	}

	const input = { ...recordInput(ctx, i, dataMode), ...opportunityInput(ctx, i) };
	const prepared = prepareRecord(table, input, {
		mode: 'create',
		unknownFields: dataMode === 'autoMap' ? 'ignore' : 'error',
		directory,
	});
	const matchOn = fns.getNodeParameter('matchOn', i, 'column') as string;
	const matchers: Matcher[] = [];
	if (matchOn === 'id') {
		const raw = fns.getNodeParameter('recordId', i, '') as string;
		const id = parseRecordId(raw);
		if (!id) throw new NodeOperationError(fns.getNode(), `The record ID '${String(raw)}' is not a GUID`, { itemIndex: i });
		matchers.push({ kind: 'id', id: id.id });
	} else if (matchOn === 'alternateKey') {
		const keyName = fns.getNodeParameter('alternateKey', i, '') as string;
		const key = table.keys.find((k) => k.logicalName === keyName);
		if (!key) {
			throw new NodeOperationError(fns.getNode(), `The table ${table.logicalName} has no alternate key '${keyName}'`, {
				itemIndex: i,
				description: table.keys.length
					? `Its keys: ${table.keys.map((k) => `${k.logicalName} (${k.keyAttributes.join(', ')})`).join('; ')}`
					: 'The table has no alternate keys; match on a column instead, or define a key in the table settings.',
			});
		}
		const columns = key.keyAttributes.map((name) => table.columns.get(name)).filter((c): c is ColumnInfo => !!c);
		const values = columns.map((c) => prepared.read[queryProperty(c)]);
		const missing = columns.filter((_, k) => values[k] === undefined || values[k] === null || values[k] === '');
		if (missing.length) {
			throw new RecordError(`The alternate key ${key.logicalName} needs a value for ${missing.map((c) => `'${c.logicalName}'`).join(', ')}`);
		}
		matchers.push({ kind: 'columns', columns, values });
	} else {
		const columnName = fns.getNodeParameter('matchColumn', i, '') as string;
		const column = table.columns.get(columnName);
		if (!column) throw new RecordError(`The table ${table.logicalName} has no column '${columnName}' to match on`);
		let value: unknown = fns.getNodeParameter('matchValue', i, '') as string;
		if (value === '' || value === undefined || value === null) value = prepared.read[queryProperty(column)];
		if (value === '' || value === undefined || value === null) {
			throw new RecordError(`No value to match on '${column.logicalName}': set "Value to Match" or map the column`);
		}
		if (!isLookupColumn(column) && !(queryProperty(column) in prepared.read)) {
			// A new record gets the matched value too.
			const converted = convertValue(column, value);
			prepared.body[column.logicalName] = converted;
			prepared.read[column.logicalName] = converted;
			prepared.bodyKeys[column.logicalName] = [column.logicalName];
		}
		matchers.push({ kind: 'columns', columns: [column], values: [isLookupColumn(column) ? String(value) : convertValue(column, value)] });
	}
	const after = fns.getNodeParameter('options.skipIfModifiedAfter', i, '') as string;
	return {
		index: i,
		table,
		prepared,
		matchers,
		multipleMatches,
		round: 0,
		skipIfModifiedAfter: after ? toUtcIso(after, "'Skip If Changed After'") : undefined,
	};
}

/** Finds each plan's existing record, trying its matchers in order, with one query per table, matcher and chunk. */
async function findExisting(ctx: OperationContext, plans: Plan[], out: Array<INodeExecutionData | undefined>): Promise<void> {
	const levels = Math.max(0, ...plans.map((p) => p.matchers.length));
	let open = plans.filter((p) => !out[p.index]);
	for (let level = 0; level < levels && open.length; level++) {
		const groups = new Map<string, Plan[]>();
		for (const plan of open) {
			const matcher = plan.matchers[level];
			if (!matcher) continue;
			const key = `${plan.table.logicalName}|${matcher.kind === 'id' ? 'id' : matcher.columns.map((c) => c.logicalName).join(',')}`;
			const list = groups.get(key) ?? [];
			list.push(plan);
			groups.set(key, list);
		}
		await Promise.all(
			[...groups.values()].map(async (group) => {
				const table = group[0].table;
				const first = group[0].matchers[level];
				const columns = first.kind === 'id' ? [primaryColumn(table)] : first.columns;
				const select = new Set<string>(['modifiedon', 'versionnumber']);
				for (const plan of group) {
					readProperties(plan.prepared).forEach((p) => select.add(p));
					plan.sync?.hashFields.forEach((f) => select.add(readPropertyOf(table, f)));
					plan.sync?.item.fields.forEach((f) => f.dynamics && select.add(readPropertyOf(table, f.dynamics)));
					if (plan.sync) MERGE_COLUMNS.forEach((c) => select.add(c));
				}
				const validSelect = [...select].filter((p) => {
					const name = /^_(.+)_value$/.exec(p)?.[1] ?? p;
					return table.columns.get(name)?.validForRead === true;
				});
				const tuples = group.map((plan) => {
					const m = plan.matchers[level];
					return m.kind === 'id' ? [m.id] : m.values;
				});
				let found: Map<string, IDataObject[]>;
				try {
					found = await findByColumns(ctx.client, table, columns, tuples, validSelect);
				} catch (error) {
					for (const plan of group) out[plan.index] = itemError(ctx, plan.index, error);
					return;
				}
				group.forEach((plan, k) => {
					const hits = found.get(tuples[k].map(matchKey).join('|')) ?? [];
					if (hits.length > 1 && plan.multipleMatches === 'error') {
						const m = plan.matchers[level];
						const what = m.kind === 'id' ? 'this id' : m.columns.map((c, j) => `${c.logicalName} = '${String(m.values[j])}'`).join(' and ');
						out[plan.index] = itemError(
							ctx,
							plan.index,
							new RecordError(
								`${hits.length} ${table.logicalName} records match ${what}; choose a unique column or alternate key, or set the option "If Several Records Match" to update the most recently modified`,
							),
						);
						return;
					}
					if (hits.length) {
						plan.existing = hits[0];
						if (hits.length > 1) plan.matched = hits.length;
					}
				});
			}),
		);
		open = open.filter((p) => !p.existing && !out[p.index]);
	}
}

type Decision = { skip: IDataObject } | { op: WriteOperation; changed: string[] };

function decide(plan: Plan, checkRequired: boolean, me?: string): Decision {
	const { table, prepared, existing, sync } = plan;
	if (!existing) {
		if (prepared.pending.length) throw new RecordError('A lookup could not be resolved');
		const body = restrict(table, prepared, prepared.body, 'create');
		// Create-only defaults (a sync item's required-column defaults) fill what the record itself leaves out.
		const createOnly = plan.createOnly;
		if (createOnly) for (const [key, value] of Object.entries(restrict(table, createOnly, createOnly.body, 'create'))) body[key] ??= value;
		const complete = createOnly
			? { ...prepared, body: { ...createOnly.body, ...prepared.body }, bodyKeys: { ...createOnly.bodyKeys, ...prepared.bodyKeys } }
			: prepared;
		if (checkRequired) {
			const missing = missingRequired(table, complete);
			if (missing.length) {
				throw new RecordError(
					`Missing required column${missing.length > 1 ? 's' : ''} for a new ${table.logicalName}: ${missing
						.map((c) => `${c.displayName} (${c.logicalName})`)
						.join(', ')}`,
				);
			}
		}
		const idMatcher = plan.matchers.find((m) => m.kind === 'id');
		// The id of a new record is chosen here, so a create that is retried cannot make a second record; a record
		// created from ActiveCampaign gets an id derived from it, so two runs cannot make two records either.
		const id = sync ? sync.createId : idMatcher && idMatcher.kind === 'id' ? idMatcher.id : randomUUID();
		if (sync) sync.fields = planSync(plan, undefined);
		return { op: { kind: 'create', table, id, body }, changed: Object.keys(body) };
	}
	const id = String(existing[table.primaryIdAttribute]).toLowerCase();
	const modifiedOn = typeof existing.modifiedon === 'string' ? existing.modifiedon : undefined;
	if (plan.skipIfModifiedAfter && modifiedOn && Date.parse(modifiedOn) > Date.parse(plan.skipIfModifiedAfter)) {
		return {
			skip: {
				operation: 'skipped',
				reason: `the Dynamics record changed after ${plan.skipIfModifiedAfter} (modified ${modifiedOn})`,
				id,
				entity: table.logicalName,
			},
		};
	}
	const changedAll = changedBody(prepared, existing);
	let body = restrict(table, prepared, changedAll, 'update');
	if (sync) {
		const fields = planSync(plan, existing, me);
		sync.fields = fields;
		if (fields.skipReason) {
			// Unchanged on a state ActiveCampaign does not hold (one Record Sync State could not store): the state goes to
			// Record Sync State all the same, else the pair is left without one when that pending state is forgotten.
			const pending = sync.storedText !== undefined && sync.storedText !== storedStateText(sync.item);
			const entries = fields.skipReason === SKIP_REASONS.unchanged && !pending ? undefined : fields.entries;
			return { skip: { operation: 'skipped', reason: fields.skipReason, ...syncOutput(plan, id, entries) } };
		}
		// Only the columns of the fields the plan writes.
		const columns = new Set(fields.write.map((key) => sync.item.fields.find((f) => f.key === key)!.dynamics));
		body = restrictToColumns(table, prepared, body, columns);
		if (!Object.keys(body).length) {
			return { skip: { operation: 'skipped', reason: SKIP_REASONS.noChanges, ...syncOutput(plan, id, fields.entries) } };
		}
	}
	if (!Object.keys(body).length) {
		return { skip: { operation: 'skipped', reason: SKIP_REASONS.noChanges, id, entity: table.logicalName } };
	}
	return { op: { kind: 'update', table, id, body }, changed: Object.keys(body) };
}

/**
 * A record the sync created from this ActiveCampaign contact (its id is derived from the contact) while the link could
 * not be recorded there: the state Record Sync State could not store is still this pair's, so what the sync wrote is
 * known as its own and a later ActiveCampaign edit (e.g. a phone cleared) is a change, not a first sync's gap.
 */
function adoptPendingState(fns: OperationContext['fns'], plan: Plan): void {
	const { sync, existing } = plan;
	const entity = plan.table.logicalName;
	if (!sync || sync.linkedId || !existing || (entity !== 'lead' && entity !== 'contact') || fns.getMode() === 'manual') return;
	const id = String(existing[plan.table.primaryIdAttribute] ?? '').toLowerCase();
	if (id !== sync.createId.toLowerCase()) return;
	sync.storedText = withPendingState(workflowData(fns, 'global'), formatContactLink({ entity, id }), sync.storedText);
}

/**
 * Records held back by this lead or contact for an email it no longer has are read again. The write that changed the
 * email released them, but an overlapping run that saved its static data last may have kept them held back.
 */
function releaseMovedAway(fns: OperationContext['fns'], plan: Plan): void {
	const entity = plan.table.logicalName;
	if (!plan.sync || !plan.existing || (entity !== 'lead' && entity !== 'contact') || fns.getMode() === 'manual') return;
	const id = String(plan.existing[plan.table.primaryIdAttribute] ?? '');
	const email = plan.existing.emailaddress1;
	if (!id) return;
	releaseMoved(workflowData(fns, 'global'), formatContactLink({ entity, id }), typeof email === 'string' ? email : undefined, fns.getNode().name);
}

function syncOutput(plan: Plan, id: string, entries: FieldStates | undefined): IDataObject {
	const sync = plan.sync!;
	const entity = plan.table.logicalName;
	const fields = sync.fields;
	const state = entries && sync.item.fields.length ? formatFieldState(stateKeys(sync.item), entries, fields?.version) : null;
	return {
		id,
		entity,
		direction: 'toDynamics',
		// The link ActiveCampaign stores: lead:/contact:<guid> on contacts, the account's GUID on accounts.
		...(entity === 'lead' || entity === 'contact' ? { link: formatContactLink({ entity, id }) } : entity === 'account' ? { link: id } : {}),
		match: { ...sync.item.match, d365Id: id, d365Entity: entity },
		// What the next step (ActiveCampaign: Record Sync State) needs, at the top level.
		acId: sync.item.match.acId ?? null,
		email: sync.item.match.email ?? null,
		...(entity === 'account' ? { name: sync.item.match.name ?? null } : {}),
		tags: sync.item.tags,
		removeTags: sync.item.removeTags,
		source: sync.item.source,
		...(fields?.conflicts.length ? { conflicts: fields.conflicts as unknown as IDataObject[], conflict: `resolved: ${sync.policy}` } : {}),
		// Values Dynamics cannot take now (a contact's account not in Dynamics yet), and why: tried again later.
		...(fields?.notWritten.length ? { notWritten: fields.notWritten as unknown as IDataObject[] } : {}),
		// The state after this step, the fields it decided, and the state it started from: Record Sync State merges
		// them into the state as it is then (another step of the cycle may have stored decisions meanwhile).
		state,
		stateFields: state ? codesOf(stateKeys(sync.item), fields?.touched ?? []) : [],
		stateBase: sync.storedText ?? null,
	};
}

/**
 * Fields where Dynamics won a conflict, or that ActiveCampaign did not hold (a job title on a new account link), keep
 * their Dynamics value, which this step (ActiveCampaign → Dynamics) does not carry to ActiveCampaign: the record is
 * read again on the next run, so the other step carries it.
 */
function recheckWinners(fns: OperationContext['fns'], plan: Plan): void {
	const fields = plan.sync?.fields;
	if (!fields || !plan.existing || fns.getMode() === 'manual') return;
	const won = fields.conflicts.some((c) => c.winner === 'dynamics');
	const notHeld = plan.sync!.item.fields.some(
		(f) => f.notHeld && fields.decisions.get(f.key) === 'notHeld' && hashValueOf(plan.table, plan.existing!, f.dynamics) !== null && hashValueOf(plan.table, plan.existing!, f.dynamics) !== '',
	);
	if (!won && !notHeld) return;
	const id = String(plan.existing[plan.table.primaryIdAttribute]).toLowerCase();
	const why = won ? 'won a conflict: its values go to ActiveCampaign' : 'ActiveCampaign did not hold its value: it goes to ActiveCampaign';
	queueRecheck(retryStore(workflowData(fns, 'global')), { system: 'dynamics', kind: plan.table.logicalName, id }, why, fns.getNode().name);
}

/** The delete policy's outcome for an item whose linked Dynamics record no longer exists. */
function deletedOutput(plan: Plan): IDataObject {
	const sync = plan.sync!;
	const entity = plan.table.logicalName;
	const policy = sync.item.policy.delete ?? 'keep';
	return {
		operation: 'skipped',
		reason: 'deleted in Dynamics',
		deleted: true,
		deletePolicy: policy,
		// What Record Sync State does to the ActiveCampaign record.
		acAction: policy === 'propagate' ? 'delete' : policy === 'flag' ? 'flag' : 'unlink',
		id: sync.linkedId,
		entity,
		direction: 'toDynamics',
		link: entity === 'lead' || entity === 'contact' ? formatContactLink({ entity, id: sync.linkedId! }) : sync.linkedId,
		acId: sync.item.match.acId ?? null,
		email: sync.item.match.email ?? null,
		...(entity === 'account' ? { name: sync.item.match.name ?? null } : {}),
		tags: [],
		removeTags: [],
		state: null,
		stateFields: [],
		stateBase: sync.storedText ?? null,
	};
}

/** Read with every sync target: merges, and who changed it last. */
const MERGE_COLUMNS = ['merged', '_masterid_value', '_modifiedby_value'];

/**
 * Linked records that were merged away in Dynamics (deactivated, `merged`, `masterid` set): nothing is written; the
 * item tells Record Sync State to move the ActiveCampaign link to the master (`acAction: "relink"`), which it does
 * only when no other ActiveCampaign record is linked to the master (else it unlinks and tags this one). The state
 * starts over, so the next change on either side is compared from scratch.
 */
function followMerges(plans: Plan[], out: Array<INodeExecutionData | undefined>): void {
	for (const plan of plans) {
		const existing = plan.existing;
		if (!plan.sync || out[plan.index] || existing?.merged !== true || typeof existing._masterid_value !== 'string') continue;
		const sync = plan.sync;
		const entity = plan.table.logicalName;
		const master = existing._masterid_value.toLowerCase();
		const merged = String(existing[plan.table.primaryIdAttribute]).toLowerCase();
		const link = (id: string) => (entity === 'lead' || entity === 'contact' ? formatContactLink({ entity, id }) : id);
		out[plan.index] = paired(
			{
				operation: 'skipped',
				reason: `merged into ${link(master)} in Dynamics`,
				acAction: 'relink',
				id: master,
				entity,
				direction: 'toDynamics',
				link: link(master),
				relinkedFrom: link(merged),
				acId: sync.item.match.acId ?? null,
				email: sync.item.match.email ?? null,
				...(entity === 'account' ? { name: sync.item.match.name ?? null } : {}),
				tags: [],
				removeTags: [],
				source: sync.item.source,
				state: null,
				stateFields: [],
				stateBase: sync.storedText ?? null,
			},
			plan.index,
		);
	}
}

/** The per-field plan of a sync item against the record as it is now (undefined: the record is created). */
function planSync(plan: Plan, existing: IDataObject | undefined, me?: string): PlanResult {
	const sync = plan.sync!;
	const { table, prepared } = plan;
	const changed = existing ? changedBody(prepared, existing) : {};
	const planned: PlanField[] = [];
	for (const field of sync.item.fields) {
		const current = existing ? hashValueOf(table, existing, field.dynamics) : null;
		const property = readPropertyOf(table, field.dynamics);
		const flows = field.direction !== 'toActiveCampaign' && property in prepared.bodyKeys;
		if ((field.notHeld || field.notRead) && field.direction !== 'toActiveCampaign') {
			planned.push(planField(field, current, undefined));
			continue;
		}
		if (!flows) {
			planned.push(planField({ ...field, direction: field.direction === 'both' ? 'toActiveCampaign' : field.direction }, current, undefined));
			continue;
		}
		const waiting = prepared.unresolved?.[property];
		if (waiting) {
			// Not written, and ActiveCampaign's side left unknown: tried again when the contact is read next.
			planned.push(planField(field, current, undefined, { cannotHold: waiting, equal: false }));
			continue;
		}
		const desired = prepared.read[property];
		const equal = existing ? !prepared.bodyKeys[property].some((key) => key in changed) : sameColumnValue(desired, null);
		planned.push(planField(field, current, isGuid(desired) ? desired.toLowerCase() : desired, { equal }));
	}
	const modifiedBySync = !!existing && !!me && String(existing._modifiedby_value ?? '').toLowerCase() === me;
	return planStep({
		direction: 'toDynamics',
		policy: sync.policy,
		exists: !!existing,
		fields: planned,
		keys: stateKeys(sync.item),
		// The row version in the state is this record's only when the contact is linked to it.
		stored: existing && String(existing[table.primaryIdAttribute] ?? '').toLowerCase() === String(sync.item.match.d365Id ?? '').toLowerCase() ? sync.storedText : withoutVersion(sync.storedText),
		dynamicsVersion: rowVersion(existing?.versionnumber),
		sourceWhole: String(sync.item.source.hash ?? ''),
		targetWhole: existing ? d365Hash(table, existing, sync.hashFields) : undefined,
		sourceModifiedAt: sync.item.source.modifiedAt,
		targetModifiedAt: typeof existing?.modifiedon === 'string' ? existing.modifiedon : undefined,
		// Nobody changed the record since the sync last wrote it: a field the sync may have written then is unchanged on
		// the Dynamics side, whatever the stored state says (it may not have been stored: a Record Sync State that
		// failed). The sync writes a field only when ActiveCampaign changed it, so that holds only for fields
		// ActiveCampaign changed since the stored state; any other difference is a person's edit made before the
		// sync's last write (of other fields), still to reach ActiveCampaign. Nor where the Dynamics value has yet to
		// reach ActiveCampaign: an entry whose Dynamics side is unknown (a write to ActiveCampaign that did not finish,
		// a value ActiveCampaign could not hold). Recorded as settled, that value would never go across.
		// A contact whose ActiveCampaign account the sync deleted (Propagate) holds none there by nobody's edit.
		goneAccounts: sync.goneAccounts,
		adjustBase: modifiedBySync
			? (base) => {
					for (const p of planned) {
						if (p.direction === 'toActiveCampaign' || p.sourceNotHeld || p.sourceNotRead) continue;
						const entry = base.get(p.key) ?? { ac: EMPTY_DIGEST, d365: EMPTY_DIGEST };
						if (entry.d365 === null || sameValueDigest(entry.ac, p.source, p.sourceAlt)) continue;
						if (entry.d365 !== p.target) base.set(p.key, { ac: entry.ac, d365: p.target });
					}
				}
			: undefined,
	}).plan;
}


/** The digest of an empty value. */
const EMPTY_DIGEST = fieldHash(null);

/** The state after a write, with the written fields' digests taken from the record as Dataverse stored it. */
function settleWritten(plan: Plan, record: IDataObject | undefined): FieldStates | undefined {
	const sync = plan.sync!;
	const fields = sync.fields;
	if (!fields) return undefined;
	if (!record) return fields.entries;
	const entries: FieldStates = new Map(fields.entries);
	for (const key of fields.write) {
		const field = sync.item.fields.find((f) => f.key === key)!;
		const entry = entries.get(key)!;
		entries.set(key, { ...entry, d365: fieldHash(hashValueOf(plan.table, record, field.dynamics), isEmailField(field)) });
	}
	return entries;
}

/** The body keys of the given columns only. */
function restrictToColumns(table: TableInfo, prepared: PreparedRecord, body: IDataObject, columns: Set<string>): IDataObject {
	const result: IDataObject = {};
	for (const [property, keys] of Object.entries(prepared.bodyKeys)) {
		const name = /^_(.+)_value$/.exec(property)?.[1] ?? property;
		if (!columns.has(name) && !columns.has(property)) continue;
		for (const key of keys) if (key in body) result[key] = body[key];
	}
	return result;
}

/** The written records as stored now (for the state hash), in one query per table and chunk. */
async function readBack(
	ctx: OperationContext,
	written: Array<{ plan: Plan; id: string }>,
): Promise<Map<string, IDataObject>> {
	const result = new Map<string, IDataObject>();
	const byTable = new Map<string, Array<{ plan: Plan; id: string }>>();
	for (const w of written) {
		const list = byTable.get(w.plan.table.logicalName) ?? [];
		list.push(w);
		byTable.set(w.plan.table.logicalName, list);
	}
	for (const list of byTable.values()) {
		const table = list[0].plan.table;
		const select = new Set<string>(['modifiedon', 'versionnumber']);
		for (const w of list) {
			w.plan.sync?.hashFields.forEach((f) => select.add(readPropertyOf(table, f)));
			w.plan.sync?.item.fields.forEach((f) => f.dynamics && select.add(readPropertyOf(table, f.dynamics)));
		}
		const found = await recordsById(ctx.client, table, list.map((w) => w.id), select);
		for (const w of list) {
			const record = found.get(matchKey(w.id));
			if (record) result.set(w.id, record);
		}
	}
	return result;
}
