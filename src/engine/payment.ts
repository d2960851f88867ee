/**
 * One state machine per payment (or refund) this EPOS started, following the contract's lifecycle
 * from our side. Exactly one final outcome per payment follows from the transition table: the two
 * final phases have no way out.
 */
import type { StartInfo } from "./journal";

export type PaymentPhase =
  | "creating" // journaled; Create* sent; no answer yet
  | "unknown" // the answer to Create* was lost: may be running; follow up with GetPayment
  | "running" // acknowledged (or GetPayment says in progress)
  | "awaiting-record" // GetPayment says it ended; Dojo will (re)deliver the record
  | "recorded" // final: record stored and acknowledged
  | "not-created" // final: Dojo never got it (GetPayment: PAYMENT_NOT_FOUND)
  | "rejected"; // Dojo refused Create*: nothing ran; the caller got the error

const TRANSITIONS: Readonly<Record<PaymentPhase, readonly PaymentPhase[]>> = {
  creating: ["running", "unknown", "rejected", "recorded", "awaiting-record"],
  unknown: ["running", "awaiting-record", "recorded", "not-created"],
  running: ["awaiting-record", "recorded"],
  "awaiting-record": ["recorded"],
  recorded: [],
  "not-created": [],
  rejected: [],
};

export type SignaturePolicy = "accept" | "decline" | "ask";

export class PaymentTracker {
  private current: PaymentPhase;
  /** The terminal's latest notification for this payment, and when it came (ms since the epoch). */
  lastStep?: string;
  lastStepAt = 0;

  constructor(
    readonly info: StartInfo,
    readonly signature: SignaturePolicy,
    phase: PaymentPhase = "creating",
  ) {
    this.current = phase;
  }

  get id(): string {
    return this.info.id;
  }

  get phase(): PaymentPhase {
    return this.current;
  }

  get final(): boolean {
    return TRANSITIONS[this.current].length === 0;
  }

  /** Move to `to` when the table allows it; false (and no change) otherwise. */
  to(to: PaymentPhase): boolean {
    if (!TRANSITIONS[this.current].includes(to)) return false;
    this.current = to;
    return true;
  }

  /** Needs a GetPayment after a reconnect. */
  get needsFollowUp(): boolean {
    return this.current === "unknown" || this.current === "running" || this.current === "awaiting-record";
  }
}
