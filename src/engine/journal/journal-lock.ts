/**
 * An exclusive lock on one journal file, so two writers never append to it at once (they would
 * lose payment results). No native modules: the lock is a file created with O_EXCL ("wx"),
 * holding JSON that names its holder, written and fsynced.
 *
 * Within this process a table of held locks answers first, without touching the file. Across
 * processes the file answers; a lock left behind by a process that is gone is "stale" and taken
 * over when that can be proved from this machine:
 * - same hostname and the pid is not alive;
 * - same hostname and the pid is ours, but the token is not one we hold (a leftover of an earlier
 *   process with the same pid: containers, where Node-RED is often pid 1);
 * - Linux: written during an earlier boot (boot_id), or the pid is alive but started at another
 *   time than the holder recorded (the pid was reused);
 * - the file is unreadable (crash between create and write) and was last written long enough ago.
 * A lock from another hostname is never taken over: the error says to delete it by hand if that
 * host is gone.
 *
 * Taking over a stale lock is the racy part: two processes may judge the same file stale, and a
 * blind unlink by the slower one would delete the faster one's new lock. So a breaker first
 * creates (O_EXCL) a claim file named after the stale file's identity, re-reads the lock, and
 * unlinks it only if it is still that same file; the new lock is then created with "wx" like any
 * other, where exactly one create wins.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";

export interface LockHolder {
  pid: number;
  hostname: string;
  /** Who holds it, e.g. `connection "Front till"`. */
  label: string;
  /** When it was taken (epoch ms). */
  since: number;
  /** When the holding process started (epoch ms, wall clock at the time the lock was taken). */
  processStart?: number;
  /** Random; identifies this lock file's owner. */
  token?: string;
  /** Linux: the boot the holder ran in (/proc/sys/kernel/random/boot_id). */
  bootId?: string;
  /** Linux: the holder's start time in clock ticks since boot (/proc/<pid>/stat field 22); immune to clock steps. */
  startTicks?: number;
}

export class JournalLockError extends Error {
  readonly code = "JOURNAL_LOCKED";
  constructor(
    message: string,
    readonly holder: LockHolder,
    readonly lockPath: string,
    readonly sameProcess: boolean,
  ) {
    super(message);
    this.name = "JournalLockError";
  }
}

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

/** An unreadable lock file last written this long ago is a crash leftover, not one being written. */
const UNREADABLE_STALE_MS = 3000;
/** A claim is held for a read and an unlink; one this old belongs to a crashed breaker. */
const CLAIM_STALE_MS = 30_000;
/** Generations of claim names tried past stale claims before giving up. */
const CLAIM_GENERATIONS = 4;
/** Tolerance between a recorded processStart and the one read from /proc (fallback only). */
const START_TOLERANCE_MS = 5000;
const DEFAULT_YIELD_TIMEOUT_MS = 15_000;
/** Bounds on the file loop (each turn either waits or changes the file). */
const MAX_FILE_ATTEMPTS = 200;
const RETRY_MS = 25;
/** Linux USER_HZ: the unit of /proc/<pid>/stat times (100 on every architecture Node runs on). */
const CLK_TCK = 100;

const LINUX = process.platform === "linux";
const WINDOWS = process.platform === "win32";
const HOST = os.hostname();

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- Linux process identity -------------------------------------------------------------------

let bootIdCache: string | null | undefined;
function bootId(): string | undefined {
  if (!LINUX) return undefined;
  if (bootIdCache === undefined) {
    try {
      bootIdCache = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache ?? undefined;
}

/** Start time of a process in clock ticks since boot, or undefined when unknown. */
function startTicksOf(pid: number | "self"): number | undefined {
  if (!LINUX) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[22 - 3]);
    return Number.isSafeInteger(ticks) && ticks >= 0 ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** Boot time (epoch s) as the kernel reports it now (it moves when the wall clock is stepped). */
function bootTimeSec(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else. Anything but ESRCH: assume alive (safe side).
    return errno(e) !== "ESRCH";
  }
}

// ---- the lock file ------------------------------------------------------------------------------

function makeHolder(label: string): LockHolder {
  const h: LockHolder = {
    pid: process.pid,
    hostname: HOST,
    label,
    since: Date.now(),
    processStart: Math.round(Date.now() - process.uptime() * 1000),
    token: randomBytes(16).toString("hex"),
  };
  const boot = bootId();
  const ticks = startTicksOf("self");
  if (boot) h.bootId = boot;
  if (ticks !== undefined) h.startTicks = ticks;
  return h;
}

/** The holder a lock file names; null when it names none (empty, torn, not ours). Only pid and hostname are required, so a live lock in an older format is never mistaken for garbage. */
function parseHolder(raw: string, mtimeMs = 0): LockHolder | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  // pid 0 or negative would signal a process group in process.kill: never accept one.
  if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0) return null;
  if (typeof o.hostname !== "string") return null;
  const h: LockHolder = {
    pid: o.pid as number,
    hostname: o.hostname,
    label: typeof o.label === "string" ? o.label : "an unnamed holder",
    since: typeof o.since === "number" ? o.since : mtimeMs,
  };
  if (typeof o.processStart === "number") h.processStart = o.processStart;
  if (typeof o.token === "string") h.token = o.token;
  if (typeof o.bootId === "string") h.bootId = o.bootId;
  if (Number.isSafeInteger(o.startTicks)) h.startTicks = o.startTicks as number;
  return h;
}

interface SeenLock {
  /** Identity of this very file version (inode, size, mtime, content): a claim names it. */
  id: string;
  mtimeMs: number;
  holder: LockHolder | null;
}

/** Read the lock file; null when there is none (any more). */
function readLock(file: string): SeenLock | null {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    if (errno(e) === "ENOENT") return null;
    // Windows: a file being deleted cannot be opened until its last handle closes.
    if (WINDOWS && errno(e) === "EPERM") return null;
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    const buf = Buffer.alloc(Math.min(st.size, 64 * 1024));
    let n = 0;
    while (n < buf.length) {
      const r = fs.readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    const content = buf.subarray(0, n);
    const id = createHash("sha256").update(`${st.ino}:${st.size}:${st.mtimeMs}:`).update(content).digest("hex").slice(0, 20);
    return { id, mtimeMs: st.mtimeMs, holder: parseHolder(content.toString("utf8"), st.mtimeMs) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Create the lock file exclusively with our holder in it. "exists": one is there; "pending": (Windows)
 * a deleted one whose last handle is still open blocks the name for a moment.
 */
function tryCreate(file: string, content: string): "created" | "exists" | { pending: Error } {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx");
  } catch (e) {
    if (errno(e) === "EEXIST") return "exists";
    if (WINDOWS && errno(e) === "EPERM") return { pending: e as Error };
    throw e;
  }
  try {
    const buf = Buffer.from(content, "utf8");
    for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off, buf.length - off, off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch (e) {
    // ENOSPC and the like: leave no half-written lock behind.
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      fs.unlinkSync(file);
    } catch {
      /* the next acquirer judges it by age */
    }
    throw e;
  }
  return "created";
}

/** Unlink the lock file only while it still holds this token. Never throws. */
function unlinkIfOurs(file: string, token: string): void {
  try {
    if (parseHolder(fs.readFileSync(file, "utf8"))?.token === token) fs.unlinkSync(file);
  } catch {
    /* gone already, or unreadable: not ours to remove */
  }
}

type Verdict = { kind: "live"; holder: LockHolder } | { kind: "ours"; held: HeldLock } | { kind: "stale" } | { kind: "unreadable" };

function judge(seen: SeenLock): Verdict {
  const h = seen.holder;
  if (!h) return Date.now() - seen.mtimeMs > UNREADABLE_STALE_MS ? { kind: "stale" } : { kind: "unreadable" };
  // Another machine's pids mean nothing here.
  if (h.hostname !== HOST) return { kind: "live", holder: h };
  const boot = bootId();
  if (boot && h.bootId && h.bootId !== boot) return { kind: "stale" };
  if (h.pid === process.pid) {
    const held = h.token ? byToken.get(h.token) : undefined;
    return held ? { kind: "ours", held } : { kind: "stale" };
  }
  if (!pidAlive(h.pid)) return { kind: "stale" };
  const ticks = startTicksOf(h.pid);
  if (ticks !== undefined) {
    if (h.startTicks !== undefined) {
      if (h.startTicks !== ticks) return { kind: "stale" };
    } else if (h.processStart !== undefined) {
      const btime = bootTimeSec();
      if (btime !== undefined && Math.abs(btime * 1000 + (ticks * 1000) / CLK_TCK - h.processStart) > START_TOLERANCE_MS) {
        return { kind: "stale" };
      }
    }
  }
  return { kind: "live", holder: h };
}

/**
 * Remove the stale lock `seen` if it is still there, under a claim only one breaker holds.
 * "busy": another process is breaking it right now.
 */
function breakStale(file: string, seen: SeenLock, staleClaims: string[]): "removed" | "changed" | "busy" {
  for (let gen = 0; gen < CLAIM_GENERATIONS; gen++) {
    const claim = `${file}.break-${seen.id}-${gen}`;
    let fd: number;
    try {
      fd = fs.openSync(claim, "wx");
    } catch (e) {
      if (errno(e) !== "EEXIST") throw e;
      let age = 0;
      try {
        age = Date.now() - fs.statSync(claim).mtimeMs;
      } catch {
        return "busy"; // released just now: try again from the top
      }
      if (age < CLAIM_STALE_MS) return "busy";
      staleClaims.push(claim);
      continue; // a crashed breaker's claim: the next generation's name
    }
    try {
      try {
        fs.writeSync(fd, JSON.stringify({ pid: process.pid, hostname: HOST }));
      } finally {
        fs.closeSync(fd);
      }
      const now = readLock(file);
      if (!now || now.id !== seen.id) return "changed";
      fs.unlinkSync(file);
      return "removed";
    } finally {
      try {
        fs.unlinkSync(claim);
      } catch {
        /* best effort */
      }
    }
  }
  return "busy";
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(ms);
}

function lockedError(resource: string, lockPath: string, h: LockHolder, sameProcess: boolean): JournalLockError {
  let msg = `journal ${resource} is in use by ${h.label} (process ${h.pid} on ${h.hostname} since ${iso(h.since)})`;
  if (!sameProcess && h.hostname !== HOST) msg += `; if that host is gone, delete ${lockPath} by hand`;
  return new JournalLockError(msg, h, lockPath, sameProcess);
}

/** Take the file lock: bounded in attempts and time; throws JournalLockError or the fs error. */
async function takeFile(file: string, holder: LockHolder, resource: string): Promise<void> {
  const content = JSON.stringify(holder);
  const start = Date.now();
  const staleClaims: string[] = [];
  let pendingTurns = 0;
  for (let attempt = 0; attempt < MAX_FILE_ATTEMPTS; attempt++) {
    const created = tryCreate(file, content);
    if (typeof created === "object") {
      // Not a delete in progress after a second: a real EPERM.
      if (++pendingTurns > 1000 / RETRY_MS) throw created.pending;
      await delay(RETRY_MS);
      continue;
    }
    if (created === "created") {
      // Claims left by crashed breakers name files that no longer exist: nobody can use them.
      for (const c of staleClaims) {
        try {
          fs.unlinkSync(c);
        } catch {
          /* best effort */
        }
      }
      return;
    }
    const seen = readLock(file);
    if (!seen) continue; // released meanwhile
    const v = judge(seen);
    if (v.kind === "live") throw lockedError(resource, file, v.holder, false);
    if (v.kind === "ours") throw lockedError(resource, file, v.held.holder, true);
    if (v.kind === "unreadable") {
      // Being written right now, or a crash leftover that is not old enough to tell yet.
      if (Date.now() - start > UNREADABLE_STALE_MS + 1000) {
        const h: LockHolder = { pid: 0, hostname: "?", label: `an unreadable lock file`, since: seen.mtimeMs };
        throw new JournalLockError(
          `journal ${resource} is locked by an unreadable lock file ${file} (written ${iso(seen.mtimeMs)}); delete it by hand if no process uses the journal`,
          h,
          file,
          false,
        );
      }
      await delay(RETRY_MS * 2);
      continue;
    }
    if (breakStale(file, seen, staleClaims) === "busy") await delay(RETRY_MS);
  }
  throw new Error(`journal ${resource}: could not take ${file} after ${MAX_FILE_ATTEMPTS} attempts (contended)`);
}

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
    await takeFile(file, holder, resource);
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
