"use strict";
// Shared by test/faults/*.fault.js: the real nodes in a real Node-RED runtime (node-red-node-test-helper,
// in this process) against a standalone simulator on 127.0.0.1, plus a real Node-RED child process for
// the crash tests. Every wait is bounded; everything started is stopped by cleanup().
require("should");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const http = require("http");
const { spawn } = require("child_process");
const base = require("../nodes-helpers");

const { helper, nodeModules, PacSimulator, until, delay } = base;
const { untilZeros } = require("../../dist/engine/journal/journal");
const root = path.resolve(__dirname, "..", "..");

/** Long enough for a duplicate (or a stray reconnect) to show up if there were one. */
const SETTLE_MS = 300;

const cleanups = [];

/** Run fn at cleanup() (last registered first). */
function onCleanup(fn) {
  cleanups.unshift(fn);
}

async function cleanup() {
  for (const fn of cleanups.splice(0)) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
}

/**
 * The preamble of a suite through the nodes, as one call at the top of its describe(): Node-RED's
 * server (in this process) for the block, a fresh userDir per test (tmpDir(prefix)), and after each
 * test: `beforeUnload`, the flows unloaded, cleanup(), then `afterCleanup`.
 * Returns a view whose `userDir` is the current test's.
 * @param {string} prefix the temp dir prefix of each test's userDir
 * @param {{ beforeUnload?: () => void, afterCleanup?: () => void }} [opts]
 */
function nodeRedSuite(prefix, { beforeUnload, afterCleanup } = {}) {
  const suite = { userDir: "" };
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    suite.userDir = tmpDir(prefix);
    helper.settings({ userDir: suite.userDir });
  });
  afterEach(async () => {
    if (beforeUnload) beforeUnload();
    await base.unloadThen(cleanup, ...(afterCleanup ? [afterCleanup] : []));
  });
  return suite;
}

function tmpDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix || "pac-faults-"));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A standalone simulator: manual terminals, zero delays, fast record retries. */
async function startSim(opts = {}) {
  const sim = await PacSimulator.start({ delays: "zero", manual: true, recordRetryMs: 200, virtualTerminal: false, ...opts });
  onCleanup(() => sim.stop());
  return sim;
}

function terminal(sim, id = "SIM00001") {
  return sim.terminals().find((t) => t.terminalId === id);
}

function waitStep(sim, step, id = "SIM00001", ms = 5000) {
  return until(() => terminal(sim, id).step === step, `terminal ${id} at ${step}`, ms);
}

/** Count every frame the EPOS sends (requests and responses: anything that reaches "Dojo"). */
function frameCounter(sim) {
  const c = {
    frames: [],
    get count() {
      return c.frames.length;
    },
  };
  const on = (f) => c.frames.push(f.text);
  sim.on("frameIn", on);
  onCleanup(() => sim.off("frameIn", on));
  return c;
}

function customConfig(sim, extra) {
  return {
    id: "cfg",
    type: "pac-config",
    name: "",
    environment: "custom",
    url: sim.url,
    eposId: "till-f",
    softwareHouseId: "shopflow-faults",
    resellerId: "",
    requestTimeout: 5,
    ...extra,
  };
}

function creds(sim, id = "cfg") {
  return { [id]: { ...sim.credentials } };
}

const { collect, collectInto, statuses, statusesInto } = base;

/** What Node-RED logged at `level` ("WARN", "ERROR", …) for node `id` (any node when omitted), as text. */
function logged(level, id) {
  return helper
    .log()
    .args.map((a) => a[0])
    .filter((e) => e && e.level === helper.log()[level] && (id === undefined || e.id === id))
    .map((e) => String(e.msg));
}

function lastStatus(list) {
  return list[list.length - 1];
}

/** The config node, once its client is open. */
async function waitOpen(cfgId = "cfg", ms = 8000) {
  await until(
    () => {
      const cfg = helper.getNode(cfgId);
      return cfg && cfg.pac && cfg.pac.client && cfg.pac.client.state === "open";
    },
    `config ${cfgId} connected`,
    ms,
  );
  return helper.getNode(cfgId);
}

/** A core function node (all the properties the editor saves) running `func`, wired to `next`. */
function functionNode(id, name, func, next, x = 300, y = 100) {
  return { id, z: "tab", type: "function", name, func, outputs: 1, timeout: 0, noerr: 0, initialize: "", finalize: "", libs: [], x, y, wires: [[next]] };
}

// The flow pieces are the main node suite's: one definition of the payment node and its outputs.
const { paymentNode, outputHelpers } = base;

/**
 * Load a flow with a pac-payment node against `sim` and wait for the connection. Returns the
 * collectors of outputs, Catch and the payment node's status.
 */
/** @param {import("../../dist/simulator").PacSimulator} sim @param {{ config?: object, payment?: object, more?: object[], credentials?: object, wait?: boolean }} [opts] */
async function loadPaymentFlow(sim, { config, payment, more, credentials, wait = true } = {}) {
  const flow = base.flowWith(customConfig(sim, config), [paymentNode(payment), ...outputHelpers, ...(more || [])]);
  await helper.load(nodeModules, flow, credentials || creds(sim));
  const cfg = wait ? await waitOpen() : helper.getNode("cfg");
  return { flow, cfg, sim, ...base.paymentOutputs() };
}

/** Present a card and approve (manual terminal). */
async function approve(sim, id = "SIM00001") {
  await sim.act(id, "present");
  await sim.act(id, "approve");
}

/** Exactly one result for paymentId on ok+ko, after a settle period. */
async function exactlyOne(t, paymentId, where = "ok") {
  const all = () => [...t.ok, ...t.ko].filter((m) => m.paymentId === paymentId);
  await until(() => all().length >= 1, `result of ${paymentId}`, 10000);
  await delay(SETTLE_MS);
  all().should.have.length(1);
  t[where].filter((m) => m.paymentId === paymentId).should.have.length(1);
  return all()[0];
}

/** The promise's value, or a rejection naming `what` after ms. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next `event` of emitter, bounded. */
function nextEvent(emitter, event, ms = 5000) {
  let on;
  const p = new Promise((resolve) => {
    on = resolve;
    emitter.once(event, on);
  });
  return within(p, ms, `"${event}"`).finally(() => emitter.off(event, on));
}

/** A free TCP port on 127.0.0.1 (for Node-RED's uiPort). */
/** Whether something accepts a TCP connection on 127.0.0.1:port now. */
function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("net").AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/**
 * A TCP proxy on 127.0.0.1 to `targetPort`. blackhole() makes every current connection half-open:
 * nothing is forwarded any more in either direction and neither side is told (no FIN, no RST), as
 * when a NAT or a Wi-Fi link silently drops a connection. New connections are forwarded normally.
 */
async function tcpProxy(targetPort) {
  const pairs = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream, holed: false };
    pairs.add(pair);
    client.on("error", () => undefined);
    upstream.on("error", () => undefined);
    client.on("data", (d) => pair.holed || upstream.write(d));
    upstream.on("data", (d) => pair.holed || client.write(d));
    // While holed, a close on one side never reaches the other.
    client.on("close", () => pair.holed || upstream.destroy());
    upstream.on("close", () => pair.holed || client.destroy());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const proxy = {
    port: /** @type {import("net").AddressInfo} */ (server.address()).port,
    get connections() {
      return pairs.size;
    },
    blackhole() {
      for (const p of pairs) p.holed = true;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
  onCleanup(() => proxy.close());
  return proxy;
}

// ---- a real Node-RED child process --------------------------------------------------------------

const children = new Set();
process.on("exit", () => {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch {
      /* gone */
    }
  }
});

const RED_JS = path.join(path.dirname(require.resolve("node-red/package.json")), "red.js");

/**
 * A userDir with this package linked in (as scripts/start.js does), flows.json, an unencrypted
 * flows_cred.json and a settings.js (trace logging unless told otherwise).
 */
function prepareUserDir(dir, { flows, credentials, port, settings = {} }) {
  const mod = path.join(dir, "node_modules", "@shopflow");
  fs.mkdirSync(mod, { recursive: true });
  const link = path.join(mod, "node-red-dojo-pac");
  if (!fs.existsSync(link)) fs.symlinkSync(root, link, "dir");
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "pac-faults-userdir", private: true }, null, 2));
  fs.writeFileSync(path.join(dir, "flows.json"), JSON.stringify(flows, null, 2));
  fs.writeFileSync(path.join(dir, "flows_cred.json"), JSON.stringify(credentials, null, 2));
  const s = {
    uiHost: "127.0.0.1",
    uiPort: port,
    flowFile: "flows.json",
    credentialSecret: false,
    editorTheme: { projects: { enabled: false }, tours: false },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    logging: { console: { level: "trace", metrics: false, audit: false } },
    ...settings,
  };
  fs.writeFileSync(path.join(dir, "settings.js"), `module.exports = ${JSON.stringify(s, null, 2)};\n`);
}

class RedProcess {
  /** @param {string} userDir @param {number} port @param {{ env?: Record<string, string>, preload?: string }} [opts] */
  constructor(userDir, port, { env, preload } = {}) {
    this.userDir = userDir;
    this.port = port;
    this.env = env || {};
    this.preload = preload;
    this.output = ""; // everything written to stdout and stderr, over every start
    this.child = null;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(ms = 30000) {
    const args = [...(this.preload ? ["-r", this.preload] : []), RED_JS, "--userDir", this.userDir, "--settings", path.join(this.userDir, "settings.js")];
    const child = spawn(process.execPath, args, {
      cwd: this.userDir,
      env: { ...process.env, NODE_OPTIONS: "", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    children.add(child);
    let started = false;
    const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    this.exited = exited;
    void exited.then(() => children.delete(child));
    const onData = (chunk) => {
      this.output += chunk.toString();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const from = this.output.length;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Node-RED did not start within ${ms} ms:\n${this.output.slice(from)}`)), ms);
      const check = () => {
        const out = this.output.slice(from);
        if (!started && /Started flows/.test(out)) {
          started = true;
          clearTimeout(timer);
          resolve();
        } else if (!started && /Waiting for missing types/.test(out)) {
          // e.g. dist/ being rebuilt by a concurrent build: fail now, not after the timeout
          started = true;
          clearTimeout(timer);
          reject(new Error(`Node-RED could not load this package's nodes (a concurrent build? run again):\n${out}`));
        }
      };
      child.stdout.on("data", check);
      void exited.then(({ code, signal }) => {
        if (started) return;
        clearTimeout(timer);
        reject(new Error(`Node-RED exited (${code ?? signal}) before starting:\n${this.output.slice(from)}`));
      });
    });
    // Node-RED logs "Started flows" when RED.start() resolves and only then calls server.listen():
    // a request sent at once can be refused. Ready means the port answers.
    await until(() => accepts(this.port), `Node-RED listening on port ${this.port}`, 10000, 20);
  }

  /** SIGKILL: no close handlers, no flush; resolves once the process is gone. */
  async kill9() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGINT (Node-RED closes its nodes), SIGKILL after 10 s. */
  async stop() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGINT");
    const timer = setTimeout(() => this.child && this.child.kill("SIGKILL"), 10000);
    await this.exited;
    clearTimeout(timer);
  }

  request(method, urlPath, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
      const req = http.request(
        `${this.base}${urlPath}`,
        { method, headers: { ...(data ? { "content-type": "application/json", "content-length": data.length } : {}), ...headers } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
        },
      );
      req.setTimeout(10000, () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
      req.on("error", reject);
      if (data) req.write(data);
      req.end();
    });
  }
}

/** New RedProcess on a free port; killed at cleanup(). */
async function redProcess(userDir, opts) {
  const p = new RedProcess(userDir, await freePort(), opts);
  onCleanup(() => p.kill9());
  return p;
}

/** JSON lines of a file (none when it does not exist). */
function jsonLines(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  // A journal left by a killed process ends in the zeros it wrote ahead of its lines.
  return untilZeros(text)
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

/** Counts of process.getActiveResourcesInfo() by kind. */
function activeResources() {
  const out = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] || 0) + 1;
  return out;
}

function heapAfterGc() {
  if (typeof global.gc !== "function") return null;
  for (let i = 0; i < 3; i++) global.gc();
  return process.memoryUsage().heapUsed;
}

module.exports = {
  ...base,
  SETTLE_MS,
  root,
  onCleanup,
  cleanup,
  nodeRedSuite,
  tmpDir,
  startSim,
  terminal,
  waitStep,
  frameCounter,
  customConfig,
  creds,
  collect,
  collectInto,
  statuses,
  statusesInto,
  lastStatus,
  logged,
  waitOpen,
  paymentNode,
  outputHelpers,
  functionNode,
  loadPaymentFlow,
  approve,
  exactlyOne,
  within,
  nextEvent,
  freePort,
  tcpProxy,
  prepareUserDir,
  RedProcess,
  redProcess,
  jsonLines,
  activeResources,
  heapAfterGc,
};
