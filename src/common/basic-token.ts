/**
 * HTTP Basic credentials (RFC 7617): base64 of "account:key". Here, not in src/protocol, so that
 * redaction (which must hide this token) needs nothing above src/common; the protocol re-exports it.
 */
export function basicToken(accountName: string, apiKey: string): string {
  return Buffer.from(`${accountName}:${apiKey}`, "utf8").toString("base64");
}
