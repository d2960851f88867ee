"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");
require("should");
const { until, delay } = require("./wait");
const { acquireJournalLock, JournalLockError } = require("../dist/engine/journal/journal-lock");

const LINUX = process.platform === "linux";
const DIST_LOCK = require.resolve("../dist/engine/journal/journal-lock");

// A child process that tries to take the lock (at START_AT, if given, to line several up) and
// reports one JSON line; a holder stays alive until killed or its stdin closes (our exit).
const CHILD = `
const { acquireJournalLock } = require(${JSON.stringify(DIST_LOCK)});
const startAt = Number(process.env.START_AT || 0);
while (Date.now() < startAt) {}
acquireJournalLock(process.env.LOCK_PATH, { label: process.env.LABEL }).then(
  (lock) => {
    console.log(JSON.stringify({ event: "held", pid: process.pid, token: lock.holder.token }));
    if (process.env.EXIT_AFTER) process.exit(0);
  },
  (e) => { console.log(JSON.stringify({ event: "refused", code: e.code, message: e.message })); process.exit(0); },
);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

describe("journal lock", function () {
  this.timeout(30000);
  let dir;
  let lockPath;
  const locks = [];
  const children = [];

  async function acquire(p, opts) {
    const lock = await acquireJournalLock(p, opts);
    locks.push(lock);
    return lock;
  }

  /** @param {Record<string, string>} [env] */
  function child(env = {}) {
    // The child, given below the lines it prints (parsed) and a promise of its exit code.
    /** @type {import("child_process").ChildProcessByStdio<import("stream").Writable, import("stream").Readable, null> & { lines: object[], exited: Promise<number> }} */
    const c = /** @type {any} */ (
      spawn(process.execPath, ["-e", CHILD], {
        env: { ...process.env, LOCK_PATH: lockPath, LABEL: "child", ...env },
        stdio: ["pipe", "pipe", "inherit"],
      })
    );
    children.push(c);
    c.lines = [];
    let buf = "";
    c.stdout.on("data", (d) => {
      buf += d;
      for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) c.lines.push(JSON.parse(buf.slice(0, i)));
    });
    c.exited = new Promise((resolve) => c.on("exit", resolve));
    return c;
  }
  const report = (c, ms = 10000) => until(() => c.lines[0], `child ${c.pid} to report`, ms);

  async function kill(c) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await c.exited;
  }

  /** The pid of a process that has exited. */
  async function deadPid() {
    const c = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => c.on("exit", resolve));
    return c.pid;
  }

  function writeLock(holder) {
    fs.writeFileSync(lockPath, JSON.stringify({ since: Date.now() - 60000, label: "old", hostname: os.hostname(), ...holder }));
  }
  const snapshot = () => ({ text: fs.readFileSync(lockPath, "utf8"), mtimeMs: fs.statSync(lockPath).mtimeMs });
  const fileToken = () => JSON.parse(fs.readFileSync(lockPath, "utf8")).token;

  /** Start ticks of a live pid (Linux), as the lock records them. */
  function startTicks(pid) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-lock-"));
    lockPath = path.join(dir, "journal.jsonl.lock");
  });
  afterEach(async () => {
    for (const l of locks.splice(0)) l.release();
    await Promise.all(children.splice(0).map(kill));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a second acquire in this process at once, naming the holder, without touching the file", async () => {
    const a = await acquire(lockPath, { label: 'connection "Front till"' });
    a.path.should.equal(lockPath);
    const held = JSON.parse(fs.readFileSync(lockPath, "utf8"));
    held.should.containEql({ pid: process.pid, hostname: os.hostname(), label: 'connection "Front till"', token: a.holder.token });
    held.since.should.be.a.Number();
    held.processStart.should.be.below(Date.now() - process.uptime() * 1000 + 1000);
    const before = snapshot();
    await delay(20); // an mtime change would show
    const t0 = Date.now();
    const err = await acquireJournalLock(lockPath, { label: "second" }).should.be.rejectedWith(JournalLockError);
    (Date.now() - t0).should.be.below(500);
    err.code.should.equal("JOURNAL_LOCKED");
    err.sameProcess.should.be.true();
    err.lockPath.should.equal(lockPath);
    err.holder.label.should.equal('connection "Front till"');
    err.message.should.match(/journal .*journal\.jsonl is in use by connection "Front till" \(process \d+ on .+ since \d{4}-\d\d-\d\dT/);
    snapshot().should.eql(before);
    // The table answers, not the file: a lock file deleted by hand does not free the journal here.
    fs.unlinkSync(lockPath);
    await acquireJournalLock(lockPath, { label: "third" }).should.be.rejectedWith(JournalLockError, { sameProcess: true });
    fs.existsSync(lockPath).should.be.false();
  });

  (process.platform === "win32" ? it.skip : it)("is one lock under two spellings of its directory (a symlinked user dir)", async () => {
    const real = path.join(dir, "real");
    fs.mkdirSync(real);
    fs.symlinkSync(real, path.join(dir, "link"));
    const a = await acquire(path.join(real, "j.lock"), { label: "a" });
    // Even with the file gone, the table knows both spellings are one.
    fs.unlinkSync(a.path);
    await acquireJournalLock(path.join(dir, "link", "j.lock"), { label: "b" }).should.be.rejectedWith(JournalLockError, { sameProcess: true });
    fs.existsSync(a.path).should.be.false();
  });

  (process.platform === "win32" ? it.skip : it)("knows its own lock file under a name the table does not (a symlink to it)", async () => {
    const a = await acquire(lockPath, { label: "a" });
    const other = path.join(dir, "other.lock");
    fs.symlinkSync(lockPath, other);
    const err = await acquireJournalLock(other, { label: "b" }).should.be.rejectedWith(JournalLockError);
    err.sameProcess.should.be.true();
    err.holder.label.should.equal("a");
    fs.lstatSync(other).isSymbolicLink().should.be.true();
    fileToken().should.equal(a.holder.token);
  });

  it("can be taken again after release; release is idempotent and removes only its own file", async () => {
    const a = await acquire(lockPath, { label: "a" });
    a.release();
    a.release();
    a.released.should.be.true();
    fs.existsSync(lockPath).should.be.false();
    const b = await acquire(lockPath, { label: "b" });
    fileToken().should.equal(b.holder.token);
    a.release(); // a's late second release must not remove b's lock
    fileToken().should.equal(b.holder.token);
    // A file that is not ours any more (replaced by hand) is left alone.
    const replaced = JSON.stringify({ pid: 1, hostname: "elsewhere", label: "x", since: 1, token: "other" });
    fs.writeFileSync(lockPath, replaced);
    b.release();
    fs.readFileSync(lockPath, "utf8").should.equal(replaced);
    // Only one process 'exit' listener, however many locks were taken.
    const listeners = process.listenerCount("exit");
    fs.unlinkSync(lockPath);
    for (let i = 0; i < 3; i++) (await acquire(lockPath, { label: `n${i}` })).release();
    process.listenerCount("exit").should.equal(listeners);
  });

  it("waits for a holder that offered to yield, then holds the lock", async () => {
    const a = await acquire(lockPath, { label: "draining" });
    let calls = 0;
    a.offerToYield(async () => {
      calls++;
      await delay(100);
      a.release();
    });
    const settled = await Promise.allSettled([acquireJournalLock(lockPath, { label: "b" }), acquireJournalLock(lockPath, { label: "c" })]);
    // Typed as the outcomes the assertions below check.
    const [b, c] = /** @type {[PromiseFulfilledResult<import("../dist/engine/journal/journal-lock").JournalLock>, PromiseRejectedResult]} */ (settled);
    calls.should.equal(1); // asked once, however many wait
    b.status.should.equal("fulfilled");
    locks.push(b.value);
    a.released.should.be.true();
    fileToken().should.equal(b.value.holder.token);
    // The second waiter finds b, which did not offer to yield.
    c.status.should.equal("rejected");
    c.reason.should.be.instanceOf(JournalLockError);
    c.reason.holder.label.should.equal("b");
  });

  it("waits for a holder that is releasing; gives up on one that does not release in time, leaving no timer", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const a = await acquire(lockPath, { label: "closing" });
    let before = timers(); // after an await: mocha's own timeout timer is running by now
    a.releasing();
    setTimeout(() => a.release(), 50);
    const b = await acquire(lockPath, { label: "b" });
    fileToken().should.equal(b.holder.token);
    timers().should.equal(before); // the wait's deadline timer is gone

    b.offerToYield(async () => undefined); // says yes, never releases
    before = timers();
    const t0 = Date.now();
    const err = await acquireJournalLock(lockPath, { label: "c", yieldTimeoutMs: 200 }).should.be.rejectedWith(JournalLockError);
    (Date.now() - t0).should.be.within(150, 2000);
    err.holder.label.should.equal("b");
    err.message.should.match(/did not release the journal within 200 ms/);
    timers().should.equal(before);
    b.released.should.be.false();
    fileToken().should.equal(b.holder.token);

    // A yield that fails refuses at once.
    const d = await acquire(path.join(dir, "d.lock"), { label: "d" });
    d.offerToYield(() => Promise.reject(new Error("cannot drain now")));
    const t1 = Date.now();
    await acquireJournalLock(d.path, { label: "e", yieldTimeoutMs: 5000 }).should.be.rejectedWith(JournalLockError, { sameProcess: true });
    (Date.now() - t1).should.be.below(1000);
    // A new offer is asked again.
    d.offerToYield(async () => d.release());
    locks.push(await acquireJournalLock(d.path, { label: "e" }));
  });

  it("gives exactly one of two concurrent acquires in this process the lock", async () => {
    const results = await Promise.allSettled([acquireJournalLock(lockPath, { label: "x" }), acquireJournalLock(lockPath, { label: "y" })]);
    const won = results.filter((r) => r.status === "fulfilled");
    won.should.have.length(1);
    locks.push(won[0].value);
    const lost = results.find((r) => r.status === "rejected").reason;
    lost.should.be.instanceOf(JournalLockError);
    lost.sameProcess.should.be.true();
    lost.holder.label.should.equal(won[0].value.holder.label);
    fileToken().should.equal(won[0].value.holder.token);
  });

  it("refuses a lock held by another live process, naming its pid; takes it once that process is SIGKILLed", async () => {
    const c = child({ LABEL: 'connection "Back till"' });
    (await report(c)).event.should.equal("held");
    const before = snapshot();
    const err = await acquireJournalLock(lockPath, { label: "us" }).should.be.rejectedWith(JournalLockError);
    err.sameProcess.should.be.false();
    err.holder.pid.should.equal(c.pid);
    err.message.should.containEql(`in use by connection "Back till" (process ${c.pid} on ${os.hostname()}`);
    snapshot().should.eql(before);

    // The child cannot take ours either.
    c.kill("SIGKILL");
    await c.exited;
    const ours = await acquire(lockPath, { label: "us" });
    fileToken().should.equal(ours.holder.token);
    const c2 = child();
    const r = await report(c2);
    r.event.should.equal("refused");
    r.code.should.equal("JOURNAL_LOCKED");
    r.message.should.containEql(`(process ${process.pid} `);

    // A live holder's lock in a minimal (older) format is a lock, not garbage, however old.
    const c3 = child({ LOCK_PATH: path.join(dir, "unrelated.lock") });
    (await report(c3)).event.should.equal("held");
    ours.release();
    fs.writeFileSync(lockPath, JSON.stringify({ pid: c3.pid, hostname: os.hostname() }));
    const old = new Date(Date.now() - 60000);
    fs.utimesSync(lockPath, old, old);
    const err3 = await acquireJournalLock(lockPath, { label: "us" }).should.be.rejectedWith(JournalLockError);
    err3.holder.pid.should.equal(c3.pid);
    err3.message.should.containEql(`since ${old.toISOString().slice(0, 19)}`);
  });

  it("releases its locks on a clean process exit that skipped release()", async () => {
    const c = child({ EXIT_AFTER: "1" });
    (await report(c)).event.should.equal("held");
    await c.exited;
    fs.existsSync(lockPath).should.be.false();
  });

  it("takes over a lock of a dead pid on this host", async () => {
    writeLock({ pid: await deadPid(), token: "dead" });
    const l = await acquire(lockPath, { label: "us" });
    fileToken().should.equal(l.holder.token);
  });

  it("takes over a lock naming our own pid that this process does not hold (an earlier process with our pid)", async () => {
    writeLock({ pid: process.pid, token: "earlier", processStart: Date.now() - process.uptime() * 1000 });
    const l = await acquire(lockPath, { label: "us" });
    fileToken().should.equal(l.holder.token);
  });

  (LINUX ? it : it.skip)("takes over a lock whose live pid started at another time than recorded (pid reused), and only then", async () => {
    const c = child({ LOCK_PATH: path.join(dir, "unrelated.lock") });
    (await report(c)).event.should.equal("held");
    // Its real start, as wall-clock ms (what processStart records), from /proc.
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"))[1]);
    const realStart = btime * 1000 + startTicks(c.pid) * 10;

    // Recorded start right (no startTicks: an older writer): live, refused.
    writeLock({ pid: c.pid, token: "t", processStart: realStart + 1000 });
    await acquireJournalLock(lockPath, { label: "us" }).should.be.rejectedWith(JournalLockError, { holder: { pid: c.pid } });
    // An hour off: another process had that pid.
    writeLock({ pid: c.pid, token: "t", processStart: realStart - 3600 * 1000 });
    (await acquire(lockPath, { label: "us" })).release();

    // With start ticks (what we write on Linux): exact, immune to clock steps.
    writeLock({ pid: c.pid, token: "t", processStart: realStart - 3600 * 1000, startTicks: startTicks(c.pid) });
    await acquireJournalLock(lockPath, { label: "us" }).should.be.rejectedWith(JournalLockError);
    writeLock({ pid: c.pid, token: "t", processStart: realStart, startTicks: startTicks(c.pid) - 1 });
    (await acquire(lockPath, { label: "us" })).release();

    // Written during another boot: stale whatever the pid.
    const boot = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    writeLock({ pid: c.pid, token: "t", startTicks: startTicks(c.pid), bootId: boot });
    await acquireJournalLock(lockPath, { label: "us" }).should.be.rejectedWith(JournalLockError);
    writeLock({ pid: c.pid, token: "t", startTicks: startTicks(c.pid), bootId: "00000000-0000-0000-0000-000000000000" });
    (await acquire(lockPath, { label: "us" })).release();
  });

  it("refuses a lock from another host, saying it can be deleted by hand", async () => {
    writeLock({ pid: await deadPid(), hostname: "till-pi-2", label: 'connection "Bar"', token: "remote" });
    const before = snapshot();
    const err = await acquireJournalLock(lockPath, { label: "us" }).should.be.rejectedWith(JournalLockError);
    err.sameProcess.should.be.false();
    err.holder.hostname.should.equal("till-pi-2");
    err.message.should.containEql(`in use by connection "Bar" (process ${err.holder.pid} on till-pi-2 since `);
    err.message.should.containEql(`if that host is gone, delete ${lockPath} by hand`);
    snapshot().should.eql(before);
  });

  it("takes over an unreadable lock file older than the bound; waits for a fresh one to be written", async () => {
    fs.writeFileSync(lockPath, '{"pid":12');
    const old = new Date(Date.now() - 10000);
    fs.utimesSync(lockPath, old, old);
    const t0 = Date.now();
    const l = await acquire(lockPath, { label: "us" });
    (Date.now() - t0).should.be.below(1000);
    fileToken().should.equal(l.holder.token);
    l.release();

    // Fresh and empty: being written; its writer finishes 300 ms later.
    fs.writeFileSync(lockPath, "");
    const writer = setTimeout(() => writeLock({ pid: 4242, hostname: "till-pi-3", label: "writer" }), 300);
    try {
      const err = await acquireJournalLock(lockPath, { label: "us" }).should.be.rejectedWith(JournalLockError);
      err.holder.label.should.equal("writer");
    } finally {
      clearTimeout(writer);
    }

    // Fresh and empty, and nobody finishes it: stale once it is old enough (about 3 s).
    fs.writeFileSync(lockPath, "");
    const t1 = Date.now();
    const l2 = await acquire(lockPath, { label: "us" });
    (Date.now() - t1).should.be.within(2500, 6000);
    fileToken().should.equal(l2.holder.token);
  });

  it("breaks a stale lock only under a claim: waits while another breaker holds a fresh one, skips and clears an old one", async () => {
    writeLock({ pid: await deadPid(), token: "stale" });
    // The claim's name identifies this very file version (mirrors readLock in journal-lock.ts).
    const st = fs.statSync(lockPath);
    const id = require("crypto")
      .createHash("sha256")
      .update(`${st.ino}:${st.size}:${st.mtimeMs}:`)
      .update(fs.readFileSync(lockPath))
      .digest("hex")
      .slice(0, 20);
    const claim = (gen) => `${lockPath}.break-${id}-${gen}`;
    fs.writeFileSync(claim(0), "{}");
    const before = snapshot();
    let settled = false;
    const p = acquireJournalLock(lockPath, { label: "us" }).finally(() => (settled = true));
    await delay(300);
    settled.should.be.false();
    snapshot().should.eql(before);
    fs.unlinkSync(claim(0)); // that breaker is done (and found the file changed, say)
    const l = await p;
    locks.push(l);
    fileToken().should.equal(l.holder.token);
    l.release();

    writeLock({ pid: await deadPid(), token: "stale2" });
    const st2 = fs.statSync(lockPath);
    const id2 = require("crypto")
      .createHash("sha256")
      .update(`${st2.ino}:${st2.size}:${st2.mtimeMs}:`)
      .update(fs.readFileSync(lockPath))
      .digest("hex")
      .slice(0, 20);
    const old = new Date(Date.now() - 60000);
    for (const gen of [0, 1]) {
      fs.writeFileSync(`${lockPath}.break-${id2}-${gen}`, "{}");
      fs.utimesSync(`${lockPath}.break-${id2}-${gen}`, old, old);
    }
    const t0 = Date.now();
    const l2 = await acquire(lockPath, { label: "us" });
    (Date.now() - t0).should.be.below(1000);
    fileToken().should.equal(l2.holder.token);
    fs.readdirSync(dir).should.eql(["journal.jsonl.lock"]);
  });

  it("lets exactly one of several processes racing for one stale lock take it", async function () {
    this.timeout(60000);
    for (let round = 0; round < 6; round++) {
      writeLock({ pid: await deadPid(), token: `stale-${round}` });
      const startAt = Date.now() + 600;
      const racers = [0, 1, 2].map(() => child({ START_AT: String(startAt) }));
      const results = await Promise.all(racers.map((c) => report(c)));
      const won = results.filter((r) => r.event === "held");
      won.should.have.length(1, `round ${round}: ${JSON.stringify(results)}`);
      results.filter((r) => r.event === "refused" && r.code === "JOURNAL_LOCKED").should.have.length(2);
      fileToken().should.equal(won[0].token);
      await Promise.all(racers.map(kill));
      fs.readdirSync(dir).should.eql(["journal.jsonl.lock"]); // no claim files left behind
    }
  });

  it("lets other file system errors through as themselves", async () => {
    const err = await acquireJournalLock(path.join(dir, "missing", "j.lock"), { label: "us" }).should.be.rejected();
    err.should.not.be.instanceOf(JournalLockError);
    err.code.should.equal("ENOENT");
    fs.writeFileSync(path.join(dir, "file"), "");
    const err2 = await acquireJournalLock(path.join(dir, "file", "j.lock"), { label: "us" }).should.be.rejected();
    err2.code.should.equal("ENOTDIR");
    // A failed acquire leaves the path free in this process.
    fs.mkdirSync(path.join(dir, "missing"));
    (await acquire(path.join(dir, "missing", "j.lock"), { label: "us" })).release();
  });
});
