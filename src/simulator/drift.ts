/**
 * Drift: the simulator playing a Dojo that differs from our contract, to test `dojo-pac-check` (it
 * must report each drift, and nothing else) and the client's tolerance. Applied to every frame the
 * simulator sends, after encoding, so the rest of the simulator speaks the contract unchanged.
 */
import { isPlainObject } from "../common/json";
import { ERROR_CODE, FIELD, JSONRPC_VERSION, METHOD, NOTIFICATION } from "../protocol";

export const DRIFT_KINDS = ["renamedFields", "errorNumbers", "stringIds", "unknownNotification", "errorsUnderError"] as const;
export type SimDriftKind = (typeof DRIFT_KINDS)[number];

/** What each drift does, named so tests and the check's tests can say what to expect. */
export const DRIFT = {
  /** TerminalNotification params and GetPayment results: contract name -> drifted name. */
  renames: { [FIELD.notificationValue]: "notification", [FIELD.lastNotification]: "lastNotificationValue" },
  /** Dojo's own codes (-32070 … -32079) move by this much. */
  errorNumberShift: -11,
  /** Sent before each APPROVED notification. */
  unknownNotification: "AUTHORISING",
} as const;

const OWN_CODES = new Set<number>(Object.values(ERROR_CODE).filter((c) => c <= -32070 && c >= -32079));

/** Parse `--drift all` or a comma list; throws on an unknown name. */
export function parseDrift(value: string | readonly string[] | undefined): SimDriftKind[] {
  if (value === undefined) return [];
  const names =
    typeof value === "string"
      ? value
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : [...value];
  if (names.includes("all")) return [...DRIFT_KINDS];
  for (const n of names) if (!(DRIFT_KINDS as readonly string[]).includes(n)) throw new Error(`unknown drift "${n}" (one of: all, ${DRIFT_KINDS.join(", ")})`);
  return [...new Set(names as SimDriftKind[])];
}

function renameKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[(DRIFT.renames as Record<string, string>)[k] ?? k] = v;
  return out;
}

/** The frames to send instead of `text` (one or more); `text` itself when no drift applies. */
export function driftFrame(text: string, kinds: ReadonlySet<SimDriftKind>): string[] {
  if (kinds.size === 0) return [text];
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return [text];
  }
  if (!isPlainObject(frame)) return [text];
  const f: Record<string, unknown> = { ...frame };
  const before: Record<string, unknown>[] = [];
  const params = isPlainObject(f.params) ? f.params : undefined;
  const result = isPlainObject(f.result) ? f.result : undefined;
  const isError = result !== undefined && typeof result.code === "number";

  if (kinds.has("unknownNotification") && f.method === METHOD.terminalNotification && params?.[FIELD.notificationValue] === NOTIFICATION.APPROVED) {
    before.push({ jsonrpc: JSONRPC_VERSION, method: METHOD.terminalNotification, params: { ...params, [FIELD.notificationValue]: DRIFT.unknownNotification } });
  }
  if (kinds.has("errorNumbers") && isError && OWN_CODES.has(result.code as number)) {
    f.result = { ...result, code: (result.code as number) + DRIFT.errorNumberShift };
  }
  if (kinds.has("errorsUnderError") && isError) {
    f.error = f.result;
    delete f.result;
  }
  if (kinds.has("renamedFields")) {
    if (f.method === METHOD.terminalNotification && params) f.params = renameKeys(params);
    if (!isError && result && FIELD.lastNotification in result) f.result = renameKeys(result);
    for (const b of before) if (isPlainObject(b.params)) b.params = renameKeys(b.params);
  }
  if (kinds.has("stringIds") && typeof f.id === "number") f.id = String(f.id);
  return [...before, f].map((o) => JSON.stringify(o));
}
