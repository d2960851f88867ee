"use strict";
const should = require("should");
// Hostile or broken frames from "Dojo", through the nodes: malformed JSON, wrong types, unknown
// methods, responses to unknown ids, oversized frames, __proto__ / constructor keys. No crash, no
// prototype pollution, a warning on the config node, a JSON-RPC error answer where one is due, and a
// payment that was running meanwhile still ends with exactly one result.
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
  approve,
  SETTLE_MS,
} = require("./helpers");

const DANGEROUS = ["__proto__", "constructor", "prototype"];
/** Object.prototype, where a pollution would show up (typed to read that property). */
const objectPrototype = /** @type {{ polluted?: unknown }} */ (Object.prototype);

describe("faults: malformed and hostile frames from Dojo (through the nodes)", function () {
  this.timeout(30000);

  nodeRedSuite("pac-faults-i-");
  afterEach(() => {
    delete objectPrototype.polluted; // in case the test failed the hard way
  });

  async function setup() {
    const sim = await startSim();
    await helper.load(
      nodeModules,
      flowWith(customConfig(sim), [
        paymentNode(),
        ...outputHelpers,
        { id: "ev", type: "pac-events", server: "cfg", events: ["notification", "record", "signature", "connection"], terminalId: "", wires: [["evs"]] },
        { id: "evs", type: "helper" },
      ]),
      creds(sim),
    );
    const cfg = await waitOpen();
    return { sim, cfg, ok: collect("ok"), ko: collect("ko"), errors: collect("errors"), evs: collect("evs"), frames: frameCounter(sim) };
  }

  function warnings() {
    return helper
      .log()
      .args.map((a) => a[0])
      .filter((e) => e && e.level === helper.log().WARN && e.id === "cfg")
      .map((e) => String(e.msg));
  }

  /** The JSON-RPC answers the till sent for request `id`. */
  function answersTo(frames, id) {
    return frames.frames.map((f) => JSON.parse(f)).filter((f) => f.id === id && !f.method);
  }

  it("junk frames: warnings and error answers, never a crash; the running payment still ends once", async () => {
    const t = await setup();
    const { sim } = t;
    helper.getNode("pay").receive({ payload: 1250, order: 1 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    const opened = sim.stats.connectionsOpened;

    const junk = [
      "{oops",
      "",
      "[]",
      "42",
      "null",
      '"just a string"',
      '{"jsonrpc":"1.0","id":501,"method":"RecordPayment","params":{}}',
      '{"jsonrpc":"2.0","id":502,"method":"RecordPayment","params":"not an object"}',
      '{"jsonrpc":"2.0","id":{"x":1},"method":"RecordPayment","params":{}}',
      '{"jsonrpc":"2.0","method":"TerminalNotification","params":{"paymentId":123,"terminalId":{},"notificationValue":["x"]}}',
      '{"jsonrpc":"2.0","method":"TerminalNotification"}',
      '{"jsonrpc":"2.0","id":503,"method":"Reboot","params":{}}',
      '{"jsonrpc":"2.0","method":"Shutdown","params":{}}',
      '{"jsonrpc":"2.0","id":99999,"result":{"paymentId":"x"}}',
      '{"jsonrpc":"2.0","id":"zzz","result":{"code":-32603,"message":"boom"}}',
      '{"jsonrpc":"2.0","id":77777,"error":{"code":"NaN","message":{"deep":true}}}',
      '{"jsonrpc":"2.0","id":504,"method":"RecordPayment","params":{"paymentId":{"evil":true}}}',
      '{"jsonrpc":"2.0","id":505,"method":"SignatureVerification","params":{"paymentId":"foreign-sig","timeout":"soon","receiptLines":"not a list"}}',
      '{"jsonrpc":"2.0","neither":"request nor response"}',
    ];
    for (const j of junk) sim.sendRaw("till-f", j).should.be.true();
    // a frame over the 1 MiB limit (but under ws's hard cap): refused with a warning, connection kept
    sim
      .sendRaw("till-f", JSON.stringify({ jsonrpc: "2.0", method: "TerminalNotification", params: { paymentId, pad: "x".repeat(2 * 1024 * 1024) } }))
      .should.be.true();
    await until(() => warnings().some((w) => /exceeds the 1048576-byte limit/.test(w)), "oversized-frame warning");
    await delay(SETTLE_MS);

    const w = warnings();
    w.some((m) => /unreadable frame from Dojo: frame is not JSON/.test(m)).should.be.true();
    w.some((m) => /frame is not a JSON object/.test(m)).should.be.true();
    w.some((m) => /lacks "jsonrpc": "2.0"/.test(m)).should.be.true();
    w.some((m) => /params is not an object/.test(m)).should.be.true();
    w.some((m) => /unknown notification Shutdown ignored/.test(m)).should.be.true();
    w.some((m) => /response to unknown request id 99999 ignored/.test(m)).should.be.true();
    w.some((m) => /error for unknown request id zzz/.test(m)).should.be.true();
    // JSON-RPC answers where a request id could be read
    answersTo(t.frames, 501)[0].result.code.should.equal(-32600);
    answersTo(t.frames, 502)[0].result.code.should.equal(-32600);
    answersTo(t.frames, 503)[0].result.should.containDeep({ code: -32601, data: { userMessage: "this EPOS does not handle Reboot" } });
    answersTo(t.frames, 504)[0].result.should.containDeep({ code: -32602 });
    answersTo(t.frames, 505)[0].result.should.eql({ paymentId: "foreign-sig", accepted: true }); // default policy
    // the connection was kept through all of it, and the nodes never crashed
    sim.stats.connectionsOpened.should.equal(opened);
    helper.getNode("cfg").pac.client.state.should.equal("open");
    t.errors.should.have.length(0);

    // a frame over ws's hard cap (4 MiB): ws closes the socket (1009); the till reconnects
    sim.sendRaw("till-f", "x".repeat(5 * 1024 * 1024));
    await until(() => sim.stats.connectionsOpened === opened + 1, "reconnected after the oversized frame", 5000);
    await waitOpen();

    await approve(sim);
    await until(() => t.ok.length === 1, "result");
    await delay(SETTLE_MS);
    t.ok.should.have.length(1);
    t.ok[0].paymentId.should.equal(paymentId);
    t.ok[0].order.should.equal(1);
    t.ko.should.have.length(0);
    sim.stats.createPaymentIds.should.eql([paymentId]);
    // a new payment works
    helper.getNode("pay").receive({ payload: 1250, order: 2 });
    await waitStep(sim, "presentCard");
    await approve(sim);
    await until(() => t.ok.length === 2, "second result");
  });

  it("__proto__ / constructor / prototype keys in Dojo's params: no prototype pollution, no crash", async () => {
    const t = await setup();
    const { sim } = t;
    helper.getNode("pay").receive({ payload: 1250, order: 3 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];
    const evil = { polluted: "yes" };
    const frames = [
      // a notification about our payment
      `{"jsonrpc":"2.0","method":"TerminalNotification","params":{"paymentId":"${paymentId}","terminalId":"SIM00001","notificationValue":"PLEASE_WAIT","__proto__":${JSON.stringify(evil)},"constructor":{"prototype":${JSON.stringify(evil)}}}}`,
      // a record Dojo "redelivers" for a payment this till does not know
      `{"jsonrpc":"2.0","id":601,"method":"RecordPayment","params":{"paymentId":"evil-1","terminalId":"SIM00001","captureMode":"AUTO","baseAmount":100,"currency":"GBP","paymentSuccessful":true,"status":"CAPTURED","__proto__":${JSON.stringify(evil)},"constructor":{"prototype":${JSON.stringify(evil)}},"prototype":${JSON.stringify(evil)},"card":{"__proto__":${JSON.stringify(evil)},"scheme":"VISA","last4":"0000"}}}`,
      // a signature question, and the envelope itself
      `{"jsonrpc":"2.0","id":602,"method":"SignatureVerification","params":{"paymentId":"evil-2","terminalId":"SIM00001","timeout":30,"receiptLines":["a"],"__proto__":${JSON.stringify(evil)}},"__proto__":${JSON.stringify(evil)}}`,
      `{"__proto__":${JSON.stringify(evil)},"jsonrpc":"2.0","id":603,"result":{"__proto__":${JSON.stringify(evil)}}}`,
    ];
    for (const f of frames) sim.sendRaw("till-f", f).should.be.true();
    await until(() => t.evs.some((m) => m.topic === "record" && m.paymentId === "evil-1" && m.payload.orphan), "foreign record to pac-events");
    await delay(SETTLE_MS);

    ({}).should.not.have.property("polluted");
    should(objectPrototype.polluted).be.undefined();
    should({}.constructor.prototype.polluted).be.undefined();
    const rec = t.evs.find((m) => m.topic === "record" && !m.payload.orphan && m.paymentId === "evil-1");
    rec.payload.foreign.should.be.true();
    Object.keys(rec.payload.record)
      .filter((k) => DANGEROUS.includes(k))
      .should.eql([]);
    Object.keys(rec.payload.record.card).should.not.containEql("__proto__");
    rec.payload.record.should.containDeep({ paymentId: "evil-1", status: "CAPTURED" });
    const note = t.evs.find((m) => m.topic === "notification" && m.payload.notification === "PLEASE_WAIT");
    note.payload.paymentId.should.equal(paymentId);
    // every request was answered: the record acknowledged, the signature question with the default
    answersTo(t.frames, 601)[0].result.should.eql({ paymentId: "evil-1" });
    answersTo(t.frames, 602)[0].result.should.eql({ paymentId: "evil-2", accepted: true });
    // the journal stored the record without the dangerous keys
    const stored = helper.getNode("cfg").pac.client.journal.get("evil-1").record;
    Object.keys(stored)
      .filter((k) => DANGEROUS.includes(k))
      .should.eql([]);

    await approve(sim);
    await until(() => t.ok.length === 1, "result");
    await delay(SETTLE_MS);
    t.ok.should.have.length(1);
    t.ok[0].order.should.equal(3);
    t.errors.should.have.length(0);
    ({}).should.not.have.property("polluted");
  });
});
