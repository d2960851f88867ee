/**
 * POST pac/test-connection: try the config dialog's current values.
 *
 * The body is the dialog's values plus the credentials as typed. An API key of `__PWRD__` (what
 * Node-RED's editor holds for an unchanged password) or `_`, and an account name of `_`, mean "the
 * saved one" (RED.nodes.getCredentials(id)). It never opens a second connection with the epos-id of
 * a connection deployed in this Node-RED that is up (Dojo would disconnect the older one): then it
 * reports on that connection instead. A throwaway connection is built like a deployed one
 * (clientOptions, with settings.js's dojoPac tuning), with short bounds and a temporary journal.
 */
import { ConnectionProbe, PacError, credentialSecrets, redactSecrets, waitForState, withTimeout } from "../../engine";
import type { PacClient, StateInfo } from "../../engine";
import { PacSimulator } from "../../simulator";
import type { ConfigRuntime } from "../config-runtime";
import { connectionOptions, readSettings, runtimeTuning } from "../settings";
import type { ConfigCredentials, ConfigDef, ConfigSettings, RuntimeTuning } from "../settings";
import { configDefs, configNode, savedCredentials } from "./deployed";
import { errorText } from "./http";
import type { AdminNodeAPI } from "./http";

/** Node-RED's editor holds this in place of a saved password it did not send to the browser. */
const SAVED_PASSWORD = "__PWRD__";
const SAVED = "_";

/** Bounds of a connection test. */
const TEST_HANDSHAKE_MS = 8000;
const TEST_TOTAL_MS = 15_000;

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

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** The body of test-connection (and of the check) as ConfigDef + credentials (saved ones filled in). */
export function testInput(RED: AdminNodeAPI, body: Record<string, unknown>): { def: ConfigDef; creds: ConfigCredentials } | TestProblem {
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

const settled = (s: string): boolean => s !== "connecting" && s !== "idle";

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
    return { ...base, ok: false, problem: "error", detail: runtime.redact(errorText(e)), ms: Date.now() - started };
  }
  const state = await waitForState(client, settled, TEST_HANDSHAKE_MS);
  if (state === "open") {
    try {
      const list = await withTimeout(client.connectedTerminals(), TEST_TOTAL_MS - (Date.now() - started));
      return { ...base, ok: true, terminals: list.length, terminalIds: list.map((t) => t.terminalId), ms: Date.now() - started };
    } catch (e) {
      const code = e instanceof PacError && e.code === "TIMEOUT" ? "timeout" : "error";
      return { ...base, ok: false, problem: code, detail: runtime.redact(errorText(e)), ms: Date.now() - started };
    }
  }
  const reason = runtime.redact(runtime.connectionView.reason ?? String(state));
  if (state === "auth-failed") return { ...base, ok: false, problem: "auth", httpStatus: 401, detail: reason, ms: Date.now() - started };
  if (state === "displaced") return { ...base, ok: false, problem: "displaced", detail: reason, ms: Date.now() - started };
  if (state === "timeout") return { ...base, ok: false, problem: "timeout", detail: reason, ms: Date.now() - started };
  return { ...base, ok: false, ...classifyReason(reason), detail: reason, ms: Date.now() - started };
}

/**
 * One throwaway probe (no journal: it stores, and so acknowledges, nothing Dojo sends it); always
 * closed.
 */
async function testThrowaway(settings: ConfigSettings, tuning: RuntimeTuning, started: number): Promise<TestResult> {
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
  let client: ConnectionProbe | null = null;
  try {
    try {
      client = new ConnectionProbe(
        connectionOptions(settings, tuning, {
          requestTimeoutMs: Math.min(settings.requestTimeoutMs, TEST_TOTAL_MS),
          handshakeTimeoutMs: TEST_HANDSHAKE_MS,
          heartbeatIntervalMs: 0,
          authRetryMs: 24 * 3600_000,
          reconnect: { initialMs: 60_000, maxMs: 60_000, jitter: 0 },
        }),
      );
    } catch (e) {
      if (e instanceof PacError && e.code === "INSECURE_URL") return fail("url", errorText(e));
      return fail("error", errorText(e));
    }
    let lastInfo: StateInfo = {};
    let displaced = false;
    client.on("state", (s, info) => {
      lastInfo = info;
      if (s === "displaced") displaced = true;
    });
    client.on("warning", () => undefined);
    client.start();
    const state = await waitForState(client, settled, TEST_HANDSHAKE_MS + 1000);
    if (state === "open") {
      try {
        const list = await withTimeout(client.connectedTerminals(), Math.max(1000, TEST_TOTAL_MS - (Date.now() - started)));
        if (displaced) return fail("displaced", lastInfo.error?.message ?? lastInfo.reason ?? "displaced");
        return { ...base, ok: true, terminals: list.length, terminalIds: list.map((t) => t.terminalId), ms: Date.now() - started };
      } catch (e) {
        if (displaced) return fail("displaced", lastInfo.error?.message ?? lastInfo.reason ?? "displaced");
        const timeout = e instanceof PacError && e.code === "TIMEOUT";
        return fail(timeout ? "timeout" : "error", errorText(e));
      }
    }
    if (state === "timeout") return fail("timeout", `no answer from ${base.host ?? "the server"} within ${Math.round(TEST_HANDSHAKE_MS / 1000)} s`);
    if (state === "auth-failed")
      return fail("auth", lastInfo.error?.message ?? lastInfo.reason ?? "HTTP 401", Number(/\d{3}/.exec(lastInfo.reason ?? "")?.[0] ?? 401));
    if (state === "displaced") return fail("displaced", lastInfo.error?.message ?? "displaced");
    const reason = lastInfo.reason ?? String(state);
    const c = classifyReason(reason);
    return fail(c.problem, reason, c.httpStatus);
  } finally {
    if (client) await client.close().catch(() => undefined);
  }
}

/** The simulator environment, not deployed: a throwaway simulator shows that it works. */
async function testSimulator(settings: ConfigSettings, tuning: RuntimeTuning, started: number): Promise<TestResult> {
  const sim = await PacSimulator.start({ host: "127.0.0.1", port: 0, delays: "zero", virtualTerminal: false, pingIntervalMs: 0 });
  try {
    const r = await testThrowaway({ ...settings, url: sim.url, ...sim.credentials }, tuning, started);
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
  const tuning = runtimeTuning(RED);
  const id = str(body.id);
  const deployedDefs = configDefs(RED);
  if (settings.environment === "simulator") {
    const node = configNode(RED, id);
    const def = deployedDefs.get(id);
    if (node && (def?.environment ?? "simulator") === "simulator" && node.pac.simulator) {
      return testDeployed(node.pac, started, "simulator");
    }
    return testSimulator(settings, tuning, started);
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
  return testThrowaway(settings, tuning, started);
}
