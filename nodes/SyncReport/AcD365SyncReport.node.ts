import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { reportHtml, takeReport } from '../shared/report';
import { queuedRetries } from '../shared/sync/retries';

/**
 * The last step of a sync template: what this execution's sync steps did, per entity and direction, and what it cost
 * (nodes/shared/report.ts). Its input items are only what starts it; the figures come from the steps themselves.
 */
export class AcD365SyncReport implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'AC-D365 Sync Report',
		name: 'acD365SyncReport',
		icon: { light: 'file:report.svg', dark: 'file:report.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["alert"] === "never" ? "Report" : "Report, alert on failures" }}',
		description:
			'Reports what the sync steps of this run did: created, updated, deleted, skipped by reason, conflicts, failures, retries and requests used',
		defaults: { name: 'Sync Report' },
		// A step of a sync workflow that reports on the steps before it: nothing an AI agent could call on its own.
		usableAsTool: undefined,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Report', 'Needs Attention'],
		properties: [
			{
				displayName:
					'Put this step after every other step of the sync: it reports what the AC-D365 steps of this execution did. Connect "Needs Attention" to a notification (Slack, email, Teams) or to a Stop and Error step that starts your error workflow.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Send to Needs Attention',
				name: 'alert',
				type: 'options',
				options: [
					{
						name: 'On Failures or Dead Letters',
						value: 'failures',
						description: 'When a record failed in this run, or the retry queue holds a dead letter',
					},
					{
						name: 'On Failures Only',
						value: 'runFailures',
						description: 'When a record failed in this run',
					},
					{ name: 'Never', value: 'never', description: 'The report always goes to the Report output' },
				],
				default: 'failures',
				description: 'When the report goes to the Needs Attention output instead of the Report output',
			},
			{
				displayName: 'Include HTML Page',
				name: 'html',
				type: 'boolean',
				default: true,
				description:
					'Whether to add the report as a small HTML page with a chart: in the field "html" (an HTML step after this one shows it in its output) and as the file "report" (binary, to download or attach)',
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const alert = this.getNodeParameter('alert', 0, 'failures') as string;
		const withHtml = this.getNodeParameter('html', 0, true) as boolean;
		const report = takeReport(this, queuedRetries(this.getWorkflowStaticData('global')));
		const attention =
			(alert === 'failures' && report.needsAttention) || (alert === 'runFailures' && report.totals.failed > 0);
		// `alerted` tells the steps after both outputs which one the report took (e.g. to fail the run on alerts).
		const item: INodeExecutionData = { json: { ...report, alerted: attention }, pairedItem: { item: 0 } };
		if (withHtml) {
			const html = reportHtml(report);
			item.json = { ...item.json, html };
			item.binary = { report: await this.helpers.prepareBinaryData(Buffer.from(html, 'utf8'), 'sync-report.html', 'text/html') };
		}
		return attention ? [[], [item]] : [[item], []];
	}
}
