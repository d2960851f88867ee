/* The editor's admin endpoints (src/nodes/admin/), against the real runtime (test helper). */
"use strict";

const fs = require("fs");
const net = require("net");
const should = require("should");
const { helper, unloadThen, PacSimulator, tmpDir, until, flowWith, simConfig, paymentNode, outputHelpers, collect, waitConnected } = require("./nodes-helpers");
const { classifyReason } = require("../dist/nodes/admin");

describe("admin endpoints", function () {
  this.timeout(20000);
  let userDir;
  let sims = [];

  before(function (done) {
    helper.startServer(done);
  });
  after(function (done) {
    helper.stopServer(done);
  });
  beforeEach(function () {
    userDir = tmpDir();
    helper.settings({ userDir });
  });
  afterEach(async function () {
    const stopping = sims;
    sims = [];
    await unloadThen(
      () => Promise.all(stopping.map((s) => s.stop())),
      () => fs.rmSync(userDir, { recursive: true, force: true }),
    );
  });

  async function sim(options = {}) {
    const s = await PacSimulator.start({ port: 0, delays: "zero", virtualTerminal: false, pingIntervalMs: 0, ...options });
    sims.push(s);
    return s;
  }

  function customConfig(s, extra = {}) {
    return {
      id: "cfg",
      type: "pac-config",
      name: "",
      environment: "custom",
      url: s.url,
      eposId: "till-1",
      softwareHouseId: "shopflow-tests",
      requestTimeout: 5,
      ...extra,
    };
  }

  /** A config node starts its connection once a node uses it: a pac-status node per config. */
  function load(flow, creds) {
    for (const n of flow.filter((x) => x.type === "pac-config")) {
      delete n.x;
      delete n.y;
      delete n.z;
    }
    const users = flow
      .filter((n) => n.type === "pac-config" && !flow.some((u) => u.server === n.id))
      .map((n) => ({ id: `user-${n.id}`, type: "pac-status", z: "f1", x: 100, y: 100, name: "", server: n.id, query: "payment", wires: [[]] }));
    return helper.load(require("./nodes-helpers").nodeModules, flow.concat(users), creds || {});
  }

  const post = (url, body) => helper.request().post(url).send(body).set("content-type", "application/json");

  describe("terminals and status", function () {
    it("lists the terminals of a deployed connection; 404 for an unknown id", async function () {
      await load(flowWith(simConfig(), []));
      await waitConnected();
      const res = await helper.request().get("/pac/terminals/cfg").expect(200);
      res.body.terminals.map((t) => t.terminalId).should.eql(["SIM00001", "SIM00002"]);
      res.body.terminals[0].status.should.equal("AVAILABLE");
      const miss = await helper.request().get("/pac/terminals/nope").expect(404);
      miss.body.error.should.equal("not-deployed");
    });

    it("reports connection, terminals with their live step and the latest payments", async function () {
      await load(flowWith(simConfig(), [paymentNode(), ...outputHelpers]));
      const cfg = await waitConnected();
      cfg.pac.simulator.setManual("SIM00001", true);
      const ok = collect("ok");
      helper.getNode("pay").receive({ payload: { amount: 1250, paymentId: "adm-1" } });
      await until(() => cfg.pac.simulator.terminals()[0].step === "presentCard", "present card");
      await until(() => cfg.pac.client.tracked("adm-1") && cfg.pac.client.tracked("adm-1").lastStep === "PRESENT_CARD", "step known");
      let res = await helper.request().get("/pac/status/cfg").expect(200);
      res.body.connection.state.should.equal("open");
      res.body.environment.should.equal("simulator");
      res.body.eposId.should.equal("till-1");
      res.body.virtualTerminal.should.equal("pac/vt/cfg/");
      const t1 = res.body.terminals.find((t) => t.terminalId === "SIM00001");
      t1.step.should.equal("PRESENT_CARD");
      t1.paymentId.should.equal("adm-1");
      res.body.payments[0].should.containEql({ paymentId: "adm-1", status: "IN_PROGRESS", queryable: true, amount: 1250 });

      const q = await post("/pac/payment/cfg/adm-1/query", {}).expect(200);
      q.body.payment.paymentId.should.equal("adm-1");
      ["PENDING", "IN_PROGRESS"].should.containEql(q.body.payment.status);

      await cfg.pac.simulator.act("SIM00001", "present");
      await cfg.pac.simulator.act("SIM00001", "approve");
      await until(() => ok.length === 1, "approved");
      res = await helper.request().get("/pac/status/cfg").expect(200);
      res.body.payments[0].should.containEql({ paymentId: "adm-1", status: "CAPTURED", queryable: false, delivered: true });
      should.not.exist(res.body.terminals.find((t) => t.terminalId === "SIM00001").step);

      const done = await post("/pac/payment/cfg/adm-1/query", {}).expect(200);
      done.body.payment.status.should.equal("CAPTURED");
      const unknown = await post("/pac/payment/cfg/no-such-payment/query", {}).expect(404);
      unknown.body.error.should.equal("PAYMENT_NOT_FOUND");
      await post("/pac/payment/nope/adm-1/query", {}).expect(404);
    });
  });

  describe("test-connection", function () {
    it("simulator, not deployed: a throwaway simulator answers", async function () {
      await load(flowWith(simConfig(), []));
      const res = await post("/pac/test-connection", { id: "other", environment: "simulator", eposId: "till-x", requestTimeout: 5 }).expect(200);
      res.body.should.containEql({ ok: true, source: "test", terminals: 2 });
    });

    it("simulator, deployed: reports on the deployed connection", async function () {
      await load(flowWith(simConfig(), []));
      await waitConnected();
      const res = await post("/pac/test-connection", { id: "cfg", environment: "simulator", eposId: "till-1", requestTimeout: 5 }).expect(200);
      res.body.should.containEql({ ok: true, source: "deployed", terminals: 2 });
    });

    it("a custom URL: OK with the number of terminals; a wrong key is a 401 and is never echoed", async function () {
      const s = await sim();
      await load(flowWith(simConfig(), []));
      const body = { environment: "custom", url: s.url, eposId: "till-t", softwareHouseId: "sh", requestTimeout: 5, ...s.credentials };
      const good = await post("/pac/test-connection", body).expect(200);
      good.body.should.containEql({ ok: true, source: "test", terminals: 2 });
      good.body.terminalIds.should.eql(["SIM00001", "SIM00002"]);
      const bad = await post("/pac/test-connection", { ...body, apiKey: "wrong-key-0123456789" }).expect(200);
      bad.body.should.containEql({ ok: false, problem: "auth", httpStatus: 401 });
      JSON.stringify(bad.body).should.not.containEql("wrong-key-0123456789");
      JSON.stringify(good.body).should.not.containEql(s.credentials.apiKey);
      s.connections().should.eql([]); // the throwaway connections are closed
    });

    it("a throwaway test connection stores nothing, so it acknowledges nothing: a record Dojo holds for that epos-id stays with Dojo", async function () {
      const s = await sim({ manual: true });
      await load(flowWith(simConfig(), []));
      // A sale of epos-id till-r whose till went away before its record came (the record waits at Dojo).
      const { PacClient } = require("../dist/engine");
      const journalDir = tmpDir();
      const till = await PacClient.open({ url: s.url, ...s.credentials, eposId: "till-r", softwareHouseId: "sh", journalDir });
      till.start();
      await until(() => till.state === "open", "till connected");
      await till.createPayment({ terminalId: "SIM00001", amount: 1250, currency: "GBP", paymentId: "held-by-dojo" });
      await till.close();
      await s.act("SIM00001", "present");
      await s.act("SIM00001", "approve").catch(() => undefined);
      await s.act("SIM00001", "removeCard").catch(() => undefined);
      await until(() => s.pendingRecords("till-r").length === 1, "record waiting at Dojo");
      const res = await post("/pac/test-connection", {
        environment: "custom",
        url: s.url,
        eposId: "till-r",
        softwareHouseId: "sh",
        requestTimeout: 5,
        ...s.credentials,
      }).expect(200);
      res.body.should.containEql({ ok: true, source: "test" });
      s.pendingRecords("till-r")
        .map((r) => r.paymentId)
        .should.eql(["held-by-dojo"]); // not acknowledged into a journal that is thrown away
      fs.rmSync(journalDir, { recursive: true, force: true });
    });

    it("__PWRD__ / _ mean the saved credentials; none saved is said so", async function () {
      const s = await sim();
      await load(flowWith(simConfig(), [{ ...customConfig(s, { id: "cfg2", eposId: "till-2" }) }]), {
        cfg2: { ...s.credentials },
      });
      await until(() => helper.getNode("cfg2") && helper.getNode("cfg2").pac.client && helper.getNode("cfg2").pac.client.state === "open", "cfg2 open");
      const body = { id: "cfg2", environment: "custom", url: s.url, eposId: "till-3", softwareHouseId: "shopflow-tests", requestTimeout: 5 };
      const saved = await post("/pac/test-connection", { ...body, accountName: "_", apiKey: "__PWRD__" }).expect(200);
      saved.body.should.containEql({ ok: true, source: "test", terminals: 2 });
      const same = await post("/pac/test-connection", { ...body, eposId: "till-2", accountName: s.credentials.accountName, apiKey: "__PWRD__" }).expect(200);
      same.body.should.containEql({ ok: true, source: "deployed", terminals: 2 });
      const none = await post("/pac/test-connection", { ...body, id: "nothing-saved", accountName: "x", apiKey: "__PWRD__" }).expect(200);
      none.body.should.containEql({ ok: false, problem: "no-saved-credentials" });
    });

    it("tests a deployed config that no node uses with a throwaway connection, leaving it unstarted", async function () {
      const s = await sim();
      // helper.load directly: load() would give the config a user, which starts it.
      await helper.load(require("./nodes-helpers").nodeModules, [{ id: "f1", type: "tab", label: "test" }, customConfig(s, { id: "cfg2", eposId: "till-5" })], {
        cfg2: { ...s.credentials },
      });
      const cfg2 = helper.getNode("cfg2");
      const body = { id: "cfg2", environment: "custom", url: s.url, eposId: "till-5", softwareHouseId: "shopflow-tests", requestTimeout: 5 };
      const res = await post("/pac/test-connection", { ...body, accountName: s.credentials.accountName, apiKey: "__PWRD__" }).expect(200);
      res.body.should.containEql({ ok: true, source: "test", terminals: 2 });
      (cfg2.pac.client === null).should.be.true();
      cfg2.pac.connectionView.state.should.equal("idle");
      s.connections().should.eql([]);
    });

    it("never displaces a deployed connection that is up with the same epos-id", async function () {
      const s = await sim();
      await load(flowWith(simConfig(), [{ ...customConfig(s, { id: "cfg2" }) }]), { cfg2: { ...s.credentials } });
      await until(() => helper.getNode("cfg2").pac.client && helper.getNode("cfg2").pac.client.state === "open", "cfg2 open");
      const res = await post("/pac/test-connection", {
        id: "new-one",
        environment: "custom",
        url: s.url,
        eposId: "till-1",
        softwareHouseId: "other",
        requestTimeout: 5,
        ...s.credentials,
      }).expect(200);
      res.body.should.containEql({ ok: false, problem: "in-use" });
      helper.getNode("cfg2").pac.client.state.should.equal("open");
    });

    it("reports a deployed connection displaced by another till with its epos-id", async function () {
      const WebSocket = require("ws");
      const s = await sim();
      await load(flowWith(simConfig(), [customConfig(s, { id: "cfg2", eposId: "till-9" })]), { cfg2: { ...s.credentials } });
      const cfg2 = helper.getNode("cfg2");
      await until(() => cfg2.pac.client && cfg2.pac.client.state === "open", "cfg2 open");
      const other = new WebSocket(s.url, {
        headers: {
          authorization: `Basic ${Buffer.from(`${s.credentials.accountName}:${s.credentials.apiKey}`).toString("base64")}`,
          "epos-id": "till-9",
          "software-house-id": "elsewhere",
        },
      });
      other.on("error", () => {});
      try {
        await until(() => cfg2.pac.client.state === "displaced", "cfg2 displaced");
        const res = await post("/pac/test-connection", {
          id: "cfg2",
          environment: "custom",
          url: s.url,
          eposId: "till-9",
          softwareHouseId: "shopflow-tests",
          requestTimeout: 5,
          accountName: s.credentials.accountName,
          apiKey: "__PWRD__",
        }).expect(200);
        res.body.should.containEql({ ok: false, source: "deployed", problem: "displaced" });
        const status = await helper.request().get("/pac/status/cfg2").expect(200);
        status.body.connection.state.should.equal("displaced");
      } finally {
        other.terminate();
      }
    });

    it("names the problem: unreachable, TLS, refused URL, handshake, missing settings", async function () {
      const s = await sim();
      await load(flowWith(simConfig(), []));
      const closed = await new Promise((resolve) => {
        const srv = net.createServer().listen(0, "127.0.0.1", () => {
          const port = /** @type {import("net").AddressInfo} */ (srv.address()).port;
          srv.close(() => resolve(port));
        });
      });
      const base = { environment: "custom", eposId: "till-t", softwareHouseId: "sh", requestTimeout: 5, ...s.credentials };
      const unreachable = await post("/pac/test-connection", { ...base, url: `ws://127.0.0.1:${closed}/ws` }).expect(200);
      unreachable.body.should.containEql({ ok: false, problem: "unreachable" });
      unreachable.body.detail.should.match(/ECONNREFUSED/);
      const tls = await post("/pac/test-connection", { ...base, url: s.url.replace(/^ws:/, "wss:") }).expect(200);
      tls.body.should.containEql({ ok: false, problem: "tls" });
      const insecure = await post("/pac/test-connection", { ...base, url: "ws://pac.example.invalid/ws" }).expect(200);
      insecure.body.should.containEql({ ok: false, problem: "url" });
      const missing = await post("/pac/test-connection", { ...base, url: s.url, eposId: "" }).expect(200);
      missing.body.should.containEql({ ok: false, problem: "config" });
      await post("/pac/test-connection", "[1]").expect(400);
    });

    it("honours settings.js dojoPac.allowInsecure like a deployed connection: ws:// to a host that is not loopback", async function () {
      // The IPv4-mapped form of 127.0.0.1 is not a loopback name to the URL check, yet reaches the
      // simulator on 127.0.0.1 (nothing leaves this machine).
      const s = await sim({ host: "127.0.0.1" });
      const reachable = await new Promise((resolve) => {
        const c = net.connect(s.port, "::ffff:127.0.0.1");
        c.once("connect", () => (c.destroy(), resolve(true)));
        c.once("error", () => resolve(false));
      });
      if (!reachable) this.skip(); // no IPv6 stack at all
      const body = {
        environment: "custom",
        url: `ws://[::ffff:127.0.0.1]:${s.port}/ws/v2/pac/epos`,
        eposId: "till-i",
        softwareHouseId: "sh",
        requestTimeout: 5,
        ...s.credentials,
      };
      await load(flowWith(simConfig(), []));
      const refused = await post("/pac/test-connection", body).expect(200);
      refused.body.should.containEql({ ok: false, problem: "url" });
      s.stats.connectionAttempts.should.equal(0);
      await helper.unload();

      helper.settings({ userDir, dojoPac: { allowInsecure: true } });
      await load(flowWith(simConfig(), []));
      const allowed = await post("/pac/test-connection", body).expect(200);
      allowed.body.should.containEql({ ok: true, source: "test", terminals: 2 });
      s.connections().should.eql([]); // the throwaway connection is closed
    });

    it("classifies handshake reasons", function () {
      classifyReason("HTTP 401").should.eql({ problem: "auth", httpStatus: 401 });
      classifyReason("Dojo refused the handshake (HTTP 400): check epos-id").should.eql({ problem: "handshake", httpStatus: 400 });
      classifyReason("HTTP 404").should.eql({ problem: "http", httpStatus: 404 });
      classifyReason("getaddrinfo ENOTFOUND nope.invalid").problem.should.equal("unreachable");
      classifyReason("self-signed certificate").problem.should.equal("tls");
      classifyReason("Opening handshake has timed out").problem.should.equal("timeout");
    });
  });

  describe("virtual terminal page", function () {
    it("is mounted for a simulator config, with relative URLs, and drives the terminals", async function () {
      await load(flowWith(simConfig(), []));
      const cfg = await waitConnected();
      const redirect = await helper.request().get("/pac/vt/cfg").expect(302);
      redirect.headers.location.should.equal("cfg/");
      const page = await helper.request().get("/pac/vt/cfg/").expect(200);
      page.text.should.match(/SIM00001/);
      page.text.should.match(/href="vt\/style\.css"/);
      const state = await helper.request().get("/pac/vt/cfg/vt/state").expect(200);
      state.body.map((i) => i.terminal.terminalId).should.eql(["SIM00001", "SIM00002"]);
      await post("/pac/vt/cfg/vt/manual", { terminalId: "SIM00001", manual: true }).expect(200);
      cfg.pac.simulator.terminals()[0].manual.should.be.true();
      // Only here, behind Node-RED's admin auth: the simulator's own port serves no page.
      (cfg.pac.simulator.virtualTerminalUrl === undefined).should.be.true();
      const own = await fetch(`http://127.0.0.1:${cfg.pac.simulator.port}/`);
      own.status.should.equal(404);
    });

    it("is 404 for a config that is not a simulator, or not deployed", async function () {
      const s = await sim();
      await load(flowWith(simConfig(), [{ ...customConfig(s, { id: "cfg2" }) }]), { cfg2: { ...s.credentials } });
      await helper.request().get("/pac/vt/cfg2/").expect(404);
      await helper.request().get("/pac/vt/nope/").expect(404);
    });
  });
});
