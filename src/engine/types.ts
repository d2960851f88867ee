/**
 * What the engine hands to its user: requests in, outcomes, steps, questions and records out.
 * Shared by the parts of the engine (book, inbound, outbox, ...) and its facade, PacClient.
 */
import type { CaptureMode, CardInfo, JsonObject } from "../protocol";
import { SUCCESS_STATUSES, readRecord } from "../protocol";
import type { JournalPayment, JsonValue, PaymentKind, StartInfo } from "./journal";
import type { SignaturePolicy } from "./payment";

export interface StartRequest {
  /** Generated (UUID) when absent. */
  paymentId?: string;
  terminalId: string;
  amount: number;
  currency: string;
  owner?: string;
  ctx?: JsonValue;
  signature?: SignaturePolicy;
}
export interface PaymentRequest extends StartRequest {
  captureMode?: CaptureMode;
  tipsAmount?: number;
  cashbackAmount?: number;
}
export type RefundRequest = StartRequest;

export interface NotificationEvent {
  paymentId: string;
  terminalId: string;
  notification: string;
  owner?: string;
  raw: JsonObject;
}

export interface SignatureQuestion {
  paymentId: string;
  terminalId: string;
  receiptLines: string[];
  /** Seconds Dojo gives for the answer. */
  timeout: number;
  owner?: string;
}

/** The one final outcome of a payment or refund. */
export interface PaymentOutcome {
  paymentId: string;
  kind?: PaymentKind;
  terminalId: string;
  status: string;
  successful: boolean;
  amount?: number;
  currency?: string;
  captureMode?: CaptureMode;
  authCode?: string;
  card?: CardInfo;
  /** What Dojo sent in RecordPayment/RecordRefund. */
  record?: JsonObject;
  owner?: string;
  ctx?: JsonValue;
  /** Not started by this EPOS (or its journal does not know it). */
  foreign: boolean;
  /** Dojo never received the Create* (lost before it arrived): nothing was charged. */
  notCreated: boolean;
  /** Possibly handed over already before a crash. */
  redelivered: boolean;
}

export interface RecordEvent {
  paymentId: string;
  kind: PaymentKind;
  record: JsonObject;
  foreign: boolean;
}

/** A sale or refund refused before anything was sent (kept in memory for the sidebar, bounded). */
export interface RefusedStart {
  paymentId: string;
  kind: PaymentKind;
  terminalId: string;
  amount: number;
  currency: string;
  code: string;
  reason: string;
  at: number;
}

/** Where a payment stands, while the engine follows it. */
export interface TrackedPayment {
  phase: string;
  lastStep?: string;
  info: StartInfo;
}

export function startInfoOf(p: JournalPayment): StartInfo {
  return {
    id: p.id,
    kind: p.kind ?? "payment",
    terminalId: p.terminalId ?? "",
    amount: p.amount ?? 0,
    currency: p.currency ?? "",
    captureMode: p.captureMode,
    tipsAmount: p.tipsAmount,
    cashbackAmount: p.cashbackAmount,
    owner: p.owner,
    ctx: p.ctx,
  };
}

/** The outcome the journal knows of a payment; `redelivered` when a hand-over may have happened. */
export function outcomeOf(p: JournalPayment, redelivered: boolean): PaymentOutcome {
  const rec = p.record ? readRecord(p.record) : undefined;
  const notCreated = p.record?.notCreated === true;
  const status = rec?.status || p.status || "";
  return {
    paymentId: p.id,
    kind: p.kind,
    terminalId: rec?.terminalId || p.terminalId || "",
    status,
    successful: notCreated ? false : rec ? rec.paymentSuccessful || SUCCESS_STATUSES.has(status) : false,
    amount: rec && rec.baseAmount ? rec.baseAmount : p.amount,
    currency: rec?.currency || p.currency,
    captureMode: rec?.captureMode ?? p.captureMode,
    authCode: rec?.authCode,
    card: rec?.card,
    record: notCreated ? undefined : p.record,
    owner: p.owner,
    ctx: p.ctx,
    foreign: !p.kind,
    notCreated,
    redelivered,
  };
}
