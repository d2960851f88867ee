/**
 * What a journal holds, entry by entry: the entries written to its file, the payment they fold into,
 * and how one entry changes a payment (the status rules live here, in `fold`).
 */
import { CAPTURE_MODE, PAYMENT_STATUS, statusAfterRecord } from "../../protocol";
import type { CaptureMode, JsonObject } from "../../protocol";

export type PaymentKind = "payment" | "refund";
/** A change to a held pre-auth that Dojo may have made: capture, update (a new amount) or reversal. */
export type ChangeOp = "capture" | "update" | "reverse";
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface StartInfo {
  id: string;
  kind: PaymentKind;
  terminalId: string;
  amount: number;
  currency: string;
  captureMode?: CaptureMode;
  tipsAmount?: number;
  cashbackAmount?: number;
  /** Who started it (a Node-RED node id), to route the outcome back after a restart. */
  owner?: string;
  /** JSON-safe context kept with the payment (e.g. the part of the msg to restore). */
  ctx?: JsonValue;
}

export type JournalEntry =
  | ({ t: "start"; ts: number } & StartInfo)
  | { t: "rejected"; ts: number; id: string; reason: string }
  | { t: "step"; ts: number; id: string; value: string }
  | { t: "state"; ts: number; id: string; status: string; amount?: number }
  /** A change is about to be sent: until its answer is journaled, a restart asks Dojo what happened. */
  | { t: "change"; ts: number; id: string; op: ChangeOp; amount?: number }
  /** Dojo refused that change (or it never left): nothing changed. */
  | { t: "unchanged"; ts: number; id: string }
  | { t: "record"; ts: number; id: string; record: JsonObject }
  | { t: "emit"; ts: number; id: string }
  | { t: "unemit"; ts: number; id: string }
  | { t: "done"; ts: number; id: string }
  | { t: "snap"; ts: number; p: JournalPayment }
  | { t: "seen"; ts: number; ids: string[] }
  /** The epos-id the file belongs to (its name holds only a file-safe form of it and a hash). */
  | { t: "ident"; ts: number; eposId: string };

/** Everything known about one payment, folded from its entries. */
export interface JournalPayment {
  id: string;
  kind?: PaymentKind;
  terminalId?: string;
  amount?: number;
  currency?: string;
  captureMode?: CaptureMode;
  tipsAmount?: number;
  cashbackAmount?: number;
  owner?: string;
  ctx?: JsonValue;
  startedAt?: number;
  lastStep?: string;
  status?: string;
  record?: JsonObject;
  recordedAt?: number;
  rejected?: string;
  /** The outcome was about to be handed over (a crash after this may have delivered it). */
  emitting?: boolean;
  deliveredAt?: number;
  /** A change was sent whose answer is not journaled yet (the payment stays open until it is). */
  changing?: ChangeOp;
  updatedAt: number;
}

/**
 * A payment with nothing left to follow or deliver: its outcome reached the flow, it was rejected,
 * or the journal holds only a note of a change to a payment it no longer knows (a pre-auth from
 * before its window). A change whose answer is not journaled keeps any payment open.
 */
export function isClosed(p: JournalPayment): boolean {
  if (p.changing !== undefined) return false;
  if (p.startedAt === undefined && p.recordedAt === undefined) return true;
  return p.rejected !== undefined || p.deliveredAt !== undefined;
}

/** A pre-auth Dojo holds (authorised, not yet captured or reversed): kept across rotations. */
export function isHeldPreAuth(p: JournalPayment): boolean {
  return p.kind === "payment" && p.captureMode === CAPTURE_MODE.MANUAL && p.status === PAYMENT_STATUS.AUTHORIZED;
}

export function fold(p: JournalPayment, e: JournalEntry): void {
  p.updatedAt = e.ts;
  switch (e.t) {
    case "start": {
      const { t: _t, ts, ...info } = e;
      Object.assign(p, info, { startedAt: ts });
      break;
    }
    case "rejected":
      p.rejected = e.reason;
      break;
    case "step":
      p.lastStep = e.value;
      break;
    case "state":
      p.status = e.status;
      if (e.amount !== undefined) p.amount = e.amount;
      if (p.changing !== undefined) p.changing = undefined;
      break;
    case "change":
      p.changing = e.op;
      break;
    case "unchanged":
      if (p.changing !== undefined) p.changing = undefined;
      break;
    case "record":
      p.record = e.record;
      p.recordedAt = e.ts;
      if (typeof e.record.status === "string") p.status = statusAfterRecord(p.status, e.record.status);
      break;
    case "emit":
      p.emitting = true;
      break;
    case "unemit":
      p.emitting = false;
      break;
    case "done":
      p.deliveredAt = e.ts;
      p.emitting = false;
      break;
    default:
      break;
  }
}

/** Fold a journal file's lines into payments by id (unreadable lines are skipped). */
export function foldLines(text: string, byId: Map<string, JournalPayment>): void {
  for (const line of text.split("\n")) {
    if (!line) continue;
    let e: JournalEntry;
    try {
      e = JSON.parse(line) as JournalEntry;
    } catch {
      continue;
    }
    if (e.t === "seen" || e.t === "ident") continue;
    if (e.t === "snap") {
      // A held pre-auth's snapshot carries no record (memory keeps only a slim copy): an earlier
      // segment's record stays.
      const earlier = byId.get(e.p.id)?.record;
      byId.set(e.p.id, e.p.record === undefined && earlier !== undefined ? { ...e.p, record: earlier } : { ...e.p });
      continue;
    }
    const p = byId.get(e.id) ?? { id: e.id, updatedAt: e.ts };
    fold(p, e);
    byId.set(e.id, p);
  }
}
