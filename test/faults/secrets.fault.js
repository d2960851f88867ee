"use strict";
const should = require("should");
// Nothing leaks: after a full run through the nodes in a real Node-RED child process (trace logging),
// the API keys and their Basic-auth form appear nowhere but in Node-RED's own credentials file; and
// transport security: ws:// to a non-loopback host is refused unless an administrator allows it, a
// self-signed certificate is refused, the simulator listens on 127.0.0.1 only.
const fs = require("fs");
const os = require("os");
const net = require("net");
const path = require("path");
const https = require("https");
const { execFileSync } = require("child_process");
const WebSocket = require("ws");
const {
  helper,
  nodeModules,
  until,
  delay,
  tmpDir,
  cleanup,
  onCleanup,
  startSim,
  waitStep,
  collect,
  statuses,
  lastStatus,
  waitOpen,
  flowWith,
  customConfig,
  paymentNode,
  outputHelpers,
  creds,
  simConfig,
  PacSimulator,
  prepareUserDir,
  redProcess,
  jsonLines,
  functionNode,
} = require("./helpers");

const basic = (account, key) => Buffer.from(`${account}:${key}`, "utf8").toString("base64");

/** A function node that turns msg into one JSON line {kind, topic, payload, error}. */
function lineNode(id, kind, wires) {
  return {
    id,
    z: "tab",
    type: "function",
    name: kind,
    func: `msg.payload = { kind: ${JSON.stringify(kind)}, topic: msg.topic === undefined ? null : msg.topic, payload: msg.payload === undefined ? null : msg.payload, error: msg.error === undefined ? null : msg.error, status: msg.status === undefined ? null : msg.status };\nreturn msg;`,
    outputs: 1,
    timeout: 0,
    noerr: 0,
    initialize: "",
    finalize: "",
    libs: [],
    x: 500,
    y: 300,
    wires,
  };
}

function fileNode(id, file) {
  return {
    id,
    z: "tab",
    type: "file",
    name: "",
    filename: file,
    filenameType: "str",
    appendNewline: true,
    createDir: true,
    overwriteFile: "false",
    encoding: "none",
    x: 700,
    y: 300,
    wires: [[]],
  };
}

function debugNode(id) {
  return {
    id,
    z: "tab",
    type: "debug",
    name: id,
    active: true,
    tosidebar: true,
    console: true,
    tostatus: false,
    complete: "true",
    targetType: "full",
    statusVal: "",
    statusType: "auto",
    x: 700,
    y: 400,
    wires: [],
  };
}

function prepNode(id, next) {
  return functionNode(id, "prep", "msg.payload = { amount: msg.payload.amount, paymentId: msg.payload.paymentId };\nreturn msg;", next);
}

/** Everything a flow author can see: results, events (all five kinds), statuses, errors, debug. */
function fullFlow(sim, dir) {
  const f = (n) => path.join(dir, n);
  return [
    { id: "tab", type: "tab", label: "till", disabled: false, info: "" },
    {
      id: "cfg",
      type: "pac-config",
      name: "good",
      environment: "custom",
      url: sim.url,
      eposId: "till-s",
      softwareHouseId: "shopflow-faults",
      resellerId: "",
      requestTimeout: "5",
    },
    {
      id: "cfgBad",
      type: "pac-config",
      name: "bad",
      environment: "custom",
      url: sim.url,
      eposId: "till-bad",
      softwareHouseId: "shopflow-faults",
      resellerId: "",
      requestTimeout: "5",
    },
    { id: "in", z: "tab", type: "http in", name: "", url: "/sale", method: "post", upload: false, swaggerDoc: "", x: 100, y: 100, wires: [["prep", "resp"]] },
    {
      id: "inBad",
      z: "tab",
      type: "http in",
      name: "",
      url: "/sale-bad",
      method: "post",
      upload: false,
      swaggerDoc: "",
      x: 100,
      y: 200,
      wires: [["prepBad", "resp"]],
    },
    { id: "resp", z: "tab", type: "http response", name: "", statusCode: "202", headers: {}, x: 300, y: 60, wires: [] },
    prepNode("prep", "pay"),
    prepNode("prepBad", "payBad"),
    {
      id: "pay",
      z: "tab",
      type: "pac-payment",
      name: "",
      server: "cfg",
      terminalId: "SIM00001",
      currency: "GBP",
      captureMode: "AUTO",
      signature: "ask",
      x: 500,
      y: 100,
      wires: [["results"], ["results"], ["progress", "dbg"]],
    },
    {
      id: "payBad",
      z: "tab",
      type: "pac-payment",
      name: "",
      server: "cfgBad",
      terminalId: "SIM00001",
      currency: "GBP",
      captureMode: "AUTO",
      signature: "accept",
      x: 500,
      y: 200,
      wires: [["results"], ["results"], []],
    },
    {
      id: "ev",
      z: "tab",
      type: "pac-events",
      name: "",
      server: "cfg",
      events: ["notification", "record", "signature", "connection", "wire"],
      terminalId: "",
      x: 100,
      y: 300,
      wires: [["events", "dbg"]],
    },
    {
      id: "evBad",
      z: "tab",
      type: "pac-events",
      name: "",
      server: "cfgBad",
      events: ["connection", "wire"],
      terminalId: "",
      x: 100,
      y: 350,
      wires: [["events", "dbg"]],
    },
    { id: "st", z: "tab", type: "status", name: "", scope: null, x: 100, y: 400, wires: [["statuses"]] },
    { id: "catch", z: "tab", type: "catch", name: "", scope: null, uncaught: false, x: 100, y: 450, wires: [["errors", "dbg"]] },
    lineNode("results", "result", [["resultsFile", "dbg"]]),
    lineNode("progress", "progress", [["eventsFile"]]),
    lineNode("events", "event", [["eventsFile"]]),
    lineNode("statuses", "status", [["statusesFile"]]),
    lineNode("errors", "error", [["errorsFile"]]),
    fileNode("resultsFile", f("results.jsonl")),
    fileNode("eventsFile", f("events.jsonl")),
    fileNode("statusesFile", f("statuses.jsonl")),
    fileNode("errorsFile", f("errors.jsonl")),
    debugNode("dbg"),
  ];
}

function nonLoopbackIPv4() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list || []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return null;
}

describe("faults: secrets never leak; transport security", function () {
  this.timeout(60000);
  afterEach(cleanup);

  it("after a full run through the nodes (trace logging), no API key or Basic token outside flows_cred.json", async () => {
    const sim = await startSim({ signatureTimeoutMs: 4000 });
    const account = sim.credentials.accountName;
    const apiKey = sim.credentials.apiKey;
    const badKey = "wrong-api-key-SECRET-9f8e7d6c5b4a";
    const secrets = { apiKey, token: basic(account, apiKey), badKey, badToken: basic(account, badKey) };
    const dir = tmpDir("pac-faults-secrets-");
    const red = await redProcess(dir);
    prepareUserDir(dir, {
      flows: fullFlow(sim, dir),
      credentials: { cfg: { accountName: account, apiKey }, cfgBad: { accountName: account, apiKey: badKey } },
      port: red.port,
    });
    await red.start();
    await until(() => sim.connections().includes("till-s") && (sim.stats.handshakesRejected[401] || 0) >= 1, "one connected, one refused", 10000);

    // a sale with a signature question answered by the default, and everything the events node sees
    (await red.request("POST", "/sale", { amount: 1250, paymentId: "sec-1" })).status.should.equal(202);
    await waitStep(sim, "presentCard");
    await sim.act("SIM00001", "present");
    await sim.act("SIM00001", "requestSignature"); // nobody answers: the default (accept) goes before Dojo's timeout
    await until(() => jsonLines(path.join(dir, "results.jsonl")).length === 1, "result line", 10000);
    // bad input, and a sale on the connection whose key was refused: errors to Catch
    (await red.request("POST", "/sale", { amount: -1, paymentId: "sec-2" })).status.should.equal(202);
    (await red.request("POST", "/sale-bad", { amount: 1250, paymentId: "sec-3" })).status.should.equal(202);
    await until(() => jsonLines(path.join(dir, "errors.jsonl")).length === 2, "two error lines", 10000);

    // the admin API, as the editor uses it: export, credentials, a full deploy of the exported flows
    const exported = await red.request("GET", "/flows", undefined, { "Node-RED-API-Version": "v2" });
    exported.status.should.equal(200);
    const adminCreds = await red.request("GET", "/credentials/pac-config/cfg");
    adminCreds.status.should.equal(200);
    JSON.parse(adminCreds.text).should.eql({ accountName: account, has_apiKey: true });
    const { flows, rev } = JSON.parse(exported.text);
    const deployed = await red.request("POST", "/flows", { flows, rev }, { "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": "full" });
    deployed.status.should.equal(200);
    const opened = sim.stats.connectionsOpened;
    await until(() => sim.stats.connectionsOpened > opened && sim.connections().includes("till-s"), "reconnected after the deploy (credentials kept)", 10000);
    await delay(500);
    await red.stop(); // SIGINT: Node-RED closes the nodes and flushes its files

    const read = (n) => fs.readFileSync(path.join(dir, n), "utf8");
    // every file Node-RED and the nodes wrote in the userDir (the journal included), except
    // Node-RED's own credentials file and its backup
    const files = {};
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.name === "node_modules") continue;
        if (e.isDirectory()) walk(p);
        else if (!["flows_cred.json", ".flows_cred.json.backup"].includes(e.name)) files[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
      }
    };
    walk(dir);
    Object.keys(files)
      .some((f) => f.startsWith("dojo-pac-journal"))
      .should.be.true();
    const places = {
      ...files,
      "Node-RED stdout+stderr (trace)": red.output,
      "flows.json": read("flows.json"),
      "GET /flows": exported.text,
      "GET /credentials": adminCreds.text,
      "results (msgs on outputs 1/2)": read("results.jsonl"),
      "events (notification, record, signature, connection, wire, progress)": read("events.jsonl"),
      "node statuses": read("statuses.jsonl"),
      "errors (Catch)": read("errors.jsonl"),
    };
    // the checks see something: trace logging was on, every kind of event was captured
    red.output.should.match(/\[trace\]/);
    red.output.should.match(/\[debug:dbg\]/);
    const events = jsonLines(path.join(dir, "events.jsonl"));
    for (const topic of ["notification", "record", "signature", "connection", "wire"])
      events.some((e) => e.topic === topic).should.be.true(`no ${topic} event`);
    events.some((e) => e.topic === "connection" && e.payload.state === "auth-failed").should.be.true();
    events.filter((e) => e.topic === "wire").length.should.be.above(5);
    const statusTexts = jsonLines(path.join(dir, "statuses.jsonl")).map((s) => s.status.text);
    statusTexts.should.containEql("auth failed");
    statusTexts.some((s) => / £12\.50$/.test(s)).should.be.true(); // the result, in the catalog's words
    const errors = jsonLines(path.join(dir, "errors.jsonl"));
    errors
      .map((e) => e.error.code)
      .sort()
      .should.eql(["INVALID_INPUT", "NOT_CONNECTED"]);
    red.output.should.match(/Dojo refused the credentials for epos-id "till-bad" \(HTTP 401\)/);

    for (const [where, text] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(secrets)) {
        text.includes(secret).should.be.false(`${name} found in ${where}`);
      }
    }
    // Node-RED's own credentials file (credentialSecret: false) is where they live
    const credFile = read("flows_cred.json");
    credFile.should.containEql(apiKey);
    credFile.should.containEql(badKey);
  });

  describe("transport security (through the nodes)", function () {
    before(() => helper.startServer());
    after(() => helper.stopServer());
    afterEach(() => helper.unload());

    it("ws:// to a host that is not loopback is a configuration error (nothing connects), unless settings.js allows it", async function () {
      // The IPv4-mapped form of 127.0.0.1 is not a loopback name to the URL check, yet reaches the
      // simulator on 127.0.0.1: nothing listens beyond this machine, and no LAN interface is needed.
      const sim = await startSim();
      const url = `ws://[::ffff:127.0.0.1]:${sim.port}/ws/v2/pac/epos`;
      const reachable = await new Promise((resolve) => {
        const s = net.connect(sim.port, "::ffff:127.0.0.1");
        s.once("connect", () => (s.destroy(), resolve(true)));
        s.once("error", () => resolve(false));
      });
      if (!reachable) this.skip(); // no IPv6 stack at all
      helper.settings({ userDir: tmpDir("pac-faults-ws-") });
      await helper.load(nodeModules, flowWith(customConfig(sim, { url }), [paymentNode(), ...outputHelpers]), creds(sim));
      const cfg = helper.getNode("cfg");
      const errors = collect("errors");
      await until(() => cfg.pac.connectionView.state === "config-error", "config error");
      cfg.pac.connectionView.reason.should.equal(
        "refusing unencrypted ws:// to [::ffff:7f00:1]: use wss:// (ws:// is allowed only for loopback or with allowInsecure)",
      );
      (cfg.pac.client === null).should.be.true();
      helper.getNode("pay").receive({ payload: 1250 });
      await until(() => errors.length === 1, "error");
      errors[0].error.code.should.equal("CONFIG");
      errors[0].error.message.should.match(/is not usable|could not start/);
      await delay(500);
      sim.stats.connectionAttempts.should.equal(0);
      await helper.unload();

      // an administrator's decision in settings.js (never a flow's): dojoPac.allowInsecure
      helper.settings({ userDir: tmpDir("pac-faults-ws2-"), dojoPac: { allowInsecure: true } });
      await helper.load(nodeModules, flowWith(customConfig(sim, { url }), [paymentNode(), ...outputHelpers]), creds(sim));
      await waitOpen();
      sim.connections().should.eql(["till-f"]);
    });

    it("a server with a self-signed certificate is refused: TLS error, no WebSocket connection", async function () {
      let openssl = null;
      try {
        openssl = execFileSync("which", ["openssl"]).toString().trim();
      } catch {
        this.skip();
      }
      const dir = tmpDir("pac-faults-tls-");
      execFileSync(
        openssl,
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
        ],
        { stdio: "ignore" },
      );
      const server = https.createServer({ key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) });
      const wss = new WebSocket.Server({ server });
      const seen = { tcp: 0, secure: 0, upgrades: 0, ws: 0, tlsErrors: [] };
      server.on("connection", () => seen.tcp++);
      server.on("secureConnection", () => seen.secure++);
      server.on("upgrade", () => seen.upgrades++);
      server.on("tlsClientError", (e) => seen.tlsErrors.push(e.message));
      wss.on("connection", () => seen.ws++);
      await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
      onCleanup(async () => {
        for (const c of wss.clients) c.terminate();
        await new Promise((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise((resolve) => server.close(() => resolve()));
      });
      const url = `wss://127.0.0.1:${/** @type {import("net").AddressInfo} */ (server.address()).port}/ws/v2/pac/epos`;
      helper.settings({ userDir: tmpDir("pac-faults-tls-u-") });
      await helper.load(
        nodeModules,
        flowWith({ id: "cfg", type: "pac-config", environment: "custom", url, eposId: "till-tls", softwareHouseId: "sh", requestTimeout: 2 }, [
          paymentNode(),
          ...outputHelpers,
        ]),
        { cfg: { accountName: "acct", apiKey: "tls-test-key-0123456789" } },
      );
      const cfg = helper.getNode("cfg");
      const st = statuses("pay");
      const errors = collect("errors");
      await until(() => cfg.pac.connectionView.state === "reconnecting", "handshake refused", 8000);
      cfg.pac.connectionView.reason.should.match(/self[- ]signed certificate/);
      await until(() => st.length > 0 && /^reconnect in \d+ s$/.test(lastStatus(st).text), "status");
      helper.getNode("pay").receive({ payload: 1250 });
      await until(() => errors.length === 1, "error");
      errors[0].error.code.should.equal("NOT_CONNECTED");
      seen.tcp.should.be.aboveOrEqual(1);
      seen.secure.should.equal(0);
      seen.upgrades.should.equal(0);
      seen.ws.should.equal(0);
    });

    it("the simulator listens on 127.0.0.1 by default (standalone and built into pac-config)", async () => {
      const sim = await PacSimulator.start({ delays: "zero" });
      onCleanup(() => sim.stop());
      sim.host.should.equal("127.0.0.1");
      sim.url.should.startWith("ws://127.0.0.1:");
      helper.settings({ userDir: tmpDir("pac-faults-sim-") });
      await helper.load(nodeModules, flowWith(simConfig(), [paymentNode(), ...outputHelpers]));
      const cfg = await waitOpen();
      const builtIn = cfg.pac.simulator;
      builtIn.host.should.equal("127.0.0.1");
      const ip = nonLoopbackIPv4();
      if (ip) {
        for (const port of [sim.port, builtIn.port]) {
          const err = await new Promise((resolve) => {
            const s = net.connect(port, ip);
            s.once("connect", () => {
              s.destroy();
              resolve(null);
            });
            s.once("error", resolve);
          });
          should(err).not.be.null();
          err.code.should.equal("ECONNREFUSED");
        }
      }
    });
  });
});
