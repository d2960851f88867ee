"use strict";
// A Node-RED node for the benchmark only: hands every msg it receives to a hook that the
// benchmark worker (bench/nodes-worker.js) installs in the same process. Loaded via settings.nodesDir.
module.exports = function (RED) {
  function BenchCounter(config) {
    RED.nodes.createNode(this, config);
    this.on("input", (msg, _send, done) => {
      const hook = global.__pacBenchHook;
      if (hook) hook(msg);
      done();
    });
  }
  RED.nodes.registerType("bench-counter", BenchCounter);
};
