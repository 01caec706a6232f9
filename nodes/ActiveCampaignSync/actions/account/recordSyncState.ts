import { recordAccountStates, type AccountStateRequest } from '../../helpers/accountStates';
import { deleteAction, previewed, requestsOf, type BatchOperation, type OpContext } from '../common';
import { textList } from '../../../shared/lists';

function text(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	const s = typeof value === 'object' ? '' : String(value).trim();
	return s && s !== 'undefined' ? s : undefined;
}

function stateInput(ctx: OpContext, itemIndex: number): AccountStateRequest['input'] {
	const stateRaw = ctx.fn.getNodeParameter('stateValue', itemIndex, '') as unknown;
	let state = text(stateRaw);
	if (stateRaw && typeof stateRaw === 'object') {
		const s = stateRaw as { acHash?: string; d365Hash?: string };
		if (s.acHash && s.d365Hash) state = `v1:${s.acHash}:${s.d365Hash}`;
	}
	return {
		acId: text(ctx.fn.getNodeParameter('stateAccountId', itemIndex, '')),
		name: text(ctx.fn.getNodeParameter('stateName', itemIndex, '')),
		link: text(ctx.fn.getNodeParameter('stateLink', itemIndex, ''))?.toLowerCase(),
		state,
		stateFields: textList(ctx.fn.getNodeParameter('stateFields', itemIndex, [])),
		stateBase: text(ctx.fn.getNodeParameter('stateBase', itemIndex, '')),
		action: deleteAction(ctx.fn.getNodeParameter('stateAction', itemIndex, '')),
	};
}

/**
 * Account → Record Sync State: stores link and state after a write to Dynamics, only when they differ. All items at
 * once: from ten accounts on, through the account field values' bulk endpoints (helpers/accountStates.ts).
 */
export const recordSyncState: BatchOperation = async (ctx, itemIndices) => {
	const { requests, failed } = requestsOf(itemIndices, (itemIndex) => stateInput(ctx, itemIndex));
	return [...failed, ...previewed(ctx, await recordAccountStates(ctx.session, ctx.node, requests))];
};
