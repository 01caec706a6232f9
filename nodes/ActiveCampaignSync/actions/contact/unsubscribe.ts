import type { ItemOperation } from '../common';
import { setListStatus } from './shared';

/** Contact → Unsubscribe From List. */
export const unsubscribe: ItemOperation = async (ctx, itemIndex) => await setListStatus(ctx, itemIndex, 2);
