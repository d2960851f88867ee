/**
 * Compares one frame from Dojo with the contract: envelope, id type, fields (unknown, missing,
 * renamed, wrong type, unknown value), and errors (code, message, userMessage, where they sit).
 * Pure: frames in, findings out; the session adds the step and counts repeats.
 */
import { isPlainObject } from "../common/json";
import {
  ERRORS_UNDER_RESULT,
  ERROR_CODE,
  ERROR_CODE_ALIASES,
  ERROR_MESSAGE,
  EXPECTED_ID_TYPE,
  FIELD,
  METHOD,
  SCHEMA,
  aliasedField,
  canonicalFieldName,
  expectedFields,
  expectedType,
  isKnownMethod,
} from "../protocol";
import type { ErrorName, FieldType, MethodName } from "../protocol";
import { methodKey, protocolLine } from "./locate";
import type { FixLocation } from "./locate";

export type DeviationKind =
  | "envelope"
  | "unknown-method"
  | "unknown-field"
  | "missing-field"
  | "renamed-field"
  | "wrong-type"
  | "unknown-value"
  | "id-type"
  | "error-location"
  | "error-code"
  | "error-message"
  | "user-message"
  | "unexpected-error"
  | "unexpected-result"
  | "no-answer"
  | "close-code"
  | "timing";

/** One difference between what came and what the contract says. */
export interface Finding {
  /** e.g. "CreatePayment response", "TerminalNotification" */
  operation: string;
  /** JSON path inside the frame, e.g. "result.terminals[].status" */
  path: string;
  kind: DeviationKind;
  expected: string;
  got: string;
  fix: FixLocation;
}

export type Expectation = { kind: "result" } | { kind: "error"; name: ErrorName };

type Obj = Record<string, unknown>;
const ENVELOPE = new Set(["jsonrpc", "id", "method", "params", "result", "error"]);

/** A short description of a value: its type and (abridged) JSON. */
export function describeValue(v: unknown): string {
  const json = JSON.stringify(v) ?? String(v);
  const text = json.length > 80 ? `${json.slice(0, 77)}...` : json;
  if (v === null) return "null";
  if (Array.isArray(v)) return `array ${text}`;
  if (typeof v === "number") return `${Number.isInteger(v) ? "integer" : "number"} ${text}`;
  return `${typeof v} ${text}`;
}

function typeName(t: FieldType): string {
  return t.kind === "enum" ? `one of ${t.values.length} known values (string)` : t.kind;
}

function hasType(t: FieldType, v: unknown): boolean {
  switch (t.kind) {
    case "string":
    case "enum":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "isoTime":
      return typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v) && !Number.isNaN(Date.parse(v));
    case "stringArray":
      return Array.isArray(v) && v.every((x) => typeof x === "string");
    case "object":
      return isPlainObject(v);
    case "array":
      return Array.isArray(v);
  }
}

/** Where the value list of an enum field lives. */
function enumLine(method: MethodName, field: string, value: string): FixLocation {
  const what = `add ${value} if it is one of Dojo's values (unknown values are passed through meanwhile)`;
  if (field === FIELD.notificationValue || field === FIELD.lastNotification) return protocolLine("wire", "export const NOTIFICATION", what);
  if (field === FIELD.captureMode) return protocolLine("wire", "export const CAPTURE_MODE", what);
  if (field === FIELD.status && (method === METHOD.terminalDetails || method === METHOD.connectedTerminals)) {
    return protocolLine("wire", "export const TERMINAL_STATUS", what);
  }
  if (field === FIELD.status) return protocolLine("wire", "export const PAYMENT_STATUS", what);
  return protocolLine("conformance", "export const FIELD_TYPES", what, field);
}

class Collector {
  readonly findings: Finding[] = [];
  constructor(
    readonly operation: string,
    readonly method: MethodName,
  ) {}

  add(path: string, kind: DeviationKind, expected: string, got: string, fix: FixLocation): void {
    this.findings.push({ operation: this.operation, path, kind, expected, got, fix });
  }

  /** Type and value of one field, under the contract's name `field`, found at `path`. */
  value(field: string, v: unknown, path: string): void {
    const t = expectedType(this.method, field);
    if (!t) return;
    if (!hasType(t, v)) {
      this.add(path, "wrong-type", typeName(t), describeValue(v), protocolLine("conformance", "export const FIELD_TYPES", `the type of ${field}`, field));
      return;
    }
    if (t.kind === "enum" && !t.values.includes(v as string)) {
      this.add(path, "unknown-value", `one of the contract's ${field} values`, JSON.stringify(v), enumLine(this.method, field, String(v)));
    }
  }

  /** Unknown, missing and renamed fields of an object, then the type of each known one. */
  fields(o: Obj, base: string, part: "params" | "result", expected: readonly string[], known: readonly string[]): void {
    const missing = expected.filter((f) => aliasedField(o, f) === undefined);
    const unknown = Object.keys(o).filter((k) => !known.includes(k) && !known.includes(canonicalFieldName(k)));
    const spec = `SCHEMA.${this.method}.${part}`;
    if (missing.length === 1 && unknown.length === 1) {
      const [was, now] = [missing[0], unknown[0]];
      this.add(
        `${base}.${now}`,
        "renamed-field",
        `"${was}"`,
        `"${now}"`,
        protocolLine(
          "aliases",
          "export const FIELD_ALIASES",
          `add [FIELD.${was}]: ["${now}"] (both names read); rename FIELD.${was} in schema.ts once Dojo has moved`,
        ),
      );
      this.value(was, o[now], `${base}.${now}`);
    } else {
      for (const f of missing) {
        this.add(
          `${base}.${f}`,
          "missing-field",
          `"${f}" present`,
          "absent",
          protocolLine("schema", "export const FIELD", `FIELD.${f}: Dojo's name for it, or drop it from ${spec}`, f),
        );
      }
      for (const k of unknown) {
        this.add(
          `${base}.${k}`,
          "unknown-field",
          `only ${spec} fields`,
          `"${k}": ${describeValue(o[k])}`,
          protocolLine(
            "schema",
            "export const SCHEMA",
            `add FIELD.${k} to ${spec} if Dojo sends it (read-only fields are accepted either way)`,
            methodKey(this.method),
          ),
        );
      }
    }
    for (const k of Object.keys(o)) {
      const name = canonicalFieldName(k);
      if (known.includes(name)) this.value(name, o[k], `${base}.${k}`);
    }
  }

  envelope(frame: Obj): void {
    if (frame.jsonrpc !== "2.0")
      this.add("jsonrpc", "envelope", '"2.0"', describeValue(frame.jsonrpc), protocolLine("wire", "export const JSONRPC_VERSION", "the version Dojo sends"));
    for (const k of Object.keys(frame)) {
      if (!ENVELOPE.has(k))
        this.add(
          k,
          "envelope",
          "jsonrpc, id, method, params, result, error",
          `"${k}"`,
          protocolLine("wire", "export const JSONRPC_VERSION", "JSON-RPC 2.0 envelope"),
        );
    }
  }

  idType(id: unknown): void {
    if (EXPECTED_ID_TYPE === "integer" && !(typeof id === "number" && Number.isInteger(id))) {
      this.add(
        "id",
        "id-type",
        EXPECTED_ID_TYPE,
        // The type only: one finding per operation, not one per id.
        id === null ? "null" : Array.isArray(id) ? "array" : typeof id,
        protocolLine("conformance", "export const EXPECTED_ID_TYPE", "the id type Dojo uses (either is read)"),
      );
    }
  }
}

/** The error object of a response and where it sat, or undefined for a success. */
export function errorOf(frame: Obj): { at: "result" | "error"; error: Obj } | undefined {
  if (frame.error !== undefined) return { at: "error", error: isPlainObject(frame.error) ? frame.error : { message: frame.error } };
  const r = frame.result;
  if (isPlainObject(r) && (typeof r.code === "number" || r[FIELD.errorCode] !== undefined)) return { at: "result", error: r };
  return undefined;
}

function errorSummary(e: Obj): string {
  const data = isPlainObject(e.data) ? e.data : {};
  const um = data[FIELD.userMessage] ?? e[FIELD.userMessage];
  return `error ${JSON.stringify(e.code ?? e[FIELD.errorCode])} ${JSON.stringify(e.message)}${typeof um === "string" ? ` (${um})` : ""}`;
}

/** Dojo's answer to one of our requests. */
export function compareResponse(method: MethodName, frame: Obj, expect: Expectation): Finding[] {
  const c = new Collector(`${method} response`, method);
  c.envelope(frame);
  c.idType(frame.id);
  const err = errorOf(frame);
  const schemaLine = (what: string): FixLocation => protocolLine("schema", "export const SCHEMA", what, methodKey(method));
  if (expect.kind === "result") {
    if (err) {
      c.add(
        err.at,
        "unexpected-error",
        "a result",
        errorSummary(err.error),
        schemaLine(`Dojo refused what the contract allows: read its userMessage; SCHEMA.${method}.params may differ`),
      );
      return c.findings;
    }
    const result = isPlainObject(frame.result) ? frame.result : undefined;
    if (!result) {
      c.add("result", "wrong-type", "object", describeValue(frame.result), schemaLine(`the result of ${method}`));
      return c.findings;
    }
    c.fields(result, "result", "result", expectedFields(method, "result"), SCHEMA[method].result);
    if (method === METHOD.connectedTerminals && Array.isArray(result[FIELD.terminals])) {
      const d = SCHEMA[METHOD.terminalDetails].result;
      for (const item of result[FIELD.terminals] as unknown[]) {
        if (isPlainObject(item)) c.fields(item, `result.${FIELD.terminals}[]`, "result", d, d);
        else c.add(`result.${FIELD.terminals}[]`, "wrong-type", "object", describeValue(item), schemaLine("the terminals list"));
      }
    }
    return c.findings;
  }
  const name = expect.name;
  if (!err) {
    c.add(
      "result",
      "unexpected-result",
      `error ${ERROR_CODE[name]} ${name}`,
      `result ${describeValue(frame.result)}`,
      protocolLine("wire", "export const ERROR_CODE", `the contract says Dojo refuses this with ${name}; it accepted it`, name),
    );
    return c.findings;
  }
  const wanted = ERRORS_UNDER_RESULT ? "result" : "error";
  if (err.at !== wanted) {
    c.add(
      err.at,
      "error-location",
      `error under "${wanted}"`,
      `error under "${err.at}"`,
      protocolLine(
        "wire",
        "export const ERRORS_UNDER_RESULT",
        `ERRORS_UNDER_RESULT = ${err.at === "result"} if Dojo puts its errors under "${err.at}" (both are read)`,
      ),
    );
  }
  const e = err.error;
  const code = e.code ?? e[FIELD.errorCode];
  const accepted = [ERROR_CODE[name], ...(ERROR_CODE_ALIASES[name] ?? [])];
  if (typeof code !== "number" || !accepted.includes(code)) {
    c.add(
      `${err.at}.code`,
      "error-code",
      `${ERROR_CODE[name]} (${name})`,
      describeValue(code),
      protocolLine(
        "wire",
        "export const ERROR_CODE",
        `${name}: ${String(code)} (or add it to ERROR_CODE_ALIASES.${name} in aliases.ts while both are in use)`,
        name,
      ),
    );
  }
  if (e.message !== ERROR_MESSAGE[name]) {
    c.add(
      `${err.at}.message`,
      "error-message",
      JSON.stringify(ERROR_MESSAGE[name]),
      describeValue(e.message),
      protocolLine("wire", "export const ERROR_MESSAGE", `${name}: the message Dojo sends`, name),
    );
  }
  const data = isPlainObject(e.data) ? e.data : undefined;
  if (typeof data?.[FIELD.userMessage] !== "string") {
    const elsewhere = typeof e[FIELD.userMessage] === "string";
    c.add(
      elsewhere ? `${err.at}.${FIELD.userMessage}` : `${err.at}.data.${FIELD.userMessage}`,
      "user-message",
      `a string at ${err.at}.data.${FIELD.userMessage}`,
      elsewhere ? `at ${err.at}.${FIELD.userMessage} (read there too)` : describeValue(data?.[FIELD.userMessage]),
      protocolLine(
        "schema",
        "export const FIELD",
        `FIELD.userMessage (codec.ts readError reads data.${FIELD.userMessage}, then ${FIELD.userMessage})`,
        FIELD.userMessage,
      ),
    );
  }
  return c.findings;
}

/** A request or notification Dojo sent us. */
export function compareInbound(frame: Obj): Finding[] {
  const method = typeof frame.method === "string" ? frame.method : "";
  if (!isKnownMethod(method)) {
    const c = new Collector(method || "(no method)", METHOD.terminalNotification);
    c.add(
      "method",
      "unknown-method",
      "a method of the contract",
      JSON.stringify(method),
      protocolLine("wire", "export const METHOD", `add ${method} if Dojo sends it`),
    );
    return c.findings;
  }
  const c = new Collector(method, method);
  c.envelope(frame);
  const isNotification = method === METHOD.terminalNotification;
  if (isNotification && frame.id !== undefined && frame.id !== null) {
    c.add(
      "id",
      "envelope",
      "no id (a notification)",
      describeValue(frame.id),
      protocolLine("wire", "export const METHOD", `${method} is a notification in the contract`, methodKey(method)),
    );
  } else if (!isNotification) {
    c.idType(frame.id);
  }
  const params = isPlainObject(frame.params) ? frame.params : {};
  c.fields(params, "params", "params", expectedFields(method, "params"), SCHEMA[method].params);
  return c.findings;
}

/** The value of a field that may have been renamed: the contract's name, an alias, or the one unknown field. */
export function guessField(o: Obj, method: MethodName, field: string): unknown {
  const v = aliasedField(o, field);
  if (v !== undefined) return v;
  const known = SCHEMA[method].params.concat(SCHEMA[method].result);
  const unknown = Object.keys(o).filter((k) => !known.includes(k) && !known.includes(canonicalFieldName(k)));
  return unknown.length === 1 ? o[unknown[0]] : undefined;
}
