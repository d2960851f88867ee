/**
 * The virtual terminal page as a framework-free request handler `(req, res, next?)`: plain
 * `http.createServer` callbacks and Express middleware alike. Mounted at `basePath`, it serves
 *
 *   GET  <base>/               the page (a request for `<base>` without the slash is redirected)
 *   GET  <base>/vt/style.css   GET <base>/vt/app.js
 *   GET  <base>/vt/state       JSON [{terminal, view}]
 *   GET  <base>/vt/events      Server-Sent Events: "terminals" (all, on connect), "slips" (the receipt
 *                              printers' slips, on connect), "terminal" (each change), "slip" (a flow
 *                              printed one), "stopped" (the simulator stopped; the stream ends)
 *   POST <base>/vt/act         {terminalId, action, accountName?}  → {terminal, view}
 *   POST <base>/vt/manual      {terminalId, manual: boolean, accountName?}
 *   POST <base>/vt/online      {terminalId, online: boolean, accountName?}
 *
 * POSTs must be `Content-Type: application/json` (415 otherwise) and not cross-site (403): an HTML
 * form on another site cannot drive the terminals. Anything else under the base, or outside it,
 * goes to `next()` (or 404 without one).
 */
import type { IncomingMessage, ServerResponse } from "http";
import { isPlainObject } from "../../common/json";
import { SimActionError } from "../terminal";
import type { SimTerminalAction, SimTerminalSnapshot } from "../types";
import { VT_SCRIPT } from "./client-script";
import type { VtHost } from "./host";
import { renderPage } from "./page";
import type { VtTheme } from "./page";
import { VT_CSS } from "./style";
import { EventHub } from "./event-hub";
import { actionLabel, isVtAction, item } from "./view";

export interface VirtualTerminalOptions {
  /** Path the handler is mounted at: "/" (standalone simulator), "/pac/vt/<id>" (Node-RED). Default "/". */
  basePath?: string;
  /** Show and drive only this account's terminals. Default: every account. */
  accountName?: string;
  /** Page title. Default "Virtual terminals". */
  title?: string;
  /** How long POST act waits for the terminal to wait again before answering 202. Default 2000 ms. */
  actWaitMs?: number;
  /** Comment line sent on idle event streams (keeps proxies from closing them). Default 20 000 ms; 0 = off. */
  heartbeatMs?: number;
  /** Largest accepted request body. Default 16 KiB. */
  maxBodyBytes?: number;
}

/** `next` as Express passes it; without one, unknown paths are answered 404. */
export type VtNext = (err?: unknown) => void;

export interface VirtualTerminalHandler {
  (req: IncomingMessage, res: ServerResponse, next?: VtNext): void;
  /** Event streams open now. */
  readonly clients: number;
  /** End every event stream and detach from the simulator; later requests are answered 503. Idempotent. */
  close(): void;
}

/** What the page receives for a terminal. */
export type { VtItem } from "./view";

/** Express adds these; plain http leaves them undefined. */
type MaybeExpressRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

const DEFAULT_TITLE = "Virtual terminals";

function normaliseBase(base: string | undefined): string {
  let b = (base ?? "/").trim();
  if (!b.startsWith("/")) b = `/${b}`;
  b = b.replace(/\/+$/, "");
  return b === "" ? "/" : b;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": String(Buffer.byteLength(body)),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    ...extra,
  });
  res.end(head ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, data: unknown, extra: Record<string, string> = {}): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(data), false, extra);
}

type Body = { ok: true; value: Record<string, unknown> } | { ok: false; status: number; error: string };

/** The JSON object of a POST: already parsed by Express's json parser, or read from the stream. */
function readJsonBody(req: MaybeExpressRequest, limit: number): Promise<Body> {
  const asObject = (v: unknown): Body => (isPlainObject(v) ? { ok: true, value: v } : { ok: false, status: 400, error: "The body must be a JSON object." });
  if (req.body !== undefined && (typeof req.body !== "object" || req.body === null || Object.keys(req.body).length > 0)) {
    return Promise.resolve(asObject(req.body));
  }
  if (req.readableEnded) return Promise.resolve(asObject(req.body ?? {}));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (b: Body): void => {
      if (done) return;
      done = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      if (!b.ok) req.resume(); // drain what is left, so the answer can go out
      resolve(b);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish({ ok: false, status: 413, error: `The body is larger than ${limit} bytes.` });
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return finish(asObject({}));
      try {
        finish(asObject(JSON.parse(text)));
      } catch {
        finish({ ok: false, status: 400, error: "The body is not valid JSON." });
      }
    };
    const onError = (): void => finish({ ok: false, status: 400, error: "The request body could not be read." });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** A simple CSRF guard: cross-site pages can only send "simple" requests without a preflight. */
function refusePost(req: IncomingMessage): { status: number; error: string } | undefined {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") return { status: 415, error: "Send the request as Content-Type: application/json." };
  if (req.headers["sec-fetch-site"] === "cross-site") return { status: 403, error: "Cross-site requests are refused." };
  return undefined;
}

/**
 * The virtual terminal page and its API for one simulator (a PacSimulator, or anything that is a
 * VtHost), as `(req, res, next?)`.
 * Relative URLs only: mount it anywhere (`basePath`), e.g. under Node-RED's admin app behind its
 * permission checks. Call `close()` when the mount goes away (the simulator stopping ends the streams too).
 */
export function createVirtualTerminalHandler(sim: VtHost, options: VirtualTerminalOptions = {}): VirtualTerminalHandler {
  const base = normaliseBase(options.basePath);
  const title = options.title ?? DEFAULT_TITLE;
  const only = options.accountName;
  const actWaitMs = options.actWaitMs ?? 2000;
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const visible = (t: { accountName: string }): boolean => only === undefined || t.accountName === only;
  const hub = new EventHub(sim, visible, options.heartbeatMs ?? 20_000);
  let closed = false;

  const terminals = (): SimTerminalSnapshot[] => sim.terminals().filter(visible);

  /** The one terminal a request names, or an error answer. */
  const target = (body: Record<string, unknown>): { t: SimTerminalSnapshot } | { status: number; error: string } => {
    const { terminalId, accountName } = body;
    if (typeof terminalId !== "string" || terminalId === "") return { status: 400, error: "terminalId is required." };
    if (accountName !== undefined && typeof accountName !== "string") return { status: 400, error: "accountName must be a string." };
    const found = terminals().filter((t) => t.terminalId === terminalId && (accountName === undefined || t.accountName === accountName));
    if (found.length === 0) return { status: 404, error: `There is no terminal ${terminalId}.` };
    if (found.length > 1) return { status: 400, error: `Terminal ${terminalId} exists in several accounts: give accountName.` };
    return { t: found[0] };
  };

  const act = async (res: ServerResponse, t: SimTerminalSnapshot, action: SimTerminalAction): Promise<void> => {
    if (!t.allowedActions.includes(action)) {
      const why = t.allowedActions.length ? `possible now: ${t.allowedActions.map(actionLabel).join(", ")}` : "nothing is possible now";
      sendJson(res, 409, { error: `"${actionLabel(action)}" is not possible now (${why}).`, step: t.step, allowed: t.allowedActions });
      return;
    }
    const settled = sim.act(t.terminalId, action, t.accountName).then(
      (snap) => ({ ok: true as const, snap }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<"waiting">((resolve) => {
      timer = setTimeout(() => resolve("waiting"), actWaitMs);
    });
    const first = await Promise.race([settled, waited]);
    clearTimeout(timer);
    if (first === "waiting") {
      // e.g. a signature request waits for the till's answer: the stream reports what follows
      const now = terminals().find((x) => x.terminalId === t.terminalId && x.accountName === t.accountName) ?? t;
      sendJson(res, 202, item(now));
    } else if (first.ok) {
      sendJson(res, 200, item(first.snap));
    } else if (first.err instanceof SimActionError) {
      sendJson(res, 409, { error: first.err.message, step: first.err.step, allowed: first.err.allowed });
    } else {
      sendJson(res, 500, { error: first.err instanceof Error ? first.err.message : String(first.err) });
    }
  };

  const post = async (route: string, req: MaybeExpressRequest, res: ServerResponse): Promise<void> => {
    const refused = refusePost(req);
    if (refused) {
      req.resume();
      return sendJson(res, refused.status, { error: refused.error });
    }
    const body = await readJsonBody(req, maxBody);
    if (!body.ok) return sendJson(res, body.status, { error: body.error });
    const found = target(body.value);
    if ("error" in found) return sendJson(res, found.status, { error: found.error });
    const { t } = found;
    switch (route) {
      case "vt/act": {
        const action = body.value.action;
        if (!isVtAction(action)) return sendJson(res, 400, { error: `Unknown action ${JSON.stringify(action)}.` });
        return act(res, t, action);
      }
      case "vt/manual": {
        const manual = body.value.manual;
        if (typeof manual !== "boolean") return sendJson(res, 400, { error: "manual must be true or false." });
        return sendJson(res, 200, item(sim.setManual(t.terminalId, manual, t.accountName)));
      }
      default: {
        const online = body.value.online;
        if (typeof online !== "boolean") return sendJson(res, 400, { error: "online must be true or false." });
        return sendJson(res, 200, item(sim.setOnline(t.terminalId, online, t.accountName)));
      }
    }
  };

  /** The request's path below the base ("" = the base itself, "/vt/app.js"…), or undefined if outside. */
  const below = (req: MaybeExpressRequest): string | undefined => {
    const path = (req.url ?? "/").split("?")[0];
    if (base === "/") return path;
    if (path === base || path.startsWith(`${base}/`)) return path.slice(base.length);
    // Express `app.use(base, handler)` strips the mount path from req.url and keeps it in originalUrl.
    if (req.originalUrl !== undefined && req.originalUrl !== req.url) {
      const full = req.originalUrl.split("?")[0];
      if (path === "/" && full.endsWith(base)) return "";
      if (full.endsWith(path) && full.slice(0, full.length - path.length).endsWith(base)) return path;
    }
    return undefined;
  };

  const handler = ((req: MaybeExpressRequest, res: ServerResponse, next?: VtNext): void => {
    const pass = (): void => {
      if (next) next();
      else send(res, 404, "text/plain; charset=utf-8", "not found\n", req.method === "HEAD");
    };
    const rel = below(req);
    if (rel === undefined) return pass();
    const route = rel.replace(/^\/+/, "");
    const method = req.method ?? "GET";
    const head = method === "HEAD";
    const isGet = method === "GET" || head;
    const getRoutes = ["", "vt/style.css", "vt/app.js", "vt/state", "vt/events"];
    const postRoutes = ["vt/act", "vt/manual", "vt/online"];
    if (!getRoutes.includes(route) && !postRoutes.includes(route)) return pass();
    if (getRoutes.includes(route) ? !isGet : method !== "POST") {
      req.resume();
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n", head, {
        Allow: getRoutes.includes(route) ? "GET, HEAD" : "POST",
      });
    }
    if (closed || sim.isStopped) {
      req.resume();
      return send(res, 503, "text/plain; charset=utf-8", "the simulator has stopped\n", head, { "Retry-After": "5" });
    }
    const query = new URL(req.originalUrl ?? req.url ?? "/", "http://localhost").searchParams;
    switch (route) {
      case "": {
        // Relative URLs need the page at ".../": redirect "<base>" to "<base>/" (relative Location).
        const fullPath = (req.originalUrl ?? req.url ?? "/").split("?")[0];
        if (!fullPath.endsWith("/")) {
          const search = (req.originalUrl ?? req.url ?? "").includes("?") ? `?${query.toString()}` : "";
          const last = fullPath.slice(fullPath.lastIndexOf("/") + 1);
          return send(res, 302, "text/plain; charset=utf-8", "moved\n", head, { Location: `${last}/${search}` });
        }
        const theme = query.get("theme");
        const html = renderPage(terminals(), {
          title,
          slips: sim.slips().filter(visible),
          theme: (theme === "dark" || theme === "light" ? theme : undefined) satisfies VtTheme,
        });
        return send(res, 200, "text/html; charset=utf-8", html, head, {
          "Content-Security-Policy":
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
            "base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
          "Referrer-Policy": "no-referrer",
        });
      }
      case "vt/style.css":
        return send(res, 200, "text/css; charset=utf-8", VT_CSS, head);
      case "vt/app.js":
        return send(res, 200, "text/javascript; charset=utf-8", VT_SCRIPT, head);
      case "vt/state":
        return sendJson(res, 200, terminals().map(item));
      case "vt/events":
        if (head) return send(res, 200, "text/event-stream; charset=utf-8", "", true);
        return hub.open(req, res, terminals().map(item));
      default:
        post(route, req, res).catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
          else res.destroy();
        });
    }
  }) as VirtualTerminalHandler;

  Object.defineProperty(handler, "clients", { get: () => hub.size, enumerable: true });
  handler.close = (): void => {
    closed = true;
    hub.endAll("closed");
  };
  return handler;
}
