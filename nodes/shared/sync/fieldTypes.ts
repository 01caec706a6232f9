/**
 * Field types on both sides, and which pairs may be mapped. The table follows ActiveCampaign's own field-mapping
 * guide for the Dynamics 365 integration and extends it only where a value converts both ways without loss.
 */

/** Dataverse column types, as the Field Map distinguishes them (from AttributeType, Format and DateTimeBehavior). */
export const DYNAMICS_TYPES = [
	'string',
	'memo',
	'integer',
	'bigint',
	'decimal',
	'double',
	'money',
	'boolean',
	'datetime',
	'dateonly',
	'picklist',
	'multiselect',
	'state',
	'status',
	'lookup',
] as const;
export type DynamicsType = (typeof DYNAMICS_TYPES)[number];

/** ActiveCampaign field types: contact and account custom fields, custom-object fields, and the standard fields. */
export const ACTIVECAMPAIGN_TYPES = [
	'text',
	'textarea',
	'hidden',
	'number',
	'decimal',
	'currency',
	'date',
	'datetime',
	'dropdown',
	'radio',
	'listbox',
	'checkbox',
	'multiselect',
	'email',
	'accountName',
] as const;
export type ActiveCampaignType = (typeof ACTIVECAMPAIGN_TYPES)[number];

const NUMERIC: DynamicsType[] = ['integer', 'bigint', 'decimal', 'double', 'money'];

/** ActiveCampaign type → the Dynamics types it may be mapped to. */
export const COMPATIBLE: Record<ActiveCampaignType, readonly DynamicsType[]> = {
	// The guide: Text/Hidden ↔ String, Whole number, Decimal, Float, BigInt, Two Options, Money. Choice labels as
	// text are an extension: a label converts both ways and an unknown label is reported, never guessed.
	text: ['string', 'memo', ...NUMERIC, 'boolean', 'picklist', 'state', 'status'],
	hidden: ['string', 'memo', ...NUMERIC, 'boolean', 'picklist'],
	// The guide: Textarea ↔ Textarea. Single-line text fits a text area without loss.
	textarea: ['memo', 'string'],
	number: NUMERIC,
	decimal: ['decimal', 'double', 'money', 'integer', 'bigint'],
	currency: ['money', 'decimal', 'double'],
	date: ['dateonly', 'datetime'],
	datetime: ['datetime'],
	// The guide: Dropdown/Radio/Listbox ↔ OptionSet. Two Options by label is an extension of the same rule.
	dropdown: ['picklist', 'boolean', 'state', 'status'],
	radio: ['picklist', 'boolean', 'state', 'status'],
	// A list box allows several values: it maps to a multi-select choice, or to a single choice when one is set.
	listbox: ['picklist', 'multiselect'],
	checkbox: ['multiselect'],
	multiselect: ['multiselect'],
	email: ['string'],
	accountName: ['lookup', 'string'],
};

export function isCompatible(acType: ActiveCampaignType, dynamicsType: DynamicsType): boolean {
	return COMPATIBLE[acType]?.includes(dynamicsType) ?? false;
}

/** The ActiveCampaign types a Dynamics column can be paired with (for pickers). */
export function compatibleActiveCampaignTypes(dynamicsType: DynamicsType): ActiveCampaignType[] {
	return ACTIVECAMPAIGN_TYPES.filter((t) => COMPATIBLE[t].includes(dynamicsType));
}

/** Dataverse attribute metadata → the Field Map's type. Undefined for columns that cannot be mapped. */
export function dynamicsTypeOf(attribute: {
	AttributeType?: string;
	AttributeTypeName?: { Value?: string };
	Format?: string;
	DateTimeBehavior?: { Value?: string } | string;
}): DynamicsType | undefined {
	const typeName = attribute.AttributeTypeName?.Value;
	if (typeName === 'MultiSelectPicklistType') return 'multiselect';
	switch (attribute.AttributeType) {
		case 'String':
			return 'string';
		case 'Memo':
			return 'memo';
		case 'Integer':
			return 'integer';
		case 'BigInt':
			return 'bigint';
		case 'Decimal':
			return 'decimal';
		case 'Double':
			return 'double';
		case 'Money':
			return 'money';
		case 'Boolean':
			return 'boolean';
		case 'DateTime': {
			const behavior =
				typeof attribute.DateTimeBehavior === 'string' ? attribute.DateTimeBehavior : attribute.DateTimeBehavior?.Value;
			return behavior === 'DateOnly' || attribute.Format === 'DateOnly' ? 'dateonly' : 'datetime';
		}
		case 'Picklist':
			return 'picklist';
		case 'State':
			return 'state';
		case 'Status':
			return 'status';
		case 'Lookup':
		case 'Customer':
		case 'Owner':
			return 'lookup';
		default:
			return undefined;
	}
}

/** ActiveCampaign field metadata type → the Field Map's type. */
export function activeCampaignTypeOf(type: string | undefined): ActiveCampaignType | undefined {
	switch ((type ?? '').toLowerCase()) {
		case 'text':
		case 'textarea':
		case 'hidden':
		case 'number':
		case 'decimal':
		case 'currency':
		case 'date':
		case 'datetime':
		case 'dropdown':
		case 'radio':
		case 'listbox':
		case 'checkbox':
		case 'multiselect':
			return type!.toLowerCase() as ActiveCampaignType;
		case 'multi-select':
			return 'multiselect';
		default:
			return undefined;
	}
}
