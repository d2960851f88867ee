/** Reading what a msg carries: plain objects, ids, text, money for error messages. */
import { moneyFormat } from "../common/money";
export { describe } from "../common/describe";
import type { NodeMessage } from "./red-types";

/** 1250 GBP -> "£12.50" (minor units by the currency's own number of decimals). */
export function formatMoney(amount: number | undefined, currency: string | undefined): string {
  if (typeof amount !== "number" || !Number.isFinite(amount)) return "";
  const f = currency ? moneyFormat(currency) : null;
  if (!f) return currency ? `${amount} ${currency} minor units` : String(amount);
  return f.format(amount / 10 ** f.digits);
}

/** "send msg.payload = 1250 for £12.50" in the given currency (GBP when unknown). */
export function amountExample(currency: string | undefined): string {
  const cur = currency && moneyFormat(currency) ? currency : "GBP";
  return `send msg.payload = 1250 for ${formatMoney(1250, cur)}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** The payment a msg names: msg.payload.paymentId, else msg.paymentId (unchecked). */
export function paymentIdOf(msg: NodeMessage): unknown {
  const p = msg.payload;
  return (isPlainObject(p) ? p.paymentId : undefined) ?? msg.paymentId;
}

export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}
