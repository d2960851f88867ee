"use strict";
// The node set's texts live in its catalogs only: every key the runtime code asks for is in the
// English catalog of each node type that asks for it (a missing one would show as the bare key).
require("should");
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const USER_TYPES = ["pac-payment", "pac-refund", "pac-capture", "pac-cancel", "pac-events", "pac-status"];
/** Which node types' catalogs a source file's keys are looked up in. */
function typesOf(file) {
  const base = path.basename(file, ".ts");
  if (base === "transaction") return ["pac-payment", "pac-refund"];
  if (base === "user-node" || base === "status-line") return USER_TYPES;
  return USER_TYPES.includes(base) ? [base] : [];
}

function catalog(type) {
  return JSON.parse(fs.readFileSync(path.join(root, "nodes", "locales", "en-US", `${type}.json`), "utf8"))[type];
}

function has(cat, key) {
  return typeof key.split(".").reduce((at, part) => (at && typeof at === "object" ? at[part] : undefined), cat) === "string";
}

describe("catalogs: the only place of the runtime's texts", function () {
  const dir = path.join(root, "src", "nodes");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts"));

  it("no English fallback is passed to a lookup", function () {
    for (const f of files) {
      const src = fs.readFileSync(path.join(dir, f), "utf8");
      src.should.not.match(/\bt\("[\w.]+",\s*"/, f);
      src.should.not.match(/stateText\(t,\s*"\w+",\s*"/, f);
    }
  });

  it("every key the code asks for is in the catalog of each type that asks", function () {
    let checked = 0;
    for (const f of files) {
      const src = fs.readFileSync(path.join(dir, f), "utf8");
      const keys = [...src.matchAll(/\bt\("([\w.]+)"/g)].map((m) => m[1]);
      keys.push(...[...src.matchAll(/stateText\(t,\s*"(\w+)"/g)].map((m) => `status.state.${m[1]}`));
      for (const type of typesOf(f)) {
        const cat = catalog(type);
        for (const key of keys) {
          has(cat, key).should.be.true(`${type}.${key} (asked for in src/nodes/${f}) is not in nodes/locales/en-US/${type}.json`);
          checked++;
        }
      }
    }
    checked.should.be.above(50);
  });

  it("the English catalog answers when the runtime does not know the key", function () {
    const { makeTranslate } = require("../dist/nodes/i18n");
    const RED = /** @type {any} */ ({ _: (k) => k }); // i18next answers a key it does not have with the key itself
    const t = makeTranslate(RED, "pac-payment");
    t("status.result.CAPTURED").should.equal(catalog("pac-payment").status.result.CAPTURED);
    t("status.state.reconnecting", { seconds: 3 }).should.equal("reconnect in 3 s");
    t.has("status.notification.SOMETHING_NEW").should.be.false();
    t("no.such.key").should.equal("pac-payment.no.such.key");
    const translated = makeTranslate(/** @type {any} */ ({ _: (k) => (k === "pac-payment.status.result.CAPTURED" ? "bezahlt" : k) }), "pac-payment");
    translated("status.result.CAPTURED").should.equal("bezahlt");
  });
});
