/** Reading what a msg carries: plain objects, ids, text, money for error messages. */
import { formatMoney, moneyFormat } from "../common/money";
import { isPlainObject } from "../common/json";
import type { NodeMessage } from "./red-types";

export { describe } from "../common/describe";
export { formatMoney, isPlainObject };

/** "send msg.payload = 1250 for £12.50" in the given currency (GBP when unknown). */
export function amountExample(currency: string | undefined): string {
  const cur = currency && moneyFormat(currency) ? currency : "GBP";
  return `send msg.payload = 1250 for ${formatMoney(1250, cur)}`;
}

/** The payment a msg names: msg.payload.paymentId, else msg.paymentId (unchecked). */
export function paymentIdOf(msg: NodeMessage): unknown {
  const p = msg.payload;
  return (isPlainObject(p) ? p.paymentId : undefined) ?? msg.paymentId;
}

export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}
