/* PAC simulator: driven by a raw `ws` client, on 127.0.0.1 ephemeral ports, in zero-delay mode. */
"use strict";

const should = require("should");
const WebSocket = require("ws");
const { PacSimulator, SimActionError } = require("../dist/simulator");
const { until } = require("./wait");

const SHOP = "shopflow-tests";
const T1 = "SIM00001";
const T2 = "SIM00002";

let sim;
let clients = [];
let uid = 0;
const newId = (tag = "p") => `${tag}-${process.pid}-${++uid}`;

async function startSim(options = {}) {
  sim = await PacSimulator.start({ port: 0, delays: "zero", recordRetryMs: 5000, pingIntervalMs: 0, ...options });
  return sim;
}

function basic(creds) {
  return `Basic ${Buffer.from(`${creds.accountName}:${creds.apiKey}`).toString("base64")}`;
}

/** A minimal EPOS: buffers every frame, auto-answers records and signatures unless told not to. */
class Epos {
  constructor(ws, opts) {
    this.ws = ws;
    this.opts = { records: "ack", signature: "accept", ...opts };
    this.frames = [];
    this.taken = new Set();
    this.waiters = new Set();
    this.nextId = 1;
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("message", (data) => this.onMessage(data.toString()));
    ws.on("error", () => {});
  }

  onMessage(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = { raw: text };
    }
    this.frames.push(frame);
    const isRecord = frame.method === "RecordPayment" || frame.method === "RecordRefund";
    if (isRecord && this.opts.records === "ack") this.reply(frame.id, { paymentId: frame.params.paymentId });
    if (frame.method === "SignatureVerification" && this.opts.signature !== "ignore") {
      this.reply(frame.id, { paymentId: frame.params.paymentId, accepted: this.opts.signature === "accept" });
    }
    for (const w of this.waiters) w.check();
  }

  send(obj) {
    this.ws.send(typeof obj === "string" ? obj : JSON.stringify(obj));
  }

  reply(id, result) {
    this.send({ jsonrpc: "2.0", id, result });
  }

  /** The first frame not returned before that matches; rejects after `ms`. */
  waitFor(pred, ms = 1000, what = "frame") {
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          const i = this.frames.findIndex((f, n) => !this.taken.has(n) && pred(f));
          if (i < 0) return false;
          this.taken.add(i);
          this.waiters.delete(waiter);
          clearTimeout(waiter.timer);
          resolve(this.frames[i]);
          return true;
        },
      };
      if (waiter.check()) return;
      waiter.timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames)}`));
      }, ms);
      this.waiters.add(waiter);
    });
  }

  /** Resolves true if no matching frame arrives within `ms`. */
  async none(pred, ms) {
    try {
      await this.waitFor(pred, ms);
      return false;
    } catch {
      return true;
    }
  }

  request(method, params, ms = 1000) {
    const id = this.nextId++;
    this.send({ jsonrpc: "2.0", id, method, params });
    return this.waitFor((f) => f.id === id && f.method === undefined, ms, `response to ${method}`);
  }

  notification(paymentId, value, ms = 1000) {
    return this.waitFor(
      (f) => f.method === "TerminalNotification" && f.params.paymentId === paymentId && f.params.notificationValue === value,
      ms,
      `${value} for ${paymentId}`,
    );
  }

  record(paymentId, ms = 1000) {
    return this.waitFor((f) => (f.method === "RecordPayment" || f.method === "RecordRefund") && f.params.paymentId === paymentId, ms, `record of ${paymentId}`);
  }

  notifications(paymentId) {
    return this.frames.filter((f) => f.method === "TerminalNotification" && f.params.paymentId === paymentId).map((f) => f.params.notificationValue);
  }

  records(paymentId) {
    return this.frames.filter((f) => f.method && f.method.startsWith("Record") && f.params.paymentId === paymentId);
  }

  dispose() {
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters.clear();
    this.ws.terminate();
  }
}

function connect(opts = {}) {
  const creds = opts.creds || sim.credentials;
  const headers = {
    authorization: basic(creds),
    "epos-id": opts.eposId || "till-1",
    "software-house-id": SHOP,
    ...(opts.headers || {}),
  };
  for (const k of Object.keys(headers)) if (headers[k] === null) delete headers[k];
  const ws = new WebSocket(opts.url || sim.url, { headers, autoPong: opts.autoPong !== false });
  const epos = new Epos(ws, opts);
  clients.push(epos);
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(epos));
    ws.once("error", reject);
  });
}

/** The HTTP status a refused handshake answered with. */
function refusedStatus(opts) {
  return connect(opts).then(
    () => {
      throw new Error("handshake unexpectedly accepted");
    },
    (err) => Number(/Unexpected server response: (\d+)/.exec(err.message)[1]),
  );
}

const pay = (overrides = {}) => ({
  paymentId: newId(),
  terminalId: T1,
  captureMode: "AUTO",
  baseAmount: 1000,
  currency: "GBP",
  ...overrides,
});

/** CreatePayment, then wait for its record; returns [ack, record, notifications]. */
async function runPayment(epos, params, method = "CreatePayment") {
  const ack = await epos.request(method, params);
  const record = await epos.record(params.paymentId);
  return { ack, record, notes: epos.notifications(params.paymentId) };
}

const errorOf = (frame) => frame.result;

afterEach(async () => {
  for (const c of clients) c.dispose();
  clients = [];
  if (sim) await sim.stop();
  sim = undefined;
});

describe("PAC simulator", function () {
  this.timeout(4000);

  describe("handshake", () => {
    it("refuses wrong or missing credentials with 401, missing headers with 400", async () => {
      await startSim();
      (await refusedStatus({ creds: { accountName: sim.credentials.accountName, apiKey: "nope" } })).should.equal(401);
      (await refusedStatus({ headers: { authorization: null } })).should.equal(401);
      (await refusedStatus({ headers: { "epos-id": null } })).should.equal(400);
      (await refusedStatus({ headers: { "software-house-id": null } })).should.equal(400);
      (await refusedStatus({ url: sim.url.replace("/epos", "/other") })).should.equal(404);
      sim.stats.handshakesRejected.should.eql({ 401: 2, 400: 2, 404: 1 });
      sim.stats.connectionAttempts.should.equal(5);
      sim.url.should.equal(`ws://127.0.0.1:${sim.port}/ws/v2/pac/epos`);
    });

    it("accepts configured credentials and several epos-ids per account", async () => {
      await startSim({ credentials: { accountName: "shop-1", apiKey: "secret" } });
      sim.credentials.should.eql({ accountName: "shop-1", apiKey: "secret" });
      await connect({ eposId: "till-1" });
      await connect({ eposId: "till-2" });
      sim.connections().sort().should.eql(["till-1", "till-2"]);
    });

    it("closes the OLDER connection with 4001 'duplicate epos-id' when the epos-id connects again", async () => {
      await startSim();
      const events = [];
      sim.on("disconnection", (d) => events.push(d));
      const older = await connect({ eposId: "till-1" });
      const newer = await connect({ eposId: "till-1" });
      (await older.closed).should.eql({ code: 4001, reason: "duplicate epos-id" });
      (await newer.request("ConnectedTerminals", {})).result.terminals.should.have.length(2);
      sim.connections().should.eql(["till-1"]);
      events.should.have.length(1);
      events[0].displaced.should.be.true();
      sim.stats.displaced.should.equal(1);
      sim.stats.connectionsOpened.should.equal(2);
    });
  });

  describe("magic amounts (automatic mode)", () => {
    /** @type {Array<[number, string[], string, boolean]>} */
    const cases = [
      [1000, ["PRESENT_CARD", "PLEASE_WAIT", "APPROVED", "TRANSACTION_FINISHED"], "CAPTURED", true],
      [1001, ["PRESENT_CARD", "PLEASE_WAIT", "DECLINED", "TRANSACTION_FINISHED"], "DECLINED", false],
      [1004, ["PRESENT_CARD", "PLEASE_WAIT", "PROCESSING_ERROR", "TRANSACTION_FINISHED"], "FAILED", false],
      [1005, ["PRESENT_CARD", "INSERT_CARD", "PIN_ENTRY", "PLEASE_WAIT", "APPROVED", "REMOVE_CARD", "TRANSACTION_FINISHED"], "CAPTURED", true],
      [1234, ["PRESENT_CARD", "PLEASE_WAIT", "APPROVED", "TRANSACTION_FINISHED"], "CAPTURED", true],
    ];
    for (const [amount, sequence, status, ok] of cases) {
      it(`${amount}: ${sequence.join(", ")} → ${status}`, async () => {
        await startSim();
        const epos = await connect();
        const params = pay({ baseAmount: amount, tipsAmount: 50 });
        const { ack, record, notes } = await runPayment(epos, params);
        ack.result.should.eql({ paymentId: params.paymentId, terminalId: T1 });
        notes.should.eql(sequence);
        record.method.should.equal("RecordPayment");
        const r = record.params;
        Object.keys(r)
          .sort()
          .should.eql(
            [
              "paymentId",
              "terminalId",
              "captureMode",
              "baseAmount",
              "tipsAmount",
              "cashbackAmount",
              "currency",
              "paymentSuccessful",
              "status",
              "attemptedAt",
              "card",
              "transactionNumber",
              "transactionTime",
              "receiptLines",
              ...(ok ? ["authCode"] : []),
            ].sort(),
          );
        r.should.containEql({ paymentId: params.paymentId, terminalId: T1, captureMode: "AUTO", baseAmount: amount });
        r.should.containEql({ tipsAmount: 50, cashbackAmount: 0, currency: "GBP", paymentSuccessful: ok, status });
        new Date(r.attemptedAt).toISOString().should.equal(r.attemptedAt);
        if (ok) r.authCode.should.match(/^\d{6}$/);
        r.card.scheme.should.be.a.String();
        r.card.last4.should.match(/^\d{4}$/);
      });
    }

    it("MANUAL approved → AUTHORIZED; refunds use RecordRefund → REFUNDED, and follow the digits", async () => {
      await startSim();
      const epos = await connect();
      const held = await runPayment(epos, pay({ captureMode: "MANUAL" }));
      held.record.params.status.should.equal("AUTHORIZED");
      held.record.params.paymentSuccessful.should.be.true();

      const refund = { paymentId: newId("r"), terminalId: T1, baseAmount: 500, currency: "GBP" };
      const r = await runPayment(epos, refund, "CreateRefund");
      r.ack.result.should.eql({ paymentId: refund.paymentId, terminalId: T1 });
      r.record.method.should.equal("RecordRefund");
      r.record.params.status.should.equal("REFUNDED");

      const declined = { paymentId: newId("r"), terminalId: T1, baseAmount: 501, currency: "GBP" };
      (await runPayment(epos, declined, "CreateRefund")).record.params.status.should.equal("DECLINED");
      sim.stats.createRefundIds.should.eql([refund.paymentId, declined.paymentId]);
    });
  });

  describe("signature (02)", () => {
    it("accepted → APPROVED; the request carries timeout and receiptLines", async () => {
      await startSim({ signatureTimeoutMs: 2000 });
      const epos = await connect({ signature: "accept" });
      const params = pay({ baseAmount: 1002 });
      const { record, notes } = await runPayment(epos, params);
      const req = epos.frames.find((f) => f.method === "SignatureVerification");
      req.params.should.containEql({ paymentId: params.paymentId, terminalId: T1, timeout: 2 });
      req.params.receiptLines.should.be.an.Array().and.not.be.empty();
      notes.should.eql([
        "PRESENT_CARD",
        "PLEASE_WAIT",
        "SIGNATURE_VERIFICATION",
        "SIGNATURE_VERIFICATION_PROCESS_COMPLETED",
        "APPROVED",
        "TRANSACTION_FINISHED",
      ]);
      record.params.status.should.equal("CAPTURED");
    });

    it("the receipt writes the amount in the currency's own minor units (1202 JPY is JP¥1,202, not 12.02)", async () => {
      await startSim();
      const epos = await connect({ signature: "accept" });
      await runPayment(epos, pay({ baseAmount: 1202, currency: "JPY" }));
      await runPayment(epos, pay({ baseAmount: 1202, currency: "GBP" }));
      const amounts = epos.frames.filter((f) => f.method === "SignatureVerification").map((f) => f.params.receiptLines.find((l) => l.startsWith("AMOUNT ")));
      amounts.should.eql(["AMOUNT JP¥1,202", "AMOUNT £12.02"]);
    });

    it("declined → DECLINED", async () => {
      await startSim();
      const epos = await connect({ signature: "decline" });
      const { record, notes } = await runPayment(epos, pay({ baseAmount: 1002 }));
      notes.should.containEql("DECLINED").and.not.containEql("APPROVED");
      record.params.should.containEql({ status: "DECLINED", paymentSuccessful: false });
      should(record.params.authCode).be.undefined();
    });

    it("no answer within the timeout counts as accepted", async () => {
      await startSim({ signatureTimeoutMs: 30 });
      const epos = await connect({ signature: "ignore" });
      const { record, notes } = await runPayment(epos, pay({ baseAmount: 1002 }));
      notes.should.eql([
        "PRESENT_CARD",
        "PLEASE_WAIT",
        "SIGNATURE_VERIFICATION",
        "SIGNATURE_VERIFICATION_TIMEOUT",
        "SIGNATURE_VERIFICATION_PROCESS_COMPLETED",
        "APPROVED",
        "TRANSACTION_FINISHED",
      ]);
      record.params.status.should.equal("CAPTURED");
    });
  });

  describe("wait at PRESENT_CARD (03) and CancelPayment", () => {
    it("cancel while PRESENT_CARD → CANCELLING, TRANSACTION_FINISHED, record CANCELLED", async () => {
      await startSim();
      const epos = await connect();
      const params = pay({ baseAmount: 1003 });
      await epos.request("CreatePayment", params);
      await epos.notification(params.paymentId, "PRESENT_CARD");
      const state = (await epos.request("GetPayment", { paymentId: params.paymentId })).result;
      state.should.eql({
        paymentId: params.paymentId,
        terminalId: T1,
        captureMode: "AUTO",
        status: "IN_PROGRESS",
        baseAmount: 1003,
        authorizedAmount: 0,
        capturedAmount: 0,
        currency: "GBP",
        lastNotification: "PRESENT_CARD",
      });
      const cancel = await epos.request("CancelPayment", { paymentId: params.paymentId, terminalId: T1 });
      cancel.result.should.eql({ paymentId: params.paymentId, terminalId: T1, tid: T1 });
      const record = await epos.record(params.paymentId);
      epos.notifications(params.paymentId).should.eql(["PRESENT_CARD", "CANCELLING", "TRANSACTION_FINISHED"]);
      record.params.should.containEql({ status: "CANCELLED", paymentSuccessful: false });
      should(record.params.card).be.undefined();
      (await epos.request("GetPayment", { paymentId: params.paymentId })).result.status.should.equal("CANCELLED");
      // the terminal is free again
      (await epos.request("TerminalDetails", { terminalId: T1 })).result.should.eql({
        terminalId: T1,
        tid: T1,
        status: "AVAILABLE",
      });
    });

    it("nobody presents a card within the timeout → DECLINED", async () => {
      await startSim({ presentCardTimeoutMs: 30 });
      const epos = await connect();
      const { record, notes } = await runPayment(epos, pay({ baseAmount: 1003 }));
      notes.should.eql(["PRESENT_CARD", "DECLINED", "TRANSACTION_FINISHED"]);
      record.params.status.should.equal("DECLINED");
    });

    it("cancel after the card was presented → INVALID_STATE; a MANUAL AUTHORIZED payment → REVERSED", async () => {
      await startSim();
      const epos = await connect();
      const sale = pay();
      await runPayment(epos, sale);
      const late = await epos.request("CancelPayment", { paymentId: sale.paymentId, terminalId: T1 });
      errorOf(late).code.should.equal(-32074);
      errorOf(late).data.userMessage.should.be.a.String();

      const held = pay({ captureMode: "MANUAL" });
      await runPayment(epos, held);
      const rev = await epos.request("CancelPayment", { paymentId: held.paymentId, terminalId: T1 });
      rev.result.should.eql({ paymentId: held.paymentId, terminalId: T1, tid: T1 });
      (await epos.request("GetPayment", { paymentId: held.paymentId })).result.status.should.equal("REVERSED");
    });
  });

  describe("request errors", () => {
    it("TERMINAL_BUSY, TERMINAL_OFFLINE and unknown terminal (-32602 with data.terminalId)", async () => {
      await startSim();
      const epos = await connect();
      const waiting = pay({ baseAmount: 1003 });
      await epos.request("CreatePayment", waiting);
      const busy = await epos.request("CreatePayment", pay());
      errorOf(busy).should.containEql({ code: -32070, message: "TERMINAL_BUSY" });
      errorOf(busy).data.userMessage.should.be.a.String();
      (await epos.request("TerminalDetails", { terminalId: T1 })).result.status.should.equal("BUSY");

      sim.setOnline(T2, false).status.should.equal("OFFLINE");
      const offline = await epos.request("CreatePayment", pay({ terminalId: T2 }));
      errorOf(offline).code.should.equal(-32071);
      errorOf(offline).data.terminalId.should.equal(T2);
      const list = (await epos.request("ConnectedTerminals", {})).result;
      list.should.eql({
        terminals: [
          { terminalId: T1, tid: T1, status: "BUSY" },
          { terminalId: T2, tid: T2, status: "OFFLINE" },
        ],
      });
      sim.setOnline(T2, true);
      (await epos.request("CreatePayment", pay({ terminalId: T2 }))).result.terminalId.should.equal(T2);

      const unknown = await epos.request("CreatePayment", pay({ terminalId: "NOPE0001" }));
      errorOf(unknown).code.should.equal(-32602);
      errorOf(unknown).data.terminalId.should.equal("NOPE0001");
      errorOf(unknown).data.userMessage.should.match(/NOPE0001/);
      errorOf(await epos.request("TerminalDetails", { terminalId: "NOPE0001" })).code.should.equal(-32602);
    });

    it("DUPLICATE_PAYMENT_ID, INVALID_AMOUNT, missing or malformed params", async () => {
      await startSim();
      const epos = await connect();
      const first = pay();
      await runPayment(epos, first);
      const dup = await epos.request("CreatePayment", { ...first, terminalId: T2 });
      errorOf(dup).code.should.equal(-32073);
      for (const baseAmount of [0, -100, 12.5]) {
        const bad = await epos.request("CreatePayment", pay({ baseAmount }));
        errorOf(bad).code.should.equal(-32075);
        errorOf(bad).data.userMessage.should.be.a.String();
      }
      errorOf(await epos.request("CreateRefund", { paymentId: newId(), terminalId: T1, baseAmount: 0, currency: "GBP" })).code.should.equal(-32075);
      const missing = await epos.request("CreatePayment", { paymentId: newId(), terminalId: T1, baseAmount: 100 });
      errorOf(missing).code.should.equal(-32602);
      errorOf(missing).data.field.should.equal("captureMode");
      errorOf(await epos.request("CreatePayment", pay({ currency: "pounds" }))).code.should.equal(-32602);
      errorOf(await epos.request("CreatePayment", pay({ captureMode: "LATER" }))).code.should.equal(-32602);
      errorOf(await epos.request("GetPayment", { paymentId: "never-seen" })).code.should.equal(-32072);
      sim.stats.requests.CreatePayment.should.equal(8);
      sim.stats.createPaymentIds.should.have.length(8);
    });

    it("unknown method → -32601; unreadable frames → -32700 / -32600, and the socket stays usable", async () => {
      await startSim();
      const epos = await connect();
      errorOf(await epos.request("RefundEverything", {})).code.should.equal(-32601);
      errorOf(await epos.request("RecordPayment", {})).code.should.equal(-32601);
      epos.send("{not json");
      const parse = await epos.waitFor((f) => f.error && f.error.code === -32700);
      should(parse.id).be.null();
      parse.error.data.userMessage.should.be.a.String();
      epos.send({ id: 77, method: "GetPayment" });
      (await epos.waitFor((f) => f.id === 77)).result.code.should.equal(-32600);
      epos.send("x".repeat(1024 * 1024 + 10));
      (await epos.waitFor((f) => f.error && f.error.code === -32600)).should.be.ok();
      (await epos.request("ConnectedTerminals", {})).result.terminals.should.have.length(2);
    });

    it("strict mode rejects a param the schema does not list (and `tid` for terminalId)", async () => {
      await startSim({ strict: true });
      const epos = await connect();
      const extra = await epos.request("CreatePayment", pay({ note: "hello" }));
      errorOf(extra).code.should.equal(-32602);
      errorOf(extra).data.field.should.equal("note");
      errorOf(extra).data.userMessage.should.match(/note/);
      errorOf(await epos.request("TerminalDetails", { tid: T1 })).code.should.equal(-32602);
      (await epos.request("CreatePayment", pay())).result.terminalId.should.equal(T1);
    });

    it("non-strict mode ignores extra params and accepts `tid`", async () => {
      await startSim();
      const epos = await connect();
      (await epos.request("TerminalDetails", { tid: T1, extra: 1 })).result.terminalId.should.equal(T1);
    });
  });

  describe("pre-auth: UpdatePayment and CapturePayment", () => {
    it("enforce MANUAL + AUTHORIZED and amount ≤ authorised", async () => {
      await startSim();
      const epos = await connect();
      const sale = pay();
      await runPayment(epos, sale);
      errorOf(await epos.request("CapturePayment", { paymentId: sale.paymentId, baseAmount: 100 })).code.should.equal(-32074);
      errorOf(await epos.request("UpdatePayment", { paymentId: sale.paymentId, baseAmount: 100 })).code.should.equal(-32074);

      const held = pay({ captureMode: "MANUAL" });
      await epos.request("CreatePayment", held);
      // still running: not yet AUTHORIZED
      errorOf(await epos.request("CapturePayment", { paymentId: held.paymentId, baseAmount: 100 })).code.should.equal(-32074);
      await epos.record(held.paymentId);
      const upd = await epos.request("UpdatePayment", { paymentId: held.paymentId, baseAmount: 1500 });
      upd.result.should.eql({ paymentId: held.paymentId, baseAmount: 1500 });
      (await epos.request("GetPayment", { paymentId: held.paymentId })).result.should.containEql({
        status: "AUTHORIZED",
        baseAmount: 1500,
        authorizedAmount: 1500,
        capturedAmount: 0,
      });
      errorOf(await epos.request("CapturePayment", { paymentId: held.paymentId, baseAmount: 1501 })).code.should.equal(-32075);
      errorOf(await epos.request("CapturePayment", { paymentId: held.paymentId, baseAmount: 0 })).code.should.equal(-32075);
      const cap = await epos.request("CapturePayment", { paymentId: held.paymentId, baseAmount: 1200 });
      cap.result.should.eql({ paymentId: held.paymentId, baseAmount: 1200 });
      (await epos.request("GetPayment", { paymentId: held.paymentId })).result.should.containEql({
        status: "CAPTURED",
        capturedAmount: 1200,
      });
      errorOf(await epos.request("CapturePayment", { paymentId: held.paymentId, baseAmount: 100 })).code.should.equal(-32074);
      errorOf(await epos.request("UpdatePayment", { paymentId: held.paymentId, baseAmount: 100 })).code.should.equal(-32074);
      errorOf(await epos.request("CancelPayment", { paymentId: held.paymentId, terminalId: T1 })).code.should.equal(-32074);
    });
  });

  describe("scoping", () => {
    it("payments belong to their account; notifications go only to the creating epos-id", async () => {
      await startSim({ accounts: [{ accountName: "a" }, { accountName: "b" }] });
      const [a, b] = sim.accounts();
      const tillA = await connect({ creds: a, eposId: "till-1" });
      const tillA2 = await connect({ creds: a, eposId: "till-2" });
      const tillB = await connect({ creds: b, eposId: "till-1" });
      const params = pay();
      await runPayment(tillA, params);
      errorOf(await tillB.request("GetPayment", { paymentId: params.paymentId })).code.should.equal(-32072);
      // the same id is free in the other account
      (await runPayment(tillB, { ...params })).record.params.status.should.equal("CAPTURED");
      (await tillA2.request("GetPayment", { paymentId: params.paymentId })).result.status.should.equal("CAPTURED");
      tillA2.frames.filter((f) => f.method).should.be.empty();
      sim.terminals().should.have.length(4);
      sim
        .terminals("b")
        .map((t) => t.accountName)
        .should.eql(["b", "b"]);
    });
  });

  describe("records", () => {
    it("are redelivered until acknowledged", async () => {
      await startSim({ recordRetryMs: 15 });
      const epos = await connect({ records: "none" });
      const params = pay();
      await epos.request("CreatePayment", params);
      const first = await epos.record(params.paymentId);
      const second = await epos.record(params.paymentId);
      await epos.record(params.paymentId);
      second.id.should.not.equal(first.id);
      second.params.should.eql(first.params);
      epos.reply(first.id, { paymentId: params.paymentId }); // a late ack of an earlier delivery counts
      await new Promise((r) => setTimeout(r, 20));
      const count = epos.records(params.paymentId).length;
      (await epos.none((f) => f.method === "RecordPayment", 60)).should.be.true();
      epos.records(params.paymentId).length.should.equal(count);
      sim.stats.recordsAcked.should.equal(1);
      sim.stats.recordsSent.should.equal(count);
      sim.pendingRecords("till-1").should.be.empty();
    });

    it("an error reply other than PAYMENT_ALREADY_RECORDED keeps it coming; PAYMENT_ALREADY_RECORDED stops it", async () => {
      await startSim({ recordRetryMs: 15 });
      const epos = await connect({ records: "none" });
      const params = pay();
      await epos.request("CreatePayment", params);
      const r1 = await epos.record(params.paymentId);
      epos.send({ jsonrpc: "2.0", id: r1.id, result: { code: -32603, message: "disk full" } });
      const r2 = await epos.record(params.paymentId);
      epos.send({ jsonrpc: "2.0", id: r2.id, error: { code: -32080, message: "PAYMENT_ALREADY_RECORDED" } });
      (await epos.none((f) => f.method === "RecordPayment", 60)).should.be.true();
      sim.pendingRecords("till-1").should.be.empty();
    });

    it("are kept across disconnects and redelivered when that epos-id reconnects", async () => {
      await startSim();
      const epos = await connect({ records: "none", eposId: "till-1" });
      const other = await connect({ eposId: "till-9" });
      const params = pay();
      await epos.request("CreatePayment", params);
      await epos.record(params.paymentId);
      epos.dispose();
      await epos.closed;
      sim
        .pendingRecords("till-1")
        .map((r) => r.paymentId)
        .should.eql([params.paymentId]);
      const back = await connect({ eposId: "till-1" });
      (await back.record(params.paymentId)).params.status.should.equal("CAPTURED");
      await new Promise((r) => setTimeout(r, 20));
      sim.pendingRecords("till-1").should.be.empty();
      other.frames.should.be.empty();
    });
  });

  describe("manual mode", () => {
    it("waits at PRESENT_CARD and is driven step by step with act()", async () => {
      await startSim({ manual: true });
      const states = [];
      sim.on("terminal", (s) => states.push(s));
      const epos = await connect();
      const params = pay({ baseAmount: 1000 });
      await epos.request("CreatePayment", params);
      await epos.notification(params.paymentId, "PRESENT_CARD");
      (await epos.none((f) => f.params && f.params.notificationValue === "PLEASE_WAIT", 30)).should.be.true();
      const snap = sim.terminals().find((t) => t.terminalId === T1);
      snap.should.containEql({ step: "presentCard", status: "BUSY", manual: true, paymentId: params.paymentId });
      snap.allowedActions.should.eql(["present", "insert", "decline", "fail"]);

      await sim.act(T1, "approve").should.be.rejectedWith(SimActionError, { step: "presentCard" });
      (await sim.act(T1, "insert")).step.should.equal("pinEntry");
      (await sim.act(T1, "enterPin")).step.should.equal("authorising");
      (await sim.act(T1, "approve")).step.should.equal("removeCard");
      const done = await sim.act(T1, "removeCard");
      done.should.containEql({ step: "idle", status: "AVAILABLE", result: "CAPTURED" });
      const record = await epos.record(params.paymentId);
      record.params.card.scheme.should.equal("MASTERCARD");
      epos
        .notifications(params.paymentId)
        .should.eql(["PRESENT_CARD", "INSERT_CARD", "PIN_ENTRY", "PLEASE_WAIT", "APPROVED", "REMOVE_CARD", "TRANSACTION_FINISHED"]);
      await sim.act(T1, "present").should.be.rejectedWith(/no transaction/);
      states.map((s) => s.lastNotification).should.containEql("PIN_ENTRY");
    });

    it("requestSignature, fail, and switching back to automatic mid-transaction", async () => {
      await startSim({ manual: true });
      const epos = await connect({ signature: "decline" });
      const a = pay({ baseAmount: 1000 });
      await epos.request("CreatePayment", a);
      await epos.notification(a.paymentId, "PRESENT_CARD");
      await sim.act(T1, "present");
      await sim.act(T1, "requestSignature");
      (await epos.record(a.paymentId)).params.status.should.equal("DECLINED");

      const b = pay({ baseAmount: 1000 });
      await epos.request("CreatePayment", b);
      await epos.notification(b.paymentId, "PRESENT_CARD");
      await sim.act(T1, "fail");
      (await epos.record(b.paymentId)).params.status.should.equal("FAILED");

      const c = pay({ baseAmount: 1000 });
      await epos.request("CreatePayment", c);
      await epos.notification(c.paymentId, "PRESENT_CARD");
      sim.setManual(T1, false).manual.should.be.false();
      (await epos.record(c.paymentId)).params.status.should.equal("CAPTURED");
    });
  });

  describe("faults", () => {
    it("dropBeforeResponse: the payment runs although its ack never arrived", async () => {
      await startSim();
      sim.faults.set({ dropBeforeResponse: "CreatePayment" });
      const epos = await connect({ records: "none" });
      const params = pay();
      epos.send({ jsonrpc: "2.0", id: 1, method: "CreatePayment", params });
      (await epos.closed).code.should.equal(1006);
      epos.frames.should.be.empty();
      const back = await connect();
      (await back.record(params.paymentId)).params.status.should.equal("CAPTURED");
      (await back.request("GetPayment", { paymentId: params.paymentId })).result.status.should.equal("CAPTURED");
      should(sim.faults.current.dropBeforeResponse).be.undefined(); // one-shot
    });

    it("dropAfterNotification: the socket dies right after PRESENT_CARD", async () => {
      await startSim();
      sim.faults.set({ dropAfterNotification: "PRESENT_CARD" });
      const epos = await connect();
      const params = pay({ baseAmount: 1003 });
      await epos.request("CreatePayment", params);
      await epos.closed;
      epos.notifications(params.paymentId).should.eql(["PRESENT_CARD"]);
    });

    it("dropOnSignatureRequest: the answer may come on the new connection", async () => {
      await startSim({ signatureTimeoutMs: 2000 });
      sim.faults.set({ dropOnSignatureRequest: true });
      const epos = await connect({ signature: "ignore" });
      const params = pay({ baseAmount: 1002 });
      await epos.request("CreatePayment", params);
      await epos.closed;
      const req = epos.frames.find((f) => f.method === "SignatureVerification");
      const back = await connect({ signature: "ignore" });
      back.reply(req.id, { paymentId: params.paymentId, accepted: false });
      (await back.record(params.paymentId)).params.status.should.equal("DECLINED");
    });

    it("dropAfterRecord: the record is redelivered after the reconnect", async () => {
      await startSim();
      sim.faults.set({ dropAfterRecord: true });
      const epos = await connect({ records: "none" });
      const params = pay();
      await epos.request("CreatePayment", params);
      await epos.record(params.paymentId);
      await epos.closed;
      const back = await connect();
      await back.record(params.paymentId);
    });

    it("delayResponse and omitResponse", async () => {
      await startSim({ faults: { delayResponse: { GetPayment: 60 }, omitResponse: ["TerminalDetails"] } });
      const epos = await connect();
      const t0 = Date.now();
      errorOf(await epos.request("GetPayment", { paymentId: "x" })).code.should.equal(-32072);
      (Date.now() - t0).should.be.aboveOrEqual(50);
      await epos.request("TerminalDetails", { terminalId: T1 }, 80).should.be.rejectedWith(/timed out/);
      sim.stats.requests.TerminalDetails.should.equal(1);
      sim.faults.clear();
      (await epos.request("TerminalDetails", { terminalId: T1 })).result.status.should.equal("AVAILABLE");
    });

    it("duplicateRecords and ignoreRecordAcks", async () => {
      await startSim({ recordRetryMs: 15, faults: { duplicateRecords: true } });
      const epos = await connect();
      const a = pay();
      await epos.request("CreatePayment", a);
      const r1 = await epos.record(a.paymentId);
      const r2 = await epos.record(a.paymentId);
      r2.id.should.not.equal(r1.id);

      sim.faults.set({ duplicateRecords: false, ignoreRecordAcks: 2 });
      const b = pay();
      await epos.request("CreatePayment", b);
      for (let i = 0; i < 3; i++) await epos.record(b.paymentId);
      (await epos.none((f) => f.method === "RecordPayment" && f.params.paymentId === b.paymentId, 60)).should.be.true();
      epos.records(b.paymentId).should.have.length(3);
    });

    it("sendRaw delivers a malformed frame to a connected epos", async () => {
      await startSim();
      const epos = await connect({ eposId: "till-7" });
      sim.sendRaw("till-7", "{oops").should.be.true();
      sim.sendRaw("nobody", "{}").should.be.false();
      (await epos.waitFor((f) => f.raw === "{oops")).should.be.ok();
    });

    it("noPong: pings go unanswered", async () => {
      await startSim();
      const epos = await connect();
      const pong = () =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve(false), 80);
          epos.ws.once("pong", () => {
            clearTimeout(timer);
            resolve(true);
          });
          epos.ws.ping();
        });
      (await pong()).should.be.true();
      sim.faults.set({ noPong: true });
      (await pong()).should.be.false();
    });

    it("suspend() drops everything and refuses connections; resume() listens on the same port", async () => {
      await startSim();
      const epos = await connect({ records: "none" });
      const params = pay({ baseAmount: 1003 });
      await epos.request("CreatePayment", params);
      await epos.notification(params.paymentId, "PRESENT_CARD");
      const port = sim.port;
      await sim.suspend();
      sim.isSuspended.should.be.true();
      (await epos.closed).code.should.equal(1006);
      await connect().should.be.rejectedWith(/ECONNREFUSED/);
      await sim.act(T1, "present"); // the terminal carries on while Dojo is down
      await sim.resume();
      sim.port.should.equal(port);
      const back = await connect();
      (await back.record(params.paymentId)).params.status.should.equal("CAPTURED");
    });
  });

  describe("observability and lifecycle", () => {
    it("emits connection, frame and terminal events and counts requests", async () => {
      await startSim();
      const seen = { connection: [], frameIn: [], frameOut: [], terminal: [], recordAcked: [] };
      for (const k of Object.keys(seen)) sim.on(k, (e) => seen[k].push(e));
      const epos = await connect({ eposId: "till-3" });
      const params = pay();
      await runPayment(epos, params);
      await new Promise((r) => setTimeout(r, 10));
      seen.connection.should.eql([{ accountName: sim.credentials.accountName, eposId: "till-3", softwareHouseId: SHOP }]);
      seen.frameIn[0].text.should.match(/CreatePayment/);
      seen.frameOut.some((f) => /TRANSACTION_FINISHED/.test(f.text)).should.be.true();
      seen.terminal.map((s) => s.step).should.containEql("presentCard");
      seen.terminal[seen.terminal.length - 1].should.containEql({ terminalId: T1, result: "CAPTURED", amount: 1000 });
      seen.recordAcked.should.have.length(1);
      sim.stats.requests.should.eql({ CreatePayment: 1 });
      sim.stats.createPaymentIds.should.eql([params.paymentId]);
      sim.connectionDetails()[0].eposId.should.equal("till-3");
      sim.payment(params.paymentId).status.should.equal("CAPTURED");
    });

    it("stop() closes sockets and is idempotent", async () => {
      await startSim();
      const epos = await connect();
      await Promise.all([sim.stop(), sim.stop()]);
      (await epos.closed).code.should.equal(1006);
      await sim.suspend().should.be.rejectedWith(/stopped/);
    });

    it("terminates a socket that misses two pongs to its pings", async () => {
      await startSim({ pingIntervalMs: 15 });
      const quiet = await connect({ eposId: "till-q", autoPong: false });
      const lively = await connect({ eposId: "till-l" });
      (await quiet.closed).code.should.equal(1006);
      await until(() => sim.connections().length === 1, "one connection", 500);
      sim.connections().should.eql(["till-l"]);
      lively.ws.readyState.should.equal(WebSocket.OPEN);
    });

    it("act() on an unknown terminal rejects", async () => {
      await startSim();
      await sim.act("NOPE0001", "present").should.be.rejectedWith(/unknown terminal/);
      should.throws(() => sim.setOnline("NOPE0001", false), /unknown terminal/);
    });

    it("the CLI prints its URL and credentials and stops cleanly on SIGTERM", async function () {
      this.timeout(10000); // a child process starts slowly on a loaded machine
      const { spawn } = require("child_process");
      const cli = spawn(process.execPath, [require.resolve("../dist/simulator/cli.js"), "--zero-delay", "--terminals", "3", "--account", "cli-shop"]);
      const exited = new Promise((resolve) => cli.on("exit", (code) => resolve(code)));
      try {
        const out = await new Promise((resolve, reject) => {
          let text = "";
          const timer = setTimeout(() => reject(new Error(`CLI did not start: ${text.replace(/(API key:\s*)\S+/, "$1***")}`)), 8000);
          void exited.then((code) => (clearTimeout(timer), reject(new Error(`CLI exited (${code}) before it started`))));
          cli.stdout.on("data", (d) => {
            text += d;
            if (/terminals:.*\n/.test(text)) {
              clearTimeout(timer);
              resolve(text);
            }
          });
        });
        out.should.match(/listening on ws:\/\/127\.0\.0\.1:\d+\/ws\/v2\/pac\/epos/);
        out.should.match(/account name: cli-shop/);
        out.should.match(/SIM00001, SIM00002, SIM00003/);
        cli.kill("SIGTERM");
        (await exited).should.equal(0);
      } finally {
        // A failed assertion or start must not leave the simulator listening (mocha would not exit).
        if (cli.exitCode === null && cli.signalCode === null) cli.kill("SIGKILL");
      }
    });

    it("realistic delays pace the steps", async () => {
      await startSim({ delays: 20 });
      const epos = await connect();
      const t0 = Date.now();
      await runPayment(epos, pay());
      (Date.now() - t0).should.be.aboveOrEqual(60);
    });
  });
});
