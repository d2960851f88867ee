/**
 * GET pac/open-payments: every payment whose result has not reached the flow yet, per connection:
 * live ones, drain-only ones (a deploy changed or removed their connection while payments were open)
 * and journals of identities no connection uses any more. The editor shows it before a deploy that
 * changes an identity, and the Dojo sidebar lists the last two kinds.
 */
import { activeJournalFiles, isClosed, readOpenPayments } from "../engine";
import type { JournalPayment, PacClient } from "../engine";
import type { ConfigRuntime, RuntimeConnections as Connections } from "./config-runtime";

export interface OpenPaymentRow {
  paymentId: string;
  kind?: string;
  terminalId?: string;
  amount?: number;
  currency?: string;
  status?: string;
  lastStep?: string;
  startedAt?: number;
  /** Why it is still open, in plain words. */
  reason: string;
}

export interface OpenPaymentsConnection {
  configId?: string;
  name?: string;
  eposId: string;
  environment?: string;
  state: "live" | "draining" | "not-configured";
  open: OpenPaymentRow[];
}

function reasonFor(client: PacClient | null, p: JournalPayment): string {
  const phase = client?.tracked(p.id)?.phase;
  if (p.recordedAt !== undefined)
    return p.owner !== undefined ? "result recorded: waiting for its node to take it" : "result recorded: no node takes it (its node is gone)";
  switch (phase) {
    case "creating":
      return "being sent to Dojo";
    case "unknown":
      return "outcome unknown: asking Dojo";
    case "running":
      return "running on the terminal";
    case "awaiting-record":
      return "ended: waiting for Dojo's record";
    default:
      return client ? "open in the journal: followed up while connected" : "open in the journal: no connection with this identity is deployed";
  }
}

function row(client: PacClient | null, p: JournalPayment, reason?: string): OpenPaymentRow {
  return {
    paymentId: p.id,
    ...(p.kind !== undefined ? { kind: p.kind } : {}),
    ...(p.terminalId !== undefined ? { terminalId: p.terminalId } : {}),
    ...(p.amount !== undefined ? { amount: p.amount } : {}),
    ...(p.currency !== undefined ? { currency: p.currency } : {}),
    ...(p.status !== undefined ? { status: p.status } : {}),
    ...((client?.tracked(p.id)?.lastStep ?? p.lastStep) !== undefined ? { lastStep: client?.tracked(p.id)?.lastStep ?? p.lastStep } : {}),
    ...(p.startedAt !== undefined ? { startedAt: p.startedAt } : {}),
    reason: reason ?? reasonFor(client, p),
  };
}

function ofRuntime(rt: ConfigRuntime, state: "live" | "draining", environment?: string): OpenPaymentsConnection | null {
  const client = rt.client;
  if (!client) return null;
  const open = client.journal
    .openPayments()
    .filter((p) => !isClosed(p))
    .map((p) => row(client, p));
  return { configId: rt.configId, name: rt.displayName, eposId: client.connection.eposId, ...(environment ? { environment } : {}), state, open };
}

/**
 * The report. `journalDir` is where live connections keep their journals: files there that no
 * connection has open are read (never written) for payments still open.
 */
export async function openPaymentsReport(
  connections: Connections,
  journalDir: string,
  environmentOf: (configId: string) => string | undefined,
): Promise<OpenPaymentsConnection[]> {
  const { live, draining } = connections.list();
  const out: OpenPaymentsConnection[] = [];
  const inUse = new Set<string>();
  for (const [rts, state] of [
    [live, "live"],
    [draining, "draining"],
  ] as const) {
    for (const rt of rts) {
      const c = ofRuntime(rt, state, environmentOf(rt.configId));
      if (rt.client) inUse.add(rt.client.journal.path);
      if (c) out.push(c);
    }
  }
  for (const { file, eposId } of activeJournalFiles(journalDir)) {
    if (inUse.has(file)) continue;
    let open: JournalPayment[];
    try {
      open = await readOpenPayments(file);
    } catch {
      continue;
    }
    if (open.length === 0) continue;
    const reason = `no deployed connection uses epos-id ${eposId} with this account and URL: deploy one to collect the result`;
    out.push({ eposId, state: "not-configured", open: open.map((p) => row(null, p, reason)) });
  }
  return out;
}
