"use strict";
// Exactly one result per payment across redeploys, deleted nodes and restarts of Node-RED.
require("should");
const fs = require("fs");
const path = require("path");
const {
  helper,
  unloadThen,
  nodeModules,
  PacSimulator,
  Journal,
  tmpDir,
  delay,
  until,
  collect,
  waitConnected,
  flowWith,
  simConfig,
  paymentNode,
  outputHelpers,
} = require("./nodes-helpers");

/** Long enough for a duplicate to show up if there were one. */
const SETTLE_MS = 150;

function terminal(sim, id = "SIM00001") {
  return sim.terminals().find((t) => t.terminalId === id);
}

describe("pac nodes: exactly once", function () {
  this.timeout(20000);
  let userDir;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    userDir = tmpDir("pac-once-");
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await unloadThen(() => fs.rmSync(userDir, { recursive: true, force: true }));
  });

  describe("redeploy (built-in simulator, manual terminal)", function () {
    async function start(extraNodes) {
      const flow = flowWith(simConfig(), [
        paymentNode(),
        ...outputHelpers,
        { id: "complete", type: "complete", scope: ["pay"], wires: [["completed"]] },
        { id: "completed", type: "helper" },
        ...(extraNodes || []),
      ]);
      await helper.load(nodeModules, flow);
      const cfg = await waitConnected();
      const sim = cfg.pac.simulator;
      sim.setManual("SIM00001", true);
      const t = { flow, cfg, sim, ok: collect("ok"), ko: collect("ko"), completed: collect("completed"), errors: collect("errors") };
      return t;
    }

    async function startPayment(t, msg) {
      helper.getNode("pay").receive(msg);
      await until(() => terminal(t.sim).step === "presentCard", "PRESENT_CARD");
      return terminal(t.sim).paymentId;
    }

    async function finish(sim) {
      await sim.act("SIM00001", "present");
      await sim.act("SIM00001", "approve");
    }

    it("a pac-payment redeployed while its payment runs sends exactly one result, with the original msg", async () => {
      const t = await start();
      const res = { end() {} };
      const oldPay = helper.getNode("pay");
      const paymentId = await startPayment(t, { payload: 1250, order: 1, res });

      await helper.setFlows(
        t.flow.map((n) => (n.id === "pay" ? { ...n, name: "renamed" } : n)),
        "nodes",
      );
      const newPay = helper.getNode("pay");
      newPay.should.not.equal(oldPay);
      helper.getNode("cfg").should.equal(t.cfg); // the connection was kept
      t.completed.should.have.length(1); // the old instance completed its msg when it closed

      await finish(t.sim);
      await until(() => t.ok.length === 1, "result");
      await delay(SETTLE_MS);
      t.ok.should.have.length(1);
      t.ko.should.have.length(0);
      t.errors.should.have.length(0);
      const m = t.ok[0];
      m.paymentId.should.equal(paymentId);
      m.res.should.equal(res); // the very msg object, live parts included
      m.order.should.equal(1);
      m.payload.status.should.equal("CAPTURED");
      t.completed.should.have.length(1);
      t.cfg.pac.client.journal.get(paymentId).deliveredAt.should.be.a.Number();
      helper.getNode("cfg").pac.held.has(paymentId).should.be.false();
      t.sim.pendingRecords("till-1").should.have.length(0);
    });

    it("outcomes arriving while the node is being redeployed are sent once each", async () => {
      const t = await start();
      const ids = [];
      const offsets = [0, 1, 2, 4, 8, 16];
      for (let i = 0; i < offsets.length; i++) {
        const paymentId = await startPayment(t, { payload: 1250, round: i });
        ids.push(paymentId);
        const flow = t.flow.map((n) => (n.id === "pay" ? { ...n, name: `round ${i}` } : n));
        const deploy = helper.setFlows(flow, "nodes");
        await delay(offsets[i]);
        await finish(t.sim);
        await deploy;
        await until(() => t.ok.length === i + 1, `result of round ${i}`);
      }
      await delay(SETTLE_MS);
      t.ok.map((m) => m.paymentId).should.eql(ids);
      t.ok.map((m) => m.round).should.eql(offsets.map((_, i) => i));
      t.ko.should.have.length(0);
      t.errors.should.have.length(0);
      t.completed.should.have.length(offsets.length); // one per msg: at close, or with its result
    });

    it("an outcome whose node is gone waits; the node deployed again takes it", async () => {
      const t = await start();
      const paymentId = await startPayment(t, { payload: 1250, order: 2 });
      const without = t.flow.filter((n) => n.id !== "pay" && n.id !== "complete");
      await helper.setFlows(without, "nodes");
      await finish(t.sim);
      await until(() => t.cfg.pac.pendingOutcomes.length === 1, "pending outcome");
      await delay(SETTLE_MS);
      t.ok.should.have.length(0);
      t.ko.should.have.length(0);
      (t.cfg.pac.client.journal.get(paymentId).deliveredAt === undefined).should.be.true();

      await helper.setFlows(t.flow, "nodes");
      await until(() => t.ok.length === 1, "result after the node came back");
      await delay(SETTLE_MS);
      t.ok.should.have.length(1);
      t.ok[0].order.should.equal(2);
      t.ok[0].paymentId.should.equal(paymentId);
      t.cfg.pac.pendingOutcomes.should.have.length(0);
    });

    it("an outcome whose node was deleted goes to pac-events as an orphan, once", async () => {
      const t = await start([
        { id: "ev", type: "pac-events", server: "cfg", events: ["record"], terminalId: "", wires: [["evs"]] },
        { id: "evs", type: "helper" },
      ]);
      const evs = collect("evs");
      const paymentId = await startPayment(t, { payload: 1250, order: 3 });
      await helper.setFlows(
        t.flow.filter((n) => n.id !== "pay" && n.id !== "complete"),
        "nodes",
      );
      await finish(t.sim);
      await until(() => evs.some((m) => m.payload.orphan), "orphan");
      await delay(SETTLE_MS);
      const orphans = evs.filter((m) => m.payload.orphan);
      orphans.should.have.length(1);
      orphans[0].topic.should.equal("record");
      orphans[0].paymentId.should.equal(paymentId);
      orphans[0].payload.should.containDeep({ paymentId, kind: "payment", foreign: false, orphan: true, owner: "pay", status: "CAPTURED" });
      // the live record event too (not an orphan)
      evs.filter((m) => !m.payload.orphan).should.have.length(1);
      t.ok.should.have.length(0);
      t.ko.should.have.length(0);
      helper.getNode("cfg").pac.held.has(paymentId).should.be.false();
      t.cfg.pac.client.journal.get(paymentId).deliveredAt.should.be.a.Number();
    });
  });

  describe("restart of Node-RED (standalone simulator, custom URL, same userDir)", function () {
    let sim;
    beforeEach(async () => {
      sim = await PacSimulator.start({ delays: "zero", manual: true });
    });
    afterEach(async () => {
      await unloadThen(() => sim.stop());
    });

    function flowFor(nodes) {
      return flowWith(
        {
          id: "cfg",
          type: "pac-config",
          name: "",
          environment: "custom",
          url: sim.url,
          eposId: "till-r",
          softwareHouseId: "sh",
          resellerId: "",
          requestTimeout: 5,
        },
        nodes || [paymentNode(), ...outputHelpers],
      );
    }
    const creds = () => ({ cfg: { ...sim.credentials } });

    /** Stop Node-RED and forget what a new process would not know. */
    async function stopProcess() {
      await helper.unload();
    }

    async function startPaymentThenStop() {
      await helper.load(nodeModules, flowFor(), creds());
      await waitConnected();
      helper.getNode("pay").receive({ payload: 1250, order: 5, res: { end() {} }, topic: "sale" });
      await until(() => terminal(sim).step === "presentCard", "PRESENT_CARD");
      const paymentId = terminal(sim).paymentId;
      await stopProcess();
      return paymentId;
    }

    async function restart() {
      await helper.load(nodeModules, flowFor(), creds());
      return { ok: collect("ok"), ko: collect("ko"), errors: collect("errors") };
    }

    function checkResult(m, paymentId) {
      m.paymentId.should.equal(paymentId);
      m.order.should.equal(5); // restored from the context journaled with the payment
      m.topic.should.equal("sale");
      m.should.not.have.property("res"); // never journaled
      m.payload.should.containDeep({ paymentId, status: "CAPTURED", amount: 1250, currency: "GBP" });
      m.should.not.have.property("redelivered");
    }

    it("a payment finished while Node-RED was down is sent once after the restart", async () => {
      const paymentId = await startPaymentThenStop();
      await sim.act("SIM00001", "present");
      await sim.act("SIM00001", "approve"); // the record waits for the EPOS to come back
      sim.pendingRecords("till-r").should.have.length(1);

      const r = await restart();
      await until(() => r.ok.length === 1, "result after restart");
      await delay(SETTLE_MS);
      r.ok.should.have.length(1);
      r.ko.should.have.length(0);
      r.errors.should.have.length(0);
      checkResult(r.ok[0], paymentId);
      sim.pendingRecords("till-r").should.have.length(0);

      // and once more: nothing is sent again
      await stopProcess();
      const again = await restart();
      await waitConnected();
      await delay(SETTLE_MS * 2);
      again.ok.should.have.length(0);
      again.ko.should.have.length(0);
    });

    it("a payment still running at the restart is followed up and sent once", async () => {
      const paymentId = await startPaymentThenStop();
      const r = await restart();
      const cfg = await waitConnected();
      await until(() => cfg.pac.client.tracked(paymentId) && cfg.pac.client.tracked(paymentId).phase === "running", "followed up");
      await sim.act("SIM00001", "present");
      await sim.act("SIM00001", "approve");
      await until(() => r.ok.length === 1, "result");
      await delay(SETTLE_MS);
      r.ok.should.have.length(1);
      r.ko.should.have.length(0);
      checkResult(r.ok[0], paymentId);
    });

    it("a full redeploy (connection restarted) while a payment runs sends one result with the original msg", async () => {
      await helper.load(nodeModules, flowFor(), creds());
      const cfg = await waitConnected();
      const ok = collect("ok");
      const ko = collect("ko");
      const res = { end() {} };
      helper.getNode("pay").receive({ payload: 1250, order: 6, res });
      await until(() => terminal(sim).step === "presentCard", "PRESENT_CARD");
      const paymentId = terminal(sim).paymentId;
      const changed = flowFor().map((n) => (n.id === "cfg" ? { ...n, name: "edited" } : n));
      await helper.setFlows(changed, "full", creds());
      const cfg2 = await waitConnected();
      cfg2.should.not.equal(cfg);
      cfg.pac.client.state.should.equal("closed");
      const ok2 = collect("ok");
      await sim.act("SIM00001", "present");
      await sim.act("SIM00001", "approve");
      await until(() => ok2.length === 1, "result");
      await delay(SETTLE_MS);
      ok2.should.have.length(1);
      ok.should.have.length(0); // the helper nodes were restarted too: nothing reached the old ones
      ko.should.have.length(0);
      ok2[0].res.should.equal(res);
      ok2[0].order.should.equal(6);
      ok2[0].paymentId.should.equal(paymentId);
    });

    /** Write a journal as an earlier process would have left it. */
    async function journalWith(entries) {
      const j = await Journal.open({
        dir: path.join(userDir, "dojo-pac-journal"),
        identity: { eposId: "till-r", accountName: sim.credentials.accountName, url: sim.url },
      });
      for (const e of entries) await j.write({ ts: Date.now(), ...e }, true);
      await j.close();
    }

    const start = (id, owner, ctx) => ({
      t: "start",
      id,
      kind: "payment",
      terminalId: "SIM00001",
      amount: 700,
      currency: "GBP",
      captureMode: "AUTO",
      owner,
      ctx,
    });
    const record = (id) => ({
      t: "record",
      id,
      record: {
        paymentId: id,
        terminalId: "SIM00001",
        captureMode: "AUTO",
        baseAmount: 700,
        currency: "GBP",
        paymentSuccessful: true,
        status: "CAPTURED",
        authCode: "123456",
      },
    });

    it("an outcome interrupted mid-hand-over by a crash is sent once more, marked redelivered", async () => {
      await journalWith([start("crash-1", "pay", { order: 9, topic: "x" }), record("crash-1"), { t: "emit", id: "crash-1" }]);
      const r = await restart();
      await until(() => r.ok.length === 1, "redelivered result");
      await delay(SETTLE_MS);
      r.ok.should.have.length(1);
      r.ok[0].redelivered.should.be.true();
      r.ok[0].order.should.equal(9);
      r.ok[0].payload.should.containDeep({ paymentId: "crash-1", status: "CAPTURED", amount: 700, authCode: "123456" });
    });

    it("an undelivered outcome without node or pac-events waits in the journal until a pac-events node takes it", async () => {
      await journalWith([start("orphan-1", "gone-node", { order: 1 }), record("orphan-1")]);
      const r = await restart();
      const cfg = await waitConnected();
      await delay(SETTLE_MS);
      cfg.pac.pendingOutcomes.map((o) => o.paymentId).should.eql(["orphan-1"]);
      r.ok.should.have.length(0);
      r.ko.should.have.length(0);
      await stopProcess();

      await helper.load(
        nodeModules,
        flowFor([
          { id: "ev", type: "pac-events", server: "cfg", events: ["record"], terminalId: "", wires: [["evs"]] },
          { id: "evs", type: "helper" },
        ]),
        creds(),
      );
      const evs = collect("evs");
      await until(() => evs.length === 1, "orphan");
      await delay(SETTLE_MS);
      evs.should.have.length(1);
      evs[0].should.containDeep({ topic: "record", paymentId: "orphan-1" });
      evs[0].payload.should.containDeep({ paymentId: "orphan-1", orphan: true, foreign: false, owner: "gone-node", status: "CAPTURED" });
      helper.getNode("cfg").pac.client.journal.get("orphan-1").deliveredAt.should.be.a.Number();
    });

    it("a payment Dojo never received (crash before sending) ends FAILED, notCreated, on output 2", async () => {
      await journalWith([start("lost-1", "pay", { order: 4 })]);
      const r = await restart();
      await until(() => r.ko.length === 1, "notCreated outcome");
      await delay(SETTLE_MS);
      r.ko.should.have.length(1);
      r.ok.should.have.length(0);
      r.ko[0].order.should.equal(4);
      r.ko[0].payload.should.containDeep({ paymentId: "lost-1", status: "FAILED", notCreated: true });
    });
  });
});
