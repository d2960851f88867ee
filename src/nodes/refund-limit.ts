/**
 * pac-refund's msg.payload.refundOf: the refund of a sale this till took may not exceed what the
 * sale paid, less what earlier refunds of it (msg.refundOf, kept in their journaled context)
 * already paid back or may still pay back. Every till with a refund button would write this.
 */
import type { JournalPayment } from "../engine";
import { isPaymentId } from "../engine";
import { PAYMENT_STATUS } from "../protocol";
import type { FlowError } from "./flow-error";
import { invalidInput } from "./flow-error";
import { journalAmount } from "./journal-amount";
import { describe, formatMoney } from "./msg-readers";

/** The journal as this check reads it. */
export interface RefundJournal {
  get(id: string): JournalPayment | undefined;
  query(from: number, to: number): Promise<JournalPayment[]>;
}

/** Statuses of a refund that paid nothing back and never will. */
function paidNothing(status: string | undefined): boolean {
  return status === PAYMENT_STATUS.DECLINED || status === PAYMENT_STATUS.CANCELLED || status === PAYMENT_STATUS.FAILED;
}

function refundOfCtx(p: JournalPayment): unknown {
  const ctx = p.ctx;
  return ctx !== null && typeof ctx === "object" && !Array.isArray(ctx) ? ctx.refundOf : undefined;
}

/** The refundOf field of a refund request: undefined when absent; throws when it is not a payment id. */
export function readRefundOf(fields: Record<string, unknown>): string | undefined {
  const v = fields.refundOf;
  if (v === undefined || v === null || v === "") return undefined;
  if (!isPaymentId(v)) throw invalidInput(`msg.payload.refundOf must be the paymentId of the sale to refund, got ${describe(v)}`);
  return v;
}

/** Why this refund of `saleId` may not run, or undefined when it may (reads the whole journal). */
export async function refundLimitProblem(
  journal: RefundJournal,
  saleId: string,
  amount: number,
  currency: string,
  /** Other refunds of this sale being sent now (id -> amount), maybe not in the journal yet. */
  inFlight: ReadonlyMap<string, number> = new Map(),
  now = Date.now(),
): Promise<FlowError | undefined> {
  const all = await journal.query(0, now);
  const sale = journal.get(saleId) ?? all.find((p) => p.id === saleId);
  if (!sale || sale.kind === "refund") return invalidInput(`refundOf ${saleId}: this till's journal has no such sale`);
  if (sale.status !== PAYMENT_STATUS.CAPTURED) {
    return invalidInput(`refundOf ${saleId}: only a captured sale can be refunded; its status is ${sale.status ?? "not known yet"}`);
  }
  if (sale.currency !== undefined && sale.currency !== currency) {
    return invalidInput(`refundOf ${saleId}: the sale was in ${sale.currency}, the refund is in ${currency}`);
  }
  const earlier = all.filter(
    (p) => p.kind === "refund" && refundOfCtx(p) === saleId && p.rejected === undefined && !paidNothing(p.status) && !inFlight.has(p.id),
  );
  const sending = [...inFlight.values()].reduce((sum, n) => sum + n, 0);
  const left = journalAmount(sale) - sending - earlier.reduce((sum, p) => sum + journalAmount(p), 0);
  if (amount > left) {
    const money = (n: number): string => formatMoney(n, currency) || `${n}`;
    return invalidInput(`refundOf ${saleId}: at most ${money(Math.max(left, 0))} can be refunded (paid ${money(journalAmount(sale))}), not ${money(amount)}`);
  }
  return undefined;
}
