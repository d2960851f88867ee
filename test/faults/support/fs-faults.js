"use strict";
// Test-only file-system fault injector. Makes chosen fs calls fail with a chosen errno (or run slow)
// at a chosen moment, then heals, so tests can prove the journal survives full, read-only, failing
// and vanished storage.
//
// Two ways in, one module:
// - in the mocha process (node-red-node-test-helper runs Node-RED in-process): require() it, then
//   faults.set([rules]) / faults.clear() / faults.hits();
// - in a child process: `node -r .../fs-faults.js` with PAC_TEST_FS_FAULTS=<control JSON file>; the
//   parent steers it with controlFile(dir).set(rules) and reads what was hit from <control>.log.
//
// A rule: { op, errno?, path?, times?, after?, delayMs?, partial? }
// - op: "open" (opens with a write flag), "write", "fsync", "truncate", "rename", "unlink", "mkdir",
//   "read" (reads, and opens without a write flag), "close", "stat", "readdir", or "*".
//   writeFile/appendFile and truncate-by-path also count as "open" (they open the file first).
// - errno: a name from os.constants.errno (ENOSPC, EIO, EROFS, ...). Without it the rule only delays.
//   The error is shaped as Node shapes it (err.errno negative, err.code, err.syscall, err.path), so an
//   errno libuv cannot name gets Node's code "UNKNOWN" (EDQUOT on Node 20: errno -122, "UNKNOWN").
// - path: substring of the file's path (default "dojo-pac-journal"; "" matches every path). fd-based
//   calls find their path in a table of fds opened through fs (any time, also before set()), else via
//   /proc/self/fd/<fd>. Note the journal's directory path matches too (its fsync after a rename).
// - after: let this many matching calls through first; times: then fail this many (default: until
//   cleared); delayMs: hold the call this long first (then fail if errno, else run it).
// - partial (op "write"): write the first half of the data for real, then fail, as a full disk does.
// Rules are tried in order; the first one that fires wins. set() replaces the rules and resets counts.
//
// In-process API: set(rules), clear(), hits() (injected failures by op since set()), log() (every
// injection), bypass(fn), ready (FileHandle.prototype patched), original (the unwrapped functions).
// Parent side of a child: controlFile(dir) -> { path, env, set(rules) -> gen, clear(), hits(),
// entries(), applied(gen) } (the child logs {event:"rules", gen} once it has loaded a version).
//
// A write fault on writeFile/appendFile still does the open (the file is created or truncated, as
// for real). The real call is made for close() faults before failing (Linux frees an fd even when close fails),
// so an injected close error never leaks a descriptor. Callback writeFile/appendFile/truncate are not
// wrapped themselves: Node builds them from fs.open/fs.write/fs.ftruncate/fs.close, which are.
const fs = require("fs");
const os = require("os");
const pathModule = require("path");
const util = require("util");
const { fileURLToPath } = require("url");

const GLOBAL_KEY = Symbol.for("@shopflow/node-red-dojo-pac/test/fs-faults");
const WRAPPED = Symbol.for("@shopflow/node-red-dojo-pac/test/fs-faults/original");

function create() {
  const OPS = new Set(["open", "write", "fsync", "truncate", "rename", "unlink", "mkdir", "read", "close", "stat", "readdir", "*"]);
  const DEFAULT_PATH = "dojo-pac-journal";
  const LOG_MAX = 1000;
  const errnoNames = os.constants.errno;
  const systemErrors = util.getSystemErrorMap();
  const { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = fs.constants;
  const WRITE_FLAGS = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;

  /** The unwrapped functions: fs.x, promises.x, and FileHandle.prototype.x once seen. */
  const original = { fs: {}, promises: {}, fileHandle: {} };
  /** Set: every wrapper does one check of this and nothing else while it is false. */
  let armed = false;
  let localRules = [];
  let fileRules = [];
  /** > 0 while a wrapper runs a real call: fs calls Node makes inside it are not faulted again. */
  let depth = 0;
  const fdPaths = new Map();
  let counts = Object.create(null);
  let entries = [];

  const control = process.env.PAC_TEST_FS_FAULTS || null;
  let controlSig = "";
  let controlCheckedAt = 0;
  let controlTimer = null;

  // ---- rules ----------------------------------------------------------------------------------

  function normalize(r) {
    if (!r || typeof r !== "object") throw new TypeError("fs-faults: a rule is an object");
    if (!OPS.has(r.op)) throw new TypeError(`fs-faults: unknown op ${JSON.stringify(r.op)}`);
    if (r.errno !== undefined && !Object.prototype.hasOwnProperty.call(errnoNames, r.errno)) {
      throw new TypeError(`fs-faults: unknown errno ${JSON.stringify(r.errno)}`);
    }
    if (r.errno === undefined && !(r.delayMs > 0)) throw new TypeError("fs-faults: a rule needs errno or delayMs");
    for (const k of ["times", "after", "delayMs"]) {
      if (r[k] !== undefined && !(Number.isFinite(r[k]) && r[k] >= 0)) throw new TypeError(`fs-faults: ${k} must be a number >= 0`);
    }
    return {
      op: r.op,
      errno: r.errno,
      path: r.path === undefined || r.path === null ? DEFAULT_PATH : String(r.path),
      times: r.times === undefined ? Infinity : r.times,
      after: r.after || 0,
      delayMs: r.delayMs || 0,
      partial: r.partial === true,
      seen: 0,
      fired: 0,
    };
  }

  function rearm() {
    armed = control !== null || localRules.length > 0 || fileRules.length > 0;
  }

  function toPath(p) {
    if (typeof p === "string") return p;
    if (Buffer.isBuffer(p)) return p.toString();
    if (p instanceof URL) {
      try {
        return fileURLToPath(p);
      } catch {
        return String(p);
      }
    }
    return undefined;
  }

  function fdPath(fd) {
    if (typeof fd !== "number") return "";
    const known = fdPaths.get(fd);
    if (known !== undefined) return known;
    if (process.platform !== "linux") return "";
    try {
      return original.fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return "";
    }
  }

  /** A path, a numeric fd or a FileHandle (as writeFile and readFile take). */
  function anyPath(target) {
    const p = toPath(target);
    if (p !== undefined) return p;
    if (typeof target === "number") return fdPath(target);
    if (target && typeof target === "object" && typeof target.fd === "number") return fdPath(target.fd);
    return "";
  }

  /** The rule that fires for this call, counting it in every rule it matches on the way. */
  function decide(spec, self, args) {
    if (control !== null) refreshControl();
    const ops = spec.ops(self, args);
    let paths;
    for (const list of [localRules, fileRules]) {
      for (const r of list) {
        if (r.fired >= r.times) continue;
        if (r.op !== "*" && !ops.includes(r.op)) continue;
        if (r.path !== "") {
          paths ??= spec.paths(self, args);
          if (!paths.some((p) => p.includes(r.path))) continue;
        }
        if (r.seen++ < r.after) continue;
        r.fired++;
        const op = r.op === "*" ? ops[0] : r.op;
        const hit = { rule: r, op, path: paths ? paths.join(" -> ") : spec.paths(self, args).join(" -> "), fn: spec.name };
        note(hit);
        return hit;
      }
    }
    return null;
  }

  function note(hit) {
    const kind = hit.rule.errno === undefined ? "delay" : hit.rule.partial && hit.op === "write" ? "partial" : "fail";
    const entry = { op: hit.op, errno: hit.rule.errno ?? null, path: hit.path, fn: hit.fn, kind, pid: process.pid, t: Date.now() };
    if (hit.rule.delayMs) entry.delayMs = hit.rule.delayMs;
    if (kind !== "delay") counts[hit.op] = (counts[hit.op] || 0) + 1;
    entries.push(entry);
    if (entries.length > LOG_MAX) entries = entries.slice(-LOG_MAX / 2);
    if (control !== null) appendLog(entry);
  }

  // ---- errors like Node's ----------------------------------------------------------------------

  const PATH_SYSCALLS = new Set(["open", "rename", "unlink", "mkdir", "stat", "lstat", "scandir"]);

  function makeError(hit, spec, self, args) {
    const errno = -errnoNames[hit.rule.errno];
    // As Node does: an errno libuv has no name for (EDQUOT on Node 20) comes out as code "UNKNOWN".
    const [code, desc] = systemErrors.get(errno) || ["UNKNOWN", "unknown error"];
    const syscall = hit.op === spec.ops(self, args)[0] ? spec.syscall : SYSCALL_OF[hit.op];
    let message = `${code}: ${desc}, ${syscall}`;
    let p;
    let dest;
    if (PATH_SYSCALLS.has(syscall) && spec.pathArg !== undefined) {
      p = toPath(args[spec.pathArg]);
      if (spec.destArg !== undefined) dest = toPath(args[spec.destArg]);
    }
    if (p !== undefined) message += ` '${p}'`;
    if (dest !== undefined) message += ` -> '${dest}'`;
    const err = /** @type {NodeJS.ErrnoException & { dest?: string }} */ (new Error(message));
    // Same own properties, in the same order, as the errors fs itself makes.
    err.errno = errno;
    err.code = code;
    err.syscall = syscall;
    if (p !== undefined) err.path = p;
    if (dest !== undefined) err.dest = dest;
    return err;
  }

  const SYSCALL_OF = {
    open: "open",
    write: "write",
    fsync: "fsync",
    truncate: "ftruncate",
    rename: "rename",
    unlink: "unlink",
    mkdir: "mkdir",
    read: "read",
    close: "close",
    stat: "stat",
    readdir: "scandir",
  };

  // ---- the wrappers --------------------------------------------------------------------------

  function sleepSync(ms) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }

  function delay(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function pass(orig, self, args) {
    depth++;
    try {
      return orig.apply(self, args);
    } finally {
      depth--;
    }
  }

  /** For a partial write or a close: the real part of a faulted call, its own errors ignored. */
  function realPart(spec, orig, self, args, hit) {
    depth++;
    try {
      return spec.realPart(orig, self, args, hit);
    } catch {
      return undefined;
    } finally {
      depth--;
    }
  }

  function wantsRealPart(hit, spec) {
    if (spec.realPart === undefined) return false;
    // writeFile's own open succeeds before its write fails: the file is created (or truncated) anyway.
    return spec.alwaysReal === true || (hit.op === "write" && (hit.rule.partial || spec.opensFirst === true));
  }

  function syncWrapper(orig, spec) {
    return function faultableSync() {
      if (!armed || depth > 0) return orig.apply(this, arguments);
      const hit = decide(spec, this, arguments);
      if (hit === null) return pass(orig, this, arguments);
      if (hit.rule.delayMs) sleepSync(hit.rule.delayMs);
      if (hit.rule.errno === undefined) return pass(orig, this, arguments);
      const err = makeError(hit, spec, this, arguments);
      if (wantsRealPart(hit, spec)) realPart(spec, orig, this, arguments, hit);
      throw err;
    };
  }

  function callbackWrapper(orig, spec) {
    return function faultableCallback() {
      if (!armed || depth > 0) return orig.apply(this, arguments);
      const cb = arguments[arguments.length - 1];
      // No callback: Node's own argument checks throw; let them.
      if (typeof cb !== "function") return pass(orig, this, arguments);
      const hit = decide(spec, this, arguments);
      if (hit === null) return pass(orig, this, arguments);
      const self = this;
      const args = Array.from(arguments);
      const err = hit.rule.errno === undefined ? null : makeError(hit, spec, self, args);
      const finish = () => {
        if (err === null) return pass(orig, self, args);
        if (!wantsRealPart(hit, spec)) return cb(err);
        const p = realPart(spec, promiseOf(orig), self, args.slice(0, -1), hit);
        Promise.resolve(p).then(
          () => cb(err),
          () => cb(err),
        );
      };
      if (hit.rule.delayMs) setTimeout(finish, hit.rule.delayMs);
      else setImmediate(finish); // like a real fs callback: never in the caller's stack
      return undefined;
    };
  }

  /** The callback function orig as one returning a promise (for a real part after a fault). */
  function promiseOf(orig) {
    return function () {
      return new Promise((resolve, reject) => orig.call(this, ...arguments, (e, v) => (e ? reject(e) : resolve(v))));
    };
  }

  function promiseWrapper(orig, spec) {
    return function faultablePromise() {
      if (!armed || depth > 0) return orig.apply(this, arguments);
      const hit = decide(spec, this, arguments);
      if (hit === null) return pass(orig, this, arguments);
      const self = this;
      const args = Array.from(arguments);
      const err = hit.rule.errno === undefined ? null : makeError(hit, spec, self, args);
      const run = async () => {
        if (hit.rule.delayMs) await delay(hit.rule.delayMs);
        if (err === null) return pass(orig, self, args);
        if (wantsRealPart(hit, spec)) await Promise.resolve(realPart(spec, orig, self, args, hit)).catch(() => undefined);
        throw err;
      };
      return run();
    };
  }

  const WRAPPERS = { sync: syncWrapper, callback: callbackWrapper, promise: promiseWrapper };

  function install(obj, store, name, kind, spec) {
    const orig = obj[name];
    if (typeof orig !== "function") return;
    if (orig[WRAPPED]) {
      store[name] = orig[WRAPPED];
      return;
    }
    store[name] = orig;
    const prefix = store === original.promises ? "promises." : store === original.fileHandle ? "FileHandle." : "";
    const full = { name: prefix + name, ...spec };
    let w = WRAPPERS[kind](orig, full);
    if (spec.track) w = spec.track(w, orig);
    // Keep what Node hangs on its functions (util.promisify.custom on fs.read, fs.exists, ...).
    for (const key of Reflect.ownKeys(orig)) {
      if (key === "length" || key === "name" || key === "prototype") continue;
      const d = Object.getOwnPropertyDescriptor(orig, key);
      if (d) Object.defineProperty(w, key, d);
    }
    Object.defineProperty(w, "name", { value: orig.name || name });
    Object.defineProperty(w, WRAPPED, { value: orig });
    obj[name] = w;
  }

  // What each call is: its ops (the first is its own), the paths it touches, Node's syscall name.
  const one = (op) => () => [op];
  const pathAt = (i) => (_self, args) => [anyPath(args[i])];
  const fdAt = (i) => (_self, args) => [fdPath(args[i])];
  const handleFd = (self) => [fdPath(self && self.fd)];

  function opensForWriting(flags) {
    if (typeof flags === "number") return (flags & WRITE_FLAGS) !== 0;
    if (typeof flags === "string") return /[wa+]/.test(flags);
    return false; // default "r" (or the callback in its place)
  }

  const openSpec = {
    ops: (_self, args) => (opensForWriting(args[1]) ? ["open"] : ["read"]),
    paths: pathAt(0),
    pathArg: 0,
    syscall: "open", // a read-flag open (op "read") fails as "open" too
  };

  /** Write arguments (fd, buffer, offset?, length?, position?) / (fd, buffer, {..}) / (fd, string, position?, encoding?) from index i. */
  function writeArgs(args, i) {
    const data = args[i];
    if (ArrayBuffer.isView(data)) {
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      let offset = args[i + 1];
      let length = args[i + 2];
      let position = args[i + 3];
      if (offset && typeof offset === "object") ({ offset, length, position } = offset);
      if (typeof offset !== "number") offset = 0;
      if (typeof length !== "number") length = buf.byteLength - offset;
      if (typeof position !== "number" && typeof position !== "bigint") position = null;
      return { buf, offset, length, position };
    }
    let position = args[i + 1];
    let encoding = args[i + 2];
    if (typeof position !== "number") position = null;
    if (typeof encoding !== "string") encoding = "utf8";
    const buf = Buffer.from(String(data), encoding);
    return { buf, offset: 0, length: buf.byteLength, position };
  }

  /** writeFile-style data (string with options.encoding, or bytes): its first half, or nothing. */
  function cutData(data, options, half) {
    const encoding = typeof options === "string" ? options : (options && options.encoding) || "utf8";
    const buf = ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(String(data), encoding);
    return buf.subarray(0, half ? Math.floor(buf.byteLength / 2) : 0);
  }

  const writeFdSpec = (syscall) => ({
    ops: one("write"),
    paths: fdAt(0),
    syscall,
    realPart: (orig, self, args) => {
      const w = writeArgs(args, 1);
      return orig.call(self, args[0], w.buf, w.offset, Math.floor(w.length / 2), w.position);
    },
  });

  const writeFileSpec = (dataAt) => ({
    ops: () => ["write", "open"],
    paths: dataAt === 1 ? pathAt(0) : handleFd,
    pathArg: dataAt === 1 ? 0 : undefined,
    syscall: "write",
    opensFirst: true,
    realPart: (orig, self, args, hit) => {
      const a = Array.from(args);
      const options = a[dataAt + 1];
      a[dataAt] = cutData(a[dataAt], typeof options === "function" ? undefined : options, hit.rule.partial);
      if (a[dataAt + 1] && typeof a[dataAt + 1] === "object") a[dataAt + 1] = { ...a[dataAt + 1], encoding: null };
      else if (typeof a[dataAt + 1] === "string") a[dataAt + 1] = {};
      return orig.apply(self, a);
    },
  });

  const fdCall = (op, syscall) => ({ ops: one(op), paths: fdAt(0), syscall });
  const pathCall = (op, syscall) => ({ ops: one(op), paths: pathAt(0), pathArg: 0, syscall });
  const renameSpec = { ops: one("rename"), paths: (_s, a) => [anyPath(a[0]), anyPath(a[1])], pathArg: 0, destArg: 1, syscall: "rename" };
  const truncatePathSpec = { ops: () => ["truncate", "open"], paths: pathAt(0), pathArg: 0, syscall: "ftruncate" };
  const readFileSpec = { ops: one("read"), paths: pathAt(0), syscall: "read" };
  const closeFdSpec = (syscall) => ({ ...fdCall("close", syscall), alwaysReal: true, realPart: (orig, self, args) => orig.apply(self, args) });

  // Tracking fds: always on (a write to an fd opened before set() must still find its path).
  const trackOpenSync = (w) =>
    function openSync(p) {
      const fd = w.apply(this, arguments);
      const s = toPath(p);
      if (s !== undefined) fdPaths.set(fd, s);
      return fd;
    };
  const trackOpenCallback = (w) =>
    function open(p) {
      const args = Array.from(arguments);
      const cb = args[args.length - 1];
      const s = toPath(p);
      if (typeof cb === "function" && s !== undefined) {
        args[args.length - 1] = function opened(err, fd) {
          if (!err) fdPaths.set(fd, s);
          return cb.apply(this, arguments);
        };
      }
      return w.apply(this, args);
    };
  const trackOpenPromise = (w) =>
    function open(p) {
      const s = toPath(p);
      return w.apply(this, arguments).then((fh) => {
        patchFileHandle(Object.getPrototypeOf(fh));
        wrapHandleClose(fh);
        if (s !== undefined) fdPaths.set(fh.fd, s);
        return fh;
      });
    };
  const trackCloseFd = (w) =>
    function close(fd) {
      fdPaths.delete(fd);
      return w.apply(this, arguments);
    };

  const F = original.fs;
  const P = original.promises;

  // fs, synchronous
  install(fs, F, "openSync", "sync", { ...openSpec, track: trackOpenSync });
  install(fs, F, "closeSync", "sync", { ...closeFdSpec("close"), track: trackCloseFd });
  install(fs, F, "writeSync", "sync", writeFdSpec("write"));
  install(fs, F, "writevSync", "sync", fdCall("write", "write"));
  install(fs, F, "writeFileSync", "sync", writeFileSpec(1));
  install(fs, F, "appendFileSync", "sync", writeFileSpec(1));
  install(fs, F, "fdatasyncSync", "sync", fdCall("fsync", "fdatasync"));
  install(fs, F, "fsyncSync", "sync", fdCall("fsync", "fsync"));
  install(fs, F, "ftruncateSync", "sync", fdCall("truncate", "ftruncate"));
  install(fs, F, "truncateSync", "sync", truncatePathSpec);
  install(fs, F, "renameSync", "sync", renameSpec);
  install(fs, F, "unlinkSync", "sync", pathCall("unlink", "unlink"));
  install(fs, F, "mkdirSync", "sync", pathCall("mkdir", "mkdir"));
  install(fs, F, "readFileSync", "sync", readFileSpec);
  install(fs, F, "readSync", "sync", fdCall("read", "read"));
  install(fs, F, "statSync", "sync", pathCall("stat", "stat"));
  install(fs, F, "lstatSync", "sync", pathCall("stat", "lstat"));
  install(fs, F, "fstatSync", "sync", fdCall("stat", "fstat"));
  install(fs, F, "readdirSync", "sync", pathCall("readdir", "scandir"));
  F.readlinkSync = fs.readlinkSync;

  // fs, callbacks (writeFile, appendFile, truncate: see the header)
  install(fs, F, "open", "callback", { ...openSpec, track: trackOpenCallback });
  install(fs, F, "close", "callback", { ...closeFdSpec("close"), track: trackCloseFd });
  install(fs, F, "write", "callback", writeFdSpec("write"));
  install(fs, F, "writev", "callback", fdCall("write", "write"));
  install(fs, F, "fdatasync", "callback", fdCall("fsync", "fdatasync"));
  install(fs, F, "fsync", "callback", fdCall("fsync", "fsync"));
  install(fs, F, "ftruncate", "callback", fdCall("truncate", "ftruncate"));
  install(fs, F, "rename", "callback", renameSpec);
  install(fs, F, "unlink", "callback", pathCall("unlink", "unlink"));
  install(fs, F, "mkdir", "callback", pathCall("mkdir", "mkdir"));
  install(fs, F, "readFile", "callback", readFileSpec);
  install(fs, F, "read", "callback", fdCall("read", "read"));
  install(fs, F, "stat", "callback", pathCall("stat", "stat"));
  install(fs, F, "lstat", "callback", pathCall("stat", "lstat"));
  install(fs, F, "fstat", "callback", fdCall("stat", "fstat"));
  install(fs, F, "readdir", "callback", pathCall("readdir", "scandir"));

  // fs.promises (=== require("fs/promises"))
  const fsp = fs.promises;
  install(fsp, P, "open", "promise", { ...openSpec, track: trackOpenPromise });
  install(fsp, P, "writeFile", "promise", writeFileSpec(1));
  install(fsp, P, "appendFile", "promise", writeFileSpec(1));
  install(fsp, P, "truncate", "promise", truncatePathSpec);
  install(fsp, P, "rename", "promise", renameSpec);
  install(fsp, P, "unlink", "promise", pathCall("unlink", "unlink"));
  install(fsp, P, "mkdir", "promise", pathCall("mkdir", "mkdir"));
  install(fsp, P, "readFile", "promise", readFileSpec);
  install(fsp, P, "stat", "promise", pathCall("stat", "stat"));
  install(fsp, P, "lstat", "promise", pathCall("stat", "lstat"));
  install(fsp, P, "readdir", "promise", pathCall("readdir", "scandir"));

  // FileHandle.prototype: patched from the first handle seen (one is opened right now for that;
  // promises.open patches too, so a handle is never used unpatched after its open resolved).
  let fileHandlePatched = false;
  function patchFileHandle(proto) {
    if (fileHandlePatched || !proto) return;
    fileHandlePatched = true;
    const H = original.fileHandle;
    const handleCall = (op, syscall) => ({ ops: one(op), paths: handleFd, syscall });
    install(proto, H, "write", "promise", {
      ...handleCall("write", "write"),
      realPart: (orig, self, args) => {
        const w = writeArgs(args, 0);
        return orig.call(self, w.buf, w.offset, Math.floor(w.length / 2), w.position);
      },
    });
    install(proto, H, "writev", "promise", handleCall("write", "write"));
    install(proto, H, "writeFile", "promise", { ...writeFileSpec(0), ops: one("write") });
    install(proto, H, "appendFile", "promise", { ...writeFileSpec(0), ops: one("write") });
    install(proto, H, "sync", "promise", handleCall("fsync", "fsync"));
    install(proto, H, "datasync", "promise", handleCall("fsync", "fdatasync"));
    install(proto, H, "truncate", "promise", handleCall("truncate", "ftruncate"));
    install(proto, H, "read", "promise", handleCall("read", "read"));
    install(proto, H, "readFile", "promise", handleCall("read", "read"));
    install(proto, H, "stat", "promise", handleCall("stat", "fstat"));
  }
  const ready = P.open(__filename, "r").then(
    (fh) => {
      patchFileHandle(Object.getPrototypeOf(fh));
      return fh.close();
    },
    () => undefined,
  );

  /**
   * FileHandle's close is an arrow function of each instance (Node passes fh.close around unbound),
   * not a prototype method: wrapped per handle, for the handles promises.open returns. Handles Node
   * opens inside promises.writeFile and the like keep theirs (their close is not the caller's call).
   */
  function wrapHandleClose(fh) {
    const orig = fh.close;
    if (typeof orig !== "function" || orig[WRAPPED]) return;
    const spec = {
      name: "FileHandle.close",
      ops: one("close"),
      paths: () => [fdPath(fh.fd)],
      syscall: "close",
      alwaysReal: true,
      realPart: (o) => o(),
    };
    const w = promiseWrapper(orig, spec);
    const close = function close() {
      if (typeof fh.fd === "number") fdPaths.delete(fh.fd);
      return w.apply(fh, arguments);
    };
    Object.defineProperty(close, WRAPPED, { value: orig });
    fh.close = close;
  }

  // ---- the control file (child processes) ------------------------------------------------------

  /** Internal file work: never faulted, never counted. */
  function quietly(fn) {
    depth++;
    try {
      return fn();
    } finally {
      depth--;
    }
  }

  function appendLog(entry) {
    try {
      quietly(() => F.appendFileSync(`${control}.log`, JSON.stringify(entry) + "\n"));
    } catch {
      /* the log is best effort; the fault itself still happens */
    }
  }

  function refreshControl() {
    const now = Date.now();
    if (now - controlCheckedAt < 10) return;
    controlCheckedAt = now;
    quietly(() => {
      let st;
      try {
        st = F.statSync(control);
      } catch {
        if (controlSig !== "none") {
          controlSig = "none";
          fileRules = [];
          rearm();
        }
        return;
      }
      const sig = `${st.ino}:${st.mtimeMs}:${st.size}`;
      if (sig === controlSig) return;
      controlSig = sig;
      let doc;
      try {
        doc = JSON.parse(F.readFileSync(control, "utf8"));
        fileRules = (Array.isArray(doc) ? doc : doc.rules || []).map(normalize);
      } catch (e) {
        // A bad file keeps the previous rules; it is reported once per version of the file.
        appendLog({ event: "error", message: String(e && e.message), pid: process.pid, t: now });
        return;
      }
      rearm();
      appendLog({ event: "rules", gen: Array.isArray(doc) ? null : (doc.gen ?? null), count: fileRules.length, pid: process.pid, t: now });
    });
  }

  if (control !== null) {
    rearm();
    refreshControl();
    // Rules are also picked up while the process makes no fs calls (the "rules" line is the ack).
    controlTimer = setInterval(refreshControl, 10);
    controlTimer.unref();
  }

  /** The parent's side of a control file in dir (pass `env` to the child). */
  function controlFile(dir) {
    const file = pathModule.join(dir, "fs-faults.json");
    const logPath = `${file}.log`;
    let gen = 0;
    const write = (rules) => {
      rules.forEach(normalize); // a typo fails here, in the test, not silently in the child
      gen++;
      const tmp = `${file}.${process.pid}.tmp`;
      quietly(() => {
        F.writeFileSync(tmp, JSON.stringify({ gen, rules }));
        F.renameSync(tmp, file); // atomic, and a new inode: the child sees every version
      });
      return gen;
    };
    const api = {
      path: file,
      logPath,
      env: { PAC_TEST_FS_FAULTS: file },
      get gen() {
        return gen;
      },
      /** Replace the child's rules; returns their generation (see applied()). */
      set: (rules) => write(rules),
      clear: () => write([]),
      /** Every line of the log (faults, and {event:"rules"|"error"} lines), parsed. */
      entries() {
        let text = "";
        try {
          text = quietly(() => F.readFileSync(logPath, "utf8"));
        } catch {
          return [];
        }
        const out = [];
        for (const line of text.split("\n")) {
          if (!line) continue;
          try {
            out.push(JSON.parse(line));
          } catch {
            /* a line being written */
          }
        }
        return out;
      },
      /** Injected failures by op, as hits() counts them in-process. */
      hits() {
        const c = {};
        for (const e of api.entries()) if (e.op && e.kind !== "delay") c[e.op] = (c[e.op] || 0) + 1;
        return c;
      },
      /** The child has loaded generation g (default: the last set). */
      applied(g = gen) {
        return api.entries().some((e) => e.event === "rules" && e.gen === g);
      },
    };
    write([]);
    return api;
  }

  return {
    /** Replace the in-process rules (and reset hits and log). */
    set(rules) {
      if (!Array.isArray(rules)) throw new TypeError("fs-faults: set([rules])");
      localRules = rules.map(normalize);
      counts = Object.create(null);
      entries = [];
      rearm();
    },
    /** Remove the in-process rules: every call is real again (hits and log stay readable). */
    clear() {
      localRules = [];
      rearm();
    },
    /** Injected failures since the last set(), by op. */
    hits() {
      return { ...counts };
    },
    /** Every injection since the last set() (failures, partial writes, delays), oldest first. */
    log() {
      return entries.map((e) => ({ ...e }));
    },
    /** Run fn (synchronous) with no faults injected. */
    bypass: quietly,
    controlFile,
    /** Resolves once FileHandle.prototype is patched. */
    ready,
    original,
    get armed() {
      return armed;
    },
  };
}

if (!globalThis[GLOBAL_KEY]) {
  Object.defineProperty(globalThis, GLOBAL_KEY, { value: create() });
}
module.exports = globalThis[GLOBAL_KEY];
