/**
 * A journal's health after a storage failure. A failed write or sync makes it `failed`: it takes
 * nothing more, and it recovers by itself, probing with backoff (or at once when asked, no more
 * than once a second), by an attempt the Journal supplies: rewrite a new active file from what
 * memory holds, verified by reading it back (a failed sync may have lost earlier lines: no later
 * sync can vouch for them).
 */
import { describeStorageError } from "./storage-error";

/** Whether the journal can write; `failed` carries the error that stopped it. */
export type JournalHealth =
  { state: "ok" } | { state: "failed"; error: NodeJS.ErrnoException; code: string; words: string; short: string; since: number; path: string };

/** Rejects what the journal is asked to write while it is failed: nothing was written. */
export class JournalUnavailableError extends Error {
  readonly code: string;
  constructor(journalPath: string, cause: NodeJS.ErrnoException) {
    super(`the journal ${journalPath} cannot write: ${describeStorageError(cause).words}`);
    this.name = "JournalUnavailableError";
    this.code = cause.code ?? "EIO";
  }
}

export interface RecoveryOptions {
  /** First and longest wait between recovery attempts after a storage failure (default 1 s and 30 s). */
  recoveryMinMs?: number;
  recoveryMaxMs?: number;
}

/** The failed state of one journal and the probe that ends it. */
export class JournalRecovery {
  private healthNow: JournalHealth = { state: "ok" };
  /** The recovery attempt running now (one at a time). */
  private recovering: Promise<boolean> | null = null;
  private recoveryTimer: NodeJS.Timeout | null = null;
  private recoveryDelayMs = 0;
  private lastAttemptAt = 0;
  private closing = false;

  constructor(
    private readonly path: string,
    private readonly opts: RecoveryOptions,
    /** One attempt to make the journal writable again; rejects when it cannot. */
    private readonly attempt: () => Promise<void>,
    /** Told every change of health. */
    private readonly onHealth: (health: JournalHealth) => void,
  ) {}

  get health(): JournalHealth {
    return this.healthNow;
  }

  /** The attempt running now, if any (close waits for it). */
  get running(): Promise<boolean> | null {
    return this.recovering;
  }

  /** Stop taking writes after a storage error (the first one is kept) and start probing for recovery. */
  fail(e: NodeJS.ErrnoException): void {
    if (this.closing || this.healthNow.state === "failed") return;
    const error = e instanceof JournalUnavailableError ? Object.assign(new Error(e.message), { code: e.code }) : e;
    const text = describeStorageError(error);
    this.healthNow = { state: "failed", error, code: text.code, words: text.words, short: text.short, since: Date.now(), path: this.path };
    this.recoveryDelayMs = 0;
    this.scheduleRecovery();
    this.onHealth(this.healthNow);
  }

  private scheduleRecovery(): void {
    if (this.closing || this.recoveryTimer || this.healthNow.state === "ok") return;
    const min = this.opts.recoveryMinMs ?? 1000;
    this.recoveryDelayMs = this.recoveryDelayMs === 0 ? min : Math.min(this.recoveryDelayMs * 2, this.opts.recoveryMaxMs ?? 30_000);
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = null;
      void this.recover().then((ok) => {
        if (!ok) this.scheduleRecovery();
      });
    }, this.recoveryDelayMs);
    // A probe must not keep a process alive that has nothing else to do.
    this.recoveryTimer.unref();
  }

  /**
   * Try to make the journal writable again now (a record arrived, or the probe timer fired): true
   * when it is. At most one attempt runs at once, and no more often than recoveryMinMs (1 s by default).
   */
  recover(now = false): Promise<boolean> {
    if (this.healthNow.state === "ok") return Promise.resolve(true);
    if (this.recovering) return this.recovering;
    if (this.closing || (!now && Date.now() - this.lastAttemptAt < (this.opts.recoveryMinMs ?? 1000))) return Promise.resolve(false);
    this.lastAttemptAt = Date.now();
    this.recovering = this.attempt()
      .then(
        () => {
          if (this.closing) return false;
          if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
          this.recoveryTimer = null;
          this.healthNow = { state: "ok" };
          this.onHealth(this.healthNow);
          return true;
        },
        () => false,
      )
      .finally(() => {
        this.recovering = null;
      });
    return this.recovering;
  }

  /** The journal is closing: no more probes, and an attempt that ends now does not count. */
  close(): void {
    this.closing = true;
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    this.recoveryTimer = null;
  }
}
