/**
 * The EPOS's requests to Dojo: start a sale, pre-auth or refund (journaled before it is sent, never
 * re-sent), capture, update or reverse a pre-auth, cancel, and the queries. Input is checked here,
 * once (validate.ts), and what the book knows for sure is refused before anything is sent.
 */
import { randomUUID } from "node:crypto";
import {
  CAPTURE_MODE,
  ERROR_CODE,
  METHOD,
  PAYMENT_STATUS,
  isStepAfterCard,
  readAmountResult,
  readPaymentId,
  readPaymentState,
  readTerminalId,
  readTerminalInfo,
  readTerminals,
} from "../protocol";
import type { CreateAck, JsonObject, PaymentState, TerminalInfo } from "../protocol";
import type { PaymentBook } from "./book";
import { PacError } from "./errors";
import type { FollowUp } from "./follow-up";
import type { PaymentKind, StartInfo } from "./journal";
import { describeStorageError } from "./journal";
import type { SignaturePolicy } from "./payment";
import type { ManagedConnection } from "./transport/connection";
import type { RpcChannel } from "./transport/rpc";
import type { PaymentRequest, RefundRequest } from "./types";
import { checkAmount, invalid, isPaymentId, isTerminalId, startProblem } from "./validate";
import type { AmountLimit } from "./validate";

export interface AmountChange {
  paymentId: string;
  status: string;
  amount: number;
}

export class Operations {
  constructor(
    private readonly connection: ManagedConnection,
    private readonly rpc: RpcChannel,
    private readonly book: PaymentBook,
    private readonly followUp: FollowUp,
    /** The most one payment may be, when the client has a limit. */
    private readonly limit?: AmountLimit,
  ) {}

  // ---- start -------------------------------------------------------------------------------

  /** Start a sale or pre-auth. Rejects INVALID_INPUT (nothing sent) before anything else. */
  async createPayment(req: PaymentRequest): Promise<CreateAck> {
    const info = this.startInfo("payment", req);
    info.captureMode = req.captureMode ?? CAPTURE_MODE.AUTO;
    if (req.tipsAmount) info.tipsAmount = req.tipsAmount;
    if (req.cashbackAmount) info.cashbackAmount = req.cashbackAmount;
    return this.start(info, req.signature ?? "accept");
  }

  async createRefund(req: RefundRequest): Promise<CreateAck> {
    return this.start(this.startInfo("refund", req), req.signature ?? "accept");
  }

  private startInfo(kind: PaymentKind, req: PaymentRequest): StartInfo {
    const problem = startProblem(req, this.limit ? { limit: this.limit } : {});
    if (problem) throw problem;
    const id = req.paymentId ?? randomUUID();
    if (!isTerminalId(req.terminalId)) throw invalid(`terminalId is needed: a terminal id such as "01234567"`, id);
    if (this.book.isUsed(id)) throw invalid(`paymentId ${id} was already used: every payment needs a new id`, id);
    const info: StartInfo = { id, kind, terminalId: req.terminalId, amount: req.amount, currency: req.currency };
    if (req.owner !== undefined) info.owner = req.owner;
    if (req.ctx !== undefined) info.ctx = req.ctx;
    return info;
  }

  private async start(info: StartInfo, signature: SignaturePolicy): Promise<CreateAck> {
    const { book } = this;
    const health = book.journal.health;
    if (health.state === "failed") {
      throw book.refuse(
        info,
        new PacError("JOURNAL", `payment ${info.id} was not sent: the journal cannot write (${health.words}); it retries by itself`, { paymentId: info.id }),
      );
    }
    if (!this.connection.isOpen) {
      throw new PacError("NOT_CONNECTED", `not connected to Dojo (${this.connection.state}): payment ${info.id} was not sent`, { paymentId: info.id });
    }
    const tracker = book.track(info, signature);
    try {
      // Written before it is sent (a crash of this process cannot lose it; the fsync follows at
      // once): after a restart we know to follow it up. Should a power cut lose it, Dojo's record
      // still arrives and is reported as foreign, never dropped.
      await book.journal.write({ t: "start", ts: Date.now(), ...info }, false);
    } catch (e) {
      book.untrack(info.id);
      const words = describeStorageError(e).words;
      throw book.refuse(info, new PacError("JOURNAL", `payment ${info.id} was not sent: the journal could not store it (${words})`, { paymentId: info.id }));
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
          book.untrack(info.id);
          await book.journal.write({ t: "rejected", ts: Date.now(), id: info.id, reason: err.message }, false).catch(() => undefined);
        }
      } else if (tracker.to("unknown")) {
        this.followUp.schedule(0);
      }
      throw err;
    }
  }

  // ---- pre-auths ------------------------------------------------------------------------------

  capturePayment(paymentId: string, amount: number): Promise<AmountChange> {
    return this.changeAmount(METHOD.capturePayment, paymentId, amount, PAYMENT_STATUS.CAPTURED);
  }

  updatePayment(paymentId: string, amount: number): Promise<AmountChange> {
    return this.changeAmount(METHOD.updatePayment, paymentId, amount, PAYMENT_STATUS.AUTHORIZED);
  }

  private async changeAmount(
    method: typeof METHOD.capturePayment | typeof METHOD.updatePayment,
    paymentId: string,
    amount: number,
    status: string,
  ): Promise<AmountChange> {
    if (!isPaymentId(paymentId)) throw invalid(`paymentId must be the id of a pre-authorised payment, got ${JSON.stringify(paymentId)}`);
    checkAmount("amount", amount);
    const capture = method === METHOD.capturePayment;
    this.book.checkHeldPreAuth(paymentId, capture ? "captured" : "updated");
    await this.book.intend(paymentId, capture ? "capture" : "update", amount);
    const r = readAmountResult(await this.changing(this.rpc.request(method, { paymentId, baseAmount: amount }, paymentId), paymentId));
    const final = { paymentId, status, amount: r.baseAmount ?? amount };
    // Dojo did it: that is the answer, whether or not the journal can note it now (it does once it
    // recovers, or the next start asks Dojo: the intent is on disk).
    await this.book.note({ t: "state", ts: Date.now(), id: paymentId, status, amount: final.amount }, true);
    return final;
  }

  /**
   * The answer to a change whose intent is journaled: Dojo's refusal (or a request that never left)
   * notes that nothing changed; a lost answer is followed up.
   */
  private changing<T>(request: Promise<T>, paymentId: string): Promise<T> {
    return this.followUp.stateChange(request, paymentId).catch(async (e: unknown) => {
      if (e instanceof PacError && (e.code === "REMOTE" || e.code === "NOT_CONNECTED")) await this.book.unchanged(paymentId);
      throw e;
    });
  }

  /** Cancel while the terminal asks for the card, or reverse an authorised pre-auth. */
  async cancelPayment(paymentId: string, terminalId?: string): Promise<{ paymentId: string; terminalId: string }> {
    if (!isPaymentId(paymentId)) throw invalid(`paymentId must be the id of the payment to cancel, got ${JSON.stringify(paymentId)}`);
    if (terminalId !== undefined && !isTerminalId(terminalId)) {
      throw invalid(`terminalId must be a terminal id such as "01234567", got ${JSON.stringify(terminalId)}`, paymentId);
    }
    const tid = terminalId ?? this.book.terminalOf(paymentId);
    if (!isTerminalId(tid)) throw invalid(`terminalId is needed to cancel ${paymentId}: the journal does not know this payment`, paymentId);
    const { held } = this.book.checkCancellable(paymentId);
    if (held) await this.book.intend(paymentId, "reverse");
    let r: JsonObject;
    try {
      const request = this.rpc.request(METHOD.cancelPayment, { paymentId, terminalId: tid }, paymentId);
      r = await (held ? this.changing(request, paymentId) : request);
    } catch (e) {
      // Dojo's refusal: say what Dojo said and the last step we know, never more (the card may not
      // have been presented: a cancel that overtakes the sale's start is refused too).
      if (e instanceof PacError && e.remote?.code === ERROR_CODE.INVALID_STATE) {
        const step = this.book.lastStep(paymentId);
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
      await this.book.note({ t: "state", ts: Date.now(), id: paymentId, status: PAYMENT_STATUS.REVERSED }, true);
    }
    return { paymentId: readPaymentId(r) ?? paymentId, terminalId: readTerminalId(r) ?? tid };
  }

  // ---- queries --------------------------------------------------------------------------------

  async getPayment(paymentId: string): Promise<PaymentState> {
    if (!isPaymentId(paymentId)) throw invalid(`paymentId must be a payment id, got ${JSON.stringify(paymentId)}`);
    const { raw: _raw, ...state } = readPaymentState(await this.rpc.request(METHOD.getPayment, { paymentId }, paymentId));
    return state;
  }

  async connectedTerminals(): Promise<TerminalInfo[]> {
    const r = await this.rpc.request(METHOD.connectedTerminals, {});
    return readTerminals(r);
  }

  async terminalDetails(terminalId: string): Promise<TerminalInfo> {
    if (!isTerminalId(terminalId)) throw invalid(`terminalId must be a terminal id such as "01234567", got ${JSON.stringify(terminalId)}`);
    return readTerminalInfo(await this.rpc.request(METHOD.terminalDetails, { terminalId }));
  }
}
