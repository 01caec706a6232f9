/**
 * The ActiveCampaign client other nodes may use: one session per execution over the transport (rate limiter,
 * retries, pagers, redaction) with its caches of fields, tags, lists and schemas. Nothing else in this folder is
 * imported from outside it.
 */
export { AcSession } from './helpers/session';
