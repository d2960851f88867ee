/**
 * The managed PAC client: one connection, request correlation, the payment trackers, the inbound
 * requests Dojo sends (notifications, signature questions, records) and the durable journal.
 * Create* is never re-sent automatically; unfinished payments are followed up with GetPayment.
 */
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import {
  CAPTURE_MODE,
  CaptureMode,
  ConnectedTerminalsResult,
  CardInfo,
  ERROR_CODE,
  Frame,
  FrameError,
  JsonObject,
  METHOD,
  PaymentState,
  RpcId,
  SUCCESS_STATUSES,
  TerminalInfo,
  encodeError,
  encodeResult,
  readAmountResult,
  readNotification,
  readPaymentState,
  readRecord,
  readSignatureRequest,
  readTerminalInfo,
  readTerminals,
  CreateAck,
  readPaymentId,
  readTerminalId,
  PAYMENT_STATUS,
  FINAL_STATUSES,
  isStepAfterCard,
} from "../protocol";
import { ConnectionOptions, ConnectionState, ManagedConnection, StateInfo, WireEvent } from "./transport/connection";
import { PacError } from "./errors";
import { Journal, JournalEntry, JournalHealth, JournalOptions, JournalPayment, JsonValue, PaymentKind, StartInfo } from "./journal/journal";
import { describeStorageError } from "./journal/storage-error";
import { PaymentTracker, SignaturePolicy } from "./payment";
import { InFlightMap } from "../common/in-flight-map";
import { RpcChannel } from "./transport/rpc";
import { checkAmount, invalid, isCaptureMode, isCurrency, isPaymentId, isTerminalId } from "./validate";

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
}

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

const REFUSALS_KEPT = 50;

export interface PacClientEvents {
  state: [state: ConnectionState, info: StateInfo];
  /** The journal stopped taking writes (storage error), or took them again. */
  journal: [health: JournalHealth];
  notification: [event: NotificationEvent];
  signature: [question: SignatureQuestion];
  record: [event: RecordEvent];
  outcome: [outcome: PaymentOutcome];
  wire: [event: WireEvent];
  warning: [message: string];
}

/**
 * A SignatureVerification from Dojo, kept until Dojo's own deadline or the payment's record: an
 * answer given while the connection is down (or lost with it) is sent (again) after the reconnect,
 * with the question's request id. [M] Dojo taking that answer on the new connection is modelled
 * (as our simulator does); no answer at all means "accepted" (contract §4).
 */
interface OpenQuestion {
  requestId: RpcId;
  /** The answer, once given (policy, the flow, or the default before Dojo's deadline). */
  accepted?: boolean;
  /** "ask": gives the default answer shortly before Dojo's deadline. */
  timer: NodeJS.Timeout | null;
  /** Dojo's deadline: the question is forgotten then. */
  expiry: NodeJS.Timeout;
}

export class PacClient extends EventEmitter<PacClientEvents> {
  readonly connection: ManagedConnection;
  private readonly rpc: RpcChannel;
  private readonly trackers = new InFlightMap<string, PaymentTracker>();
  private readonly questions = new Map<string, OpenQuestion>();
  /** Records being made durable: a redelivery during the fsync waits for the same write. */
  private readonly storing = new InFlightMap<string, Promise<void>>();
  private followUpTimer: NodeJS.Timeout | null = null;
  /** Running payments whose latest step (tracker.lastStep) is not journaled yet (see stepJournalMs). */
  private readonly pendingSteps = new InFlightMap<string, PaymentTracker>();
  private stepTimer: NodeJS.Timeout | null = null;
  /** Set by close(): the closing work, shared by every caller. */
  private closed: Promise<void> | null = null;
  /**
   * Facts the failed journal could not take though they are true (an outcome handed over, a capture
   * or reversal Dojo made): written, in order, once it recovers.
   */
  private readonly owed: JournalEntry[] = [];
  /** Pre-auths a capture, update or reversal was sent for whose answer was lost: asked with GetPayment once connected. */
  private readonly unverified = new Set<string>();
  private readonly refusals: RefusedStart[] = [];
  requestTimeoutMs: number;

  private constructor(
    private readonly opts: PacClientOptions,
    readonly journal: Journal,
  ) {
    super();
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.connection = new ManagedConnection(opts);
    this.rpc = new RpcChannel(this.connection, () => this.requestTimeoutMs);
    this.connection.on("state", (s, info) => this.onState(s, info));
    this.connection.on("frame", (f) => this.onFrame(f));
    this.connection.on("frame-error", (e) => this.onFrameError(e));
    // Wire traces cost a redaction per frame: forward them only while someone listens.
    const forwardWire = (w: WireEvent): void => {
      this.emit("wire", w);
    };
    const untyped = this as unknown as EventEmitter; // newListener/removeListener are not in the event map
    untyped.on("newListener", (event: string | symbol) => {
      if (event === "wire" && this.listenerCount("wire") === 0) this.connection.on("wire", forwardWire);
    });
    untyped.on("removeListener", (event: string | symbol) => {
      if (event === "wire" && this.listenerCount("wire") === 0) this.connection.off("wire", forwardWire);
    });
    journal.on("health", (h) => this.onJournalHealth(h));
    // Payments left unfinished by an earlier process are followed up once connected.
    for (const p of journal.openPayments()) {
      if (p.recordedAt !== undefined || p.rejected !== undefined || !p.kind) continue;
      this.trackers.set(p.id, new PaymentTracker(startInfoOf(p), "accept", "unknown"));
    }
  }

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

  private get closing(): boolean {
    return this.closed !== null;
  }

  private async shutDown(): Promise<void> {
    this.journal.beginClose();
    if (this.followUpTimer) clearTimeout(this.followUpTimer);
    this.followUpTimer = null;
    for (const id of [...this.questions.keys()]) this.forgetQuestion(id);
    await this.connection.close();
    this.rpc.failAll("client closed");
    await Promise.allSettled([...this.storing.values()]);
    this.writeSteps();
    await this.journal.close();
  }

  // ---- EPOS -> Dojo operations --------------------------------------------------------------

  /** Start a sale or pre-auth. Rejects INVALID_INPUT (nothing sent) before anything else. */
  async createPayment(req: PaymentRequest): Promise<CreateAck> {
    const captureMode = req.captureMode ?? CAPTURE_MODE.AUTO;
    const info = this.startInfo("payment", req);
    if (!isCaptureMode(captureMode)) throw invalid(`captureMode must be AUTO or MANUAL, got ${JSON.stringify(captureMode)}`);
    checkAmount("tipsAmount", req.tipsAmount, true);
    checkAmount("cashbackAmount", req.cashbackAmount, true);
    info.captureMode = captureMode;
    if (req.tipsAmount) info.tipsAmount = req.tipsAmount;
    if (req.cashbackAmount) info.cashbackAmount = req.cashbackAmount;
    return this.startTransaction(info, req.signature ?? "accept");
  }

  async createRefund(req: RefundRequest): Promise<CreateAck> {
    return this.startTransaction(this.startInfo("refund", req), req.signature ?? "accept");
  }

  private startInfo(kind: PaymentKind, req: StartRequest): StartInfo {
    const id = req.paymentId ?? randomUUID();
    if (!isPaymentId(id)) throw invalid(`paymentId must be 1-64 letters, digits, "-", "_", "." or ":", got ${JSON.stringify(id)}`);
    if (!isTerminalId(req.terminalId)) throw invalid(`terminalId must be a terminal id such as "01234567", got ${JSON.stringify(req.terminalId)}`, id);
    checkAmount("amount", req.amount);
    if (!isCurrency(req.currency)) throw invalid(`currency must be an ISO 4217 code such as "GBP", got ${JSON.stringify(req.currency)}`, id);
    if (this.trackers.has(id) || this.journal.get(id) || this.journal.isRecorded(id)) {
      throw invalid(`paymentId ${id} was already used: every payment needs a new id`, id);
    }
    const info: StartInfo = { id, kind, terminalId: req.terminalId, amount: req.amount, currency: req.currency };
    if (req.owner !== undefined) info.owner = req.owner;
    if (req.ctx !== undefined) info.ctx = req.ctx;
    return info;
  }

  private async startTransaction(info: StartInfo, signature: SignaturePolicy): Promise<CreateAck> {
    const health = this.journal.health;
    if (health.state === "failed") {
      throw this.refuse(info, new PacError("JOURNAL", `payment ${info.id} was not sent: the journal cannot write (${health.words}); it retries by itself`, { paymentId: info.id }));
    }
    if (!this.connection.isOpen) {
      throw new PacError("NOT_CONNECTED", `not connected to Dojo (${this.connection.state}): payment ${info.id} was not sent`, { paymentId: info.id });
    }
    const tracker = new PaymentTracker(info, signature);
    this.trackers.set(info.id, tracker);
    try {
      // Written before it is sent (a crash of this process cannot lose it; the fsync follows at
      // once): after a restart we know to follow it up. Should a power cut lose it, Dojo's record
      // still arrives and is reported as foreign, never dropped.
      await this.journal.write({ t: "start", ts: Date.now(), ...info }, false);
    } catch (e) {
      this.trackers.delete(info.id);
      const words = describeStorageError(e).words;
      throw this.refuse(info, new PacError("JOURNAL", `payment ${info.id} was not sent: the journal could not store it (${words})`, { paymentId: info.id }));
    }
    const method = info.kind === "refund" ? METHOD.createRefund : METHOD.createPayment;
    const params =
      info.kind === "refund"
        ? { paymentId: info.id, terminalId: info.terminalId, baseAmount: info.amount, currency: info.currency }
        : {
            paymentId: info.id,
            terminalId: info.terminalId,
            captureMode: info.captureMode,
            baseAmount: info.amount,
            currency: info.currency,
            tipsAmount: info.tipsAmount,
            cashbackAmount: info.cashbackAmount,
          };
    try {
      const result = await this.rpc.request(method, params, info.id);
      tracker.to("running");
      return { paymentId: readPaymentId(result) ?? info.id, terminalId: readTerminalId(result) ?? info.terminalId };
    } catch (e) {
      const err = e as PacError;
      if (err.code === "REMOTE" || err.code === "NOT_CONNECTED") {
        // Dojo refused it, or it never left: nothing runs on the terminal.
        if (tracker.to("rejected")) {
          this.trackers.delete(info.id);
          await this.journal.write({ t: "rejected", ts: Date.now(), id: info.id, reason: err.message }, false).catch(() => undefined);
        }
      } else if (tracker.to("unknown")) {
        this.scheduleFollowUp(0);
      }
      throw err;
    }
  }

  /** Remember a start refused before anything was sent (the journal cannot say so: it is what failed). */
  private refuse(info: StartInfo, err: PacError): PacError {
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

  async capturePayment(paymentId: string, amount: number): Promise<{ paymentId: string; status: string; amount: number }> {
    return this.changeAmount(METHOD.capturePayment, paymentId, amount, PAYMENT_STATUS.CAPTURED);
  }

  async updatePayment(paymentId: string, amount: number): Promise<{ paymentId: string; status: string; amount: number }> {
    return this.changeAmount(METHOD.updatePayment, paymentId, amount, PAYMENT_STATUS.AUTHORIZED);
  }

  private async changeAmount(
    method: typeof METHOD.capturePayment | typeof METHOD.updatePayment,
    paymentId: string,
    amount: number,
    status: string,
  ): Promise<{ paymentId: string; status: string; amount: number }> {
    if (!isPaymentId(paymentId)) throw invalid(`paymentId must be the id of a pre-authorised payment, got ${JSON.stringify(paymentId)}`);
    checkAmount("amount", amount);
    // What this EPOS knows for sure is refused here (nothing sent); anything else is Dojo's decision.
    const known = this.journal.get(paymentId);
    const verb = method === METHOD.capturePayment ? "captured" : "updated";
    const notHeld = (why: string): PacError =>
      new PacError("INVALID_STATE", `payment ${paymentId} cannot be ${verb}: ${why}; only an authorised pre-auth (captureMode MANUAL) can`, { paymentId });
    if (known?.kind === "refund") throw notHeld("it is a refund");
    if (known?.captureMode === CAPTURE_MODE.AUTO) throw notHeld("it is a sale (captureMode AUTO), captured when it was approved");
    const r = readAmountResult(await this.stateChange(this.rpc.request(method, { paymentId, baseAmount: amount }, paymentId), paymentId));
    const final = { paymentId, status, amount: r.baseAmount ?? amount };
    // Dojo did it: that is the answer, whether or not the journal can note it now (it does once it recovers).
    await this.writeOrOwe({ t: "state", ts: Date.now(), id: paymentId, status, amount: final.amount }, true);
    return final;
  }

  /** Cancel while the terminal asks for the card, or reverse an authorised pre-auth. */
  async cancelPayment(paymentId: string, terminalId?: string): Promise<{ paymentId: string; terminalId: string }> {
    if (!isPaymentId(paymentId)) throw invalid(`paymentId must be the id of the payment to cancel, got ${JSON.stringify(paymentId)}`);
    if (terminalId !== undefined && !isTerminalId(terminalId)) {
      throw invalid(`terminalId must be a terminal id such as "01234567", got ${JSON.stringify(terminalId)}`, paymentId);
    }
    const tracker = this.trackers.get(paymentId);
    const p = this.journal.get(paymentId);
    const tid = terminalId ?? tracker?.info.terminalId ?? p?.terminalId;
    if (!isTerminalId(tid)) {
      throw invalid(`terminalId is needed to cancel ${paymentId}: the journal does not know this payment`, paymentId);
    }
    // Dojo cancels only while the terminal asks for the card, or reverses a held pre-auth (contract
    // §4, §6). What this EPOS knows for sure to be past that is refused here: nothing is sent.
    const held = p?.kind === "payment" && p.captureMode === CAPTURE_MODE.MANUAL && p.status === PAYMENT_STATUS.AUTHORIZED;
    if (!held) {
      const status = p?.status;
      if (status !== undefined && FINAL_STATUSES.has(status)) {
        throw new PacError("INVALID_STATE", `payment ${paymentId} can no longer be cancelled: it already ended ${status}${status === PAYMENT_STATUS.CAPTURED ? "; refund it instead" : ""}`, { paymentId });
      }
      const step = tracker?.lastStep;
      if (isStepAfterCard(step)) {
        const after = p?.captureMode === CAPTURE_MODE.MANUAL ? "Once it is authorised, cancelling reverses the pre-auth" : "Refund it instead once it is approved";
        throw new PacError(
          "INVALID_STATE",
          `payment ${paymentId} can no longer be cancelled: the card was already presented (last step ${step}). ${after}`,
          { paymentId },
        );
      }
    }
    let r: JsonObject;
    try {
      const request = this.rpc.request(METHOD.cancelPayment, { paymentId, terminalId: tid }, paymentId);
      r = await (held ? this.stateChange(request, paymentId) : request);
    } catch (e) {
      // Dojo's refusal: say what Dojo said and the last step we know, never more (the card may not
      // have been presented: a cancel that overtakes the sale's start is refused too).
      if (e instanceof PacError && e.remote?.code === ERROR_CODE.INVALID_STATE) {
        const step = this.trackers.get(paymentId)?.lastStep ?? this.journal.get(paymentId)?.lastStep;
        const known = isStepAfterCard(step)
          ? `the card was already presented (last step ${step}); refund it instead once it is approved`
          : `last step known: ${step ?? "none yet"}`;
        throw new PacError("REMOTE", `Dojo refused to cancel payment ${paymentId}: ${e.userMessage}; ${known}`, { remote: e.remote, paymentId });
      }
      throw e;
    }
    if (held) {
      // A held pre-auth is reversed by the cancel itself (no record follows [M]): the journal notes it,
      // so a report, a capture guard or a later cancel knows.
      await this.writeOrOwe({ t: "state", ts: Date.now(), id: paymentId, status: PAYMENT_STATUS.REVERSED }, true);
    }
    return { paymentId: readPaymentId(r) ?? paymentId, terminalId: readTerminalId(r) ?? tid };
  }

  /**
   * A request that changes a held pre-auth: when its answer is lost (the connection dropped, or it
   * timed out) Dojo may have done it, so GetPayment asks once connected and the journal notes what
   * Dojo says. The caller still gets the error: it is true that the answer was lost.
   */
  private stateChange<T>(request: Promise<T>, paymentId: string): Promise<T> {
    return request.catch((e: unknown) => {
      if (e instanceof PacError && (e.code === "CONNECTION_LOST" || e.code === "TIMEOUT")) {
        this.unverified.add(paymentId);
        if (this.connection.isOpen) this.scheduleFollowUp(0);
      }
      throw e;
    });
  }

  /** What Dojo says of a pre-auth whose capture, update or reversal lost its answer, into the journal. */
  private async verifyState(paymentId: string): Promise<void> {
    let state: PaymentState;
    try {
      state = await this.getPayment(paymentId);
    } catch (e) {
      if (e instanceof PacError && e.remote?.code === ERROR_CODE.PAYMENT_NOT_FOUND) this.unverified.delete(paymentId);
      return; // not connected or no answer: asked again after the next reconnect
    }
    this.unverified.delete(paymentId);
    const amount =
      state.status === PAYMENT_STATUS.CAPTURED ? (state.capturedAmount ?? state.baseAmount) : state.status === PAYMENT_STATUS.AUTHORIZED ? (state.authorizedAmount ?? state.baseAmount) : undefined;
    const known = this.journal.get(paymentId);
    if (known?.status === state.status && (amount === undefined || known.amount === amount)) return;
    await this.writeOrOwe({ t: "state", ts: Date.now(), id: paymentId, status: state.status, ...(amount !== undefined ? { amount } : {}) }, true);
  }

  async getPayment(paymentId: string): Promise<PaymentState> {
    if (!isPaymentId(paymentId)) throw invalid(`paymentId must be a payment id, got ${JSON.stringify(paymentId)}`);
    const { raw: _raw, ...state } = readPaymentState(await this.rpc.request(METHOD.getPayment, { paymentId }, paymentId));
    return state;
  }

  async connectedTerminals(): Promise<TerminalInfo[]> {
    const r = await this.rpc.request(METHOD.connectedTerminals, {});
    return readTerminals(r as ConnectedTerminalsResult & JsonObject);
  }

  async terminalDetails(terminalId: string): Promise<TerminalInfo> {
    if (!isTerminalId(terminalId)) throw invalid(`terminalId must be a terminal id such as "01234567", got ${JSON.stringify(terminalId)}`);
    return readTerminalInfo(await this.rpc.request(METHOD.terminalDetails, { terminalId }));
  }

  /** Answer an open signature question; false when there is none for this payment. */
  answerSignature(paymentId: string, accepted: boolean): boolean {
    const q = this.questions.get(paymentId);
    if (!q || q.accepted !== undefined) return false;
    this.giveAnswer(paymentId, q, accepted);
    return true;
  }

  /** Record the answer and send it now when connected (else, and again, after the reconnect). */
  private giveAnswer(paymentId: string, q: OpenQuestion, accepted: boolean): void {
    if (q.timer) clearTimeout(q.timer);
    q.timer = null;
    q.accepted = accepted;
    this.sendAnswer(q.requestId, paymentId, accepted);
  }

  /** The result of Dojo's SignatureVerification request `requestId`. */
  private sendAnswer(requestId: RpcId, paymentId: string, accepted: boolean): void {
    this.connection.send(encodeResult(requestId, METHOD.signatureVerification, { paymentId, accepted }));
  }

  private forgetQuestion(paymentId: string, only?: OpenQuestion): void {
    const q = this.questions.get(paymentId);
    if (!q || (only && q !== only)) return;
    if (q.timer) clearTimeout(q.timer);
    clearTimeout(q.expiry);
    this.questions.delete(paymentId);
  }

  /** Where a payment stands, when this client is following it. */
  tracked(paymentId: string): { phase: string; lastStep?: string; info: StartInfo } | undefined {
    const t = this.trackers.get(paymentId);
    return t ? { phase: t.phase, lastStep: t.lastStep, info: t.info } : undefined;
  }

  get unresolved(): number {
    return this.trackers.size;
  }

  // ---- outcome delivery ---------------------------------------------------------------------

  /** Final outcomes not yet handed to the flow (e.g. recorded before a restart). */
  undelivered(): PaymentOutcome[] {
    return this.journal
      .openPayments()
      .filter((p) => p.recordedAt !== undefined && p.deliveredAt === undefined)
      .map((p) => outcomeOf(p, p.emitting === true));
  }

  /**
   * Hand an outcome over exactly once: "emit" is written before handOver runs and "done" after;
   * a crash between the two re-offers it marked `redelivered`.
   */
  async deliver(paymentId: string, handOver: () => void): Promise<boolean> {
    const p = this.journal.get(paymentId);
    if (p?.deliveredAt !== undefined) return false;
    // Written (not waited for on disk) before the hand-over: a process crash after it re-offers
    // the outcome marked redelivered.
    await this.journal.write({ t: "emit", ts: Date.now(), id: paymentId }, false);
    try {
      handOver();
    } catch (e) {
      // Not handed over: it must not come back marked as a possible duplicate.
      await this.journal.write({ t: "unemit", ts: Date.now(), id: paymentId }, false);
      throw e;
    }
    // Handed over: if the journal cannot note it now, it does once it recovers (until then a crash
    // re-offers it marked redelivered).
    await this.writeOrOwe({ t: "done", ts: Date.now(), id: paymentId }, false);
    return true;
  }

  /** Journal a fact that is true whatever the disk says; owed (and false) while it cannot be written. */
  private writeOrOwe(entry: JournalEntry, durable: boolean): Promise<boolean> {
    return this.journal.write(entry, durable).then(
      () => true,
      () => {
        this.owed.push(entry);
        return false;
      },
    );
  }

  private onJournalHealth(h: JournalHealth): void {
    if (h.state === "ok") {
      for (const entry of this.owed.splice(0)) void this.writeOrOwe(entry, true);
    }
    this.emit("journal", h);
  }

  // ---- inbound ----------------------------------------------------------------------------

  private onState(state: ConnectionState, info: StateInfo): void {
    if (state === "reconnecting" || state === "displaced" || state === "auth-failed" || state === "closing") {
      this.rpc.failAll(info.reason ?? state);
      // Open signature questions are kept: Dojo's deadline still runs, and an answer can still be given.
    }
    if (state === "open") {
      // Answers given while the connection was down, or possibly lost with it, go (again) now.
      for (const [paymentId, q] of this.questions) {
        if (q.accepted !== undefined) this.sendAnswer(q.requestId, paymentId, q.accepted);
      }
      // Follow up at once after a reconnect, not at the next periodic round.
      if (this.followUpTimer) clearTimeout(this.followUpTimer);
      this.followUpTimer = null;
      this.scheduleFollowUp(0);
    }
    this.emit("state", state, info);
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case "response":
        if (!this.rpc.settle(frame.id, frame.result, null)) this.warn(`response to unknown request id ${String(frame.id)} ignored`);
        return;
      case "error":
        if (!this.rpc.settle(frame.id, null, frame.error)) this.warn(`error for unknown request id ${String(frame.id)}: ${frame.error.message}`);
        return;
      case "notification":
        if (frame.method === METHOD.terminalNotification) this.onNotification(frame.params);
        else this.warn(`unknown notification ${frame.method} ignored`);
        return;
      case "request":
        this.onRequest(frame.id, frame.method, frame.params);
        return;
    }
  }

  private onFrameError(e: FrameError): void {
    this.warn(`unreadable frame from Dojo: ${e.message}`);
    // Answer a request we could not read, so Dojo does not wait on it.
    if (e.id !== null) this.connection.send(encodeError(e.id, e.problem === "not-json" ? "PARSE_ERROR" : "INVALID_REQUEST"));
  }

  private onRequest(id: RpcId, method: string, params: JsonObject): void {
    switch (method) {
      case METHOD.recordPayment:
      case METHOD.recordRefund:
        this.onRecord(id, method === METHOD.recordRefund ? "refund" : "payment", params);
        return;
      case METHOD.signatureVerification:
        this.onSignature(id, params);
        return;
      default:
        this.connection.send(encodeError(id, "METHOD_NOT_FOUND", `this EPOS does not handle ${method}`));
    }
  }

  private onNotification(params: JsonObject): void {
    const n = readNotification(params);
    const t = this.trackers.get(n.paymentId);
    if (t) {
      t.lastStep = n.notificationValue;
      t.lastStepAt = Date.now();
      if (t.phase === "unknown" || t.phase === "creating") t.to("running");
      // Four steps per sale would double the journal's lines; only the latest one that is still
      // current a moment later is worth keeping.
      this.pendingSteps.set(n.paymentId, t);
      if (!this.stepTimer && !this.closing) {
        this.stepTimer = setTimeout(() => this.writeSteps(), this.opts.stepJournalMs ?? 100);
      }
    }
    this.emit("notification", {
      paymentId: n.paymentId,
      terminalId: n.terminalId,
      notification: n.notificationValue,
      owner: t?.info.owner,
      raw: n.raw,
    });
  }

  /** Journal the latest step of each payment still running (see stepJournalMs). */
  private writeSteps(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = null;
    // A step only informs: while the journal cannot write, it is skipped (the failure was reported once).
    const writable = this.journal.health.state === "ok";
    for (const [id, t] of this.pendingSteps) {
      if (!writable || this.trackers.get(id) !== t || t.lastStep === undefined) continue; // ended meanwhile: its record says more
      this.journal.write({ t: "step", ts: t.lastStepAt, id, value: t.lastStep }, false).catch(() => undefined);
    }
    this.pendingSteps.clear();
  }

  private onSignature(id: RpcId, params: JsonObject): void {
    const q = readSignatureRequest(params);
    const t = this.trackers.get(q.paymentId);
    const policy: SignaturePolicy = t?.signature ?? this.opts.defaultSignaturePolicy ?? "accept";
    if (!q.paymentId) {
      this.sendAnswer(id, q.paymentId, policy !== "decline");
      return;
    }
    this.forgetQuestion(q.paymentId);
    // Dojo's deadline, bounded (a hostile or broken value must not overflow or pin a timer).
    const deadlineMs = Math.min(Math.max(0, q.timeout), 600) * 1000;
    const open: OpenQuestion = {
      requestId: id,
      timer: null,
      expiry: setTimeout(() => this.forgetQuestion(q.paymentId, open), deadlineMs),
    };
    this.questions.set(q.paymentId, open);
    if (policy !== "ask") {
      this.giveAnswer(q.paymentId, open, policy !== "decline");
      return;
    }
    // Unanswered questions get the default before Dojo's own timeout (no answer means accepted).
    const waitMs = Math.max(0, deadlineMs - (this.opts.signatureMarginMs ?? 3000));
    open.timer = setTimeout(() => {
      open.timer = null;
      this.giveAnswer(q.paymentId, open, (this.opts.defaultSignaturePolicy ?? "accept") === "accept");
    }, waitMs);
    this.emit("signature", {
      paymentId: q.paymentId,
      terminalId: q.terminalId,
      receiptLines: q.receiptLines,
      timeout: q.timeout,
      owner: t?.info.owner,
    });
  }

  private onRecord(id: RpcId, kind: PaymentKind, params: JsonObject): void {
    const rec = readRecord(params);
    const method = kind === "refund" ? METHOD.recordRefund : METHOD.recordPayment;
    const ack = (): void => {
      this.connection.send(encodeResult(id, method, { paymentId: rec.paymentId }));
    };
    // Any error but PAYMENT_ALREADY_RECORDED makes Dojo deliver the record again (contract §4).
    const notStored = (): void => {
      this.connection.send(encodeError(id, "INTERNAL_ERROR", "the EPOS could not store the record yet: deliver it again"));
    };
    if (!rec.paymentId) {
      this.connection.send(encodeError(id, "INVALID_PARAMS", "record without paymentId"));
      return;
    }
    const inFlight = this.storing.get(rec.paymentId);
    if (inFlight) {
      inFlight.then(ack, notStored);
      return;
    }
    if (this.journal.isRecorded(rec.paymentId)) {
      ack(); // on disk already: a redelivery, acknowledged again, not emitted again
      return;
    }
    const { raw } = rec;
    // A failed journal gets a recovery attempt first: a redelivery is also the moment to try again.
    // (A journal still failed after it refuses the write itself.)
    const store = (this.journal.health.state === "ok" ? Promise.resolve(true) : this.journal.recover()).then(() =>
      this.journal.write({ t: "record", ts: Date.now(), id: rec.paymentId, record: raw }, true),
    );
    this.storing.set(rec.paymentId, store);
    store.then(
      () => {
        this.storing.delete(rec.paymentId);
        ack(); // only once the record is on disk
        this.afterRecord(kind, rec.paymentId, raw);
      },
      () => {
        // Not stored, and no trace of it in memory: Dojo delivers it again and it is stored then.
        // The journal's failure was reported once, when it happened.
        this.storing.delete(rec.paymentId);
        notStored();
      },
    );
  }

  private afterRecord(kind: PaymentKind, paymentId: string, raw: JsonObject): void {
    const t = this.trackers.get(paymentId);
    const p = this.journal.get(paymentId);
    const foreign = !t && !p?.kind;
    this.forgetQuestion(paymentId); // the payment is over: its question too
    this.emit("record", { paymentId, kind, record: raw, foreign });
    if (t && !t.to("recorded")) return;
    this.trackers.delete(paymentId);
    const outcome = p ? outcomeOf(p, false) : outcomeOf({ id: paymentId, kind, record: raw, updatedAt: Date.now() }, false);
    outcome.foreign = foreign;
    this.emit("outcome", outcome);
  }

  // ---- follow-up of unfinished payments ----------------------------------------------------

  private scheduleFollowUp(delayMs: number): void {
    if (this.closing || this.followUpTimer) return;
    this.followUpTimer = setTimeout(() => {
      this.followUpTimer = null;
      void this.followUp();
    }, delayMs);
  }

  private async followUp(): Promise<void> {
    if (!this.connection.isOpen) return;
    const due = [...this.trackers.values()].filter((t) => t.needsFollowUp);
    await Promise.all([...due.map((t) => this.followUpOne(t)), ...[...this.unverified].map((id) => this.verifyState(id))]);
    if ([...this.trackers.values()].some((t) => t.phase === "unknown")) {
      this.scheduleFollowUp(this.opts.followUpMs ?? 30_000);
    }
  }

  private async followUpOne(t: PaymentTracker): Promise<void> {
    try {
      const state = await this.getPayment(t.id);
      if (FINAL_STATUSES.has(state.status)) {
        if (t.to("awaiting-record") || t.phase === "awaiting-record") {
          await this.journal.write({ t: "state", ts: Date.now(), id: t.id, status: state.status }, false);
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
        const p = this.journal.get(t.id);
        try {
          // "Recorded" in our journal as final so it is delivered like any other outcome. Not
          // stored: it stays unknown and the next follow-up asks again.
          await this.journal.write({ t: "state", ts: Date.now(), id: t.id, status: PAYMENT_STATUS.FAILED }, true);
          await this.journal.write({ t: "record", ts: Date.now(), id: t.id, record: { status: PAYMENT_STATUS.FAILED, notCreated: true } }, true);
        } catch {
          this.scheduleFollowUp(this.opts.followUpMs ?? 30_000);
          return;
        }
        if (!t.to("not-created")) return;
        this.trackers.delete(t.id);
        const outcome = outcomeOf(this.journal.get(t.id) ?? p ?? { id: t.id, updatedAt: Date.now() }, false);
        this.emit("outcome", outcome);
      } else if (err.code !== "CONNECTION_LOST" && err.code !== "NOT_CONNECTED" && err.code !== "CLOSED") {
        this.warn(`follow-up of payment ${t.id} failed: ${err.message}`);
      }
    }
  }

  private warn(message: string): void {
    this.emit("warning", this.connection.redact(message));
  }
}

function startInfoOf(p: JournalPayment): StartInfo {
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

function outcomeOf(p: JournalPayment, redelivered: boolean): PaymentOutcome {
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
