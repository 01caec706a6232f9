/*
 * ActiveCampaign sales actions for Dynamics 365 lead and contact forms: a command-bar button calls this package's
 * "AC ⇄ D365: Sales Actions" n8n workflow with the record, its email and the Dynamics user who clicked.
 *
 * Web resource (JavaScript), e.g. acd365_/salesActions.js. Command (modern command designer, Run JavaScript):
 *   Library acd365_/salesActions.js, function AcD365SalesActions.addToAutomation, parameters PrimaryControl and the
 *   ActiveCampaign automation id as a string (or AcD365SalesActions.sendCampaign with a campaign id).
 * Settings, read from two Dataverse environment variables (not kept in this file):
 *   acd365_SalesActionsUrl     the production URL of the workflow's "Sales action from Dynamics" webhook
 *   acd365_SalesActionsSecret  the value of the n8n credential "Sales actions webhook secret" (header X-Sync-Secret)
 * Step-by-step setup and what this button can and cannot guarantee: docs/sales-actions.md.
 */
/* global Xrm */
var AcD365SalesActions = (function () {
	'use strict';

	var URL_VARIABLE = 'acd365_SalesActionsUrl';
	var SECRET_VARIABLE = 'acd365_SalesActionsSecret';
	var SECRET_HEADER = 'X-Sync-Secret';

	/** A Dynamics id without braces, lower case. */
	function bare(id) {
		return String(id || '').replace(/[{}]/g, '').toLowerCase();
	}

	/** The current value of a Dataverse environment variable (its value row, else its default). */
	async function environmentVariable(schemaName) {
		var result = await Xrm.WebApi.retrieveMultipleRecords(
			'environmentvariabledefinition',
			"?$select=schemaname,defaultvalue&$filter=schemaname eq '" +
				schemaName +
				"'&$expand=environmentvariabledefinition_environmentvariablevalue($select=value)",
		);
		var definition = result.entities[0];
		if (!definition) throw new Error('The environment variable ' + schemaName + ' does not exist (see docs/sales-actions.md).');
		var values = definition.environmentvariabledefinition_environmentvariablevalue || [];
		var value = values.length && values[0].value ? values[0].value : definition.defaultvalue;
		if (!value) throw new Error('The environment variable ' + schemaName + ' has no value (see docs/sales-actions.md).');
		return value;
	}

	/** The signed-in Dynamics user: id (systemuserid), primary email and name. */
	async function currentUser() {
		var settings = Xrm.Utility.getGlobalContext().userSettings;
		var userId = bare(settings.userId);
		var user = await Xrm.WebApi.retrieveRecord('systemuser', userId, '?$select=internalemailaddress,domainname');
		return { userId: userId, userEmail: user.internalemailaddress || user.domainname || '', userName: settings.userName || '' };
	}

	async function run(formContext, action, target) {
		var entity = formContext.data.entity;
		var recordType = entity.getEntityName();
		var outcome;
		Xrm.Utility.showProgressIndicator('ActiveCampaign…');
		try {
			if (recordType !== 'lead' && recordType !== 'contact') throw new Error('Sales actions run on leads and contacts only.');
			if (!target) throw new Error('The button names no ActiveCampaign ' + (action === 'addToAutomation' ? 'automation' : 'campaign') + ' id.');
			var settings = await Promise.all([environmentVariable(URL_VARIABLE), environmentVariable(SECRET_VARIABLE), currentUser()]);
			var email = formContext.getAttribute('emailaddress1');
			var body = {
				recordType: recordType,
				recordId: bare(entity.getId()),
				email: email ? email.getValue() : null,
				action: action,
				userId: settings[2].userId,
				userEmail: settings[2].userEmail,
				userName: settings[2].userName,
			};
			body[action === 'addToAutomation' ? 'automation' : 'campaign'] = String(target);
			var headers = { 'Content-Type': 'application/json' };
			headers[SECRET_HEADER] = settings[1];
			var response = await fetch(settings[0], { method: 'POST', headers: headers, body: JSON.stringify(body) });
			var answer = {};
			try {
				answer = await response.json();
			} catch (e) {
				answer = {};
			}
			var done = action === 'addToAutomation' ? ' was added to the automation.' : ': the campaign was sent.';
			outcome = {
				ok: response.ok && answer.ok === true,
				status: response.status,
				message:
					response.ok && answer.ok === true
						? (answer.contact || 'The contact') + done
						: answer.error || 'The sales action failed (HTTP ' + response.status + ').',
			};
		} catch (error) {
			outcome = { ok: false, status: 0, message: error && error.message ? error.message : String(error) };
		} finally {
			Xrm.Utility.closeProgressIndicator();
		}
		await Xrm.Navigation.openAlertDialog({ title: 'ActiveCampaign', text: outcome.message });
		return outcome;
	}

	return {
		/** Adds the record's person to an ActiveCampaign automation. */
		addToAutomation: function (primaryControl, automationId) {
			return run(primaryControl, 'addToAutomation', automationId);
		},
		/** Sends an ActiveCampaign campaign to the record's person. */
		sendCampaign: function (primaryControl, campaignId) {
			return run(primaryControl, 'sendCampaign', campaignId);
		},
	};
})();
