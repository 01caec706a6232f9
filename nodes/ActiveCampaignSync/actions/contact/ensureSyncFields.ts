import { isStandIn } from '../../../shared/preview';
import { SKIP_REASONS } from '../../../shared/sync/decide';
import type { SyncFieldIds } from '../../helpers/session';
import type { BatchOperation } from '../common';

/**
 * Contact → Ensure Sync Fields: the hidden link/state fields (contacts and accounts) and the D365 tags. Once per run.
 * A preview creates nothing and lists what it would create, one item each (the session's stand-ins).
 */
export const ensureSyncFields: BatchOperation = async (ctx, itemIndices) => {
	const ids = await ctx.session.syncFields();
	const itemIndex = itemIndices[0];
	if (ctx.session.preview) {
		// Each item counts its own requests (a contact field is created, then related to every list), not the run.
		ctx.session.forgetPlannedWrites(-1);
		const created = (kind: string, name: string, definition: Record<string, string>) => ({
			itemIndex,
			json: {
				preview: true,
				operation: 'created',
				kind,
				name,
				writeRequests: kind === 'contactField' ? 2 : 1,
				changes: Object.entries(definition).map(([field, after]) => ({ field, before: null, after })),
			},
		});
		const items = [
			...[ids.contact.link, ids.contact.state].filter((f) => isStandIn(f.id)).map((f) => created('contactField', f.title, { title: f.title, perstag: f.perstag, type: f.type })),
			...(await ctx.session.accountFields()).filter((f) => isStandIn(f.id)).map((f) => created('accountField', f.label, { label: f.label, type: f.type })),
			...Object.values(ids.tags).filter((t) => isStandIn(t.id)).map((t) => created('tag', t.name, { name: t.name })),
		];
		if (items.length) return items;
		return [{ itemIndex, json: { preview: true, operation: 'skipped', reason: SKIP_REASONS.noChanges, ...summary(ids) } }];
	}
	return [{ itemIndex, json: summary(ids) }];
};

function summary(ids: SyncFieldIds) {
	return {
		contactFields: {
			link: { id: ids.contact.link.id, title: ids.contact.link.title, perstag: ids.contact.link.perstag },
			state: { id: ids.contact.state.id, title: ids.contact.state.title, perstag: ids.contact.state.perstag },
		},
		accountFields: {
			link: { id: ids.account.link.id, label: ids.account.link.label },
			state: { id: ids.account.state.id, label: ids.account.state.label },
		},
		tags: Object.fromEntries(Object.entries(ids.tags).map(([name, tag]) => [name, tag.id])),
	};
}
