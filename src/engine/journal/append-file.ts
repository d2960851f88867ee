/**
 * An append-only file with group commit. Lines appended in the same macrotask (one socket read, one
 * timer) go out in one write at its microtask checkpoint, so nothing waits for a later loop turn;
 * one fdatasync covers every line written before it, so concurrent durable lines share it.
 *
 * Two guarantees a caller can wait for:
 * - "written": the line is in the OS page cache: it survives a crash or SIGKILL of this process
 *   (not a power cut); an fdatasync follows at once without being waited for.
 * - "synced": the line is on disk (fdatasync): it survives a power cut too.
 *
 * The file is extended ahead of the lines with written zeros (64 KiB at first, doubling up to
 * 1 MiB) and lines overwrite them: an fdatasync of data that only overwrites allocated blocks need
 * not commit the file system's metadata, which makes it about a third cheaper on ext4, and every
 * record waits for one. `close()` cuts the file back to its lines. After a crash the file may end
 * in zeros: readers stop at the first NUL byte (Journal repairs the file when it opens it).
 *
 * A write or an fdatasync that fails breaks the file for good: after a failed fdatasync the kernel may
 * have dropped the unsynced pages and report success on the next one (PostgreSQL's "fsyncgate"), so
 * no later sync can vouch for them. Every line not yet confirmed, and every later append, is refused
 * with that error; the owner (Journal) rewrites a new file from what it knows and verifies it.
 *
 * Where a "synced" line's fdatasync runs depends on the disk and the load. It runs in the thread
 * pool, so the event loop (which a Node-RED process shares with every other flow) never waits for
 * the disk, unless durable lines come fast (at least BUSY_FLUSHES flushes in the last
 * BUSY_WINDOW_MS) on a fast disk (the last syncs took under `inlineSyncMaxMs`): then it runs right
 * here on the event loop, because handing it to the pool and back costs more than the sync itself
 * and every record waits for it. Even a fast disk stalls now and then (a journal commit behind other
 * writes: 100-300 ms seen on the development VM), and a sync on the loop stalls every flow with it:
 * worth it only where throughput is what is asked for, never at a shop's pace. One slow sync is
 * enough to leave the loop; fast ones bring it back gradually.
 */
import * as fs from "node:fs";
import { performance } from "node:perf_hooks";

export type Durability = "written" | "synced";

export interface AppendFileOptions {
  /** Run a durable line's fdatasync on the event loop, while durable lines come fast, if recent syncs took at most this (default 1 ms; 0: never). */
  inlineSyncMaxMs?: number;
}

/** One promise for every line of a flush with the same guarantee: one allocation per batch, not per line. */
interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newBatch(): Batch {
  const b = {} as Batch;
  b.promise = new Promise<void>((resolve, reject) => {
    b.resolve = resolve;
    b.reject = reject;
  });
  return b;
}

function settle(batches: Batch[], err: Error | null): void {
  for (const b of batches) {
    if (err) b.reject(err);
    else b.resolve();
  }
}

/** Weight of the newest sync in the moving average of sync times. */
const SYNC_EWMA_WEIGHT = 0.25;
/** Durable flushes in one window that make waiting on the event loop worth it (200 a second). */
const BUSY_FLUSHES = 20;
const BUSY_WINDOW_MS = 100;
const MIN_EXTEND_BYTES = 64 * 1024;
const MAX_EXTEND_BYTES = 1024 * 1024;

export class AppendFile {
  private readonly fd: number;
  private readonly inlineSyncMaxMs: number;
  private queue: string[] = [];
  /** The batches of the lines queued for the next flush. */
  private written: Batch | null = null;
  private toSync: Batch | null = null;
  /** Durable batches whose lines are written, waiting for the next fdatasync. */
  private unsynced: Batch[] = [];
  /** Lines written since the last fdatasync started. */
  private dirty = false;
  private scheduled = false;
  /** A thread-pool fdatasync is running. */
  private syncing = false;
  private closed = false;
  /** The first write or sync error: the file takes nothing more (see the class comment). */
  private broken: NodeJS.ErrnoException | null = null;
  private idle: (() => void)[] = [];
  /** Moving average of recent fdatasync times (ms); starts optimistic. */
  private syncMs = 0;
  /** Durable flushes counted in the current window, when it started, and what the last one said. */
  private windowFlushes = 0;
  private windowStart = 0;
  private busy = false;
  /** The file was extended since the last sync started: that sync also commits metadata, so its time says nothing about the disk. */
  private extended = false;
  /** End of the lines (where the next one goes). */
  bytes: number;
  /** Size of the file: the lines plus zeros written ahead of them. */
  private allocated: number;

  constructor(
    readonly path: string,
    opts: AppendFileOptions = {},
  ) {
    this.inlineSyncMaxMs = opts.inlineSyncMaxMs ?? 1;
    // Not "a": with O_APPEND every write goes to the end of the file, past the zeros.
    fs.closeSync(fs.openSync(path, "a"));
    this.fd = fs.openSync(path, "r+");
    this.bytes = fs.fstatSync(this.fd).size;
    this.allocated = this.bytes;
  }

  /** Where the next durable line's fdatasync runs (see the class comment). */
  get syncMode(): "inline" | "thread" {
    return this.busy && this.syncMs <= this.inlineSyncMaxMs && this.inlineSyncMaxMs > 0 ? "inline" : "thread";
  }

  /** Count a flush with durable lines; a window that ended decides whether the next ones are busy. */
  private noteDurableFlush(): void {
    const now = performance.now();
    const elapsed = now - this.windowStart;
    if (elapsed >= BUSY_WINDOW_MS) {
      // A quiet gap longer than a whole window is not busy, whatever the window before it counted.
      this.busy = elapsed < 2 * BUSY_WINDOW_MS && this.windowFlushes >= BUSY_FLUSHES;
      this.windowStart = now;
      this.windowFlushes = 0;
    }
    this.windowFlushes++;
  }

  /** The error that broke the file, if one did. */
  get failure(): NodeJS.ErrnoException | null {
    return this.broken;
  }

  /** Append one line (without its newline). */
  append(line: string, durability: Durability): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error(`journal ${this.path} is closed`));
    this.queue.push(line);
    const batch = durability === "synced" ? (this.toSync ??= newBatch()) : (this.written ??= newBatch());
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushTask);
    }
    return batch.promise;
  }

  private readonly flushTask = (): void => this.flush();

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return this.checkIdle();
    const buf = Buffer.from(this.queue.join("\n") + "\n", "utf8");
    const written = this.written;
    const toSync = this.toSync;
    this.queue = [];
    this.written = null;
    this.toSync = null;
    try {
      if (this.bytes + buf.length > this.allocated) this.extend(buf.length);
      // Synchronous: one small write into the page cache costs less than a round trip through the
      // thread pool, and ordering stays trivial.
      for (let off = 0; off < buf.length;) {
        off += fs.writeSync(this.fd, buf, off, buf.length - off, this.bytes + off);
      }
    } catch (e) {
      // A partial write may have left part of the batch behind the lines: cut it off where possible.
      this.fail(e as NodeJS.ErrnoException, [written, toSync]);
      return this.checkIdle();
    }
    this.bytes += buf.length;
    this.dirty = true;
    if (written) written.resolve();
    if (toSync) {
      this.unsynced.push(toSync);
      this.noteDurableFlush();
    }
    if (this.unsynced.length > 0 && this.syncMode === "inline") {
      this.syncInline();
      this.checkIdle();
    } else if (!this.syncing) this.syncInThread();
  }

  /** Write zeros ahead of the lines (into the page cache; the next fdatasync makes them durable). */
  private extend(need: number): void {
    let size = Math.min(MAX_EXTEND_BYTES, Math.max(MIN_EXTEND_BYTES, this.allocated));
    while (this.bytes + need > this.allocated + size) size += MAX_EXTEND_BYTES;
    const zeros = Buffer.alloc(size);
    for (let off = 0; off < size;) off += fs.writeSync(this.fd, zeros, off, size - off, this.allocated + off);
    this.allocated += size;
    this.extended = true;
  }

  /** fdatasync on the event loop; covers every waiter, including those queued for the thread. */
  private syncInline(): void {
    const waiters = this.unsynced;
    this.unsynced = [];
    this.dirty = false;
    const timed = !this.extended;
    this.extended = false;
    const t0 = performance.now();
    let err: Error | null = null;
    try {
      fs.fdatasyncSync(this.fd);
    } catch (e) {
      err = e as Error;
    }
    if (timed) this.noteSyncTime(performance.now() - t0);
    err ??= this.unlinked();
    if (err) this.fail(err, waiters);
    else settle(waiters, null);
  }

  /**
   * A file whose directory was removed under it still takes writes and syncs, into an inode that is
   * gone once it is closed: durable lines must not be confirmed then.
   */
  private unlinked(): NodeJS.ErrnoException | null {
    try {
      if (fs.fstatSync(this.fd).nlink > 0) return null;
    } catch (e) {
      return e as NodeJS.ErrnoException;
    }
    return Object.assign(new Error(`ENOENT: the journal file ${this.path} was removed while open`), { code: "ENOENT", path: this.path });
  }

  /** fdatasync in the thread pool, one at a time; repeats while lines were written meanwhile. */
  private syncInThread(): void {
    if (!this.dirty) {
      this.syncing = false;
      return this.checkIdle();
    }
    this.syncing = true;
    this.dirty = false;
    const waiters = this.unsynced;
    this.unsynced = [];
    const timed = !this.extended;
    this.extended = false;
    const t0 = performance.now();
    fs.fdatasync(this.fd, (err) => {
      // Includes the trip through the pool, so a slow disk reads slow and a fast one switches back.
      if (timed && waiters.length > 0) this.noteSyncTime(performance.now() - t0);
      if (!err && waiters.length > 0) err = this.unlinked();
      if (err) {
        this.syncing = false;
        this.fail(err, waiters);
        return this.checkIdle();
      }
      settle(waiters, null);
      this.syncInThread();
    });
  }

  /**
   * Break the file: reject `batches`, every line waiting for a sync and every later append. The
   * lines after the last good write are cut off where the disk still allows it.
   */
  private fail(err: NodeJS.ErrnoException, batches: (Batch | null)[]): void {
    this.broken ??= err;
    const pending = [...batches.filter((b): b is Batch => b !== null), ...this.unsynced];
    this.unsynced = [];
    if (this.written) pending.push(this.written);
    if (this.toSync) pending.push(this.toSync);
    this.written = null;
    this.toSync = null;
    this.queue = [];
    this.dirty = false;
    // What a failed (partial) write left after the confirmed lines must not be read back as lines
    // after a crash: cut the file back to them (best effort: the disk may refuse this too).
    try {
      fs.ftruncateSync(this.fd, this.bytes);
      this.allocated = this.bytes;
    } catch {
      /* the zeros or the fragment stay; a reader drops a torn tail */
    }
    settle(pending, this.broken);
  }

  private noteSyncTime(ms: number): void {
    // One slow sync is enough to leave the event loop; fast ones bring it back gradually.
    this.syncMs = ms > this.inlineSyncMaxMs ? ms : this.syncMs + SYNC_EWMA_WEIGHT * (ms - this.syncMs);
  }

  private checkIdle(): void {
    if (this.scheduled || this.syncing || this.queue.length > 0) return;
    for (const f of this.idle.splice(0)) f();
  }

  /** Wait for every queued line and sync, then close the file. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idle.push(() => {
        this.closed = true;
        try {
          // Back to its lines: a closed (rotated) file is plain JSON lines (and a broken one loses
          // whatever a failed write left after them).
          if (this.allocated > this.bytes || this.broken) fs.ftruncateSync(this.fd, this.bytes);
        } catch {
          /* the zeros stay; readers stop at them */
        }
        try {
          fs.closeSync(this.fd);
        } catch {
          /* already closed */
        }
        resolve();
      });
      this.checkIdle();
    });
  }
}

/** fsync a directory so a rename or a new file survives a power cut. */
export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* not supported on every platform (Windows); the rename itself is still atomic */
  }
}
