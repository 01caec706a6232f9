import { NodeOperationError } from 'n8n-workflow';

import { readContactTags } from '../../helpers/contactRead';
import { uniqueNames } from '../../helpers/contactWrite';
import { param, type ItemOperation } from '../common';
import { previewOfTags, resolveContactId } from './shared';
import { textList } from '../../../shared/lists';

/** Contact → Remove Tag: by name (the contact's tag link is looked up and deleted). */
export const removeTag: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const names = uniqueNames(textList(ctx.fn.getNodeParameter('tags', itemIndex, [])));
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
