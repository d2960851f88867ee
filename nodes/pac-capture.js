// Node-RED loads this file (package.json "node-red".nodes) beside pac-capture.html; the runtime is compiled from src/nodes/pac-capture.ts.
module.exports = require("../dist/nodes/pac-capture");
