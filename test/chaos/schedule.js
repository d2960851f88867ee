"use strict";
// The chaos schedule: a pure function of (seed, chaos duration, terminals, storage faults on/off).
// Nothing here looks at the system under test, so the same seed always gives the same list of
// actions at the same offsets; only the timing of the real processes differs between replays.
const crypto = require("crypto");
const { rng } = require("./prng");

/** Last two digits of an amount choose what the simulated customer does (README "The simulator"). */
const MAGIC = { approve: 0, decline: 1, signature: 2, waitCard: 3, fail: 4, chipPin: 5 };

const SALE_MAGIC = { approve: 40, chipPin: 18, decline: 12, signature: 8, waitCard: 6, fail: 8 };
const PREAUTH_MAGIC = { approve: 55, chipPin: 25, decline: 10, fail: 5, signature: 5 };
const REFUND_MAGIC = { approve: 60, chipPin: 15, decline: 10, fail: 5, waitCard: 5, signature: 5 };

/** Payment actions (one every ~150 ms on average). */
const PAYMENT_WEIGHTS = { sale: 40, preauth: 11, refund: 7, waitCancel: 6, randomCancel: 4, signatureSale: 7 };

/** Faults (one every ~6 s on average); storage only when the fs fault injector exists. */
const FAULT_WEIGHTS = { deploy: 6, epos: 2, dup: 2, sigkill: 3, sigterm: 2, drop: 5, records: 3, outage: 1, storage: 3 };

const DEPLOY_TYPES = ["full", "nodes", "flows"];
/** Nodes a redeploy touches (their name changes, so Node-RED sees a change). Never a sink: a result
 * sent into a sink being replaced would test Node-RED, not this package. */
const TOUCHABLE = ["pay", "refund", "capture", "cancel", "cfg", "events", "prep-sale", "prep-refund"];
const DROPS = ["CreatePayment", "PRESENT_CARD", "signature", "record", "blackhole"];
const STORAGE_OPS = ["write", "write", "fsync", "fsync", "*", "open", "truncate", "rename"];
const STORAGE_ERRNOS = ["ENOSPC", "EDQUOT", "EIO", "EROFS", "EACCES"];

function amountFor(r, weights) {
  const magic = MAGIC[r.weighted(weights)];
  return { amount: r.int(1, 250) * 100 + magic, magic };
}

/**
 * The plan: `steps` sorted by `at` (ms from the start of the chaos phase), each with a `seq` number
 * and a `kind`; `hash` fingerprints it (the same seed prints the same hash).
 */
function makePlan({ seed, chaosMs, terminals, storage }) {
  const r = rng(seed);
  const steps = [];
  const add = (at, step) => steps.push({ at: Math.round(at), ...step });
  const terminalIds = Array.from({ length: terminals }, (_, i) => `SIM${String(i + 1).padStart(5, "0")}`);

  // ---- faults first: their intervals decide which payment node a sale goes to ----
  const dupWindows = [];
  let eposUntil = 0;
  let dupUntil = 0;
  let storageUntil = 0;
  const faultWeights = { ...FAULT_WEIGHTS, storage: storage ? FAULT_WEIGHTS.storage : 0 };
  // Faults stop early enough for the last undo steps to run inside the chaos phase.
  const faultEnd = chaosMs - 3000;
  for (let t = 2500 + r.int(0, 2000); t < faultEnd; t += 2000 + r.int(0, 5000)) {
    const kind = r.weighted(faultWeights);
    if (kind === "deploy") {
      add(t, { kind: "deploy", type: r.pick(DEPLOY_TYPES), touch: r.pick(TOUCHABLE) });
    } else if (kind === "epos") {
      if (t < eposUntil) continue;
      const back = t + r.int(2000, 10000);
      eposUntil = back + 500;
      add(t, { kind: "epos", eposId: "till-b", type: r.pick(DEPLOY_TYPES) });
      add(Math.min(back, faultEnd), { kind: "epos", eposId: "till-a", type: r.pick(DEPLOY_TYPES) });
    } else if (kind === "dup") {
      if (t < dupUntil) continue;
      const off = Math.min(t + r.int(2000, 10000), faultEnd);
      dupUntil = off + 500;
      dupWindows.push([t + 1500, off - 200]); // sales go to the second node only well inside it
      add(t, { kind: "dup", on: true, type: r.pick(DEPLOY_TYPES) });
      add(off, { kind: "dup", on: false, type: r.pick(DEPLOY_TYPES) });
    } else if (kind === "sigkill" || kind === "sigterm") {
      add(t, { kind: "kill", signal: kind === "sigkill" ? "SIGKILL" : "SIGTERM", downMs: r.chance(0.5) ? 0 : r.int(200, 3000) });
    } else if (kind === "drop") {
      add(t, { kind: "drop", how: r.pick(DROPS) });
    } else if (kind === "records") {
      const which = r.pick(["duplicateRecords", "ignoreRecordAcks", "delayCreate", "delayRecordAck"]);
      const ms = r.int(1500, 6000);
      const set =
        which === "duplicateRecords"
          ? { duplicateRecords: true }
          : which === "ignoreRecordAcks"
            ? { ignoreRecordAcks: r.int(1, 2) }
            : which === "delayCreate"
              ? { delayResponse: { CreatePayment: r.int(200, 6500), CreateRefund: r.int(200, 2000) } }
              : { delayResponse: { GetPayment: r.int(200, 3000), CancelPayment: r.int(100, 2000) } };
      const unset = Object.fromEntries(Object.keys(set).map((k) => [k, undefined]));
      add(t, { kind: "simFault", set, what: which });
      add(Math.min(t + ms, faultEnd), { kind: "simFault", set: unset, what: `${which} off` });
    } else if (kind === "outage") {
      add(t, { kind: "outage", ms: r.int(800, 4000) });
    } else if (kind === "storage") {
      if (t < storageUntil) continue;
      const ms = r.int(800, 4000);
      storageUntil = t + ms + 300;
      const rules = [{ op: r.pick(STORAGE_OPS), errno: r.pick(STORAGE_ERRNOS) }];
      if (r.chance(0.3)) rules.push({ op: r.pick(STORAGE_OPS), errno: r.pick(STORAGE_ERRNOS) });
      add(t, { kind: "storage", rules });
      add(Math.min(t + ms, faultEnd), { kind: "storage", rules: [] });
    }
  }

  // ---- payments ----
  const inDup = (t) => dupWindows.some(([a, b]) => t >= a && t <= b);
  const recent = []; // ids of the latest transactions (targets of random cancels)
  const approvedSales = []; // sales expected to be CAPTURED (refund targets)
  let n = 0;
  const payEnd = chaosMs - 1500;
  // The plan's own estimate of when each terminal is free again (no look at the real one): most
  // transactions go to the terminal expected to be free first, some to any (TERMINAL_BUSY is a path too).
  const freeAt = new Map(terminalIds.map((id) => [id, 0]));
  const chooseTerminal = (_t) => {
    if (r.chance(0.1)) return r.pick(terminalIds);
    const min = Math.min(...freeAt.values());
    return r.pick(terminalIds.filter((id) => freeAt.get(id) === min));
  };
  const occupy = (terminalId, t, ms) => freeAt.set(terminalId, Math.max(freeAt.get(terminalId), t + ms));
  const busyMs = (amount) => ({ [MAGIC.chipPin]: 450, [MAGIC.signature]: 3500, [MAGIC.waitCard]: 4300 })[amount % 100] ?? 300;
  for (let t = 500; t < payEnd; t += r.int(30, 270)) {
    const kind = r.weighted(PAYMENT_WEIGHTS);
    const terminalId = chooseTerminal(t);
    const target = inDup(t) && r.chance(0.35) ? "pay2" : "pay";
    n++;
    if (kind === "sale" || kind === "signatureSale" || kind === "waitCancel") {
      const a = kind === "sale" ? amountFor(r, SALE_MAGIC) : { amount: r.int(1, 250) * 100 + (kind === "signatureSale" ? MAGIC.signature : MAGIC.waitCard) };
      const id = `sale-${n}`;
      add(t, { kind: "sale", id, amount: a.amount, terminalId, target });
      occupy(terminalId, t, busyMs(a.amount));
      recent.push(id);
      if (a.amount % 100 === MAGIC.approve || a.amount % 100 === MAGIC.chipPin) approvedSales.push({ id, amount: a.amount });
      if (kind === "signatureSale" && target === "pay") {
        // the payment node asks (signature: ask): answer, or let the default apply
        if (!r.chance(0.25)) {
          const at = t + r.int(150, 4500);
          add(at, { kind: "signature", ref: id, accepted: r.chance(0.6), target });
          freeAt.set(terminalId, Math.min(at, t + 3000) + 300);
        }
      } else if (kind === "waitCancel") {
        // the customer never presents a card: cancel at PRESENT_CARD (or let it time out)
        if (!r.chance(0.2)) {
          const at = t + r.int(100, 2500);
          add(at, { kind: "cancel", ref: id, why: "at PRESENT_CARD" });
          freeAt.set(terminalId, at + 300);
        }
      }
    } else if (kind === "preauth") {
      const a = amountFor(r, PREAUTH_MAGIC);
      const id = `pre-${n}`;
      add(t, { kind: "preauth", id, amount: a.amount, terminalId, target });
      occupy(terminalId, t, busyMs(a.amount));
      recent.push(id);
      const then = r.weighted({ capture: 35, updateCapture: 25, reverse: 25, keep: 15 });
      let at = t + r.int(300, 3500);
      if (then === "updateCapture") {
        const amount = a.amount + r.int(-1, 40) * 100;
        add(at, { kind: "update", ref: id, amount });
        at += r.int(50, 2000);
        add(at, { kind: "capture", ref: id, amount: r.chance(0.7) ? amount : Math.max(1, amount - 100) });
      } else if (then === "capture") {
        add(at, { kind: "capture", ref: id, amount: r.chance(0.7) ? a.amount : Math.max(1, a.amount - 100) });
      } else if (then === "reverse") {
        add(at, { kind: "cancel", ref: id, why: "reverse pre-auth" });
      }
    } else if (kind === "refund") {
      const of = approvedSales.length && r.chance(0.7) ? approvedSales[r.int(Math.max(0, approvedSales.length - 20), approvedSales.length - 1)] : null;
      const a = of ? { amount: of.amount } : amountFor(r, REFUND_MAGIC);
      const id = `ref-${n}`;
      add(t, { kind: "refund", id, amount: a.amount, terminalId, of: of ? of.id : null });
      occupy(terminalId, t, busyMs(a.amount));
      recent.push(id);
    } else if (kind === "randomCancel") {
      if (recent.length) add(t, { kind: "cancel", ref: recent[r.int(Math.max(0, recent.length - 8), recent.length - 1)], why: "random moment" });
    }
    if (recent.length > 50) recent.splice(0, recent.length - 50);
  }

  // Stable order: by time, then by creation.
  steps.forEach((s, i) => (s.seq = i));
  steps.sort((a, b) => a.at - b.at || a.seq - b.seq);
  const hash = crypto.createHash("sha256").update(JSON.stringify(steps)).digest("hex").slice(0, 12);
  return { steps, hash };
}

function describeStep(s) {
  switch (s.kind) {
    case "sale":
    case "preauth":
      return `${s.kind} ${s.id} ${s.amount} on ${s.terminalId} via ${s.target}`;
    case "refund":
      return `refund ${s.id} ${s.amount} on ${s.terminalId}${s.of ? ` (of ${s.of})` : ""}`;
    case "cancel":
      return `cancel ${s.ref} (${s.why})`;
    case "signature":
      return `signature answer ${s.accepted ? "accept" : "decline"} for ${s.ref}`;
    case "update":
    case "capture":
      return `${s.kind} ${s.ref} ${s.amount}`;
    case "deploy":
      return `deploy ${s.type} touching ${s.touch}`;
    case "epos":
      return `epos-id -> ${s.eposId} (${s.type} deploy)`;
    case "dup":
      return `${s.on ? "add" : "remove"} duplicated config (${s.type} deploy)`;
    case "kill":
      return `${s.signal} Node-RED, restart after ${s.downMs} ms`;
    case "drop":
      return `socket drop: ${s.how}`;
    case "simFault":
      return `sim fault ${s.what} ${JSON.stringify(s.set)}`;
    case "outage":
      return `Dojo outage ${s.ms} ms`;
    case "storage":
      return s.rules.length ? `storage faults ${JSON.stringify(s.rules)}` : "storage healed";
    default:
      return JSON.stringify(s);
  }
}

module.exports = { makePlan, describeStep, MAGIC };
