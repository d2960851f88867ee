#!/usr/bin/env node
// npm run bench: throughput, latency, CPU and memory of three clients doing the same AUTO sales
// against the PAC simulator (zero delays, in its own child process), plus idle memory, heap growth,
// package load time, journal reopen time and connection-loss detection. Not part of npm test.
//
//   floor  : a minimal JSON-RPC client over ws written here (no journal, no checks)
//   engine : PacClient with its durable journal (fsync'd group commits)
//   nodes  : a real Node-RED runtime with this package: pac-config -> pac-payment -> counter
//
// Every client runs in its own child process (its CPU time and peak RSS are its own); a fresh
// simulator process serves each row. Loopback only. Every wait is bounded, every child is killed
// at the end (also on error), and a watchdog ends the run if it overruns.
//
// Options: --no-build (use the repo's dist/ and nodes/ as they are), --quick (short windows, one run
// per row, for trying it out), --no-nodes (skip everything Node-RED: those rows print n/a).
// The Raspberry Pi sections (bench/pi/: soak, event loop, slow storage, one core, idle, cold start)
// run after the rows: --soak-minutes N (default 1, the issue's soak is 10), --idle-minutes N
// (default 1, the issue's is 5), --pi-only (only those sections), --no-pi (skip them),
// --pi-sections a,b (only those of soak, slowStorage, oneCore, idle, coldStart).
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const readline = require("readline");
const { spawn, fork, execFileSync } = require("child_process");
const { performance } = require("perf_hooks");
// Helpers only: common.js's ROOT is the workers' (the package copy prepared below).
const { delay, median, cpuMs } = require("./common");
const { writeSales } = require("./pi/journal-fill");

const REPO = path.resolve(__dirname, "..");
const OUT_DIR = path.join(REPO, "bench-results");
let ROOT = REPO; // the package under test: a private build (see prepare())
const argv = process.argv.slice(2);
const args = new Set(argv);
const QUICK = args.has("--quick");
const NO_NODES = args.has("--no-nodes");
const PI_ONLY = args.has("--pi-only");
const NO_PI = args.has("--no-pi");
/** The number after a flag (--soak-minutes 10), or the default. */
function numberArg(name, dflt) {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!(v > 0) || !Number.isFinite(v)) {
    process.stderr.write(`${name} needs a positive number of minutes\n`);
    process.exit(2);
  }
  return v;
}
const SOAK_MINUTES = numberArg("--soak-minutes", 1);
const IDLE_MINUTES = numberArg("--idle-minutes", 1);
if (PI_ONLY && NO_PI) {
  process.stderr.write("--pi-only and --no-pi together leave nothing to run\n");
  process.exit(2);
}
let naText = "n/a (nodes not built)";

const TERMINAL_COUNTS = [1, 10, 100];
const WARMUP_MS = QUICK ? 500 : 1000;
const WINDOW_MS = QUICK ? 1500 : 3000;
const REPS = QUICK ? 1 : 2; // each row runs REPS times (interleaved); the table shows the best run
const { runPi, plannedMs, SECTIONS } = require("./pi");
const PI_SECTIONS = (() => {
  const i = argv.indexOf("--pi-sections");
  if (i < 0) return null;
  const list = String(argv[i + 1] || "")
    .split(",")
    .filter(Boolean);
  const bad = list.filter((x) => !SECTIONS.includes(x));
  if (!list.length || bad.length) {
    process.stderr.write(`--pi-sections takes a comma-separated list of ${SECTIONS.join(", ")}\n`);
    process.exit(2);
  }
  return list;
})();
const PI_MS = NO_PI ? 0 : plannedMs({ soakMinutes: SOAK_MINUTES, idleMinutes: IDLE_MINUTES, quick: QUICK });
const WATCHDOG_MS = (PI_ONLY ? 60_000 : 330_000) + PI_MS;
const CLIENT_FLAGS = ["--max-old-space-size=256"]; // the same heap cap for all three clients
const HEAP_BUDGET_MS = QUICK ? 10_000 : 30_000; // the 50k-payment heap run must fit in this
const HEAP_TARGET = 50_000;
const HEAP_BASE = 1_000;

// ---- child process bookkeeping ---------------------------------------------------------------

const children = new Set();
const tempDirs = new Set();

function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function killAll() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill("SIGKILL"); // by pid: only processes this script started
      } catch {
        /* already gone */
      }
    }
  }
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
}

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping the benchmark\n`);
    killAll();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  process.stderr.write(`\nwatchdog: the benchmark ran over ${WATCHDOG_MS / 1000} s; stopping\n`);
  killAll();
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** Machine-wide busy CPU time in ms (Linux /proc/stat; USER_HZ 100), or null. */
function machineBusyMs() {
  try {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal || 0)) * 10;
  } catch {
    return null;
  }
}

/** Busy % of the whole machine (100% = one core) over ms, before anything of ours runs. */
async function backgroundLoad(ms) {
  const b0 = machineBusyMs();
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  await delay(ms);
  const b1 = machineBusyMs();
  const own = cpuMs(process.cpuUsage(c0));
  return b0 === null || b1 === null ? null : (100 * Math.max(0, b1 - b0 - own)) / (Date.now() - t0);
}

// ---- the simulator process -------------------------------------------------------------------

async function startSim() {
  const child = track(
    spawn(process.execPath, [path.join(__dirname, "sim-process.js")], {
      stdio: ["pipe", "pipe", "pipe"],
      // Its lifetime cap (a guard against an orphaned simulator) outlasts the whole run: a 10-minute
      // soak once outlived the default cap, and its last 20 s of sales failed with "not connected".
      env: { ...process.env, BENCH_SIM_TERMINALS: "100", BENCH_SIM_LIFETIME_MS: String(WATCHDOG_MS + 60_000) },
    }),
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const lines = readline.createInterface({ input: child.stdout });
  const waiters = [];
  lines.on("line", (line) => {
    const w = waiters.shift();
    if (w) w(line);
  });
  const next = () => new Promise((resolve) => waiters.push(resolve));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const first = await withTimeout(
    Promise.race([next(), exited.then((code) => Promise.reject(new Error(`simulator exited (${code}): ${stderr}`)))]),
    10_000,
    "simulator start",
  );
  const info = JSON.parse(first);
  return {
    ...info,
    child,
    async cpu() {
      child.stdin.write("cpu\n");
      const r = JSON.parse(await withTimeout(next(), 5000, "simulator cpu"));
      return { ms: (r.cpu.user + r.cpu.system) / 1000, at: r.at };
    },
    async stop() {
      if (child.exitCode !== null) return;
      try {
        child.stdin.write("stop\n");
        child.stdin.end();
      } catch {
        /* gone */
      }
      await Promise.race([exited, delay(3000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

// ---- workers ---------------------------------------------------------------------------------

/** Fork a worker; resolves with its result. onWindow(edge) is awaited-free (fire and forget). */
function runWorker(script, cfg, { flags = [], timeoutMs = 60_000, onWindow, env, pin } = {}) {
  return new Promise((resolve, reject) => {
    // pin: a CPU list for taskset (the worker is node started by taskset; IPC passes through exec)
    const pinned = pin ? { execPath: "taskset", execArgv: ["-c", pin, process.execPath, ...flags] } : { execArgv: flags };
    const child = track(
      fork(path.join(__dirname, script), [JSON.stringify(cfg)], {
        ...pinned,
        ...(env ? { env: { ...process.env, ...env } } : {}),
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      }),
    );
    let output = "";
    const keep = (d) => (output = (output + d).slice(-6000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 2000).unref();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(new Error(`${script} ${cfg.mode}: timed out after ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on("message", (m) => {
      if (m.type === "window" && onWindow) onWindow(m.edge);
      else if (m.type === "result") finish(null, m.result);
      else if (m.type === "error") finish(new Error(`${script} ${cfg.mode}: ${m.message}\n${output}`));
    });
    child.once("exit", (code, signal) => {
      setTimeout(() => finish(new Error(`${script} ${cfg.mode}: exited (${code ?? signal}) without a result\n${output}`)), 100);
    });
  });
}

// ---- the package under test --------------------------------------------------------------------

/**
 * A private copy of the package: src/ is built with scripts/build.js inside a temporary directory
 * (so the shared dist/ and nodes/ are never rebuilt or deleted under someone else's tests, and a
 * rebuild of them mid-run cannot change the code being measured). With --no-build, or when that
 * build fails, the repo's existing dist/ and nodes/ are copied instead (noted in the output).
 */
async function prepare() {
  const notes = [];
  const snap = fs.mkdtempSync(path.join(os.tmpdir(), "pac-bench-pkg-"));
  tempDirs.add(snap);
  // The workers' journals and Node-RED user dirs: removed with it even when a worker is killed.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pac-bench-tmp-"));
  tempDirs.add(scratch);
  process.env.BENCH_TMP = scratch;
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(snap, "node_modules"), "dir");
  fs.copyFileSync(path.join(REPO, "package.json"), path.join(snap, "package.json"));
  const copy = (rel, filter) => {
    const from = path.join(REPO, rel);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(snap, rel), { recursive: true, filter });
  };
  let built = false;
  if (!args.has("--no-build")) {
    try {
      for (const rel of ["src", "scripts", "tsconfig.json", "icons"]) copy(rel);
      copy("nodes"); // the .html, locales and the pac-*.js shims (which require ../dist/nodes/); icons are built
      execFileSync(process.execPath, [path.join(snap, "scripts", "build.js")], { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
      built = true;
      notes.push("built from the current src/ into a private copy (the shared dist/ and nodes/ are not touched)");
    } catch (e) {
      const out = `${e.stdout || ""}${e.stderr || ""}${e.message ? "\n" + e.message : ""}`.trim().split("\n").slice(0, 8).join("\n");
      notes.push(`building src/ failed; using the repo's dist/ and nodes/ as they are (may be stale):\n${out}`);
    }
  } else {
    notes.push("--no-build: using the repo's dist/ and nodes/ as they are");
  }
  if (!built) {
    // copy the repo's build; someone may be rebuilding it right now, so retry a few times
    for (let i = 0; ; i++) {
      try {
        for (const rel of ["dist", "nodes"]) {
          fs.rmSync(path.join(snap, rel), { recursive: true, force: true });
          copy(rel);
        }
        if (!fs.existsSync(path.join(snap, "dist", "engine", "pac-client.js"))) throw new Error("dist/ is incomplete");
        break;
      } catch (e) {
        if (i >= 4) throw new Error(`no usable dist/ (run \`node scripts/build.js\`): ${e.message}`);
        await delay(2000);
      }
    }
  }
  if (!fs.existsSync(path.join(snap, "dist", "engine", "pac-client.js")) || !fs.existsSync(path.join(snap, "dist", "simulator", "index.js"))) {
    throw new Error("dist/ is missing: run `node scripts/build.js` first");
  }
  const nodesReady = ["pac-config.js", "pac-payment.js"].every(
    (f) => fs.existsSync(path.join(snap, "nodes", f)) && fs.existsSync(path.join(snap, "dist", "nodes", f)),
  );
  ROOT = snap;
  process.env.BENCH_PKG_ROOT = snap; // inherited by every child
  return { notes, nodesReady };
}

// ---- the rows ----------------------------------------------------------------------------------

async function runRow(kind, terminals, runId, { pin } = {}) {
  const sim = await startSim();
  try {
    const cfg = {
      mode: kind === "nodes" ? "row" : kind,
      withPackage: true,
      url: sim.url,
      accountName: sim.accountName,
      apiKey: sim.apiKey,
      eposId: `bench-${kind}-${terminals}-${runId}`,
      terminals,
      warmupMs: WARMUP_MS,
      windowMs: WINDOW_MS,
      drainMs: 5000,
      stallMs: 10_000,
    };
    const simCpu = {};
    const machine = {};
    const pending = [];
    const onWindow = (edge) => {
      machine[edge] = { busy: machineBusyMs(), at: Date.now(), own: process.cpuUsage() };
      pending.push(
        sim
          .cpu()
          .then((c) => (simCpu[edge] = c))
          .catch(() => undefined),
      );
    };
    const script = kind === "nodes" ? "nodes-worker.js" : "client-worker.js";
    const result = await runWorker(script, cfg, { flags: CLIENT_FLAGS, timeoutMs: 60_000, onWindow, pin });
    await Promise.all(pending);
    if (simCpu.start && simCpu.end) {
      const simMs = simCpu.end.ms - simCpu.start.ms;
      result.simCpuPct = (100 * simMs) / Math.max(1, simCpu.end.at - simCpu.start.at);
      const m0 = machine.start;
      const m1 = machine.end;
      if (m0 && m1 && m0.busy !== null && m1.busy !== null) {
        // what the rest of the machine used meanwhile (other sessions, the kernel): a noise indicator
        const ownMs = (m1.own.user + m1.own.system - m0.own.user - m0.own.system) / 1000;
        const other = m1.busy - m0.busy - result.cpuMsWindow - simMs - ownMs;
        result.otherCpuPct = (100 * Math.max(0, other)) / Math.max(1, m1.at - m0.at);
      }
    }
    return result;
  } finally {
    await sim.stop();
  }
}

// ---- heap after 1k vs 50k payments (engine) ----------------------------------------------------

async function heapGrowth(engineRate) {
  const rate = engineRate > 0 ? engineRate : 1000;
  const expectedMs = (HEAP_TARGET / rate) * 1000;
  let target = HEAP_TARGET;
  let note = `${HEAP_TARGET.toLocaleString("en-US")} payments`;
  if (expectedMs > HEAP_BUDGET_MS) {
    target = Math.max(HEAP_BASE * 5, Math.floor((rate * HEAP_BUDGET_MS) / 1000 / 1000) * 1000);
    note = `scaled down to ${target.toLocaleString("en-US")} payments: ${HEAP_TARGET.toLocaleString("en-US")} would take ~${Math.round(expectedMs / 1000)} s at the measured ${Math.round(rate)}/s (budget ${HEAP_BUDGET_MS / 1000} s)`;
  }
  const sim = await startSim();
  try {
    const r = await runWorker(
      "client-worker.js",
      {
        mode: "engine-heap",
        url: sim.url,
        accountName: sim.accountName,
        apiKey: sim.apiKey,
        eposId: "bench-heap",
        terminals: 100,
        checkpoints: [HEAP_BASE, Math.round(target / 2000) * 1000, target],
        maxRunMs: HEAP_BUDGET_MS + 20_000,
      },
      { flags: [...CLIENT_FLAGS, "--expose-gc"], timeoutMs: HEAP_BUDGET_MS + 60_000 },
    );
    const a = r.points[0];
    const last = r.points[r.points.length - 1];
    // Growth only from the full run: a run stopped short by the time bound is not that measurement.
    const b = r.points.length === 3 && last.payments >= last.target ? last : null;
    const mid = r.points[1] || null;
    if (last.payments < last.target) note += `; stopped at ${last.payments} of ${last.target} (time bound)`;
    if (r.errors) note += `; ${r.errors} sales failed`;
    return {
      target,
      reached: last.payments,
      note,
      at1k: a,
      mid,
      atN: b,
      growthBytes: b ? b.heapUsed - a.heapUsed : null,
      errors: r.errors,
      elapsedMs: r.elapsedMs,
    };
  } finally {
    await sim.stop();
  }
}

// ---- Node-RED idle RSS and package load time ---------------------------------------------------

async function idleAndLoad(nodesReady) {
  const out = { idle: { without: [], with: [] }, load: { without: [], with: [] }, requireMs: [] };
  const sim = await startSim();
  try {
    const flags = ["--max-old-space-size=256", "--expose-gc"];
    for (let i = 0; i < 3; i++) {
      out.idle.without.push(await runWorker("nodes-worker.js", { mode: "idle", withPackage: false, settleMs: 1500 }, { flags }));
      if (nodesReady) {
        out.idle.with.push(
          await runWorker(
            "nodes-worker.js",
            { mode: "idle", withPackage: true, url: sim.url, accountName: sim.accountName, apiKey: sim.apiKey, eposId: `bench-idle-${i}`, settleMs: 1500 },
            { flags },
          ),
        );
      }
    }
  } finally {
    await sim.stop();
  }
  out.requireInRedMs = [];
  for (let i = 0; i < 5; i++) {
    out.load.without.push((await runWorker("nodes-worker.js", { mode: "load", withPackage: false }, { flags: CLIENT_FLAGS })).startMs);
    if (nodesReady) {
      const r = await runWorker("nodes-worker.js", { mode: "load", withPackage: true }, { flags: CLIENT_FLAGS });
      out.load.with.push(r.startMs);
      out.requireInRedMs.push(r.requireInRedMs);
      if (i < 3) out.requireMs.push((await runWorker("nodes-worker.js", { mode: "require" }, { flags: CLIENT_FLAGS })).requireMs);
    }
  }
  return out;
}

// ---- journal reopen -----------------------------------------------------------------------------

async function journalReopen() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-bench-reopen-"));
  tempDirs.add(dir);
  const segmentBytes = 1024 * 1024 * 1024; // keep all 100,000 entries in the active segment (worst case)
  const identity = { eposId: "bench-reopen" };
  const t0 = performance.now();
  // 12,500 sales of 8 entries each = 100,000 entries
  const { entries, file } = await writeSales(ROOT, dir, identity, 12_500, { segmentBytes, idOf: (k) => `reopen-${k}`, terminals: 100 });
  const writeMs = performance.now() - t0;
  const size = fs.statSync(file).size;
  // The entries written, not the file's own ident line (which epos-id the file belongs to).
  const lines = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith('{"t":"ident"')).length;
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(await runWorker("client-worker.js", { mode: "journal-reopen", dir, eposId: identity.eposId, segmentBytes }, { timeoutMs: 30_000 }));
  }
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
  const sorted = runs.map((r) => r.reopenMs).sort((a, b) => a - b);
  return { entries, lines, fileBytes: size, writeMs, reopenMs: sorted, medianMs: median(sorted), memory: runs[0].memory, skippedLines: runs[0].skippedLines };
}

// ---- dead connection and restarted server (in-process simulator for the faults) ----------------

async function connectionLoss() {
  const { PacSimulator } = require(path.join(ROOT, "dist", "simulator"));
  const { PacClient } = require(path.join(ROOT, "dist", "engine", "pac-client"));
  const sim = await PacSimulator.start({ host: "127.0.0.1", port: 0, terminals: 2, delays: "zero", pingIntervalMs: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-bench-hb-"));
  tempDirs.add(dir);
  let client = null;
  const waitState = (want, ms) =>
    new Promise((resolve, reject) => {
      if (client.state === want) return resolve(performance.now());
      const t = setTimeout(() => {
        client.removeListener("state", on);
        reject(new Error(`no "${want}" within ${ms} ms (state ${client.state})`));
      }, ms);
      const on = (s) => {
        if (s !== want) return;
        clearTimeout(t);
        client.removeListener("state", on);
        resolve(performance.now());
      };
      client.on("state", on);
    });
  try {
    client = await PacClient.open({
      url: sim.url,
      accountName: sim.credentials.accountName,
      apiKey: sim.credentials.apiKey,
      eposId: "bench-heartbeat",
      softwareHouseId: "bench",
      journalDir: dir,
      heartbeatIntervalMs: 1000,
    });
    client.on("warning", () => undefined);
    client.start();
    await waitState("open", 5000);
    const dead = [];
    for (const offset of [0, 333, 666]) {
      await delay(offset);
      const t0 = performance.now();
      sim.faults.set({ noPong: true });
      const t1 = await waitState("reconnecting", 10_000);
      dead.push(t1 - t0);
      sim.faults.clear();
      await waitState("open", 10_000);
    }
    const restart = [];
    for (const downMs of [1000, 3000]) {
      await delay(200);
      const t0 = performance.now();
      await sim.suspend();
      await delay(downMs);
      const tResume = performance.now();
      await sim.resume();
      const t1 = await waitState("open", 40_000);
      restart.push({ downMs, fromResumeMs: t1 - tResume, outageMs: t1 - t0 });
    }
    return { heartbeatIntervalMs: 1000, deadDetectMs: dead, restart };
  } finally {
    if (client) await Promise.race([client.close(), delay(3000)]);
    await Promise.race([sim.stop(), delay(3000)]);
    fs.rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

// ---- formatting ---------------------------------------------------------------------------------

const MB = 1024 * 1024;
const fmt = (v, d = 0) =>
  v === null || v === undefined || Number.isNaN(v) ? "-" : v.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);

function cell(v, r, d) {
  if (v === null || v === undefined) return "-";
  return `${fmt(v, d)} (${r === null ? "-" : r.toFixed(2)}x)`;
}

function table(rows) {
  const header = [
    "client",
    "terms",
    "payments/s (xfloor)",
    "p50 ms (xfloor)",
    "p99 ms (xfloor)",
    "CPU ms/pay (xfloor)",
    "peak RSS MB (xfloor)",
    "sim CPU",
    "other CPU",
    "all runs/s",
  ];
  const lines = [header];
  for (const r of rows) {
    if (r.na) {
      lines.push([r.kind, String(r.terminals), r.na, "", "", "", "", ""]);
      continue;
    }
    if (r.error) {
      lines.push([r.kind, String(r.terminals), `error: ${r.error.split("\n")[0].slice(0, 70)}`, "", "", "", "", ""]);
      continue;
    }
    const f = r.floor;
    lines.push([
      r.kind,
      String(r.terminals),
      cell(r.perSec, ratio(r.perSec, f && f.perSec), 0),
      cell(r.p50Ms, ratio(r.p50Ms, f && f.p50Ms), 2),
      cell(r.p99Ms, ratio(r.p99Ms, f && f.p99Ms), 2),
      cell(r.cpuMsPerPayment, ratio(r.cpuMsPerPayment, f && f.cpuMsPerPayment), 3),
      cell(r.peakRss / MB, ratio(r.peakRss, f && f.peakRss), 1),
      r.simCpuPct === undefined ? "-" : `${fmt(r.simCpuPct)}%`,
      r.otherCpuPct === undefined ? "-" : `${fmt(r.otherCpuPct)}%`,
      (r.runs || []).map((x) => (x === null ? "err" : fmt(x))).join("/"),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] || "").length)));
  return lines
    .map((l, li) => {
      if (l[3] === "" && li > 0) return [l[0].padEnd(widths[0]), l[1].padStart(widths[1]), l[2]].join("  ");
      return l.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    })
    .join("\n");
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  const began = Date.now();
  const log = (s) => process.stderr.write(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(3)} s] ${s}\n`);
  log("building a private copy of the package");
  const prepared = await prepare();
  const notes = prepared.notes;
  const nodesReady = prepared.nodesReady && !NO_NODES;
  if (!prepared.nodesReady)
    log("nodes/pac-config.js or nodes/pac-payment.js (or their dist/nodes/ modules) is missing after the build: the nodes rows are n/a");
  else if (NO_NODES) naText = "n/a (skipped: --no-nodes)";
  for (const n of notes) log(n);
  const runId = Date.now().toString(36);

  const bgBefore = await backgroundLoad(1000);
  if (bgBefore !== null) log(`other CPU load before the run: ${bgBefore.toFixed(0)}% of one core`);

  const out = [];
  const targets = [];
  let classic = { runs: [], rows: [], extra: {} };
  if (!PI_ONLY) classic = await classicSections({ log, nodesReady, notes, bgBefore, runId, out, targets });
  else
    out.push(
      `PAC benchmark (--pi-only): ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} CPUs  ${os.platform()}; other CPU before the run: ${bgBefore === null ? "-" : bgBefore.toFixed(0) + "%"}`,
      "",
    );
  let pi = null;
  if (!NO_PI) {
    const bgPi = PI_ONLY ? bgBefore : await backgroundLoad(1000);
    pi = await runPi({
      ROOT,
      REPO,
      scratch: process.env.BENCH_TMP,
      runId,
      quick: QUICK,
      soakMinutes: SOAK_MINUTES,
      idleMinutes: IDLE_MINUTES,
      nodesReady,
      log,
      startSim,
      runWorker,
      runRow,
      track,
      only: PI_SECTIONS,
    });
    pi.otherCpuBeforePct = bgPi;
    const bgAfter = await backgroundLoad(1000);
    pi.otherCpuAfterPct = bgAfter;
    out.push(...pi.lines);
    out.push(
      `NOTE: other CPU load on the machine (100% = one core of ${os.cpus().length}): ${bgPi === null ? "-" : bgPi.toFixed(0) + "%"} before these sections, ${bgAfter === null ? "-" : bgAfter.toFixed(0) + "%"} after; the event-loop and timing figures are only conclusive on a quiet machine.`,
    );
    out.push("");
    targets.push(...pi.targets);
  }
  out.push(`total time ${((Date.now() - began) / 1000).toFixed(0)} s; results in bench-results/bench.json`);

  process.stdout.write(out.join("\n") + "\n");
  const { runs, rows, extra } = classic;

  fs.mkdirSync(OUT_DIR, { recursive: true });
  const json = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0] && os.cpus()[0].model,
    config: {
      terminalCounts: TERMINAL_COUNTS,
      warmupMs: WARMUP_MS,
      windowMs: WINDOW_MS,
      reps: REPS,
      clientFlags: CLIENT_FLAGS,
      quick: QUICK,
      piOnly: PI_ONLY,
      noPi: NO_PI,
      soakMinutes: NO_PI ? null : SOAK_MINUTES,
      idleMinutes: NO_PI ? null : IDLE_MINUTES,
    },
    otherCpuBeforePct: bgBefore,
    runs,
    notes,
    nodesReady,
    rows: rows.map((r) => {
      const f = r.floor;
      return {
        ...r,
        ratioToFloor:
          f && !r.error && !r.na
            ? {
                perSec: ratio(r.perSec, f.perSec),
                p50Ms: ratio(r.p50Ms, f.p50Ms),
                p99Ms: ratio(r.p99Ms, f.p99Ms),
                cpuMsPerPayment: ratio(r.cpuMsPerPayment, f.cpuMsPerPayment),
                peakRss: ratio(r.peakRss, f.peakRss),
              }
            : null,
      };
    }),
    extra,
    pi: pi ? { sections: pi.sections, otherCpuBeforePct: pi.otherCpuBeforePct, otherCpuAfterPct: pi.otherCpuAfterPct } : null,
    targets,
    text: out.join("\n"),
  };
  fs.writeFileSync(path.join(OUT_DIR, "bench.json"), JSON.stringify(json, null, 2) + "\n");
}

/** The rows and the other measurements (everything before issue 18's sections); fills out and targets. */
async function classicSections({ log, nodesReady, notes, bgBefore, runId, out, targets }) {
  // 1. the rows, interleaved (rep by rep, terminal count by terminal count) so drift and other
  //    load on the machine hit every client alike; the best of REPS runs is shown
  const runs = [];
  for (let rep = 1; rep <= REPS; rep++) {
    for (const terminals of TERMINAL_COUNTS) {
      for (const kind of ["floor", "engine", "nodes"]) {
        if (kind === "nodes" && !nodesReady) continue;
        log(`run ${rep}/${REPS}: ${kind} on ${terminals} terminal(s)`);
        try {
          runs.push({ kind, terminals, rep, ...(await runRow(kind, terminals, `${runId}-${rep}`)) });
        } catch (e) {
          log(`${kind}/${terminals} failed: ${e.message}`);
          runs.push({ kind, terminals, rep, error: e.message });
        }
      }
    }
  }
  const rows = [];
  for (const terminals of TERMINAL_COUNTS) {
    for (const kind of ["floor", "engine", "nodes"]) {
      if (kind === "nodes" && !nodesReady) {
        rows.push({ kind, terminals, na: naText });
        continue;
      }
      const mine = runs.filter((r) => r.kind === kind && r.terminals === terminals);
      const ok = mine.filter((r) => !r.error).sort((a, b) => b.perSec - a.perSec);
      const all = mine.map((r) => (r.error ? null : r.perSec));
      if (ok.length) rows.push({ ...ok[0], runs: all });
      else rows.push({ kind, terminals, error: mine.length ? mine[0].error : "not run", runs: all });
    }
  }
  const get = (kind, n) => rows.find((r) => r.kind === kind && r.terminals === n && !r.error && !r.na) || null;
  for (const r of rows) {
    const f = get("floor", r.terminals);
    if (f) r.floor = { perSec: f.perSec, p50Ms: f.p50Ms, p99Ms: f.p99Ms, cpuMsPerPayment: f.cpuMsPerPayment, peakRss: f.peakRss };
  }

  // 2. the other measurements
  const extra = {};
  const attempt = async (name, fn) => {
    log(name);
    try {
      extra[name] = await fn();
    } catch (e) {
      log(`${name} failed: ${e.message}`);
      extra[name] = { error: e.message };
    }
  };
  const engine100 = get("engine", 100);
  await attempt("heap", () => heapGrowth(engine100 ? engine100.perSec : 0));
  await attempt("nodeRed", () => idleAndLoad(nodesReady));
  await attempt("journal", () => journalReopen());
  await attempt("connection", () => connectionLoss());

  // 3. report
  out.push(`PAC benchmark: ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} CPUs  ${os.platform()}`);
  out.push(
    `Same AUTO sale everywhere (amount 1000: ack, 4 notifications, RecordPayment, acknowledgement); each terminal starts its next sale when the last has its final result.`,
  );
  out.push(
    `Per run: a fresh simulator process (zero delays, 100 terminals), the client in its own process (--max-old-space-size=256), ${WARMUP_MS / 1000} s warm-up, ${WINDOW_MS / 1000} s measured; ${REPS === 1 ? "1 run per row" : `${REPS} interleaved runs per row, the table shows the best (all in the last column)`}.`,
  );
  out.push(
    `sim CPU / other CPU = the simulator's / the rest of the machine's CPU during the window (100% = one core of ${os.cpus().length}); other CPU before the run: ${bgBefore === null ? "-" : bgBefore.toFixed(0) + "%"}.`,
  );
  out.push(
    `Latency = start of the sale -> final result in the client. CPU = process.cpuUsage() of the client process (all its threads) in the window. Peak RSS = the client process's maxRSS.`,
  );
  for (const n of notes) out.push(`NOTE: ${n}`);
  out.push("");
  out.push(table(rows));
  const simBound = rows.filter((r) => r.kind === "floor" && !r.error && r.simCpuPct >= 85).map((r) => r.terminals);
  if (simBound.length) {
    out.push(
      `NOTE: floor at ${simBound.join(" and ")} terminal(s): the simulator used >= 85% of a core, so that floor is the simulator's limit on this machine, not the minimal client's.`,
    );
  }
  const noisy = rows.filter((r) => !r.error && !r.na && r.otherCpuPct >= 25).map((r) => `${r.kind}/${r.terminals}`);
  if (noisy.length) out.push(`NOTE: other processes used >= 25% of a core during ${noisy.join(", ")}: those numbers are disturbed.`);
  const failing = rows
    .filter((r) => !r.error && !r.na && r.errors > 0)
    .map((r) => `${r.kind}/${r.terminals} (${fmt(r.errors)}: ${(r.errorSamples || [])[0] || "?"})`);
  if (failing.length)
    out.push(`NOTE: sales failed during ${failing.join(", ")}: failed sales are not counted, and their terminals paused before the next one.`);
  out.push("");

  const h = extra.heap;
  if (h && !h.error) {
    out.push(
      `Engine heap (100 terminals, --expose-gc, heapUsed after gc): ${fmt(h.at1k.payments)} payments ${fmt(h.at1k.heapUsed / MB, 1)} MB; ` +
        (h.mid ? `${fmt(h.mid.payments)} payments ${fmt(h.mid.heapUsed / MB, 1)} MB; ` : "") +
        (h.atN
          ? `${fmt(h.atN.payments)} payments ${fmt(h.atN.heapUsed / MB, 1)} MB; growth first->last ${fmt(h.growthBytes / MB, 2)} MB`
          : "last checkpoint not reached") +
        ` (${h.note}; run took ${fmt(h.elapsedMs / 1000, 1)} s; journal in memory at the end: ${h.atN ? JSON.stringify(h.atN.journal) : "-"})`,
    );
  } else out.push(`Engine heap: error: ${h && h.error}`);

  const nr = extra.nodeRed;
  let idleAdded = null;
  let loadDelta = null;
  let loadInRed = null;
  if (nr && !nr.error) {
    const wo = median(nr.idle.without.map((x) => x.rss));
    const wi = nodesReady ? median(nr.idle.with.map((x) => x.rss)) : null;
    idleAdded = wi !== null ? wi - wo : null;
    const hwo = median(nr.idle.without.map((x) => x.heapUsed));
    const hwi = nodesReady ? median(nr.idle.with.map((x) => x.heapUsed)) : null;
    out.push(
      `Node-RED idle RSS (child processes, after gc, medians of ${nr.idle.without.length}): without the package ${fmt(wo / MB, 1)} MB; ` +
        (nodesReady
          ? `with it (pac-config connected + pac-payment, no payments) ${fmt(wi / MB, 1)} MB; added ${fmt(idleAdded / MB, 1)} MB RSS, ${fmt((hwi - hwo) / MB, 1)} MB heapUsed`
          : `with it: ${naText}`) +
        `  [RSS samples MB: without ${nr.idle.without.map((x) => fmt(x.rss / MB, 1)).join(", ")}; with ${nr.idle.with.map((x) => fmt(x.rss / MB, 1)).join(", ") || "-"}]`,
    );
    const lw = median(nr.load.without);
    const li = nodesReady ? median(nr.load.with) : null;
    loadDelta = li !== null ? li - lw : null;
    loadInRed = nodesReady ? median(nr.requireInRedMs) : null;
    out.push(
      `Package load: Node-RED's require() of nodes/pac-*.js during RED.start(): ${nodesReady ? fmt(loadInRed, 1) : "n/a"} ms (median of ${nr.requireInRedMs.length}); ` +
        `RED.start() with an empty flow ${nodesReady ? fmt(li, 0) : "n/a"} ms with the package vs ${fmt(lw, 0)} ms without: ${nodesReady ? (loadDelta >= 0 ? "+" : "") + fmt(loadDelta, 0) : "n/a"} ms (medians of ${nr.load.without.length}; ` +
        `samples with ${nr.load.with.map((x) => fmt(x)).join("/") || "-"}, without ${nr.load.without.map((x) => fmt(x)).join("/")}); ` +
        `require of nodes/pac-*.js in a bare fresh process (incl. ws): ${nodesReady ? fmt(median(nr.requireMs), 0) : "n/a"} ms`,
    );
  } else out.push(`Node-RED idle/load: error: ${nr && nr.error}`);

  const j = extra.journal;
  if (j && !j.error) {
    out.push(
      `Journal reopen: ${fmt(j.entries)} entries (${fmt(j.entries / 8)} sales x 8), one ${fmt(j.fileBytes / MB, 1)} MB segment, written in ${fmt(j.writeMs / 1000, 1)} s; ` +
        `Journal.open in a fresh process: ${j.reopenMs.map((x) => fmt(x)).join(" / ")} ms (median ${fmt(j.medianMs)} ms); in memory after: ${JSON.stringify(j.memory)}`,
    );
  } else out.push(`Journal reopen: error: ${j && j.error}`);

  const c = extra.connection;
  if (c && !c.error) {
    out.push(`Dead connection (heartbeatIntervalMs 1000, sim noPong): noticed after ${c.deadDetectMs.map((x) => fmt(x)).join(" / ")} ms (bound: 2 intervals)`);
    out.push(
      `Restarted server (sim.suspend(), down for N ms, resume()): ` +
        c.restart.map((r) => `down ${fmt(r.downMs)} ms -> reconnected ${fmt(r.fromResumeMs)} ms after resume (outage ${fmt(r.outageMs)} ms)`).join("; ") +
        ` (reconnect backoff 1 s doubling, jitter 30%)`,
    );
  } else out.push(`Connection loss: error: ${c && c.error}`);
  out.push("");

  // 4. targets
  // N/A only for what was deliberately not measured (the nodes, when nodes/ is not built); a
  // measurement that failed or produced nothing is a FAIL, never a silent N/A.
  const target = (name, ok, detail, notApplicable = false) => targets.push({ name, pass: notApplicable ? null : ok === null ? false : !!ok, detail });
  const rel = (kind, n) => {
    const r = get(kind, n);
    const f = get("floor", n);
    return r && f ? r.perSec / f.perSec : null;
  };
  for (const n of [10, 100]) {
    const x = rel("engine", n);
    target(`engine >= 0.5x floor payments/s at ${n} terminals`, x === null ? null : x >= 0.5, x === null ? "no data" : `${x.toFixed(2)}x`);
  }
  for (const n of [10, 100]) {
    const x = nodesReady ? rel("nodes", n) : null;
    target(
      `nodes >= 0.25x floor payments/s at ${n} terminals`,
      x === null ? null : x >= 0.25,
      nodesReady ? (x === null ? "no data" : `${x.toFixed(2)}x`) : naText,
      !nodesReady,
    );
  }
  {
    const r = get("nodes", 100);
    const f = get("floor", 100);
    const x = r && f ? r.p99Ms / f.p99Ms : null;
    target(
      `nodes p99 at 100 terminals <= 3x floor's`,
      x === null ? null : x <= 3,
      x === null ? (nodesReady ? "no data" : naText) : `${fmt(r.p99Ms, 1)} ms vs ${fmt(f.p99Ms, 1)} ms = ${x.toFixed(2)}x`,
      !nodesReady,
    );
  }
  for (const kind of ["engine", "nodes"]) {
    const a = get(kind, 10);
    const b = get(kind, 100);
    const skipped = kind === "nodes" && !nodesReady;
    target(
      `${kind} payments/s at 100 terminals >= at 10`,
      a && b ? b.perSec >= a.perSec : null,
      a && b ? `${fmt(b.perSec)} vs ${fmt(a.perSec)}` : skipped ? naText : "no data",
      skipped,
    );
  }
  target(
    `Node-RED idle RSS added by the package <= 10 MB`,
    idleAdded === null ? null : idleAdded <= 10 * MB,
    idleAdded === null ? (nodesReady ? "no data" : naText) : `${fmt(idleAdded / MB, 1)} MB`,
    !nodesReady,
  );
  {
    const g = h && !h.error && h.atN ? h.growthBytes : null;
    const label =
      h && !h.error && h.target !== HEAP_TARGET
        ? `heap growth ${fmt(h.target)} vs ${fmt(HEAP_BASE)} payments <= 5 MB (scaled down from 50,000)`
        : "heap growth 50,000 vs 1,000 payments <= 5 MB";
    target(label, g === null ? null : g <= 5 * MB, g === null ? "no data" : `${fmt(g / MB, 2)} MB`);
  }
  target(
    `package load <= 150 ms (require inside Node-RED, and the RED.start() delta)`,
    loadDelta === null || loadInRed === null ? null : loadInRed <= 150 && loadDelta <= 150,
    loadDelta === null || loadInRed === null ? (nodesReady ? "no data" : naText) : `${fmt(loadInRed, 1)} ms; delta ${fmt(loadDelta)} ms`,
    !nodesReady,
  );
  {
    // Every line written must come back: a fast reopen that skipped lines is no pass.
    const whole = j && !j.error && j.lines === j.entries && j.skippedLines === 0;
    target(
      `journal reopen (100,000 entries) <= 1 s`,
      j && !j.error ? whole && j.medianMs <= 1000 : null,
      j && !j.error
        ? `${fmt(j.medianMs)} ms${whole ? "" : `; but ${fmt(j.lines)} of ${fmt(j.entries)} lines in the file, ${j.skippedLines} skipped on reopen`}`
        : "no data",
    );
  }
  for (const t of targets) out.push(`${t.pass === null ? "N/A " : t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.detail}`);
  out.push("");
  return { runs, rows, extra };
}

main()
  .then(() => {
    killAll();
    process.exit(0);
  })
  .catch((e) => {
    process.stderr.write(`benchmark failed: ${e && e.stack ? e.stack : e}\n`);
    killAll();
    process.exit(1);
  });
