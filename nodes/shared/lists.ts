/**
 * A list parameter as people give it: an array (a multi-options field, an expression's array), a JSON array in text
 * (for entries that contain commas) or comma-separated text. Entries are trimmed and empty ones dropped; text that
 * starts with "[" but is no JSON array is one entry (and fails where it is checked, never silently nothing).
 */
export function textList(value: unknown): string[] {
	if (Array.isArray(value)) return value.map((v) => String(v ?? '').trim()).filter(Boolean);
	if (typeof value !== 'string' && typeof value !== 'number') return [];
	const text = String(value).trim();
	if (text.startsWith('[')) {
		try {
			const parsed = JSON.parse(text) as unknown;
			if (Array.isArray(parsed)) return textList(parsed);
		} catch {
			// Not JSON: one entry, below.
		}
		return [text];
	}
	return splitCommas(text);
}

/** Comma-separated text → its trimmed, non-empty entries. */
export function splitCommas(text: string): string[] {
	return text
		.split(',')
		.map((v) => v.trim())
		.filter(Boolean);
}
