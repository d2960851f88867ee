"use strict";
// Bounded waiting, shared by every suite (engine, nodes, faults, browser).

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves with check()'s truthy value (check may be async or throw while not ready); rejects
 * after ms naming `what` and the last error seen.
 */
async function until(check, what, ms = 3000, every = 5) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
    await delay(every);
  }
}

module.exports = { delay, until };
