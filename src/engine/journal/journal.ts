/**
 * The durable journal of one EPOS identity: an append-only JSON-lines file.
 *
 * What it holds: payments started (written before Create* is sent), the last terminal step,
 * statuses learned later, records received (fsynced before Dojo is acknowledged), and whether each
 * outcome was handed to the flow ("emit" before, "done" after).
 *
 * Bounds and retention: the active segment rotates once it passes `segmentBytes`; the new segment
 * starts with a snapshot of every payment that is still open (not final, or final but not
 * delivered) and of the most recent recorded ids (for deduplication), so reopening reads only the
 * active segment. Rotated segments are kept for reports and deleted when their newest entry is
 * older than `retentionDays`, or beyond `maxSegments`. In memory: open payments, plus the last
 * `memoryWindow` finished ones; the files keep the rest.
 *
 * Memory is never ahead of the disk: an entry reaches the in-memory state only once its line is
 * written (durable ones: synced). When a write or a sync fails, the journal is `failed`: it takes
 * nothing more (callers refuse what needs it, records are not acknowledged) and recovers by itself,
 * probing with backoff, by rewriting a new active file from what memory holds, verified by reading
 * it back (a failed sync may have lost earlier lines: no later sync can vouch for them).
 *
 * The parts: entries.ts (entry and payment types, how an entry changes a payment), memory.ts (what
 * is kept in memory), files.ts (file names, reading, loading, segments and retention), recovery.ts
 * (the failed state and its probe). This class puts them together and keeps the order that matters:
 * write first, then memory.
 */
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import { AppendFile } from "./append-file";
import type { JournalLock } from "./journal-lock";
import { acquireJournalLock } from "./journal-lock";
import type { JournalEntry, JournalPayment } from "./entries";
import { loadActiveFile, journalPath, SegmentFiles } from "./files";
import type { JournalIdentity } from "./files";
import { JournalMemory } from "./memory";
import { JournalRecovery, JournalUnavailableError } from "./recovery";
import type { JournalHealth } from "./recovery";

// Tests and tools require untilZeros from this module (dist/engine/journal/journal).
export { untilZeros } from "./files";

export interface JournalOptions {
  dir: string;
  /** The identity the file belongs to (account, URL, epos-id): one file per EPOS identity. */
  identity: JournalIdentity;
  segmentBytes?: number;
  retentionDays?: number;
  maxSegments?: number;
  memoryWindow?: number;
  /** See AppendFileOptions.inlineSyncMaxMs. */
  inlineSyncMaxMs?: number;
  /** Called for a line that could not be read (a torn tail is repaired, not reported). */
  onWarning?: (message: string) => void;
  /** Who holds the journal's lock, for the error another writer gets (e.g. `connection "Front till"`). */
  lockLabel?: string;
  /** First and longest wait between recovery attempts after a storage failure (default 1 s and 30 s). */
  recoveryMinMs?: number;
  recoveryMaxMs?: number;
}

export interface JournalEvents {
  health: [health: JournalHealth];
}

export class Journal extends EventEmitter<JournalEvents> {
  private readonly memory: JournalMemory;
  private readonly files: SegmentFiles;
  private readonly recovery: JournalRecovery;
  private file!: AppendFile;
  private readonly segmentBytes: number;
  private rotating: Promise<void> | null = null;
  /** This process's exclusive hold on the file (one writer per journal, across processes too). */
  private lock: JournalLock | null = null;
  readonly path: string;
  /** Lines skipped while loading (not counting a repaired torn tail). */
  skippedLines = 0;
  repairedTail = false;

  private constructor(private readonly opts: JournalOptions) {
    super();
    this.path = journalPath(opts.dir, opts.identity);
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
    this.files = new SegmentFiles(this.path, (opts.retentionDays ?? 90) * 86_400_000, opts.maxSegments ?? 40);
    this.memory = new JournalMemory(opts.memoryWindow ?? 5000);
    this.recovery = new JournalRecovery(
      this.path,
      opts,
      // A rotation that is running finishes first.
      () => (this.rotating ?? Promise.resolve()).then(() => this.rewrite()),
      (health) => this.emit("health", health),
    );
  }

  /**
   * Open (creating the directory and file if needed) and load the active segment. Another writer of
   * the same file, in this process or another, makes it fail with JOURNAL_LOCKED before anything is
   * read or written.
   */
  static async open(opts: JournalOptions): Promise<Journal> {
    const j = new Journal(opts);
    await fs.promises.mkdir(opts.dir, { recursive: true });
    j.lock = await acquireJournalLock(`${j.path}.lock`, { label: opts.lockLabel ?? `epos-id ${opts.identity.eposId}` });
    try {
      await j.load();
      j.file = new AppendFile(j.path, { inlineSyncMaxMs: opts.inlineSyncMaxMs });
      j.files.countExisting();
      if (!j.memory.identified) await j.write({ t: "ident", ts: Date.now(), eposId: opts.identity.eposId }, false);
    } catch (e) {
      // Nothing of a failed open may stay behind: its recovery probe would later rewrite (and move
      // aside) the file of whichever journal opened this identity next.
      j.recovery.close();
      await j.file?.close().catch(() => undefined);
      j.lock.release();
      throw e;
    }
    return j;
  }

  private load(): Promise<void> {
    return loadActiveFile(this.path, {
      apply: (e) => this.memory.apply(e),
      unreadable: () => {
        this.skippedLines++;
        this.opts.onWarning?.(`journal ${this.path}: skipped an unreadable line`);
      },
      tornTail: () => {
        this.repairedTail = true;
      },
    });
  }

  /**
   * Append one entry; the in-memory state takes it once the line is written (`durable`: fsynced,
   * it survives a power cut; otherwise written to the OS, it survives a crash of this process, and
   * the fsync follows at once). Rejects, leaving no trace in memory, when it cannot be written.
   */
  write(entry: JournalEntry, durable: boolean): Promise<void> {
    const health = this.recovery.health;
    if (health.state === "failed") return Promise.reject(new JournalUnavailableError(this.path, health.error));
    const line = JSON.stringify(entry);
    const mode = durable ? "synced" : "written";
    // Lines written while a rotation runs go to the new file, in order.
    const appended = this.rotating ? this.rotating.then(() => this.file.append(line, mode)) : this.file.append(line, mode);
    return appended.then(
      () => {
        this.memory.apply(entry);
        this.rotateIfFull();
      },
      (e: NodeJS.ErrnoException) => {
        this.recovery.fail(e);
        throw e;
      },
    );
  }

  private readonly rotateIfFull = (): void => {
    if (this.file.bytes > this.segmentBytes && !this.rotating && this.recovery.health.state === "ok") {
      this.rotating = this.rewrite()
        .catch((e: NodeJS.ErrnoException) => this.recovery.fail(e))
        .finally(() => {
          this.rotating = null;
        });
    }
  };

  get health(): JournalHealth {
    return this.recovery.health;
  }

  /**
   * Try to make the journal writable again now (a record arrived, or the probe timer fired): true
   * when it is. At most one attempt runs at once, and no more often than recoveryMinMs (1 s by default).
   */
  recover(now = false): Promise<boolean> {
    return this.recovery.recover(now);
  }

  get(id: string): JournalPayment | undefined {
    return this.memory.get(id);
  }

  /** Known as recorded (deduplication of Dojo's redeliveries). */
  isRecorded(id: string): boolean {
    return this.memory.isRecorded(id);
  }

  /** Payments whose lifecycle or delivery is not finished. */
  openPayments(): JournalPayment[] {
    return this.memory.openPayments();
  }

  /** Recent finished payments, newest last (bounded by memoryWindow). */
  recent(): JournalPayment[] {
    return this.memory.recent();
  }

  get memorySize(): { open: number; finished: number; seen: number } {
    return this.memory.memorySize;
  }

  /**
   * Start a new active file with a snapshot of what memory holds: every payment still open and the
   * recently recorded ids. The old active file, if there is one, becomes a rotated segment (its lines
   * stay for reports). Used to rotate a full segment and to recover from a storage failure, so the
   * new file is read back and compared before it replaces the old one.
   */
  private async rewrite(): Promise<void> {
    await this.file.close();
    const now = Date.now();
    const lines: string[] = [JSON.stringify({ t: "ident", ts: now, eposId: this.opts.identity.eposId }), ...this.memory.snapshotLines(now)];
    const text = lines.join("\n") + "\n";
    await this.files.replaceActive(text);
    this.file = new AppendFile(this.path, { inlineSyncMaxMs: this.opts.inlineSyncMaxMs });
    this.files.applyRetention(now);
  }

  /**
   * Payments started or recorded between from and to (epoch ms), read from every segment: for
   * end-of-day reports. Folded per payment; the newest information wins.
   */
  async query(from: number, to: number): Promise<JournalPayment[]> {
    const byId = await this.files.foldAll();
    return [...byId.values()].filter((p) => {
      const at = p.startedAt ?? p.recordedAt ?? p.updatedAt;
      return at >= from && at <= to;
    });
  }

  /** Let a later writer of this journal (same process) take over: it calls `yieldTo` and waits for it. */
  offerToYield(yieldTo: () => Promise<void>): void {
    this.lock?.offerToYield(yieldTo);
  }

  /** The owner starts closing: a writer in this process that wants the file waits for it, not refused. */
  beginClose(): void {
    this.lock?.releasing();
  }

  close(): Promise<void> {
    this.recovery.close();
    this.lock?.releasing();
    const settled = (p: Promise<unknown> | null): Promise<void> =>
      (p ?? Promise.resolve()).then(
        () => undefined,
        () => undefined,
      );
    return settled(this.rotating)
      .then(() => settled(this.recovery.running))
      .then(() => this.file.close())
      .finally(() => this.lock?.release());
  }
}
