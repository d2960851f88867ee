"use strict";
// The seven node types in a real Node-RED runtime against the zero-delay simulator.
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
  statuses,
  waitConnected,
  flowWith,
  simConfig,
  paymentNode,
  outputHelpers,
  paymentOutputs,
} = require("./nodes-helpers");

describe("pac nodes", function () {
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

  async function load(nodes, configExtra, credentials) {
    await helper.load(nodeModules, flowWith(simConfig(configExtra), nodes), credentials || {});
  }

  /** pac-payment + outputs + collectors, connected. */
  async function loadPayment(extra, more) {
    await load([paymentNode(extra), ...outputHelpers, ...(more || [])]);
    const cfg = await waitConnected();
    return { cfg, sim: cfg.pac.simulator, ...paymentOutputs() };
  }

  describe("pac-payment", function () {
    it("sends an approved sale on output 1 with the original msg, progress on output 3, done() then", async () => {
      const t = await loadPayment({}, [
        { id: "complete", type: "complete", scope: ["pay"], wires: [["completed"]] },
        { id: "completed", type: "helper" },
      ]);
      const completed = collect("completed");
      const res = { send() {} }; // not JSON: must come back as the same object
      t.pay.receive({ payload: 1250, order: { id: 7 }, res, topic: "till" });
      await until(() => t.ok.length === 1, "output 1");
      await delay(30);
      t.ko.should.have.length(0);
      const m = t.ok[0];
      m.res.should.equal(res);
      m.order.should.eql({ id: 7 });
      m.topic.should.equal("till");
      m.paymentId.should.equal(m.payload.paymentId);
      m.payload.should.containDeep({ terminalId: "SIM00001", status: "CAPTURED", amount: 1250, currency: "GBP", captureMode: "AUTO" });
      m.payload.authCode.should.match(/^\d{6}$/);
      m.payload.card.should.have.properties(["scheme", "last4"]);
      m.payload.record.status.should.equal("CAPTURED");
      (m.redelivered === undefined).should.be.true();
      // progress: one msg per notification, this payment only
      const values = t.prog.map((p) => p.payload.notification);
      values.should.containDeep(["PRESENT_CARD", "APPROVED", "TRANSACTION_FINISHED"]);
      for (const p of t.prog) {
        p.topic.should.equal("notification");
        p.paymentId.should.equal(m.paymentId);
        p.payload.should.have.properties({ paymentId: m.paymentId, terminalId: "SIM00001" });
      }
      // Complete fires once, with the result
      completed.should.have.length(1);
      t.errors.should.have.length(0);
      const texts = t.status.map((s) => s.text);
      texts.should.containDeep(["present card"]);
      t.status[t.status.length - 1].should.eql({ fill: "green", shape: "dot", text: "paid £12.50" });
    });

    it("takes an object payload that overrides the node's settings", async () => {
      const t = await loadPayment();
      t.pay.receive({ payload: { amount: 2050, currency: "EUR", terminalId: "SIM00002", captureMode: "MANUAL", paymentId: "order-42", tipsAmount: 100 } });
      await until(() => t.ok.length === 1, "output 1");
      t.ok[0].paymentId.should.equal("order-42");
      t.ok[0].payload.should.containDeep({
        paymentId: "order-42",
        terminalId: "SIM00002",
        status: "AUTHORIZED",
        amount: 2050,
        currency: "EUR",
        captureMode: "MANUAL",
      });
      t.status[t.status.length - 1].text.should.equal("authorised €20.50");
      t.sim.stats.createPaymentIds.should.eql(["order-42"]);
    });

    it("sends declined and failed payments on output 2", async () => {
      const t = await loadPayment();
      t.pay.receive({ payload: 1201, n: 1 });
      await until(() => t.ko.length === 1, "declined");
      t.pay.receive({ payload: 1204, n: 2 });
      await until(() => t.ko.length === 2, "failed");
      t.ko[0].payload.status.should.equal("DECLINED");
      t.ko[0].n.should.equal(1);
      t.ko[1].payload.status.should.equal("FAILED");
      t.ok.should.have.length(0);
      t.errors.should.have.length(0);
      t.status[t.status.length - 1].should.eql({ fill: "red", shape: "ring", text: "failed" });
    });

    it("uses the first AVAILABLE terminal when neither node nor msg names one", async () => {
      const t = await loadPayment({ terminalId: "" });
      t.pay.receive({ payload: 1250 });
      await until(() => t.ok.length === 1, "output 1");
      t.ok[0].payload.terminalId.should.equal("SIM00001");
    });

    it("refuses bad input with a message saying what to send; nothing reaches Dojo", async () => {
      const t = await loadPayment();
      const bad = [
        [12.5, /send msg\.payload = 1250 for £12\.50/],
        ["12.50", /amounts are in minor units, send "1250" \(or 1250\) for £12\.50/],
        [-5, /greater than 0/],
        [0, /greater than 0/],
        [null, /msg\.payload must be the amount/],
        [{}, /amount is missing/],
        [{ amount: 1250, currency: "ABC" }, /unknown currency "ABC"/],
        [{ amount: 1250, currency: "gbp" }, /unknown currency "gbp"/],
        [{ amount: 1250, terminalId: "bad id!" }, /terminalId must be/],
        [{ amount: 1250, paymentId: "bad id!" }, /paymentId must be/],
        [{ amount: 1250, captureMode: "LATER" }, /captureMode must be/],
        [{ amount: 1250, tipsAmount: 1.5 }, /tipsAmount/],
      ];
      for (const [payload] of bad) t.pay.receive({ payload, tag: "bad" });
      await until(() => t.errors.length === bad.length, "all errors");
      bad.forEach(([, re], i) => {
        const e = t.errors[i];
        e.error.message.should.match(re);
        e.error.code.should.equal("INVALID_INPUT");
        e.error.source.id.should.equal("pay");
        e.tag.should.equal("bad");
      });
      t.sim.stats.createPaymentIds.should.have.length(0);
      t.ok.should.have.length(0);
      t.ko.should.have.length(0);
    });

    it("refuses a reused paymentId", async () => {
      const t = await loadPayment();
      t.pay.receive({ payload: { amount: 1250, paymentId: "dup-1" } });
      await until(() => t.ok.length === 1, "first payment");
      t.pay.receive({ payload: { amount: 1250, paymentId: "dup-1" } });
      await until(() => t.errors.length === 1, "error");
      t.errors[0].error.message.should.match(/dup-1 was already used/);
      t.sim.stats.createPaymentIds.should.eql(["dup-1"]);
      // the same new id twice at once: one payment, one error
      t.pay.receive({ payload: { amount: 1250, paymentId: "dup-2" }, n: 1 });
      t.pay.receive({ payload: { amount: 1250, paymentId: "dup-2" }, n: 2 });
      await until(() => t.ok.length === 2 && t.errors.length === 2, "one result, one error");
      await delay(50);
      t.ok.should.have.length(2);
      t.ok[1].n.should.equal(1);
      t.errors[1].n.should.equal(2);
      t.errors[1].error.message.should.match(/dup-2 was already used/);
    });

    it("reports Dojo's refusal (TERMINAL_BUSY) to Catch; pac-cancel cancels at PRESENT_CARD", async () => {
      const t = await loadPayment({}, [
        { id: "cancel", type: "pac-cancel", server: "cfg", wires: [["cancelled"]] },
        { id: "cancelled", type: "helper" },
      ]);
      const cancelled = collect("cancelled");
      t.pay.receive({ payload: { amount: 1203, paymentId: "wait-1" } }); // waits at PRESENT_CARD
      await until(() => t.prog.some((m) => m.payload.notification === "PRESENT_CARD"), "PRESENT_CARD");
      t.pay.receive({ payload: { amount: 1250, paymentId: "busy-1" }, second: true });
      await until(() => t.errors.length === 1, "busy error");
      const e = t.errors[0];
      e.error.code.should.equal("TERMINAL_BUSY");
      e.error.message.should.match(/TERMINAL_BUSY/);
      e.second.should.be.true();
      helper.getNode("cancel").receive({ payload: { paymentId: "wait-1" }, ticket: 9 });
      await until(() => cancelled.length === 1, "cancel ack");
      cancelled[0].payload.should.eql({ paymentId: "wait-1", terminalId: "SIM00001" });
      cancelled[0].ticket.should.equal(9);
      await until(() => t.ko.length === 1, "cancelled outcome");
      t.ko[0].payload.should.containDeep({ paymentId: "wait-1", status: "CANCELLED" });
      t.status[t.status.length - 1].text.should.equal("cancelled");
    });

    it("asks the flow about signatures and takes the answer", async () => {
      const t = await loadPayment({ signature: "ask" });
      t.pay.receive({ payload: { amount: 1202, paymentId: "sig-no" } });
      await until(() => t.prog.some((m) => m.topic === "signature"), "signature question");
      const q = t.prog.find((m) => m.topic === "signature");
      q.paymentId.should.equal("sig-no");
      q.payload.should.have.properties({ paymentId: "sig-no", terminalId: "SIM00001" });
      q.payload.receiptLines.should.be.an.Array().and.not.be.empty();
      q.payload.timeout.should.be.a.Number();
      t.status[t.status.length - 1].fill.should.equal("yellow");
      t.pay.receive({ topic: "signature", payload: { paymentId: "sig-no", accepted: false } });
      await until(() => t.ko.length === 1, "declined after signature");
      t.ko[0].payload.status.should.equal("DECLINED");

      t.pay.receive({ payload: { amount: 1202, paymentId: "sig-yes" } });
      await until(() => t.prog.filter((m) => m.topic === "signature").length === 2, "second question");
      t.pay.receive({ topic: "signature", payload: { paymentId: "sig-yes", accepted: true } });
      await until(() => t.ok.length === 1, "approved after signature");
      t.ok[0].payload.status.should.equal("CAPTURED");

      t.pay.receive({ topic: "signature", payload: { paymentId: "nobody", accepted: true } });
      t.pay.receive({ topic: "signature", payload: { paymentId: "sig-yes", accepted: "yes" } });
      await until(() => t.errors.length === 2, "answer errors");
      const noQuestion = t.errors.find((e) => e.error.code === "NO_QUESTION");
      noQuestion.error.message.should.match(/no open signature question for payment nobody/);
      t.errors.find((e) => e.error.code === "INVALID_INPUT").error.message.should.match(/accepted: true or false/);
    });

    it("fails with NOT_CONNECTED when Dojo cannot be reached", async () => {
      const sim = await PacSimulator.start({ delays: "zero" });
      const url = sim.url;
      await sim.stop(); // nothing listens there now
      await helper.load(
        nodeModules,
        flowWith({ id: "cfg", type: "pac-config", environment: "custom", url, eposId: "till-1", softwareHouseId: "sh", requestTimeout: 1 }, [
          paymentNode(),
          ...outputHelpers,
        ]),
        { cfg: { accountName: "acct", apiKey: "key-not-used-1234" } },
      );
      const errors = collect("errors");
      const st = statuses("pay");
      await until(() => st.some((s) => /^reconnect in \d+ s$|not connected/.test(s.text)), "disconnected status");
      helper.getNode("pay").receive({ payload: 1250 });
      await until(() => errors.length === 1, "error");
      errors[0].error.code.should.equal("NOT_CONNECTED");
    });

    it("waits through a lost CreatePayment answer (OUTCOME_UNKNOWN) and sends the one outcome", async () => {
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
        const ok = collect("ok");
        const ko = collect("ko");
        const errors = collect("errors");
        const st = statuses("pay");
        helper.getNode("pay").receive({ payload: 1250, keep: "me" });
        await until(() => st.some((s) => s.text === "awaiting outcome"), "outcome-unknown status");
        await until(() => ok.length === 1, "outcome after reconnect", 8000);
        await delay(50);
        ok.should.have.length(1);
        ok[0].keep.should.equal("me");
        ok[0].payload.status.should.equal("CAPTURED");
        ko.should.have.length(0);
        errors.should.have.length(0);
      } finally {
        await unloadThen(() => sim.stop());
      }
    });
  });

  describe("pac-refund", function () {
    it("refunds on output 1 (REFUNDED) and refuses bad input", async () => {
      await load([
        { id: "refund", type: "pac-refund", server: "cfg", terminalId: "SIM00002", currency: "GBP", signature: "accept", wires: [["ok"], ["ko"], ["prog"]] },
        ...outputHelpers,
      ]);
      await waitConnected();
      const ok = collect("ok");
      const prog = collect("prog");
      const errors = collect("errors");
      const st = statuses("refund");
      helper.getNode("refund").receive({ payload: { amount: 500, paymentId: "refund-1" }, orderId: "A1" });
      await until(() => ok.length === 1, "refund");
      ok[0].payload.should.containDeep({ paymentId: "refund-1", status: "REFUNDED", amount: 500, terminalId: "SIM00002" });
      ok[0].payload.should.not.have.property("captureMode");
      ok[0].orderId.should.equal("A1");
      prog.length.should.be.above(0);
      st[st.length - 1].text.should.equal("refunded £5.00");
      helper.getNode("refund").receive({ payload: 5.5 });
      await until(() => errors.length === 1, "error");
      errors[0].error.message.should.match(/send msg\.payload = 1250 for £12\.50/);
    });
  });

  describe("pac-capture", function () {
    it("captures and updates pre-auths; reports Dojo's refusal with its userMessage", async () => {
      const t = await loadPayment({ captureMode: "MANUAL" }, [
        { id: "capture", type: "pac-capture", server: "cfg", action: "capture", wires: [["captured"]] },
        { id: "captured", type: "helper" },
      ]);
      const captured = collect("captured");
      const capture = helper.getNode("capture");
      for (const id of ["pre-1", "pre-2", "pre-3"]) {
        const n = t.ok.length;
        t.pay.receive({ payload: { amount: 1000, paymentId: id } });
        await until(() => t.ok.length === n + 1, `pre-auth ${id}`);
      }
      t.ok.forEach((m) => m.payload.status.should.equal("AUTHORIZED"));

      capture.receive({ payload: { paymentId: "pre-1", amount: 800 }, ref: "x" });
      await until(() => captured.length === 1, "capture");
      captured[0].payload.should.eql({ paymentId: "pre-1", status: "CAPTURED", amount: 800 });
      captured[0].ref.should.equal("x");

      capture.receive({ topic: "update", paymentId: "pre-2", payload: 1500 });
      await until(() => captured.length === 2, "update");
      captured[1].payload.should.eql({ paymentId: "pre-2", status: "AUTHORIZED", amount: 1500 });

      capture.receive({ payload: { paymentId: "pre-3" } }); // whole authorised amount
      await until(() => captured.length === 3, "full capture");
      captured[2].payload.should.eql({ paymentId: "pre-3", status: "CAPTURED", amount: 1000 });

      capture.receive({ payload: { paymentId: "pre-1", amount: 100 } }); // captured already
      await until(() => t.errors.length === 1, "refusal");
      t.errors[0].error.code.should.equal("INVALID_STATE");
      t.errors[0].error.message.should.match(/Dojo refused CapturePayment: Payment pre-1 cannot be/);

      capture.receive({ payload: { amount: 100 } });
      await until(() => t.errors.length === 2, "bad input");
      t.errors[1].error.code.should.equal("INVALID_INPUT");
      t.errors[1].error.message.should.match(/paymentId/);
    });
  });

  describe("pac-cancel", function () {
    it("says the card was already presented: refund instead", async () => {
      const t = await loadPayment({}, [
        { id: "cancel", type: "pac-cancel", server: "cfg", wires: [["cancelled"]] },
        { id: "cancelled", type: "helper" },
      ]);
      const cancelled = collect("cancelled");
      t.sim.setManual("SIM00001", true);
      t.pay.receive({ payload: { amount: 1250, paymentId: "late-1" } });
      await until(() => t.sim.terminals().find((x) => x.terminalId === "SIM00001").step === "presentCard", "present card");
      await t.sim.act("SIM00001", "present");
      await until(() => t.prog.some((m) => m.payload.notification === "PLEASE_WAIT"), "PLEASE_WAIT");
      helper.getNode("cancel").receive({ paymentId: "late-1" });
      await until(() => t.errors.length === 1, "refusal");
      t.errors[0].error.code.should.equal("INVALID_STATE");
      t.errors[0].error.message.should.match(/card was already presented/);
      t.errors[0].error.message.should.match(/[Rr]efund/);
      helper.getNode("cancel").receive({ payload: "nothing" });
      await until(() => t.errors.length === 2, "bad input");
      t.errors[1].error.code.should.equal("INVALID_INPUT");
      await t.sim.act("SIM00001", "approve");
      await until(() => t.ok.length === 1, "approved");
      cancelled.should.have.length(0);
    });
  });

  describe("pac-events", function () {
    it("emits the selected events only, filtered by terminal; wire only when selected", async () => {
      const t = await loadPayment({}, [
        { id: "ev", type: "pac-events", server: "cfg", events: ["notification", "record", "connection", "signature"], terminalId: "", wires: [["evs"]] },
        { id: "evs", type: "helper" },
        { id: "ev2", type: "pac-events", server: "cfg", events: ["notification"], terminalId: "SIM00002", wires: [["evs2"]] },
        { id: "evs2", type: "helper" },
      ]);
      // the connection opened after the events node registered
      t.cfg.pac.client.listenerCount("wire").should.equal(0);
      const evs = collect("evs");
      const evs2 = collect("evs2");
      t.pay.receive({ payload: 1250 });
      await until(() => t.ok.length === 1, "payment");
      await until(() => evs.some((m) => m.topic === "record"), "record event");
      const paymentId = t.ok[0].paymentId;
      const rec = evs.find((m) => m.topic === "record");
      rec.payload.should.containDeep({ paymentId, kind: "payment", foreign: false });
      rec.payload.record.status.should.equal("CAPTURED");
      const notes = evs.filter((m) => m.topic === "notification");
      notes.length.should.be.above(2);
      notes[0].payload.should.have.properties({ paymentId, terminalId: "SIM00001", notification: "PRESENT_CARD" });
      evs2.should.have.length(0); // other terminal
      evs.every((m) => ["notification", "record", "connection"].includes(m.topic)).should.be.true();
    });

    it("reports connection changes and traces the wire (redacted) when asked", async () => {
      const sim = await PacSimulator.start({ delays: "zero" });
      try {
        await helper.load(
          nodeModules,
          flowWith({ id: "cfg", type: "pac-config", environment: "custom", url: sim.url, eposId: "till-9", softwareHouseId: "sh", requestTimeout: 5 }, [
            { id: "ev", type: "pac-events", server: "cfg", events: ["connection", "wire"], terminalId: "", wires: [["evs"]] },
            { id: "evs", type: "helper" },
            { id: "st", type: "pac-status", server: "cfg", query: "terminals", wires: [["out"]] },
            { id: "out", type: "helper" },
          ]),
          { cfg: sim.credentials },
        );
        const evs = collect("evs");
        const out = collect("out");
        const cfg = await waitConnected();
        cfg.pac.client.listenerCount("wire").should.equal(1);
        await until(() => evs.some((m) => m.topic === "connection" && m.payload.state === "open"), "open event");
        helper.getNode("st").receive({});
        await until(() => out.length === 1, "terminals");
        await until(() => evs.filter((m) => m.topic === "wire").length >= 2, "wire frames");
        const wire = evs.filter((m) => m.topic === "wire");
        wire.map((w) => w.payload.direction).should.containDeep(["out", "in"]);
        wire[0].payload.text.should.match(/ConnectedTerminals/);
        wire[0].payload.at.should.be.a.Number();
        for (const m of evs) JSON.stringify(m).should.not.containEql(sim.credentials.apiKey);
        await sim.suspend();
        await until(() => evs.some((m) => m.topic === "connection" && m.payload.state === "reconnecting"), "reconnecting event");
        const lost = evs.find((m) => m.payload.state === "reconnecting");
        lost.payload.should.have.property("reason");
        await sim.resume();
      } finally {
        await unloadThen(() => sim.stop());
      }
    });
  });

  describe("pac-status", function () {
    it("answers payment, terminals, terminal and journal queries", async () => {
      const t = await loadPayment({}, [
        { id: "st", type: "pac-status", server: "cfg", query: "payment", wires: [["out"]] },
        { id: "out", type: "helper" },
      ]);
      const out = collect("out");
      const st = helper.getNode("st");
      t.pay.receive({ payload: { amount: 1250, paymentId: "st-1" } });
      t.pay.receive({ payload: { amount: 999, paymentId: "st-2", terminalId: "SIM00002" } });
      await until(() => t.ok.length === 2, "two payments");
      t.pay.receive({ payload: { amount: 1201, paymentId: "st-3" } }); // SIM00001 is free again
      await until(() => t.ko.length === 1, "third payment");

      st.receive({ payload: { paymentId: "st-1" }, keep: 1 });
      await until(() => out.length === 1, "payment");
      out[0].payload.should.containDeep({ paymentId: "st-1", status: "CAPTURED", terminalId: "SIM00001" });
      out[0].keep.should.equal(1);

      st.receive({ topic: "terminals" });
      await until(() => out.length === 2, "terminals");
      out[1].payload.map((x) => x.terminalId).should.eql(["SIM00001", "SIM00002"]);
      out[1].payload[0].status.should.equal("AVAILABLE");

      st.receive({ topic: "terminal", payload: "SIM00002" });
      await until(() => out.length === 3, "terminal");
      out[2].payload.should.containDeep({ terminalId: "SIM00002", status: "AVAILABLE" });

      st.receive({ topic: "journal" });
      await until(() => out.length === 4, "journal");
      const j = out[3].payload;
      j.entries
        .map((e) => e.id)
        .sort()
        .should.eql(["st-1", "st-2", "st-3"]);
      j.totals.CAPTURED.GBP.should.eql({ count: 2, amount: 2249 });
      j.totals.DECLINED.GBP.should.eql({ count: 1, amount: 1201 });
      Date.parse(j.from).should.be.belowOrEqual(Date.now());

      st.receive({ topic: "journal", payload: { from: Date.now() + 60000, to: new Date(Date.now() + 120000).toISOString() } });
      await until(() => out.length === 5, "empty journal window");
      out[4].payload.entries.should.have.length(0);

      st.receive({ topic: "payment", payload: {} });
      st.receive({ topic: "journal", payload: { from: "yesterday-ish" } });
      await until(() => t.errors.length === 2, "errors");
      t.errors.forEach((e) => e.error.code.should.equal("INVALID_INPUT"));
    });
  });

  describe("pac-config", function () {
    it("shows the connection state on every user node", async () => {
      await load([
        paymentNode(),
        ...outputHelpers,
        { id: "capture", type: "pac-capture", server: "cfg", action: "capture", wires: [[]] },
        { id: "st", type: "pac-status", server: "cfg", query: "terminals", wires: [[]] },
      ]);
      const cfg = await waitConnected();
      cfg.users.should.have.properties(["pay", "capture", "st"]);
      for (const id of ["pay", "capture", "st"]) {
        const st = statuses(id);
        cfg.pac.client.connection.emit("state", "reconnecting", { reason: "test", retryInMs: 2000 });
        await until(() => st.length > 0, `status of ${id}`);
        st[st.length - 1].should.eql({ fill: "red", shape: "ring", text: "reconnect in 2 s" });
      }
    });

    it("reports an unusable configuration on the nodes and to Catch", async () => {
      await load([paymentNode(), ...outputHelpers], { eposId: "" });
      const errors = collect("errors");
      const pay = helper.getNode("pay");
      const cfg = helper.getNode("cfg");
      cfg.pac.connectionView.state.should.equal("config-error");
      (cfg.pac.client === null).should.be.true();
      pay.receive({ payload: 1250 });
      await until(() => errors.length === 1, "error");
      errors[0].error.code.should.equal("CONFIG");
      errors[0].error.message.should.match(/EPOS id is missing/);
    });

    it("shows auth failures without ever showing the API key", async () => {
      const sim = await PacSimulator.start({ delays: "zero" });
      const secret = "wrong-secret-api-key-0123456789";
      try {
        await helper.load(
          nodeModules,
          flowWith({ id: "cfg", type: "pac-config", environment: "custom", url: sim.url, eposId: "till-1", softwareHouseId: "sh", requestTimeout: 1 }, [
            paymentNode(),
            ...outputHelpers,
          ]),
          { cfg: { accountName: sim.credentials.accountName, apiKey: secret } },
        );
        const st = statuses("pay");
        const errors = collect("errors");
        await until(() => st.some((s) => /auth failed/.test(s.text)), "auth failed status");
        helper.getNode("pay").receive({ payload: 1250 });
        await until(() => errors.length === 1, "error");
        errors[0].error.code.should.equal("NOT_CONNECTED");
        const seen = JSON.stringify([st, errors, helper.log().args]);
        seen.should.not.containEql(secret);
        seen.should.not.containEql(Buffer.from(`${sim.credentials.accountName}:${secret}`).toString("base64"));
      } finally {
        await unloadThen(() => sim.stop());
      }
    });

    it("closes within a few seconds on redeploy (client, simulator, listeners)", async () => {
      const t = await loadPayment();
      t.pay.receive({ payload: 1203 }); // left running at PRESENT_CARD
      await until(() => t.prog.length > 0, "running");
      const sim = t.sim;
      const client = t.cfg.pac.client;
      const started = Date.now();
      await helper.unload();
      (Date.now() - started).should.be.below(3000);
      client.state.should.equal("closed");
      sim.connections().should.have.length(0);
      await helper.load(nodeModules, flowWith(simConfig(), [])); // afterEach unloads this one
    });
  });
});
