/**
 * The virtual terminal page, rendered on the server with the terminals' current state (so it reads
 * right before the script runs). Every URL in it is relative: it works under any base path as long
 * as the page itself is served at a path ending in "/".
 */
import type { SimPrintedSlip, SimTerminalSnapshot } from "../types";
import { escapeHtml } from "./html";
import { printerPanel } from "./printer-view";
import { VT_ACTIONS, describeTerminal } from "./view";

export { escapeHtml } from "./html";

export type VtTheme = "light" | "dark" | undefined;

/** The PIN pad, shown while the terminal asks for the PIN: OK (after 4 to 6 digits) enters it. */
function keypad(id: string, shown: boolean): string {
  const key = (k: string, label: string, extra = ""): string => `<button type="button" class="key" data-key="${k}"${extra}>${label}</button>`;
  const digits = ["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((d) => key(d, d)).join("");
  return (
    `<div class="keypad" data-keypad role="group" aria-labelledby="${id}-pin"${shown ? "" : " hidden"}>` +
    `<div class="pin"><span id="${id}-pin">PIN</span> <span data-field="pin" aria-live="polite"></span></div>` +
    `<div class="keys">${digits}${key("clear", "Clear")}${key("0", "0")}${key("ok", "OK", ' aria-label="OK: enter the PIN"')}</div></div>`
  );
}

function terminalCard(t: SimTerminalSnapshot, n: number, showAccount: boolean, slips: readonly SimPrintedSlip[]): string {
  const v = describeTerminal(t);
  const id = `t${n}`;
  const allowed = new Set<string>(t.allowedActions);
  const button = (a: (typeof VT_ACTIONS)[number]): string =>
    `<button type="button" class="act${v.next === a.action ? " next" : ""}" data-action="${a.action}"${allowed.has(a.action) ? "" : " disabled"}>` +
    `${escapeHtml(a.label)}</button>`;
  const group = (name: "customer" | "bank", title: string): string =>
    `<div class="group" role="group" aria-labelledby="${id}-${name}">` +
    `<h3 id="${id}-${name}">${title}</h3><div class="buttons">` +
    VT_ACTIONS.filter((a) => a.group === name)
      .map(button)
      .join("") +
    `</div></div>`;
  const toggle = (name: "automatic" | "online", label: string, on: boolean): string =>
    `<button type="button" class="switch" role="switch" data-toggle="${name}" aria-checked="${on}">` +
    `<span class="knob" aria-hidden="true"></span><span class="switch-label">${label}</span>` +
    `<span class="switch-state" aria-hidden="true">${on ? "on" : "off"}</span></button>`;
  const account = showAccount ? `<span class="account">${escapeHtml(t.accountName)}</span>` : "";
  return `
<div class="counter">
<section class="terminal tone-${v.tone}" data-account="${escapeHtml(t.accountName)}" data-terminal="${escapeHtml(t.terminalId)}" aria-labelledby="${id}-name">
  <header class="terminal-head">
    <h2 id="${id}-name">${escapeHtml(t.terminalId)}${account}</h2>
    <span class="badge" data-field="status">${escapeHtml(v.status)}</span>
  </header>
  <div class="screen" tabindex="-1">
    <div class="amount" data-field="amount">${escapeHtml(v.amount)}</div>
    <div class="headline" data-field="headline" aria-live="polite">${escapeHtml(v.headline)}</div>
    <div class="signature" data-field="signature">${escapeHtml(v.signature)}</div>
    <div class="detail" data-field="detail"${v.paymentId ? ` title="${escapeHtml(v.paymentId)}"` : ""}>${escapeHtml(v.detail)}</div>
  </div>
  <p class="hint" data-field="hint">${escapeHtml(v.hint)}</p>
  ${keypad(id, t.step === "pinEntry" && allowed.has("enterPin"))}
  <div class="switches">
    ${toggle("automatic", "Automatic", !t.manual)}
    ${toggle("online", "Online", t.online)}
  </div>
  ${group("customer", "Customer")}
  ${group("bank", "Bank")}
  <p class="error" data-field="error" role="alert"></p>
</section>
${printerPanel(
  id,
  slips.filter((s) => s.accountName === t.accountName && s.terminalId === t.terminalId),
)}
</div>`;
}

export function renderPage(terminals: readonly SimTerminalSnapshot[], opts: { title: string; theme: VtTheme; slips?: readonly SimPrintedSlip[] }): string {
  const showAccount = new Set(terminals.map((t) => t.accountName)).size > 1;
  const cards = terminals.length
    ? terminals.map((t, i) => terminalCard(t, i, showAccount, opts.slips ?? [])).join("\n")
    : `<p class="empty">This simulator has no terminals.</p>`;
  const theme = opts.theme ? ` class="${opts.theme}"` : "";
  return `<!doctype html>
<html lang="en"${theme}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(opts.title)}</title>
<link rel="stylesheet" href="vt/style.css">
<script src="vt/app.js" defer></script>
</head>
<body>
<header class="page-head">
  <h1>${escapeHtml(opts.title)}</h1>
  <p class="conn" data-conn="connecting" role="status" aria-live="polite">Connecting…</p>
</header>
<p class="intro">Play the customer and the bank. <strong>Automatic</strong>: the amount's last two digits decide
(…00 approve, …01 decline, …02 signature, …03 wait for a card, …04 error, …05 chip and PIN).
Switch it off to drive a payment with the buttons. Beside each terminal, its <strong>receipt printer</strong> shows
the slips your flow printed there.</p>
<main class="grid">
${cards}
</main>
<noscript><p class="intro">The buttons need JavaScript.</p></noscript>
</body>
</html>
`;
}
