import type { IDataObject } from 'n8n-workflow';

import { filterTime } from '../../helpers/changes';
import { accountLinksOf, LIST_SIDE_LOADS, presentContact, readContact, sideLoadsByContact, snapshotFromList } from '../../helpers/contactRead';
import { acContactPageBodies, acContactPages } from '../../transport';
import { readEach, type ItemOperation } from '../common';
import { omitKeys } from '../../../shared/object';

/**
 * Contact → Get Many: keyset paging (`orders[id]=ASC`, `id_greater`), at most 100 contacts per request and no cap
 * on the total; filters by dates, email, tag (by name), list and search.
 */
export const getAll: ItemOperation = async (ctx, itemIndex) => {
	const returnAll = ctx.fn.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? undefined : (ctx.fn.getNodeParameter('limit', itemIndex, 50) as number);
	const filters = ctx.fn.getNodeParameter('filters', itemIndex, {}) as IDataObject;
	const details = (ctx.fn.getNodeParameter('getAllOptions', itemIndex, {}) as IDataObject).details === true;
	const qs: IDataObject = {};
	if (filters.createdAfter) qs['filters[created_after]'] = filterTime(String(filters.createdAfter));
	if (filters.updatedAfter) qs['filters[updated_after]'] = filterTime(String(filters.updatedAfter));
	if (typeof filters.email === 'string' && filters.email.trim()) qs.email = filters.email.trim();
	if (typeof filters.search === 'string' && filters.search.trim()) qs.search = filters.search.trim();
	if (filters.list) qs.listid = String(filters.list);
	if (typeof filters.tag === 'string' && filters.tag.trim()) {
		const tag = await ctx.session.tagByName(filters.tag);
		if (!tag) return [];
		qs.tagid = tag.id;
	}
	if (!details) {
		const contacts: IDataObject[] = [];
		for await (const page of acContactPages(ctx.session.ctx, qs, { max: limit, itemIndex })) contacts.push(...page);
		return contacts.map((c) => omitKeys(c, ['links']));
	}
	// With details: field values, tags and lists side-loaded with each page, account links read the cheaper way.
	const contacts: IDataObject[] = [];
	const relatedOf = new Map<IDataObject, IDataObject | undefined>();
	for await (const { contacts: page, body } of acContactPageBodies(ctx.session.ctx, { ...qs, include: LIST_SIDE_LOADS.join(',') }, { max: limit, itemIndex })) {
		const related = sideLoadsByContact(body);
		for (const contact of page) {
			contacts.push(contact);
			relatedOf.set(contact, related ? (related.get(String(contact.id)) ?? {}) : undefined);
		}
	}
	const accounts = await accountLinksOf(ctx.session, contacts.map((c) => String(c.id)), itemIndex);
	return await readEach(
		ctx,
		itemIndex,
		contacts,
		'contact',
		async (c) => {
			const related = relatedOf.get(c);
			if (related) return await presentContact(ctx.session, await snapshotFromList(ctx.session, c, related, accounts.get(String(c.id)) ?? null));
			const snapshot = await readContact(ctx.session, String(c.id), { itemIndex, tags: true, account: true });
			return snapshot ? await presentContact(ctx.session, snapshot) : undefined;
		},
	);
};
