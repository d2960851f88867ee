// Node-RED loads this file (package.json "node-red".nodes) beside pac-refund.html; the runtime is compiled from src/nodes/pac-refund.ts.
module.exports = require("../dist/nodes/pac-refund");
