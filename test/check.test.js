"use strict";
// dojo-pac-check (issue 17) against our simulator: plain, it reports no deviation; with each drift,
// exactly the deviations that drift introduces; the key and its Basic token never appear in the
// report, the JSON, the trace or the output; the CLI runs as a child process with meaningful exit
// codes. Also: the client keeps working under the drifts the contract's tolerance rules allow.
require("should");
const fs = require("fs");
const path = require("path");
const { execFile } = require("child_process");
const { startSim, openClient, connected, waitFor, collect, cleanup, tmpDir } = require("./support");
const { until } = require("./wait");
const { runCheck, toMarkdown, toJson } = require("../dist/check");
const { DRIFT, DRIFT_KINDS, parseDrift } = require("../dist/simulator");
const protocol = require("../dist/protocol");

const CLI = path.join(__dirname, "..", "dist", "check", "cli.js");
const ROOT = path.join(__dirname, "..");

async function check(sim, extra = {}) {
  return runCheck({
    env: "custom",
    url: sim.url,
    accountName: sim.credentials.accountName,
    apiKey: sim.credentials.apiKey,
    eposId: "check-1",
    softwareHouseId: "shopflow-tests",
    terminalId: "SIM00001",
    auto: true,
    stepTimeoutMs: 5000,
    requestTimeoutMs: 3000,
    redeliveryWaitMs: 3000,
    ...extra,
  });
}

/** A simulator as the check meets it: not strict (Dojo's own strictness is what is checked). */
function sim(drift) {
  return startSim({ strict: false, recordRetryMs: 150, ...(drift ? { drift } : {}) });
}

const key = (d) => `${d.operation} | ${d.path} | ${d.kind}`;
const keys = (report) => [...new Set(report.deviations.map(key))].sort();

const ID_OPERATIONS = [
  "CancelPayment response",
  "CapturePayment response",
  "ConnectedTerminals response",
  "CreatePayment response",
  "CreateRefund response",
  "GetPayment response",
  "RecordPayment",
  "RecordRefund",
  "SignatureVerification",
  "TerminalDetails response",
  "UpdatePayment response",
];

/** What each drift must produce, and nothing else. */
const EXPECTED = {
  renamedFields: ["TerminalNotification | params.notification | renamed-field", "GetPayment response | result.lastNotificationValue | renamed-field"],
  errorNumbers: ["CreatePayment response | result.code | error-code", "CapturePayment response | result.code | error-code"],
  stringIds: ID_OPERATIONS.map((op) => `${op} | id | id-type`),
  unknownNotification: ["TerminalNotification | params.notificationValue | unknown-value"],
  errorsUnderError: [
    "CreatePayment response | error | error-location",
    "CapturePayment response | error | error-location",
    "TerminalDetails response | error | error-location",
  ],
};
// All at once: the same, except that paths follow the drifted frame (renamed field, errors under `error`).
EXPECTED.all = [
  ...EXPECTED.renamedFields,
  "CreatePayment response | error.code | error-code",
  "CapturePayment response | error.code | error-code",
  ...EXPECTED.stringIds,
  "TerminalNotification | params.notification | unknown-value",
  ...EXPECTED.errorsUnderError,
];

/** The line a deviation names, read from the source. */
function fixLine(d) {
  d.fix.line.should.be.a.Number();
  return fs.readFileSync(path.join(ROOT, d.fix.file), "utf8").split("\n")[d.fix.line - 1];
}

function runCli(args, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, DOJO_API_KEY: "", ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

describe("dojo-pac-check", function () {
  this.timeout(30_000);
  afterEach(cleanup);

  it("against the plain simulator (--auto): every step passes and the report has no deviation", async () => {
    const s = await sim();
    const report = await check(s);
    report.deviations.should.eql([]);
    report.steps
      .map((x) => x.name)
      .should.eql([
        "connected-terminals",
        "terminal-details",
        "sale",
        "decline",
        "cancel",
        "preauth",
        "refund",
        "signature",
        "duplicate-payment-id",
        "capture-sale",
        "unknown-terminal",
        "displaced",
      ]);
    report.steps.filter((x) => x.status !== "passed").should.eql([]);
    report.steps.find((x) => x.name === "cancel").note.should.match(/cancel accepted; CANCELLED/);
    report.steps.find((x) => x.name === "duplicate-payment-id").note.should.match(/refused: -32073/);
    report.observations.map((o) => o.name).should.eql(["record redelivery interval", "signature timeout announced"]);
    const interval = Number(/^(\d+) ms/.exec(report.observations[0].value)[1]);
    interval.should.be.within(100, 2000);
    toMarkdown(report, []).should.match(/No deviations: every frame matched the contract\./);
  });

  for (const drift of [...DRIFT_KINDS, "all"]) {
    it(`with drift ${drift}: exactly the introduced deviations, each naming a protocol line`, async () => {
      const s = await sim(drift === "all" ? "all" : [drift]);
      const report = await check(s);
      keys(report).should.eql([...new Set(EXPECTED[drift])].sort());
      report.steps.filter((x) => x.status === "timeout" || x.status === "failed").should.eql([]);
      for (const d of report.deviations) {
        d.step.should.be.a.String();
        d.expected.should.be.a.String();
        d.got.should.be.a.String();
        fixLine(d).should.be.a.String();
      }
      const by = (kind) => report.deviations.filter((d) => d.kind === kind);
      for (const d of by("renamed-field")) {
        fixLine(d).should.match(/FIELD_ALIASES/);
        Object.values(DRIFT.renames).should.containEql(JSON.parse(d.got));
      }
      for (const d of by("error-code")) {
        const name = /\((\w+)\)/.exec(d.expected)[1];
        fixLine(d).should.match(new RegExp(`^\\s*${name}:`));
        d.got.should.equal(`integer ${protocol.ERROR_CODE[name] + DRIFT.errorNumberShift}`);
      }
      for (const d of by("unknown-value")) {
        d.got.should.equal(JSON.stringify(DRIFT.unknownNotification));
        fixLine(d).should.match(/export const NOTIFICATION/);
      }
      for (const d of by("error-location")) fixLine(d).should.match(/ERRORS_UNDER_RESULT/);
      for (const d of by("id-type")) fixLine(d).should.match(/EXPECTED_ID_TYPE/);
    });
  }

  it("the CLI as a child process: exit 0 on the plain simulator, 1 with deviations; the key and its Basic token appear nowhere", async () => {
    const plain = await sim();
    const dir = tmpDir("pac-check-");
    const base = [
      "--url",
      plain.url,
      "--account",
      plain.credentials.accountName,
      "--epos-id",
      "check-1",
      "--software-house-id",
      "S",
      "--auto",
      "--step-timeout",
      "5",
      "--redelivery-wait",
      "3",
    ];
    const ok = await runCli([...base, "--report", path.join(dir, "plain.md")], { DOJO_API_KEY: plain.credentials.apiKey });
    ok.code.should.equal(0, ok.stderr);
    ok.stdout.should.match(/No deviations/);
    fs.readFileSync(path.join(dir, "plain.md"), "utf8").should.match(/## Deviations\n\nNone\./);

    const drifted = await sim("all");
    const { accountName, apiKey } = drifted.credentials;
    const md = path.join(dir, "drift.md");
    const json = path.join(dir, "drift.json");
    // The key on the command line (the worst case): it must still not be echoed anywhere.
    const args = [
      "--url",
      drifted.url,
      "--account",
      accountName,
      "--key",
      apiKey,
      "--epos-id",
      "check-2",
      "--software-house-id",
      "S",
      "--auto",
      "--step-timeout",
      "5",
      "--redelivery-wait",
      "3",
    ];
    const bad = await runCli([...args, "--report", md, "--json", json]);
    bad.code.should.equal(1, bad.stderr);
    const report = JSON.parse(fs.readFileSync(json, "utf8"));
    keys(report).should.eql([...new Set(EXPECTED.all)].sort());
    report.trace.length.should.be.above(50);
    const mdText = fs.readFileSync(md, "utf8");
    mdText.should.match(/## Wire trace \(redacted\)/);
    mdText.should.match(/authorization: Basic \*\*\*/);
    const token = protocol.basicToken(accountName, apiKey);
    const secrets = [apiKey, token, Buffer.from(apiKey).toString("base64")];
    for (const text of [mdText, fs.readFileSync(json, "utf8"), bad.stdout, bad.stderr]) {
      for (const secret of secrets) text.includes(secret).should.be.false();
    }
    // Without --report: the report on stdout (no trace), still without the key.
    const out = await runCli(args);
    out.code.should.equal(1);
    out.stdout.should.match(/## Deviations/);
    for (const secret of secrets) out.stdout.includes(secret).should.be.false();
  });

  it("the CLI: 2 on a usage error or without a key, 3 when Dojo refuses the credentials", async () => {
    const s = await sim();
    (await runCli(["--account", "a"])).code.should.equal(2);
    (await runCli(["--env", "production", "--account", "a", "--key", "k", "--epos-id", "e", "--software-house-id", "s"])).code.should.equal(2);
    const nokey = await runCli(["--url", s.url, "--account", "a", "--epos-id", "e", "--software-house-id", "s", "--auto"]);
    nokey.code.should.equal(2);
    nokey.stderr.should.match(/no API key/);
    const wrongKey = "wrong-key-1234567890";
    const refused = await runCli(["--url", s.url, "--account", s.credentials.accountName, "--epos-id", "e", "--software-house-id", "s", "--auto"], {
      DOJO_API_KEY: wrongKey,
    });
    refused.code.should.equal(3);
    refused.stdout.should.match(/could not run/);
    (refused.stdout + refused.stderr).includes(wrongKey).should.be.false();
  });

  it("a step that does not finish times out, frees the terminal (CancelPayment) and the CLI exits 5 (incomplete)", async () => {
    const s = await startSim({ strict: false, manual: true }); // terminals wait at PRESENT_CARD for a person
    const args = ["--url", s.url, "--account", s.credentials.accountName, "--epos-id", "check-3", "--software-house-id", "S", "--auto"];
    const r = await runCli([...args, "--only", "connected-terminals,sale", "--step-timeout", "0.3", "--json", path.join(tmpDir("pac-check-"), "r.json")], {
      DOJO_API_KEY: s.credentials.apiKey,
    });
    r.code.should.equal(5, r.stdout + r.stderr);
    r.stdout.should.match(/sale: timeout \(no RecordPayment within 0\.3 s; cancelled\)/);
    await until(() => s.terminals()[0].step === "idle", "the terminal freed by the check's CancelPayment");
    (await runCli([...args, "--only", "sale,nope"])).code.should.equal(2);
  });

  it("the report passes everything through the run's redaction once more", () => {
    /** @type {import("../dist/check").CheckReport} */
    const report = {
      tool: "dojo-pac-check",
      version: "x",
      target: { env: "custom", url: "ws://x", accountName: "a", eposId: "e", softwareHouseId: "s", terminalId: "t" },
      mode: "auto",
      startedAt: "",
      finishedAt: "",
      steps: [{ name: "n", title: "t", status: "passed", note: "KEY-abcdef", ms: 1, deviations: 0 }],
      deviations: [],
      observations: [],
      trace: [{ t: 0, dir: "in", text: "KEY-abcdef" }],
    };
    toMarkdown(report, ["KEY-abcdef"]).includes("KEY-abcdef").should.be.false();
    toJson(report, ["KEY-abcdef"]).includes("KEY-abcdef").should.be.false();
  });
});

describe("protocol aliases and the drift option", function () {
  afterEach(cleanup);

  it("aliases are read on input: tid for terminalId, the contract's name first; raw keeps what came", () => {
    protocol.FIELD_ALIASES.terminalId.should.eql(["tid"]);
    const n = protocol.readNotification({ paymentId: "p", tid: "T9", notificationValue: "PIN_ENTRY" });
    n.terminalId.should.equal("T9");
    n.raw.should.eql({ paymentId: "p", tid: "T9", notificationValue: "PIN_ENTRY" });
    protocol.readTerminalInfo({ terminalId: "A", tid: "B", status: "BUSY" }).terminalId.should.equal("A");
    protocol.withCanonicalNames({ tid: "T" }).should.eql({ tid: "T", terminalId: "T" });
    const same = { terminalId: "T" };
    protocol.withCanonicalNames(same).should.equal(same);
  });

  it("Dojo's own error codes sit in one table (ERROR_CODE, -32070 … -32090) with ERROR_CODE_ALIASES beside it", () => {
    const own = Object.entries(protocol.ERROR_CODE).filter(([, c]) => c <= -32070 && c >= -32090);
    own
      .map(([n]) => n)
      .should.eql([
        "TERMINAL_BUSY",
        "TERMINAL_OFFLINE",
        "PAYMENT_NOT_FOUND",
        "DUPLICATE_PAYMENT_ID",
        "INVALID_STATE",
        "INVALID_AMOUNT",
        "PAYMENT_ALREADY_RECORDED",
      ]);
    protocol.ERROR_CODE_ALIASES.should.eql({});
    const r = protocol.parseFrame(JSON.stringify({ jsonrpc: "2.0", id: 1, result: { code: -32073, message: "DUPLICATE_PAYMENT_ID" } }));
    if (!r.ok || r.frame.kind !== "error") throw new Error("expected an error frame");
    r.frame.error.name.should.equal("DUPLICATE_PAYMENT_ID");
    (r.frame.error.wireCode === undefined).should.be.true();
  });

  it("parseDrift: all, a comma list, or an error naming the choices", async () => {
    parseDrift("all").should.eql([...DRIFT_KINDS]);
    parseDrift("stringIds, errorsUnderError").should.eql(["stringIds", "errorsUnderError"]);
    (() => parseDrift("nope")).should.throw(/unknown drift "nope" \(one of: all, renamedFields/);
    await sim(["nope"]).should.be.rejectedWith(/unknown drift/);
  });

  it("the client keeps working under every drift: sales complete, unknown notifications pass through, refusals stay refusals", async () => {
    const s = await sim("all");
    const client = await openClient(s);
    await connected(client);
    const steps = collect(client, "notification");
    const ack = await client.createPayment({ terminalId: "SIM00001", amount: 1200, currency: "GBP" });
    ack.paymentId.should.be.a.String(); // the ack's id came back as a string
    const outcome = await waitFor(client, "outcome", (o) => o.paymentId === ack.paymentId);
    outcome.status.should.equal("CAPTURED");
    await until(() => client.journal.isRecorded(ack.paymentId), "the record journalled and acknowledged");
    await until(() => s.pendingRecords("till-1").length === 0, "the simulator to see the string-id record acknowledged");
    (await client.getPayment(ack.paymentId)).status.should.equal("CAPTURED");

    // A refusal under `error`, with another number: still a refusal (REMOTE), its userMessage kept.
    const hold = await client.createPayment({ terminalId: "SIM00002", amount: 5003, currency: "GBP" });
    await until(() => s.terminals().find((t) => t.terminalId === "SIM00002").step === "presentCard", "SIM00002 at PRESENT_CARD");
    const busy = await client.createPayment({ terminalId: "SIM00002", amount: 100, currency: "GBP" }).catch((e) => e);
    busy.code.should.equal("REMOTE");
    busy.remote.code.should.equal(protocol.ERROR_CODE.TERMINAL_BUSY + DRIFT.errorNumberShift);
    busy.userMessage.should.match(/busy/);
    await client.cancelPayment(hold.paymentId);
    const cancelled = await waitFor(client, "outcome", (o) => o.paymentId === hold.paymentId);
    cancelled.status.should.equal("CANCELLED");

    // A renamed field is outside the tolerance rules (an alias line fixes it): the step is not read,
    // but the frame as it came is passed on, so nothing is lost while the check reports it.
    const mine = steps.filter((n) => n.paymentId === ack.paymentId);
    mine.length.should.be.above(2);
    mine.map((n) => n.raw.notification).should.containEql(DRIFT.unknownNotification);
    mine.every((n) => n.notification === "").should.be.true();
  });

  it("under the tolerated drifts (string ids, errors under `error`, unknown notification values) the steps arrive too", async () => {
    const s = await sim(["stringIds", "errorsUnderError", "unknownNotification"]);
    const client = await openClient(s);
    await connected(client);
    const steps = collect(client, "notification");
    const ack = await client.createPayment({ terminalId: "SIM00001", amount: 1200, currency: "GBP" });
    const outcome = await waitFor(client, "outcome", (o) => o.paymentId === ack.paymentId);
    outcome.status.should.equal("CAPTURED");
    await until(() => steps.some((n) => n.notification === "TRANSACTION_FINISHED"), "the last step");
    const values = steps.map((n) => n.notification);
    values.should.containEql(DRIFT.unknownNotification);
    values.should.containEql("PRESENT_CARD");
    const e = await client.getPayment("no-such-payment").catch((err) => err);
    e.code.should.equal("REMOTE");
    e.remoteName.should.equal("PAYMENT_NOT_FOUND");
  });
});

describe("Check against Dojo (pac-config dialog, admin endpoint pac/check)", function () {
  this.timeout(30_000);
  const nodes = require("./nodes-helpers");
  const { helper } = nodes;
  let userDir;
  let sims = [];

  before(function (done) {
    helper.startServer(done);
  });
  after(function (done) {
    helper.stopServer(done);
  });
  beforeEach(() => {
    userDir = tmpDir("pac-check-admin-");
    helper.settings({ userDir });
  });
  afterEach(async () => {
    const stopping = sims;
    sims = [];
    await nodes.unloadThen(() => Promise.all(stopping.map((s) => s.stop())));
    await cleanup();
  });

  async function driftedSim(drift) {
    const s = await nodes.PacSimulator.start({
      port: 0,
      delays: "zero",
      virtualTerminal: false,
      pingIntervalMs: 0,
      recordRetryMs: 150,
      ...(drift ? { drift } : {}),
    });
    sims.push(s);
    return s;
  }

  /** A deployed till (epos-id till-1) on the simulator, used by a pac-status node so it connects. */
  async function deployTill(s) {
    const cfg = { id: "cfg", type: "pac-config", name: "", environment: "custom", url: s.url, eposId: "till-1", softwareHouseId: "sh", requestTimeout: 5 };
    const user = { id: "user", type: "pac-status", name: "", server: "cfg", query: "payment", wires: [[]] };
    await helper.load(nodes.nodeModules, nodes.flowWith(cfg, [user]), { cfg: { ...s.credentials } });
    await nodes.waitConnected();
  }

  const post = (url, body) => helper.request().post(url).send(body).set("content-type", "application/json");

  /**
   * Poll the job, answering "go" to every step that waits for a person; bounded.
   * @param {string} id @param {string[]} [answers] @returns {Promise<any>}
   */
  async function finish(id, answers = []) {
    let view;
    await until(
      async () => {
        view = (await helper.request().get(`/pac/check/${id}`).expect(200)).body;
        if (view.state === "waiting") {
          answers.push(view.prompt.step);
          await post(`/pac/check/${id}/answer`, { answer: "go" }).expect(200);
        }
        return view.state === "done";
      },
      "the check to finish",
      20_000,
      50,
    );
    return view;
  }

  it("staging-like (custom URL): a person is asked before each terminal step; the report names the drift; the till keeps its connection", async () => {
    const s = await driftedSim(["errorsUnderError"]);
    await deployTill(s);
    const started = await post("/pac/check", {
      id: "cfg",
      environment: "custom",
      url: s.url,
      eposId: "till-1",
      softwareHouseId: "sh",
      requestTimeout: 5,
      ...s.credentials,
    }).expect(202);
    (
      await post("/pac/check", { id: "cfg", environment: "custom", url: s.url, eposId: "till-1", softwareHouseId: "sh", ...s.credentials }).expect(409)
    ).body.error.should.equal("busy");
    const answers = [];
    const view = await finish(started.body.id, answers);
    answers.should.eql(["sale", "decline", "cancel", "preauth", "refund", "signature"]);
    view.deviations.should.equal(3);
    view.summary.should.equal("3 deviations from the contract.");
    view.markdown.should.match(/error-location/);
    JSON.parse(view.json).target.eposId.should.equal("till-1-check");
    const text = JSON.stringify(view);
    text.includes(s.credentials.apiKey).should.be.false();
    text.includes(protocol.basicToken(s.credentials.accountName, s.credentials.apiKey)).should.be.false();
    // The till was never displaced: the check used its own epos-id.
    helper.getNode("cfg").pac.client.state.should.equal("open");
    s.connections().should.eql(["till-1"]);
  });

  it("the nodes keep working under the drifts the tolerance rules allow: a sale through pac-payment, its steps, a refusal with its code", async () => {
    const s = await driftedSim(["stringIds", "errorsUnderError", "unknownNotification"]);
    const cfg = { id: "cfg", type: "pac-config", name: "", environment: "custom", url: s.url, eposId: "till-1", softwareHouseId: "sh", requestTimeout: 5 };
    await helper.load(nodes.nodeModules, nodes.flowWith(cfg, [nodes.paymentNode(), ...nodes.outputHelpers]), { cfg: { ...s.credentials } });
    await nodes.waitConnected();
    const t = nodes.paymentOutputs();
    t.pay.receive({ payload: 1250 });
    await until(() => t.ok.length === 1, "the approved sale on output 1");
    t.ok[0].payload.should.containDeep({ status: "CAPTURED", amount: 1250 });
    await until(() => t.prog.some((p) => p.payload.notification === "TRANSACTION_FINISHED"), "the last step on output 3");
    t.prog.map((p) => p.payload.notification).should.containEql(DRIFT.unknownNotification);
    // A refusal that came under `error` (an unknown terminal): still a refusal, to Catch with Dojo's words and code.
    t.pay.receive({ payload: { amount: 1250, terminalId: "NOPE0001" } });
    await until(() => t.errors.length === 1, "the refusal at the Catch node");
    t.errors[0].error.code.should.equal("INVALID_PARAMS");
    t.errors[0].error.message.should.match(/Terminal NOPE0001 is not known/);
    t.ok.should.have.length(1);
  });

  it("the simulator environment runs unattended against a throwaway simulator: no deviation; production is refused", async () => {
    const started = await post("/pac/check", { id: "x", environment: "simulator", eposId: "till-9", requestTimeout: 5 }).expect(202);
    const answers = [];
    const view = await finish(started.body.id, answers);
    answers.should.eql([]);
    view.deviations.should.equal(0);
    view.summary.should.equal("No deviations: every frame matched the contract.");
    const refused = await post("/pac/check", {
      id: "y",
      environment: "production",
      eposId: "till-9",
      softwareHouseId: "sh",
      accountName: "a",
      apiKey: "k-123456",
    }).expect(400);
    refused.body.error.should.equal("production");
    await helper.request().get("/pac/check/nope").expect(404);
  });
});
