/** Requests the simulator sends to an EPOS (records, signature checks), awaiting their responses. */
import type { JsonObject, RpcErrorInfo, RpcId } from "../protocol";

export type Reply = { ok: true; result: JsonObject } | { ok: false; error: RpcErrorInfo };

interface Waiting {
  /** Only the same account+epos-id (on any of its connections) may answer. */
  key: string;
  onReply(reply: Reply): void;
}

export class OutboundRequests {
  // Dojo-side ids start high, as in the contract's example, so they are easy to tell apart in logs.
  private nextId = 9001;
  private readonly waiting = new Map<number, Waiting>();

  register(key: string, onReply: (reply: Reply) => void): number {
    const id = this.nextId++;
    this.waiting.set(id, { key, onReply });
    return id;
  }

  forget(id: number): void {
    this.waiting.delete(id);
  }

  /** Route a response; false when nothing waits for it (late, unknown or from another EPOS). */
  resolve(key: string, id: RpcId | null, reply: Reply): boolean {
    const n = typeof id === "number" ? id : Number(id);
    const w = this.waiting.get(n);
    if (!w || w.key !== key) return false;
    w.onReply(reply);
    return true;
  }
}
