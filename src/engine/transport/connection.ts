/**
 * One managed WebSocket to Dojo: handshake, an explicit state machine, reconnect with backoff,
 * heartbeat. It knows frames, not operations (see rpc.ts and pac-client.ts).
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import WebSocket from "ws";
import type { Frame, FrameError } from "../../protocol";
import { CLOSE_DISPLACED, DEFAULT_MAX_FRAME_BYTES, HEADER, HTTP_STATUS, basicAuth, parseFrame } from "../../protocol";
import type { BackoffOptions } from "./backoff";
import { Backoff } from "./backoff";
import { PacError } from "../errors";
import { isLoopbackHost } from "../../common/loopback";
import { credentialSecrets, redactSecrets } from "../../common/redact";

export type ConnectionState =
  | "idle"
  | "connecting"
  | "open"
  | "reconnecting"
  | "closing"
  | "closed"
  | "auth-failed" // 401: retried slowly (authRetryMs), never in a storm
  | "displaced"; // another connection took this epos-id: no automatic reconnect

/** Allowed transitions; anything else is a bug and is refused. */
const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  idle: ["connecting", "closing"],
  connecting: ["open", "reconnecting", "auth-failed", "closing"],
  open: ["reconnecting", "displaced", "closing"],
  reconnecting: ["connecting", "closing"],
  "auth-failed": ["connecting", "closing"],
  displaced: ["connecting", "closing"],
  closing: ["closed"],
  closed: [],
};

export interface ConnectionOptions {
  url: string;
  accountName: string;
  apiKey: string;
  eposId: string;
  softwareHouseId: string;
  resellerId?: string;
  /** Allow ws:// to a host that is not loopback (never for real money). */
  allowInsecure?: boolean;
  handshakeTimeoutMs?: number;
  /** Ping interval; 0 disables the heartbeat. A connection silent for two intervals is dead. */
  heartbeatIntervalMs?: number;
  reconnect?: BackoffOptions;
  /** After HTTP 401, wait this long before trying again (default 5 minutes). */
  authRetryMs?: number;
  maxFrameBytes?: number;
  /** Extra CA certificate(s) to trust; verification itself is always on. */
  ca?: string | Buffer | Array<string | Buffer>;
}

export interface StateInfo {
  reason?: string;
  error?: PacError;
  /** Delay before the next attempt, when one is scheduled. */
  retryInMs?: number;
}

export interface WireEvent {
  direction: "in" | "out";
  text: string;
  at: number;
}

export interface ConnectionEvents {
  state: [state: ConnectionState, info: StateInfo];
  frame: [frame: Frame];
  "frame-error": [error: FrameError];
  wire: [event: WireEvent];
}

/** Refuse a URL that would send card payments in clear text, or is not a WebSocket URL. */
export function checkUrl(url: string, allowInsecure: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PacError("INSECURE_URL", `"${url}" is not a valid URL`);
  }
  if (parsed.protocol === "wss:") return parsed;
  if (parsed.protocol !== "ws:") throw new PacError("INSECURE_URL", `"${url}" must start with wss://`);
  if (!allowInsecure && !isLoopbackHost(parsed.hostname)) {
    throw new PacError(
      "INSECURE_URL",
      `refusing unencrypted ws:// to ${parsed.hostname}: use wss:// (ws:// is allowed only for loopback or with allowInsecure)`,
    );
  }
  return parsed;
}

export class ManagedConnection extends EventEmitter<ConnectionEvents> {
  private current: ConnectionState = "idle";
  private ws: WebSocket | null = null;
  /** The open WebSocket's TCP/TLS socket (from the upgrade response), for corking. */
  private socket: Socket | null = null;
  private corked = false;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private alive = false;
  private closedPromise: Promise<void> | null = null;
  private readonly opts: Required<Omit<ConnectionOptions, "resellerId" | "ca" | "reconnect">> & Pick<ConnectionOptions, "resellerId" | "ca">;
  /** Handshakes attempted, for tests and the status query. */
  attempts = 0;
  /** Secrets that must never appear in traces, logs or errors: the API key and the Basic token. */
  readonly secrets: readonly string[];

  constructor(options: ConnectionOptions) {
    super();
    checkUrl(options.url, options.allowInsecure === true);
    this.opts = {
      url: options.url,
      accountName: options.accountName,
      apiKey: options.apiKey,
      eposId: options.eposId,
      softwareHouseId: options.softwareHouseId,
      resellerId: options.resellerId,
      allowInsecure: options.allowInsecure === true,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 15_000,
      authRetryMs: options.authRetryMs ?? 5 * 60_000,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      ca: options.ca,
    };
    this.backoff = new Backoff(options.reconnect);
    this.secrets = credentialSecrets(options.accountName, options.apiKey);
  }

  get state(): ConnectionState {
    return this.current;
  }

  get isOpen(): boolean {
    return this.current === "open";
  }

  get eposId(): string {
    return this.opts.eposId;
  }

  start(): void {
    if (this.current === "idle") this.connect();
  }

  /** Try again now, after a displacement or an auth failure (an operator's decision). */
  reconnectNow(): void {
    if (this.current === "displaced" || this.current === "auth-failed" || this.current === "reconnecting") {
      this.clearRetry();
      if (this.current === "reconnecting") this.backoff.reset();
      this.connect();
    }
  }

  /** Send one frame; false when not open (nothing was sent). */
  send(text: string): boolean {
    const ws = this.ws;
    if (this.current !== "open" || !ws || ws.readyState !== WebSocket.OPEN) return false;
    this.corkForThisTask();
    ws.send(text);
    if (this.listenerCount("wire") > 0) this.emit("wire", { direction: "out", text, at: Date.now() });
    return true;
  }

  /**
   * Frames sent in the same task (the acknowledgements of a batch of records made durable by one
   * fdatasync, say) leave in one socket write instead of one system call each: the socket is
   * corked until the task's microtasks have run. Ordering and content are unchanged.
   */
  private corkForThisTask(): void {
    const socket = this.socket;
    if (!socket || this.corked) return;
    this.corked = true;
    socket.cork();
    queueMicrotask(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  /** Close for good; resolves when the socket is gone (bounded by a short timeout). */
  close(): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    this.clearRetry();
    this.stopHeartbeat();
    this.transition("closing", { reason: "closed by the application" });
    const ws = this.ws;
    this.closedPromise = new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(guard);
        this.ws = null;
        this.socket = null;
        this.transition("closed", {});
        resolve();
      };
      // A peer that never completes the closing handshake must not hold up a redeploy.
      const guard = setTimeout(() => {
        ws?.terminate();
        finish();
      }, 2000);
      if (!ws || ws.readyState === WebSocket.CLOSED) return finish();
      ws.once("close", finish);
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, "client closing");
    });
    return this.closedPromise;
  }

  private transition(to: ConnectionState, info: StateInfo): void {
    if (!TRANSITIONS[this.current].includes(to)) return;
    this.current = to;
    this.emit("state", to, info);
  }

  private connect(): void {
    this.transition("connecting", {});
    if (this.current !== "connecting") return;
    this.attempts++;
    const o = this.opts;
    const headers: Record<string, string> = {
      [HEADER.authorization]: basicAuth(o.accountName, o.apiKey),
      [HEADER.eposId]: o.eposId,
      [HEADER.softwareHouseId]: o.softwareHouseId,
    };
    if (o.resellerId) headers[HEADER.resellerId] = o.resellerId;
    let ws: WebSocket;
    try {
      ws = new WebSocket(o.url, {
        headers,
        handshakeTimeout: o.handshakeTimeoutMs,
        // The parser rejects frames over maxFrameBytes with a typed error and keeps the
        // connection; ws's own cap is a hard memory bound well above it.
        maxPayload: o.maxFrameBytes * 4,
        rejectUnauthorized: true,
        ca: o.ca,
        perMessageDeflate: false,
        followRedirects: false,
      });
    } catch (e) {
      this.scheduleReconnect(`cannot connect: ${(e as Error).message}`);
      return;
    }
    this.ws = ws;
    this.socket = null;
    let httpStatus = 0;
    let lastError = "";
    ws.on("upgrade", (res) => {
      if (this.ws === ws) this.socket = res.socket;
    });
    ws.on("unexpected-response", (_req, res) => {
      httpStatus = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
    });
    ws.on("error", (err) => {
      lastError = this.redact(err.message);
    });
    ws.on("open", () => {
      if (this.ws !== ws) return;
      this.backoff.reset();
      this.transition("open", {});
      this.startHeartbeat(ws);
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (this.ws !== ws) return;
      this.alive = true;
      const text = isBinary ? data : data.toString("utf8");
      if (this.listenerCount("wire") > 0) {
        this.emit("wire", { direction: "in", text: this.redact(text.toString()), at: Date.now() });
      }
      const parsed = parseFrame(text, o.maxFrameBytes);
      if (parsed.ok) this.emit("frame", parsed.frame);
      else this.emit("frame-error", parsed.error);
    });
    ws.on("pong", () => {
      this.alive = true;
    });
    ws.on("close", (code: number, reasonBuf: Buffer) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.socket = null;
      this.stopHeartbeat();
      if (this.current === "closing" || this.current === "closed") return;
      const reason = reasonBuf.toString();
      if (code === CLOSE_DISPLACED.code) {
        this.transition("displaced", {
          reason,
          error: new PacError(
            "DISPLACED",
            `another connection took epos-id "${o.eposId}": two tills must not share an epos-id; not reconnecting automatically`,
          ),
        });
        return;
      }
      if (httpStatus === HTTP_STATUS.unauthorized || httpStatus === 403) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.connect();
        }, o.authRetryMs);
        this.transition("auth-failed", {
          reason: `HTTP ${httpStatus}`,
          retryInMs: o.authRetryMs,
          error: new PacError("AUTH_FAILED", `Dojo refused the credentials for epos-id "${o.eposId}" (HTTP ${httpStatus}): check account name and API key`),
        });
        return;
      }
      if (httpStatus === HTTP_STATUS.badRequest) {
        this.scheduleReconnect(`Dojo refused the handshake (HTTP 400): check epos-id and software-house-id`, true);
        return;
      }
      const why = httpStatus ? `HTTP ${httpStatus}` : lastError || `closed (${code}${reason ? " " + reason : ""})`;
      this.scheduleReconnect(why);
    });
  }

  /** `slow`: a configuration problem that will not fix itself: use the longest delay. */
  private scheduleReconnect(reason: string, slow = false): void {
    const delay = slow ? Math.max(this.backoff.next(), 30_000) : this.backoff.next();
    this.transition("reconnecting", { reason, retryInMs: delay });
    if (this.current !== "reconnecting") return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private startHeartbeat(ws: WebSocket): void {
    const interval = this.opts.heartbeatIntervalMs;
    if (interval <= 0) return;
    this.alive = true;
    this.heartbeatTimer = setInterval(() => {
      if (!this.alive) {
        // Two intervals without a frame or a pong: the peer is gone (half-open socket).
        ws.terminate();
        return;
      }
      this.alive = false;
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }, interval);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Remove credentials from any text leaving this module. */
  redact(text: string): string {
    return redactSecrets(text, this.secrets);
  }
}
