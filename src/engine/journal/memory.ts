/**
 * What a journal keeps in memory: its open payments, a bounded window of finished ones (slimmed),
 * and recorded ids beyond that window (for deduplication). It takes an entry only after the Journal
 * has written it: this state is never ahead of the disk.
 */
import type { JsonObject } from "../../protocol";
import { InFlightMap } from "../../common/in-flight-map";
import { fold, isClosed, isHeldPreAuth } from "./entries";
import type { JournalEntry, JournalPayment } from "./entries";

const EMPTY_RECORD: JsonObject = Object.freeze({});
const NOT_CREATED_RECORD: JsonObject = Object.freeze({ notCreated: true });

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
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging -- on purpose, see above
interface FinishedPayment extends JournalPayment {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- on purpose, see above
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
    this.changing = p.changing;
    this.updatedAt = p.updatedAt;
  }
}

/** One journal's payments and recorded ids, as its written entries left them. */
export class JournalMemory {
  private readonly open = new InFlightMap<string, JournalPayment>();
  private readonly finished = new Map<string, JournalPayment>();
  /** Recorded ids beyond the finished window, carried across rotations for deduplication. */
  private readonly seen = new Map<string, true>();
  /** The active file says which epos-id it belongs to. */
  identified = false;

  constructor(private readonly memoryWindow: number) {}

  /** Take one entry: one the Journal has written, or read back from its file. */
  apply(e: JournalEntry): void {
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
      // A finished payment a change reopens (a capture sent for a held pre-auth) moves back to open.
      this.finished.delete(p.id);
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

  /**
   * The lines that carry what memory holds into a new file: every open payment, every held pre-auth
   * (a capture or reversal may come days later and must know it), and the recorded ids.
   */
  snapshotLines(now: number): string[] {
    const lines: string[] = [];
    for (const p of this.open.values()) lines.push(JSON.stringify({ t: "snap", ts: now, p }));
    for (const p of this.finished.values()) {
      // Without the slim record memory keeps: the full one stays in the earlier segment.
      if (isHeldPreAuth(p)) lines.push(JSON.stringify({ t: "snap", ts: now, p: { ...p, record: undefined } }));
    }
    const ids = [...this.finished.keys(), ...this.seen.keys()].filter((id) => this.isRecorded(id));
    if (ids.length) lines.push(JSON.stringify({ t: "seen", ts: now, ids }));
    return lines;
  }
}
