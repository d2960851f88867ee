/**
 * An exclusive lock on one journal file, so two writers never append to it at once (they would
 * lose payment results). No native modules: the lock is a file created with O_EXCL ("wx"),
 * holding JSON that names its holder, written and fsynced (lock-file.ts).
 *
 * Within this process a table of held locks answers first, without touching the file; a holder
 * here may offer to yield, or say it is releasing, and a later acquire then waits for it instead
 * of refusing. Across processes the file answers; a lock left behind by a process that is gone is
 * "stale" and taken over when that can be proved from this machine (lock-holder.ts says when).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { lockedError, makeHolder } from "./lock-holder";
import type { LockHolder } from "./lock-holder";
import { takeFile, unlinkIfOurs } from "./lock-file";

export { JournalLockError } from "./lock-holder";
export type { LockHolder } from "./lock-holder";

export interface AcquireOptions {
  /** Who we are, for the other side's error message, e.g. `connection "Front till"`. */
  label: string;
  /** What the lock guards, for error messages (default: the lock path without a trailing ".lock"). */
  resource?: string;
  /** How long to wait for a holder in this process that offered to yield, or is releasing (default 15 s). */
  yieldTimeoutMs?: number;
}

export interface JournalLock {
  /** The lock file (absolute). */
  readonly path: string;
  readonly holder: LockHolder;
  /** Give the lock up: unlinks the file only while it still holds our token. Idempotent, synchronous, never throws. */
  release(): void;
  /**
   * This holder will give the lock up on request (e.g. a drain-only connection): a later acquire
   * in this process calls yieldTo() once and waits for release() instead of refusing.
   */
  offerToYield(yieldTo: () => Promise<void>): void;
  /** This holder is on its way out (an async close has begun): a later acquire in this process waits for release() instead of refusing. */
  releasing(): void;
  readonly released: boolean;
}

const DEFAULT_YIELD_TIMEOUT_MS = 15_000;

const WINDOWS = process.platform === "win32";

// ---- this process's table -----------------------------------------------------------------------

interface Pending {
  kind: "pending";
  holder: LockHolder;
  settled: Promise<void>;
}

/** Held locks by canonical path, and by token (to recognise our own file under another spelling). */
const byPath = new Map<string, HeldLock | Pending>();
const byToken = new Map<string, HeldLock>();
let exitHooked = false;

class HeldLock implements JournalLock {
  readonly kind = "held";
  released = false;
  private yieldTo?: () => Promise<void>;
  private yielding?: Promise<void>;
  private goingAway = false;
  private readonly onRelease: (() => void)[] = [];

  constructor(
    readonly path: string,
    readonly key: string,
    readonly holder: LockHolder,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    if (byPath.get(this.key) === this) byPath.delete(this.key);
    if (this.holder.token) {
      byToken.delete(this.holder.token);
      unlinkIfOurs(this.path, this.holder.token);
    }
    for (const f of this.onRelease.splice(0)) f();
  }

  offerToYield(yieldTo: () => Promise<void>): void {
    this.yieldTo = yieldTo;
    this.yielding = undefined; // a new offer: a yield that failed before may be asked again
  }

  releasing(): void {
    this.goingAway = true;
  }

  get waitable(): boolean {
    return this.goingAway || this.yieldTo !== undefined;
  }

  /** Ask the holder to yield (once, however many wait) and wait for release(), until the deadline. */
  async waitForRelease(deadline: number, onTimeout: () => Error): Promise<void> {
    if (this.released) return;
    const released = new Promise<void>((resolve) => this.onRelease.push(resolve));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), Math.max(0, deadline - Date.now()));
    });
    try {
      if (this.yieldTo && !this.goingAway) {
        const yieldTo = this.yieldTo;
        this.yielding ??= Promise.resolve().then(yieldTo);
      }
      // A failed yield leaves the holder in place: refuse now rather than at the deadline.
      const failed = this.yielding?.then(
        () => new Promise<never>(() => undefined),
        (e: unknown) => {
          const err = onTimeout();
          err.cause = e;
          throw err;
        },
      );
      await Promise.race(failed ? [released, timeout, failed] : [released, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function canonicalKey(abs: string): string {
  let key = abs;
  try {
    // Two spellings of one directory (a symlinked userDir) are one lock.
    key = path.join(fs.realpathSync.native(path.dirname(abs)), path.basename(abs));
  } catch {
    /* the directory does not exist: creating the lock will say so */
  }
  return WINDOWS ? key.toLowerCase() : key;
}

function releaseAllOnExit(): void {
  for (const held of [...byToken.values()]) held.release();
}

/**
 * Take the exclusive lock `lockPath` for a journal. Rejects with JournalLockError when another
 * holder has it (in this process: at once, without touching the file, unless that holder offered
 * to yield or is releasing); other fs errors (EACCES, ENOSPC, EROFS, ENOENT) reject as themselves.
 */
export async function acquireJournalLock(lockPath: string, opts: AcquireOptions): Promise<JournalLock> {
  if (typeof opts?.label !== "string" || opts.label === "") throw new TypeError("acquireJournalLock: opts.label is required");
  const file = path.resolve(lockPath);
  const key = canonicalKey(file);
  const resource = opts.resource ?? file.replace(/\.lock$/, "");
  const deadline = Date.now() + (opts.yieldTimeoutMs ?? DEFAULT_YIELD_TIMEOUT_MS);

  // Each turn waits for a pending acquire or a release, so the count bounds it with the deadline.
  for (let turn = 0; ; turn++) {
    const cur = byPath.get(key);
    if (!cur) break;
    if (turn >= 100) throw new Error(`journal ${resource}: lock table did not settle`);
    if (cur.kind === "pending") {
      await cur.settled;
      continue;
    }
    if (!cur.waitable) throw lockedError(resource, file, cur.holder, true);
    await cur.waitForRelease(deadline, () => {
      const e = lockedError(resource, file, cur.holder, true);
      e.message += `; it did not release the journal within ${opts.yieldTimeoutMs ?? DEFAULT_YIELD_TIMEOUT_MS} ms`;
      return e;
    });
  }

  // Reserve the path before the first await, so a concurrent acquire here waits for this one.
  const holder = makeHolder(opts.label);
  let settle!: () => void;
  const pending: Pending = { kind: "pending", holder, settled: new Promise<void>((r) => (settle = r)) };
  byPath.set(key, pending);
  try {
    await takeFile(file, holder, resource, (token) => byToken.get(token)?.holder);
  } catch (e) {
    byPath.delete(key);
    settle();
    throw e;
  }
  const held = new HeldLock(file, key, holder);
  byPath.set(key, held);
  byToken.set(holder.token as string, held);
  if (!exitHooked) {
    // Once per process: a clean exit that skipped release() leaves no lock behind.
    exitHooked = true;
    process.on("exit", releaseAllOnExit);
  }
  settle();
  return held;
}
