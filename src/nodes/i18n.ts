/**
 * The node set's message catalog: `prefix.key` looked up with the runtime's i18n, with an English
 * fallback when the catalog has no such key.
 */
import type { NodeAPI } from "./red-types";

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
