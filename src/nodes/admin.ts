/**
 * The editor's admin HTTP endpoints (under Node-RED's httpAdmin, every one behind
 * RED.auth.needsPermission):
 *
 *   GET  pac/terminals/:configId                 the terminals the deployed connection sees
 *   POST pac/test-connection                     try the config dialog's current values (read  below)
 *   GET  pac/status/:configId                    connection state, terminals with their live step,
 *                                                latest payments from the journal
 *   GET  pac/open-payments                       payments whose result has not reached the flow, per
 *                                                connection: live, drain-only, or no longer deployed
 *   POST pac/payment/:configId/:paymentId/query  GetPayment, e.g. for an outcome-unknown payment
 *   ALL  pac/vt/:configId/…                      the virtual terminal page of a `simulator` config
 *
 * Reading needs `pac-config.read`; anything that talks to Dojo on the user's behalf or uses the
 * saved credentials needs `pac-config.write`. Nothing here logs, stores or returns a secret: every
 * text that leaves is redacted with the credentials it could contain.
 *
 * test-connection: the body is the dialog's values plus the credentials as typed. An API key of
 * `__PWRD__` (what Node-RED's editor holds for an unchanged password) or `_`, and an account name of
 * `_`, mean "the saved one" (RED.nodes.getCredentials(id)). It never opens a second connection with
 * the epos-id of a connection deployed in this Node-RED that is up (Dojo would disconnect the older
 * one): then it reports on that connection instead.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PacClient, PacError } from "../engine";
import type { ConnectionState, JournalPayment, StateInfo } from "../engine";
import type { Connections } from "./connections";
import { openPaymentsReport } from "./open-payments";
import { credentialSecrets, redactSecrets } from "../common/redact";
import { ERROR_CODE, FINAL_STATUSES } from "../protocol";
import type { TerminalInfo } from "../protocol";
import { PacSimulator, createVirtualTerminalHandler } from "../simulator";
import type { VirtualTerminalHandler } from "../simulator";
import { ConfigRuntime, journalRoot, readSettings } from "./config-runtime";
import type { ConfigCredentials, ConfigDef, ConfigSettings, PacConfigNode } from "./config-runtime";
import type { NodeAPI } from "./red-types";

// ---- the little of Express and of the runtime API used here --------------------------------------

export interface AdminRequest extends IncomingMessage {
  params: Record<string, string>;
  body?: unknown;
  originalUrl?: string;
}

export interface AdminResponse extends ServerResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}

export type Middleware = (req: AdminRequest, res: AdminResponse, next: (err?: unknown) => void) => void;

interface AdminApp {
  get(path: string | RegExp, ...handlers: Middleware[]): void;
  post(path: string | RegExp, ...handlers: Middleware[]): void;
  all(path: string | RegExp, ...handlers: Middleware[]): void;
}

/** The runtime API with the admin parts (absent in some test harnesses). */
export interface AdminNodeAPI extends NodeAPI {
  httpAdmin?: AdminApp;
  auth?: { needsPermission(permission: string): Middleware };
  nodes: NodeAPI["nodes"] & {
    getCredentials?(id: string): ConfigCredentials | undefined;
    eachNode?(cb: (def: ConfigDef & { z?: string }) => void): void;
  };
}

export const READ_PERMISSION = "pac-config.read";
export const WRITE_PERMISSION = "pac-config.write";

/** Node-RED's editor holds this in place of a saved password it did not send to the browser. */
const SAVED_PASSWORD = "__PWRD__";
const SAVED = "_";

/** How long one ConnectedTerminals answer is reused (the sidebar polls every 2 s). */
const TERMINALS_TTL_MS = 4000;
/** How many of the latest payments the status shows. */
const LATEST_PAYMENTS = 15;
/** Bounds of a connection test. */
const TEST_HANDSHAKE_MS = 8000;
const TEST_TOTAL_MS = 15_000;

// ---- helpers ----------------------------------------------------------------------------------------

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A deployed pac-config node, or undefined. */
function configNode(RED: AdminNodeAPI, id: string): PacConfigNode | undefined {
  if (!id) return undefined;
  const node = RED.nodes.getNode(id) as PacConfigNode | null;
  return node && node.type === "pac-config" && node.pac instanceof ConfigRuntime ? node : undefined;
}

/** The flow definitions of every pac-config node deployed now. */
function configDefs(RED: AdminNodeAPI): Map<string, ConfigDef> {
  const defs = new Map<string, ConfigDef>();
  try {
    RED.nodes.eachNode?.((def) => {
      if (def && def.type === "pac-config") defs.set(def.id, def);
    });
  } catch {
    /* older runtimes: no definitions */
  }
  return defs;
}

function savedCredentials(RED: AdminNodeAPI, id: string): ConfigCredentials {
  if (!id) return {};
  try {
    return RED.nodes.getCredentials?.(id) ?? {};
  } catch {
    return {};
  }
}


const terminalCache = new WeakMap<PacClient, { at: number; list: Promise<TerminalInfo[]> }>();

/** ConnectedTerminals, shared by concurrent callers and reused for a few seconds. */
function cachedTerminals(client: PacClient): Promise<TerminalInfo[]> {
  const hit = terminalCache.get(client);
  if (hit && Date.now() - hit.at < TERMINALS_TTL_MS) return hit.list;
  const list = client.connectedTerminals();
  terminalCache.set(client, { at: Date.now(), list });
  list.catch(() => terminalCache.delete(client));
  return list;
}

function isFinal(status: string | undefined): boolean {
  return status !== undefined && FINAL_STATUSES.has(status);
}

/** One payment of the journal as the sidebar shows it. */
export interface PaymentRow {
  paymentId: string;
  kind?: string;
  terminalId?: string;
  amount?: number;
  currency?: string;
  /** A final status, or IN_PROGRESS, SENDING, OUTCOME_UNKNOWN, AWAITING_RECORD, REJECTED, NOT_CREATED, REFUSED. */
  status: string;
  /** REFUSED: why nothing was sent. */
  reason?: string;
  /** The terminal's last notification for it. */
  step?: string;
  startedAt?: number;
  updatedAt: number;
  /** The outcome is not known (yet): GetPayment may tell. */
  queryable: boolean;
  outcomeUnknown: boolean;
  delivered: boolean;
}

function paymentRow(client: PacClient, p: JournalPayment): PaymentRow {
  const tracked = client.tracked(p.id);
  let status: string;
  let outcomeUnknown = false;
  if (p.rejected !== undefined) status = "REJECTED";
  else if (p.record?.notCreated === true) status = "NOT_CREATED";
  else if (isFinal(p.status) && (p.recordedAt !== undefined || !tracked)) status = p.status as string;
  else if (tracked?.phase === "unknown") {
    status = "OUTCOME_UNKNOWN";
    outcomeUnknown = true;
  } else if (tracked?.phase === "creating") status = "SENDING";
  else if (tracked?.phase === "awaiting-record") status = isFinal(p.status) ? (p.status as string) : "AWAITING_RECORD";
  else if (tracked) status = "IN_PROGRESS";
  else {
    // Open in the journal, followed by nobody: its outcome is unknown until Dojo is asked.
    status = "OUTCOME_UNKNOWN";
    outcomeUnknown = true;
  }
  const finished = p.rejected !== undefined || p.recordedAt !== undefined || status === "NOT_CREATED";
  return {
    paymentId: p.id,
    kind: p.kind,
    terminalId: p.terminalId,
    amount: p.amount,
    currency: p.currency,
    status,
    step: tracked?.lastStep ?? p.lastStep,
    startedAt: p.startedAt,
    updatedAt: p.updatedAt,
    queryable: !finished,
    outcomeUnknown,
    delivered: p.deliveredAt !== undefined,
  };
}

/** The latest payments of a client's journal, newest first. */
export function latestPayments(client: PacClient, limit = LATEST_PAYMENTS): PaymentRow[] {
  const all = new Map<string, JournalPayment>();
  for (const p of client.journal.recent()) all.set(p.id, p);
  for (const p of client.journal.openPayments()) all.set(p.id, p);
  const rows = [...all.values()].map((p) => paymentRow(client, p));
  // Refused before anything was sent (e.g. the journal could not write): shown as refused, with why.
  for (const r of client.recentRefusals()) {
    if (all.has(r.paymentId)) continue;
    rows.push({
      paymentId: r.paymentId,
      kind: r.kind,
      terminalId: r.terminalId,
      amount: r.amount,
      currency: r.currency,
      status: "REFUSED",
      reason: r.reason,
      startedAt: r.at,
      updatedAt: r.at,
      queryable: false,
      outcomeUnknown: false,
      delivered: false,
    });
  }
  return rows.sort((a, b) => (b.startedAt ?? b.updatedAt) - (a.startedAt ?? a.updatedAt)).slice(0, limit);
}

// ---- connection test ------------------------------------------------------------------------------

export type TestProblem =
  | "config" // the values cannot work (missing epos-id, URL, credentials…)
  | "no-saved-credentials" // "use the saved ones" but nothing is saved
  | "url" // refused URL (ws:// to a remote host, not a URL)
  | "auth" // HTTP 401/403
  | "handshake" // HTTP 400: headers refused (epos-id, software house id)
  | "http" // another HTTP answer (wrong path?)
  | "unreachable" // DNS, refused, no route
  | "tls" // certificate or TLS problem
  | "timeout"
  | "displaced" // another connection took the epos-id
  | "in-use" // a connection deployed here uses this epos-id and is up: testing would disconnect it
  | "not-deployed" // the simulator of a config that is not deployed
  | "error";

export interface TestResult {
  ok: boolean;
  /** Where the answer comes from: a throwaway connection, or the deployed one. */
  source: "test" | "deployed";
  environment?: string;
  /** Host tested (no credentials). */
  host?: string;
  terminals?: number;
  terminalIds?: string[];
  problem?: TestProblem;
  /** The technical detail (redacted), e.g. "connect ECONNREFUSED 127.0.0.1:9". */
  detail?: string;
  httpStatus?: number;
  ms: number;
}

/** What a failed handshake's reason says, as a problem code. */
export function classifyReason(reason: string): { problem: TestProblem; httpStatus?: number } {
  const http = /\bHTTP (\d{3})\b/.exec(reason);
  if (http) {
    const code = Number(http[1]);
    if (code === 401 || code === 403) return { problem: "auth", httpStatus: code };
    if (code === 400) return { problem: "handshake", httpStatus: code };
    return { problem: "http", httpStatus: code };
  }
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ECONNRESET|EPIPE|socket hang up/i.test(reason)) {
    return { problem: "unreachable" };
  }
  if (/certificate|CERT_|SSL|TLS|self[- ]signed|altnames|EPROTO|wrong version number|handshake failure/i.test(reason)) {
    return { problem: "tls" };
  }
  if (/timed? ?out|ETIMEDOUT/i.test(reason)) return { problem: "timeout" };
  return { problem: "error" };
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** The body of test-connection as ConfigDef + credentials (saved ones filled in). */
function testInput(RED: AdminNodeAPI, body: Record<string, unknown>): { def: ConfigDef; creds: ConfigCredentials } | TestProblem {
  const id = str(body.id);
  const def: ConfigDef = {
    id: id || "test-connection",
    type: "pac-config",
    environment: str(body.environment) || "simulator",
    url: str(body.url),
    eposId: str(body.eposId),
    softwareHouseId: str(body.softwareHouseId),
    resellerId: str(body.resellerId),
    requestTimeout: typeof body.requestTimeout === "number" || typeof body.requestTimeout === "string" ? body.requestTimeout : 30,
  };
  let accountName = str(body.accountName);
  let apiKey = str(body.apiKey);
  const wantsSaved = apiKey === SAVED_PASSWORD || apiKey === SAVED || accountName === SAVED;
  if (wantsSaved && def.environment !== "simulator") {
    const saved = savedCredentials(RED, id);
    if (apiKey === SAVED_PASSWORD || apiKey === SAVED) {
      if (!saved.apiKey) return "no-saved-credentials";
      apiKey = saved.apiKey;
    }
    if (accountName === SAVED) {
      if (!saved.accountName) return "no-saved-credentials";
      accountName = saved.accountName;
    }
  }
  return { def, creds: { accountName, apiKey } };
}

/** Same Dojo endpoint and epos-id: Dojo would see the same till. */
function sameIdentity(a: ConfigSettings, b: ConfigSettings): boolean {
  return a.url === b.url && a.accountName === b.accountName && a.eposId === b.eposId;
}

function sameSettings(a: ConfigSettings, b: ConfigSettings): boolean {
  return (
    sameIdentity(a, b) &&
    a.environment === b.environment &&
    a.apiKey === b.apiKey &&
    a.softwareHouseId === b.softwareHouseId &&
    (a.resellerId ?? "") === (b.resellerId ?? "")
  );
}

function waitState(client: PacClient, done: (s: ConnectionState) => boolean, ms: number): Promise<ConnectionState | "timeout"> {
  return new Promise((resolve) => {
    if (done(client.state)) return resolve(client.state);
    const onState = (s: ConnectionState): void => {
      if (done(s)) finish(s);
    };
    const finish = (s: ConnectionState | "timeout"): void => {
      clearTimeout(timer);
      client.removeListener("state", onState);
      resolve(s);
    };
    const timer = setTimeout(() => finish("timeout"), ms);
    client.on("state", onState);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PacError("TIMEOUT", `no answer within ${Math.round(ms / 1000)} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Report on a deployed connection (no second socket). */
async function testDeployed(runtime: ConfigRuntime, started: number, environment: string, host?: string): Promise<TestResult> {
  const base = { source: "deployed" as const, environment, host };
  const view = runtime.connectionView;
  if (view.state === "config-error") {
    return { ...base, ok: false, problem: "config", detail: runtime.redact(view.reason ?? ""), ms: Date.now() - started };
  }
  let client: PacClient;
  try {
    client = await withTimeout(runtime.ready(TEST_HANDSHAKE_MS), TEST_TOTAL_MS);
  } catch (e) {
    return { ...base, ok: false, problem: "error", detail: runtime.redact(message(e)), ms: Date.now() - started };
  }
  const state = await waitState(client, (s) => s !== "connecting" && s !== "idle", TEST_HANDSHAKE_MS);
  if (state === "open") {
    try {
      const list = await withTimeout(client.connectedTerminals(), TEST_TOTAL_MS - (Date.now() - started));
      return { ...base, ok: true, terminals: list.length, terminalIds: list.map((t) => t.terminalId), ms: Date.now() - started };
    } catch (e) {
      const code = e instanceof PacError && e.code === "TIMEOUT" ? "timeout" : "error";
      return { ...base, ok: false, problem: code, detail: runtime.redact(message(e)), ms: Date.now() - started };
    }
  }
  const reason = runtime.redact(runtime.connectionView.reason ?? String(state));
  if (state === "auth-failed") return { ...base, ok: false, problem: "auth", httpStatus: 401, detail: reason, ms: Date.now() - started };
  if (state === "displaced") return { ...base, ok: false, problem: "displaced", detail: reason, ms: Date.now() - started };
  if (state === "timeout") return { ...base, ok: false, problem: "timeout", detail: reason, ms: Date.now() - started };
  return { ...base, ok: false, ...classifyReason(reason), detail: reason, ms: Date.now() - started };
}

/** One throwaway client with a temporary journal; always closed and removed. */
async function testThrowaway(settings: ConfigSettings, started: number): Promise<TestResult> {
  const secrets = credentialSecrets(settings.accountName, settings.apiKey);
  const redact = (text: string): string => redactSecrets(text, secrets);
  const base = { source: "test" as const, environment: settings.environment, host: hostOf(settings.url) };
  const fail = (problem: TestProblem, detail: string, httpStatus?: number): TestResult => ({
    ...base,
    ok: false,
    problem,
    detail: redact(detail),
    ...(httpStatus !== undefined ? { httpStatus } : {}),
    ms: Date.now() - started,
  });
  const journalDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "dojo-pac-test-"));
  let client: PacClient | null = null;
  try {
    try {
      client = await PacClient.open({
        url: settings.url,
        accountName: settings.accountName,
        apiKey: settings.apiKey,
        eposId: settings.eposId,
        softwareHouseId: settings.softwareHouseId,
        resellerId: settings.resellerId,
        journalDir,
        requestTimeoutMs: Math.min(settings.requestTimeoutMs, TEST_TOTAL_MS),
        handshakeTimeoutMs: TEST_HANDSHAKE_MS,
        heartbeatIntervalMs: 0,
        authRetryMs: 24 * 3600_000,
        reconnect: { initialMs: 60_000, maxMs: 60_000, jitter: 0 },
      });
    } catch (e) {
      if (e instanceof PacError && e.code === "INSECURE_URL") return fail("url", message(e));
      return fail("error", message(e));
    }
    let lastInfo: StateInfo = {};
    let displaced = false;
    client.on("state", (s, info) => {
      lastInfo = info;
      if (s === "displaced") displaced = true;
    });
    client.on("warning", () => undefined);
    client.start();
    const state = await waitState(client, (s) => s !== "connecting" && s !== "idle", TEST_HANDSHAKE_MS + 1000);
    if (state === "open") {
      try {
        const list = await withTimeout(client.connectedTerminals(), Math.max(1000, TEST_TOTAL_MS - (Date.now() - started)));
        if (displaced) return fail("displaced", lastInfo.error?.message ?? lastInfo.reason ?? "displaced");
        return { ...base, ok: true, terminals: list.length, terminalIds: list.map((t) => t.terminalId), ms: Date.now() - started };
      } catch (e) {
        if (displaced) return fail("displaced", lastInfo.error?.message ?? lastInfo.reason ?? "displaced");
        const timeout = e instanceof PacError && e.code === "TIMEOUT";
        return fail(timeout ? "timeout" : "error", message(e));
      }
    }
    if (state === "timeout") return fail("timeout", `no answer from ${base.host ?? "the server"} within ${Math.round(TEST_HANDSHAKE_MS / 1000)} s`);
    if (state === "auth-failed") return fail("auth", lastInfo.error?.message ?? lastInfo.reason ?? "HTTP 401", Number(/\d{3}/.exec(lastInfo.reason ?? "")?.[0] ?? 401));
    if (state === "displaced") return fail("displaced", lastInfo.error?.message ?? "displaced");
    const reason = lastInfo.reason ?? String(state);
    const c = classifyReason(reason);
    return fail(c.problem, reason, c.httpStatus);
  } finally {
    if (client) await client.close().catch(() => undefined);
    await fs.promises.rm(journalDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The simulator environment, not deployed: a throwaway simulator shows that it works. */
async function testSimulator(settings: ConfigSettings, started: number): Promise<TestResult> {
  const sim = await PacSimulator.start({ host: "127.0.0.1", port: 0, delays: "zero", virtualTerminal: false, pingIntervalMs: 0 });
  try {
    const r = await testThrowaway({ ...settings, url: sim.url, ...sim.credentials }, started);
    return { ...r, environment: "simulator", host: undefined };
  } finally {
    await sim.stop();
  }
}

export async function testConnection(RED: AdminNodeAPI, body: Record<string, unknown>): Promise<TestResult> {
  const started = Date.now();
  const input = testInput(RED, body);
  if (typeof input === "string") return { ok: false, source: "test", problem: input, ms: Date.now() - started };
  const settings = readSettings(input.def, input.creds);
  const environment = input.def.environment;
  if (typeof settings === "string") {
    return { ok: false, source: "test", environment, problem: "config", detail: settings, ms: Date.now() - started };
  }
  const id = str(body.id);
  const deployedDefs = configDefs(RED);
  if (settings.environment === "simulator") {
    const node = configNode(RED, id);
    const def = deployedDefs.get(id);
    if (node && (def?.environment ?? "simulator") === "simulator" && node.pac.simulator) {
      return testDeployed(node.pac, started, "simulator");
    }
    return testSimulator(settings, started);
  }
  // A connection deployed here with the same identity: report on it, or refuse to displace it.
  for (const [otherId, def] of deployedDefs) {
    const node = configNode(RED, otherId);
    if (!node) continue;
    const other = readSettings(def, savedCredentials(RED, otherId));
    if (typeof other === "string" || !sameIdentity(settings, other)) continue;
    const state = node.pac.connectionView.state;
    // A deployed config no node uses has not started: testing it must not start it for good.
    if (otherId === id && sameSettings(settings, other) && state !== "idle") {
      return testDeployed(node.pac, started, settings.environment, hostOf(settings.url));
    }
    if (state === "open" || state === "connecting" || state === "starting") {
      return {
        ok: false,
        source: "deployed",
        environment,
        host: hostOf(settings.url),
        problem: "in-use",
        detail: node.name || other.eposId,
        ms: Date.now() - started,
      };
    }
  }
  return testThrowaway(settings, started);
}

// ---- status ---------------------------------------------------------------------------------------

export interface TerminalRow {
  terminalId: string;
  tid?: string;
  status?: string;
  /** The last notification of the payment running on it (from this EPOS). */
  step?: string;
  paymentId?: string;
  amount?: number;
  currency?: string;
}

export interface StatusReport {
  id: string;
  name?: string;
  environment?: string;
  eposId?: string;
  connection: { state: string; reason?: string; retryInMs?: number; journal?: string };
  terminals: TerminalRow[];
  /** Why terminals could not be listed (not connected, an error). */
  terminalsError?: string;
  payments: PaymentRow[];
  /** Relative URL of the virtual terminal page (simulator), else null. */
  virtualTerminal: string | null;
  /** Drain-only connections this config node left behind (a deploy changed its identity while payments were open). */
  draining: { eposId: string; state: string; open: number }[];
  at: number;
}

export async function statusReport(RED: AdminNodeAPI, node: PacConfigNode, connections: Connections | null = null): Promise<StatusReport> {
  const runtime = node.pac;
  const def = configDefs(RED).get(node.id);
  const view = runtime.connectionView;
  const client = runtime.client;
  const report: StatusReport = {
    id: node.id,
    name: node.name || undefined,
    environment: def?.environment ?? (runtime.simulator ? "simulator" : undefined),
    eposId: def?.eposId ?? client?.connection.eposId,
    connection: {
      state: view.state,
      ...(view.reason ? { reason: runtime.redact(view.reason) } : {}),
      ...(view.retryInMs !== undefined ? { retryInMs: view.retryInMs } : {}),
      ...(view.journal !== undefined ? { journal: view.journal } : {}),
    },
    terminals: [],
    payments: [],
    virtualTerminal: runtime.simulator && !runtime.simulator.isStopped ? `pac/vt/${encodeURIComponent(node.id)}/` : null,
    draining: (connections?.list().draining ?? [])
      .filter((rt) => rt.configId === node.id && rt.client)
      .map((rt) => ({ eposId: rt.client?.connection.eposId ?? "", state: rt.client?.state ?? "closed", open: rt.openWork() })),
    at: Date.now(),
  };
  if (!client) {
    report.terminalsError = "not-connected";
    return report;
  }
  report.payments = latestPayments(client);
  if (client.state === "open") {
    try {
      const list = await withTimeout(cachedTerminals(client), Math.min(runtime.requestTimeoutMs, 10_000));
      report.terminals = list.map((t) => ({ terminalId: t.terminalId, ...(t.tid ? { tid: t.tid } : {}), status: t.status }));
    } catch (e) {
      report.terminalsError = runtime.redact(message(e));
    }
  } else {
    report.terminalsError = "not-connected";
  }
  // The live step of each terminal: the newest unfinished payment on it.
  const running = report.payments.filter((p) => p.queryable && p.terminalId);
  for (const p of running) {
    let row = report.terminals.find((t) => t.terminalId === p.terminalId);
    if (!row) {
      row = { terminalId: p.terminalId as string };
      report.terminals.push(row);
    }
    if (row.paymentId) continue; // a newer one already
    row.paymentId = p.paymentId;
    row.step = p.step ?? p.status;
    row.amount = p.amount;
    row.currency = p.currency;
  }
  return report;
}

// ---- the routes -----------------------------------------------------------------------------------

function sendError(res: AdminResponse, status: number, error: string, detail?: string): void {
  res.status(status).json({ error, ...(detail ? { message: detail } : {}) });
}

/** The JSON body as an object (Node-RED's admin app parses JSON bodies). */
function bodyOf(req: AdminRequest): Record<string, unknown> | undefined {
  const b = req.body;
  return b !== null && typeof b === "object" && !Array.isArray(b) ? (b as Record<string, unknown>) : undefined;
}

const vtHandlers = new WeakMap<PacSimulator, Map<string, VirtualTerminalHandler>>();

function vtHandler(sim: PacSimulator, base: string, title: string): VirtualTerminalHandler {
  let byBase = vtHandlers.get(sim);
  if (!byBase) {
    byBase = new Map();
    vtHandlers.set(sim, byBase);
  }
  let h = byBase.get(base);
  if (!h) {
    h = createVirtualTerminalHandler(sim, { basePath: base, accountName: sim.credentials.accountName, title });
    byBase.set(base, h);
  }
  return h;
}

/** Per admin app (one per runtime): its routes are added once, and read the newest registry of connections. */
const registered = new WeakMap<object, { connections: Connections | null }>();

/** Register the routes once per admin app. Does nothing without httpAdmin (some test harnesses). */
export function registerAdminEndpoints(RED: AdminNodeAPI, connections: Connections | null = null): void {
  const app = RED.httpAdmin;
  if (!app) return;
  const known = registered.get(app);
  if (known) {
    known.connections = connections;
    return;
  }
  const current = { connections };
  registered.set(app, current);
  const allow: (p: string) => Middleware = (p) => (RED.auth ? RED.auth.needsPermission(p) : (_q, _s, next) => next());
  const read = allow(READ_PERMISSION);
  const write = allow(WRITE_PERMISSION);
  const deployed = (req: AdminRequest, res: AdminResponse): PacConfigNode | undefined => {
    const node = configNode(RED, req.params.configId);
    if (!node) sendError(res, 404, "not-deployed", "no deployed Dojo connection with this id");
    return node;
  };
  const guard =
    (fn: (req: AdminRequest, res: AdminResponse) => Promise<void>): Middleware =>
    (req, res) => {
      fn(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendError(res, 500, "error", message(e));
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
        const list = await withTimeout(cachedTerminals(client), Math.min(runtime.requestTimeoutMs, 10_000));
        res.json({ terminals: list.map((t) => ({ terminalId: t.terminalId, ...(t.tid ? { tid: t.tid } : {}), status: t.status })) });
      } catch (e) {
        sendError(res, 502, e instanceof PacError ? e.code : "error", runtime.redact(message(e)));
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
      res.json(await statusReport(RED, node, current.connections));
    }),
  );

  app.get(
    "/pac/open-payments",
    read,
    guard(async (_req, res) => {
      const list = current.connections
        ? await openPaymentsReport(current.connections, journalRoot(RED), (id) => configDefs(RED).get(id)?.environment)
        : [];
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
        sendError(res, status, pe?.remoteName ?? pe?.code ?? "error", runtime.redact(pe?.userMessage ?? message(e)));
      }
    }),
  );

  // The virtual terminal page: GET/HEAD need read, its actions (POST) write. Its script and style
  // sheet are the same static text for everyone and are loaded by <script src>/<link href>, which
  // cannot carry the page's ?access_token: they are served without a check.
  const vtPath = /^\/pac\/vt\/([^/?]+)(?:\/.*)?$/;
  const vtStatic = /^\/pac\/vt\/[^/?]+\/vt\/(?:app\.js|style\.css)$/;
  app.all(
    vtPath,
    (req, res, next) => {
      const get = req.method === "GET" || req.method === "HEAD";
      if (get && vtStatic.test((req.url ?? "").split("?")[0])) return next();
      (get ? read : write)(req, res, next);
    },
    (req, res, next) => {
      const raw = vtPath.exec((req.url ?? "").split("?")[0])?.[1] ?? "";
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
      vtHandler(sim, `/pac/vt/${raw}`, title)(req, res, next);
    },
  );
}
