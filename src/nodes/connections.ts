/**
 * The Dojo connections of one Node-RED runtime: the live ones (one per deployed pac-config node in
 * use) and the drain-only ones a deploy left behind (a changed or removed connection that still had
 * payments open under its old identity). Created once per runtime by pac-config's registration, not
 * at module level, and handed to each config runtime.
 *
 * It answers the one question a drain-only connection cannot answer itself: where is the node that
 * started this payment now (same node id, any live connection)?
 */
import type { ConfigRuntime, PacUser } from "./config-runtime";
import type { NodeAPI, RuntimeListener } from "./red-types";

export class Connections {
  private readonly live = new Set<ConfigRuntime>();
  private readonly draining = new Set<ConfigRuntime>();
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

  add(rt: ConfigRuntime): void {
    this.live.add(rt);
  }

  /** A live connection became drain-only (its node closed with payments open). */
  startDraining(rt: ConfigRuntime): void {
    this.live.delete(rt);
    if (this.draining.size === 0) this.RED.events.on("runtime-event", this.onRuntimeEvent);
    this.draining.add(rt);
  }

  remove(rt: ConfigRuntime): void {
    this.live.delete(rt);
    if (this.draining.delete(rt) && this.draining.size === 0) this.RED.events.removeListener("runtime-event", this.onRuntimeEvent);
  }

  /** The user node with this id in any live connection. */
  owner(id: string): PacUser | undefined {
    for (const rt of this.live) {
      const u = rt.user(id);
      if (u) return u;
    }
    return undefined;
  }

  /** The live connection of this config node id (a redeployed config), if any. */
  liveById(configId: string): ConfigRuntime | undefined {
    for (const rt of this.live) if (rt.configId === configId) return rt;
    return undefined;
  }

  /** Answer a signature question a drain-only connection holds; false when none does. */
  answerSignature(paymentId: string, accepted: boolean): boolean {
    for (const rt of this.draining) if (rt.client?.answerSignature(paymentId, accepted)) return true;
    return false;
  }

  list(): { live: ConfigRuntime[]; draining: ConfigRuntime[] } {
    return { live: [...this.live], draining: [...this.draining] };
  }

  private closeDrainers(): void {
    for (const rt of [...this.draining]) void rt.close();
  }
}
