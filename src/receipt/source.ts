/**
 * What a receipt is printed from, read from any of the msgs a flow has at hand: the result of
 * pac-payment/pac-refund, a `record` from pac-events, or a journal entry from pac-status (a reprint).
 * The record Dojo sent is the truth; the rest fills in what it lacks. Nothing is invented.
 */
import { isPlainObject } from "../common/json";
import { moneyFormat } from "../common/money";
import { PAYMENT_STATUS, readRecord } from "../protocol";
import type { CardInfo, ReceiptLines } from "../protocol";

export type ReceiptKind = "payment" | "refund";

/** How the transaction ended, as far as a slip cares. */
export type ReceiptOutcome = "approved" | "declined" | "cancelled" | "failed";

export interface ReceiptSource {
  kind: ReceiptKind;
  outcome: ReceiptOutcome;
  paymentId: string;
  terminalId?: string;
  status: string;
  preAuth: boolean;
  /** Minor units of `currency`. */
  amount: number;
  tipsAmount?: number;
  cashbackAmount?: number;
  currency: string;
  authCode?: string;
  card?: CardInfo;
  transactionNumber?: string;
  /** ISO time: the terminal's transactionTime, else when the payment was attempted. */
  time?: string;
  receiptLines?: ReceiptLines;
}

/** Bad input, with the one thing that is wrong: the node answers it with done(err). */
export class ReceiptInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReceiptInputError";
  }
}

const OUTCOME_OF_STATUS: Readonly<Record<string, ReceiptOutcome>> = {
  [PAYMENT_STATUS.CAPTURED]: "approved",
  [PAYMENT_STATUS.AUTHORIZED]: "approved",
  [PAYMENT_STATUS.REFUNDED]: "approved",
  [PAYMENT_STATUS.DECLINED]: "declined",
  [PAYMENT_STATUS.CANCELLED]: "cancelled",
  [PAYMENT_STATUS.REVERSED]: "cancelled",
  [PAYMENT_STATUS.FAILED]: "failed",
};

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
function int(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) ? v : undefined;
}

/**
 * Read the msg payload. `kindHint` is the node's setting ("auto" reads it from the payload: a
 * pac-events record and a journal entry carry `kind`; a REFUNDED status is a refund).
 */
export function readSource(payload: unknown, kindHint: "auto" | ReceiptKind = "auto"): ReceiptSource {
  if (!isPlainObject(payload)) {
    throw new ReceiptInputError(
      `msg.payload must be the result of pac-payment or pac-refund, a pac-events record or a journal entry; got ${describe(payload)}`,
    );
  }
  if (Array.isArray(payload.entries)) {
    throw new ReceiptInputError("msg.payload is a journal report: send one of its entries (e.g. through a split node on payload.entries)");
  }
  const rawRecord = payload.record;
  if (rawRecord !== undefined && rawRecord !== null && !isPlainObject(rawRecord)) {
    throw new ReceiptInputError(`msg.payload.record must be an object (the record Dojo sent); got ${describe(rawRecord)}`);
  }
  const rec = isPlainObject(rawRecord) ? readRecord(rawRecord) : undefined;
  const paymentId = str(payload.paymentId) ?? str(payload.id) ?? (rec ? str(rec.paymentId) : undefined);
  if (!paymentId) throw new ReceiptInputError("msg.payload has no paymentId (nor a journal entry's id): is this a payment result?");
  const status = (rec ? str(rec.status) : undefined) ?? str(payload.status);
  if (!status) throw new ReceiptInputError(`payment ${paymentId} has no status yet: a receipt is printed once the terminal has finished`);
  const outcome = payload.notCreated === true || rec?.raw.notCreated === true ? "failed" : OUTCOME_OF_STATUS[status];
  if (!outcome) throw new ReceiptInputError(`payment ${paymentId} is ${status}: a receipt is printed once the terminal has finished`);
  const currency = (rec ? str(rec.currency) : undefined) ?? str(payload.currency);
  if (!currency) throw new ReceiptInputError(`payment ${paymentId} has no currency`);
  if (!moneyFormat(currency)) throw new ReceiptInputError(`payment ${paymentId} has the currency ${JSON.stringify(currency)}, which is not an ISO 4217 code`);
  const amount = (rec && rec.baseAmount ? int(rec.baseAmount) : undefined) ?? int(payload.amount) ?? int(payload.baseAmount);
  if (amount === undefined) throw new ReceiptInputError(`payment ${paymentId} has no amount (an integer in minor units)`);
  const payloadKind = payload.kind === "refund" || payload.kind === "payment" ? payload.kind : undefined;
  const kind: ReceiptKind = kindHint !== "auto" ? kindHint : (payloadKind ?? (status === PAYMENT_STATUS.REFUNDED ? "refund" : "payment"));
  const card = rec?.card ?? (isPlainObject(payload.card) ? readRecord({ card: payload.card }).card : undefined);
  const captureMode = rec?.captureMode ?? str(payload.captureMode);
  const time = rec?.transactionTime ?? rec?.attemptedAt ?? (typeof payload.recordedAt === "number" ? new Date(payload.recordedAt).toISOString() : undefined);
  return dropUndefined({
    kind,
    outcome,
    paymentId,
    terminalId: rec?.terminalId || str(payload.terminalId),
    status,
    preAuth: kind === "payment" && captureMode === "MANUAL",
    amount,
    tipsAmount: rec?.tipsAmount ?? int(payload.tipsAmount),
    cashbackAmount: rec?.cashbackAmount ?? int(payload.cashbackAmount),
    currency,
    authCode: rec?.authCode ?? str(payload.authCode),
    card: card && Object.values(card).some((v) => v !== undefined) ? card : undefined,
    transactionNumber: rec?.transactionNumber,
    time,
    receiptLines: rec?.receiptLines,
  });
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (Buffer.isBuffer(v)) return "a Buffer";
  return typeof v === "string" ? `the text ${JSON.stringify(v.slice(0, 40))}` : typeof v;
}
