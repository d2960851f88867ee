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

  it("syncs durable lines on the event loop while the disk is fast, in the thread pool when told so", async () => {
    const fast = new AppendFile(path.join(dir, "fast.jsonl"));
    fast.syncMode.should.equal("inline");
    await fast.append("{}", "synced");
    await fast.close();

    const pool = new AppendFile(path.join(dir, "pool.jsonl"), { inlineSyncMaxMs: 0 });
    pool.syncMode.should.equal("thread");
    await Promise.all([pool.append('{"a":1}', "synced"), pool.append('{"a":2}', "written"), pool.append('{"a":3}', "synced")]);
    await pool.close();
    lines(pool.path).should.eql(['{"a":1}', '{"a":2}', '{"a":3}']);
  });

  it("leaves the event loop after one sync slower than inlineSyncMaxMs and keeps every line", async () => {
    // No disk syncs in a nanosecond: the first durable line measures the disk as slow.
    const f = new AppendFile(path.join(dir, "slow.jsonl"), { inlineSyncMaxMs: 1e-6 });
    f.syncMode.should.equal("inline");
    // The first sync also makes the zeros written ahead durable: it is not timed.
    await f.append('{"n":0}', "synced");
    f.syncMode.should.equal("inline");
    await f.append('{"n":1}', "synced");
    f.syncMode.should.equal("thread");
    const rest = [];
    for (let i = 2; i <= 20; i++) rest.push(f.append(`{"n":${i}}`, "synced"));
    await Promise.all(rest);
    f.syncMode.should.equal("thread");
    await f.close();
    lines(f.path)
      .map((l) => JSON.parse(l).n)
      .should.eql([...Array(21).keys()]);
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
