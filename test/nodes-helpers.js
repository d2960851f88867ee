"use strict";
// Shared by test/nodes*.test.js: the real Node-RED runtime (node-red-node-test-helper), the seven
// node types as built by scripts/build.js, and bounded waits.
const fs = require("fs");
const os = require("os");
const path = require("path");
const helper = require("node-red-node-test-helper");
const { delay, until } = require("./wait");

helper.init(require.resolve("node-red"));

const root = path.resolve(__dirname, "..");
const TYPES = ["config", "payment", "refund", "capture", "cancel", "events", "status"];
const nodeModules = TYPES.map((t) => require(path.join(root, "nodes", `pac-${t}.js`)));
const configRuntime = require(path.join(root, "dist", "nodes", "config-runtime"));
const { PacSimulator } = require(path.join(root, "dist", "simulator"));
const { Journal } = require(path.join(root, "dist", "engine", "journal", "journal"));

// Built-in simulators start with zero delays in tests.
// Built-in simulators of the flows under test answer at once (read at each simulator start).
process.env.PAC_SIMULATOR_DELAYS = "zero";

function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix || "pac-nodes-"));
}

/** Every msg a helper node receives, in order, into `list` (re-attach after a deploy that restarts it). */
function collectInto(list, id) {
  helper.getNode(id).on("input", (msg) => list.push(msg));
  return list;
}
const collect = (id) => collectInto([], id);

/** Every status a node shows, into `list`. */
function statusesInto(list, id) {
  helper.getNode(id).on("call:status", (call) => list.push(call.args[0]));
  return list;
}
const statuses = (id) => statusesInto([], id);

/** The payment node of paymentNode() with collectors on its outputs, Catch and its status. */
function paymentOutputs() {
  return {
    pay: helper.getNode("pay"),
    ok: collect("ok"),
    ko: collect("ko"),
    prog: collect("prog"),
    errors: collect("errors"),
    status: statuses("pay"),
  };
}

async function waitConnected(cfgId = "cfg", ms = 5000) {
  const cfg = helper.getNode(cfgId);
  await until(() => cfg.pac.client && cfg.pac.client.state === "open", `config ${cfgId} connected`, ms);
  return cfg;
}

/** A tab, a catch node (all errors -> "errors"), plus the given nodes (z set to the tab). */
function flowWith(configNode, nodes) {
  const out = [{ id: "f1", type: "tab", label: "test" }, configNode];
  for (const n of nodes) out.push({ z: "f1", x: 100, y: 100, ...n });
  out.push({ id: "catch", z: "f1", x: 100, y: 100, type: "catch", scope: null, uncaught: false, wires: [["errors"]] });
  out.push({ id: "errors", z: "f1", x: 100, y: 100, type: "helper" });
  return out;
}

function simConfig(extra) {
  return { id: "cfg", type: "pac-config", name: "", environment: "simulator", eposId: "till-1", requestTimeout: 5, ...extra };
}

/** pac-payment with outputs to helpers ok / ko / prog. */
function paymentNode(extra) {
  return {
    id: "pay",
    type: "pac-payment",
    name: "",
    server: "cfg",
    terminalId: "SIM00001",
    currency: "GBP",
    captureMode: "AUTO",
    signature: "accept",
    wires: [["ok"], ["ko"], ["prog"]],
    ...extra,
  };
}

const outputHelpers = [
  { id: "ok", type: "helper" },
  { id: "ko", type: "helper" },
  { id: "prog", type: "helper" },
];

/**
 * Unload the flows, then release what the test started (simulators, temp dirs) even when the
 * unload itself fails: a server left listening keeps mocha from exiting.
 */
async function unloadThen(...release) {
  try {
    await helper.unload();
  } finally {
    for (const fn of release) await fn();
  }
}

module.exports = {
  helper,
  unloadThen,
  nodeModules,
  configRuntime,
  PacSimulator,
  Journal,
  tmpDir,
  delay,
  until,
  collect,
  collectInto,
  statuses,
  statusesInto,
  paymentOutputs,
  waitConnected,
  flowWith,
  simConfig,
  paymentNode,
  outputHelpers,
};
