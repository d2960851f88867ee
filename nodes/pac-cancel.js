// Node-RED loads this file (package.json "node-red".nodes) beside pac-cancel.html; the runtime is compiled from src/nodes/pac-cancel.ts.
module.exports = require("../dist/nodes/pac-cancel");
