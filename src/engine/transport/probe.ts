/**
 * A connection that only checks an endpoint, credentials and identity (the editor's "Test
 * connection"): the transport and request correlation, no journal. It stores nothing, so it
 * acknowledges nothing: a record or question Dojo sends it gets an error, and Dojo keeps it (and
 * delivers it again) for the connection that owns this epos-id.
 */
import { EventEmitter } from "node:events";
import { encodeError, readTerminals } from "../../protocol";
import type { Frame, TerminalInfo } from "../../protocol";
import { METHOD } from "../../protocol";
import { ManagedConnection } from "./connection";
import type { ConnectionOptions, ConnectionState, StateInfo } from "./connection";
import { RpcChannel } from "./rpc";

export interface ProbeOptions extends ConnectionOptions {
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
}

export interface ProbeEvents {
  state: [state: ConnectionState, info: StateInfo];
  warning: [message: string];
}

export class ConnectionProbe extends EventEmitter<ProbeEvents> {
  readonly connection: ManagedConnection;
  private readonly rpc: RpcChannel;

  constructor(opts: ProbeOptions) {
    super();
    this.connection = new ManagedConnection(opts);
    const timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.rpc = new RpcChannel(this.connection, () => timeoutMs);
    this.connection.on("state", (state, info) => {
      if (state !== "open" && state !== "connecting") this.rpc.failAll(info.reason ?? state);
      this.emit("state", state, info);
    });
    this.connection.on("frame", (f) => this.onFrame(f));
    this.connection.on("frame-error", (e) => void this.emit("warning", this.connection.redact(`unreadable frame: ${e.message}`)));
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  start(): void {
    this.connection.start();
  }

  async close(): Promise<void> {
    await this.connection.close();
    this.rpc.failAll("closed");
  }

  async connectedTerminals(): Promise<TerminalInfo[]> {
    return readTerminals(await this.rpc.request(METHOD.connectedTerminals, {}));
  }

  private onFrame(frame: Frame): void {
    if (frame.kind === "response") this.rpc.settle(frame.id, frame.result, null);
    else if (frame.kind === "error") this.rpc.settle(frame.id, null, frame.error);
    // Any error but PAYMENT_ALREADY_RECORDED makes Dojo deliver a record again (contract §4).
    else if (frame.kind === "request")
      this.connection.send(encodeError(frame.id, "INTERNAL_ERROR", "this connection only tests the settings and stores nothing: deliver it again"));
  }
}
