/**
 * Inbound: every frame Dojo sends. Responses settle their requests; notifications update the
 * payment's tracker (its latest step journaled lazily); signature questions go to the desk; records
 * are stored, then acknowledged (never before they are on disk), once: a redelivery is acknowledged
 * again and not offered again.
 */
import { METHOD, encodeError, encodeResult, readNotification, readRecord } from "../protocol";
import type { Frame, FrameError, JsonObject, RpcId } from "../protocol";
import { InFlightMap } from "../common/in-flight-map";
import type { PaymentBook } from "./book";
import type { PaymentKind } from "./journal";
import type { PaymentTracker } from "./payment";
import type { SignatureDesk } from "./signature-desk";
import type { RpcChannel } from "./transport/rpc";
import type { NotificationEvent, PaymentOutcome, RecordEvent } from "./types";
import { outcomeOf } from "./types";

export interface InboundParts {
  book: PaymentBook;
  rpc: RpcChannel;
  desk: SignatureDesk;
  send(text: string): void;
  notification(e: NotificationEvent): void;
  record(e: RecordEvent): void;
  /** The payment's final outcome (its record is on disk and acknowledged). */
  ended(o: PaymentOutcome): void;
  warn(message: string): void;
}

export class Inbound {
  /** Records being made durable: a redelivery during the fsync waits for the same write. */
  private readonly storing = new InFlightMap<string, Promise<void>>();
  /** Running payments whose latest step (tracker.lastStep) is not journaled yet (see stepJournalMs). */
  private readonly pendingSteps = new InFlightMap<string, PaymentTracker>();
  private stepTimer: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(
    private readonly parts: InboundParts,
    private readonly stepJournalMs: number,
  ) {}

  frame(frame: Frame): void {
    switch (frame.kind) {
      case "response":
        if (!this.parts.rpc.settle(frame.id, frame.result, null)) this.parts.warn(`response to unknown request id ${String(frame.id)} ignored`);
        return;
      case "error":
        if (!this.parts.rpc.settle(frame.id, null, frame.error)) this.parts.warn(`error for unknown request id ${String(frame.id)}: ${frame.error.message}`);
        return;
      case "notification":
        if (frame.method === METHOD.terminalNotification) this.notification(frame.params);
        else this.parts.warn(`unknown notification ${frame.method} ignored`);
        return;
      case "request":
        this.request(frame.id, frame.method, frame.params);
        return;
    }
  }

  frameError(e: FrameError): void {
    this.parts.warn(`unreadable frame from Dojo: ${e.message}`);
    // Answer a request we could not read, so Dojo does not wait on it.
    if (e.id !== null) this.parts.send(encodeError(e.id, e.problem === "not-json" ? "PARSE_ERROR" : "INVALID_REQUEST"));
  }

  /** Stop journaling steps; resolves once the records being stored are written (or failed). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.storing.values()]);
    this.writeSteps();
  }

  private request(id: RpcId, method: string, params: JsonObject): void {
    switch (method) {
      case METHOD.recordPayment:
      case METHOD.recordRefund:
        this.record(id, method === METHOD.recordRefund ? "refund" : "payment", params);
        return;
      case METHOD.signatureVerification:
        this.parts.desk.question(id, params);
        return;
      default:
        this.parts.send(encodeError(id, "METHOD_NOT_FOUND", `this EPOS does not handle ${method}`));
    }
  }

  private notification(params: JsonObject): void {
    const n = readNotification(params);
    const t = this.parts.book.tracker(n.paymentId);
    if (t) {
      t.lastStep = n.notificationValue;
      t.lastStepAt = Date.now();
      if (t.phase === "unknown" || t.phase === "creating") t.to("running");
      // Four steps per sale would double the journal's lines; only the latest one that is still
      // current a moment later is worth keeping.
      this.pendingSteps.set(n.paymentId, t);
      if (!this.stepTimer && !this.closing) this.stepTimer = setTimeout(() => this.writeSteps(), this.stepJournalMs);
    }
    this.parts.notification({
      paymentId: n.paymentId,
      terminalId: n.terminalId,
      notification: n.notificationValue,
      ...(t?.info.owner !== undefined ? { owner: t.info.owner } : {}),
      raw: n.raw,
    });
  }

  /** Journal the latest step of each payment still running (see stepJournalMs). */
  private writeSteps(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = null;
    const { book } = this.parts;
    // A step only informs: while the journal cannot write, it is skipped (the failure was reported once).
    const writable = book.journal.health.state === "ok";
    for (const [id, t] of this.pendingSteps) {
      if (!writable || book.tracker(id) !== t || t.lastStep === undefined) continue; // ended meanwhile: its record says more
      book.journal.write({ t: "step", ts: t.lastStepAt, id, value: t.lastStep }, false).catch(() => undefined);
    }
    this.pendingSteps.clear();
  }

  private record(id: RpcId, kind: PaymentKind, params: JsonObject): void {
    const rec = readRecord(params);
    const method = kind === "refund" ? METHOD.recordRefund : METHOD.recordPayment;
    const ack = (): void => {
      this.parts.send(encodeResult(id, method, { paymentId: rec.paymentId }));
    };
    // Any error but PAYMENT_ALREADY_RECORDED makes Dojo deliver the record again (contract §4).
    const notStored = (): void => {
      this.parts.send(encodeError(id, "INTERNAL_ERROR", "the EPOS could not store the record yet: deliver it again"));
    };
    if (!rec.paymentId) {
      this.parts.send(encodeError(id, "INVALID_PARAMS", "record without paymentId"));
      return;
    }
    const inFlight = this.storing.get(rec.paymentId);
    if (inFlight) {
      inFlight.then(ack, notStored);
      return;
    }
    const { journal } = this.parts.book;
    if (journal.isRecorded(rec.paymentId)) {
      ack(); // on disk already: a redelivery, acknowledged again, not offered again
      return;
    }
    const { raw } = rec;
    // A failed journal gets a recovery attempt first: a redelivery is also the moment to try again.
    // (A journal still failed after it refuses the write itself.)
    const store = (journal.health.state === "ok" ? Promise.resolve(true) : journal.recover()).then(() =>
      journal.write({ t: "record", ts: Date.now(), id: rec.paymentId, record: raw }, true),
    );
    this.storing.set(rec.paymentId, store);
    store.then(
      () => {
        this.storing.delete(rec.paymentId);
        ack(); // only once the record is on disk
        this.recorded(kind, rec.paymentId, raw);
      },
      () => {
        // Not stored, and no trace of it in memory: Dojo delivers it again and it is stored then.
        // The journal's failure was reported once, when it happened.
        this.storing.delete(rec.paymentId);
        notStored();
      },
    );
  }

  private recorded(kind: PaymentKind, paymentId: string, raw: JsonObject): void {
    const { book } = this.parts;
    const t = book.tracker(paymentId);
    const p = book.known(paymentId);
    const foreign = !t && !p?.kind;
    this.parts.desk.forget(paymentId); // the payment is over: its question too
    this.parts.record({ paymentId, kind, record: raw, foreign });
    if (t && !t.to("recorded")) return;
    book.untrack(paymentId);
    const outcome = p ? outcomeOf(p, false) : outcomeOf({ id: paymentId, kind, record: raw, updatedAt: Date.now() }, false);
    outcome.foreign = foreign;
    this.parts.ended(outcome);
  }
}
