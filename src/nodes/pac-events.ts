/**
 * pac-events: one msg per event of the Dojo connection, for the selected event types:
 * notification, record, signature, connection, wire. Optional terminal filter.
 * Also the receiver of "orphaned" outcomes: a payment whose node no longer exists is sent here
 * (topic "record", payload.orphan = true) when "record" is selected.
 */
import type {
  ConnectionState,
  HandOver,
  NotificationEvent,
  OrphanReceiver,
  PaymentOutcome,
  RecordEvent,
  SignatureQuestion,
  StateInfo,
  WireEvent,
} from "../engine";
import type { ConnectionObserver } from "./pac-user";
import { readTerminalId } from "../protocol";
import type { Node, NodeAPI, NodeMessage, DoneFn, SendFn } from "./red-types";
import type { UserDef } from "./user-node";
import { UserNode, userNodeType } from "./user-node";

const EVENT_TYPES = ["notification", "record", "signature", "connection", "wire"] as const;
type EventType = (typeof EVENT_TYPES)[number];

interface EventsDef extends UserDef {
  events?: unknown;
  terminalId?: string;
}

function readEvents(v: unknown): Set<EventType> {
  const list = Array.isArray(v) ? v : typeof v === "string" ? v.split(",") : ["notification", "record", "connection"];
  const out = new Set<EventType>();
  for (const item of list) {
    const s = String(item).trim();
    if ((EVENT_TYPES as readonly string[]).includes(s)) out.add(s as EventType);
  }
  return out;
}

class EventsNode extends UserNode {
  private readonly events: Set<EventType>;
  private readonly terminalId: string;
  /** Sees every event of its connection, by the selected types. */
  readonly observer: ConnectionObserver;
  /** Takes the outcomes whose node is gone, when "record" is selected. */
  readonly orphans: OrphanReceiver;

  constructor(RED: NodeAPI, node: Node, def: EventsDef) {
    super(RED, node, def, "pac-events");
    this.events = readEvents(def.events);
    this.terminalId = typeof def.terminalId === "string" ? def.terminalId.trim() : "";
    this.observer = {
      wantsWire: this.events.has("wire"),
      stateChange: (state, info) => this.stateChange(state, info),
      notification: (e) => this.notification(e),
      signature: (q) => this.signature(q),
      record: (r) => this.record(r),
      wire: (w) => this.wire(w),
    };
    this.orphans = { accepts: (o) => this.acceptsOrphan(o), orphan: (o) => this.orphan(o) };
    this.start();
  }

  // No input: an events node only emits.
  protected handle(_msg: NodeMessage, _send: SendFn, done: DoneFn): Promise<void> {
    done();
    return Promise.resolve();
  }

  private emitEvent(topic: EventType, payload: Record<string, unknown>, extra?: NodeMessage): void {
    if (this.closed) return;
    this.node.send({ ...extra, topic, payload });
  }

  private terminalMatches(terminalId: string | undefined): boolean {
    return this.terminalId === "" || terminalId === this.terminalId;
  }

  private notification(e: NotificationEvent): void {
    if (!this.events.has("notification") || !this.terminalMatches(e.terminalId)) return;
    this.emitEvent("notification", { paymentId: e.paymentId, terminalId: e.terminalId, notification: e.notification }, { paymentId: e.paymentId });
  }

  private signature(q: SignatureQuestion): void {
    if (!this.events.has("signature") || !this.terminalMatches(q.terminalId)) return;
    this.emitEvent(
      "signature",
      { paymentId: q.paymentId, terminalId: q.terminalId, receiptLines: q.receiptLines, timeout: q.timeout },
      { paymentId: q.paymentId },
    );
  }

  private record(r: RecordEvent): void {
    if (!this.events.has("record") || !this.terminalMatches(readTerminalId(r.record))) return;
    this.emitEvent("record", { paymentId: r.paymentId, kind: r.kind, record: r.record, foreign: r.foreign }, { paymentId: r.paymentId });
  }

  private stateChange(state: ConnectionState, info: StateInfo): void {
    if (!this.events.has("connection")) return;
    this.emitEvent("connection", { state, reason: info.error?.message ?? info.reason ?? null });
  }

  private wire(w: WireEvent): void {
    if (!this.observer.wantsWire) return;
    this.emitEvent("wire", { direction: w.direction, text: w.text, at: w.at });
  }

  private acceptsOrphan(o: PaymentOutcome): boolean {
    return !this.closed && this.events.has("record") && this.terminalMatches(o.terminalId);
  }

  /** An outcome whose node is gone (deleted, or moved to another connection). */
  private orphan(o: PaymentOutcome): HandOver {
    if (this.closed) return "gone";
    const payload: Record<string, unknown> = {
      paymentId: o.paymentId,
      kind: o.kind ?? "payment",
      record: o.record ?? null,
      foreign: o.foreign,
      orphan: true,
      owner: o.owner ?? null,
      terminalId: o.terminalId,
      status: o.status,
      successful: o.successful,
      amount: o.amount,
      currency: o.currency,
    };
    if (o.notCreated) payload.notCreated = true;
    const extra: NodeMessage = { paymentId: o.paymentId };
    if (o.redelivered) extra.redelivered = true;
    this.node.send({ ...extra, topic: "record", payload });
    return "taken";
  }
}

export = function register(RED: NodeAPI): void {
  userNodeType<EventsDef>(RED, "pac-events", (node, def) => new EventsNode(RED, node, def));
};
