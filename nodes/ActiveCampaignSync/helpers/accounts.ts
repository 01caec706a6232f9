/**
 * Accounts: read with custom field values, create or update by name with only what differs, the sync-item mode
 * (link `D365 Account ID`, then name; echo, conflict and state like contacts) and Record Sync State.
 */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';

import { sameValue } from '../../shared/sync/canonical';
import { decideSync, SKIP_REASONS } from '../../shared/sync/decide';
import { formatState, isGuid, parseState } from '../../shared/sync/state';
import { acAllByOffset } from '../transport';
import { encodeAccountFieldValue, type AccountFieldDef } from './encode';
import type { AcSession } from './session';
import type { SyncDefaults, SyncItem } from './syncItem';
import { accountHash, type AccountOverlay, type AccountSnapshot } from './values';

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
	const { links: _links, fields: _fields, ...attributes } = snapshot.raw;
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
		const field = await session.accountField(key);
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

/** Creates the account, or updates only what differs (name, URL, custom fields) in one request. */
export async function writeAccount(
	session: AcSession,
	target: AccountSnapshot | undefined,
	desired: DesiredAccount,
	itemIndex: number,
): Promise<AccountWriteResult> {
	const toField = (f: DesiredAccount['fields'][number]) => ({
		customFieldId: Number(f.field.id),
		fieldValue: f.value,
		...(f.currency ? { fieldCurrency: f.currency } : {}),
	});
	if (!target) {
		if (!desired.name) throw new NodeOperationError(session.ctx.getNode(), 'A name is needed to create an account', { itemIndex });
		const account: IDataObject = { name: desired.name };
		if (desired.accountUrl !== undefined) account.accountUrl = desired.accountUrl;
		if (desired.fields.length) account.fields = desired.fields.map(toField);
		const body = await session.request<IDataObject>({ method: 'POST', path: '/api/3/accounts', body: { account }, itemIndex });
		const created = body.account as IDataObject;
		session.rememberAccount(created);
		return {
			operation: 'created',
			id: String(created.id),
			name: String(created.name ?? desired.name),
			changes: ['name', ...(desired.accountUrl !== undefined ? ['accountUrl'] : []), ...desired.fields.map((f) => f.field.label)],
			after: await afterWrite(session, created, itemIndex),
		};
	}
	const account: IDataObject = {};
	const changes: string[] = [];
	if (desired.name !== undefined && desired.name.trim() !== '' && desired.name.trim() !== target.name) {
		account.name = desired.name.trim();
		changes.push('name');
	}
	if (desired.accountUrl !== undefined && !sameValue(desired.accountUrl, target.accountUrl)) {
		account.accountUrl = desired.accountUrl;
		changes.push('accountUrl');
	}
	const fields = desired.fields.filter((f) => {
		const current = target.fields.get(f.field.id);
		if (!sameValue(current?.value, f.value)) return true;
		return f.field.type === 'currency' && f.currency !== undefined && current?.currency !== undefined && current.currency.toLowerCase() !== f.currency.toLowerCase();
	});
	if (fields.length) {
		account.fields = fields.map(toField);
		changes.push(...fields.map((f) => f.field.label));
	}
	if (!changes.length) return { operation: 'skipped', reason: SKIP_REASONS.noChanges, id: target.id, name: target.name, changes };
	const body = await session.request<IDataObject>({ method: 'PUT', path: `/api/3/accounts/${target.id}`, body: { account }, itemIndex });
	const updated = (body.account as IDataObject | undefined) ?? { id: target.id, name: account.name ?? target.name };
	session.rememberAccount(updated);
	return { operation: 'updated', id: target.id, name: String(updated.name ?? target.name), changes, after: await afterWrite(session, updated, itemIndex) };
}

/**
 * Account ids by the value of one account field (the link field): all values of the account, paged once per run
 * (the API filters field data by account only).
 */
export async function accountIdsByFieldValue(session: AcSession, fieldId: string, itemIndex?: number): Promise<Map<string, string>> {
	const map = new Map<string, string>();
	for (const d of await acAllByOffset(session.ctx, '/api/3/accountCustomFieldData', 'accountCustomFieldData', {}, { itemIndex })) {
		if (String(d.customFieldId ?? d.accountCustomFieldMetumId) !== String(fieldId)) continue;
		const value = String(d.fieldValue ?? '').trim().toLowerCase();
		const accountId = String(d.accountId ?? d.customerAccountId);
		if (value && !map.has(value)) map.set(value, accountId);
	}
	return map;
}

const linkIndexes = new WeakMap<AcSession, Promise<Map<string, string>>>();

async function linkIndex(session: AcSession, fieldId: string, itemIndex?: number): Promise<Map<string, string>> {
	let index = linkIndexes.get(session);
	if (!index) {
		index = accountIdsByFieldValue(session, fieldId, itemIndex);
		linkIndexes.set(session, index);
		index.catch(() => linkIndexes.delete(session));
	}
	return await index;
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
	const d365Id = item.match.d365Id ?? item.source.id;
	if (!isGuid(d365Id)) throw new NodeOperationError(node, `The sync item has no Dynamics id (match.d365Id): "${d365Id ?? ''}"`, { itemIndex });
	const sourceHash = item.source.hash;
	if (!sourceHash) throw new NodeOperationError(node, 'The sync item has no source hash (source.hash)', { itemIndex });
	const linkValue = d365Id.toLowerCase();
	const record = item.record as IDataObject;
	const name = text(record.name)?.trim() || item.match.name?.trim() || undefined;
	const policy = item.policy.conflict ?? defaults.conflict;
	const hashFields = item.state.targetHashFields;

	const { link: linkField, state: stateField } = await session.accountSyncFields();
	const defs = await session.accountFields();
	const index = await linkIndex(session, linkField.id, itemIndex);

	let target: AccountSnapshot | undefined;
	let matchedBy: string | undefined;
	const linkedId = index.get(linkValue);
	if (linkedId) {
		target = await readAccount(session, linkedId, itemIndex);
		if (target) matchedBy = 'link';
	}
	if (!target && item.match.acId !== undefined && String(item.match.acId) !== '') {
		target = await readAccount(session, String(item.match.acId), itemIndex);
		if (target) matchedBy = 'acId';
	}
	if (!target && name) {
		const found = await session.accountByName(name, itemIndex);
		if (found) {
			target = await readAccount(session, String(found.id), itemIndex);
			if (target) matchedBy = 'name';
		}
	}
	const base: IDataObject = { entity: 'account', d365Id: linkValue, link: linkValue };

	let stored;
	if (target) {
		const currentLink = String(target.fields.get(linkField.id)?.value ?? '').trim().toLowerCase();
		if (currentLink && currentLink !== linkValue) {
			return {
				...base,
				operation: 'skipped',
				reason: `the ActiveCampaign account is linked to another Dynamics account (${currentLink})`,
				id: target.id,
				name: target.name,
				matchedBy,
			};
		}
		stored = parseState(target.fields.get(stateField.id)?.value) ?? item.state.stored ?? undefined;
		const decision = decideSync({
			direction: 'toActiveCampaign',
			policy,
			sourceHash,
			targetHash: accountHash(target, defs, hashFields),
			stored,
			sourceModifiedAt: item.source.modifiedAt ?? undefined,
			targetModifiedAt: target.updatedAt,
		});
		if (decision.action === 'skip') return { ...base, operation: 'skipped', reason: decision.reason, id: target.id, name: target.name, matchedBy };
		if (decision.conflict) base.conflict = `resolved: ${policy}`;
	}

	const rawFields = record.fields && typeof record.fields === 'object' ? (record.fields as IDataObject) : {};
	const desired: DesiredAccount = {
		name,
		accountUrl: text(record.accountUrl),
		fields: (await encodeAccountFields(session, node, Object.entries(rawFields).map(([key, value]) => ({ key, value })), itemIndex)).filter(
			(f) => f.field.id !== linkField.id && f.field.id !== stateField.id,
		),
	};
	const overlay: AccountOverlay = {
		name: desired.name,
		accountUrl: desired.accountUrl,
		fields: new Map(desired.fields.map((f) => [f.field.id, f.value])),
	};
	const acHash = accountHash(target, defs, hashFields, overlay);
	const newState = formatState({ acHash, d365Hash: sourceHash });
	desired.fields.push({ field: linkField, value: linkValue }, { field: stateField, value: newState });

	const result = await writeAccount(session, target, desired, itemIndex);
	let state = newState;
	if (result.after) {
		// Hash of the account as ActiveCampaign returned it; the state is corrected if it stored a value differently.
		const actual = accountHash(result.after, defs, hashFields);
		if (actual !== acHash) {
			state = formatState({ acHash: actual, d365Hash: sourceHash });
			await session.request({
				method: 'PUT',
				path: `/api/3/accounts/${result.id}`,
				body: { account: { fields: [{ customFieldId: Number(stateField.id), fieldValue: state }] } },
				itemIndex,
			});
		}
	}
	index.set(linkValue, result.id);
	const bookkeeping = new Set([linkField.label, stateField.label]);
	const dataChanges = result.changes.filter((c) => !bookkeeping.has(c));
	const out: IDataObject = {
		...base,
		operation: result.operation,
		id: result.id,
		name: result.name,
		matchedBy: matchedBy ?? null,
		changes: dataChanges,
		state,
	};
	if (result.operation !== 'created' && dataChanges.length === 0) {
		out.operation = 'skipped';
		out.reason = SKIP_REASONS.noChanges;
		out.stateRecorded = result.changes.some((c) => bookkeeping.has(c));
	}
	return out;
}

export async function recordAccountState(
	session: AcSession,
	node: INode,
	input: { acId?: string; name?: string; link?: string; state?: string },
	itemIndex: number,
): Promise<IDataObject> {
	const { link: linkField, state: stateField } = await session.accountSyncFields();
	let target: AccountSnapshot | undefined;
	if (input.acId) target = await readAccount(session, input.acId, itemIndex);
	if (!target && input.name) {
		const found = await session.accountByName(input.name, itemIndex);
		if (found) target = await readAccount(session, String(found.id), itemIndex);
	}
	if (!target) {
		throw new NodeOperationError(node, `No ActiveCampaign account ${input.acId ? `with id ${input.acId}` : `named "${input.name ?? ''}"`}`, { itemIndex });
	}
	const fields: IDataObject[] = [];
	if (input.link && String(target.fields.get(linkField.id)?.value ?? '') !== input.link) {
		fields.push({ customFieldId: Number(linkField.id), fieldValue: input.link });
	}
	if (input.state && String(target.fields.get(stateField.id)?.value ?? '') !== input.state) {
		fields.push({ customFieldId: Number(stateField.id), fieldValue: input.state });
	}
	if (!fields.length) return { operation: 'skipped', reason: SKIP_REASONS.noChanges, id: target.id, name: target.name, link: input.link ?? null, state: input.state ?? null };
	await session.request({ method: 'PUT', path: `/api/3/accounts/${target.id}`, body: { account: { fields } }, itemIndex });
	return { operation: 'updated', id: target.id, name: target.name, link: input.link ?? null, state: input.state ?? null };
}
