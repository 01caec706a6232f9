import { recordAccountState } from '../../helpers/accounts';
import { codeList, deleteAction, type ItemOperation } from '../common';

function text(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	const s = typeof value === 'object' ? '' : String(value).trim();
	return s && s !== 'undefined' ? s : undefined;
}

/** Account → Record Sync State: stores link and state after a write to Dynamics, only when they differ. */
export const recordSyncState: ItemOperation = async (ctx, itemIndex) => {
	const stateRaw = ctx.fn.getNodeParameter('stateValue', itemIndex, '') as unknown;
	let state = text(stateRaw);
	if (stateRaw && typeof stateRaw === 'object') {
		const s = stateRaw as { acHash?: string; d365Hash?: string };
		if (s.acHash && s.d365Hash) state = `v1:${s.acHash}:${s.d365Hash}`;
	}
	return await recordAccountState(
		ctx.session,
		ctx.node,
		{
			acId: text(ctx.fn.getNodeParameter('stateAccountId', itemIndex, '')),
			name: text(ctx.fn.getNodeParameter('stateName', itemIndex, '')),
			link: text(ctx.fn.getNodeParameter('stateLink', itemIndex, ''))?.toLowerCase(),
			state,
			stateFields: codeList(ctx.fn.getNodeParameter('stateFields', itemIndex, [])),
			stateBase: text(ctx.fn.getNodeParameter('stateBase', itemIndex, '')),
			action: deleteAction(ctx.fn.getNodeParameter('stateAction', itemIndex, '')),
		},
		itemIndex,
	);
};
