/**
 * The virtual receipt printer beside each terminal on the page: the slips a flow printed there,
 * newest first. Rendered here (server side) for the page and for each pushed slip, so the page's
 * script only inserts escaped markup it got from this server. A slip's SVG is shown as an <img>
 * (a data: URL), never inlined: whatever a flow put in it cannot run or restyle the page.
 */
import { formatMoney } from "../../common/money";
import { MAX_SLIPS_PER_TERMINAL } from "../printer";
import type { SimPrintedSlip } from "../types";
import { escapeHtml } from "./html";
import { shortId } from "./view";

/** A slip as the page's event stream sends it. */
export interface VtSlipItem {
  id: number;
  accountName: string;
  terminalId: string;
  /** The slip's <figure>, escaped. */
  html: string;
  /** How many slips a printer shows (older ones are dropped). */
  keep: number;
}

const OUTCOME_TEXT: Readonly<Record<string, string>> = {
  approved: "Approved",
  declined: "Declined",
  cancelled: "Cancelled",
  failed: "Not processed",
};

/** hh:mm:ss, local time. */
function clock(iso: string): string {
  const d = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, "0");
  return Number.isNaN(d.getTime()) ? "" : `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** "£12.50 · Approved · Auth code 123456": what the slip is, in one line. */
export function slipSummary(s: SimPrintedSlip): string {
  const parts: string[] = [];
  if (s.amount !== undefined && s.currency) parts.push(formatMoney(s.amount, s.currency));
  if (s.outcome) parts.push(OUTCOME_TEXT[s.outcome] ?? s.outcome);
  if (s.authCode) parts.push(`Auth code ${s.authCode}`);
  return parts.join(" · ");
}

export function slipFigure(s: SimPrintedSlip): string {
  const summary = slipSummary(s);
  const time = clock(s.at);
  const payment = s.paymentId ? ` <span class="slip-id" title="${escapeHtml(s.paymentId)}">${escapeHtml(shortId(s.paymentId))}</span>` : "";
  const alt = `Receipt${summary ? `: ${summary}` : ""}`;
  const picture = s.svg
    ? `<img class="paper" alt="${escapeHtml(alt)}" src="data:image/svg+xml;base64,${Buffer.from(s.svg, "utf8").toString("base64")}">`
    : `<pre class="paper paper-text">${escapeHtml(s.text)}</pre>`;
  const text = s.svg && s.text ? `<details class="slip-text"><summary>Text</summary><pre>${escapeHtml(s.text)}</pre></details>` : "";
  return (
    `<figure class="slip" data-slip="${s.id}">` +
    `<figcaption><time datetime="${escapeHtml(s.at)}">${escapeHtml(time)}</time> <span data-field="slip-summary">${escapeHtml(summary)}</span>${payment}</figcaption>` +
    `${picture}${text}</figure>`
  );
}

export function slipItem(s: SimPrintedSlip): VtSlipItem {
  return { id: s.id, accountName: s.accountName, terminalId: s.terminalId, html: slipFigure(s), keep: MAX_SLIPS_PER_TERMINAL };
}

/** The printer beside one terminal, with its slips (newest first). */
export function printerPanel(id: string, slips: readonly SimPrintedSlip[]): string {
  return (
    `<aside class="printer" data-printer aria-labelledby="${id}-printer">` +
    `<h3 id="${id}-printer">Receipt printer</h3>` +
    `<p class="printer-empty" data-field="printer-empty"${slips.length ? " hidden" : ""}>Nothing printed yet. ` +
    `A Dojo receipt node set to show its slips on the virtual terminal prints here.</p>` +
    `<div class="roll" data-roll tabindex="0" aria-label="Printed slips, newest first" aria-live="polite">` +
    slips.map(slipFigure).join("") +
    `</div></aside>`
  );
}
