"use strict";
// The test-only fs fault injector (test/faults/support/fs-faults.js) itself: every op family fails
// in its sync, callback and promise forms with an error shaped like Node's, and heals; counting,
// path filtering, fd mapping, partial writes and delays; and the control file that steers a real
// child process (a plain node script, and a real Node-RED whose own files stay untouched).
const fs = require("fs");
const os = require("os");
const path = require("path");
const util = require("util");
const { spawn } = require("child_process");
require("should");
const { until, delay } = require("./wait");

const INJECTOR = path.join(__dirname, "faults", "support", "fs-faults.js");
const faults = require(INJECTOR);
const fsp = fs.promises;

/** A callback fs call as a promise (not util.promisify: some fs functions have custom ones). */
function cb(fn, ...args) {
  return new Promise((resolve, reject) => fn(...args, (err, v) => (err ? reject(err) : resolve(v))));
}

/** Resolves with the rejection of p (fails if p resolves). */
async function rejection(p) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

function errnoOf(code) {
  return -os.constants.errno[code];
}

/** Shaped like an error of fs itself: same own keys (in order), code, negative errno, message. */
function checkError(err, errno, syscall, withPath) {
  err.should.be.an.instanceOf(Error);
  // What Node itself makes of this errno (libuv's name and text; "UNKNOWN" for one it cannot name).
  const [code, text] = util.getSystemErrorMap().get(errnoOf(errno)) || ["UNKNOWN", "unknown error"];
  err.code.should.equal(code);
  err.errno.should.equal(errnoOf(errno));
  err.syscall.should.equal(syscall);
  err.message.should.startWith(`${code}: ${text}, ${syscall}`);
  if (withPath) {
    Object.keys(err).should.eql(["errno", "code", "syscall", "path"].concat(err.dest ? ["dest"] : []));
    err.message.should.containEql(`'${err.path}'`);
  } else {
    Object.keys(err).should.eql(["errno", "code", "syscall"]);
  }
}

describe("fs fault injector (test support)", function () {
  let dir, jdir, file, ctx;

  beforeEach(async () => {
    await faults.ready;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-fsfaults-"));
    jdir = path.join(dir, "dojo-pac-journal");
    fs.mkdirSync(jdir);
    file = path.join(jdir, "j.jsonl");
    fs.writeFileSync(file, "hello\n");
    // Opened before any rule is set: the fd table must still know them.
    ctx = { fd: fs.openSync(file, "r+"), fh: await fsp.open(file, "r+"), fdOpen: true, fhOpen: true };
  });

  afterEach(async () => {
    faults.clear();
    if (ctx.fdOpen) fs.closeSync(ctx.fd);
    if (ctx.fhOpen) await ctx.fh.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a plain require() installs it once: a second load is the same object and wraps nothing again", () => {
    const writeSync = fs.writeSync;
    delete require.cache[require.resolve(INJECTOR)];
    const again = require(INJECTOR);
    again.should.equal(faults);
    fs.writeSync.should.equal(writeSync);
    require("fs/promises").should.equal(fsp);
    faults.armed.should.be.false();
  });

  // Each case: the op, the errno, the syscall Node would name, whether the error carries a path,
  // and one call in each form (a function returning a promise), run failing and then healed.
  const cases = [
    { op: "open", errno: "EROFS", syscall: "open", withPath: true, form: "sync", run: () => fs.closeSync(fs.openSync(file, "a")) },
    { op: "open", errno: "EACCES", syscall: "open", withPath: true, form: "callback", run: () => cb(fs.open, file, "w").then((fd) => fs.closeSync(fd)) },
    { op: "open", errno: "EROFS", syscall: "open", withPath: true, form: "promise", run: () => fsp.open(file, "r+").then((fh) => fh.close()) },
    { op: "write", errno: "ENOSPC", syscall: "write", form: "sync", run: () => fs.writeSync(ctx.fd, "x", 0) },
    { op: "write", errno: "EDQUOT", syscall: "write", form: "callback", run: () => cb(fs.write, ctx.fd, Buffer.from("x"), 0, 1, 0) },
    { op: "write", errno: "ENOSPC", syscall: "write", form: "promise", run: () => fsp.writeFile(path.join(jdir, "tmp"), "data\n") },
    { op: "write", errno: "ENOSPC", syscall: "write", form: "promise", run: () => fsp.appendFile(file, "more\n") },
    { op: "write", errno: "ENOSPC", syscall: "write", form: "FileHandle", run: () => ctx.fh.write("x", 0) },
    { op: "write", errno: "ENOSPC", syscall: "write", form: "sync", run: () => fs.writeFileSync(path.join(jdir, "tmp"), "data\n") },
    // Not wrapped itself: built by Node from fs.open and fs.write, which are.
    { op: "write", errno: "ENOSPC", syscall: "write", form: "callback", run: () => cb(fs.writeFile, path.join(jdir, "tmp"), "data\n") },
    { op: "fsync", errno: "EIO", syscall: "fdatasync", form: "sync", run: () => fs.fdatasyncSync(ctx.fd) },
    { op: "fsync", errno: "EIO", syscall: "fsync", form: "sync", run: () => fs.fsyncSync(ctx.fd) },
    { op: "fsync", errno: "EIO", syscall: "fdatasync", form: "callback", run: () => cb(fs.fdatasync, ctx.fd) },
    { op: "fsync", errno: "EIO", syscall: "fsync", form: "callback", run: () => cb(fs.fsync, ctx.fd) },
    { op: "fsync", errno: "EIO", syscall: "fsync", form: "FileHandle", run: () => ctx.fh.sync() },
    { op: "fsync", errno: "EIO", syscall: "fdatasync", form: "FileHandle", run: () => ctx.fh.datasync() },
    { op: "truncate", errno: "EIO", syscall: "ftruncate", form: "sync", run: () => fs.ftruncateSync(ctx.fd, 6) },
    { op: "truncate", errno: "EIO", syscall: "ftruncate", form: "callback", run: () => cb(fs.ftruncate, ctx.fd, 6) },
    { op: "truncate", errno: "EROFS", syscall: "ftruncate", form: "sync", run: () => fs.truncateSync(file, 6) },
    { op: "truncate", errno: "EROFS", syscall: "ftruncate", form: "promise", run: () => fsp.truncate(file, 6) },
    { op: "truncate", errno: "EIO", syscall: "ftruncate", form: "FileHandle", run: () => ctx.fh.truncate(6) },
    { op: "rename", errno: "EROFS", syscall: "rename", withPath: true, form: "sync", run: () => fs.renameSync(file, `${file}.1`) },
    { op: "rename", errno: "EIO", syscall: "rename", withPath: true, form: "callback", run: () => cb(fs.rename, file, `${file}.1`) },
    { op: "rename", errno: "ENOSPC", syscall: "rename", withPath: true, form: "promise", run: () => fsp.rename(file, `${file}.1`) },
    { op: "unlink", errno: "EROFS", syscall: "unlink", withPath: true, form: "sync", run: () => fs.unlinkSync(file) },
    { op: "unlink", errno: "EACCES", syscall: "unlink", withPath: true, form: "callback", run: () => cb(fs.unlink, file) },
    { op: "unlink", errno: "EIO", syscall: "unlink", withPath: true, form: "promise", run: () => fsp.unlink(file) },
    { op: "mkdir", errno: "EROFS", syscall: "mkdir", withPath: true, form: "sync", run: () => fs.mkdirSync(path.join(jdir, "d")) },
    { op: "mkdir", errno: "ENOSPC", syscall: "mkdir", withPath: true, form: "callback", run: () => cb(fs.mkdir, path.join(jdir, "d")) },
    { op: "mkdir", errno: "EACCES", syscall: "mkdir", withPath: true, form: "promise", run: () => fsp.mkdir(path.join(jdir, "d"), { recursive: true }) },
    { op: "read", errno: "EIO", syscall: "read", form: "sync", run: () => fs.readFileSync(file, "utf8").should.equal("hello\n") },
    { op: "read", errno: "EIO", syscall: "read", form: "callback", run: () => cb(fs.readFile, file, "utf8") },
    { op: "read", errno: "EIO", syscall: "read", form: "promise", run: () => fsp.readFile(file, "utf8") },
    { op: "read", errno: "EIO", syscall: "read", form: "sync", run: () => fs.readSync(ctx.fd, Buffer.alloc(3), 0, 3, 0) },
    { op: "read", errno: "EIO", syscall: "read", form: "FileHandle", run: () => ctx.fh.readFile("utf8") },
    // A read-only open is a read, not an "open".
    { op: "read", errno: "EACCES", syscall: "open", withPath: true, form: "sync", run: () => fs.closeSync(fs.openSync(file, "r")) },
    { op: "stat", errno: "EIO", syscall: "fstat", form: "sync", run: () => fs.fstatSync(ctx.fd) },
    { op: "stat", errno: "EIO", syscall: "stat", withPath: true, form: "sync", run: () => fs.statSync(file) },
    { op: "stat", errno: "EIO", syscall: "stat", withPath: true, form: "promise", run: () => fsp.stat(file) },
    { op: "readdir", errno: "EIO", syscall: "scandir", withPath: true, form: "sync", run: () => fs.readdirSync(jdir) },
  ];

  for (const c of cases) {
    it(`${c.op} ${c.errno}: ${c.form} ${c.run
      .toString()
      .replace(/^\(\) => /, "")
      .slice(0, 60)} fails, then works after clear()`, async () => {
      const before = fs.readFileSync(file, "utf8");
      faults.set([{ op: c.op, errno: c.errno }]);
      const err = await rejection(Promise.resolve().then(c.run));
      checkError(err, c.errno, c.syscall, c.withPath);
      faults.hits().should.eql({ [c.op]: 1 });
      const [entry] = faults.log();
      entry.should.containEql({ op: c.op, errno: c.errno, kind: "fail" });
      entry.path.should.containEql("dojo-pac-journal");
      faults.bypass(() => fs.readFileSync(file, "utf8")).should.equal(before); // a failed call changed nothing
      faults.clear();
      await c.run();
      faults.hits().should.eql({ [c.op]: 1 }); // kept after clear(), reset by set()
    });
  }

  it("EDQUOT comes out as Node 20 reports it: errno -122, code from libuv's map (UNKNOWN when it has none)", () => {
    faults.set([{ op: "write", errno: "EDQUOT" }]);
    const err = (() => {
      try {
        fs.writeSync(ctx.fd, "x");
      } catch (e) {
        return e;
      }
      throw new Error("expected a throw");
    })();
    err.errno.should.equal(-os.constants.errno.EDQUOT);
    if (!util.getSystemErrorMap().has(err.errno)) err.should.containEql({ code: "UNKNOWN", message: "UNKNOWN: unknown error, write" });
    faults.log()[0].errno.should.equal("EDQUOT");
  });

  it("close fails (sync, callback, FileHandle) after really closing: no fd leaks, and the error is Node's shape", async () => {
    faults.set([{ op: "close", errno: "EIO" }]);
    checkError(await rejection(Promise.resolve().then(() => fs.closeSync(ctx.fd))), "EIO", "close", false);
    ctx.fdOpen = false;
    (() => fs.fstatSync(ctx.fd)).should.throw({ code: "EBADF" });
    const fd2 = fs.openSync(file, "r");
    checkError(await rejection(cb(fs.close, fd2)), "EIO", "close", false);
    checkError(await rejection(ctx.fh.close()), "EIO", "close", false);
    ctx.fhOpen = false;
    ctx.fh.fd.should.equal(-1);
    faults.hits().should.eql({ close: 3 });
    faults.clear();
    const fh = await fsp.open(file, "r");
    await fh.close();
  });

  it("a write fault on writeFile leaves the file its open made (empty), as a real one does", async () => {
    const tmp = path.join(jdir, "rotated.tmp");
    faults.set([{ op: "write", errno: "ENOSPC" }]);
    (await rejection(fsp.writeFile(tmp, "abc\n"))).code.should.equal("ENOSPC");
    fs.readFileSync(tmp, "utf8").should.equal("");
    // The same call as an "open" fault: nothing is created.
    fs.unlinkSync(tmp);
    faults.set([{ op: "open", errno: "EROFS" }]);
    checkError(await rejection(fsp.writeFile(tmp, "abc\n")), "EROFS", "open", true);
    fs.existsSync(tmp).should.be.false();
  });

  it("after lets calls through first, times stops failing after so many", () => {
    faults.set([{ op: "write", errno: "ENOSPC", after: 2, times: 3 }]);
    const outcome = [];
    for (let i = 0; i < 7; i++) {
      try {
        fs.writeSync(ctx.fd, String(i), 100 + i);
        outcome.push("ok");
      } catch (e) {
        outcome.push(e.code);
      }
    }
    outcome.should.eql(["ok", "ok", "ENOSPC", "ENOSPC", "ENOSPC", "ok", "ok"]);
    faults.hits().should.eql({ write: 3 });
    fs.readFileSync(file, "latin1")
      .slice(100)
      .should.equal("01\0\0\0" + "56");
  });

  it("rules are tried in order, each counting its own matches; set() replaces them and resets the counts", () => {
    faults.set([
      { op: "fsync", errno: "EIO", times: 1 },
      { op: "*", errno: "ENOSPC", after: 1 },
    ]);
    (() => fs.fdatasyncSync(ctx.fd)).should.throw({ code: "EIO" }); // rule 1 (rule 2 not asked)
    fs.fdatasyncSync(ctx.fd); // rule 1 is used up; rule 2 lets its first match through
    (() => fs.fstatSync(ctx.fd)).should.throw({ code: "ENOSPC" });
    faults.hits().should.eql({ fsync: 1, stat: 1 });
    faults.set([{ op: "fsync", errno: "EIO", times: 1 }]);
    faults.hits().should.eql({});
    (() => fs.fdatasyncSync(ctx.fd)).should.throw({ code: "EIO" });
  });

  it('only paths containing the rule\'s substring fail (default dojo-pac-journal; "" is every path)', async () => {
    const outside = path.join(dir, "node-red-flows.json");
    faults.set([{ op: "*", errno: "EIO" }]);
    fs.writeFileSync(outside, "[]");
    await fsp.writeFile(outside, "[1]");
    const fd = fs.openSync(outside, "r+");
    fs.writeSync(fd, "[2]", 0);
    fs.fdatasyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(outside, `${outside}.bak`);
    fs.readFileSync(`${outside}.bak`, "utf8").should.equal("[2]");
    faults.hits().should.eql({});
    (() => fs.writeSync(ctx.fd, "x")).should.throw({ code: "EIO" });

    faults.set([{ op: "write", errno: "ENOSPC", path: "special" }]);
    fs.writeSync(ctx.fd, "x", 0); // the journal's file is not "special"
    faults.hits().should.eql({});
    (() => fs.writeFileSync(path.join(dir, "special.txt"), "abc")).should.throw({ code: "ENOSPC" });
    faults.set([{ op: "write", errno: "ENOSPC", path: "" }]);
    (() => fs.writeFileSync(path.join(dir, "any.txt"), "abc")).should.throw({ code: "ENOSPC" });
    // A rename matches on either side.
    faults.set([{ op: "rename", errno: "EXDEV" }]);
    (() => fs.renameSync(`${outside}.bak`, path.join(jdir, "in"))).should.throw({ code: "EXDEV", dest: path.join(jdir, "in") });
  });

  it("maps fds to paths: opened before set(), after the directory vanished, and through /proc when the injector never saw the open", async function () {
    // ctx.fd and ctx.fh were opened before any rule.
    faults.set([{ op: "write", errno: "ENOSPC" }]);
    (() => fs.writeSync(ctx.fd, "x")).should.throw({ code: "ENOSPC" });
    (await rejection(ctx.fh.write("x"))).code.should.equal("ENOSPC");
    // The journal's directory is removed under an open fd: still the journal's.
    fs.rmSync(jdir, { recursive: true, force: true });
    faults.set([{ op: "write", errno: "EBADF" }]);
    (() => fs.writeSync(ctx.fd, "x")).should.throw({ code: "EBADF" });
    faults.log()[0].path.should.equal(file);
    if (process.platform !== "linux") return;
    // Opened with the original openSync: only /proc/self/fd knows its path.
    fs.mkdirSync(jdir);
    const fd = faults.original.fs.openSync(path.join(jdir, "unseen"), "w");
    try {
      faults.set([{ op: "fsync", errno: "EIO" }]);
      (() => fs.fdatasyncSync(fd)).should.throw({ code: "EIO" });
      faults.log()[0].path.should.endWith(path.join("dojo-pac-journal", "unseen"));
    } finally {
      faults.clear();
      fs.closeSync(fd);
    }
  });

  it("partial: a failing write writes its first half for real (sync, callback, FileHandle, writeFile)", async () => {
    fs.ftruncateSync(ctx.fd, 0);
    faults.set([{ op: "write", errno: "ENOSPC", partial: true }]);
    (() => fs.writeSync(ctx.fd, Buffer.from("abcdefgh"), 0, 8, 0)).should.throw({ code: "ENOSPC" });
    fs.readFileSync(file, "utf8").should.equal("abcd");
    (await rejection(cb(fs.write, ctx.fd, "ABCDEFGH", 4))).code.should.equal("ENOSPC");
    fs.readFileSync(file, "utf8").should.equal("abcdABCD");
    (await rejection(ctx.fh.write(Buffer.from("123456"), 0, 6, 8))).code.should.equal("ENOSPC");
    fs.readFileSync(file, "utf8").should.equal("abcdABCD123");
    (await rejection(fsp.appendFile(file, "wxyz"))).code.should.equal("ENOSPC");
    fs.readFileSync(file, "utf8").should.equal("abcdABCD123wx");
    faults
      .log()
      .map((e) => e.kind)
      .should.eql(["partial", "partial", "partial", "partial"]);
    faults.hits().should.eql({ write: 4 });
  });

  it("delayMs holds a call (sync, callback, promise) and then runs it, or fails it with errno too", async () => {
    faults.set([{ op: "fsync", delayMs: 60 }]);
    let t0 = Date.now();
    fs.fdatasyncSync(ctx.fd);
    (Date.now() - t0).should.be.aboveOrEqual(55);
    t0 = Date.now();
    await cb(fs.fdatasync, ctx.fd);
    (Date.now() - t0).should.be.aboveOrEqual(55);
    t0 = Date.now();
    await ctx.fh.sync();
    (Date.now() - t0).should.be.aboveOrEqual(55);
    faults.hits().should.eql({}); // delays are not failures
    faults
      .log()
      .map((e) => e.kind)
      .should.eql(["delay", "delay", "delay"]);
    faults.set([{ op: "write", errno: "EIO", delayMs: 40 }]);
    t0 = Date.now();
    (await rejection(fsp.writeFile(path.join(jdir, "slow"), "x"))).code.should.equal("EIO");
    (Date.now() - t0).should.be.aboveOrEqual(35);
  });

  it("costs one check per call while no rule is set", () => {
    faults.clear();
    faults.armed.should.be.false();
    // The same work through the wrapper and through the original: within a small factor (generous
    // bound; it is a sanity check of the fast path, not a benchmark).
    const buf = Buffer.from("x");
    const time = (f) => {
      let best = Infinity;
      for (let run = 0; run < 5; run++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < 10000; i++) f(ctx.fd, buf, 0, 1, 0);
        best = Math.min(best, Number(process.hrtime.bigint() - t0));
      }
      return best;
    };
    const orig = faults.original.fs.writeSync;
    const plain = time(orig);
    const wrapped = time(fs.writeSync);
    (wrapped / plain).should.be.below(1.5);
  });

  describe("control file: steering a real child process", function () {
    this.timeout(60000);
    let child;

    afterEach(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      child = null;
    });

    /** node -r fs-faults.js -e script, with the control file's env; resolves to { code, out } on exit. */
    function spawnChild(control, script, env = {}) {
      child = spawn(process.execPath, ["-r", INJECTOR, "-e", script], {
        env: { ...process.env, NODE_OPTIONS: "", ...control.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const exited = new Promise((resolve) => child.once("exit", (code) => resolve({ code, out })));
      return {
        exited,
        get out() {
          return out;
        },
      };
    }

    it("the parent flips ENOSPC on and off while a child writes; the child's .log says what was hit", async () => {
      const control = faults.controlFile(dir);
      const target = path.join(jdir, "child.jsonl");
      const stop = path.join(dir, "stop");
      // Bounded: at most 3000 lines, 2 ms apart; stops early once the parent creates `stop`.
      const script = `
        const fs = require("fs");
        const fd = fs.openSync(process.env.T, "a");
        const errors = {};
        let ok = 0, i = 0;
        (function next() {
          if (i >= 3000 || fs.existsSync(process.env.STOP)) {
            fs.closeSync(fd);
            console.log(JSON.stringify({ ok, errors, i }));
            return;
          }
          try { fs.writeSync(fd, "line " + i + "\\n"); fs.fdatasyncSync(fd); ok++; }
          catch (e) { errors[e.code] = (errors[e.code] || 0) + 1; }
          i++;
          setTimeout(next, 2);
        })();`;
      const run = spawnChild(control, script, { T: target, STOP: stop });
      const lines = () => (fs.existsSync(target) ? fs.readFileSync(target, "utf8").split("\n").filter(Boolean).length : 0);
      await until(() => lines() >= 5, "the child writing", 10000);
      await until(() => control.applied(1), "the child loaded its empty rules (gen 1)", 5000);

      const gen = control.set([{ op: "write", errno: "ENOSPC" }]);
      await until(() => control.applied(gen), "the child loaded ENOSPC", 5000);
      await until(() => (control.hits().write || 0) >= 5, "5 injected ENOSPC", 10000);
      const during = lines();
      await delay(50);
      lines().should.equal(during); // nothing gets through while the disk is "full"

      control.clear();
      await until(() => lines() >= during + 5, "writes again after clear", 10000);
      const hits = control.hits();
      fs.writeFileSync(stop, "");
      const { code, out } = await run.exited;
      code.should.equal(0, out);
      const summary = JSON.parse(out.trim().split("\n").pop());
      summary.errors.should.eql({ ENOSPC: hits.write });
      (summary.ok + hits.write).should.equal(summary.i);
      lines().should.equal(summary.ok);
      const faultLines = control.entries().filter((e) => e.op);
      faultLines.length.should.equal(hits.write);
      for (const e of faultLines) e.should.containEql({ op: "write", errno: "ENOSPC", path: target, fn: "writeSync", kind: "fail", pid: child.pid });
    });

    it("a bad rules file keeps the previous rules and says so in the log", async () => {
      const control = faults.controlFile(dir);
      control.set([{ op: "fsync", errno: "EIO" }]);
      fs.writeFileSync(path.join(dir, "t"), "");
      const script = `
        const fs = require("fs");
        const fd = fs.openSync(process.env.T, "w");
        let n = 0;
        const end = Date.now() + 5000;
        (function next() {
          if (fs.existsSync(process.env.STOP) || Date.now() > end) { fs.closeSync(fd); return; }
          try { fs.fdatasyncSync(fd); } catch { n++; }
          setTimeout(next, 5);
        })();`;
      const run = spawnChild(control, script, { T: path.join(jdir, "t"), STOP: path.join(dir, "stop") });
      await until(() => (control.hits().fsync || 0) >= 2, "EIO on fsync in the child", 10000);
      fs.writeFileSync(control.path, "{ not json");
      await until(() => control.entries().some((e) => e.event === "error"), "the child reporting the bad file", 5000);
      const n = control.hits().fsync;
      await until(() => control.hits().fsync > n, "still EIO with the old rules", 5000);
      fs.writeFileSync(path.join(dir, "stop"), "");
      (await run.exited).code.should.equal(0);
    });

    it("inside a real Node-RED: its own files (flows.json, a file node outside the journal directory) are untouched, the journal path fails and heals", async function () {
      this.timeout(90000);
      const { prepareUserDir, redProcess, cleanup } = require("./faults/helpers");
      try {
        const control = faults.controlFile(dir);
        control.set([{ op: "*", errno: "EIO" }]); // default path: dojo-pac-journal
        const outside = path.join(dir, "out.txt");
        const probe = path.join(jdir, "probe.txt");
        const flow = (label) => [
          { id: "tab", type: "tab", label, disabled: false, info: "" },
          {
            id: "inj",
            z: "tab",
            type: "inject",
            name: "",
            props: [{ p: "payload" }],
            repeat: "",
            crontab: "",
            once: true,
            onceDelay: 0.1,
            topic: "",
            payload: label,
            payloadType: "str",
            x: 100,
            y: 100,
            wires: [["out", "probe"]],
          },
          {
            id: "out",
            z: "tab",
            type: "file",
            name: "",
            filename: outside,
            filenameType: "str",
            appendNewline: true,
            createDir: true,
            overwriteFile: "false",
            encoding: "none",
            x: 300,
            y: 80,
            wires: [[]],
          },
          {
            id: "probe",
            z: "tab",
            type: "file",
            name: "",
            filename: probe,
            filenameType: "str",
            appendNewline: true,
            createDir: false,
            overwriteFile: "false",
            encoding: "none",
            x: 300,
            y: 120,
            wires: [[]],
          },
        ];
        const red = await redProcess(dir, { preload: INJECTOR, env: control.env });
        prepareUserDir(dir, {
          flows: flow("first"),
          credentials: {},
          port: red.port,
          settings: { logging: { console: { level: "info", metrics: false, audit: false } } },
        });
        await red.start();
        await until(
          () => fs.existsSync(outside) && fs.readFileSync(outside, "utf8") === "first\n",
          "the file node writing outside the journal directory",
          10000,
        );
        await until(() => Object.keys(control.hits()).length > 0, "the probe's file node failing", 10000);
        fs.existsSync(probe).should.be.false();
        // Node-RED writes flows.json (and its backup) on a deploy.
        const r = await red.request("POST", "/flows", flow("second"), { "Node-RED-Deployment-Type": "full" });
        r.status.should.equal(204, r.text);
        JSON.parse(fs.readFileSync(path.join(dir, "flows.json"), "utf8"))[0].label.should.equal("second");
        await until(() => fs.readFileSync(outside, "utf8") === "first\nsecond\n", "the second line outside", 10000);
        for (const e of control.entries().filter((x) => x.op)) e.path.should.containEql("dojo-pac-journal");
        // Heal: the next deploy's message reaches the probe file.
        const gen = control.clear();
        await until(() => control.applied(gen), "Node-RED's injector loaded the empty rules", 5000);
        const r2 = await red.request("POST", "/flows", flow("third"), { "Node-RED-Deployment-Type": "full" });
        r2.status.should.equal(204, r2.text);
        await until(() => fs.existsSync(probe) && fs.readFileSync(probe, "utf8") === "third\n", "the probe written after clear", 10000);
        await red.stop();
      } finally {
        await cleanup();
      }
    });
  });
});
