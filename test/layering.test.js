"use strict";
// The layout the architecture section of the README describes, kept true: no import cycles in src/,
// the simulator a sibling of the engine (protocol and common only), the engine free of Node-RED,
// the nodes on the engine's index only, no module-level mutable state in src/nodes, and no file
// over 400 lines without its reason at the top.
require("should");
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

const SRC = path.join(__dirname, "..", "src");

/** @returns {string[]} */
function tsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

const files = tsFiles(SRC);
const rel = (p) => path.relative(SRC, p);
const layer = (p) => rel(p).split(path.sep)[0];

/** Relative imports (type-only too) of each file: [{ spec, target }]. */
const imports = new Map(
  files.map((f) => {
    const info = ts.preProcessFile(fs.readFileSync(f, "utf8"), true, true);
    const list = info.importedFiles.map((i) => {
      const spec = i.fileName;
      if (!spec.startsWith(".")) return { spec, target: null };
      const base = path.resolve(path.dirname(f), spec);
      const target = [base + ".ts", path.join(base, "index.ts")].find((c) => files.includes(c));
      if (!target) throw new Error(`${rel(f)}: cannot resolve ${spec}`);
      return { spec, target };
    });
    return [f, list];
  }),
);

describe("layout: the layers and their rules", function () {
  it("src/ has no import cycles (type-only imports included)", function () {
    const cycles = [];
    const state = new Map(); // file -> "visiting" | "done"
    const stack = [];
    const visit = (f) => {
      state.set(f, "visiting");
      stack.push(f);
      for (const { target } of imports.get(f)) {
        if (!target) continue;
        if (state.get(target) === "visiting") cycles.push(stack.slice(stack.indexOf(target)).concat(target).map(rel).join(" -> "));
        else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of files) if (!state.has(f)) visit(f);
    cycles.should.eql([]);
  });

  it("each layer imports only what it may: simulator and engine are siblings on protocol and common", function () {
    const allowed = {
      common: ["common"],
      protocol: ["protocol", "common"],
      simulator: ["simulator", "protocol", "common"],
      engine: ["engine", "protocol", "common"],
      receipt: ["receipt", "protocol", "common"],
      // dojo-pac-check: the engine's transport, never Node-RED.
      check: ["check", "engine", "protocol", "common"],
    };
    const bad = [];
    for (const [f, list] of imports) {
      const may = allowed[layer(f)];
      for (const { spec, target } of list) {
        if (target && may && !may.includes(layer(target))) bad.push(`${rel(f)} -> ${rel(target)}`);
        if (!target && ["engine", "protocol", "common", "simulator", "receipt", "check"].includes(layer(f)) && /node-red/.test(spec))
          bad.push(`${rel(f)} -> ${spec}`);
      }
    }
    bad.should.eql([]);
  });

  it("the nodes import the engine through its index only", function () {
    const bad = [];
    for (const [f, list] of imports) {
      if (layer(f) !== "nodes") continue;
      for (const { target } of list)
        if (target && layer(target) === "engine" && rel(target) !== path.join("engine", "index.ts")) bad.push(`${rel(f)} -> ${rel(target)}`);
    }
    bad.should.eql([]);
  });

  it("no module-level mutable state in src/nodes", function () {
    const bad = [];
    for (const f of files.filter((p) => layer(p) === "nodes")) {
      const lines = fs.readFileSync(f, "utf8").split("\n");
      lines.forEach((line, i) => {
        // A constant lookup table typed read-only is not state.
        const readonlyTable = /^(export )?const \w+\s*:\s*Readonly(Set|Map)</.test(line);
        if (/^(export )?let /.test(line) || (!readonlyTable && /^(export )?const \w+\s*(:[^=]+)?=\s*new (Map|Set|WeakMap|WeakSet|InFlightMap)\b/.test(line)))
          bad.push(`${rel(f)}:${i + 1}: ${line}`);
      });
    }
    bad.should.eql([]);
  });

  it("no file over 400 lines without the reason written at its top", function () {
    const bad = [];
    for (const f of files) {
      const text = fs.readFileSync(f, "utf8");
      const lines = text.split("\n").length;
      if (lines > 400 && !/Why this file is over 400 lines/.test(text.slice(0, 3000))) bad.push(`${rel(f)}: ${lines} lines`);
    }
    bad.should.eql([]);
  });
});
