import { basicToken } from "./basic-token";

/** Replace every occurrence of each secret (at least 4 characters long) with "***". */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4 && out.includes(s)) out = out.split(s).join("***");
  return out;
}

/**
 * What must never leave this package in clear of one set of credentials: the API key, the Basic
 * token of the handshake (base64 of "account:key"), and the key in base64 on its own.
 */
export function credentialSecrets(accountName: string, apiKey: string): string[] {
  if (!apiKey) return [];
  return [apiKey, basicToken(accountName, apiKey), Buffer.from(apiKey, "utf8").toString("base64")].filter((s) => s.length >= 4);
}
