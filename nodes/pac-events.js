// Node-RED loads this file (package.json "node-red".nodes) beside pac-events.html; the runtime is compiled from src/nodes/pac-events.ts.
module.exports = require("../dist/nodes/pac-events");
