#!/usr/bin/env node
// A real Node-RED runtime (embedded, http on 127.0.0.1:0) for the Raspberry Pi sections of the
// benchmark (bench/pi/index.js forks it). argv[2] = JSON config:
//   {mode: "soak"|"idle", withPackage, ordinaryFlow? (default true), url, accountName, apiKey, eposId, userDir?, terminals,
//    ratePerSec, warmupMs, durationMs, sampleMs, burstMs?, heartbeatIntervalMs?, expectJournalWrites?}
// Flows: an "ordinary" flow (inject every 50 ms -> function doing JSON and sorting work -> change ->
// counter) and, withPackage, pac-config (custom URL) -> pac-payment -> counter. In "soak" mode sales
// are offered at a steady ratePerSec, round-robin to idle terminals (a terminal busy with its last
// sale is skipped and counted as missed), then optionally a closed-loop burst (every terminal starts
// its next sale at once) for burstMs. "idle" mode: connected, no sales, CPU and heap over durationMs.
// Measured in the window after warm-up: event-loop delay (perf_hooks.monitorEventLoopDelay), heap,
// RSS, fds, active timers/handles and listeners every sampleMs, and the sync probe's figures when
// bench/pi/sync-probe.js is preloaded.
"use strict";
const fs = require("fs");
const path = require("path");
const { performance, monitorEventLoopDelay, PerformanceObserver } = require("perf_hooks");
const { ROOT, terminalIds, until, delay, percentile, scratchDir, workerSetup, paymentNodes } = require("../common");
const { startEmbeddedRed, untilConnected } = require("../embedded-red");

const planned = JSON.parse(process.argv[2] || "{}");
const { cfg, send } = workerSetup((planned.durationMs || 0) + (planned.warmupMs || 0) + (planned.burstMs || 0) + 120_000);

const probe = globalThis[Symbol.for("pac-bench-sync-probe")] || null;
if (probe) probe.wrapWs(require(require.resolve("ws", { paths: [ROOT] })));

let userDir = null;
let ownUserDir = false;
let RED = null;
let red = null;

function flows() {
  const f = [
    { id: "tab", type: "tab", label: "bench" },
    { id: "count", type: "bench-counter", z: "tab", name: "", x: 600, y: 100, wires: [] },
  ];
  if (cfg.ordinaryFlow !== false) f.push(...ordinaryFlow());
  if (cfg.withPackage) f.push(...payment());
  return f;
}

function ordinaryFlow() {
  return [
    // the shop's other work: 20 msgs/s through a function doing some JSON and sorting
    {
      id: "tick",
      type: "inject",
      z: "tab",
      name: "",
      props: [{ p: "payload" }],
      repeat: "0.05",
      once: true,
      onceDelay: "0.1",
      topic: "",
      payload: "",
      payloadType: "date",
      x: 100,
      y: 300,
      wires: [["work"]],
    },
    {
      id: "work",
      type: "function",
      z: "tab",
      name: "ordinary work",
      func:
        "const items = [];\nfor (let i = 0; i < 200; i++) items.push({ sku: 'A' + ((i * 7919) % 1000), qty: i % 5, price: (i * 37) % 1000 });\n" +
        "const copy = JSON.parse(JSON.stringify(items));\ncopy.sort((a, b) => a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0);\n" +
        "msg.payload = copy.reduce((s, x) => s + x.qty * x.price, 0);\nreturn msg;",
      outputs: 1,
      x: 300,
      y: 300,
      wires: [["tag"]],
    },
    {
      id: "tag",
      type: "change",
      z: "tab",
      name: "",
      rules: [{ t: "set", p: "topic", pt: "msg", to: "total", tot: "str" }],
      x: 450,
      y: 300,
      wires: [["count"]],
    },
  ];
}

function payment() {
  return [
    ...paymentNodes({ url: cfg.url, eposId: cfg.eposId, to: "count" }),
    { id: "catch", type: "catch", z: "tab", name: "", scope: null, uncaught: false, x: 300, y: 200, wires: [["count"]] },
  ];
}

function makeUserDir() {
  if (cfg.userDir) userDir = cfg.userDir;
  else {
    userDir = scratchDir("pac-bench-pi-red-");
    ownUserDir = true;
  }
  if (cfg.withPackage) {
    const scope = path.join(userDir, "node_modules", "@shopflow");
    fs.mkdirSync(scope, { recursive: true });
    fs.symlinkSync(ROOT, path.join(scope, "node-red-dojo-pac"), "dir");
  }
  fs.writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "pac-bench-userdir", private: true }));
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows()));
  if (cfg.withPackage) fs.writeFileSync(path.join(userDir, "flows_cred.json"), JSON.stringify({ cfg: { accountName: cfg.accountName, apiKey: cfg.apiKey } }));
}

async function startRed() {
  red = await startEmbeddedRed({
    userDir,
    settings: cfg.heartbeatIntervalMs !== undefined ? { dojoPac: { heartbeatIntervalMs: cfg.heartbeatIntervalMs } } : {},
  });
  RED = red.RED;
  if (cfg.withPackage) await untilConnected(RED, 20_000);
}

async function stopRed() {
  if (red) await red.stop();
}

// ---- what is sampled --------------------------------------------------------------------------

function client() {
  const c = RED && RED.nodes.getNode("cfg");
  return c && c.pac && c.pac.client ? c.pac.client : null;
}

function listenerCount(emitter) {
  if (!emitter || typeof emitter.eventNames !== "function") return 0;
  return emitter.eventNames().reduce((n, e) => n + emitter.listenerCount(e), 0);
}

function sample(t0) {
  const m = process.memoryUsage();
  let fds = null;
  try {
    fds = fs.readdirSync("/proc/self/fd").length;
  } catch {
    /* not Linux */
  }
  const res = process.getActiveResourcesInfo();
  const c = client();
  return {
    t: (performance.now() - t0) / 1000,
    heapUsed: m.heapUsed,
    rss: m.rss,
    // what RSS is made of, to tell a heap that grows its pages from native memory that grows
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    fds,
    timers: res.filter((r) => r === "Timeout").length,
    handles: res.length,
    listeners: listenerCount(process) + listenerCount(c) + listenerCount(c && c.outbox),
    // the journal's bounded memory (open, finished window, recorded ids): flat once its window is full
    journal: c && c.journal ? c.journal.memorySize : null,
  };
}

const ELD_RESOLUTION_MS = 10;

/** The histogram holds the whole interval between samples: the delay is what exceeds the resolution. */
function eld(h) {
  const d = (ns) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
  return {
    p50Ms: d(h.percentile(50)),
    p99Ms: d(h.percentile(99)),
    maxMs: d(h.max),
    meanMs: d(h.mean),
    samples: h.count,
  };
}

/**
 * Where the long delays come from: the 5 longest stalls (a 10 ms timer's lateness beyond 25 ms, with
 * when they happened) and the GC pauses meanwhile (count, total, longest; the forced ones excluded).
 */
function stallWatch(t0) {
  const stalls = [];
  const gc = { count: 0, totalMs: 0, maxMs: 0, over10Ms: 0 };
  let forced = false;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - 10;
    last = now;
    if (late > 25) {
      stalls.push({ t: (now - t0) / 1000, ms: late });
      stalls.sort((a, b) => b.ms - a.ms);
      stalls.length = Math.min(stalls.length, 5);
    }
  }, 10);
  const obs = new PerformanceObserver((list) => {
    if (forced) return;
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
      if (e.duration > 10) gc.over10Ms++;
    }
  });
  obs.observe({ entryTypes: ["gc"] });
  return {
    forcing(on) {
      forced = on;
      last = performance.now();
    },
    stop() {
      clearInterval(timer);
      obs.disconnect();
      return { stalls, gc };
    },
  };
}

// ---- load --------------------------------------------------------------------------------------

/** Steady offered load (ratePerSec, round-robin over idle terminals), or closed loop when burst. */
function salesDriver() {
  const ids = terminalIds(cfg.terminals);
  const busy = new Set();
  // Allocated before the window: the bench's own bookkeeping must not grow the heap it measures.
  const lat = new Float64Buffer(Math.ceil((cfg.ratePerSec * cfg.durationMs) / 1000) + 1024);
  const st = { offered: 0, ended: 0, approved: 0, errors: 0, missed: 0, errorSamples: [], closedLoop: false, counting: false };
  let warmed = null;
  const pay = RED.nodes.getNode("pay");
  let rr = 0;
  const start = (terminalId) => {
    busy.add(terminalId);
    st.offered++;
    pay.receive({ payload: { amount: 1000, terminalId }, benchT0: performance.now(), benchTerminal: terminalId });
  };
  global.__pacBenchHook = (msg) => {
    const t0 = msg.benchT0;
    if (typeof t0 !== "number") return;
    msg.benchT0 = undefined;
    const terminalId = msg.benchTerminal;
    busy.delete(terminalId);
    st.ended++;
    if (warmed && st.ended >= warmed.until) {
      st.closedLoop = false;
      warmed.resolve();
      warmed = null;
    }
    const ok = !msg.error && msg.payload && msg.payload.status === "CAPTURED";
    if (ok) {
      if (st.counting) {
        st.approved++;
        lat.push(performance.now() - t0);
      }
    } else {
      st.errors++;
      if (st.errorSamples.length < 5) st.errorSamples.push(msg.error ? msg.error.message : `status ${msg.payload && msg.payload.status}`);
    }
    if (st.closedLoop) start(terminalId);
  };
  let due = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    due += ((now - last) / 1000) * cfg.ratePerSec;
    last = now;
    while (due >= 1) {
      due--;
      let picked = null;
      for (let k = 0; k < ids.length; k++) {
        const id = ids[(rr + k) % ids.length];
        if (!busy.has(id)) {
          picked = id;
          rr = (rr + k + 1) % ids.length;
          break;
        }
      }
      if (picked === null) {
        if (st.counting) st.missed++;
      } else start(picked);
    }
  }, 20);
  return {
    st,
    lat,
    count(on) {
      st.counting = on;
    },
    /** Every terminal busy (closed loop) until n more sales have ended; then the steady rate again. */
    warm(n) {
      return new Promise((resolve) => {
        warmed = { until: st.ended + n, resolve };
        st.closedLoop = true;
        for (const id of ids) if (!busy.has(id)) start(id);
      });
    },
    burst() {
      clearInterval(tick);
      st.closedLoop = true;
      for (const id of ids) if (!busy.has(id)) start(id);
    },
    async stop() {
      clearInterval(tick);
      st.closedLoop = false;
      await until(() => busy.size === 0, "sales in flight to finish", 15_000).catch(() => undefined);
    },
  };
}

/** A growable Float64Array: no allocation while within its first capacity. */
class Float64Buffer {
  constructor(capacity) {
    this.a = new Float64Array(capacity);
    this.length = 0;
  }
  push(v) {
    if (this.length === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
  values() {
    return this.a.subarray(0, this.length);
  }
}

/**
 * The samples of the window, one column each, allocated before it starts (600 sample objects
 * kept for 10 minutes would be growth of the bench's own, about 100 KB).
 */
const SAMPLE_COLUMNS = [
  "t",
  "heapUsed",
  "rss",
  "heapTotal",
  "external",
  "arrayBuffers",
  "fds",
  "timers",
  "handles",
  "listeners",
  "journalOpen",
  "journalFinished",
  "journalSeen",
  "afterGc",
];
class SampleTable {
  constructor(capacity) {
    this.cols = Object.fromEntries(SAMPLE_COLUMNS.map((c) => [c, new Float64Buffer(capacity)]));
  }
  push(x) {
    const j = x.journal;
    const row = { ...x, journalOpen: j ? j.open : NaN, journalFinished: j ? j.finished : NaN, journalSeen: j ? j.seen : NaN, afterGc: x.afterGc ? 1 : 0 };
    for (const c of SAMPLE_COLUMNS) this.cols[c].push(row[c] === null || row[c] === undefined ? NaN : row[c]);
  }
  toObjects() {
    const n = this.cols.t.length;
    const v = (c, i) => {
      const x = this.cols[c].a[i];
      return Number.isNaN(x) ? null : x;
    };
    const out = [];
    for (let i = 0; i < n; i++) {
      const o = {
        t: v("t", i),
        heapUsed: v("heapUsed", i),
        rss: v("rss", i),
        heapTotal: v("heapTotal", i),
        external: v("external", i),
        arrayBuffers: v("arrayBuffers", i),
        fds: v("fds", i),
        timers: v("timers", i),
        handles: v("handles", i),
        listeners: v("listeners", i),
      };
      if (v("journalOpen", i) !== null) o.journal = { open: v("journalOpen", i), finished: v("journalFinished", i), seen: v("journalSeen", i) };
      if (v("afterGc", i) === 1) o.afterGc = true;
      out.push(o);
    }
    return out;
  }
}

function latencies(buf) {
  const lat = buf.values();
  const s = Float64Array.from(lat).sort();
  return { p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: s.length ? s[s.length - 1] : null };
}

// ---- modes ---------------------------------------------------------------------------------------

async function soak() {
  const driver = cfg.withPackage ? salesDriver() : null;
  // Bounded structures (the journal's deduplication window and its hash tables) reach their steady
  // size only after one turnover of the window: without this, the window would measure that once.
  if (driver && cfg.warmupSales) await driver.warm(cfg.warmupSales);
  await delay(cfg.warmupMs);
  // The warm-up ends with one full collection, so the slopes start from live data, not from what
  // starting up (and opening a 16 MiB journal) left for a later major GC.
  if (typeof global.gc === "function") global.gc();
  const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const probe0 = probe ? probe.snapshot() : null;
  if (driver) driver.count(true);
  h.enable();
  const watch = stallWatch(t0);
  const samples = new SampleTable(Math.ceil(cfg.durationMs / cfg.sampleMs) + Math.ceil(cfg.durationMs / 10_000) + 16);
  samples.push({ ...sample(t0), afterGc: typeof global.gc === "function" });
  const sampler = setInterval(() => samples.push(sample(t0)), cfg.sampleMs);
  // Every 10 s a full collection, then a sample: the live heap. The event-loop histogram is paused
  // around it, so the forced collection (which a shop's Node-RED never does) is not counted.
  const collector =
    typeof global.gc === "function"
      ? setInterval(() => {
          h.disable();
          watch.forcing(true);
          global.gc();
          samples.push({ ...sample(t0), afterGc: true });
          // the GC entry is delivered later; the next timer tick clears the flag
          setImmediate(() => watch.forcing(false));
          h.enable();
        }, 10_000)
      : null;
  const snapshots = heapSnapshots(t0);
  await delay(cfg.durationMs);
  clearInterval(sampler);
  clearInterval(collector);
  snapshots.stop();
  const stallInfo = watch.stop();
  h.disable();
  const windowS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const result = {
    windowS,
    eventLoop: { ...eld(h), ...stallInfo },
    cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / (windowS * 1000),
    samples: samples.toObjects(),
  };
  if (probe) result.sync = diff(probe.snapshot(), probe0);
  if (driver) {
    driver.count(false);
    result.sales = { ...driver.st, perSec: driver.st.approved / windowS, ...latencies(driver.lat) };
    if (cfg.burstMs) {
      // closed loop: how fast the 10 terminals can go (group commit shows here on a slow disk)
      const b0 = probe ? probe.snapshot() : null;
      driver.lat.length = 0; // reused: the burst is after the window
      driver.st.approved = 0;
      const hb = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
      driver.count(true);
      hb.enable();
      const tb = performance.now();
      driver.burst();
      await delay(cfg.burstMs);
      driver.count(false);
      hb.disable();
      const bs = (performance.now() - tb) / 1000;
      result.burst = { windowS: bs, approved: driver.st.approved, perSec: driver.st.approved / bs, ...latencies(driver.lat), eventLoop: eld(hb) };
      if (probe) result.burst.sync = diff(probe.snapshot(), b0);
    }
    await driver.stop();
  }
  return result;
}

/**
 * For finding what grows (not part of a normal run): with cfg.heapSnapshotDir, a heap snapshot
 * after a full collection at each of cfg.heapSnapshotAtS (seconds into the window). Each one stalls
 * the loop for a second or two, so the run's timing figures are void.
 */
function heapSnapshots(t0) {
  const timers = [];
  if (cfg.heapSnapshotDir) {
    const v8 = require("v8");
    for (const at of cfg.heapSnapshotAtS || []) {
      const wait = Math.max(0, t0 + at * 1000 - performance.now());
      timers.push(
        setTimeout(() => {
          if (typeof global.gc === "function") global.gc();
          v8.writeHeapSnapshot(path.join(cfg.heapSnapshotDir, `soak-${at}s.heapsnapshot`));
        }, wait),
      );
    }
  }
  return { stop: () => timers.forEach(clearTimeout) };
}

function diff(a, b) {
  const out = {};
  for (const k of Object.keys(a)) if (typeof a[k] === "number") out[k] = a[k] - (b ? b[k] : 0);
  out.aheadSamples = a.aheadSamples;
  return out;
}

async function idle() {
  await delay(cfg.warmupMs);
  if (typeof global.gc !== "function") throw new Error("run with --expose-gc");
  const settled = async () => {
    const xs = [];
    for (let i = 0; i < 3; i++) {
      global.gc();
      await delay(100);
      xs.push(process.memoryUsage().heapUsed);
    }
    return Math.min(...xs);
  };
  const heap0 = await settled();
  const probe0 = probe ? probe.snapshot() : null;
  const res0 = sample(performance.now());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await delay(cfg.durationMs); // nothing of ours runs meanwhile: the CPU is Node-RED's and the package's
  const cpu = process.cpuUsage(cpu0);
  const windowS = (performance.now() - t0) / 1000;
  const res1 = sample(performance.now());
  const heap1 = await settled();
  const c = client();
  return {
    windowS,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / (windowS * 1000),
    heapStart: heap0,
    heapEnd: heap1,
    heapGrowth: heap1 - heap0,
    rssStart: res0.rss,
    rssEnd: res1.rss,
    start: res0,
    end: res1,
    sync: probe ? diff(probe.snapshot(), probe0) : null,
    state: c ? c.state : null,
  };
}

function journalFiles() {
  const dir = path.join(userDir, "dojo-pac-journal");
  let names = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  const now = Date.now();
  return names
    .filter((n) => n.endsWith(".jsonl"))
    .map((n) => {
      const st = fs.statSync(path.join(dir, n));
      const seg = /\.(\d+)\.jsonl$/.exec(n);
      return { name: n, segment: seg ? Number(seg[1]) : null, bytes: st.size, ageDays: (now - st.mtimeMs) / 86_400_000 };
    });
}

/** Every state change of the connection after start: a soak must not see one. */
const stateLog = [];
const START = performance.now();
function watchConnection() {
  const c = client();
  if (!c) return;
  c.on("state", (state, info) => {
    if (stateLog.length < 50) stateLog.push({ t: (performance.now() - START) / 1000, state, reason: info && info.reason });
  });
}

async function main() {
  let result;
  makeUserDir();
  try {
    await startRed();
    watchConnection();
    if (cfg.mode === "soak") result = await soak();
    else if (cfg.mode === "idle") result = await idle();
    else throw new Error(`unknown mode ${cfg.mode}`);
  } finally {
    await stopRed();
  }
  result.journalFiles = journalFiles();
  result.connection = stateLog;
  if (ownUserDir) fs.rmSync(userDir, { recursive: true, force: true });
  send({ type: "result", result });
  setTimeout(() => process.exit(0), 50);
}

main().catch((e) => {
  send({ type: "error", message: e && e.stack ? e.stack : String(e) });
  try {
    if (ownUserDir && userDir) fs.rmSync(userDir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
  setTimeout(() => process.exit(1), 50);
});
