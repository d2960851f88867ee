/* Bounded waits on a client (src/engine/waits.ts), against the simulator. */
"use strict";
require("should");
const { startSim, openClient, connected, cleanup } = require("./support");
const { waitForState, withTimeout } = require("../dist/engine");

describe("waitForState / withTimeout", function () {
  afterEach(cleanup);

  const settled = (s) => s !== "connecting" && s !== "idle";

  it("waits for the state the predicate accepts, and leaves no listener behind", async function () {
    const sim = await startSim();
    const client = await openClient(sim);
    const before = client.listenerCount("state");
    const p = waitForState(client, settled, 3000);
    client.listenerCount("state").should.equal(before + 1);
    client.start();
    (await p).should.equal("open");
    client.listenerCount("state").should.equal(before);
  });

  it("answers at once when the client is already there", async function () {
    const sim = await startSim();
    const client = await openClient(sim);
    await connected(client);
    const t0 = Date.now();
    (await waitForState(client, (s) => s === "open", 3000)).should.equal("open");
    (Date.now() - t0).should.be.below(500); // no wait for a state change: none comes
  });

  it('"timeout" when the state never comes (a client never started), listener removed', async function () {
    const sim = await startSim();
    const client = await openClient(sim);
    const before = client.listenerCount("state");
    (await waitForState(client, settled, 100)).should.equal("timeout");
    client.listenerCount("state").should.equal(before);
    sim.stats.connectionAttempts.should.equal(0);
  });

  it("withTimeout: the value in time, else a PacError TIMEOUT", async function () {
    (await withTimeout(Promise.resolve(7), 100)).should.equal(7);
    let timer;
    const never = new Promise((resolve) => (timer = setTimeout(resolve, 2000)));
    const e = await withTimeout(never, 50).then(
      () => null,
      (x) => x,
    );
    clearTimeout(timer);
    e.code.should.equal("TIMEOUT");
  });
});
