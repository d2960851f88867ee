/**
 * The signature desk: Dojo's SignatureVerification questions, each kept until Dojo's own deadline
 * or the payment's record. The answer comes from the payment's policy, from its owner ("ask"), or
 * by default shortly before the deadline (no answer at all means "accepted": contract §4). An
 * answer given while the connection is down (or lost with it) is sent (again) after the reconnect,
 * with the question's request id. [M] Dojo taking it on the new connection is modelled (as our
 * simulator does).
 */
import { METHOD, encodeResult, readSignatureRequest } from "../protocol";
import type { JsonObject, RpcId } from "../protocol";
import type { SignaturePolicy } from "./payment";
import type { SignatureQuestion } from "./types";

interface OpenQuestion {
  requestId: RpcId;
  /** The answer, once given (policy, the owner, or the default before Dojo's deadline). */
  accepted?: boolean;
  /** "ask": gives the default answer shortly before Dojo's deadline. */
  timer: NodeJS.Timeout | null;
  /** Dojo's deadline: the question is forgotten then. */
  expiry: NodeJS.Timeout;
}

export interface SignatureDeskOptions {
  /** Policy for questions about payments we did not start, and for unanswered "ask" ones. */
  defaultPolicy: "accept" | "decline";
  /** Answer an "ask" question this long before Dojo's deadline. */
  marginMs: number;
}

/** What the desk needs to know of a payment: its policy and owner, when this EPOS started it. */
export type PaymentPolicy = (paymentId: string) => { policy: SignaturePolicy; owner?: string } | undefined;

export class SignatureDesk {
  private readonly questions = new Map<string, OpenQuestion>();

  constructor(
    private readonly send: (text: string) => void,
    private readonly policyOf: PaymentPolicy,
    private readonly opts: SignatureDeskOptions,
    /** An "ask" question, for the payment's owner. */
    private readonly ask: (q: SignatureQuestion) => void,
  ) {}

  /** A SignatureVerification request from Dojo. */
  question(id: RpcId, params: JsonObject): void {
    const q = readSignatureRequest(params);
    const known = this.policyOf(q.paymentId);
    const policy: SignaturePolicy = known?.policy ?? this.opts.defaultPolicy;
    if (!q.paymentId) {
      this.sendAnswer(id, q.paymentId, policy !== "decline");
      return;
    }
    this.forget(q.paymentId);
    // Dojo's deadline, bounded (a hostile or broken value must not overflow or pin a timer).
    const deadlineMs = Math.min(Math.max(0, q.timeout), 600) * 1000;
    const open: OpenQuestion = {
      requestId: id,
      timer: null,
      expiry: setTimeout(() => this.forget(q.paymentId, open), deadlineMs),
    };
    this.questions.set(q.paymentId, open);
    if (policy !== "ask") {
      this.give(q.paymentId, open, policy !== "decline");
      return;
    }
    // Unanswered questions get the default before Dojo's own timeout (no answer means accepted).
    const waitMs = Math.max(0, deadlineMs - this.opts.marginMs);
    open.timer = setTimeout(() => {
      open.timer = null;
      this.give(q.paymentId, open, this.opts.defaultPolicy === "accept");
    }, waitMs);
    this.ask({
      paymentId: q.paymentId,
      terminalId: q.terminalId,
      receiptLines: q.receiptLines,
      timeout: q.timeout,
      ...(known?.owner !== undefined ? { owner: known.owner } : {}),
    });
  }

  /** Answer an open question; false when there is none for this payment (or it was answered). */
  answer(paymentId: string, accepted: boolean): boolean {
    const q = this.questions.get(paymentId);
    if (!q || q.accepted !== undefined) return false;
    this.give(paymentId, q, accepted);
    return true;
  }

  /** After a reconnect: answers given while the connection was down, or possibly lost with it, go (again). */
  resend(): void {
    for (const [paymentId, q] of this.questions) {
      if (q.accepted !== undefined) this.sendAnswer(q.requestId, paymentId, q.accepted);
    }
  }

  /** The payment is over (its record came): its question too. */
  forget(paymentId: string, only?: OpenQuestion): void {
    const q = this.questions.get(paymentId);
    if (!q || (only && q !== only)) return;
    if (q.timer) clearTimeout(q.timer);
    clearTimeout(q.expiry);
    this.questions.delete(paymentId);
  }

  close(): void {
    for (const id of [...this.questions.keys()]) this.forget(id);
  }

  /** Record the answer and send it now when connected (else, and again, after the reconnect). */
  private give(paymentId: string, q: OpenQuestion, accepted: boolean): void {
    if (q.timer) clearTimeout(q.timer);
    q.timer = null;
    q.accepted = accepted;
    this.sendAnswer(q.requestId, paymentId, accepted);
  }

  private sendAnswer(requestId: RpcId, paymentId: string, accepted: boolean): void {
    this.send(encodeResult(requestId, METHOD.signatureVerification, { paymentId, accepted }));
  }
}
