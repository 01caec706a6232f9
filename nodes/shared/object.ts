/**
 * A shallow copy of an object without some of its keys (what `const { a, b, ...rest } = value` gives, without naming
 * variables that are never used). lodash's `omit` is not used: it deep-clones what it keeps.
 */
export function omitKeys<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Omit<T, K> {
	const copy = { ...value };
	for (const key of keys) delete copy[key];
	return copy;
}
