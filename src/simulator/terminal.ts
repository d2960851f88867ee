/**
 * One virtual terminal: a state machine driving one transaction at a time through its steps. In
 * automatic mode the scenario picks each action; in manual mode `act` does. The first notification
 * of an action is sent synchronously, so the step and `lastNotification` always change together
 * (CancelPayment's precondition depends on that).
 */
import { CAPTURE_MODE, ENTRY_MODE, NOTIFICATION, PAYMENT_STATUS, TERMINAL_STATUS, VERIFICATION } from "../protocol";
import type { NotificationValue, TerminalStatus } from "../protocol";
import { SCENARIOS, TERMINAL_MAX_AMOUNT, TEST_CARDS, newAuthCode } from "./scenarios";
import type { Scenario } from "./scenarios";
import { noop } from "./timers";
import type { Cancel } from "./timers";
import type { SimPayment, SimTerminalAction, SimTerminalSnapshot, SimTerminalStep } from "./types";

export type SignatureOutcome = "accepted" | "declined" | "timeout";

/** The side effects a terminal needs from the simulator. */
export interface TerminalHost {
  notify(payment: SimPayment, value: NotificationValue): void;
  requestSignature(payment: SimPayment): Promise<SignatureOutcome>;
  /** TRANSACTION_FINISHED was sent: record the outcome. */
  finished(payment: SimPayment): void;
  changed(terminal: VirtualTerminal): void;
  pace(): Promise<void>;
  after(ms: number, fn: () => void): Cancel;
  failed(err: unknown): void;
  readonly presentCardTimeoutMs: number;
}

/** What needs a card read, so an offline terminal cannot do it. */
const CARD_ACTIONS: ReadonlySet<SimTerminalAction> = new Set<SimTerminalAction>(["present", "insert", "enterPin"]);

const VALID_ACTIONS: Readonly<Record<SimTerminalStep, readonly SimTerminalAction[]>> = {
  idle: [],
  starting: [],
  presentCard: ["present", "insert", "decline", "fail"],
  pinEntry: ["enterPin", "decline", "fail"],
  authorising: ["approve", "decline", "requestSignature", "fail"],
  signature: [],
  removeCard: ["removeCard"],
  processing: [],
};

type Outcome = "approved" | "declined" | "failed";

export class SimActionError extends Error {
  constructor(
    readonly terminalId: string,
    readonly action: string,
    readonly step: SimTerminalStep,
    readonly allowed: readonly SimTerminalAction[],
    detail?: string,
  ) {
    super(
      detail ?? `terminal ${terminalId}: action "${action}" is not valid at step "${step}"` + ` (valid now: ${allowed.length ? allowed.join(", ") : "none"})`,
    );
    this.name = "SimActionError";
  }
}

export class VirtualTerminal {
  private online = true;
  private stepNow: SimTerminalStep = "idle";
  private current?: SimPayment;
  private last?: SimPayment;
  private scenario: Scenario = SCENARIOS.approve;
  private cardInserted = false;
  /** The terminal's transaction sequence number (§7a transactionNumber). */
  private sequence = 0;
  /** Bumped at every step change: a scheduled automatic action only runs if it is still current. */
  private driveToken = 0;
  private cancelTimeout: Cancel = noop;

  constructor(
    readonly accountName: string,
    readonly id: string,
    private manual: boolean,
    private readonly host: TerminalHost,
  ) {}

  get payment(): SimPayment | undefined {
    return this.current;
  }

  get step(): SimTerminalStep {
    return this.stepNow;
  }

  get isOnline(): boolean {
    return this.online;
  }

  get status(): TerminalStatus {
    if (!this.online) return TERMINAL_STATUS.OFFLINE;
    return this.current ? TERMINAL_STATUS.BUSY : TERMINAL_STATUS.AVAILABLE;
  }

  snapshot(): SimTerminalSnapshot {
    const p = this.current ?? this.last;
    return {
      accountName: this.accountName,
      terminalId: this.id,
      tid: this.id,
      status: this.status,
      online: this.online,
      manual: this.manual,
      step: this.stepNow,
      allowedActions: this.current ? [...this.allowedNow()] : [],
      ...(p
        ? {
            paymentId: p.paymentId,
            kind: p.kind,
            amount: p.baseAmount,
            currency: p.currency,
            lastNotification: p.lastNotification,
            result: p.status,
            ...(p.signature ? { signature: p.signature } : {}),
          }
        : {}),
    };
  }

  setOnline(online: boolean): void {
    this.online = online;
    this.host.changed(this);
    // Back online, the automatic customer carries on; offline, a scheduled tap must not happen.
    this.stopDriving();
    this.drive();
  }

  /** The actions possible now: offline, the terminal cannot reach the bank and takes no card. */
  private allowedNow(): readonly SimTerminalAction[] {
    const all = VALID_ACTIONS[this.stepNow];
    return this.online ? all : all.filter((a) => !CARD_ACTIONS.has(a));
  }

  setManual(manual: boolean): void {
    this.manual = manual;
    this.stopDriving();
    this.drive();
    this.host.changed(this);
  }

  /** Take the terminal for a newly acknowledged transaction (it is BUSY from now on). */
  reserve(payment: SimPayment, scenario: Scenario): void {
    this.current = payment;
    this.scenario = scenario;
    this.cardInserted = false;
    this.stepNow = "starting";
    this.host.changed(this);
  }

  /** Begin the transaction: called once its ack has been sent. */
  start(): void {
    const p = this.current;
    if (!p || this.stepNow !== "starting") return;
    this.run(async () => {
      await this.host.pace();
      p.status = PAYMENT_STATUS.IN_PROGRESS;
      this.emit(p, NOTIFICATION.PRESENT_CARD);
      this.wait("presentCard");
    });
  }

  /** Perform an action; resolves once the terminal waits again (or is done). */
  act(action: SimTerminalAction): Promise<void> {
    const p = this.current;
    if (!p) {
      return Promise.reject(new SimActionError(this.id, action, this.stepNow, [], `terminal ${this.id} has no transaction in progress`));
    }
    const allowed = this.allowedNow();
    if (!allowed.includes(action)) {
      return Promise.reject(new SimActionError(this.id, action, this.stepNow, allowed));
    }
    return this.perform(p, action);
  }

  /** CancelPayment's precondition: claims the transaction if its last notification is PRESENT_CARD. */
  beginCancel(payment: SimPayment): boolean {
    if (this.current !== payment || this.stepNow !== "presentCard") return false;
    if (payment.lastNotification !== NOTIFICATION.PRESENT_CARD) return false;
    this.hold();
    return true;
  }

  /** Called once the CancelPayment response has been sent. */
  completeCancel(payment: SimPayment): void {
    this.run(async () => {
      this.emit(payment, NOTIFICATION.CANCELLING);
      await this.host.pace();
      payment.status = PAYMENT_STATUS.CANCELLED;
      this.finish(payment);
    });
  }

  // ---- steps ----

  private async perform(p: SimPayment, action: SimTerminalAction): Promise<void> {
    this.hold();
    switch (action) {
      case "present":
        // UK contactless below the limit: no cardholder verification.
        p.card = { ...TEST_CARDS.contactless, entryMode: ENTRY_MODE.CONTACTLESS, verification: VERIFICATION.NONE };
        this.emit(p, NOTIFICATION.PLEASE_WAIT);
        return this.wait("authorising");
      case "insert":
        p.card = { ...TEST_CARDS.chip, entryMode: ENTRY_MODE.ICC_CHIP, verification: VERIFICATION.UNKNOWN };
        this.cardInserted = true;
        this.emit(p, NOTIFICATION.INSERT_CARD);
        await this.host.pace();
        this.emit(p, NOTIFICATION.PIN_ENTRY);
        return this.wait("pinEntry");
      case "enterPin":
        if (p.card) p.card = { ...p.card, verification: VERIFICATION.PIN };
        this.emit(p, NOTIFICATION.PLEASE_WAIT);
        return this.wait("authorising");
      case "approve":
        return this.conclude(p, "approved");
      case "decline":
        return this.conclude(p, "declined");
      case "fail":
        return this.conclude(p, "failed");
      case "requestSignature":
        return this.signature(p);
      case "removeCard":
        return this.finish(p);
    }
  }

  private async signature(p: SimPayment): Promise<void> {
    // Kept on the payment: a till that answers at once leaves the "signature" step within
    // milliseconds, and the screen must still say that it was asked and what the answer was.
    p.signature = "asked";
    if (p.card) p.card = { ...p.card, verification: VERIFICATION.SIGNATURE };
    this.emit(p, NOTIFICATION.SIGNATURE_VERIFICATION);
    this.stepNow = "signature";
    this.host.changed(this);
    const outcome = await this.host.requestSignature(p);
    p.signature = outcome;
    this.stepNow = "processing";
    if (outcome === "timeout") {
      this.emit(p, NOTIFICATION.SIGNATURE_VERIFICATION_TIMEOUT);
      await this.host.pace();
    }
    this.emit(p, NOTIFICATION.SIGNATURE_VERIFICATION_PROCESS_COMPLETED);
    await this.host.pace();
    // No answer within the timeout counts as accepted (contract §4).
    return this.conclude(p, outcome === "declined" ? "declined" : "approved");
  }

  private async conclude(p: SimPayment, wanted: Outcome): Promise<void> {
    const total = p.baseAmount + (p.tipsAmount ?? 0) + (p.cashbackAmount ?? 0);
    const outcome: Outcome = wanted === "approved" && total > TERMINAL_MAX_AMOUNT ? "declined" : wanted;
    if (outcome === "approved") {
      approve(p);
      this.emit(p, NOTIFICATION.APPROVED);
    } else if (outcome === "declined") {
      p.status = PAYMENT_STATUS.DECLINED;
      this.emit(p, NOTIFICATION.DECLINED);
    } else {
      p.status = PAYMENT_STATUS.FAILED;
      this.emit(p, NOTIFICATION.PROCESSING_ERROR);
    }
    await this.host.pace();
    if (!this.cardInserted) return this.finish(p);
    this.emit(p, NOTIFICATION.REMOVE_CARD);
    this.wait("removeCard");
  }

  /** Scenario "03": nobody presented a card in time. */
  private async expire(p: SimPayment): Promise<void> {
    this.hold();
    p.status = PAYMENT_STATUS.DECLINED;
    this.emit(p, NOTIFICATION.DECLINED);
    await this.host.pace();
    this.finish(p);
  }

  private finish(p: SimPayment): void {
    p.transactionNumber = String(++this.sequence).padStart(6, "0");
    p.transactionTime = new Date().toISOString();
    this.emit(p, NOTIFICATION.TRANSACTION_FINISHED);
    this.last = p;
    this.current = undefined;
    this.cardInserted = false;
    this.stepNow = "idle";
    this.stopDriving();
    this.host.finished(p);
    this.host.changed(this);
  }

  // ---- plumbing ----

  private emit(p: SimPayment, value: NotificationValue): void {
    p.lastNotification = value;
    this.host.notify(p, value);
    this.host.changed(this);
  }

  /** Between the notifications of one action no other action is accepted. */
  private hold(): void {
    this.stepNow = "processing";
    this.stopDriving();
  }

  private wait(step: SimTerminalStep): void {
    this.stepNow = step;
    this.host.changed(this);
    this.drive();
  }

  private stopDriving(): void {
    this.driveToken++;
    this.cancelTimeout();
    this.cancelTimeout = noop;
  }

  /** Automatic mode: schedule the scenario's action for the current step, or the present-card timeout. */
  private drive(): void {
    const p = this.current;
    if (this.manual || !p) return;
    const token = ++this.driveToken;
    const action = this.scenario.next[this.stepNow];
    if (action && this.allowedNow().includes(action)) {
      this.run(async () => {
        await this.host.pace();
        if (token === this.driveToken && this.current === p) await this.perform(p, action);
      });
    } else if (this.stepNow === "presentCard") {
      this.cancelTimeout = this.host.after(this.host.presentCardTimeoutMs, () => {
        if (token === this.driveToken && this.current === p) this.run(() => this.expire(p));
      });
    }
  }

  private run(script: () => Promise<void>): void {
    script().catch((err: unknown) => this.host.failed(err));
  }
}

function approve(p: SimPayment): void {
  const held = p.kind === "payment" && p.captureMode === CAPTURE_MODE.MANUAL;
  p.status = p.kind === "refund" ? PAYMENT_STATUS.REFUNDED : held ? PAYMENT_STATUS.AUTHORIZED : PAYMENT_STATUS.CAPTURED;
  p.authorizedAmount = p.baseAmount;
  p.capturedAmount = held ? 0 : p.baseAmount;
  p.authCode = newAuthCode();
}
