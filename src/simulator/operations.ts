/** The EPOS → Dojo operations (contract §4): preconditions, error codes and results. */
import { CAPTURE_MODE, FIELD, METHOD, PAYMENT_STATUS, isKnownMethod } from "../protocol";
import type { AmountResult, CancelResult, ConnectedTerminalsResult, CreateAck, JsonObject, MethodName, PaymentState, TerminalInfo } from "../protocol";
import { scenarioFor } from "./scenarios";
import type { Account } from "./store";
import type { VirtualTerminal } from "./terminal";
import type { SimPayment, SimTransactionKind } from "./types";
import { Rejection, amount, captureMode, checkRequired, checkUnknown, currency, reject, text } from "./validation";
import type { Failure } from "./validation";

export interface RequestContext {
  account: Account;
  eposId: string;
}

/** A handled request: its result plus work to do once the response is out (or dropped/omitted). */
export type Outcome = { ok: true; method: MethodName; result: object; after?: () => void } | { ok: false; failure: Failure };

type Done = { result: object; after?: () => void };
type Handler = (ctx: RequestContext, params: JsonObject) => Done;

export class Operations {
  private readonly handlers: Readonly<Partial<Record<MethodName, Handler>>> = {
    [METHOD.createPayment]: (ctx, p) => this.create(ctx, p, "payment"),
    [METHOD.createRefund]: (ctx, p) => this.create(ctx, p, "refund"),
    [METHOD.capturePayment]: (ctx, p) => this.capture(ctx, p),
    [METHOD.updatePayment]: (ctx, p) => this.update(ctx, p),
    [METHOD.cancelPayment]: (ctx, p) => this.cancel(ctx, p),
    [METHOD.getPayment]: (ctx, p) => ({ result: paymentState(findPayment(ctx.account, p)) }),
    [METHOD.connectedTerminals]: (ctx) => ({ result: connectedTerminals(ctx.account) }),
    [METHOD.terminalDetails]: (ctx, p) => ({ result: terminalInfo(knownTerminal(ctx.account, text(p, FIELD.terminalId))) }),
  };

  constructor(private readonly strict: boolean) {}

  handle(ctx: RequestContext, method: string, raw: JsonObject): Outcome {
    const handler = isKnownMethod(method) ? this.handlers[method] : undefined;
    if (!isKnownMethod(method) || !handler) {
      return { ok: false, failure: { error: "METHOD_NOT_FOUND", userMessage: `Dojo does not offer the operation "${method}"` } };
    }
    try {
      const params = this.strict ? raw : withTerminalId(raw);
      const problem = (this.strict ? checkUnknown(method, params) : undefined) ?? checkRequired(method, params);
      if (problem) return { ok: false, failure: problem };
      return { ok: true, method, ...handler(ctx, params) };
    } catch (e) {
      if (e instanceof Rejection) return { ok: false, failure: e.failure };
      throw e;
    }
  }

  private create(ctx: RequestContext, p: JsonObject, kind: SimTransactionKind): Done {
    const { account } = ctx;
    const paymentId = text(p, FIELD.paymentId);
    const terminalId = text(p, FIELD.terminalId);
    // Refunds have no capture mode on the wire; they settle at once, like a sale.
    const mode = kind === "refund" ? CAPTURE_MODE.AUTO : captureMode(p, FIELD.captureMode);
    const baseAmount = amount(p, FIELD.baseAmount);
    const extras = kind === "payment";
    const tipsAmount = extras ? amount(p, FIELD.tipsAmount, { optional: true, allowZero: true }) : 0;
    const cashbackAmount = extras ? amount(p, FIELD.cashbackAmount, { optional: true, allowZero: true }) : 0;
    const cur = currency(p, FIELD.currency);
    if (account.payments.has(paymentId)) {
      reject("DUPLICATE_PAYMENT_ID", `Payment ${paymentId} was already used: each transaction needs a new paymentId`, {
        [FIELD.paymentId]: paymentId,
      });
    }
    const terminal = readyTerminal(account, terminalId);
    const payment: SimPayment = {
      accountName: account.credentials.accountName,
      eposId: ctx.eposId,
      kind,
      paymentId,
      terminalId,
      captureMode: mode,
      baseAmount,
      tipsAmount,
      cashbackAmount,
      currency: cur,
      status: PAYMENT_STATUS.PENDING,
      authorizedAmount: 0,
      capturedAmount: 0,
      attemptedAt: new Date().toISOString(),
    };
    account.payments.set(paymentId, payment);
    terminal.reserve(payment, scenarioFor(baseAmount));
    const ack: CreateAck = { paymentId, terminalId };
    return { result: ack, after: () => terminal.start() };
  }

  private capture(ctx: RequestContext, p: JsonObject): Done {
    const payment = findPayment(ctx.account, p);
    const value = amount(p, FIELD.baseAmount);
    requireHeld(payment, "captured");
    if (value > payment.authorizedAmount) {
      reject("INVALID_AMOUNT", `Cannot capture ${value}: only ${payment.authorizedAmount} is authorised`, {
        [FIELD.field]: FIELD.baseAmount,
      });
    }
    payment.status = PAYMENT_STATUS.CAPTURED;
    payment.capturedAmount = value; // a partial capture releases the rest
    return { result: amountResult(payment.paymentId, value) };
  }

  private update(ctx: RequestContext, p: JsonObject): Done {
    const payment = findPayment(ctx.account, p);
    const value = amount(p, FIELD.baseAmount);
    requireHeld(payment, "updated");
    payment.baseAmount = value;
    payment.authorizedAmount = value;
    return { result: amountResult(payment.paymentId, value) };
  }

  private cancel(ctx: RequestContext, p: JsonObject): Done {
    const payment = findPayment(ctx.account, p);
    const terminalId = text(p, FIELD.terminalId);
    const terminal = knownTerminal(ctx.account, terminalId);
    if (terminalId !== payment.terminalId) {
      reject("INVALID_PARAMS", `Payment ${payment.paymentId} is on terminal ${payment.terminalId}, not ${terminalId}`, {
        [FIELD.terminalId]: terminalId,
      });
    }
    const result: CancelResult = { paymentId: payment.paymentId, terminalId, tid: terminalId };
    if (isHeld(payment)) {
      // [M] cancelling an open pre-auth releases the hold.
      payment.status = PAYMENT_STATUS.REVERSED;
      payment.authorizedAmount = 0;
      return { result };
    }
    if (!terminal.beginCancel(payment)) {
      reject(
        "INVALID_STATE",
        `Payment ${payment.paymentId} can no longer be cancelled from the till` + ` (last terminal message: ${payment.lastNotification ?? "none yet"})`,
        { [FIELD.paymentId]: payment.paymentId },
      );
    }
    return { result, after: () => terminal.completeCancel(payment) };
  }
}

// ---- helpers ----

/** Dojo still accepts `tid` for `terminalId` (contract §3); strict mode does not. */
function withTerminalId(p: JsonObject): JsonObject {
  return p[FIELD.terminalId] === undefined && p[FIELD.tid] !== undefined ? { ...p, [FIELD.terminalId]: p[FIELD.tid] } : p;
}

function findPayment(account: Account, p: JsonObject): SimPayment {
  const paymentId = text(p, FIELD.paymentId);
  const payment = account.payments.get(paymentId);
  if (!payment) {
    reject("PAYMENT_NOT_FOUND", `No payment ${paymentId} on this account`, { [FIELD.paymentId]: paymentId });
  }
  return payment;
}

function isHeld(p: SimPayment): boolean {
  return p.kind === "payment" && p.captureMode === CAPTURE_MODE.MANUAL && p.status === PAYMENT_STATUS.AUTHORIZED;
}

function requireHeld(p: SimPayment, verb: string): void {
  if (isHeld(p)) return;
  const why = p.kind === "refund" || p.captureMode !== CAPTURE_MODE.MANUAL ? "it is not a pre-authorisation" : `its status is ${p.status}`;
  reject("INVALID_STATE", `Payment ${p.paymentId} cannot be ${verb}: ${why}`, { [FIELD.paymentId]: p.paymentId });
}

function knownTerminal(account: Account, terminalId: string): VirtualTerminal {
  const terminal = account.terminals.get(terminalId);
  if (!terminal) {
    reject("INVALID_PARAMS", `Terminal ${terminalId} is not known on this account: check the terminal id`, {
      [FIELD.terminalId]: terminalId,
    });
  }
  return terminal;
}

function readyTerminal(account: Account, terminalId: string): VirtualTerminal {
  const terminal = knownTerminal(account, terminalId);
  if (!terminal.isOnline) {
    reject("TERMINAL_OFFLINE", `Terminal ${terminalId} is offline: check it is switched on and connected`, {
      [FIELD.terminalId]: terminalId,
    });
  }
  if (terminal.payment) {
    reject("TERMINAL_BUSY", `Terminal ${terminalId} is busy with another transaction`, { [FIELD.terminalId]: terminalId });
  }
  return terminal;
}

function amountResult(paymentId: string, baseAmount: number): AmountResult {
  return { paymentId, baseAmount };
}

function connectedTerminals(account: Account): ConnectedTerminalsResult {
  return { terminals: [...account.terminals.values()].map(terminalInfo) };
}

function terminalInfo(t: VirtualTerminal): TerminalInfo {
  return { terminalId: t.id, tid: t.id, status: t.status };
}

/** The GetPayment result (contract §6); also behind `PacSimulator.payment()`. */
export function paymentState(p: SimPayment): PaymentState {
  return {
    paymentId: p.paymentId,
    terminalId: p.terminalId,
    captureMode: p.captureMode,
    status: p.status,
    baseAmount: p.baseAmount,
    authorizedAmount: p.authorizedAmount,
    capturedAmount: p.capturedAmount,
    currency: p.currency,
    lastNotification: p.lastNotification,
  };
}
