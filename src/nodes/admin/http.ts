/**
 * The little of Express and of the runtime's admin API the endpoints use, the two permissions, and
 * the answers every route shares. Reading needs `pac-config.read`; anything that talks to Dojo on
 * the user's behalf or uses the saved credentials needs `pac-config.write`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ConfigCredentials, ConfigDef } from "../settings";
import type { NodeAPI } from "../red-types";

export interface AdminRequest extends IncomingMessage {
  params: Record<string, string>;
  body?: unknown;
  originalUrl?: string;
}

export interface AdminResponse extends ServerResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}

export type Middleware = (req: AdminRequest, res: AdminResponse, next: (err?: unknown) => void) => void;

export interface AdminApp {
  get(path: string | RegExp, ...handlers: Middleware[]): void;
  post(path: string | RegExp, ...handlers: Middleware[]): void;
  all(path: string | RegExp, ...handlers: Middleware[]): void;
}

/** The runtime API with the admin parts (absent in some test harnesses). */
export interface AdminNodeAPI extends NodeAPI {
  httpAdmin?: AdminApp;
  auth?: { needsPermission(permission: string): Middleware };
  nodes: NodeAPI["nodes"] & {
    getCredentials?(id: string): ConfigCredentials | undefined;
    eachNode?(cb: (def: ConfigDef & { z?: string }) => void): void;
  };
}

export const READ_PERMISSION = "pac-config.read";
export const WRITE_PERMISSION = "pac-config.write";

/** The read and write checks (none without adminAuth support in the runtime, e.g. test harnesses). */
export function permissions(RED: AdminNodeAPI): { read: Middleware; write: Middleware } {
  const allow = (p: string): Middleware => (RED.auth ? RED.auth.needsPermission(p) : (_q, _s, next) => next());
  return { read: allow(READ_PERMISSION), write: allow(WRITE_PERMISSION) };
}

export function sendError(res: AdminResponse, status: number, error: string, detail?: string): void {
  res.status(status).json({ error, ...(detail ? { message: detail } : {}) });
}

/** The JSON body as an object (Node-RED's admin app parses JSON bodies). */
export function bodyOf(req: AdminRequest): Record<string, unknown> | undefined {
  const b = req.body;
  return b !== null && typeof b === "object" && !Array.isArray(b) ? (b as Record<string, unknown>) : undefined;
}

/** An error's text (redact it before it leaves). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
