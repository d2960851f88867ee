/**
 * GET pac/status/:configId for the Dojo sidebar: the connection's state, its terminals with the
 * live step of the payment running on each, the latest payments (rows built by the engine's
 * views), and the drain-only connections the config node left behind.
 */
import { latestPayments } from "../../engine";
import type { PaymentRow } from "../../engine";
import type { PacConfigNode, RuntimeConnections as Connections } from "../config-runtime";
import { configDefs } from "./deployed";
import { errorText } from "./http";
import type { AdminNodeAPI } from "./http";
import type { TerminalCache } from "./terminals";

export interface TerminalRow {
  terminalId: string;
  tid?: string;
  status?: string;
  /** The last notification of the payment running on it (from this EPOS). */
  step?: string;
  paymentId?: string;
  amount?: number;
  currency?: string;
}

export interface StatusReport {
  id: string;
  name?: string;
  environment?: string;
  eposId?: string;
  connection: { state: string; reason?: string; retryInMs?: number; journal?: string };
  terminals: TerminalRow[];
  /** Why terminals could not be listed (not connected, an error). */
  terminalsError?: string;
  payments: PaymentRow[];
  /** Relative URL of the virtual terminal page (simulator), else null. */
  virtualTerminal: string | null;
  /** Drain-only connections this config node left behind (a deploy changed its identity while payments were open). */
  draining: { eposId: string; state: string; open: number }[];
  at: number;
}

export async function statusReport(
  RED: AdminNodeAPI,
  node: PacConfigNode,
  terminals: TerminalCache,
  connections: Connections | null = null,
): Promise<StatusReport> {
  const runtime = node.pac;
  const def = configDefs(RED).get(node.id);
  const view = runtime.connectionView;
  const client = runtime.client;
  const report: StatusReport = {
    id: node.id,
    name: node.name || undefined,
    environment: def?.environment ?? (runtime.simulator ? "simulator" : undefined),
    eposId: def?.eposId ?? client?.connection.eposId,
    connection: {
      state: view.state,
      ...(view.reason ? { reason: runtime.redact(view.reason) } : {}),
      ...(view.retryInMs !== undefined ? { retryInMs: view.retryInMs } : {}),
      ...(view.journal !== undefined ? { journal: view.journal } : {}),
    },
    terminals: [],
    payments: [],
    virtualTerminal: runtime.simulator && !runtime.simulator.isStopped ? `pac/vt/${encodeURIComponent(node.id)}/` : null,
    draining: (connections?.list().draining ?? [])
      .filter((rt) => rt.configId === node.id && rt.client)
      .map((rt) => ({ eposId: rt.client?.connection.eposId ?? "", state: rt.client?.state ?? "closed", open: rt.openWork() })),
    at: Date.now(),
  };
  if (!client) {
    report.terminalsError = "not-connected";
    return report;
  }
  report.payments = latestPayments(client);
  if (client.state === "open") {
    try {
      report.terminals = await terminals.list(client, Math.min(runtime.requestTimeoutMs, 10_000));
    } catch (e) {
      report.terminalsError = runtime.redact(errorText(e));
    }
  } else {
    report.terminalsError = "not-connected";
  }
  // The live step of each terminal: the newest unfinished payment on it.
  const running = report.payments.filter((p) => p.queryable && p.terminalId);
  for (const p of running) {
    let row = report.terminals.find((t) => t.terminalId === p.terminalId);
    if (!row) {
      row = { terminalId: p.terminalId as string };
      report.terminals.push(row);
    }
    if (row.paymentId) continue; // a newer one already
    row.paymentId = p.paymentId;
    row.step = p.step ?? p.status;
    row.amount = p.amount;
    row.currency = p.currency;
  }
  return report;
}
