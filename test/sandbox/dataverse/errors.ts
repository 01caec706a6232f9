/**
 * Dataverse error envelopes: `{"error":{"code":"0x…","message":"…"}}`. Codes and messages follow Microsoft's
 * documentation where it gives them (see README "Known differences" for the ones it does not).
 */

/** An error a handler throws; the dispatcher turns it into the Dataverse envelope with this status. */
export class DataverseError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
	}

	toBody(): { error: { code: string; message: string } } {
		return { error: { code: this.code, message: this.message } };
	}
}

/** The code Dataverse uses for OData URI / query parsing errors. */
export const ODATA_ERROR = '0x80060888';
/** Error identified in payload (OData deserialisation of a request body). */
export const PAYLOAD_ERROR = '0x80048d19';

export const errors = {
	resourceNotFound(segment: string) {
		return new DataverseError(404, '0x8006088a', `Resource not found for the segment '${segment}'.`);
	},
	noHttpResource(url: string) {
		return new DataverseError(404, '', `No HTTP resource was found that matches the request URI '${url}'.`);
	},
	propertyNotFound(property: string, table: string) {
		return new DataverseError(400, '0x0', `Could not find a property named '${property}' on type 'Microsoft.Dynamics.CRM.${table}'.`);
	},
	/** Unknown property in a request body (documented in "Troubleshoot Dataverse Web API client errors"). */
	invalidProperty(property: string, table: string) {
		return new DataverseError(
			400,
			'0x0',
			`An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property '${property}' was found in entity 'Microsoft.Dynamics.CRM.${table}'. ---> Microsoft.OData.ODataException: Does not support untyped value in non-open type.`,
		);
	},
	payload(entitySet: string, inner: string) {
		return new DataverseError(
			400,
			PAYLOAD_ERROR,
			`Error identified in Payload provided by the user for Entity :'${entitySet}', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : ${inner}`,
		);
	},
	cannotConvert(entitySet: string, literal: string, edmType: string) {
		return errors.payload(
			entitySet,
			`Microsoft.OData.ODataException: Cannot convert the literal '${literal}' to the expected type '${edmType}'.`,
		);
	},
	undeclaredAnnotationOnly(entitySet: string, property: string) {
		return errors.payload(
			entitySet,
			`Microsoft.OData.ODataException: An undeclared property '${property}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.`,
		);
	},
	recordNotFound(table: string, id: string) {
		return new DataverseError(404, '0x80040217', `${table} With Id = ${id} Does Not Exist`);
	},
	recordNotFoundByKey(table: string) {
		return new DataverseError(404, '0x80040217', `A record with the specified key values does not exist in ${table} entity`);
	},
	duplicateRecord() {
		return new DataverseError(412, '0x80040237', 'A record with matching key values already exists.');
	},
	versionMismatch() {
		return new DataverseError(412, '0x80060882', "The version of the existing record doesn't match the RowVersion property provided.");
	},
	maxLength(attribute: string, table: string, max: number) {
		return new DataverseError(
			400,
			'0x80044331',
			`A validation error occurred.  The length of the '${attribute}' attribute of the '${table}' entity exceeded the maximum allowed length of '${max}'.`,
		);
	},
	optionOutOfRange(attribute: string, table: string, value: number, accepted: number[]) {
		return new DataverseError(
			400,
			'0x8004431a',
			`A validation error occurred. The value ${value} of '${attribute}' on record of type '${table}' is outside the valid range. Accepted Values: ${accepted.join(',')}`,
		);
	},
	invalidStatus(status: number, stateName: string, table: string, id: string) {
		return new DataverseError(400, '0x80040203', `${status} is not a valid status code for state code ${stateName} on ${table} with Id ${id}.`);
	},
	alternateKeyInvalid(table: string) {
		return new DataverseError(
			400,
			ODATA_ERROR,
			`The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.${table}'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.${table}'.`,
		);
	},
	odata(message: string, status = 400) {
		return new DataverseError(status, ODATA_ERROR, message);
	},
	methodNotAllowed(method: string) {
		return new DataverseError(405, ODATA_ERROR, `The HTTP method '${method}' is not allowed for this resource.`);
	},
	invalidArgument(message: string) {
		return new DataverseError(400, '0x80040203', message);
	},
	/** A required message parameter is missing (the SDK's wording for missing request fields). */
	requiredField(name: string) {
		return new DataverseError(400, '0x80040203', `Required field '${name}' is missing`);
	},
	/** Documented for an entity-typed action parameter sent without `@odata.type` ("Use Web API actions"). */
	entityParameterWithoutKey() {
		return new DataverseError(400, PAYLOAD_ERROR, 'EdmEntityObject passed should have the key property value set.');
	},
	// Merge: MergeEntitiesIdenticalError, MergeEntityNotActiveError, MergeDifferentlyParentedWarning and
	// MergeCyclicalParentingError from the Dataverse web service error codes.
	mergeEntitiesIdentical() {
		return new DataverseError(400, '0x80045305', 'Merge cannot be performed on master and sub-entities that are identical.');
	},
	mergeEntityNotActive() {
		return new DataverseError(400, '0x80045304', 'Merge cannot be performed on entity that is inactive.');
	},
	mergeDifferentlyParented() {
		return new DataverseError(400, '0x80045316', 'Merge warning: sub-entity will be differently parented.');
	},
	mergeCyclicalParenting() {
		return new DataverseError(400, '0x80045300', 'Merge could create cyclical parenting.');
	},
	/** LeadAlreadyInClosedState: qualifying a lead that is already qualified or disqualified. */
	leadAlreadyClosed() {
		return new DataverseError(400, '0x80040519', 'The lead is already closed.');
	},
};

/** The documented messages of the three service protection limits. */
export const THROTTLE = {
	requests: (limit: number, windowSeconds: number) =>
		new DataverseError(
			429,
			'0x80072322',
			`Number of requests exceeded the limit of ${limit} over time window of ${windowSeconds} seconds.`,
		),
	executionTime: (limitMs: number, windowSeconds: number) =>
		new DataverseError(
			429,
			'0x80072321',
			`Combined execution time of incoming requests exceeded limit of ${limitMs.toLocaleString('en-US')} milliseconds over time window of ${windowSeconds} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.`,
		),
	concurrency: (limit: number) =>
		new DataverseError(429, '0x80072326', `Number of concurrent requests exceeded the limit of ${limit}.`),
};
