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
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EventEmitter } from "node:events";
import { createHash } from "node:crypto";
import { statusAfterRecord } from "../../protocol";
import type { CaptureMode, JsonObject } from "../../protocol";
import { AppendFile, syncDir } from "./append-file";
import { InFlightMap } from "../../common/in-flight-map";
import { describeStorageError } from "./storage-error";
import { acquireJournalLock, JournalLock } from "./journal-lock";

export type PaymentKind = "payment" | "refund";
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface StartInfo {
  id: string;
  kind: PaymentKind;
  terminalId: string;
  amount: number;
  currency: string;
  captureMode?: CaptureMode;
  tipsAmount?: number;
  cashbackAmount?: number;
  /** Who started it (a Node-RED node id), to route the outcome back after a restart. */
  owner?: string;
  /** JSON-safe context kept with the payment (e.g. the part of the msg to restore). */
  ctx?: JsonValue;
}

export type JournalEntry =
  | ({ t: "start"; ts: number } & StartInfo)
  | { t: "rejected"; ts: number; id: string; reason: string }
  | { t: "step"; ts: number; id: string; value: string }
  | { t: "state"; ts: number; id: string; status: string; amount?: number }
  | { t: "record"; ts: number; id: string; record: JsonObject }
  | { t: "emit"; ts: number; id: string }
  | { t: "unemit"; ts: number; id: string }
  | { t: "done"; ts: number; id: string }
  | { t: "snap"; ts: number; p: JournalPayment }
  | { t: "seen"; ts: number; ids: string[] }
  /** The epos-id the file belongs to (its name holds only a file-safe form of it and a hash). */
  | { t: "ident"; ts: number; eposId: string };

/** Everything known about one payment, folded from its entries. */
export interface JournalPayment {
  id: string;
  kind?: PaymentKind;
  terminalId?: string;
  amount?: number;
  currency?: string;
  captureMode?: CaptureMode;
  tipsAmount?: number;
  cashbackAmount?: number;
  owner?: string;
  ctx?: JsonValue;
  startedAt?: number;
  lastStep?: string;
  status?: string;
  record?: JsonObject;
  recordedAt?: number;
  rejected?: string;
  /** The outcome was about to be handed over (a crash after this may have delivered it). */
  emitting?: boolean;
  deliveredAt?: number;
  updatedAt: number;
}

export interface JournalOptions {
  dir: string;
  /** The identity the file belongs to (account, URL, epos-id): one file per EPOS identity. */
  identity: { eposId: string; accountName?: string; url?: string };
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

/** Whether the journal can write; `failed` carries the error that stopped it. */
export type JournalHealth =
  | { state: "ok" }
  | { state: "failed"; error: NodeJS.ErrnoException; code: string; words: string; short: string; since: number; path: string };

/** Rejects what the journal is asked to write while it is failed: nothing was written. */
export class JournalUnavailableError extends Error {
  readonly code: string;
  constructor(journalPath: string, cause: NodeJS.ErrnoException) {
    super(`the journal ${journalPath} cannot write: ${describeStorageError(cause).words}`);
    this.name = "JournalUnavailableError";
    this.code = cause.code ?? "EIO";
  }
}

export interface JournalEvents {
  health: [health: JournalHealth];
}

/** A payment whose lifecycle is over and whose outcome reached the flow. */
export function isClosed(p: JournalPayment): boolean {
  return p.rejected !== undefined || p.deliveredAt !== undefined;
}

function fold(p: JournalPayment, e: JournalEntry): void {
  p.updatedAt = e.ts;
  switch (e.t) {
    case "start": {
      const { t: _t, ts, ...info } = e;
      Object.assign(p, info, { startedAt: ts });
      break;
    }
    case "rejected":
      p.rejected = e.reason;
      break;
    case "step":
      p.lastStep = e.value;
      break;
    case "state":
      p.status = e.status;
      if (e.amount !== undefined) p.amount = e.amount;
      break;
    case "record":
      p.record = e.record;
      p.recordedAt = e.ts;
      if (typeof e.record.status === "string") p.status = statusAfterRecord(p.status, e.record.status);
      break;
    case "emit":
      p.emitting = true;
      break;
    case "unemit":
      p.emitting = false;
      break;
    case "done":
      p.deliveredAt = e.ts;
      p.emitting = false;
      break;
    default:
      break;
  }
}

const EMPTY_RECORD: JsonObject = Object.freeze({}) as JsonObject;
const NOT_CREATED_RECORD: JsonObject = Object.freeze({ notCreated: true }) as JsonObject;

/** Short values that repeat (terminal ids, currencies, statuses, steps): one string for all payments. */
const sharedValues = new Map<string, string>();
function share<T extends string>(v: T | undefined): T | undefined {
  if (v === undefined) return v;
  const hit = sharedValues.get(v);
  if (hit !== undefined) return hit as T;
  if (sharedValues.size < 1024) sharedValues.set(v, v);
  return v;
}

/**
 * What memory keeps of a finished payment: its record and msg context stay on disk only, so memory
 * stays flat. Thousands of these are replaced every second on a busy site and each one outlives
 * several young-generation collections, so they are as small as they can be: one shape for all
 * (no per-object property arrays, no `delete`, which turns an object into a hash table) and shared
 * strings for the values that repeat.
 */
// The fields are JournalPayment's (declaration merging); the constructor sets every one of them, in
// one order, so all instances share one hidden class.
interface FinishedPayment extends JournalPayment {}
class FinishedPayment {
  constructor(p: JournalPayment) {
    this.id = p.id;
    this.kind = p.kind;
    this.terminalId = share(p.terminalId);
    this.amount = p.amount;
    this.currency = share(p.currency);
    this.captureMode = share(p.captureMode);
    this.tipsAmount = p.tipsAmount;
    this.cashbackAmount = p.cashbackAmount;
    this.startedAt = p.startedAt;
    this.lastStep = share(p.lastStep);
    this.status = share(p.status);
    this.record = p.record === undefined ? undefined : p.record.notCreated === true ? NOT_CREATED_RECORD : EMPTY_RECORD;
    this.recordedAt = p.recordedAt;
    this.rejected = p.rejected;
    this.emitting = p.emitting;
    this.deliveredAt = p.deliveredAt;
    this.updatedAt = p.updatedAt;
  }
}

/** Fold a journal file's lines into payments by id (unreadable lines are skipped). */
function foldLines(text: string, byId: Map<string, JournalPayment>): void {
  for (const line of text.split("\n")) {
    if (!line) continue;
    let e: JournalEntry;
    try {
      e = JSON.parse(line) as JournalEntry;
    } catch {
      continue;
    }
    if (e.t === "seen" || e.t === "ident") continue;
    if (e.t === "snap") {
      byId.set(e.p.id, { ...e.p });
      continue;
    }
    const p = byId.get(e.id) ?? { id: e.id, updatedAt: e.ts };
    fold(p, e);
    byId.set(e.id, p);
  }
}

/** The open payments of an active journal file nobody has open (read only: no lock, no repair). */
export async function readOpenPayments(file: string): Promise<JournalPayment[]> {
  return (await readJournalSummary(file)).open;
}

/** Which epos-id an active journal file belongs to (when it says) and its open payments (read only). */
export async function readJournalSummary(file: string): Promise<{ eposId?: string; open: JournalPayment[] }> {
  const text = untilZeros(await fs.promises.readFile(file, "utf8"));
  const byId = new Map<string, JournalPayment>();
  foldLines(text, byId);
  const ident = /^\{"t":"ident","ts":\d+,"eposId":("(?:[^"\\]|\\.)*")\}$/m.exec(text);
  const eposId = ident ? (JSON.parse(ident[1]) as string) : undefined;
  return { ...(eposId !== undefined ? { eposId } : {}), open: [...byId.values()].filter((p) => !isClosed(p)) };
}

/** The active journal file of an identity in `dir`: its name holds the epos-id and a hash of URL, account and epos-id. */
export function journalPath(dir: string, id: JournalOptions["identity"]): string {
  const hash = createHash("sha256").update(`${id.url ?? ""}\n${id.accountName ?? ""}\n${id.eposId}`).digest("hex").slice(0, 10);
  return path.join(dir, `pac-journal-${fileSafeName(id.eposId)}-${hash}.jsonl`);
}

/** Active journal files in a directory (not rotated segments), with the epos-id their name starts with. */
export function activeJournalFiles(dir: string): { file: string; eposId: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^pac-journal-(.*)-[0-9a-f]{10}\.jsonl$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: path.join(dir, m[0]), eposId: m[1] }));
}

/** The lines of a journal file: an open (or crashed) one ends in zeros written ahead (append-file.ts). */
export function untilZeros(text: string): string {
  const end = text.indexOf("\0");
  return end === -1 ? text : text.slice(0, end);
}

/** A string made safe to use in a file name (ids come from users and from Dojo). */
export function fileSafeName(s: string, max = 40): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, max);
}

export class Journal extends EventEmitter<JournalEvents> {
  private readonly open = new InFlightMap<string, JournalPayment>();
  private readonly finished = new Map<string, JournalPayment>();
  /** Recorded ids beyond the finished window, carried across rotations for deduplication. */
  private readonly seen = new Map<string, true>();
  private file!: AppendFile;
  private readonly base: string;
  private readonly segmentBytes: number;
  private readonly retentionMs: number;
  private readonly maxSegments: number;
  private readonly memoryWindow: number;
  private rotating: Promise<void> | null = null;
  private segmentNo = 0;
  private healthNow: JournalHealth = { state: "ok" };
  /** The recovery attempt running now (one at a time). */
  private recovering: Promise<boolean> | null = null;
  private recoveryTimer: NodeJS.Timeout | null = null;
  private recoveryDelayMs = 0;
  private lastAttemptAt = 0;
  private closing = false;
  /** The active file says which epos-id it belongs to. */
  private identified = false;
  /** This process's exclusive hold on the file (one writer per journal, across processes too). */
  private lock: JournalLock | null = null;
  readonly path: string;
  /** Lines skipped while loading (not counting a repaired torn tail). */
  skippedLines = 0;
  repairedTail = false;

  private constructor(private readonly opts: JournalOptions) {
    super();
    this.path = journalPath(opts.dir, opts.identity);
    this.base = this.path.slice(0, -".jsonl".length);
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
    this.retentionMs = (opts.retentionDays ?? 90) * 86_400_000;
    this.maxSegments = opts.maxSegments ?? 40;
    this.memoryWindow = opts.memoryWindow ?? 5000;
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
      j.segmentNo = j.segments().reduce((m, s) => Math.max(m, s.no), 0);
      if (!j.identified) await j.write({ t: "ident", ts: Date.now(), eposId: opts.identity.eposId }, false);
    } catch (e) {
      j.lock.release();
      throw e;
    }
    return j;
  }

  private async load(): Promise<void> {
    let raw: string;
    try {
      raw = await fs.promises.readFile(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    // Zeros written ahead of the lines by a process that did not close the file (a crash).
    const text = untilZeros(raw);
    let start = 0;
    let goodEnd = 0;
    while (start < text.length) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) {
        // A last line without its newline was torn by a crash mid-write: drop it.
        this.repairedTail = true;
        break;
      }
      const line = text.slice(start, nl);
      start = nl + 1;
      goodEnd = start;
      if (line.trim() === "") continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        this.skippedLines++;
        this.opts.onWarning?.(`journal ${this.path}: skipped an unreadable line`);
        continue;
      }
      this.apply(entry);
    }
    if (this.repairedTail || text.length !== raw.length) {
      await fs.promises.truncate(this.path, Buffer.byteLength(text.slice(0, goodEnd)));
    }
  }

  private apply(e: JournalEntry): void {
    if (e.t === "ident") {
      this.identified = true;
      return;
    }
    if (e.t === "seen") {
      for (const id of e.ids) this.seen.set(id, true);
      this.trimSeen();
      return;
    }
    if (e.t === "snap") {
      this.place({ ...e.p });
      return;
    }
    const p = this.open.get(e.id) ?? this.finished.get(e.id) ?? { id: e.id, updatedAt: e.ts };
    fold(p, e);
    this.place(p);
  }

  /** Keep p in the open map, or (slimmed) in the bounded window of finished payments. */
  private place(p: JournalPayment): void {
    if (isClosed(p)) {
      this.open.delete(p.id);
      this.finished.delete(p.id);
      this.finished.set(p.id, p instanceof FinishedPayment ? p : new FinishedPayment(p));
      if (this.finished.size > this.memoryWindow) {
        // Evict in chunks: one iterator per tenth of the window, not one per insert.
        const excess = this.finished.size - this.memoryWindow + Math.ceil(this.memoryWindow / 10);
        let n = 0;
        for (const old of this.finished.values()) {
          if (n++ >= excess) break;
          this.finished.delete(old.id);
          if (old.recordedAt !== undefined) this.seen.set(old.id, true);
        }
        this.trimSeen();
      }
    } else {
      this.open.set(p.id, p);
    }
  }

  private trimSeen(): void {
    const cap = this.memoryWindow * 4;
    if (this.seen.size <= cap) return;
    let excess = this.seen.size - cap + Math.ceil(cap / 10);
    for (const id of this.seen.keys()) {
      if (excess-- <= 0) break;
      this.seen.delete(id);
    }
  }

  /**
   * Append one entry; the in-memory state takes it once the line is written (`durable`: fsynced,
   * it survives a power cut; otherwise written to the OS, it survives a crash of this process, and
   * the fsync follows at once). Rejects, leaving no trace in memory, when it cannot be written.
   */
  write(entry: JournalEntry, durable: boolean): Promise<void> {
    const health = this.healthNow;
    if (health.state === "failed") return Promise.reject(new JournalUnavailableError(this.path, health.error));
    const line = JSON.stringify(entry);
    const mode = durable ? "synced" : "written";
    // Lines written while a rotation runs go to the new file, in order.
    const appended = this.rotating ? this.rotating.then(() => this.file.append(line, mode)) : this.file.append(line, mode);
    return appended.then(
      () => {
        this.apply(entry);
        this.rotateIfFull();
      },
      (e: NodeJS.ErrnoException) => {
        this.fail(e);
        throw e;
      },
    );
  }

  private readonly rotateIfFull = (): void => {
    if (this.file.bytes > this.segmentBytes && !this.rotating && this.healthNow.state === "ok") {
      this.rotating = this.rewrite()
        .catch((e: NodeJS.ErrnoException) => this.fail(e))
        .finally(() => {
          this.rotating = null;
        });
    }
  };

  get health(): JournalHealth {
    return this.healthNow;
  }

  /** Stop taking writes after a storage error (the first one is kept) and start probing for recovery. */
  private fail(e: NodeJS.ErrnoException): void {
    if (this.closing || this.healthNow.state === "failed") return;
    const error = e instanceof JournalUnavailableError ? Object.assign(new Error(e.message), { code: e.code }) : e;
    const text = describeStorageError(error);
    this.healthNow = { state: "failed", error, code: text.code, words: text.words, short: text.short, since: Date.now(), path: this.path };
    this.recoveryDelayMs = 0;
    this.scheduleRecovery();
    this.emit("health", this.healthNow);
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
   * when it is. At most one attempt runs at once, and no more than one a second.
   */
  recover(): Promise<boolean> {
    if (this.healthNow.state === "ok") return Promise.resolve(true);
    if (this.recovering) return this.recovering;
    if (this.closing || Date.now() - this.lastAttemptAt < (this.opts.recoveryMinMs ?? 1000)) return Promise.resolve(false);
    this.lastAttemptAt = Date.now();
    this.recovering = (this.rotating ?? Promise.resolve())
      .then(() => this.rewrite())
      .then(
        () => {
          if (this.closing) return false;
          if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
          this.recoveryTimer = null;
          this.healthNow = { state: "ok" };
          this.emit("health", this.healthNow);
          return true;
        },
        () => false,
      )
      .finally(() => {
        this.recovering = null;
      });
    return this.recovering;
  }

  get(id: string): JournalPayment | undefined {
    return this.open.get(id) ?? this.finished.get(id);
  }

  /** Known as recorded (deduplication of Dojo's redeliveries). */
  isRecorded(id: string): boolean {
    const p = this.get(id);
    // A synthetic "not created" entry is not Dojo's record: a late real one must still be taken.
    return (p !== undefined && p.recordedAt !== undefined && p.record?.notCreated !== true) || this.seen.has(id);
  }

  /** Payments whose lifecycle or delivery is not finished. */
  openPayments(): JournalPayment[] {
    return [...this.open.values()];
  }

  /** Recent finished payments, newest last (bounded by memoryWindow). */
  recent(): JournalPayment[] {
    return [...this.finished.values()];
  }

  get memorySize(): { open: number; finished: number; seen: number } {
    return { open: this.open.size, finished: this.finished.size, seen: this.seen.size };
  }

  private segments(): { no: number; file: string }[] {
    const dir = path.dirname(this.base);
    const prefix = path.basename(this.base) + ".";
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.startsWith(prefix) && /^\d+\.jsonl$/.test(n.slice(prefix.length)))
      .map((n) => ({ no: Number(n.slice(prefix.length).split(".")[0]), file: path.join(dir, n) }))
      .sort((a, b) => a.no - b.no);
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
    const lines: string[] = [JSON.stringify({ t: "ident", ts: now, eposId: this.opts.identity.eposId })];
    for (const p of this.open.values()) lines.push(JSON.stringify({ t: "snap", ts: now, p }));
    const ids = [...this.finished.keys(), ...this.seen.keys()].filter((id) => this.isRecorded(id));
    if (ids.length) lines.push(JSON.stringify({ t: "seen", ts: now, ids }));
    const text = lines.join("\n") + "\n";
    const tmp = `${this.path}.tmp`;
    // The directory may have been removed under the journal (recovery).
    await fs.promises.mkdir(path.dirname(this.path), { recursive: true });
    await fs.promises.writeFile(tmp, text);
    const fh = await fs.promises.open(tmp, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    if ((await fs.promises.readFile(tmp, "utf8")) !== text) throw Object.assign(new Error(`journal ${tmp}: read back differs from what was written`), { code: "EIO" });
    try {
      await fs.promises.rename(this.path, `${this.base}.${this.segmentNo + 1}.jsonl`);
      this.segmentNo++;
    } catch (e) {
      // Already moved aside by a rotation that failed after it.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    await fs.promises.rename(tmp, this.path);
    syncDir(path.dirname(this.path));
    this.file = new AppendFile(this.path, { inlineSyncMaxMs: this.opts.inlineSyncMaxMs });
    this.applyRetention(now);
  }

  private applyRetention(now: number): void {
    const segs = this.segments();
    segs.forEach((s, i) => {
      let tooOld = false;
      try {
        tooOld = now - fs.statSync(s.file).mtimeMs > this.retentionMs;
      } catch {
        return;
      }
      if (tooOld || segs.length - i > this.maxSegments) {
        try {
          fs.unlinkSync(s.file);
        } catch {
          /* already gone */
        }
      }
    });
  }

  /**
   * Payments started or recorded between from and to (epoch ms), read from every segment: for
   * end-of-day reports. Folded per payment; the newest information wins.
   */
  async query(from: number, to: number): Promise<JournalPayment[]> {
    const files = [...this.segments().map((s) => s.file), this.path];
    const byId = new Map<string, JournalPayment>();
    for (const file of files) {
      let text: string;
      try {
        text = untilZeros(await fs.promises.readFile(file, "utf8"));
      } catch {
        continue;
      }
      foldLines(text, byId);
    }
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
    this.closing = true;
    this.lock?.releasing();
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    this.recoveryTimer = null;
    const settled = (p: Promise<unknown> | null): Promise<void> => (p ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
    return settled(this.rotating)
      .then(() => settled(this.recovering))
      .then(() => this.file.close())
      .finally(() => this.lock?.release());
  }
}
