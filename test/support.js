"use strict";
// Shared helpers for engine tests: a strict zero-delay simulator on an ephemeral loopback port,
// clients on temporary journal dirs, and bounded waits. Everything started is stopped by cleanup().
const fs = require("fs");
const os = require("os");
const path = require("path");
const { PacSimulator } = require("../dist/simulator");
const { PacClient } = require("../dist/engine");
const { delay } = require("./wait");

const started = [];

async function startSim(opts = {}) {
  const sim = await PacSimulator.start({ delays: "zero", strict: true, recordRetryMs: 100, ...opts });
  started.push(() => sim.stop());
  return sim;
}

function tmpDir(prefix = "pac-test-") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  started.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openClient(sim, opts = {}) {
  const client = await PacClient.open({
    url: sim.url,
    accountName: sim.credentials.accountName,
    apiKey: sim.credentials.apiKey,
    eposId: "till-1",
    softwareHouseId: "shopflow-tests",
    journalDir: opts.journalDir || tmpDir(),
    requestTimeoutMs: 2000,
    reconnect: { initialMs: 50, maxMs: 400 },
    heartbeatIntervalMs: 0,
    ...opts,
  });
  client.on("warning", () => undefined);
  started.unshift(() => client.close());
  return client;
}

/**
 * Resolve with the first event matching pred, or reject after ms.
 * @param {import("events").EventEmitter} emitter @param {string} event @param {(...args: any[]) => boolean} [pred] @param {number} [ms]
 */
function waitFor(emitter, event, pred = () => true, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    function on(...args) {
      if (!pred(...args)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args.length > 1 ? args : args[0]);
    }
    emitter.on(event, on);
  });
}

async function connected(client, ms = 3000) {
  if (client.state === "open") return;
  const p = waitFor(client, "state", (s) => s === "open", ms);
  client.start();
  await p;
}

/** Collect every emission of an event (for exactly-once checks). */
function collect(emitter, event) {
  const list = [];
  emitter.on(event, (x) => list.push(x));
  return list;
}

async function cleanup() {
  const fns = started.splice(0);
  for (const fn of fns) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
}

module.exports = { startSim, openClient, waitFor, connected, delay, collect, cleanup, tmpDir };
