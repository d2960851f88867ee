"use strict";
// Shared by the benchmark workers: the closed-loop load driver (each terminal starts its next sale
// when the last one has its final result), percentiles, and the worker <-> parent plumbing.
const { performance } = require("perf_hooks");

// The package under test: bench/run.js builds a private copy (BENCH_PKG_ROOT) so that a rebuild
// of the shared dist/ by someone else mid-run cannot pull the code from under the benchmark.
const ROOT = process.env.BENCH_PKG_ROOT || require("path").resolve(__dirname, "..");

/** Ids the simulator gives its terminals: SIM00001, SIM00002, … */
function terminalIds(n) {
  return Array.from({ length: n }, (_, i) => `SIM${String(i + 1).padStart(5, "0")}`);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** The middle value (the mean of the two middle ones for an even count); null when empty. */
function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * A new temporary directory for a worker: under the run's scratch root (BENCH_TMP, which bench/run.js
 * removes on every exit path, a killed worker's leftovers included), else the system's.
 */
function scratchDir(prefix) {
  const fs = require("fs");
  const path = require("path");
  return fs.mkdtempSync(path.join(process.env.BENCH_TMP || require("os").tmpdir(), prefix));
}

function cpuMs(u) {
  return (u.user + u.system) / 1000;
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with check()'s truthy value; rejects after ms. Polls every 5 ms (bounded). */
async function until(check, what, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

/**
 * Closed-loop driver. `startSale(terminalId)` must begin a sale and, later, call
 * `driver.done(terminalId, t0, ok)` exactly once for it (t0 = performance.now() at its start, which
 * startSale returns). Phases: warmup -> window (measured) -> drain (no new sales) -> finished.
 *
 * opts: terminals (ids), warmupMs, windowMs, maxCount (ends the window early), drainMs,
 *       stallMs (no completion for this long = failure), onWindow(start|end)
 */
class Driver {
  constructor(opts) {
    this.opts = opts;
    this.phase = "idle";
    this.inFlight = 0;
    this.count = 0; // approved sales completed inside the window
    this.total = 0; // every completion
    this.errors = 0;
    this.errorSamples = [];
    this.lat = [];
    this.lastProgress = 0;
    this.win = null;
  }

  start() {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.phase = "warmup";
      this.lastProgress = Date.now();
      for (const t of this.opts.terminals) this.launch(t);
      this.warmTimer = setTimeout(() => this.openWindow(), this.opts.warmupMs);
      this.stallTimer = setInterval(() => {
        if (Date.now() - this.lastProgress > this.opts.stallMs) {
          this.fail(
            new Error(
              `stalled: no sale completed for ${this.opts.stallMs} ms (phase ${this.phase}, in flight ${this.inFlight}, errors ${this.errors}${this.errorSamples.length ? ": " + this.errorSamples[0] : ""})`,
            ),
          );
        }
      }, 250);
    });
  }

  launch(terminalId) {
    this.inFlight++;
    try {
      this.opts.startSale(terminalId);
    } catch (e) {
      this.done(terminalId, performance.now(), false, e);
    }
  }

  openWindow() {
    if (this.phase !== "warmup") return;
    this.phase = "window";
    this.win = { t0: performance.now(), cpu0: process.cpuUsage(), wall0: Date.now() };
    if (this.opts.onWindow) this.opts.onWindow("start");
    this.winTimer = setTimeout(() => this.closeWindow(), this.opts.windowMs);
  }

  closeWindow() {
    if (this.phase !== "window") return;
    clearTimeout(this.winTimer);
    this.win.t1 = performance.now();
    this.win.cpu1 = process.cpuUsage();
    this.win.rss = process.memoryUsage().rss;
    if (this.opts.onWindow) this.opts.onWindow("end");
    this.phase = "drain";
    if (this.inFlight === 0) return this.finish();
    this.drainTimer = setTimeout(() => this.finish(), this.opts.drainMs);
  }

  /** One sale reached its final result (ok false: error or not approved). */
  done(terminalId, t0, ok, err) {
    const now = performance.now();
    this.inFlight--;
    this.total++;
    this.lastProgress = Date.now();
    if (!ok) {
      this.errors++;
      if (err && this.errorSamples.length < 5) this.errorSamples.push(String((err && err.message) || err));
    }
    if (this.phase === "window" && ok) {
      // only approved sales count; failures are reported as errors
      this.count++;
      this.lat.push(now - t0);
      if (this.opts.maxCount && this.count >= this.opts.maxCount) this.closeWindow();
    }
    if (this.phase === "warmup" || this.phase === "window") {
      if (ok) this.launch(terminalId);
      else {
        // a failed sale: back off a little before trying that terminal again (bounded by the run)
        this.inFlight++;
        setTimeout(() => {
          this.inFlight--;
          if (this.phase === "warmup" || this.phase === "window") this.launch(terminalId);
          else if (this.phase === "drain" && this.inFlight === 0) this.finish();
        }, 20);
      }
    } else if (this.phase === "drain" && this.inFlight === 0) {
      this.finish();
    }
  }

  fail(e) {
    if (this.phase === "finished") return;
    this.phase = "finished";
    this.clear();
    this.reject(e);
  }

  clear() {
    clearTimeout(this.warmTimer);
    clearTimeout(this.winTimer);
    clearTimeout(this.drainTimer);
    clearInterval(this.stallTimer);
  }

  finish() {
    if (this.phase === "finished") return;
    const drained = this.inFlight === 0;
    this.phase = "finished";
    this.clear();
    const w = this.win;
    const secs = (w.t1 - w.t0) / 1000;
    const sorted = Float64Array.from(this.lat).sort();
    const cpu = cpuMs(w.cpu1) - cpuMs(w.cpu0);
    this.resolve({
      payments: this.count,
      windowS: secs,
      perSec: this.count / secs,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.length ? sorted[sorted.length - 1] : null,
      cpuMsPerPayment: this.count ? cpu / this.count : null,
      cpuMsWindow: cpu,
      rssAtEnd: w.rss,
      peakRss: process.resourceUsage().maxRSS * 1024,
      errors: this.errors,
      errorSamples: this.errorSamples,
      totalCompleted: this.total,
      drained,
      leftInFlight: this.inFlight,
    });
  }
}

/** Worker side of the IPC plumbing: config from argv, messages to the parent, exit when orphaned. */
function workerSetup(lifetimeMs) {
  const cfg = JSON.parse(process.argv[2] || "{}");
  const send = (m) => {
    if (process.send) {
      if (process.connected) process.send(m);
    } else if (m.type !== "window") {
      process.stdout.write(JSON.stringify(m) + "\n"); // run by hand: print the result
    }
  };
  if (process.send) process.on("disconnect", () => process.exit(3)); // the parent is gone
  const cap = setTimeout(() => {
    process.stderr.write(`[worker ${process.pid}] lifetime cap of ${lifetimeMs} ms reached\n`);
    process.exit(4);
  }, lifetimeMs);
  cap.unref();
  return { cfg, send };
}

/**
 * The package's nodes in every bench flow: a pac-config on the simulator's URL (id "cfg") and a
 * pac-payment on tab "tab" (id "pay") whose success and failure outputs go to `to`.
 */
function paymentNodes({ url, eposId, to, x = 300, y = 100 }) {
  return [
    { id: "cfg", type: "pac-config", name: "", environment: "custom", url, eposId, softwareHouseId: "bench", requestTimeout: 30 },
    {
      id: "pay",
      type: "pac-payment",
      z: "tab",
      name: "",
      server: "cfg",
      terminalId: "",
      currency: "GBP",
      captureMode: "AUTO",
      signature: "accept",
      x,
      y,
      wires: [[to], [to], []],
    },
  ];
}

module.exports = { ROOT, terminalIds, percentile, median, scratchDir, cpuMs, delay, until, Driver, workerSetup, paymentNodes };
