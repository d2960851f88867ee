/**
 * pac-receipt: a payment's result (pac-payment, pac-refund), a pac-events record or a pac-status
 * journal entry in; the receipt out, in the chosen format, with msg.receipt holding its data.
 * Thin glue: everything about receipts is in src/receipt (no Node-RED there).
 */
import { FORMATS, PAPER_WIDTHS, ReceiptInputError, makeReceipt } from "../receipt";
import type { SimSlipInput } from "../simulator";
import type { CodePage, CopyChoice, PaperWidth, ReceiptFormat, ReceiptKind, ReceiptOptions, ReceiptResult, ShopInfo } from "../receipt";
import type { PacConfigNode } from "./config-runtime";
import { FlowError, invalidInput } from "./flow-error";
import { makeTranslate } from "./i18n";
import type { Node, NodeAPI, NodeDef, NodeMessage } from "./red-types";

interface ReceiptDef extends NodeDef {
  format?: string;
  width?: string | number;
  codePage?: string;
  copies?: string;
  unsuccessful?: string;
  kind?: string;
  shopName?: string;
  shopAddress?: string;
  vatNumber?: string;
  thankYou?: string;
  /** A Dojo connection: with the built-in simulator, its virtual terminal page shows the slips. */
  server?: string;
  virtualPrinter?: boolean | string;
}

const COPIES: readonly CopyChoice[] = ["customer", "merchant", "both"];
const CODE_PAGES: readonly CodePage[] = ["cp858", "cp1252"];
const KINDS: readonly ("auto" | ReceiptKind)[] = ["auto", "payment", "refund"];

function pick<T extends string | number>(list: readonly T[], v: unknown, fallback: T): T {
  return list.find((x) => String(x) === String(v)) ?? fallback;
}

function text(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : typeof v === "number" ? String(v) : undefined;
}

/** The shop's lines: the node's settings, each overridden by msg.shop.<name>; the order from msg.orderRef. */
function shopOf(def: ReceiptDef, msg: NodeMessage): ShopInfo {
  const m = msg.shop !== null && typeof msg.shop === "object" && !Array.isArray(msg.shop) ? (msg.shop as Record<string, unknown>) : {};
  const address = text(m.address) ?? text(def.shopAddress);
  const out: ShopInfo = {};
  const name = text(m.name) ?? text(def.shopName);
  if (name) out.name = name;
  if (address) out.address = address.split(/\r?\n|\s*\|\s*/).filter((l) => l.trim() !== "");
  const vat = text(m.vatNumber) ?? text(def.vatNumber);
  if (vat) out.vatNumber = vat;
  const thanks = text(m.thankYou) ?? text(def.thankYou);
  if (thanks) out.thankYou = thanks;
  const order = text(msg.orderRef);
  if (order) out.orderRef = order;
  return out;
}

type Printed = Extract<ReceiptResult, { printed: true }>;

/**
 * The slip for the virtual receipt printer: its picture and text, whatever format the node writes.
 * Rendered only when the connection runs the built-in simulator (ConfigRuntime.showSlip asks for it).
 */
function virtualSlip(input: unknown, options: ReceiptOptions, r: Printed): SimSlipInput {
  const as = (format: "svg" | "text"): string => {
    if (options.format === format) return String(r.payload);
    const other = makeReceipt(input, { ...options, format });
    return other.printed ? String(other.payload) : "";
  };
  const s = r.receipt.source;
  return {
    terminalId: s.terminalId ?? "",
    paymentId: s.paymentId,
    svg: as("svg"),
    text: as("text"),
    amount: s.amount,
    currency: s.currency,
    outcome: s.outcome,
    ...(s.authCode ? { authCode: s.authCode } : {}),
  };
}

export = function register(RED: NodeAPI): void {
  RED.nodes.registerType<Node, ReceiptDef>("pac-receipt", function (this: Node, def: ReceiptDef) {
    RED.nodes.createNode(this, def);
    start(RED, this, def);
  });
};

function start(RED: NodeAPI, node: Node, def: ReceiptDef): void {
  const t = makeTranslate(RED, "pac-receipt");
  const base: Omit<ReceiptOptions, "shop" | "format" | "copies"> = {
    width: pick<PaperWidth>(PAPER_WIDTHS, def.width, 42),
    codePage: pick(CODE_PAGES, def.codePage, "cp858"),
    unsuccessful: def.unsuccessful !== "none",
    kind: pick(KINDS, def.kind, "auto"),
  };
  const format = pick<ReceiptFormat>(FORMATS, def.format, "escpos");
  const copies = pick(COPIES, def.copies, "both");
  const onVirtualPrinter = def.virtualPrinter === true || def.virtualPrinter === "true";
  /** The connection whose simulator shows the slips, looked up per message (a redeploy replaces it). */
  const connection = (): PacConfigNode | null => (onVirtualPrinter && def.server ? (RED.nodes.getNode(def.server) as PacConfigNode | null) : null);
  node.on("input", (msg, send, done) => {
    try {
      // msg.receiptFormat / msg.copies choose per message (e.g. one flow for e-mail and printer).
      const options: ReceiptOptions = {
        ...base,
        format: pick<ReceiptFormat>(FORMATS, msg.receiptFormat, format),
        copies: pick(COPIES, msg.copies, copies),
        shop: shopOf(def, msg),
      };
      const r = makeReceipt(msg.payload, options);
      if (!r.printed) {
        node.status({ fill: "grey", shape: "ring", text: t("status.skipped", { status: r.source.status }) });
        done();
        return;
      }
      const shown = connection()?.pac?.showSlip(() => virtualSlip(msg.payload, options, r));
      msg.payload = r.payload;
      msg.receipt = r.receipt;
      const printed = t("status.printed", { status: r.receipt.source.status, format: options.format });
      node.status({ fill: "green", shape: "dot", text: shown === "shown" ? t("status.virtualPrinter", { printed }) : printed });
      send(msg);
      done();
    } catch (e) {
      const err = e instanceof ReceiptInputError ? invalidInput(e.message) : new FlowError("RECEIPT_FAILED", e instanceof Error ? e.message : String(e));
      node.status({ fill: "red", shape: "ring", text: t("status.error") });
      done(err);
    }
  });
  node.on("close", (_removed, done) => {
    node.status({});
    done();
  });
}
