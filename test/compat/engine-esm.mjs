// Run by scripts/compat.js: ESM consumers get named exports from the CommonJS build.
import assert from "node:assert";
import { PacClient, PacSimulator, parseFrame } from "@shopflow/node-red-dojo-pac";
import engine from "@shopflow/node-red-dojo-pac";

assert.strictEqual(typeof PacClient, "function");
assert.strictEqual(typeof PacSimulator, "function");
assert.strictEqual(typeof parseFrame, "function");
assert.strictEqual(engine.PacClient, PacClient);
console.log(`import { PacClient, PacSimulator, parseFrame } ok on node ${process.version}`);
