// Node-RED loads this file (package.json "node-red".nodes) beside pac-config.html; the runtime is compiled from src/nodes/pac-config.ts.
module.exports = require("../dist/nodes/pac-config");
