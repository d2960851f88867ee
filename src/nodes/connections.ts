/**
 * The Dojo connections of one Node-RED runtime: the live ones (one per deployed pac-config node in
 * use) and the drain-only ones a deploy left behind (a changed or removed connection that still had
 * payments open under its old identity), and the msgs waiting for their outcome. Created once per
 * runtime by pac-config's registration, not at module level, and handed to each config runtime.
 *
 * It does the one thing a drain-only connection cannot do itself: reach the node that started a
 * payment, wherever it is now. Every user of a live connection claims its payments in each
 * drain-only connection's outbox too, from when it registers (or the drain starts) until it goes.
 */
import { HeldMessages } from "./held-messages";
import type { PacUser } from "./pac-user";
import type { NodeAPI, RuntimeListener } from "./red-types";

/** What the registry needs of a connection (config-runtime.ts's ConfigRuntime). */
export interface RegisteredConnection {
  readonly configId: string;
  readonly client: { answerSignature(paymentId: string, accepted: boolean): boolean } | null;
  /** Users of a live connection. */
  liveUsers(): PacUser[];
  /** Claim a user's payments in this connection's outbox (configId: the config node it belongs to). */
  claim(user: PacUser, configId: string): void;
  release(user: PacUser): void;
  close(): Promise<void>;
}

export class Connections<R extends RegisteredConnection = RegisteredConnection> {
  /** The msgs waiting for their outcome, by owner and paymentId (they outlive redeploys). */
  readonly held = new HeldMessages();
  private readonly live = new Set<R>();
  private readonly draining = new Set<R>();
  /** Listened to only while a connection drains. */
  private readonly onRuntimeEvent: RuntimeListener;

  constructor(private readonly RED: NodeAPI) {
    // The runtime stopping for good (not for a deploy): drain-only connections end with it; their
    // open payments stay in the journal and are followed up when that identity connects again.
    this.onRuntimeEvent = (event: unknown) => {
      const e = event as { id?: string; payload?: { state?: string; deploy?: boolean } } | null;
      if (e?.id === "runtime-state" && e.payload?.state === "stop" && !e.payload.deploy) this.closeDrainers();
    };
  }

  add(rt: R): void {
    this.live.add(rt);
  }

  /** A live connection became drain-only (its node closed with payments open). */
  startDraining(rt: R): void {
    this.live.delete(rt);
    if (this.draining.size === 0) this.RED.events.on("runtime-event", this.onRuntimeEvent);
    this.draining.add(rt);
    this.claimLiveUsers(rt);
  }

  /** Every user of every live connection claims its payments in this drain-only one. */
  claimLiveUsers(drainer: R): void {
    for (const rt of this.live) for (const u of rt.liveUsers()) drainer.claim(u, rt.configId);
  }

  /** A user registered with a live connection: it claims in the drain-only ones too. */
  userRegistered(user: PacUser, configId: string): void {
    for (const rt of this.draining) rt.claim(user, configId);
  }

  userGone(user: PacUser): void {
    for (const rt of this.draining) rt.release(user);
  }

  remove(rt: R): void {
    this.live.delete(rt);
    if (this.draining.delete(rt) && this.draining.size === 0) this.RED.events.removeListener("runtime-event", this.onRuntimeEvent);
  }

  /** Answer a signature question a drain-only connection holds; false when none does. */
  answerSignature(paymentId: string, accepted: boolean): boolean {
    for (const rt of this.draining) if (rt.client?.answerSignature(paymentId, accepted)) return true;
    return false;
  }

  list(): { live: R[]; draining: R[] } {
    return { live: [...this.live], draining: [...this.draining] };
  }

  private closeDrainers(): void {
    for (const rt of [...this.draining]) void rt.close();
  }
}
