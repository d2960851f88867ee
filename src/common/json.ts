/** Readers of parsed JSON shared by the protocol codec, the simulator and the glue. */

/** A JSON object: not null, not an array, not a Buffer (a raw body parser's output). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v);
}
