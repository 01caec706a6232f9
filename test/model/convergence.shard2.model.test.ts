/**
 * The randomized convergence checker, shard 2 of 2 (test/model/suite.ts; test/model/README.md says what it checks
 * and how to run it). Jest runs the shards' files in parallel.
 */
import { convergenceSuite } from './suite';

convergenceSuite(1);
