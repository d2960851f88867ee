"use strict";
// Faults 1-4 and 12: the socket drops at each step of a payment, records are redelivered, requests
// time out. Through the real nodes (pac-config + pac-payment in Node-RED) against the standalone
// simulator on 127.0.0.1 with fault injection. For every payment: exactly one result, CreatePayment
// sent once, the right status on the node.
const {
  helper,
  until,
  delay,
  nodeRedSuite,
  startSim,
  waitStep,
  frameCounter,
  collect,
  statuses,
  lastStatus,
  waitOpen,
  loadPaymentFlow,
  approve,
  exactlyOne,
  within,
  SETTLE_MS,
} = require("./helpers");

const APPROVED = { fill: "green", shape: "dot", text: "paid £12.50" };
const RECONNECTING = /^reconnect in \d+ s$/;

describe("faults: the connection drops at every step of a payment (through the nodes)", function () {
  this.timeout(30000);

  nodeRedSuite("pac-faults-t-");

  it("1. drop after CreatePayment is sent, before its ack: outcome unknown, followed up, one result", async () => {
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    sim.faults.set({ dropBeforeResponse: "CreatePayment" });
    t.pay.receive({ payload: 1250, order: 1 });
    await until(() => t.status.some((s) => s.text === "awaiting outcome" && s.fill === "yellow"), "outcome-unknown status");
    t.status.some((s) => RECONNECTING.test(s.text)).should.be.true();
    await waitOpen();
    const paymentId = sim.stats.createPaymentIds[0];
    // followed up with GetPayment after the reconnect (not re-sent)
    await until(() => (sim.stats.requests.GetPayment || 0) >= 1, "GetPayment follow-up");
    await waitStep(sim, "presentCard");
    await approve(sim);
    const m = await exactlyOne(t, paymentId);
    m.order.should.equal(1);
    m.payload.should.containDeep({ paymentId, status: "CAPTURED", amount: 1250 });
    sim.stats.createPaymentIds.should.eql([paymentId]);
    t.errors.should.have.length(0);
    lastStatus(t.status).should.eql(APPROVED);
  });

  it("2. drop while the terminal shows PRESENT_CARD: reconnects, the payment goes on, one result", async () => {
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    sim.faults.set({ dropAfterNotification: "PRESENT_CARD" });
    t.pay.receive({ payload: 1250, order: 2 });
    await until(() => t.status.some((s) => RECONNECTING.test(s.text)), "reconnecting status");
    const paymentId = sim.stats.createPaymentIds[0];
    await waitOpen();
    await until(() => sim.connections().length === 1, "reconnected");
    await approve(sim); // the terminal goes on while the till was away
    const m = await exactlyOne(t, paymentId);
    m.order.should.equal(2);
    m.payload.status.should.equal("CAPTURED");
    sim.stats.createPaymentIds.should.eql([paymentId]);
    sim.stats.connectionsOpened.should.equal(2);
    t.errors.should.have.length(0);
    lastStatus(t.status).should.eql(APPROVED);
  });

  it("3. drop during the signature question: the flow's answer reaches Dojo after the reconnect", async () => {
    const sim = await startSim({ signatureTimeoutMs: 8000 });
    const t = await loadPaymentFlow(sim, { payment: { signature: "ask" } });
    t.pay.receive({ payload: 1250, order: 3 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    await sim.act("SIM00001", "present");
    sim.faults.set({ dropOnSignatureRequest: true });
    const asked = sim.act("SIM00001", "requestSignature"); // resolves once the terminal has its answer
    await until(() => t.prog.some((m) => m.topic === "signature"), "signature question on output 3");
    await until(() => t.status.some((s) => RECONNECTING.test(s.text)), "reconnecting status");
    await waitOpen();
    // the operator says no: the customer must not be charged
    t.pay.receive({ topic: "signature", payload: { paymentId, accepted: false } });
    await within(asked, 10000, "the terminal to get the answer");
    const m = await exactlyOne(t, paymentId, "ko");
    m.order.should.equal(3);
    m.payload.status.should.equal("DECLINED");
    sim.payment(paymentId).status.should.equal("DECLINED");
    sim.stats.createPaymentIds.should.eql([paymentId]);
    t.errors.should.have.length(0);
    lastStatus(t.status).should.eql({ fill: "red", shape: "ring", text: "declined" });
  });

  it("3b. drop during the signature question with policy decline: the decline is not lost", async () => {
    const sim = await startSim({ signatureTimeoutMs: 8000 });
    const t = await loadPaymentFlow(sim, { payment: { signature: "decline" } });
    t.pay.receive({ payload: 1250 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    await sim.act("SIM00001", "present");
    sim.faults.set({ dropOnSignatureRequest: true });
    await sim.act("SIM00001", "requestSignature");
    const m = await exactlyOne(t, paymentId, "ko");
    m.payload.status.should.equal("DECLINED");
    sim.stats.connectionsOpened.should.equal(2);
    sim.stats.createPaymentIds.should.eql([paymentId]);
    t.errors.should.have.length(0);
  });

  it("4. record acknowledgements lost (Dojo redelivers, also twice at once): one result, every delivery acked", async () => {
    const sim = await startSim({ recordRetryMs: 150 });
    const t = await loadPaymentFlow(sim, {
      more: [
        { id: "ev", type: "pac-events", server: "cfg", events: ["record"], terminalId: "", wires: [["evs"]] },
        { id: "evs", type: "helper" },
      ],
    });
    const evs = collect("evs");
    const fc = frameCounter(sim);
    sim.faults.set({ ignoreRecordAcks: 2, duplicateRecords: true });
    t.pay.receive({ payload: 1250, order: 4 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    await approve(sim);
    await exactlyOne(t, paymentId);
    await until(() => sim.pendingRecords("till-f").length === 0, "record settled", 5000);
    await delay(SETTLE_MS);
    sim.stats.recordsSent.should.equal(4); // 2 deliveries, each sent twice (the first two acks "lost")
    sim.stats.recordsAcked.should.equal(1);
    // every delivery was answered, each with success
    const acks = fc.frames.map((f) => JSON.parse(f)).filter((f) => !f.method && f.result && f.result.paymentId === paymentId);
    acks.should.have.length(4);
    acks.forEach((a) => a.result.should.not.have.property("code"));
    t.ok.should.have.length(1);
    evs.filter((m) => m.topic === "record" && m.paymentId === paymentId).should.have.length(1);
    t.cfg.pac.client.journal.get(paymentId).deliveredAt.should.be.a.Number();
    sim.stats.createPaymentIds.should.eql([paymentId]);
    t.errors.should.have.length(0);
    lastStatus(t.status).should.eql(APPROVED);
  });

  it("4b. the connection drops right after the record is sent: redelivered after the reconnect, one result", async () => {
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    t.pay.receive({ payload: 1250 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    sim.faults.set({ dropAfterRecord: true });
    await approve(sim);
    await until(() => sim.stats.connectionsOpened === 2, "reconnected");
    await exactlyOne(t, paymentId);
    await until(() => sim.pendingRecords("till-f").length === 0, "record acknowledged");
    sim.stats.recordsSent.should.be.aboveOrEqual(2);
    sim.stats.createPaymentIds.should.eql([paymentId]);
    t.errors.should.have.length(0);
    lastStatus(t.status).should.eql(APPROVED);
  });

  describe("12. request timeouts", function () {
    it("CreatePayment never answered: OUTCOME_UNKNOWN after the timeout, not re-sent, one result", async () => {
      const sim = await startSim({ faults: { omitResponse: ["CreatePayment"] } });
      const t = await loadPaymentFlow(sim, { config: { requestTimeout: 0.5 } });
      const t0 = Date.now();
      t.pay.receive({ payload: 1250, order: 12 });
      await until(() => t.status.some((s) => s.text === "awaiting outcome"), "outcome-unknown status");
      (Date.now() - t0).should.be.within(400, 3000);
      const paymentId = sim.stats.createPaymentIds[0];
      // (the terminal's PRESENT_CARD told the client the payment runs: no GetPayment needed)
      await waitStep(sim, "presentCard");
      await approve(sim);
      const m = await exactlyOne(t, paymentId);
      m.order.should.equal(12);
      sim.stats.createPaymentIds.should.eql([paymentId]);
      t.errors.should.have.length(0); // a lost ack is not an error: the payment may be running
      lastStatus(t.status).should.eql(APPROVED);
    });

    it("CreatePayment answered after the timeout: the late ack is ignored, one result", async () => {
      const sim = await startSim({ faults: { delayResponse: { CreatePayment: 1200 } } });
      const t = await loadPaymentFlow(sim, { config: { requestTimeout: 0.5 } });
      t.pay.receive({ payload: 1250 });
      await until(() => t.status.some((s) => s.text === "awaiting outcome"), "outcome-unknown status");
      const paymentId = sim.stats.createPaymentIds[0];
      await waitStep(sim, "presentCard", "SIM00001", 5000);
      await approve(sim);
      await exactlyOne(t, paymentId);
      sim.stats.createPaymentIds.should.eql([paymentId]);
      t.errors.should.have.length(0);
    });

    it("GetPayment / CapturePayment never answered: TIMEOUT to Catch, and the nodes keep working", async () => {
      const sim = await startSim({ manual: false });
      const t = await loadPaymentFlow(sim, {
        config: { requestTimeout: 0.5 },
        payment: { captureMode: "MANUAL" },
        more: [
          { id: "st", type: "pac-status", server: "cfg", query: "payment", wires: [["out"]] },
          { id: "out", type: "helper" },
          { id: "cap", type: "pac-capture", server: "cfg", action: "capture", wires: [["captured"]] },
          { id: "captured", type: "helper" },
        ],
      });
      const out = collect("out");
      const captured = collect("captured");
      const capStatus = statuses("cap");
      t.pay.receive({ payload: { amount: 1000, paymentId: "pre-t1" } });
      await until(() => t.ok.length === 1, "pre-auth");
      sim.faults.set({ omitResponse: ["GetPayment", "CapturePayment"] });
      helper.getNode("st").receive({ payload: { paymentId: "pre-t1" }, n: 1 });
      helper.getNode("cap").receive({ payload: { paymentId: "pre-t1", amount: 600 }, n: 2 });
      await until(() => t.errors.length === 2, "two timeouts");
      for (const e of t.errors) {
        e.error.code.should.equal("TIMEOUT");
        e.error.message.should.match(/no answer to (GetPayment|CapturePayment) within 0\.5 s/);
      }
      t.errors
        .map((e) => e.n)
        .sort()
        .should.eql([1, 2]);
      lastStatus(capStatus).fill.should.equal("red");
      sim.faults.clear();
      helper.getNode("st").receive({ payload: { paymentId: "pre-t1" } });
      await until(() => out.length === 1, "status answer");
      out[0].payload.status.should.equal("CAPTURED"); // the capture did happen: Dojo only lost its answer
      captured.should.have.length(0);
      await delay(SETTLE_MS);
      t.ok.should.have.length(1);
      t.ko.should.have.length(0);
      sim.stats.createPaymentIds.should.eql(["pre-t1"]);
    });
  });
});
