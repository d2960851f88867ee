/**
 * The network side: an http.Server whose upgrades go to a `ws` server in noServer mode (so handshake
 * failures get real HTTP statuses), a registry of the current connection per account+epos-id with
 * displacement (close 4001), and ping/pong handled by hand so the `noPong` fault can silence it.
 */
import http from "http";
import type { AddressInfo } from "net";
import type { Duplex } from "stream";
import { WebSocket, WebSocketServer } from "ws";
import type { RawData } from "ws";
import { CLOSE_DISPLACED, HTTP_STATUS, PAC_PATH } from "../protocol";
import type { SimulatorFaults } from "./faults";
import { checkHandshake } from "./handshake";
import { eposKey } from "./store";
import type { Account, AccountStore } from "./store";
import { noop } from "./timers";
import type { Cancel, Scheduler } from "./timers";
import type { SimConnectionInfo, SimHandshakeRejection } from "./types";

export interface Connection {
  readonly ws: WebSocket;
  readonly account: Account;
  /** eposKey(accountName, eposId) */
  readonly key: string;
  readonly info: SimConnectionInfo;
  displaced: boolean;
  missedPongs: number;
}

export interface ServerHooks {
  attempted(): void;
  rejected(rejection: SimHandshakeRejection): void;
  opened(conn: Connection): void;
  message(conn: Connection, data: Buffer): void;
  closed(conn: Connection, code: number, reason: string): void;
  sent(conn: Connection, text: string): void;
}

export interface ServerConfig {
  host: string;
  port: number;
  maxPayload: number;
  pingIntervalMs: number;
  accounts: AccountStore;
  faults: SimulatorFaults;
  scheduler: Scheduler;
  hooks: ServerHooks;
  /** Every frame sent (not raw bytes) passes through this: the drift option (see drift.ts). */
  transform?: (text: string) => string[];
  /** Plain HTTP requests (not upgrades) go here first; `next()` gives the default 404/426 answer. */
  request?: (req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => void;
}

/** Missing this many pongs in a row marks a socket dead (contract §1). */
const MAX_MISSED_PONGS = 2;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Answer a refused upgrade with a plain HTTP response, then close the socket. */
function refuse(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.on("error", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\n` +
      "Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export class PacServer {
  private readonly http = http.createServer();
  private readonly wss: WebSocketServer;
  private readonly registry = new Map<string, Connection>();
  private boundPort = 0;
  private accepting = false;
  private cancelHeartbeat: Cancel = noop;

  constructor(private readonly cfg: ServerConfig) {
    this.wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: cfg.maxPayload });
    this.http.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.http.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const fallback = (err?: unknown): void => {
        if (res.headersSent) return void res.destroy();
        if (err !== undefined) {
          res.writeHead(500, { "Content-Type": "text/plain" });
          res.end("internal error\n");
          return;
        }
        const onPath = new URL(req.url ?? "/", "http://localhost").pathname === PAC_PATH;
        res.writeHead(onPath ? HTTP_STATUS.upgradeRequired : HTTP_STATUS.notFound, { "Content-Type": "text/plain" });
        res.end(onPath ? "this endpoint only speaks WebSocket\n" : "not found\n");
      };
      if (this.cfg.request) this.cfg.request(req, res, fallback);
      else fallback();
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** Listen; after the first time, on the same port again (resume after suspend). */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(this.boundPort || this.cfg.port, this.cfg.host, () => {
        this.http.off("error", reject);
        resolve();
      });
    });
    this.boundPort = (this.http.address() as AddressInfo).port;
    this.accepting = true;
    this.heartbeat();
  }

  /** Stop listening and terminate every socket; the registry empties as they close. */
  async shutdown(): Promise<void> {
    this.accepting = false;
    this.cancelHeartbeat();
    for (const ws of this.wss.clients) ws.terminate();
    if (!this.http.listening) return;
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections?.(); // Node >= 18.2
    });
  }

  async close(): Promise<void> {
    await this.shutdown();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  current(key: string): Connection | undefined {
    return this.registry.get(key);
  }

  connections(): Connection[] {
    return [...this.registry.values()];
  }

  send(conn: Connection, text: string): boolean {
    if (conn.ws.readyState !== WebSocket.OPEN) return false;
    for (const out of this.cfg.transform ? this.cfg.transform(text) : [text]) {
      conn.ws.send(out);
      this.cfg.hooks.sent(conn, out);
    }
    return true;
  }

  /** Send to the current connection of an account+epos-id. */
  sendTo(key: string, text: string): boolean {
    const conn = this.registry.get(key);
    return conn ? this.send(conn, text) : false;
  }

  /** Send bytes as they are (fault injection: malformed or oversized frames). */
  sendRaw(key: string, data: string | Buffer): boolean {
    const conn = this.registry.get(key);
    if (!conn || conn.ws.readyState !== WebSocket.OPEN) return false;
    conn.ws.send(data, { binary: false });
    this.cfg.hooks.sent(conn, typeof data === "string" ? data : data.toString("utf8"));
    return true;
  }

  /** Abrupt loss of the connection: no close frame. */
  drop(conn: Connection): void {
    conn.ws.terminate();
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.cfg.hooks.attempted();
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const hs = checkHandshake(req, this.cfg.accounts);
    if (!hs.ok) {
      this.cfg.hooks.rejected({ status: hs.status, reason: hs.reason });
      refuse(socket, hs.status, hs.reason);
      return;
    }
    const info: SimConnectionInfo = {
      accountName: hs.account.credentials.accountName,
      eposId: hs.eposId,
      softwareHouseId: hs.softwareHouseId,
      ...(hs.resellerId ? { resellerId: hs.resellerId } : {}),
    };
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, hs.account, info));
  }

  private accept(ws: WebSocket, account: Account, info: SimConnectionInfo): void {
    if (!this.accepting) {
      ws.terminate();
      return;
    }
    const key = eposKey(info.accountName, info.eposId);
    const conn: Connection = { ws, account, key, info, displaced: false, missedPongs: 0 };
    const older = this.registry.get(key);
    this.registry.set(key, conn);
    if (older) {
      // [C] the newer connection wins; the older one is told why.
      older.displaced = true;
      older.ws.close(CLOSE_DISPLACED.code, CLOSE_DISPLACED.reason);
    }
    ws.on("message", (data: RawData) => this.cfg.hooks.message(conn, toBuffer(data)));
    ws.on("ping", (data: Buffer) => {
      if (!this.cfg.faults.noPong && ws.readyState === WebSocket.OPEN) ws.pong(data);
    });
    ws.on("pong", () => {
      conn.missedPongs = 0;
    });
    ws.on("error", noop); // a broken socket is reported by its 'close'; it must never crash the simulator
    ws.on("close", (code: number, reason: Buffer) => {
      if (this.registry.get(key) === conn) this.registry.delete(key);
      this.cfg.hooks.closed(conn, code, reason.toString("utf8"));
    });
    this.cfg.hooks.opened(conn);
  }

  private heartbeat(): void {
    if (this.cfg.pingIntervalMs <= 0) return;
    this.cancelHeartbeat = this.cfg.scheduler.after(this.cfg.pingIntervalMs, () => {
      for (const conn of this.registry.values()) {
        if (conn.ws.readyState !== WebSocket.OPEN) continue;
        if (conn.missedPongs >= MAX_MISSED_PONGS) {
          conn.ws.terminate();
        } else {
          conn.missedPongs++;
          conn.ws.ping();
        }
      }
      this.heartbeat();
    });
  }
}
