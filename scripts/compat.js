#!/usr/bin/env node
// npm run test:compat: the package as a user gets it, on every Node-RED it claims to support.
//
//  1. Packs the package with `npm pack` (its `prepack` builds src/ → dist/ and nodes/icons) in a scratch
//     copy of the working tree, so this checkout's dist/ is never rebuilt under a running test, and
//     checks the tarball's file list (everything needed, nothing else).
//  2. For each target: installs that Node-RED with npm into test/compat/.cache/node-red-<version>,
//     installs the tarball into a fresh userDir in a temp dir, starts Node-RED on 127.0.0.1 (a free
//     port) with the shop-counter example plus test/compat/compat-flow.json, both on the built-in
//     simulator, and checks over HTTP: every node type in package.json is registered and enabled with no
//     error, the module version, the examples in the library, the editor html/help/icons, sales of
//     1250 (approved) and 1201 (declined), and a clean stop. On 4.x and 5.x, @flowfuse/node-red-dashboard
//     (the devDependency's range) is installed beside it and examples/till-dashboard.json is deployed.
//     Targets: the lowest version `node-red.version` declares, on this Node (20); the newest 4.x on
//     this Node; the newest 5.x on Node 22 (the `node` npm package, run with `npx -p node@22`).
//  3. The engine without Node-RED: the tarball in a fresh dir, `require()` and `import` it, one
//     sale with PacClient against PacSimulator (test/compat/engine-smoke.js) on Node 20 and 22, and
//     a TypeScript consumer type-checked against the shipped .d.ts.
//
// Prints a pass/fail matrix and exits non-zero on any failure. Every child is killed on every exit
// path; every wait is bounded. Options: --only=min,4,5,engine (subset), --keep (keep the temp dir;
// it is always kept when something fails), --verbose (echo Node-RED's log).
"use strict";
const fs = require("fs");
const os = require("os");
const net = require("net");
const path = require("path");
const { spawn } = require("child_process");

const root = path.resolve(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const compatDir = path.join(root, "test", "compat");
const cacheDir = process.env.PAC_COMPAT_CACHE ? path.resolve(process.env.PAC_COMPAT_CACHE) : path.join(compatDir, ".cache");
const npmCache = path.join(cacheDir, "npm");
const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const only = opt("only") ? opt("only").split("=")[1].split(",") : null;
const keep = Boolean(opt("keep"));
const verbose = Boolean(opt("verbose"));
const wanted = (id) => !only || only.includes(id);
const npmBin = process.platform === "win32" ? "npm.cmd" : "npm";
const npxBin = process.platform === "win32" ? "npx.cmd" : "npx";

const DASHBOARD = "@flowfuse/node-red-dashboard";

const T0 = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;
function log(msg) {
  console.log(`[compat ${secs(Date.now() - T0).padStart(6)}] ${msg}`);
}

// ---- child processes: tracked, killed as a group on every exit path ------------------------------

const children = new Set();
let tmpDir = null; // removed when interrupted (unless --keep)
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}
function killAll() {
  for (const child of children) killGroup(child, "SIGKILL");
  children.clear();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    console.error(`\n[compat] ${sig}: stopping every child`);
    killAll();
    if (tmpDir && !keep) fs.rmSync(tmpDir, { recursive: true, force: true });
    process.exit(130);
  });
}
process.on("uncaughtException", (err) => {
  console.error("[compat] uncaught:", err);
  killAll();
  process.exit(2);
});
process.on("unhandledRejection", (err) => {
  console.error("[compat] unhandled rejection:", err);
  killAll();
  process.exit(2);
});

function startChild(cmd, argv, opts = {}) {
  const child = spawn(cmd, argv, {
    cwd: opts.cwd || root,
    env: opts.env || process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: process.platform !== "win32", // own process group: killGroup reaches npm's children too
  });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** Run to completion within timeoutMs; resolves {code, out} (out = stdout + stderr), never rejects. */
function run(cmd, argv, opts = {}) {
  const timeoutMs = opts.timeoutMs || 5 * 60_000;
  return new Promise((resolve) => {
    let child;
    try {
      child = startChild(cmd, argv, opts);
    } catch (err) {
      resolve({ code: -1, out: String(err), stdout: "" });
      return;
    }
    let stdout = "";
    let out = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      out += d;
    });
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n[compat] timed out after ${secs(timeoutMs)}: ${cmd} ${argv.join(" ")}`;
      killGroup(child, "SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => (out += `\n${err}`));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code === null ? `signal ${signal}` : code, out, stdout });
    });
  });
}

function npmEnv() {
  return {
    ...process.env,
    npm_config_cache: npmCache,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    npm_config_engine_strict: "false",
  };
}

const oneLine = (text, n = 200) => String(text).replace(/\s+/g, " ").trim().slice(0, n);
const tail = (text, n = 15) =>
  String(text)
    .trim()
    .split("\n")
    .filter((l) => !/Unknown user config/.test(l))
    .slice(-n)
    .join("\n");

async function npm(argv, cwd, timeoutMs) {
  const r = await run(npmBin, argv, { cwd, env: npmEnv(), timeoutMs });
  if (r.code !== 0) throw new Error(`npm ${argv.join(" ")} failed (${r.code}):\n${tail(r.out)}`);
  return r;
}

// ---- results ---------------------------------------------------------------------------------------

/** columns: {id, title, node, nodeRed, checks: Map(name → {ok, detail}), ms} */
const columns = [];
function column(id, title, desc) {
  const col = { id, title, desc: desc || title, checks: new Map(), ms: 0 };
  columns.push(col);
  return col;
}
async function check(col, name, fn) {
  const t = Date.now();
  try {
    const detail = await fn();
    col.checks.set(name, { ok: true, detail: detail || "" });
    log(`  ok    ${col.desc} · ${name}${detail ? `: ${detail}` : ""} (${secs(Date.now() - t)})`);
    return true;
  } catch (err) {
    col.checks.set(name, { ok: false, detail: (err && err.message) || String(err) });
    log(`  FAIL  ${col.desc} · ${name}: ${(err && err.message) || err}`);
    return false;
  }
}
function skip(col, name, why) {
  col.checks.set(name, { ok: false, detail: `not run: ${why}` });
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// ---- HTTP ------------------------------------------------------------------------------------------

async function http(url, { accept = "application/json", timeoutMs = 15_000, method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: accept, ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, type: res.headers.get("content-type") || "" };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- pack ------------------------------------------------------------------------------------------

const SKIP_COPY = new Set([".git", "node_modules", ".userdir", ".test-tmp", "dist", "artifacts", "bench-results"]);

/** npm pack in a scratch copy of the working tree (node_modules linked); returns {tarball, files}. */
async function pack(tmp) {
  const stage = path.join(tmp, "stage");
  fs.cpSync(root, stage, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(root, src);
      if (!rel) return true;
      const parts = rel.split(path.sep);
      if (SKIP_COPY.has(parts[0])) return false;
      if (rel.startsWith(path.join("test", "compat", ".cache"))) return false;
      if (/\.tgz$/.test(rel)) return false;
      if (rel === path.join("nodes", "icons")) return false; // generated
      return true;
    },
  });
  fs.symlinkSync(path.join(root, "node_modules"), path.join(stage, "node_modules"), "dir");
  const out = path.join(tmp, "pack");
  fs.mkdirSync(out);
  const r = await npm(["pack", "--json", "--pack-destination", out], stage, 5 * 60_000);
  const info = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")))[0];
  return { tarball: path.join(out, info.filename), files: info.files.map((f) => f.path), size: info.size, unpacked: info.unpackedSize };
}

/** Everything a user needs is in the tarball, and nothing else. */
function checkContents(files, stageNodesHtml) {
  const have = new Set(files);
  const missing = [];
  const need = ["package.json", "README.md", "LICENSE", "CHANGELOG.md", pkg.main, pkg.types];
  if (pkg.bin) need.push(...Object.values(pkg.bin));
  for (const file of Object.values(pkg["node-red"].nodes)) need.push(file, file.replace(/\.js$/, ".html"));
  for (const icon of stageNodesHtml.icons) need.push(`nodes/icons/${icon}`);
  for (const f of fs.readdirSync(path.join(root, "examples"))) if (f.endsWith(".json")) need.push(`examples/${f}`);
  for (const f of need) if (!have.has(f.replace(/^\.\//, ""))) missing.push(f);
  if (!files.some((f) => f.startsWith("nodes/locales/"))) missing.push("nodes/locales/**");
  // every compiled module ships with its declaration file
  for (const f of files) if (/^dist\/.*\.js$/.test(f) && !have.has(f.replace(/\.js$/, ".d.ts"))) missing.push(f.replace(/\.js$/, ".d.ts"));
  const allowed = [
    /^package\.json$/,
    /^README\.md$/,
    /^LICENSE$/,
    /^CHANGELOG\.md$/,
    /^dist\/.+\.(js|d\.ts)$/,
    /^nodes\/pac-[a-z-]+\.(js|html)$/,
    /^nodes\/icons\/[^/]+\.(svg|png)$/,
    /^nodes\/locales\/[^/]+\/[^/]+\.(json|html)$/,
    /^examples\/[^/]+\.json$/,
  ];
  const extra = files.filter((f) => !allowed.some((re) => re.test(f)));
  assert(
    !missing.length && !extra.length,
    [missing.length ? `missing: ${missing.join(", ")}` : "", extra.length ? `unexpected: ${extra.join(", ")}` : ""].filter(Boolean).join("; "),
  );
}

function iconsInHtml() {
  const icons = new Set();
  for (const f of fs.readdirSync(path.join(root, "nodes"))) {
    if (!/^pac-.*\.html$/.test(f)) continue;
    const html = fs.readFileSync(path.join(root, "nodes", f), "utf8");
    for (const m of html.matchAll(/icon\s*:\s*["']([^"']+\.(?:svg|png))["']/g)) icons.add(m[1]);
  }
  return { icons: [...icons] };
}

// ---- targets ---------------------------------------------------------------------------------------

function lowestDeclared() {
  const range = pkg["node-red"] && pkg["node-red"].version;
  const m = /^>=\s*(\d+\.\d+\.\d+)$/.exec(String(range || "").trim());
  if (!m) throw new Error(`package.json node-red.version must be ">=X.Y.Z" (is ${JSON.stringify(range)})`);
  return m[1];
}

async function newest(range) {
  const r = await npm(["view", `node-red@${range}`, "version", "--json"], cacheDir, 60_000);
  const list = [].concat(JSON.parse(r.stdout)).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  assert(list.length, `no node-red release matches ${range}`);
  const key = (v) => v.split(".").map(Number);
  list.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  return list[list.length - 1];
}

/** Node-RED <version> in its own dir under the cache; reused when a previous run completed it. */
async function installNodeRed(version) {
  const dir = path.join(cacheDir, `node-red-${version}`);
  const red = path.join(dir, "node_modules", "node-red", "red.js");
  const done = path.join(dir, ".installed");
  if (fs.existsSync(done) && fs.existsSync(red)) {
    log(`node-red@${version}: cached in ${path.relative(root, dir)}`);
    return red;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `compat-node-red-${version}`, private: true }));
  log(`node-red@${version}: installing with npm…`);
  const t = Date.now();
  // Optional deps are native bcrypt builds: Node-RED falls back to bcryptjs, and nothing downloads a binary.
  await npm(["install", `node-red@${version}`, "--omit=optional", "--no-package-lock", "--loglevel=error"], dir, 6 * 60_000);
  const installed = JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "node-red", "package.json"), "utf8")).version;
  assert(installed === version, `asked for node-red@${version}, got ${installed}`);
  fs.writeFileSync(done, new Date().toISOString());
  log(`node-red@${version}: installed (${secs(Date.now() - t)})`);
  return red;
}

/** A Node.js binary of that major from the `node` npm package (npx -p node@<major>). */
async function nodeFromNpm(major) {
  log(`node@${major}: resolving the binary with npx -p node@${major} …`);
  const r = await run(npxBin, ["--yes", "-p", `node@${major}`, "node", "-e", "console.log(JSON.stringify([process.execPath, process.version]))"], {
    cwd: cacheDir,
    env: npmEnv(),
    timeoutMs: 5 * 60_000,
  });
  const line = r.stdout.trim().split("\n").pop() || "";
  let parsed;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`npx -p node@${major} failed (${r.code}):\n${tail(r.out)}`);
  }
  assert(parsed[1].startsWith(`v${major}.`), `npx -p node@${major} gave ${parsed[1]}`);
  log(`node@${major}: ${parsed[1]} at ${path.relative(root, parsed[0])}`);
  return { bin: parsed[0], version: parsed[1] };
}

// ---- one Node-RED target ----------------------------------------------------------------------------

function settingsFile(port) {
  return `// Written by scripts/compat.js
module.exports = {
  uiHost: "127.0.0.1",
  uiPort: ${port},
  flowFile: "flows.json",
  credentialSecret: false,
  httpRequestTimeout: 60000,
  editorTheme: { projects: { enabled: false }, tours: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  logging: { console: { level: "info", metrics: false, audit: false } },
};
`;
}

/** The shop-counter example (as shipped in the tarball) plus the compat tab. */
function flowsFor(installedPkg) {
  const flows = [];
  let exampleSale = null;
  const example = path.join(installedPkg, "examples", "shop-counter.json");
  if (fs.existsSync(example)) {
    const nodes = JSON.parse(fs.readFileSync(example, "utf8"));
    flows.push(...nodes);
    const httpIn = nodes.find((n) => n.type === "http in" && n.method === "get");
    if (httpIn) exampleSale = httpIn.url;
  }
  flows.push(...JSON.parse(fs.readFileSync(path.join(compatDir, "compat-flow.json"), "utf8")));
  return { flows, exampleSale };
}

async function nodeRedTarget(col, { tmp, tarball, nodeBin, red, label }) {
  const modName = pkg.name;
  const types = Object.keys(pkg["node-red"].nodes);
  const userDir = path.join(tmp, `userdir-${label}`);
  const logFile = path.join(tmp, `node-red-${label}.log`);
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDir, "package.json"),
    JSON.stringify({ name: "node-red-project", description: "compat", version: "0.0.1", private: true }, null, 2),
  );

  if (
    !(await check(col, "install tarball in userDir", async () => {
      await npm(["install", tarball, "--omit=dev", "--loglevel=error"], userDir, 5 * 60_000);
      return "";
    }))
  )
    return;

  // Dashboard 2.0 beside the package on Node-RED 4 and 5: the till example must import and run there.
  const withDashboard = label === "4" || label === "5";
  const dashboardOk =
    withDashboard &&
    (await check(col, `install ${DASHBOARD}`, async () => {
      await npm(["install", `${DASHBOARD}@${pkg.devDependencies[DASHBOARD]}`, "--omit=dev", "--loglevel=error"], userDir, 5 * 60_000);
      return JSON.parse(fs.readFileSync(path.join(userDir, "node_modules", ...DASHBOARD.split("/"), "package.json"), "utf8")).version;
    }));

  const installedPkg = path.join(userDir, "node_modules", ...modName.split("/"));
  const { flows, exampleSale } = flowsFor(installedPkg);
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows, null, 2));
  const port = await freePort();
  fs.writeFileSync(path.join(userDir, "settings.js"), settingsFile(port));
  const base = `http://127.0.0.1:${port}`;

  const logOut = fs.openSync(logFile, "w");
  let output = "";
  let exited = null;
  const child = startChild(nodeBin, [red, "--userDir", userDir, "--settings", path.join(userDir, "settings.js")], { cwd: userDir });
  const onData = (d) => {
    output += d;
    fs.writeSync(logOut, d);
    if (verbose) process.stdout.write(d);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exitedP = new Promise((resolve) => child.on("exit", (code, signal) => resolve((exited = { code, signal }))));

  try {
    const started = await check(col, "starts, flows started", async () => {
      const deadline = Date.now() + 90_000;
      // "Started flows" comes before server.listen(): the port answers once "Server now running" is logged.
      while (!/Started flows/.test(output) || !/Server now running/.test(output)) {
        if (exited) throw new Error(`Node-RED exited (${exited.code ?? exited.signal}):\n${tail(output)}`);
        if (Date.now() > deadline) throw new Error(`no "Started flows" and "Server now running" within 90 s:\n${tail(output)}`);
        await delay(200);
      }
      const missing = /Waiting for missing types[^\n]*/.exec(output);
      if (missing) throw new Error(missing[0]);
      const v = /Node-RED version: (v[\d.]+)/.exec(output);
      return `${v ? v[1] : "?"} on ${/Node.js\s+version: (v[\d.]+)/.exec(output)?.[1] || "?"}`;
    });
    if (!started) return;

    await check(col, `${types.length} node types registered`, async () => {
      const r = await http(`${base}/nodes`);
      assert(r.status === 200 && Array.isArray(r.json), `GET /nodes → ${r.status}`);
      const problems = [];
      for (const type of types) {
        const set = r.json.find((s) => (s.types || []).includes(type));
        if (!set) problems.push(`${type} missing`);
        else if (set.module !== modName) problems.push(`${type} from ${set.module}`);
        else if (set.enabled !== true) problems.push(`${type} not enabled`);
        else if (set.err) problems.push(`${type}: ${set.err}`);
      }
      assert(!problems.length, problems.join("; "));
      return types.join(" ");
    });

    await check(col, "module version", async () => {
      const r = await http(`${base}/nodes/${modName}`);
      assert(r.status === 200 && r.json, `GET /nodes/${modName} → ${r.status}`);
      assert(r.json.version === pkg.version, `version ${r.json.version}, expected ${pkg.version}`);
      return r.json.version;
    });

    await check(col, "examples in library", async () => {
      const expected = fs
        .readdirSync(path.join(installedPkg, "examples"))
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.replace(/\.json$/, ""));
      // the runtime library id is "examples" (editor: Import → Examples)
      const r = await http(`${base}/library/examples/flows/${modName}`);
      assert(r.status === 200 && Array.isArray(r.json), `GET /library/examples/flows/${modName} → ${r.status} ${oneLine(r.text, 120)}`);
      const listed = r.json.map((e) => (typeof e === "string" ? e : e.fn));
      const missing = expected.filter((e) => !listed.includes(e));
      assert(!missing.length, `not listed: ${missing.join(", ")} (listed: ${listed.join(", ")})`);
      const one = await http(`${base}/library/examples/flows/${modName}/shop-counter`);
      assert(one.status === 200 && Array.isArray(one.json) && one.json.some((n) => n.type === "pac-payment"), `shop-counter → ${one.status}`);
      return `${listed.length} listed`;
    });

    await check(col, "editor html, help, icons", async () => {
      const r = await http(`${base}/nodes`, { accept: "text/html" });
      assert(r.status === 200, `GET /nodes (text/html) → ${r.status}`);
      const problems = [];
      for (const type of types) {
        if (!new RegExp(`registerType\\(\\s*["']${type}["']`).test(r.text)) problems.push(`${type}: no registerType`);
        if (!new RegExp(`data-help-name=["']${type}["']`).test(r.text)) problems.push(`${type}: no help`);
      }
      // Each icon the package's .html names is served from the tarball's nodes/icons (Node-RED
      // answers an unknown icon with a default one, so the bytes are compared).
      const icons = new Set();
      for (const f of fs.readdirSync(path.join(installedPkg, "nodes")).filter((f) => f.endsWith(".html"))) {
        const html = fs.readFileSync(path.join(installedPkg, "nodes", f), "utf8");
        for (const m of html.matchAll(/icon\s*:\s*["']([^"'/]+\.(?:svg|png))["']/g)) icons.add(m[1]);
      }
      for (const icon of icons) {
        const file = path.join(installedPkg, "nodes", "icons", icon);
        const i = await http(`${base}/icons/${modName}/${icon}`, { accept: "*/*" });
        if (i.status !== 200 || !fs.existsSync(file) || i.text !== fs.readFileSync(file, "utf8"))
          problems.push(`icon ${icon} → ${i.status}, not the shipped file`);
      }
      assert(!problems.length, problems.join("; "));
      return `${icons.size} icons`;
    });

    // The first request may race the config node's first connection to its simulator: a 502 "not
    // connected" is retried for up to 20 s; any other answer counts.
    async function sale(url, want, wantStatus) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const r = await http(url, { accept: "*/*", timeoutMs: 30_000 });
        if (r.status === 502 && Date.now() < deadline && /connect/i.test(r.text)) {
          await delay(500);
          continue;
        }
        assert(r.status === wantStatus, `GET ${url.slice(base.length)} → ${r.status} ${oneLine(r.text)}`);
        return want(r);
      }
    }

    await check(col, "sale 1250 approved (compat flow)", () =>
      sale(
        `${base}/compat/sale?amount=1250`,
        (r) => {
          const p = r.json || {};
          assert(p.status === "CAPTURED" && p.amount === 1250 && p.paymentId, `payload ${oneLine(r.text)}`);
          return `${p.status} ${p.paymentId}`;
        },
        200,
      ),
    );

    await check(col, "sale 1201 declined → output 2", () =>
      sale(
        `${base}/compat/sale?amount=1201`,
        (r) => {
          assert(r.json && r.json.status === "DECLINED", `payload ${oneLine(r.text)}`);
          return "402 DECLINED";
        },
        402,
      ),
    );

    if (exampleSale) {
      await check(col, "sale 1250 via shop-counter example", () =>
        sale(
          `${base}${exampleSale}?amount=1250`,
          (r) => {
            assert(/12\.50/.test(r.text), `receipt without 12.50: ${oneLine(r.text)}`);
            return `${exampleSale} → receipt`;
          },
          200,
        ),
      );
    } else {
      skip(col, "sale 1250 via shop-counter example", "examples/shop-counter.json has no GET http in");
    }

    // README "What a flow export contains": a pac-config's credentials live in flows_cred.json,
    // never in the flow. Deployed through the admin API like the editor does (the config has no
    // users, so it never connects).
    await check(col, "credentials not in the flow", async () => {
      const secret = `compat-secret-${process.pid}-${Date.now()}`;
      const id = "c0a7f100000000cc";
      const cur = await http(`${base}/flows`);
      assert(cur.status === 200 && Array.isArray(cur.json), `GET /flows → ${cur.status}`);
      const config = {
        id,
        type: "pac-config",
        name: "export check",
        environment: "custom",
        url: "ws://127.0.0.1:9",
        eposId: "export-check",
        softwareHouseId: "shopflow-compat",
        resellerId: "",
        requestTimeout: 30,
        credentials: { accountName: "compat-account", apiKey: secret },
      };
      const before = (output.match(/Started modified nodes/g) || []).length;
      const dep = await http(`${base}/flows`, { method: "POST", body: [...cur.json, config], headers: { "Node-RED-Deployment-Type": "nodes" } });
      assert(dep.status === 200 || dep.status === 204, `POST /flows → ${dep.status} ${oneLine(dep.text)}`);
      // the deploy answers before the modified nodes have started (stopping Node-RED 3.1 meanwhile throws)
      for (const deadline = Date.now() + 15_000; (output.match(/Started modified nodes/g) || []).length === before;) {
        assert(Date.now() < deadline, 'no "Started modified nodes" within 15 s of the deploy');
        await delay(100);
      }
      const after = await http(`${base}/flows`);
      assert(after.status === 200 && Array.isArray(after.json) && after.json.some((n) => n.id === id), "deployed config not in GET /flows");
      assert(!after.text.includes(secret), "GET /flows contains the apiKey");
      const onDisk = fs.readFileSync(path.join(userDir, "flows.json"), "utf8");
      assert(onDisk.includes(id) && !onDisk.includes(secret), "flows.json contains the apiKey (or not the config)");
      const credFile = path.join(userDir, "flows_cred.json");
      assert(fs.existsSync(credFile) && fs.readFileSync(credFile, "utf8").includes(secret), "apiKey not stored in flows_cred.json");
      const cred = await http(`${base}/credentials/pac-config/${id}`);
      assert(
        cred.status === 200 && cred.json && cred.json.accountName === "compat-account" && cred.json.has_apiKey === true && !cred.text.includes(secret),
        `GET /credentials/pac-config/${id} → ${cred.status} ${oneLine(cred.text)}`,
      );
      return "apiKey only in flows_cred.json";
    });

    if (dashboardOk) {
      // Imported as the editor does (Import → Examples → till-dashboard, then a full deploy):
      // every type known, flows started, the till's page served by the dashboard.
      await check(col, "till-dashboard example runs", async () => {
        const ex = await http(`${base}/library/examples/flows/${modName}/till-dashboard`);
        assert(ex.status === 200 && Array.isArray(ex.json), `till-dashboard → ${ex.status}`);
        const mark = output.length;
        const dep = await http(`${base}/flows`, { method: "POST", body: ex.json, headers: { "Node-RED-Deployment-Type": "full" } });
        assert(dep.status === 200 || dep.status === 204, `POST /flows → ${dep.status} ${oneLine(dep.text)}`);
        for (const deadline = Date.now() + 20_000; !/Started flows/.test(output.slice(mark));) {
          assert(!/Waiting for missing types/.test(output.slice(mark)), `missing types:${oneLine(output.slice(mark), 300)}`);
          assert(Date.now() < deadline, 'no "Started flows" within 20 s of deploying till-dashboard');
          await delay(100);
        }
        const nodes = await http(`${base}/nodes`);
        const ui = nodes.json.find((set) => (set.types || []).includes("ui-template"));
        assert(ui && ui.module === DASHBOARD && ui.enabled === true && !ui.err, `ui-template: ${JSON.stringify(ui)}`);
        const page = await http(`${base}/dashboard/till`, { accept: "text/html" });
        assert(page.status === 200 && /<div id="app"/.test(page.text), `GET /dashboard/till → ${page.status}`);
        return `${ex.json.length} nodes, /dashboard/till`;
      });
    } else if (withDashboard) {
      skip(col, "till-dashboard example runs", `${DASHBOARD} not installed`);
    }

    await check(col, "clean stop (SIGINT)", async () => {
      killGroup(child, "SIGINT");
      const res = await Promise.race([exitedP, delay(20_000).then(() => null)]);
      assert(res, "still running 20 s after SIGINT");
      const errors = output.split("\n").filter((l) => /\[error\]/.test(l));
      assert(!errors.length, `errors in the log:\n${errors.slice(0, 5).join("\n")}`);
      return `exit ${res.code ?? res.signal}`;
    });
  } finally {
    if (!exited) killGroup(child, "SIGKILL");
    await Promise.race([exitedP, delay(5_000)]);
    fs.closeSync(logOut);
  }
}

// ---- the engine without Node-RED --------------------------------------------------------------------

async function engineSetup(tmp, tarball) {
  const dir = path.join(tmp, "engine");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "engine-consumer", version: "0.0.0", private: true }, null, 2));
  await npm(["install", tarball, "--omit=dev", "--loglevel=error"], dir, 5 * 60_000);
  for (const f of ["engine-smoke.js", "engine-esm.mjs", "consumer.ts"]) fs.copyFileSync(path.join(compatDir, f), path.join(dir, f));
  return dir;
}

async function engineTarget(col, dir, nodeBin, withTypes) {
  await check(col, "require() + one sale with PacClient", async () => {
    const r = await run(nodeBin, ["engine-smoke.js"], { cwd: dir, timeoutMs: 60_000 });
    assert(r.code === 0, `exit ${r.code}:\n${tail(r.out)}`);
    return tail(r.stdout, 1);
  });
  await check(col, "import (ESM) named exports", async () => {
    const r = await run(nodeBin, ["engine-esm.mjs"], { cwd: dir, timeoutMs: 30_000 });
    assert(r.code === 0, `exit ${r.code}:\n${tail(r.out)}`);
    return tail(r.stdout, 1);
  });
  if (withTypes) {
    await check(col, ".d.ts: TypeScript consumer compiles", async () => {
      const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
      const typeRoots = path.join(root, "node_modules", "@types");
      const r = await run(
        process.execPath,
        [
          tsc,
          "--noEmit",
          "--strict",
          "--target",
          "ES2022",
          "--module",
          "commonjs",
          "--moduleResolution",
          "node",
          "--types",
          "node",
          "--typeRoots",
          typeRoots,
          "consumer.ts",
        ],
        { cwd: dir, timeoutMs: 120_000 },
      );
      assert(r.code === 0, `tsc exit ${r.code}:\n${tail(r.out)}`);
      return "tsc --strict ok";
    });
  }
}

// ---- main -------------------------------------------------------------------------------------------

function printTable() {
  const rows = [];
  for (const col of columns) for (const name of col.checks.keys()) if (!rows.includes(name)) rows.push(name);
  const head = ["check", ...columns.map((c) => c.title)];
  const body = rows.map((name) => [name, ...columns.map((c) => (c.checks.has(name) ? (c.checks.get(name).ok ? "pass" : "FAIL") : "·"))]);
  body.push(["time", ...columns.map((c) => secs(c.ms))]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((cell, i) => String(cell).padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  console.log("");
  for (const c of columns) console.log(`${c.title.padEnd(Math.max(...columns.map((x) => x.title.length)))}  ${c.desc}`);
  console.log("");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of body) console.log(line(r));
  const failures = [];
  for (const col of columns) for (const [name, res] of col.checks) if (!res.ok) failures.push(`- ${col.desc} · ${name}: ${res.detail}`);
  if (failures.length) console.log(`\nFailures:\n${failures.join("\n")}`);
  const all = columns.flatMap((c) => [...c.checks.values()]);
  const passed = all.filter((r) => r.ok).length;
  console.log(`\ncompat: ${passed} passed, ${all.length - passed} failed (${secs(Date.now() - T0)})`);
  return all.length > 0 && passed === all.length;
}

async function main() {
  fs.mkdirSync(npmCache, { recursive: true });
  const tmp = (tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-compat-")));
  log(`${pkg.name}@${pkg.version}; node-red.version ${JSON.stringify(pkg["node-red"].version)}; temp dir ${tmp}; npm cache ${path.relative(root, npmCache)}`);

  const packCol = column("pack", "pack", "npm pack of the working tree (prepack builds)");
  let packed = null;
  await check(packCol, "tarball: needed files, nothing else", async () => {
    const t = Date.now();
    packed = await pack(tmp);
    log(`  packed ${path.basename(packed.tarball)}: ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} kB (${secs(Date.now() - t)})`);
    checkContents(packed.files, iconsInHtml());
    return `${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} kB`;
  });
  packCol.ms = Date.now() - T0;

  // Resolve the targets and start the installs together (they are network-bound).
  const targets = [];
  if (wanted("min")) targets.push({ id: "min", what: "lowest declared", range: null, node: "20" });
  if (wanted("4")) targets.push({ id: "4", what: "newest 4.x", range: ">=4 <5", node: "20" });
  if (wanted("5")) targets.push({ id: "5", what: "newest 5.x", range: ">=5 <6", node: "22" });
  let node22P = null;
  let node18P = null;
  if (targets.some((t) => t.node === "22") || wanted("engine")) node22P = nodeFromNpm(22).catch((err) => ({ err }));
  // engines.node's lower bound, for the engine check
  const engineMin = /^>=\s*(\d+)/.exec((pkg.engines && pkg.engines.node) || "");
  if (wanted("engine") && engineMin && engineMin[1] !== "20" && engineMin[1] !== "22") node18P = nodeFromNpm(engineMin[1]).catch((err) => ({ err }));
  for (const t of targets) {
    t.versionP = (async () => (t.range ? newest(t.range) : lowestDeclared()))();
    t.redP = t.versionP.then((v) => installNodeRed(v)).catch((err) => ({ err }));
    t.versionP = t.versionP.catch((err) => ({ err }));
  }
  const engineP = packed && wanted("engine") ? engineSetup(tmp, packed.tarball).catch((err) => ({ err })) : null;

  for (const t of targets) {
    const t0 = Date.now();
    const version = await t.versionP;
    const red = await t.redP;
    const n22 = t.node === "22" ? await node22P : null;
    const nodeVersion = t.node === "22" ? (n22 && n22.version) || "v22?" : process.version;
    const col = column(
      t.id,
      `NR ${typeof version === "string" ? version : "?"}`,
      `Node-RED ${typeof version === "string" ? version : "?"} (${t.what}) on Node ${nodeVersion}`,
    );
    const ok = await check(col, "install Node-RED (+ node 22)", async () => {
      if (version.err) throw version.err;
      if (red.err) throw red.err;
      if (n22 && n22.err) throw n22.err;
      return "";
    });
    if (!ok || !packed) {
      skip(col, "install tarball in userDir", ok ? "no tarball" : "no Node-RED");
    } else {
      log(`Node-RED ${version} on Node ${nodeVersion} (${t.what})`);
      await nodeRedTarget(col, { tmp, tarball: packed.tarball, version, nodeBin: t.node === "22" ? n22.bin : process.execPath, red, label: t.id });
    }
    col.ms = Date.now() - t0;
  }

  if (wanted("engine")) {
    const t0 = Date.now();
    const dir = engineP ? await engineP : { err: new Error("no tarball") };
    const n22 = await node22P;
    const c20 = column("engine20", `engine n${process.versions.node.split(".")[0]}`, `engine without Node-RED on Node ${process.version}`);
    const c22 = column("engine22", "engine n22", `engine without Node-RED on Node ${(n22 && n22.version) || "22 (not found)"}`);
    const nMin = node18P ? await node18P : null;
    const cMin = node18P
      ? column(
          "engineMin",
          `engine n${engineMin[1]}`,
          `engine without Node-RED on Node ${(nMin && nMin.version) || `${engineMin[1]} (not found)`} (lowest in engines.node)`,
        )
      : null;
    log("engine without Node-RED");
    const setupOk = await check(c20, "install tarball in fresh dir", async () => {
      if (dir.err) throw dir.err;
    });
    if (setupOk) {
      await engineTarget(c20, dir, process.execPath, true);
      c20.ms = Date.now() - t0;
      for (const [col, np] of [
        [c22, n22],
        [cMin, nMin],
      ]) {
        if (!col) continue;
        const t1 = Date.now();
        if (np && !np.err) await engineTarget(col, dir, np.bin, false);
        else skip(col, "require() + one sale with PacClient", `no node binary: ${np && np.err && np.err.message}`);
        col.ms = Date.now() - t1;
      }
    }
  }

  const ok = printTable();
  if (ok && !keep) fs.rmSync(tmp, { recursive: true, force: true });
  else console.log(`temp dir kept: ${tmp} (Node-RED logs: node-red-*.log)`);
  killAll();
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  console.error("[compat]", err);
  killAll();
  process.exit(1);
});
