"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
require("should");
const { Journal, untilZeros } = require("../dist/engine/journal/journal");

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "pac-journal-"));
}
const identity = { eposId: "till-1", accountName: "acct", url: "ws://127.0.0.1/x" };

describe("journal", function () {
  let dir;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a pre-auth's record delivered after its capture (or reversal) does not move the status back to AUTHORIZED", async () => {
    let j = await Journal.open({ dir, identity });
    await j.write({ t: "start", ts: 1, id: "h1", kind: "payment", terminalId: "T1", amount: 100, currency: "GBP", captureMode: "MANUAL" }, true);
    await j.write({ t: "state", ts: 2, id: "h1", status: "CAPTURED", amount: 90 }, true);
    await j.write({ t: "record", ts: 3, id: "h1", record: { paymentId: "h1", status: "AUTHORIZED" } }, true);
    await j.write({ t: "start", ts: 4, id: "h2", kind: "payment", terminalId: "T1", amount: 100, currency: "GBP", captureMode: "MANUAL" }, true);
    await j.write({ t: "state", ts: 5, id: "h2", status: "REVERSED" }, true);
    await j.write({ t: "record", ts: 6, id: "h2", record: { paymentId: "h2", status: "AUTHORIZED" } }, true);
    j.get("h1").status.should.equal("CAPTURED");
    j.get("h1").amount.should.equal(90);
    j.get("h2").status.should.equal("REVERSED");
    await j.close();
    j = await Journal.open({ dir, identity });
    j.get("h1").status.should.equal("CAPTURED");
    j.get("h2").status.should.equal("REVERSED");
    (await j.query(0, 10)).find((p) => p.id === "h1").status.should.equal("CAPTURED");
    await j.close();
  });

  it("one writer per journal: a second open of the same identity is refused naming the holder, until the first closes", async () => {
    const first = await Journal.open({ dir, identity, lockLabel: 'connection "Front till"' });
    const e = await Journal.open({ dir, identity, lockLabel: 'connection "Copy"' }).then(
      () => null,
      (err) => err,
    );
    e.code.should.equal("JOURNAL_LOCKED");
    e.holder.label.should.equal('connection "Front till"');
    e.sameProcess.should.be.true();
    // Another identity in the same directory is another file, another lock.
    const other = await Journal.open({ dir, identity: { ...identity, eposId: "till-2" } });
    await other.close();
    await first.close();
    const second = await Journal.open({ dir, identity, lockLabel: 'connection "Copy"' });
    await second.close();
  });

  it("keeps payments, records and deliveries across a reopen", async () => {
    let j = await Journal.open({ dir, identity });
    await j.write({ t: "start", ts: 1, id: "p1", kind: "payment", terminalId: "T1", amount: 100, currency: "GBP", owner: "n1", ctx: { order: 7 } }, true);
    await j.write({ t: "start", ts: 2, id: "p2", kind: "payment", terminalId: "T1", amount: 200, currency: "GBP" }, true);
    await j.write({ t: "record", ts: 3, id: "p2", record: { paymentId: "p2", status: "CAPTURED" } }, true);
    await j.write({ t: "start", ts: 4, id: "p3", kind: "refund", terminalId: "T2", amount: 50, currency: "GBP" }, true);
    await j.write({ t: "record", ts: 5, id: "p3", record: { paymentId: "p3", status: "REFUNDED" } }, true);
    await j.write({ t: "emit", ts: 6, id: "p3" }, true);
    await j.write({ t: "done", ts: 7, id: "p3" }, false);
    await j.close();

    j = await Journal.open({ dir, identity });
    const open = j
      .openPayments()
      .map((p) => p.id)
      .sort();
    open.should.eql(["p1", "p2"]); // p1 unfinished, p2 recorded but not delivered
    j.get("p1").ctx.should.eql({ order: 7 });
    j.get("p1").owner.should.equal("n1");
    j.isRecorded("p2").should.be.true();
    j.isRecorded("p3").should.be.true();
    j.isRecorded("p1").should.be.false();
    j.get("p3").deliveredAt.should.equal(7);
    await j.close();
  });

  it("tolerates a torn last line and repairs the file for further appends", async () => {
    let j = await Journal.open({ dir, identity });
    await j.write({ t: "start", ts: 1, id: "p1", kind: "payment", terminalId: "T1", amount: 100, currency: "GBP" }, true);
    await j.close();
    fs.appendFileSync(j.path, '{"t":"record","ts":2,"id":"p1","rec');
    j = await Journal.open({ dir, identity });
    j.repairedTail.should.be.true();
    j.isRecorded("p1").should.be.false();
    await j.write({ t: "record", ts: 3, id: "p1", record: { status: "CAPTURED" } }, true);
    await j.close();
    j = await Journal.open({ dir, identity });
    j.repairedTail.should.be.false();
    j.skippedLines.should.equal(0);
    j.isRecorded("p1").should.be.true();
    await j.close();
  });

  it("skips a corrupt middle line and reports it", async () => {
    const j0 = await Journal.open({ dir, identity });
    await j0.close();
    fs.writeFileSync(
      j0.path,
      '{"t":"start","ts":1,"id":"a","kind":"payment","terminalId":"T","amount":1,"currency":"GBP"}\nnot json\n{"t":"record","ts":2,"id":"a","record":{}}\n',
    );
    const warnings = [];
    const j = await Journal.open({ dir, identity, onWarning: (m) => warnings.push(m) });
    j.skippedLines.should.equal(1);
    warnings.length.should.equal(1);
    j.isRecorded("a").should.be.true();
    await j.close();
  });

  it("group-commits concurrent durable writes", async () => {
    const j = await Journal.open({ dir, identity });
    const writes = [];
    for (let i = 0; i < 200; i++) {
      writes.push(j.write({ t: "start", ts: i, id: "c" + i, kind: "payment", terminalId: "T", amount: 1, currency: "GBP" }, true));
    }
    await Promise.all(writes);
    // While open, the file ends in zeros written ahead of the lines; closing cuts them off.
    const live = fs.readFileSync(j.path, "utf8");
    live.length.should.be.above(untilZeros(live).length);
    untilZeros(live).trim().split("\n").length.should.equal(201); // the file's ident line, then the 200
    await j.close();
    fs.readFileSync(j.path, "utf8").should.equal(untilZeros(live));
  });

  it("cuts the zeros a crashed process left ahead of its lines, and appends after the last line", async () => {
    let j = await Journal.open({ dir, identity });
    await j.write({ t: "start", ts: 1, id: "z1", kind: "payment", terminalId: "T", amount: 1, currency: "GBP" }, true);
    const crashed = fs.readFileSync(j.path); // as a killed process leaves it: lines, then zeros
    await j.close();
    fs.writeFileSync(j.path, crashed);
    crashed[crashed.length - 1].should.equal(0);
    j = await Journal.open({ dir, identity });
    j.skippedLines.should.equal(0);
    fs.statSync(j.path).size.should.equal(crashed.indexOf(0));
    await j.write({ t: "start", ts: 2, id: "z2", kind: "payment", terminalId: "T", amount: 1, currency: "GBP" }, true);
    await j.close();
    fs.readFileSync(j.path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.t !== "ident")
      .map((e) => e.id)
      .should.eql(["z1", "z2"]);
    j = await Journal.open({ dir, identity });
    j.openPayments()
      .map((p) => p.id)
      .sort()
      .should.eql(["z1", "z2"]);
    await j.close();
  });

  it("rotates segments, carries open payments and recorded ids over, and answers queries across segments", async () => {
    let j = await Journal.open({ dir, identity, segmentBytes: 4000, memoryWindow: 10 });
    await j.write({ t: "start", ts: Date.now(), id: "open-1", kind: "payment", terminalId: "T", amount: 5, currency: "GBP" }, true);
    for (let i = 0; i < 60; i++) {
      const id = "f" + i;
      const ts = Date.now();
      await j.write({ t: "start", ts, id, kind: "payment", terminalId: "T", amount: 100 + i, currency: "GBP" }, false);
      await j.write({ t: "record", ts, id, record: { status: i % 2 ? "DECLINED" : "CAPTURED" } }, false);
      await j.write({ t: "emit", ts, id }, false);
      await j.write({ t: "done", ts, id }, false);
    }
    await j.close();
    const segs = fs.readdirSync(dir).filter((f) => /\.\d+\.jsonl$/.test(f));
    segs.length.should.be.above(0);
    fs.statSync(j.path).size.should.be.below(8000);
    j = await Journal.open({ dir, identity, segmentBytes: 4000, memoryWindow: 10 });
    j.openPayments()
      .map((p) => p.id)
      .should.eql(["open-1"]);
    j.isRecorded("f30").should.be.true(); // beyond the finished window: carried over as a seen id
    j.isRecorded("f0").should.be.false(); // beyond the dedup window (5 × memoryWindow): on disk only
    j.memorySize.finished.should.be.belowOrEqual(10);
    const all = await j.query(0, Date.now() + 1000);
    all.filter((p) => p.id.startsWith("f")).length.should.equal(60);
    await j.close();
  });

  it("a held pre-auth (delivered, AUTHORIZED) is carried across a rotation and a reopen: a later capture or reversal knows it", async () => {
    const opts = { dir, identity, segmentBytes: 4000, memoryWindow: 100 };
    let j = await Journal.open(opts);
    await j.write({ t: "start", ts: Date.now(), id: "held-1", kind: "payment", terminalId: "T9", amount: 700, currency: "GBP", captureMode: "MANUAL" }, true);
    await j.write({ t: "record", ts: Date.now(), id: "held-1", record: { paymentId: "held-1", status: "AUTHORIZED" } }, true);
    await j.write({ t: "emit", ts: Date.now(), id: "held-1" }, true);
    await j.write({ t: "done", ts: Date.now(), id: "held-1" }, true);
    for (let i = 0; i < 40; i++) {
      const ts = Date.now();
      await j.write({ t: "start", ts, id: "s" + i, kind: "payment", terminalId: "T", amount: 100 + i, currency: "GBP" }, false);
      await j.write({ t: "record", ts, id: "s" + i, record: { status: "CAPTURED" } }, false);
      await j.write({ t: "done", ts, id: "s" + i }, false);
    }
    await j.close();
    fs.readdirSync(dir)
      .filter((f) => /\.\d+\.jsonl$/.test(f))
      .length.should.be.above(0); // rotated
    j = await Journal.open(opts);
    const p = j.get("held-1");
    p.should.containDeep({ kind: "payment", captureMode: "MANUAL", status: "AUTHORIZED", terminalId: "T9", amount: 700 });
    j.openPayments()
      .map((x) => x.id)
      .should.not.containEql("held-1"); // its result reached the flow: not open
    (await j.query(0, Date.now() + 1000)).find((x) => x.id === "held-1").record.should.eql({ paymentId: "held-1", status: "AUTHORIZED" }); // the full record, for a report or a reprint
    await j.close();
  });

  it("a change the journal cannot tie to a payment it holds (a pre-auth from before its window) does not stay open forever", async () => {
    let j = await Journal.open({ dir, identity });
    await j.write({ t: "state", ts: Date.now(), id: "old-held", status: "CAPTURED", amount: 300 }, true);
    j.get("old-held").status.should.equal("CAPTURED");
    j.openPayments()
      .map((x) => x.id)
      .should.eql([]);
    await j.close();
    j = await Journal.open({ dir, identity });
    j.openPayments()
      .map((x) => x.id)
      .should.eql([]);
    await j.close();
  });

  it("a change sent (capture, update, reversal) is open until its answer is journaled, across a reopen and a rotation", async () => {
    const opts = { dir, identity, segmentBytes: 4000, memoryWindow: 100 };
    let j = await Journal.open(opts);
    await j.write({ t: "change", ts: Date.now(), id: "cap-1", op: "capture", amount: 250 }, true);
    for (let i = 0; i < 40; i++) {
      const ts = Date.now();
      await j.write({ t: "start", ts, id: "s" + i, kind: "payment", terminalId: "T", amount: 100 + i, currency: "GBP" }, false);
      await j.write({ t: "record", ts, id: "s" + i, record: { status: "CAPTURED" } }, false);
      await j.write({ t: "done", ts, id: "s" + i }, false);
    }
    await j.close();
    j = await Journal.open(opts);
    j.get("cap-1").changing.should.equal("capture");
    j.openPayments()
      .map((x) => x.id)
      .should.eql(["cap-1"]);
    await j.write({ t: "state", ts: Date.now(), id: "cap-1", status: "CAPTURED", amount: 250 }, true);
    j.openPayments()
      .map((x) => x.id)
      .should.eql([]);
    await j.write({ t: "change", ts: Date.now(), id: "cap-1", op: "reverse" }, true);
    await j.write({ t: "unchanged", ts: Date.now(), id: "cap-1" }, true);
    j.openPayments()
      .map((x) => x.id)
      .should.eql([]);
    j.get("cap-1").status.should.equal("CAPTURED");
    await j.close();
  });

  it("uses one file per EPOS identity", async () => {
    const a = await Journal.open({ dir, identity });
    const b = await Journal.open({ dir, identity: { ...identity, eposId: "till-2" } });
    a.path.should.not.equal(b.path);
    await a.close();
    await b.close();
  });
});
