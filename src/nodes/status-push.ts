/**
 * Tells the editor's Dojo sidebar that a connection's picture changed, so it asks pac/status/<id>
 * at once instead of polling: a small "changed" message on Node-RED's comms (topic
 * pac/status/<configId>, not retained) for a state change, a step, a record, an outcome, a
 * hand-over or a journal health change. Only the reason is pushed, never payment data (the
 * sidebar re-reads the status through the admin API, which applies adminAuth).
 */
import type { PacClient } from "../engine";
import type { CommsAPI } from "./red-types";

/** At most one publish per config in this window: a burst of steps becomes one re-read. */
export const PUSH_DEBOUNCE_MS = 50;

export interface StatusChanged {
  configId: string;
  /** What happened last in the window (state, notification, record, outcome, journal, …). */
  reason: string;
  at: number;
}

export class StatusPush {
  private timer: NodeJS.Timeout | null = null;
  private reason = "";
  private stopped = false;

  constructor(
    private readonly comms: CommsAPI | undefined,
    private readonly configId: string,
  ) {}

  /** Follow a client's events until stop() (or until the client's listeners are removed). */
  follow(client: PacClient): void {
    client.on("state", () => this.changed("state"));
    client.on("notification", () => this.changed("notification"));
    client.on("record", () => this.changed("record"));
    client.on("outcome", () => this.changed("outcome"));
    client.on("delivered", () => this.changed("delivered"));
    client.on("journal", () => this.changed("journal"));
  }

  /** Something the sidebar shows changed (also called for a payment started). */
  changed(reason: string): void {
    if (this.stopped || !this.comms) return;
    this.reason = reason;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.publish();
    }, PUSH_DEBOUNCE_MS);
    this.timer.unref();
  }

  /** Publish once more (the connection closed) and stop. */
  stop(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.reason = "closed";
    this.publish();
    this.stopped = true;
  }

  private publish(): void {
    if (this.stopped || !this.comms) return;
    const data: StatusChanged = { configId: this.configId, reason: this.reason, at: Date.now() };
    try {
      this.comms.publish(`pac/status/${this.configId}`, data, false);
    } catch {
      // The editor's comms are a convenience: a failure here must not touch a payment.
    }
  }
}
