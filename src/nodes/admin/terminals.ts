/**
 * ConnectedTerminals for the editor, per Node-RED runtime: one answer shared by concurrent callers
 * and reused for a few seconds (the sidebar re-reads on every push, the status and terminal list
 * both ask). A sale starting or ending changes a terminal's BUSY/AVAILABLE at once, so the answer
 * is dropped then: the sidebar must not show a terminal busy next to a payment already paid.
 */
import { withTimeout } from "../../engine";
import type { PacClient } from "../../engine";
import type { TerminalInfo } from "../../protocol";

/** How long one ConnectedTerminals answer is reused. */
export const TERMINALS_TTL_MS = 4000;

/** A terminal as the editor lists it. */
export interface TerminalListing {
  terminalId: string;
  tid?: string;
  status?: string;
}

interface Entry {
  at: number;
  list: Promise<TerminalInfo[]>;
}

export class TerminalCache {
  /** By client: a redeploy's new client asks afresh, and a closed one is forgotten with it. */
  private readonly byClient = new WeakMap<PacClient, Entry>();
  /** Clients whose sale starts and ends drop their answer (listened to once each). */
  private readonly followed = new WeakSet<PacClient>();

  /** The terminals, within `ms` (a PacError TIMEOUT otherwise). */
  list(client: PacClient, ms: number): Promise<TerminalListing[]> {
    return withTimeout(this.cached(client), ms).then((list) =>
      list.map((t) => ({ terminalId: t.terminalId, ...(t.tid ? { tid: t.tid } : {}), status: t.status })),
    );
  }

  /** Forget the client's answer: the next caller asks Dojo again. */
  drop(client: PacClient): void {
    this.byClient.delete(client);
  }

  private cached(client: PacClient): Promise<TerminalInfo[]> {
    this.follow(client);
    const hit = this.byClient.get(client);
    if (hit && Date.now() - hit.at < TERMINALS_TTL_MS) return hit.list;
    const entry: Entry = { at: Date.now(), list: client.connectedTerminals() };
    this.byClient.set(client, entry);
    entry.list.catch(() => {
      if (this.byClient.get(client) === entry) this.byClient.delete(client);
    });
    return entry.list;
  }

  /**
   * A sale starts (the first notification of a payment on a terminal) or ends (its record or
   * outcome): that terminal's status changed, so the cached answer is stale.
   */
  private follow(client: PacClient): void {
    if (this.followed.has(client)) return;
    this.followed.add(client);
    const running = new Map<string, string>(); // terminalId -> paymentId last seen on it
    client.on("notification", (e) => {
      if (running.get(e.terminalId) === e.paymentId) return;
      running.set(e.terminalId, e.paymentId);
      this.drop(client);
    });
    client.on("record", () => this.drop(client));
    client.on("outcome", () => this.drop(client));
  }
}
