"use strict";
// The invariants checked at the end of a chaos run, against the simulator's own ledger (what "Dojo"
// created, charged and recorded), the child's journal files and the results the flow printed.
const { RESULT_NODES } = require("./flow");

const FINAL = new Set(["AUTHORIZED", "CAPTURED", "DECLINED", "CANCELLED", "REVERSED", "FAILED", "REFUNDED"]);
const SUCCESS = new Set(["AUTHORIZED", "CAPTURED", "REFUNDED"]);
/** A SIGKILL this soon after the journal's "done" may have hit before the sink ran (README: Limits). */
const HANDOVER_WINDOW_MS = 1000;

function isResult(line) {
  return (RESULT_NODES.has(line.node) && (line.out === 0 || line.out === 1)) || (line.node === "events" && line.orphan === true);
}

/** The statuses a result may carry, given the ledger's status now (a pre-auth moves on after its result). */
function resultMatches(resultStatus, sim) {
  if (resultStatus === sim.status) return true;
  if (sim.captureMode === "MANUAL" && resultStatus === "AUTHORIZED") return sim.status === "CAPTURED" || sim.status === "REVERSED";
  return false;
}

/**
 * ctx: { sim, createdIds (ids the simulator created: ledger), results (lines), openListed (Map id ->
 * reason), kills [{at, signal}], journal (JournalView), ackChecks {count, violations}, requests
 * {count, hung: [...]}, exits {unexpected: [...]}, crashLines [...], heal {notes: [...]}, opStart (Map id -> ms) }
 */
function checkAll(ctx) {
  const out = [];
  const { sim, createdIds, results } = ctx;
  const byId = new Map();
  for (const r of results) {
    if (!r.paymentId || !isResult(r)) continue;
    if (!byId.has(r.paymentId)) byId.set(r.paymentId, []);
    byId.get(r.paymentId).push(r);
  }
  const folded = ctx.journal.fold();
  const sigkills = ctx.kills.filter((k) => k.signal === "SIGKILL");

  // 1. exactly one result per payment the simulator created
  {
    const details = [];
    let one = 0;
    let listed = 0;
    let toleratedDup = 0;
    let handoverLost = 0;
    for (const id of createdIds) {
      const p = sim.payment(id);
      const res = byId.get(id) || [];
      if (res.length === 0) {
        if (ctx.openListed.has(id)) {
          listed++;
          continue;
        }
        const j = folded.get(id);
        const kill = j && j.doneTs !== undefined && sigkills.find((k) => k.at >= j.doneTs && k.at - j.doneTs <= HANDOVER_WINDOW_MS);
        if (kill) {
          handoverLost++;
          details.push(
            `tolerated: ${id} (${p.status}) handed over ("done" journaled at ${j.doneTs}) ${kill.at - j.doneTs} ms before a SIGKILL; the sink had not run (README Limits: a flow sink must be idempotent)`,
          );
          continue;
        }
        details.push(`FAIL: ${id} (${p.status}, terminal ${p.terminalId}) has no result in the flow and is not listed open (journal: ${describeJournal(j)})`);
        continue;
      }
      if (res.length > 1) {
        const first = res[0];
        const last = res[res.length - 1];
        const start = ctx.opStart.get(id) ?? 0;
        const extrasFlagged = res.slice(1).every((r) => r.redelivered === true);
        const killWhileOpen = sigkills.some((k) => k.at >= start && k.at <= last.at);
        if (extrasFlagged && killWhileOpen) {
          toleratedDup++;
          details.push(`tolerated: ${id} has ${res.length} results, the later ones redelivered after a SIGKILL while it was open`);
        } else {
          details.push(
            `FAIL: ${id} has ${res.length} results: ${res.map((r) => `${r.node}:${r.out} ${r.status}${r.redelivered ? " redelivered" : ""} at ${r.at}`).join("; ")}`,
          );
          continue;
        }
        if (!resultMatches(first.status, p)) details.push(`FAIL: ${id} result ${first.status} but the ledger says ${p.status}`);
        continue;
      }
      one++;
      const r = res[0];
      if (!resultMatches(r.status, p)) details.push(`FAIL: ${id} result ${r.status} (${r.node}:${r.out}) but the ledger says ${p.status}`);
      else if (r.node !== "events" && (r.out === 0) !== SUCCESS.has(r.status)) details.push(`FAIL: ${id} status ${r.status} on output ${r.out + 1}`);
    }
    // a success the ledger never created is a phantom payment
    for (const [id, res] of byId) {
      if (createdIds.has(id)) continue;
      for (const r of res) {
        if (SUCCESS.has(r.status)) details.push(`FAIL: ${id} result ${r.status} but the simulator never created it`);
      }
    }
    const fails = details.filter((d) => d.startsWith("FAIL"));
    out.push({
      name: "1. every payment the simulator created has exactly one result (or is listed open)",
      pass: fails.length === 0,
      summary: `${createdIds.size} created: ${one} with one result, ${listed} listed open, ${toleratedDup} tolerated redelivered duplicates, ${handoverLost} lost in the documented hand-over window, ${fails.length} failures`,
      details,
    });
  }

  // 2. no CreatePayment / CreateRefund id sent twice
  {
    const details = [];
    for (const [name, list] of [
      ["CreatePayment", sim.stats.createPaymentIds],
      ["CreateRefund", sim.stats.createRefundIds],
    ]) {
      const seen = new Map();
      for (const id of list) seen.set(id, (seen.get(id) || 0) + 1);
      for (const [id, n] of seen) if (n > 1) details.push(`FAIL: ${name} ${id} sent ${n} times`);
    }
    out.push({
      name: "2. no CreatePayment/CreateRefund paymentId sent twice",
      pass: details.length === 0,
      summary: `${sim.stats.createPaymentIds.length} CreatePayment, ${sim.stats.createRefundIds.length} CreateRefund`,
      details,
    });
  }

  // 3. every record acknowledgement came after the record was in the journal file
  {
    const v = ctx.ackChecks.violations;
    out.push({
      name: "3. no record acknowledged before it was on disk",
      pass: v.length === 0,
      summary: `${ctx.ackChecks.count} acknowledgements checked, ${v.length} before the record line was in a journal file`,
      details: v.map((x) => `FAIL: ${x}`),
    });
  }

  // 4. journal and ledger agree on every final status
  {
    const details = [];
    let compared = 0;
    for (const id of createdIds) {
      const p = sim.payment(id);
      if (!FINAL.has(p.status)) {
        details.push(`FAIL: ${id} is not final in the ledger (${p.status}) after the drain`);
        continue;
      }
      // Listed open (invariant 1): its record has not reached this EPOS, so the journal cannot know.
      if (ctx.openListed.has(id)) continue;
      compared++;
      const j = folded.get(id);
      if (!j || j.status === undefined) details.push(`FAIL: ${id} (${p.status}) has no status in the journal (${describeJournal(j)})`);
      else if (j.status !== p.status) details.push(`FAIL: ${id} ledger ${p.status}, journal ${j.status} (from its ${j.statusFrom} line)`);
    }
    out.push({
      name: "4. the journal and the simulator agree on every final status",
      pass: details.length === 0,
      summary: `${compared} final payments compared, ${details.length} disagreements`,
      details,
    });
  }

  // 5. bounded answers, no crash we did not cause
  {
    const details = [
      ...ctx.requests.hung.map((h) => `FAIL: request without an answer in time: ${h}`),
      ...ctx.exits.unexpected.map((e) => `FAIL: Node-RED exited without being killed: ${e}`),
      ...ctx.crashLines.map((l) => `FAIL: in Node-RED's log: ${l}`),
    ];
    out.push({
      name: "5. every request answered in bounds; Node-RED never crashed unless killed",
      pass: details.length === 0,
      summary: `${ctx.requests.count} requests, ${ctx.requests.hung.length} hung, ${ctx.requests.tolerated.length} unanswered around a deploy or kill (tolerated), ${ctx.exits.unexpected.length} unexpected exits`,
      details,
    });
  }

  // 6. the journal files only grow: no line once written is changed or cut, none unreadable
  {
    const details = [
      ...ctx.journal.rewrites.map((l) => `FAIL: journal written over: ${l}`),
      ...ctx.journal.badLines.map((l) => `FAIL: unreadable journal line: ${l}`),
    ];
    out.push({
      name: "6. the journal files are append-only (nothing read is later changed; every line readable)",
      pass: details.length === 0,
      summary: `${ctx.journal.files.size} journal files, ${ctx.journal.rewrites.length} overwrites seen, ${ctx.journal.badLines.length} unreadable lines, ${ctx.journal.cutsDuringFaults.length} unconfirmed tails cut during storage faults (tolerated)`,
      details,
    });
  }

  // 7. healing needed no extra restart
  {
    const details = ctx.heal.notes.map((n) => `FAIL: ${n}`);
    out.push({
      name: "7. after the faults stop, the till reconnects and drains by itself",
      pass: details.length === 0,
      summary: details.length ? "healing needed help" : "healed by itself",
      details,
    });
  }
  return out;
}

function describeJournal(j) {
  if (!j) return "unknown to the journal";
  const parts = [];
  if (j.startTs) parts.push(`started ${j.startTs}`);
  if (j.status) parts.push(`status ${j.status} from ${j.statusFrom}`);
  if (j.rejected) parts.push(`rejected: ${j.rejected}`);
  if (j.emitTs) parts.push(`emit ${j.emitTs}`);
  if (j.doneTs) parts.push(`done ${j.doneTs}`);
  if (j.owner) parts.push(`owner ${j.owner}`);
  return parts.join(", ") || "no entries";
}

module.exports = { checkAll, isResult, FINAL };
