/**
 * Slips to output formats. ESC/POS, text and SVG go through receiptline (one description, three
 * printers); HTML is written here, with inline styles only, because e-mail clients drop <style>.
 */
import { transform } from "receiptline";
import type { Slip, SlipLine } from "./slip";

export type ReceiptFormat = "escpos" | "text" | "html" | "svg";
export type PaperWidth = 32 | 42 | 48;
/** Code pages with £, € and ¥: PC858 (ESC t 19) is the common one; WPC1252 (ESC t 16) for printers without it. */
export type CodePage = "cp858" | "cp1252";

export interface RenderOptions {
  width: PaperWidth;
  codePage: CodePage;
}

// ---- receiptline --------------------------------------------------------------------------

/** receiptline's markup characters, escaped so a value prints as it is. */
const SPECIAL = /[\\|{}~_"`^\-=]/g;

function esc(s: string): string {
  // Control characters never reach the printer: they could be commands.
  const clean = s.replace(/\p{Cc}/gu, " ").replace(SPECIAL, (c) => `\\${c}`);
  // Leading and trailing spaces are significant in verbatim lines: "~" is receiptline's kept space.
  return clean.replace(/^ +/, (m) => "~".repeat(m.length)).replace(/ +$/, "");
}

/** Character sizes, for paper; plain text (a log, a chat message) reads better without them: "S A L E". */
interface Markup {
  width: number;
  scaled: boolean;
}

function styled(s: string, l: { bold?: boolean; tall?: boolean; wide?: boolean }, m: Markup): string {
  const scale = !m.scaled ? "" : l.tall && l.wide ? "^^^" : l.tall ? "^^" : l.wide ? "^" : "";
  const bold = l.bold ? '"' : "";
  return `${scale}${bold}${esc(s)}${bold}${scale}`;
}

function lineMarkup(l: SlipLine, m: Markup): string[] {
  switch (l.t) {
    case "text": {
      const body = styled(l.text, l, m);
      if (body === "") return ["|~ |"];
      return [l.align === "center" ? `| ${body} |` : l.align === "right" ? `| ${body}|` : `|${body} |`];
    }
    case "pair":
      return [`|${styled(l.left, l, m)} | ${styled(l.right, l, m)}|`];
    case "rule":
      return l.double ? [`|${"\\=".repeat(m.width)} |`] : ["-"];
    case "blank":
      return ["|~ |"];
    case "feed":
      return ["|~ |", "|~ |", "|~ |"];
    case "box":
      return ["{b:line}", `| ${m.scaled ? "^" : ""}"${esc(l.text)}" |`, "{b:space}"];
  }
}

/** One receiptline document per slip; "=" between slips cuts the paper (and the last cut ends the job). */
export function toReceiptline(slips: readonly Slip[], width: number, scaled = true): string {
  const m: Markup = { width, scaled };
  return slips.map((s) => s.lines.flatMap((l) => lineMarkup(l, m)).join("\n")).join("\n=\n");
}

export function renderEscpos(slips: readonly Slip[], o: RenderOptions): Buffer {
  const commands = transform(toReceiptline(slips, o.width), { cpl: o.width, encoding: o.codePage, command: "escpos", cutting: true });
  return Buffer.from(commands, "binary");
}

export function renderText(slips: readonly Slip[], o: RenderOptions): string {
  return slips
    .map((s) =>
      transform(toReceiptline([s], o.width, false), { cpl: o.width, encoding: o.codePage, command: "text" })
        .split("\n")
        .map((line) => line.trimEnd())
        .join("\n")
        .replace(/\n+$/, "\n"),
    )
    .join(`${"- ".repeat(o.width / 2).trimEnd()}\n`);
}

export function renderSvg(slips: readonly Slip[], o: RenderOptions): string {
  const svg = transform(toReceiptline(slips, o.width), { cpl: o.width, encoding: o.codePage, command: "svg" });
  // receiptline imports a web font: a picture for a dashboard or an e-mail must not fetch anything.
  return svg.replace(/@import url\([^)]*\);?/g, "");
}

// ---- html ---------------------------------------------------------------------------------

function html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const ROW = "margin:0;min-height:1.25em;white-space:pre-wrap;word-break:break-word;";

function htmlLine(l: SlipLine): string {
  switch (l.t) {
    case "text": {
      const style = `${ROW}text-align:${l.align};${l.bold ? "font-weight:bold;" : ""}${l.tall || l.wide ? "font-size:1.5em;" : ""}`;
      return `<div style="${style}">${html(l.text) || "&nbsp;"}</div>`;
    }
    case "pair":
      return (
        `<table role="presentation" style="width:100%;border-collapse:collapse;${l.bold ? "font-weight:bold;" : ""}"><tr>` +
        `<td style="padding:0;text-align:left;">${html(l.left)}</td><td style="padding:0;text-align:right;white-space:nowrap;">${html(l.right)}</td></tr></table>`
      );
    case "rule":
      return `<hr style="border:0;border-top:${l.double ? "3px double" : "1px dashed"} #333;margin:6px 0;">`;
    case "blank":
      return `<div style="${ROW}">&nbsp;</div>`;
    case "feed":
      return `<div style="height:3em;"></div>`;
    case "box":
      return `<div style="border:2px solid #000;margin:6px 0;padding:6px;text-align:center;font-weight:bold;font-size:1.3em;">${html(l.text)}</div>`;
  }
}

/** A self-contained e-mail body: no external resources, no scripts, readable on a phone. */
export function renderHtml(slips: readonly Slip[], title: string): string {
  const body = slips
    .map(
      (s) =>
        `<div style="max-width:360px;margin:12px auto;padding:16px;background:#fff;border:1px solid #ddd;font-family:'Courier New',Courier,monospace;font-size:14px;line-height:1.35;color:#000;">` +
        s.lines.map(htmlLine).join("") +
        `</div>`,
    )
    .join("");
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${html(title)}</title></head><body style="margin:0;padding:8px;background:#f3f3f3;">${body}</body></html>`
  );
}
