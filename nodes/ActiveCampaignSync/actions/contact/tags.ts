import { NodeOperationError, type IDataObject } from 'n8n-workflow';

import { readContactTags } from '../../helpers/contactRead';
import { uniqueNames } from '../../helpers/contactWrite';
import { param, type ItemOperation } from '../common';
import { resolveContactId, stringList } from './shared';

/** Contact → Add Tag: by name, tags created when missing; tags the contact already has are left alone. */
export const addTag: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const names = uniqueNames(stringList(ctx.fn.getNodeParameter('tags', itemIndex, [])));
	if (!names.length) throw new NodeOperationError(ctx.node, 'No tag names given', { itemIndex });
	const current = await readContactTags(ctx.session, id, itemIndex);
	const added: string[] = [];
	for (const name of names) {
		if (current.some((t) => t.name.toLowerCase() === name.toLowerCase())) continue;
		const tag = await ctx.session.ensureTag(name, itemIndex);
		added.push(tag.name);
		if (ctx.session.preview) {
			ctx.session.planWrite(itemIndex);
			continue;
		}
		// A contact has a tag or not: adding it again answers the existing contactTag.
		await ctx.session.request({
			method: 'POST',
			path: '/api/3/contactTags',
			body: { contactTag: { contact: id, tag: tag.id } },
			itemIndex,
			repeatable: true,
		});
	}
	const tags = [...current.map((t) => t.name), ...added];
	if (ctx.session.preview) return previewOfTags(id, added.length ? 'updated' : 'skipped', current, tags, { tagsAdded: added });
	return { id, tagsAdded: added, tags };
};

/** Contact → Remove Tag: by name (the contact's tag link is looked up and deleted). */
export const removeTag: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const names = uniqueNames(stringList(ctx.fn.getNodeParameter('tags', itemIndex, [])));
	if (!names.length) throw new NodeOperationError(ctx.node, 'No tag names given', { itemIndex });
	const current = await readContactTags(ctx.session, id, itemIndex);
	const removed: string[] = [];
	for (const name of names) {
		for (const tag of current.filter((t) => t.name.toLowerCase() === name.toLowerCase())) {
			removed.push(tag.name);
			if (ctx.session.preview) ctx.session.planWrite(itemIndex);
			else await ctx.session.request({ method: 'DELETE', path: `/api/3/contactTags/${tag.contactTagId}`, itemIndex, allowNotFound: true });
		}
	}
	const tags = current.map((t) => t.name).filter((n) => !removed.includes(n));
	if (ctx.session.preview) return previewOfTags(id, removed.length ? 'updated' : 'skipped', current, tags, { tagsRemoved: removed });
	return { id, tagsRemoved: removed, tags };
};

/** A preview's item for a tag change: the contact's tags before and after (a tag the run would create is named). */
function previewOfTags(id: string, operation: 'updated' | 'skipped', current: Array<{ name: string }>, tags: string[], what: IDataObject): IDataObject {
	const before = current.map((t) => t.name);
	return {
		operation,
		...(operation === 'skipped' ? { reason: 'no changes' } : {}),
		id,
		...what,
		tags,
		changes: operation === 'skipped' ? [] : [{ field: 'tags', before, after: tags }],
		preview: true,
	};
}
