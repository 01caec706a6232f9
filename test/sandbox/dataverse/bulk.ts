/**
 * CreateMultiple / UpdateMultiple / UpsertMultiple bound actions: every target needs `@odata.type`, and on
 * standard tables the whole request rolls back on any error.
 */
import type { Api, ApiRequest, ApiResponse } from './api';
import type { OpContext } from './engine';
import { errors } from './errors';
import type { TableDef } from './metadata';

export function bulkHandler(api: Api) {
	return (table: TableDef, action: string, req: ApiRequest, ctx: OpContext): ApiResponse => {
		const engine = api.engine;
		const set = table.entitySetName;
		let body: unknown;
		try {
			body = req.body.trim() ? JSON.parse(req.body) : {};
		} catch {
			throw errors.payload(set, 'Microsoft.OData.ODataException: Invalid JSON. The request body could not be read.');
		}
		const targets = (body as { Targets?: unknown }).Targets;
		if (!Array.isArray(targets)) {
			throw errors.invalidArgument(`The parameter 'Targets' of the action '${action}' is required and must be a collection of entities.`);
		}
		const expected = `Microsoft.Dynamics.CRM.${table.logicalName}`;
		targets.forEach((t, index) => {
			const type = typeof t === 'object' && t !== null ? (t as Record<string, unknown>)['@odata.type'] : undefined;
			if (type === undefined) {
				throw errors.payload(
					set,
					`Microsoft.OData.ODataException: A resource without a type name was found, but no expected type was specified. To allow entries without type information, the expected type must also be specified when the model is specified. (Targets[${index}])`,
				);
			}
			if (String(type).replace(/^#/, '') !== expected) {
				throw errors.invalidArgument(`All entities in Targets must be of type '${table.logicalName}'; Targets[${index}] is '${String(type)}'.`);
			}
		});
		const pk = table.primaryIdAttribute;
		return engine.store.transaction(() => {
			if (action === 'CreateMultiple') {
				const ids = targets.map((t) => engine.create(table, t as Record<string, unknown>, ctx).id);
				return api.json(200, { '@odata.context': `${engine.apiBase}/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse`, Ids: ids });
			}
			for (const t of targets as Array<Record<string, unknown>>) {
				const { '@odata.id': odataId, ...rest } = t;
				let spec = typeof rest[pk] === 'string' ? engine.parseKey(table, String(rest[pk])) : undefined;
				if (typeof odataId === 'string') {
					const ref = engine.resolveReference(odataId, ctx, set);
					if (ref.table !== table) throw errors.invalidArgument(`The @odata.id '${odataId}' does not refer to the '${set}' entity set.`);
					spec = ref.spec;
				}
				if (!spec) throw errors.invalidArgument(`Targets of ${action} must carry the primary key '${pk}' or an @odata.id.`);
				const existing = engine.findByKey(table, spec);
				if (action === 'UpdateMultiple') {
					if (!existing) {
						if (spec.id) throw errors.recordNotFound(table.logicalName, spec.id);
						throw errors.recordNotFoundByKey(table.logicalName);
					}
					engine.update(table, existing, rest, ctx);
				} else if (existing) {
					engine.update(table, existing, rest, ctx);
				} else {
					engine.create(table, rest, ctx, { presetId: spec.id, keyValues: spec.key?.raw });
				}
			}
			return api.empty(204);
		});
	};
}
