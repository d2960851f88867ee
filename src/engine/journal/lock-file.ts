/**
 * The lock file itself: created with O_EXCL ("wx") holding its holder's JSON, written and fsynced;
 * read, judged (lock-holder.ts) and, when stale, taken over.
 *
 * Taking over a stale lock is the racy part: two processes may judge the same file stale, and a
 * blind unlink by the slower one would delete the faster one's new lock. So a breaker first
 * creates (O_EXCL) a claim file named after the stale file's identity, re-reads the lock, and
 * unlinks it only if it is still that same file; the new lock is then created with "wx" like any
 * other, where exactly one create wins.
 */
import * as fs from "node:fs";
import { createHash } from "node:crypto";
import { errno, HOST, iso, judge, JournalLockError, lockedError, parseHolder, UNREADABLE_STALE_MS } from "./lock-holder";
import type { LockHolder, SeenLock } from "./lock-holder";

/** A claim is held for a read and an unlink; one this old belongs to a crashed breaker. */
const CLAIM_STALE_MS = 30_000;
/** Generations of claim names tried past stale claims before giving up. */
const CLAIM_GENERATIONS = 4;
/** Bounds on the file loop (each turn either waits or changes the file). */
const MAX_FILE_ATTEMPTS = 200;
const RETRY_MS = 25;

const WINDOWS = process.platform === "win32";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
    for (let off = 0; off < buf.length;) off += fs.writeSync(fd, buf, off, buf.length - off, off);
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
export function unlinkIfOurs(file: string, token: string): void {
  try {
    if (parseHolder(fs.readFileSync(file, "utf8"))?.token === token) fs.unlinkSync(file);
  } catch {
    /* gone already, or unreadable: not ours to remove */
  }
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

/** Take the file lock: bounded in attempts and time; throws JournalLockError or the fs error. */
export async function takeFile(
  file: string,
  holder: LockHolder,
  resource: string,
  /** The holder of a lock this process holds, by its token. */
  ownHolder: (token: string) => LockHolder | undefined,
): Promise<void> {
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
    const v = judge(seen, ownHolder);
    if (v.kind === "live") throw lockedError(resource, file, v.holder, false);
    if (v.kind === "ours") throw lockedError(resource, file, v.holder, true);
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
