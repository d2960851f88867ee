#!/usr/bin/env node
// Build: compile src/ to dist/ with tsc, then copy the icons beside nodes/pac-*.js (Node-RED finds
// icons only there). The nodes/pac-*.js files are committed one-line shims requiring dist/nodes/.
// `--assets-only` skips tsc (used by `npm run dev`, where tsc-watch compiles).
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const root = path.resolve(__dirname, "..");
const dist = path.join(root, "dist");
const nodesDir = path.join(root, "nodes");

if (!process.argv.includes("--assets-only")) {
  fs.rmSync(dist, { recursive: true, force: true });
  const tsc = require.resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.json")], { stdio: "inherit" });
}

const iconsSrc = path.join(root, "icons");
const iconsOut = path.join(nodesDir, "icons");
fs.rmSync(iconsOut, { recursive: true, force: true });
if (fs.existsSync(iconsSrc)) {
  fs.mkdirSync(iconsOut, { recursive: true });
  for (const f of fs.readdirSync(iconsSrc)) fs.copyFileSync(path.join(iconsSrc, f), path.join(iconsOut, f));
}
