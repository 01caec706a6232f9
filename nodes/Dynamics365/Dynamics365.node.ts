import { NodeConnectionTypes, type IExecuteFunctions, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { dynamicsCredentials, nodeProperties } from './actions/descriptions';
import { router } from './actions/router';
import { actionSubtitle } from '../shared/subtitle';
import { listSearch, loadOptions, resourceMapping } from './methods';

export class Dynamics365 implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Dynamics 365',
		name: 'dynamics365',
		icon: { light: 'file:dynamics365.svg', dark: 'file:dynamics365.dark.svg' },
		group: ['transform'],
		version: 1,
		// What the step does, as the Operation list says it; for "Other Table" also the table when it is fixed (not an
		// expression). Never internal values such as "get: otherTable".
		subtitle: actionSubtitle(
			nodeProperties,
			'{{ $parameter["resource"] === "otherTable" && $parameter["table"] && !String($parameter["table"].value || "").startsWith("=") && ($parameter["table"].cachedResultName || $parameter["table"].value) ? " (" + ($parameter["table"].cachedResultName || $parameter["table"].value) + ")" : "" }}',
		),
		description:
			'Create, update (upsert), read and track changes of Dynamics 365 / Dataverse leads, contacts, accounts, opportunities and any other table',
		defaults: { name: 'Dynamics 365' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: dynamicsCredentials,
		properties: nodeProperties,
	};

	methods = { loadOptions, listSearch, resourceMapping };

	async execute(this: IExecuteFunctions) {
		return await router.call(this);
	}
}
