/**
 * JSON-RPC framing: parse inbound frames into typed frames (never throwing), encode outbound ones
 * with only the schema's fields, and read Dojo's payloads tolerantly.
 */
import { basicToken } from "../common/basic-token";
import { isPlainObject } from "../common/json";
import { FIELD, SCHEMA, pickFields, isKnownMethod } from "./schema";
import { readReceiptCard, readReceiptRecordFields } from "./receipt";
import type { CardInfo, PaymentState, RecordParams, SignatureVerificationParams, TerminalInfo, TerminalNotificationParams } from "./schema";
import type { ErrorName, MethodName, CaptureMode } from "./wire";
import { AUTH_SCHEME, ERRORS_UNDER_RESULT, ERROR_CODE, ERROR_MESSAGE, JSONRPC_VERSION, errorName, DEFAULT_SIGNATURE_TIMEOUT_S } from "./wire";
import { aliasedField, errorNameOfAlias, withCanonicalNames } from "./aliases";

export type RpcId = number | string;
export type JsonObject = Record<string, unknown>;

export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

export interface RpcErrorInfo {
  code: number;
  /** The symbolic name when the code is one the contract lists. */
  name?: ErrorName;
  message: string;
  /** The number on the wire when it was an alias (ERROR_CODE_ALIASES) of `code`. */
  wireCode?: number;
  /** Text for staff (Dojo's `data.userMessage`), not for program logic. */
  userMessage?: string;
  data?: JsonObject;
}

export type Frame =
  | { kind: "request"; id: RpcId; method: string; params: JsonObject }
  | { kind: "notification"; method: string; params: JsonObject }
  | { kind: "response"; id: RpcId; result: JsonObject }
  | { kind: "error"; id: RpcId | null; error: RpcErrorInfo };

export type FrameProblem = "too-large" | "not-json" | "not-jsonrpc";

/** A frame that could not be read: typed, carrying the id when one could be found. */
export class FrameError extends Error {
  constructor(
    readonly problem: FrameProblem,
    message: string,
    readonly id: RpcId | null = null,
  ) {
    super(message);
    this.name = "FrameError";
  }
}

export type ParseResult = { ok: true; frame: Frame } | { ok: false; error: FrameError };

const POLLUTING_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const POLLUTION_HINT = /"(?:__proto__|constructor|prototype)"/;

function dropPollutingKeys(key: string, value: unknown): unknown {
  return POLLUTING_KEYS.has(key) ? undefined : value;
}

function isId(v: unknown): v is RpcId {
  return (typeof v === "number" && Number.isFinite(v)) || typeof v === "string";
}

/** Parse one inbound frame. Never throws. */
export function parseFrame(data: string | Buffer, maxBytes = DEFAULT_MAX_FRAME_BYTES): ParseResult {
  const size = typeof data === "string" ? Buffer.byteLength(data) : data.length;
  if (size > maxBytes) {
    return { ok: false, error: new FrameError("too-large", `frame of ${size} bytes exceeds the ${maxBytes}-byte limit`) };
  }
  const text = typeof data === "string" ? data : data.toString("utf8");
  let value: unknown;
  try {
    // Keys that could pollute prototypes are dropped; the reviver is slow, so only when hinted.
    value = POLLUTION_HINT.test(text) ? JSON.parse(text, dropPollutingKeys) : JSON.parse(text);
  } catch (e) {
    return { ok: false, error: new FrameError("not-json", `frame is not JSON: ${(e as Error).message}`) };
  }
  if (!isPlainObject(value)) return { ok: false, error: new FrameError("not-jsonrpc", "frame is not a JSON object") };
  const id = isId(value.id) ? value.id : null;
  if (value.jsonrpc !== JSONRPC_VERSION) {
    return { ok: false, error: new FrameError("not-jsonrpc", 'frame lacks "jsonrpc": "2.0"', id) };
  }
  if (typeof value.method === "string") {
    const params = value.params === undefined ? {} : value.params;
    if (!isPlainObject(params)) return { ok: false, error: new FrameError("not-jsonrpc", "params is not an object", id) };
    if (value.id === undefined || value.id === null) return { ok: true, frame: { kind: "notification", method: value.method, params } };
    if (id === null) return { ok: false, error: new FrameError("not-jsonrpc", "request id is neither a number nor a string") };
    return { ok: true, frame: { kind: "request", id, method: value.method, params } };
  }
  if (value.error !== undefined) {
    return { ok: true, frame: { kind: "error", id, error: readError(value.error) } };
  }
  if ("result" in value) {
    if (id === null) return { ok: false, error: new FrameError("not-jsonrpc", "response without a usable id") };
    const result = value.result;
    if (isPlainObject(result) && (typeof result.code === "number" || result[FIELD.errorCode] !== undefined)) {
      return { ok: true, frame: { kind: "error", id, error: readError(result) } };
    }
    return { ok: true, frame: { kind: "response", id, result: isPlainObject(result) ? result : { value: result } } };
  }
  return { ok: false, error: new FrameError("not-jsonrpc", "frame is neither a request nor a response", id) };
}

/** A non-string error message as readable text (an object as its JSON, not "[object Object]"). */
function messageText(message: unknown): string {
  if (typeof message === "string") return message;
  if (message === undefined || message === null) return "error";
  if (typeof message === "number" || typeof message === "boolean") return String(message);
  return JSON.stringify(message) ?? "error"; // parsed JSON: an object or an array
}

function readError(raw: unknown): RpcErrorInfo {
  if (!isPlainObject(raw)) return { code: ERROR_CODE.INTERNAL_ERROR, message: String(raw) };
  const rawCode = raw.code ?? raw[FIELD.errorCode];
  const code = typeof rawCode === "number" ? rawCode : Number(rawCode);
  const data = isPlainObject(raw.data) ? raw.data : undefined;
  const userMessage =
    data && typeof data[FIELD.userMessage] === "string"
      ? (data[FIELD.userMessage] as string)
      : typeof raw[FIELD.userMessage] === "string"
        ? (raw[FIELD.userMessage] as string)
        : undefined;
  const wireCode = Number.isFinite(code) ? code : ERROR_CODE.INTERNAL_ERROR;
  // A number listed in ERROR_CODE_ALIASES reads as the contract's code, so callers compare one number.
  const aliasOf = errorNameOfAlias(wireCode);
  const finiteCode = aliasOf ? ERROR_CODE[aliasOf] : wireCode;
  return {
    code: finiteCode,
    name: errorName(finiteCode),
    ...(aliasOf ? { wireCode } : {}),
    message: messageText(raw.message),
    userMessage,
    data,
  };
}

// ---- encoding ---------------------------------------------------------------------------

/** A request or notification with only the schema's params for that method. */
export function encodeRequest(id: RpcId | null, method: MethodName, params: object): string {
  const body = pickFields(params, SCHEMA[method].params);
  return id === null
    ? JSON.stringify({ jsonrpc: JSONRPC_VERSION, method, params: body })
    : JSON.stringify({ jsonrpc: JSONRPC_VERSION, id, method, params: body });
}

/** A success response with only the schema's result fields for the method being answered. */
export function encodeResult(id: RpcId, method: MethodName, result: object): string {
  return JSON.stringify({ jsonrpc: JSONRPC_VERSION, id, result: pickFields(result, SCHEMA[method].result) });
}

/** An error response, in Dojo's form (under `result`) unless configured otherwise. */
export function encodeError(id: RpcId | null, name: ErrorName, userMessage?: string, extra?: JsonObject): string {
  const code = ERROR_CODE[name];
  const data: JsonObject | undefined = userMessage || extra ? { ...extra, ...(userMessage ? { [FIELD.userMessage]: userMessage } : {}) } : undefined;
  const err = data ? { code, message: ERROR_MESSAGE[name], data } : { code, message: ERROR_MESSAGE[name] };
  return JSON.stringify(ERRORS_UNDER_RESULT && id !== null ? { jsonrpc: JSONRPC_VERSION, id, result: err } : { jsonrpc: JSONRPC_VERSION, id, error: err });
}

// ---- tolerant readers of Dojo's payloads --------------------------------------------------

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : undefined;
}

/** `terminalId`, or `tid` (accepted temporarily by Dojo). */
export function readTerminalId(o: JsonObject): string | undefined {
  return str(aliasedField(o, FIELD.terminalId));
}

/** The object without keys that could pollute prototypes when spread into another (a copy only if it has one). */
export function passThrough(o: JsonObject): JsonObject {
  if (!Object.hasOwn(o, "__proto__") && !Object.hasOwn(o, "constructor") && !Object.hasOwn(o, "prototype")) return o;
  const out: JsonObject = {};
  for (const k of Object.keys(o)) if (!POLLUTING_KEYS.has(k)) out[k] = o[k];
  return out;
}

export function readNotification(rawP: JsonObject): TerminalNotificationParams & { raw: JsonObject } {
  const p = withCanonicalNames(rawP);
  return {
    paymentId: str(p[FIELD.paymentId]) ?? "",
    terminalId: readTerminalId(p) ?? "",
    notificationValue: str(p[FIELD.notificationValue]) ?? "",
    raw: passThrough(rawP),
  };
}

export function readSignatureRequest(rawP: JsonObject): SignatureVerificationParams & { raw: JsonObject } {
  const p = withCanonicalNames(rawP);
  const lines = Array.isArray(p[FIELD.receiptLines]) ? (p[FIELD.receiptLines] as unknown[]).map(String) : [];
  return {
    paymentId: str(p[FIELD.paymentId]) ?? "",
    terminalId: readTerminalId(p) ?? "",
    timeout: num(p[FIELD.timeout]) ?? DEFAULT_SIGNATURE_TIMEOUT_S,
    receiptLines: lines,
    raw: passThrough(rawP),
  };
}

function readCard(raw: unknown): CardInfo | undefined {
  if (!isPlainObject(raw)) return undefined;
  const v = withCanonicalNames(raw);
  return { scheme: str(v.scheme), last4: str(v.last4), ...readReceiptCard(v) };
}

export function readRecord(rawP: JsonObject): RecordParams & { raw: JsonObject } {
  const p = withCanonicalNames(rawP);
  return {
    paymentId: str(p[FIELD.paymentId]) ?? "",
    terminalId: readTerminalId(p) ?? "",
    captureMode: str(p[FIELD.captureMode]) as CaptureMode | undefined,
    baseAmount: num(p[FIELD.baseAmount]) ?? 0,
    tipsAmount: num(p[FIELD.tipsAmount]),
    cashbackAmount: num(p[FIELD.cashbackAmount]),
    currency: str(p[FIELD.currency]) ?? "",
    paymentSuccessful: p[FIELD.paymentSuccessful] === true,
    status: str(p[FIELD.status]) ?? "",
    attemptedAt: str(p[FIELD.attemptedAt]),
    authCode: str(p[FIELD.authCode]),
    card: readCard(p[FIELD.card]),
    ...readReceiptRecordFields(p),
    raw: passThrough(rawP),
  };
}

export function readPaymentState(rawR: JsonObject): PaymentState & { raw: JsonObject } {
  const r = withCanonicalNames(rawR);
  return {
    paymentId: str(r[FIELD.paymentId]) ?? "",
    terminalId: readTerminalId(r) ?? "",
    captureMode: str(r[FIELD.captureMode]) as CaptureMode | undefined,
    status: str(r[FIELD.status]) ?? "",
    baseAmount: num(r[FIELD.baseAmount]),
    authorizedAmount: num(r[FIELD.authorizedAmount]),
    capturedAmount: num(r[FIELD.capturedAmount]),
    currency: str(r[FIELD.currency]),
    lastNotification: str(r[FIELD.lastNotification]),
    raw: passThrough(rawR),
  };
}

export function readTerminalInfo(rawR: JsonObject): TerminalInfo {
  const r = withCanonicalNames(rawR);
  const id = readTerminalId(r) ?? "";
  const tid = str(r[FIELD.tid]);
  return { terminalId: id, ...(tid !== undefined ? { tid } : {}), status: str(r[FIELD.status]) ?? "" };
}

export function readTerminals(r: JsonObject): TerminalInfo[] {
  const list = aliasedField(r, FIELD.terminals);
  return Array.isArray(list) ? list.filter(isPlainObject).map(readTerminalInfo) : [];
}

export function readAmountResult(rawR: JsonObject): { paymentId: string; baseAmount?: number } {
  const r = withCanonicalNames(rawR);
  return { paymentId: str(r[FIELD.paymentId]) ?? "", baseAmount: num(r[FIELD.baseAmount]) };
}

export function readPaymentId(rawR: JsonObject): string | undefined {
  const r = withCanonicalNames(rawR);
  return str(r[FIELD.paymentId]);
}

export { isKnownMethod };

// ---- handshake ----------------------------------------------------------------------------------

/** The credentials part of the Authorization header: base64 of "account:key". */
export { basicToken };

/** The Authorization header value of the handshake. */
export function basicAuth(accountName: string, apiKey: string): string {
  return `${AUTH_SCHEME} ${basicToken(accountName, apiKey)}`;
}
