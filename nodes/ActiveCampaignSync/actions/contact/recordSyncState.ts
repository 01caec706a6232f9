import type { IDataObject } from 'n8n-workflow';

import { formatContactLink, formatState, parseState, type ContactLink } from '../../../shared/sync/state';
import type { RecordStateInput } from '../../helpers/contactSync';
import { recordContactStates } from '../../helpers/recordStates';
import { deleteAction, previewed, requestsOf, type BatchOperation, type OpContext } from '../common';
import { textList } from '../../../shared/lists';

/** A parameter that may hold a string or, from an expression, an object. */
function raw(ctx: OpContext, name: string, itemIndex: number): unknown {
	return ctx.fn.getNodeParameter(name, itemIndex, '') as unknown;
}

export function linkText(value: unknown): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	if (typeof value === 'object') {
		const link = value as Partial<ContactLink>;
		if ((link.entity === 'lead' || link.entity === 'contact') && typeof link.id === 'string') return formatContactLink(link as ContactLink);
		return undefined;
	}
	return String(value).trim() || undefined;
}

export function stateText(value: unknown): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	if (typeof value === 'object') {
		const state = value as IDataObject;
		if (typeof state.acHash === 'string' && typeof state.d365Hash === 'string') return formatState({ acHash: state.acHash, d365Hash: state.d365Hash });
		return undefined;
	}
	const text = String(value).trim();
	return parseState(text) ? text : text || undefined;
}

export function optionalText(value: unknown): string | undefined {
	if (value === undefined || value === null || typeof value === 'object') return undefined;
	const text = String(value).trim();
	return text && text !== 'undefined' && text !== 'null' ? text : undefined;
}

function stateInput(ctx: OpContext, itemIndex: number): RecordStateInput {
	const acId = String(raw(ctx, 'stateContactId', itemIndex) ?? '').trim();
	const email = String(raw(ctx, 'stateEmail', itemIndex) ?? '').trim();
	return {
		acId: acId && acId !== 'undefined' ? acId : undefined,
		email: email && email !== 'undefined' ? email : undefined,
		link: linkText(raw(ctx, 'stateLink', itemIndex)),
		state: stateText(raw(ctx, 'stateValue', itemIndex)),
		stateFields: textList(raw(ctx, 'stateFields', itemIndex)),
		stateBase: optionalText(raw(ctx, 'stateBase', itemIndex)),
		action: deleteAction(raw(ctx, 'stateAction', itemIndex)),
		tags: textList(raw(ctx, 'stateTags', itemIndex)),
		removeTags: textList(raw(ctx, 'stateRemoveTags', itemIndex)),
	};
}

/**
 * Contact → Record Sync State: stores link and state after a write to Dynamics, only when they differ. All items at
 * once: from ten contacts on, through the bulk importer (helpers/recordStates.ts).
 */
export const recordSyncState: BatchOperation = async (ctx, itemIndices) => {
	const { requests, failed } = requestsOf(itemIndices, (itemIndex) => stateInput(ctx, itemIndex));
	return [...failed, ...previewed(ctx, await recordContactStates(ctx.session, ctx.node, requests))];
};

