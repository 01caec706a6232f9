/** Accounts, account-contact associations and account custom fields (meta and data). */
import { json, type Router, type SandboxRequest, type SandboxResponse } from '../../core/http';
import { bodyJson } from '../../core/http';
import type { AcContext } from '../context';
import { asString, envelope, errors, fieldError, noResult, page } from '../respond';
import type { AccountFieldInput } from '../service';
import { toId, type Account, type AccountFieldType } from '../state';

const ACCOUNT_FIELD_TYPES: AccountFieldType[] = [
	'text',
	'textarea',
	'date',
	'datetime',
	'dropdown',
	'multiselect',
	'radio',
	'checkbox',
	'hidden',
	'currency',
	'number',
];

const notFound = () => errors(404, [{ status: 404, title: 'Not Found' }]);

function duplicateAccount(name: string): SandboxResponse {
	return fieldError(`An account named "${name}" already exists. Please choose a new name.`, 'duplicate', 'name');
}

export function registerAccountRoutes(router: Router, ctx: AcContext): void {

	/** Reads `fields: [{customFieldId, fieldValue, fieldCurrency}]`; an error when a field does not exist. */
	const readFields = (raw: unknown): { fields: AccountFieldInput[]; error?: SandboxResponse } => {
		const fields: AccountFieldInput[] = [];
		if (raw === undefined || raw === null) return { fields };
		if (!Array.isArray(raw)) return { fields, error: fieldError('fields must be an array.', 'field_invalid', 'fields') };
		for (const item of raw) {
			const entry = (item ?? {}) as Record<string, unknown>;
			const fieldId = toId(entry.customFieldId);
			const meta = fieldId === undefined ? undefined : ctx.state.accountFieldMeta.rows.get(fieldId);
			if (!meta) {
				return {
					fields,
					error: fieldError(`Custom field ${String(entry.customFieldId)} does not exist.`, 'field_invalid', 'fields'),
				};
			}
			fields.push({ fieldId: meta.id, value: normalizeValue(meta.fieldType, entry.fieldValue), currency: asString(entry.fieldCurrency) ?? null });
		}
		return { fields };
	};

	router.post('/api/3/accounts', (req) => {
		const body = envelope(req, 'account');
		const name = asString(body?.name)?.trim();
		if (!name) return fieldError('The account name was not provided.', 'field_missing', 'name');
		if (ctx.state.accountByName(name)) return duplicateAccount(name);
		const { fields, error } = readFields(body?.fields);
		if (error) return error;
		const account = ctx.service.createAccount(name, asString(body?.accountUrl) ?? null, toId(body?.owner) ?? 1, fields, 'api');
		return json(201, { account: ctx.ser.account(account, { fields: true }) });
	});

	router.get('/api/3/accounts', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		let rows = ctx.state.accounts.values();
		const search = req.query.get('search');
		if (search) rows = rows.filter((a) => a.name.toLowerCase().includes(search.trim().toLowerCase()));
		const counts = req.query.get('count_deals') === 'true';
		return json(200, {
			accounts: rows.slice(offset, offset + limit).map((a) => ctx.ser.account(a, { counts })),
			meta: { total: String(rows.length) },
		});
	});

	// Registered before /accounts/:id so the literal segment wins.
	router.delete('/api/3/accounts/bulk_delete', (req) => {
		const ids = [...req.query.getAll('ids[]'), ...req.query.getAll('[]ids'), ...req.query.getAll('ids')]
			.flatMap((v) => v.split(','))
			.map(toId)
			.filter((n): n is number => n !== undefined);
		for (const id of ids) {
			const account = ctx.state.accounts.rows.get(id);
			if (account) ctx.service.deleteAccount(account);
		}
		return json(200, { meta: { success: true } });
	});

	router.get('/api/3/accounts/:id', (req) => {
		const account = ctx.state.accounts.get(req.params.id);
		if (!account) return noResult('Account', req.params.id);
		return json(200, { account: ctx.ser.account(account) });
	});

	router.put('/api/3/accounts/:id', (req) => {
		const account = ctx.state.accounts.get(req.params.id);
		if (!account) return noResult('Account', req.params.id);
		const body = envelope(req, 'account') ?? {};
		const name = asString(body.name)?.trim();
		if (name) {
			const other = ctx.state.accountByName(name);
			if (other && other.id !== account.id) return duplicateAccount(name);
		}
		const { fields, error } = readFields(body.fields);
		if (error) return error;
		let fieldsChanged = false;
		for (const f of fields) if (ctx.service.writeAccountFieldValue(account.id, f.fieldId, f.value, f.currency).changed) fieldsChanged = true;
		ctx.service.updateAccount(
			account,
			{
				name: name || undefined,
				accountUrl: body.accountUrl === undefined ? undefined : (asString(body.accountUrl) ?? null),
				owner: toId(body.owner),
			},
			fieldsChanged,
			'api',
		);
		return json(200, { account: ctx.ser.account(account, { fields: true }) });
	});

	router.delete('/api/3/accounts/:id', (req) => {
		const account = ctx.state.accounts.get(req.params.id);
		if (!account) return noResult('Account', req.params.id);
		ctx.service.deleteAccount(account);
		return json(200, {});
	});

	router.get('/api/3/accounts/:id/accountContacts', (req) => {
		const account = ctx.state.accounts.get(req.params.id);
		if (!account) return noResult('Account', req.params.id);
		return json(200, {
			accountContacts: ctx.state.accountContactsByAccount
				.get(account.id)
				.map((id) => ctx.ser.accountContact(ctx.state.accountContacts.rows.get(id)!)),
		});
	});

	router.get('/api/3/accounts/:id/accountCustomFieldData', (req) => {
		const account = ctx.state.accounts.get(req.params.id);
		if (!account) return noResult('Account', req.params.id);
		return json(200, {
			accountCustomFieldData: ctx.state.accountFieldData
				.values()
				.filter((d) => d.accountId === account.id)
				.map((d) => ctx.ser.accountFieldDatum(d)),
		});
	});

	// ------------------------------------------------------------- account contacts

	router.post('/api/3/accountContacts', (req) => {
		const body = envelope(req, 'accountContact');
		if (body?.account === undefined || body.account === null || body.account === '') {
			return fieldError('The account attribute was not provided', 'field_missing', 'account');
		}
		if (body.contact === undefined || body.contact === null || body.contact === '') {
			return fieldError('The contact attribute was not provided', 'field_missing', 'contact');
		}
		const account = ctx.state.accounts.get(body.account);
		if (!account) return fieldError('The related account does not exist.', 'related_missing', 'account');
		const contact = ctx.state.contacts.get(body.contact);
		if (!contact) return fieldError('The related contact does not exist.', 'related_missing', 'contact');
		if (ctx.state.accountContactOf(contact.id)) {
			return fieldError(
				'This contact is already associated with an account. We currently do not support contacts on multiple accounts.',
				'field_invalid',
				'account,contact',
			);
		}
		const ac = ctx.service.addAccountContact(contact.id, account.id, asString(body.jobTitle) ?? '', 'api');
		return json(201, { accountContact: ctx.ser.accountContact(ac) });
	});

	router.get('/api/3/accountContacts', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		const contact = req.query.get('filters[contact]');
		const account = req.query.get('filters[account]');
		const rows = ctx.state.accountContacts
			.values()
			.filter((ac) => (contact ? String(ac.contact) === contact.trim() : true))
			.filter((ac) => (account ? String(ac.account) === account.trim() : true));
		return json(200, {
			accountContacts: rows.slice(offset, offset + limit).map((ac) => ctx.ser.accountContact(ac)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/accountContacts/:id', (req) => {
		const ac = ctx.state.accountContacts.get(req.params.id);
		if (!ac) return noResult('CustomerAccountSubscriber', req.params.id);
		return json(200, { accountContact: ctx.ser.accountContact(ac) });
	});

	router.put('/api/3/accountContacts/:id', (req) => {
		const ac = ctx.state.accountContacts.get(req.params.id);
		if (!ac) return noResult('CustomerAccountSubscriber', req.params.id);
		const body = envelope(req, 'accountContact') ?? {};
		let accountId: number | undefined;
		if (body.account !== undefined) {
			const account = ctx.state.accounts.get(body.account);
			if (!account) return fieldError('The related account does not exist.', 'related_missing', 'account');
			accountId = account.id;
		}
		if (body.contact !== undefined && toId(body.contact) !== ac.contact) {
			return fieldError('The contact of an association cannot be changed.', 'field_invalid', 'contact');
		}
		ctx.service.updateAccountContact(ac, { jobTitle: asString(body.jobTitle), account: accountId }, 'api');
		return json(200, { accountContact: ctx.ser.accountContact(ac) });
	});

	router.delete('/api/3/accountContacts/:id', (req) => {
		const ac = ctx.state.accountContacts.get(req.params.id);
		if (!ac) return noResult('CustomerAccountSubscriber', req.params.id);
		ctx.service.removeAccountContact(ac);
		return json(200, {});
	});

	// ------------------------------------------------------------- custom field meta

	router.post('/api/3/accountCustomFieldMeta', (req) => {
		const body = envelope(req, 'accountCustomFieldMetum');
		const label = asString(body?.fieldLabel)?.trim();
		const type = asString(body?.fieldType);
		if (!label) return errors(422, [{ title: 'The field label field is required.', detail: '', code: '422' }]);
		if (!type) return errors(422, [{ title: 'The field type field is required.', detail: '', code: '422' }]);
		if (!ACCOUNT_FIELD_TYPES.includes(type as AccountFieldType)) {
			return errors(422, [{ title: `The selected field type is invalid.`, detail: '', code: '422' }]);
		}
		if (ctx.state.accountFieldMeta.values().some((m) => m.fieldLabel.toLowerCase() === label.toLowerCase())) {
			return errors(422, [{ title: 'A field with this label already exists.', detail: '', code: '422' }]);
		}
		const at = ctx.now();
		const options = Array.isArray(body?.fieldOptions) ? (body.fieldOptions as unknown[]).map((o) => String(o)) : null;
		const meta = ctx.state.accountFieldMeta.insert({
			fieldLabel: label,
			fieldType: type as AccountFieldType,
			fieldOptions: options,
			fieldDefault: body?.fieldDefault ?? null,
			fieldDefaultCurrency: asString(body?.fieldDefaultCurrency) ?? (type === 'currency' ? 'usd' : null),
			isFormVisible: Number(body?.isFormVisible ?? 0) ? 1 : 0,
			isRequired: Number(body?.isRequired ?? 0) ? 1 : 0,
			displayOrder: Number(body?.displayOrder ?? ctx.state.accountFieldMeta.size + 1) || 0,
			createdTimestamp: at,
			updatedTimestamp: at,
		});
		// Documented as 200.
		return json(200, { accountCustomFieldMetum: ctx.ser.accountFieldMeta(meta) });
	});

	router.get('/api/3/accountCustomFieldMeta', (req) => {
		const { limit, offset } = page(req, 100, ctx.settings.maxLimit);
		const rows = ctx.state.accountFieldMeta.values();
		return json(200, {
			accountCustomFieldMeta: rows.slice(offset, offset + limit).map((m) => ctx.ser.accountFieldMeta(m)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/accountCustomFieldMeta/:id', (req) => {
		const meta = ctx.state.accountFieldMeta.get(req.params.id);
		if (!meta) return notFound();
		return json(200, { accountCustomFieldMetum: ctx.ser.accountFieldMeta(meta) });
	});

	router.put('/api/3/accountCustomFieldMeta/:id', (req) => {
		const meta = ctx.state.accountFieldMeta.get(req.params.id);
		if (!meta) return notFound();
		const body = envelope(req, 'accountCustomFieldMetum') ?? {};
		const label = asString(body.fieldLabel)?.trim();
		if (label) meta.fieldLabel = label;
		if (Array.isArray(body.fieldOptions)) meta.fieldOptions = (body.fieldOptions as unknown[]).map((o) => String(o));
		if (body.fieldDefault !== undefined) meta.fieldDefault = body.fieldDefault;
		if (body.isFormVisible !== undefined) meta.isFormVisible = Number(body.isFormVisible) ? 1 : 0;
		if (body.isRequired !== undefined) meta.isRequired = Number(body.isRequired) ? 1 : 0;
		if (body.displayOrder !== undefined) meta.displayOrder = Number(body.displayOrder) || meta.displayOrder;
		meta.updatedTimestamp = ctx.now();
		return json(200, { accountCustomFieldMetum: ctx.ser.accountFieldMeta(meta) });
	});

	router.delete('/api/3/accountCustomFieldMeta/:id', (req) => {
		const meta = ctx.state.accountFieldMeta.get(req.params.id);
		if (!meta) return notFound();
		for (const d of ctx.state.accountFieldData.values()) if (d.customFieldId === meta.id) ctx.state.accountFieldData.delete(d.id);
		ctx.state.accountFieldMeta.delete(meta.id);
		return json(200, { message: 'AccountCustomFieldMeta deleted.' });
	});

	// ------------------------------------------------------------- custom field data

	/** Validates one datum and writes it; bumps the account and fires `account_update` when it changed. */
	const writeDatum = (entry: Record<string, unknown>): { id?: number; error?: SandboxResponse } => {
		const account = ctx.state.accounts.get(entry.customerAccountId ?? entry.accountId);
		if (!account) return { error: fieldError('The related account does not exist.', 'related_missing', 'customerAccountId') };
		const meta = ctx.state.accountFieldMeta.get(entry.customFieldId);
		if (!meta) return { error: fieldError('The related custom field does not exist.', 'related_missing', 'customFieldId') };
		if (entry.fieldValue === undefined) return { error: fieldError('The field value was not provided.', 'field_missing', 'fieldValue') };
		const { changed, datumId } = ctx.service.writeAccountFieldValue(
			account.id,
			meta.id,
			normalizeValue(meta.fieldType, entry.fieldValue),
			asString(entry.fieldCurrency) ?? null,
		);
		if (changed) ctx.service.updateAccount(account, {}, true, 'api');
		return { id: datumId };
	};

	const arrayBody = (req: SandboxRequest): Array<Record<string, unknown>> | undefined => {
		const body = bodyJson<unknown>(req);
		return Array.isArray(body) ? (body as Array<Record<string, unknown>>) : undefined;
	};

	router.post('/api/3/accountCustomFieldData/bulkCreate', (req) => {
		const items = arrayBody(req);
		if (!items) return errors(422, [{ title: 'The request body must be an array of field values.', detail: '', code: '422' }]);
		for (const item of items) {
			const { error } = writeDatum(item ?? {});
			if (error) return error;
		}
		return json(200, { message: 'the bulk insert was successful' });
	});

	router.patch('/api/3/accountCustomFieldData/bulkUpdate', (req) => {
		const items = arrayBody(req);
		if (!items) return errors(422, [{ title: 'The request body must be an array of field values.', detail: '', code: '422' }]);
		const ids: string[] = [];
		for (const item of items) {
			const datum = ctx.state.accountFieldData.get(item?.id);
			if (!datum) return notFound();
			const { error } = writeDatum({ ...item, accountId: datum.accountId, customFieldId: datum.customFieldId });
			if (error) return error;
			ids.push(String(datum.id));
		}
		return json(200, { message: `AccountCustomFieldDatas with ID(s): ${ids.join(', ')} successfully bulk updated.` });
	});

	router.post('/api/3/accountCustomFieldData', (req) => {
		const body = envelope(req, 'accountCustomFieldDatum');
		if (!body) return fieldError('The field value was not provided.', 'field_missing', 'accountCustomFieldDatum');
		const { id, error } = writeDatum(body);
		if (error) return error;
		return json(200, { accountCustomFieldDatum: ctx.ser.accountFieldDatum(ctx.state.accountFieldData.rows.get(id!)!) });
	});

	router.get('/api/3/accountCustomFieldData', (req) => {
		const { limit, offset } = page(req, ctx.settings.defaultLimit, ctx.settings.maxLimit);
		const account = req.query.get('filters[customerAccountId]');
		const rows = ctx.state.accountFieldData.values().filter((d) => (account ? String(d.accountId) === account.trim() : true));
		return json(200, {
			accountCustomFieldData: rows.slice(offset, offset + limit).map((d) => ctx.ser.accountFieldDatum(d)),
			meta: { total: String(rows.length) },
		});
	});

	router.get('/api/3/accountCustomFieldData/:id', (req) => {
		const datum = ctx.state.accountFieldData.get(req.params.id);
		if (!datum) return notFound();
		return json(200, { accountCustomFieldDatum: ctx.ser.accountFieldDatum(datum) });
	});

	router.put('/api/3/accountCustomFieldData/:id', (req) => {
		const datum = ctx.state.accountFieldData.get(req.params.id);
		if (!datum) return notFound();
		const body = envelope(req, 'accountCustomFieldDatum') ?? {};
		const { error } = writeDatum({ ...body, accountId: datum.accountId, customFieldId: datum.customFieldId });
		if (error) return error;
		return json(200, { accountCustomFieldDatum: ctx.ser.accountFieldDatum(datum) });
	});

	router.delete('/api/3/accountCustomFieldData/:id', (req) => {
		const datum = ctx.state.accountFieldData.get(req.params.id);
		if (!datum) return notFound();
		ctx.state.accountFieldData.delete(datum.id);
		const account: Account | undefined = ctx.state.accounts.rows.get(datum.accountId);
		if (account) ctx.service.updateAccount(account, {}, true, 'api');
		return json(200, { message: 'AccountCustomFieldData deleted.' });
	});
}

/** Currency and number values become numbers when they look like one; multiselect values stay arrays. */
function normalizeValue(type: AccountFieldType, value: unknown): unknown {
	if ((type === 'currency' || type === 'number') && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) {
		return Number(value);
	}
	if ((type === 'multiselect' || type === 'checkbox') && typeof value === 'string' && value.startsWith('||')) {
		return value.split('||').filter((v) => v !== '');
	}
	return value;
}
