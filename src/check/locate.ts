/**
 * The protocol-module line a deviation asks to change: found by reading src/protocol/*.ts (present
 * in a checkout of this package), so the report names real lines, not remembered numbers.
 */
import fs from "node:fs";
import path from "node:path";
import { METHOD } from "../protocol";

export type ProtocolFile = "wire" | "schema" | "aliases" | "conformance";

export interface FixLocation {
  /** e.g. "src/protocol/wire.ts" */
  file: string;
  /** 1-based; undefined when the source is not at hand (an installed package without src/). */
  line?: number;
  /** What to change there. */
  what: string;
}

const SRC_DIR = path.resolve(__dirname, "..", "..", "src", "protocol");
const cache = new Map<ProtocolFile, string[] | null>();

function lines(file: ProtocolFile): string[] | null {
  if (!cache.has(file)) {
    let text: string | null = null;
    try {
      text = fs.readFileSync(path.join(SRC_DIR, `${file}.ts`), "utf8");
    } catch {
      text = null;
    }
    cache.set(file, text === null ? null : text.split("\n"));
  }
  return cache.get(file) ?? null;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The line of `key` inside the block that starts at `anchor` (`export const NAME`), or of the anchor
 * itself when no key is given or the key is not there. `key` matches `KEY:`, `[FIELD.KEY]:`, `[METHOD.x]:`.
 */
export function protocolLine(file: ProtocolFile, anchor: string, what: string, key?: string): FixLocation {
  const rel = `src/protocol/${file}.ts`;
  const text = lines(file);
  if (!text) return { file: rel, what };
  const start = text.findIndex((l) => l.includes(anchor));
  if (start < 0) return { file: rel, what };
  if (key !== undefined) {
    const re = new RegExp(`^\\s*(?:${escape(key)}|\\[\\w+\\.${escape(key)}\\]|"${escape(key)}")\\s*:`);
    for (let i = start; i < text.length; i++) {
      if (i > start && /^(export )?(const|function|type|interface) /.test(text[i])) break;
      if (re.test(text[i])) return { file: rel, line: i + 1, what };
    }
  }
  return { file: rel, line: start + 1, what };
}

/** METHOD's key for a wire method name ("CreatePayment" -> "createPayment"). */
export function methodKey(method: string): string {
  return Object.entries(METHOD).find(([, v]) => v === method)?.[0] ?? method;
}

/** "src/protocol/wire.ts:73" */
export function where(loc: FixLocation): string {
  return loc.line === undefined ? loc.file : `${loc.file}:${loc.line}`;
}
