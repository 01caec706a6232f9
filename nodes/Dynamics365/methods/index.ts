/**
 * Pickers filled from the environment's live metadata: tables for "Other Table", columns (with types and required
 * levels), alternate keys, sales stages, and the resource mapper's fields with option-set labels.
 */
import type {
	FieldType,
	ILoadOptionsFunctions,
	INodeListSearchResult,
	INodePropertyOptions,
	ResourceMapperField,
	ResourceMapperFields,
} from 'n8n-workflow';

import type { ColumnInfo, TableInfo } from '../transport/metadata';
import { RESOURCE_TABLES, readableColumns, writableColumns } from '../transport/metadata';
import { DataverseClient } from '../transport';

async function clientFor(fns: ILoadOptionsFunctions): Promise<DataverseClient> {
	const authentication = (fns.getNodeParameter('authentication', 'clientCredentials') as string) || 'clientCredentials';
	return await DataverseClient.create(fns, authentication);
}

/** The table of the node's current resource (or chosen table). */
async function currentTable(fns: ILoadOptionsFunctions, client: DataverseClient): Promise<TableInfo | undefined> {
	const resource = fns.getNodeParameter('resource', 'contact') as string;
	let name: string | undefined = RESOURCE_TABLES[resource];
	if (resource === 'otherTable') {
		name = String(fns.getNodeParameter('table', '', { extractValue: true }) ?? '').trim() || undefined;
	}
	if (!name) return undefined;
	return await client.table(name);
}

function typeLabel(column: ColumnInfo): string {
	if (column.targets?.length) return `lookup → ${column.targets.join(' / ')}`;
	if (column.multiSelect) return 'multi-select choice';
	if (column.options) return 'choice';
	if (column.dateOnly) return 'date';
	return column.type.toLowerCase();
}

function requiredLabel(column: ColumnInfo): string {
	if (column.requiredLevel === 'ApplicationRequired') return ', required';
	if (column.requiredLevel === 'Recommended') return ', recommended';
	return '';
}

export function columnOptions(columns: ColumnInfo[]): INodePropertyOptions[] {
	return columns
		.map((c) => ({
			name: `${c.displayName} (${c.logicalName})`,
			value: c.logicalName,
			description: `${typeLabel(c)}${requiredLabel(c)}`,
		}))
		.sort((a, b) => a.name.localeCompare(b.name));
}

export const listSearch = {
	async searchTables(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
		const client = await clientFor(this);
		const tables = await client.tables();
		const needle = (filter ?? '').toLowerCase();
		return {
			results: tables
				.filter(
					(t) =>
						!needle ||
						t.logicalName.toLowerCase().includes(needle) ||
						t.displayName.toLowerCase().includes(needle) ||
						t.entitySetName.toLowerCase().includes(needle),
				)
				.sort((a, b) => a.displayName.localeCompare(b.displayName))
				.map((t) => ({ name: `${t.displayName} (${t.logicalName})`, value: t.logicalName, url: undefined })),
		};
	},
};

export const loadOptions = {
	async getColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
		const client = await clientFor(this);
		const table = await currentTable(this, client);
		return table ? columnOptions(readableColumns(table)) : [];
	},

	async getAlternateKeys(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
		const client = await clientFor(this);
		const table = await currentTable(this, client);
		return (table?.keys ?? []).map((k) => ({
			name: `${k.displayName} (${k.keyAttributes.join(', ')})`,
			value: k.logicalName,
		}));
	},

	async getSalesStages(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
		const client = await clientFor(this);
		const table = await client.table('opportunity');
		return (table.columns.get('salesstage')?.options ?? []).map((o) => ({ name: o.label, value: o.value }));
	},
};

function fieldType(column: ColumnInfo): FieldType {
	if (column.options && !column.multiSelect && column.type !== 'Boolean') return 'options';
	switch (column.type) {
		case 'Integer':
		case 'BigInt':
		case 'Decimal':
		case 'Double':
		case 'Money':
			return 'number';
		case 'Boolean':
			return 'boolean';
		case 'DateTime':
			return 'dateTime';
		default:
			return 'string';
	}
}

export const resourceMapping = {
	async getMappingColumns(this: ILoadOptionsFunctions): Promise<ResourceMapperFields> {
		const client = await clientFor(this);
		const table = await currentTable(this, client);
		if (!table) return { fields: [], emptyFieldsNotice: 'Choose a table first' };
		const operation = this.getNodeParameter('operation', 'create') as string;
		const forCreate = operation !== 'update';
		const columns = writableColumns(table, !forCreate).filter((c) => !c.isPrimaryId);
		const fields: ResourceMapperField[] = columns
			.map((c): ResourceMapperField => {
				const required = forCreate && c.requiredLevel === 'ApplicationRequired';
				const type = fieldType(c);
				return {
					id: c.logicalName,
					displayName: `${c.displayName} (${c.logicalName}${c.targets?.length ? `, lookup → ${c.targets.join(' / ')}` : ''})`,
					required,
					defaultMatch: false,
					canBeUsedToMatch: false,
					display: true,
					type,
					removed: !required && c.requiredLevel !== 'Recommended',
					...(type === 'options' ? { options: (c.options ?? []).map((o) => ({ name: o.label, value: o.value })) } : {}),
				};
			})
			.sort((a, b) => Number(b.required) - Number(a.required) || a.displayName.localeCompare(b.displayName));
		return { fields };
	},
};
