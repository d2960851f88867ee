/**
 * A pac-config node's settings: its flow properties and credentials read and checked, the
 * administrator's tuning from settings.js, where journals live, the options of the built-in
 * simulator, and the one place those become the options of a PacClient (a deployed connection and
 * the editor's connection test build them alike).
 */
import * as os from "node:os";
import * as path from "node:path";
import type { PacClientOptions, ProbeOptions } from "../engine";
import { DOJO_URLS } from "../protocol";
import type { SimulatorOptions } from "../simulator";
import type { NodeAPI } from "./red-types";

export type Environment = "simulator" | "staging" | "production" | "custom";

/** The pac-config node's properties, as in the flow file. */
export interface ConfigDef {
  id: string;
  type: string;
  name?: string;
  environment?: string;
  url?: string;
  eposId?: string;
  softwareHouseId?: string;
  resellerId?: string;
  requestTimeout?: number | string;
  /** The most one sale, pre-auth or refund may be, in minor units (empty: DEFAULT_MAX_AMOUNT). */
  maxAmount?: number | string;
}

export interface ConfigCredentials {
  accountName?: string;
  apiKey?: string;
}

/** Everything the runtime needs, checked. */
export interface ConfigSettings {
  environment: Environment;
  url: string;
  eposId: string;
  softwareHouseId: string;
  resellerId?: string;
  requestTimeoutMs: number;
  /** The most one sale, pre-auth or refund may be (minor units): refused above it, nothing sent. */
  maxAmount: number;
  accountName: string;
  apiKey: string;
}

/**
 * A connection's maximum per payment when its settings give none: 100,000 minor units (£1,000.00).
 * A stray number (an inject's timestamp) must not become a sale; a shop that sells sofas raises it.
 */
export const DEFAULT_MAX_AMOUNT = 100_000;

/** Used when the simulator environment has no software house id. */
export const SIMULATOR_SOFTWARE_HOUSE_ID = "shopflow-node-red-simulator";

// ---- the built-in simulator ------------------------------------------------------------------------

/**
 * Options of a built-in simulator. The environment variable PAC_SIMULATOR_DELAYS (`zero`,
 * `realistic` or ms per step) sets its delays (the tests choose zero).
 */
export function simulatorOptions(): SimulatorOptions {
  // No page on the simulator's own port: Node-RED serves it (pac/vt/<id>/) behind its admin auth,
  // and any local process could otherwise play the customer without logging in.
  const opts: SimulatorOptions = { host: "127.0.0.1", port: 0, virtualTerminal: false };
  const env = process.env.PAC_SIMULATOR_DELAYS;
  if (env === "zero" || env === "realistic") opts.delays = env;
  else if (env && Number.isFinite(Number(env)) && Number(env) >= 0) opts.delays = Number(env);
  return opts;
}

// ---- settings ---------------------------------------------------------------------------------

function str(v: unknown): string {
  return typeof v === "string" ? v.trim() : "";
}

/** The settings, or the reason they cannot work (shown on the user nodes, given to Catch). */
export function readSettings(def: ConfigDef, creds: ConfigCredentials | undefined): ConfigSettings | string {
  const env = str(def.environment) || "simulator";
  if (env !== "simulator" && env !== "staging" && env !== "production" && env !== "custom") {
    return `unknown environment "${env}"`;
  }
  const eposId = str(def.eposId);
  if (!eposId) return "the EPOS id is missing (unique per till)";
  const t = Number(def.requestTimeout ?? 30);
  const requestTimeoutMs = Number.isFinite(t) && t > 0 ? Math.round(t * 1000) : 30_000;
  const resellerId = str(def.resellerId) || undefined;
  const m = def.maxAmount === undefined || def.maxAmount === "" ? DEFAULT_MAX_AMOUNT : Number(def.maxAmount);
  if (!Number.isSafeInteger(m) || m <= 0) return "the maximum amount must be a whole number of minor units greater than 0 (100000 = £1,000.00)";
  const maxAmount = m;
  if (env === "simulator") {
    return {
      environment: env,
      url: "",
      eposId,
      softwareHouseId: str(def.softwareHouseId) || SIMULATOR_SOFTWARE_HOUSE_ID,
      resellerId,
      requestTimeoutMs,
      maxAmount,
      accountName: "",
      apiKey: "",
    };
  }
  const url = env === "custom" ? str(def.url) : DOJO_URLS[env];
  if (!url) return "the URL is missing";
  const softwareHouseId = str(def.softwareHouseId);
  if (!softwareHouseId) return "the software house id is missing";
  const accountName = str(creds?.accountName);
  const apiKey = typeof creds?.apiKey === "string" ? creds.apiKey : "";
  if (!accountName || !apiKey) return "the account name and API key are missing";
  return { environment: env, url, eposId, softwareHouseId, resellerId, requestTimeoutMs, maxAmount, accountName, apiKey };
}

/** Where live connections keep their journals: `<userDir>/dojo-pac-journal`. */
export function journalRoot(RED: NodeAPI): string {
  let userDir: string | undefined;
  try {
    userDir = RED.settings.userDir;
  } catch {
    userDir = undefined;
  }
  return path.join(typeof userDir === "string" && userDir ? userDir : os.tmpdir(), "dojo-pac-journal");
}

/**
 * Settings only an administrator can set (settings.js, `dojoPac: {...}`), never a flow:
 * - `heartbeatIntervalMs`: ping interval of the Dojo connection (default 15 000; 0 = off);
 * - `allowInsecure`: allow ws:// to a host that is not loopback (never for real money).
 */
export interface RuntimeTuning {
  heartbeatIntervalMs?: number;
  allowInsecure: boolean;
}

export function runtimeTuning(RED: NodeAPI): RuntimeTuning {
  let raw: unknown;
  try {
    raw = (RED.settings as { dojoPac?: unknown }).dojoPac;
  } catch {
    raw = undefined;
  }
  const o = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  const hb = o.heartbeatIntervalMs;
  return {
    ...(typeof hb === "number" && Number.isFinite(hb) && hb >= 0 ? { heartbeatIntervalMs: hb } : {}),
    allowInsecure: o.allowInsecure === true,
  };
}

// ---- client options --------------------------------------------------------------------------------

/** What only the caller knows (the journal's place) and what it sets its own way (a test's short bounds). */
export type ClientExtras = Pick<PacClientOptions, "journalDir"> & Partial<Omit<PacClientOptions, "journalDir">>;

/**
 * The options of a PacClient for these settings and this tuning: endpoint, identity, credentials,
 * the administrator's allowInsecure and heartbeat, the request timeout. `extras` come last and win.
 */
export function clientOptions(settings: ConfigSettings, tuning: RuntimeTuning, extras: ClientExtras): PacClientOptions {
  return { ...connectionOptions(settings, tuning), maxAmount: settings.maxAmount, ...extras };
}

/** The same without a journal: for a ConnectionProbe (the editor's connection test). */
export function connectionOptions(settings: ConfigSettings, tuning: RuntimeTuning, extras: Partial<ProbeOptions> = {}): ProbeOptions {
  return {
    url: settings.url,
    accountName: settings.accountName,
    apiKey: settings.apiKey,
    allowInsecure: tuning.allowInsecure,
    ...(tuning.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: tuning.heartbeatIntervalMs } : {}),
    eposId: settings.eposId,
    softwareHouseId: settings.softwareHouseId,
    resellerId: settings.resellerId,
    requestTimeoutMs: settings.requestTimeoutMs,
    ...extras,
  };
}
