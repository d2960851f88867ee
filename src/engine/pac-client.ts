/**
 * The managed PAC client: a thin facade over the engine's parts, wired together here.
 *
 *   transport (connection, rpc)  ->  inbound  ->  book  ->  outbox  ->  the owner's receiver
 *   operations (start, capture, cancel, queries)  ->  book, rpc
 *   signature desk (questions)   follow-up (GetPayment for what is unknown)
 *
 * Create* is never re-sent automatically; unfinished payments are followed up with GetPayment.
 * Each payment's outcome is handed over exactly once, by the outbox, to the receiver that claimed
 * its owner (see outbox.ts); the `outcome` event only informs.
 */
import { EventEmitter } from "node:events";
import type { CreateAck, PaymentState, TerminalInfo } from "../protocol";
import { PaymentBook } from "./book";
import { FollowUp } from "./follow-up";
import { Inbound } from "./inbound";
import type { JournalHealth, JournalOptions } from "./journal";
import { Journal } from "./journal";
import type { AmountChange } from "./operations";
import { Operations } from "./operations";
import { Outbox } from "./outbox";
import { SignatureDesk } from "./signature-desk";
import type { ConnectionOptions, ConnectionState, StateInfo, WireEvent } from "./transport/connection";
import { ManagedConnection } from "./transport/connection";
import { RpcChannel } from "./transport/rpc";
import type { NotificationEvent, PaymentOutcome, PaymentRequest, RecordEvent, RefundRequest, RefusedStart, SignatureQuestion, TrackedPayment } from "./types";

export * from "./types";

export interface PacClientOptions extends ConnectionOptions {
  /** Directory of the journal (one file per EPOS identity inside it). */
  journalDir: string;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Policy for signature questions about payments we did not start, or unanswered "ask" ones. */
  defaultSignaturePolicy?: "accept" | "decline";
  /** Answer an "ask" question this long before Dojo's own timeout runs out (default 3 s). */
  signatureMarginMs?: number;
  /** While payments are unresolved, follow them up this often (default 30 s). */
  followUpMs?: number;
  /**
   * Terminal steps are journaled lazily: the latest step of each running payment at most this
   * often (default 100 ms), none for a payment that ended meanwhile. A step only informs (the
   * status after a restart); records and outcomes never wait for it.
   */
  stepJournalMs?: number;
  journal?: Omit<JournalOptions, "dir" | "identity">;
  /** The most one sale, pre-auth or refund may be (minor units, base + tips + cashback); none when absent. */
  maxAmount?: number;
  /** Where the user changes maxAmount, for the error (default: "the client's maxAmount option"). */
  maxAmountSetting?: string;
}

export interface PacClientEvents {
  state: [state: ConnectionState, info: StateInfo];
  /** The journal stopped taking writes (storage error), or took them again. */
  journal: [health: JournalHealth];
  /** Every step of every payment (its owner also gets it through its claim). */
  notification: [event: NotificationEvent];
  /** Every "ask" signature question (its owner also gets it through its claim). */
  signature: [question: SignatureQuestion];
  record: [event: RecordEvent];
  /** A payment ended: informs only (the outbox hands it to its owner exactly once). */
  outcome: [outcome: PaymentOutcome];
  /** An outcome was handed over by the outbox. */
  delivered: [paymentId: string];
  wire: [event: WireEvent];
  warning: [message: string];
}

export class PacClient extends EventEmitter<PacClientEvents> {
  readonly connection: ManagedConnection;
  /** Where each outcome goes: claim your owner id there (see outbox.ts). */
  readonly outbox: Outbox;
  private readonly rpc: RpcChannel;
  private readonly book: PaymentBook;
  private readonly desk: SignatureDesk;
  private readonly followUp: FollowUp;
  private readonly inbound: Inbound;
  private readonly operations: Operations;
  /** Set by close(): the closing work, shared by every caller. */
  private closed: Promise<void> | null = null;

  private constructor(
    opts: PacClientOptions,
    readonly journal: Journal,
  ) {
    super();
    this.connection = new ManagedConnection(opts);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.rpc = new RpcChannel(this.connection, () => this.requestTimeoutMs);
    const send = (text: string): void => void this.connection.send(text);
    const warn = (m: string): void => void this.emit("warning", this.connection.redact(m));
    this.book = new PaymentBook(journal);
    this.outbox = new Outbox(journal, this.book, { warn, delivered: (id) => this.emit("delivered", id) });
    this.desk = new SignatureDesk(
      send,
      (id) => {
        const t = this.book.tracker(id);
        return t ? { policy: t.signature, ...(t.info.owner !== undefined ? { owner: t.info.owner } : {}) } : undefined;
      },
      { defaultPolicy: opts.defaultSignaturePolicy ?? "accept", marginMs: opts.signatureMarginMs ?? 3000 },
      (q) => {
        this.outbox.ask(q);
        this.emit("signature", q);
      },
    );
    this.followUp = new FollowUp(
      { book: this.book, isConnected: () => this.connection.isOpen, getPayment: (id) => this.getPayment(id), ended: (o) => this.ended(o), warn },
      opts.followUpMs ?? 30_000,
    );
    this.inbound = new Inbound(
      {
        book: this.book,
        rpc: this.rpc,
        desk: this.desk,
        send,
        notification: (e) => {
          this.outbox.notify(e);
          this.emit("notification", e);
        },
        record: (e) => this.emit("record", e),
        ended: (o) => this.ended(o),
        warn,
      },
      opts.stepJournalMs ?? 100,
    );
    const limit = opts.maxAmount !== undefined ? { maxAmount: opts.maxAmount, where: opts.maxAmountSetting ?? "the client's maxAmount option" } : undefined;
    this.operations = new Operations(this.connection, this.rpc, this.book, this.followUp, limit);
    this.connection.on("state", (s, info) => this.onState(s, info));
    this.connection.on("frame", (f) => this.inbound.frame(f));
    this.connection.on("frame-error", (e) => this.inbound.frameError(e));
    this.forwardWireWhileListened();
    journal.on("health", (h) => this.emit("journal", h));
  }

  /** Per-request timeout (ms). */
  requestTimeoutMs: number;

  /** Open the journal and build the client; call start() to connect. */
  static async open(opts: PacClientOptions): Promise<PacClient> {
    const journal = await Journal.open({
      ...opts.journal,
      dir: opts.journalDir,
      identity: { eposId: opts.eposId, accountName: opts.accountName, url: opts.url },
    });
    try {
      return new PacClient(opts, journal);
    } catch (e) {
      await journal.close();
      throw e;
    }
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  start(): void {
    this.connection.start();
  }

  /** Close the connection and the journal; every call resolves when that is done. */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    await this.book.flushOwed();
    this.journal.beginClose();
    this.followUp.close();
    this.desk.close();
    this.outbox.close();
    await this.connection.close();
    this.rpc.failAll("client closed");
    await this.inbound.close();
    await this.journal.close();
  }

  // ---- operations (operations.ts) ----------------------------------------------------------------

  createPayment(req: PaymentRequest): Promise<CreateAck> {
    return this.operations.createPayment(req);
  }

  createRefund(req: RefundRequest): Promise<CreateAck> {
    return this.operations.createRefund(req);
  }

  capturePayment(paymentId: string, amount: number): Promise<AmountChange> {
    return this.operations.capturePayment(paymentId, amount);
  }

  updatePayment(paymentId: string, amount: number): Promise<AmountChange> {
    return this.operations.updatePayment(paymentId, amount);
  }

  cancelPayment(paymentId: string, terminalId?: string): Promise<{ paymentId: string; terminalId: string }> {
    return this.operations.cancelPayment(paymentId, terminalId);
  }

  getPayment(paymentId: string): Promise<PaymentState> {
    return this.operations.getPayment(paymentId);
  }

  connectedTerminals(): Promise<TerminalInfo[]> {
    return this.operations.connectedTerminals();
  }

  terminalDetails(terminalId: string): Promise<TerminalInfo> {
    return this.operations.terminalDetails(terminalId);
  }

  /** Answer an open signature question; false when there is none for this payment. */
  answerSignature(paymentId: string, accepted: boolean): boolean {
    return this.desk.answer(paymentId, accepted);
  }

  // ---- views ------------------------------------------------------------------------------------

  /** Where a payment stands, when this client is following it. */
  tracked(paymentId: string): TrackedPayment | undefined {
    return this.book.tracked(paymentId);
  }

  /** Payments still followed (no final outcome yet). */
  get unresolved(): number {
    return this.book.unresolved;
  }

  /** Sales and refunds refused before anything was sent, oldest first (the last 50). */
  recentRefusals(): readonly RefusedStart[] {
    return this.book.recentRefusals();
  }

  /** Final outcomes waiting for a receiver (e.g. recorded before a restart). */
  undelivered(): PaymentOutcome[] {
    return this.outbox.waitingOutcomes();
  }

  // ---- wiring -----------------------------------------------------------------------------------

  private ended(o: PaymentOutcome): void {
    this.outbox.offer(o);
    this.emit("outcome", o);
  }

  private onState(state: ConnectionState, info: StateInfo): void {
    if (state === "reconnecting" || state === "displaced" || state === "auth-failed" || state === "closing") {
      this.rpc.failAll(info.reason ?? state);
      // Open signature questions are kept: Dojo's deadline still runs, and an answer can still be given.
    }
    if (state === "open") {
      this.desk.resend();
      this.followUp.connected();
    }
    this.emit("state", state, info);
  }

  /** Wire traces cost a redaction per frame: forwarded only while someone listens. */
  private forwardWireWhileListened(): void {
    const forward = (w: WireEvent): void => void this.emit("wire", w);
    const untyped = this as unknown as EventEmitter; // newListener/removeListener are not in the event map
    untyped.on("newListener", (event: string | symbol) => {
      if (event === "wire" && this.listenerCount("wire") === 0) this.connection.on("wire", forward);
    });
    untyped.on("removeListener", (event: string | symbol) => {
      if (event === "wire" && this.listenerCount("wire") === 0) this.connection.off("wire", forward);
    });
  }
}
