/**
 * First-contact corrections: other names Dojo may use for a field, other numbers for one of its own
 * error codes. Read on input only (we always send the contract's name and number), so a rename found
 * against staging is one line here, and the old and new names both work while Dojo migrates.
 * `dojo-pac-check` points at the line to add.
 */
import { FIELD } from "./schema";
import type { ErrorName } from "./wire";

type FieldName = (typeof FIELD)[keyof typeof FIELD];

/** Contract name -> other names read as it. A canonical name present on the frame always wins. */
export const FIELD_ALIASES: Readonly<Partial<Record<FieldName, readonly string[]>>> = {
  // [C] Dojo accepts `tid` temporarily and some responses return both.
  [FIELD.terminalId]: [FIELD.tid],
};

/** Error name -> other numbers read as it (ERROR_CODE in wire.ts holds the number we expect and send). */
export const ERROR_CODE_ALIASES: Readonly<Partial<Record<ErrorName, readonly number[]>>> = {};

const ALIAS_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(FIELD_ALIASES).flatMap(([name, others]) => (others ?? []).filter((o) => o !== name).map((o) => [o, name] as [string, string])),
);

/** The contract's name for a field name read on the wire (the name itself when it has no alias). */
export function canonicalFieldName(name: string): string {
  return ALIAS_OF.get(name) ?? name;
}

/** The first name of `name`'s list (itself, then its aliases) that the object carries. */
export function aliasedField(o: Record<string, unknown>, name: string): unknown {
  if (o[name] !== undefined) return o[name];
  for (const other of FIELD_ALIASES[name as FieldName] ?? []) if (o[other] !== undefined) return o[other];
  return undefined;
}

/**
 * A copy with each aliased field also under its contract name (when that is missing); the object
 * itself when nothing is aliased. Aliases stay in place: readers of `raw` see what came.
 */
export function withCanonicalNames<T extends Record<string, unknown>>(o: T): T {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(o)) {
    const name = ALIAS_OF.get(key);
    if (name === undefined || o[name] !== undefined || (out && out[name] !== undefined)) continue;
    out ??= { ...o };
    out[name] = o[key];
  }
  return (out ?? o) as T;
}

const CODE_ALIAS: ReadonlyMap<number, ErrorName> = new Map(
  (Object.entries(ERROR_CODE_ALIASES) as [ErrorName, readonly number[]][]).flatMap(([name, codes]) => codes.map((c) => [c, name] as [number, ErrorName])),
);

/** The error name an alias number stands for, if it is one. */
export function errorNameOfAlias(code: number): ErrorName | undefined {
  return CODE_ALIAS.get(code);
}
