/**
 * Checks of EPOS request params. A failed check throws a Rejection (caught by the operation
 * dispatcher and sent as an error response); every one carries a staff-readable `userMessage`.
 */
import { CAPTURE_MODE, FIELD, SCHEMA, missingFields, unknownFields } from "../protocol";
import type { CaptureMode, ErrorName, JsonObject, MethodName } from "../protocol";

export interface Failure {
  error: ErrorName;
  userMessage: string;
  data?: JsonObject;
}

export class Rejection extends Error {
  constructor(readonly failure: Failure) {
    super(failure.userMessage);
    this.name = "Rejection";
  }
}

export function reject(error: ErrorName, userMessage: string, data?: JsonObject): never {
  throw new Rejection({ error, userMessage, ...(data ? { data } : {}) });
}

export function invalidParam(field: string, userMessage: string): Failure {
  return { error: "INVALID_PARAMS", userMessage, data: { [FIELD.field]: field } };
}

/** Strict mode: Dojo's schemas are closed, so any param the schema does not list is refused. */
export function checkUnknown(method: MethodName, params: JsonObject): Failure | undefined {
  const extra = unknownFields(params, SCHEMA[method].params);
  if (extra.length === 0) return undefined;
  return invalidParam(extra[0], `${method} does not accept the parameter(s) ${extra.join(", ")}`);
}

export function checkRequired(method: MethodName, params: JsonObject): Failure | undefined {
  const missing = missingFields(params, SCHEMA[method].required);
  if (missing.length === 0) return undefined;
  return invalidParam(missing[0], `${method} is missing the parameter(s) ${missing.join(", ")}`);
}

export function text(params: JsonObject, field: string): string {
  const v = params[field];
  if (typeof v === "string" && v.trim() !== "") return v;
  throw new Rejection(invalidParam(field, `${field} must be a non-empty string`));
}

export function currency(params: JsonObject, field: string): string {
  const v = params[field];
  if (typeof v === "string" && /^[A-Z]{3}$/.test(v)) return v;
  throw new Rejection(invalidParam(field, `${field} must be a three-letter ISO 4217 code such as GBP`));
}

export function captureMode(params: JsonObject, field: string): CaptureMode {
  const v = params[field];
  if (v === CAPTURE_MODE.AUTO || v === CAPTURE_MODE.MANUAL) return v;
  throw new Rejection(invalidParam(field, `${field} must be ${CAPTURE_MODE.AUTO} or ${CAPTURE_MODE.MANUAL}`));
}

/**
 * An amount in minor units. A value that is not a number is a malformed request (INVALID_PARAMS); a
 * number that is not a positive integer (or, when `allowZero`, a non-negative one) is INVALID_AMOUNT.
 */
export function amount(params: JsonObject, field: string, opts: { optional?: boolean; allowZero?: boolean } = {}): number {
  const v = params[field];
  if (v === undefined && opts.optional) return 0;
  if (typeof v !== "number") throw new Rejection(invalidParam(field, `${field} must be a number of pence`));
  const min = opts.allowZero ? 0 : 1;
  if (!Number.isSafeInteger(v) || v < min) {
    reject("INVALID_AMOUNT", `${field} must be a whole number of pence${opts.allowZero ? "" : " greater than zero"} (got ${v})`, { [FIELD.field]: field });
  }
  return v;
}
