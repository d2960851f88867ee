/**
 * The runtime behind one pac-config node: one PacClient shared by every node that uses it (created
 * when the first one registers), the built-in simulator for the `simulator` environment, and the
 * connection state shown on every user node.
 *
 * Outcomes are not routed here: each user node claims its payments in the client's outbox by its
 * node id (a new instance after a redeploy claims the same id), pac-events nodes take the orphans,
 * and the outbox hands each outcome over exactly once. This runtime only says when the claims are
 * complete (flows started: the outbox opens) and when they may not be (a deploy: it holds).
 *
 * When its node closes with payments open under its identity (a deploy changed or removed it), the
 * runtime becomes drain-only: no users of its own, no new sales; the runtime registry
 * (connections.ts) has every live user claim here too, so each result still reaches the node that
 * started it, wherever it is now. It closes when nothing is open, after DRAIN_MAX_MS, or when a
 * connection with the same identity takes the journal. A journal that cannot write, or an identity
 * another connection holds, shows on every user node.
 *
 * Why this file is over 400 lines: it is one state machine (live -> draining -> closed, with the
 * client's start and its retries) whose transitions share the client, the users and the view. Its
 * separable jobs are already out: client-start.ts, leftovers.ts, connection-users.ts, connections.ts,
 * settings.ts; splitting the transitions too would pass most of this state between files.
 */
import { redactSecrets, waitForState } from "../engine";
import type { AmountLimit, ConnectionState, JournalHealth, PacClient, PaymentOutcome, StateInfo } from "../engine";
import type { PacSimulator, SimSlipInput } from "../simulator";
import { maxAmountSetting, startClient, startFailure } from "./client-start";
import type { Connections } from "./connections";
import { FlowError } from "./flow-error";
import type { HeldMessages } from "./held-messages";
import { findLeftovers } from "./leftovers";
import { ConnectionUsers } from "./connection-users";
import type { PacUser } from "./pac-user";
import type { Node, NodeAPI, RuntimeListener } from "./red-types";
import { credentialSecrets } from "../common/redact";
import { journalRoot } from "./settings";
import type { ConfigSettings } from "./settings";
import type { ConnectionView } from "./status-line";
import { StatusPush } from "./status-push";

export type { ConnectionObserver, PacUser } from "./pac-user";

/** This Node-RED runtime's registry of connections (connections.ts). */
export type RuntimeConnections = Connections<ConfigRuntime>;
// The settings moved to settings.ts; these stay importable from here (tests, older imports).
export { journalRoot, readSettings, runtimeTuning, SIMULATOR_SOFTWARE_HOUSE_ID } from "./settings";
export type { ConfigCredentials, ConfigDef, ConfigSettings, Environment, RuntimeTuning } from "./settings";

/** The pac-config node as user nodes see it. */
export interface PacConfigNode extends Node {
  /** Node-RED looks here to pass the config node's errors and status to the users' flows. */
  users: Record<string, Node>;
  pac: ConfigRuntime;
}

// ---- the runtime -----------------------------------------------------------------------------------

const CLOSE_BOUND_MS = 8000;
/** A drain-only connection ends after this even with payments still open (they stay in the journal). */
export const DRAIN_MAX_MS = 15 * 60_000;
/** Retries of a journal that could not be opened (a full or read-only disk at start). */
const OPEN_RETRY_MIN_MS = 1000;
const OPEN_RETRY_MAX_MS = 30_000;

/**
 * - live: serves its user nodes;
 * - draining: its node is gone (or it was started for a journal a restart left): no users of its
 *   own, no new sales; it only collects the results of payments still open;
 * - closed: close() was called (its work may still be finishing: closePromise).
 */
type Phase = "live" | "draining" | "closed";

export class ConfigRuntime {
  /** Null until the first user registered and the journal is open. */
  client: PacClient | null = null;
  /** The built-in simulator (environment `simulator`), once started. */
  simulator: PacSimulator | null = null;
  private flowsStarted = false;
  private phase: Phase = "live";
  /** Set by close(): its work, shared by every caller. */
  private closePromise: Promise<void> | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private drainWarned = false;
  private openRetryTimer: NodeJS.Timeout | null = null;
  private openRetryMs = 0;
  /** The journal's failure already reported (one warning per failure, not one per frame). */
  private journalWarned = false;
  /** Started for a journal a restart left (adoptLeftovers), not for a config node of its own. */
  private adopted = false;
  private initPromise: Promise<PacClient | null> | null = null;
  private readonly users: ConnectionUsers;
  private readonly runtimeListeners: [string, RuntimeListener][];
  private readonly secrets: string[];
  /** Tells the editor's Dojo sidebar to re-read this connection's status (status-push.ts). */
  private readonly push: StatusPush;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: PacConfigNode,
    private readonly settings: ConfigSettings | string,
    private readonly connections: Connections<ConfigRuntime>,
  ) {
    this.users = new ConnectionUsers(
      { node, redact: (t) => this.redact(t) },
      typeof settings === "string" ? { state: "config-error", reason: settings } : { state: "idle" },
    );
    this.push = new StatusPush(RED.comms, node.id);
    this.secrets = typeof settings === "string" ? [] : credentialSecrets(settings.accountName, settings.apiKey);
    this.runtimeListeners = [
      ["flows:starting", () => this.setFlowsStarted(false)],
      ["flows:stopping", () => this.setFlowsStarted(false)],
      ["flows:started", () => this.setFlowsStarted(true)],
    ];
    for (const [event, listener] of this.runtimeListeners) RED.events.on(event, listener);
    connections.add(this);
  }

  /** The msgs waiting for their outcome (one registry per Node-RED runtime). */
  get held(): HeldMessages {
    return this.connections.held;
  }

  get configId(): string {
    return this.node.id;
  }

  get isDraining(): boolean {
    return this.phase === "draining";
  }

  /** A user node registered here (a live connection only: a drain-only one has none). */
  user(id: string): PacUser | undefined {
    return this.phase === "live" ? this.users.get(id) : undefined;
  }

  /** Its name, for messages about it. */
  get displayName(): string {
    return this.label;
  }

  private get closing(): boolean {
    return this.phase === "closed";
  }

  get connectionView(): ConnectionView {
    return this.users.view;
  }

  get settingsError(): string | null {
    return typeof this.settings === "string" ? this.settings : null;
  }

  /** Outcomes waiting for a receiver (for tests and the status query). */
  get pendingOutcomes(): PaymentOutcome[] {
    return this.client?.outbox.waitingOutcomes() ?? [];
  }

  redact(text: string): string {
    const out = redactSecrets(text, this.secrets);
    return this.client ? this.client.connection.redact(out) : out;
  }

  // ---- users -----------------------------------------------------------------------------------

  register(user: PacUser): void {
    if (this.closing) return;
    this.users.add(user);
    this.updateWire();
    if (this.client) this.claim(user, this.configId);
    this.connections.userRegistered(user, this.configId);
    if (!this.initPromise && typeof this.settings !== "string") this.initPromise = this.init(this.settings);
  }

  /** Forget a user; done() runs once nothing of this config node can still reach it. */
  deregister(user: PacUser, done: () => void): void {
    this.users.remove(user);
    this.release(user);
    this.connections.userGone(user);
    this.updateWire();
    // A config node closing at the same time (full deploy): wait for its teardown (bounded by close()).
    if (this.closePromise) this.closePromise.then(done, done);
    else setImmediate(done);
  }

  /**
   * The client, once the journal is open; waits (up to waitOpenMs) for the first connection when it
   * is still being made. Throws a FlowError when the configuration cannot work.
   */
  async ready(waitOpenMs: number): Promise<PacClient> {
    if (typeof this.settings === "string") {
      throw new FlowError("CONFIG", `the Dojo connection "${this.label}" is not usable: ${this.settings}`);
    }
    if (this.closing) throw new FlowError("CLOSED", "the Dojo connection is closing (redeploy)");
    if (!this.initPromise) this.initPromise = this.init(this.settings);
    const client = await this.initPromise;
    if (!client) {
      const code = this.users.view.journal !== undefined ? "JOURNAL" : this.users.view.state === "identity-in-use" ? "IDENTITY_IN_USE" : "CONFIG";
      throw new FlowError(code, `the Dojo connection "${this.label}" could not start: ${this.users.view.reason ?? "closed"}`);
    }
    const s = client.state;
    if (s === "idle" || s === "connecting") await this.waitOpen(client, waitOpenMs);
    return client;
  }

  /**
   * Print a slip on the built-in simulator's virtual receipt printer (its virtual terminal page shows
   * it). `slip` is only called when there is one: with a real Dojo environment nothing is rendered.
   */
  showSlip(slip: () => SimSlipInput): "shown" | "not-simulator" | "no-terminal" {
    const sim = this.simulator;
    if (!sim || sim.isStopped || typeof this.settings === "string" || this.settings.environment !== "simulator") return "not-simulator";
    return sim.printSlip(slip()) ? "shown" : "no-terminal";
  }

  /** The most one payment may be on this connection, and where that is set (none while its settings are unusable). */
  get amountLimit(): AmountLimit | undefined {
    return typeof this.settings === "string" ? undefined : { maxAmount: this.settings.maxAmount, where: maxAmountSetting(`connection "${this.label}"`) };
  }

  get requestTimeoutMs(): number {
    return typeof this.settings === "string" ? 30_000 : this.settings.requestTimeoutMs;
  }

  private get label(): string {
    return this.node.name || (typeof this.settings === "string" ? this.node.id : this.settings.eposId);
  }

  private async waitOpen(client: PacClient, ms: number): Promise<void> {
    await waitForState(client, (s) => s !== "connecting" && s !== "idle", ms);
  }

  // ---- start and stop ------------------------------------------------------------------------------

  private async init(settings: ConfigSettings): Promise<PacClient | null> {
    this.setView({ ...this.users.view, state: "starting" });
    let started;
    try {
      started = await startClient({
        RED: this.RED,
        configId: this.node.id,
        settings,
        simulator: this.simulator,
        lockLabel: `connection "${this.label}"`,
        warn: (m) => this.node.warn(this.redact(m)),
        secrets: (list) => this.secrets.push(...list),
        simulatorStarted: (sim) => (this.simulator = sim),
      });
    } catch (e) {
      this.failedToStart(e, settings);
      return null;
    }
    const { client, journalDir } = started;
    if (this.closing) {
      await client.close();
      return null;
    }
    this.client = client;
    this.openRetryMs = 0;
    if (this.users.view.journal !== undefined) this.onJournal({ state: "ok" });
    client.on("journal", (h) => this.onJournal(h));
    this.push.follow(client);
    client.on("state", (state, info) => this.onState(state, info));
    client.on("warning", (m) => this.node.warn(this.redact(m)));
    // Steps and questions reach their payment's node through its claim; observers see them all.
    if (this.phase === "live") {
      client.on("notification", (e) => this.users.observe((o) => o.notification?.(e)));
      client.on("signature", (q) => this.users.observe((o) => o.signature?.(q)));
      client.on("record", (r) => this.users.observe((o) => o.record?.(r)));
    }
    // A drain-only connection closes once nothing is left to hand over.
    client.on("outcome", () => this.checkDrained());
    client.on("delivered", () => this.checkDrained());
    if (!this.flowsStarted) client.outbox.hold();
    for (const u of this.users.list()) this.claim(u, this.configId);
    if (this.phase === "draining") this.connections.claimLiveUsers(this);
    this.updateWire();
    client.start();
    if (this.phase === "live" && settings.environment !== "simulator") void this.adoptLeftovers(settings, journalDir);
    return client;
  }

  /** Say why the client could not start; a storage error is retried by itself. */
  private failedToStart(e: unknown, settings: ConfigSettings): void {
    if (this.adopted || this.closing) {
      // An adopted journal someone else has now (or the disk refuses): it stays listed by pac/open-payments.
      if (this.adopted) void this.close();
      return;
    }
    const reason = this.redact(e instanceof Error ? e.message : String(e));
    const failure = startFailure(e, settings, reason);
    switch (failure.kind) {
      case "identity-in-use":
        this.setView({ state: "identity-in-use", reason: failure.text });
        this.node.error(`Dojo connection "${this.label}": ${failure.text}`);
        return;
      case "storage":
        this.setView({ state: "starting", reason, journal: failure.short });
        if (!this.journalWarned) {
          this.journalWarned = true;
          this.node.warn(
            this.redact(
              `Dojo connection "${this.label}": the journal in ${journalRoot(this.RED)} cannot be opened: ${failure.words}; new sales are refused, retrying by itself`,
            ),
          );
        }
        this.retryOpen();
        return;
      case "config":
        this.setView({ state: "config-error", reason });
        this.node.error(`Dojo connection "${this.label}" could not start: ${reason}`);
    }
  }

  /** Try to start again after a storage error at open, with backoff; a success clears the red status. */
  private retryOpen(): void {
    if (this.closing || this.openRetryTimer || typeof this.settings === "string") return;
    this.openRetryMs = this.openRetryMs === 0 ? OPEN_RETRY_MIN_MS : Math.min(this.openRetryMs * 2, OPEN_RETRY_MAX_MS);
    const settings = this.settings;
    this.openRetryTimer = setTimeout(() => {
      this.openRetryTimer = null;
      if (this.closing) return;
      this.initPromise = this.init(settings);
    }, this.openRetryMs);
  }

  private onJournal(h: JournalHealth): void {
    if (this.closing) return;
    if (h.state === "failed") {
      if (!this.journalWarned) {
        this.journalWarned = true;
        this.node.warn(
          this.redact(
            `Dojo connection "${this.label}": the journal ${h.path} cannot write: ${h.words}. New sales and refunds are refused and records are not acknowledged (Dojo keeps them) until it recovers; it retries by itself`,
          ),
        );
      }
      this.setView({ ...this.users.view, journal: h.short });
      return;
    }
    if (this.journalWarned) this.node.log(`Dojo connection "${this.label}": the journal writes again`);
    this.journalWarned = false;
    const { journal: _gone, ...view } = this.users.view;
    this.setView(view);
  }

  /**
   * The config node is closing (a deploy or a stop). With payments still open under this identity
   * (not finished, or finished and not handed over) the connection stays, drain-only, to collect
   * their results; otherwise it closes.
   */
  closeForNode(): Promise<void> {
    if (this.phase !== "live") return this.closePromise ?? Promise.resolve();
    if (this.openWork() === 0 || !this.client) return this.close();
    this.startDraining();
    return Promise.resolve();
  }

  /**
   * Payments whose result this connection still has to bring in: followed by the client (no record
   * yet) or recorded and waiting for a node that exists (while flows are stopped for a deploy, any
   * result: its node may be starting). An outcome with nowhere to go once flows run stays in the
   * journal for the next start of this identity and keeps nothing open.
   */
  openWork(): number {
    const client = this.client;
    if (!client || typeof this.settings === "string" || this.settings.environment === "simulator") return 0;
    const s = client.state;
    if (s === "displaced" || s === "auth-failed" || s === "closed" || s === "closing") return 0;
    return client.unresolved + client.outbox.handingOver + client.outbox.deliverable;
  }

  private startDraining(): void {
    const client = this.client;
    if (!client) return;
    this.phase = "draining";
    for (const u of this.users.list()) this.release(u);
    this.users.clear();
    // Every live user claims here too: results reach the node that started them, wherever it is now.
    this.connections.startDraining(this);
    // A new connection with the same identity takes over at once: it reopens the same journal and
    // follows the payments up itself (the lock asks this one to close first).
    client.journal.offerToYield(() => this.close());
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      const left = this.openWork();
      if (left > 0) {
        this.node.warn(
          this.redact(
            `Dojo connection "${this.label}" (epos-id ${client.connection.eposId}): ${left} payment(s) still open after ${DRAIN_MAX_MS / 60_000} minutes of draining; closing. They are followed up when a connection with this identity starts again`,
          ),
        );
      }
      void this.close();
    }, DRAIN_MAX_MS);
    this.drainTimer.unref();
  }

  /** After a deploy: still draining means the identity really changed or went: say so once. */
  private warnDraining(): void {
    const client = this.client;
    if (this.phase !== "draining" || this.drainWarned || !client) return;
    const open = this.openWork();
    if (open === 0) return;
    this.drainWarned = true;
    this.node.warn(
      this.redact(
        `Dojo connection "${this.label}" was changed or removed with ${open} payment(s) still open under epos-id ${client.connection.eposId}: a drain-only connection collects their results (no new sales) until they settle, at most ${DRAIN_MAX_MS / 60_000} minutes`,
      ),
    );
  }

  /**
   * After a restart, the drain-only connections a deploy had left are gone with the process: a
   * journal of this connection's account and URL under another epos-id, with payments opened in the
   * last DRAIN_MAX_MS, gets one again (the same bound as a drain; older ones stay listed by
   * GET pac/open-payments). This is the only way their records reach the flow: Dojo sends them to
   * the epos-id that started them.
   */
  private async adoptLeftovers(settings: ConfigSettings, dir: string): Promise<void> {
    const { live, draining } = this.connections.list();
    const inUse = new Set([...live, ...draining].flatMap((rt) => (rt.client ? [rt.client.journal.path] : [])));
    for (const eposId of await findLeftovers(dir, settings, inUse, DRAIN_MAX_MS)) {
      if (this.closing) return;
      new ConfigRuntime(this.RED, this.node, { ...settings, eposId }, this.connections).drainLeftover(this.flowsStarted);
    }
  }

  /** Start as a drain-only connection for a journal a restart left (see adoptLeftovers). */
  private drainLeftover(flowsStarted: boolean): void {
    if (typeof this.settings === "string") return;
    this.adopted = true;
    this.flowsStarted = flowsStarted;
    this.phase = "draining"; // no observers, no leftovers of its own
    this.initPromise = this.init(this.settings);
    void this.initPromise.then((client) => {
      if (!client || this.closing) return;
      this.startDraining(); // with the registry, the lock offer and the bound
      this.node.warn(
        this.redact(
          `Dojo connection "${this.label}": payments left open under epos-id ${client.connection.eposId} before a restart; a drain-only connection collects their results (no new sales), at most ${DRAIN_MAX_MS / 60_000} minutes`,
        ),
      );
      this.drainWarned = true;
    });
  }

  /** A drain-only connection with nothing left to collect closes. */
  private checkDrained(): void {
    if (this.phase === "draining" && this.flowsStarted && !this.closing && this.openWork() === 0) void this.close();
  }

  /** Close within a few seconds: client (socket, journal), simulator, listeners. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.phase = "closed";
    for (const [event, listener] of this.runtimeListeners) this.RED.events.removeListener(event, listener);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    if (this.openRetryTimer) clearTimeout(this.openRetryTimer);
    this.openRetryTimer = null;
    this.connections.remove(this);
    this.push.stop();
    const work = (async (): Promise<void> => {
      const client = this.initPromise ? await this.initPromise : null;
      if (client) {
        this.users.updateWire(null);
        try {
          await client.close();
        } finally {
          client.removeAllListeners();
        }
      }
      if (this.simulator) await this.simulator.stop();
    })();
    this.closePromise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.node.warn("Dojo connection: closing took too long; carrying on");
        resolve();
      }, CLOSE_BOUND_MS);
      work
        .catch((e: unknown) => this.node.warn(this.redact(`Dojo connection: error while closing: ${e instanceof Error ? e.message : String(e)}`)))
        .finally(() => {
          clearTimeout(timer);
          resolve();
        });
    });
    return this.closePromise;
  }

  // ---- client events -------------------------------------------------------------------------------

  private onState(state: ConnectionState, info: StateInfo): void {
    if (this.closing) return;
    const reason = info.error?.message ?? info.reason;
    this.setView({
      state,
      ...(reason ? { reason: this.redact(reason) } : {}),
      ...(info.retryInMs !== undefined ? { retryInMs: info.retryInMs } : {}),
      ...(this.users.view.journal !== undefined ? { journal: this.users.view.journal } : {}),
    });
    if ((state === "auth-failed" || state === "displaced") && info.error) this.node.warn(this.redact(info.error.message));
    const safeInfo: StateInfo = { ...info, ...(info.reason ? { reason: this.redact(info.reason) } : {}) };
    this.users.observe((o) => o.stateChange?.(state, safeInfo));
    this.checkDrained(); // a drain-only connection that was displaced has nothing more to collect
  }

  private setView(view: ConnectionView): void {
    this.users.view = view;
    this.push.changed("state");
  }

  /** Something the Dojo sidebar shows changed outside the client's events (a payment started). */
  statusChanged(reason: string): void {
    if (!this.closing) this.push.changed(reason);
  }

  /** Wire traces only while a user wants them. */
  private updateWire(): void {
    this.users.updateWire(this.closing ? null : this.client);
  }

  // ---- claims --------------------------------------------------------------------------------------

  /**
   * Claim a user's payments in this connection's outbox: its own (live), or any live user's while
   * this one drains. Orphans go to the pac-events nodes of the same config node id.
   */
  claim(u: PacUser, configId: string): void {
    const outbox = this.client?.outbox;
    if (!outbox || this.closing) return;
    if (u.owner) outbox.claim(u.id, u.owner);
    if (u.orphans && configId === this.configId) outbox.claimOrphans(u.id, u.orphans);
  }

  release(u: PacUser): void {
    const outbox = this.client?.outbox;
    if (!outbox) return;
    if (u.owner) outbox.release(u.id, u.owner);
    if (u.orphans) outbox.releaseOrphans(u.id, u.orphans);
  }

  /** Users of this live connection (for a drain-only one to claim for them). */
  liveUsers(): PacUser[] {
    return this.phase === "live" ? this.users.list() : [];
  }

  /** Answer a signature question a drain-only connection holds (the node's own client did not know it). */
  answerSignatureElsewhere(paymentId: string, accepted: boolean): boolean {
    return this.connections.answerSignature(paymentId, accepted);
  }

  /** Flows running: the claims are complete, the outbox hands over; a deploy: it holds. */
  private setFlowsStarted(started: boolean): void {
    this.flowsStarted = started;
    const outbox = this.client?.outbox;
    if (started) {
      outbox?.open();
      this.warnDraining();
      this.checkDrained();
    } else {
      outbox?.hold();
    }
  }
}
