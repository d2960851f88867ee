/**
 * Request/response correlation over a ManagedConnection: integer ids, a timeout per request, and
 * every pending request rejected with a distinct error when the connection drops.
 */
import type { EposRequestMethod, JsonObject, RpcId, RpcErrorInfo } from "../../protocol";
import { METHOD, encodeRequest } from "../../protocol";
import type { ManagedConnection } from "./connection";
import { PacError } from "../errors";
import { InFlightMap } from "../../common/in-flight-map";

interface Pending {
  method: EposRequestMethod;
  paymentId?: string;
  resolve: (result: JsonObject) => void;
  reject: (err: PacError) => void;
  timer: NodeJS.Timeout;
}

/** Create* calls whose lost answer means "outcome unknown", never "failed". */
const CREATES: ReadonlySet<string> = new Set([METHOD.createPayment, METHOD.createRefund]);

export class RpcChannel {
  private nextId = 1;
  private readonly pending = new InFlightMap<RpcId, Pending>();

  constructor(
    private readonly conn: ManagedConnection,
    private readonly timeoutMs: () => number,
  ) {}

  get inFlight(): number {
    return this.pending.size;
  }

  request(method: EposRequestMethod, params: object, paymentId?: string): Promise<JsonObject> {
    return new Promise<JsonObject>((resolve, reject) => {
      const id = this.nextId++;
      if (!this.conn.send(encodeRequest(id, method, params))) {
        reject(new PacError("NOT_CONNECTED", `not connected to Dojo (${this.conn.state}): ${method} was not sent`, { paymentId }));
        return;
      }
      const ms = this.timeoutMs();
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          CREATES.has(method)
            ? new PacError("OUTCOME_UNKNOWN", `no answer to ${method} within ${ms / 1000} s: the payment may be running; it is being followed up`, {
                paymentId,
              })
            : new PacError("TIMEOUT", `no answer to ${method} within ${ms / 1000} s`, { paymentId }),
        );
      }, ms);
      this.pending.set(id, { method, paymentId, resolve, reject, timer });
    });
  }

  /** Route a response or error frame; false when its id is not ours. */
  settle(id: RpcId | null, result: JsonObject | null, error: RpcErrorInfo | null): boolean {
    const key = id !== null && this.pending.has(id) ? id : typeof id === "string" && this.pending.has(Number(id)) ? Number(id) : null;
    const p = key === null ? undefined : this.pending.get(key);
    if (!p || key === null) return false; // a late answer after a timeout, or a confused peer
    this.pending.delete(key);
    clearTimeout(p.timer);
    if (error) p.reject(PacError.remoteError(p.method, error, p.paymentId));
    else p.resolve(result ?? {});
    return true;
  }

  /** The connection dropped: nothing pending will be answered on it. */
  failAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(
        CREATES.has(p.method)
          ? new PacError(
              "OUTCOME_UNKNOWN",
              `connection lost before Dojo acknowledged ${p.method} (${reason}): the payment may be running; it is followed up after reconnecting`,
              { paymentId: p.paymentId },
            )
          : new PacError("CONNECTION_LOST", `connection lost before Dojo answered ${p.method} (${reason})`, { paymentId: p.paymentId }),
      );
    }
  }
}
