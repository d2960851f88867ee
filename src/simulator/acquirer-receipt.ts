/**
 * The acquirer's receipt text the simulator puts on a record (contract §7a `receiptLines`): both
 * copies, every line type, laid out like a UK acquirer's slip. A transaction that never read a card
 * (cancelled before a tap, or nobody presented one) gets none: a terminal prints nothing then.
 */
import { formatMoney } from "../common/money";
import { ENTRY_MODE, PAYMENT_STATUS, RECEIPT_COPY, RECEIPT_LINE_FORMAT as FMT, RECEIPT_LINE_TYPE as T, VERIFICATION } from "../protocol";
import type { ReceiptCopy, ReceiptLine, ReceiptLineFormat, ReceiptLines } from "../protocol";
import type { SimPayment } from "./types";

/** Width the acquirer pads its two-column lines to (the terminal's own printer). */
const WIDTH = 32;

function text(value: string, ...format: ReceiptLineFormat[]): ReceiptLine {
  return format.length > 0 ? { type: T.TEXT, value, format } : { type: T.TEXT, value };
}
function pair(left: string, right: string, bold = false): ReceiptLine {
  const value = left + " ".repeat(Math.max(1, WIDTH - left.length - right.length)) + right;
  return bold ? text(value, FMT.BOLD) : text(value);
}
const line = (type: string, value = ""): ReceiptLine => ({ type, value });

const ENTRY_TEXT: Readonly<Record<string, string>> = {
  [ENTRY_MODE.CONTACTLESS]: "CONTACTLESS",
  [ENTRY_MODE.ICC_CHIP]: "ICC",
  [ENTRY_MODE.SWIPED]: "SWIPED",
  [ENTRY_MODE.KEYED]: "KEYED",
};
const CVM_TEXT: Readonly<Record<string, string>> = {
  [VERIFICATION.PIN]: "PIN VERIFIED",
  [VERIFICATION.DEVICE]: "VERIFIED BY DEVICE",
  [VERIFICATION.NONE]: "NO CARDHOLDER VERIFICATION",
};

function dateTime(iso: string): [string, string] {
  const d = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, "0");
  return [
    `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`,
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`,
  ];
}

function copyLines(p: SimPayment, copy: ReceiptCopy): ReceiptLine[] {
  const card = p.card ?? {};
  const refund = p.kind === "refund";
  const approved = p.status !== PAYMENT_STATUS.DECLINED && p.status !== PAYMENT_STATUS.FAILED && p.status !== PAYMENT_STATUS.CANCELLED;
  const total = p.baseAmount + p.tipsAmount + p.cashbackAmount;
  const [date, time] = dateTime(p.transactionTime ?? p.attemptedAt);
  const out: ReceiptLine[] = [
    text("DOJO PAC SIMULATOR", FMT.BOLD, FMT.DOUBLE_HEIGHT),
    text("1 TEST STREET, LONDON"),
    line(T.CARRIAGE_RETURN),
    pair(`TID: ${p.terminalId}`, `TXN: ${p.transactionNumber ?? ""}`),
    pair(date, time),
    line(T.LINE_SEPARATOR_SINGLE),
    text(card.applicationLabel ?? card.scheme ?? "CARD", FMT.BOLD),
    text(`************${card.last4 ?? "****"}`),
  ];
  if (copy === RECEIPT_COPY.MERCHANT && card.expiry) out.push(text(`EXPIRY ${card.expiry}`));
  if (card.applicationId) out.push(text(`AID: ${card.applicationId}`));
  const entry = card.entryMode ? ENTRY_TEXT[card.entryMode] : undefined;
  if (entry) out.push(text(entry));
  out.push(line(T.CARRIAGE_RETURN), text(refund ? "REFUND" : p.captureMode === "MANUAL" ? "PRE-AUTH" : "SALE", FMT.BOLD, FMT.DOUBLE_WIDTH));
  if (p.tipsAmount > 0 || p.cashbackAmount > 0) {
    out.push(pair("AMOUNT", formatMoney(p.baseAmount, p.currency)));
    if (p.tipsAmount > 0) out.push(pair("GRATUITY", formatMoney(p.tipsAmount, p.currency)));
    if (p.cashbackAmount > 0) out.push(pair("CASHBACK", formatMoney(p.cashbackAmount, p.currency)));
  }
  out.push(pair("TOTAL", formatMoney(total, p.currency), true), line(T.LINE_SEPARATOR_DOUBLE));
  if (!approved) {
    out.push(
      p.status === PAYMENT_STATUS.CANCELLED
        ? line(T.BOX_VOID, "TRANSACTION VOID")
        : line(T.BOX_DECLINE, p.status === PAYMENT_STATUS.FAILED ? "NOT AUTHORISED" : "DECLINED"),
    );
    out.push(text("NO FUNDS HAVE BEEN TAKEN"));
  } else if (card.verification === VERIFICATION.SIGNATURE) {
    if (copy === RECEIPT_COPY.MERCHANT) {
      out.push(text("PLEASE SIGN BELOW"), line(T.TICKET_FEED), text("X______________________________"), text("SIGNATURE VERIFIED"));
    } else {
      out.push(text("SIGNATURE VERIFIED"));
    }
  } else if (card.verification && CVM_TEXT[card.verification]) {
    out.push(text(CVM_TEXT[card.verification]));
  }
  if (approved && p.authCode) out.push(pair("AUTH CODE:", p.authCode));
  if (approved) out.push(text(refund ? "REFUND ACCEPTED" : "APPROVED", FMT.BOLD));
  out.push(line(T.CARRIAGE_RETURN), text(copy === RECEIPT_COPY.MERCHANT ? "MERCHANT COPY" : "CUSTOMER COPY", FMT.BOLD));
  if (copy === RECEIPT_COPY.CUSTOMER) out.push(text("PLEASE RETAIN FOR YOUR RECORDS"));
  out.push(line(T.TICKET_FEED));
  return out;
}

/** `receiptLines` for a finished transaction, or undefined when no card was read. */
export function acquirerReceipt(p: SimPayment): ReceiptLines | undefined {
  if (!p.card) return undefined;
  return { [RECEIPT_COPY.MERCHANT]: copyLines(p, RECEIPT_COPY.MERCHANT), [RECEIPT_COPY.CUSTOMER]: copyLines(p, RECEIPT_COPY.CUSTOMER) };
}
