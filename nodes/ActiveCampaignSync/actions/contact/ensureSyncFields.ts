import type { BatchOperation } from '../common';

/** Contact → Ensure Sync Fields: the hidden link/state fields (contacts and accounts) and the D365 tags. Once per run. */
export const ensureSyncFields: BatchOperation = async (ctx, itemIndices) => {
	const ids = await ctx.session.syncFields();
	return [
		{
			itemIndex: itemIndices[0],
			json: {
				contactFields: {
					link: { id: ids.contact.link.id, title: ids.contact.link.title, perstag: ids.contact.link.perstag },
					state: { id: ids.contact.state.id, title: ids.contact.state.title, perstag: ids.contact.state.perstag },
				},
				accountFields: {
					link: { id: ids.account.link.id, label: ids.account.link.label },
					state: { id: ids.account.state.id, label: ids.account.state.label },
				},
				tags: Object.fromEntries(Object.entries(ids.tags).map(([name, tag]) => [name, tag.id])),
			},
		},
	];
};
