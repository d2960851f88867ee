/**
 * The node set's message catalogs (nodes/locales/<lang>/<type>.json) are the only place its texts
 * live: `type.key` is looked up with the runtime's i18n, and in the English catalog when the
 * runtime does not have it (a runtime that did not register the catalogs, such as the test helper).
 * A key found nowhere comes back as itself: visible, never a stale copy of the text.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { NodeAPI } from "./red-types";

export type Substitutions = Record<string, string | number>;
export interface Translate {
  (key: string, subs?: Substitutions): string;
  /** Whether the catalog has the key (a value Dojo sends that we have no words for has none). */
  has(key: string): boolean;
}

/** Where the catalogs are, from dist/nodes/. */
const LOCALES = path.resolve(__dirname, "..", "..", "nodes", "locales");

function interpolate(text: string, subs?: Substitutions): string {
  if (!subs) return text;
  return text.replace(/__([A-Za-z0-9_]+?)__/g, (whole, name: string) => (name in subs ? String(subs[name]) : whole));
}

/** The English catalog of a node type, or an empty one when it cannot be read. */
export function englishCatalog(type: string): Record<string, unknown> {
  try {
    const all = JSON.parse(fs.readFileSync(path.join(LOCALES, "en-US", `${type}.json`), "utf8")) as Record<string, unknown>;
    const own = all[type];
    return own !== null && typeof own === "object" ? (own as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function lookUp(catalog: Record<string, unknown>, key: string): string | undefined {
  let at: unknown = catalog;
  for (const part of key.split(".")) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return typeof at === "string" ? at : undefined;
}

/** The texts of node type `type`. */
export function makeTranslate(RED: NodeAPI, type: string): Translate {
  const english = englishCatalog(type);
  // Status texts are looked up on every notification: texts without substitutions are cached
  // (the runtime's language does not change while it runs).
  const cache = new Map<string, string>();
  const t = (key: string, subs?: Substitutions): string => {
    if (!subs) {
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
    }
    const full = `${type}.${key}`;
    let text: string | undefined;
    try {
      const found = RED._(full, subs);
      if (typeof found === "string" && found !== "" && found !== full && !found.endsWith(`:${full}`)) text = found;
    } catch {
      /* the English catalog answers */
    }
    text ??= interpolate(lookUp(english, key) ?? full, subs);
    if (!subs && cache.size < 500) cache.set(key, text);
    return text;
  };
  const known = new Map<string, boolean>(); // asked for every step of every sale
  const has = (key: string): boolean => {
    let hit = known.get(key);
    if (hit === undefined) {
      hit = lookUp(english, key) !== undefined;
      if (known.size < 500) known.set(key, hit);
    }
    return hit;
  };
  return Object.assign(t, { has });
}
