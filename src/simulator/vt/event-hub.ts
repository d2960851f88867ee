/** The virtual terminal page's event streams (Server-Sent Events) of one handler. */
import type { IncomingMessage, ServerResponse } from "http";
import type { SimPrintedSlip, SimTerminalSnapshot } from "../types";
import type { VtHost } from "./host";
import { slipItem } from "./printer-view";
import { item } from "./view";
import type { VtItem } from "./view";

type MaybeCompressedResponse = ServerResponse & { flush?: () => void };

/** Above this much unsent data an event-stream client is too slow and is dropped. */
const MAX_BACKLOG_BYTES = 1024 * 1024;

function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface StreamClient {
  res: MaybeCompressedResponse;
  heartbeat?: NodeJS.Timeout;
}

/** Every open event stream of one handler, sharing one pair of simulator listeners. */
export class EventHub {
  private readonly streams = new Set<StreamClient>();
  private attached = false;

  constructor(
    private readonly sim: VtHost,
    private readonly visible: (t: { accountName: string }) => boolean,
    private readonly heartbeatMs: number,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  open(req: IncomingMessage, res: MaybeCompressedResponse, initial: VtItem[]): void {
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
      "X-Content-Type-Options": "nosniff",
    });
    req.socket.setNoDelay(true);
    const client: StreamClient = { res };
    this.streams.add(client);
    this.attach();
    res.on("close", () => this.drop(client));
    res.on("error", () => this.drop(client));
    // The printers' slips follow the terminals: a page that reconnects replaces what it shows.
    const slips = this.sim.slips().filter(this.visible).map(slipItem);
    this.write(client, `retry: 2000\n\n${sseFrame("terminals", initial)}${sseFrame("slips", slips)}`);
    if (this.heartbeatMs > 0) {
      client.heartbeat = setInterval(() => this.write(client, ": keep-alive\n\n"), this.heartbeatMs);
      client.heartbeat.unref();
    }
  }

  /** Tell every stream why it ends, then end it. */
  endAll(event: "stopped" | "closed"): void {
    for (const client of [...this.streams]) {
      this.write(client, sseFrame(event, {}));
      this.drop(client);
      client.res.end();
    }
    this.detach();
  }

  private readonly onTerminal = (t: SimTerminalSnapshot): void => {
    if (!this.visible(t)) return;
    const frame = sseFrame("terminal", item(t));
    for (const client of [...this.streams]) this.write(client, frame);
  };

  private readonly onSlip = (s: SimPrintedSlip): void => {
    if (!this.visible(s)) return;
    const frame = sseFrame("slip", slipItem(s));
    for (const client of [...this.streams]) this.write(client, frame);
  };

  private readonly onStopping = (): void => this.endAll("stopped");

  private write(client: StreamClient, text: string): void {
    const { res } = client;
    if (res.writableEnded || res.destroyed) return this.drop(client);
    if (res.writableLength > MAX_BACKLOG_BYTES) {
      this.drop(client);
      res.destroy();
      return;
    }
    res.write(text);
    res.flush?.(); // Express compression middleware would otherwise hold events back
  }

  private drop(client: StreamClient): void {
    if (!this.streams.delete(client)) return;
    if (client.heartbeat) clearInterval(client.heartbeat);
    if (this.streams.size === 0) this.detach();
  }

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.sim.on("terminal", this.onTerminal);
    this.sim.on("slip", this.onSlip);
    this.sim.on("stopping", this.onStopping);
  }

  private detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.sim.off("terminal", this.onTerminal);
    this.sim.off("slip", this.onSlip);
    this.sim.off("stopping", this.onStopping);
  }
}
