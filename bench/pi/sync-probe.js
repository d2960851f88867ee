"use strict";
// Benchmark-only preload (`node -r bench/pi/sync-probe.js`): watches the journal's own fs calls and
// the frames the client sends, to answer three questions without touching the package:
// - how many journal lines and records each fdatasync covered (group commit);
// - whether every RecordPayment acknowledgement left only after an fdatasync that covered its record
//   line had completed (memory never ahead of the disk);
// - whether anything at all was written to the journal in a window (idle).
// The journal writes with fs.writeSync(fd, buf, off, len, position) and syncs with fs.fdatasyncSync or
// fs.fdatasync (append-file.ts). Loaded after test/faults/support/fs-faults.js, the sync it sees
// includes the injected delay. Read the figures with globalThis[Symbol.for("pac-bench-sync-probe")].
const fs = require("fs");

const KEY = Symbol.for("pac-bench-sync-probe");
const JOURNAL = "dojo-pac-journal";

if (!globalThis[KEY]) {
  const fdIsJournal = new Map(); // fd -> boolean (cached readlink)
  const fdState = new Map(); // fd -> { written: end offset of the last line, synced: covered end }
  const recordEnd = new Map(); // paymentId -> [{ s: file state, end }] of its record lines, until acknowledged
  const stats = {
    lineWrites: 0, // writeSync calls carrying journal lines (not the zeros written ahead)
    lines: 0,
    records: 0,
    syncs: 0,
    syncMsTotal: 0,
    inlineSyncs: 0, // fdatasyncSync: on the event loop, which waits for it
    inlineSyncMaxMs: 0,
    inlineSyncsOver25Ms: 0,
    acks: 0, // RecordPayment acknowledgements seen
    acksAfterSync: 0, // ... whose record line was covered by a completed fdatasync
    acksAhead: 0, // ... sent before that (a violation)
    acksUnknown: 0, // ... for a record this probe did not see written (a redelivery already on disk)
    acksAfterClose: 0, // ... after their record's file was closed (rotated): counted in acksAfterSync when synced
    aheadSamples: [],
  };

  const isJournal = (fd) => {
    let v = fdIsJournal.get(fd);
    if (v === undefined) {
      try {
        v = fs.readlinkSync(`/proc/self/fd/${fd}`).includes(JOURNAL);
      } catch {
        v = false;
      }
      fdIsJournal.set(fd, v);
    }
    return v;
  };
  const state = (fd) => {
    let s = fdState.get(fd);
    if (!s) fdState.set(fd, (s = { written: 0, synced: 0, closed: false }));
    return s;
  };

  // A closed fd number is reused for other files: forget what it was.
  const origClose = fs.closeSync;
  fs.closeSync = function (fd) {
    if (fdState.has(fd)) fdState.get(fd).closed = true;
    fdIsJournal.delete(fd);
    fdState.delete(fd);
    return origClose.apply(this, arguments);
  };
  const origCloseCb = fs.close;
  fs.close = function (fd) {
    if (fdState.has(fd)) fdState.get(fd).closed = true;
    fdIsJournal.delete(fd);
    fdState.delete(fd);
    return origCloseCb.apply(this, arguments);
  };

  const origWriteSync = fs.writeSync;
  fs.writeSync = function (fd, buf, off, len, pos) {
    const n = origWriteSync.apply(this, arguments);
    if (typeof fd === "number" && Buffer.isBuffer(buf) && typeof pos === "number" && isJournal(fd)) {
      const start = typeof off === "number" ? off : 0;
      const chunk = buf.subarray(start, start + n);
      if (chunk.length && chunk[0] !== 0) {
        const text = chunk.toString("utf8");
        const s = state(fd);
        s.written = Math.max(s.written, pos + n);
        stats.lineWrites++;
        let at = 0;
        for (;;) {
          const nl = text.indexOf("\n", at);
          if (nl < 0) break;
          const line = text.slice(at, nl);
          stats.lines++;
          if (line.startsWith('{"t":"record"')) {
            stats.records++;
            const m = /"paymentId":"((?:[^"\\]|\\.)*)"/.exec(line);
            if (m) {
              // The file's state object, not its fd: a rotation closes the fd (and its number is
              // reused) while the acknowledgement of a record synced into it may still be on its way.
              const where = { s, end: pos + Buffer.byteLength(text.slice(0, nl + 1)) };
              const earlier = recordEnd.get(m[1]);
              if (earlier) earlier.push(where);
              else recordEnd.set(m[1], [where]);
            }
          }
          at = nl + 1;
        }
      }
    }
    return n;
  };

  const origSyncSync = fs.fdatasyncSync;
  fs.fdatasyncSync = function (fd) {
    const watch = isJournal(fd);
    const s = watch ? state(fd) : null;
    const upTo = s ? s.written : 0;
    const t0 = performance.now();
    const r = origSyncSync.apply(this, arguments);
    if (watch) {
      const ms = performance.now() - t0;
      stats.syncs++;
      stats.syncMsTotal += ms;
      stats.inlineSyncs++;
      stats.inlineSyncMaxMs = Math.max(stats.inlineSyncMaxMs, ms);
      if (ms > 25) stats.inlineSyncsOver25Ms++;
      s.synced = Math.max(s.synced, upTo);
    }
    return r;
  };
  const origSync = fs.fdatasync;
  fs.fdatasync = function (fd, cb) {
    if (!isJournal(fd) || typeof cb !== "function") return origSync.apply(this, arguments);
    const s = state(fd);
    const upTo = s.written;
    const t0 = performance.now();
    return origSync.call(this, fd, function (err) {
      stats.syncs++;
      stats.syncMsTotal += performance.now() - t0;
      if (!err) s.synced = Math.max(s.synced, upTo);
      return cb.apply(this, arguments);
    });
  };

  /** Called by the worker for every frame the client sends (see wrapWs below). */
  function onFrame(data) {
    if (typeof data !== "string" || data.includes('"method"') || !data.includes('"result"')) return;
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    const id = m && m.result && typeof m.result === "object" ? m.result.paymentId : undefined;
    if (typeof id !== "string") return;
    // The client's answers with a paymentId in their result are RecordPayment acknowledgements.
    stats.acks++;
    const r = recordEnd.get(id);
    if (!r) {
      stats.acksUnknown++;
      return;
    }
    recordEnd.delete(id);
    // Any copy of the record on disk is enough (a redelivered record is written again).
    if (r.some((w) => w.s.closed)) stats.acksAfterClose++;
    if (r.some((w) => w.s.synced >= w.end)) stats.acksAfterSync++;
    else {
      stats.acksAhead++;
      if (stats.aheadSamples.length < 5) stats.aheadSamples.push(id);
    }
  }

  /** Watch every frame sent through this ws module's WebSocket. */
  function wrapWs(WebSocket) {
    const proto = WebSocket && WebSocket.prototype;
    if (!proto || proto.__pacBenchProbe) return;
    const orig = proto.send;
    proto.send = function (data) {
      try {
        onFrame(typeof data === "string" ? data : Buffer.isBuffer(data) ? data.toString("utf8") : undefined);
      } catch {
        /* a probe never breaks a send */
      }
      return orig.apply(this, arguments);
    };
    proto.__pacBenchProbe = true;
  }

  Object.defineProperty(globalThis, KEY, {
    value: {
      stats,
      wrapWs,
      snapshot: () => ({ ...stats, aheadSamples: [...stats.aheadSamples] }),
    },
  });
}

module.exports = globalThis[KEY];
