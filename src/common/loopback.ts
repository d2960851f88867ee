/** Whether a host name or address is this machine (the engine's insecure-URL check, the simulator CLI's warning). */
import { isIP } from "node:net";

const LOOPBACK_NAMES = new Set(["localhost", "ip6-localhost"]);

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (LOOPBACK_NAMES.has(h)) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1";
  return false;
}
