/**
 * Card receipts from a payment's record: engine-free (no Node-RED), so the node is thin glue and
 * everything here is testable alone.
 */
import { buildSlips } from "./slip";
import type { CopyChoice, ShopInfo, Slip } from "./slip";
import { readSource } from "./source";
import type { ReceiptKind, ReceiptSource } from "./source";
import { renderEscpos, renderHtml, renderSvg, renderText } from "./render";
import type { CodePage, PaperWidth, ReceiptFormat } from "./render";

export { ReceiptInputError, readSource } from "./source";
export type { ReceiptKind, ReceiptOutcome, ReceiptSource } from "./source";
export { buildSlips, acquirerLines, composedLines, MAX_SLIP_LINES } from "./slip";
export type { CopyChoice, ShopInfo, Slip, SlipLine } from "./slip";
export { renderEscpos, renderHtml, renderSvg, renderText, toReceiptline } from "./render";
export type { CodePage, PaperWidth, ReceiptFormat } from "./render";

export interface ReceiptOptions {
  format: ReceiptFormat;
  width: PaperWidth;
  codePage: CodePage;
  copies: CopyChoice;
  /** Print a slip for a declined, cancelled or failed transaction (false: no output for them). */
  unsuccessful: boolean;
  kind: "auto" | ReceiptKind;
  shop: ShopInfo;
}

/** What the node puts on msg.receipt: the structured data the slip was printed from. */
export interface ReceiptData {
  source: ReceiptSource;
  copies: { copy: string; acquirer: boolean; lines: Slip["lines"] }[];
  format: ReceiptFormat;
  width: PaperWidth;
}

export type ReceiptResult = { printed: true; payload: Buffer | string; receipt: ReceiptData } | { printed: false; source: ReceiptSource };

export const PAPER_WIDTHS: readonly PaperWidth[] = [32, 42, 48];
export const FORMATS: readonly ReceiptFormat[] = ["escpos", "text", "html", "svg"];

/** Build the receipt for a msg payload; throws ReceiptInputError on bad input. */
export function makeReceipt(payload: unknown, o: ReceiptOptions): ReceiptResult {
  const source = readSource(payload, o.kind);
  if (source.outcome !== "approved" && !o.unsuccessful) return { printed: false, source };
  const slips = buildSlips(source, o.copies, o.shop);
  const ro = { width: o.width, codePage: o.codePage };
  const title = `${o.shop.name ? `${o.shop.name}: ` : ""}${source.kind === "refund" ? "refund" : "card payment"} receipt`;
  const out =
    o.format === "escpos"
      ? renderEscpos(slips, ro)
      : o.format === "text"
        ? renderText(slips, ro)
        : o.format === "svg"
          ? renderSvg(slips, ro)
          : renderHtml(slips, title);
  return {
    printed: true,
    payload: out,
    receipt: { source, copies: slips.map((s) => ({ copy: s.copy, acquirer: s.acquirer, lines: s.lines })), format: o.format, width: o.width },
  };
}
