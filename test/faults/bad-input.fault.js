"use strict";
// Bad input over every node (pac-payment, pac-refund, pac-capture, pac-cancel, pac-status and the
// signature answer): each bad msg gets its own error on a Catch node (code + text), nothing at all
// reaches Dojo (no frame arrives at the simulator), and the node keeps working: a good msg afterwards
// succeeds.
const {
  helper,
  nodeModules,
  until,
  delay,
  nodeRedSuite,
  startSim,
  waitStep,
  frameCounter,
  collect,
  waitOpen,
  flowWith,
  customConfig,
  paymentNode,
  outputHelpers,
  creds,
  SETTLE_MS,
} = require("./helpers");

const INVALID = "INVALID_INPUT";
const AMOUNT = /whole number of minor units greater than 0: send msg\.payload = 1250 for £12\.50/;

describe("faults: bad input to every node (through the nodes)", function () {
  this.timeout(30000);
  let sim, t, frames;

  nodeRedSuite("pac-faults-b-");
  beforeEach(async () => {
    sim = await startSim({ manual: false, signatureTimeoutMs: 10000 });
    const flow = flowWith(customConfig(sim), [
      paymentNode({ signature: "ask" }),
      { id: "refund", type: "pac-refund", server: "cfg", terminalId: "SIM00002", currency: "GBP", signature: "accept", wires: [["ok"], ["ko"], ["prog"]] },
      { id: "cap", type: "pac-capture", server: "cfg", action: "capture", wires: [["capOut"]] },
      { id: "cancel", type: "pac-cancel", server: "cfg", wires: [["cancelOut"]] },
      { id: "st", type: "pac-status", server: "cfg", query: "payment", wires: [["stOut"]] },
      { id: "capOut", type: "helper" },
      { id: "cancelOut", type: "helper" },
      { id: "stOut", type: "helper" },
      ...outputHelpers,
    ]);
    await helper.load(nodeModules, flow, creds(sim));
    await waitOpen();
    t = {
      ok: collect("ok"),
      ko: collect("ko"),
      prog: collect("prog"),
      errors: collect("errors"),
      capOut: collect("capOut"),
      cancelOut: collect("cancelOut"),
      stOut: collect("stOut"),
    };
    frames = frameCounter(sim);
  });

  /**
   * Send every [msg, code, re] case to node `id`; each must produce exactly its error (in order),
   * with the msg attached, and no frame may reach Dojo meanwhile.
   */
  async function refuses(id, cases) {
    // The acknowledgement of an earlier good sale's record may still be on its way to Dojo (the
    // outcome reaches the flow as soon as the record is on disk): let it land before counting.
    await until(() => sim.stats.recordsAcked === sim.stats.recordsSent, "earlier records acknowledged", 5000);
    const before = frames.count;
    const reqs = JSON.stringify(sim.stats.requests);
    const e0 = t.errors.length;
    cases.forEach(([msg], i) => helper.getNode(id).receive({ ...msg, caseNo: i }));
    await until(() => t.errors.length === e0 + cases.length, `${cases.length} errors from ${id}`, 5000);
    await delay(SETTLE_MS);
    const got = t.errors.slice(e0);
    got.should.have.length(cases.length);
    got.sort((a, b) => a.caseNo - b.caseNo);
    cases.forEach(([msg, code, re], i) => {
      const e = got[i];
      e.caseNo.should.equal(i);
      e.error.source.id.should.equal(id);
      e.error.code.should.equal(code, `case ${i} ${JSON.stringify(msg)}: ${e.error.message}`);
      e.error.message.should.match(re, `case ${i} ${JSON.stringify(msg)}`);
    });
    frames.count.should.equal(before, `frames sent to Dojo: ${frames.frames.slice(before).join("\n")}`);
    JSON.stringify(sim.stats.requests).should.equal(reqs);
  }

  /** A good sale on SIM00001 (automatic terminal). */
  /** @param {number | object} [payload] */
  async function goodSale(payload = 1250) {
    const n = t.ok.length;
    helper.getNode("pay").receive({ payload });
    await until(() => t.ok.length === n + 1, "a good sale", 5000);
    return t.ok[n];
  }

  it("pac-payment: amounts, currencies, terminal and payment ids, reuse, capture mode, payload shape", async () => {
    const used = (await goodSale({ amount: 1250, paymentId: "used-1" })).paymentId;
    const big = 2 ** 53;
    await refuses("pay", [
      [{}, INVALID, /msg\.payload must be the amount in minor units or an object \{amount, …\}.*got nothing/],
      [{ payload: {} }, INVALID, /msg\.payload\.amount is missing/],
      [{ payload: -100 }, INVALID, AMOUNT],
      [{ payload: 0 }, INVALID, AMOUNT],
      [{ payload: 12.5 }, INVALID, AMOUNT],
      [{ payload: NaN }, INVALID, AMOUNT],
      [{ payload: Infinity }, INVALID, AMOUNT],
      [{ payload: big }, INVALID, AMOUNT],
      [{ payload: 1e21 }, INVALID, AMOUNT],
      // Text of digits is minor units (below); a decimal point is refused, never read as pounds.
      [{ payload: "12.50" }, INVALID, /msg\.payload "12\.50" has a decimal point: amounts are in minor units, send "1250" \(or 1250\) for £12\.50/],
      [{ payload: { amount: "12,50" } }, INVALID, /msg\.payload\.amount "12,50" has a decimal point/],
      [{ payload: "twelve" }, INVALID, /msg\.payload must be the amount.*got the string "twelve"/],
      [{ payload: { amount: "1 250" } }, INVALID, /got the string "1 250"/],
      // An inject's default payload (a timestamp): above the connection's maximum, nothing sent.
      [
        { payload: Date.now() },
        "AMOUNT_LIMIT",
        /is above the maximum of £1,000\.00 per payment: nothing was sent\. If it is right, raise "Maximum amount" in the Dojo connection "till-f"/,
      ],
      [{ payload: { amount: 90000, tipsAmount: 9000, cashbackAmount: 2000 } }, "AMOUNT_LIMIT", /£1,010\.00 is above the maximum of £1,000\.00/],
      [{ payload: [1250] }, INVALID, /got an array/],
      [{ payload: Buffer.from("1250") }, INVALID, /msg\.payload must be the amount/],
      [{ payload: true }, INVALID, /got boolean/],
      [{ payload: { amount: 1250, currency: "XYZ" } }, INVALID, /unknown currency "XYZ": use an ISO 4217 code/],
      [{ payload: { amount: 1250, currency: "gbp" } }, INVALID, /unknown currency "gbp"/],
      [{ payload: { amount: 1250, currency: "EURO" } }, INVALID, /unknown currency "EURO"/],
      [{ payload: { amount: 1250, currency: 978 } }, INVALID, /msg\.payload\.currency must be text such as "GBP".*got 978/],
      [{ payload: { amount: 1250, terminalId: "bad id!" } }, INVALID, /terminalId must be a terminal id such as "01234567".*got the string "bad id!"/],
      [{ payload: { amount: 1250, terminalId: 12345678 } }, INVALID, /msg\.payload\.terminalId must be text.*got 12345678/],
      [{ payload: { amount: 1250, terminalId: "T".repeat(65) } }, INVALID, /terminalId must be a terminal id/],
      [{ payload: { amount: 1250, terminalId: { id: "SIM00001" } } }, INVALID, /msg\.payload\.terminalId must be text.*got an object/],
      [{ payload: { amount: 1250, paymentId: "bad id!" } }, INVALID, /msg\.payload\.paymentId must be 1-64 letters/],
      [{ payload: { amount: 1250, paymentId: 42 } }, INVALID, /msg\.payload\.paymentId must be 1-64 letters.*got 42/],
      [{ payload: { amount: 1250, paymentId: "p".repeat(65) } }, INVALID, /paymentId must be 1-64/],
      [{ payload: { amount: 1250, paymentId: used } }, INVALID, new RegExp(`paymentId ${used} was already used: every payment needs a new id`)],
      [{ payload: { amount: 1250, captureMode: "LATER" } }, INVALID, /captureMode must be "AUTO" \(sale\) or "MANUAL" \(pre-auth\)/],
      [{ payload: { amount: 1250, captureMode: true } }, INVALID, /msg\.payload\.captureMode must be text/],
      [{ payload: { amount: 1250, tipsAmount: -1 } }, INVALID, /tipsAmount must be a whole number/],
      [{ payload: { amount: 1250, cashbackAmount: 0.5 } }, INVALID, /cashbackAmount must be a whole number/],
      // wrong msg.topic: "signature" turns the msg into a signature answer, which this is not
      [{ topic: "signature", payload: 1250 }, INVALID, /a signature answer needs msg\.topic = "signature" and msg\.payload = \{paymentId/],
    ]);
    sim.stats.createPaymentIds.should.eql(["used-1"]);
    (await goodSale(1300)).payload.status.should.equal("CAPTURED");
    // Text of digits, from a query string, MQTT or a file: minor units.
    const fromText = await goodSale("1400");
    fromText.payload.amount.should.equal(1400);
    (await goodSale({ amount: " 1500 " })).payload.amount.should.equal(1500);
    (await goodSale(100000)).payload.status.should.equal("CAPTURED"); // at the maximum: allowed
  });

  it("pac-refund: amounts, currencies, ids, a paymentId already used by a sale", async () => {
    await goodSale({ amount: 1250, paymentId: "sale-1" });
    await refuses("refund", [
      [{ payload: -5 }, INVALID, AMOUNT],
      [{ payload: 5.5 }, INVALID, AMOUNT],
      [{ payload: "5.00" }, INVALID, /has a decimal point: amounts are in minor units/],
      [{ payload: 100001 }, "AMOUNT_LIMIT", /£1,000\.01 is above the maximum of £1,000\.00 per payment/],
      [{ payload: 2 ** 60 }, INVALID, AMOUNT],
      [{ payload: { amount: 500, currency: "ZZZ" } }, INVALID, /unknown currency "ZZZ"/],
      [{ payload: { amount: 500, terminalId: "" + "x y" } }, INVALID, /terminalId must be a terminal id/],
      [{ payload: { amount: 500, paymentId: "sale-1" } }, INVALID, /paymentId sale-1 was already used/],
      [{ payload: { amount: 500, paymentId: "a/b" } }, INVALID, /paymentId must be 1-64/],
      [{ topic: "signature", payload: { paymentId: "sale-1" } }, INVALID, /a signature answer needs/],
    ]);
    const n = t.ok.length;
    helper.getNode("refund").receive({ payload: { amount: 500, paymentId: "refund-ok" } });
    await until(() => t.ok.length === n + 1, "good refund");
    t.ok[n].payload.status.should.equal("REFUNDED");
  });

  it("pac-capture: missing or malformed paymentId and amounts, update without amount, capture on a sale or a refund", async () => {
    const sale = (await goodSale({ amount: 1250, paymentId: "auto-1" })).paymentId;
    const pre = (await goodSale({ amount: 1000, paymentId: "pre-1", captureMode: "MANUAL" })).paymentId;
    const n = t.ok.length;
    helper.getNode("refund").receive({ payload: { amount: 500, paymentId: "ref-1" } });
    await until(() => t.ok.length === n + 1, "refund");
    await refuses("cap", [
      [{ payload: { amount: 500 } }, INVALID, /capture needs the paymentId of a pre-authorised payment.*got paymentId nothing/],
      [{ payload: { paymentId: "bad id!", amount: 500 } }, INVALID, /capture needs the paymentId.*got paymentId the string "bad id!"/],
      [{ payload: { paymentId: 7, amount: 500 } }, INVALID, /got paymentId 7/],
      [{ payload: { paymentId: pre, amount: -1 } }, INVALID, /the amount must be a whole number of minor units greater than 0/],
      [{ payload: { paymentId: pre, amount: 1.5 } }, INVALID, /whole number/],
      [{ payload: { paymentId: pre, amount: "5.00" } }, INVALID, /msg\.payload\.amount "5\.00" has a decimal point/],
      [{ payload: { paymentId: pre, amount: 2 ** 53 } }, INVALID, /whole number/],
      [{ paymentId: pre, payload: "all" }, INVALID, /got the string "all"/],
      // wrong msg.topic: "update" needs the new amount
      [{ topic: "update", payload: { paymentId: pre } }, INVALID, /update needs the new amount/],
      // known to this EPOS: refused before anything is sent
      [{ payload: { paymentId: sale, amount: 500 } }, "INVALID_STATE", /payment auto-1 cannot be captured: it is a sale \(captureMode AUTO\)/],
      [{ topic: "update", payload: { paymentId: sale, amount: 500 } }, "INVALID_STATE", /cannot be updated: it is a sale/],
      [{ payload: { paymentId: "ref-1", amount: 500 } }, "INVALID_STATE", /cannot be captured: it is a refund/],
    ]);
    helper.getNode("cap").receive({ payload: { paymentId: pre, amount: 800 } });
    await until(() => t.capOut.length === 1, "good capture");
    t.capOut[0].payload.should.eql({ paymentId: pre, status: "CAPTURED", amount: 800 });
  });

  it("pac-cancel: missing or malformed ids, unknown payment, after the card, after the end", async () => {
    const done = (await goodSale({ amount: 1250, paymentId: "done-1" })).paymentId;
    sim.setManual("SIM00001", true);
    helper.getNode("pay").receive({ payload: { amount: 1250, paymentId: "late-1" } });
    await waitStep(sim, "presentCard");
    await sim.act("SIM00001", "present");
    await until(() => t.prog.some((m) => m.paymentId === "late-1" && m.payload.notification === "PLEASE_WAIT"), "PLEASE_WAIT");
    await refuses("cancel", [
      [{ payload: "nothing" }, INVALID, /cancel needs the paymentId: send msg\.payload = \{paymentId: "<id>"\}.*got nothing/],
      [{ payload: { paymentId: "bad id!" } }, INVALID, /cancel needs the paymentId.*got the string "bad id!"/],
      [{ payload: { paymentId: 99 } }, INVALID, /got 99/],
      [{ payload: { paymentId: "late-1", terminalId: "no way" } }, INVALID, /msg\.payload\.terminalId must be a terminal id/],
      [{ payload: { paymentId: "late-1", terminalId: 42 } }, INVALID, /terminalId must be a terminal id.*got 42/],
      [{ payload: { paymentId: "never-seen" } }, INVALID, /terminalId is needed to cancel never-seen: the journal does not know this payment/],
      [
        { payload: { paymentId: "late-1" } },
        "INVALID_STATE",
        /late-1 can no longer be cancelled: the card was already presented \(last step PLEASE_WAIT\)\. Refund it instead/,
      ],
      [{ paymentId: done }, "INVALID_STATE", /done-1 can no longer be cancelled: it already ended CAPTURED; refund it instead/],
    ]);
    await sim.act("SIM00001", "approve");
    await until(() => t.ok.some((m) => m.paymentId === "late-1"), "late-1 approved");
    // still works: a cancel while the terminal asks for the card
    helper.getNode("pay").receive({ payload: { amount: 1250, paymentId: "cancel-me" } });
    await waitStep(sim, "presentCard");
    await until(() => t.prog.some((m) => m.paymentId === "cancel-me" && m.payload.notification === "PRESENT_CARD"), "PRESENT_CARD");
    helper.getNode("cancel").receive({ payload: { paymentId: "cancel-me" } });
    await until(() => t.cancelOut.length === 1 && t.ko.some((m) => m.paymentId === "cancel-me"), "cancelled");
    t.ko.find((m) => m.paymentId === "cancel-me").payload.status.should.equal("CANCELLED");
  });

  it("pac-status: payment, terminal and journal queries with missing or malformed input, wrong topic", async () => {
    await refuses("st", [
      [{ payload: {} }, INVALID, /the payment query needs msg\.payload = \{paymentId: "<id>"\} or msg\.paymentId; got nothing/],
      [{ payload: { paymentId: "bad id!" } }, INVALID, /payment query needs.*got the string "bad id!"/],
      [{ paymentId: 5 }, INVALID, /payment query needs.*got 5/],
      [{ topic: "terminal", payload: {} }, INVALID, /the terminal query needs msg\.payload = \{terminalId: "<id>"\}/],
      [{ topic: "terminal", payload: "bad id!" }, INVALID, /terminal query needs.*got the string "bad id!"/],
      [{ topic: "terminal", payload: { terminalId: 12345678 } }, INVALID, /terminal query needs.*got 12345678/],
      // wrong msg.topic for the payload: a terminal query given a payment id
      [{ topic: "terminal", payload: { paymentId: "x-1" } }, INVALID, /terminal query needs.*got nothing/],
      [{ topic: "journal", payload: { from: "yesterday-ish" } }, INVALID, /msg\.payload\.from must be a date/],
      [{ topic: "journal", payload: { to: {} } }, INVALID, /msg\.payload\.to must be a date/],
      [{ topic: "journal", payload: { from: 2000, to: 1000 } }, INVALID, /from must not be after msg\.payload\.to/],
    ]);
    const sale = (await goodSale()).paymentId;
    helper.getNode("st").receive({ payload: { paymentId: sale } });
    await until(() => t.stOut.length === 1, "status answer");
    t.stOut[0].payload.status.should.equal("CAPTURED");
  });

  it("signature answers: missing fields, wrong types, unknown payment", async () => {
    await refuses("pay", [
      [{ topic: "signature" }, INVALID, /a signature answer needs .*got nothing/],
      [{ topic: "signature", payload: { accepted: true } }, INVALID, /a signature answer needs/],
      [{ topic: "signature", payload: { paymentId: 42, accepted: true } }, INVALID, /a signature answer needs/],
      [{ topic: "signature", payload: { paymentId: "sig-1", accepted: "yes" } }, INVALID, /accepted: true or false/],
      [
        { topic: "signature", payload: { paymentId: "nobody", accepted: true } },
        "NO_QUESTION",
        /no open signature question for payment nobody: already answered, timed out, or not asked/,
      ],
    ]);
    // a real question is still answered
    helper.getNode("pay").receive({ payload: { amount: 1202, paymentId: "sig-1" } });
    await until(() => t.prog.some((m) => m.topic === "signature" && m.paymentId === "sig-1"), "question");
    helper.getNode("pay").receive({ topic: "signature", payload: { paymentId: "sig-1", accepted: false } });
    await until(() => t.ko.some((m) => m.paymentId === "sig-1"), "declined");
    // answered already: a second answer is refused, nothing sent
    await refuses("pay", [
      [{ topic: "signature", payload: { paymentId: "sig-1", accepted: true } }, "NO_QUESTION", /no open signature question for payment sig-1/],
    ]);
  });
});
