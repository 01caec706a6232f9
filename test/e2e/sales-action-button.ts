/* eslint-disable @n8n/community-nodes/no-restricted-imports -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * Runs the command-bar web resource docs/dynamics/sales-action-button.js outside a browser: its own JavaScript in a
 * fresh V8 context, with a stand-in for the parts of Dynamics' client API (Xrm) it uses — the form's record, the
 * signed-in user, the two environment variables — and real `fetch` (or one a test passes).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

import { PROJECT_ROOT } from './runtime';

export const SALES_ACTION_BUTTON = path.join(PROJECT_ROOT, 'docs', 'dynamics', 'sales-action-button.js');

export interface ButtonOptions {
	/** The record on the form: table, id as Dynamics gives it (braces, upper case) and its primary email. */
	record: { entityName: string; id: string; email?: string | null };
	/** The signed-in Dynamics user. */
	user: { id: string; name: string; email: string };
	/** Environment variable values by schema name (a missing name does not exist in the environment). */
	settings: Record<string, string>;
	fetch?: typeof fetch;
}

export interface SalesActionButton {
	api: {
		addToAutomation(primaryControl: unknown, automationId: string): Promise<{ ok: boolean; status: number; message: string }>;
		sendCampaign(primaryControl: unknown, campaignId: string): Promise<{ ok: boolean; status: number; message: string }>;
	};
	formContext: unknown;
	/** Texts of the alert dialogs the button opened. */
	alerts: string[];
}

export function loadSalesActionButton(options: ButtonOptions): SalesActionButton {
	const alerts: string[] = [];
	const bare = (id: string) => id.replace(/[{}]/g, '').toLowerCase();
	const Xrm = {
		WebApi: {
			async retrieveMultipleRecords(table: string, query: string) {
				if (table !== 'environmentvariabledefinition') throw new Error(`unexpected table ${table}`);
				const name = /schemaname eq '([^']+)'/.exec(query)?.[1] ?? '';
				if (!(name in options.settings)) return { entities: [] };
				return {
					entities: [{ schemaname: name, defaultvalue: null, environmentvariabledefinition_environmentvariablevalue: [{ value: options.settings[name] }] }],
				};
			},
			async retrieveRecord(table: string, id: string) {
				if (table !== 'systemuser' || id !== bare(options.user.id)) throw new Error(`no ${table} ${id}`);
				return { internalemailaddress: options.user.email, domainname: options.user.email };
			},
		},
		Utility: {
			getGlobalContext: () => ({ userSettings: { userId: options.user.id, userName: options.user.name } }),
			showProgressIndicator: () => undefined,
			closeProgressIndicator: () => undefined,
		},
		Navigation: {
			async openAlertDialog(alert: { text: string }) {
				alerts.push(alert.text);
				return {};
			},
		},
	};
	const formContext = {
		data: { entity: { getEntityName: () => options.record.entityName, getId: () => options.record.id } },
		getAttribute: (name: string) => (name === 'emailaddress1' ? { getValue: () => options.record.email ?? null } : null),
	};
	const context = vm.createContext({ Xrm, fetch: options.fetch ?? fetch });
	const api = vm.runInContext(`${readFileSync(SALES_ACTION_BUTTON, 'utf8')}\nAcD365SalesActions;`, context, {
		filename: SALES_ACTION_BUTTON,
	}) as SalesActionButton['api'];
	return { api, formContext, alerts };
}
