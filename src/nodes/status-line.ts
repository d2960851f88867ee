/**
 * A user node's status line: the connection's state in plain words, or the node's own activity
 * while connected. Every text it shows is short words under 20 characters (Node-RED's convention):
 * a detail that would not fit (an amount, a reason) is left out, and stays in the error or the help.
 */
import type { ConnectionState } from "../engine";
import type { Node, NodeStatus } from "./red-types";
import type { Substitutions, Translate } from "./i18n";

/** The longest status text: Node-RED's convention is under 20 characters. */
export const STATUS_MAX_LENGTH = 19;

/** `text` when it fits on a status, else `shorter` (the words without the detail). */
export function fit(text: string, shorter: string): string {
  return text.length <= STATUS_MAX_LENGTH ? text : shorter;
}

/** A code Dojo may add later, as words ("TERMINAL_BUSY" -> "terminal busy"). */
export function codeWords(code: string): string {
  return code.toLowerCase().replace(/_/g, " ");
}

/** What the config node reports about its connection. */
export interface ConnectionView {
  state: ConnectionState | "starting" | "config-error" | "identity-in-use";
  reason?: string;
  retryInMs?: number;
  /** The journal cannot write: a few words on why ("disk full"); new sales are refused meanwhile. */
  journal?: string;
}

/** A connection text: the node's status.state.* key (every user node's catalog has them). */
function stateText(t: Translate, key: string, subs?: Substitutions): string {
  return t(`status.state.${key}`, subs);
}

/** Connection state in plain words for a user node's status. */
export function connectionStatus(view: ConnectionView, t: Translate): NodeStatus {
  // Whatever the socket does, a journal that cannot write stops sales: that is what to show.
  if (view.journal !== undefined) {
    return { fill: "red", shape: "ring", text: fit(stateText(t, "journalFailed", { reason: view.journal }), stateText(t, "journalStopped")) };
  }
  switch (view.state) {
    case "idle":
    case "starting":
    case "connecting":
      return { fill: "yellow", shape: "ring", text: stateText(t, "connecting") };
    case "open":
      return { fill: "green", shape: "dot", text: stateText(t, "connected") };
    case "reconnecting": {
      const secs = view.retryInMs !== undefined ? Math.max(1, Math.round(view.retryInMs / 1000)) : undefined;
      return {
        fill: "red",
        shape: "ring",
        text: secs !== undefined ? fit(stateText(t, "reconnecting", { seconds: secs }), stateText(t, "disconnected")) : stateText(t, "disconnected"),
      };
    }
    case "auth-failed":
      return { fill: "red", shape: "ring", text: stateText(t, "authFailed") };
    case "displaced":
      return { fill: "red", shape: "ring", text: stateText(t, "displaced") };
    case "identity-in-use":
      return { fill: "red", shape: "ring", text: stateText(t, "identityInUse") };
    case "config-error":
      // The reason is a sentence: it is in the config node's error in the log and in every refusal.
      return { fill: "red", shape: "ring", text: stateText(t, "configError") };
    case "closing":
    case "closed":
    default:
      return { fill: "grey", shape: "ring", text: stateText(t, "disconnected") };
  }
}

/** An error's status: a few words for its code (the text itself goes to Catch and the log). */
export function errorStatus(code: string, t: Translate): NodeStatus {
  const key = `runtime.error.${code}`;
  return { fill: "red", shape: "dot", text: t.has(key) ? t(key) : fit(codeWords(code), t("runtime.error.other")) };
}

/**
 * A node's status line: the connection state while it is not open, else the node's own activity
 * (a payment's step, a result) when there is one.
 */
export class StatusLine {
  private connection: NodeStatus = {};
  private connected = false;
  private activity: NodeStatus | null = null;

  constructor(
    private readonly node: Node,
    private readonly t: Translate,
  ) {}

  setConnection(view: ConnectionView): void {
    this.connection = connectionStatus(view, this.t);
    this.connected = view.state === "open" && view.journal === undefined;
    this.show();
  }

  setActivity(status: NodeStatus | null): void {
    this.activity = status;
    this.show();
  }

  private show(): void {
    this.node.status(this.connected && this.activity ? this.activity : this.connection);
  }
}
