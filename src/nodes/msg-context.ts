/**
 * The JSON-safe context of a msg, journaled with its payment so the msg can be rebuilt after a
 * restart (its live parts, such as an HTTP response, cannot be).
 */
import type { JsonValue } from "../engine";
import type { NodeMessage } from "./red-types";

/** Kept with a payment in the journal, to rebuild the msg after a restart. */
export const CTX_MAX_BYTES = 16 * 1024;
/** Never stored: live objects (HTTP in/out) and the request itself (replaced by the result). */
const CTX_SKIP: ReadonlySet<string> = new Set(["req", "res", "payload"]);
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
  const obj = v;
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
