"use strict";
// Every flow in examples/ runs in a real Node-RED: ONE Node-RED child process (this package linked
// into a temp userDir, the built-in simulator with zero delays), each example deployed as is through
// the admin API (POST /flows, full deploy), its inject nodes clicked through POST /inject/<id>, and
// the outcome observed the way the editor sees it: the debug sidebar and node statuses over the
// comms websocket (/comms, topics "debug" and "status/#"). shop-counter is driven over HTTP.
// Every wait is bounded; the child is stopped and the userDir removed in after().
require("should");
const fs = require("fs");
const path = require("path");
const WebSocket = require("ws");
const { tmpDir, prepareUserDir, redProcess, cleanup, within, root } = require("./faults/helpers");
const { until } = require("./wait");

const EXAMPLES_DIR = path.join(root, "examples");
const WAIT_MS = 8000;

function readExample(name) {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, `${name}.json`), "utf8"));
}

/** The id of the one node of `type` (and `name`, when given) in an example. */
function idOf(flow, type, name) {
  const found = flow.filter((n) => n.type === type && (name === undefined || n.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type}${name !== undefined ? ` "${name}"` : ""}, found ${found.length}`);
  return found[0].id;
}

/** A debug sidebar message's value: objects and arrays arrive JSON-encoded. */
function debugValue(data) {
  if (typeof data.msg === "string" && /^(Object|array)/.test(String(data.format))) {
    try {
      return JSON.parse(data.msg);
    } catch {
      return data.msg;
    }
  }
  return data.msg;
}

describe("examples: a real Node-RED runs every example", function () {
  this.timeout(30000);

  let red;
  let ws;
  const events = []; // {topic, data} from /comms, in order
  const waiters = new Set();

  function onEvent(e) {
    events.push(e);
    for (const w of [...waiters]) w();
  }

  /** The first event from index `from` on that satisfies pred, within ms. */
  function waitEvent(from, pred, what, ms = WAIT_MS) {
    let check;
    const p = new Promise((resolve) => {
      check = () => {
        for (let i = from; i < events.length; i++) {
          if (pred(events[i])) {
            waiters.delete(check);
            resolve(events[i]);
            return;
          }
        }
      };
      waiters.add(check);
      check();
    });
    return within(p, ms, what).catch((err) => {
      waiters.delete(check);
      const seen = events
        .slice(from)
        .map((e) => `  ${e.topic} ${JSON.stringify(e.data).slice(0, 300)}`)
        .join("\n");
      err.message += `\nevents since the step:\n${seen || "  (none)"}\nNode-RED log (tail):\n${red.output.slice(-3000)}`;
      throw err;
    });
  }

  /** Debug message from the debug node `debugId` satisfying pred(value, data). */
  async function debugFrom(from, debugId, pred, what) {
    const e = await waitEvent(from, (ev) => ev.topic === "debug" && ev.data.id === debugId && pred(debugValue(ev.data), ev.data), what);
    return debugValue(e.data);
  }

  /** Status of node `id` whose text satisfies pred. */
  async function statusOf(from, id, pred, what) {
    const e = await waitEvent(from, (ev) => ev.topic === `status/${id}` && ev.data && pred(String(ev.data.text || ""), ev.data), what);
    return e.data.text;
  }

  /**
   * No error since the deploy: none reached a debug node fed by a Catch node, and Node-RED logged
   * none (it logs every error no Catch node takes; 05-events has no Catch node, shop-counter's
   * answer the HTTP request and are checked by its status codes). And every inject node of the
   * example was clicked by the test (none left out).
   */
  function finish([flow, mark, logMark], clicked) {
    const errorDebugs = new Set(flow.filter((n) => n.type === "catch").flatMap((n) => n.wires.flat()));
    const caught = events.slice(mark).filter((e) => e.topic === "debug" && errorDebugs.has(e.data.id));
    caught.map((e) => e.data.msg).should.eql([], "errors reached the example's Catch nodes");
    const logged = red.output
      .slice(logMark)
      .split("\n")
      .filter((l) => /\[error\]/.test(l));
    logged.should.eql([], "errors no Catch node took, in Node-RED's log");
    flow
      .filter((n) => n.type === "inject")
      .map((n) => n.name)
      .sort()
      .should.eql([...clicked].sort());
  }

  /**
   * Full deploy of the example (nothing else), then wait until every pac node in it shows
   * "connected". Returns [flow, mark, logMark]: the example's nodes, the event index and the
   * position in Node-RED's log at the deploy.
   * @returns {Promise<[FlowNode[], number, number]>}
   */
  async function deploy(name) {
    const flow = readExample(name);
    const mark = events.length;
    const logMark = red.output.length;
    const res = await red.request("POST", "/flows", flow, { "Node-RED-Deployment-Type": "full" });
    if (res.status !== 200 && res.status !== 204) throw new Error(`POST /flows ${name}: ${res.status} ${res.text}`);
    const pacNodes = flow.filter((n) => /^pac-/.test(n.type) && n.type !== "pac-config" && n.type !== "pac-receipt"); // pac-receipt shows its own status, not the connection's
    pacNodes.length.should.be.above(0);
    await Promise.all(pacNodes.map((n) => statusOf(mark, n.id, (t) => t === "connected", `${name}: ${n.type} ${n.id} connected`)));
    return [flow, mark, logMark];
  }

  async function inject(flow, name) {
    const id = idOf(flow, "inject", name);
    const res = await red.request("POST", `/inject/${id}`);
    res.status.should.equal(200, `POST /inject/${id} (${name}): ${res.status} ${res.text}`);
  }

  before(async function () {
    this.timeout(40000);
    const userDir = tmpDir("pac-examples-");
    red = await redProcess(userDir, { env: { PAC_SIMULATOR_DELAYS: "zero" } });
    prepareUserDir(userDir, {
      flows: [],
      credentials: {},
      port: red.port,
      // Dashboard 2.0 is a devDependency, so Node-RED would find it next to itself (it scans the
      // node_modules it is installed in): excluded by its directory name (as Node-RED's scan
      // matches it), this Node-RED is a user's without it.
      settings: { logging: { console: { level: "info", metrics: false, audit: false } }, nodesExcludes: ["node-red-dashboard"] },
    });
    await red.start(30000);
    ws = new WebSocket(`ws://127.0.0.1:${red.port}/comms`);
    await within(
      new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      }),
      5000,
      "the comms websocket",
    );
    ws.on("error", () => undefined); // a late socket error must not crash mocha; waits time out instead
    ws.on("message", (raw) => {
      let batch;
      try {
        batch = JSON.parse(raw.toString());
      } catch {
        return;
      }
      for (const e of Array.isArray(batch) ? batch : [batch]) if (e && e.topic) onEvent(e);
    });
    ws.send(JSON.stringify({ subscribe: "debug" }));
    ws.send(JSON.stringify({ subscribe: "status/#" }));
  });

  after(async function () {
    this.timeout(20000);
    if (ws) ws.terminate();
    if (red) await red.stop(); // SIGINT, SIGKILL after 10 s
    await cleanup(); // kill -9 if still there, remove the userDir
  });

  it("01-card-payment: approved → CAPTURED, 1201 → DECLINED, 1202 → signature asked, answered, CAPTURED", async function () {
    const ex = await deploy("01-card-payment");
    const [flow] = ex;
    const ok = idOf(flow, "debug", "approved");
    const ko = idOf(flow, "debug", "not approved");
    const prog = idOf(flow, "debug", "progress");
    const pay = idOf(flow, "pac-payment");

    let m = events.length;
    await inject(flow, "£12.50 (approved)");
    let v = await debugFrom(m, ok, (p) => p && p.status === "CAPTURED", "approved: CAPTURED");
    v.amount.should.equal(1250);
    v.currency.should.equal("GBP");
    v.paymentId.should.be.a.String();
    await statusOf(m, pay, (t, st) => st.fill === "green" && /£12\.50/.test(t), "payment node status: green, £12.50");
    await debugFrom(m, prog, (full) => full && full.topic === "notification", "a terminal step on output 3");

    m = events.length;
    await inject(flow, "£12.01 (declined)");
    v = await debugFrom(m, ko, (p) => p && p.status === "DECLINED", "not approved: DECLINED");
    v.amount.should.equal(1201);
    await statusOf(m, pay, (t, st) => st.fill === "red" && /declined/i.test(t), "payment node status: declined");

    m = events.length;
    await inject(flow, "£12.02 (signature)");
    const question = await debugFrom(m, prog, (full) => full && full.topic === "signature", "the signature question on output 3");
    v = await debugFrom(m, ok, (p) => p && p.status === "CAPTURED", "signature accepted by the flow: CAPTURED");
    v.amount.should.equal(1202);
    question.payload.paymentId.should.equal(v.paymentId);
    finish(ex, ["£12.50 (approved)", "£12.01 (declined)", "£12.02 (signature)"]);
  });

  it("02-refund: a number and an object → REFUNDED", async function () {
    const ex = await deploy("02-refund");
    const [flow] = ex;
    const ok = idOf(flow, "debug", "refunded");

    let m = events.length;
    await inject(flow, "refund £12.50");
    let v = await debugFrom(m, ok, (p) => p && p.status === "REFUNDED", "refund £12.50: REFUNDED");
    v.amount.should.equal(1250);

    m = events.length;
    await inject(flow, "refund £5.00 (object)");
    v = await debugFrom(m, ok, (p) => p && p.status === "REFUNDED", "refund £5.00: REFUNDED");
    v.amount.should.equal(500);
    v.currency.should.equal("GBP");
    finish(ex, ["refund £12.50", "refund £5.00 (object)"]);
  });

  it("03-pre-auth-capture: hold → AUTHORIZED → capture £42.50; hold → AUTHORIZED → raised to £30.00", async function () {
    const ex = await deploy("03-pre-auth-capture");
    const [flow] = ex;
    const captured = idOf(flow, "debug", "captured");
    const updated = idOf(flow, "debug", "hold updated");
    const preAuths = flow.filter((n) => n.type === "pac-payment");
    const top = preAuths.find((n) => n.wires[0].includes(idOf(flow, "change", "capture £42.50"))).id;
    const bottom = preAuths.find((n) => n.wires[0].includes(idOf(flow, "change", "raise hold to £30.00"))).id;

    let m = events.length;
    await inject(flow, "hold £50.00");
    await statusOf(m, top, (t) => /authori[sz]ed/i.test(t) && /50\.00/.test(t), "pre-auth status: authorized £50.00");
    let v = await debugFrom(m, captured, (p) => p && p.status === "CAPTURED", "capture: CAPTURED");
    v.amount.should.equal(4250);

    m = events.length;
    await inject(flow, "hold £20.00");
    await statusOf(m, bottom, (t) => /authori[sz]ed/i.test(t) && /20\.00/.test(t), "pre-auth status: authorized £20.00");
    v = await debugFrom(m, updated, (p) => p && typeof p === "object" && p.amount === 3000, "hold updated to 3000");
    v.status.should.equal("AUTHORIZED");
    finish(ex, ["hold £50.00", "hold £20.00"]);
  });

  it("04-cancel: 1203 waits for the card, cancel it → acknowledged, then CANCELLED on output 2", async function () {
    const ex = await deploy("04-cancel");
    const [flow] = ex;
    const prog = idOf(flow, "debug", "progress");
    const ack = idOf(flow, "debug", "cancel acknowledged");
    const ko = idOf(flow, "debug", "not approved (CANCELLED)");

    let m = events.length;
    await inject(flow, "£12.03 (waits for card)");
    const step = await debugFrom(m, prog, (p) => p && /PRESENT_CARD/.test(JSON.stringify(p)), "the terminal at PRESENT_CARD");
    const paymentId = step.paymentId;
    paymentId.should.be.a.String();

    m = events.length;
    await inject(flow, "cancel it");
    const a = await debugFrom(m, ack, (p) => p && p.paymentId === paymentId, "cancel acknowledged");
    a.should.have.property("paymentId", paymentId);
    const v = await debugFrom(m, ko, (p) => p && p.status === "CANCELLED", "payment CANCELLED on output 2");
    v.paymentId.should.equal(paymentId);
    finish(ex, ["£12.03 (waits for card)", "cancel it"]);
  });

  it("05-events: a payment shows notifications and its record on the events node; result CAPTURED", async function () {
    const ex = await deploy("05-events");
    const [flow] = ex;
    const evDebug = idOf(flow, "debug", "events");
    const result = idOf(flow, "debug", "result");
    const wireDebug = idOf(flow, "debug", "wire frames");

    const m = events.length;
    await inject(flow, "£12.50");
    const v = await debugFrom(m, result, (p) => p && p.status === "CAPTURED", "result: CAPTURED");
    await debugFrom(m, evDebug, (full) => full && full.topic === "notification", "a notification event");
    const rec = await debugFrom(
      m,
      evDebug,
      (full) => full && full.topic === "record" && JSON.stringify(full.payload).includes(v.paymentId),
      "the record event of the payment",
    );
    rec.payload.should.be.an.Object();
    // "wire frames" is inactive in the example: nothing in the sidebar.
    events
      .slice(m)
      .filter((e) => e.topic === "debug" && e.data.id === wireDebug)
      .should.have.length(0);
    finish(ex, ["£12.50"]);
  });

  it("06-status: terminals list, first terminal, payment state, journal report", async function () {
    const ex = await deploy("06-status");
    const [flow] = ex;

    let m = events.length;
    await inject(flow, "list terminals");
    const list = await debugFrom(m, idOf(flow, "debug", "terminals"), (p) => Array.isArray(p), "terminals list");
    list.length.should.be.above(0);
    list[0].should.have.property("terminalId");
    const one = await debugFrom(m, idOf(flow, "debug", "terminal"), (p) => p && typeof p === "object", "first terminal");
    one.should.have.property("terminalId", list[0].terminalId);
    one.should.have.property("status", "AVAILABLE");

    m = events.length;
    await inject(flow, "pay £12.50, then look it up");
    const state = await debugFrom(m, idOf(flow, "debug", "payment state"), (p) => p && p.paymentId, "payment state");
    state.should.have.property("status", "CAPTURED");
    state.should.have.property("capturedAmount", 1250);

    m = events.length;
    await inject(flow, "today's report");
    const report = await debugFrom(m, idOf(flow, "debug", "report"), (p) => typeof p === "string", "journal report");
    report.should.match(/^Dojo report /);
    // The simulator's journal is for the current run only (since this deploy): just that payment.
    report.should.match(/\nCAPTURED\s+GBP\s+1 x\s+12\.50\n/);
    report.should.match(/\n1 entries$/);
    finish(ex, ["list terminals", "pay £12.50, then look it up", "today's report"]);
  });

  it("shop-counter: GET /sale?amount=1250 → 200 receipt, 1201 → 402 decline, 12.5 → 400", async function () {
    const ex = await deploy("shop-counter");

    let r = await red.request("GET", "/sale?amount=1250");
    r.status.should.equal(200, r.text);
    // The Dojo receipt node's text: both copies, the shop around the acquirer's slip.
    r.text.should.match(/Shopflow Demo Shop/);
    r.text.should.match(/TOTAL +£12\.50/);
    r.text.should.match(/\*{12}0119/);
    r.text.should.match(/AUTH CODE: +\d{6}/);
    r.text.should.match(/MERCHANT COPY[\s\S]*CUSTOMER COPY/);
    r.text.should.match(/Thank you for shopping with us\s*$/);
    // The same receipt on the simulator's virtual receipt printer, beside the terminal that took it.
    const auth = /AUTH CODE: +(\d{6})/.exec(r.text)[1];
    const cfg = idOf(ex[0], "pac-config");
    const vt = await red.request("GET", `/pac/vt/${cfg}/`);
    vt.status.should.equal(200);
    const printer = /<aside class="printer"[\s\S]*?<\/aside>/.exec(vt.text);
    (printer !== null).should.be.true("the page has a receipt printer");
    printer[0].should.match(new RegExp(`£12\\.50 · Approved · Auth code ${auth}`));
    const svg = Buffer.from(/src="data:image\/svg\+xml;base64,([^"]+)"/.exec(printer[0])[1], "base64").toString("utf8");
    // receiptline writes each character in its own <tspan>: read the picture's text back.
    svg.should.match(/^<svg /);
    const drawn = svg.replace(/<[^>]+>/g, "").replace(/&#xa0;/g, " ");
    drawn.should.match(new RegExp(`AUTH CODE: +${auth}`)).and.match(/TOTAL +£12\.50/);
    printer[0].should.match(/<details class="slip-text"><summary>Text<\/summary><pre>[\s\S]*MERCHANT COPY[\s\S]*CUSTOMER COPY/);

    r = await red.request("GET", "/sale?amount=1201");
    r.status.should.equal(402, r.text);
    r.text.should.match(/DECLINED/);

    r = await red.request("GET", "/sale?amount=12.5");
    r.status.should.equal(400, r.text);
    r.text.should.match(/whole number of pence/);
    finish(ex, []);
  });

  it("till-dashboard without Dashboard 2.0 installed: Node-RED names the missing ui types, the comment names the package", async function () {
    // This Node-RED has only our package; test/browser/till.browser.js runs the till with the dashboard.
    const flow = readExample("till-dashboard");
    const logMark = red.output.length;
    const res = await red.request("POST", "/flows", flow, { "Node-RED-Deployment-Type": "full" });
    [200, 204].should.containEql(res.status);
    const types = ["ui-template", "ui-base", "ui-page", "ui-group", "ui-theme"];
    const listed = () => types.every((t) => new RegExp(`- ${t}\\b`).test(red.output.slice(logMark)));
    await until(() => /Waiting for missing types/.test(red.output.slice(logMark)) && listed(), "Node-RED to name the missing types", WAIT_MS, 50);
    flow.filter((n) => n.type === "comment" && /@flowfuse\/node-red-dashboard/.test(n.name)).length.should.equal(1);
    // Back to a flow that runs: the next deploy of another example is not held up.
    const again = await red.request("POST", "/flows", readExample("04-cancel"), { "Node-RED-Deployment-Type": "full" });
    [200, 204].should.containEql(again.status);
  });

  it("covers every file in examples/", function () {
    const files = fs
      .readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.replace(/\.json$/, ""))
      .sort();
    files.should.eql(["01-card-payment", "02-refund", "03-pre-auth-capture", "04-cancel", "05-events", "06-status", "shop-counter", "till-dashboard"]);
  });
});
