/**
 * Values of a contact or account by the names sync items use (standard attributes, or custom fields by perstag,
 * title or id), before and after a write: what the state hashes are computed over.
 */
import { stateHash } from '../../shared/sync/state';
import type { ContactSnapshot } from './contactRead';
import type { AccountFieldDef, ContactFieldDef } from './encode';
import { findAccountField, findContactField } from './session';
import { hashFieldKey } from './syncItem';

export interface ContactOverlay {
	email?: string;
	attributes?: Partial<Record<'firstName' | 'lastName' | 'phone', string>>;
	/** field id → encoded value */
	fieldValues?: Map<string, string>;
	accountName?: string;
	jobTitle?: string;
}

/** The value of one hash field of a contact, with an optional overlay of values about to be written. */
export function contactValue(
	snapshot: ContactSnapshot | undefined,
	fields: ContactFieldDef[],
	name: string,
	overlay: ContactOverlay = {},
): unknown {
	const key = hashFieldKey(name);
	if (key.standard) {
		switch (key.key) {
			case 'email':
				return overlay.email ?? snapshot?.email ?? null;
			case 'firstName':
			case 'lastName':
			case 'phone':
				return overlay.attributes?.[key.key] ?? snapshot?.[key.key] ?? null;
			case 'accountName':
				return overlay.accountName ?? snapshot?.account?.name ?? null;
			case 'jobTitle':
				return overlay.jobTitle ?? snapshot?.account?.jobTitle ?? null;
			default:
				return null;
		}
	}
	const field = findContactField(fields, key.key);
	if (!field) return null;
	if (overlay.fieldValues?.has(field.id)) return overlay.fieldValues.get(field.id);
	return snapshot?.fieldValues.get(field.id)?.value ?? null;
}

/** The state hash of a contact over the given field names. */
export function contactHash(
	snapshot: ContactSnapshot | undefined,
	fields: ContactFieldDef[],
	names: readonly string[],
	overlay: ContactOverlay = {},
): string {
	const values: Record<string, unknown> = {};
	for (const name of names) values[name] = contactValue(snapshot, fields, name, overlay);
	return stateHash(values, names);
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

export function accountValue(snapshot: AccountSnapshot | undefined, fields: AccountFieldDef[], name: string, overlay: AccountOverlay = {}): unknown {
	const key = hashFieldKey(name);
	if (key.standard) {
		if (key.key === 'name') return overlay.name ?? snapshot?.name ?? null;
		if (key.key === 'accountUrl') return overlay.accountUrl ?? snapshot?.accountUrl ?? null;
		return null;
	}
	const field = findAccountField(fields, key.key);
	if (!field) return null;
	if (overlay.fields?.has(field.id)) return overlay.fields.get(field.id);
	return snapshot?.fields.get(field.id)?.value ?? null;
}

export function accountHash(
	snapshot: AccountSnapshot | undefined,
	fields: AccountFieldDef[],
	names: readonly string[],
	overlay: AccountOverlay = {},
): string {
	const values: Record<string, unknown> = {};
	for (const name of names) values[name] = accountValue(snapshot, fields, name, overlay);
	return stateHash(values, names);
}
