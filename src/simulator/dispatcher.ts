/**
 * Inbound frames from an EPOS: requests go to the operations (their responses through the response
 * faults), responses go to whatever outbound request waits for them, and unreadable frames get a
 * -32700 / -32600 reply. Nothing an EPOS sends may crash the simulator.
 */
import { FIELD, METHOD, encodeError, encodeResult, isKnownMethod, parseFrame } from "../protocol";
import type { ErrorName, FrameError, JsonObject, RpcId } from "../protocol";
import type { SimulatorFaults } from "./faults";
import type { Operations, Outcome } from "./operations";
import type { OutboundRequests } from "./outbound";
import type { Connection } from "./server";
import type { Scheduler } from "./timers";
import type { SimulatorStats } from "./types";

export interface DispatcherDeps {
  operations: Operations;
  outbound: OutboundRequests;
  faults: SimulatorFaults;
  scheduler: Scheduler;
  stats: SimulatorStats;
  maxFrameBytes: number;
  send(conn: Connection, text: string): boolean;
  drop(conn: Connection): void;
  failed(err: unknown): void;
}

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  handle(conn: Connection, data: Buffer): void {
    const parsed = parseFrame(data, this.deps.maxFrameBytes);
    if (!parsed.ok) {
      this.refuse(conn, parsed.error);
      return;
    }
    const frame = parsed.frame;
    switch (frame.kind) {
      case "request":
        this.request(conn, frame.id, frame.method, frame.params);
        return;
      case "notification":
        return; // JSON-RPC forbids answering a notification, and Dojo expects none from an EPOS
      case "response":
        this.deps.outbound.resolve(conn.key, frame.id, { ok: true, result: frame.result });
        return;
      case "error":
        this.deps.outbound.resolve(conn.key, frame.id, { ok: false, error: frame.error });
        return;
    }
  }

  private refuse(conn: Connection, error: FrameError): void {
    const name: ErrorName = error.problem === "not-json" ? "PARSE_ERROR" : "INVALID_REQUEST";
    this.deps.send(conn, encodeError(error.id, name, `The till sent a message Dojo could not read: ${error.message}`));
  }

  private request(conn: Connection, id: RpcId, method: string, params: JsonObject): void {
    this.count(method, params);
    let outcome: Outcome;
    try {
      outcome = this.deps.operations.handle({ account: conn.account, eposId: conn.info.eposId }, method, params);
    } catch (err) {
      this.deps.failed(err);
      outcome = { ok: false, failure: { error: "INTERNAL_ERROR", userMessage: "The payment service hit an internal error" } };
    }
    const text = outcome.ok
      ? encodeResult(id, outcome.method, outcome.result)
      : encodeError(id, outcome.failure.error, outcome.failure.userMessage, outcome.failure.data);
    this.respond(conn, method, text, outcome.ok ? outcome.after : undefined);
  }

  /** Send a response through the response faults; `after` runs once it is out (or lost). */
  private respond(conn: Connection, method: string, text: string, after?: () => void): void {
    const { faults } = this.deps;
    const reply = (): void => {
      if (faults.takeDropBeforeResponse(method)) this.deps.drop(conn);
      else if (!faults.omitsResponse(method)) this.deps.send(conn, text);
      after?.();
    };
    const delay = faults.responseDelay(method);
    if (delay > 0) this.deps.scheduler.after(delay, reply);
    else reply();
  }

  private count(method: string, params: JsonObject): void {
    const { stats } = this.deps;
    if (isKnownMethod(method)) stats.requests[method] = (stats.requests[method] ?? 0) + 1;
    const paymentId = params[FIELD.paymentId];
    if (typeof paymentId !== "string") return;
    if (method === METHOD.createPayment) stats.createPaymentIds.push(paymentId);
    else if (method === METHOD.createRefund) stats.createRefundIds.push(paymentId);
  }
}
