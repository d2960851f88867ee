/**
 * pac-payment and pac-refund: start a transaction on a terminal, report its progress on output 3,
 * and send its one final outcome on output 1 (approved) or 2 (not approved), with the original msg.
 *
 * Exactly once: the node claims its payments in the engine's outbox by its node id; the original
 * msg waits in the runtime's held-messages registry (it survives redeploys) under the same id, so a
 * new instance after a redeploy, or the same node after a restart (msg rebuilt from the context
 * journaled with the payment), sends the outcome, and nothing else does.
 */
import { randomUUID } from "node:crypto";
import { startProblem } from "../engine";
import type { AmountLimit, HandOver, NotificationEvent, OwnerReceiver, PacClient, PaymentOutcome, SignatureQuestion } from "../engine";
import type { CaptureMode } from "../protocol";
import { NOTIFICATION, TERMINAL_STATUS } from "../protocol";
import type { DoneFn, Node, NodeAPI, NodeMessage, NodeStatus, SendFn } from "./red-types";
import { FlowError, invalidInput, isPacError } from "./flow-error";
import type { HeldMessages } from "./held-messages";
import { readRefundOf, refundLimitProblem } from "./refund-limit";
import { msgFromCtx, snapshotMsg } from "./msg-context";
import { amountExample, describe, formatMoney, isPlainObject, minorUnits, nonEmptyString } from "./msg-readers";
import type { Translate } from "./i18n";
import { codeWords, fit } from "./status-line";
import type { UserDef } from "./user-node";
import { UserNode, userNodeType } from "./user-node";

export type TransactionKind = "payment" | "refund";
export type SignatureSetting = "accept" | "decline" | "ask";

export interface TransactionDef extends UserDef {
  terminalId?: string;
  currency?: string;
  captureMode?: string;
  signature?: string;
}

/** A checked request, ready for the engine. */
export interface TransactionRequest {
  paymentId: string;
  terminalId?: string;
  amount: number;
  currency: string;
  captureMode?: CaptureMode;
  tipsAmount?: number;
  cashbackAmount?: number;
}

/** A terminal's step (PIN_ENTRY) in the words of the status and of progress messages (under 20 characters). */
export function stepText(value: string, t: Translate): string {
  const key = `status.notification.${value}`;
  return t.has(key) ? t(key) : fit(codeWords(value), t("status.state.progress"));
}

/** What a result's status needs to know about it. */
export interface ResultView {
  status: string;
  amount?: number;
  currency?: string;
  successful: boolean;
  notCreated?: boolean;
}

/** A payment's or refund's result: the word, with the amount when it fits ("paid £12.50"). */
export function resultStatus(o: ResultView, t: Translate): NodeStatus {
  const key = `status.result.${o.status}`;
  const word = t.has(key) ? t(key) : fit(codeWords(o.status), t("status.notification.TRANSACTION_FINISHED"));
  if (o.successful) {
    const money = formatMoney(o.amount, o.currency);
    return { fill: "green", shape: "dot", text: money ? fit(`${word} ${money}`, word) : word };
  }
  return { fill: "red", shape: "ring", text: o.notCreated ? fit(`${word}: ${t("runtime.notCreated")}`, word) : word };
}

/**
 * A text field of msg.payload: absent (undefined, null or "") gives undefined, so the node's setting
 * applies; anything else that is not text is refused: a wrong currency, terminal or capture mode
 * must never be replaced silently by the node's default.
 */
function optionalText(fields: Record<string, unknown>, name: string, example: string): string | undefined {
  const v = fields[name];
  if (v === undefined || v === null || v === "") return undefined;
  const s = nonEmptyString(v);
  if (s === undefined) throw invalidInput(`msg.payload.${name} must be text such as ${example} (or left out to use the node's setting), got ${describe(v)}`);
  return s;
}

/** How the fields are named to a flow. */
function payloadField(field: string): string {
  return field === "amount" ? "the amount" : `msg.payload.${field}`;
}

/** Read msg into a request; throws INVALID_INPUT saying what to send. Nothing is sent to Dojo. */
export function readRequest(msg: NodeMessage, def: TransactionDef, kind: TransactionKind, limit?: AmountLimit): TransactionRequest {
  const p = msg.payload;
  const plainAmount = typeof p === "number" || typeof p === "string";
  const fields: Record<string, unknown> = plainAmount ? { amount: p } : isPlainObject(p) ? p : {};
  const currency = optionalText(fields, "currency", '"GBP"') ?? nonEmptyString(def.currency) ?? "GBP";
  // Only an error needs it (formatting money costs more than the rest of the checks).
  const example = (): string => amountExample(currency);
  if (typeof p === "string" && typeof minorUnits(p, "msg.payload", currency) !== "number") {
    throw invalidInput(
      `msg.payload must be the amount in minor units (a number, or text of digits) or an object {amount, …}: ${example()}; got ${describe(p)}`,
    );
  }
  if (!plainAmount && !isPlainObject(p)) {
    throw invalidInput(`msg.payload must be the amount in minor units or an object {amount, …}: ${example()}; got ${describe(p)}`);
  }
  if (fields.amount === undefined) {
    throw invalidInput(`msg.payload.amount is missing: ${example()} or msg.payload = {amount: 1250, …}`);
  }
  const terminalId = optionalText(fields, "terminalId", '"01234567"') ?? nonEmptyString(def.terminalId);
  const paymentId = fields.paymentId === undefined || fields.paymentId === null || fields.paymentId === "" ? randomUUID() : fields.paymentId;
  const captureMode = kind === "payment" ? (optionalText(fields, "captureMode", '"AUTO" or "MANUAL"') ?? nonEmptyString(def.captureMode) ?? "AUTO") : undefined;
  const extra = (name: "tipsAmount" | "cashbackAmount"): unknown =>
    kind === "payment" && fields[name] !== null ? minorUnits(fields[name], `msg.payload.${name}`, currency) : undefined;
  const checked = {
    paymentId,
    terminalId,
    amount: minorUnits(fields.amount, plainAmount ? "msg.payload" : "msg.payload.amount", currency),
    currency,
    captureMode,
    tipsAmount: extra("tipsAmount"),
    cashbackAmount: extra("cashbackAmount"),
  };
  // The engine's checks, in the flow's terms (the engine checks again: one set of rules and words).
  const problem = startProblem(checked, { name: payloadField, amountExample: example(), ...(limit ? { limit } : {}) });
  if (problem) throw problem;
  const req: TransactionRequest = { paymentId: paymentId as string, amount: checked.amount as number, currency };
  if (terminalId !== undefined) req.terminalId = terminalId;
  if (captureMode !== undefined) req.captureMode = captureMode as CaptureMode;
  if (typeof checked.tipsAmount === "number" && checked.tipsAmount > 0) req.tipsAmount = checked.tipsAmount;
  if (typeof checked.cashbackAmount === "number" && checked.cashbackAmount > 0) req.cashbackAmount = checked.cashbackAmount;
  return req;
}

class TransactionNode extends UserNode {
  private readonly kind: TransactionKind;
  private readonly signaturePolicy: SignatureSetting;
  /** Refunds with refundOf being sent by this node, per sale: refund id -> amount. */
  private readonly refundsInFlight = new Map<string, Map<string, number>>();
  /** This node's claim: the outcomes, steps and signature questions of the payments it starts. */
  readonly owner: OwnerReceiver = {
    outcome: (o) => this.outcome(o),
    notification: (e) => this.notification(e),
    signature: (q) => this.signature(q),
  };

  constructor(
    RED: NodeAPI,
    node: Node,
    private readonly def: TransactionDef,
    kind: TransactionKind,
  ) {
    super(RED, node, def, `pac-${kind}`);
    this.kind = kind;
    const s = def.signature;
    this.signaturePolicy = s === "decline" || s === "ask" ? s : "accept";
    this.start();
  }

  protected async handle(msg: NodeMessage, _send: SendFn, done: DoneFn): Promise<void> {
    if (msg.topic === "signature") {
      await this.answerSignature(msg, done);
      return;
    }
    const req = readRequest(msg, this.def, this.kind, this.runtime?.amountLimit);
    const refundOf = this.kind === "refund" && isPlainObject(msg.payload) ? readRefundOf(msg.payload) : undefined;
    const client = await this.client();
    if (refundOf === undefined) {
      await this.begin(msg, req, client, done);
      return;
    }
    // Reserved before the journal is read: two refunds of one sale at once cannot both pass.
    const pending = this.refundsInFlight.get(refundOf) ?? new Map<string, number>();
    this.refundsInFlight.set(refundOf, pending);
    const others = new Map(pending);
    pending.set(req.paymentId, req.amount);
    try {
      const problem = await refundLimitProblem(client.journal, refundOf, req.amount, req.currency, others);
      if (problem) throw problem;
      // Journaled with the refund's context: the next refund of this sale counts it.
      msg.refundOf = refundOf;
      await this.begin(msg, req, client, done);
    } finally {
      pending.delete(req.paymentId);
      if (pending.size === 0) this.refundsInFlight.delete(refundOf);
    }
  }

  /** Send the request (the journal has it once this resolves), the msg held for its outcome. */
  private async begin(msg: NodeMessage, req: TransactionRequest, client: PacClient, done: DoneFn): Promise<void> {
    const terminalId = req.terminalId ?? (await this.pickTerminal(client));
    if (this.closed) {
      throw new FlowError("CLOSED", `the node was redeployed before ${this.kind} ${req.paymentId} was sent: nothing was charged`, req.paymentId);
    }
    // The msg waits for its outcome, whichever instance of this node sends it. (The engine refuses
    // an id it knows; a msg already held for this id is one it does not know yet.)
    const held = this.heldMessages();
    if (!held.put(this.id, req.paymentId, { msg, instance: this, done })) {
      throw invalidInput(`paymentId ${req.paymentId} was already used: every ${this.kind} needs a new id`, req.paymentId);
    }
    this.activity({ fill: "blue", shape: "ring", text: this.t("status.state.sending") });
    const ctx = snapshotMsg(msg);
    try {
      const common = {
        paymentId: req.paymentId,
        terminalId,
        amount: req.amount,
        currency: req.currency,
        owner: this.id,
        signature: this.signaturePolicy,
        ...(ctx !== undefined ? { ctx } : {}),
      };
      // The sidebar shows a sale from its start (the journal has it before it is sent).
      this.runtime?.statusChanged("payment");
      if (this.kind === "payment") {
        await client.createPayment({
          ...common,
          captureMode: req.captureMode,
          ...(req.tipsAmount !== undefined ? { tipsAmount: req.tipsAmount } : {}),
          ...(req.cashbackAmount !== undefined ? { cashbackAmount: req.cashbackAmount } : {}),
        });
      } else {
        await client.createRefund(common);
      }
      this.runtime?.statusChanged("payment");
      // Not when the terminal already reported a step (notifications can overtake the ack).
      if (!this.closed && held.has(req.paymentId) && !client.tracked(req.paymentId)?.lastStep) {
        this.activity({ fill: "blue", shape: "ring", text: this.t("status.state.waiting") });
      }
    } catch (e) {
      if (isPacError(e) && e.code === "OUTCOME_UNKNOWN") {
        // The payment may be running: the engine follows it up and its outcome arrives as usual.
        const text = this.t("runtime.outcomeUnknown");
        if (this.wired(2)) {
          this.node.send([
            null,
            null,
            { topic: "checking", paymentId: req.paymentId, payload: { paymentId: req.paymentId, terminalId, text, cancellable: false } },
          ]);
        }
        this.activity({ fill: "yellow", shape: "ring", text });
        return;
      }
      held.takeIf(this.id, req.paymentId, msg);
      throw e;
    }
  }

  /** First AVAILABLE terminal of the account: used when neither msg nor node names one. */
  private async pickTerminal(client: PacClient): Promise<string> {
    const terminals = await client.connectedTerminals();
    const free = terminals.find((t) => t.status === TERMINAL_STATUS.AVAILABLE);
    if (free) return free.terminalId;
    const seen = terminals.length ? terminals.map((t) => `${t.terminalId} ${t.status}`).join(", ") : "none connected";
    throw new FlowError("NO_TERMINAL", `no terminal is available (${seen}): set the node's Terminal or send msg.payload.terminalId`);
  }

  private async answerSignature(msg: NodeMessage, done: DoneFn): Promise<void> {
    const p = msg.payload;
    const paymentId = isPlainObject(p) ? p.paymentId : undefined;
    const accepted = isPlainObject(p) ? p.accepted : undefined;
    if (typeof paymentId !== "string" || typeof accepted !== "boolean") {
      throw invalidInput(
        `a signature answer needs msg.topic = "signature" and msg.payload = {paymentId: "<id from the question>", accepted: true or false}; got ${describe(p)}`,
      );
    }
    const client = await this.client();
    // The question may be held by a drain-only connection (this node's connection changed identity).
    if (!client.answerSignature(paymentId, accepted) && !this.runtime?.answerSignatureElsewhere(paymentId, accepted)) {
      throw new FlowError("NO_QUESTION", `no open signature question for payment ${paymentId}: already answered, timed out, or not asked`, paymentId);
    }
    this.activity({ fill: "blue", shape: "ring", text: stepText(NOTIFICATION.PLEASE_WAIT, this.t) });
    done();
  }

  private heldMessages(): HeldMessages {
    if (!this.runtime) throw new FlowError("CONFIG", "no Dojo connection (pac-config) is selected in this node");
    return this.runtime.held;
  }

  // ---- this node's claim ----------------------------------------------------------------------------

  private notification(e: NotificationEvent): void {
    if (this.closed) return;
    const text = stepText(e.notification, this.t);
    if (this.wired(2))
      this.node.send([
        null,
        null,
        {
          topic: "notification",
          paymentId: e.paymentId,
          // Dojo takes CancelPayment only while the latest step is PRESENT_CARD: a till's Cancel button follows this.
          payload: {
            paymentId: e.paymentId,
            terminalId: e.terminalId,
            notification: e.notification,
            text,
            cancellable: e.notification === NOTIFICATION.PRESENT_CARD,
          },
        },
      ]);
    this.activity({ fill: "blue", shape: "dot", text });
  }

  private signature(q: SignatureQuestion): void {
    if (this.closed) return;
    this.node.send([
      null,
      null,
      {
        topic: "signature",
        paymentId: q.paymentId,
        payload: { paymentId: q.paymentId, terminalId: q.terminalId, receiptLines: q.receiptLines, timeout: q.timeout, cancellable: false },
      },
    ]);
    this.activity({ fill: "yellow", shape: "dot", text: this.t("status.state.signature") });
  }

  /** Send the outcome (the outbox journals the hand-over): the original msg, or one rebuilt from ctx. */
  private outcome(o: PaymentOutcome): HandOver {
    if (this.closed || !this.runtime) return "gone";
    const held = this.runtime.held;
    const w = held.get(this.id, o.paymentId);
    const msg: NodeMessage = w ? w.msg : msgFromCtx(o.ctx);
    const payload: Record<string, unknown> = {
      paymentId: o.paymentId,
      terminalId: o.terminalId,
      status: o.status,
      amount: o.amount,
      currency: o.currency,
    };
    if (this.kind === "payment" && o.captureMode !== undefined) payload.captureMode = o.captureMode;
    if (o.authCode !== undefined) payload.authCode = o.authCode;
    if (o.card !== undefined) payload.card = o.card;
    if (o.record !== undefined) payload.record = o.record;
    if (o.notCreated) payload.notCreated = true;
    msg.paymentId = o.paymentId;
    msg.payload = payload;
    if (o.redelivered) msg.redelivered = true;
    this.node.send(o.successful ? [msg, null, null] : [null, msg, null]);
    held.take(this.id, o.paymentId);
    this.activity(resultStatus(o, this.t));
    w?.done?.();
    return "taken";
  }

  protected override onClose(removed: boolean): void {
    const held = this.runtime?.held;
    if (!held) return;
    // The msgs keep waiting for a new instance of this node; Complete nodes see them finished here
    // so nothing leaks. A removed node has no successor: its results go to pac-events as orphans.
    held.releaseInstance(this.id, this);
    if (removed) held.dropOwner(this.id);
  }
}

/** Register pac-payment or pac-refund. */
export function registerTransactionType(RED: NodeAPI, kind: TransactionKind): void {
  userNodeType<TransactionDef>(RED, `pac-${kind}`, (node, def) => new TransactionNode(RED, node, def, kind));
}
