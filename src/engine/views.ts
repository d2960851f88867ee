/**
 * Read-only views of a client for people (the editor's Dojo sidebar): the latest payments of its
 * journal with a status a person can act on. The tracker phases and the journal's fields are read
 * here, inside the engine, so the Node-RED side never depends on them.
 */
import { FINAL_STATUSES } from "../protocol";
import type { JournalPayment } from "./journal";
import type { PacClient } from "./pac-client";

/** How many of the latest payments a view shows by default. */
export const LATEST_PAYMENTS = 15;

/** One payment of the journal as the sidebar shows it. */
export interface PaymentRow {
  paymentId: string;
  kind?: string;
  terminalId?: string;
  amount?: number;
  currency?: string;
  /** A final status, or IN_PROGRESS, SENDING, OUTCOME_UNKNOWN, AWAITING_RECORD, REJECTED, NOT_CREATED, REFUSED. */
  status: string;
  /** REFUSED: why nothing was sent. */
  reason?: string;
  /** The terminal's last notification for it. */
  step?: string;
  startedAt?: number;
  updatedAt: number;
  /** The outcome is not known (yet): GetPayment may tell. */
  queryable: boolean;
  outcomeUnknown: boolean;
  delivered: boolean;
}

export function isFinal(status: string | undefined): boolean {
  return status !== undefined && FINAL_STATUSES.has(status);
}

export function paymentRow(client: PacClient, p: JournalPayment): PaymentRow {
  const tracked = client.tracked(p.id);
  let status: string;
  let outcomeUnknown = false;
  if (p.rejected !== undefined) status = "REJECTED";
  else if (p.record?.notCreated === true) status = "NOT_CREATED";
  else if (isFinal(p.status) && (p.recordedAt !== undefined || !tracked)) status = p.status as string;
  else if (tracked?.phase === "unknown") {
    status = "OUTCOME_UNKNOWN";
    outcomeUnknown = true;
  } else if (tracked?.phase === "creating") status = "SENDING";
  else if (tracked?.phase === "awaiting-record") status = isFinal(p.status) ? (p.status as string) : "AWAITING_RECORD";
  else if (tracked) status = "IN_PROGRESS";
  else {
    // Open in the journal, followed by nobody: its outcome is unknown until Dojo is asked.
    status = "OUTCOME_UNKNOWN";
    outcomeUnknown = true;
  }
  const finished = p.rejected !== undefined || p.recordedAt !== undefined || status === "NOT_CREATED";
  return {
    paymentId: p.id,
    kind: p.kind,
    terminalId: p.terminalId,
    amount: p.amount,
    currency: p.currency,
    status,
    step: tracked?.lastStep ?? p.lastStep,
    startedAt: p.startedAt,
    updatedAt: p.updatedAt,
    queryable: !finished,
    outcomeUnknown,
    delivered: p.deliveredAt !== undefined,
  };
}

/** The latest payments of a client's journal, newest first. */
export function latestPayments(client: PacClient, limit = LATEST_PAYMENTS): PaymentRow[] {
  const all = new Map<string, JournalPayment>();
  for (const p of client.journal.recent()) all.set(p.id, p);
  for (const p of client.journal.openPayments()) all.set(p.id, p);
  const rows = [...all.values()].map((p) => paymentRow(client, p));
  // Refused before anything was sent (e.g. the journal could not write): shown as refused, with why.
  for (const r of client.recentRefusals()) {
    if (all.has(r.paymentId)) continue;
    rows.push({
      paymentId: r.paymentId,
      kind: r.kind,
      terminalId: r.terminalId,
      amount: r.amount,
      currency: r.currency,
      status: "REFUSED",
      reason: r.reason,
      startedAt: r.at,
      updatedAt: r.at,
      queryable: false,
      outcomeUnknown: false,
      delivered: false,
    });
  }
  return rows.sort((a, b) => (b.startedAt ?? b.updatedAt) - (a.startedAt ?? a.updatedAt)).slice(0, limit);
}
