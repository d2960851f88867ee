"use strict";
// What a flow author reads: errors as Catch nodes and the Debug sidebar get them (the shape core
// nodes give), status texts under 20 characters (Node-RED's convention), and progress messages
// in plain words. Real Node-RED (node-red-node-test-helper) against the zero-delay simulator.
require("should");
const fs = require("fs");
const path = require("path");
const { encodeObject } = require("@node-red/util").util;
const {
  helper,
  unloadThen,
  nodeModules,
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

const root = path.join(__dirname, "..");
const USER_TYPES = ["pac-payment", "pac-refund", "pac-capture", "pac-cancel", "pac-events", "pac-status"];
/** Node-RED's convention for a node status: under 20 characters. */
const MAX = 19;

function catalog(type) {
  return JSON.parse(fs.readFileSync(path.join(root, "nodes", "locales", "en-US", `${type}.json`), "utf8"))[type];
}

/** Every string leaf of `obj` as [key, text]. */
function leaves(obj, prefix) {
  const out = [];
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.push([key, v]);
    else if (v && typeof v === "object") out.push(...leaves(v, key));
  }
  return out;
}

function shortEnough(text, what) {
  text.should.be.a.String();
  text.length.should.be.belowOrEqual(MAX, `${what}: "${text}" is ${text.length} characters`);
}

describe("texts a flow author reads", function () {
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

  async function loadPayment(more) {
    await helper.load(nodeModules, flowWith(simConfig(), [paymentNode(), ...outputHelpers, ...(more || [])]), {});
    const cfg = await waitConnected();
    return { cfg, sim: cfg.pac.simulator, ...paymentOutputs() };
  }

  describe("errors", function () {
    it("reach Catch as core nodes give them: msg.error = {message, source, code}, the text plain, no stack", async () => {
      const t = await loadPayment();
      t.pay.receive({ payload: "12.50", tag: "bad" });
      await until(() => t.errors.length === 1, "error on Catch");
      const e = t.errors[0];
      e.tag.should.equal("bad");
      Object.keys(e.error).should.eql(["message", "source", "code"]);
      e.error.message.should.startWith('msg.payload "12.50" has a decimal point: amounts are in minor units');
      e.error.message.should.not.match(/PacError|^Error/);
      e.error.source.should.containDeep({ id: "pay", type: "pac-payment", count: 1 });
      e.error.code.should.equal("INVALID_INPUT");
      // the node shows short words, the full text is in the error
      const last = t.status[t.status.length - 1];
      last.fill.should.equal("red");
      shortEnough(last.text, "error status");
      last.text.should.equal("invalid input");
    });

    it("carry the payment concerned as msg.paymentId", async () => {
      await helper.load(
        nodeModules,
        flowWith(simConfig(), [
          { id: "cancel", type: "pac-cancel", server: "cfg", wires: [["out"]] },
          { id: "out", type: "helper" },
        ]),
        {},
      );
      await waitConnected();
      const errors = collect("errors");
      helper.getNode("cancel").receive({ payload: { paymentId: "p-1", terminalId: "bad id!" } });
      await until(() => errors.length === 1, "error on Catch");
      errors[0].error.code.should.equal("INVALID_INPUT");
      errors[0].error.message.should.match(/terminalId must be/);
      errors[0].paymentId.should.equal("p-1");
    });

    it("reach the Debug sidebar without a Catch node as message and code, in full, without a stack", async () => {
      const flow = flowWith(simConfig(), [paymentNode(), ...outputHelpers]).filter((n) => n.type !== "catch");
      await helper.load(nodeModules, flow, {});
      await waitConnected();
      const log = helper.log();
      const uncaught = () => log.args.map((a) => a[0]).filter((o) => o && o.level === log.ERROR && o.id === "pay");
      helper.getNode("pay").receive({ payload: "12.50" });
      await until(() => uncaught().length === 1, "error logged");
      const logged = uncaught()[0];
      String(logged.msg).should.startWith('msg.payload "12.50" has a decimal point: amounts are in minor units');
      // What the Debug sidebar receives, encoded as Node-RED's debug node does
      const sent = encodeObject({ ...logged }, { maxLength: 1000 });
      const shown = JSON.parse(sent.msg);
      const data = shown.__enc__ ? shown.data : shown;
      data.message.should.equal(String(logged.msg));
      data.code.should.equal("INVALID_INPUT");
      (data.stack === undefined).should.be.true("no stack for an error in the flow's input");
    });
  });

  describe("status texts", function () {
    it("every status and runtime text in the catalogs is under 20 characters (substitutions: the shortest)", () => {
      let checked = 0;
      for (const type of USER_TYPES) {
        const cat = catalog(type);
        for (const [key, text] of [...leaves(cat.status, "status"), ...leaves(cat.runtime, "runtime")]) {
          // A text with a substitution is checked with realistic values below; here its words alone.
          shortEnough(text.replace(/__\w+__/g, "9"), `${type}.${key}`);
          checked++;
        }
      }
      checked.should.be.above(100);
    });

    it("every status a node can build, with realistic values, is under 20 characters", () => {
      const { makeTranslate } = require("../dist/nodes/i18n");
      const lines = { ...require("../dist/nodes/status-line"), ...require("../dist/nodes/transaction") };
      const { describeStorageError } = require("../dist/engine/journal/storage-error");
      const RED = /** @type {any} */ ({ _: (k) => k });
      let checked = 0;
      const check = (text, what) => {
        shortEnough(text, what);
        checked++;
      };
      const errnos = ["ENOSPC", "EDQUOT", "EIO", "EROFS", "EACCES", "EPERM", "EBADF", "ENOENT", "EMFILE", "ENFILE", "JOURNAL_LOCKED", "EWHATEVER"];
      const states = [
        "idle",
        "starting",
        "connecting",
        "open",
        "reconnecting",
        "auth-failed",
        "displaced",
        "identity-in-use",
        "config-error",
        "closing",
        "closed",
      ];
      for (const type of USER_TYPES) {
        const t = makeTranslate(RED, type);
        for (const state of states) {
          for (const retryInMs of [undefined, 900, 30_000, 39_000, 120_000]) {
            const view = /** @type {any} */ ({ state, reason: "the EPOS id must be 1 to 64 letters, digits, dots, dashes or underscores", retryInMs });
            check(lines.connectionStatus(view, t).text, `${type} ${state} ${retryInMs}`);
          }
        }
        for (const code of errnos) {
          const short = describeStorageError(Object.assign(new Error("x"), { code })).short;
          check(lines.connectionStatus({ state: "open", journal: short }, t).text, `${type} journal ${code}`);
        }
        const codes = ["INVALID_INPUT", "NOT_CONNECTED", "TIMEOUT", "CONNECTION_LOST", "REMOTE", "INVALID_STATE", "AUTH_FAILED", "DISPLACED"];
        codes.push("INSECURE_URL", "JOURNAL", "CLOSED", "CONFIG", "NO_TERMINAL", "NO_QUESTION", "ERROR", "TERMINAL_BUSY", "TERMINAL_OFFLINE");
        codes.push(
          "PAYMENT_NOT_FOUND",
          "DUPLICATE_PAYMENT_ID",
          "INVALID_AMOUNT",
          "PAYMENT_ALREADY_RECORDED",
          "METHOD_NOT_FOUND",
          "SOMETHING_DOJO_ADDS_LATER_ON",
        );
        for (const code of codes) check(lines.errorStatus(code, t).text, `${type} error ${code}`);
      }
      for (const type of ["pac-payment", "pac-refund"]) {
        const t = makeTranslate(RED, type);
        const steps = Object.keys(catalog(type).status.notification);
        for (const value of [...steps, "SOMETHING_THE_TERMINAL_ADDS_LATER_ON", "NEW_STEP"]) check(lines.stepText(value, t), `${type} step ${value}`);
        const outcomes = ["CAPTURED", "AUTHORIZED", "REFUNDED", "DECLINED", "CANCELLED", "REVERSED", "FAILED", "SOMETHING_NEW"];
        for (const status of outcomes) {
          for (const [amount, currency] of /** @type {[number, string][]} */ ([
            [1250, "GBP"],
            [2050, "EUR"],
            [123456, "USD"],
            [99999999, "GBP"],
            [1796055902987, "GBP"],
            [500, "JPY"],
            [1250, "XXX"],
          ])) {
            for (const notCreated of [false, true]) {
              const successful = ["CAPTURED", "AUTHORIZED", "REFUNDED"].includes(status);
              check(lines.resultStatus({ status, amount, currency, successful, notCreated }, t).text, `${type} ${status} ${amount} ${currency}`);
            }
          }
        }
      }
      checked.should.be.above(800);
    });

    it("a result shows its amount when it fits, and the word alone when it does not", () => {
      const { makeTranslate } = require("../dist/nodes/i18n");
      const { resultStatus } = { ...require("../dist/nodes/status-line"), ...require("../dist/nodes/transaction") };
      const t = makeTranslate(/** @type {any} */ ({ _: (k) => k }), "pac-payment");
      resultStatus({ status: "CAPTURED", amount: 1250, currency: "GBP", successful: true }, t).should.eql({ fill: "green", shape: "dot", text: "paid £12.50" });
      resultStatus({ status: "CAPTURED", amount: 1796055902987, currency: "GBP", successful: true }, t).text.should.equal("paid");
    });

    it("every status a node shows in a sale, a failure, bad input and without a connection is under 20 characters", async () => {
      const t = await loadPayment([{ id: "lonely", type: "pac-payment", server: "", wires: [[], [], []] }]);
      const lonely = statuses("lonely");
      t.pay.receive({ payload: 1250 });
      await until(() => t.ok.length === 1, "sale");
      t.pay.receive({ payload: 1204 });
      await until(() => t.ko.length === 1, "failed sale");
      t.pay.receive({ payload: { amount: 1250, paymentId: "bad id!" } });
      await until(() => t.errors.length === 1, "bad input");
      helper.getNode("lonely").receive({ payload: 1250 });
      await until(() => t.errors.length === 2, "no connection");
      await delay(30);
      const texts = [...t.status, ...lonely].map((s) => s.text).filter((x) => x !== undefined);
      texts.length.should.be.above(6);
      texts.forEach((text) => shortEnough(text, "status"));
      texts.should.containDeep(["paid £12.50", "failed"]);
    });
  });

  describe("progress messages", function () {
    it("carry the step in the status's plain words as payload.text, beside the code", async () => {
      const t = await loadPayment();
      t.pay.receive({ payload: 1250 });
      await until(() => t.ok.length === 1, "sale");
      await delay(30);
      const notes = t.prog.filter((m) => m.topic === "notification");
      notes.length.should.be.above(2);
      const words = catalog("pac-payment").status.notification;
      for (const m of notes) {
        m.payload.notification.should.be.a.String();
        m.payload.text.should.equal(words[m.payload.notification]);
      }
      notes.map((m) => m.payload.text).should.containDeep(["present card", "approved"]);
      // the status showed the same words, at the same steps
      const shown = t.status.map((s) => s.text);
      for (const m of notes) shown.should.containEql(m.payload.text);
    });
  });
});
