/**
 * PacSimulator: the Dojo side of the PAC contract, assembled from its parts (settings, server,
 * dispatcher, operations, terminals, records, faults) and exposing the programmatic API tests and tools use.
 */
import { EventEmitter } from "events";
import { FIELD, METHOD, PAC_PATH, encodeRequest } from "../protocol";
import type { NotificationValue, PaymentState, RecordParams, SignatureVerificationParams, TerminalNotificationParams } from "../protocol";
import { Dispatcher } from "./dispatcher";
import { driftFrame } from "./drift";
import { SimulatorFaults } from "./faults";
import { Operations, paymentState } from "./operations";
import { OutboundRequests } from "./outbound";
import { RecordQueue, recordOf } from "./records";
import type { PendingRecord } from "./records";
import { SlipTray } from "./printer";
import { emptyStats } from "./stats";
import { receiptLines } from "./scenarios";
import { PacServer } from "./server";
import type { Connection } from "./server";
import { simulatorSettings } from "./settings";
import { AccountStore, eposKey, makeCredentials, terminalIds } from "./store";
import type { Account } from "./store";
import { VirtualTerminal } from "./terminal";
import type { SignatureOutcome, TerminalHost } from "./terminal";
import { Scheduler } from "./timers";
import { createVirtualTerminalHandler } from "./vt/handler";
import type { VirtualTerminalHandler } from "./vt/handler";
import type { VtHost } from "./vt/host";
import type {
  SimConnectionInfo,
  SimCredentials,
  SimPayment,
  SimPrintedSlip,
  SimSlipInput,
  SimTerminalAction,
  SimTerminalSnapshot,
  SimulatorEventMap,
  SimulatorOptions,
  SimulatorStats,
} from "./types";

export class PacSimulator extends EventEmitter<SimulatorEventMap> implements VtHost {
  /** Start a simulator and wait until it listens. */
  static async start(options: SimulatorOptions = {}): Promise<PacSimulator> {
    const sim = new PacSimulator(options);
    try {
      await sim.server.listen();
    } catch (err) {
      await sim.stop();
      throw err;
    }
    return sim;
  }

  /** Credentials of the first account. */
  readonly credentials: SimCredentials;
  /** Live counters (see SimulatorStats). */
  readonly stats: SimulatorStats = emptyStats();
  /** Fault injection (see SimFaultConfig). */
  readonly faults: SimulatorFaults;
  readonly host: string;

  private readonly scheduler: Scheduler;
  private readonly accountStore = new AccountStore();
  private readonly outbound = new OutboundRequests();
  private readonly records: RecordQueue;
  private readonly dispatcher: Dispatcher;
  private readonly server: PacServer;
  private readonly signatureTimeoutMs: number;
  private readonly vt?: VirtualTerminalHandler;
  private readonly tray = new SlipTray(
    (account, id) => this.accountStore.all().some((a) => a.credentials.accountName === account && a.terminals.has(id)),
    (slip) => this.emit("slip", slip),
  );
  private stopping?: Promise<void>;
  private suspended = false;
  private lifecycle: Promise<void> = Promise.resolve();

  private constructor(options: SimulatorOptions) {
    super();
    const settings = simulatorSettings(options);
    this.host = settings.host;
    this.scheduler = new Scheduler(settings.stepMs);
    this.faults = new SimulatorFaults(options.faults);
    this.signatureTimeoutMs = settings.signatureTimeoutMs;
    const terminalHost = this.terminalHost(settings.presentCardTimeoutMs);

    const accounts = [...(options.accounts ?? [{}])];
    if (accounts.length === 0) accounts.push({});
    if (options.credentials) accounts[0] = { ...accounts[0], ...options.credentials };
    for (const a of accounts) {
      const creds = makeCredentials(a);
      const ids = terminalIds(a.terminals ?? settings.terminals);
      const terminals = ids.map((id) => new VirtualTerminal(creds.accountName, id, options.manual === true, terminalHost));
      this.accountStore.add(creds, terminals);
    }
    this.credentials = { ...this.accountStore.get().credentials };

    this.records = new RecordQueue({
      outbound: this.outbound,
      faults: this.faults,
      retryMs: settings.recordRetryMs,
      send: (key, text) => this.server.sendTo(key, text),
      drop: (key) => this.dropKey(key),
      after: (ms, fn) => this.scheduler.after(ms, fn),
      sent: (r) => this.recordEvent("recordSent", r),
      acked: (r) => this.recordEvent("recordAcked", r),
    });
    this.dispatcher = new Dispatcher({
      operations: new Operations(options.strict === true),
      outbound: this.outbound,
      faults: this.faults,
      scheduler: this.scheduler,
      stats: this.stats,
      maxFrameBytes: settings.maxFrameBytes,
      send: (conn, text) => this.server.send(conn, text),
      drop: (conn) => this.server.drop(conn),
      failed: (err) => this.internalError(err),
    });
    if (options.virtualTerminal !== false) this.vt = createVirtualTerminalHandler(this, { basePath: "/" });
    this.server = new PacServer({
      host: this.host,
      request: this.vt,
      port: settings.port,
      maxPayload: settings.maxPayload,
      pingIntervalMs: settings.pingIntervalMs,
      ...(settings.drift.size > 0 ? { transform: (text: string) => driftFrame(text, settings.drift) } : {}),
      accounts: this.accountStore,
      faults: this.faults,
      scheduler: this.scheduler,
      hooks: {
        attempted: () => void this.stats.connectionAttempts++,
        rejected: (r) => {
          this.stats.handshakesRejected[r.status] = (this.stats.handshakesRejected[r.status] ?? 0) + 1;
          this.emit("handshakeRejected", r);
        },
        opened: (conn) => this.opened(conn),
        message: (conn, data) => {
          if (this.listenerCount("frameIn") > 0) this.emit("frameIn", { ...frameOwner(conn), text: data.toString("utf8") });
          this.dispatcher.handle(conn, data);
        },
        closed: (conn, code, reason) => {
          if (conn.displaced) this.stats.displaced++;
          this.emit("disconnection", { ...conn.info, code, reason, displaced: conn.displaced });
        },
        sent: (conn, text) => {
          if (this.listenerCount("frameOut") > 0) this.emit("frameOut", { ...frameOwner(conn), text });
        },
      },
    });
  }

  get port(): number {
    return this.server.port;
  }

  /** ws://HOST:PORT/ws/v2/pac/epos */
  get url(): string {
    return `ws://${this.urlHost}:${this.port}${PAC_PATH}`;
  }

  /** http://HOST:PORT/ : the virtual terminal page (undefined with `virtualTerminal: false`). */
  get virtualTerminalUrl(): string | undefined {
    return this.vt ? `http://${this.urlHost}:${this.port}/` : undefined;
  }

  /** The host for this machine's URLs: loopback for a wildcard bind (nobody connects to 0.0.0.0). */
  private get urlHost(): string {
    const host = this.host === "0.0.0.0" ? "127.0.0.1" : this.host === "::" ? "::1" : this.host;
    return host.includes(":") ? `[${host}]` : host;
  }

  get isSuspended(): boolean {
    return this.suspended;
  }

  /** stop() has been called. */
  get isStopped(): boolean {
    return this.stopping !== undefined;
  }

  /** Every account's credentials (the first is `credentials`). */
  accounts(): SimCredentials[] {
    return this.accountStore.all().map((a) => ({ ...a.credentials }));
  }

  /** Close every socket, timer and the listener. Idempotent; resolves when all is closed. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.emit("stopping");
      this.scheduler.close();
      await this.server.close();
    })();
    return this.stopping;
  }

  /** Take "Dojo" down: stop listening and drop every socket, keeping all state (terminals run on). */
  async suspend(): Promise<void> {
    this.assertRunning();
    return this.inTurn(async () => {
      this.suspended = true;
      await this.server.shutdown();
    });
  }

  /** Listen again on the same port. */
  async resume(): Promise<void> {
    this.assertRunning();
    return this.inTurn(async () => {
      if (!this.suspended) return;
      await this.server.listen();
      this.suspended = false;
    });
  }

  /** suspend() and resume() run one after the other: two resumes at once must not listen twice. */
  private inTurn(step: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(step);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  // ---- terminals ----

  /** Drive a terminal (manual mode, or to pre-empt the scenario). Rejects with SimActionError when not valid now. */
  async act(terminalId: string, action: SimTerminalAction, accountName?: string): Promise<SimTerminalSnapshot> {
    const terminal = this.terminal(terminalId, accountName);
    await terminal.act(action);
    return terminal.snapshot();
  }

  setManual(terminalId: string, manual: boolean, accountName?: string): SimTerminalSnapshot {
    const terminal = this.terminal(terminalId, accountName);
    terminal.setManual(manual);
    return terminal.snapshot();
  }

  /** Offline terminals refuse new transactions with TERMINAL_OFFLINE; a running one carries on. */
  setOnline(terminalId: string, online: boolean, accountName?: string): SimTerminalSnapshot {
    const terminal = this.terminal(terminalId, accountName);
    terminal.setOnline(online);
    return terminal.snapshot();
  }

  /** Snapshots of one account's terminals, or of every account's. */
  terminals(accountName?: string): SimTerminalSnapshot[] {
    const accounts = accountName === undefined ? this.accountStore.all() : [this.accountStore.get(accountName)];
    return accounts.flatMap((a) => [...a.terminals.values()].map((t) => t.snapshot()));
  }

  /** Print a slip on a terminal's virtual receipt printer (printer.ts); undefined: no such terminal. */
  printSlip(input: SimSlipInput, accountName?: string): SimPrintedSlip | undefined {
    return this.isStopped ? undefined : this.tray.add(accountName ?? this.credentials.accountName, input);
  }

  slips(): SimPrintedSlip[] {
    return this.tray.all();
  }

  // ---- connections, payments, records ----

  /** epos-ids currently connected (all accounts). */
  connections(): string[] {
    return this.server.connections().map((c) => c.info.eposId);
  }

  connectionDetails(): SimConnectionInfo[] {
    return this.server.connections().map((c) => ({ ...c.info }));
  }

  /** A payment's state as GetPayment would return it. */
  payment(paymentId: string, accountName?: string): PaymentState | undefined {
    const p = this.accountStore.get(accountName).payments.get(paymentId);
    return p && paymentState(p);
  }

  /** Records not yet acknowledged by an epos-id. */
  pendingRecords(eposId: string, accountName?: string): RecordParams[] {
    const account = this.accountStore.get(accountName);
    return this.records.pending(eposKey(account.credentials.accountName, eposId)).map((r) => r.params);
  }

  /** Fault injection: send bytes as they are (malformed JSON, oversized frame…) to a connected epos. */
  sendRaw(eposId: string, data: string | Buffer, accountName?: string): boolean {
    const account = this.accountStore.get(accountName);
    return this.server.sendRaw(eposKey(account.credentials.accountName, eposId), data);
  }

  resetStats(): void {
    Object.assign(this.stats, emptyStats());
  }

  // ---- internals ----

  private terminal(terminalId: string, accountName?: string): VirtualTerminal {
    const account: Account = this.accountStore.get(accountName);
    const terminal = account.terminals.get(terminalId);
    if (!terminal) throw new Error(`unknown terminal "${terminalId}" on account "${account.credentials.accountName}"`);
    return terminal;
  }

  private assertRunning(): void {
    if (this.stopping) throw new Error("the simulator has been stopped");
  }

  private opened(conn: Connection): void {
    this.stats.connectionsOpened++;
    if (this.server.current(conn.key) !== conn) return;
    this.emit("connection", { ...conn.info });
    this.records.connected(conn.key);
  }

  private dropKey(key: string): void {
    const conn = this.server.current(key);
    if (conn) this.server.drop(conn);
  }

  private recordEvent(event: "recordSent" | "recordAcked", r: PendingRecord): void {
    if (event === "recordSent") this.stats.recordsSent++;
    else this.stats.recordsAcked++;
    if (this.listenerCount(event) === 0) return;
    const [accountName, eposId] = r.key.split("\u0000");
    this.emit(event, { accountName, eposId, paymentId: r.params.paymentId, method: r.method });
  }

  private internalError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount("internalError") > 0) this.emit("internalError", error);
    else console.error("[dojo-pac-simulator] internal error:", error);
  }

  /** What the virtual terminals may do to the outside world. */
  private terminalHost(presentCardTimeoutMs: number): TerminalHost {
    return {
      presentCardTimeoutMs,
      notify: (p, value) => this.notify(p, value),
      requestSignature: (p) => this.requestSignature(p),
      finished: (p) => {
        const method = p.kind === "refund" ? METHOD.recordRefund : METHOD.recordPayment;
        this.records.enqueue(eposKey(p.accountName, p.eposId), method, recordOf(p));
      },
      changed: (t) => {
        if (this.listenerCount("terminal") > 0) this.emit("terminal", t.snapshot());
      },
      pace: () => this.scheduler.pace(),
      after: (ms, fn) => this.scheduler.after(ms, fn),
      failed: (err) => this.internalError(err),
    };
  }

  /** Notifications go only to the current connection of the epos-id that created the payment. */
  private notify(p: SimPayment, value: NotificationValue): void {
    const conn = this.server.current(eposKey(p.accountName, p.eposId));
    if (!conn) return; // not queued: a reconnecting EPOS catches up with GetPayment
    const params: TerminalNotificationParams = { paymentId: p.paymentId, terminalId: p.terminalId, notificationValue: value };
    const text = encodeRequest(null, METHOD.terminalNotification, params);
    if (this.server.send(conn, text) && this.faults.takeDropAfterNotification(value)) this.server.drop(conn);
  }

  /** Ask the EPOS to check the signature; no answer within the timeout resolves "timeout" (= accepted). */
  private requestSignature(p: SimPayment): Promise<SignatureOutcome> {
    return new Promise((resolve) => {
      const key = eposKey(p.accountName, p.eposId);
      let settled = false;
      const settle = (outcome: SignatureOutcome): void => {
        if (settled) return;
        settled = true;
        cancelTimeout();
        this.outbound.forget(id);
        resolve(outcome);
      };
      // An error reply is not an answer: the timeout still decides.
      const id = this.outbound.register(key, (reply) => {
        if (reply.ok) settle(reply.result[FIELD.accepted] === false ? "declined" : "accepted");
      });
      const cancelTimeout = this.scheduler.after(this.signatureTimeoutMs, () => settle("timeout"));
      const params: SignatureVerificationParams = {
        paymentId: p.paymentId,
        terminalId: p.terminalId,
        timeout: this.signatureTimeoutMs / 1000,
        receiptLines: receiptLines(p),
      };
      const text = encodeRequest(id, METHOD.signatureVerification, params);
      if (this.server.sendTo(key, text) && this.faults.takeDropOnSignatureRequest()) this.dropKey(key);
    });
  }
}

function frameOwner(conn: Connection): { accountName: string; eposId: string } {
  return { accountName: conn.info.accountName, eposId: conn.info.eposId };
}

/** Same as PacSimulator.start. */
export function startSimulator(options?: SimulatorOptions): Promise<PacSimulator> {
  return PacSimulator.start(options);
}
