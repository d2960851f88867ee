"use strict";
// Reads the child's journal files (<userDir>/dojo-pac-journal/pac-journal-*.jsonl) from the
// harness, incrementally and synchronously: called inside the simulator's frame event for a record
// acknowledgement, it sees exactly what was on the disk (page cache) when Dojo got the ack.
// A journal that is open ends in preallocated NUL bytes: reading stops at the first one (as
// untilZeros in src/client/journal.ts), and only complete lines are taken.
const fs = require("fs");
const path = require("path");

class JournalView {
  /**
   * `duringStorageFault()`: true while storage faults are injected (and shortly after): a journal
   * whose write failed cuts what the failed write left after its confirmed lines, which is no rewrite
   * of anything it confirmed.
   */
  /** @param {string} userDir @param {{ duringStorageFault?: () => boolean }} [opts] */
  constructor(userDir, { duringStorageFault = () => false } = {}) {
    this.dir = path.join(userDir, "dojo-pac-journal");
    this.duringStorageFault = duringStorageFault;
    /** name -> {ino, offset, entries} */
    this.files = new Map();
    this.badLines = [];
    /** Bytes already read that changed later (the journal must only append). */
    this.rewrites = [];
    /** Unconfirmed bytes cut back while a storage fault was injected (tolerated, counted). */
    this.cutsDuringFaults = [];
  }

  /** Read what was appended since the last call. */
  refresh() {
    let names;
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.startsWith("pac-journal-") && n.endsWith(".jsonl"));
    } catch {
      return;
    }
    for (const name of names) this.readFile(name);
  }

  readFile(name) {
    const file = path.join(this.dir, name);
    let f = this.files.get(name);
    if (!f) this.files.set(name, (f = { offset: 0, entries: [], recorded: new Set(), tail: Buffer.alloc(0) }));
    let fd;
    try {
      fd = fs.openSync(file, "r");
    } catch {
      return;
    }
    try {
      const st = fs.fstatSync(fd);
      const size = st.size;
      // A new file under the name (a rotation, or a recovery that wrote a new active file): the old
      // one lives on under its segment name, read from its start there.
      if (f.ino !== undefined && f.ino !== st.ino) {
        f.offset = 0;
        f.entries = [];
        f.recorded = new Set();
        f.tail = Buffer.alloc(0);
      }
      f.ino = st.ino;
      // The journal only appends (zeros are cut, torn tails dropped: never a complete line). If the
      // file shrank below what was read, or the last bytes read changed, it was written over.
      let changed = size < f.offset;
      if (!changed && f.tail.length) {
        const now = Buffer.alloc(f.tail.length);
        fs.readSync(fd, now, 0, now.length, f.offset - f.tail.length);
        changed = !now.equals(f.tail);
      }
      if (changed) {
        const what = `${name}: ${size < f.offset ? `cut from ${f.offset} to ${size} bytes` : `bytes before offset ${f.offset} changed`} at ${Date.now()}`;
        (this.duringStorageFault() ? this.cutsDuringFaults : this.rewrites).push(what);
        f.offset = 0;
        f.entries = [];
        f.recorded = new Set();
        f.tail = Buffer.alloc(0);
      }
      if (size === f.offset) return;
      const buf = Buffer.alloc(size - f.offset);
      const got = fs.readSync(fd, buf, 0, buf.length, f.offset);
      let chunk = buf.subarray(0, got);
      const nul = chunk.indexOf(0);
      if (nul >= 0) chunk = chunk.subarray(0, nul);
      const end = chunk.lastIndexOf(0x0a);
      if (end < 0) return;
      const text = chunk.subarray(0, end + 1).toString("utf8");
      f.offset += end + 1;
      f.tail = Buffer.from(chunk.subarray(Math.max(0, end + 1 - 64), end + 1));
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        try {
          const e = JSON.parse(line);
          f.entries.push(e);
          if (e.t === "record" && e.id) f.recorded.add(e.id);
          else if (e.t === "snap" && e.p && e.p.id && e.p.record) f.recorded.add(e.p.id);
        } catch {
          this.badLines.push(`${name}: ${line.slice(0, 120)}`);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Every entry of every file (file order within a file). */
  entries() {
    return [...this.files.values()].flatMap((f) => f.entries);
  }

  /** Whether a record of `paymentId` is in a journal file (a record line, or a snapshot holding one). */
  hasRecord(paymentId) {
    for (const f of this.files.values()) if (f.recorded.has(paymentId)) return true;
    return false;
  }

  /** id -> {status, statusTs, startTs, emitTs, doneTs, kind, captureMode, owner} folded over every file by time. */
  fold() {
    // A snapshot restates what its journal knew as of the payment's last update, not a new fact: it
    // sorts there (a held pre-auth is carried into every new file, also after another identity's
    // journal noted its capture).
    const at = (e) => (e.t === "snap" && e.p && typeof e.p.updatedAt === "number" ? e.p.updatedAt : e.ts || 0);
    const all = this.entries()
      .map((e, i) => ({ e, i }))
      .sort((a, b) => at(a.e) - at(b.e) || a.i - b.i)
      .map((x) => x.e);
    const out = new Map();
    const get = (id) => {
      let p = out.get(id);
      if (!p) out.set(id, (p = { id }));
      return p;
    };
    for (const e of all) {
      if (e.t === "snap" && e.p && e.p.id) {
        const p = get(e.p.id);
        if (e.p.status) p.status = e.p.status;
        if (e.p.kind) p.kind = e.p.kind;
        continue;
      }
      if (!e.id) continue;
      const p = get(e.id);
      if (e.t === "start") {
        p.startTs = e.ts;
        p.kind = e.kind;
        p.captureMode = e.captureMode;
        p.owner = e.owner;
      } else if (e.t === "record" && e.record && typeof e.record.status === "string") {
        // A pre-auth's record (AUTHORIZED) delivered after its capture or reversal does not move it back.
        p.status = e.record.status === "AUTHORIZED" && (p.status === "CAPTURED" || p.status === "REVERSED") ? p.status : e.record.status;
        p.statusFrom = "record";
        p.recordTs = e.ts;
      } else if (e.t === "state") {
        p.status = e.status;
        p.statusFrom = "state";
      } else if (e.t === "emit") {
        p.emitTs = e.ts;
      } else if (e.t === "done") {
        p.doneTs = e.ts;
      } else if (e.t === "rejected") {
        p.rejected = e.reason;
      }
    }
    return out;
  }
}

module.exports = { JournalView };
