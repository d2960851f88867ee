/**
 * The outbox: the one place that decides where a payment's outcome goes, and hands it over exactly
 * once. Its owner (the node, or any user of the engine, that started the payment) claims it, with
 * the payment's steps and signature questions, by owner id.
 *
 * - An outcome is offered (a record came, follow-up found it never started, or the journal holds
 *   one not handed over before a restart). It goes to the receiver that claimed its owner.
 * - With no claim for its owner, once the claims are complete (open: every owner that still exists
 *   has claimed), it goes to the orphan receivers that accept it (pac-events); with none it waits,
 *   undelivered in the journal, offered again at the next start.
 * - While held (a deploy is replacing the receivers) nothing is handed over.
 * - A hand-over journals "emit" before and "done" after: a crash between the two offers it again
 *   marked `redelivered`. A receiver that cannot take it answers "gone" (journaled "unemit", kept).
 *   A journal that cannot write keeps every outcome until it recovers.
 *
 * It answers with a status; it never throws for control flow.
 */
import { InFlightMap } from "../common/in-flight-map";
import type { PaymentBook } from "./book";
import type { Journal } from "./journal";
import type { NotificationEvent, PaymentOutcome, SignatureQuestion } from "./types";
import { outcomeOf } from "./types";

/** What a receiver did with an outcome: took it, or could not (it is closing): the outcome is kept. */
export type HandOver = "taken" | "gone";

/** The owner of payments: receives their outcomes, steps and signature questions. */
export interface OwnerReceiver {
  /** Synchronous: the outcome is journaled as handed over once this returns "taken". */
  outcome?(o: PaymentOutcome): HandOver;
  notification?(e: NotificationEvent): void;
  signature?(q: SignatureQuestion): void;
}

/** Takes outcomes whose owner is gone (or that no owner started). */
export interface OrphanReceiver {
  accepts(o: PaymentOutcome): boolean;
  orphan(o: PaymentOutcome): HandOver;
}

/**
 * - handing-over: a receiver was found; the hand-over is under way;
 * - waiting: no receiver yet (or held, or the journal cannot write): kept;
 * - delivered-before: the journal says it was handed over already: nothing to do;
 * - already-offered: it is waiting or being handed over.
 */
export type OfferStatus = "handing-over" | "waiting" | "delivered-before" | "already-offered";

export interface OutboxHooks {
  warn(message: string): void;
  /** An outcome was handed over (or found handed over before). */
  delivered?(paymentId: string): void;
}

type Receivers = OwnerReceiver | OrphanReceiver[];

function sameReceivers(a: Receivers, b: Receivers): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return a === b;
  return a.length === b.length && a.every((r) => b.includes(r));
}

export class Outbox {
  private readonly owners = new Map<string, OwnerReceiver>();
  private readonly orphanReceivers = new Map<string, OrphanReceiver>();
  /** Outcomes with no receiver yet, by paymentId. */
  private readonly waiting = new InFlightMap<string, PaymentOutcome>();
  /** Hand-overs under way, by paymentId. */
  private readonly inFlight = new InFlightMap<string, Promise<void>>();
  private isOpen = true;
  private closed = false;
  private retry: NodeJS.Immediate | null = null;
  /** Outcomes their receiver could not take, and who that was: not offered to the same again. */
  private readonly refusedBy = new Map<string, Receivers>();

  constructor(
    private readonly journal: Journal,
    private readonly book: PaymentBook,
    private readonly hooks: OutboxHooks,
  ) {
    // Recorded before a restart, never handed over (or interrupted: marked redelivered).
    for (const p of journal.openPayments()) {
      if (p.recordedAt !== undefined && p.deliveredAt === undefined) this.waiting.set(p.id, outcomeOf(p, p.emitting === true));
    }
    // Hand-overs the journal could not note go once it writes again.
    journal.on("health", (h) => {
      if (h.state === "ok") this.pump();
    });
  }

  // ---- offers -------------------------------------------------------------------------------

  offer(o: PaymentOutcome): OfferStatus {
    if (this.journal.get(o.paymentId)?.deliveredAt !== undefined) return "delivered-before";
    if (this.waiting.has(o.paymentId) || this.inFlight.has(o.paymentId)) return "already-offered";
    if (this.tryHandOver(o)) return "handing-over";
    this.waiting.set(o.paymentId, o);
    return "waiting";
  }

  // ---- claims -------------------------------------------------------------------------------

  /** Receive the outcomes, steps and questions of payments started with this owner id. */
  claim(owner: string, receiver: OwnerReceiver): void {
    this.owners.set(owner, receiver);
    this.changed(true);
  }

  /** Give up a claim (only this receiver's, when given: a newer claim stays). */
  release(owner: string, receiver?: OwnerReceiver): void {
    if (receiver === undefined || this.owners.get(owner) === receiver) this.owners.delete(owner);
    this.changed(false);
  }

  claimOrphans(id: string, receiver: OrphanReceiver): void {
    this.orphanReceivers.set(id, receiver);
    this.changed(true);
  }

  releaseOrphans(id: string, receiver?: OrphanReceiver): void {
    if (receiver === undefined || this.orphanReceivers.get(id) === receiver) this.orphanReceivers.delete(id);
    this.changed(false);
  }

  /** Claims may be incomplete (receivers are being replaced): hand nothing over. */
  hold(): void {
    this.isOpen = false;
  }

  /** Claims are complete: an owner that has not claimed is gone (its outcomes become orphans). */
  open(): void {
    this.isOpen = true;
    this.changed(true);
  }

  get holding(): boolean {
    return !this.isOpen;
  }

  // ---- steps and questions, by owner ------------------------------------------------------------

  /** A step of a payment, to its owner; false when no one claimed it. */
  notify(e: NotificationEvent): boolean {
    const r = e.owner !== undefined ? this.owners.get(e.owner) : undefined;
    if (!r?.notification) return false;
    this.safely(() => r.notification?.(e), e.paymentId);
    return true;
  }

  /** A signature question, to its payment's owner; false when no one claimed it. */
  ask(q: SignatureQuestion): boolean {
    const r = q.owner !== undefined ? this.owners.get(q.owner) : undefined;
    if (!r?.signature) return false;
    this.safely(() => r.signature?.(q), q.paymentId);
    return true;
  }

  // ---- what it holds --------------------------------------------------------------------------

  /** Outcomes waiting for a receiver. */
  waitingOutcomes(): PaymentOutcome[] {
    return [...this.waiting.values()];
  }

  /** Outcomes being handed over now. */
  get handingOver(): number {
    return this.inFlight.size;
  }

  /** Outcomes that will be handed over here: all while held (a receiver may be coming), else those with a receiver. */
  get deliverable(): number {
    let n = 0;
    for (const o of this.waiting.values()) if (!this.isOpen || this.receiverOf(o) !== null) n++;
    return n;
  }

  /** Resolves once no hand-over is under way. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Hand nothing over any more; what waits stays undelivered in the journal. */
  close(): void {
    this.closed = true;
    if (this.retry) clearImmediate(this.retry);
    this.retry = null;
    this.owners.clear();
    this.orphanReceivers.clear();
    this.refusedBy.clear();
  }

  // ---- hand-over --------------------------------------------------------------------------------

  /** The owner's receiver; else (open) the orphan receivers that accept it; null: none; "keep": its owner cannot take outcomes. */
  private receiverOf(o: PaymentOutcome): OwnerReceiver | OrphanReceiver[] | "keep" | null {
    const owner = o.owner !== undefined ? this.owners.get(o.owner) : undefined;
    if (owner) return owner.outcome ? owner : "keep";
    if (!this.isOpen) return null;
    const takers = [...this.orphanReceivers.values()].filter((r) => this.accepts(r, o));
    return takers.length > 0 ? takers : null;
  }

  private accepts(r: OrphanReceiver, o: PaymentOutcome): boolean {
    try {
      return r.accepts(o);
    } catch {
      return false;
    }
  }

  /** Claims changed: try what waits (at once for a new receiver; after the caller's turn for a release). */
  private changed(now: boolean): void {
    if (now) this.pump();
    else this.retrySoon();
  }

  private pump(): void {
    for (const o of [...this.waiting.values()]) this.tryHandOver(o);
  }

  private tryHandOver(o: PaymentOutcome): boolean {
    if (!this.isOpen || this.closed || this.inFlight.has(o.paymentId) || this.journal.health.state === "failed") return false;
    const r = this.receiverOf(o);
    if (r === null || r === "keep") return false;
    const refused = this.refusedBy.get(o.paymentId);
    if (refused !== undefined && sameReceivers(refused, r)) return false; // it said "gone": wait for another
    this.waiting.delete(o.paymentId);
    const id = o.paymentId;
    const work = this.handOver(o).then(
      (delivered) => {
        this.inFlight.delete(id);
        if (delivered) this.hooks.delivered?.(id);
      },
      (e: unknown) => {
        this.inFlight.delete(id);
        this.hooks.warn(`hand-over of payment ${id} failed: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    this.inFlight.set(id, work);
    return true;
  }

  /** True once handed over (now, or before: the journal says so). */
  private async handOver(o: PaymentOutcome): Promise<boolean> {
    const id = o.paymentId;
    if (this.journal.get(id)?.deliveredAt !== undefined) {
      this.refusedBy.delete(id);
      return true;
    }
    try {
      // Written (not waited for on disk) before the hand-over: a process crash after it offers the
      // outcome again, marked redelivered.
      await this.journal.write({ t: "emit", ts: Date.now(), id }, false);
    } catch {
      this.keep(o); // the journal cannot write: offered again once it recovers
      return false;
    }
    const r = this.receiverOf(o);
    let result: HandOver;
    try {
      result = this.give(o, r);
    } catch (e) {
      this.hooks.warn(`could not hand over the outcome of payment ${id}: ${e instanceof Error ? e.message : String(e)}; it is kept for the next start`);
      result = "gone";
    }
    if (result === "gone") {
      // Not handed over: it must not come back marked as a possible duplicate.
      await this.journal.write({ t: "unemit", ts: Date.now(), id }, false).catch(() => undefined);
      if (r !== null && r !== "keep") this.refusedBy.set(id, r);
      this.keep(o);
      this.retrySoon(); // its receiver may have changed meanwhile
      return false;
    }
    // Handed over: a journal that cannot note it now does once it recovers (until then a crash
    // offers it again marked redelivered).
    this.refusedBy.delete(id);
    await this.book.note({ t: "done", ts: Date.now(), id }, false);
    return true;
  }

  /** To the receiver chosen now (the one chosen before the journal write may have gone meanwhile). */
  private give(o: PaymentOutcome, r: ReturnType<Outbox["receiverOf"]>): HandOver {
    if (this.closed || r === null || r === "keep") return "gone";
    if (!Array.isArray(r)) return r.outcome?.(o) ?? "gone";
    let taken = false;
    for (const taker of r) if (taker.orphan(o) === "taken") taken = true;
    return taken ? "taken" : "gone";
  }

  private keep(o: PaymentOutcome): void {
    if (!this.closed) this.waiting.set(o.paymentId, o);
  }

  private retrySoon(): void {
    if (this.retry || this.closed) return;
    this.retry = setImmediate(() => {
      this.retry = null;
      this.pump();
    });
  }

  private safely(fn: () => void, paymentId: string): void {
    try {
      fn();
    } catch (e) {
      this.hooks.warn(`the receiver of payment ${paymentId} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
