/**
 * ActiveCampaign records in the shape our nodes emit (docs/DESIGN.md: standard keys, `customFields: [{ id, title,
 * perstag, type, value }]`, `tags`, `accountName`, `jobTitle`), built from what the API returned, optionally with
 * values about to be written laid over them. State hashes are computed on these records with the shared
 * `activeCampaignStateHash`, so the Field Map and this node hash a record the same way.
 */
import type { IDataObject } from 'n8n-workflow';

import { activeCampaignStateHash, type ActiveCampaignCustomField } from '../../shared/sync/records';
import type { ContactSnapshot } from './contactRead';
import type { AccountFieldDef, ContactFieldDef } from './encode';

export interface ContactOverlay {
	email?: string;
	attributes?: Partial<Record<'firstName' | 'lastName' | 'phone', string>>;
	/** field id → encoded value */
	fieldValues?: Map<string, string>;
	accountName?: string;
	jobTitle?: string;
}

/** A contact's standard keys and custom fields (`customFields`), with an optional overlay of values to write. */
export function contactRecord(snapshot: ContactSnapshot | undefined, fields: ContactFieldDef[], overlay: ContactOverlay = {}): IDataObject {
	const values = new Map<string, string | null>();
	for (const [fieldId, fv] of snapshot?.fieldValues ?? []) values.set(fieldId, fv.value);
	for (const [fieldId, value] of overlay.fieldValues ?? []) values.set(fieldId, value);
	const customFields: ActiveCampaignCustomField[] = [];
	for (const [fieldId, value] of values) {
		const field = fields.find((f) => f.id === fieldId);
		customFields.push({ id: fieldId, title: field?.title, perstag: field?.perstag, type: field?.type, value });
	}
	const record: IDataObject = {
		email: overlay.email ?? snapshot?.email ?? null,
		firstName: overlay.attributes?.firstName ?? snapshot?.firstName ?? null,
		lastName: overlay.attributes?.lastName ?? snapshot?.lastName ?? null,
		phone: overlay.attributes?.phone ?? snapshot?.phone ?? null,
		customFields: customFields as unknown as IDataObject[],
	};
	const accountName = overlay.accountName ?? (snapshot?.account === undefined ? undefined : (snapshot.account?.name ?? null));
	const jobTitle = overlay.jobTitle ?? (snapshot?.account === undefined ? undefined : (snapshot.account?.jobTitle ?? null));
	if (accountName !== undefined) record.accountName = accountName;
	if (jobTitle !== undefined) record.jobTitle = jobTitle;
	return record;
}

/** The state hash of a contact over the given keys (standard keys, or custom fields by id, perstag or title). */
export function contactHash(
	snapshot: ContactSnapshot | undefined,
	fields: ContactFieldDef[],
	keys: readonly string[],
	overlay: ContactOverlay = {},
): string {
	return activeCampaignStateHash(contactRecord(snapshot, fields, overlay), keys);
}

export interface AccountSnapshot {
	id: string;
	name: string;
	accountUrl: string;
	updatedAt?: string;
	createdAt?: string;
	raw: Record<string, unknown>;
	/** field id → { datum id, value, currency } */
	fields: Map<string, { id?: string; value: unknown; currency?: string }>;
}

export interface AccountOverlay {
	name?: string;
	accountUrl?: string;
	/** field id → value */
	fields?: Map<string, unknown>;
}

/** An account's standard keys and custom fields (`customFields`, titled by label), with an optional overlay. */
export function accountRecord(snapshot: AccountSnapshot | undefined, fields: AccountFieldDef[], overlay: AccountOverlay = {}): IDataObject {
	const values = new Map<string, { value: unknown; currency?: string }>();
	for (const [fieldId, v] of snapshot?.fields ?? []) values.set(fieldId, { value: v.value, currency: v.currency });
	for (const [fieldId, value] of overlay.fields ?? []) values.set(fieldId, { value, currency: values.get(fieldId)?.currency });
	const customFields: IDataObject[] = [];
	for (const [fieldId, v] of values) {
		const field = fields.find((f) => f.id === fieldId);
		const entry: IDataObject = { id: fieldId, title: field?.label, type: field?.type, value: v.value as IDataObject[string] };
		if (v.currency) entry.currency = v.currency;
		customFields.push(entry);
	}
	return {
		name: overlay.name ?? snapshot?.name ?? null,
		accountUrl: overlay.accountUrl ?? snapshot?.accountUrl ?? null,
		customFields,
	};
}

export function accountHash(
	snapshot: AccountSnapshot | undefined,
	fields: AccountFieldDef[],
	keys: readonly string[],
	overlay: AccountOverlay = {},
): string {
	return activeCampaignStateHash(accountRecord(snapshot, fields, overlay), keys);
}
