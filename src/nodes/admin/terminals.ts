/**
 * ConnectedTerminals for the editor, per Node-RED runtime: one answer shared by concurrent callers
 * and reused for a few seconds (the sidebar polls every 2 s, the status and terminal list both ask).
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

export class TerminalCache {
  /** By client: a redeploy's new client asks afresh, and a closed one is forgotten with it. */
  private readonly byClient = new WeakMap<PacClient, { at: number; list: Promise<TerminalInfo[]> }>();

  /** The terminals, within `ms` (a PacError TIMEOUT otherwise). */
  list(client: PacClient, ms: number): Promise<TerminalListing[]> {
    return withTimeout(this.cached(client), ms).then((list) =>
      list.map((t) => ({ terminalId: t.terminalId, ...(t.tid ? { tid: t.tid } : {}), status: t.status })),
    );
  }

  private cached(client: PacClient): Promise<TerminalInfo[]> {
    const hit = this.byClient.get(client);
    if (hit && Date.now() - hit.at < TERMINALS_TTL_MS) return hit.list;
    const list = client.connectedTerminals();
    this.byClient.set(client, { at: Date.now(), list });
    list.catch(() => this.byClient.delete(client));
    return list;
  }
}
