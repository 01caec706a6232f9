import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { tallyOutcomes } from '../shared/report';
import type { SyncDirection } from '../shared/sync/decide';
import { mapRecord, prepareMapping, type PreparedMapping } from '../shared/sync/mapRecord';
import {
	KNOWN_REQUIRED_COLUMNS,
	missingRequired,
	resolvePairs,
	type MappingDefinition,
} from '../shared/sync/mapping';
import { definitionFromParameters, expectEntity } from './definition';
import { properties } from './description';
import {
	getActiveCampaignCriteriaFields,
	getCompatibleActiveCampaignFields,
	getDynamicsColumnNames,
	getDynamicsColumns,
	getStandardFields,
} from './methods/loadOptions';
import { dynamicsAuthentication, dynamicsColumns } from './methods/metadata';

export class AcD365FieldMap implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'AC-D365 Field Map',
		name: 'acD365FieldMap',
		icon: { light: 'file:fieldmap.svg', dark: 'file:fieldmap.dark.svg' },
		group: ['transform'],
		version: 1,
		// Short enough to be read whole under the node on the canvas: the entity and where this step writes it.
		subtitle:
			'={{ ({ lead: "Leads", contact: "Contacts", account: "Accounts", opportunity: "Opportunities" }[$parameter["entity"]] || $parameter["entity"]) + ($parameter["step"] === "toDynamics" && $parameter["entity"] !== "opportunity" ? " → Dynamics" : " → ActiveCampaign") }}',
		description:
			'Maps records between ActiveCampaign and Dynamics 365: directions, scope, standard and custom field mappings, type conversion',
		defaults: { name: 'Field Map' },
		// Not offered as an AI-agent tool: it is a step of a sync workflow (it maps the records a read step gives it),
		// nothing an agent could call on its own. n8n makes a tool of a node only when this is set.
		usableAsTool: undefined,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Mapped', 'Skipped'],
		credentials: [
			{ name: 'activeCampaignSyncApi', required: false },
			{
				name: 'dynamics365ClientCredentialsApi',
				required: false,
				displayOptions: { show: { dynamicsAuthentication: ['clientCredentials'] } },
			},
			{
				name: 'dynamics365OAuth2Api',
				required: false,
				displayOptions: { show: { dynamicsAuthentication: ['oAuth2'] } },
			},
		],
		properties,
	};

	methods = {
		loadOptions: {
			getStandardFields,
			getDynamicsColumns,
			getDynamicsColumnNames,
			getCompatibleActiveCampaignFields,
			getActiveCampaignCriteriaFields,
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const mapped: INodeExecutionData[] = [];
		const skipped: INodeExecutionData[] = [];
		if (items.length === 0) return [mapped, skipped];

		const prepared = await prepare(this);
		// For the sync report (nodes/shared/report.ts): records this step skipped or could not map.
		const reported: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			const outcome = mapRecord(prepared, items[i].json);
			if (outcome.kind === 'mapped') {
				mapped.push({ json: outcome.item, pairedItem: { item: i } });
			} else if (outcome.kind === 'skipped') {
				skipped.push({ json: { ...items[i].json, skipReason: outcome.reason }, pairedItem: { item: i } });
				if (!outcome.elsewhere) reported.push({ json: { operation: 'skipped', reason: outcome.reason }, pairedItem: { item: i } });
			} else {
				const error = new NodeOperationError(this.getNode(), outcome.message, {
					itemIndex: i,
					description: outcome.problems.join('\n'),
				});
				if (!this.continueOnFail()) throw error;
				// `error` on the item is what n8n routes to the error output ("On Error: Continue (using error output)").
				mapped.push({
					json: { ...items[i].json, error: outcome.message, problems: outcome.problems },
					error,
					pairedItem: { item: i },
				});
				reported.push({ json: { error: outcome.message }, error, pairedItem: { item: i } });
			}
		}
		// Records merged away in Dynamics first: their ActiveCampaign twins move to the master before the master's
		// own item looks for one.
		const entity = this.getNodeParameter('entity', 0) as string;
		const step = entity === 'opportunity' ? 'toActiveCampaign' : (this.getNodeParameter('step', 0) as 'toActiveCampaign' | 'toDynamics');
		tallyOutcomes(this, { entity, direction: step }, reported);
		const merged = mapped.filter((entry) => !entry.error && (entry.json.match as IDataObject | undefined)?.mergedInto);
		const others = mapped.filter((entry) => !merged.includes(entry));
		return [[...merged, ...others], skipped];
	}
}

/** Reads and checks the definition once per run (the mapping is configuration, not per-item data). */
async function prepare(context: IExecuteFunctions): Promise<PreparedMapping> {
	const source = context.getNodeParameter('mappingSource', 0) as string;
	const entity = context.getNodeParameter('entity', 0) as MappingDefinition['entity'];
	const step = (entity === 'opportunity' ? 'toActiveCampaign' : context.getNodeParameter('step', 0)) as SyncDirection;
	const parsed = attempt(() => {
		let params: IDataObject;
		if (source === 'node') {
			// The other step's parameters, as n8n resolves `$('<name>').params` (defaults included).
			const name = String(context.getNodeParameter('definitionNode', 0, '')).trim();
			const missing = `there is no step "${name}" in this workflow: name the Field Map step whose mapping this step uses under "Mapping Defined In"`;
			if (!name) throw new NodeOperationError(context.getNode(), missing);
			let other: unknown;
			try {
				other = context.evaluateExpression(`{{ $(${JSON.stringify(name)}).params }}`, 0);
			} catch {
				throw new NodeOperationError(context.getNode(), missing);
			}
			if (!other || typeof other !== 'object') throw new NodeOperationError(context.getNode(), missing);
			params = other as IDataObject;
		} else if (source === 'otherNode') {
			const other = context.getNodeParameter('definitionFrom', 0) as IDataObject | string;
			params = (typeof other === 'string' ? JSON.parse(other) : other) ?? {};
		} else {
			params = resolvedParameters(context);
		}
		const definition = definitionFromParameters(params);
		if (source !== 'here') expectEntity(definition, entity);
		return prepareMapping(definition, resolvePairs(definition), step);
	});
	if (!parsed.ok) throw new NodeOperationError(context.getNode(), `Field Map configuration: ${parsed.message}`);
	const prepared = parsed.value;
	const { definition } = prepared;
	if (step === 'toDynamics' && prepared.stepPairs.length) {
		const required = await requiredColumns(context, definition);
		const missing = missingRequired(definition, prepared.stepPairs, required);
		if (missing.length) {
			throw new NodeOperationError(
				context.getNode(),
				`Field Map configuration: required Dynamics ${definition.entity} columns are neither mapped nor defaulted: ${missing.join(', ')}. Map them or add them under "Defaults for Required Dynamics Columns".`,
			);
		}
	}
	return prepared;
}

function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; message: string } {
	try {
		return { ok: true, value: fn() };
	} catch (error) {
		return { ok: false, message: error instanceof Error ? error.message : String(error) };
	}
}

function resolvedParameters(context: IExecuteFunctions): IDataObject {
	const names = [
		'mappingSource',
		'mappingJson',
		'entity',
		'syncDirection',
		'standardOverrides',
		'customMappings',
		'scope',
		'dynamicsCriteria',
		'activeCampaignCriteria',
		'requiredDefaults',
		'options',
	];
	const params: IDataObject = {};
	for (const name of names) {
		// Parameters hidden for this configuration are absent; a null fallback keeps n8n from throwing.
		const value = context.getNodeParameter(name, 0, null) as IDataObject[string];
		if (value !== null) params[name] = value;
	}
	return params;
}

/** ApplicationRequired columns, from live metadata when Dynamics is connected, else the standard tables' known ones. */
async function requiredColumns(context: IExecuteFunctions, definition: MappingDefinition): Promise<string[]> {
	if (!dynamicsAuthentication(context)) return KNOWN_REQUIRED_COLUMNS[definition.entity];
	const columns = await dynamicsColumns(context, definition.entity);
	const required = columns.filter((c) => c.required).map((c) => c.name);
	return required.length ? required : KNOWN_REQUIRED_COLUMNS[definition.entity];
}
