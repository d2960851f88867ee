/** Input checks made before anything is sent to Dojo. */
import { CAPTURE_MODE, CaptureMode } from "../protocol";
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

/** Throws INVALID_INPUT naming the first bad field. */
export function checkAmount(name: string, v: unknown, optional = false): void {
  if (optional && (v === undefined || v === 0)) return;
  if (!isAmount(v)) {
    throw invalid(`${name} must be a positive whole number of minor units (1250 for £12.50), got ${JSON.stringify(v) ?? String(v)}`);
  }
}
