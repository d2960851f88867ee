/*
 * For test/browser/*.browser.js: a real Node-RED (child process, temp userDir, this package linked
 * into <userDir>/node_modules as scripts/start.js does, port chosen by the OS on 127.0.0.1) and
 * Debian's chromium through playwright-core (no browser download). Every wait is bounded.
 */
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");

const root = path.resolve(__dirname, "..", "..");
const artifacts = path.join(root, "artifacts");

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

const wait = require("../wait");
const delay = wait.delay;

/** As test/wait.js's until, with the browser's longer default and a gentler poll. */
function until(check, what, ms = 10000, every = 50) {
  return wait.until(check, what, ms, every);
}

/**
 * Start Node-RED. `flows`: the flow file's content; `credentials`: the (unencrypted) credentials
 * file; `adminAuth`: settings.adminAuth; `prepare(userDir)`: called (and awaited) once the userDir
 * is made, before Node-RED starts (files the runtime should find there); `nodeArgs`: extra
 * arguments for node before red.js (e.g. ["-r", preload]). Resolves with {url, userDir, port, log(), stop()}.
 */
/** @param {{ flows?: object[], credentials?: object, adminAuth?: object, env?: Record<string, string>, prepare?: (userDir: string) => unknown, nodeArgs?: string[] }} [opts] */
async function startNodeRed({ flows = [], credentials, adminAuth, env = {}, prepare, nodeArgs = [] } = {}) {
  if (!fs.existsSync(path.join(root, "dist", "nodes", "pac-config.js")) || !fs.existsSync(path.join(root, "dist", "index.js"))) {
    throw new Error("build first: npm run build");
  }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-browser-"));
  const modDir = path.join(userDir, "node_modules", "@shopflow");
  fs.mkdirSync(modDir, { recursive: true });
  fs.symlinkSync(root, path.join(modDir, "node-red-dojo-pac"), "dir");
  fs.writeFileSync(
    path.join(userDir, "package.json"),
    JSON.stringify({ name: "pac-browser-userdir", private: true, dependencies: { "@shopflow/node-red-dojo-pac": "*" } }),
  );
  const settings = {
    uiHost: "127.0.0.1",
    uiPort: 0,
    flowFile: "flows.json",
    credentialSecret: false,
    editorTheme: { projects: { enabled: false }, tours: false, palette: { catalogues: [] }, multiplayer: { enabled: false } },
    diagnostics: { enabled: false },
    runtimeState: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    logging: { console: { level: "info", audit: false } },
  };
  if (adminAuth) settings.adminAuth = adminAuth;
  fs.writeFileSync(path.join(userDir, "settings.js"), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows, null, 2));
  if (credentials) fs.writeFileSync(path.join(userDir, "flows_cred.json"), JSON.stringify(credentials));
  // Node-RED's own settings on first run: no welcome tour, no update checks.
  fs.writeFileSync(path.join(userDir, ".config.runtime.json"), JSON.stringify({ telemetryEnabled: false }));
  if (prepare) {
    try {
      await prepare(userDir);
    } catch (e) {
      fs.rmSync(userDir, { recursive: true, force: true });
      throw e;
    }
  }

  const red = path.join(path.dirname(require.resolve("node-red/package.json")), "red.js");
  const child = spawn(process.execPath, [...nodeArgs, red, "--userDir", userDir, "--settings", path.join(userDir, "settings.js")], {
    cwd: userDir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_RED_ENABLE_TOURS: "false", ...env },
  });
  let output = "";
  child.stdout.on("data", (c) => (output += c.toString()));
  child.stderr.on("data", (c) => (output += c.toString()));
  let exited = false;
  const exit = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );

  async function stop() {
    if (!exited) {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
      await exit;
      clearTimeout(timer);
    }
    fs.rmSync(userDir, { recursive: true, force: true });
  }

  try {
    const port = await until(
      () => {
        if (exited) throw new Error(`Node-RED exited:\n${output}`);
        const m = /Server now running at http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
        return m && Number(m[1]);
      },
      "Node-RED to listen",
      30000,
    );
    await until(
      () => /Started flows|Flows stopped due to missing node types/.test(output) || /Waiting for missing types/.test(output),
      "flows to start",
      30000,
    );
    if (!/Started flows/.test(output)) throw new Error(`flows did not start:\n${output}`);
    return { url: `http://127.0.0.1:${port}/`, port, userDir, log: () => output, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function launchBrowser() {
  const { chromium } = require("playwright-core");
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30000 });
}

/** Save a screenshot under artifacts/ (gitignored). */
async function screenshot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

module.exports = { root, artifacts, delay, until, startNodeRed, launchBrowser, screenshot };
