"use strict";
// What a till screen (examples/till-dashboard.json) needs from the nodes, so its flow has no glue
// code: progress says whether Cancel is possible now, a lost answer says "checking" at once, and a
// refund of a sale can never pay back more than the sale took. Real Node-RED, zero-delay simulator.
require("should");
const fs = require("fs");
const {
  helper,
  unloadThen,
  nodeModules,
  PacSimulator,
  tmpDir,
  delay,
  until,
  collect,
  waitConnected,
  flowWith,
  simConfig,
  paymentNode,
  outputHelpers,
  paymentOutputs,
} = require("./nodes-helpers");

describe("pac nodes for a till screen", function () {
  this.timeout(15000);
  let userDir;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    userDir = tmpDir();
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await unloadThen(() => fs.rmSync(userDir, { recursive: true, force: true }));
  });

  async function loadTill(extra, more) {
    await helper.load(nodeModules, flowWith(simConfig(), [paymentNode(extra), ...outputHelpers, ...(more || [])]));
    const cfg = await waitConnected();
    return { cfg, ...paymentOutputs() };
  }

  it("progress says cancellable: true only while the step is PRESENT_CARD (Dojo's cancel window)", async () => {
    const t = await loadTill({ signature: "ask" }, [
      { id: "cancel", type: "pac-cancel", server: "cfg", wires: [["cancelled"]] },
      { id: "cancelled", type: "helper" },
    ]);
    t.pay.receive({ payload: { amount: 1250, paymentId: "sale-1" } });
    await until(() => t.ok.length === 1, "approved");
    const steps = t.prog.filter((m) => m.paymentId === "sale-1");
    steps.length.should.be.above(2);
    for (const m of steps) {
      m.payload.cancellable.should.equal(m.payload.notification === "PRESENT_CARD", `${m.payload.notification} cancellable`);
    }
    steps.find((m) => m.payload.notification === "PRESENT_CARD").payload.cancellable.should.be.true();
    steps.find((m) => m.payload.notification === "TRANSACTION_FINISHED").payload.cancellable.should.be.false();

    // A signature question: the card is in, no cancel any more.
    t.pay.receive({ payload: { amount: 1202, paymentId: "sig-1" } });
    await until(() => t.prog.some((m) => m.topic === "signature"), "signature question");
    t.prog.find((m) => m.topic === "signature").payload.cancellable.should.be.false();
    t.pay.receive({ topic: "signature", payload: { paymentId: "sig-1", accepted: true } });
    await until(() => t.ok.length === 2, "approved after signature");

    // Waiting for the card: cancellable, and the cancel works.
    t.pay.receive({ payload: { amount: 1203, paymentId: "wait-1" } });
    await until(() => t.prog.some((m) => m.paymentId === "wait-1" && m.payload.cancellable === true), "cancellable step");
    helper.getNode("cancel").receive({ payload: { paymentId: "wait-1" } });
    await until(() => t.ko.length === 1, "cancelled");
    t.ko[0].payload.status.should.equal("CANCELLED");
    t.prog
      .filter((m) => m.paymentId === "wait-1" && m.payload.notification !== "PRESENT_CARD")
      .every((m) => m.payload.cancellable === false)
      .should.be.true();
  });

  it("a lost CreatePayment answer sends a 'checking' progress msg at once, then the one outcome", async () => {
    const sim = await PacSimulator.start({ delays: "zero", faults: { dropBeforeResponse: "CreatePayment" } });
    try {
      await helper.load(
        nodeModules,
        flowWith({ id: "cfg", type: "pac-config", environment: "custom", url: sim.url, eposId: "till-1", softwareHouseId: "sh", requestTimeout: 5 }, [
          paymentNode(),
          ...outputHelpers,
        ]),
        { cfg: sim.credentials },
      );
      await waitConnected();
      const t = paymentOutputs();
      t.pay.receive({ payload: { amount: 1250, paymentId: "lost-1" } });
      await until(() => t.prog.some((m) => m.topic === "checking"), "checking msg");
      const c = t.prog.find((m) => m.topic === "checking");
      c.paymentId.should.equal("lost-1");
      c.payload.should.eql({ paymentId: "lost-1", terminalId: "SIM00001", text: "awaiting outcome", cancellable: false });
      await until(() => t.ok.length === 1, "outcome after reconnect", 8000);
      t.ok[0].payload.status.should.equal("CAPTURED");
      t.errors.should.have.length(0);
    } finally {
      await unloadThen(() => sim.stop());
    }
  });

  it("pac-refund with refundOf never pays back more than the sale took, over several refunds", async () => {
    const t = await loadTill({}, [
      { id: "refund", type: "pac-refund", server: "cfg", terminalId: "SIM00002", currency: "GBP", signature: "accept", wires: [["rok"], ["rko"], []] },
      { id: "rok", type: "helper" },
      { id: "rko", type: "helper" },
    ]);
    const rok = collect("rok");
    const refund = helper.getNode("refund");
    t.pay.receive({ payload: { amount: 1250, paymentId: "sale-r" } });
    t.pay.receive({ payload: { amount: 1201, paymentId: "sale-declined", terminalId: "SIM00002" } });
    await until(() => t.ok.length === 1 && t.ko.length === 1, "a sale and a decline");

    refund.receive({ payload: { amount: 1251, refundOf: "sale-r" } });
    await until(() => t.errors.length === 1, "too much");
    t.errors[0].error.code.should.equal("INVALID_INPUT");
    t.errors[0].error.message.should.match(/refundOf sale-r: at most £12\.50 can be refunded \(paid £12\.50\), not £12\.51/);

    refund.receive({ payload: { amount: 1000, refundOf: "sale-r", paymentId: "ref-1" } });
    await until(() => rok.length === 1, "first refund");
    rok[0].payload.status.should.equal("REFUNDED");
    rok[0].refundOf.should.equal("sale-r");

    refund.receive({ payload: { amount: 251, refundOf: "sale-r" } });
    await until(() => t.errors.length === 2, "second too much");
    t.errors[1].error.message.should.match(/at most £2\.50 can be refunded/);

    refund.receive({ payload: { amount: 250, refundOf: "sale-r", paymentId: "ref-2" } });
    await until(() => rok.length === 2, "the rest refunded");
    refund.receive({ payload: { amount: 1, refundOf: "sale-r" } });
    await until(() => t.errors.length === 3, "nothing left");
    t.errors[2].error.message.should.match(/at most £0\.00 can be refunded/);

    refund.receive({ payload: { amount: 100, refundOf: "sale-declined" } });
    refund.receive({ payload: { amount: 100, refundOf: "nobody" } });
    refund.receive({ payload: { amount: 100, refundOf: 42 } });
    await until(() => t.errors.length === 6, "three refusals");
    const msgs = t.errors.slice(3).map((e) => e.error.message);
    msgs.should.containDeep([
      "refundOf sale-declined: only a captured sale can be refunded; its status is DECLINED",
      "refundOf nobody: this till's journal has no such sale",
    ]);
    msgs.some((m) => /msg\.payload\.refundOf must be the paymentId of the sale to refund, got/.test(m)).should.be.true();
    await delay(30);
    rok.should.have.length(2, "nothing refused was sent");
  });

  it("counts a pre-auth at its updated and captured amount in the journal report and the refund limit", async () => {
    const t = await loadTill({ captureMode: "MANUAL" }, [
      { id: "capture", type: "pac-capture", server: "cfg", action: "capture", wires: [["changed"]] },
      { id: "changed", type: "helper" },
      { id: "status", type: "pac-status", server: "cfg", query: "journal", wires: [["report"]] },
      { id: "report", type: "helper" },
      { id: "refund", type: "pac-refund", server: "cfg", terminalId: "SIM00002", currency: "GBP", signature: "accept", wires: [["rok"], [], []] },
      { id: "rok", type: "helper" },
    ]);
    const changed = collect("changed");
    const report = collect("report");
    const rok = collect("rok");
    t.pay.receive({ payload: { amount: 5000, paymentId: "hold-1" } });
    await until(() => t.ok.length === 1, "held");
    t.ok[0].payload.status.should.equal("AUTHORIZED");
    helper.getNode("capture").receive({ topic: "update", payload: { paymentId: "hold-1", amount: 6000 } });
    await until(() => changed.length === 1, "updated");
    helper.getNode("capture").receive({ payload: { paymentId: "hold-1" } });
    await until(() => changed.length === 2, "captured");
    changed[1].payload.should.containDeep({ status: "CAPTURED", amount: 6000 });
    helper.getNode("status").receive({ payload: {} });
    await until(() => report.length === 1, "report");
    report[0].payload.totals.should.eql({ CAPTURED: { GBP: { count: 1, amount: 6000 } } });
    helper.getNode("refund").receive({ payload: { amount: 6001, refundOf: "hold-1" } });
    await until(() => t.errors.length === 1, "too much");
    t.errors[0].error.message.should.match(/at most £60\.00 can be refunded \(paid £60\.00\)/);
    helper.getNode("refund").receive({ payload: { amount: 6000, refundOf: "hold-1" } });
    await until(() => rok.length === 1, "refunded in full");
  });

  it("two refunds of one sale sent at once: only what the sale took passes", async () => {
    const t = await loadTill({}, [
      { id: "refund", type: "pac-refund", server: "cfg", terminalId: "", currency: "GBP", signature: "accept", wires: [["rok"], [], []] },
      { id: "rok", type: "helper" },
    ]);
    const rok = collect("rok");
    t.pay.receive({ payload: { amount: 1250, paymentId: "sale-c" } });
    await until(() => t.ok.length === 1, "sale");
    // Same tick, two terminals: both read the journal before either refund is in it.
    helper.getNode("refund").receive({ payload: { amount: 1000, refundOf: "sale-c", terminalId: "SIM00001", paymentId: "ref-c1" } });
    helper.getNode("refund").receive({ payload: { amount: 1000, refundOf: "sale-c", terminalId: "SIM00002", paymentId: "ref-c2" } });
    await until(() => rok.length + t.errors.length === 2, "both answered");
    rok.should.have.length(1);
    t.errors.should.have.length(1);
    t.errors[0].error.message.should.match(/at most £2\.50 can be refunded/);
  });
});
