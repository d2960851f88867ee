/**
 * A journal's files on disk. The active file of an identity is named by its epos-id and a hash of
 * URL, account and epos-id; rotated segments sit beside it as `<base>.<n>.jsonl`. Here: the names,
 * reading a file (an open or crashed one ends in zeros written ahead), loading and repairing the
 * active file, replacing it with a verified new one, and retention of the rotated segments.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { syncDir } from "./append-file";
import { foldLines, isClosed } from "./entries";
import type { JournalEntry, JournalPayment } from "./entries";

/** The identity a journal file belongs to (account, URL, epos-id): one file per EPOS identity. */
export interface JournalIdentity {
  eposId: string;
  accountName?: string;
  url?: string;
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
export function journalPath(dir: string, id: JournalIdentity): string {
  const hash = createHash("sha256")
    .update(`${id.url ?? ""}\n${id.accountName ?? ""}\n${id.eposId}`)
    .digest("hex")
    .slice(0, 10);
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

/** Where loading the active file reports what it finds. */
export interface LoadSink {
  /** A readable entry, in file order. */
  apply(e: JournalEntry): void;
  /** A line that could not be read (skipped). */
  unreadable(): void;
  /** The last line was torn (it is dropped and the file cut back). */
  tornTail(): void;
}

/** Read the active file into `sink` and cut it back to its whole lines (a missing file holds nothing). */
export async function loadActiveFile(file: string, sink: LoadSink): Promise<void> {
  let raw: string;
  try {
    raw = await fs.promises.readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  // Zeros written ahead of the lines by a process that did not close the file (a crash).
  const text = untilZeros(raw);
  let start = 0;
  let goodEnd = 0;
  let repairedTail = false;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    if (nl === -1) {
      // A last line without its newline was torn by a crash mid-write: drop it.
      repairedTail = true;
      sink.tornTail();
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
      sink.unreadable();
      continue;
    }
    sink.apply(entry);
  }
  if (repairedTail || text.length !== raw.length) {
    await fs.promises.truncate(file, Buffer.byteLength(text.slice(0, goodEnd)));
  }
}

/** One journal's active file and its rotated segments. */
export class SegmentFiles {
  private readonly base: string;
  private segmentNo = 0;

  constructor(
    /** The active file. */
    readonly active: string,
    private readonly retentionMs: number,
    private readonly maxSegments: number,
  ) {
    this.base = active.slice(0, -".jsonl".length);
  }

  /** Number new segments after the ones already there. */
  countExisting(): void {
    this.segmentNo = this.segments().reduce((m, s) => Math.max(m, s.no), 0);
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
   * Make `text` the active file: written to a temporary file, synced and read back (it must be
   * what was written), then the old active file, if there is one, becomes the next rotated segment.
   */
  async replaceActive(text: string): Promise<void> {
    const tmp = `${this.active}.tmp`;
    // The directory may have been removed under the journal (recovery).
    await fs.promises.mkdir(path.dirname(this.active), { recursive: true });
    await fs.promises.writeFile(tmp, text);
    const fh = await fs.promises.open(tmp, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    if ((await fs.promises.readFile(tmp, "utf8")) !== text)
      throw Object.assign(new Error(`journal ${tmp}: read back differs from what was written`), { code: "EIO" });
    try {
      await fs.promises.rename(this.active, `${this.base}.${this.segmentNo + 1}.jsonl`);
      this.segmentNo++;
    } catch (e) {
      // Already moved aside by a rotation that failed after it.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    await fs.promises.rename(tmp, this.active);
    syncDir(path.dirname(this.active));
  }

  applyRetention(now: number): void {
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

  /** Every segment and the active file folded into payments by id (files that cannot be read are skipped). */
  async foldAll(): Promise<Map<string, JournalPayment>> {
    const files = [...this.segments().map((s) => s.file), this.active];
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
    return byId;
  }
}
