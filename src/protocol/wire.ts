/**
 * Every wire name of the Dojo PAC contract (../shared/pac-protocol.md) lives in this file and in
 * ./schema.ts. Lines marked [M] in the contract are modelled, not confirmed by Dojo: correct them
 * here (and only here) after checking against Dojo staging.
 */

export const JSONRPC_VERSION = "2.0";

/** [C] Dojo's endpoints. */
export const DOJO_URLS = {
  production: "wss://api.dojo.tech/ws/v2/pac/epos",
  staging: "wss://staging-api.dojo.dev/ws/v2/pac/epos",
} as const;

/** Path our simulator serves, mirroring Dojo's. */
export const PAC_PATH = "/ws/v2/pac/epos";

/** Handshake headers (lower-case, as Node reports them). */
export const HEADER = {
  authorization: "authorization",
  eposId: "epos-id",
  softwareHouseId: "software-house-id",
  resellerId: "reseller-id",
} as const;

/** [M] Close code and reason Dojo uses when a newer connection takes the same epos-id. */
export const CLOSE_DISPLACED = { code: 4001, reason: "duplicate epos-id" } as const;

/** [M] HTTP statuses of handshake failures. */
export const HTTP_STATUS = {
  unauthorized: 401,
  badRequest: 400,
  /** Our simulator's answer to any path other than PAC_PATH. */
  notFound: 404,
  /** Our simulator's answer to a plain HTTP request on PAC_PATH. */
  upgradeRequired: 426,
} as const;

/** [M] The authentication scheme of the `Authorization` header. */
export const AUTH_SCHEME = "Basic";

export const METHOD = {
  // EPOS -> Dojo
  createPayment: "CreatePayment",
  createRefund: "CreateRefund",
  capturePayment: "CapturePayment",
  updatePayment: "UpdatePayment",
  cancelPayment: "CancelPayment",
  getPayment: "GetPayment",
  connectedTerminals: "ConnectedTerminals",
  terminalDetails: "TerminalDetails",
  // Dojo -> EPOS
  terminalNotification: "TerminalNotification",
  signatureVerification: "SignatureVerification",
  recordPayment: "RecordPayment",
  recordRefund: "RecordRefund",
} as const;
export type MethodName = (typeof METHOD)[keyof typeof METHOD];

/** [C] standard JSON-RPC codes; [M] Dojo's own codes (real numbers unknown, -32070 … -32090). */
export const ERROR_CODE = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  TERMINAL_BUSY: -32070,
  TERMINAL_OFFLINE: -32071,
  PAYMENT_NOT_FOUND: -32072,
  DUPLICATE_PAYMENT_ID: -32073,
  INVALID_STATE: -32074,
  INVALID_AMOUNT: -32075,
  PAYMENT_ALREADY_RECORDED: -32080,
} as const;
export type ErrorName = keyof typeof ERROR_CODE;

const ERROR_NAMES: ReadonlyMap<number, ErrorName> = new Map((Object.entries(ERROR_CODE) as [ErrorName, number][]).map(([name, code]) => [code, name]));

/** The symbolic name of a code, or undefined for a code the contract does not list. */
export function errorName(code: number): ErrorName | undefined {
  return ERROR_NAMES.get(code);
}

/** The wire message for a code: Dojo's own codes carry their symbolic name as message [M]. */
export const ERROR_MESSAGE: Readonly<Record<ErrorName, string>> = {
  PARSE_ERROR: "Parse error",
  INVALID_REQUEST: "Invalid Request",
  METHOD_NOT_FOUND: "Method not found",
  INVALID_PARAMS: "Invalid parameter",
  INTERNAL_ERROR: "Internal error",
  TERMINAL_BUSY: "TERMINAL_BUSY",
  TERMINAL_OFFLINE: "TERMINAL_OFFLINE",
  PAYMENT_NOT_FOUND: "PAYMENT_NOT_FOUND",
  DUPLICATE_PAYMENT_ID: "DUPLICATE_PAYMENT_ID",
  INVALID_STATE: "INVALID_STATE",
  INVALID_AMOUNT: "INVALID_AMOUNT",
  PAYMENT_ALREADY_RECORDED: "PAYMENT_ALREADY_RECORDED",
};

/** [C] Errors are carried under `result`; set false if staging shows JSON-RPC's `error` member. */
export const ERRORS_UNDER_RESULT = true;

export const CAPTURE_MODE = { AUTO: "AUTO", MANUAL: "MANUAL" } as const;
export type CaptureMode = (typeof CAPTURE_MODE)[keyof typeof CAPTURE_MODE];

/** [M] GetPayment / RecordPayment statuses. */
export const PAYMENT_STATUS = {
  PENDING: "PENDING",
  IN_PROGRESS: "IN_PROGRESS",
  AUTHORIZED: "AUTHORIZED",
  CAPTURED: "CAPTURED",
  DECLINED: "DECLINED",
  CANCELLED: "CANCELLED",
  REVERSED: "REVERSED",
  FAILED: "FAILED",
  REFUNDED: "REFUNDED",
} as const;
export type KnownPaymentStatus = (typeof PAYMENT_STATUS)[keyof typeof PAYMENT_STATUS];
/** Unknown statuses from Dojo are passed through as strings. */
export type PaymentStatus = KnownPaymentStatus | (string & {});

/** A status after which a transaction on the terminal is over. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set<string>([
  PAYMENT_STATUS.AUTHORIZED,
  PAYMENT_STATUS.CAPTURED,
  PAYMENT_STATUS.DECLINED,
  PAYMENT_STATUS.CANCELLED,
  PAYMENT_STATUS.REVERSED,
  PAYMENT_STATUS.FAILED,
  PAYMENT_STATUS.REFUNDED,
]);

export const SUCCESS_STATUSES: ReadonlySet<string> = new Set<string>([PAYMENT_STATUS.AUTHORIZED, PAYMENT_STATUS.CAPTURED, PAYMENT_STATUS.REFUNDED]);

/** [C] PRESENT_CARD; [M] the legacy list. Unknown values are passed through unchanged. */
export const NOTIFICATION = {
  CONNECTING: "CONNECTING",
  CONNECTION_MADE: "CONNECTION_MADE",
  REQUEST_SENT: "REQUEST_SENT",
  PRESENT_CARD: "PRESENT_CARD",
  RE_PRESENT_CARD: "RE_PRESENT_CARD",
  PRESENT_ONLY_ONE_CARD: "PRESENT_ONLY_ONE_CARD",
  INSERT_CARD: "INSERT_CARD",
  BAD_SWIPE: "BAD_SWIPE",
  CARD_ERROR: "CARD_ERROR",
  CARD_EXPIRED: "CARD_EXPIRED",
  CARD_NOT_SUPPORTED: "CARD_NOT_SUPPORTED",
  PIN_ENTRY: "PIN_ENTRY",
  ENTER_CASHBACK: "ENTER_CASHBACK",
  PLEASE_WAIT: "PLEASE_WAIT",
  SIGNATURE_VERIFICATION: "SIGNATURE_VERIFICATION",
  SIGNATURE_VERIFICATION_IN_PROGRESS: "SIGNATURE_VERIFICATION_IN_PROGRESS",
  SIGNATURE_VERIFICATION_PROCESS_COMPLETED: "SIGNATURE_VERIFICATION_PROCESS_COMPLETED",
  SIGNATURE_VERIFICATION_PROCESS_COULD_NOT_BE_COMPLETED: "SIGNATURE_VERIFICATION_PROCESS_COULD_NOT_BE_COMPLETED",
  SIGNATURE_VERIFICATION_TIMEOUT: "SIGNATURE_VERIFICATION_TIMEOUT",
  APPROVED: "APPROVED",
  DECLINED: "DECLINED",
  DECLINED_BY_CARD: "DECLINED_BY_CARD",
  PROCESSING_ERROR: "PROCESSING_ERROR",
  ATTEMPTING_CANCEL: "ATTEMPTING_CANCEL",
  CANCELLING: "CANCELLING",
  RETRYING: "RETRYING",
  REMOVE_CARD: "REMOVE_CARD",
  REPLACE_PAPER: "REPLACE_PAPER",
  TRANSACTION_FINISHED: "TRANSACTION_FINISHED",
} as const;
export type KnownNotification = (typeof NOTIFICATION)[keyof typeof NOTIFICATION];
export type NotificationValue = KnownNotification | (string & {});

/**
 * [M] A pre-auth's record says AUTHORIZED; a capture or a reversal made later moves it on. A record
 * delivered late (after a reconnect, a restart) must not move the status back.
 */
const AFTER_AUTHORIZED: ReadonlySet<string> = new Set([PAYMENT_STATUS.CAPTURED, PAYMENT_STATUS.REVERSED]);

/** The status to keep when a record with `recordStatus` arrives for a payment now at `current`. */
export function statusAfterRecord(current: string | undefined, recordStatus: string): string {
  return recordStatus === PAYMENT_STATUS.AUTHORIZED && current !== undefined && AFTER_AUTHORIZED.has(current) ? current : recordStatus;
}

/** [M] The steps a terminal shows before the customer presents a card (the rest of the known list comes after). */
const STEPS_BEFORE_CARD: ReadonlySet<string> = new Set([
  NOTIFICATION.CONNECTING,
  NOTIFICATION.CONNECTION_MADE,
  NOTIFICATION.REQUEST_SENT,
  NOTIFICATION.PRESENT_CARD,
]);
const KNOWN_STEPS: ReadonlySet<string> = new Set(Object.values(NOTIFICATION));

/** The step proves the terminal got past asking for the card (false for unknown values: nothing is proved). */
export function isStepAfterCard(step: string | undefined): boolean {
  return step !== undefined && KNOWN_STEPS.has(step) && !STEPS_BEFORE_CARD.has(step);
}

/** [M] TerminalDetails / ConnectedTerminals statuses. */
export const TERMINAL_STATUS = { AVAILABLE: "AVAILABLE", BUSY: "BUSY", OFFLINE: "OFFLINE" } as const;
export type TerminalStatus = (typeof TERMINAL_STATUS)[keyof typeof TERMINAL_STATUS] | (string & {});

/** [M] Default SignatureVerification timeout in seconds (Dojo REST docs). */
export const DEFAULT_SIGNATURE_TIMEOUT_S = 80;
