/**
 * Table and column definitions: the one source of truth for validation, serialisation, query binding and the
 * metadata API (EntityDefinitions). Values follow the Dynamics 365 Sales entity reference where it gives them.
 */
import { createHash } from 'node:crypto';

export type AttributeType =
	| 'String'
	| 'Memo'
	| 'Integer'
	| 'BigInt'
	| 'Decimal'
	| 'Double'
	| 'Money'
	| 'Boolean'
	| 'DateTime'
	| 'Lookup'
	| 'Customer'
	| 'Owner'
	| 'Picklist'
	| 'State'
	| 'Status'
	| 'Uniqueidentifier'
	| 'Virtual'
	| 'EntityName';

export type RequiredLevel = 'None' | 'SystemRequired' | 'ApplicationRequired' | 'Recommended';

export interface OptionDef {
	value: number;
	label: string;
	/** Status options: the state they belong to. */
	state?: number;
	/** State options: their default status and invariant name. */
	defaultStatus?: number;
	invariantName?: string;
}

export interface ColumnDef {
	logicalName: string;
	schemaName: string;
	displayName: string;
	type: AttributeType;
	/** AttributeTypeName/Value, e.g. StringType, MultiSelectPicklistType. */
	typeName: string;
	requiredLevel: RequiredLevel;
	validForCreate: boolean;
	validForUpdate: boolean;
	validForRead: boolean;
	isCustom: boolean;
	isPrimaryId?: boolean;
	isPrimaryName?: boolean;
	maxLength?: number;
	/** String: Text, Email, Url, Phone, TextArea; DateTime: DateOnly, DateAndTime. */
	format?: string;
	dateBehavior?: 'UserLocal' | 'DateOnly' | 'TimeZoneIndependent';
	options?: OptionDef[];
	optionSetName?: string;
	isGlobalOptionSet?: boolean;
	trueLabel?: string;
	falseLabel?: string;
	defaultBoolean?: boolean;
	multiSelect?: boolean;
	/** Lookups: target tables, and the relationship schema name per target. */
	targets?: string[];
	relationships?: Record<string, string>;
	precision?: number;
	minValue?: number;
	maxValue?: number;
	/** Computed read-only columns (fullname, *_base, objecttypecode). */
	computed?: boolean;
	metadataId: string;
}

export interface AlternateKeyDef {
	logicalName: string;
	schemaName: string;
	keyAttributes: string[];
	metadataId: string;
}

export interface TableDef {
	logicalName: string;
	schemaName: string;
	entitySetName: string;
	collectionSchemaName: string;
	primaryIdAttribute: string;
	primaryNameAttribute: string;
	objectTypeCode: number;
	displayName: string;
	displayCollectionName: string;
	ownershipType: 'UserOwned' | 'OrganizationOwned' | 'BusinessOwned' | 'None';
	/** The privilege suffix: prvRead<privilegeName>. */
	privilegeName: string;
	/** Default of the "Track changes" flag; the live value is in the simulator state. */
	changeTrackingDefault: boolean;
	canChangeTrackingBeEnabled: boolean;
	/** systemuser, transactioncurrency: readable, not writable by API clients here. */
	readOnly: boolean;
	hasStateCode: boolean;
	isCustom: boolean;
	columns: Map<string, ColumnDef>;
	metadataId: string;
}

/** A deterministic GUID from a name, so metadata ids are stable across runs. */
export function stableGuid(name: string): string {
	const h = createHash('sha1').update(name).digest('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function schemaOf(logicalName: string): string {
	if (logicalName.startsWith('new_')) return `new_${logicalName.slice(4, 5).toUpperCase()}${logicalName.slice(5)}`;
	return logicalName
		.split('_')
		.map((part) => part.charAt(0).toUpperCase() + part.slice(1))
		.join('_');
}

type ColumnInput = Partial<ColumnDef> & Pick<ColumnDef, 'logicalName' | 'type'>;

const TYPE_NAMES: Record<AttributeType, string> = {
	String: 'StringType',
	Memo: 'MemoType',
	Integer: 'IntegerType',
	BigInt: 'BigIntType',
	Decimal: 'DecimalType',
	Double: 'DoubleType',
	Money: 'MoneyType',
	Boolean: 'BooleanType',
	DateTime: 'DateTimeType',
	Lookup: 'LookupType',
	Customer: 'CustomerType',
	Owner: 'OwnerType',
	Picklist: 'PicklistType',
	State: 'StateType',
	Status: 'StatusType',
	Uniqueidentifier: 'UniqueidentifierType',
	Virtual: 'VirtualType',
	EntityName: 'EntityNameType',
};

function column(table: string, input: ColumnInput): ColumnDef {
	const isCustom = input.logicalName.startsWith('new_');
	return {
		schemaName: schemaOf(input.logicalName),
		displayName: input.displayName ?? input.logicalName,
		typeName: input.multiSelect ? 'MultiSelectPicklistType' : TYPE_NAMES[input.type],
		requiredLevel: 'None',
		validForCreate: true,
		validForUpdate: true,
		validForRead: true,
		isCustom,
		metadataId: stableGuid(`attribute:${table}.${input.logicalName}`),
		...input,
	};
}

const str = (logicalName: string, displayName: string, maxLength: number, extra: Partial<ColumnDef> = {}): ColumnInput => ({
	logicalName,
	displayName,
	type: 'String',
	maxLength,
	format: 'Text',
	...extra,
});
const memo = (logicalName: string, displayName: string, maxLength: number, extra: Partial<ColumnDef> = {}): ColumnInput => ({
	logicalName,
	displayName,
	type: 'Memo',
	maxLength,
	format: 'TextArea',
	...extra,
});
const money = (logicalName: string, displayName: string, extra: Partial<ColumnDef> = {}): ColumnInput => ({
	logicalName,
	displayName,
	type: 'Money',
	precision: 2,
	minValue: -922337203685477,
	maxValue: 922337203685477,
	...extra,
});
const int = (logicalName: string, displayName: string, min = -2147483648, max = 2147483647): ColumnInput => ({
	logicalName,
	displayName,
	type: 'Integer',
	minValue: min,
	maxValue: max,
	format: 'None',
});
const bool = (logicalName: string, displayName: string, trueLabel = 'Yes', falseLabel = 'No'): ColumnInput => ({
	logicalName,
	displayName,
	type: 'Boolean',
	trueLabel,
	falseLabel,
	defaultBoolean: false,
});
const dateOnly = (logicalName: string, displayName: string): ColumnInput => ({
	logicalName,
	displayName,
	type: 'DateTime',
	format: 'DateOnly',
	dateBehavior: 'DateOnly',
});
const dateTime = (logicalName: string, displayName: string, extra: Partial<ColumnDef> = {}): ColumnInput => ({
	logicalName,
	displayName,
	type: 'DateTime',
	format: 'DateAndTime',
	dateBehavior: 'UserLocal',
	...extra,
});
const pick = (logicalName: string, displayName: string, options: Array<[number, string]>, extra: Partial<ColumnDef> = {}): ColumnInput => ({
	logicalName,
	displayName,
	type: 'Picklist',
	options: options.map(([value, label]) => ({ value, label })),
	...extra,
});
const lookup = (
	logicalName: string,
	displayName: string,
	targets: string[],
	relationships: string[],
	extra: Partial<ColumnDef> = {},
): ColumnInput => ({
	logicalName,
	displayName,
	type: targets.length > 1 && logicalName !== 'objectid' ? 'Customer' : 'Lookup',
	targets,
	relationships: Object.fromEntries(targets.map((t, i) => [t, relationships[i]])),
	...extra,
});

const READ_ONLY: Partial<ColumnDef> = { validForCreate: false, validForUpdate: false };

/**
 * The columns Merge sets on the subordinate: `merged` (Boolean) and `masterid` (lookup to the same table, relationship
 * `<table>_master_account|contact|lead`). Both are read-only (IsValidForCreate/IsValidForUpdate false) per the
 * entity reference.
 */
function mergeColumns(table: string): ColumnInput[] {
	return [
		lookup('masterid', 'Master ID', [table], [`${table}_master_${table}`], READ_ONLY),
		{ ...bool('merged', 'Merged'), ...READ_ONLY },
	];
}

function systemColumns(table: string, schema: string, pk: string, options: { owned: boolean; currency: boolean }): ColumnInput[] {
	const cols: ColumnInput[] = [
		{ logicalName: pk, displayName: schema, type: 'Uniqueidentifier', requiredLevel: 'SystemRequired', validForUpdate: false, isPrimaryId: true },
		dateTime('createdon', 'Created On', READ_ONLY),
		dateTime('modifiedon', 'Modified On', READ_ONLY),
		lookup('createdby', 'Created By', ['systemuser'], [`lk_${table}_createdby`], READ_ONLY),
		lookup('modifiedby', 'Modified By', ['systemuser'], [`lk_${table}_modifiedby`], READ_ONLY),
		{ logicalName: 'versionnumber', displayName: 'Version Number', type: 'BigInt', ...READ_ONLY },
	];
	if (options.owned) {
		cols.push(
			{
				logicalName: 'ownerid',
				displayName: 'Owner',
				type: 'Owner',
				requiredLevel: 'SystemRequired',
				targets: ['systemuser'],
				relationships: { systemuser: `owner_${table}s` },
			},
			lookup('owninguser', 'Owning User', ['systemuser'], [`user_${table}`], READ_ONLY),
			{
				logicalName: 'owningbusinessunit',
				displayName: 'Owning Business Unit',
				type: 'Lookup',
				targets: ['businessunit'],
				relationships: { businessunit: `business_unit_${table}s` },
				...READ_ONLY,
			},
		);
	}
	if (options.currency) {
		cols.push(
			lookup('transactioncurrencyid', 'Currency', ['transactioncurrency'], [`transactioncurrency_${table}`]),
			{ logicalName: 'exchangerate', displayName: 'Exchange Rate', type: 'Decimal', precision: 10, ...READ_ONLY },
		);
	}
	return cols;
}

function stateStatus(
	states: Array<[number, string, number]>,
	statuses: Array<[number, string, number]>,
	stateValidForCreate = false,
): ColumnInput[] {
	return [
		{
			logicalName: 'statecode',
			displayName: 'Status',
			type: 'State',
			requiredLevel: 'SystemRequired',
			validForCreate: stateValidForCreate,
			options: states.map(([value, label, defaultStatus]) => ({ value, label, defaultStatus, invariantName: label.replace(/\s/g, '') })),
		},
		{
			logicalName: 'statuscode',
			displayName: 'Status Reason',
			type: 'Status',
			options: statuses.map(([value, label, state]) => ({ value, label, state })),
		},
	];
}

/** The demo's custom choice columns, shared by contact and lead (a global choice, like a real org would). */
const CHANNEL: Array<[number, string]> = [
	[100000000, 'Email'],
	[100000001, 'Phone'],
	[100000002, 'SMS'],
	[100000003, 'WhatsApp'],
];
const INTERESTS: Array<[number, string]> = [
	[100000000, 'Webinars'],
	[100000001, 'Product updates'],
	[100000002, 'Events'],
	[100000003, 'Newsletter'],
	[100000004, 'Case studies'],
];

function customPersonColumns(): ColumnInput[] {
	return [
		pick('new_preferredchannel', 'Preferred Channel', CHANNEL, { optionSetName: 'new_channel', isGlobalOptionSet: true }),
		{
			logicalName: 'new_interests',
			displayName: 'Interests',
			type: 'Virtual',
			multiSelect: true,
			options: INTERESTS.map(([value, label]) => ({ value, label })),
			optionSetName: 'new_interests',
			isGlobalOptionSet: true,
		},
		dateOnly('new_birthday', 'Birthday'),
		dateTime('new_lastwebinar', 'Last Webinar'),
		money('new_annualbudget', 'Annual Budget'),
		int('new_score', 'Engagement Score', 0, 1000),
		memo('new_notes', 'Sync Notes', 4000),
		bool('new_isvip', 'VIP'),
	];
}

const INDUSTRY: Array<[number, string]> = [
	[1, 'Accounting'],
	[2, 'Agriculture and Non-petrol Natural Resource Extraction'],
	[3, 'Broadcasting Printing and Publishing'],
	[4, 'Brokers'],
	[5, 'Building Supply Retail'],
	[6, 'Business Services'],
	[7, 'Consulting'],
	[8, 'Consumer Services'],
	[9, 'Design, Direction and Creative Management'],
	[10, 'Distributors, Dispatchers and Processors'],
	[11, "Doctor's Offices and Clinics"],
	[12, 'Durable Manufacturing'],
	[13, 'Eating and Drinking Places'],
	[14, 'Entertainment Retail'],
	[15, 'Equipment Rental and Leasing'],
	[16, 'Financial'],
	[17, 'Food and Tobacco Processing'],
	[18, 'Inbound Capital Intensive Processing'],
	[19, 'Inbound Repair and Services'],
	[20, 'Insurance'],
	[21, 'Legal Services'],
	[22, 'Non-Durable Merchandise Retail'],
	[23, 'Outbound Consumer Service'],
	[24, 'Petrochemical Extraction and Distribution'],
	[25, 'Service Retail'],
	[26, 'SIG Affiliations'],
	[27, 'Social Services'],
	[28, 'Special Outbound Trade Contractors'],
	[29, 'Specialty Realty'],
	[30, 'Transportation'],
	[31, 'Utility Creation and Distribution'],
	[32, 'Vehicle Retail'],
	[33, 'Wholesale'],
];

const RATING: Array<[number, string]> = [
	[1, 'Hot'],
	[2, 'Warm'],
	[3, 'Cold'],
];

function table(
	def: Omit<TableDef, 'columns' | 'metadataId' | 'collectionSchemaName' | 'isCustom'> & { collectionSchemaName?: string },
	columns: ColumnInput[],
): TableDef {
	const map = new Map<string, ColumnDef>();
	for (const input of columns) {
		const col = column(def.logicalName, input);
		if (col.logicalName === def.primaryNameAttribute) col.isPrimaryName = true;
		map.set(col.logicalName, col);
	}
	return {
		...def,
		collectionSchemaName: def.collectionSchemaName ?? `${def.schemaName}s`,
		isCustom: false,
		columns: map,
		metadataId: stableGuid(`entity:${def.logicalName}`),
	};
}

function buildTables(): TableDef[] {
	const contact = table(
		{
			logicalName: 'contact',
			schemaName: 'Contact',
			entitySetName: 'contacts',
			primaryIdAttribute: 'contactid',
			primaryNameAttribute: 'fullname',
			objectTypeCode: 2,
			displayName: 'Contact',
			displayCollectionName: 'Contacts',
			ownershipType: 'UserOwned',
			privilegeName: 'Contact',
			changeTrackingDefault: true,
			canChangeTrackingBeEnabled: true,
			readOnly: false,
			hasStateCode: true,
		},
		[
			...systemColumns('contact', 'Contact', 'contactid', { owned: true, currency: true }),
			str('firstname', 'First Name', 50, { requiredLevel: 'Recommended' }),
			str('middlename', 'Middle Name', 50),
			str('lastname', 'Last Name', 50, { requiredLevel: 'ApplicationRequired' }),
			str('fullname', 'Full Name', 160, { ...READ_ONLY, computed: true }),
			str('emailaddress1', 'Email', 100, { format: 'Email' }),
			str('emailaddress2', 'Email Address 2', 100, { format: 'Email' }),
			str('jobtitle', 'Job Title', 100),
			str('telephone1', 'Business Phone', 50, { format: 'Phone' }),
			str('mobilephone', 'Mobile Phone', 50, { format: 'Phone' }),
			str('address1_line1', 'Address 1: Street 1', 250),
			str('address1_city', 'Address 1: City', 80),
			str('address1_stateorprovince', 'Address 1: State/Province', 50),
			str('address1_postalcode', 'Address 1: ZIP/Postal Code', 20),
			str('address1_country', 'Address 1: Country/Region', 80),
			memo('description', 'Description', 2000),
			dateOnly('birthdate', 'Birthday'),
			bool('donotemail', 'Do not allow Emails', 'Do Not Allow', 'Allow'),
			bool('donotbulkemail', 'Do not allow Bulk Emails', 'Do Not Allow', 'Allow'),
			pick('preferredcontactmethodcode', 'Preferred Method of Contact', [
				[1, 'Any'],
				[2, 'Email'],
				[3, 'Phone'],
				[4, 'Fax'],
				[5, 'Mail'],
			]),
			lookup('parentcustomerid', 'Company Name', ['account', 'contact'], ['contact_customer_accounts', 'contact_customer_contacts']),
			str('managerphone', 'Manager Phone', 50, { format: 'Phone' }),
			lookup('originatingleadid', 'Originating Lead', ['lead'], ['contact_originating_lead'], { validForUpdate: false }),
			...mergeColumns('contact'),
			...stateStatus(
				[
					[0, 'Active', 1],
					[1, 'Inactive', 2],
				],
				[
					[1, 'Active', 0],
					[2, 'Inactive', 1],
				],
			),
			...customPersonColumns(),
		],
	);

	const lead = table(
		{
			logicalName: 'lead',
			schemaName: 'Lead',
			entitySetName: 'leads',
			primaryIdAttribute: 'leadid',
			primaryNameAttribute: 'fullname',
			objectTypeCode: 4,
			displayName: 'Lead',
			displayCollectionName: 'Leads',
			ownershipType: 'UserOwned',
			privilegeName: 'Lead',
			changeTrackingDefault: true,
			canChangeTrackingBeEnabled: true,
			readOnly: false,
			hasStateCode: true,
		},
		[
			...systemColumns('lead', 'Lead', 'leadid', { owned: true, currency: true }),
			str('subject', 'Topic', 300, { requiredLevel: 'ApplicationRequired' }),
			str('firstname', 'First Name', 50, { requiredLevel: 'Recommended' }),
			str('lastname', 'Last Name', 50, { requiredLevel: 'ApplicationRequired' }),
			str('fullname', 'Name', 160, { ...READ_ONLY, computed: true }),
			str('companyname', 'Company Name', 100, { requiredLevel: 'Recommended' }),
			str('jobtitle', 'Job Title', 100),
			str('emailaddress1', 'Email', 100, { format: 'Email' }),
			str('telephone1', 'Business Phone', 50, { format: 'Phone' }),
			str('mobilephone', 'Mobile Phone', 20, { format: 'Phone' }),
			str('websiteurl', 'Website', 200, { format: 'Url' }),
			str('address1_city', 'City', 80),
			str('address1_country', 'Country/Region', 80),
			memo('description', 'Description', 2000),
			pick('leadsourcecode', 'Lead Source', [
				[1, 'Advertisement'],
				[2, 'Employee Referral'],
				[3, 'External Referral'],
				[4, 'Partner'],
				[5, 'Public Relations'],
				[6, 'Seminar'],
				[7, 'Trade Show'],
				[8, 'Web'],
				[9, 'Word of Mouth'],
				[10, 'Other'],
			]),
			pick('leadqualitycode', 'Rating', RATING),
			pick('industrycode', 'Industry', INDUSTRY),
			money('estimatedamount', 'Est. Value'),
			dateOnly('estimatedclosedate', 'Est. Close Date'),
			lookup('parentaccountid', 'Parent Account for lead', ['account'], ['lead_parent_account']),
			lookup('parentcontactid', 'Parent Contact for lead', ['contact'], ['lead_parent_contact']),
			lookup('customerid', 'Customer', ['account', 'contact'], ['lead_customer_accounts', 'lead_customer_contacts']),
			...mergeColumns('lead'),
			...stateStatus(
				[
					[0, 'Open', 1],
					[1, 'Qualified', 3],
					[2, 'Disqualified', 4],
				],
				[
					[1, 'New', 0],
					[2, 'Contacted', 0],
					[3, 'Qualified', 1],
					[4, 'Lost', 2],
					[5, 'Cannot Contact', 2],
					[6, 'No Longer Interested', 2],
					[7, 'Canceled', 2],
				],
			),
			...customPersonColumns(),
		],
	);

	const account = table(
		{
			logicalName: 'account',
			schemaName: 'Account',
			entitySetName: 'accounts',
			primaryIdAttribute: 'accountid',
			primaryNameAttribute: 'name',
			objectTypeCode: 1,
			displayName: 'Account',
			displayCollectionName: 'Accounts',
			ownershipType: 'UserOwned',
			privilegeName: 'Account',
			changeTrackingDefault: true,
			canChangeTrackingBeEnabled: true,
			readOnly: false,
			hasStateCode: true,
		},
		[
			...systemColumns('account', 'Account', 'accountid', { owned: true, currency: true }),
			str('name', 'Account Name', 160, { requiredLevel: 'ApplicationRequired' }),
			str('accountnumber', 'Account Number', 20),
			str('emailaddress1', 'Email', 100, { format: 'Email' }),
			str('telephone1', 'Main Phone', 50, { format: 'Phone' }),
			str('websiteurl', 'Website', 200, { format: 'Url' }),
			str('address1_line1', 'Address 1: Street 1', 250),
			str('address1_city', 'Address 1: City', 80),
			str('address1_country', 'Address 1: Country/Region', 80),
			memo('description', 'Description', 2000),
			money('revenue', 'Annual Revenue'),
			{ ...money('revenue_base', 'Annual Revenue (Base)'), ...READ_ONLY, computed: true },
			int('numberofemployees', 'Number of Employees', 0, 1000000000),
			pick('industrycode', 'Industry', INDUSTRY),
			lookup('primarycontactid', 'Primary Contact', ['contact'], ['account_primary_contact']),
			lookup('parentaccountid', 'Parent Account', ['account'], ['account_parent_account']),
			str('address1_telephone1', 'Address Phone', 50, { format: 'Phone' }),
			lookup('originatingleadid', 'Originating Lead', ['lead'], ['account_originating_lead'], { validForUpdate: false }),
			...mergeColumns('account'),
			...stateStatus(
				[
					[0, 'Active', 1],
					[1, 'Inactive', 2],
				],
				[
					[1, 'Active', 0],
					[2, 'Inactive', 1],
				],
			),
		],
	);

	const opportunity = table(
		{
			logicalName: 'opportunity',
			schemaName: 'Opportunity',
			entitySetName: 'opportunities',
			collectionSchemaName: 'Opportunities',
			primaryIdAttribute: 'opportunityid',
			primaryNameAttribute: 'name',
			objectTypeCode: 3,
			displayName: 'Opportunity',
			displayCollectionName: 'Opportunities',
			ownershipType: 'UserOwned',
			privilegeName: 'Opportunity',
			changeTrackingDefault: true,
			canChangeTrackingBeEnabled: true,
			readOnly: false,
			hasStateCode: true,
		},
		[
			...systemColumns('opportunity', 'Opportunity', 'opportunityid', { owned: true, currency: true }),
			str('name', 'Topic', 300, { requiredLevel: 'ApplicationRequired' }),
			lookup('customerid', 'Potential Customer', ['account', 'contact'], ['opportunity_customer_accounts', 'opportunity_customer_contacts'], {
				requiredLevel: 'ApplicationRequired',
			}),
			lookup('parentaccountid', 'Account', ['account'], ['opportunity_parent_account']),
			lookup('parentcontactid', 'Contact', ['contact'], ['opportunity_parent_contact']),
			lookup('originatingleadid', 'Originating Lead', ['lead'], ['opportunity_originating_lead']),
			money('estimatedvalue', 'Est. Revenue'),
			{ ...money('estimatedvalue_base', 'Est. Revenue (Base)'), ...READ_ONLY, computed: true },
			dateOnly('estimatedclosedate', 'Est. Close Date'),
			money('actualvalue', 'Actual Revenue'),
			dateOnly('actualclosedate', 'Actual Close Date'),
			int('closeprobability', 'Probability', 0, 100),
			str('stepname', 'Pipeline Phase', 200),
			memo('description', 'Description', 2000),
			pick('salesstage', 'Sales Stage', [
				[0, 'Qualify'],
				[1, 'Develop'],
				[2, 'Propose'],
				[3, 'Close'],
			]),
			pick('salesstagecode', 'Process Code', [[1, 'Default Value']]),
			pick('opportunityratingcode', 'Rating', RATING),
			pick('msdyn_forecastcategory', 'Forecast Category', [
				[100000001, 'Pipeline'],
				[100000002, 'Best case'],
				[100000003, 'Committed'],
				[100000004, 'Omitted'],
				[100000005, 'Won'],
				[100000006, 'Lost'],
			]),
			...stateStatus(
				[
					[0, 'Open', 1],
					[1, 'Won', 3],
					[2, 'Lost', 4],
				],
				[
					[1, 'In Progress', 0],
					[2, 'On Hold', 0],
					[3, 'Won', 1],
					[4, 'Canceled', 2],
					[5, 'Out-Sold', 2],
				],
			),
			pick('new_productline', 'Product Line', [
				[100000000, 'Software'],
				[100000001, 'Services'],
				[100000002, 'Hardware'],
				[100000003, 'Training'],
			]),
			str('new_region', 'Region', 100),
		],
	);

	const annotation = table(
		{
			logicalName: 'annotation',
			schemaName: 'Annotation',
			entitySetName: 'annotations',
			primaryIdAttribute: 'annotationid',
			primaryNameAttribute: 'subject',
			objectTypeCode: 5,
			displayName: 'Note',
			displayCollectionName: 'Notes',
			ownershipType: 'UserOwned',
			privilegeName: 'Note',
			changeTrackingDefault: false,
			canChangeTrackingBeEnabled: true,
			readOnly: false,
			hasStateCode: false,
		},
		[
			...systemColumns('annotation', 'Note', 'annotationid', { owned: true, currency: false }),
			str('subject', 'Title', 500),
			memo('notetext', 'Description', 100000),
			lookup(
				'objectid',
				'Regarding',
				['account', 'contact', 'lead', 'opportunity'],
				['Account_Annotation', 'Contact_Annotation', 'Lead_Annotation', 'Opportunity_Annotation'],
			),
			{ logicalName: 'objecttypecode', displayName: 'Object Type', type: 'EntityName', ...READ_ONLY, computed: true },
			bool('isdocument', 'Is Document'),
			str('filename', 'File Name', 255),
			str('mimetype', 'Mime Type', 256),
			memo('documentbody', 'Document', 1073741823),
		],
	);

	const systemuser = table(
		{
			logicalName: 'systemuser',
			schemaName: 'SystemUser',
			entitySetName: 'systemusers',
			primaryIdAttribute: 'systemuserid',
			primaryNameAttribute: 'fullname',
			objectTypeCode: 8,
			displayName: 'User',
			displayCollectionName: 'Users',
			ownershipType: 'BusinessOwned',
			privilegeName: 'User',
			changeTrackingDefault: false,
			canChangeTrackingBeEnabled: true,
			readOnly: true,
			hasStateCode: false,
		},
		[
			{ logicalName: 'systemuserid', displayName: 'User', type: 'Uniqueidentifier', requiredLevel: 'SystemRequired', isPrimaryId: true },
			dateTime('createdon', 'Created On', READ_ONLY),
			dateTime('modifiedon', 'Modified On', READ_ONLY),
			{ logicalName: 'versionnumber', displayName: 'Version Number', type: 'BigInt', ...READ_ONLY },
			str('firstname', 'First Name', 64),
			str('lastname', 'Last Name', 64),
			str('fullname', 'Full Name', 200, { ...READ_ONLY, computed: true }),
			str('domainname', 'User Name', 1024, { requiredLevel: 'SystemRequired' }),
			str('internalemailaddress', 'Primary Email', 100, { format: 'Email' }),
			{ logicalName: 'applicationid', displayName: 'Application ID', type: 'Uniqueidentifier' },
			{ logicalName: 'azureactivedirectoryobjectid', displayName: 'Azure AD Object ID', type: 'Uniqueidentifier' },
			bool('isdisabled', 'Status', 'Disabled', 'Enabled'),
			pick('accessmode', 'Access Mode', [
				[0, 'Read-Write'],
				[1, 'Administrative'],
				[2, 'Read'],
				[3, 'Support User'],
				[4, 'Non-interactive'],
				[5, 'Delegated Admin'],
			]),
			{
				logicalName: 'businessunitid',
				displayName: 'Business Unit',
				type: 'Lookup',
				targets: ['businessunit'],
				relationships: { businessunit: 'business_unit_system_users' },
			},
		],
	);

	const currency = table(
		{
			logicalName: 'transactioncurrency',
			schemaName: 'TransactionCurrency',
			entitySetName: 'transactioncurrencies',
			collectionSchemaName: 'TransactionCurrencies',
			primaryIdAttribute: 'transactioncurrencyid',
			primaryNameAttribute: 'currencyname',
			objectTypeCode: 9105,
			displayName: 'Currency',
			displayCollectionName: 'Currencies',
			ownershipType: 'OrganizationOwned',
			privilegeName: 'TransactionCurrency',
			changeTrackingDefault: false,
			canChangeTrackingBeEnabled: true,
			readOnly: true,
			hasStateCode: false,
		},
		[
			{
				logicalName: 'transactioncurrencyid',
				displayName: 'Currency',
				type: 'Uniqueidentifier',
				requiredLevel: 'SystemRequired',
				isPrimaryId: true,
			},
			dateTime('createdon', 'Created On', READ_ONLY),
			dateTime('modifiedon', 'Modified On', READ_ONLY),
			{ logicalName: 'versionnumber', displayName: 'Version Number', type: 'BigInt', ...READ_ONLY },
			str('currencyname', 'Currency Name', 100, { requiredLevel: 'SystemRequired' }),
			str('isocurrencycode', 'Currency Code', 5, { requiredLevel: 'SystemRequired' }),
			str('currencysymbol', 'Currency Symbol', 10, { requiredLevel: 'SystemRequired' }),
			{ logicalName: 'exchangerate', displayName: 'Exchange Rate', type: 'Decimal', precision: 10 },
			int('currencyprecision', 'Currency Precision', 0, 4),
		],
	);

	return [account, contact, lead, opportunity, annotation, systemuser, currency, ...webhookTables()];
}

/**
 * What a Dataverse webhook is made of (register-web-hook, the serviceendpoint and sdkmessageprocessingstep
 * references): a `serviceendpoint` with contract 8 (Webhook) names the URL and how to authenticate to it; an
 * `sdkmessageprocessingstep` binds it to a message (`sdkmessage`: Create, Update, Delete) on a table
 * (`sdkmessagefilter`). Messages and filters are the platform's (read-only); the endpoint's `authvalue` is write-only.
 */
function webhookTables(): TableDef[] {
	const organizationOwned = { ownershipType: 'OrganizationOwned' as const, changeTrackingDefault: false, canChangeTrackingBeEnabled: false, hasStateCode: false };
	const base = (logical: string, schema: string, pk: string): ColumnInput[] => [
		{ logicalName: pk, displayName: schema, type: 'Uniqueidentifier', requiredLevel: 'SystemRequired', validForUpdate: false, isPrimaryId: true },
		dateTime('createdon', 'Created On', READ_ONLY),
		dateTime('modifiedon', 'Modified On', READ_ONLY),
		lookup('createdby', 'Created By', ['systemuser'], [`lk_${logical}_createdby`], READ_ONLY),
		lookup('modifiedby', 'Modified By', ['systemuser'], [`lk_${logical}_modifiedby`], READ_ONLY),
		{ logicalName: 'versionnumber', displayName: 'Version Number', type: 'BigInt', ...READ_ONLY },
	];
	const serviceEndpoint = table(
		{
			logicalName: 'serviceendpoint',
			schemaName: 'ServiceEndpoint',
			entitySetName: 'serviceendpoints',
			primaryIdAttribute: 'serviceendpointid',
			primaryNameAttribute: 'name',
			objectTypeCode: 4618,
			displayName: 'Service Endpoint',
			displayCollectionName: 'Service Endpoints',
			privilegeName: 'ServiceEndpoint',
			readOnly: false,
			...organizationOwned,
		},
		[
			...base('serviceendpoint', 'ServiceEndpoint', 'serviceendpointid'),
			str('name', 'Name', 256, { requiredLevel: 'SystemRequired' }),
			str('description', 'Description', 2000),
			str('url', 'Url', 2000),
			pick('contract', 'Contract', [
				[1, 'OneWay'],
				[2, 'Queue'],
				[3, 'Rest'],
				[4, 'TwoWay'],
				[5, 'Topic'],
				[6, 'Queue (Persistent)'],
				[7, 'Event Hub'],
				[8, 'Webhook'],
				[9, 'Event Grid'],
				[10, 'Managed Data Lake'],
			], { requiredLevel: 'SystemRequired' }),
			pick('authtype', 'Auth Type', [
				[1, 'ACS'],
				[2, 'SAS Key'],
				[3, 'SAS Token'],
				[4, 'Webhook Key'],
				[5, 'Http Header'],
				[6, 'Http Query String'],
				[7, 'Connection String'],
				[8, 'Access Key'],
			]),
			// Write-only: "the values cannot be retrieved" (register-web-hook).
			str('authvalue', 'Auth Value', 2048, { validForRead: false }),
			bool('isauthvalueset', 'Is Auth Value Set'),
			pick('messageformat', 'Message Format', [
				[1, 'Binary XML'],
				[2, 'Json'],
				[3, 'Text XML'],
			]),
		],
	);
	const message = table(
		{
			logicalName: 'sdkmessage',
			schemaName: 'SdkMessage',
			entitySetName: 'sdkmessages',
			primaryIdAttribute: 'sdkmessageid',
			primaryNameAttribute: 'name',
			objectTypeCode: 4606,
			displayName: 'Sdk Message',
			displayCollectionName: 'Sdk Messages',
			privilegeName: 'SdkMessage',
			readOnly: true,
			...organizationOwned,
		},
		[...base('sdkmessage', 'SdkMessage', 'sdkmessageid'), str('name', 'Name', 256, { requiredLevel: 'SystemRequired' })],
	);
	const filter = table(
		{
			logicalName: 'sdkmessagefilter',
			schemaName: 'SdkMessageFilter',
			entitySetName: 'sdkmessagefilters',
			primaryIdAttribute: 'sdkmessagefilterid',
			primaryNameAttribute: 'name',
			objectTypeCode: 4607,
			displayName: 'Sdk Message Filter',
			displayCollectionName: 'Sdk Message Filters',
			privilegeName: 'SdkMessageFilter',
			readOnly: true,
			...organizationOwned,
		},
		[
			...base('sdkmessagefilter', 'SdkMessageFilter', 'sdkmessagefilterid'),
			str('name', 'Name', 256),
			lookup('sdkmessageid', 'SDK Message ID', ['sdkmessage'], ['sdkmessageid_sdkmessagefilter']),
			// An EntityName column: the table's logical name on the wire.
			str('primaryobjecttypecode', 'Primary Object Type Code', 128),
			bool('iscustomprocessingstepallowed', 'Custom Processing Step Allowed'),
		],
	);
	const step = table(
		{
			logicalName: 'sdkmessageprocessingstep',
			schemaName: 'SdkMessageProcessingStep',
			entitySetName: 'sdkmessageprocessingsteps',
			primaryIdAttribute: 'sdkmessageprocessingstepid',
			primaryNameAttribute: 'name',
			objectTypeCode: 4608,
			displayName: 'Sdk Message Processing Step',
			displayCollectionName: 'Sdk Message Processing Steps',
			privilegeName: 'SdkMessageProcessingStep',
			readOnly: false,
			...organizationOwned,
			hasStateCode: true,
		},
		[
			...base('sdkmessageprocessingstep', 'SdkMessageProcessingStep', 'sdkmessageprocessingstepid'),
			str('name', 'Name', 256, { requiredLevel: 'SystemRequired' }),
			str('description', 'Description', 256),
			// A plug-in type or a service endpoint: navigation properties eventhandler_plugintype / _serviceendpoint.
			lookup('eventhandler', 'Event Handler', ['plugintype', 'serviceendpoint'], ['plugintype_sdkmessageprocessingstep', 'serviceendpoint_sdkmessageprocessingstep']),
			lookup('sdkmessageid', 'SDK Message', ['sdkmessage'], ['sdkmessageid_sdkmessageprocessingstep'], { requiredLevel: 'SystemRequired' }),
			lookup('sdkmessagefilterid', 'SdkMessage Filter', ['sdkmessagefilter'], ['sdkmessagefilterid_sdkmessageprocessingstep']),
			pick('stage', 'Execution Stage', [
				[10, 'Pre-validation'],
				[20, 'Pre-operation'],
				[40, 'Post-operation'],
			], { requiredLevel: 'SystemRequired' }),
			pick('mode', 'Execution Mode', [
				[0, 'Synchronous'],
				[1, 'Asynchronous'],
			], { requiredLevel: 'SystemRequired' }),
			int('rank', 'Execution Order', 0, 2147483647),
			pick('supporteddeployment', 'Deployment', [
				[0, 'Server Only'],
				[1, 'Microsoft Dynamics 365 Client for Outlook Only'],
				[2, 'Both'],
			]),
			bool('asyncautodelete', 'Asynchronous Automatic Delete'),
			str('filteringattributes', 'Filtering Attributes', 100000),
			...stateStatus(
				[
					[0, 'Enabled', 1],
					[1, 'Disabled', 2],
				],
				[
					[1, 'Enabled', 0],
					[2, 'Disabled', 1],
				],
				false,
			),
		],
	);
	return [serviceEndpoint, message, filter, step];
}

/** All tables, by logical name and by entity set name. */
export class Schema {
	readonly tables: TableDef[];
	private readonly byLogical = new Map<string, TableDef>();
	private readonly bySet = new Map<string, TableDef>();

	constructor() {
		this.tables = buildTables();
		for (const t of this.tables) {
			this.byLogical.set(t.logicalName, t);
			this.bySet.set(t.entitySetName, t);
		}
	}

	table(logicalName: string): TableDef | undefined {
		return this.byLogical.get(logicalName);
	}

	tableBySet(entitySetName: string): TableDef | undefined {
		return this.bySet.get(entitySetName);
	}

	/** The single-valued navigation properties of a table: name → lookup column and target table. */
	navigation(t: TableDef): Map<string, { column: ColumnDef; target: string }> {
		const cached = navCache.get(t);
		if (cached) return cached;
		const map = new Map<string, { column: ColumnDef; target: string }>();
		for (const col of t.columns.values()) {
			if (!isLookupType(col.type) || !col.targets) continue;
			const multi = col.targets.length > 1;
			for (const target of col.targets) {
				if (!this.byLogical.has(target)) continue;
				map.set(multi ? `${col.logicalName}_${target}` : col.logicalName, { column: col, target });
			}
		}
		navCache.set(t, map);
		return map;
	}

	/** The collection-valued navigation properties of a table: relationship name → referencing table and lookup. */
	collections(t: TableDef): Map<string, { table: TableDef; column: ColumnDef }> {
		const cached = collectionCache.get(t);
		if (cached) return cached;
		const map = new Map<string, { table: TableDef; column: ColumnDef }>();
		for (const other of this.tables) {
			for (const col of other.columns.values()) {
				const rel = col.relationships?.[t.logicalName];
				if (rel && isLookupType(col.type)) map.set(rel, { table: other, column: col });
			}
		}
		collectionCache.set(t, map);
		return map;
	}
}

const navCache = new WeakMap<TableDef, Map<string, { column: ColumnDef; target: string }>>();
const collectionCache = new WeakMap<TableDef, Map<string, { table: TableDef; column: ColumnDef }>>();

export function isLookupType(type: AttributeType): boolean {
	return type === 'Lookup' || type === 'Customer' || type === 'Owner';
}

/** The OData property name of a column: `_x_value` for lookups, the logical name otherwise. */
export function propertyName(col: ColumnDef): string {
	return isLookupType(col.type) ? `_${col.logicalName}_value` : col.logicalName;
}

/** The Edm type of a column as the Web API exposes it. */
export function edmType(col: ColumnDef): string {
	switch (col.type) {
		case 'String':
		case 'Memo':
		case 'EntityName':
		case 'Virtual': // multi-select choices travel as "1,2"
			return 'Edm.String';
		case 'Integer':
		case 'Picklist':
		case 'State':
		case 'Status':
			return 'Edm.Int32';
		case 'BigInt':
			return 'Edm.Int64';
		case 'Decimal':
		case 'Money':
			return 'Edm.Decimal';
		case 'Double':
			return 'Edm.Double';
		case 'Boolean':
			return 'Edm.Boolean';
		case 'DateTime':
			return col.format === 'DateOnly' ? 'Edm.Date' : 'Edm.DateTimeOffset';
		case 'Uniqueidentifier':
		case 'Lookup':
		case 'Customer':
		case 'Owner':
			return 'Edm.Guid';
	}
}
