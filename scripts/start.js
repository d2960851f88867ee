#!/usr/bin/env node
// npm start: build if needed, then run Node-RED (the devDependency) on 127.0.0.1:1880 with a
// userDir in .userdir/, this package loaded, and the "shop counter" example deployed against the
// built-in simulator. Ctrl-C stops everything.
"use strict";
const fs = require("fs");
const path = require("path");
const { spawn, execFileSync } = require("child_process");

const root = path.resolve(__dirname, "..");
// PAC_DEMO_USERDIR: another userDir (the browser suite runs the demo in a temporary one).
const userDir = process.env.PAC_DEMO_USERDIR ? path.resolve(process.env.PAC_DEMO_USERDIR) : path.join(root, ".userdir");
const port = Number(process.env.PORT || 1880);
const host = "127.0.0.1";

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function needsBuild() {
  const marker = path.join(root, "dist", "index.js");
  if (!fs.existsSync(marker) || !fs.existsSync(path.join(root, "dist", "nodes", "pac-config.js"))) return true;
  return newestMtime(path.join(root, "src")) > fs.statSync(marker).mtimeMs;
}

if (needsBuild()) {
  console.log("Building…");
  execFileSync(process.execPath, [path.join(root, "scripts", "build.js")], { stdio: "inherit" });
}

// The package is installed into the userDir as a link to this checkout.
const modDir = path.join(userDir, "node_modules", "@shopflow");
fs.mkdirSync(modDir, { recursive: true });
const link = path.join(modDir, "node-red-dojo-pac");
try {
  fs.lstatSync(link);
} catch {
  fs.symlinkSync(root, link, "dir");
}
fs.writeFileSync(
  path.join(userDir, "package.json"),
  JSON.stringify({ name: "pac-demo-userdir", private: true, dependencies: { "@shopflow/node-red-dojo-pac": "file:.." } }, null, 2),
);
fs.writeFileSync(
  path.join(userDir, "settings.js"),
  `module.exports = {\n  uiHost: ${JSON.stringify(host)},\n  uiPort: ${port},\n  flowFile: "flows.json",\n  credentialSecret: false,\n  editorTheme: { projects: { enabled: false }, tours: false },\n  // The first-start "update notifications" prompt would cover the demo: off (the user can turn it on).\n  telemetry: { enabled: false },\n  logging: { console: { level: "info" } }\n};\n`,
);
const flows = path.join(userDir, "flows.json");
if (!fs.existsSync(flows)) fs.copyFileSync(path.join(root, "examples", "shop-counter.json"), flows);

const red = path.join(path.dirname(require.resolve("node-red/package.json")), "red.js");
const child = spawn(process.execPath, [red, "--userDir", userDir, "--settings", path.join(userDir, "settings.js")], {
  stdio: ["ignore", "pipe", "inherit"],
});

/** The deployed simulator connections (the virtual terminal page of each is in Node-RED's admin app). */
function virtualTerminals() {
  let nodes = [];
  try {
    nodes = JSON.parse(fs.readFileSync(flows, "utf8"));
  } catch {
    return [];
  }
  const sims = (Array.isArray(nodes) ? nodes : []).filter(
    (n) => n && n.type === "pac-config" && (n.environment || "simulator") === "simulator" && n.d !== true,
  );
  return sims.map((n) => ({ id: n.id, label: sims.length > 1 ? `  (${n.name || n.eposId || n.id})` : "" }));
}

let announced = false;
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  if (!announced && /Started flows/.test(chunk.toString())) {
    announced = true;
    const base = `http://${host}:${port}`;
    console.log(
      [
        "",
        "──────────────────────────────────────────────────────────────",
        ` Node-RED editor:   ${base}/`,
        ` Start a sale:      curl '${base}/sale?amount=1250'`,
        "   (amounts ending 01 decline, 02 ask for a signature, 05 chip and PIN)",
        ...virtualTerminals().map((vt) => ` Virtual terminal:  ${base}/pac/vt/${encodeURIComponent(vt.id)}/${vt.label}`),
        "   (play the customer: switch Automatic off, then tap, insert, enter the PIN…)",
        ' Dojo sidebar:      the editor\'s sidebar, tab "Dojo" (connection, terminals, payments)',
        " Stop:              Ctrl-C",
        "──────────────────────────────────────────────────────────────",
        "",
      ].join("\n"),
    );
  }
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  child.kill(signal);
  // Node-RED closes its nodes (and our simulator) on SIGINT; don't wait for ever.
  setTimeout(() => child.kill("SIGKILL"), 15000).unref();
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
child.on("exit", (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
