/**
 * One check run's connection to Dojo: the engine's ManagedConnection and RpcChannel, a redacted
 * trace of every frame, every frame from Dojo compared with the contract (findings counted once per
 * step, operation, path and value), records acknowledged (one held back to time the redelivery)
 * and signature checks answered.
 */
import { isPlainObject } from "../common/json";
import { redactSecrets } from "../common/redact";
import { ManagedConnection } from "../engine/transport/connection";
import type { ConnectionState, StateInfo } from "../engine/transport/connection";
import { RpcChannel } from "../engine/transport/rpc";
import { PacError } from "../engine/errors";
import { CLOSE_DISPLACED, EXPECTED_SIGNATURE_TIMEOUT_S, FIELD, METHOD, encodeResult, readPaymentId, readSignatureRequest } from "../protocol";
import type { EposRequestMethod, Frame, JsonObject, MethodName, RpcErrorInfo } from "../protocol";
import { compareInbound, compareResponse, guessField } from "./compare";
import type { Expectation, Finding } from "./compare";
import { protocolLine } from "./locate";

export interface CheckTarget {
  url: string;
  accountName: string;
  apiKey: string;
  eposId: string;
  softwareHouseId: string;
  resellerId?: string;
  allowInsecure?: boolean;
}

export interface TraceEntry {
  /** ms since the run started */
  t: number;
  dir: "out" | "in" | "event";
  text: string;
}

export interface Deviation extends Finding {
  /** The step where it was first seen. */
  step: string;
  /** How many frames showed it. */
  count: number;
}

export type CallOutcome = { ok: true; result: JsonObject } | { ok: false; error?: RpcErrorInfo; timedOut?: boolean; reason: string };

interface RecordSeen {
  method: string;
  params: JsonObject;
  /** ms since start of each delivery */
  deliveries: number[];
  /** id of the delivery not answered yet (held back) */
  heldId?: number | string;
  acked: boolean;
}

interface Waiter {
  check: () => boolean;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

export class CheckSession {
  readonly trace: TraceEntry[] = [];
  readonly records = new Map<string, RecordSeen>();
  readonly notifications = new Map<string, string[]>();
  readonly signatureRequests = new Map<string, { timeout: number }>();
  step = "connect";
  private readonly started = Date.now();
  private readonly found = new Map<string, Deviation>();
  private readonly responses = new Map<string, JsonObject>();
  private readonly holdFirstRecord = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private readonly extraSecrets: string[];
  private lastOutId: number | string | null = null;
  private readonly conn: ManagedConnection;
  private readonly rpc: RpcChannel;
  private requestTimeoutMs = 15_000;

  constructor(
    private readonly target: CheckTarget,
    private readonly label = "check",
  ) {
    this.conn = this.connection(label);
    this.extraSecrets = [...this.conn.secrets];
    this.rpc = new RpcChannel(this.conn, () => this.requestTimeoutMs);
    this.conn.on("frame", (f) => this.onFrame(f));
    this.conn.on("frame-error", (e) => this.event(`unreadable frame: ${e.message}`));
  }

  /** Connect; resolves with the state reached ("open" or why not) within `ms`. */
  async open(ms: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.conn.off("state", on);
        resolve({ ok: false, reason: `no connection within ${ms / 1000} s (state ${this.conn.state})` });
      }, ms);
      const on = (state: ConnectionState, info: StateInfo): void => {
        if (state === "open") {
          clearTimeout(timer);
          this.conn.off("state", on);
          resolve({ ok: true });
        } else if (state === "auth-failed" || state === "reconnecting") {
          clearTimeout(timer);
          this.conn.off("state", on);
          resolve({ ok: false, reason: info.error?.message ?? info.reason ?? state });
        }
      };
      this.conn.on("state", on);
      this.conn.start();
    });
  }

  close(): Promise<void> {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
    this.waiters.clear();
    return this.conn.close();
  }

  /** Every finding so far, in the order first seen. */
  deviations(): Deviation[] {
    return [...this.found.values()];
  }

  note(findings: readonly Finding[]): void {
    for (const f of findings) {
      const key = [f.operation, f.path, f.kind, f.expected, f.got].join("\u0000");
      const had = this.found.get(key);
      if (had) had.count++;
      else this.found.set(key, { ...f, step: this.step, count: 1 });
    }
  }

  /** Hide these too in the trace and the report (e.g. a key typed at a prompt). */
  redact(text: string): string {
    return redactSecrets(text, this.extraSecrets);
  }

  event(text: string): void {
    this.trace.push({ t: Date.now() - this.started, dir: "event", text: this.redact(text) });
  }

  elapsed(): number {
    return Date.now() - this.started;
  }

  /** The next record of this payment is not answered at first: Dojo must send it again. */
  holdBackFirstRecord(paymentId: string): void {
    this.holdFirstRecord.add(paymentId);
  }

  /** Answer a held-back record now (no redelivery came in time). */
  ackHeld(paymentId: string): void {
    const r = this.records.get(paymentId);
    if (!r || r.heldId === undefined || r.acked) return;
    this.ackRecord(r, r.heldId);
  }

  /** Send one request, compare Dojo's answer with `expect`. */
  async call(method: EposRequestMethod, params: JsonObject, expect: Expectation, timeoutMs: number): Promise<CallOutcome> {
    this.requestTimeoutMs = timeoutMs;
    this.lastOutId = null;
    const pending = this.rpc.request(method, params, readPaymentId(params));
    const id = this.lastOutId;
    try {
      const result = await pending;
      this.compareAnswer(method, id, expect);
      return { ok: true, result };
    } catch (e) {
      if (!(e instanceof PacError)) throw e;
      if (e.code === "REMOTE") {
        this.compareAnswer(method, id, expect);
        return { ok: false, error: e.remote, reason: e.message };
      }
      if (e.code === "TIMEOUT" || e.code === "OUTCOME_UNKNOWN") {
        this.note([
          {
            operation: `${method} response`,
            path: "",
            kind: "no-answer",
            expected: expect.kind === "result" ? "a result" : `error ${expect.name}`,
            got: `no answer within ${timeoutMs / 1000} s`,
            fix: protocolLine("schema", "export const SCHEMA", `the params of ${method}, if Dojo ignores the request`),
          },
        ]);
        return { ok: false, timedOut: true, reason: e.message };
      }
      return { ok: false, reason: e.message };
    }
  }

  /**
   * Free the terminal after a step that did not finish (CancelPayment, answer not compared: what
   * Dojo should say depends on where the terminal got to). In the trace like every frame.
   */
  async tidy(paymentId: string, terminalId: string, timeoutMs: number): Promise<void> {
    this.requestTimeoutMs = timeoutMs;
    this.lastOutId = null;
    const pending = this.rpc.request(METHOD.cancelPayment, { paymentId, terminalId }, paymentId);
    const id = this.lastOutId;
    this.event(`tidying up after the step: CancelPayment ${paymentId} (its answer is not compared)`);
    await pending.catch(() => undefined);
    if (id !== null) this.responses.delete(String(id));
  }

  /** Resolves true once `check()` holds, false after `ms` (or when the session closes). */
  until(check: () => boolean, ms: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: Waiter = {
        check,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(false);
        }, ms),
      };
      this.waiters.add(w);
    });
  }

  /**
   * Open a second connection with the same epos-id and see this one closed: [M] with 4001
   * "duplicate epos-id". Both are closed afterwards.
   */
  async displace(ms: number): Promise<{ code?: number; reason: string }> {
    let seen: { code?: number; reason: string } | undefined;
    const onState = (state: ConnectionState, info: StateInfo): void => {
      if (seen) return;
      if (state === "displaced") seen = { code: CLOSE_DISPLACED.code, reason: info.reason ?? "" };
      else if (state === "reconnecting") {
        const m = /closed \((\d+)\s?(.*)\)/.exec(info.reason ?? "");
        seen = m ? { code: Number(m[1]), reason: m[2] } : { reason: info.reason ?? "closed" };
      }
      this.wake();
    };
    this.conn.on("state", onState);
    const intruder = this.connection(`${this.label}-second`);
    intruder.start();
    await this.until(() => seen !== undefined, ms);
    this.conn.off("state", onState);
    await intruder.close();
    await this.conn.close();
    return seen ?? { reason: `still open after ${ms / 1000} s` };
  }

  private connection(label: string): ManagedConnection {
    const c = new ManagedConnection({
      url: this.target.url,
      accountName: this.target.accountName,
      apiKey: this.target.apiKey,
      eposId: this.target.eposId,
      softwareHouseId: this.target.softwareHouseId,
      resellerId: this.target.resellerId,
      allowInsecure: this.target.allowInsecure,
      heartbeatIntervalMs: 0,
      reconnect: { initialMs: 60_000, maxMs: 60_000 },
      authRetryMs: 60 * 60_000,
    });
    c.on("wire", (w) => {
      const text = c.redact(w.text);
      this.trace.push({ t: Date.now() - this.started, dir: w.direction, text: label === this.label ? text : `[${label}] ${text}` });
      if (label !== this.label) return;
      if (w.direction === "out") this.onOut(text);
      else this.onIn(text);
    });
    c.on("state", (state, info) => this.event(`[${label}] ${state}${info.reason ? `: ${info.reason}` : ""}`));
    return c;
  }

  private onOut(text: string): void {
    try {
      const f: unknown = JSON.parse(text);
      if (isPlainObject(f) && typeof f.method === "string" && (typeof f.id === "number" || typeof f.id === "string")) this.lastOutId = f.id;
    } catch {
      // our own frames are JSON; nothing to do
    }
  }

  /** Raw frames from Dojo: kept for the comparison of answers, compared at once when Dojo speaks first. */
  private onIn(text: string): void {
    let f: unknown;
    try {
      f = JSON.parse(text);
    } catch {
      return; // reported by frame-error
    }
    if (!isPlainObject(f)) return;
    if (typeof f.method === "string") this.note(compareInbound(f));
    else if (typeof f.id === "number" || typeof f.id === "string") this.responses.set(String(f.id), f);
  }

  private compareAnswer(method: MethodName, id: number | string | null, expect: Expectation): void {
    const raw = id === null ? undefined : this.responses.get(String(id));
    if (raw) {
      this.responses.delete(String(id));
      this.note(compareResponse(method, raw, expect));
    }
  }

  private onFrame(f: Frame): void {
    switch (f.kind) {
      case "response":
        this.rpc.settle(f.id, f.result, null);
        break;
      case "error":
        this.rpc.settle(f.id, null, f.error);
        break;
      case "notification":
        if (f.method === METHOD.terminalNotification) {
          const paymentId = readPaymentId(f.params) ?? "";
          const value = guessField(f.params, METHOD.terminalNotification, FIELD.notificationValue);
          const list = this.notifications.get(paymentId) ?? [];
          list.push(typeof value === "string" ? value : "");
          this.notifications.set(paymentId, list);
        }
        break;
      case "request":
        this.onDojoRequest(f.id, f.method, f.params);
        break;
    }
    this.wake();
  }

  private onDojoRequest(id: number | string, method: string, params: JsonObject): void {
    const paymentId = readPaymentId(params) ?? "";
    if (method === METHOD.recordPayment || method === METHOD.recordRefund) {
      const r = this.records.get(paymentId) ?? { method, params, deliveries: [], acked: false };
      r.params = params;
      r.deliveries.push(this.elapsed());
      this.records.set(paymentId, r);
      if (this.holdFirstRecord.delete(paymentId)) {
        r.heldId = id; // not answered: Dojo must deliver it again
        return;
      }
      this.ackRecord(r, id);
      return;
    }
    if (method === METHOD.signatureVerification) {
      const s = readSignatureRequest(params);
      this.signatureRequests.set(paymentId, { timeout: s.timeout });
      if (s.timeout !== EXPECTED_SIGNATURE_TIMEOUT_S) {
        this.note([
          {
            operation: METHOD.signatureVerification,
            path: `params.${FIELD.timeout}`,
            kind: "timing",
            expected: `${EXPECTED_SIGNATURE_TIMEOUT_S} s`,
            got: `${s.timeout} s`,
            fix: protocolLine("wire", "export const DEFAULT_SIGNATURE_TIMEOUT_S", "the signature timeout Dojo uses"),
          },
        ]);
      }
      this.conn.send(encodeResult(id, METHOD.signatureVerification, { paymentId, accepted: true }));
    }
  }

  private ackRecord(r: RecordSeen, id: number | string): void {
    const paymentId = readPaymentId(r.params) ?? "";
    r.acked = this.conn.send(encodeResult(id, r.method === METHOD.recordRefund ? METHOD.recordRefund : METHOD.recordPayment, { paymentId }));
    r.heldId = undefined;
  }

  private wake(): void {
    for (const w of [...this.waiters]) {
      if (!w.check()) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(true);
    }
  }
}
