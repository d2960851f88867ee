/**
 * What `dojo-pac-check` expects of Dojo's frames beyond the field lists of schema.ts: the type and
 * value set of each field, which fields must be present on read, the id type, the close code and
 * the timings. [M] like the rest of the contract: correct a line here when staging shows otherwise
 * (the check's report names the line).
 */
import { FIELD, SCHEMA } from "./schema";
import { CAPTURE_MODE, DEFAULT_SIGNATURE_TIMEOUT_S, METHOD, NOTIFICATION, PAYMENT_STATUS, TERMINAL_STATUS } from "./wire";
import type { MethodName } from "./wire";

export type FieldType =
  { kind: "string" | "integer" | "number" | "boolean" | "isoTime" | "stringArray" | "object" | "array" } | { kind: "enum"; values: readonly string[] };

const t = (kind: Exclude<FieldType["kind"], "enum">): FieldType => ({ kind });
const oneOf = (values: Record<string, string>): FieldType => ({ kind: "enum", values: Object.values(values) });

/** Field types wherever the field appears (a method's own line in METHOD_FIELD_TYPES wins). */
export const FIELD_TYPES: Readonly<Record<string, FieldType>> = {
  [FIELD.paymentId]: t("string"),
  [FIELD.terminalId]: t("string"),
  [FIELD.tid]: t("string"),
  [FIELD.captureMode]: oneOf(CAPTURE_MODE),
  [FIELD.baseAmount]: t("integer"),
  [FIELD.tipsAmount]: t("integer"),
  [FIELD.cashbackAmount]: t("integer"),
  [FIELD.authorizedAmount]: t("integer"),
  [FIELD.capturedAmount]: t("integer"),
  [FIELD.currency]: t("string"),
  [FIELD.notificationValue]: oneOf(NOTIFICATION),
  [FIELD.lastNotification]: oneOf(NOTIFICATION),
  [FIELD.timeout]: t("number"),
  [FIELD.accepted]: t("boolean"),
  [FIELD.paymentSuccessful]: t("boolean"),
  [FIELD.status]: oneOf(PAYMENT_STATUS),
  [FIELD.attemptedAt]: t("isoTime"),
  [FIELD.authCode]: t("string"),
  [FIELD.card]: t("object"),
  [FIELD.terminals]: t("array"),
};

/** Types that differ by method (the same name means something else there). */
export const METHOD_FIELD_TYPES: Readonly<Partial<Record<MethodName, Readonly<Record<string, FieldType>>>>> = {
  [METHOD.terminalDetails]: { [FIELD.status]: oneOf(TERMINAL_STATUS) },
  [METHOD.connectedTerminals]: { [FIELD.status]: oneOf(TERMINAL_STATUS) },
  [METHOD.signatureVerification]: { [FIELD.receiptLines]: t("stringArray") },
};

/** The type the check expects of `field` on `method`'s frames (undefined: not checked). */
export function expectedType(method: MethodName, field: string): FieldType | undefined {
  return METHOD_FIELD_TYPES[method]?.[field] ?? FIELD_TYPES[field];
}

/** [M] Fields of a record every delivery must carry; the rest of SCHEMA's list may be absent (authCode on a decline, card when none was read). */
const RECORD_EXPECTED = [
  FIELD.paymentId,
  FIELD.terminalId,
  FIELD.captureMode,
  FIELD.baseAmount,
  FIELD.tipsAmount,
  FIELD.cashbackAmount,
  FIELD.currency,
  FIELD.paymentSuccessful,
  FIELD.status,
  FIELD.attemptedAt,
] as const;

/** Fields that must be present on read, where it is not "every field SCHEMA lists". */
export const EXPECTED_ON_READ: Readonly<Partial<Record<MethodName, readonly string[]>>> = {
  [METHOD.recordPayment]: RECORD_EXPECTED,
  [METHOD.recordRefund]: RECORD_EXPECTED,
};

/** Fields Dojo's frame for `method` must carry: its params for Dojo's requests, its result for Dojo's answers. */
export function expectedFields(method: MethodName, part: "params" | "result"): readonly string[] {
  return EXPECTED_ON_READ[method] ?? SCHEMA[method][part];
}

/** [C] "id is declared as an integer": what Dojo's request ids and the ids of its answers should be. */
export const EXPECTED_ID_TYPE = "integer";

/** [M] Timings the check measures: the signature timeout Dojo announces (s). */
export const EXPECTED_SIGNATURE_TIMEOUT_S = DEFAULT_SIGNATURE_TIMEOUT_S;
