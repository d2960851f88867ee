// Node-RED loads this file (package.json "node-red".nodes) beside pac-payment.html; the runtime is compiled from src/nodes/pac-payment.ts.
module.exports = require("../dist/nodes/pac-payment");
