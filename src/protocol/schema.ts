/**
 * Field-level schema of every operation, in both directions. Encoders emit only the fields listed
 * here ([C] Dojo's schemas are closed); decoders read tolerantly. Field names are [M] unless the
 * contract marks them [C]: correct them here.
 */
import type { CaptureMode, MethodName, NotificationValue, PaymentStatus, TerminalStatus } from "./wire";
import { METHOD } from "./wire";
import { RECEIPT_RECORD_FIELDS } from "./receipt";
import type { ReceiptCardFields, ReceiptRecordFields } from "./receipt";

// ---- field names --------------------------------------------------------------------------

export const FIELD = {
  paymentId: "paymentId",
  terminalId: "terminalId",
  tid: "tid",
  captureMode: "captureMode",
  baseAmount: "baseAmount",
  tipsAmount: "tipsAmount",
  cashbackAmount: "cashbackAmount",
  currency: "currency",
  notificationValue: "notificationValue",
  timeout: "timeout",
  receiptLines: "receiptLines",
  accepted: "accepted",
  paymentSuccessful: "paymentSuccessful",
  status: "status",
  attemptedAt: "attemptedAt",
  authCode: "authCode",
  card: "card",
  terminals: "terminals",
  authorizedAmount: "authorizedAmount",
  capturedAmount: "capturedAmount",
  lastNotification: "lastNotification",
  userMessage: "userMessage",
  errorCode: "errorCode",
  /** [M] error `data`: the name of the offending parameter (INVALID_PARAMS, INVALID_AMOUNT). */
  field: "field",
} as const;

// ---- typed params and results -------------------------------------------------------------

export interface CreatePaymentParams {
  paymentId: string;
  terminalId: string;
  captureMode: CaptureMode;
  baseAmount: number;
  currency: string;
  tipsAmount?: number;
  cashbackAmount?: number;
}
export interface CreateRefundParams {
  paymentId: string;
  terminalId: string;
  baseAmount: number;
  currency: string;
}
export interface AmountParams {
  paymentId: string;
  baseAmount: number;
}
export interface CancelPaymentParams {
  paymentId: string;
  terminalId: string;
}
export interface PaymentIdParams {
  paymentId: string;
}
export interface TerminalIdParams {
  terminalId: string;
}
export type EmptyParams = Record<string, never>;

export interface CreateAck {
  paymentId: string;
  terminalId: string;
}
export interface AmountResult {
  paymentId: string;
  baseAmount: number;
}
export interface CancelResult {
  paymentId: string;
  terminalId: string;
  tid?: string;
}
export interface TerminalInfo {
  terminalId: string;
  tid?: string;
  status: TerminalStatus;
}
export interface ConnectedTerminalsResult {
  terminals: TerminalInfo[];
}
export interface PaymentState {
  paymentId: string;
  terminalId: string;
  captureMode?: CaptureMode;
  status: PaymentStatus;
  baseAmount?: number;
  authorizedAmount?: number;
  capturedAmount?: number;
  currency?: string;
  lastNotification?: NotificationValue;
}

export interface TerminalNotificationParams {
  paymentId: string;
  terminalId: string;
  notificationValue: NotificationValue;
}
export interface SignatureVerificationParams {
  paymentId: string;
  terminalId: string;
  timeout: number;
  receiptLines: string[];
}
export interface SignatureAnswer {
  paymentId: string;
  accepted: boolean;
}
export interface CardInfo extends ReceiptCardFields {
  scheme?: string;
  last4?: string;
}
export interface RecordParams extends ReceiptRecordFields {
  paymentId: string;
  terminalId: string;
  captureMode?: CaptureMode;
  baseAmount: number;
  tipsAmount?: number;
  cashbackAmount?: number;
  currency: string;
  paymentSuccessful: boolean;
  status: PaymentStatus;
  attemptedAt?: string;
  authCode?: string;
  card?: CardInfo;
}
export interface RecordAck {
  paymentId: string;
}

/** Params and result types per method, both directions. */
export interface Operations {
  CreatePayment: { params: CreatePaymentParams; result: CreateAck };
  CreateRefund: { params: CreateRefundParams; result: CreateAck };
  CapturePayment: { params: AmountParams; result: AmountResult };
  UpdatePayment: { params: AmountParams; result: AmountResult };
  CancelPayment: { params: CancelPaymentParams; result: CancelResult };
  GetPayment: { params: PaymentIdParams; result: PaymentState };
  ConnectedTerminals: { params: EmptyParams; result: ConnectedTerminalsResult };
  TerminalDetails: { params: TerminalIdParams; result: TerminalInfo };
  TerminalNotification: { params: TerminalNotificationParams; result: never };
  SignatureVerification: { params: SignatureVerificationParams; result: SignatureAnswer };
  RecordPayment: { params: RecordParams; result: RecordAck };
  RecordRefund: { params: RecordParams; result: RecordAck };
}
export type EposRequestMethod =
  "CreatePayment" | "CreateRefund" | "CapturePayment" | "UpdatePayment" | "CancelPayment" | "GetPayment" | "ConnectedTerminals" | "TerminalDetails";

// ---- the closed field lists ----------------------------------------------------------------

interface FieldList {
  params: readonly string[];
  required: readonly string[];
  result: readonly string[];
}

const F = FIELD;
const RECORD_FIELDS = [
  F.paymentId,
  F.terminalId,
  F.captureMode,
  F.baseAmount,
  F.tipsAmount,
  F.cashbackAmount,
  F.currency,
  F.paymentSuccessful,
  F.status,
  F.attemptedAt,
  F.authCode,
  F.card,
  ...RECEIPT_RECORD_FIELDS, // §7a [D]
] as const;

export const SCHEMA: Readonly<Record<MethodName, FieldList>> = {
  [METHOD.createPayment]: {
    params: [F.paymentId, F.terminalId, F.captureMode, F.baseAmount, F.currency, F.tipsAmount, F.cashbackAmount],
    required: [F.paymentId, F.terminalId, F.captureMode, F.baseAmount, F.currency],
    result: [F.paymentId, F.terminalId],
  },
  [METHOD.createRefund]: {
    params: [F.paymentId, F.terminalId, F.baseAmount, F.currency],
    required: [F.paymentId, F.terminalId, F.baseAmount, F.currency],
    result: [F.paymentId, F.terminalId],
  },
  [METHOD.capturePayment]: {
    params: [F.paymentId, F.baseAmount],
    required: [F.paymentId, F.baseAmount],
    result: [F.paymentId, F.baseAmount],
  },
  [METHOD.updatePayment]: {
    params: [F.paymentId, F.baseAmount],
    required: [F.paymentId, F.baseAmount],
    result: [F.paymentId, F.baseAmount],
  },
  [METHOD.cancelPayment]: {
    params: [F.paymentId, F.terminalId],
    required: [F.paymentId, F.terminalId],
    result: [F.paymentId, F.terminalId, F.tid],
  },
  [METHOD.getPayment]: {
    params: [F.paymentId],
    required: [F.paymentId],
    result: [F.paymentId, F.terminalId, F.captureMode, F.status, F.baseAmount, F.authorizedAmount, F.capturedAmount, F.currency, F.lastNotification],
  },
  [METHOD.connectedTerminals]: { params: [], required: [], result: [F.terminals] },
  [METHOD.terminalDetails]: {
    params: [F.terminalId],
    required: [F.terminalId],
    result: [F.terminalId, F.tid, F.status],
  },
  [METHOD.terminalNotification]: {
    params: [F.paymentId, F.terminalId, F.notificationValue],
    required: [F.paymentId, F.terminalId, F.notificationValue],
    result: [],
  },
  [METHOD.signatureVerification]: {
    params: [F.paymentId, F.terminalId, F.timeout, F.receiptLines],
    required: [F.paymentId, F.terminalId],
    result: [F.paymentId, F.accepted],
  },
  [METHOD.recordPayment]: { params: RECORD_FIELDS, required: [F.paymentId], result: [F.paymentId] },
  [METHOD.recordRefund]: { params: RECORD_FIELDS, required: [F.paymentId], result: [F.paymentId] },
};

const KNOWN_METHODS: ReadonlySet<string> = new Set(Object.values(METHOD));
export function isKnownMethod(method: string): method is MethodName {
  return KNOWN_METHODS.has(method);
}

/** Copy only the listed fields that are defined: what we put on the wire. */
export function pickFields(source: object, fields: readonly string[]): Record<string, unknown> {
  const src = source as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = src[f];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

/** Names of fields in `obj` that the schema does not list (for the simulator's strict mode). */
export function unknownFields(obj: Record<string, unknown>, fields: readonly string[]): string[] {
  return Object.keys(obj).filter((k) => !fields.includes(k));
}

export function missingFields(obj: Record<string, unknown>, required: readonly string[]): string[] {
  return required.filter((k) => obj[k] === undefined || obj[k] === null);
}
