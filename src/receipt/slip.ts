/**
 * The printed slip as a list of lines, independent of the output format: the shop's header, the
 * card section (the acquirer's lines verbatim when the record has them, else composed from the
 * fields present), the shop's footer. One slip per copy.
 */
import { formatMoney } from "../common/money";
import { ENTRY_MODE, RECEIPT_COPY, RECEIPT_LINE_FORMAT, RECEIPT_LINE_TYPE, VERIFICATION } from "../protocol";
import type { ReceiptCopy, ReceiptLine } from "../protocol";
import type { ReceiptSource } from "./source";

export type Align = "left" | "center" | "right";

export type SlipLine =
  | { t: "text"; text: string; align: Align; bold?: boolean; tall?: boolean; wide?: boolean }
  | { t: "pair"; left: string; right: string; bold?: boolean }
  | { t: "rule"; double: boolean }
  | { t: "blank" }
  | { t: "feed" }
  | { t: "box"; text: string; variant: "decline" | "void" };

export interface Slip {
  copy: ReceiptCopy;
  /** The card section came from the acquirer's `receiptLines`. */
  acquirer: boolean;
  lines: SlipLine[];
}

export interface ShopInfo {
  name?: string;
  /** One line per address line. */
  address?: string[];
  vatNumber?: string;
  thankYou?: string;
  orderRef?: string;
}

export type CopyChoice = "customer" | "merchant" | "both";

/** Most lines one slip may have: a runaway record must not feed a printer metres of paper. */
export const MAX_SLIP_LINES = 400;

const ENTRY_TEXT: Readonly<Record<string, string>> = {
  [ENTRY_MODE.CONTACTLESS]: "Contactless",
  [ENTRY_MODE.ICC_CHIP]: "Chip",
  [ENTRY_MODE.SWIPED]: "Swiped",
  [ENTRY_MODE.KEYED]: "Keyed",
};
const CVM_TEXT: Readonly<Record<string, string>> = {
  [VERIFICATION.PIN]: "PIN verified",
  [VERIFICATION.SIGNATURE]: "Signature",
  [VERIFICATION.DEVICE]: "Verified on device",
  [VERIFICATION.NONE]: "No cardholder verification",
};

const text = (s: string, align: Align = "left", style: { bold?: boolean; tall?: boolean; wide?: boolean } = {}): SlipLine => ({
  t: "text",
  text: s,
  align,
  ...style,
});

/** The acquirer's lines, as they are: only layout is translated, never the words. */
export function acquirerLines(lines: readonly ReceiptLine[]): SlipLine[] {
  return lines.map((l): SlipLine => {
    const f = new Set(l.format ?? []);
    switch (l.type) {
      case RECEIPT_LINE_TYPE.LINE_SEPARATOR_SINGLE:
        return { t: "rule", double: false };
      case RECEIPT_LINE_TYPE.LINE_SEPARATOR_DOUBLE:
        return { t: "rule", double: true };
      case RECEIPT_LINE_TYPE.CARRIAGE_RETURN:
        return { t: "blank" };
      case RECEIPT_LINE_TYPE.TICKET_FEED:
        return { t: "feed" };
      case RECEIPT_LINE_TYPE.BOX_DECLINE:
        return { t: "box", text: l.value, variant: "decline" };
      case RECEIPT_LINE_TYPE.BOX_VOID:
        return { t: "box", text: l.value, variant: "void" };
      default: // TEXT, and any type we do not know: its value as text (contract §7a)
        return text(l.value, "left", {
          bold: f.has(RECEIPT_LINE_FORMAT.BOLD),
          tall: f.has(RECEIPT_LINE_FORMAT.DOUBLE_HEIGHT),
          wide: f.has(RECEIPT_LINE_FORMAT.DOUBLE_WIDTH),
        });
    }
  });
}

function dateTime(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso; // not a time we can read: shown as sent
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/** The card section from the record's fields; a field that is missing is left out. */
export function composedLines(s: ReceiptSource, copy: ReceiptCopy): SlipLine[] {
  const out: SlipLine[] = [];
  const money = (n: number): string => formatMoney(n, s.currency);
  const title = s.kind === "refund" ? "REFUND" : s.preAuth ? "PRE-AUTH" : "SALE";
  out.push(text(title, "center", { bold: true, wide: true }));
  const c = s.card;
  const label = c?.applicationLabel ?? c?.scheme;
  if (label) out.push(text(label, "left", { bold: true }));
  if (c?.last4) out.push(text(`**** **** **** ${c.last4}`));
  if (c?.expiry && copy === RECEIPT_COPY.MERCHANT) out.push(text(`Expiry ${c.expiry}`)); // not on the customer's copy
  if (c?.applicationId) out.push(text(`AID ${c.applicationId}`));
  if (c?.entryMode && c.entryMode !== ENTRY_MODE.UNKNOWN) out.push(text(ENTRY_TEXT[c.entryMode] ?? c.entryMode));
  if (s.terminalId) out.push({ t: "pair", left: "Terminal", right: s.terminalId });
  if (s.transactionNumber) out.push({ t: "pair", left: "Transaction", right: s.transactionNumber });
  const when = dateTime(s.time);
  if (when) out.push(text(when));
  out.push({ t: "rule", double: false });
  const extras = (s.tipsAmount ?? 0) > 0 || (s.cashbackAmount ?? 0) > 0;
  if (extras) {
    out.push({ t: "pair", left: "Amount", right: money(s.amount) });
    if (s.tipsAmount) out.push({ t: "pair", left: "Gratuity", right: money(s.tipsAmount) });
    if (s.cashbackAmount) out.push({ t: "pair", left: "Cashback", right: money(s.cashbackAmount) });
  }
  const total = s.amount + (s.tipsAmount ?? 0) + (s.cashbackAmount ?? 0);
  out.push({ t: "pair", left: s.kind === "refund" ? "REFUND TOTAL" : "TOTAL", right: money(total), bold: true });
  out.push({ t: "rule", double: true });
  if (s.outcome === "declined") out.push({ t: "box", text: "DECLINED", variant: "decline" });
  else if (s.outcome === "failed") out.push({ t: "box", text: "NOT COMPLETED", variant: "decline" });
  else if (s.outcome === "cancelled") out.push({ t: "box", text: "CANCELLED", variant: "void" });
  if (s.outcome !== "approved") {
    out.push(text("No money has been taken", "center"));
  } else {
    const v = c?.verification;
    if (v === VERIFICATION.SIGNATURE && copy === RECEIPT_COPY.MERCHANT) {
      out.push(text("Cardholder signature:"), { t: "feed" }, text("X" + "_".repeat(20)));
    } else if (v && v !== VERIFICATION.UNKNOWN) {
      out.push(text(CVM_TEXT[v] ?? v));
    }
    if (s.authCode) out.push({ t: "pair", left: "Auth code", right: s.authCode });
    out.push(text(s.kind === "refund" ? "REFUND ACCEPTED" : "APPROVED", "center", { bold: true }));
  }
  out.push({ t: "blank" }, text(copy === RECEIPT_COPY.MERCHANT ? "MERCHANT COPY" : "CUSTOMER COPY", "center", { bold: true }));
  return out;
}

function header(shop: ShopInfo): SlipLine[] {
  const out: SlipLine[] = [];
  if (shop.name) out.push(text(shop.name, "center", { bold: true, tall: true }));
  for (const a of shop.address ?? []) out.push(text(a, "center"));
  if (shop.vatNumber) out.push(text(`VAT No. ${shop.vatNumber}`, "center"));
  if (shop.orderRef) out.push({ t: "pair", left: "Order", right: shop.orderRef });
  if (out.length > 0) out.push({ t: "rule", double: false });
  return out;
}

function footer(shop: ShopInfo): SlipLine[] {
  return shop.thankYou ? [{ t: "blank" }, text(shop.thankYou, "center")] : [];
}

/** The copies to print, merchant first (the customer's is torn off last, with the goods). */
export function copiesOf(choice: CopyChoice): ReceiptCopy[] {
  if (choice === "merchant") return [RECEIPT_COPY.MERCHANT];
  if (choice === "customer") return [RECEIPT_COPY.CUSTOMER];
  return [RECEIPT_COPY.MERCHANT, RECEIPT_COPY.CUSTOMER];
}

/** One slip per copy, header and footer around the card section, bounded in length. */
export function buildSlips(s: ReceiptSource, choice: CopyChoice, shop: ShopInfo): Slip[] {
  return copiesOf(choice).map((copy) => {
    const given = s.receiptLines?.[copy];
    const acquirer = given !== undefined && given.length > 0;
    const card = acquirer ? acquirerLines(given) : composedLines(s, copy);
    const head = header(shop);
    const foot = footer(shop);
    const room = Math.max(0, MAX_SLIP_LINES - head.length - foot.length - 1);
    const body = card.length > room ? [...card.slice(0, room), text(`… ${card.length - room} more lines not printed`, "center")] : card;
    return { copy, acquirer, lines: [...head, ...body, ...foot] };
  });
}
