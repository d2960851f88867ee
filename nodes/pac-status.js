// Node-RED loads this file (package.json "node-red".nodes) beside pac-status.html; the runtime is compiled from src/nodes/pac-status.ts.
module.exports = require("../dist/nodes/pac-status");
