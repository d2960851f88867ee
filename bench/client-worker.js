#!/usr/bin/env node
// One benchmark client in its own process (forked by bench/run.js), so its CPU time and peak RSS
// are its own. argv[2] = JSON config:
//   {mode: "floor"|"engine"|"engine-heap", url, accountName, apiKey, eposId, terminals,
//    warmupMs, windowMs, drainMs, stallMs, checkpoints?: [1000, 25000, 50000], maxRunMs?}
//   or {mode: "journal-reopen", dir, eposId, segmentBytes}
// Messages to the parent: {type:"window", edge:"start"|"end"}, {type:"result", ...} or {type:"error"}.
"use strict";
const fs = require("fs");
const path = require("path");
const { performance } = require("perf_hooks");
const WebSocket = require("ws");
const { ROOT, Driver, terminalIds, until, delay, scratchDir, workerSetup } = require("./common");

const { cfg, send } = workerSetup(240_000); // hard lifetime cap of this process

const AMOUNT = 1000; // ends in 00: approved, contactless (4 notifications, one RecordPayment)

// ---- floor: a minimal JSON-RPC client over ws (no journal, no checks) ---------------------------

async function floorClient() {
  const ws = new WebSocket(cfg.url, {
    headers: {
      authorization: "Basic " + Buffer.from(`${cfg.accountName}:${cfg.apiKey}`).toString("base64"),
      "epos-id": cfg.eposId,
      "software-house-id": "bench",
    },
    perMessageDeflate: false,
  });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("floor: connect timeout")), 5000);
    ws.once("open", () => (clearTimeout(t), resolve()));
    ws.once("error", (e) => (clearTimeout(t), reject(e)));
  });
  let nextId = 1;
  let seq = 0;
  const started = new Map(); // paymentId -> {t0, terminalId}
  const requests = new Map(); // CreatePayment request id -> paymentId, until its answer
  let driver;
  const finish = (paymentId, ok, err) => {
    const s = started.get(paymentId);
    if (s === undefined) return;
    started.delete(paymentId);
    driver.done(s.terminalId, s.t0, ok, err);
  };
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    if (m.method === "RecordPayment") {
      const id = m.params.paymentId;
      ws.send(`{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":{"paymentId":${JSON.stringify(id)}}}`);
      // Counted like the other clients: only an approved sale is a payment.
      finish(id, m.params.status === "CAPTURED", m.params.status === "CAPTURED" ? null : new Error(`status ${m.params.status}`));
    } else if (m.method === undefined && requests.has(m.id)) {
      // The ack of CreatePayment, or Dojo's refusal (an error, carried under result or error):
      // a refused sale fails, so the floor never quietly runs on fewer terminals.
      const paymentId = requests.get(m.id);
      requests.delete(m.id);
      const err = m.error || (m.result && typeof m.result.code === "number" ? m.result : null);
      if (err) finish(paymentId, false, new Error(`CreatePayment refused: ${err.message}`));
    }
    // TerminalNotifications: nothing to do
  });
  driver = makeDriver((terminalId) => {
    const paymentId = `f-${cfg.eposId}-${++seq}`;
    const t0 = performance.now();
    started.set(paymentId, { t0, terminalId });
    const id = nextId++;
    requests.set(id, paymentId);
    ws.send(
      JSON.stringify({
        jsonrpc: "2.0",
        id,
        method: "CreatePayment",
        params: { paymentId, terminalId, captureMode: "AUTO", baseAmount: AMOUNT, currency: "GBP" },
      }),
    );
  });
  const result = await driver.start();
  ws.terminate();
  return result;
}

// ---- engine: PacClient with its durable journal -----------------------------------------------

async function openEngine() {
  const { PacClient } = require(path.join(ROOT, "dist", "engine", "pac-client"));
  const journalDir = scratchDir("pac-bench-journal-");
  const client = await PacClient.open({
    url: cfg.url,
    accountName: cfg.accountName,
    apiKey: cfg.apiKey,
    eposId: cfg.eposId,
    softwareHouseId: "bench",
    journalDir,
    heartbeatIntervalMs: 0,
  });
  client.on("warning", (m) => process.stderr.write(`[engine warning] ${m}\n`));
  client.start();
  await until(() => client.state === "open", "engine connected", 5000);
  const cleanup = async () => {
    try {
      await Promise.race([client.close(), delay(5000)]);
    } finally {
      fs.rmSync(journalDir, { recursive: true, force: true });
    }
  };
  return { client, cleanup };
}

const OWNER = "bench";

function engineSales(client, getDriver) {
  let seq = 0;
  const started = new Map(); // paymentId -> t0
  // The bench's sales are all this worker's: it claims them (the outbox journals each hand-over).
  client.outbox.claim(OWNER, {
    outcome: (o) => {
      const t0 = started.get(o.paymentId);
      if (t0 === undefined) return "gone";
      started.delete(o.paymentId);
      getDriver().done(o.terminalId, t0, o.successful);
      return "taken";
    },
  });
  return (terminalId) => {
    const paymentId = `e-${cfg.eposId}-${++seq}`;
    const t0 = performance.now();
    started.set(paymentId, t0);
    client.createPayment({ paymentId, terminalId, amount: AMOUNT, currency: "GBP", owner: OWNER }).catch((e) => {
      if (started.delete(paymentId)) getDriver().done(terminalId, t0, false, e);
    });
  };
}

async function engineClient() {
  const { client, cleanup } = await openEngine();
  let driver;
  driver = makeDriver(engineSales(client, () => driver));
  try {
    return await driver.start();
  } finally {
    await cleanup();
  }
}

// ---- engine-heap: heap after each checkpoint's number of payments (needs --expose-gc) ----------

async function settledHeap() {
  if (typeof global.gc !== "function") throw new Error("run with --expose-gc");
  for (let i = 0; i < 4; i++) {
    global.gc();
    await delay(50);
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
}

async function engineHeap() {
  const { client, cleanup } = await openEngine();
  const t0 = Date.now();
  const points = [];
  let completed = 0;
  let errors = 0;
  try {
    let driver;
    const startSale = engineSales(client, () => driver);
    // Run in legs: each leg drives until `completed` reaches the checkpoint, drains, then measures.
    for (const target of cfg.checkpoints) {
      const need = target - completed;
      if (need > 0) {
        const budget = Math.max(2000, cfg.maxRunMs - (Date.now() - t0));
        driver = new Driver({
          terminals: terminalIds(cfg.terminals),
          warmupMs: 0,
          windowMs: budget,
          maxCount: need,
          drainMs: 5000,
          stallMs: 10_000,
          startSale,
        });
        const r = await driver.start();
        completed += r.totalCompleted - r.errors;
        errors += r.errors;
        if (!r.drained) throw new Error("could not drain before the heap measurement");
        driver.lat = []; // the benchmark's own latency list is not the engine's heap
      }
      const mem = await settledHeap();
      points.push({ payments: completed, target, atMs: Date.now() - t0, ...mem, journal: client.journal.memorySize });
      if (completed < target) break; // out of time: report what was reached
    }
  } finally {
    await cleanup();
  }
  return { points, errors, elapsedMs: Date.now() - t0 };
}

// ---- journal-reopen: Journal.open of an existing journal, in a fresh process ------------------

async function journalReopen() {
  const { Journal } = require(path.join(ROOT, "dist", "engine", "journal", "journal"));
  const t0 = performance.now();
  const j = await Journal.open({ dir: cfg.dir, identity: { eposId: cfg.eposId }, segmentBytes: cfg.segmentBytes });
  const ms = performance.now() - t0;
  const memory = j.memorySize;
  const skipped = j.skippedLines;
  await j.close();
  return { reopenMs: ms, memory, skippedLines: skipped, heapUsed: process.memoryUsage().heapUsed };
}

// ---------------------------------------------------------------------------------------------

function makeDriver(startSale) {
  return new Driver({
    terminals: terminalIds(cfg.terminals),
    warmupMs: cfg.warmupMs,
    windowMs: cfg.windowMs,
    drainMs: cfg.drainMs ?? 5000,
    stallMs: cfg.stallMs ?? 10_000,
    onWindow: (edge) => send({ type: "window", edge }),
    startSale,
  });
}

async function main() {
  let result;
  if (cfg.mode === "floor") result = await floorClient();
  else if (cfg.mode === "engine") result = await engineClient();
  else if (cfg.mode === "engine-heap") result = await engineHeap();
  else if (cfg.mode === "journal-reopen") result = await journalReopen();
  else throw new Error(`unknown mode ${cfg.mode}`);
  send({ type: "result", result });
  setTimeout(() => process.exit(0), 50);
}

main().catch((e) => {
  send({ type: "error", message: e && e.stack ? e.stack : String(e) });
  setTimeout(() => process.exit(1), 50);
});
