/**
 * The editor's admin HTTP endpoints (under Node-RED's httpAdmin, every one behind
 * RED.auth.needsPermission):
 *
 *   GET  pac/terminals/:configId                 the terminals the deployed connection sees
 *   POST pac/test-connection                     try the config dialog's current values (connection-test.ts)
 *   GET  pac/status/:configId                    connection state, terminals with their live step,
 *                                                latest payments from the journal (status.ts)
 *   GET  pac/open-payments                       payments whose result has not reached the flow, per
 *                                                connection: live, drain-only, or no longer deployed
 *   POST pac/payment/:configId/:paymentId/query  GetPayment, e.g. for an outcome-unknown payment
 *   ALL  pac/vt/:configId/…                      the virtual terminal page of a `simulator` config
 *                                                (virtual-terminal.ts)
 *   POST pac/check, GET pac/check/:jobId,        "Check against Dojo": dojo-pac-check run as a job
 *   POST pac/check/:jobId/answer                 the dialog polls and answers (check.ts)
 *
 * Nothing here logs, stores or returns a secret: every text that leaves is redacted with the
 * credentials it could contain.
 */
import { PacError } from "../../engine";
import { ERROR_CODE } from "../../protocol";
import type { PacConfigNode, RuntimeConnections as Connections } from "../config-runtime";
import { openPaymentsReport } from "../open-payments";
import { journalRoot } from "../settings";
import { CheckJobs, mountCheck } from "./check";
import { testConnection } from "./connection-test";
import { configDefs, configNode } from "./deployed";
import { bodyOf, errorText, permissions, sendError } from "./http";
import type { AdminApp, AdminNodeAPI, AdminRequest, AdminResponse, Middleware } from "./http";
import { statusReport } from "./status";
import { TerminalCache } from "./terminals";
import { VirtualTerminals, mountVirtualTerminal } from "./virtual-terminal";

/** What the endpoints keep for one Node-RED runtime (one admin app). */
export interface AdminState {
  /** The newest registry of this runtime's connections (live and drain-only). */
  connections: Connections | null;
  readonly terminals: TerminalCache;
  readonly virtualTerminals: VirtualTerminals;
  readonly checks: CheckJobs;
}

/**
 * The admin app remembers its state itself, so that a second registration on the same app (a
 * harness that registers the node types again) updates it instead of adding shadowed routes.
 */
const STATE = Symbol.for("@shopflow/node-red-dojo-pac/admin-state");
type WithState = AdminApp & { [STATE]?: AdminState };

/** Register the routes once per admin app. Does nothing without httpAdmin (some test harnesses). */
export function registerAdminEndpoints(RED: AdminNodeAPI, connections: Connections | null = null): void {
  const app: WithState | undefined = RED.httpAdmin;
  if (!app) return;
  const known = app[STATE];
  if (known) {
    known.connections = connections;
    return;
  }
  const state: AdminState = { connections, terminals: new TerminalCache(), virtualTerminals: new VirtualTerminals(), checks: new CheckJobs() };
  Object.defineProperty(app, STATE, { value: state, enumerable: false });
  const { read, write } = permissions(RED);
  const deployed = (req: AdminRequest, res: AdminResponse): PacConfigNode | undefined => {
    const node = configNode(RED, req.params.configId);
    if (!node) sendError(res, 404, "not-deployed", "no deployed Dojo connection with this id");
    return node;
  };
  const guard =
    (fn: (req: AdminRequest, res: AdminResponse) => Promise<void>): Middleware =>
    (req, res) => {
      fn(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendError(res, 500, "error", errorText(e));
      });
    };

  app.get(
    "/pac/terminals/:configId",
    read,
    guard(async (req, res) => {
      const node = deployed(req, res);
      if (!node) return;
      const runtime = node.pac;
      if (runtime.settingsError) return sendError(res, 409, "config", runtime.settingsError);
      const client = runtime.client;
      if (!client || client.state !== "open") {
        res.status(503).json({ error: "not-connected", state: runtime.connectionView.state, terminals: [] });
        return;
      }
      try {
        res.json({ terminals: await state.terminals.list(client, Math.min(runtime.requestTimeoutMs, 10_000)) });
      } catch (e) {
        sendError(res, 502, e instanceof PacError ? e.code : "error", runtime.redact(errorText(e)));
      }
    }),
  );

  app.post(
    "/pac/test-connection",
    write,
    guard(async (req, res) => {
      const body = bodyOf(req);
      if (!body) return sendError(res, 400, "bad-request", "send the connection's settings as a JSON object");
      res.json(await testConnection(RED, body));
    }),
  );

  app.get(
    "/pac/status/:configId",
    read,
    guard(async (req, res) => {
      const node = deployed(req, res);
      if (!node) return;
      res.json(await statusReport(RED, node, state.terminals, state.connections));
    }),
  );

  app.get(
    "/pac/open-payments",
    read,
    guard(async (_req, res) => {
      const list = state.connections ? await openPaymentsReport(state.connections, journalRoot(RED), (id) => configDefs(RED).get(id)?.environment) : [];
      res.json({ connections: list, at: Date.now() });
    }),
  );

  app.post(
    "/pac/payment/:configId/:paymentId/query",
    write,
    guard(async (req, res) => {
      const node = deployed(req, res);
      if (!node) return;
      const runtime = node.pac;
      const client = runtime.client;
      if (!client || client.state !== "open") {
        return sendError(res, 503, "not-connected", runtime.connectionView.state);
      }
      try {
        const payment = await client.getPayment(req.params.paymentId);
        res.json({ payment, at: Date.now() });
      } catch (e) {
        const pe = e instanceof PacError ? e : undefined;
        const status = pe?.code === "INVALID_INPUT" ? 400 : pe?.remote?.code === ERROR_CODE.PAYMENT_NOT_FOUND ? 404 : pe?.code === "TIMEOUT" ? 504 : 502;
        sendError(res, status, pe?.remoteName ?? pe?.code ?? "error", runtime.redact(pe?.userMessage ?? errorText(e)));
      }
    }),
  );

  mountVirtualTerminal(app, RED, state.virtualTerminals, read, write);
  mountCheck(app, RED, state.checks, read, write);
}
