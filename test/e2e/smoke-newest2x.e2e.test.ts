/** The smoke set (./smoke.ts) on the newest n8n 2.x of the compatibility matrix (./versions.ts). */
import { defineSmokeSuite } from './smoke';
import { MATRIX } from './versions';

defineSmokeSuite('newest2x', MATRIX.newest2x);
