"use strict";
// A real Node-RED runtime (the devDependency), embedded in a bench worker with its http server on
// 127.0.0.1:0, as the nodes rows and the Raspberry Pi soak and idle sections run it.
const http = require("http");
const path = require("path");
const { performance } = require("perf_hooks");
const { delay, until } = require("./common");

/**
 * Start Node-RED on userDir (flows.json, with the package linked into its node_modules) with the
 * bench's counter node; `settings` adds to or overrides the quiet defaults.
 * Resolves once the flows have started, with startMs (how long RED.start() took) and stop().
 */
async function startEmbeddedRed({ userDir, settings = {}, flowsTimeoutMs = 15_000 }) {
  const express = require("express");
  const RED = require("node-red");
  const app = express();
  const server = http.createServer(app);
  const all = {
    userDir,
    nodesDir: [path.join(__dirname, "red-nodes")],
    flowFile: "flows.json",
    credentialSecret: false,
    httpAdminRoot: "/red",
    httpNodeRoot: "/api",
    uiHost: "127.0.0.1",
    logging: { console: { level: "warn", metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    runtimeState: { enabled: false },
    functionGlobalContext: {},
    ...settings,
  };
  RED.init(server, all);
  app.use(all.httpAdminRoot, RED.httpAdmin);
  app.use(all.httpNodeRoot, RED.httpNode);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const events = require("@node-red/util").events;
  const flowsStarted = new Promise((resolve) => events.once("flows:started", resolve));
  const t0 = performance.now();
  await RED.start();
  const startMs = performance.now() - t0;
  await Promise.race([flowsStarted, delay(flowsTimeoutMs).then(() => Promise.reject(new Error(`flows did not start within ${flowsTimeoutMs / 1000} s`)))]);
  return {
    RED,
    startMs,
    async stop() {
      try {
        await Promise.race([RED.stop(), delay(10_000)]);
      } catch {
        /* exiting anyway */
      }
      server.closeAllConnections?.();
    },
  };
}

/** Until the flow's pac-config (id "cfg") is connected to the simulator. */
function untilConnected(RED, ms) {
  return until(
    () => {
      const c = RED.nodes.getNode("cfg");
      return c && c.pac && c.pac.client && c.pac.client.state === "open";
    },
    "pac-config connected",
    ms,
  );
}

module.exports = { startEmbeddedRed, untilConnected };
