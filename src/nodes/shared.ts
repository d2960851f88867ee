/**
 * Glue shared by the node types: message catalog lookup with English fallbacks, money formatting,
 * errors for Catch nodes, JSON-safe msg snapshots, the process-wide map of messages waiting for an
 * outcome, and a status line that combines the connection state with the node's own activity.
 */
import { PacError } from "../engine/errors";
import type { JsonValue } from "../engine/journal/journal";
import { InFlightMap } from "../common/in-flight-map";
import { moneyFormat } from "../common/money";
import type { ConnectionState } from "../engine/transport/connection";
import type { DoneFn, Node, NodeAPI, NodeMessage, NodeStatus } from "./red-types";

// ---- message catalog ---------------------------------------------------------------------------

export type Substitutions = Record<string, string | number>;
export type Translate = (key: string, fallback: string, subs?: Substitutions) => string;

function interpolate(text: string, subs?: Substitutions): string {
  if (!subs) return text;
  return text.replace(/__([A-Za-z0-9_]+?)__/g, (whole, name: string) => (name in subs ? String(subs[name]) : whole));
}

/**
 * Look `prefix.key` up in the node set's catalog; the English fallback is used when the catalog
 * has no such key (i18next then answers with the key itself) or lookup fails.
 */
export function makeTranslate(RED: NodeAPI, prefix: string): Translate {
  // Status texts are looked up on every notification: texts without substitutions are cached
  // (the runtime's language does not change while it runs).
  const cache = new Map<string, string>();
  return (key, fallback, subs) => {
    const full = `${prefix}.${key}`;
    if (!subs) {
      const hit = cache.get(full);
      if (hit !== undefined) return hit;
    }
    let text = interpolate(fallback, subs);
    try {
      const found = RED._(full, subs);
      if (typeof found === "string" && found !== "" && found !== full && !found.endsWith(`:${full}`)) text = found;
    } catch {
      /* fall back */
    }
    if (!subs && cache.size < 500) cache.set(full, text);
    return text;
  };
}

// ---- money ---------------------------------------------------------------------------------------

/** 1250 GBP -> "£12.50" (minor units by the currency's own number of decimals). */
export function formatMoney(amount: number | undefined, currency: string | undefined): string {
  if (typeof amount !== "number" || !Number.isFinite(amount)) return "";
  const f = currency ? moneyFormat(currency) : null;
  if (!f) return currency ? `${amount} ${currency} minor units` : String(amount);
  return f.format(amount / 10 ** f.digits);
}

/** "send msg.payload = 1250 for £12.50" in the given currency (GBP when unknown). */
export function amountExample(currency: string | undefined): string {
  const cur = currency && moneyFormat(currency) ? currency : "GBP";
  return `send msg.payload = 1250 for ${formatMoney(1250, cur)}`;
}

// ---- errors --------------------------------------------------------------------------------------

/**
 * What a Catch node receives: `msg.error.message` is the text, `msg.error.code` the reason
 * (INVALID_INPUT, NOT_CONNECTED, TIMEOUT, CONNECTION_LOST, or Dojo's error name such as
 * TERMINAL_BUSY), and `paymentId` when one is concerned.
 */
export class FlowError extends Error {
  readonly code: string;
  readonly paymentId?: string;
  constructor(code: string, message: string, paymentId?: string) {
    super(message);
    this.name = "PacError";
    this.code = code;
    if (paymentId !== undefined) this.paymentId = paymentId;
  }
}

export function invalidInput(message: string, paymentId?: string): FlowError {
  return new FlowError("INVALID_INPUT", message, paymentId);
}

export function isPacError(e: unknown): e is PacError {
  return e instanceof PacError;
}

/** Any thrown value as a FlowError whose text is safe to show (the engine redacts its own). */
export function toFlowError(e: unknown, redact: (s: string) => string = (s) => s): FlowError {
  if (e instanceof FlowError) return e;
  if (e instanceof PacError) {
    const code = e.code === "REMOTE" ? (e.remoteName ?? "REMOTE") : e.code;
    return new FlowError(code, redact(e.message), e.paymentId);
  }
  if (e instanceof Error) return new FlowError("ERROR", redact(e.message));
  return new FlowError("ERROR", redact(String(e)));
}

// ---- JSON-safe snapshot of a msg ------------------------------------------------------------------

/** Kept with a payment in the journal, to rebuild the msg after a restart. */
export const CTX_MAX_BYTES = 16 * 1024;
/** Never stored: live objects (HTTP in/out) and the request itself (replaced by the result). */
const CTX_SKIP = new Set(["req", "res", "payload"]);
const MAX_DEPTH = 32;

function toJson(v: unknown, ancestors: object[], depth: number): JsonValue | undefined {
  if (v === null) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : null;
    case "object":
      break;
    default:
      return undefined; // function, symbol, bigint, undefined
  }
  if (depth > MAX_DEPTH) return undefined;
  const obj = v as object;
  if (ancestors.includes(obj)) return undefined; // circular
  const withToJson = obj as { toJSON?: unknown };
  if (typeof withToJson.toJSON === "function") {
    const j: unknown = (withToJson.toJSON as () => unknown).call(obj);
    return j === obj ? undefined : toJson(j, [...ancestors, obj], depth + 1);
  }
  ancestors.push(obj);
  try {
    if (Array.isArray(obj)) return obj.map((x) => toJson(x, ancestors, depth + 1) ?? null);
    const out: { [k: string]: JsonValue } = {};
    for (const k of Object.keys(obj)) {
      const j = toJson((obj as Record<string, unknown>)[k], ancestors, depth + 1);
      if (j !== undefined) out[k] = j;
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

/**
 * A JSON-safe copy of msg without req, res, payload, functions and circular references; undefined
 * when it would exceed `maxBytes` (then the payment simply has no context to restore).
 */
export function snapshotMsg(msg: NodeMessage, maxBytes = CTX_MAX_BYTES): JsonValue | undefined {
  try {
    const out: { [k: string]: JsonValue } = {};
    for (const k of Object.keys(msg)) {
      if (CTX_SKIP.has(k)) continue;
      const j = toJson(msg[k], [msg], 1);
      if (j !== undefined) out[k] = j;
    }
    return Buffer.byteLength(JSON.stringify(out), "utf8") <= maxBytes ? out : undefined;
  } catch {
    return undefined; // a getter that throws, a hostile toJSON: no context rather than no payment
  }
}

/** The msg to send after a restart: the stored context, or a fresh msg. */
export function msgFromCtx(ctx: JsonValue | undefined): NodeMessage {
  if (ctx !== null && typeof ctx === "object" && !Array.isArray(ctx)) return { ...ctx };
  return {};
}

// ---- the process-wide map of messages waiting for their outcome -------------------------------------

export interface Waiting {
  /** The original input msg, with everything it carried (msg.res included). */
  msg: NodeMessage;
  /** The node instance that took it; cleared when that instance closes. */
  instance: object | null;
  /** That instance's done() for the msg; called when the result is sent, or at close. */
  done: DoneFn | null;
}

/**
 * Keyed by paymentId; module-level so it survives redeploys (a new instance of the node, same id,
 * sends the result with the original msg). Holds only payments whose result has not been sent.
 */
export const waiting = new InFlightMap<string, Waiting>();

/** Complete the msg of a closing instance (Complete nodes fire; nothing leaks); keep the msg. */
export function releaseInstance(instance: object): void {
  for (const w of waiting.values()) {
    if (w.instance !== instance) continue;
    const done = w.done;
    w.instance = null;
    w.done = null;
    try {
      done?.();
    } catch {
      /* a done() of a stopped flow */
    }
  }
}

// ---- status ------------------------------------------------------------------------------------

/** What the config node reports about its connection. */
export interface ConnectionView {
  state: ConnectionState | "starting" | "config-error" | "identity-in-use";
  reason?: string;
  retryInMs?: number;
  /** The journal cannot write: a few words on why ("disk full"); new sales are refused meanwhile. */
  journal?: string;
}

/** A connection text: the node's status.state.* key, else its runtime.* key, else English. */
function stateText(t: Translate, key: string, english: string, subs?: Substitutions): string {
  return t(`status.state.${key}`, t(`runtime.${key}`, english, subs), subs);
}

/** Connection state in plain words for a user node's status. */
export function connectionStatus(view: ConnectionView, t: Translate): NodeStatus {
  // Whatever the socket does, a journal that cannot write stops sales: that is what to show.
  if (view.journal !== undefined) {
    return { fill: "red", shape: "ring", text: stateText(t, "journalFailed", "journal: __reason__", { reason: view.journal }) };
  }
  switch (view.state) {
    case "idle":
    case "starting":
    case "connecting":
      return { fill: "yellow", shape: "ring", text: stateText(t, "connecting", "connecting to Dojo") };
    case "open":
      return { fill: "green", shape: "dot", text: stateText(t, "connected", "connected") };
    case "reconnecting": {
      const secs = view.retryInMs !== undefined ? Math.max(1, Math.round(view.retryInMs / 1000)) : undefined;
      return {
        fill: "red",
        shape: "ring",
        text:
          secs !== undefined
            ? stateText(t, "reconnecting", "disconnected: reconnecting in __seconds__ s", { seconds: secs })
            : stateText(t, "disconnected", "not connected"),
      };
    }
    case "auth-failed":
      return { fill: "red", shape: "ring", text: stateText(t, "authFailed", "auth failed: check account name and API key") };
    case "displaced":
      return { fill: "red", shape: "ring", text: stateText(t, "displaced", "another till uses this EPOS id") };
    case "identity-in-use":
      return { fill: "red", shape: "ring", text: stateText(t, "identityInUse", "epos-id in use") };
    case "config-error":
      return {
        fill: "red",
        shape: "ring",
        text: stateText(t, "configError", "configuration: __reason__", { reason: view.reason ?? "invalid" }),
      };
    case "closing":
    case "closed":
    default:
      return { fill: "grey", shape: "ring", text: stateText(t, "disconnected", "not connected") };
  }
}

/**
 * A node's status line: the connection state while it is not open, else the node's own activity
 * (a payment's step, a result) when there is one.
 */
export class StatusLine {
  private connection: NodeStatus = {};
  private connected = false;
  private activity: NodeStatus | null = null;

  constructor(
    private readonly node: Node,
    private readonly t: Translate,
  ) {}

  setConnection(view: ConnectionView): void {
    this.connection = connectionStatus(view, this.t);
    this.connected = view.state === "open" && view.journal === undefined;
    this.show();
  }

  setActivity(status: NodeStatus | null): void {
    this.activity = status;
    this.show();
  }

  private show(): void {
    this.node.status(this.connected && this.activity ? this.activity : this.connection);
  }
}

// ---- small readers -----------------------------------------------------------------------------

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** A short description of an unexpected value for an error message. */
export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return typeof v;
}

/** The payment a msg names: msg.payload.paymentId, else msg.paymentId (unchecked). */
export function paymentIdOf(msg: NodeMessage): unknown {
  const p = msg.payload;
  return (isPlainObject(p) ? p.paymentId : undefined) ?? msg.paymentId;
}

export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}
