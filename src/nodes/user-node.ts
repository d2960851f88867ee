/**
 * What every node that uses a pac-config node shares: finding the config node, registering with
 * it, the status line, and an input handler that never lets a rejected promise escape.
 */
import type { PacClient } from "../engine";
import type { ConfigRuntime, PacConfigNode } from "./config-runtime";
import type { PacUser } from "./pac-user";
import type { CloseDoneFn, DoneFn, Node, NodeAPI, NodeDef, NodeMessage, NodeStatus, SendFn } from "./red-types";
import { FlowError, toFlowError } from "./flow-error";
import type { Translate } from "./i18n";
import { makeTranslate } from "./i18n";
import type { ConnectionView } from "./status-line";
import { StatusLine, errorStatus } from "./status-line";

export interface UserDef extends NodeDef {
  server?: string;
}

/** Wait this long at most for the first connection before an operation fails with NOT_CONNECTED. */
const FIRST_CONNECT_WAIT_MS = 10_000;

export abstract class UserNode implements PacUser {
  readonly id: string;
  readonly runtime: ConfigRuntime | null;
  protected readonly t: Translate;
  protected readonly statusLine: StatusLine;
  protected closed = false;

  constructor(
    protected readonly RED: NodeAPI,
    readonly node: Node,
    def: UserDef,
    catalog: string,
  ) {
    this.id = node.id;
    this.t = makeTranslate(RED, catalog);
    this.statusLine = new StatusLine(node, this.t);
    const config = def.server ? (RED.nodes.getNode(def.server) as PacConfigNode | null) : null;
    this.runtime = config && config.pac ? config.pac : null;
  }

  /** Register with the config node and install the handlers; call at the end of the constructor. */
  protected start(): void {
    const node = this.node;
    node.on("input", (msg, send, done) => {
      if (this.closed) {
        done();
        return;
      }
      // done() once per msg: a msg completed at close must not be completed again by a late error.
      let finished = false;
      const once: DoneFn = (err) => {
        if (finished) {
          if (err) node.warn(`after close: ${err instanceof Error ? err.message : err}`);
          return;
        }
        finished = true;
        done(err);
      };
      this.handle(msg, send, once).catch((e: unknown) => this.fail(e, msg, once));
    });
    node.on("close", (removed, done) => {
      this.closed = true;
      let finished = false;
      const finish: CloseDoneFn = () => {
        if (finished) return;
        finished = true;
        done();
      };
      try {
        this.onClose(removed);
      } catch (e) {
        node.warn(`close: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (this.runtime) this.runtime.deregister(this, finish);
      else finish();
    });
    if (this.runtime) {
      this.runtime.register(this);
    } else {
      node.status({ fill: "red", shape: "ring", text: this.t("runtime.noConfig") });
    }
  }

  /** Handle one input msg; a thrown error goes to done(err) with the msg (Catch nodes get it). */
  protected abstract handle(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void>;

  protected onClose(_removed: boolean): void {
    /* overridden when there is something to release */
  }

  protected fail(e: unknown, msg: NodeMessage, done: DoneFn): void {
    try {
      const err = toFlowError(e, (s) => (this.runtime ? this.runtime.redact(s) : s));
      if (!this.closed) this.showError(err);
      // Catch nodes get a copy of msg: the payment concerned rides on it, as on the outputs.
      if (err.paymentId !== undefined) msg.paymentId = err.paymentId;
      done(err);
    } catch {
      /* the flow is gone: never let this reject */
    }
  }

  /** Short words on the status; the full text is in the error. */
  protected showError(err: FlowError): void {
    this.statusLine.setActivity(errorStatus(err.code, this.t));
  }

  /** The client, connected when possible; FlowError when the node has no usable config. */
  protected async client(): Promise<PacClient> {
    if (!this.runtime) {
      throw new FlowError("CONFIG", "no Dojo connection (pac-config) is selected in this node");
    }
    return this.runtime.ready(Math.min(FIRST_CONNECT_WAIT_MS, this.runtime.requestTimeoutMs));
  }

  connection(view: ConnectionView): void {
    if (!this.closed) this.statusLine.setConnection(view);
  }

  /** Whether anything is wired to output `index` (a msg nobody receives need not be built). */
  protected wired(index: number): boolean {
    const w = this.node.wires?.[index];
    return w !== undefined && w.length > 0;
  }

  protected activity(status: NodeStatus | null): void {
    if (!this.closed) this.statusLine.setActivity(status);
  }
}

/** The common node constructor: createNode, then the node's runtime object. */
export function userNodeType<D extends UserDef>(RED: NodeAPI, type: string, build: (node: Node, def: D) => UserNode): void {
  RED.nodes.registerType<Node, D>(type, function (this: Node, def: D) {
    RED.nodes.createNode(this, def);
    build(this, def);
  });
}
