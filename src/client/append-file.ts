/**
 * An append-only file with group commit: lines appended while a write is under way go out together
 * in the next write, and one fdatasync covers every durable line of a batch. Durability per line
 * is kept; the cost of fsync is shared by concurrent records.
 */
import * as fs from "node:fs";

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class AppendFile {
  private fd: number;
  private queue: string[] = [];
  private waiters: Waiter[] = [];
  private durableQueued = false;
  private flushing = false;
  private closed = false;
  private idle: (() => void)[] = [];
  bytes: number;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, "a");
    this.bytes = fs.fstatSync(this.fd).size;
  }

  /** Resolves once the line is written (and on disk, when durable). */
  append(line: string, durable: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`journal ${this.path} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push(line.endsWith("\n") ? line : line + "\n");
      this.waiters.push({ resolve, reject });
      if (durable) this.durableQueued = true;
      if (!this.flushing) this.flush();
    });
  }

  private flush(): void {
    if (this.queue.length === 0) {
      this.flushing = false;
      for (const f of this.idle.splice(0)) f();
      return;
    }
    this.flushing = true;
    const buf = Buffer.from(this.queue.join(""), "utf8");
    const waiters = this.waiters;
    const durable = this.durableQueued;
    this.queue = [];
    this.waiters = [];
    this.durableQueued = false;
    const fail = (err: Error): void => {
      for (const w of waiters) w.reject(err);
      this.flush();
    };
    writeAll(this.fd, buf, 0, (err) => {
      if (err) return fail(err);
      this.bytes += buf.length;
      const done = (): void => {
        for (const w of waiters) w.resolve();
        this.flush();
      };
      if (!durable) return done();
      fs.fdatasync(this.fd, (syncErr) => (syncErr ? fail(syncErr) : done()));
    });
  }

  /** Wait for every queued line, then close the file. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        this.closed = true;
        try {
          fs.closeSync(this.fd);
        } catch {
          /* already closed */
        }
        resolve();
      };
      if (!this.flushing && this.queue.length === 0) finish();
      else this.idle.push(finish);
    });
  }
}

function writeAll(fd: number, buf: Buffer, offset: number, cb: (err: Error | null) => void): void {
  fs.write(fd, buf, offset, buf.length - offset, null, (err, written) => {
    if (err) return cb(err);
    if (offset + written < buf.length) return writeAll(fd, buf, offset + written, cb);
    cb(null);
  });
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
