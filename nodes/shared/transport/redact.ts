/**
 * Removes secrets from text that may reach an error message, a log line or node output: the values given, bearer
 * tokens, and the values of headers and form fields that carry credentials.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
	let result = text;
	for (const secret of secrets) {
		if (typeof secret === 'string' && secret.length >= 4) result = result.split(secret).join('[redacted]');
	}
	return result
		.replace(/(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, '$1[redacted]')
		.replace(/("?(?:api-token|authorization|client_secret|access_token|refresh_token)"?\s*[:=]\s*"?)[^"&\s,}]+/gi, '$1[redacted]');
}
