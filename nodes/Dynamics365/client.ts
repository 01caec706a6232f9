/**
 * The Dataverse client other nodes may use: the transport (auth, throttling, paging, $batch, errors) with its table
 * metadata cache. Nothing else in this folder is imported from outside it.
 */
export { DataverseClient } from './transport';
export type { ColumnInfo, TableInfo } from './transport/metadata';
