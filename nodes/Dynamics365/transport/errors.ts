/**
 * Dataverse failures in words a workflow builder can act on: the service's own code and message, plus what to do.
 * A missing privilege names the privilege, the table and the fix. Every text passes through `redact`.
 */
import { NodeApiError, type INode, type JsonObject } from 'n8n-workflow';

import type { HttpFailure } from '../../shared/transport/failure';
import { redact } from '../../shared/transport/redact';
import { isSignInError, type DynamicsSignInError } from './connection';

export interface DataverseErrorBody {
	code?: string;
	message?: string;
}

/** `{ error: { code, message } }` of a Dataverse response body (or a `$batch` part). */
export function dataverseError(body: unknown): DataverseErrorBody | undefined {
	if (!body || typeof body !== 'object') return typeof body === 'string' && body ? { message: body.slice(0, 500) } : undefined;
	const error = (body as { error?: unknown }).error;
	if (error && typeof error === 'object') {
		const e = error as { code?: unknown; message?: unknown };
		return {
			code: typeof e.code === 'string' ? e.code : undefined,
			message: typeof e.message === 'string' ? e.message : undefined,
		};
	}
	if (typeof error === 'string') {
		const d = (body as { error_description?: unknown }).error_description;
		return { code: error, message: typeof d === 'string' ? d : error };
	}
	const message = (body as { message?: unknown }).message;
	return typeof message === 'string' ? { message } : undefined;
}

const ACCESS = ['Create', 'Read', 'Write', 'Delete', 'Append', 'AppendTo', 'Assign', 'Share'];

/** `prvReadLead` → `Read` on `Lead`. */
export function parsePrivilege(name: string): { access: string; entity: string } | undefined {
	const match = /^prv(AppendTo|Append|Create|Read|Write|Delete|Assign|Share)(\w+)$/.exec(name);
	return match ? { access: match[1], entity: match[2] } : undefined;
}

export interface ExplainedFailure {
	message: string;
	description: string;
	httpCode: string;
	code?: string;
}

export interface FailureContext {
	/** The table the request was for (logical name), when known. */
	table?: string;
	/** What the node tried to do, e.g. "read", "create". */
	action?: string;
}

const FIX_PRIVILEGE =
	"Ask an administrator to add it to the application user's security role (Power Platform admin center → Environments → your environment → Settings → Users + permissions → Security roles), or, when you sign in with the OAuth2 credential, to a security role of your user.";

/** Message and description for a failed request. */
export function explainFailure(failure: HttpFailure, context: FailureContext = {}): ExplainedFailure {
	const status = failure.status;
	const body = dataverseError(failure.body);
	const code = body?.code || undefined;
	const serviceMessage = body?.message?.trim();
	const httpCode = status ? String(status) : failure.networkCode ?? 'ERROR';
	const codeText = code ? ` (code ${code})` : '';

	if (status === 0) {
		return {
			message: `Could not reach Dynamics 365: ${failure.networkCode ?? failure.message}`,
			description: 'Check the Environment URL of the credential and the network path to it. Transient failures were retried.',
			httpCode,
		};
	}

	const privilegeMatch = /missing (prv\w+) privilege/i.exec(serviceMessage ?? '');
	if (status === 403 && privilegeMatch) {
		const privilege = privilegeMatch[1];
		const parsed = parsePrivilege(privilege);
		const entity = /for entity '([^']+)'/.exec(serviceMessage ?? '')?.[1] ?? context.table ?? parsed?.entity.toLowerCase() ?? 'this table';
		return {
			message: `The Dynamics 365 user of this connection is missing the ${privilege} privilege (${parsed?.access ?? 'access'} on the ${entity} table)`,
			description: `${FIX_PRIVILEGE} Dataverse said: ${serviceMessage}${codeText}`,
			httpCode,
			code,
		};
	}
	const accessMatch = /does not have (\w+?)Access right\(s\) for record with id [^ ]+ of entity (\w+)/i.exec(serviceMessage ?? '');
	if (status === 403 && accessMatch) {
		const access = ACCESS.find((a) => a.toLowerCase() === accessMatch[1].toLowerCase()) ?? accessMatch[1];
		return {
			message: `The Dynamics 365 user of this connection has no ${access} access to this ${accessMatch[2]} record`,
			description: `The security role grants ${access} on ${accessMatch[2]} at a level that does not reach this record (for example "User" instead of "Organization"). ${FIX_PRIVILEGE.replace('add it', 'raise that privilege level')} Dataverse said: ${serviceMessage}${codeText}`,
			httpCode,
			code,
		};
	}
	if (status === 403) {
		return {
			message: serviceMessage || 'Dynamics 365 refused the request (403 Forbidden)',
			description: `The user of this connection lacks a privilege${context.table ? ` on the ${context.table} table` : ''} or has no security role. ${FIX_PRIVILEGE}${codeText}`,
			httpCode,
			code,
		};
	}
	if (status === 401) {
		return {
			message: serviceMessage || 'Dynamics 365 did not accept the sign-in (401 Unauthorized)',
			description:
				'Check the credential: the environment URL, tenant, client ID and secret, and that the app registration exists as an application user in this Dataverse environment.',
			httpCode,
			code,
		};
	}
	if (status === 429) {
		return {
			message: serviceMessage || 'Dynamics 365 is throttling requests (429 Too Many Requests)',
			description: `The service protection limits were still exceeded after the retries this node makes.${codeText} Run with fewer items at once or later.`,
			httpCode,
			code,
		};
	}
	if (status === 404 && code === '0x8006088a') {
		return {
			message: serviceMessage || 'Resource not found',
			description: `Dynamics 365 does not know this table or path${context.table ? ` (table ${context.table})` : ''}. Entity set names are case-sensitive.${codeText}`,
			httpCode,
			code,
		};
	}
	if (status === 404) {
		return {
			message: serviceMessage || 'The record was not found',
			description: `The record does not exist or was deleted.${codeText}`,
			httpCode,
			code,
		};
	}
	if (status === 412) {
		return {
			message: serviceMessage || 'A precondition failed (412)',
			description: `Another record already has these key values, or the record changed since it was read.${codeText}`,
			httpCode,
			code,
		};
	}
	if (status >= 500) {
		return {
			message: serviceMessage || `Dynamics 365 failed to process the request (${status})`,
			description: `The request was retried and still failed.${codeText}`,
			httpCode,
			code,
		};
	}
	return {
		message: serviceMessage || failure.message || `Dynamics 365 answered ${status}`,
		description: `Dynamics 365 rejected the request${context.action ? ` to ${context.action}` : ''}${context.table ? ` (table ${context.table})` : ''}.${codeText}`,
		httpCode,
		code,
	};
}

/**
 * A NodeApiError for a failure. Its cause is a small JSON object with the Dataverse code and message only: the
 * original axios error (which carries request headers, hence tokens) is never attached.
 */
export function toNodeApiError(
	node: INode,
	failure: HttpFailure,
	context: FailureContext & { itemIndex?: number; secrets?: Iterable<string | undefined> } = {},
): NodeApiError {
	const explained = explainFailure(failure, context);
	const secrets = [...(context.secrets ?? [])];
	const message = redact(explained.message, secrets);
	const description = redact(explained.description, secrets);
	const errorBody: JsonObject = {
		message,
		...(explained.code ? { code: explained.code } : {}),
		httpCode: explained.httpCode,
	};
	const error = new NodeApiError(node, errorBody, {
		message,
		description,
		httpCode: explained.httpCode,
		...(context.itemIndex !== undefined ? { itemIndex: context.itemIndex } : {}),
	});
	return error;
}

/** The sign-in failure (the credential's token request) behind an error n8n's request helper threw, if any. */
export function signInFailure(error: unknown): DynamicsSignInError | undefined {
	let current: unknown = error;
	for (let depth = 0; current && typeof current === 'object' && depth < 6; depth++) {
		if (isSignInError(current)) return current;
		const next: unknown = (current as { cause?: unknown }).cause ?? (current as { reason?: unknown }).reason;
		if (next === current) break;
		current = next;
	}
	return undefined;
}

/** Whether a failed sign-in fails again when repeated now (not a network failure, throttling or a server error). */
export function isLastingSignInFailure(failure: DynamicsSignInError): boolean {
	if (failure.code) return false;
	const status = Number(failure.httpCode);
	return !(status === 429 || status >= 500);
}

/** A NodeApiError for a failed sign-in: its message names the credential field to fix. */
export function toSignInError(
	node: INode,
	failure: DynamicsSignInError,
	context: { itemIndex?: number; secrets?: Iterable<string | undefined> } = {},
): NodeApiError {
	const secrets = [...(context.secrets ?? [])];
	const message = redact(failure.message, secrets);
	const description = redact(failure.description, secrets);
	// No network code as httpCode: n8n would replace the message with its generic words for that code.
	const httpCode = failure.httpCode;
	return new NodeApiError(node, { message, ...(httpCode ? { httpCode } : {}) } as JsonObject, {
		message,
		description,
		...(httpCode ? { httpCode } : {}),
		...(context.itemIndex !== undefined ? { itemIndex: context.itemIndex } : {}),
	});
}
