#!/usr/bin/env node
// The PAC simulator in its own process, for the benchmark (bench/run.js). Zero delays, no server
// pings, records effectively never redelivered. Prints one JSON line on stdout:
// {url, accountName, apiKey, pid}. Then it answers line commands on stdin with one JSON line each:
//   "cpu"   -> {cpu: process.cpuUsage(), rss, at}   (to see whether the simulator was the bottleneck)
//   "reset" -> {ok: true}   (resetStats: the id lists in sim.stats would grow for the whole run)
//   "stop"  -> stops and exits.
// It also stops when stdin closes (parent gone) and after a hard lifetime cap.
"use strict";
const path = require("path");
const readline = require("readline");
const ROOT = process.env.BENCH_PKG_ROOT || path.join(__dirname, "..");
const { PacSimulator } = require(path.join(ROOT, "dist", "simulator"));

const TERMINALS = Number(process.env.BENCH_SIM_TERMINALS || 100);
const LIFETIME_MS = Number(process.env.BENCH_SIM_LIFETIME_MS || 10 * 60_000);

let sim = null;
let stopping = false;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  const hard = setTimeout(() => process.exit(code), 3000);
  hard.unref();
  try {
    if (sim) await sim.stop();
  } catch {
    /* exiting anyway */
  }
  process.exit(code);
}

async function main() {
  sim = await PacSimulator.start({
    host: "127.0.0.1",
    port: 0,
    terminals: TERMINALS,
    delays: "zero",
    recordRetryMs: 10 * 60_000,
    pingIntervalMs: 0,
  });
  sim.on("internalError", (e) => process.stderr.write(`[sim] internal error: ${e.message}\n`));
  process.stdout.write(JSON.stringify({ url: sim.url, accountName: sim.credentials.accountName, apiKey: sim.credentials.apiKey, pid: process.pid }) + "\n");
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const cmd = line.trim();
    if (cmd === "cpu") {
      process.stdout.write(JSON.stringify({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss, at: Date.now() }) + "\n");
    } else if (cmd === "reset") {
      sim.resetStats();
      process.stdout.write(JSON.stringify({ ok: true }) + "\n");
    } else if (cmd === "stop") {
      void stop(0);
    }
  });
  rl.on("close", () => void stop(0));
  setTimeout(() => {
    process.stderr.write("[sim] lifetime cap reached, exiting\n");
    void stop(2);
  }, LIFETIME_MS).unref();
}

process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));
main().catch((e) => {
  process.stderr.write(`[sim] failed to start: ${e.stack || e}\n`);
  process.exit(1);
});
