"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
require("should");
const { AppendFile } = require("../dist/engine/journal/append-file");
const { untilZeros } = require("../dist/engine/journal/journal");

describe("append file (the journal's group commit)", function () {
  let dir;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-append-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // An open file ends in zeros written ahead of its lines.
  const lines = (file) => untilZeros(fs.readFileSync(file, "utf8")).split("\n").filter(Boolean);

  it("writes the lines of one macrotask in one go, before the next one starts", async () => {
    const f = new AppendFile(path.join(dir, "a.jsonl"));
    const done = [];
    for (let i = 0; i < 50; i++) done.push(f.append(`{"n":${i}}`, i % 2 ? "synced" : "written"));
    // A microtask later (not a loop turn later), every line is in the file.
    await Promise.resolve();
    await Promise.resolve();
    lines(f.path).should.have.length(50);
    await Promise.all(done);
    lines(f.path)
      .map((l) => JSON.parse(l).n)
      .should.eql([...Array(50).keys()]);
    await f.close();
  });

  /** Count the fdatasyncs run on the event loop; `slowOnce` makes the next one take that long. */
  function watchInlineSyncs() {
    const original = fs.fdatasyncSync;
    const w = { inline: 0, slowOnce: 0 };
    fs.fdatasyncSync = function (fd) {
      w.inline++;
      original.call(fs, fd);
      if (w.slowOnce) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, w.slowOnce);
      w.slowOnce = 0;
    };
    w.restore = () => (fs.fdatasyncSync = original);
    return w;
  }

  /** Durable lines, one flush each, back to back for ms: a busy till's pace. */
  async function busyFor(f, ms, from = 0) {
    const end = performance.now() + ms;
    let n = from;
    while (performance.now() < end) await f.append(`{"n":${n++}}`, "synced");
    return n;
  }

  it("syncs in the thread pool at a shop's pace: the event loop never waits for the disk", async () => {
    const w = watchInlineSyncs();
    try {
      const f = new AppendFile(path.join(dir, "shop.jsonl"), { inlineSyncMaxMs: 1000 }); // any disk counts as fast
      f.syncMode.should.equal("thread");
      for (let i = 0; i < 15; i++) {
        await f.append(`{"n":${i}}`, "synced"); // about 60 records a second
        await new Promise((r) => setTimeout(r, 15));
      }
      f.syncMode.should.equal("thread");
      w.inline.should.equal(0);
      await f.close();
      lines(f.path).should.have.length(15);
    } finally {
      w.restore();
    }
  });

  it("syncs on the event loop only while durable lines come fast on a fast disk, back in the pool once they stop or when told so", async () => {
    const w = watchInlineSyncs();
    try {
      const f = new AppendFile(path.join(dir, "busy.jsonl"), { inlineSyncMaxMs: 1000 });
      const n = await busyFor(f, 250);
      f.syncMode.should.equal("inline");
      w.inline.should.be.above(0);
      await new Promise((r) => setTimeout(r, 250));
      await f.append(`{"n":${n}}`, "synced"); // the first after a quiet spell: not busy any more
      f.syncMode.should.equal("thread");
      await f.close();
      lines(f.path)
        .map((l) => JSON.parse(l).n)
        .should.eql([...Array(n + 1).keys()]);

      const pool = new AppendFile(path.join(dir, "pool.jsonl"), { inlineSyncMaxMs: 0 });
      const before = w.inline;
      await busyFor(pool, 250);
      pool.syncMode.should.equal("thread");
      w.inline.should.equal(before);
      await pool.close();
    } finally {
      w.restore();
    }
  });

  it("leaves the event loop after one sync slower than inlineSyncMaxMs and keeps every line", async () => {
    const w = watchInlineSyncs();
    try {
      const f = new AppendFile(path.join(dir, "slow.jsonl"), { inlineSyncMaxMs: 200 });
      let n = await busyFor(f, 250);
      f.syncMode.should.equal("inline");
      w.slowOnce = 250; // a disk that stalls once
      n = await busyFor(f, 30, n);
      f.syncMode.should.equal("thread");
      const rest = [];
      for (let i = 0; i < 20; i++) rest.push(f.append(`{"n":${n++}}`, "synced"));
      await Promise.all(rest);
      await f.close();
      lines(f.path)
        .map((l) => JSON.parse(l).n)
        .should.eql([...Array(n).keys()]);
    } finally {
      w.restore();
    }
  });

  it("writes over zeros written ahead, growing the file in steps, and cuts them off on close", async () => {
    const f = new AppendFile(path.join(dir, "grow.jsonl"));
    const line = JSON.stringify({ pad: "x".repeat(1000) });
    await f.append(line, "synced");
    fs.statSync(f.path).size.should.equal(64 * 1024); // the first step
    const many = [];
    for (let i = 0; i < 200; i++) many.push(f.append(line, i % 10 ? "written" : "synced"));
    await Promise.all(many);
    fs.statSync(f.path).size.should.be.above(201 * (line.length + 1));
    await f.close();
    fs.statSync(f.path).size.should.equal(201 * (line.length + 1));
    fs.readFileSync(f.path, "utf8").includes("\0").should.be.false();
    const again = new AppendFile(f.path); // reopened: appends after the last line
    await again.append('{"last":true}', "synced");
    await again.close();
    lines(f.path).should.have.length(202);
    JSON.parse(lines(f.path)[201]).should.eql({ last: true });
  });

  it("close waits for queued lines and their sync, then refuses more", async () => {
    for (const inlineSyncMaxMs of [undefined, 0]) {
      const f = new AppendFile(path.join(dir, `close-${inlineSyncMaxMs}.jsonl`), { inlineSyncMaxMs });
      const p = [f.append('{"x":1}', "synced"), f.append('{"x":2}', "written")];
      await f.close();
      await Promise.all(p);
      lines(f.path).should.have.length(2);
      await f.append("{}", "written").should.be.rejectedWith(/closed/);
    }
  });
});
