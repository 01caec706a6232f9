/** The smoke set (./smoke.ts) on the last n8n 1.x line of the compatibility matrix (./versions.ts). */
import { defineSmokeSuite } from './smoke';
import { MATRIX } from './versions';

defineSmokeSuite('last1x', MATRIX.last1x);
