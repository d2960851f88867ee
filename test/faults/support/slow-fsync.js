"use strict";
// Test-only preload for the Node-RED child of crash.fault.js (node -r): stretches every fdatasync of
// a file under dojo-pac-journal/ by PAC_TEST_SLOW_FSYNC_MS (the thread-pool one and the one the
// journal runs on the event loop while the disk is fast; the first slow one moves it to the pool), which opens a wide, known window between
// "the record line is written" and "the record is acknowledged" (and between the journal's "emit"
// and the hand-over to the flow), so a SIGKILL can be aimed inside it. The data itself is written
// at once, as always: a killed process leaves it in the page cache, which is what a crash (not a
// power cut) does.
const fs = require("fs");

const ms = Number(process.env.PAC_TEST_SLOW_FSYNC_MS) || 0;
if (ms > 0) {
  const original = fs.fdatasync;
  const isJournal = (fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).includes("dojo-pac-journal");
    } catch {
      return true;
    }
  };
  /** @type {(fd: number, cb: import("fs").NoParamCallback) => void} */
  const slowFdatasync = function (fd, cb) {
    if (!isJournal(fd)) return original.call(fs, fd, cb);
    return original.call(fs, fd, (err) => setTimeout(() => cb(err), ms));
  };
  fs.fdatasync = /** @type {typeof fs.fdatasync} */ (slowFdatasync);
  const originalSync = fs.fdatasyncSync;
  fs.fdatasyncSync = function slowFdatasyncSync(fd) {
    originalSync.call(fs, fd);
    if (isJournal(fd)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  };
}
