/**
 * The user nodes of one connection as its config runtime sees them: the config node's `users`
 * (where Node-RED sends its status and errors), the connection state on every status line, the
 * observers (pac-events) and the wire traces they want (listened to only while one does).
 */
import type { PacClient, WireEvent } from "../engine";
import type { ConnectionObserver, PacUser } from "./pac-user";
import type { Node } from "./red-types";
import type { ConnectionView } from "./status-line";

export interface UsersHost {
  /** The config node: its `users` (shape `{id: node}`, as core MQTT's). */
  node: Node & { users: Record<string, Node> };
  redact(text: string): string;
}

export class ConnectionUsers {
  private readonly byId = new Map<string, PacUser>();
  private current: ConnectionView;
  private wireListener: ((w: WireEvent) => void) | null = null;
  private wireClient: PacClient | null = null;

  constructor(
    private readonly host: UsersHost,
    view: ConnectionView,
  ) {
    this.current = view;
  }

  add(user: PacUser): void {
    this.byId.set(user.id, user);
    this.host.node.users[user.id] = user.node;
    this.tell(user, (u) => u.connection?.(this.current));
  }

  /** False when this user was not (or no longer) registered here. */
  remove(user: PacUser): boolean {
    if (this.byId.get(user.id) !== user) return false;
    this.byId.delete(user.id);
    if (this.host.node.users[user.id] === user.node) delete this.host.node.users[user.id];
    return true;
  }

  get(id: string): PacUser | undefined {
    return this.byId.get(id);
  }

  list(): PacUser[] {
    return [...this.byId.values()];
  }

  /** Forget them all (a drain-only connection has no users of its own). */
  clear(): void {
    this.byId.clear();
  }

  get view(): ConnectionView {
    return this.current;
  }

  /** The connection state, on every user's status line. */
  set view(view: ConnectionView) {
    this.current = view;
    this.fanOut((u) => u.connection?.(view));
  }

  observe(fn: (o: ConnectionObserver) => void): void {
    this.fanOut((u) => (u.observer ? fn(u.observer) : undefined));
  }

  /** Listen to the client's wire traces only while a user wants them (null: stop). */
  updateWire(client: PacClient | null): void {
    const wanted = client !== null && this.list().some((u) => u.observer?.wantsWire === true);
    if (this.wireListener && (!wanted || client !== this.wireClient)) {
      this.wireClient?.removeListener("wire", this.wireListener);
      this.wireListener = null;
      this.wireClient = null;
    }
    if (wanted && !this.wireListener) {
      this.wireListener = (w) => {
        const safe: WireEvent = { ...w, text: this.host.redact(w.text) };
        this.observe((o) => (o.wantsWire ? o.wire?.(safe) : undefined));
      };
      this.wireClient = client;
      client.on("wire", this.wireListener);
    }
  }

  private fanOut(fn: (u: PacUser) => void): void {
    for (const u of this.list()) this.tell(u, fn);
  }

  private tell(u: PacUser, fn: (u: PacUser) => void): void {
    try {
      fn(u);
    } catch (e) {
      this.host.node.warn(this.host.redact(`Dojo connection: node ${u.id} failed on an event: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
}
