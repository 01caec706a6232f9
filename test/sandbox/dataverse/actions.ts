/**
 * The Merge (unbound) and QualifyLead (bound to lead) Web API actions: parameter parsing and the HTTP answers. The
 * work itself is done by Engine.merge and Engine.qualifyLead, which the `/__sandbox/ui/...` control endpoints call too.
 *
 * - Merge: `POST /Merge {"Target":{…},"Subordinate":{…},"UpdateContent":{…},"PerformParentingChecks":false}` → 204.
 *   Target, Subordinate and UpdateContent are `crmbaseentity` parameters, so each needs `@odata.type`.
 * - QualifyLead: `POST /leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead {"CreateAccount":…,"Status":3,…}` → 200
 *   `{"@odata.context":"…$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)","value":[…]}`.
 */
import type { Api, ApiRequest, ApiResponse } from './api';
import type { OpContext } from './engine';
import { errors } from './errors';
import type { TableDef } from './metadata';
import { isGuid } from './odata/filter';
import type { LookupValue, Row } from './store';

const TYPE_PREFIX = 'Microsoft.Dynamics.CRM.';

function readParameters(req: ApiRequest, action: string): Record<string, unknown> {
	const text = req.body.trim();
	if (!text) return {};
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw errors.odata(`The parameters of the action '${action}' could not be read: the request body is not valid JSON.`);
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw errors.odata(`The parameters of the action '${action}' must be sent as a JSON object.`);
	}
	return value as Record<string, unknown>;
}

/** The table named by an entity parameter's `@odata.type` (`Microsoft.Dynamics.CRM.account`, with or without `#`). */
function typeOf(api: Api, value: Record<string, unknown>): TableDef | undefined {
	const type = value['@odata.type'];
	if (type === undefined) return undefined;
	const name = String(type).replace(/^#/, '');
	const logical = name.startsWith(TYPE_PREFIX) ? name.slice(TYPE_PREFIX.length) : name;
	const table = api.engine.schema.table(logical);
	if (!table) throw errors.invalidArgument(`The entity with a name = '${logical}' was not found in the MetadataCache.`);
	return table;
}

/**
 * An entity-typed parameter that identifies a record: `{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"…"}`.
 * Without `@odata.type` the service reads it as a `crmbaseentity`, which has no key ("EdmEntityObject passed should
 * have the key property value set.").
 */
function entityReference(api: Api, params: Record<string, unknown>, name: string, required: boolean): LookupValue | undefined {
	const value = params[name];
	if (value === undefined || value === null) {
		if (required) throw errors.requiredField(name);
		return undefined;
	}
	if (typeof value !== 'object' || Array.isArray(value)) throw errors.entityParameterWithoutKey();
	const record = value as Record<string, unknown>;
	const table = typeOf(api, record);
	if (!table) throw errors.entityParameterWithoutKey();
	const id = record[table.primaryIdAttribute];
	if (typeof id !== 'string' || !isGuid(id)) throw errors.entityParameterWithoutKey();
	return { id: id.toLowerCase(), table: table.logicalName };
}

function booleanParameter(params: Record<string, unknown>, name: string, required: boolean): boolean {
	const value = params[name];
	if (value === undefined || value === null) {
		if (required) throw errors.requiredField(name);
		return false;
	}
	if (typeof value !== 'boolean') throw errors.odata(`Cannot convert the literal '${JSON.stringify(value)}' to the expected type 'Edm.Boolean'.`);
	return value;
}

/** `POST /api/data/v9.2/Merge`: 204 No Content. */
export function mergeAction(api: Api, req: ApiRequest, ctx: OpContext): ApiResponse {
	const params = readParameters(req, 'Merge');
	const target = entityReference(api, params, 'Target', true)!;
	const subordinate = entityReference(api, params, 'Subordinate', true)!;
	if (target.table !== subordinate.table) {
		throw errors.invalidArgument(
			`Merge cannot be performed on records of different entity types: Target is '${target.table}' and Subordinate is '${subordinate.table}'.`,
		);
	}
	const performParentingChecks = booleanParameter(params, 'PerformParentingChecks', true);
	const table = api.engine.schema.table(target.table)!;
	let updateContent: Record<string, unknown> | undefined;
	const content = params.UpdateContent;
	if (content !== undefined && content !== null) {
		if (typeof content !== 'object' || Array.isArray(content)) throw errors.odata("The parameter 'UpdateContent' must be an entity object.");
		const record = content as Record<string, unknown>;
		if (record['@odata.type'] === undefined) {
			// Read as crmbaseentity: none of the table's columns is declared there.
			const first = Object.keys(record).find((k) => !k.startsWith('@'));
			if (first) throw errors.invalidProperty(first.split('@')[0], 'crmbaseentity');
		} else if (typeOf(api, record) !== table) {
			throw errors.invalidArgument(`The UpdateContent of a Merge must be of the Target's type '${table.logicalName}'.`);
		}
		updateContent = record;
	}
	api.engine.merge(table, { targetId: target.id, subordinateId: subordinate.id, updateContent, performParentingChecks }, ctx);
	return api.empty(204);
}

/** `POST /api/data/v9.2/leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead`: 200 with the created records. */
export function qualifyLeadAction(api: Api, lead: Row, req: ApiRequest, ctx: OpContext): ApiResponse {
	const engine = api.engine;
	const params = readParameters(req, 'QualifyLead');
	const createAccount = booleanParameter(params, 'CreateAccount', true);
	const createContact = booleanParameter(params, 'CreateContact', true);
	const createOpportunity = booleanParameter(params, 'CreateOpportunity', true);
	const status = params.Status;
	if (status === undefined || status === null) throw errors.requiredField('Status');
	if (typeof status !== 'number' || !Number.isInteger(status)) {
		throw errors.odata(`Cannot convert the literal '${JSON.stringify(status)}' to the expected type 'Edm.Int32'.`);
	}
	const currency = entityReference(api, params, 'OpportunityCurrencyId', false);
	if (currency && currency.table !== 'transactioncurrency') {
		throw errors.invalidArgument(`OpportunityCurrencyId must be a transactioncurrency, not '${currency.table}'.`);
	}
	const customer = entityReference(api, params, 'OpportunityCustomerId', false);
	if (customer && customer.table !== 'account' && customer.table !== 'contact') {
		throw errors.invalidArgument(`CustomerIdType for opportunity can either be an account or contact, not '${customer.table}'.`);
	}
	for (const ref of [currency, customer]) {
		if (ref && !engine.store.get(ref.table, ref.id)) throw errors.recordNotFound(ref.table, ref.id);
	}
	// Campaigns are not simulated: any SourceCampaignId names a record that does not exist here.
	const campaign = params.SourceCampaignId as Record<string, unknown> | null | undefined;
	if (campaign !== undefined && campaign !== null) {
		const id = typeof campaign === 'object' ? campaign.campaignid : undefined;
		throw errors.recordNotFound('campaign', typeof id === 'string' ? id : '');
	}
	const created = engine.qualifyLead(lead, { createAccount, createContact, createOpportunity, status, opportunityCurrency: currency, opportunityCustomer: customer }, ctx);
	return api.json(200, {
		'@odata.context': `${engine.apiBase}/$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)`,
		value: created.map((row) => {
			const table = engine.schema.table(row.table)!;
			return { '@odata.type': `#${TYPE_PREFIX}${row.table}`, [table.primaryIdAttribute]: row.id };
		}),
	});
}
