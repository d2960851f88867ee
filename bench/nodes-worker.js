#!/usr/bin/env node
// A real Node-RED runtime (the devDependency), embedded with an http server on 127.0.0.1:0 and a
// temporary userDir, in its own process (forked by bench/run.js with --max-old-space-size=256).
// argv[2] = JSON config, by mode:
//   row     {withPackage:true, url, accountName, apiKey, eposId, terminals, warmupMs, windowMs}
//           pac-config (custom URL) -> pac-payment (terminalId from msg) -> bench-counter;
//           sales are injected with RED.nodes.getNode("pay").receive(msg).
//   idle    {withPackage, url, accountName, apiKey, eposId, settleMs}: RSS once connected, no payments
//           (needs --expose-gc). Without the package the flow holds only the counter.
//   load    {withPackage}: an empty flow; how long RED.start() takes.
//   require {}: no Node-RED; how long requiring nodes/pac-*.js takes in a fresh process.
// The package is installed as Node-RED finds an npm install: a symlink of the repo at
// <userDir>/node_modules/@shopflow/node-red-dojo-pac.
"use strict";
const fs = require("fs");
const path = require("path");
const { performance } = require("perf_hooks");
const { ROOT, Driver, terminalIds, delay, median, scratchDir, workerSetup, paymentNodes } = require("./common");
const { startEmbeddedRed, untilConnected } = require("./embedded-red");

const { cfg, send } = workerSetup(120_000);
let userDir = null;
let RED = null;
let red = null;

/** The node files Node-RED loads, as the package declares them. */
const NODE_FILES = Object.values(require(path.join(ROOT, "package.json"))["node-red"].nodes);

function makeUserDir(flows, creds) {
  userDir = scratchDir("pac-bench-red-");
  if (cfg.withPackage) {
    const scope = path.join(userDir, "node_modules", "@shopflow");
    fs.mkdirSync(scope, { recursive: true });
    fs.symlinkSync(ROOT, path.join(scope, "node-red-dojo-pac"), "dir");
  }
  fs.writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "pac-bench-userdir", private: true }));
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows));
  if (creds) fs.writeFileSync(path.join(userDir, "flows_cred.json"), JSON.stringify(creds));
}

async function startRed() {
  red = await startEmbeddedRed({ userDir, flowsTimeoutMs: 10_000 });
  RED = red.RED;
  const types = RED.nodes.getNodeList ? RED.nodes.getNodeList().flatMap((s) => s.types || []) : [];
  if (cfg.withPackage && !types.includes("pac-payment")) {
    throw new Error(`Node-RED did not load the package (types: ${types.join(", ")})`);
  }
  return red.startMs;
}

async function stopRed() {
  if (red) await red.stop();
}

function paymentFlow(eposId) {
  return [
    { id: "tab", type: "tab", label: "bench" },
    ...paymentNodes({ url: cfg.url, eposId, to: "count", x: 200 }),
    { id: "count", type: "bench-counter", z: "tab", name: "", x: 400, y: 100, wires: [] },
    { id: "catch", type: "catch", z: "tab", name: "", scope: null, uncaught: false, x: 200, y: 200, wires: [["count"]] },
  ];
}

function counterOnlyFlow() {
  return [
    { id: "tab", type: "tab", label: "bench" },
    { id: "count", type: "bench-counter", z: "tab", name: "", x: 400, y: 100, wires: [] },
  ];
}

function waitConnected() {
  return untilConnected(RED, 10_000);
}

// ---- modes ------------------------------------------------------------------------------------

async function row() {
  makeUserDir(paymentFlow(cfg.eposId), { cfg: { accountName: cfg.accountName, apiKey: cfg.apiKey } });
  const startMs = await startRed();
  await waitConnected();
  const pay = RED.nodes.getNode("pay");
  let driver;
  global.__pacBenchHook = (msg) => {
    const t0 = msg.benchT0;
    if (typeof t0 !== "number") return;
    msg.benchT0 = undefined; // counted once
    const ok = !msg.error && msg.payload && msg.payload.status === "CAPTURED";
    const terminalId = msg.benchTerminal;
    driver.done(terminalId, t0, ok, msg.error ? new Error(msg.error.message) : ok ? null : new Error(`status ${msg.payload && msg.payload.status}`));
  };
  driver = new Driver({
    terminals: terminalIds(cfg.terminals),
    warmupMs: cfg.warmupMs,
    windowMs: cfg.windowMs,
    drainMs: 5000,
    stallMs: 10_000,
    onWindow: (edge) => send({ type: "window", edge }),
    startSale: (terminalId) => {
      pay.receive({ payload: { amount: 1000, terminalId }, benchT0: performance.now(), benchTerminal: terminalId });
    },
  });
  const result = await driver.start();
  result.redStartMs = startMs;
  return result;
}

async function settledRss() {
  if (typeof global.gc !== "function") throw new Error("run with --expose-gc");
  const samples = [];
  for (let i = 0; i < 5; i++) {
    global.gc();
    await delay(200);
    samples.push(process.memoryUsage());
  }
  const med = (k) => median(samples.map((s) => s[k]));
  return { rss: med("rss"), heapUsed: med("heapUsed"), external: med("external") };
}

async function idle() {
  if (cfg.withPackage) {
    makeUserDir(paymentFlow(cfg.eposId), { cfg: { accountName: cfg.accountName, apiKey: cfg.apiKey } });
  } else {
    makeUserDir(counterOnlyFlow(), null);
  }
  const startMs = await startRed();
  if (cfg.withPackage) await waitConnected();
  await delay(cfg.settleMs ?? 2000);
  return { startMs, ...(await settledRss()), peakRss: process.resourceUsage().maxRSS * 1024 };
}

/** Time spent inside require() of this package's node files, as Node-RED's loader calls it. */
function timePackageRequires() {
  const Module = require("module");
  const orig = Module._load;
  const stats = { ms: 0, files: 0 };
  let inside = false;
  Module._load = function (request, parent, isMain) {
    if (inside || !/pac-[a-z-]+(\.js)?$/.test(request)) return orig.apply(this, arguments);
    let file = "";
    try {
      file = Module._resolveFilename(request, parent, isMain);
    } catch {
      return orig.apply(this, arguments);
    }
    if (!/[\\/]nodes[\\/]pac-[a-z-]+\.js$/.test(file)) return orig.apply(this, arguments);
    inside = true;
    const t0 = performance.now();
    try {
      return orig.apply(this, arguments);
    } finally {
      stats.ms += performance.now() - t0;
      stats.files++;
      inside = false;
    }
  };
  return stats;
}

async function load() {
  makeUserDir([{ id: "tab", type: "tab", label: "empty" }], null);
  const req = timePackageRequires();
  const startMs = await startRed();
  // A hook that matched nothing would report 0 ms: no measurement, not a fast load.
  if (cfg.withPackage && req.files !== NODE_FILES.length) {
    throw new Error(`timed ${req.files} of the package's ${NODE_FILES.length} node files being loaded`);
  }
  return { startMs, requireInRedMs: req.ms, requiredFiles: req.files };
}

async function requireNodes() {
  const t0 = performance.now();
  for (const f of NODE_FILES) require(path.join(ROOT, f));
  const ms = performance.now() - t0;
  return { requireMs: ms };
}

async function main() {
  let result;
  try {
    if (cfg.mode === "row") result = await row();
    else if (cfg.mode === "idle") result = await idle();
    else if (cfg.mode === "load") result = await load();
    else if (cfg.mode === "require") result = await requireNodes();
    else throw new Error(`unknown mode ${cfg.mode}`);
  } finally {
    await stopRed();
  }
  send({ type: "result", result });
  setTimeout(() => process.exit(0), 50);
}

main().catch(async (e) => {
  send({ type: "error", message: e && e.stack ? e.stack : String(e) });
  try {
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
  setTimeout(() => process.exit(1), 50);
});
