/** A short description of an unexpected value, for an error message: "the string \"12.50\"", "an object". */
export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return typeof v;
}
