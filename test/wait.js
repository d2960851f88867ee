"use strict";
// Bounded waiting, shared by every suite (engine, nodes, faults, browser).

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves with check()'s truthy value (check may be async or throw while not ready); rejects
 * after ms naming `what` and the last error seen. A check that never settles (a page.evaluate on a
 * hung page) is bounded by the same deadline.
 */
async function until(check, what, ms = 3000, every = 5) {
  if (typeof what !== "string" || !Number.isFinite(ms)) throw new TypeError("until(check, what: string, ms: number)");
  const end = Date.now() + ms;
  const timedOut = (last) => new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
  let last;
  for (;;) {
    let timer;
    try {
      const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => reject(timedOut(last)), Math.max(0, end - Date.now()));
      });
      const v = await Promise.race([Promise.resolve().then(check), deadline]);
      if (v) return v;
    } catch (e) {
      if (Date.now() >= end) throw e.message && e.message.startsWith("timed out after") ? e : timedOut(e);
      last = e;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > end) throw timedOut(last);
    await delay(every);
  }
}

module.exports = { delay, until };
