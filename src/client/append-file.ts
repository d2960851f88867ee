/**
 * An append-only file with group commit. Lines appended in the same tick go out in one write; an
 * fdatasync covers everything written before it started, so concurrent durable lines share one.
 *
 * Two guarantees a caller can wait for:
 * - "written": the line is in the OS page cache: it survives a crash or SIGKILL of this process
 *   (not a power cut); an fsync follows at once without being waited for.
 * - "synced": the line is on disk (fdatasync): it survives a power cut too.
 */
import * as fs from "node:fs";

export type Durability = "written" | "synced";

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class AppendFile {
  private readonly fd: number;
  private queue: string[] = [];
  private written: Waiter[] = [];
  private toSync: Waiter[] = [];
  /** Synced waiters whose lines are written, waiting for the next fdatasync. */
  private unsynced: Waiter[] = [];
  private dirty = false;
  private scheduled = false;
  private syncing = false;
  private closed = false;
  private idle: (() => void)[] = [];
  bytes: number;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, "a");
    this.bytes = fs.fstatSync(this.fd).size;
  }

  append(line: string, durability: Durability): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`journal ${this.path} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push(line.endsWith("\n") ? line : line + "\n");
      (durability === "synced" ? this.toSync : this.written).push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return this.checkIdle();
    const buf = Buffer.from(this.queue.join(""), "utf8");
    const written = this.written;
    const toSync = this.toSync;
    this.queue = [];
    this.written = [];
    this.toSync = [];
    try {
      // Synchronous: one small write into the page cache per tick costs less than a round trip
      // through the thread pool, and ordering stays trivial.
      for (let off = 0; off < buf.length; ) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    } catch (e) {
      for (const w of [...written, ...toSync]) w.reject(e as Error);
      return this.checkIdle();
    }
    this.bytes += buf.length;
    this.dirty = true;
    for (const w of written) w.resolve();
    this.unsynced.push(...toSync);
    if (!this.syncing) this.sync();
  }

  private sync(): void {
    if (!this.dirty) {
      this.syncing = false;
      return this.checkIdle();
    }
    this.syncing = true;
    this.dirty = false;
    const waiters = this.unsynced;
    this.unsynced = [];
    fs.fdatasync(this.fd, (err) => {
      for (const w of waiters) {
        if (err) w.reject(err);
        else w.resolve();
      }
      this.sync();
    });
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
