/**
 * The public face of every node and credential — its description as n8n reads it (parameters, defaults, options,
 * display conditions) — compared as JSON with the committed snapshot. A restructuring of the code inside the nodes
 * must leave it unchanged; a deliberate change of the interface updates the snapshot (`npx jest -u` on this file) in
 * the same commit, where the diff shows it.
 */
import { ActiveCampaignSyncApi } from '../../../credentials/ActiveCampaignSyncApi.credentials';
import { Dynamics365ClientCredentialsApi } from '../../../credentials/Dynamics365ClientCredentialsApi.credentials';
import { Dynamics365OAuth2Api } from '../../../credentials/Dynamics365OAuth2Api.credentials';
import { ActiveCampaignSync } from '../../../nodes/ActiveCampaignSync/ActiveCampaignSync.node';
import { ActiveCampaignSyncTrigger } from '../../../nodes/ActiveCampaignSync/ActiveCampaignSyncTrigger.node';
import { Dynamics365 } from '../../../nodes/Dynamics365/Dynamics365.node';
import { Dynamics365Trigger } from '../../../nodes/Dynamics365/Dynamics365Trigger.node';
import { AcD365FieldMap } from '../../../nodes/FieldMap/AcD365FieldMap.node';
import { AcD365SyncReport } from '../../../nodes/SyncReport/AcD365SyncReport.node';

const nodes = { ActiveCampaignSync, ActiveCampaignSyncTrigger, Dynamics365, Dynamics365Trigger, AcD365FieldMap, AcD365SyncReport };
const credentials = { ActiveCampaignSyncApi, Dynamics365ClientCredentialsApi, Dynamics365OAuth2Api };

/** As n8n serialises it: functions (none expected) and undefined values drop out. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

describe.each(Object.entries(nodes))('node %s', (_name, NodeClass) => {
	it('describes itself as the snapshot says', () => {
		expect(asJson(new NodeClass().description)).toMatchSnapshot();
	});
});

describe.each(Object.entries(credentials))('credential %s', (_name, CredentialClass) => {
	it('describes itself as the snapshot says', () => {
		const { name, displayName, properties, ...rest } = new CredentialClass() as unknown as Record<string, unknown>;
		expect(asJson({ name, displayName, properties, extends: rest.extends })).toMatchSnapshot();
	});
});
