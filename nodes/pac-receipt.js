// Node-RED loads this file (package.json "node-red".nodes) beside pac-receipt.html; the runtime is compiled from src/nodes/pac-receipt.ts.
module.exports = require("../dist/nodes/pac-receipt");
