"use strict";
// Faults 7-10: Dojo down for 20 s, wrong credentials, a second till with the same epos-id, a half-open
// socket. Through the real nodes against the standalone simulator on 127.0.0.1.
const net = require("net");
const WebSocket = require("ws");
const {
  helper,
  nodeModules,
  until,
  delay,
  tmpDir,
  nodeRedSuite,
  onCleanup,
  startSim,
  waitStep,
  lastStatus,
  waitOpen,
  flowWith,
  customConfig,
  paymentNode,
  outputHelpers,
  creds,
  collect,
  loadPaymentFlow,
  approve,
  exactlyOne,
  tcpProxy,
  within,
} = require("./helpers");

const APPROVED = { fill: "green", shape: "dot", text: "paid £12.50" };
const RECONNECTING = /^reconnect in \d+ s$/;

describe("faults: outages, refusals and dead sockets (through the nodes)", function () {
  this.timeout(30000);

  nodeRedSuite("pac-faults-o-");

  it("7. Dojo is down for 20 s, then back: backoff (no storm), reconnects, exactly one result", async function () {
    this.timeout(90000);
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    const client = t.cfg.pac.client;
    const delays = [];
    client.on("state", (s, info) => s === "reconnecting" && delays.push(info.retryInMs));
    t.pay.receive({ payload: 1250, order: 7 });
    await waitStep(sim, "presentCard");
    const paymentId = sim.stats.createPaymentIds[0];

    const port = sim.port;
    const attempts0 = client.connection.attempts;
    const down = Date.now();
    await sim.suspend();
    // While Dojo is down, count every TCP connection attempt that reaches its port.
    let tcpAttempts = 0;
    const counter = net.createServer((sock) => {
      tcpAttempts++;
      sock.destroy();
    });
    await new Promise((resolve, reject) => counter.once("error", reject).listen(port, "127.0.0.1", () => resolve(undefined)));
    onCleanup(() => new Promise((resolve) => counter.close(() => resolve())));

    await approve(sim); // the customer pays while the till cannot reach Dojo
    await until(() => t.status.some((s) => RECONNECTING.test(s.text) && s.fill === "red"), "reconnecting status");
    // a new sale meanwhile is refused at once: nothing is sent
    t.pay.receive({ payload: 1250, n: "during" });
    await until(() => t.errors.length === 1, "NOT_CONNECTED");
    t.errors[0].error.code.should.equal("NOT_CONNECTED");
    t.errors[0].n.should.equal("during");

    await delay(20000 - (Date.now() - down));
    await new Promise((resolve) => counter.close(() => resolve()));
    const during = client.connection.attempts - attempts0;
    // backoff 1 s, 2 s, 4 s, 8 s (30 % jitter): 4 or 5 attempts in 20 s, never a storm
    during.should.be.within(3, 6);
    tcpAttempts.should.be.within(during - 1, during);
    for (let i = 1; i < delays.length; i++) delays[i].should.be.above(delays[i - 1]);
    delays.forEach((d) => d.should.be.belowOrEqual(30000));

    const simAttempts0 = sim.stats.connectionAttempts;
    await sim.resume();
    await waitOpen("cfg", 35000); // the next backoff step: at most 30 s
    const back = Date.now() - down;
    await exactlyOne(t, paymentId);
    (sim.stats.connectionAttempts - simAttempts0).should.equal(1); // one handshake once Dojo is back
    sim.stats.createPaymentIds.should.eql([paymentId]);
    t.ok[0].order.should.equal(7);
    lastStatus(t.status).should.eql(APPROVED);
    console.log(
      `      (outage: ${during} attempts in 20 s, retry delays ${delays.map((d) => (d / 1000).toFixed(1)).join(", ")} s; open again ${(back / 1000).toFixed(1)} s after the outage began)`,
    );
  });

  it("8. wrong credentials (HTTP 401): status auth failed, one attempt, no storm; fixed by a deploy", async () => {
    const sim = await startSim();
    const wrong = { cfg: { accountName: sim.credentials.accountName, apiKey: "wrong-api-key-8-0123456789" } };
    const t = await loadPaymentFlow(sim, { credentials: wrong, wait: false });
    await until(() => t.status.some((s) => s.text === "auth failed"), "auth failed status");
    lastStatus(t.status).should.eql({ fill: "red", shape: "ring", text: "auth failed" });
    t.cfg.pac.connectionView.should.containDeep({ state: "auth-failed", retryInMs: 300000 });
    t.pay.receive({ payload: 1250, n: 8 });
    await until(() => t.errors.length === 1, "error");
    t.errors[0].error.code.should.equal("NOT_CONNECTED");
    await delay(3000);
    sim.stats.connectionAttempts.should.equal(1);
    sim.stats.handshakesRejected.should.eql({ 401: 1 });
    t.cfg.pac.client.connection.attempts.should.equal(1);
    sim.stats.createPaymentIds.should.have.length(0);

    await helper.setFlows(t.flow, "full", creds(sim));
    await waitOpen();
    const ok = collect("ok");
    helper.getNode("pay").receive({ payload: 1250 });
    await waitStep(sim, "presentCard");
    await approve(sim);
    await until(() => ok.length === 1, "payment after the fix");
  });

  it("9. a second EPOS takes the same epos-id: status displaced, no reconnect loop", async () => {
    const sim = await startSim();
    const t = await loadPaymentFlow(sim);
    const attempts = t.cfg.pac.client.connection.attempts;
    const intruder = new WebSocket(sim.url, {
      headers: {
        authorization: "Basic " + Buffer.from(`${sim.credentials.accountName}:${sim.credentials.apiKey}`).toString("base64"),
        "epos-id": "till-f",
        "software-house-id": "another-till",
      },
    });
    onCleanup(() => intruder.terminate());
    await within(new Promise((resolve, reject) => intruder.once("open", resolve).once("error", reject)), 5000, "the intruder's connection");
    await until(() => t.status.some((s) => s.text === "EPOS id taken over"), "displaced status");
    lastStatus(t.status).should.eql({ fill: "red", shape: "ring", text: "EPOS id taken over" });
    t.cfg.pac.connectionView.state.should.equal("displaced");
    t.cfg.pac.connectionView.reason.should.match(/epos-id "till-f"/);
    await delay(3000);
    t.cfg.pac.client.connection.attempts.should.equal(attempts);
    sim.stats.connectionAttempts.should.equal(2); // ours, then the intruder: nothing since
    sim.connectionDetails().should.eql([{ accountName: sim.credentials.accountName, eposId: "till-f", softwareHouseId: "another-till" }]);
    t.pay.receive({ payload: 1250 });
    await until(() => t.errors.length === 1, "error");
    t.errors[0].error.code.should.equal("NOT_CONNECTED");
    sim.stats.createPaymentIds.should.have.length(0);
    // even once the other till is gone, no automatic reconnect: an operator decides
    intruder.close();
    await delay(1500);
    t.cfg.pac.client.connection.attempts.should.equal(attempts);
    t.cfg.pac.client.state.should.equal("displaced");
  });

  describe("10. half-open socket (hidden setting dojoPac.heartbeatIntervalMs = 200)", function () {
    beforeEach(() => helper.settings({ userDir: tmpDir("pac-faults-h-"), dojoPac: { heartbeatIntervalMs: 200 } }));

    it("pings go unanswered (noPong): noticed within two intervals, reconnected, one result", async () => {
      const sim = await startSim();
      const t = await loadPaymentFlow(sim);
      t.pay.receive({ payload: 1250, order: 10 });
      await waitStep(sim, "presentCard");
      const paymentId = sim.stats.createPaymentIds[0];
      const client = t.cfg.pac.client;
      const t0 = Date.now();
      sim.faults.set({ noPong: true });
      await until(() => client.state === "reconnecting", "dead connection noticed", 2000);
      (Date.now() - t0).should.be.belowOrEqual(600);
      await until(() => t.status.some((s) => RECONNECTING.test(s.text)), "reconnecting status");
      sim.faults.clear();
      await waitOpen();
      await approve(sim);
      await exactlyOne(t, paymentId);
      sim.stats.createPaymentIds.should.eql([paymentId]);
      lastStatus(t.status).should.eql(APPROVED);
    });

    it("the link goes silent both ways (no FIN, no RST): noticed, the new connection displaces the stale one at Dojo, one result", async () => {
      const sim = await startSim();
      const proxy = await tcpProxy(sim.port);
      const url = `ws://127.0.0.1:${proxy.port}/ws/v2/pac/epos`;
      const t = await loadPaymentFlow(sim, { config: { url } });
      t.pay.receive({ payload: 1250, order: 11 });
      await waitStep(sim, "presentCard");
      const paymentId = sim.stats.createPaymentIds[0];
      const client = t.cfg.pac.client;
      const t0 = Date.now();
      proxy.blackhole();
      await until(() => client.state === "reconnecting", "dead connection noticed", 2000);
      (Date.now() - t0).should.be.belowOrEqual(600);
      sim.connections().should.eql(["till-f"]); // Dojo still believes the old socket is alive
      await waitOpen("cfg", 5000);
      await until(() => sim.stats.displaced >= 1 || sim.stats.connectionsOpened === 2, "new connection at Dojo");
      sim.connections().should.eql(["till-f"]);
      await approve(sim);
      await exactlyOne(t, paymentId);
      sim.stats.createPaymentIds.should.eql([paymentId]);
      t.errors.should.have.length(0);
      lastStatus(t.status).should.eql(APPROVED);
    });
  });

  it("10b. without the hidden setting the heartbeat is the documented 15 s", async () => {
    const sim = await startSim();
    await helper.load(nodeModules, flowWith(customConfig(sim), [paymentNode(), ...outputHelpers]), creds(sim));
    const cfg = await waitOpen();
    cfg.pac.client.connection.opts.heartbeatIntervalMs.should.equal(15000);
  });
});
