/**
 * The small part of the Node-RED runtime API these nodes use, typed by hand (no @types/node-red).
 * Shapes follow Node-RED 3.1 / 4.x (@node-red/runtime lib/nodes/Node.js, @node-red/registry util).
 */

/** A message travelling through a flow. */
export interface NodeMessage {
  _msgid?: string;
  topic?: unknown;
  payload?: unknown;
  [key: string]: unknown;
}

/** One output's message(s): one msg, none, or several in a row. */
export type OutputMessage = NodeMessage | null | undefined | (NodeMessage | null)[];
/** What send() takes: one msg for a single-output node, or one entry per output. */
export type SendArg = NodeMessage | OutputMessage[];

export type SendFn = (msg: SendArg) => void;
export type DoneFn = (err?: Error | string) => void;
export type CloseDoneFn = () => void;

export type StatusFill = "red" | "green" | "yellow" | "blue" | "grey";
export type StatusShape = "ring" | "dot";

export interface NodeStatus {
  fill?: StatusFill;
  shape?: StatusShape;
  text?: string;
}

/** The properties every node definition (from the flow file) has. */
export interface NodeDef {
  id: string;
  type: string;
  z?: string;
  g?: string;
  name?: string;
}

export type InputHandler = (msg: NodeMessage, send: SendFn, done: DoneFn) => void;
export type CloseHandler = (removed: boolean, done: CloseDoneFn) => void;

/** A node instance, after RED.nodes.createNode(this, def). */
export interface Node {
  readonly id: string;
  readonly type: string;
  readonly z?: string;
  name?: string;
  /** Per output, the ids of the nodes wired to it (kept current by the runtime). */
  readonly wires?: string[][];
  on(event: "input", handler: InputHandler): void;
  on(event: "close", handler: CloseHandler): void;
  send(msg: SendArg): void;
  status(status: NodeStatus): void;
  error(err: Error | string, msg?: NodeMessage): void;
  warn(message: string): void;
  log(message: string): void;
  debug(message: string): void;
  trace(message: string): void;
}

export interface CredentialDef {
  type: "text" | "password";
}

export interface RegisterOptions {
  credentials?: Record<string, CredentialDef>;
}

/** A node constructor: called by Node-RED with `this` being the new node. */
export type NodeConstructor<N extends Node, D extends NodeDef> = (this: N, def: D) => void;

export type RuntimeListener = (event: unknown) => void;

/** Messages to the editors over Node-RED's comms websocket (topic, data, retained). */
export interface CommsAPI {
  publish(topic: string, data: unknown, retain: boolean): void;
}

export interface NodeAPI {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    registerType<N extends Node, D extends NodeDef>(type: string, constructor: NodeConstructor<N, D>, options?: RegisterOptions): void;
    getNode(id: string): Node | null;
  };
  /** Runtime settings (settings.js); only what is read here. */
  settings: { userDir?: string };
  /** The runtime event bus ("flows:started", …). */
  events: {
    on(event: string, listener: RuntimeListener): void;
    removeListener(event: string, listener: RuntimeListener): void;
  };
  /** Node-RED 1.x+ gives nodes comms.publish; optional for test runtimes without it. */
  comms?: CommsAPI;
  /** Message catalog lookup in the calling node set's namespace. */
  _(key: string, substitutions?: Record<string, string | number>): string;
}
