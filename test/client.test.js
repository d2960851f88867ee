"use strict";
require("should");
const { startSim, openClient, waitFor, connected, delay, collect, cleanup, tmpDir } = require("./support");
const { until } = require("./wait");
const { ManagedConnection, checkUrl } = require("../dist/engine");

const T1 = "SIM00001";
const T2 = "SIM00002";

async function sale(client, amount, extra = {}) {
  const outcomes = collect(client, "outcome");
  const ack = await client.createPayment({ terminalId: T1, amount, currency: "GBP", ...extra });
  const outcome = await waitFor(client, "outcome", (o) => o.paymentId === ack.paymentId);
  return { ack, outcome, outcomes };
}

describe("client against the simulator (strict mode)", function () {
  afterEach(cleanup);

  describe("magic amounts", function () {
    let sim, client;
    beforeEach(async () => {
      sim = await startSim();
      client = await openClient(sim);
      await connected(client);
    });

    it("a client with a maximum amount refuses more (base + tips + cashback) with AMOUNT_LIMIT before anything is sent", async () => {
      const limited = await openClient(sim, { maxAmount: 5000, maxAmountSetting: "the till's limit" });
      await connected(limited);
      const before = sim.stats.createPaymentIds.length;
      const e = await limited.createPayment({ terminalId: T1, amount: 4000, currency: "GBP", tipsAmount: 1001 }).catch((err) => err);
      e.code.should.equal("AMOUNT_LIMIT");
      e.message.should.match(/^£50\.01 is above the maximum of £50\.00 per payment: nothing was sent\. If it is right, raise the till's limit/);
      sim.stats.createPaymentIds.length.should.equal(before);
      (await limited.createRefund({ terminalId: T1, amount: 5001, currency: "GBP" }).catch((err) => err)).code.should.equal("AMOUNT_LIMIT");
      (await limited.createPayment({ terminalId: T1, amount: 5000, currency: "GBP" })).paymentId.should.be.a.String();
    });

    it("a terminal declines above its ceiling (99,999.99), whatever the customer does; at the ceiling it approves", async () => {
      const { outcome: over } = await sale(client, 10_000_000);
      over.status.should.equal("DECLINED");
      over.successful.should.be.false();
      const { outcome: at } = await sale(client, 9_999_900);
      at.status.should.equal("CAPTURED");
    });

    it("00 approves a contactless AUTO sale: CAPTURED with auth code and card", async () => {
      const steps = collect(client, "notification");
      const { ack, outcome, outcomes } = await sale(client, 1200);
      ack.terminalId.should.equal(T1);
      outcome.status.should.equal("CAPTURED");
      outcome.successful.should.be.true();
      outcome.amount.should.equal(1200);
      outcome.authCode.should.match(/^\d{6}$/);
      outcome.card.last4.should.match(/^\d{4}$/);
      outcome.record.paymentId.should.equal(ack.paymentId);
      steps.map((n) => n.notification).should.containEql("PRESENT_CARD");
      await delay(50);
      outcomes.length.should.equal(1);
      client.journal.isRecorded(ack.paymentId).should.be.true();
    });

    it("MANUAL pre-auth is AUTHORIZED, then updated and captured", async () => {
      const { ack, outcome } = await sale(client, 5000, { captureMode: "MANUAL" });
      outcome.status.should.equal("AUTHORIZED");
      (await client.updatePayment(ack.paymentId, 6000)).should.eql({ paymentId: ack.paymentId, status: "AUTHORIZED", amount: 6000 });
      (await client.capturePayment(ack.paymentId, 5500)).should.eql({ paymentId: ack.paymentId, status: "CAPTURED", amount: 5500 });
      (await client.getPayment(ack.paymentId)).status.should.equal("CAPTURED");
    });

    it("MANUAL pre-auth reversed by a cancel: the journal notes REVERSED (Dojo sends no record for it), a second cancel is refused before sending", async () => {
      const { ack, outcome } = await sale(client, 5000, { captureMode: "MANUAL" });
      outcome.status.should.equal("AUTHORIZED");
      await client.cancelPayment(ack.paymentId);
      (await client.getPayment(ack.paymentId)).status.should.equal("REVERSED");
      client.journal.get(ack.paymentId).status.should.equal("REVERSED");
      const cancels = sim.stats.requests.CancelPayment;
      const again = await client.cancelPayment(ack.paymentId).then(
        () => null,
        (e) => e,
      );
      again.code.should.equal("INVALID_STATE");
      again.message.should.match(/already ended REVERSED/);
      sim.stats.requests.CancelPayment.should.equal(cancels);
    });

    it("a capture and a reversal whose answers were lost: the error says so, and the journal learns from GetPayment what Dojo did", async () => {
      const a = await sale(client, 5000, { captureMode: "MANUAL" });
      const b = await sale(client, 6000, { captureMode: "MANUAL" });
      sim.faults.set({ dropBeforeResponse: "CapturePayment" });
      (
        await client.capturePayment(a.ack.paymentId, 4000).then(
          () => null,
          (e) => e,
        )
      ).code.should.equal("CONNECTION_LOST");
      await connected(client);
      await until(() => client.journal.get(a.ack.paymentId).status === "CAPTURED", "the capture learnt after the reconnect", 3000);
      client.journal.get(a.ack.paymentId).amount.should.equal(4000);
      sim.faults.set({ dropBeforeResponse: "CancelPayment" });
      (
        await client.cancelPayment(b.ack.paymentId).then(
          () => null,
          (e) => e,
        )
      ).code.should.equal("CONNECTION_LOST");
      await connected(client);
      await until(() => client.journal.get(b.ack.paymentId).status === "REVERSED", "the reversal learnt after the reconnect", 3000);
    });

    it("01 declines", async () => {
      const { outcome } = await sale(client, 1201);
      outcome.status.should.equal("DECLINED");
      outcome.successful.should.be.false();
    });

    it("02 asks for a signature: policy accept approves, decline declines", async () => {
      (await sale(client, 1202, { signature: "accept" })).outcome.status.should.equal("CAPTURED");
      (await sale(client, 1302, { signature: "decline" })).outcome.status.should.equal("DECLINED");
    });

    it("02 with policy ask emits the question and takes the answer", async () => {
      const q = waitFor(client, "signature");
      const ack = await client.createPayment({ terminalId: T1, amount: 1402, currency: "GBP", signature: "ask", owner: "node-a" });
      const question = await q;
      question.paymentId.should.equal(ack.paymentId);
      question.owner.should.equal("node-a");
      question.receiptLines.should.be.an.Array();
      const outcome = waitFor(client, "outcome");
      client.answerSignature(ack.paymentId, false).should.be.true();
      client.answerSignature(ack.paymentId, false).should.be.false();
      (await outcome).status.should.equal("DECLINED");
    });

    it("02 with policy ask and no answer falls back to accepting before Dojo's timeout", async () => {
      await cleanup();
      sim = await startSim({ signatureTimeoutMs: 4000 });
      client = await openClient(sim, { signatureMarginMs: 3800 });
      await connected(client);
      const inbound = [];
      sim.on("frameIn", (f) => inbound.push(f.text));
      const t0 = Date.now();
      const { outcome } = await sale(client, 1502, { signature: "ask" });
      outcome.status.should.equal("CAPTURED");
      // The EPOS answered (accepted) itself, well before the simulator's own 4 s timeout would have.
      inbound.some((t) => /"accepted":true/.test(t)).should.be.true();
      (Date.now() - t0).should.be.below(3000);
    });

    it("03 waits at PRESENT_CARD and can be cancelled: CANCELLED", async () => {
      const present = waitFor(client, "notification", (n) => n.notification === "PRESENT_CARD");
      const ack = await client.createPayment({ terminalId: T1, amount: 1203, currency: "GBP" });
      await present;
      const outcome = waitFor(client, "outcome");
      (await client.cancelPayment(ack.paymentId)).should.eql({ paymentId: ack.paymentId, terminalId: T1 });
      (await outcome).status.should.equal("CANCELLED");
    });

    it("04 is a processing error: FAILED", async () => {
      (await sale(client, 1204)).outcome.status.should.equal("FAILED");
    });

    it("05 is chip and PIN with REMOVE_CARD", async () => {
      const steps = collect(client, "notification");
      (await sale(client, 1205)).outcome.status.should.equal("CAPTURED");
      const values = steps.map((n) => n.notification);
      values.should.containEql("PIN_ENTRY");
      values.should.containEql("REMOVE_CARD");
    });

    it("refunds end REFUNDED", async () => {
      const ack = await client.createRefund({ terminalId: T2, amount: 700, currency: "GBP" });
      const outcome = await waitFor(client, "outcome", (o) => o.paymentId === ack.paymentId);
      outcome.status.should.equal("REFUNDED");
      outcome.kind.should.equal("refund");
    });

    it("lists terminals and their details", async () => {
      const list = await client.connectedTerminals();
      list.map((t) => t.terminalId).should.eql([T1, T2]);
      (await client.terminalDetails(T2)).status.should.equal("AVAILABLE");
    });
  });

  describe("preconditions and bad input", function () {
    let sim, client;
    beforeEach(async () => {
      sim = await startSim({ manual: true });
      client = await openClient(sim);
      await connected(client);
    });

    async function remoteError(promise) {
      try {
        await promise;
      } catch (e) {
        return e;
      }
      throw new Error("expected a rejection");
    }

    it("TERMINAL_BUSY while a transaction runs; PAYMENT_NOT_FOUND; unknown terminal", async () => {
      await client.createPayment({ terminalId: T1, amount: 100, currency: "GBP" });
      const busy = await remoteError(client.createPayment({ terminalId: T1, amount: 100, currency: "GBP" }));
      busy.code.should.equal("REMOTE");
      busy.remoteName.should.equal("TERMINAL_BUSY");
      busy.userMessage.should.be.a.String().and.not.be.empty();
      (await remoteError(client.getPayment("nope"))).remoteName.should.equal("PAYMENT_NOT_FOUND");
      (await remoteError(client.createPayment({ terminalId: "NOPE0001", amount: 100, currency: "GBP" }))).remoteName.should.equal("INVALID_PARAMS");
    });

    it("TERMINAL_OFFLINE", async () => {
      sim.setOnline(T2, false);
      (await remoteError(client.createPayment({ terminalId: T2, amount: 100, currency: "GBP" }))).remoteName.should.equal("TERMINAL_OFFLINE");
    });

    it("capture on an AUTO payment and cancel after the card are INVALID_STATE", async () => {
      const ack = await client.createPayment({ terminalId: T1, amount: 100, currency: "GBP" });
      await sim.act(T1, "present");
      // refused by Dojo, or before sending once the client has seen the step after PRESENT_CARD
      const cancel = await remoteError(client.cancelPayment(ack.paymentId));
      (cancel.remoteName ?? cancel.code).should.equal("INVALID_STATE");
      const outcome = waitFor(client, "outcome");
      await sim.act(T1, "approve").catch(() => undefined);
      await outcome;
      // the journal knows it is a sale: refused before anything is sent
      const captures = sim.stats.requests.CapturePayment || 0;
      (await remoteError(client.capturePayment(ack.paymentId, 100))).code.should.equal("INVALID_STATE");
      (sim.stats.requests.CapturePayment || 0).should.equal(captures);
    });

    it("Dojo's INVALID_STATE for a cancel says what Dojo said and the last step known, not that the card was presented (another till's journal does not know the step)", async () => {
      const ack = await client.createPayment({ terminalId: T1, amount: 100, currency: "GBP" });
      await sim.act(T1, "present");
      const other = await openClient(sim, { eposId: "till-2" });
      await connected(other);
      const cancels = sim.stats.requests.CancelPayment || 0;
      const e = await remoteError(other.cancelPayment(ack.paymentId, T1));
      (sim.stats.requests.CancelPayment || 0).should.equal(cancels + 1); // sent: Dojo refused it
      e.code.should.equal("REMOTE");
      e.remoteName.should.equal("INVALID_STATE");
      e.paymentId.should.equal(ack.paymentId);
      // Dojo's own words and what this till knows (nothing): no claim about the card.
      e.message.should.match(/^Dojo refused to cancel payment \S+: .+; last step known: none yet$/);
      e.message.should.not.match(/card was already presented/);
      e.message.should.containEql(e.userMessage);
    });

    it("a refused cancel says the card was presented only when a step after PRESENT_CARD was seen", async () => {
      const ack = await client.createPayment({ terminalId: T1, amount: 100, currency: "GBP" });
      await until(() => client.tracked(ack.paymentId)?.lastStep === "PRESENT_CARD", "PRESENT_CARD seen", 3000);
      await sim.act(T1, "present");
      await until(() => !["PRESENT_CARD", undefined].includes(client.tracked(ack.paymentId)?.lastStep), "a step after the card", 3000);
      const step = client.tracked(ack.paymentId).lastStep;
      const cancels = sim.stats.requests.CancelPayment || 0;
      const e = await remoteError(client.cancelPayment(ack.paymentId));
      (sim.stats.requests.CancelPayment || 0).should.equal(cancels); // known: refused before sending
      e.message.should.containEql(`the card was already presented (last step ${step})`);
      await sim.act(T1, "approve").catch(() => undefined);
    });

    it("refuses bad input before sending anything", async () => {
      const before = sim.stats.createPaymentIds.length;
      const bad = [
        { terminalId: T1, amount: 12.5, currency: "GBP" },
        { terminalId: T1, amount: -5, currency: "GBP" },
        { terminalId: T1, amount: "1250", currency: "GBP" },
        { terminalId: T1, currency: "GBP" },
        { terminalId: T1, amount: 2 ** 60, currency: "GBP" },
        { terminalId: T1, amount: 100, currency: "XXY" },
        { terminalId: "", amount: 100, currency: "GBP" },
        { terminalId: T1, amount: 100, currency: "GBP", paymentId: "has spaces" },
        { terminalId: T1, amount: 100, currency: "GBP", captureMode: "LATER" },
      ];
      for (const req of bad) {
        await client.createPayment(req).should.be.rejectedWith({ code: "INVALID_INPUT" });
      }
      await delay(20);
      sim.stats.createPaymentIds.length.should.equal(before);
    });

    it("refuses a reused paymentId", async () => {
      await client.createPayment({ terminalId: T1, amount: 100, currency: "GBP", paymentId: "dup-1" });
      await client.createPayment({ terminalId: T2, amount: 100, currency: "GBP", paymentId: "dup-1" }).should.be.rejectedWith({ code: "INVALID_INPUT" });
    });

    it("is NOT_CONNECTED before start", async () => {
      const other = await openClient(sim, { eposId: "till-9" });
      await remoteError(other.createPayment({ terminalId: T1, amount: 100, currency: "GBP" })).then((e) => e.code.should.equal("NOT_CONNECTED"));
    });
  });

  describe("connection", function () {
    it("backs off exponentially while Dojo is down and reconnects when it is back", async () => {
      const sim = await startSim();
      const client = await openClient(sim, { reconnect: { initialMs: 40, maxMs: 320, jitter: 0 } });
      await connected(client);
      const delays = [];
      client.on("state", (s, info) => s === "reconnecting" && delays.push(info.retryInMs));
      await sim.suspend();
      await delay(900);
      delays.slice(0, 4).should.eql([40, 80, 160, 320]);
      const attempts = client.connection.attempts;
      attempts.should.be.belowOrEqual(8); // bounded: no storm
      const open = waitFor(client, "state", (s) => s === "open", 3000);
      await sim.resume();
      await open;
    });

    it("notices a half-open connection (pings unanswered) within two heartbeat intervals", async () => {
      const sim = await startSim();
      const client = await openClient(sim, { heartbeatIntervalMs: 100 });
      await connected(client);
      sim.faults.set({ noPong: true });
      const t0 = Date.now();
      await waitFor(client, "state", (s) => s === "reconnecting", 1000);
      (Date.now() - t0).should.be.belowOrEqual(260);
    });

    /** Two clients with the same epos-id: the second connects and displaces the first. */
    async function displacedPair() {
      const sim = await startSim();
      const first = await openClient(sim);
      await connected(first);
      const displaced = waitFor(first, "state", (s) => s === "displaced");
      const second = await openClient(sim);
      await connected(second);
      const [, info] = await displaced;
      return { sim, first, second, info };
    }

    it("stops when displaced by a second connection with the same epos-id, and says which", async () => {
      const { first, second, info } = await displacedPair();
      info.error.code.should.equal("DISPLACED");
      info.error.message.should.containEql("till-1");
      const attempts = first.connection.attempts;
      await delay(300);
      first.connection.attempts.should.equal(attempts);
      first.state.should.equal("displaced");
      second.state.should.equal("open");
    });

    it("reconnects a displaced client only when the operator asks (reconnectNow)", async () => {
      const { first, second } = await displacedPair();
      const back = waitFor(first, "state", (s) => s === "open");
      const secondOut = waitFor(second, "state", (s) => s === "displaced");
      first.connection.reconnectNow();
      await back;
      await secondOut; // the till that came back takes the epos-id again
    });

    it("does not storm on wrong credentials (HTTP 401): one attempt, then a slow retry", async () => {
      const sim = await startSim();
      const client = await openClient(sim, { apiKey: "wrong-key-123", authRetryMs: 300 });
      const failed = waitFor(client, "state", (s) => s === "auth-failed");
      client.start();
      const [, info] = await failed;
      info.error.code.should.equal("AUTH_FAILED");
      info.error.message.should.not.containEql("wrong-key-123");
      await delay(700);
      client.connection.attempts.should.be.within(2, 4);
      sim.stats.handshakesRejected[401].should.equal(client.connection.attempts);
    });

    it("refuses ws:// to a host that is not loopback unless allowInsecure", () => {
      // .invalid names never resolve: a regressed check could not reach a real host.
      (() => checkUrl("ws://pac.example.invalid/pac", false)).should.throw({ code: "INSECURE_URL" });
      checkUrl("ws://pac.example.invalid/pac", true).hostname.should.equal("pac.example.invalid");
      checkUrl("ws://127.0.0.1:9/pac", false).hostname.should.equal("127.0.0.1");
      checkUrl("wss://api.dojo.tech/ws/v2/pac/epos", false).protocol.should.equal("wss:");
      (() => new ManagedConnection({ url: "ws://10.1.2.3/x", accountName: "a", apiKey: "b", eposId: "e", softwareHouseId: "s" })).should.throw({
        code: "INSECURE_URL",
      });
    });

    it("rejects pending requests with CONNECTION_LOST, and Create* with OUTCOME_UNKNOWN", async () => {
      const sim = await startSim();
      const client = await openClient(sim);
      await connected(client);
      sim.faults.set({ omitResponse: ["GetPayment", "CreatePayment"] });
      const get = client.getPayment("whatever").catch((e) => e);
      const create = client.createPayment({ terminalId: T1, amount: 100, currency: "GBP" }).catch((e) => e);
      await delay(30);
      await sim.suspend();
      (await get).code.should.equal("CONNECTION_LOST");
      (await create).code.should.equal("OUTCOME_UNKNOWN");
      await sim.resume();
    });

    it("times out a request with TIMEOUT", async () => {
      const sim = await startSim();
      const client = await openClient(sim, { requestTimeoutMs: 150 });
      await connected(client);
      sim.faults.set({ omitResponse: ["ConnectedTerminals"] });
      await client.connectedTerminals().then(
        () => Promise.reject(new Error("expected a timeout")),
        (e) => e.code.should.equal("TIMEOUT"),
      );
    });
  });

  describe("journal of terminal steps", function () {
    const { untilZeros } = require("../dist/engine/journal/journal");
    const steps = (client) =>
      untilZeros(require("fs").readFileSync(client.journal.path, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.t === "step");

    it("journals the latest step of a payment still running, once, after stepJournalMs", async () => {
      const sim = await startSim({ manual: true });
      const client = await openClient(sim, { stepJournalMs: 60 });
      await connected(client);
      const presented = waitFor(client, "notification", (n) => n.notification === "PRESENT_CARD");
      const { paymentId } = await client.createPayment({ terminalId: T1, amount: 100, currency: "GBP" });
      await presented;
      steps(client).should.have.length(0); // not at once: a quick sale would not need it
      await delay(150);
      steps(client)
        .map((e) => [e.id, e.value])
        .should.eql([[paymentId, "PRESENT_CARD"]]);
      client.journal.get(paymentId).lastStep.should.equal("PRESENT_CARD");
    });

    it("writes no step for a payment that ended before stepJournalMs, and the pending ones on close", async () => {
      const sim = await startSim();
      const client = await openClient(sim, { stepJournalMs: 60 });
      await connected(client);
      await sale(client, 1200);
      await delay(150);
      steps(client).should.have.length(0);
      sim.setManual(T2, true);
      const stepped = waitFor(client, "notification", (n) => n.terminalId === T2);
      const { paymentId } = await client.createPayment({ terminalId: T2, amount: 100, currency: "GBP" });
      await stepped;
      const path = client.journal.path;
      await client.close();
      const lines = require("fs")
        .readFileSync(path, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      lines
        .filter((e) => e.t === "step")
        .map((e) => e.id)
        .should.eql([paymentId]);
    });
  });

  describe("exactly once", function () {
    it("acknowledges each record only after an fdatasync covered its line, also while the journal rotates under load", async function () {
      this.timeout(30_000);
      // Follows the journal's own fs calls: which bytes of each file are written, which are synced,
      // and where each record line ends. A rotation closes a file (its fd number is reused by the
      // next one): a record is followed by its file's state, not by the fd.
      const fs = require("fs");
      const sim = await startSim({ terminals: 10 });
      const journalDir = tmpDir();
      const files = new Map(); // fd -> { written, synced }
      const recordAt = new Map(); // paymentId -> [{ file, end }]
      const original = { openSync: fs.openSync, closeSync: fs.closeSync, writeSync: fs.writeSync, fdatasyncSync: fs.fdatasyncSync, fdatasync: fs.fdatasync };
      fs.openSync = function (p) {
        const fd = original.openSync.apply(this, arguments);
        if (typeof p === "string" && p.startsWith(journalDir) && p.endsWith(".jsonl")) files.set(fd, { written: 0, synced: 0 });
        return fd;
      };
      fs.closeSync = function (fd) {
        files.delete(fd);
        return original.closeSync.apply(this, arguments);
      };
      /** @type {(fd: number, buf: Buffer, off: number, len: number, pos: number) => number} */
      const writeSync = function (fd, buf, off, len, pos) {
        const n = original.writeSync.apply(this, arguments);
        const file = files.get(fd);
        if (file && Buffer.isBuffer(buf) && typeof pos === "number" && buf[off] !== 0) {
          file.written = Math.max(file.written, pos + n);
          const text = buf.subarray(off, off + n).toString("utf8");
          let at = 0;
          for (let nl = text.indexOf("\n"); nl >= 0; at = nl + 1, nl = text.indexOf("\n", at)) {
            const line = text.slice(at, nl);
            if (!line.startsWith('{"t":"record"')) continue;
            const id = JSON.parse(line).id;
            const end = pos + Buffer.byteLength(text.slice(0, nl + 1));
            recordAt.set(id, [...(recordAt.get(id) || []), { file, end }]);
          }
        }
        return n;
      };
      fs.writeSync = /** @type {typeof fs.writeSync} */ (writeSync);
      fs.fdatasyncSync = function (fd) {
        const file = files.get(fd);
        const upTo = file ? file.written : 0;
        original.fdatasyncSync.apply(this, arguments);
        if (file) file.synced = Math.max(file.synced, upTo);
      };
      /** @type {(fd: number, cb: import("fs").NoParamCallback) => void} */
      const fdatasync = function (fd, cb) {
        const file = files.get(fd);
        const upTo = file ? file.written : 0;
        return original.fdatasync.call(this, fd, (err) => {
          if (!err && file) file.synced = Math.max(file.synced, upTo);
          cb(err);
        });
      };
      fs.fdatasync = /** @type {typeof fs.fdatasync} */ (fdatasync);
      try {
        // 48 KiB segments: a rotation every ~50 sales, while records are being stored and acknowledged.
        const client = await openClient(sim, { journalDir, journal: { segmentBytes: 48 * 1024, maxSegments: 1000 } });
        // A record Dojo delivers again (its ack was slow under this load) is acknowledged again: count ids.
        const acks = { onDisk: new Set(), ahead: [] };
        client.on("wire", (w) => {
          if (w.direction !== "out") return;
          const m = JSON.parse(w.text);
          if (!m.result || typeof m.result.paymentId !== "string") return; // only the answers to RecordPayment
          const at = recordAt.get(m.result.paymentId) || [];
          if (at.some((r) => r.file.synced >= r.end)) acks.onDisk.add(m.result.paymentId);
          else acks.ahead.push(m.result.paymentId);
        });
        await connected(client);
        const SALES = 1500;
        let started = 0;
        let ended = 0;
        const terminals = Array.from({ length: 10 }, (_, i) => `SIM${String(i + 1).padStart(5, "0")}`);
        const next = (terminalId) => {
          if (started >= SALES) return;
          started++;
          client.createPayment({ terminalId, amount: 1000, currency: "GBP", owner: "load" }).catch(() => ended++);
        };
        client.outbox.claim("load", {
          outcome: (o) => {
            ended++;
            next(o.terminalId);
            return "taken";
          },
        });
        terminals.forEach(next);
        await until(() => ended >= SALES, "1,500 sales on 10 terminals", 25_000);
        const rotated = fs.readdirSync(journalDir).filter((n) => /\.\d+\.jsonl$/.test(n)).length;
        rotated.should.be.above(10);
        acks.ahead.should.eql([]);
        acks.onDisk.size.should.equal(SALES);
      } finally {
        Object.assign(fs, original);
      }
    });

    it("never re-sends CreatePayment when the ack is lost; follows up and emits one outcome", async () => {
      const sim = await startSim();
      const client = await openClient(sim);
      await connected(client);
      const outcomes = collect(client, "outcome");
      sim.faults.set({ dropBeforeResponse: "CreatePayment" });
      const err = await client.createPayment({ terminalId: T1, amount: 1100, currency: "GBP", paymentId: "lost-ack" }).catch((e) => e);
      err.code.should.equal("OUTCOME_UNKNOWN");
      await waitFor(client, "outcome", (o) => o.paymentId === "lost-ack", 4000).catch(() => undefined);
      await delay(300);
      outcomes.length.should.equal(1);
      outcomes[0].status.should.equal("CAPTURED");
      sim.stats.createPaymentIds.filter((id) => id === "lost-ack").length.should.equal(1);
    });

    it("redelivered records (lost acks, duplicates) are acknowledged again and emitted once", async () => {
      const sim = await startSim({ faults: { ignoreRecordAcks: 2, duplicateRecords: true } });
      const client = await openClient(sim);
      await connected(client);
      const records = collect(client, "record");
      const { outcomes } = await sale(client, 900);
      await delay(500);
      outcomes.length.should.equal(1);
      records.length.should.equal(1);
      sim.stats.recordsSent.should.be.aboveOrEqual(3); // delivered again and again until acknowledged
      sim.stats.recordsAcked.should.equal(1);
    });

    it("a payment running while the client restarts is resumed from the journal: one outcome, owner and ctx kept", async () => {
      const sim = await startSim({ manual: true });
      const journalDir = tmpDir();
      const first = await openClient(sim, { journalDir });
      await connected(first);
      await first.createPayment({ terminalId: T1, amount: 4200, currency: "GBP", paymentId: "resume-1", owner: "node-7", ctx: { order: 42 } });
      await first.close();
      await sim.act(T1, "present");
      await sim.act(T1, "approve").catch(() => undefined);
      await sim.act(T1, "removeCard").catch(() => undefined);

      const second = await openClient(sim, { journalDir });
      second.tracked("resume-1").phase.should.equal("unknown");
      const outcomes = collect(second, "outcome");
      await connected(second);
      const outcome = await waitFor(second, "outcome", (o) => o.paymentId === "resume-1", 4000);
      outcome.owner.should.equal("node-7");
      outcome.ctx.should.eql({ order: 42 });
      outcome.status.should.equal("CAPTURED");
      outcome.redelivered.should.be.false();
      await delay(300);
      outcomes.length.should.equal(1);

      // Not handed over yet: offered again after the next restart; handed over once, never again.
      await second.close();
      const third = await openClient(sim, { journalDir });
      third
        .undelivered()
        .map((o) => o.paymentId)
        .should.eql(["resume-1"]);
      let handed = 0;
      /** @type {import("../dist/engine").OwnerReceiver} */
      const receiver = { outcome: () => (handed++, "taken") };
      third.outbox.claim("node-7", receiver);
      await until(() => handed === 1, "handed over to its owner's claim");
      await third.outbox.settled();
      // Claimed again, or offered again: never handed over a second time.
      third.outbox.claim("node-7", { ...receiver });
      third.outbox.offer(outcome).should.equal("delivered-before");
      await delay(50);
      await third.outbox.settled();
      handed.should.equal(1);
      await third.close();
      const fourth = await openClient(sim, { journalDir });
      fourth.undelivered().should.eql([]);
      fourth.journal.isRecorded("resume-1").should.be.true();
    });

    it("an outcome whose hand-over was interrupted by a crash is offered again marked redelivered", async () => {
      const sim = await startSim();
      const journalDir = tmpDir();
      const first = await openClient(sim, { journalDir });
      await connected(first);
      const { ack } = await sale(first, 300);
      // emit journaled, then "crash" before done
      await first.journal.write({ t: "emit", ts: Date.now(), id: ack.paymentId }, true);
      await first.close();
      const second = await openClient(sim, { journalDir });
      const offered = second.undelivered();
      offered.length.should.equal(1);
      offered[0].redelivered.should.be.true();
    });

    it("a record stored before a crash but not acknowledged is acknowledged after restart, not emitted again", async () => {
      const sim = await startSim({ manual: true });
      const journalDir = tmpDir();
      const first = await openClient(sim, { journalDir });
      await connected(first);
      await first.createPayment({ terminalId: T1, amount: 800, currency: "GBP", paymentId: "crash-ack" });
      // Simulate "stored, then killed before the ack": journal the record, drop the ack.
      await first.journal.write({ t: "record", ts: Date.now(), id: "crash-ack", record: { paymentId: "crash-ack", status: "CAPTURED" } }, true);
      await first.close();
      await sim.act(T1, "present");
      await sim.act(T1, "approve").catch(() => undefined);
      await sim.act(T1, "removeCard").catch(() => undefined);
      const second = await openClient(sim, { journalDir });
      const records = collect(second, "record");
      const outcomes = collect(second, "outcome");
      await connected(second);
      await delay(400);
      records.length.should.equal(0);
      outcomes.length.should.equal(0);
      second
        .undelivered()
        .map((o) => o.paymentId)
        .should.eql(["crash-ack"]);
      sim.stats.recordsAcked.should.be.aboveOrEqual(1);
    });

    it("a record for a payment this EPOS did not start is emitted once, marked foreign", async () => {
      const sim = await startSim();
      const journalDir = tmpDir();
      const other = await openClient(sim, { journalDir: tmpDir() });
      await connected(other);
      // Started by a tool with another journal on the same epos-id, then that tool goes away.
      const ack = await other.createPayment({ terminalId: T1, amount: 1203, currency: "GBP" });
      await other.close();
      const client = await openClient(sim, { journalDir });
      await connected(client);
      const outcome = waitFor(client, "outcome");
      await client.cancelPayment(ack.paymentId, T1);
      const o = await outcome;
      o.foreign.should.be.true();
      o.status.should.equal("CANCELLED");
    });
  });

  describe("robustness", function () {
    it("close() called twice: the second call waits for the same shutdown", async () => {
      const sim = await startSim();
      const client = await openClient(sim);
      await connected(client);
      const first = client.close();
      const second = client.close();
      second.should.equal(first);
      await second;
      client.state.should.equal("closed");
      await client.journal.write({ t: "emit", ts: 1, id: "x" }, false).should.be.rejectedWith(/closed/);
    });

    it("survives malformed, oversized and hostile frames and keeps working", async () => {
      const sim = await startSim();
      const client = await openClient(sim, { maxFrameBytes: 4096 });
      const warnings = collect(client, "warning");
      await connected(client);
      sim.sendRaw("till-1", "this is not json");
      sim.sendRaw("till-1", JSON.stringify({ hello: "world" }));
      sim.sendRaw("till-1", JSON.stringify({ jsonrpc: "2.0", id: 99999, result: { ok: true } }));
      sim.sendRaw("till-1", JSON.stringify({ jsonrpc: "2.0", method: "TerminalNotification", params: { x: "y".repeat(5000) } }));
      sim.sendRaw(
        "till-1",
        '{"jsonrpc":"2.0","id":5,"method":"RecordPayment","params":{"paymentId":"evil","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}',
      );
      const unknown = waitFor(sim, "frameIn", (f) => f.text.includes('"id":77'), 2000);
      sim.sendRaw("till-1", JSON.stringify({ jsonrpc: "2.0", id: 77, method: "NoSuchMethod", params: {} }));
      JSON.parse((await unknown).text).result.code.should.equal(-32601);
      await delay(100);
      ({}).should.not.have.property("polluted");
      warnings.length.should.be.aboveOrEqual(4);
      client.state.should.equal("open");
      (await sale(client, 1000)).outcome.status.should.equal("CAPTURED");
    });

    it("redacts credentials from the wire trace", async () => {
      const sim = await startSim();
      const client = await openClient(sim);
      const frames = collect(client, "wire");
      await connected(client);
      await sale(client, 1000);
      frames.length.should.be.above(4);
      const all = JSON.stringify(frames);
      all.should.not.containEql(sim.credentials.apiKey);
      all.should.not.containEql(Buffer.from(`${sim.credentials.accountName}:${sim.credentials.apiKey}`).toString("base64"));
    });
  });
});
