/**
 * A GUID's text (a Dataverse id): the one pattern of the package. Anchored, braced, prefixed or searching patterns are
 * built from it where they are needed.
 */
export const GUID_TEXT = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** Exactly a GUID. */
export const GUID_PATTERN = new RegExp(`^${GUID_TEXT}$`);
