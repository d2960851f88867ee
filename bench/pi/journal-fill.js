"use strict";
// Journals written before Node-RED starts, for the soak (an active file about to rotate, and old
// rotated segments for retention to retire) and the cold start (100,000 entries to reopen). Written
// with the package's own Journal (so the format is the real one), without an fsync per line.
const fs = require("fs");
const path = require("path");

const STEPS = ["PRESENT_CARD", "PLEASE_WAIT", "APPROVED", "TRANSACTION_FINISHED"];

/** Write `sales` finished sales (8 entries each) into the journal of identity in dir. */
async function writeSales(root, dir, identity, sales, from = 0) {
  const { Journal } = require(path.join(root, "dist", "engine", "journal", "journal"));
  const j = await Journal.open({ dir, identity, segmentBytes: 1024 * 1024 * 1024 });
  let entries = 0;
  for (let i = from; i < from + sales; i += 250) {
    const batch = [];
    for (let k = i; k < Math.min(from + sales, i + 250); k++) {
      const id = `prefill-${k}`;
      const ts = Date.now();
      const w = (e) => {
        entries++;
        batch.push(j.write(e, false));
      };
      const terminalId = `SIM${String((k % 10) + 1).padStart(5, "0")}`;
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
 * An active file just under the 16 MiB rotation size (the first minute of sales rotates it), and
 * `old` rotated segments beside it, the first `stale` of them 100 days old: rotation must retire
 * those (older than 90 days) and keep at most 40.
 */
async function fillNearRotation(root, dir, identity, { targetBytes = 16 * 1024 * 1024 - 256 * 1024, old = 41, stale = 5 } = {}) {
  const probe = await writeSales(root, dir, identity, 400);
  const perSale = probe.bytes / 400;
  const more = Math.max(0, Math.floor((targetBytes - probe.bytes) / perSale));
  const r = await writeSales(root, dir, identity, more, 400);
  const base = r.file.slice(0, -".jsonl".length);
  const longAgo = (Date.now() - 100 * 86_400_000) / 1000;
  for (let n = 1; n <= old; n++) {
    const f = `${base}.${n}.jsonl`;
    fs.writeFileSync(f, `{"t":"ident","ts":${Date.now()},"eposId":${JSON.stringify(identity.eposId)}}\n`);
    if (n <= stale) fs.utimesSync(f, longAgo, longAgo);
  }
  return { activeBytes: r.bytes, entries: probe.entries + r.entries, oldSegments: old, staleSegments: stale, file: r.file };
}

module.exports = { fillEntries, fillNearRotation };
