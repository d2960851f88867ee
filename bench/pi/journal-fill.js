"use strict";
// Journals written before Node-RED starts, for the soak (an active file about to rotate, and old
// rotated segments for retention to retire) and the cold start (100,000 entries to reopen). Written
// with the package's own Journal (so the format is the real one), without an fsync per line.
const fs = require("fs");
const path = require("path");
const { randomUUID } = require("crypto");

const STEPS = ["PRESENT_CARD", "PLEASE_WAIT", "APPROVED", "TRANSACTION_FINISHED"];
const MiB = 1024 * 1024;

/**
 * Write `sales` finished sales (8 entries each: start, 4 steps, record, emit, done) into the journal
 * of identity in dir. segmentBytes: the journal's (default: never rotate); idOf(k): the k-th sale's
 * id (default a UUID, as the nodes make them); terminals: how many terminals the sales rotate over.
 */
async function writeSales(root, dir, identity, sales, { segmentBytes = 1024 * MiB, idOf = () => randomUUID(), terminals = 10 } = {}) {
  const { Journal } = require(path.join(root, "dist", "engine", "journal", "journal"));
  const j = await Journal.open({ dir, identity, segmentBytes });
  let entries = 0;
  for (let i = 0; i < sales; i += 250) {
    const batch = [];
    for (let k = i; k < Math.min(sales, i + 250); k++) {
      const id = idOf(k);
      const ts = Date.now();
      const w = (e) => {
        entries++;
        batch.push(j.write(e, false));
      };
      const terminalId = `SIM${String((k % terminals) + 1).padStart(5, "0")}`;
      w({ t: "start", ts, id, kind: "payment", terminalId, amount: 1000, currency: "GBP", captureMode: "AUTO", owner: "pay", ctx: { topic: "sale" } });
      for (const value of STEPS) w({ t: "step", ts, id, value });
      w({
        t: "record",
        ts,
        id,
        record: {
          paymentId: id,
          terminalId,
          captureMode: "AUTO",
          baseAmount: 1000,
          tipsAmount: 0,
          cashbackAmount: 0,
          currency: "GBP",
          paymentSuccessful: true,
          status: "CAPTURED",
          attemptedAt: new Date(ts).toISOString(),
          authCode: "123456",
          card: { scheme: "VISA", last4: "4242" },
        },
      });
      w({ t: "emit", ts, id });
      w({ t: "done", ts, id });
    }
    await Promise.all(batch);
  }
  const file = j.path;
  await j.close();
  return { entries, file, bytes: fs.statSync(file).size };
}

/** A journal of exactly `entries` entries (a multiple of 8) in the active file. */
async function fillEntries(root, dir, identity, entries) {
  return writeSales(root, dir, identity, Math.ceil(entries / 8));
}

/**
 * The journal of a shop that has sold for days: it has rotated at 16 MiB at least once, so its
 * active file starts with the snapshot that carries the deduplication window (every id the journal
 * keeps in memory: 5,000 finished payments and 20,000 older recorded ids), and it is just under the
 * rotation size (the first minute of sales rotates it again). Beside it `old` rotated segments,
 * the first `stale` of them 100 days old: rotation must retire those (older than 90 days) and keep
 * at most 40. Without the full window the soak would measure the window filling up (25,000 ids,
 * about 8 minutes at 50 sales/s), which a shop sees once, not a leak.
 */
async function fillNearRotation(root, dir, identity, { targetBytes = 16 * MiB - 256 * 1024, old = 41, stale = 5, windowIds = 25_000 } = {}) {
  const probe = await writeSales(root, dir, identity, 400);
  const perSale = probe.bytes / 400;
  const base = probe.file.slice(0, -".jsonl".length);
  // Past the 16 MiB rotation with at least windowIds sales recorded; the rest after it.
  const first = Math.max(windowIds, Math.ceil((16 * MiB - probe.bytes) / perSale) + 250);
  const r1 = await writeSales(root, dir, identity, first, { segmentBytes: 16 * MiB });
  if (!fs.existsSync(`${base}.1.jsonl`)) throw new Error("the prefill journal did not rotate");
  const more = Math.max(0, Math.floor((targetBytes - r1.bytes) / perSale));
  const r = await writeSales(root, dir, identity, more, { segmentBytes: 16 * MiB });
  const longAgo = (Date.now() - 100 * 86_400_000) / 1000;
  for (let n = 1; n <= old; n++) {
    const f = `${base}.${n}.jsonl`;
    // The rotation's own segment(s) stay as they are; the rest are stand-ins of one line.
    if (!fs.existsSync(f)) fs.writeFileSync(f, `{"t":"ident","ts":${Date.now()},"eposId":${JSON.stringify(identity.eposId)}}\n`);
    if (n <= stale) fs.utimesSync(f, longAgo, longAgo);
  }
  return {
    activeBytes: r.bytes,
    entries: probe.entries + r1.entries + r.entries,
    sales: 400 + first + more,
    oldSegments: old,
    staleSegments: stale,
    file: r.file,
  };
}

module.exports = { writeSales, fillEntries, fillNearRotation };
