/**
 * The msgs waiting for their payment's outcome, keyed by owner (the node id) and paymentId. One
 * registry per Node-RED runtime, made by pac-config's registration, so a msg outlives a redeploy of
 * its node or of the connection (a new instance, same id, sends the result with the very msg that
 * started it: its HTTP response included). Only the transaction nodes put into it and take from it.
 */
import { InFlightMap } from "../common/in-flight-map";
import type { DoneFn, NodeMessage } from "./red-types";

export interface HeldMessage {
  /** The original input msg, with everything it carried (msg.res included). */
  msg: NodeMessage;
  /** The node instance that took it; cleared when that instance closes. */
  instance: object | null;
  /** That instance's done() for the msg; called when the result is sent, or at close. */
  done: DoneFn | null;
}

export class HeldMessages {
  // Per-payment entries that come and go fast: InFlightMap, not Map (see common/in-flight-map.ts).
  /** owner -> paymentId -> msg. */
  private readonly byOwner = new Map<string, InFlightMap<string, HeldMessage>>();
  /** paymentId -> owner: one msg per payment, whichever node holds it. */
  private readonly ownerOf = new InFlightMap<string, string>();

  /** Hold a msg; false (and nothing changed) when a msg is held for this payment already. */
  put(owner: string, paymentId: string, held: HeldMessage): boolean {
    if (this.ownerOf.has(paymentId)) return false;
    let mine = this.byOwner.get(owner);
    if (!mine) this.byOwner.set(owner, (mine = new InFlightMap()));
    mine.set(paymentId, held);
    this.ownerOf.set(paymentId, owner);
    return true;
  }

  get(owner: string, paymentId: string): HeldMessage | undefined {
    return this.byOwner.get(owner)?.get(paymentId);
  }

  has(paymentId: string): boolean {
    return this.ownerOf.has(paymentId);
  }

  /** The msg held by this owner for this payment, removed. */
  take(owner: string, paymentId: string): HeldMessage | undefined {
    const mine = this.byOwner.get(owner);
    const held = mine?.get(paymentId);
    if (!mine || !held) return undefined;
    mine.delete(paymentId); // the owner's map stays while the node exists (dropOwner): no churn per payment
    this.ownerOf.delete(paymentId);
    return held;
  }

  /** Only when it is still this msg (an error after the payment's msg was replaced must not drop the new one). */
  takeIf(owner: string, paymentId: string, msg: NodeMessage): HeldMessage | undefined {
    return this.byOwner.get(owner)?.get(paymentId)?.msg === msg ? this.take(owner, paymentId) : undefined;
  }

  /** A closing instance: its msgs are completed (Complete nodes fire; nothing leaks) and kept for its successor. */
  releaseInstance(owner: string, instance: object): void {
    for (const held of this.byOwner.get(owner)?.values() ?? []) {
      if (held.instance !== instance) continue;
      const done = held.done;
      held.instance = null;
      held.done = null;
      try {
        done?.();
      } catch {
        /* a done() of a stopped flow */
      }
    }
  }

  /** A removed node: no instance will send its results (they go to pac-events as orphans). */
  dropOwner(owner: string): void {
    for (const paymentId of this.byOwner.get(owner)?.keys() ?? []) this.ownerOf.delete(paymentId);
    this.byOwner.delete(owner);
  }

  get size(): number {
    return this.ownerOf.size;
  }
}
