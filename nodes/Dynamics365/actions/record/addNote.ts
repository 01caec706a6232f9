/**
 * Add Note: a timeline note (annotation) on a lead or contact, e.g. a marketing activity from ActiveCampaign. With
 * "Skip Existing Subject" (on by default) a note whose subject the record already has is not added again, so a
 * re-run does not duplicate notes. Existing subjects are looked up in bulk; notes are written in `$batch` requests.
 */
import { randomUUID } from 'crypto';
import { NodeOperationError, type IDataObject, type INodeExecutionData } from 'n8n-workflow';

import type { WriteOperation } from '../../helpers/records';
import type { TableInfo } from '../../transport/metadata';
import { guidLiteral, inFilter } from '../../transport/odata';
import { chunk, itemError, paired, requireRecordId, sendWrites, type OperationContext } from '../common';

interface NotePlan {
	index: number;
	entity: string;
	recordId: string;
	subject: string;
	text: string;
}

export async function execute(ctx: OperationContext): Promise<INodeExecutionData[]> {
	const { fns, client, items } = ctx;
	const out: Array<INodeExecutionData | undefined> = new Array(items.length);
	const annotation = await client.table('annotation');
	const objectColumn = annotation.columns.get('objectid');
	const plans: NotePlan[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const { id, entity } = requireRecordId(ctx, i);
			const target = entity ?? ctx.resource;
			if (target !== 'lead' && target !== 'contact') {
				throw new NodeOperationError(fns.getNode(), `Notes can be added to leads and contacts, not to '${target}'`, { itemIndex: i });
			}
			const subject = String(fns.getNodeParameter('subject', i, '') ?? '').trim();
			const text = String(fns.getNodeParameter('noteText', i, '') ?? '');
			if (!subject && !text) throw new NodeOperationError(fns.getNode(), 'A note needs a subject or a text', { itemIndex: i });
			plans.push({ index: i, entity: target, recordId: id, subject, text });
		} catch (error) {
			out[i] = itemError(ctx, i, error);
		}
	}
	const skipExisting = fns.getNodeParameter('options.skipExistingSubject', 0, true) as boolean;
	const existing = new Set<string>();
	if (skipExisting && plans.length) {
		const ids = [...new Set(plans.map((p) => p.recordId))];
		await Promise.all(
			chunk(ids, 100).map(async (part) => {
				const { records } = await client.list<IDataObject>('annotations', {
					$select: 'subject,_objectid_value',
					$filter: inFilter('_objectid_value', part.map((id) => guidLiteral(id)), true),
				}, { table: 'annotation' });
				for (const note of records) existing.add(`${String(note._objectid_value).toLowerCase()}|${String(note.subject ?? '').trim().toLowerCase()}`);
			}),
		);
	}
	const ops: Array<{ plan: NotePlan; op: WriteOperation }> = [];
	for (const plan of plans) {
		const key = `${plan.recordId}|${plan.subject.toLowerCase()}`;
		if (skipExisting && plan.subject && existing.has(key)) {
			out[plan.index] = paired(
				{ operation: 'skipped', reason: 'the record already has a note with this subject', entity: plan.entity, recordId: plan.recordId, subject: plan.subject },
				plan.index,
			);
			continue;
		}
		existing.add(key);
		const nav = objectColumn?.navigation?.[plan.entity] ?? `objectid_${plan.entity}`;
		const body: IDataObject = {
			subject: plan.subject || null,
			notetext: plan.text,
			[`${nav}@odata.bind`]: `/${plan.entity === 'lead' ? 'leads' : 'contacts'}(${plan.recordId})`,
		};
		ops.push({ plan, op: { kind: 'create', table: annotation as TableInfo, id: randomUUID(), body } });
	}
	// Notes go out as the other writes do (a preview sends nothing and counts what the real run would send).
	const results = await sendWrites(ctx, ops.map((o) => o.op));
	results.forEach((result, k) => {
		const { plan, op } = ops[k];
		if (!result.ok) {
			out[plan.index] = itemError(ctx, plan.index, client.error(result.failure, { itemIndex: plan.index, table: 'annotation', action: 'add a note' }));
			return;
		}
		const json: IDataObject = { operation: 'created', id: result.id, entity: plan.entity, recordId: plan.recordId, subject: plan.subject };
		if (result.writeRequests !== undefined) {
			const changes = ['subject', 'notetext'].map((field) => ({ field, before: null, after: op.body?.[field] ?? null }));
			Object.assign(json, { preview: true, changes, writeRequests: result.writeRequests });
		}
		out[plan.index] = paired(json, plan.index);
	});
	return out.map((o, i) => o ?? paired({}, i));
}
