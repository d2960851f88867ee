"use strict";
// The outbox against a real journal on disk: each outcome goes to exactly one receiver, exactly once.
const fs = require("fs");
const os = require("os");
const path = require("path");
const should = require("should");
const { Journal } = require("../dist/engine/journal/journal");
const { PaymentBook } = require("../dist/engine/book");
const { Outbox } = require("../dist/engine/outbox");
const { until } = require("./wait");

const identity = { eposId: "till-1", accountName: "acct", url: "ws://127.0.0.1/x" };

describe("outbox: one owner per payment", function () {
  let dir, journal, outbox, warnings, delivered;

  async function open() {
    journal = await Journal.open({ dir, identity });
    warnings = [];
    delivered = [];
    outbox = new Outbox(journal, new PaymentBook(journal), { warn: (m) => warnings.push(m), delivered: (id) => delivered.push(id) });
  }

  /** A payment started by `owner` and recorded: its outcome as the engine offers it. */
  async function recorded(id, owner) {
    await journal.write({ t: "start", ts: 1, id, kind: "payment", terminalId: "T1", amount: 100, currency: "GBP", owner }, true);
    await journal.write({ t: "record", ts: 2, id, record: { paymentId: id, status: "CAPTURED" } }, true);
    return {
      paymentId: id,
      kind: "payment",
      terminalId: "T1",
      status: "CAPTURED",
      successful: true,
      owner,
      foreign: false,
      notCreated: false,
      redelivered: false,
    };
  }

  /**
   * @param {string[]} log
   * @param {"taken" | "gone" | ((o: any) => "taken" | "gone")} [answer]
   * @returns {import("../dist/engine").OwnerReceiver}
   */
  function receiver(log, answer = "taken") {
    return { outcome: (o) => (log.push(o.paymentId), typeof answer === "function" ? answer(o) : answer) };
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-outbox-"));
    await open();
  });
  afterEach(async () => {
    outbox.close();
    await journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("an outcome goes to the receiver that claimed its owner, once; offered again it was delivered before", async () => {
    const got = [];
    outbox.claim("node-1", receiver(got));
    outbox.offer(await recorded("p1", "node-1")).should.equal("handing-over");
    await outbox.settled();
    got.should.eql(["p1"]);
    delivered.should.eql(["p1"]);
    journal.get("p1").deliveredAt.should.be.a.Number();
    outbox.offer(await Promise.resolve({ ...(await outcomeOf("p1")) })).should.equal("delivered-before");
    outbox.claim("node-1", receiver(got));
    await outbox.settled();
    got.should.eql(["p1"]);
  });

  async function outcomeOf(id) {
    return { paymentId: id, owner: journal.get(id)?.owner, status: "CAPTURED", successful: true, foreign: false, notCreated: false, redelivered: false };
  }

  it("waits with no claim; a later claim takes it; an offer twice is one offer", async () => {
    const o = await recorded("p2", "node-2");
    outbox.offer(o).should.equal("waiting");
    outbox.offer(o).should.equal("already-offered");
    outbox
      .waitingOutcomes()
      .map((w) => w.paymentId)
      .should.eql(["p2"]);
    const got = [];
    outbox.claim("node-2", receiver(got));
    await outbox.settled();
    got.should.eql(["p2"]);
    outbox.waitingOutcomes().should.eql([]);
  });

  it("held: nothing is handed over, not even to its owner; open: the owner, else the orphan receivers that accept it", async () => {
    outbox.hold();
    const mine = [];
    const orphans = [];
    outbox.claim("node-3", receiver(mine));
    outbox.claimOrphans("events", { accepts: (o) => o.paymentId !== "refused", orphan: (o) => (orphans.push(o.paymentId), "taken") });
    outbox.offer(await recorded("p3", "node-3")).should.equal("waiting");
    outbox.offer(await recorded("p4", "gone-node")).should.equal("waiting");
    outbox.offer(await recorded("refused", "gone-node")).should.equal("waiting");
    outbox.deliverable.should.equal(3); // while held, a receiver may still come
    await outbox.settled();
    mine.should.eql([]);
    orphans.should.eql([]);
    outbox.open();
    await outbox.settled();
    mine.should.eql(["p3"]);
    orphans.should.eql(["p4"]);
    outbox
      .waitingOutcomes()
      .map((o) => o.paymentId)
      .should.eql(["refused"]);
    outbox.deliverable.should.equal(0); // open, and no one takes it: it stays in the journal for the next start
  });

  it("a receiver that cannot take it ('gone') keeps it, journaled unemit, until the claims change", async () => {
    const got = [];
    /** @type {"taken" | "gone"} */
    let answer = "gone";
    outbox.claim(
      "node-5",
      receiver(got, () => answer),
    );
    outbox.offer(await recorded("p5", "node-5")).should.equal("handing-over");
    await outbox.settled();
    await new Promise((r) => setImmediate(r));
    await outbox.settled();
    got.should.eql(["p5"]); // asked once, not again and again
    outbox.claim("another-node", receiver([])); // a change that does not concern it: not asked again
    await outbox.settled();
    got.should.eql(["p5"]);
    should(journal.get("p5").deliveredAt).be.undefined();
    journal.get("p5").emitting.should.be.false();
    answer = "taken";
    outbox.claim(
      "node-5",
      receiver(got, () => answer),
    ); // a new instance of the node
    await until(() => got.length === 2, "handed to the new claim");
    await outbox.settled();
    journal.get("p5").deliveredAt.should.be.a.Number();
  });

  it("a receiver that throws: a warning, the outcome kept; a crash after 'emit' offers it again marked redelivered", async () => {
    outbox.claim("node-6", {
      outcome: () => {
        throw new Error("boom");
      },
    });
    outbox.offer(await recorded("p6", "node-6"));
    await outbox.settled();
    warnings.join().should.match(/could not hand over the outcome of payment p6: boom/);
    outbox
      .waitingOutcomes()
      .map((o) => o.paymentId)
      .should.eql(["p6"]);
    // "emit" journaled, then the process dies before the hand-over ends:
    await journal.write({ t: "emit", ts: 3, id: "p6" }, true);
    outbox.close();
    await journal.close();
    await open();
    const [again] = outbox.waitingOutcomes();
    again.paymentId.should.equal("p6");
    again.redelivered.should.be.true();
  });

  it("steps and signature questions go to their owner's claim only", function () {
    const seen = [];
    outbox.claim("node-7", { notification: (e) => seen.push(["step", e.paymentId]), signature: (q) => seen.push(["ask", q.paymentId]) });
    outbox.notify({ paymentId: "a", terminalId: "T1", notification: "PRESENT_CARD", owner: "node-7", raw: {} }).should.be.true();
    outbox.notify({ paymentId: "b", terminalId: "T1", notification: "PRESENT_CARD", owner: "node-8", raw: {} }).should.be.false();
    outbox.notify({ paymentId: "c", terminalId: "T1", notification: "PRESENT_CARD", raw: {} }).should.be.false();
    outbox.ask({ paymentId: "a", terminalId: "T1", receiptLines: [], timeout: 30, owner: "node-7" }).should.be.true();
    outbox.release("node-7");
    outbox.notify({ paymentId: "a", terminalId: "T1", notification: "PIN_ENTRY", owner: "node-7", raw: {} }).should.be.false();
    seen.should.eql([
      ["step", "a"],
      ["ask", "a"],
    ]);
  });
});
