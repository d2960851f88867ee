/**
 * Input checks made before anything is sent to Dojo: one implementation and one set of messages,
 * used by the engine's operations and, before anything else happens, by the nodes (which name the
 * fields as the flow sees them: "msg.payload.terminalId").
 */
import type { CaptureMode } from "../protocol";
import { CAPTURE_MODE } from "../protocol";
import { describe } from "../common/describe";
import { formatMoney } from "../common/money";
import { PacError } from "./errors";

let currencies: ReadonlySet<string> | null = null;

/** ISO 4217 codes known to this Node.js (full ICU), or null when it cannot list them. */
function knownCurrencies(): ReadonlySet<string> | null {
  if (currencies) return currencies;
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    const list = intl.supportedValuesOf?.("currency");
    if (list && list.length > 100) currencies = new Set(list);
  } catch {
    currencies = null;
  }
  return currencies;
}

export function isCurrency(code: unknown): code is string {
  if (typeof code !== "string" || !/^[A-Z]{3}$/.test(code)) return false;
  const known = knownCurrencies();
  return known ? known.has(code) : true;
}

/** Minor units: a positive safe integer. */
export function isAmount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function isPaymentId(v: unknown): v is string {
  return typeof v === "string" && ID_RE.test(v);
}

export function isTerminalId(v: unknown): v is string {
  return typeof v === "string" && ID_RE.test(v);
}

export function isCaptureMode(v: unknown): v is CaptureMode {
  return v === CAPTURE_MODE.AUTO || v === CAPTURE_MODE.MANUAL;
}

export function invalid(message: string, paymentId?: string): PacError {
  return new PacError("INVALID_INPUT", message, { paymentId });
}

/** How the caller names a field in messages ("amount" to the engine's user; "msg.payload.amount" in a flow). */
export type FieldName = (field: string) => string;

/** The fields of a sale, pre-auth or refund, as given. */
export interface StartFields {
  paymentId?: unknown;
  terminalId?: unknown;
  amount: unknown;
  currency: unknown;
  captureMode?: unknown;
  tipsAmount?: unknown;
  cashbackAmount?: unknown;
}

export interface StartWording {
  name?: FieldName;
  /** How to send 1250 for £12.50, in the caller's terms. */
  amountExample?: string;
  /** The most one payment may be (minor units, base + tips + cashback), and where that is set. */
  limit?: AmountLimit;
}

export interface AmountLimit {
  maxAmount: number;
  /** Where the user changes it, e.g. `"Maximum amount" in the Dojo connection "Front till"`. */
  where: string;
}

/** The first problem with a start request (INVALID_INPUT), or null. Absent optional fields are fine. */
export function startProblem(f: StartFields, wording: StartWording = {}): PacError | null {
  const name = wording.name ?? ((field: string) => field);
  const id = isPaymentId(f.paymentId) ? f.paymentId : undefined;
  if (f.paymentId !== undefined && !isPaymentId(f.paymentId)) {
    return invalid(`${name("paymentId")} must be 1-64 letters, digits, "-", "_", "." or ":" (or left out: one is generated), got ${describe(f.paymentId)}`);
  }
  if (!isAmount(f.amount)) {
    return invalid(
      `${name("amount")} must be a whole number of minor units greater than 0: ${wording.amountExample ?? "1250 for £12.50"}; got ${describe(f.amount)}`,
      id,
    );
  }
  if (!isCurrency(f.currency)) {
    return invalid(
      typeof f.currency === "string"
        ? `unknown currency ${JSON.stringify(f.currency)}: use an ISO 4217 code in capitals, such as "GBP"`
        : `${name("currency")} must be an ISO 4217 code such as "GBP", got ${describe(f.currency)}`,
      id,
    );
  }
  if (f.terminalId !== undefined && !isTerminalId(f.terminalId)) {
    return invalid(`${name("terminalId")} must be a terminal id such as "01234567" (letters, digits, - _ . :), got ${describe(f.terminalId)}`, id);
  }
  if (f.captureMode !== undefined && !isCaptureMode(f.captureMode)) {
    return invalid(`${name("captureMode")} must be "AUTO" (sale) or "MANUAL" (pre-auth), got ${describe(f.captureMode)}`, id);
  }
  for (const extra of ["tipsAmount", "cashbackAmount"] as const) {
    const v = f[extra];
    if (v !== undefined && v !== 0 && !isAmount(v)) return invalid(`${name(extra)} must be a whole number of minor units (0 or more), got ${describe(v)}`, id);
  }
  const limit = wording.limit;
  if (limit) {
    const total = f.amount + (typeof f.tipsAmount === "number" ? f.tipsAmount : 0) + (typeof f.cashbackAmount === "number" ? f.cashbackAmount : 0);
    if (total > limit.maxAmount) {
      const money = (v: number): string => formatMoney(v, f.currency as string);
      return new PacError(
        "AMOUNT_LIMIT",
        `${money(total)} is above the maximum of ${money(limit.maxAmount)} per payment: nothing was sent. If it is right, raise ${limit.where} (amounts are in minor units: 1250 = ${money(1250)})`,
        { paymentId: id },
      );
    }
  }
  return null;
}

/** Throws INVALID_INPUT naming the first bad field. */
export function checkAmount(name: string, v: unknown): void {
  if (!isAmount(v)) throw invalid(`${name} must be a whole number of minor units greater than 0 (1250 for £12.50), got ${describe(v)}`);
}
