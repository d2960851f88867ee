"use strict";
// Fault 11: redeploys while a payment runs: modified nodes, modified flows, full, and 50 in a row.
// Exactly one result (with the original msg), one server-side connection per config node after every
// deploy, and no growth of listeners, timers, sockets, file descriptors or heap after the 50.
const fs = require("fs");
const {
  helper,
  nodeModules,
  until,
  delay,
  nodeRedSuite,
  startSim,
  waitStep,
  terminal,
  collectInto,
  statusesInto,
  waitOpen,
  flowWith,
  customConfig,
  paymentNode,
  outputHelpers,
  creds,
  approve,
  activeResources,
  heapAfterGc,
  SETTLE_MS,
} = require("./helpers");

const RUNTIME_EVENTS = ["flows:starting", "flows:started", "flows:stopping", "flows:stopped"];

/** The flow after deploy number i of the given type: changes one node more (cumulative). */
function modified(flow, type, i) {
  return flow.map((n) => {
    if (type === "nodes" && n.id === "pay") return { ...n, name: `nodes ${i}` };
    if (type === "flows" && n.id === "ok") return { ...n, name: `flows ${i}` };
    if (type === "full" && n.id === "cfg") return { ...n, name: `full ${i}` };
    return n;
  });
}

function fdCount() {
  try {
    return fs.readdirSync("/proc/self/fd").length;
  } catch {
    return 0;
  }
}

describe("faults: 11. redeploys while a payment runs (through the nodes)", function () {
  this.timeout(60000);
  let sim, flow, got, displacedCount;

  nodeRedSuite("pac-faults-r-");
  beforeEach(async () => {
    sim = await startSim();
    displacedCount = 0;
    sim.on("disconnection", (d) => d.displaced && displacedCount++);
    flow = flowWith(customConfig(sim), [
      paymentNode(),
      ...outputHelpers,
      { id: "complete", type: "complete", scope: ["pay"], wires: [["completed"]] },
      { id: "completed", type: "helper" },
    ]);
    await helper.load(nodeModules, flow, creds(sim));
    await waitOpen();
    got = { ok: [], ko: [], errors: [], completed: [], status: [] };
    attach();
  });

  /** (Re-)attach the collectors to the current helper instances. */
  function attach() {
    const seen = (got.attached ||= new WeakSet());
    for (const [key, id] of [
      ["ok", "ok"],
      ["ko", "ko"],
      ["errors", "errors"],
      ["completed", "completed"],
      ["status", "pay"],
    ]) {
      const node = helper.getNode(id);
      if (seen.has(node)) continue;
      seen.add(node);
      if (key === "status") statusesInto(got.status, id);
      else collectInto(got[key], id);
    }
  }

  async function startPayment(msg) {
    helper.getNode("pay").receive(msg);
    await waitStep(sim, "presentCard");
    return terminal(sim).paymentId;
  }

  /** Deploy, then: connected, exactly one server-side connection for the config node. */
  async function deploy(type, i) {
    flow = modified(flow, type, i);
    await helper.setFlows(flow, type, creds(sim));
    await waitOpen();
    await until(() => sim.connections().length === 1, `one connection after ${type} deploy ${i}`, 3000);
    sim.connections().should.eql(["till-f"]);
    attach();
  }

  async function finishAndCheck(paymentId, res, order) {
    await approve(sim);
    await until(() => got.ok.length >= 1, "result", 10000);
    await delay(SETTLE_MS);
    got.ok.should.have.length(1);
    got.ko.should.have.length(0);
    got.errors.should.have.length(0);
    const m = got.ok[0];
    m.paymentId.should.equal(paymentId);
    m.res.should.equal(res); // the very msg object that started it
    m.order.should.equal(order);
    m.payload.status.should.equal("CAPTURED");
    sim.stats.createPaymentIds.should.eql([paymentId]);
    helper.getNode("cfg").pac.held.has(paymentId).should.be.false();
    got.status[got.status.length - 1].should.eql({ fill: "green", shape: "dot", text: "paid £12.50" });
  }

  for (const type of ["nodes", "flows", "full"]) {
    it(`a ${type} deploy while the terminal asks for the card: one connection, one result with the original msg`, async () => {
      const cfg = helper.getNode("cfg");
      const res = { end() {} };
      const paymentId = await startPayment({ payload: 1250, res, order: type });
      await deploy(type, 1);
      const cfg2 = helper.getNode("cfg");
      if (type === "full") {
        cfg2.should.not.equal(cfg);
        cfg.pac.client.state.should.equal("closed");
        sim.stats.connectionsOpened.should.equal(2);
      } else {
        cfg2.should.equal(cfg); // the connection is kept
        sim.stats.connectionsOpened.should.equal(1);
      }
      await finishAndCheck(paymentId, res, type);
      // the old instance completed the msg when it closed: Complete fires once, never again with the
      // result (in a full deploy the Complete node is stopped at the same time and may miss it)
      if (type === "full") got.completed.length.should.be.belowOrEqual(1);
      else got.completed.should.have.length(1);
      displacedCount.should.equal(0);
      helper.getNode("pay").status.should.be.a.Function();
    });
  }

  it("50 redeploys in a row (nodes, flows, full): one connection after each, one result; listeners, timers, sockets, fds and heap stable", async function () {
    this.timeout(180000);
    const res = { end() {} };
    const paymentId = await startPayment({ payload: 1250, res, order: 50 });
    const types = process.env.DEPLOY_TYPES ? process.env.DEPLOY_TYPES.split(",") : ["nodes", "flows", "full"];
    // The test helper's sinon spies keep every call (and every node instance): not ours to measure.
    const heap = () => {
      helper._sandbox.resetHistory();
      return heapAfterGc();
    };
    const events = () => Object.fromEntries(RUNTIME_EVENTS.map((e) => [e, helper._events.listenerCount(e)]));
    const simListeners = () => Object.fromEntries(sim.eventNames().map((e) => [e, sim.listenerCount(e)]));
    const clientListeners = () => {
      const c = helper.getNode("cfg").pac.client;
      return Object.fromEntries([...c.eventNames(), ...c.connection.eventNames()].map((e) => [String(e), c.listenerCount(e) + c.connection.listenerCount(e)]));
    };
    // warm up (lazy module loading, JIT, first-use caches)
    for (let i = 0; i < 6; i++) await deploy(types[i % 3], i);
    await delay(SETTLE_MS);
    const before = { resources: activeResources(), heap: heap(), fds: fdCount(), events: events(), sim: simListeners(), client: clientListeners() };
    const t0 = Date.now();
    const opened0 = sim.stats.connectionsOpened;
    const n = Number(process.env.N_DEPLOYS) || 50;
    // every instance the deploys replace must be garbage-collected: held weakly from here
    const refs = [];
    const track = () => {
      const cfg = helper.getNode("cfg");
      const pay = helper.getNode("pay");
      for (const o of [cfg, cfg.pac, cfg.pac.client, cfg.pac.client.connection, cfg.pac.client.journal, pay]) refs.push(new WeakRef(o));
    };
    for (let i = 0; i < n; i++) {
      track();
      await deploy(types[i % 3], 100 + i);
    }
    const took = Date.now() - t0;
    // only the full deploys made a new connection (one each)
    (sim.stats.connectionsOpened - opened0).should.equal([...Array(n).keys()].filter((i) => types[i % 3] === "full").length);
    await delay(SETTLE_MS);
    const after = { resources: activeResources(), heap: heap(), fds: fdCount(), events: events(), sim: simListeners(), client: clientListeners() };

    // test/faults/.mocharc.json runs node with --expose-gc: without it the two checks below would be skipped.
    (typeof global.gc).should.equal("function", "the fault suite needs node --expose-gc");
    {
      const current = new Set([
        helper.getNode("cfg"),
        helper.getNode("cfg").pac,
        helper.getNode("cfg").pac.client,
        helper.getNode("cfg").pac.client.connection,
        helper.getNode("cfg").pac.client.journal,
        helper.getNode("pay"),
      ]);
      await delay(10);
      heap();
      await delay(10);
      heap();
      const alive = refs.map((r) => r.deref()).filter((o) => o !== undefined && !current.has(o));
      alive.map((o) => o.constructor.name).should.eql([], "instances replaced by a deploy are still reachable");
    }
    after.events.should.eql(before.events);
    after.sim.should.eql(before.sim);
    after.client.should.eql(before.client);
    after.fds.should.be.belowOrEqual(before.fds + 2);
    for (const kind of new Set([...Object.keys(before.resources), ...Object.keys(after.resources)])) {
      ((after.resources[kind] || 0) - (before.resources[kind] || 0)).should.be.belowOrEqual(
        2,
        `active ${kind}: ${JSON.stringify(before.resources)} -> ${JSON.stringify(after.resources)}`,
      );
    }
    (after.heap - before.heap).should.be.below(4 * 1024 * 1024);
    displacedCount.should.equal(0); // each old connection was closed before its successor opened
    helper.getNode("cfg").pac.held.size.should.equal(1);
    helper.getNode("cfg").pac.pendingOutcomes.should.have.length(0);

    await finishAndCheck(paymentId, res, 50);
    console.log(
      `      (50 deploys in ${(took / 1000).toFixed(1)} s; heap ${((after.heap - before.heap) / 1048576).toFixed(2)} MB, fds ${before.fds}->${after.fds}, resources ${JSON.stringify(before.resources)} -> ${JSON.stringify(after.resources)})`,
    );
  });
});
