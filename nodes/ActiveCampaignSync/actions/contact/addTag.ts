import { NodeOperationError } from 'n8n-workflow';

import { readContactTags } from '../../helpers/contactRead';
import { uniqueNames } from '../../helpers/contactWrite';
import { param, type ItemOperation } from '../common';
import { previewOfTags, resolveContactId } from './shared';
import { planCreated } from '../../../shared/preview';
import { textList } from '../../../shared/lists';

/** Contact → Add Tag: by name, tags created when missing; tags the contact already has are left alone. */
export const addTag: ItemOperation = async (ctx, itemIndex) => {
	const id = await resolveContactId(ctx, param(ctx, 'contact', itemIndex), itemIndex);
	const names = uniqueNames(textList(ctx.fn.getNodeParameter('tags', itemIndex, [])));
	if (!names.length) throw new NodeOperationError(ctx.node, 'No tag names given', { itemIndex });
	const current = await readContactTags(ctx.session, id, itemIndex);
	const added: string[] = [];
	for (const name of names) {
		if (current.some((t) => t.name.toLowerCase() === name.toLowerCase())) continue;
		const tag = await ctx.session.ensureTag(name, itemIndex);
		added.push(tag.name);
		if (ctx.session.preview) {
			ctx.session.planWrite(itemIndex);
			// A later step of the same preview reads the contact with it (contact Get).
			planCreated(ctx.fn, `tagOf:${id}`, tag.name);
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
