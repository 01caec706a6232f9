/**
 * Reading ahead for many contact sync items (a Scheduled Sync cycle with many Dynamics changes): which contacts hold
 * the items' links, from the link field's values when that is cheaper than one search per item (once), and the
 * contacts of the next few items with field values, tags and account in one request. The items are written one by
 * one as before; they find what was read here in the session (AcSession.prefetched, AcSession.linkIndex), each
 * contact once and only until this run writes it. The window is short so that a contact is read seconds, not
 * minutes, before it is written: a person's edit in between is seen as it was one by one.
 */
import { formatContactLink, isGuid } from '../../shared/sync/state';
import type { SyncItem } from '../../shared/sync/syncItem';
import { holdersOfValues, snapshotsByIds } from './contactRead';
import type { AcSession } from './session';

/** Fewer items are read one by one: reading ahead would not save a request. */
export const BATCH_THRESHOLDS = { readAheadFrom: 10 };

/** Items whose contacts are read in one request, just before they are written. */
export const PREFETCH_WINDOW = 10;

/** The link values of an item: its own, and the lead's it was qualified from. */
function linksOf(item: SyncItem): string[] {
	if (item.direction === 'toDynamics' || (item.entity !== 'lead' && item.entity !== 'contact')) return [];
	const out: string[] = [];
	const id = String(item.match.d365Id ?? '').toLowerCase();
	if (isGuid(id)) out.push(formatContactLink({ entity: item.entity, id }));
	const lead = String(item.match.originatingLead ?? '').toLowerCase();
	if (isGuid(lead)) out.push(formatContactLink({ entity: 'lead', id: lead }));
	return out;
}

/** Once per run: the link index for all items (when cheaper than searching per item). */
export async function prepareContactItems(session: AcSession, items: Array<{ itemIndex: number; item: SyncItem }>): Promise<void> {
	const links = new Set(items.flatMap(({ item }) => linksOf(item)));
	if (links.size < BATCH_THRESHOLDS.readAheadFrom) return;
	const { link: linkField } = await session.contactSyncFields();
	const byValue = await holdersOfValues(session, linkField.id, links.size);
	if (!byValue) return;
	session.linkIndex = { fieldId: String(linkField.id), byValue, stale: new Set() };
	session.readAhead = { items, next: 0 };
}

/** Before an item is written: when it starts a new window, the linked contacts of the window's items, read now. */
export async function readAheadFor(session: AcSession, itemIndex: number): Promise<void> {
	const plan = session.readAhead;
	const index = session.linkIndex;
	if (!plan || !index) return;
	const position = plan.items.findIndex((i) => i.itemIndex === itemIndex);
	if (position < plan.next) return;
	const window = plan.items.slice(position, position + PREFETCH_WINDOW);
	plan.next = position + window.length;
	// What the last window read and its items did not use is not kept: it would grow old.
	session.prefetched.clear();
	const links = window.flatMap(({ item }) => linksOf(item)).filter((l) => !index.stale.has(l));
	const ids = [...new Set(links.flatMap((l) => index.byValue.get(l) ?? []))];
	if (!ids.length) return;
	// Without side-loads nothing comes back: each contact is read when its item comes.
	for (const [id, snapshot] of await snapshotsByIds(session, ids, true)) session.prefetched.set(id, snapshot);
	// The index was read at the start of the run: a holder that no longer holds its value (another execution moved the
	// link, or the contact is gone) makes that value searched afresh.
	const linkField = index.fieldId;
	for (const link of links) {
		const holders = index.byValue.get(link) ?? [];
		if (holders.some((id) => session.prefetched.get(id)?.fieldValues.get(linkField)?.value !== link)) index.stale.add(link);
	}
}
