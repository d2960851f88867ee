/**
 * Who holds a journal lock: the JSON a lock file holds (written by makeHolder, read by parseHolder),
 * this process's identity on Linux, and whether a recorded holder is gone ("stale"), which is taken
 * over only when that can be proved from this machine:
 * - same hostname and the pid is not alive;
 * - same hostname and the pid is ours, but the token is not one we hold (a leftover of an earlier
 *   process with the same pid: containers, where Node-RED is often pid 1);
 * - Linux: written during an earlier boot (boot_id), or the pid is alive but started at another
 *   time than the holder recorded (the pid was reused);
 * - the file is unreadable (crash between create and write) and was last written long enough ago.
 * A lock from another hostname is never taken over: the error says to delete it by hand if that
 * host is gone.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { randomBytes } from "node:crypto";

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

/** An unreadable lock file last written this long ago is a crash leftover, not one being written. */
export const UNREADABLE_STALE_MS = 3000;
/** Tolerance between a recorded processStart and the one read from /proc (fallback only). */
const START_TOLERANCE_MS = 5000;
/** Linux USER_HZ: the unit of /proc/<pid>/stat times (100 on every architecture Node runs on). */
const CLK_TCK = 100;

const LINUX = process.platform === "linux";
export const HOST = os.hostname();

export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
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

// ---- the holder record ----------------------------------------------------------------------------

export function makeHolder(label: string): LockHolder {
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
export function parseHolder(raw: string, mtimeMs = 0): LockHolder | null {
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

export interface SeenLock {
  /** Identity of this very file version (inode, size, mtime, content): a claim names it. */
  id: string;
  mtimeMs: number;
  holder: LockHolder | null;
}

export type Verdict = { kind: "live"; holder: LockHolder } | { kind: "ours"; holder: LockHolder } | { kind: "stale" } | { kind: "unreadable" };

/** Judge a lock file seen; `ownHolder` answers for a token a lock held in this process carries. */
export function judge(seen: SeenLock, ownHolder: (token: string) => LockHolder | undefined): Verdict {
  const h = seen.holder;
  if (!h) return Date.now() - seen.mtimeMs > UNREADABLE_STALE_MS ? { kind: "stale" } : { kind: "unreadable" };
  // Another machine's pids mean nothing here.
  if (h.hostname !== HOST) return { kind: "live", holder: h };
  const boot = bootId();
  if (boot && h.bootId && h.bootId !== boot) return { kind: "stale" };
  if (h.pid === process.pid) {
    const held = h.token ? ownHolder(h.token) : undefined;
    return held ? { kind: "ours", holder: held } : { kind: "stale" };
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

export function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(ms);
}

export function lockedError(resource: string, lockPath: string, h: LockHolder, sameProcess: boolean): JournalLockError {
  let msg = `journal ${resource} is in use by ${h.label} (process ${h.pid} on ${h.hostname} since ${iso(h.since)})`;
  if (!sameProcess && h.hostname !== HOST) msg += `; if that host is gone, delete ${lockPath} by hand`;
  return new JournalLockError(msg, h, lockPath, sameProcess);
}
