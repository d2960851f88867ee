/**
 * The payment book: what this EPOS knows of its payments, from the live trackers (one state
 * machine per payment being followed) and the journal. It answers "is this id used?", "what do we
 * know for sure?" (the guards that refuse a capture or cancel before anything is sent), and keeps
 * the facts owed to a journal that could not take them.
 */
import { CAPTURE_MODE, FINAL_STATUSES, PAYMENT_STATUS, isStepAfterCard } from "../protocol";
import { InFlightMap } from "../common/in-flight-map";
import { PacError } from "./errors";
import type { ChangeOp, Journal, JournalEntry, JournalPayment, StartInfo } from "./journal";
import { describeStorageError } from "./journal";
import type { SignaturePolicy } from "./payment";
import { PaymentTracker } from "./payment";
import type { RefusedStart, TrackedPayment } from "./types";
import { startInfoOf } from "./types";

const REFUSALS_KEPT = 50;
const CHANGE_WORDS: Record<ChangeOp, string> = { capture: "capture", update: "update", reverse: "reversal" };

export class PaymentBook {
  private readonly trackers = new InFlightMap<string, PaymentTracker>();
  /**
   * Facts the failed journal could not take though they are true (an outcome handed over, a capture
   * or reversal Dojo made): written, in order, once it recovers.
   */
  private readonly owed: JournalEntry[] = [];
  private readonly refusals: RefusedStart[] = [];

  constructor(readonly journal: Journal) {
    // Payments left unfinished by an earlier process are followed up once connected.
    for (const p of journal.openPayments()) {
      if (p.recordedAt !== undefined || p.rejected !== undefined || !p.kind) continue;
      this.trackers.set(p.id, new PaymentTracker(startInfoOf(p), "accept", "unknown"));
    }
    journal.on("health", (h) => {
      if (h.state === "ok") for (const entry of this.owed.splice(0)) void this.note(entry, true);
    });
  }

  // ---- live payments --------------------------------------------------------------------------

  track(info: StartInfo, signature: SignaturePolicy): PaymentTracker {
    const t = new PaymentTracker(info, signature);
    this.trackers.set(info.id, t);
    return t;
  }

  tracker(id: string): PaymentTracker | undefined {
    return this.trackers.get(id);
  }

  /** Stop following a payment (it ended, or never started). */
  untrack(id: string): void {
    this.trackers.delete(id);
  }

  followed(): PaymentTracker[] {
    return [...this.trackers.values()];
  }

  /** Payments still followed (not final yet). */
  get unresolved(): number {
    return this.trackers.size;
  }

  tracked(id: string): TrackedPayment | undefined {
    const t = this.trackers.get(id);
    return t ? { phase: t.phase, lastStep: t.lastStep, info: t.info } : undefined;
  }

  /** The terminal's last step known for a payment (live, else journaled). */
  lastStep(id: string): string | undefined {
    return this.trackers.get(id)?.lastStep ?? this.journal.get(id)?.lastStep;
  }

  // ---- what the journal knows ---------------------------------------------------------------

  known(id: string): JournalPayment | undefined {
    return this.journal.get(id);
  }

  /** Used before, by this EPOS: followed, journaled, or recorded. */
  isUsed(id: string): boolean {
    return this.trackers.has(id) || this.journal.get(id) !== undefined || this.journal.isRecorded(id);
  }

  /** Journal a fact that is true whatever the disk says; owed (and false) while it cannot be written. */
  note(entry: JournalEntry, durable: boolean): Promise<boolean> {
    return this.journal.write(entry, durable).then(
      () => true,
      () => {
        this.owed.push(entry);
        return false;
      },
    );
  }

  /**
   * A capture, update or reversal is about to be sent: noted first, durably, so a restart that lost
   * its answer asks Dojo what happened. Throws JOURNAL (nothing is sent) when it cannot be noted.
   */
  async intend(paymentId: string, op: ChangeOp, amount?: number): Promise<void> {
    try {
      await this.journal.write({ t: "change", ts: Date.now(), id: paymentId, op, ...(amount !== undefined ? { amount } : {}) }, true);
    } catch (e) {
      const words = describeStorageError(e).words;
      throw new PacError(
        "JOURNAL",
        `the ${CHANGE_WORDS[op]} of payment ${paymentId} was not sent: the journal could not store it (${words}); it retries by itself`,
        {
          paymentId,
        },
      );
    }
  }

  /** Dojo refused a change (or it never left): nothing changed. */
  unchanged(paymentId: string): Promise<boolean> {
    return this.note({ t: "unchanged", ts: Date.now(), id: paymentId }, false);
  }

  /**
   * Before the journal closes: facts still owed (a capture or reversal Dojo made while the disk
   * failed) get one recovery attempt and are written now, not lost with this process.
   */
  async flushOwed(): Promise<void> {
    if (this.owed.length === 0) return;
    // `now`: a last chance, not bound by the probe's pace.
    if (this.journal.health.state !== "ok") await this.journal.recover(true).catch(() => false);
    if (this.journal.health.state !== "ok") return;
    for (const entry of this.owed.splice(0)) await this.note(entry, true);
  }

  // ---- guards: what this EPOS knows for sure is refused before anything is sent ---------------

  /** A capture or update: refused for a refund or a sale (AUTO); anything else is Dojo's decision. */
  checkHeldPreAuth(paymentId: string, verb: "captured" | "updated"): void {
    const known = this.journal.get(paymentId);
    const notHeld = (why: string): PacError =>
      new PacError("INVALID_STATE", `payment ${paymentId} cannot be ${verb}: ${why}; only an authorised pre-auth (captureMode MANUAL) can`, { paymentId });
    if (known?.kind === "refund") throw notHeld("it is a refund");
    if (known?.captureMode === CAPTURE_MODE.AUTO) throw notHeld("it is a sale (captureMode AUTO), captured when it was approved");
  }

  /**
   * A cancel: Dojo cancels only while the terminal asks for the card, or reverses a held pre-auth
   * (contract §4, §6). Returns whether it is a held pre-auth; throws INVALID_STATE when the journal
   * or the last step says it is past that.
   */
  checkCancellable(paymentId: string): { held: boolean } {
    const p = this.journal.get(paymentId);
    const held = p?.kind === "payment" && p.captureMode === CAPTURE_MODE.MANUAL && p.status === PAYMENT_STATUS.AUTHORIZED;
    if (held) return { held };
    const status = p?.status;
    if (status !== undefined && FINAL_STATUSES.has(status)) {
      throw new PacError(
        "INVALID_STATE",
        `payment ${paymentId} can no longer be cancelled: it already ended ${status}${status === PAYMENT_STATUS.CAPTURED ? "; refund it instead" : ""}`,
        { paymentId },
      );
    }
    const step = this.trackers.get(paymentId)?.lastStep;
    if (isStepAfterCard(step)) {
      const after =
        p?.captureMode === CAPTURE_MODE.MANUAL ? "Once it is authorised, cancelling reverses the pre-auth" : "Refund it instead once it is approved";
      throw new PacError("INVALID_STATE", `payment ${paymentId} can no longer be cancelled: the card was already presented (last step ${step}). ${after}`, {
        paymentId,
      });
    }
    return { held: false };
  }

  /** The terminal a payment runs on, as far as this EPOS knows. */
  terminalOf(paymentId: string): string | undefined {
    return this.trackers.get(paymentId)?.info.terminalId ?? this.journal.get(paymentId)?.terminalId;
  }

  // ---- refusals (the journal cannot say so: it may be what failed) ----------------------------

  refuse(info: StartInfo, err: PacError): PacError {
    this.refusals.push({
      paymentId: info.id,
      kind: info.kind,
      terminalId: info.terminalId,
      amount: info.amount,
      currency: info.currency,
      code: err.code,
      reason: err.message,
      at: Date.now(),
    });
    if (this.refusals.length > REFUSALS_KEPT) this.refusals.shift();
    return err;
  }

  /** Sales and refunds refused before anything was sent, oldest first (the last 50). */
  recentRefusals(): readonly RefusedStart[] {
    return this.refusals;
  }
}
