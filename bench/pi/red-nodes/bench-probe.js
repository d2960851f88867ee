"use strict";
// Benchmark only (bench/pi cold start): reports to the process that forked Node-RED (IPC) when the
// pac-payment node it watches turns green, then starts one sale and reports its result.
module.exports = function (RED) {
  function BenchProbe(config) {
    RED.nodes.createNode(this, config);
    let saleSent = false;
    const report = (m) => {
      if (process.send && process.connected) process.send({ ...m, at: Date.now() });
    };
    this.on("input", (msg, send, done) => {
      if (msg.status && typeof msg.status === "object") {
        if (msg.status.fill === "green" && !saleSent) {
          saleSent = true;
          report({ type: "green", text: msg.status.text });
          send({ payload: { amount: 1000, terminalId: "SIM00001" } });
        }
      } else if (msg.error) {
        report({ type: "sale", ok: false, error: String(msg.error.message || msg.error) });
      } else if (msg.payload && typeof msg.payload === "object" && msg.payload.status) {
        report({ type: "sale", ok: msg.payload.status === "CAPTURED", status: msg.payload.status });
      }
      done();
    });
  }
  RED.nodes.registerType("bench-probe", BenchProbe);
};
