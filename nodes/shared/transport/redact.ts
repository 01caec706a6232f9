/**
 * Removes secrets from text that may reach an error message, a log line or node output: the secret values given (as
 * given, trimmed, and in their URL- and JSON-escaped forms), values that follow `Bearer` or `Basic` and look like a
 * credential, and the values of headers and form fields that carry credentials. Ordinary words are left alone:
 * "a Bearer token is missing" stays readable.
 */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
	let result = text;
	for (const secret of secretForms(secrets)) result = result.split(secret).join('[redacted]');
	return result
		.replace(/\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]*[A-Za-z0-9\-_~+/]=*)/gi, (match, scheme: string, space: string, value: string) =>
			looksLikeCredential(value) ? `${scheme}${space}[redacted]` : match,
		)
		.replace(
			/("?(?:api-token|authorization|client_secret|access_token|refresh_token|id_token)"?\s*[:=]\s*"?)((?:bearer|basic)\s+)?([^"&\s,}]+)/gi,
			(match, key: string, scheme: string | undefined, value: string) =>
				value === '[redacted]' || /^(null|undefined|true|false)$/i.test(value) ? match : `${key}${scheme ?? ''}[redacted]`,
		);
}

/** The shortest value treated as a secret: shorter ones would replace ordinary words. */
const MIN_SECRET_LENGTH = 4;

/** Every form a secret may take in a text, longest first (so a secret inside another is not replaced piecemeal). */
function secretForms(secrets: Iterable<string | undefined>): string[] {
	const forms = new Set<string>();
	for (const secret of secrets) {
		if (typeof secret !== 'string') continue;
		for (const value of [secret, secret.trim()]) {
			if (value.length < MIN_SECRET_LENGTH) continue;
			forms.add(value);
			forms.add(encodeURIComponent(value));
			forms.add(JSON.stringify(value).slice(1, -1));
		}
	}
	return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * Whether a word after `Bearer` / `Basic` is a credential rather than prose ("token", "authorization_uri="): at least
 * six characters holding a digit or a character words do not have (`.~+/`), or a long run of letters.
 */
function looksLikeCredential(value: string): boolean {
	const core = value.replace(/=+$/, '');
	return core.length >= 6 && (/[0-9.~+/]/.test(core) || core.length >= 24);
}
