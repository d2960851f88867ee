/**
 * ALL pac/vt/:configId/… : the virtual terminal page of a `simulator` config, served here behind
 * Node-RED's admin auth (the simulator's own port serves no page). One handler per simulator and
 * base path, kept per Node-RED runtime and forgotten with the simulator.
 */
import { createVirtualTerminalHandler } from "../../simulator";
import type { PacSimulator, VirtualTerminalHandler } from "../../simulator";
import { configNode } from "./deployed";
import type { AdminApp, AdminNodeAPI, Middleware } from "./http";

export class VirtualTerminals {
  private readonly handlers = new WeakMap<PacSimulator, Map<string, VirtualTerminalHandler>>();

  handler(sim: PacSimulator, base: string, title: string): VirtualTerminalHandler {
    let byBase = this.handlers.get(sim);
    if (!byBase) {
      byBase = new Map();
      this.handlers.set(sim, byBase);
    }
    let h = byBase.get(base);
    if (!h) {
      h = createVirtualTerminalHandler(sim, { basePath: base, accountName: sim.credentials.accountName, title });
      byBase.set(base, h);
    }
    return h;
  }
}

const VT_PATH = /^\/pac\/vt\/([^/?]+)(?:\/.*)?$/;
const VT_STATIC = /^\/pac\/vt\/[^/?]+\/vt\/(?:app\.js|style\.css)$/;

/**
 * GET/HEAD need read, its actions (POST) write. Its script and style sheet are the same static
 * text for everyone and are loaded by <script src>/<link href>, which cannot carry the page's
 * ?access_token: they are served without a check.
 */
export function mountVirtualTerminal(app: AdminApp, RED: AdminNodeAPI, vts: VirtualTerminals, read: Middleware, write: Middleware): void {
  app.all(
    VT_PATH,
    (req, res, next) => {
      const get = req.method === "GET" || req.method === "HEAD";
      if (get && VT_STATIC.test((req.url ?? "").split("?")[0])) return next();
      (get ? read : write)(req, res, next);
    },
    (req, res, next) => {
      const raw = VT_PATH.exec((req.url ?? "").split("?")[0])?.[1] ?? "";
      let id = "";
      try {
        id = decodeURIComponent(raw);
      } catch {
        id = "";
      }
      const node = configNode(RED, id);
      const sim = node?.pac.simulator;
      if (!node || !sim || sim.isStopped) {
        req.resume();
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
        res.end("There is no running simulator for this Dojo connection: deploy a connection in the simulator environment.\n");
        return;
      }
      const title = `Virtual terminals: ${node.name || node.pac.client?.connection.eposId || node.id}`;
      vts.handler(sim, `/pac/vt/${raw}`, title)(req, res, next);
    },
  );
}
