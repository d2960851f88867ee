"use strict";
// Storage faults: the journal's disk fails while payments run. Through the real nodes (pac-config +
// pac-payment in Node-RED) against the standalone simulator; the file system fails on purpose through
// the test-only injector (support/fs-faults.js, steered in this process) at every write point of the
// journal, and once for real on a small full tmpfs. What must hold: a record is acknowledged only once
// it is on disk, a failed store leaves no trace in memory (Dojo's redelivery is stored, not taken for a
// duplicate), sales are refused with JOURNAL while the journal cannot write, the status says so in under
// 20 characters with one warning, and the package recovers by itself: the result reaches its node
// exactly once, the status turns green.
const should = require("should");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const faults = require("./support/fs-faults");
const {
  helper,
  until,
  delay,
  tmpDir,
  cleanup,
  nodeRedSuite,
  onCleanup,
  startSim,
  waitStep,
  frameCounter,
  lastStatus,
  logged,
  loadPaymentFlow,
  approve,
  exactlyOne,
  SETTLE_MS,
} = require("./helpers");
const { Journal, untilZeros } = require("../../dist/engine/journal/journal");
const { ERROR_CODE, parseFrame } = require("../../dist/protocol");

const APPROVED = { fill: "green", shape: "dot", text: "paid £12.50" };

/** Journal lines (all files of the directory, active last). */
function journalLines(userDir) {
  const dir = path.join(userDir, "dojo-pac-journal");
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith(".jsonl")) : [];
  files.sort((a, b) => (a.split(".").length === 2 ? 1 : 0) - (b.split(".").length === 2 ? 1 : 0));
  return files.flatMap((f) =>
    untilZeros(fs.readFileSync(path.join(dir, f), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return {};
        }
      }),
  );
}

function recordLines(userDir, paymentId) {
  return journalLines(userDir).filter((e) => (e.t === "record" && e.id === paymentId) || (e.t === "seen" && e.ids.includes(paymentId)));
}

const warnings = (id = "cfg") => logged("WARN", id);

/** The till's answers to Dojo's requests (records): parsed frames of kind response or error (Dojo carries errors under result). */
function recordAnswers(frames, sim, paymentId) {
  const parsed = frames.frames
    .map((f) => parseFrame(f))
    .filter((r) => r.ok)
    .map((r) => r.frame);
  return parsed.filter((f) => (f.kind === "response" && f.result.paymentId === paymentId) || f.kind === "error");
}

describe("faults: storage (the journal's disk fails while payments run)", function () {
  this.timeout(40000);

  const suite = nodeRedSuite("pac-faults-s-", { beforeUnload: () => faults.clear() });

  /** Sale at PRESENT_CARD with the journal failing as `rules` say; the record arrives during the fault. */
  /** @param {object[]} rules @param {{ errno?: string, lineWritten?: boolean }} [opts] */
  async function recordDuringFault(rules, { errno, lineWritten = false } = {}) {
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    const frames = frameCounter(sim);
    t.pay.receive({ payload: 1250, order: 7 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    faults.set(rules);
    await approve(sim);
    // Dojo delivers the record, is refused, delivers it again (every 200 ms here): never acknowledged.
    await until(() => sim.stats.recordsSent >= 3, "three deliveries of the record", 5000);
    sim
      .pendingRecords("till-f")
      .map((r) => r.paymentId)
      .should.eql([paymentId], "the record must still be pending at Dojo");
    sim.stats.recordsAcked.should.equal(0);
    const answers = recordAnswers(frames, sim, paymentId);
    answers.length.should.be.above(0, JSON.stringify(frames.frames.slice(-6)));
    for (const a of answers) {
      a.kind.should.equal("error", "a delivery the journal could not store must get an error");
      a.error.code.should.not.equal(ERROR_CODE.PAYMENT_ALREADY_RECORDED);
    }
    // No trace in memory; on disk no line either, unless the write got through and its sync failed
    // (then it is in the file, unconfirmed and unacknowledged: the journal does not trust it).
    helper.getNode("cfg").pac.client.journal.isRecorded(paymentId).should.be.false();
    if (!lineWritten) recordLines(suite.userDir, paymentId).should.have.length(0);
    [...t.ok, ...t.ko].should.have.length(0);
    // The status says it in under 20 characters; one warning with the path and the errno in words.
    await until(() => /^journal: /.test(lastStatus(t.status)?.text ?? ""), "journal status", 3000);
    lastStatus(t.status).fill.should.equal("red");
    lastStatus(t.status).text.length.should.be.below(20);
    const w = warnings().filter((m) => /journal/.test(m));
    w.should.have.length(1);
    w[0].should.containEql(path.join(suite.userDir, "dojo-pac-journal"));
    if (errno) w[0].should.containEql(errno);
    return { sim, t, frames, paymentId };
  }

  /** Heal, then: stored, acknowledged once, exactly one result, green. */
  async function healAndCheck({ sim, t, paymentId }) {
    faults.clear();
    const m = await exactlyOne(t, paymentId);
    m.order.should.equal(7);
    m.payload.should.containDeep({ paymentId, status: "CAPTURED", amount: 1250 });
    await until(() => sim.pendingRecords("till-f").length === 0, "record acknowledged", 5000);
    recordLines(suite.userDir, paymentId).length.should.be.above(0);
    await until(() => lastStatus(t.status).fill === "green", "green again", 3000);
    lastStatus(t.status).should.eql(APPROVED);
    sim.stats.createPaymentIds.should.eql([paymentId]);
  }

  for (const errno of ["ENOSPC", "EDQUOT", "EIO", "EROFS", "EACCES"]) {
    it(`a record that cannot be written (${errno}) is refused, not acknowledged, and stored by a redelivery once the disk heals: one result`, async () => {
      const ctx = await recordDuringFault(
        [
          { op: "write", errno },
          { op: "open", errno },
        ],
        { errno },
      );
      await healAndCheck(ctx);
    });
  }

  it("a failed fdatasync (EIO) fails the record and the journal is rewritten, not trusted: redelivery stored after healing, one result", async () => {
    const ctx = await recordDuringFault([{ op: "fsync", errno: "EIO" }], { errno: "EIO", lineWritten: true });
    const before = faults.hits().fsync || 0;
    before.should.be.above(0);
    await healAndCheck(ctx);
    // The journal rewrote a new active file (a snapshot) rather than trusting a later fsync.
    const dir = path.join(suite.userDir, "dojo-pac-journal");
    fs.readdirSync(dir)
      .some((n) => /\.\d+\.jsonl$/.test(n))
      .should.be.true("the old active file was moved aside");
  });

  it("while the journal cannot write, a new sale is refused with JOURNAL before anything is sent, and shows as refused in /pac/status", async () => {
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    // The first sale fails to journal its start: the journal is then failed.
    faults.set([{ op: "write", errno: "ENOSPC" }]);
    t.pay.receive({ payload: 1250, order: 1, paymentId: undefined });
    await until(() => t.errors.length === 1, "first refusal", 3000);
    t.pay.receive({ payload: { amount: 1300, paymentId: "refused-2" } });
    await until(() => t.errors.length === 2, "second refusal", 3000);
    for (const e of t.errors) e.error.code.should.equal("JOURNAL");
    t.errors[1].error.message.should.match(/journal cannot write .*disk is full \(ENOSPC\)/);
    sim.stats.createPaymentIds.should.eql([]);
    await until(() => lastStatus(t.status)?.text === "journal: disk full", "journal status", 3000);
    const report = await helper.request().get("/pac/status/cfg").expect(200);
    report.body.connection.journal.should.equal("disk full");
    const row = report.body.payments.find((p) => p.paymentId === "refused-2");
    row.status.should.equal("REFUSED");
    row.reason.should.match(/JOURNAL|journal/);
    report.body.payments.filter((p) => p.status === "OUTCOME_UNKNOWN").should.have.length(0);
    warnings()
      .filter((m) => /journal/.test(m))
      .should.have.length(1);
    // Healed: the next sale goes (the journal probed and recovered by itself).
    faults.clear();
    await until(() => !/^journal: /.test(lastStatus(t.status)?.text ?? ""), "journal status gone", 5000);
    (await helper.request().get("/pac/status/cfg").expect(200)).body.connection.should.not.have.property("journal");
    t.pay.receive({ payload: 1250, order: 3 });
    await waitStep(sim, "presentCard");
    await approve(sim);
    const m = await exactlyOne(t, sim.stats.createPaymentIds[0]);
    m.order.should.equal(3);
  });

  it("the emit/done marks cannot be written: the result waits (not lost, not doubled) and goes once the journal recovers", async () => {
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    t.pay.receive({ payload: 1250, order: 9 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    // The record's own line and its sync succeed; the next write (the "emit" mark) fails.
    faults.set([{ op: "write", errno: "ENOSPC", after: 1 }]);
    await approve(sim);
    await until(() => sim.pendingRecords("till-f").length === 0, "record acknowledged (it is on disk)", 5000);
    recordLines(suite.userDir, paymentId).should.have.length(1);
    await until(() => (faults.hits().write || 0) > 0, "emit mark refused", 3000);
    await delay(SETTLE_MS);
    [...t.ok, ...t.ko].should.have.length(0);
    faults.clear();
    const m = await exactlyOne(t, paymentId);
    m.order.should.equal(9);
    await until(
      () =>
        journalLines(suite.userDir).some((e) => e.t === "done" && e.id === paymentId) ||
        journalLines(suite.userDir).some((e) => e.t === "snap" && e.p.id === paymentId && e.p.deliveredAt),
      "done mark",
      3000,
    );
  });

  it("the journal cannot be opened (read-only at start): red status, sales refused with JOURNAL, and it starts by itself once writable", async () => {
    const sim = await startSim();
    faults.set([
      { op: "open", errno: "EROFS" },
      { op: "mkdir", errno: "EROFS" },
      { op: "write", errno: "EROFS" },
    ]);
    const t = await loadPaymentFlow(sim, { wait: false });
    await until(() => /^journal: /.test(lastStatus(t.status)?.text ?? ""), "journal status", 3000);
    lastStatus(t.status).text.should.equal("journal: read-only");
    t.pay.receive({ payload: 1250 });
    await until(() => t.errors.length === 1, "refusal", 3000);
    t.errors[0].error.code.should.equal("JOURNAL");
    sim.connections().should.have.length(0); // no socket without a journal
    faults.clear();
    await until(() => sim.connections().length === 1, "connected after healing", 8000);
    t.pay.receive({ payload: 1250, order: 4 });
    await waitStep(sim, "presentCard");
    await approve(sim);
    (await exactlyOne(t, sim.stats.createPaymentIds[0])).order.should.equal(4);
  });

  it("the journal directory is removed while running: the record is not confirmed into a deleted file; recreated, stored, one result", async () => {
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    t.pay.receive({ payload: 1250, order: 5 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    fs.rmSync(path.join(suite.userDir, "dojo-pac-journal"), { recursive: true, force: true });
    await approve(sim);
    const m = await exactlyOne(t, paymentId);
    m.order.should.equal(5);
    await until(() => sim.pendingRecords("till-f").length === 0, "acknowledged", 5000);
    // On disk, in a file that exists (the directory was made again).
    recordLines(suite.userDir, paymentId).length.should.be.above(0);
  });

  describe("on a real full file system (a small tmpfs; needs root)", function () {
    it("ENOSPC for real: sales run until the disk (and the journal's preallocated space) is full; then every sale Dojo created gets one result once space is freed", async function () {
      const dir = path.join(suite.userDir, "dojo-pac-journal");
      fs.mkdirSync(dir, { recursive: true });
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir], { stdio: "pipe" });
        // Unmounted after Node-RED is unloaded (the journal holds files there), before the temp dir goes.
        onCleanup(() => execFileSync("umount", [dir], { stdio: "ignore" }));
      } catch (e) {
        console.log(`      (skipped: could not mount a tmpfs: ${String(e.stderr || e.message).trim()})`);
        return this.skip();
      }
      const sim = await startSim({ manual: false });
      const t = await loadPaymentFlow(sim);
      // Fill what the journal has not preallocated: it then lives on its zeros until they run out.
      const filler = path.join(dir, "filler");
      const fd = fs.openSync(filler, "w");
      const block = Buffer.alloc(4096, 1);
      for (let i = 0; i < 256; i++) {
        try {
          fs.writeSync(fd, block);
        } catch {
          break;
        }
      }
      fs.closeSync(fd);
      // Sales one after another until the journal reports the full disk (bounded).
      let n = 0;
      for (; n < 400 && !/^journal: /.test(lastStatus(t.status)?.text ?? ""); n++) {
        const before = t.ok.length + t.ko.length + t.errors.length;
        t.pay.receive({ payload: 1250, order: n });
        await until(() => t.ok.length + t.ko.length + t.errors.length > before || /^journal: /.test(lastStatus(t.status)?.text ?? ""), `sale ${n}`, 5000);
      }
      lastStatus(t.status).text.should.equal("journal: disk full", `after ${n} sales`);
      t.errors.every((e) => e.error.code === "JOURNAL").should.be.true(JSON.stringify(t.errors.map((e) => e.error)));
      fs.unlinkSync(filler);
      // Every sale Dojo created: exactly one result; nothing left unacknowledged at Dojo.
      const created = sim.stats.createPaymentIds;
      await until(() => sim.pendingRecords("till-f").length === 0, "every record acknowledged", 10000);
      await until(() => created.every((id) => [...t.ok, ...t.ko].some((m) => m.paymentId === id)), "every result", 10000);
      await delay(SETTLE_MS);
      for (const id of created) [...t.ok, ...t.ko].filter((m) => m.paymentId === id).should.have.length(1, id);
      await until(() => !/^journal: /.test(lastStatus(t.status)?.text ?? ""), "journal writes again", 5000);
    });
  });
});

describe("faults: storage, the engine's journal at every write point", function () {
  this.timeout(20000);
  let dir;
  beforeEach(() => (dir = tmpDir("pac-faults-j-")));
  afterEach(async () => {
    faults.clear();
    await cleanup();
  });

  const open = (extra) => Journal.open({ dir, identity: { eposId: "till-j" }, recoveryMinMs: 50, recoveryMaxMs: 200, ...extra });
  // The injector's rules match paths containing `path`: here, this test's directory.
  const inDir = (rules) => rules.map((r) => ({ path: path.basename(dir), ...r }));
  /** @typedef {import("../../dist/engine/journal").JournalEntry} JournalEntry */
  /** @type {(id: string) => JournalEntry} */
  const start = (id) => ({ t: "start", ts: Date.now(), id, kind: "payment", terminalId: "T1", amount: 100, currency: "GBP" });
  /** @type {(id: string) => JournalEntry} */
  const record = (id) => ({ t: "record", ts: Date.now(), id, record: { paymentId: id, status: "CAPTURED" } });

  for (const [what, rules] of [
    ["a written line (ENOSPC)", [{ op: "write", errno: "ENOSPC" }]],
    ["a partial write (EIO)", [{ op: "write", errno: "EIO", partial: true }]],
    ["its fdatasync (EIO)", [{ op: "fsync", errno: "EIO" }]],
    ["its fdatasync (EDQUOT)", [{ op: "fsync", errno: "EDQUOT" }]],
  ]) {
    it(`${what}: the write rejects and leaves no trace in memory; recovery rewrites and verifies; reopening agrees`, async () => {
      const j = await open();
      await j.write(start("p1"), false);
      faults.set(inDir(rules));
      await j.write(record("p1"), true).should.be.rejected();
      j.isRecorded("p1").should.be.false();
      j.get("p1").should.not.have.property("recordedAt");
      j.health.state.should.equal("failed");
      // Everything else is refused while failed, without touching the file.
      await j.write(start("p2"), false).should.be.rejectedWith({ name: "JournalUnavailableError" });
      should.not.exist(j.get("p2"));
      faults.clear();
      await until(() => j.health.state === "ok", "recovered", 3000);
      await j.write(record("p1"), true);
      j.isRecorded("p1").should.be.true();
      await j.close();
      const again = await open();
      again.isRecorded("p1").should.be.true();
      should.not.exist(again.get("p2"));
      await again.close();
    });
  }

  it("rotation and its snapshot fail (ENOSPC on the snapshot, EIO on the rename): failed, then recovered with every open payment kept", async () => {
    const j = await open({ segmentBytes: 2000 });
    for (let i = 0; i < 5; i++) await j.write(start(`open-${i}`), false);
    faults.set(
      inDir([
        { op: "write", errno: "ENOSPC", path: ".tmp" },
        { op: "rename", errno: "EIO" },
      ]),
    );
    let failed = false;
    for (let i = 0; i < 40 && !failed; i++) {
      await j.write(start(`fill-${i}`), false).catch(() => undefined);
      await delay(5);
      failed = j.health.state === "failed";
    }
    failed.should.be.true("the rotation's failure must fail the journal");
    faults.clear();
    await until(() => j.health.state === "ok", "recovered", 3000);
    await j.close();
    const again = await open({ segmentBytes: 2000 });
    const open5 = again.openPayments().map((p) => p.id);
    for (let i = 0; i < 5; i++) open5.should.containEql(`open-${i}`);
    await again.close();
  });

  it("a fact owed while the journal failed (a capture Dojo made) is written when the client closes, not lost with it", async () => {
    const { PaymentBook } = require("../../dist/engine/book");
    const j = await open({ recoveryMinMs: 60_000, recoveryMaxMs: 60_000 }); // no probe before the close
    const book = new PaymentBook(j);
    await j.write(start("cap-1"), false);
    faults.set(inDir([{ op: "write", errno: "EIO" }]));
    (await book.note({ t: "state", ts: Date.now(), id: "cap-1", status: "CAPTURED", amount: 100 }, true)).should.be.false(); // owed
    j.health.state.should.equal("failed");
    faults.clear(); // the disk heals; nothing has retried yet
    await book.flushOwed();
    await j.close();
    const again = await open();
    again.get("cap-1").status.should.equal("CAPTURED");
    await again.close();
  });

  it("open fails at its first line (ENOSPC on a new file): nothing of the failed open stays behind to move a later journal's file aside", async () => {
    // The file's preallocation goes through; the ident line does not.
    faults.set(inDir([{ op: "write", errno: "ENOSPC", after: 1 }]));
    await open().should.be.rejectedWith({ code: "ENOSPC" });
    faults.clear();
    const j = await open();
    await j.write(start("after"), false);
    await delay(500); // the failed open's recovery would have fired by now (recoveryMinMs 50)
    await j.write(record("after"), true);
    await j.close();
    const again = await open();
    again.isRecorded("after").should.be.true("the record written after the failed open must be in the file a reopen reads");
    await again.close();
  });

  it("open fails (EACCES) and the repair of a torn tail fails (EROFS on truncate): Journal.open rejects with the errno, nothing is held", async () => {
    faults.set(inDir([{ op: "open", errno: "EACCES" }]));
    await open().should.be.rejectedWith({ code: "EACCES" });
    faults.clear();
    const j = await open();
    await j.write(start("t1"), false);
    await j.close();
    fs.appendFileSync(j.path, '{"t":"start","ts":1,"id":"torn');
    faults.set(inDir([{ op: "truncate", errno: "EROFS" }]));
    await open().should.be.rejectedWith({ code: "EROFS" });
    faults.clear();
    const again = await open(); // the lock was released by the failed open
    should.exist(again.get("t1"));
    again.repairedTail.should.be.true();
    await again.close();
  });

  it("preallocation fails (ENOSPC writing the zeros ahead): the line is refused, nothing applied", async () => {
    const j = await open();
    // The first write of a fresh file extends it by 64 KiB of zeros first.
    faults.set(inDir([{ op: "write", errno: "ENOSPC" }]));
    await j.write(start("z1"), false).should.be.rejected();
    should.not.exist(j.get("z1"));
    faults.clear();
    await until(() => j.health.state === "ok", "recovered", 3000);
    await j.write(start("z1"), false);
    should.exist(j.get("z1"));
    await j.close();
  });

  it("EBADF (the file closed under it): failed, then recovered into a new file", async () => {
    const j = await open();
    await j.write(start("b1"), false);
    faults.set(
      inDir([
        { op: "write", errno: "EBADF" },
        { op: "fsync", errno: "EBADF" },
      ]),
    );
    await j.write(record("b1"), true).should.be.rejected();
    j.health.should.containDeep({ state: "failed", code: "EBADF" });
    faults.clear();
    await until(() => j.health.state === "ok", "recovered", 3000);
    await j.write(record("b1"), true);
    await j.close();
    const again = await open();
    const recorded = again.isRecorded("b1");
    await again.close();
    recorded.should.be.true();
  });
});

describe("faults: storage, what Dojo did while the journal could not note it (engine)", function () {
  this.timeout(20000);
  const support = require("../support");
  afterEach(async () => {
    faults.clear();
    await support.cleanup();
  });

  const authorisedOn = async (client, amount) => {
    const outcome = support.waitFor(client, "outcome");
    const ack = await client.createPayment({ terminalId: "SIM00001", amount, currency: "GBP", captureMode: "MANUAL" });
    (await outcome).status.should.equal("AUTHORIZED");
    return ack.paymentId;
  };

  it("while the journal cannot write, a capture, an update and a reversal are refused with JOURNAL before anything is sent: Dojo still holds the pre-auth", async () => {
    const sim = await support.startSim();
    const dir = support.tmpDir("pac-faults-intent-");
    const client = await support.openClient(sim, { journalDir: dir, journal: { recoveryMinMs: 60_000, recoveryMaxMs: 60_000 } });
    await support.connected(client);
    const a = await authorisedOn(client, 5000);
    const sent = [];
    client.on("wire", (w) => w.direction === "out" && sent.push(JSON.parse(w.text).method));
    faults.set([{ op: "write", errno: "ENOSPC", path: path.basename(dir) }]);
    for (const attempt of [() => client.capturePayment(a, 4500), () => client.updatePayment(a, 5500), () => client.cancelPayment(a)]) {
      const err = await attempt().then(
        () => null,
        (e) => e,
      );
      should(err).not.be.null();
      err.code.should.equal("JOURNAL");
      err.message.should.match(/was not sent/);
    }
    sent.filter((m) => m !== "Ping" && m !== undefined).should.eql([]);
    faults.clear();
    (await client.getPayment(a)).status.should.equal("AUTHORIZED");
    client.journal.get(a).status.should.equal("AUTHORIZED");
  });

  it("the capture's intent is on disk before it is sent: Dojo captures, the disk fails before the answer is noted and stays failed through the close; the next client asks Dojo and journals CAPTURED", async () => {
    const sim = await support.startSim();
    const dir = support.tmpDir("pac-faults-intent-");
    const opts = { journalDir: dir, journal: { recoveryMinMs: 60_000, recoveryMaxMs: 60_000 } };
    const client = await support.openClient(sim, opts);
    await support.connected(client);
    const a = await authorisedOn(client, 5000);
    // The disk fails the moment the capture leaves: the intent is written, Dojo's answer cannot be.
    client.on("wire", (w) => {
      if (w.direction === "out" && w.text.includes("CapturePayment")) faults.set([{ op: "*", errno: "EIO", path: path.basename(dir) }]);
    });
    (await client.capturePayment(a, 4500)).status.should.equal("CAPTURED");
    client.journal.health.state.should.equal("failed");
    await client.close(); // the owed fact's last chance fails too: the disk is still failing
    faults.clear();
    const again = await support.openClient(sim, opts);
    await support.connected(again);
    await until(() => again.journal.get(a)?.status === "CAPTURED", "the capture followed up and journaled", 5000);
    again.journal.get(a).amount.should.equal(4500);
    should(again.journal.get(a).changing).be.undefined();
  });

  it("Dojo refuses a capture: the journal notes that nothing changed, and no follow-up is left open", async () => {
    const sim = await support.startSim();
    const dir = support.tmpDir("pac-faults-intent-");
    const client = await support.openClient(sim, { journalDir: dir });
    await support.connected(client);
    const a = await authorisedOn(client, 5000);
    await client.capturePayment(a, 4000);
    await client.capturePayment(a, 4000).should.be.rejectedWith({ code: "REMOTE" }); // captured already: Dojo's INVALID_STATE
    client.journal.get(a).status.should.equal("CAPTURED");
    should(client.journal.get(a).changing).be.undefined(); // nothing left to follow up
  });
});
