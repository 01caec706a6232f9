/* eslint-disable @n8n/community-nodes/no-restricted-imports -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Runs this package's nodes through n8n's own execution engine (n8n-core's WorkflowExecute, PollContext and
 * LoadOptionsContext), with real HTTP to the sandbox. The credentials helper mirrors n8n's CLI one where it matters:
 * defaults and `$self` expressions in credential fields, generic `authenticate` blocks with `$credentials`
 * expressions, `preAuthentication` for expirable tokens (stored back like n8n persists them), and OAuth2 token data.
 */
import {
	ExecutionLifecycleHooks,
	HookContext,
	LoadOptionsContext,
	PollContext,
	WebhookContext,
	WorkflowExecute,
} from 'n8n-core';
import {
	ICredentialsHelper,
	NodeHelpers,
	NodeOperationError,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentialType,
	type ICredentialTestRequest,
	type IDataObject,
	type IHttpRequestHelper,
	type IHttpRequestOptions,
	type INode,
	type IHookFunctions,
	type INodeCredentialsDetails,
	type INodeExecutionData,
	type INodeParameters,
	type INodeProperties,
	type INodeType,
	type INodeTypes,
	type IPollFunctions,
	type IRun,
	type IRunExecutionData,
	type ITriggerFunctions,
	type ITriggerResponse,
	type IVersionedNodeType,
	type IWebhookData,
	type IWebhookFunctions,
	type IWebhookResponseData,
	type IWorkflowExecuteAdditionalData,
	type WorkflowActivateMode,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

export const PACKAGE_NAME = 'n8n-nodes-ac-d365-sync';

type NodeClass = new () => INodeType;
type CredentialClass = new () => ICredentialType;

/** A node that emits the items in its `items` parameter; lets a test feed a workflow without n8n-nodes-base. */
class ItemsSourceNode implements INodeType {
	description = {
		displayName: 'Items',
		name: 'items',
		group: ['input'],
		version: 1,
		description: 'Test items',
		defaults: { name: 'Items' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [{ displayName: 'Items', name: 'items', type: 'json', default: '[]' }],
	} as unknown as INodeType['description'];

	async execute(this: import('n8n-workflow').IExecuteFunctions) {
		const raw = this.getNodeParameter('items', 0) as string | IDataObject[];
		const items = (typeof raw === 'string' ? JSON.parse(raw) : raw) as IDataObject[];
		return [items.map((json, index) => ({ json, pairedItem: { item: 0 }, index }) as INodeExecutionData)];
	}
}

/**
 * Minimal stand-ins for the n8n-nodes-base types our template workflows contain, so a template JSON runs as it is
 * (this package has no n8n-nodes-base). Each behaves as the real node does inside WorkflowExecute:
 * - Schedule Trigger and Manual Trigger are trigger nodes: outside `manual` mode WorkflowExecute passes the items an
 *   execution starts with (what the trigger emitted) through them; in `manual` mode the Manual Trigger emits one
 *   empty item like the real one.
 * - No Operation passes its input through.
 * - Merge (v3) appends its inputs, or waits for both and passes one on (see MergeStandIn).
 * - Edit Fields (Set) outputs the fields it assigns (see SetStandIn).
 * - Sticky Note has no inputs, outputs or execute: WorkflowExecute never reaches it.
 */
const standInDescription = (name: string, displayName: string, group: string[], inputs: string[], outputs: string[], version: number[] = [1]) =>
	({
		displayName,
		name,
		group,
		version,
		description: `${displayName} (test stand-in for n8n-nodes-base.${name})`,
		defaults: { name: displayName },
		inputs,
		outputs,
		properties: [],
	}) as unknown as INodeType['description'];

class ScheduleTriggerStandIn implements INodeType {
	description = standInDescription('scheduleTrigger', 'Schedule Trigger', ['trigger', 'schedule'], [], ['main'], [1, 1.1, 1.2, 1.3]);

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const manualTriggerFunction = async () => {
			const now = new Date();
			this.emit([this.helpers.returnJsonArray([{ timestamp: now.toISOString(), 'Readable date': now.toUTCString() }])]);
		};
		return { manualTriggerFunction };
	}
}

class ManualTriggerStandIn implements INodeType {
	description = standInDescription('manualTrigger', 'Manual Trigger', ['trigger'], [], ['main']);

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const manualTriggerFunction = async () => {
			this.emit([this.helpers.returnJsonArray([{}])]);
		};
		return { manualTriggerFunction };
	}
}

class NoOpStandIn implements INodeType {
	description = standInDescription('noOp', 'No Operation, do nothing', ['organization'], ['main'], ['main']);

	async execute(this: import('n8n-workflow').IExecuteFunctions) {
		return [this.getInputData()];
	}
}

/**
 * Merge v3 in the two modes the templates use, with the real node's `requiredInputs`: "append" (runs once every
 * connected input has data, or — under execution order v1 — once nothing else is left to run, with what it has) and
 * "chooseBranch" / wait for all inputs (runs only when both inputs have data, and passes on one input's items).
 * Inputs: `numberInputs` (default 2; WorkflowExecute counts the connected ones).
 */
class MergeStandIn implements INodeType {
	description = {
		...standInDescription('merge', 'Merge', ['transform'], ['main', 'main', 'main', 'main'], ['main'], [3, 3.1, 3.2]),
		requiredInputs: '={{ $parameter["mode"] === "chooseBranch" ? [0, 1] : 1 }}',
		properties: [
			{ displayName: 'Mode', name: 'mode', type: 'options', options: [{ name: 'Append', value: 'append' }, { name: 'Choose Branch', value: 'chooseBranch' }], default: 'append' },
			{ displayName: 'Number of Inputs', name: 'numberInputs', type: 'number', default: 2 },
			{ displayName: 'Use Data of Input', name: 'useDataOfInput', type: 'number', default: 1 },
		],
	} as unknown as INodeType['description'];

	async execute(this: import('n8n-workflow').IExecuteFunctions) {
		const mode = this.getNodeParameter('mode', 0, 'append') as string;
		const count = this.getNodeParameter('numberInputs', 0, 2) as number;
		const input = (index: number) => {
			try {
				return this.getInputData(index) ?? [];
			} catch {
				return [];
			}
		};
		if (mode === 'chooseBranch') {
			const index = (this.getNodeParameter('useDataOfInput', 0, 1) as number) - 1;
			return [input(index).map((item, i) => ({ json: item.json, pairedItem: { item: i, input: index } }))];
		}
		const out: INodeExecutionData[] = [];
		for (let index = 0; index < count; index++) out.push(...input(index).map((item, i) => ({ json: item.json, pairedItem: { item: i, input: index } })));
		return [out];
	}
}

/**
 * Edit Fields (Set) v3.3+ in the one form the templates use: manual assignments (`assignments.assignments`, each a
 * name, a value and a type), the output holding only the assigned fields, as the real node does by default.
 */
class SetStandIn implements INodeType {
	description = {
		...standInDescription('set', 'Edit Fields (Set)', ['input'], ['main'], ['main'], [3.3, 3.4]),
		properties: [{ displayName: 'Fields to Set', name: 'assignments', type: 'assignmentCollection', default: {} }],
	} as unknown as INodeType['description'];

	async execute(this: import('n8n-workflow').IExecuteFunctions) {
		return [
			this.getInputData().map((_, item) => {
				const { assignments = [] } = this.getNodeParameter('assignments', item, {}) as { assignments?: Array<{ name: string; value: unknown; type?: string }> };
				const json: IDataObject = {};
				for (const a of assignments) {
					json[a.name] = a.type === 'boolean' ? a.value === true || a.value === 'true' : a.type === 'number' ? Number(a.value) : (a.value as IDataObject[string]);
				}
				return { json, pairedItem: { item } };
			}),
		];
	}
}

/** HTML v1.2, Generate HTML Template: the template with each `{{ expression }}` in it evaluated, as `html`. */
class HtmlStandIn implements INodeType {
	description = {
		...standInDescription('html', 'HTML', ['transform'], ['main'], ['main'], [1, 1.1, 1.2]),
		properties: [
			{ displayName: 'Operation', name: 'operation', type: 'options', options: [{ name: 'Generate HTML Template', value: 'generateHtmlTemplate' }], default: 'generateHtmlTemplate' },
			{ displayName: 'HTML Template', name: 'html', type: 'string', default: '', noDataExpression: true },
		],
	} as unknown as INodeType['description'];

	async execute(this: import('n8n-workflow').IExecuteFunctions) {
		return [
			this.getInputData().map((_, item) => {
				let html = this.getNodeParameter('html', item) as string;
				for (const resolvable of html.match(/\{\{[\s\S]*?\}\}/g) ?? []) html = html.replace(resolvable, String(this.evaluateExpression(resolvable, item)));
				return { json: { html }, pairedItem: { item } };
			}),
		];
	}
}

/**
 * If v2.x with the filter conditions the templates use (boolean is true / is false, string equals), combined with
 * "and" or "or": the items that pass go to output 0 ("true"), the others to output 1 ("false").
 */
class IfStandIn implements INodeType {
	description = {
		...standInDescription('if', 'If', ['transform'], ['main'], ['main', 'main'], [2, 2.1, 2.2]),
		properties: [{ displayName: 'Conditions', name: 'conditions', type: 'filter', default: {} }],
	} as unknown as INodeType['description'];

	async execute(this: import('n8n-workflow').IExecuteFunctions) {
		const pass: INodeExecutionData[] = [];
		const fail: INodeExecutionData[] = [];
		this.getInputData().forEach((input, item) => {
			const { conditions = [], combinator = 'and' } = this.getNodeParameter('conditions', item, {}) as {
				conditions?: Array<{ leftValue: unknown; rightValue: unknown; operator: { type: string; operation: string } }>;
				combinator?: string;
			};
			const results = conditions.map(({ leftValue, rightValue, operator }) => {
				const key = `${operator.type}:${operator.operation}`;
				if (key === 'boolean:true') return leftValue === true;
				if (key === 'boolean:false') return leftValue === false;
				if (key === 'string:equals') return String(leftValue) === String(rightValue);
				throw new Error(`If stand-in: operator ${key} is not simulated`);
			});
			const ok = combinator === 'or' ? results.some(Boolean) : results.every(Boolean);
			(ok ? pass : fail).push({ json: input.json, pairedItem: { item } });
		});
		return [pass, fail];
	}
}

/** Stop and Error v1, "Error Message": fails the node, and so the execution, with that message. */
class StopAndErrorStandIn implements INodeType {
	description = {
		...standInDescription('stopAndError', 'Stop and Error', ['input'], ['main'], []),
		properties: [{ displayName: 'Error Message', name: 'errorMessage', type: 'string', default: '' }],
	} as unknown as INodeType['description'];

	async execute(this: import('n8n-workflow').IExecuteFunctions): Promise<INodeExecutionData[][]> {
		throw new NodeOperationError(this.getNode(), this.getNodeParameter('errorMessage', 0) as string);
	}
}

/**
 * Error Trigger: n8n starts an error workflow with one item describing the failed execution; outside `manual` mode
 * WorkflowExecute passes that item (the execution's start data) through, in `manual` mode it emits n8n's sample.
 */
class ErrorTriggerStandIn implements INodeType {
	description = standInDescription('errorTrigger', 'Error Trigger', ['trigger'], [], ['main']);

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const manualTriggerFunction = async () => {
			this.emit([
				this.helpers.returnJsonArray([
					{
						execution: { id: '231', url: 'https://n8n.example.com/execution/231', error: { message: 'Example Error Message' }, lastNodeExecuted: 'Node With Error', mode: 'manual' },
						workflow: { id: '1', name: 'Example Workflow' },
					},
				]),
			]);
		};
		return { manualTriggerFunction };
	}
}

class StickyNoteStandIn implements INodeType {
	description = standInDescription('stickyNote', 'Sticky Note', ['input'], [], []);
}

/** Type names (with the `n8n-nodes-base.` prefix) the harness knows without being given their classes. */
export const STAND_IN_NODE_TYPES = ['scheduleTrigger', 'manualTrigger', 'errorTrigger', 'noOp', 'merge', 'set', 'html', 'if', 'stopAndError', 'stickyNote'].map((n) => `n8n-nodes-base.${n}`);

class HarnessNodeTypes implements INodeTypes {
	private readonly types = new Map<string, INodeType>();

	constructor(nodes: NodeClass[]) {
		this.types.set('harness.items', new ItemsSourceNode());
		this.types.set('n8n-nodes-base.scheduleTrigger', new ScheduleTriggerStandIn());
		this.types.set('n8n-nodes-base.manualTrigger', new ManualTriggerStandIn());
		this.types.set('n8n-nodes-base.noOp', new NoOpStandIn());
		this.types.set('n8n-nodes-base.merge', new MergeStandIn());
		this.types.set('n8n-nodes-base.set', new SetStandIn());
		this.types.set('n8n-nodes-base.html', new HtmlStandIn());
		this.types.set('n8n-nodes-base.if', new IfStandIn());
		this.types.set('n8n-nodes-base.stopAndError', new StopAndErrorStandIn());
		this.types.set('n8n-nodes-base.errorTrigger', new ErrorTriggerStandIn());
		this.types.set('n8n-nodes-base.stickyNote', new StickyNoteStandIn());
		for (const NodeCtor of nodes) {
			const instance = new NodeCtor();
			this.types.set(`${PACKAGE_NAME}.${instance.description.name}`, instance);
		}
	}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		return this.getByNameAndVersion(nodeType);
	}

	getByNameAndVersion(nodeType: string): INodeType {
		const type = this.types.get(nodeType);
		if (!type) throw new Error(`Unknown node type ${nodeType}`);
		return type;
	}

	getKnownTypes() {
		return {};
	}
}

/** Credential types by name, with the inheritance n8n resolves through `extends`. */
class HarnessCredentialTypes {
	private readonly types = new Map<string, ICredentialType>();

	constructor(credentials: CredentialClass[]) {
		for (const CredCtor of credentials) {
			const instance = new CredCtor();
			this.types.set(instance.name, instance);
		}
	}

	get(name: string): ICredentialType | undefined {
		return this.types.get(name);
	}

	getByName(name: string): ICredentialType {
		const type = this.types.get(name);
		if (!type) throw new Error(`Unknown credential type ${name}`);
		return type;
	}

	parentTypes(name: string): string[] {
		const type = this.types.get(name);
		const parents: string[] = [];
		for (const parent of type?.extends ?? []) parents.push(parent, ...this.parentTypes(parent));
		return parents;
	}

	/** All properties, parents first, the child's own taking precedence (as n8n merges them). */
	properties(name: string): INodeProperties[] {
		const type = this.types.get(name);
		if (!type) return [];
		const merged: INodeProperties[] = [];
		for (const parent of type.extends ?? []) NodeHelpers.mergeNodeProperties(merged, this.properties(parent));
		NodeHelpers.mergeNodeProperties(merged, type.properties);
		return merged;
	}
}

/** The subset of n8n's built-in oAuth2Api credential our OAuth2 credential builds on. */
const OAUTH2_API_PROPERTIES: INodeProperties[] = [
	{ displayName: 'Grant Type', name: 'grantType', type: 'options', options: [], default: 'authorizationCode' },
	{ displayName: 'Authorization URL', name: 'authUrl', type: 'string', default: '' },
	{ displayName: 'Access Token URL', name: 'accessTokenUrl', type: 'string', default: '' },
	{ displayName: 'Client ID', name: 'clientId', type: 'string', default: '' },
	{ displayName: 'Client Secret', name: 'clientSecret', type: 'string', default: '' },
	{ displayName: 'Scope', name: 'scope', type: 'string', default: '' },
	{ displayName: 'Auth URI Query Parameters', name: 'authQueryParameters', type: 'string', default: '' },
	{ displayName: 'Authentication', name: 'authentication', type: 'options', options: [], default: 'header' },
	{ displayName: 'oauthTokenData', name: 'oauthTokenData', type: 'json', default: {} },
];

export interface CredentialEvents {
	/** How often each credential type ran `preAuthentication` (token fetches). */
	preAuthentications: Record<string, number>;
	/** Every stored update, as n8n would persist it. */
	updates: Array<{ type: string; data: ICredentialDataDecryptedObject }>;
}

class HarnessCredentialsHelper extends ICredentialsHelper {
	readonly events: CredentialEvents = { preAuthentications: {}, updates: [] };

	constructor(
		private readonly types: HarnessCredentialTypes,
		private readonly store: Record<string, ICredentialDataDecryptedObject>,
	) {
		super();
	}

	getParentTypes(name: string): string[] {
		return name === 'oAuth2Api' ? [] : this.types.parentTypes(name);
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		return this.types.properties(type);
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		const type = this.types.getByName(typeName);
		if (typeof type.authenticate === 'function') return await type.authenticate(credentials, requestOptions);
		if (type.authenticate && type.authenticate.type === 'generic') {
			requestOptions.headers ??= {};
			for (const [outerKey, entries] of Object.entries(type.authenticate.properties)) {
				const target = ((requestOptions as unknown as Record<string, IDataObject>)[outerKey] ??= {});
				for (const [key, value] of Object.entries(entries as IDataObject)) {
					target[resolve(key, credentials, workflow, node)] = resolve(value as string, credentials, workflow, node);
				}
			}
		}
		return requestOptions;
	}

	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		_node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const type = this.types.getByName(typeName);
		const expirable = type.properties.find((p) => p.type === 'hidden' && p.typeOptions?.expirable === true);
		if (!expirable || typeof type.preAuthentication !== 'function') return undefined;
		if (credentials[expirable.name] !== '' && credentials[expirable.name] !== undefined && !credentialsExpired) {
			return undefined;
		}
		const output = await type.preAuthentication.call(helpers, credentials);
		this.events.preAuthentications[typeName] = (this.events.preAuthentications[typeName] ?? 0) + 1;
		if (output[expirable.name] === undefined) return undefined;
		this.store[typeName] = { ...this.store[typeName], ...output } as ICredentialDataDecryptedObject;
		this.events.updates.push({ type: typeName, data: { ...this.store[typeName] } });
		return Object.assign(credentials, output);
	}

	async runPreAuthentication(): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	getOAuth2Options(type: string) {
		for (const name of [type, ...this.types.parentTypes(type)]) {
			const options = (this.types.get(name) as { oauth2?: Record<string, unknown> } | undefined)?.oauth2;
			if (options) return options;
		}
		return undefined;
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const stored = this.store[type];
		if (!stored) throw new Error(`No test credentials of type ${type}`);
		return this.applyDefaults(type, stored);
	}

	/** Applies defaults and resolves `={{ $self[...] }}` expressions, as n8n does before handing credentials over. */
	applyDefaults(type: string, stored: ICredentialDataDecryptedObject): ICredentialDataDecryptedObject {
		const parents = this.types.parentTypes(type);
		const properties = [
			...(parents.includes('oAuth2Api') ? OAUTH2_API_PROPERTIES : []),
			...this.types.properties(type),
		];
		const withDefaults = NodeHelpers.getNodeParameters(
			properties,
			stored as INodeParameters,
			true,
			false,
			null,
			null,
		) as unknown as ICredentialDataDecryptedObject;
		for (const [key, value] of Object.entries(stored)) {
			if (withDefaults[key] === undefined) withDefaults[key] = value;
		}
		const workflow = expressionWorkflow();
		return workflow.expression.getComplexParameterValue(
			MOCK_NODE,
			withDefaults as INodeParameters,
			'internal',
			{},
			undefined,
			undefined,
			withDefaults,
		) as ICredentialDataDecryptedObject;
	}

	async getCredentials(): Promise<never> {
		throw new Error('getCredentials is not used by the harness');
	}

	async updateCredentials(
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.store[type] = { ...data };
		this.events.updates.push({ type, data: { ...data } });
	}

	async updateCredentialsOauthTokenData(
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.store[type] = { ...this.store[type], oauthTokenData: data.oauthTokenData };
		this.events.updates.push({ type, data: { ...this.store[type] } });
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}
}

const MOCK_NODE: INode = {
	id: 'mock',
	name: 'mock',
	type: 'mock',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

function expressionWorkflow(): Workflow {
	return new Workflow({
		nodes: [MOCK_NODE],
		connections: {},
		active: false,
		nodeTypes: {
			getByName: () => ({ description: { properties: [] } }) as unknown as INodeType,
			getByNameAndVersion: () => ({ description: { properties: [] } }) as unknown as INodeType,
			getKnownTypes: () => ({}),
		},
	});
}

function resolve(value: string, credentials: ICredentialDataDecryptedObject, workflow?: Workflow, node?: INode) {
	if (typeof value !== 'string' || !value.startsWith('=')) return value;
	const wf = workflow ?? expressionWorkflow();
	const result = wf.expression.getSimpleParameterValue(
		node ?? MOCK_NODE,
		value,
		'internal',
		{ $credentials: credentials },
		undefined,
		'',
	);
	return result === undefined || result === null ? '' : String(result);
}

export interface NodeSpec {
	/** Node type without the package prefix, e.g. `dynamics365`. */
	type: string;
	name?: string;
	parameters: INodeParameters;
	typeVersion?: number;
	/** Credential type names this node uses (ids and names are filled in). */
	credentials?: string[];
	continueOnFail?: boolean;
	onError?: INode['onError'];
	/** loadOptions only: the parameter being filled, e.g. `parameters.customMappings.mapping[0].field` (for `&sibling` lookups). */
	loadOptionsPath?: string;
}

export interface RunResult {
	/** Output items per output index of the node under test (main outputs). */
	outputs: INodeExecutionData[][];
	/** The node's error, when it failed as a whole. */
	error?: Error & { description?: string; httpCode?: string };
	run: IRun;
}

export interface HarnessOptions {
	nodes: NodeClass[];
	credentialTypes: CredentialClass[];
	/** Decrypted credential data per credential type name. */
	credentials: Record<string, ICredentialDataDecryptedObject>;
}

/**
 * One harness per test file. Static data lives in one blob per harness, like one saved workflow: polls and runs in a
 * mode other than `manual` read it and write it back (n8n saves static data after trigger and CLI executions, never
 * after manual ones).
 */
/** Executions started by harnesses in this process, for their ids. */
let executionCount = 0;

export class N8nHarness {
	readonly nodeTypes: HarnessNodeTypes;
	readonly credentialTypes: HarnessCredentialTypes;
	readonly credentialsHelper: HarnessCredentialsHelper;
	private savedStaticData: IDataObject = {};

	constructor(private readonly options: HarnessOptions) {
		this.nodeTypes = new HarnessNodeTypes(options.nodes);
		this.credentialTypes = new HarnessCredentialTypes(options.credentialTypes);
		this.credentialsHelper = new HarnessCredentialsHelper(this.credentialTypes, options.credentials);
	}

	/** Current stored credential data (after token fetches and refreshes). */
	storedCredentials(type: string): ICredentialDataDecryptedObject | undefined {
		return this.options.credentials[type];
	}

	setCredentials(type: string, data: ICredentialDataDecryptedObject): void {
		this.options.credentials[type] = data;
	}

	toNode(spec: NodeSpec, position: [number, number] = [0, 0]): INode {
		return {
			id: spec.name ?? spec.type,
			name: spec.name ?? spec.type,
			type: `${PACKAGE_NAME}.${spec.type}`,
			typeVersion: spec.typeVersion ?? 1,
			position,
			parameters: spec.parameters,
			credentials: Object.fromEntries(
				(spec.credentials ?? []).map((type) => [type, { id: `${type}-id`, name: `${type} test` }]),
			),
			...(spec.continueOnFail ? { continueOnFail: true } : {}),
			...(spec.onError ? { onError: spec.onError } : {}),
		};
	}

	/** Runs one node with the given input items through WorkflowExecute. */
	async runNode(
		spec: NodeSpec,
		input: Array<IDataObject | INodeExecutionData>,
		mode: WorkflowExecuteMode = 'manual',
	): Promise<RunResult> {
		const node = this.toNode(spec);
		const items: INodeExecutionData[] = input.map((entry) =>
			'json' in entry && typeof entry.json === 'object' ? (entry as INodeExecutionData) : { json: entry as IDataObject },
		);
		const run = await this.execute([node], {}, node, items, mode);
		const taskData = run.data.resultData.runData[node.name]?.[0];
		const outputs = (taskData?.data?.main ?? []).map((out) => out ?? []);
		const error = (taskData?.error ?? run.data.resultData.error) as RunResult['error'];
		return { outputs, error, run };
	}

	/** Runs a workflow (nodes + connections) from its first node, fed with `input` items. */
	async runWorkflow(
		nodes: INode[],
		connections: Workflow['connectionsBySourceNode'],
		input: IDataObject[] = [{}],
		mode: WorkflowExecuteMode = 'manual',
	): Promise<IRun> {
		return await this.execute(nodes, connections, nodes[0], input.map((json) => ({ json })), mode);
	}

	/**
	 * Runs a workflow as an execution that starts at `startNode` with `input` items, the way n8n starts one when a
	 * trigger fires (e.g. a Schedule Trigger in `trigger` mode: the trigger node passes the emitted items on). For
	 * template workflows: give their `nodes` and `connections` as they are in the JSON file.
	 */
	async runFrom(
		nodes: INode[],
		connections: Workflow['connectionsBySourceNode'],
		startNode: string,
		input: IDataObject[] = [{}],
		mode: WorkflowExecuteMode = 'trigger',
	): Promise<IRun> {
		const start = nodes.find((node) => node.name === startNode);
		if (!start) throw new Error(`No node named ${startNode}`);
		return await this.execute(nodes, connections, start, input.map((json) => ({ json })), mode);
	}

	private async execute(
		nodes: INode[],
		connections: Workflow['connectionsBySourceNode'],
		startNode: INode,
		items: INodeExecutionData[],
		mode: WorkflowExecuteMode,
	): Promise<IRun> {
		const persist = mode !== 'manual';
		const workflow = this.workflow(nodes, connections, persist ? jsonClone(this.savedStaticData) : {});
		const hooks = new ExecutionLifecycleHooks(mode, 'test-execution', {
			id: 'test-workflow',
			name: 'test',
			nodes,
			connections,
			active: false,
			activeVersionId: null,
			isArchived: false,
			createdAt: new Date(),
			updatedAt: new Date(),
			settings: {},
		} as never);
		let finish!: (run: IRun) => void;
		const done = new Promise<IRun>((resolve) => (finish = resolve));
		hooks.addHandler('workflowExecuteAfter', (fullRunData) => finish(fullRunData));
		const runExecutionData = {
			resultData: { runData: {} },
			executionData: {
				metadata: {},
				contextData: {},
				waitingExecution: {},
				waitingExecutionSource: null,
				nodeExecutionStack: [{ node: startNode, data: { main: [items] }, source: null }],
			},
		} as unknown as IRunExecutionData;
		const execute = new WorkflowExecute(this.additionalData(hooks), mode, runExecutionData);
		await execute.processRunExecutionData(workflow);
		const run = await done;
		if (persist) this.savedStaticData = jsonClone(workflow.staticData);
		return run;
	}

	/**
	 * Runs a polling trigger's `poll()` once in n8n's PollContext. Static data carries over between calls, as it does
	 * in an active workflow; `manual` mode starts empty and keeps nothing (n8n does not save it then). `budgetMs`
	 * stands in for n8n's poll budget (getPollBudgetMs; 5 minutes by default).
	 */
	async poll(
		spec: NodeSpec,
		mode: 'trigger' | 'manual' = 'trigger',
		activation: WorkflowActivateMode = 'activate',
		budgetMs?: number,
	): Promise<{ items: INodeExecutionData[] | null; staticData: IDataObject }> {
		const node = this.toNode(spec);
		const persist = mode !== 'manual';
		const workflow = this.workflow([node], {}, persist ? jsonClone(this.savedStaticData) : {});
		const hooks = new ExecutionLifecycleHooks(mode, 'poll', { id: 'test-workflow' } as never);
		const context = new PollContext(
			workflow,
			node,
			this.additionalData(hooks),
			mode,
			activation,
			undefined,
			undefined,
			undefined,
			undefined,
			undefined,
			budgetMs === undefined ? undefined : () => budgetMs,
		);
		const type = this.nodeTypes.getByNameAndVersion(node.type);
		const result = await type.poll!.call(context as unknown as IPollFunctions);
		const staticData = jsonClone(workflow.getStaticData('node', node) as IDataObject);
		if (persist) this.savedStaticData = jsonClone(workflow.staticData);
		return { items: result ? result[0] : null, staticData };
	}

	/**
	 * Runs one of a trigger's `webhookMethods` (checkExists / create / delete) in n8n's HookContext, as activation and
	 * deactivation do. Static data carries over like a poll's (the same saved workflow).
	 */
	async webhookMethod(spec: NodeSpec, method: 'checkExists' | 'create' | 'delete'): Promise<boolean> {
		const node = this.toNode(spec);
		const type = this.nodeTypes.getByNameAndVersion(node.type);
		const workflow = this.workflow([node], {}, jsonClone(this.savedStaticData));
		const additionalData = this.additionalData(new ExecutionLifecycleHooks('trigger', 'hook', { id: 'test-workflow' } as never));
		const context = new HookContext(workflow, node, additionalData, 'trigger', 'activate', this.webhookData(type, node, additionalData));
		const fn = type.webhookMethods?.default?.[method];
		if (!fn) throw new Error(`No webhook method ${method}`);
		const result = await fn.call(context as unknown as IHookFunctions);
		this.savedStaticData = jsonClone(workflow.staticData);
		return result;
	}

	/** Delivers one request to a trigger's `webhook()` in n8n's WebhookContext and returns its response data. */
	async webhook(
		spec: NodeSpec,
		request: { body: unknown; headers?: IDataObject; query?: IDataObject },
		/** Receives what the node answered itself (`getResponseObject()`), when it did. */
		answered?: { status?: number; body?: unknown },
	): Promise<IWebhookResponseData> {
		const node = this.toNode(spec);
		const type = this.nodeTypes.getByNameAndVersion(node.type);
		// The static data the activation (webhookMethod) saved, as n8n gives an active workflow's webhooks.
		const workflow = this.workflow([node], {}, jsonClone(this.savedStaticData));
		const additionalData = this.additionalData(new ExecutionLifecycleHooks('trigger', 'webhook', { id: 'test-workflow' } as never));
		const response = {
			status(code: number) {
				if (answered) answered.status = code;
				return response;
			},
			json(body: unknown) {
				if (answered) answered.body = body;
				return response;
			},
			send(body: unknown) {
				if (answered) answered.body = body;
				return response;
			},
			end() {
				return response;
			},
		};
		(additionalData as unknown as { httpResponse: unknown }).httpResponse = response;
		(additionalData as unknown as { httpRequest: unknown }).httpRequest = {
			body: request.body,
			rawBody: typeof request.body === 'string' ? Buffer.from(request.body) : undefined,
			headers: request.headers ?? {},
			query: request.query ?? {},
			params: {},
		};
		const context = new WebhookContext(workflow, node, additionalData, 'trigger', this.webhookData(type, node, additionalData), [], null);
		return await type.webhook!.call(context as unknown as IWebhookFunctions);
	}

	private webhookData(type: INodeType, node: INode, additionalData: IWorkflowExecuteAdditionalData): IWebhookData {
		return {
			httpMethod: 'POST',
			node: node.name,
			path: `test-workflow/${node.name}/webhook`,
			webhookDescription: type.description.webhooks![0],
			workflowId: 'test-workflow',
			workflowExecuteAdditionalData: additionalData,
		} as unknown as IWebhookData;
	}

	/** A copy of the saved static data (the workflow's `global` and `node:<name>` entries), as n8n would have stored it. */
	savedStatic(): IDataObject {
		return jsonClone(this.savedStaticData);
	}

	/** Changes the saved static data in place (e.g. lets time pass for what it schedules), as the next run will see it. */
	updateStatic(update: (data: IDataObject) => void): void {
		update(this.savedStaticData);
	}

	/** Clears saved static data: of one node (by name), or all (a new workflow). */
	resetStaticData(nodeName?: string): void {
		if (nodeName) delete this.savedStaticData[`node:${nodeName}`];
		else this.savedStaticData = {};
	}

	/** Calls a `methods.loadOptions` (or listSearch) function in n8n's LoadOptionsContext. */
	async loadOptions(
		spec: NodeSpec,
		kind: 'loadOptions' | 'listSearch' | 'resourceMapping',
		method: string,
		...args: unknown[]
	): Promise<unknown> {
		const node = this.toNode(spec);
		const workflow = this.workflow([node], {});
		const hooks = new ExecutionLifecycleHooks('manual', 'load-options', { id: 'test-workflow' } as never);
		const additionalData = this.additionalData(hooks);
		additionalData.currentNodeParameters = spec.parameters;
		const context = new LoadOptionsContext(workflow, node, additionalData, spec.loadOptionsPath ?? '');
		const type = this.nodeTypes.getByNameAndVersion(node.type);
		const fn = (type.methods?.[kind] as Record<string, (...a: unknown[]) => Promise<unknown>> | undefined)?.[method];
		if (!fn) throw new Error(`No ${kind} method ${method}`);
		return await fn.call(context, ...args);
	}

	/**
	 * Runs a credential's `test` request the way n8n's credential screen does: preAuthentication first (tests always
	 * fetch a fresh token), then the request with the credential's authentication applied. Returns the outcome as the
	 * screen would show it.
	 */
	async testCredential(type: string): Promise<{ status: 'OK' | 'Error'; message: string }> {
		const credentialType = this.credentialTypes.getByName(type);
		const test = credentialType.test as ICredentialTestRequest | undefined;
		if (!test?.request) return { status: 'Error', message: 'No test request' };
		const credentials = this.credentialsHelper.applyDefaults(type, this.options.credentials[type] ?? {});
		const node: INode = { ...MOCK_NODE, credentials: { [type]: { id: `${type}-id`, name: 'test' } } };
		const workflow = expressionWorkflow();
		const { Container } = await import('@n8n/di');
		const { OutboundHttp } = await import('@n8n/backend-network');
		const http = Container.get(OutboundHttp).requests();
		const helpers: IHttpRequestHelper = {
			helpers: { httpRequest: async (options: IHttpRequestOptions) => await http.request(options) },
		};
		try {
			await this.credentialsHelper.preAuthentication(helpers, credentials, type, node, true);
			const request = test.request;
			const baseURL = resolveTemplate(request.baseURL ?? '', credentials, workflow);
			const url = resolveTemplate(request.url ?? '', credentials, workflow);
			let options: IHttpRequestOptions = {
				method: request.method ?? 'GET',
				url: baseURL ? `${baseURL.replace(/\/$/, '')}/${url.replace(/^\//, '')}` : url,
				headers: { ...(request.headers as IDataObject) },
				json: true,
			};
			options = await this.credentialsHelper.authenticate(credentials, type, options, workflow, node);
			await http.request(options);
			return { status: 'OK', message: 'Connection tested successfully' };
		} catch (error) {
			const e = error as { message?: string; response?: { status?: number } };
			return { status: 'Error', message: `${e.response?.status ?? ''} ${e.message ?? String(error)}`.trim() };
		}
	}

	private workflow(nodes: INode[], connections: Workflow['connectionsBySourceNode'], staticData: IDataObject = {}) {
		return new Workflow({
			id: 'test-workflow',
			name: 'test',
			nodes,
			connections,
			active: false,
			nodeTypes: this.nodeTypes,
			staticData,
			settings: { executionOrder: 'v1' },
		});
	}

	private additionalData(hooks: ExecutionLifecycleHooks): IWorkflowExecuteAdditionalData {
		const unsupported = (name: string) => () => {
			throw new Error(`${name} is not available in the test harness`);
		};
		return {
			credentialsHelper: this.credentialsHelper,
			hooks,
			// Each execution its own id, as n8n gives it (the sync report keeps each execution's tally apart).
			executionId: `harness-${++executionCount}`,
			executeWorkflow: unsupported('executeWorkflow'),
			getRunExecutionData: unsupported('getRunExecutionData'),
			getRuntimeCredential: async () => undefined,
			currentNodeExecutionIndex: 0,
			restApiUrl: 'http://localhost:5678/rest',
			instanceBaseUrl: 'http://localhost:5678',
			formBaseUrl: '',
			formWaitingBaseUrl: '',
			formTestBaseUrl: '',
			webhookBaseUrl: 'http://localhost:5678/webhook',
			webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
			webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
			mcpBaseUrl: '',
			mcpTestBaseUrl: '',
			variables: {},
			logAiEvent: () => undefined,
			startRunnerTask: unsupported('startRunnerTask'),
		} as unknown as IWorkflowExecuteAdditionalData;
	}
}

/** Static data is saved as JSON by n8n; cloning through JSON also drops n8n's observable wrappers. */
function jsonClone<T>(value: T): T {
	return JSON.parse(JSON.stringify(value ?? {})) as T;
}

function resolveTemplate(value: string, credentials: ICredentialDataDecryptedObject, workflow: Workflow): string {
	return resolve(value, credentials, workflow, MOCK_NODE);
}
