import type { ItemOperation } from '../common';
import { setListStatus } from './shared';

/** Contact → Subscribe to List. */
export const subscribe: ItemOperation = async (ctx, itemIndex) => await setListStatus(ctx, itemIndex, 1);
