"use strict";
// The till's flow for the chaos campaign, a pure function of the deployed state
// ({eposId, dup, rev}). Node ids are fixed, so results route to the same node after every
// redeploy and restart.
//
// Every output, a Catch node and a pac-events node (records, orphans included, and connection
// changes) end in a "sink" function that prints one line `CHAOS-RESULT {json}` to Node-RED's log
// (stdout, a pipe: written synchronously). The harness reads that stream and keeps results.jsonl
// itself: a results file written by the child would be hit by the storage faults injected into the
// same process, and a lost line there would be our sink's fault, not the product's.
const { functionNode } = require("../faults/helpers");

const MARK = "CHAOS-RESULT ";

/** A function node that prints the result line for msgs from `from` (node id) output `out`. */
function sink(id, from, out, filter = "") {
  const func = `${filter}
const p = msg.payload !== null && typeof msg.payload === "object" ? msg.payload : {};
const e = msg.error || null;
const line = {
  node: ${JSON.stringify(from)}, out: ${out},
  paymentId: msg.paymentId || p.paymentId || null,
  status: p.status || null, kind: p.kind || null,
  redelivered: msg.redelivered === true, orphan: p.orphan === true, foreign: p.foreign === true,
  notCreated: p.notCreated === true, owner: p.owner || null,
  topic: msg.topic || null, state: p.state || null, reason: p.reason || null,
  amount: typeof p.amount === "number" ? p.amount : null,
  error: e ? { code: e.code || null, message: String(e.message || ""), source: e.source ? e.source.id : null } : null,
  chaos: msg.chaos || null, at: Date.now()
};
node.log(${JSON.stringify(MARK)} + JSON.stringify(line));
return null;`;
  return { ...functionNode(id, id, func, null, 900, 100), wires: [[]] };
}

/** http in (POST url) -> [202 response, prep function -> target]. */
function endpoint(name, url, target, prep) {
  const func = `msg.chaos = msg.payload && msg.payload.chaos;
msg.payload = msg.payload && msg.payload.body;
${prep || ""}
return msg;`;
  const fn = functionNode(`prep-${name}`, `prep ${name}`, func, target, 300, 100);
  return [
    { id: `in-${name}`, z: "tab", type: "http in", name: "", url, method: "post", upload: false, swaggerDoc: "", x: 100, y: 100, wires: [["resp", fn.id]] },
    fn,
  ];
}

/**
 * The flow for `state`: {eposId, dup (a second pac-config with the same identity and a second
 * payment node), rev: {nodeId: n} (names changed by redeploys), url, credentials}.
 */
function tillFlow(state) {
  const name = (id, base) => (state.rev[id] ? `${base} r${state.rev[id]}` : base);
  const cfg = (id) => ({
    id,
    type: "pac-config",
    name: name(id, id === "cfg" ? "till" : "till (duplicate)"),
    environment: "custom",
    url: state.url,
    eposId: state.eposId,
    softwareHouseId: "shopflow-chaos",
    resellerId: "",
    requestTimeout: "5",
  });
  /** @type {FlowNode[]} */
  const nodes = [
    { id: "tab", type: "tab", label: "chaos till", disabled: false, info: "" },
    cfg("cfg"),
    { id: "resp", z: "tab", type: "http response", name: "", statusCode: "202", headers: {}, x: 300, y: 60, wires: [] },
    ...endpoint("sale", "/sale", "pay", 'msg.payload.captureMode = "AUTO";'),
    ...endpoint("preauth", "/preauth", "pay", 'msg.payload.captureMode = "MANUAL";'),
    ...endpoint("signature", "/signature", "pay", 'msg.topic = "signature";'),
    ...endpoint("refund", "/refund", "refund"),
    ...endpoint("capture", "/capture", "capture", 'msg.topic = "capture";'),
    ...endpoint("update", "/update", "capture", 'msg.topic = "update";'),
    ...endpoint("cancel", "/cancel", "cancel"),
    {
      id: "pay",
      z: "tab",
      type: "pac-payment",
      name: name("pay", "pay"),
      server: "cfg",
      terminalId: "",
      currency: "GBP",
      captureMode: "AUTO",
      signature: "ask",
      x: 500,
      y: 100,
      wires: [["sink-pay-0"], ["sink-pay-1"], ["sink-pay-2"]],
    },
    sink("sink-pay-0", "pay", 0),
    sink("sink-pay-1", "pay", 1),
    sink("sink-pay-2", "pay", 2, 'if (msg.topic !== "signature") return null;'),
    {
      id: "refund",
      z: "tab",
      type: "pac-refund",
      name: name("refund", "refund"),
      server: "cfg",
      terminalId: "",
      currency: "GBP",
      signature: "accept",
      x: 500,
      y: 200,
      wires: [["sink-refund-0"], ["sink-refund-1"], []],
    },
    sink("sink-refund-0", "refund", 0),
    sink("sink-refund-1", "refund", 1),
    {
      id: "capture",
      z: "tab",
      type: "pac-capture",
      name: name("capture", "capture"),
      server: "cfg",
      action: "capture",
      x: 500,
      y: 300,
      wires: [["sink-capture-0"]],
    },
    sink("sink-capture-0", "capture", 0),
    { id: "cancel", z: "tab", type: "pac-cancel", name: name("cancel", "cancel"), server: "cfg", x: 500, y: 400, wires: [["sink-cancel-0"]] },
    sink("sink-cancel-0", "cancel", 0),
    {
      id: "events",
      z: "tab",
      type: "pac-events",
      name: name("events", "events"),
      server: "cfg",
      events: ["record", "connection"],
      terminalId: "",
      x: 500,
      y: 500,
      wires: [["sink-events-0"]],
    },
    sink("sink-events-0", "events", 0),
    { id: "catch", z: "tab", type: "catch", name: "", scope: null, uncaught: false, x: 100, y: 600, wires: [["sink-catch-0"]] },
    sink("sink-catch-0", "catch", 0),
  ];
  // Sinks are renamed too when touched.
  for (const n of nodes) if (n.id.startsWith("sink-") || n.id.startsWith("prep-")) n.name = name(n.id, n.name);
  if (state.dup) {
    nodes.push(
      { ...cfg("cfgdup"), credentials: { ...state.credentials } },
      ...endpoint("sale2", "/sale2", "pay2", 'msg.payload.captureMode = "AUTO";'),
      {
        id: "pay2",
        z: "tab",
        type: "pac-payment",
        name: "pay (duplicate config)",
        server: "cfgdup",
        terminalId: "",
        currency: "GBP",
        captureMode: "AUTO",
        signature: "accept",
        x: 500,
        y: 700,
        wires: [["sink-pay2-0"], ["sink-pay2-1"], []],
      },
      sink("sink-pay2-0", "pay2", 0),
      sink("sink-pay2-1", "pay2", 1),
    );
  }
  return nodes;
}

/** Result nodes: the outputs that carry a payment's one result. */
const RESULT_NODES = new Set(["pay", "refund", "pay2"]);

module.exports = { tillFlow, MARK, RESULT_NODES };
