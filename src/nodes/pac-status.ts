/**
 * pac-status: ask Dojo or the journal.
 * - payment: GetPayment (msg.payload.paymentId or msg.paymentId)
 * - terminals: the account's connected terminals
 * - terminal: TerminalDetails (msg.payload.terminalId, or msg.payload as a string)
 * - journal: payments between msg.payload.from and .to (ISO text or epoch ms; default today 00:00
 *   local time until now) with totals per status and currency: an end-of-day report.
 * msg.topic (one of the four) overrides the node's query.
 */
import { isPaymentId, isTerminalId } from "../engine";
import type { JournalPayment } from "../engine";
import { FIELD, PAYMENT_STATUS } from "../protocol";
import type { DoneFn, Node, NodeAPI, NodeMessage, SendFn } from "./red-types";
import { invalidInput } from "./flow-error";
import { journalAmount } from "./journal-amount";
import { describe, isPlainObject, paymentIdOf } from "./msg-readers";
import type { UserDef } from "./user-node";
import { UserNode, userNodeType } from "./user-node";

const QUERIES = ["payment", "terminals", "terminal", "journal"] as const;
type Query = (typeof QUERIES)[number];

interface StatusDef extends UserDef {
  query?: string;
}

interface JournalTotals {
  [status: string]: { [currency: string]: { count: number; amount: number } };
}

function isQuery(v: unknown): v is Query {
  return typeof v === "string" && (QUERIES as readonly string[]).includes(v);
}

/** ISO text or epoch ms -> epoch ms; undefined when absent; throws when unreadable. */
function readTime(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const ms = typeof v === "number" ? v : typeof v === "string" ? (/^\d+$/.test(v) ? Number(v) : Date.parse(v)) : v instanceof Date ? v.getTime() : NaN;
  if (!Number.isFinite(ms)) {
    throw invalidInput(`msg.payload.${name} must be a date (ISO text such as "2026-11-23T00:00:00Z", or epoch milliseconds), got ${describe(v)}`);
  }
  return ms;
}

/** The status a journal entry is counted under. */
function entryStatus(p: JournalPayment): string {
  if (p.status) return p.status;
  if (p.rejected !== undefined) return "REJECTED"; // ours: Dojo refused it, nothing ran
  return PAYMENT_STATUS.IN_PROGRESS;
}

function totalsOf(entries: JournalPayment[]): JournalTotals {
  const totals: JournalTotals = {};
  for (const p of entries) {
    const status = entryStatus(p);
    const recorded = p.record?.[FIELD.currency];
    const currency = p.currency ?? (typeof recorded === "string" ? recorded : "");
    const byCurrency = (totals[status] ??= {});
    const t = (byCurrency[currency || "?"] ??= { count: 0, amount: 0 });
    t.count++;
    t.amount += journalAmount(p);
  }
  return totals;
}

class StatusNode extends UserNode {
  private readonly query: Query;

  constructor(RED: NodeAPI, node: Node, def: StatusDef) {
    super(RED, node, def, "pac-status");
    this.query = isQuery(def.query) ? def.query : "payment";
    this.start();
  }

  protected async handle(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
    const query = isQuery(msg.topic) ? msg.topic : this.query;
    const p = msg.payload;
    const client = await this.client();
    switch (query) {
      case "payment": {
        const paymentId = paymentIdOf(msg);
        if (!isPaymentId(paymentId)) {
          throw invalidInput(`the payment query needs msg.payload = {paymentId: "<id>"} or msg.paymentId; got ${describe(paymentId)}`);
        }
        msg.payload = await client.getPayment(paymentId);
        break;
      }
      case "terminals":
        msg.payload = await client.connectedTerminals();
        break;
      case "terminal": {
        const terminalId = typeof p === "string" ? p.trim() : isPlainObject(p) ? p.terminalId : undefined;
        if (!isTerminalId(terminalId)) {
          throw invalidInput(`the terminal query needs msg.payload = {terminalId: "<id>"} or the id as text; got ${describe(terminalId)}`);
        }
        msg.payload = await client.terminalDetails(terminalId);
        break;
      }
      case "journal": {
        const fields = isPlainObject(p) ? p : {};
        const now = Date.now();
        const midnight = new Date();
        midnight.setHours(0, 0, 0, 0);
        const from = readTime("from", fields.from) ?? midnight.getTime();
        const to = readTime("to", fields.to) ?? now;
        if (from > to) throw invalidInput(`msg.payload.from must not be after msg.payload.to`);
        const entries = await client.journal.query(from, to);
        msg.payload = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), entries, totals: totalsOf(entries) };
        break;
      }
    }
    this.activity({ fill: "green", shape: "dot", text: query });
    send(msg);
    done();
  }
}

export = function register(RED: NodeAPI): void {
  userNodeType<StatusDef>(RED, "pac-status", (node, def) => new StatusNode(RED, node, def));
};
