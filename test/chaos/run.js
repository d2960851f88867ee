#!/usr/bin/env node
"use strict";
/*
 * Chaos campaign (npm run test:chaos): a seeded random schedule of sales, pre-auths, refunds,
 * cancels and signature answers, interleaved with faults (redeploys of the three kinds, a changed
 * epos-id, a duplicated config, SIGKILL/SIGTERM and restart, socket drops, half-open sockets,
 * duplicated/delayed records, Dojo outages and, when test/faults/support/fs-faults.js exists,
 * storage errors), against the REAL package in a REAL Node-RED child process with our simulator as
 * Dojo in this process. After the faults stop everything is healed and drained, then invariants are
 * checked against the simulator's own ledger, the child's journal files and the results the flow
 * printed (see invariants.js). In the spirit of Jepsen and of deterministic simulation testing.
 *
 *   node test/chaos/run.js [--seed N] [--seconds S] [--terminals 3] [--keep]
 *
 * The schedule (which action, with which amounts, terminals and ids, at which offset) is a pure
 * function of the seed, the chaos duration and whether storage faults are available; it is
 * fingerprinted by the printed plan hash. Timing is real (processes, sockets, disks), so a replay
 * with the same seed runs the same schedule but is only best-effort: where a kill lands relative to a
 * payment can differ. --seconds is the budget of this script (default 170: setup, chaos, healing and
 * checks); the chaos phase is that minus a reserve for the rest.
 *
 * Exit 0 when every invariant holds, 1 when one fails, 2 when the harness itself could not run.
 */
const fs = require("fs");
const os = require("os");
const path = require("path");
const { until, delay } = require("../wait");
const helpers = require("../faults/helpers");
const { PacSimulator, prepareUserDir, redProcess, tcpProxy, cleanup } = helpers;
const { ERROR_CODE } = require("../../dist/protocol");
const { makePlan, describeStep } = require("./schedule");
const { tillFlow, MARK } = require("./flow");
const { JournalView } = require("./journal-view");
const { checkAll, isResult, FINAL } = require("./invariants");

const FS_FAULTS = path.join(__dirname, "..", "faults", "support", "fs-faults.js");
const RESERVE_MS = 45_000;
const ORIGINAL_EPOS = "till-a";

function parseArgs(argv) {
  const o = { seed: undefined, seconds: 170, terminals: 3, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--seed") o.seed = Number(val());
    else if (a === "--seconds") o.seconds = Number(val());
    else if (a === "--terminals") o.terminals = Number(val());
    else if (a === "--keep") o.keep = true;
    else throw new Error(`unknown argument ${a} (use --seed N --seconds S --terminals N --keep)`);
  }
  if (o.seed === undefined) o.seed = (Date.now() ^ (process.pid << 8)) >>> 0;
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new Error("--seed must be a whole number >= 0");
  if (!(o.seconds >= 30)) throw new Error("--seconds must be at least 30");
  if (!Number.isInteger(o.terminals) || o.terminals < 1 || o.terminals > 20) throw new Error("--terminals must be 1..20");
  return o;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  console.log(`chaos seed=${opts.seed}`);
  const started = Date.now();
  const storage = fs.existsSync(FS_FAULTS);
  const chaosMs = Math.max(10_000, opts.seconds * 1000 - RESERVE_MS);
  const plan = makePlan({ seed: opts.seed, chaosMs, terminals: opts.terminals, storage });
  const count = (k) => plan.steps.filter((s) => s.kind === k).length;
  console.log(
    `plan ${plan.hash}: ${plan.steps.length} steps over ${(chaosMs / 1000).toFixed(0)} s, ${opts.terminals} terminals` +
      ` (sales ${count("sale")}, pre-auths ${count("preauth")}, refunds ${count("refund")}, cancels ${count("cancel")},` +
      ` deploys ${count("deploy")}, kills ${count("kill")}, drops ${count("drop")}, storage ${count("storage")})`,
  );
  console.log("replay is best-effort: the schedule is a function of the seed, the timing of real processes is not");
  if (!storage) console.log(`note: ${path.relative(process.cwd(), FS_FAULTS)} is absent: storage-fault actions are skipped`);

  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pac-chaos-"));
  const h = new Harness({ opts, plan, chaosMs, storage, root });
  let failed = 0;
  let harnessError = null;
  try {
    await h.setup();
    await h.runChaos();
    await h.heal();
    const results = h.check();
    failed = h.report(results);
  } catch (e) {
    harnessError = e;
  } finally {
    await h.teardown();
  }
  const keep = opts.keep || failed > 0 || harnessError;
  if (harnessError) {
    h.printLog();
    console.log(`chaos: the harness could not run: ${harnessError.stack || harnessError}`);
  }
  if (keep) console.log(`kept ${root} (events.log, results.jsonl, userdir/ with the journal)`);
  else fs.rmSync(root, { recursive: true, force: true });
  if (failed > 0 || harnessError)
    console.log(
      `replay: npm run test:chaos -- --seed ${opts.seed}${opts.seconds !== 170 ? ` --seconds ${opts.seconds}` : ""}${opts.terminals !== 3 ? ` --terminals ${opts.terminals}` : ""}`,
    );
  console.log(`runtime ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (harnessError) {
    console.log("0 passed, 1 failed");
    console.log("chaos: harness error, no verdict");
    return 2;
  }
  for (const line of h.summary) console.log(line);
  return failed > 0 ? 1 : 0;
}

class Harness {
  constructor({ opts, plan, chaosMs, storage, root }) {
    this.opts = opts;
    this.plan = plan;
    this.chaosMs = chaosMs;
    this.storage = storage;
    this.root = root;
    this.userDir = path.join(root, "userdir");
    this.control = path.join(root, "fs-faults.json");
    this.t0 = Date.now();
    this.log = [];
    this.results = [];
    this.outputOffset = 0;
    this.kills = [];
    this.opStart = new Map();
    this.ackChecks = { count: 0, violations: [] };
    this.requests = { count: 0, hung: [], tolerated: [] };
    /** When each deploy and kill began (a request around one may lose its msg inside Node-RED). */
    this.lifecycleTimes = [];
    this.exits = { unexpected: [] };
    this.heal_ = { notes: [] };
    this.expectExit = false;
    this.storageActive = false;
    this.storageHealedAt = 0;
    this.lifecycle = Promise.resolve();
    this.inflight = new Set();
    this.eposIds = new Set([ORIGINAL_EPOS]);
    this.stats = { http: {}, deployFailures: 0, restarts: 0 };
  }

  note(kind, text) {
    const line = `[+${((Date.now() - this.t0) / 1000).toFixed(3)}s] ${kind.padEnd(7)} ${text}`;
    this.log.push(line);
  }

  // ---- setup ----------------------------------------------------------------------------------

  async setup() {
    fs.mkdirSync(this.userDir);
    this.sim = await PacSimulator.start({
      host: "127.0.0.1",
      port: 0,
      terminals: this.opts.terminals,
      delays: 20,
      manual: false,
      recordRetryMs: 300,
      presentCardTimeoutMs: 4000,
      signatureTimeoutMs: 6000,
      virtualTerminal: false,
    });
    this.proxy = await tcpProxy(this.sim.port);
    const url = `ws://127.0.0.1:${this.proxy.port}${new URL(this.sim.url).pathname}`;
    this.state = { eposId: ORIGINAL_EPOS, dup: false, rev: {}, url, credentials: { ...this.sim.credentials } };
    this.journal = new JournalView(this.userDir, { duringStorageFault: () => this.storageActive || Date.now() - this.storageHealedAt < 3000 });
    this.watchSim();
    if (this.storage) this.writeControl([]);
    this.red = await redProcess(this.userDir, this.storage ? { preload: FS_FAULTS, env: { PAC_TEST_FS_FAULTS: this.control } } : {});
    prepareUserDir(this.userDir, {
      flows: tillFlow(this.state),
      credentials: { cfg: { ...this.sim.credentials } },
      port: this.red.port,
      settings: {
        logging: { console: { level: "info", metrics: false, audit: false } },
        // half-open sockets are noticed within two intervals
        dojoPac: { heartbeatIntervalMs: 2000 },
      },
    });
    this.reader = setInterval(() => this.readResults(), 50);
    await this.startRed();
    await until(() => this.sim.connections().includes(ORIGINAL_EPOS), "the till connected", 15000);
    this.note("setup", `Node-RED on ${this.red.port}, simulator on ${this.sim.port} behind proxy ${this.proxy.port}, userDir ${this.userDir}`);
  }

  writeControl(rules) {
    const tmp = `${this.control}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(rules));
    fs.renameSync(tmp, this.control);
    if (this.storageActive && rules.length === 0) this.storageHealedAt = Date.now();
    this.storageActive = rules.length > 0;
  }

  /** Record-ack check (invariant 3) and a trace of connections in the event log. */
  watchSim() {
    const sim = this.sim;
    const recordReqs = new Map();
    sim.on("frameOut", (f) => {
      if (!f.text.includes('"Record')) return;
      let m;
      try {
        m = JSON.parse(f.text);
      } catch {
        return;
      }
      if ((m.method === "RecordPayment" || m.method === "RecordRefund") && m.params) recordReqs.set(m.id, m.params.paymentId);
    });
    sim.on("frameIn", (f) => {
      if (!f.text.includes('"id"')) return;
      let m;
      try {
        m = JSON.parse(f.text);
      } catch {
        return;
      }
      if (m.method !== undefined || !recordReqs.has(m.id)) return;
      const paymentId = recordReqs.get(m.id);
      recordReqs.delete(m.id);
      const r = m.result;
      const errCode = m.error ? m.error.code : r && typeof r === "object" && typeof r.code === "number" ? r.code : undefined;
      if (errCode !== undefined && errCode !== ERROR_CODE.PAYMENT_ALREADY_RECORDED) {
        this.note("ack", `record ${paymentId} answered with error ${errCode} (not an acknowledgement)`);
        return;
      }
      this.ackChecks.count++;
      this.journal.refresh();
      if (!this.journal.hasRecord(paymentId)) {
        // Read everything again: the incremental reader misses a line written over bytes it had read.
        const fresh = new JournalView(this.userDir);
        fresh.refresh();
        if (fresh.hasRecord(paymentId)) {
          this.journal.rewrites.push(`record ${paymentId} found at its ack only by reading the files again: bytes already read were written over`);
          this.note("journal", `record ${paymentId}: on disk, but not where the journal had appended before (file written over)`);
          return;
        }
        const v = `record ${paymentId} acknowledged by ${f.eposId} at +${((Date.now() - this.t0) / 1000).toFixed(3)}s with no record line in ${this.journal.dir}`;
        this.ackChecks.violations.push(v);
        this.note("VIOLATE", v);
      }
    });
    sim.on("connection", (c) => this.note("dojo", `${c.eposId} connected`));
    sim.on("disconnection", (c) => this.note("dojo", `${c.eposId} disconnected (${c.code}${c.displaced ? ", displaced" : ""})`));
  }

  async startRed() {
    this.expectExit = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.red.start(30000);
        break;
      } catch (e) {
        this.note("life", `Node-RED start ${attempt} failed: ${String(e.message).split("\n")[0]}`);
        if (attempt >= 3) throw e;
        await this.red.kill9();
        await delay(500);
      }
    }
    this.stats.restarts++;
    const child = this.red.child;
    void this.red.exited.then(({ code, signal }) => {
      if (this.red.child !== child) return;
      if (this.expectExit) return;
      const what = `exit ${code ?? signal} at +${((Date.now() - this.t0) / 1000).toFixed(3)}s`;
      this.exits.unexpected.push(what);
      this.note("CRASH", `Node-RED ${what}`);
      // carry on: restart it (after whatever the lifecycle is doing)
      this.lifecycle = this.lifecycle
        .then(() => (this.red.child === child ? this.startRed() : undefined))
        .catch((e) => this.note("life", `restart after crash failed: ${e.message}`));
    });
  }

  get redRunning() {
    const c = this.red && this.red.child;
    return c && c.exitCode === null && c.signalCode === null;
  }

  /** CHAOS-RESULT lines printed by the flow's sinks (stdout of every Node-RED run so far). */
  readResults() {
    const out = this.red ? this.red.output : "";
    const end = out.lastIndexOf("\n");
    if (end < this.outputOffset) return;
    const text = out.slice(this.outputOffset, end + 1);
    this.outputOffset = end + 1;
    for (const l of text.split("\n")) {
      const i = l.indexOf(MARK);
      if (i < 0) continue;
      let r;
      try {
        r = JSON.parse(l.slice(i + MARK.length));
      } catch {
        this.note("result", `unparsable: ${l.slice(0, 200)}`);
        continue;
      }
      this.results.push(r);
      fs.appendFileSync(path.join(this.root, "results.jsonl"), JSON.stringify(r) + "\n");
      const err = r.error ? ` error ${r.error.code}: ${r.error.message.slice(0, 160)}` : "";
      const extra = [r.status, r.topic && r.topic !== "record" ? r.topic : null, r.state, r.orphan ? "orphan" : null, r.redelivered ? "redelivered" : null]
        .filter(Boolean)
        .join(" ");
      this.note("result", `${r.node}:${r.out + 1} ${r.paymentId ?? ""} ${extra}${err}`);
    }
  }

  // ---- the chaos phase ------------------------------------------------------------------------------

  async runChaos() {
    const start = Date.now();
    this.note("chaos", `start: ${this.plan.steps.length} steps`);
    for (const step of this.plan.steps) {
      const wait = start + step.at - Date.now();
      if (wait > 0) await delay(wait);
      this.dispatch(step);
    }
    this.note("chaos", "schedule done; waiting for the actions in flight");
    await this.settleActions(30000);
  }

  async settleActions(ms) {
    const all = Promise.allSettled([...this.inflight, this.lifecycle]);
    await Promise.race([all, delay(ms)]);
    await this.lifecycle.catch(() => undefined);
  }

  track(p) {
    const q = p.catch((e) => this.note("error", `harness: ${e.stack || e}`)).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  onLifecycle(fn) {
    this.lifecycle = this.lifecycle.then(fn).catch((e) => this.note("error", `lifecycle: ${e.message}`));
  }

  dispatch(step) {
    this.note("action", describeStep(step));
    switch (step.kind) {
      case "sale":
      case "preauth":
        this.opStart.set(step.id, Date.now());
        return this.track(
          this.post(step, step.target === "pay2" ? "/sale2" : `/${step.kind}`, { amount: step.amount, paymentId: step.id, terminalId: step.terminalId }),
        );
      case "refund":
        this.opStart.set(step.id, Date.now());
        return this.track(this.post(step, "/refund", { amount: step.amount, paymentId: step.id, terminalId: step.terminalId }));
      case "cancel":
        return this.track(this.post(step, "/cancel", { paymentId: step.ref }));
      case "signature":
        return this.track(this.post(step, "/signature", { paymentId: step.ref, accepted: step.accepted }));
      case "update":
      case "capture":
        return this.track(this.post(step, `/${step.kind}`, { paymentId: step.ref, amount: step.amount }));
      case "deploy":
        return this.onLifecycle(() => {
          this.state.rev[step.touch] = (this.state.rev[step.touch] || 0) + 1;
          return this.deploy(step.type);
        });
      case "epos":
        return this.onLifecycle(() => {
          this.state.eposId = step.eposId;
          this.eposIds.add(step.eposId);
          return this.deploy(step.type);
        });
      case "dup":
        return this.onLifecycle(() => {
          this.state.dup = step.on;
          return this.deploy(step.type);
        });
      case "kill":
        return this.onLifecycle(() => this.kill(step));
      case "drop":
        return this.drop(step.how);
      case "simFault":
        return this.sim.faults.set(step.set);
      case "outage":
        return this.track(
          (async () => {
            await this.sim.suspend();
            await delay(step.ms);
            await this.sim.resume();
            this.note("fault", "Dojo back");
          })(),
        );
      case "storage":
        if (!this.storage) return undefined;
        return this.writeControl(step.rules);
      default:
        throw new Error(`unknown step ${step.kind}`);
    }
  }

  /** POST to an http in endpoint of the flow; the answer (or error) is bounded by RedProcess.request. */
  async post(step, urlPath, body) {
    const t = Date.now();
    this.requests.count++;
    const op = step.id || step.ref;
    try {
      const r = await this.red.request("POST", urlPath, { chaos: { op, kind: step.kind, seq: step.seq }, body });
      this.stats.http[r.status] = (this.stats.http[r.status] || 0) + 1;
      if (r.status !== 202) this.note("http", `${urlPath} ${op}: ${r.status} ${r.text.replace(/\s+/g, " ").slice(0, 100)}`);
    } catch (e) {
      const msg = String(e.message);
      this.stats.http[e.code || "error"] = (this.stats.http[e.code || "error"] || 0) + 1;
      if (/timed out/.test(msg)) {
        // Node-RED drops the msg of an http in node it stops during a deploy or shutdown: the request
        // then never gets its 202. That is Node-RED's, so only a request with no deploy or kill near is hung.
        const near = this.lifecycleTimes.some((x) => x >= t - 1000 && x <= t + 10000);
        if (near) this.requests.tolerated.push(`${urlPath} ${op}`);
        else this.requests.hung.push(`${urlPath} ${op} (${msg}) after ${Date.now() - t} ms`);
      }
      this.note("http", `${urlPath} ${op}: ${e.code || msg}`);
    }
  }

  async deploy(type) {
    if (!this.redRunning) {
      this.note("life", `deploy ${type} skipped: Node-RED is not running`);
      return false;
    }
    const flows = tillFlow(this.state);
    this.lifecycleTimes.push(Date.now());
    try {
      const r = await this.red.request("POST", "/flows", flows, { "Node-RED-Deployment-Type": type });
      const ok = r.status === 200 || r.status === 204;
      if (!ok) this.stats.deployFailures++;
      this.note(
        "life",
        `deploy ${type} (epos ${this.state.eposId}${this.state.dup ? ", duplicated config" : ""}): ${r.status}${ok ? "" : ` ${r.text.slice(0, 200)}`}`,
      );
      return ok;
    } catch (e) {
      this.stats.deployFailures++;
      this.note("life", `deploy ${type} failed: ${e.code || e.message}`);
      return false;
    }
  }

  async kill(step) {
    if (!this.redRunning) {
      this.note("life", `${step.signal} skipped: Node-RED is not running`);
      return;
    }
    this.expectExit = true;
    const at = Date.now();
    this.kills.push({ at, signal: step.signal });
    this.lifecycleTimes.push(at);
    if (step.signal === "SIGKILL") {
      await this.red.kill9();
    } else {
      this.red.child.kill("SIGTERM");
      const gone = await Promise.race([this.red.exited.then(() => true), delay(15000).then(() => false)]);
      if (!gone) {
        this.note("life", "SIGTERM: still running after 15 s, SIGKILL");
        await this.red.kill9();
      }
    }
    this.note("life", `Node-RED down (${step.signal}) after ${Date.now() - at} ms`);
    await delay(step.downMs);
    if (this.storageActive) {
      // a restart that cannot write its own files is not this package's problem
      this.writeControl([]);
      this.note("life", "storage healed for the restart");
    }
    await this.startRed();
    this.note("life", `Node-RED up again (${Date.now() - at} ms after the kill)`);
  }

  drop(how) {
    const f = this.sim.faults;
    if (how === "CreatePayment") f.set({ dropBeforeResponse: "CreatePayment" });
    else if (how === "PRESENT_CARD") f.set({ dropAfterNotification: "PRESENT_CARD" });
    else if (how === "signature") f.set({ dropOnSignatureRequest: true });
    else if (how === "record") f.set({ dropAfterRecord: true });
    else if (how === "blackhole") this.proxy.blackhole();
  }

  // ---- healing and drain ------------------------------------------------------------------------------

  async heal() {
    this.note("heal", "faults off, storage healed, original flow");
    this.sim.faults.clear();
    if (this.sim.isSuspended) await this.sim.resume();
    if (this.storage) this.writeControl([]);
    if (!this.redRunning) await this.startRed();
    this.state = { ...this.state, eposId: ORIGINAL_EPOS, dup: false, rev: {} };
    await this.deploy("nodes");
    const connected = () => this.sim.connections().includes(ORIGINAL_EPOS);
    if (!(await this.waitFor(connected, 10000))) {
      this.heal_.notes.push(
        `${ORIGINAL_EPOS} not connected 10 s after the original flow was deployed (connections: ${JSON.stringify(this.sim.connections())}); a full deploy follows`,
      );
      await this.deploy("full");
      if (!(await this.waitFor(connected, 10000))) {
        this.heal_.notes.push(`${ORIGINAL_EPOS} still not connected after a full deploy; Node-RED restarted`);
        await this.kill({ signal: "SIGTERM", downMs: 0 });
        await this.waitFor(connected, 10000);
      }
    }
    // Nobody is at the terminals any more: decline whatever waits for a card.
    const idle = () => {
      let all = true;
      for (const t of this.sim.terminals()) {
        if (t.step === "idle") continue;
        all = false;
        if (t.step === "presentCard" || t.step === "pinEntry") this.sim.act(t.terminalId, "decline").catch(() => undefined);
      }
      return all;
    };
    if (!(await this.waitFor(idle, 20000, 200)))
      this.heal_.notes.push(`terminals still busy after 20 s: ${JSON.stringify(this.sim.terminals().map((t) => [t.terminalId, t.step, t.paymentId]))}`);
    const pending = () => [...this.eposIds].flatMap((e) => this.sim.pendingRecords(e).map((r) => `${e}:${r.paymentId}`));
    // A record pending for a payment the package lists open (with its reason, e.g. an identity no
    // deployed connection uses any more) is what the listing is for: not a failure to heal.
    let listed = new Map();
    const unlisted = () => pending().filter((k) => !listed.has(k.slice(k.indexOf(":") + 1)));
    const until20 = Date.now() + 20000;
    while (pending().length > 0 && Date.now() < until20) {
      listed = await this.fetchOpen({ quiet: true });
      if (unlisted().length === 0) break;
      await delay(200);
    }
    if (unlisted().length > 0) this.heal_.notes.push(`records still pending at Dojo after 20 s: ${unlisted().join(", ")}`);
    // Every created payment final, and its result printed (bounded; a missing one is invariant 1's).
    const created = this.createdIds();
    const resultIds = () => new Set(this.results.filter(isResult).map((r) => r.paymentId));
    await this.waitFor(
      () => {
        const got = resultIds();
        return [...created].every((id) => FINAL.has(this.sim.payment(id).status) && got.has(id));
      },
      10000,
      100,
    );
    this.openListed = await this.fetchOpen();
    await delay(1500); // a duplicate would show up by now
    this.readResults();
    this.journal.refresh();
    this.note("heal", "done");
  }

  async waitFor(check, ms, every = 50) {
    try {
      await until(check, "heal", ms, every);
      return true;
    } catch {
      return false;
    }
  }

  createdIds() {
    const ids = [...this.sim.stats.createPaymentIds, ...this.sim.stats.createRefundIds];
    return new Set(ids.filter((id) => this.sim.payment(id) !== undefined));
  }

  /** GET /pac/open-payments (admin): id -> reason; empty when the endpoint does not exist (yet). */
  async fetchOpen({ quiet = false } = {}) {
    const out = new Map();
    try {
      const r = await this.red.request("GET", "/pac/open-payments");
      if (r.status === 404) {
        this.note("heal", "GET /pac/open-payments: 404 (endpoint absent: nothing counts as listed)");
        return out;
      }
      const body = JSON.parse(r.text);
      for (const c of body.connections || []) for (const p of c.open || []) out.set(p.paymentId, `${c.eposId}/${c.state}: ${p.reason}`);
      if (!quiet) {
        this.note("heal", `GET /pac/open-payments: ${out.size} open`);
        for (const [id, why] of out) this.note("heal", `open ${id}: ${why}`);
      }
    } catch (e) {
      this.note("heal", `GET /pac/open-payments failed: ${e.message}`);
    }
    return out;
  }

  // ---- verdict ----------------------------------------------------------------------------------

  check() {
    const crashLines = this.red.output
      .split("\n")
      .filter((l) => /Uncaught Exception|unhandledRejection|UnhandledPromiseRejection|FATAL ERROR|heap out of memory|Maximum call stack/i.test(l))
      .slice(0, 20);
    // The final state of the files, read from scratch (what a restart would read).
    const final = new JournalView(this.userDir);
    final.refresh();
    final.rewrites = this.journal.rewrites;
    final.badLines = [...new Set([...this.journal.badLines, ...final.badLines])];
    return checkAll({
      journal: final,
      sim: this.sim,
      createdIds: this.createdIds(),
      results: this.results,
      openListed: this.openListed || new Map(),
      kills: this.kills,
      ackChecks: this.ackChecks,
      requests: this.requests,
      exits: this.exits,
      crashLines,
      heal: this.heal_,
      opStart: this.opStart,
    });
  }

  report(invariants) {
    const failed = invariants.filter((i) => !i.pass);
    const created = this.createdIds();
    const byStatus = {};
    for (const id of created) {
      const s = this.sim.payment(id).status;
      byStatus[s] = (byStatus[s] || 0) + 1;
    }
    const s = this.sim.stats;
    console.log(
      `ledger: ${created.size} transactions created (${Object.entries(byStatus)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}); ` +
        `${s.createPaymentIds.length} CreatePayment, ${s.createRefundIds.length} CreateRefund, ${s.recordsSent} record deliveries, ${s.recordsAcked} acked; ` +
        `${s.connectionsOpened} connections, ${s.displaced} displaced`,
    );
    console.log(
      `harness: ${this.requests.count} requests (${Object.entries(this.stats.http)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}), ` +
        `${this.kills.length} kills, ${this.stats.restarts} Node-RED starts, ${this.stats.deployFailures} failed deploys, ${this.results.length} result lines`,
    );
    for (const inv of invariants) {
      console.log(`${inv.pass ? "PASS" : "FAIL"} ${inv.name}: ${inv.summary}`);
      const shown = inv.pass ? inv.details.filter((d) => d.startsWith("tolerated")).slice(0, 10) : inv.details.slice(0, 40);
      for (const d of shown) console.log(`     ${d}`);
      if (!inv.pass && inv.details.length > 40) console.log(`     … ${inv.details.length - 40} more`);
    }
    fs.writeFileSync(path.join(this.root, "events.log"), this.log.join("\n") + "\n");
    if (failed.length) {
      const ids = new Set();
      for (const inv of failed) for (const d of inv.details) for (const m of d.matchAll(/\b(?:sale|pre|ref)-\d+\b/g)) ids.add(m[0]);
      this.printLog(ids);
    }
    this.summary = [
      `${invariants.length - failed.length} passed, ${failed.length} failed`,
      `chaos: ${created.size} payments, ${failed.length} failed invariants (seed ${this.opts.seed}, plan ${this.plan.hash})`,
    ];
    return failed.length;
  }

  /** The event log: all of it when short, else faults, lifecycle and the lines about `ids`. */
  printLog(ids = new Set()) {
    fs.writeFileSync(path.join(this.root, "events.log"), this.log.join("\n") + "\n");
    const relevant = (l) =>
      !/\] (action|result|http) /.test(l) ||
      [...ids].some((id) => new RegExp(`\\b${id}\\b`).test(l)) ||
      /(deploy|SIG|socket drop|sim fault|outage|storage|epos|duplicated)/.test(l);
    const lines = this.log.length <= 3000 ? this.log : this.log.filter(relevant);
    console.log(`---- event log (${lines.length} of ${this.log.length} lines; all in events.log) ----`);
    for (const l of lines) console.log(l);
    console.log("---- end of event log ----");
  }

  async teardown() {
    clearInterval(this.reader);
    if (this.red) {
      this.expectExit = true;
      await this.red.stop().catch(() => undefined);
    }
    await cleanup();
    if (this.sim) await this.sim.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e.stack || e);
    console.log("0 passed, 1 failed");
    process.exit(2);
  },
);
