/** Replace every occurrence of each secret (at least 4 characters long) with "***". */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4 && out.includes(s)) out = out.split(s).join("***");
  return out;
}
