/**
 * Follow-up: GetPayment for payments whose fate this EPOS does not know. A Create* whose answer was
 * lost ("unknown"), payments running when the connection dropped, and held pre-auths whose capture,
 * update or reversal lost its answer are asked about once connected, and the unknown ones again
 * every followUpMs until Dojo says; so are changes an earlier process sent (their intent is in the
 * journal) whose answer it never noted. What Dojo says goes to the journal; a payment Dojo never
 * received ends "not created", handed to the outbox like any outcome.
 */
import { ERROR_CODE, FINAL_STATUSES, PAYMENT_STATUS } from "../protocol";
import type { PaymentState } from "../protocol";
import type { PaymentBook } from "./book";
import { PacError } from "./errors";
import type { PaymentTracker } from "./payment";
import type { PaymentOutcome } from "./types";
import { outcomeOf } from "./types";

export interface FollowUpParts {
  book: PaymentBook;
  isConnected(): boolean;
  getPayment(paymentId: string): Promise<PaymentState>;
  /** A payment Dojo never received: its (final) outcome. */
  ended(outcome: PaymentOutcome): void;
  warn(message: string): void;
}

export class FollowUp {
  private timer: NodeJS.Timeout | null = null;
  /** Pre-auths a capture, update or reversal was sent for whose answer was lost. */
  private readonly unverified = new Set<string>();
  private closed = false;

  constructor(
    private readonly parts: FollowUpParts,
    private readonly everyMs: number,
  ) {
    // Changes an earlier process sent whose answer it did not journal: Dojo is asked once connected.
    for (const p of parts.book.journal.openPayments()) if (p.changing !== undefined) this.unverified.add(p.id);
  }

  /** Connected (again): ask at once, not at the next periodic round. */
  connected(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.schedule(0);
  }

  schedule(delayMs: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delayMs);
  }

  /**
   * A request that changes a held pre-auth: when its answer is lost (the connection dropped, or it
   * timed out) Dojo may have done it, so GetPayment asks once connected and the journal notes what
   * Dojo says. The caller still gets the error: it is true that the answer was lost.
   */
  stateChange<T>(request: Promise<T>, paymentId: string): Promise<T> {
    return request.catch((e: unknown) => {
      if (e instanceof PacError && (e.code === "CONNECTION_LOST" || e.code === "TIMEOUT")) {
        this.unverified.add(paymentId);
        if (this.parts.isConnected()) this.schedule(0);
      }
      throw e;
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async run(): Promise<void> {
    if (!this.parts.isConnected()) return;
    const { book } = this.parts;
    const due = book.followed().filter((t) => t.needsFollowUp);
    await Promise.all([...due.map((t) => this.one(t)), ...[...this.unverified].map((id) => this.verify(id))]);
    if (book.followed().some((t) => t.phase === "unknown")) this.schedule(this.everyMs);
  }

  private async one(t: PaymentTracker): Promise<void> {
    const { book } = this.parts;
    try {
      const state = await this.parts.getPayment(t.id);
      if (FINAL_STATUSES.has(state.status)) {
        if (t.to("awaiting-record") || t.phase === "awaiting-record") {
          await book.journal.write({ t: "state", ts: Date.now(), id: t.id, status: state.status }, false);
        }
      } else if (t.phase === "unknown") {
        t.to("running");
      }
      if (state.lastNotification) {
        t.lastStep = state.lastNotification;
        t.lastStepAt = Date.now();
      }
    } catch (e) {
      const err = e as PacError;
      if (err.remote?.code === ERROR_CODE.PAYMENT_NOT_FOUND && t.phase === "unknown") {
        await this.notCreated(t);
      } else if (err.code !== "CONNECTION_LOST" && err.code !== "NOT_CONNECTED" && err.code !== "CLOSED") {
        this.parts.warn(`follow-up of payment ${t.id} failed: ${err.message}`);
      }
    }
  }

  /** Dojo never received it: nothing was charged. Journaled as final, then handed over like any outcome. */
  private async notCreated(t: PaymentTracker): Promise<void> {
    const { book } = this.parts;
    const p = book.known(t.id);
    try {
      // Not stored: it stays unknown and the next follow-up asks again.
      await book.journal.write({ t: "state", ts: Date.now(), id: t.id, status: PAYMENT_STATUS.FAILED }, true);
      await book.journal.write({ t: "record", ts: Date.now(), id: t.id, record: { status: PAYMENT_STATUS.FAILED, notCreated: true } }, true);
    } catch {
      this.schedule(this.everyMs);
      return;
    }
    if (!t.to("not-created")) return;
    book.untrack(t.id);
    this.parts.ended(outcomeOf(book.known(t.id) ?? p ?? { id: t.id, updatedAt: Date.now() }, false));
  }

  /** What Dojo says of a pre-auth whose capture, update or reversal lost its answer, into the journal. */
  private async verify(paymentId: string): Promise<void> {
    let state: PaymentState;
    try {
      state = await this.parts.getPayment(paymentId);
    } catch (e) {
      if (e instanceof PacError && e.remote?.code === ERROR_CODE.PAYMENT_NOT_FOUND) {
        this.unverified.delete(paymentId);
        if (this.parts.book.known(paymentId)?.changing !== undefined) await this.parts.book.unchanged(paymentId);
      }
      return; // not connected or no answer: asked again after the next reconnect
    }
    this.unverified.delete(paymentId);
    const amount =
      state.status === PAYMENT_STATUS.CAPTURED
        ? (state.capturedAmount ?? state.baseAmount)
        : state.status === PAYMENT_STATUS.AUTHORIZED
          ? (state.authorizedAmount ?? state.baseAmount)
          : undefined;
    const known = this.parts.book.known(paymentId);
    if (known?.changing === undefined && known?.status === state.status && (amount === undefined || known.amount === amount)) return;
    await this.parts.book.note({ t: "state", ts: Date.now(), id: paymentId, status: state.status, ...(amount !== undefined ? { amount } : {}) }, true);
  }
}
