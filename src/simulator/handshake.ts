/** The WebSocket handshake checks (contract §1): credentials first (401), then mandatory headers (400). */
import type { IncomingMessage } from "http";
import { AUTH_SCHEME, HEADER, HTTP_STATUS, PAC_PATH } from "../protocol";
import type { Account, AccountStore } from "./store";

export type Handshake =
  { ok: true; account: Account; eposId: string; softwareHouseId: string; resellerId?: string } | { ok: false; status: number; reason: string };

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.trim() !== "" ? s.trim() : undefined;
}

function basicCredentials(value: string | undefined): { user: string; pass: string } | undefined {
  if (!value) return undefined;
  const [scheme, token] = value.split(/\s+/, 2);
  if (scheme.toLowerCase() !== AUTH_SCHEME.toLowerCase() || !token) return undefined;
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

export function checkHandshake(req: IncomingMessage, accounts: AccountStore): Handshake {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path !== PAC_PATH) return { ok: false, status: HTTP_STATUS.notFound, reason: `no PAC endpoint at ${path}` };
  const creds = basicCredentials(header(req, HEADER.authorization));
  const account = creds && accounts.authenticate(creds.user, creds.pass);
  if (!account) return { ok: false, status: HTTP_STATUS.unauthorized, reason: "missing or wrong account name / API key" };
  const eposId = header(req, HEADER.eposId);
  const softwareHouseId = header(req, HEADER.softwareHouseId);
  if (!eposId) return { ok: false, status: HTTP_STATUS.badRequest, reason: `missing ${HEADER.eposId} header` };
  if (!softwareHouseId) {
    return { ok: false, status: HTTP_STATUS.badRequest, reason: `missing ${HEADER.softwareHouseId} header` };
  }
  const resellerId = header(req, HEADER.resellerId);
  return { ok: true, account, eposId, softwareHouseId, ...(resellerId ? { resellerId } : {}) };
}
