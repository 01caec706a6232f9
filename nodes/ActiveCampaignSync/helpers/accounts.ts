/**
 * Accounts: read with custom field values, create or update by name with only what differs, the sync-item mode
 * (link `D365 Account ID`, then name; echo, conflict and state like contacts) and Record Sync State.
 */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';

import { planCreated, type PreviewChange } from '../../shared/preview';
import { sameValue } from '../../shared/sync/canonical';
import { SKIP_REASONS } from '../../shared/sync/decide';
import { fieldHash, formatFieldState, rowVersion } from '../../shared/sync/fieldState';
import { followStored, planField, planStep, resolveMatch, type PlanField } from '../../shared/sync/planner';
import { readActiveCampaign } from '../../shared/sync/records';
import { rememberDeletedAccount } from '../../shared/sync/retries';
import { isGuid, parseState } from '../../shared/sync/state';
import { ownState, recheckWinner, staleRead, stateToStore, syncFieldsOf, type RecordStateInput } from './contactSync';
import { encodeAccountFieldValue, type AccountFieldDef } from './encode';
import type { AcSession } from './session';
import { acListIfCheaper } from '../transport';
import { storedStateText, type DeletePolicy, type SyncDefaults, type SyncItem } from '../../shared/sync/syncItem';
import { accountHash, accountRecord, type AccountSnapshot } from './values';
import { keepingConflicts } from './decided';
import { omitKeys } from '../../shared/object';

export async function readAccount(session: AcSession, id: string, itemIndex?: number): Promise<AccountSnapshot | undefined> {
	const body = await session.request<IDataObject | undefined>({
		method: 'GET',
		path: `/api/3/accounts/${encodeURIComponent(id)}`,
		itemIndex,
		allowNotFound: true,
	});
	const account = body?.account as IDataObject | undefined;
	if (!account) return undefined;
	const data = await session.request<IDataObject>({ method: 'GET', path: `/api/3/accounts/${account.id}/accountCustomFieldData`, itemIndex });
	return accountSnapshotOf(account, (data.accountCustomFieldData as IDataObject[] | undefined) ?? []);
}

/**
 * Snapshots of many listed accounts with their custom field values, from the field value list (100 per request) when
 * that is cheaper than two reads per account; undefined when it is not (read them with {@link readAccount}).
 */
export async function listedAccountSnapshots(session: AcSession, accounts: IDataObject[], itemIndex?: number): Promise<Map<string, AccountSnapshot> | undefined> {
	if (accounts.length < 2) return undefined;
	const data = await acListIfCheaper(session.ctx, '/api/3/accountCustomFieldData', 'accountCustomFieldData', accounts.length * 2, { itemIndex });
	if (!data) return undefined;
	const byAccount = new Map<string, IDataObject[]>();
	for (const d of data) {
		const id = String(d.accountId ?? d.customerAccountId);
		const rows = byAccount.get(id) ?? [];
		rows.push(d);
		byAccount.set(id, rows);
	}
	return new Map(accounts.map((a) => [String(a.id), accountSnapshotOf(a, byAccount.get(String(a.id)) ?? [])]));
}

export function accountSnapshotOf(account: IDataObject, data: IDataObject[]): AccountSnapshot {
	const fields = new Map<string, { id?: string; value: unknown; currency?: string }>();
	for (const d of data) {
		const fieldId = String(d.customFieldId ?? d.accountCustomFieldMetumId);
		fields.set(fieldId, {
			id: d.id === undefined ? undefined : String(d.id),
			value: d.fieldValue,
			currency: typeof d.fieldCurrency === 'string' ? d.fieldCurrency : undefined,
		});
	}
	for (const f of (account.fields as IDataObject[] | undefined) ?? []) {
		const fieldId = String(f.customFieldId);
		if (!fields.has(fieldId)) fields.set(fieldId, { value: f.fieldValue, currency: typeof f.fieldCurrency === 'string' ? f.fieldCurrency : undefined });
	}
	return {
		id: String(account.id),
		name: String(account.name ?? ''),
		accountUrl: String(account.accountUrl ?? ''),
		createdAt: typeof account.createdTimestamp === 'string' ? account.createdTimestamp : undefined,
		updatedAt: typeof account.updatedTimestamp === 'string' ? account.updatedTimestamp : undefined,
		raw: account,
		fields,
	};
}

/** The account as the nodes output it: attributes, `customFields` as `[{ id, title, type, value, currency? }]`, link and state. */
export async function presentAccount(session: AcSession, snapshot: AccountSnapshot): Promise<IDataObject> {
	const defs = await session.accountFields();
	const attributes = omitKeys(snapshot.raw, ['links', 'fields']);
	let link: unknown = null;
	let state: unknown = null;
	const sync = await session.accountSyncFieldsIfPresent();
	const customFields: IDataObject[] = [];
	for (const [fieldId, v] of snapshot.fields) {
		const def = defs.find((d) => d.id === fieldId);
		const entry: IDataObject = { id: fieldId, title: def?.label ?? null, type: def?.type ?? null, value: v.value as IDataObject[string] };
		if (v.currency) entry.currency = v.currency;
		customFields.push(entry);
		if (sync.link && fieldId === sync.link.id) link = v.value;
		if (sync.state && fieldId === sync.state.id) state = v.value;
	}
	const stored = parseState(state);
	return {
		...(attributes as IDataObject),
		id: snapshot.id,
		customFields,
		d365AccountId: typeof link === 'string' && link ? link : null,
		syncState: typeof state === 'string' && state ? state : null,
		storedState: stored ? { ...stored } : null,
		activeCampaignAccount: await session.accountHost(),
	};
}

export interface DesiredAccount {
	name?: string;
	accountUrl?: string;
	fields: Array<{ field: AccountFieldDef; value: unknown; currency?: string }>;
}

export async function encodeAccountFields(
	session: AcSession,
	node: INode,
	entries: Array<{ key: string; value: unknown }>,
	itemIndex: number,
): Promise<DesiredAccount['fields']> {
	const out = new Map<string, DesiredAccount['fields'][number]>();
	for (const { key, value } of entries) {
		if (String(key).trim() === '') continue;
		let field = await session.accountField(key);
		// A preview creates no sync fields, not even the account fields the standard mappings write ("Phone Number"),
		// which a real write (or Ensure Sync Fields before it) creates: the preview stands them in, as a real run has them.
		if (!field && session.preview) field = (await session.syncFields(), await session.accountField(key));
		if (!field) {
			throw new NodeOperationError(node, `No ActiveCampaign account field has the label or id "${key}"`, { itemIndex });
		}
		const encoded = encodeAccountFieldValue(field, value);
		if (!encoded.ok) throw new NodeOperationError(node, `Account field "${field.label}" (${field.type}): ${encoded.error}`, { itemIndex });
		out.set(field.id, { field, value: encoded.value.fieldValue, currency: encoded.value.fieldCurrency });
	}
	return [...out.values()];
}

export interface AccountWriteResult {
	operation: 'created' | 'updated' | 'skipped';
	reason?: string;
	id: string;
	name: string;
	changes: string[];
	/** The account as ActiveCampaign returned it after the write (with its custom fields), when one was made. */
	after?: AccountSnapshot;
}

/** The written account as returned; re-read when the answer lacks the custom fields. */
async function afterWrite(session: AcSession, account: IDataObject, itemIndex: number): Promise<AccountSnapshot | undefined> {
	if (Array.isArray(account.fields)) return accountSnapshotOf(account, []);
	return await readAccount(session, String(account.id), itemIndex);
}

/**
 * What writing `desired` to the account would send (`account`, empty when nothing differs) and change, field by field
 * (before null on a new account): the one decision the write and its preview share.
 */
export function accountDiff(target: AccountSnapshot | undefined, desired: DesiredAccount): { account: IDataObject; changes: PreviewChange[] } {
	const toField = (f: DesiredAccount['fields'][number]) => ({
		customFieldId: Number(f.field.id),
		fieldValue: f.value,
		...(f.currency ? { fieldCurrency: f.currency } : {}),
	});
	const change = (field: string, before: unknown, after: unknown): PreviewChange => ({
		field,
		before: (before ?? null) as PreviewChange['before'],
		after: (after ?? null) as PreviewChange['after'],
	});
	const account: IDataObject = {};
	const changes: PreviewChange[] = [];
	if (!target) {
		account.name = desired.name;
		changes.push(change('name', null, desired.name));
		if (desired.accountUrl !== undefined) {
			account.accountUrl = desired.accountUrl;
			changes.push(change('accountUrl', null, desired.accountUrl));
		}
		if (desired.fields.length) account.fields = desired.fields.map(toField);
		changes.push(...desired.fields.map((f) => change(f.field.label, null, f.value)));
		return { account, changes };
	}
	if (desired.name !== undefined && desired.name.trim() !== '' && desired.name.trim() !== target.name) {
		account.name = desired.name.trim();
		changes.push(change('name', target.name, account.name));
	}
	if (desired.accountUrl !== undefined && !sameValue(desired.accountUrl, target.accountUrl)) {
		account.accountUrl = desired.accountUrl;
		changes.push(change('accountUrl', target.accountUrl, desired.accountUrl));
	}
	const fields = desired.fields.filter((f) => {
		const current = target.fields.get(f.field.id);
		if (!sameValue(current?.value, f.value)) return true;
		return f.field.type === 'currency' && f.currency !== undefined && current?.currency !== undefined && current.currency.toLowerCase() !== f.currency.toLowerCase();
	});
	if (fields.length) {
		account.fields = fields.map(toField);
		changes.push(...fields.map((f) => change(f.field.label, target.fields.get(f.field.id)?.value, f.value)));
	}
	return { account, changes };
}

/** Creates the account, or updates only what differs (name, URL, custom fields) in one request. */
export async function writeAccount(
	session: AcSession,
	target: AccountSnapshot | undefined,
	desired: DesiredAccount,
	itemIndex: number,
): Promise<AccountWriteResult> {
	if (!target && !desired.name) throw new NodeOperationError(session.ctx.getNode(), 'A name is needed to create an account', { itemIndex });
	const { account, changes: diff } = accountDiff(target, desired);
	const changes = diff.map((c) => c.field);
	if (!target) {
		const body = await session.request<IDataObject>({ method: 'POST', path: '/api/3/accounts', body: { account }, itemIndex });
		const created = body.account as IDataObject;
		session.rememberAccount(created);
		return {
			operation: 'created',
			id: String(created.id),
			name: String(created.name ?? desired.name),
			changes,
			after: await afterWrite(session, created, itemIndex),
		};
	}
	if (!changes.length) return { operation: 'skipped', reason: SKIP_REASONS.noChanges, id: target.id, name: target.name, changes };
	const body = await session.request<IDataObject>({ method: 'PUT', path: `/api/3/accounts/${target.id}`, body: { account }, itemIndex });
	const updated = (body.account as IDataObject | undefined) ?? { id: target.id, name: account.name ?? target.name };
	session.rememberAccount(updated);
	return { operation: 'updated', id: target.id, name: String(updated.name ?? target.name), changes, after: await afterWrite(session, updated, itemIndex) };
}

/**
 * What {@link writeAccount} would do, written nowhere (a preview): the operation and each field's value before and
 * after.
 */
export function previewAccountWrite(target: AccountSnapshot | undefined, desired: DesiredAccount): IDataObject {
	const { changes } = accountDiff(target, desired);
	if (!target) return { operation: 'created', id: null, name: desired.name ?? null, changes, preview: true };
	const name = desired.name?.trim() || target.name;
	if (!changes.length) return { operation: 'skipped', reason: SKIP_REASONS.noChanges, id: target.id, name, changes, preview: true };
	return { operation: 'updated', id: target.id, name, changes, preview: true };
}

/** The run's account links as a map Dynamics id → ActiveCampaign account id, kept current as this step writes. */
export async function linkIndexOf(session: AcSession, itemIndex?: number): Promise<LinkIndex> {
	const links = await session.accountLinks(itemIndex);
	return {
		get: (d365Id) => links.byD365.get(d365Id.toLowerCase()),
		set: (d365Id, accountId) => void session.setAccountLink(d365Id, accountId),
		delete: (d365Id) => void session.setAccountLink(d365Id, undefined),
	};
}

interface LinkIndex {
	get(d365Id: string): string | undefined;
	set(d365Id: string, accountId: string): void;
	delete(d365Id: string): void;
}

function text(value: unknown): string | undefined {
	if (value === undefined) return undefined;
	if (value === null) return '';
	return typeof value === 'string' ? value : String(value);
}

export async function syncAccountItem(
	session: AcSession,
	node: INode,
	item: SyncItem,
	defaults: SyncDefaults,
	itemIndex: number,
): Promise<IDataObject> {
	if (item.entity !== 'account') {
		throw new NodeOperationError(node, `A ${item.entity} sync item cannot be written as an account`, { itemIndex });
	}
	if (item.direction === 'toDynamics') {
		throw new NodeOperationError(node, 'This sync item goes to Dynamics 365 (direction "toDynamics"); write it with the Dynamics 365 node', { itemIndex });
	}
	const d365Id = String(item.match.d365Id ?? item.source.id ?? '').toLowerCase();
	if (!isGuid(d365Id)) throw new NodeOperationError(node, `The sync item has no Dynamics id (match.d365Id): "${d365Id}"`, { itemIndex });
	const linkValue = d365Id;
	const base: IDataObject = { entity: 'account', d365Id: linkValue, link: linkValue };
	const deletePolicy = item.policy.delete ?? defaults.delete;
	const { link: linkField, state: stateField } = await session.accountSyncFields();
	const index = await linkIndexOf(session, itemIndex);

	if (item.event === 'deleted') {
		return await applyAccountDeletePolicy(session, base, index, linkValue, deletePolicy, 'deleted in Dynamics', itemIndex);
	}
	const mergedInto = item.match.mergedInto ? String(item.match.mergedInto).toLowerCase() : undefined;
	if (mergedInto && isGuid(mergedInto)) {
		const why = `merged into the Dynamics account ${mergedInto}`;
		const loser = index.get(linkValue);
		if (!loser) return { ...base, operation: 'skipped', reason: `${why}; no ActiveCampaign account is linked to it` };
		if (index.get(mergedInto)) {
			return await applyAccountDeletePolicy(session, base, index, linkValue, deletePolicy, `${why}, which has its own ActiveCampaign account`, itemIndex);
		}
		const relinked: IDataObject = { ...base, operation: 'relinked', reason: why, id: loser, link: mergedInto, relinkedFrom: linkValue };
		if (session.preview) {
			// The run's links as the real run leaves them, so later items decide alike; nothing is sent.
			index.delete(linkValue);
			index.set(mergedInto, loser);
			session.planWrite(itemIndex);
			return { ...relinked, preview: true };
		}
		await putAccountFields(session, loser, [
			{ customFieldId: Number(linkField.id), fieldValue: mergedInto },
			{ customFieldId: Number(stateField.id), fieldValue: '' },
		], itemIndex);
		index.delete(linkValue);
		index.set(mergedInto, loser);
		return relinked;
	}

	const fields = syncFieldsOf(item);
	if (!fields.length) throw new NodeOperationError(node, 'The sync item carries no fields (fields or record); build it with the Field Map', { itemIndex });
	const record = item.record as IDataObject;
	const name = text(record.name)?.trim() || item.match.name?.trim() || undefined;
	const policy = item.policy.conflict ?? defaults.conflict;
	const defs = await session.accountFields();

	// The target in the one match order: the link, the ActiveCampaign id the item names, the name.
	const acId = item.match.acId !== undefined && item.match.acId !== null && String(item.match.acId) !== '' ? String(item.match.acId) : undefined;
	const linkedId = index.get(linkValue);
	let natural: string[] = [];
	if (!linkedId && !acId && name) {
		const found = await session.accountByName(name, itemIndex);
		if (found) natural = [String(found.id)];
	}
	const match = resolveMatch({ link: linkedId ? [linkedId] : [], id: acId, natural, naturalKind: 'name' });
	let target = match.target ? await readAccount(session, match.target, itemIndex) : undefined;
	let matchedBy = target ? match.matchedBy : undefined;
	if (!target && match.matchedBy !== 'name' && name) {
		const found = await session.accountByName(name, itemIndex);
		if (found) target = await readAccount(session, String(found.id), itemIndex);
		if (target) matchedBy = 'name';
	}
	if (target) {
		const currentLink = String(target.fields.get(linkField.id)?.value ?? '').trim().toLowerCase();
		// An account whose Dynamics account was deleted (`deleted:<id>`) may be taken by another Dynamics account.
		if (currentLink && currentLink !== linkValue && !currentLink.startsWith(DELETED_LINK)) {
			return {
				...base,
				operation: 'skipped',
				reason: `the ActiveCampaign account is linked to another Dynamics account (${currentLink})`,
				id: target.id,
				name: target.name,
				matchedBy,
			};
		}
	}

	// What each field would become, and the plan.
	const current = accountRecord(target, defs);
	const patches = new Map<string, (desired: DesiredAccount) => void>();
	const planned: PlanField[] = [];
	for (const field of fields) {
		const now = readActiveCampaign(current, field.activeCampaign);
		if (field.direction === 'toDynamics') {
			planned.push(planField(field, now, undefined));
			continue;
		}
		const key = field.activeCampaign;
		let value: unknown;
		if (key === 'name') {
			value = name ?? '';
			patches.set(field.key, (d) => (d.name = name));
		} else if (key === 'accountUrl') {
			value = text(record.accountUrl) ?? '';
			patches.set(field.key, (d) => (d.accountUrl = String(value)));
		} else {
			const raw = record.fields && typeof record.fields === 'object' ? (record.fields as IDataObject)[key] : record[key];
			const [encoded] = await encodeAccountFields(session, node, [{ key, value: raw }], itemIndex);
			value = encoded?.value ?? null;
			if (encoded) patches.set(field.key, (d) => d.fields.push(encoded));
		}
		planned.push(planField(field, now, value));
	}
	const keys = fields.map((f) => f.key);
	const storedValue = target?.fields.get(stateField.id)?.value;
	const storedText = ownState(String(target?.fields.get(linkField.id)?.value ?? ''), linkValue, typeof storedValue === 'string' ? storedValue : storedStateText(item));
	const { plan, state: plannedState, report, stale } = planStep({
		direction: 'toActiveCampaign',
		policy,
		exists: !!target,
		fields: planned,
		keys,
		stored: storedText,
		sourceWhole: item.source.hash ?? '',
		targetWhole: target ? accountHash(target, defs, item.state.targetHashFields) : undefined,
		sourceModifiedAt: item.source.modifiedAt,
		targetModifiedAt: target?.updatedAt,
		dynamicsVersion: rowVersion(item.source.version),
	});
	if (stale) return staleRead(session, { ...base, id: target!.id, name: target!.name, matchedBy }, { system: 'dynamics', kind: 'account', id: d365Id });
	if (plan.conflicts.length && target) recheckWinner(session, plan.conflicts, 'account', target.id);
	let state = plannedState;
	const linkNow = String(target?.fields.get(linkField.id)?.value ?? '').trim().toLowerCase();
	if (target && plan.skipReason) {
		// The link and state it records are bookkeeping, as in the real run's `changes`; a preview counts them instead.
		const writes: IDataObject[][] = [];
		if (plan.skipReason !== SKIP_REASONS.unchanged && state !== storedText) writes.push([{ customFieldId: Number(stateField.id), fieldValue: state }]);
		if (linkNow !== linkValue) writes.push([{ customFieldId: Number(linkField.id), fieldValue: linkValue }]);
		if (session.preview) session.planWrite(itemIndex, writes.length);
		else for (const fields of writes) await putAccountFields(session, target.id, fields, itemIndex);
		if (linkNow !== linkValue) index.set(linkValue, target.id);
		const skipped = { ...base, operation: 'skipped', reason: plan.skipReason, id: target.id, name: target.name, matchedBy };
		return session.preview ? { ...skipped, ...report, preview: true } : { ...skipped, stateRecorded: writes.length > 0, ...report };
	}

	const desired: DesiredAccount = { name: target ? undefined : name, fields: [] };
	for (const key of plan.write) patches.get(key)?.(desired);
	desired.fields.push({ field: linkField, value: linkValue }, { field: stateField, value: state });
	const bookkeeping = new Set([linkField.label, stateField.label]);
	if (session.preview) {
		// What the write would change, field by field (link and state are bookkeeping, as in the real run's `changes`).
		if (!target && !desired.name) throw new NodeOperationError(node, 'A name is needed to create an account', { itemIndex });
		const shown = previewAccountWrite(target, desired);
		const changes = (shown.changes as PreviewChange[]).filter((c) => !bookkeeping.has(c.field));
		if (target) index.set(linkValue, target.id);
		// One request: the account created, or updated where anything differs (link and state included).
		if (!target || Object.keys(accountDiff(target, desired).account).length) session.planWrite(itemIndex);
		if (!target && desired.name) planCreated(session.ctx, 'account', desired.name);
		const out: IDataObject = {
			...base,
			operation: target ? 'updated' : 'created',
			id: target?.id ?? null,
			name: shown.name,
			matchedBy: matchedBy ?? null,
			changes,
			state,
			...report,
			preview: true,
		};
		if (target && !changes.length) Object.assign(out, { operation: 'skipped', reason: SKIP_REASONS.noChanges });
		return out;
	}
	const result = await keepingConflicts(session, node, report, itemIndex, async () => {
		const result = await writeAccount(session, target, desired, itemIndex);
		if (result.after) {
			// ActiveCampaign may store a value differently from how it was sent: the state follows what it returned.
			const after = accountRecord(result.after, defs);
			if (followStored(plan, (key) => fieldHash(readActiveCampaign(after, fields.find((f) => f.key === key)!.activeCampaign)))) {
				state = formatFieldState(keys, plan.entries, plan.version);
				await putAccountFields(session, result.id, [{ customFieldId: Number(stateField.id), fieldValue: state }], itemIndex);
			}
		}
		return result;
	});
	index.set(linkValue, result.id);
	const dataChanges = result.changes.filter((c) => !bookkeeping.has(c));
	const out: IDataObject = {
		...base,
		operation: result.operation === 'skipped' ? 'updated' : result.operation,
		id: result.id,
		name: result.name,
		matchedBy: matchedBy ?? null,
		changes: dataChanges,
		state,
		...report,
	};
	if (result.operation !== 'created' && dataChanges.length === 0) {
		out.operation = 'skipped';
		out.reason = SKIP_REASONS.noChanges;
		out.stateRecorded = result.changes.some((c) => bookkeeping.has(c));
	}
	return out;
}

/** The link value of an ActiveCampaign account whose Dynamics account was deleted: never synced to Dynamics again. */
export const DELETED_LINK = 'deleted:';

async function putAccountFields(session: AcSession, accountId: string, fields: IDataObject[], itemIndex: number): Promise<void> {
	await session.request({ method: 'PUT', path: `/api/3/accounts/${accountId}`, body: { account: { fields } }, itemIndex });
}

/**
 * The delete policy on the ActiveCampaign account linked to a Dynamics account that is gone. Accounts carry no tags:
 * Keep and Flag Only both mark the link `deleted:<id>` (the account stays, and is never created again in Dynamics);
 * Propagate deletes it.
 */
async function applyAccountDeletePolicy(
	session: AcSession,
	base: IDataObject,
	index: Pick<LinkIndex, 'get' | 'delete'>,
	linkValue: string,
	policy: DeletePolicy,
	why: string,
	itemIndex: number,
): Promise<IDataObject> {
	const accountId = index.get(linkValue);
	if (!accountId) return { ...base, operation: 'skipped', reason: `${why}; no ActiveCampaign account is linked to it` };
	const operation = policy === 'propagate' ? 'deleted' : policy === 'keep' ? 'unlinked' : 'flagged';
	const outcome: IDataObject = { ...base, operation, reason: why, id: accountId, deletePolicy: policy };
	if (session.preview) {
		index.delete(linkValue);
		session.planWrite(itemIndex);
		return { ...outcome, preview: true };
	}
	const { link: linkField, state: stateField } = await session.accountSyncFields();
	if (policy === 'propagate') {
		// Remembered first: once it is gone, its contacts' empty account in ActiveCampaign is the sync's doing.
		const staticData = session.syncStaticData();
		if (staticData && isGuid(linkValue)) rememberDeletedAccount(staticData, linkValue);
		await session.request({ method: 'DELETE', path: `/api/3/accounts/${accountId}`, itemIndex, allowNotFound: true });
	} else {
		await putAccountFields(session, accountId, [
			{ customFieldId: Number(linkField.id), fieldValue: `${DELETED_LINK}${linkValue}` },
			{ customFieldId: Number(stateField.id), fieldValue: '' },
		], itemIndex);
	}
	index.delete(linkValue);
	return outcome;
}

export async function recordAccountState(session: AcSession, node: INode, input: RecordStateInput & { name?: string }, itemIndex: number): Promise<IDataObject> {
	const { link: linkField, state: stateField } = await session.accountSyncFields();
	let target: AccountSnapshot | undefined;
	if (input.acId) target = await readAccount(session, input.acId, itemIndex);
	if (!target && input.name) {
		const found = await session.accountByName(input.name, itemIndex);
		if (found) target = await readAccount(session, String(found.id), itemIndex);
	}
	if (!target) {
		if (input.action === 'delete') return { operation: 'skipped', reason: 'the ActiveCampaign account no longer exists', link: input.link ?? null };
		throw new NodeOperationError(node, `No ActiveCampaign account ${input.acId ? `with id ${input.acId}` : `named "${input.name ?? ''}"`}`, { itemIndex });
	}
	if (input.action === 'relink' && input.link) {
		// Merged in Dynamics: the link moves to the master, unless another ActiveCampaign account already has it.
		const base = { link: input.link, name: target.name };
		const index = await linkIndexOf(session, itemIndex);
		const other = index.get(input.link.toLowerCase());
		if (other && other !== target.id) {
			const own = new Map([[String(target.fields.get(linkField.id)?.value ?? ''), target.id]]);
			return await applyAccountDeletePolicy(session, base, own, String(target.fields.get(linkField.id)?.value ?? ''), 'keep', `merged into ${input.link} in Dynamics, which has its own ActiveCampaign account ${other}`, itemIndex);
		}
		const relinked: IDataObject = { ...base, operation: 'relinked', reason: `merged into ${input.link} in Dynamics`, id: target.id };
		if (session.preview) {
			index.set(input.link.toLowerCase(), target.id);
			const changes = [fieldChange(target, linkField, input.link), fieldChange(target, stateField, '')];
			session.planWrite(itemIndex);
			return { ...relinked, changes, preview: true };
		}
		await putAccountFields(session, target.id, [
			{ customFieldId: Number(linkField.id), fieldValue: input.link },
			{ customFieldId: Number(stateField.id), fieldValue: '' },
		], itemIndex);
		index.set(input.link.toLowerCase(), target.id);
		return relinked;
	}
	if (input.action) {
		const index = new Map([[String(input.link ?? ''), target.id]]);
		const policy: DeletePolicy = input.action === 'delete' ? 'propagate' : input.action === 'flag' ? 'flag' : 'keep';
		return await applyAccountDeletePolicy(session, { link: input.link ?? null, name: target.name }, index, String(input.link ?? ''), policy, 'deleted in Dynamics', itemIndex);
	}
	const fields: IDataObject[] = [];
	const changes: PreviewChange[] = [];
	if (input.link && String(target.fields.get(linkField.id)?.value ?? '') !== input.link) {
		// One ActiveCampaign account per Dynamics account: one another account is linked to is not linked twice.
		const index = await linkIndexOf(session, itemIndex);
		const other = index.get(input.link);
		if (other && other !== target.id) {
			return {
				operation: 'skipped',
				reason: `the Dynamics account ${input.link} is linked to another ActiveCampaign account (${other})`,
				id: target.id,
				name: target.name,
				link: null,
			};
		}
		fields.push({ customFieldId: Number(linkField.id), fieldValue: input.link });
		changes.push(fieldChange(target, linkField, input.link));
		index.set(input.link, target.id);
	}
	const currentState = String(target.fields.get(stateField.id)?.value ?? '');
	const state = stateToStore(currentState, input, String(target.fields.get(linkField.id)?.value ?? ''));
	if (state !== undefined && currentState !== state) {
		fields.push({ customFieldId: Number(stateField.id), fieldValue: state });
		changes.push(fieldChange(target, stateField, state));
	}
	if (!fields.length) return { operation: 'skipped', reason: SKIP_REASONS.noChanges, id: target.id, name: target.name, link: input.link ?? null, state: state ?? null };
	if (session.preview) {
		session.planWrite(itemIndex);
		return { operation: 'updated', id: target.id, name: target.name, link: input.link ?? null, state: state ?? null, changes, preview: true };
	}
	await putAccountFields(session, target.id, fields, itemIndex);
	return { operation: 'updated', id: target.id, name: target.name, link: input.link ?? null, state: state ?? null };
}

/** A preview's change of one account field: its value now (null when it has none) and the value it would get. */
function fieldChange(target: AccountSnapshot, field: AccountFieldDef, after: unknown): PreviewChange {
	const before = target.fields.get(field.id)?.value;
	return { field: field.label, before: (before ?? null) as PreviewChange['before'], after: (after ?? null) as PreviewChange['after'] };
}
