"use strict";
// Run by scripts/compat.js in a fresh directory where only the packed tarball is installed: the
// engine must work from a plain Node.js script, without Node-RED. One approved sale (1250) with
// PacClient against PacSimulator, everything bounded and closed. Prints one summary line.
const assert = require("assert");
const fs = require("fs");
const os = require("os");
const path = require("path");

const NAME = "@shopflow/node-red-dojo-pac";
const here = fs.realpathSync(__dirname);
const main = require.resolve(NAME);
assert.ok(fs.realpathSync(main).startsWith(path.join(here, "node_modules") + path.sep), `resolved ${main}, not the installed tarball`);

const engine = require(NAME);
const { PacClient, PacSimulator } = engine;
assert.strictEqual(typeof PacClient, "function", "PacClient export");
assert.strictEqual(typeof PacSimulator, "function", "PacSimulator export");
for (const name of ["parseFrame", "encodeRequest", "isKnownMethod"]) assert.strictEqual(typeof engine[name], "function", `protocol export ${name}`);
assert.ok(engine.SCHEMA && typeof engine.SCHEMA === "object", "protocol export SCHEMA");
// Node-RED reads the package's package.json through the package name; deep requires keep working.
const meta = require(`${NAME}/package.json`);
assert.strictEqual(meta.name, NAME);
assert.strictEqual(require(`${NAME}/dist/simulator`).PacSimulator, PacSimulator, "dist/simulator deep require");
assert.ok(fs.existsSync(path.join(path.dirname(require.resolve(`${NAME}/package.json`)), meta.types)), "types file shipped");

const timeout = setTimeout(() => {
  console.error("engine-smoke: timed out after 30 s");
  process.exit(1);
}, 30_000);

function waitFor(emitter, event, pred, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    function on(x) {
      if (!pred(x)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(x);
    }
    emitter.on(event, on);
  });
}

(async () => {
  const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-engine-smoke-"));
  let sim;
  let client;
  try {
    sim = await PacSimulator.start({ delays: "zero" });
    client = await PacClient.open({
      url: sim.url,
      ...sim.credentials,
      eposId: "till-1",
      softwareHouseId: "shopflow-compat",
      journalDir,
      requestTimeoutMs: 5000,
    });
    client.on("warning", () => undefined);
    const open = waitFor(client, "state", (s) => s === "open", 10_000);
    client.start();
    if (client.state !== "open") await open;
    const ack = await client.createPayment({ terminalId: "SIM00001", amount: 1250, currency: "GBP" });
    const outcome = await waitFor(client, "outcome", (o) => o.paymentId === ack.paymentId, 10_000);
    assert.strictEqual(outcome.status, "CAPTURED");
    assert.strictEqual(outcome.amount, 1250);
    console.log(`${meta.name}@${meta.version} on node ${process.version}: sale 1250 ${outcome.status} ${outcome.paymentId}`);
  } finally {
    if (client) await client.close();
    if (sim) await sim.stop();
    fs.rmSync(journalDir, { recursive: true, force: true });
    clearTimeout(timeout);
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
