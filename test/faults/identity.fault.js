"use strict";
// One identity, one owner: two pac-config nodes with the same identity (a copy-paste), and deploys
// that change or remove a connection while a payment is open under its identity. Through the real
// nodes in a real Node-RED runtime against the standalone simulator. What must hold: the second of two
// identical connections refuses (red status, an error naming the first, no socket, no journal writer)
// and the first delivers every result; a payment open under an identity a deploy changed or removed
// still reaches its node exactly once, through a drain-only connection that then closes by itself.
const should = require("should");
const fs = require("fs");
const path = require("path");
const {
  helper,
  until,
  delay,
  nodeRedSuite,
  startSim,
  waitStep,
  terminal,
  lastStatus,
  logged,
  waitOpen,
  approve,
  exactlyOne,
  creds,
  customConfig,
  nodeModules,
  SETTLE_MS,
} = require("./helpers");
const base = require("../nodes-helpers");

describe("faults: one identity, one owner (through the nodes)", function () {
  this.timeout(40000);
  const suite = nodeRedSuite("pac-faults-i-");

  it("two connections with the same URL, account and epos-id: the second refuses, names the first, opens no socket; the first delivers", async () => {
    const sim = await startSim();
    const flow = base.flowWith(customConfig(sim, { name: "Front till" }), [
      base.paymentNode(),
      ...base.outputHelpers,
      { ...customConfig(sim, { id: "cfg2", name: "Copy of front till" }), id: "cfg2" },
      base.paymentNode({ id: "pay2", server: "cfg2", wires: [["ok2"], ["ko2"], []] }),
      { id: "ok2", type: "helper" },
      { id: "ko2", type: "helper" },
    ]);
    await helper.load(nodeModules, flow, { ...creds(sim), ...creds(sim, "cfg2") });
    const t = base.paymentOutputs();
    const status2 = base.statuses("pay2");
    const ok2 = base.collect("ok2");
    await waitOpen("cfg");
    await until(() => lastStatus(status2)?.text === "epos-id in use", "the copy shows it is refused", 3000);
    lastStatus(status2).fill.should.equal("red");
    const errors = logged("ERROR", "cfg2");
    errors.some((m) => m.includes('epos-id till-f is already used by connection "Front till"')).should.be.true(JSON.stringify(errors));
    await delay(SETTLE_MS);
    sim.connections().should.eql(["till-f"]); // one socket: the first's
    sim.stats.displaced.should.equal(0);
    should.not.exist(helper.getNode("cfg2").pac.client);
    // The journal has one writer: the lock names the first connection.
    const dir = path.join(suite.userDir, "dojo-pac-journal");
    const locks = fs.readdirSync(dir).filter((n) => n.endsWith(".lock"));
    locks.should.have.length(1);
    fs.readFileSync(path.join(dir, locks[0]), "utf8").should.containEql("Front till");
    // A sale through the copy is refused before anything is sent; the first still works.
    helper.getNode("pay2").receive({ payload: 1250 });
    await until(() => t.errors.length === 1, "refusal to Catch", 3000);
    t.errors[0].error.code.should.equal("IDENTITY_IN_USE");
    sim.stats.createPaymentIds.should.eql([]);
    t.pay.receive({ payload: 1250, order: 1 });
    await waitStep(sim, "presentCard");
    await approve(sim);
    (await exactlyOne(t, sim.stats.createPaymentIds[0])).order.should.equal(1);
    ok2.should.have.length(0);
  });

  /** Load cfg (till-f) + pay, start a sale that waits at PRESENT_CARD. */
  async function saleAtPresentCard(sim) {
    const flow = base.flowWith(customConfig(sim, { name: "Front till" }), [base.paymentNode(), ...base.outputHelpers]);
    await helper.load(nodeModules, flow, creds(sim));
    await waitOpen();
    const t = base.paymentOutputs();
    const res = { marker: "original" };
    t.pay.receive({ payload: 1250, order: 42, res });
    await waitStep(sim, "presentCard");
    return { flow, t, res, paymentId: terminal(sim).paymentId };
  }

  /** Collectors on the instances after a deploy (a deploy replaces the helper nodes). */
  function collectors() {
    return { ok: base.collect("ok"), ko: base.collect("ko"), errors: base.collect("errors"), status: base.statuses("pay") };
  }

  async function oneResult(got, paymentId, res) {
    await until(() => got.ok.length + got.ko.length >= 1, "the result", 10000);
    await delay(SETTLE_MS);
    got.ok.should.have.length(1);
    got.ko.should.have.length(0);
    got.ok[0].paymentId.should.equal(paymentId);
    got.ok[0].order.should.equal(42);
    got.ok[0].res.should.equal(res); // the very msg that started it
    got.ok[0].payload.status.should.equal("CAPTURED");
  }

  it("a deploy changes the epos-id while a sale waits at PRESENT_CARD: a drain-only connection brings the result to its node once, then closes", async () => {
    const sim = await startSim();
    const { flow, res, paymentId } = await saleAtPresentCard(sim);
    const before = await helper.request().get("/pac/open-payments").expect(200);
    before.body.connections
      .find((c) => c.configId === "cfg")
      .open.map((p) => p.paymentId)
      .should.eql([paymentId]);

    const changed = flow.map((n) => (n.id === "cfg" ? { ...n, eposId: "till-g" } : n));
    await helper.setFlows(changed, "nodes", creds(sim));
    const got = collectors();
    await waitOpen();
    await until(() => sim.connections().sort().join() === "till-f,till-g", "the new identity connected, the old one draining", 5000);
    const warns = logged("WARN", "cfg");
    warns.some((m) => /1 payment\(s\) still open under epos-id till-f/.test(m)).should.be.true(JSON.stringify(warns));
    const during = await helper.request().get("/pac/open-payments").expect(200);
    const draining = during.body.connections.find((c) => c.state === "draining");
    should.exist(draining, JSON.stringify(during.body));
    draining.eposId.should.equal("till-f");
    draining.open.map((p) => p.paymentId).should.eql([paymentId]);
    // The config node's own status shows what it left draining.
    const status = await helper.request().get("/pac/status/cfg").expect(200);
    status.body.eposId.should.equal("till-g");
    status.body.draining.should.containDeep([{ eposId: "till-f", open: 1 }]);

    await approve(sim);
    await oneResult(got, paymentId, res);
    sim.stats.createPaymentIds.should.eql([paymentId]);
    // Nothing left to collect: the drain-only connection closed by itself.
    await until(() => sim.connections().join() === "till-g", "drain-only connection closed", 5000);
    await until(() => sim.pendingRecords("till-f").length === 0, "record acknowledged", 3000);
    const after = await helper.request().get("/pac/open-payments").expect(200);
    after.body.connections.filter((c) => c.open.length > 0).should.eql([]);
  });

  it("Node-RED restarts while a drain-only connection runs: a journal of the same account and URL with a recent open payment is drained again; one result", async () => {
    const sim = await startSim();
    const { flow, paymentId } = await saleAtPresentCard(sim);
    const changed = flow.map((n) => (n.id === "cfg" ? { ...n, eposId: "till-g" } : n));
    await helper.setFlows(changed, "nodes", creds(sim));
    await until(() => sim.connections().sort().join() === "till-f,till-g", "draining", 5000);
    // A restart: the runtime stops (the drain-only connection ends with it), then starts again.
    await helper.unload();
    await until(() => sim.connections().length === 0, "everything closed", 5000);
    await helper.load(nodeModules, changed, creds(sim));
    const got = collectors();
    await waitOpen();
    await until(() => sim.connections().sort().join() === "till-f,till-g", "till-f drained again after the restart", 5000);
    logged("WARN", "cfg")
      .some((m) => /left open under epos-id till-f before a restart/.test(m))
      .should.be.true();
    await approve(sim);
    await until(() => got.ok.length >= 1, "the result", 10000);
    await delay(SETTLE_MS);
    got.ok.should.have.length(1);
    got.ok[0].paymentId.should.equal(paymentId);
    got.ok[0].order.should.equal(42); // rebuilt from the journal
    await until(() => sim.connections().join() === "till-g", "drain-only connection closed", 5000);
  });

  it("a deploy removes the connection (the node moves to another one) while a sale runs: the result still reaches the node once", async () => {
    const sim = await startSim();
    const { flow, res, paymentId } = await saleAtPresentCard(sim);
    const moved = flow
      .filter((n) => n.id !== "cfg")
      .concat([{ ...customConfig(sim, { name: "Back till", eposId: "till-h" }), id: "cfgB" }])
      .map((n) => (n.id === "pay" ? { ...n, server: "cfgB" } : n));
    await helper.setFlows(moved, "full", creds(sim, "cfgB"));
    const got = collectors();
    await waitOpen("cfgB");
    await approve(sim);
    await oneResult(got, paymentId, res);
    await until(() => sim.connections().join() === "till-h", "drain-only connection closed", 5000);
  });

  it("the epos-id is changed and changed back while the sale runs: the new connection takes over from the drain-only one; one connection per identity, one result", async () => {
    const sim = await startSim();
    const { flow, res, paymentId } = await saleAtPresentCard(sim);
    await helper.setFlows(
      flow.map((n) => (n.id === "cfg" ? { ...n, eposId: "till-g" } : n)),
      "nodes",
      creds(sim),
    );
    await waitOpen();
    await until(() => sim.connections().length === 2, "draining + new", 5000);
    await helper.setFlows(
      flow.map((n) => (n.id === "cfg" ? { ...n, name: "Front till again" } : n)),
      "nodes",
      creds(sim),
    );
    const got = collectors();
    await waitOpen();
    await until(() => sim.connections().sort().join() === "till-f,till-g" || sim.connections().join() === "till-f", "settled", 5000);
    await until(() => sim.connections().join() === "till-f", "one connection: till-f (the drain-only till-g had nothing open)", 5000);
    sim.stats.displaced.should.equal(0);
    await approve(sim);
    await oneResult(got, paymentId, res);
  });
});
