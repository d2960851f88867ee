"use strict";
// Faults 5 and 6: Node-RED itself is killed (SIGKILL) and restarted on the same userDir. A real
// Node-RED child process (node_modules/node-red/red.js) with this package linked into its userDir,
// credentials in an unencrypted flows_cred.json, a flow "http in POST /sale -> pac-payment -> file
// node appending one JSON line per result", against the test's own simulator on 127.0.0.1 with a
// manual terminal. The proof is the result file: exactly one line per payment.
const fs = require("fs");
const path = require("path");
const { until, delay, tmpDir, cleanup, startSim, waitStep, approve, prepareUserDir, redProcess, jsonLines, nextEvent, functionNode } = require("./helpers");

const SLOW_FSYNC = path.join(__dirname, "support", "slow-fsync.js");

/** The till's flow: POST /sale {amount, paymentId, order} starts a sale; every result -> results.jsonl. */
function tillFlow(sim, dir) {
  return [
    { id: "tab", type: "tab", label: "till", disabled: false, info: "" },
    {
      id: "cfg",
      type: "pac-config",
      name: "till",
      environment: "custom",
      url: sim.url,
      eposId: "till-c",
      softwareHouseId: "shopflow-faults",
      resellerId: "",
      requestTimeout: "5",
    },
    {
      id: "in",
      z: "tab",
      type: "http in",
      name: "",
      url: "/sale",
      method: "post",
      upload: false,
      swaggerDoc: "",
      x: 100,
      y: 100,
      wires: [["prep", "accepted"]],
    },
    { id: "accepted", z: "tab", type: "http response", name: "", statusCode: "202", headers: {}, x: 300, y: 60, wires: [] },
    functionNode(
      "prep",
      "order",
      "msg.order = msg.payload.order;\nmsg.payload = { amount: msg.payload.amount, paymentId: msg.payload.paymentId };\nreturn msg;",
      "pay",
    ),
    {
      id: "pay",
      z: "tab",
      type: "pac-payment",
      name: "",
      server: "cfg",
      terminalId: "SIM00001",
      currency: "GBP",
      captureMode: "AUTO",
      signature: "accept",
      x: 500,
      y: 100,
      wires: [["line"], ["line"], []],
    },
    {
      id: "line",
      z: "tab",
      type: "function",
      name: "result line",
      func: "msg.payload = { paymentId: msg.paymentId, status: msg.payload.status, amount: msg.payload.amount, order: msg.order === undefined ? null : msg.order, redelivered: msg.redelivered === true, at: Date.now() };\nreturn msg;",
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: "",
      finalize: "",
      libs: [],
      x: 700,
      y: 100,
      wires: [["sink"]],
    },
    {
      id: "sink",
      z: "tab",
      type: "file",
      name: "",
      filename: path.join(dir, "results.jsonl"),
      filenameType: "str",
      appendNewline: true,
      createDir: true,
      overwriteFile: "false",
      encoding: "none",
      x: 900,
      y: 100,
      wires: [[]],
    },
  ];
}

/** Every journal line of the till (whatever the file name), parsed. */
function journalLines(dir) {
  const jdir = path.join(dir, "dojo-pac-journal");
  let names = [];
  try {
    names = fs.readdirSync(jdir).filter((n) => n.endsWith(".jsonl"));
  } catch {
    return [];
  }
  return names.flatMap((n) => jsonLines(path.join(jdir, n)));
}

describe("faults: Node-RED killed (SIGKILL) and restarted on the same userDir (real child process)", function () {
  this.timeout(90000);
  let sim, dir, red, results;

  beforeEach(async () => {
    sim = await startSim();
    dir = tmpDir("pac-faults-crash-");
    results = path.join(dir, "results.jsonl");
  });
  afterEach(cleanup);

  async function startTill(opts = {}) {
    red = await redProcess(dir, opts);
    prepareUserDir(dir, {
      flows: tillFlow(sim, dir),
      credentials: { cfg: { ...sim.credentials } },
      port: red.port,
      settings: { logging: { console: { level: "info", metrics: false, audit: false } } },
    });
    await red.start();
    await until(() => sim.connections().includes("till-c"), "till connected", 10000);
  }

  async function restart() {
    await red.start();
    await until(() => sim.connections().includes("till-c"), "till connected again", 10000);
  }

  async function sale(body) {
    const r = await red.request("POST", "/sale", body);
    r.status.should.equal(202);
    await waitStep(sim, "presentCard", "SIM00001", 10000);
    sim.terminals()[0].paymentId.should.equal(body.paymentId);
  }

  async function killed() {
    await red.kill9();
    await until(() => !sim.connections().includes("till-c"), "the dead till's socket closed", 5000);
  }

  async function lines(n, ms = 15000) {
    await until(() => jsonLines(results).length >= n, `${n} result line(s)`, ms);
    await delay(800); // a duplicate would show up by now
    return jsonLines(results);
  }

  it("5. killed at PRESENT_CARD, the customer pays while Node-RED is down, restart: exactly one result line; a further crash adds none", async () => {
    await startTill();
    await sale({ amount: 1250, paymentId: "crash-5a", order: 51 });
    await killed();
    await approve(sim); // the terminal carries on; Dojo keeps the record for the till
    sim.pendingRecords("till-c").should.have.length(1);
    jsonLines(results).should.have.length(0);

    await restart();
    const got = await lines(1);
    got.should.have.length(1);
    got[0].should.containDeep({ paymentId: "crash-5a", status: "CAPTURED", amount: 1250, order: 51, redelivered: false });
    await until(() => sim.pendingRecords("till-c").length === 0, "record acknowledged");
    sim.stats.createPaymentIds.should.eql(["crash-5a"]);

    // killed again after the result: the restart sends nothing again
    await killed();
    await restart();
    await delay(1500);
    jsonLines(results).should.have.length(1);
    sim.stats.createPaymentIds.should.eql(["crash-5a"]);
  });

  it("5b. killed at PRESENT_CARD, the customer pays after the restart (followed up with GetPayment): exactly one result line", async () => {
    await startTill();
    await sale({ amount: 1250, paymentId: "crash-5b", order: 52 });
    await killed();
    const gets = sim.stats.requests.GetPayment || 0;
    await restart();
    await until(() => (sim.stats.requests.GetPayment || 0) > gets, "GetPayment follow-up after the restart");
    await approve(sim);
    const got = await lines(1);
    got.should.have.length(1);
    got[0].should.containDeep({ paymentId: "crash-5b", status: "CAPTURED", order: 52, redelivered: false });
    sim.stats.createPaymentIds.should.eql(["crash-5b"]);
  });

  describe("6. killed between receiving a record and acknowledging it (journal fsync stretched to 1 s by a test-only preload)", function () {
    const env = { PAC_TEST_SLOW_FSYNC_MS: "1000" };

    it("killed while the record is written but not yet acknowledged: the restart delivers it once; Dojo's redelivery is acked, not emitted", async () => {
      await startTill({ preload: SLOW_FSYNC, env });
      await sale({ amount: 1250, paymentId: "crash-6a", order: 61 });
      const sent = nextEvent(sim, "recordSent", 10000);
      await approve(sim);
      await sent;
      await delay(400); // inside the 1 s fsync of the record
      sim.stats.recordsAcked.should.equal(0);
      await killed();
      // what the till had on disk when it died: the record, not acknowledged, nothing handed over
      const j = journalLines(dir)
        .filter((e) => e.id === "crash-6a")
        .map((e) => e.t);
      j.should.containEql("record");
      j.should.not.containEql("emit");
      sim.pendingRecords("till-c").should.have.length(1);
      jsonLines(results).should.have.length(0);

      await restart();
      const got = await lines(1);
      got.should.have.length(1);
      got[0].should.containDeep({ paymentId: "crash-6a", status: "CAPTURED", order: 61, redelivered: false });
      await until(() => sim.pendingRecords("till-c").length === 0, "the redelivered record acknowledged", 10000);
      sim.stats.recordsSent.should.be.aboveOrEqual(2);
      sim.stats.createPaymentIds.should.eql(["crash-6a"]);
    });

    it("killed just after the acknowledgement, while the result is handed to the flow: one result line in every case", async () => {
      await startTill({ preload: SLOW_FSYNC, env });
      await sale({ amount: 1250, paymentId: "crash-6b", order: 62 });
      await approve(sim);
      await until(() => sim.stats.recordsAcked === 1, "record acknowledged", 5000);
      await delay(400); // inside the 1 s fsync of whatever the hand-over waits for (if it waits for one)
      const before = jsonLines(results).length;
      await killed();
      sim.pendingRecords("till-c").should.have.length(0);
      const sentBefore = sim.stats.recordsSent;
      // where the hand-over stood when the process died (depends on how durable "emit" is made)
      const j = journalLines(dir)
        .filter((e) => e.id === "crash-6b")
        .map((e) => e.t);
      j.should.containEql("record");
      const stage = j.includes("done") ? "handed over" : j.includes("emit") ? "emit written, not handed over" : "recorded, not handed over";

      await restart();
      const got = await lines(1);
      got.should.have.length(1);
      got[0].should.containDeep({ paymentId: "crash-6b", status: "CAPTURED", order: 62 });
      if (stage === "handed over")
        before.should.equal(1); // written by the flow before the crash, not re-offered
      else {
        before.should.equal(0);
        // re-offered after the restart; flagged when it might have reached the flow before the crash
        got[0].redelivered.should.equal(stage === "emit written, not handed over");
      }
      sim.stats.recordsSent.should.equal(sentBefore); // acknowledged before the crash: not redelivered after it
      sim.stats.createPaymentIds.should.eql(["crash-6b"]);
      console.log(`        (killed at: ${stage})`);
    });

    it("killed (SIGSTOP, then SIGKILL) with the record unread in its socket: redelivered after the restart, one result line", async () => {
      await startTill();
      await sale({ amount: 1250, paymentId: "crash-6c", order: 63 });
      red.child.kill("SIGSTOP");
      const sent = nextEvent(sim, "recordSent", 10000);
      await approve(sim);
      await sent;
      await delay(200);
      await red.kill9();
      await until(() => !sim.connections().includes("till-c"), "socket closed", 5000);
      journalLines(dir)
        .filter((e) => e.id === "crash-6c")
        .map((e) => e.t)
        .should.not.containEql("record");
      sim.pendingRecords("till-c").should.have.length(1);

      await restart();
      const got = await lines(1);
      got.should.have.length(1);
      got[0].should.containDeep({ paymentId: "crash-6c", status: "CAPTURED", order: 63, redelivered: false });
      await until(() => sim.pendingRecords("till-c").length === 0, "record acknowledged");
      sim.stats.createPaymentIds.should.eql(["crash-6c"]);
    });
  });
});
