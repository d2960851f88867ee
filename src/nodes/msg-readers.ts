/** Reading what a msg carries: plain objects, ids, text, money for error messages. */
import { formatMoney, moneyFormat } from "../common/money";
import { isPlainObject } from "../common/json";
import { FlowError } from "./flow-error";
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

/**
 * An amount as a flow may send it: a number, or text of digits (a query string, MQTT, a dashboard
 * input, a file), read as minor units. Text with a decimal point or comma is refused: amounts are
 * in minor units, and a pound amount is never guessed. Anything else is left for the checks.
 */
export function minorUnits(v: unknown, name: string, currency: string | undefined): unknown {
  if (typeof v !== "string") return v;
  const s = v.trim();
  if (/^\d{1,16}$/.test(s)) return Number(s);
  if (/^\d*[.,]\d+$/.test(s)) {
    const cur = currency && moneyFormat(currency) ? currency : "GBP";
    throw new FlowError(
      "INVALID_INPUT",
      `${name} ${JSON.stringify(v)} has a decimal point: amounts are in minor units, send "1250" (or 1250) for ${formatMoney(1250, cur)}; a pound amount is never guessed`,
    );
  }
  return v;
}
