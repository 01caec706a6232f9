import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

/**
 * A node subtitle that says what the step does as the panel says it ("Create or update a contact"), built from the
 * operations' `action` texts per resource — never the internal values ("upsert: contact", "get: otherTable").
 * `extra` is appended as an expression body (e.g. the table of "Other Table").
 *
 * n8n ends an expression at the first `}}` it meets, so the table must never hold two closing braces in a row (the
 * end of a nested object): they are kept apart by a space. Without it the editor showed no subtitle at all.
 */
export function actionSubtitle(properties: INodeProperties[], extra = ''): string {
	const actions: Record<string, Record<string, string>> = {};
	for (const property of properties) {
		if (property.name !== 'operation' || property.type !== 'options') continue;
		const resources = (property.displayOptions?.show?.resource as string[] | undefined) ?? [''];
		for (const resource of resources) {
			const byOperation = (actions[resource] ??= {});
			for (const option of (property.options ?? []) as INodePropertyOptions[]) {
				byOperation[String(option.value)] = option.action ?? option.name;
			}
		}
	}
	const table = JSON.stringify(actions).replace(/\}(?=\})/g, '} ');
	return `={{ ((${table})[$parameter["resource"]] || {})[$parameter["operation"]] || "" }}${extra}`;
}
