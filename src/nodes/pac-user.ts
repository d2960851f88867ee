/**
 * What a node using a pac-config node offers it: its status line, its claim on the payments it
 * starts (owner: outcomes, steps, signature questions), the orphans it takes and the events it
 * observes (pac-events). Every part is optional.
 */
import type { ConnectionState, NotificationEvent, OrphanReceiver, OwnerReceiver, RecordEvent, SignatureQuestion, StateInfo, WireEvent } from "../engine";
import type { Node } from "./red-types";
import type { ConnectionView } from "./status-line";

/** What sees every event of the connection (pac-events). */
export interface ConnectionObserver {
  stateChange?(state: ConnectionState, info: StateInfo): void;
  notification?(event: NotificationEvent): void;
  signature?(question: SignatureQuestion): void;
  record?(event: RecordEvent): void;
  /** Set when the user wants wire traces (they cost: only listened to when someone wants them). */
  readonly wantsWire?: boolean;
  wire?(event: WireEvent): void;
}

export interface PacUser {
  readonly id: string;
  readonly node: Node;
  /** The connection state, for the status line (also called once at registration). */
  connection?(view: ConnectionView): void;
  /** Claims the payments this node starts (owner = its node id): outcomes, steps, signature questions. */
  readonly owner?: OwnerReceiver;
  /** Takes outcomes whose node is gone (pac-events). */
  readonly orphans?: OrphanReceiver;
  readonly observer?: ConnectionObserver;
}
