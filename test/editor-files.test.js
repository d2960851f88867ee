/**
 * Static checks of the editor side: nodes/pac-*.html, their message catalogs and help in
 * nodes/locales/en-US/, icons/*.svg and examples/*.json. Nothing here needs Node-RED running:
 * the editor scripts are run in a vm with a stub RED object that records registerType().
 */
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");
const should = require("should");

const ROOT = path.join(__dirname, "..");
const NODES = path.join(ROOT, "nodes");
const LOCALES = path.join(NODES, "locales", "en-US");
const ICONS = path.join(ROOT, "icons");
const EXAMPLES = path.join(ROOT, "examples");

// ---- the public contract: property names end up in users' flows ----------------------------

const EVENT_TYPES = ["notification", "record", "signature", "connection", "wire"];

const CONTRACT = {
  "pac-config": {
    category: "config",
    defaults: ["name", "environment", "url", "eposId", "softwareHouseId", "resellerId", "requestTimeout", "maxAmount"],
    values: { name: "", environment: "simulator", url: "", eposId: "", requestTimeout: 30, maxAmount: "100000" },
    credentials: { accountName: "text", apiKey: "password" },
    selects: { environment: ["simulator", "staging", "production", "custom"] },
    required: ["eposId"],
  },
  "pac-payment": {
    defaults: ["name", "server", "terminalId", "currency", "captureMode", "signature"],
    values: { name: "", server: "", terminalId: "", currency: "GBP", captureMode: "AUTO", signature: "accept" },
    selects: { captureMode: ["AUTO", "MANUAL"], signature: ["accept", "decline", "ask"] },
    inputs: 1,
    outputs: 3,
  },
  "pac-refund": {
    defaults: ["name", "server", "terminalId", "currency", "signature"],
    values: { name: "", server: "", terminalId: "", currency: "GBP", signature: "accept" },
    selects: { signature: ["accept", "decline", "ask"] },
    inputs: 1,
    outputs: 3,
  },
  "pac-capture": {
    defaults: ["name", "server", "action"],
    values: { name: "", server: "", action: "capture" },
    selects: { action: ["capture", "update"] },
    inputs: 1,
    outputs: 1,
  },
  "pac-cancel": {
    defaults: ["name", "server"],
    values: { name: "", server: "" },
    selects: {},
    inputs: 1,
    outputs: 1,
  },
  "pac-events": {
    defaults: ["name", "server", "events", "terminalId"],
    values: { name: "", server: "", events: ["notification", "record", "connection"], terminalId: "" },
    selects: {},
    checkboxes: { events: EVENT_TYPES },
    inputs: 0,
    outputs: 1,
  },
  "pac-status": {
    defaults: ["name", "server", "query"],
    values: { name: "", server: "", query: "payment" },
    selects: { query: ["payment", "terminals", "terminal", "journal"] },
    inputs: 1,
    outputs: 1,
  },
  "pac-receipt": {
    // Needs no connection: it prints from the msg alone. An optional one (a simulator's) shows its slips
    // on that simulator's virtual terminal page.
    noServer: true,
    defaults: [
      "name",
      "format",
      "width",
      "codePage",
      "copies",
      "unsuccessful",
      "kind",
      "shopName",
      "shopAddress",
      "vatNumber",
      "thankYou",
      "virtualPrinter",
      "server",
    ],
    values: {
      name: "",
      format: "escpos",
      width: "42",
      codePage: "cp858",
      copies: "both",
      unsuccessful: "print",
      kind: "auto",
      shopName: "",
      shopAddress: "",
      vatNumber: "",
      thankYou: "",
      virtualPrinter: false,
      server: "",
    },
    selects: {
      format: ["escpos", "text", "html", "svg"],
      width: ["32", "42", "48"],
      codePage: ["cp858", "cp1252"],
      copies: ["both", "customer", "merchant"],
      unsuccessful: ["print", "none"],
      kind: ["auto", "payment", "refund"],
    },
    inputs: 1,
    outputs: 1,
  },
};

/** Node types of Node-RED's own palette that the examples may use. */
const CORE_TYPES = new Set([
  "tab",
  "comment",
  "inject",
  "debug",
  "function",
  "change",
  "switch",
  "template",
  "catch",
  "status",
  "complete",
  "link in",
  "link out",
  "link call",
  "junction",
  "group",
  "delay",
  "trigger",
  "json",
  "http in",
  "http response",
  "tcp out",
  "http request",
  "split",
  "join",
  "sort",
  "batch",
  "range",
  "exec",
  "filter",
  "rbe",
  "csv",
  "html",
  "xml",
  "yaml",
]);

/** Properties every exported flow node may have besides its defaults. */
const BASE_PROPS = new Set(["id", "type", "z", "g", "d", "x", "y", "w", "h", "wires", "l", "info"]);

const EXPECTED_EXAMPLES = [
  "01-card-payment.json",
  "02-refund.json",
  "03-pre-auth-capture.json",
  "04-cancel.json",
  "05-events.json",
  "06-status.json",
  "shop-counter.json",
  "till-dashboard.json",
];

/**
 * The one documented exception to "our nodes and Node-RED's core nodes only": the till is a
 * Dashboard 2.0 page, so it also uses these types of @flowfuse/node-red-dashboard (a devDependency;
 * test/browser/till.browser.js runs it). Its comment node and the README say what to install.
 */
const DASHBOARD_EXAMPLE = "till-dashboard.json";
const DASHBOARD_PACKAGE = "@flowfuse/node-red-dashboard";
const DASHBOARD_TYPES = new Set(["ui-template"]);
const DASHBOARD_CONFIG_TYPES = new Set(["ui-base", "ui-theme", "ui-page", "ui-group"]);

// ---- helpers -------------------------------------------------------------------------------

/** A value from the vm's realm as a plain value of this realm. */
function plain(value) {
  return JSON.parse(JSON.stringify(value));
}

function read(file) {
  return fs.readFileSync(file, "utf8");
}

/** Exactly the regular expression the flow library's validator (node-red-dev) uses. */
function javascriptBlocks(html) {
  const re = /<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi;
  const blocks = [];
  let m;
  while ((m = re.exec(html)) !== null) {
    blocks.push(m[1]);
  }
  return blocks;
}

function scriptBlocks(html, attr) {
  const re = new RegExp('<script type="text/html" ' + attr + '="([^"]+)">([\\s\\S]*?)</script>', "g");
  const blocks = [];
  let m;
  while ((m = re.exec(html)) !== null) {
    blocks.push({ name: m[1], body: m[2] });
  }
  return blocks;
}

function lookup(catalog, key) {
  return key.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), catalog);
}

/** The i18n keys named by data-i18n attributes, without their [attr] prefixes. */
function dataI18nKeys(html) {
  const keys = [];
  const re = /data-i18n="([^"]*)"/g;
  let m;
  while ((m = re.exec(html)) !== null) {
    for (const part of m[1].split(";")) {
      keys.push(part.replace(/^\[[^\]]*\]/, ""));
    }
  }
  return keys;
}

/** The literal keys of this._("…") / RED._("…") calls. */
function underscoreKeys(js) {
  const keys = [];
  const re = /\b_\(\s*(['"])([^'"]+)\1/g;
  let m;
  while ((m = re.exec(js)) !== null) {
    keys.push(m[2]);
  }
  return keys;
}

/** Node-RED's own RED.validators.number and .regex, as in @node-red/editor-client. */
const validators = {
  number(blankAllowed) {
    return function (v, opt) {
      if (blankAllowed && (v === "" || v === undefined)) {
        return true;
      }
      if (v !== "" && /^[+-]?[0-9]*\.?[0-9]*([eE][-+]?[0-9]+)?$/.test(v)) {
        return true;
      }
      if (!isNaN(v)) {
        return true;
      }
      return opt ? "invalid number" : false;
    };
  },
  regex(re) {
    return function (v, opt) {
      if (re.test(v)) {
        return true;
      }
      return opt ? "invalid value" : false;
    };
  },
};

/** The config nodes the stub editor holds (RED.nodes.eachConfig), set by a test. */
let editorConfigs = [];

/** Run a node's editor scripts with a stub RED; returns {type: definition}. */
function loadDefinitions(file) {
  const defs = {};
  const sandbox = {
    RED: {
      nodes: {
        registerType(type, def) {
          defs[type] = def;
        },
        eachConfig(cb) {
          editorConfigs.forEach((n) => cb(n));
        },
      },
      validators,
      _: (k) => k,
    },
    $: () => ({ length: 0 }),
    console,
  };
  vm.createContext(sandbox);
  for (const block of javascriptBlocks(read(file))) {
    vm.runInContext(block, sandbox, { filename: file });
  }
  return defs;
}

/** A stand-in for an editor node of this type: `_` throws for a key missing from the catalog. */
function fakeNode(type, catalog, props) {
  return Object.assign(
    {
      type,
      _(key, subs) {
        const value = lookup(catalog, key);
        if (typeof value !== "string") {
          throw new Error(type + ": i18n key " + key + " is missing from " + type + ".json");
        }
        // Node-RED's i18next interpolates __name__
        return value.replace(/__(\w+)__/g, (m, k) => (subs && k in subs ? String(subs[k]) : m));
      },
    },
    props,
  );
}

/** Validate one property the way the editor does (required, then validate with an opt). */
function isValid(def, prop, value, node) {
  const d = def.defaults[prop];
  if (d.required && value === "") {
    return false;
  }
  if (!d.validate) {
    return true;
  }
  const r = d.validate.call(node, value, {});
  return r === true;
}

function htmlFiles() {
  return fs
    .readdirSync(NODES)
    .filter((f) => /^pac-.*\.html$/.test(f))
    .sort();
}

// ---- node definitions and edit dialogs -------------------------------------------------------

describe("editor files", function () {
  it("has an html file for every node of the contract", function () {
    const types = htmlFiles().map((f) => f.replace(/\.html$/, ""));
    for (const type of Object.keys(CONTRACT)) {
      types.should.containEql(type);
    }
  });

  for (const file of htmlFiles()) {
    const type = file.replace(/\.html$/, "");
    const htmlPath = path.join(NODES, file);
    const catalogPath = path.join(LOCALES, type + ".json");
    const helpPath = path.join(LOCALES, type + ".html");
    const contract = CONTRACT[type];

    describe(file, function () {
      let html;
      let catalog;
      let def;
      before(function () {
        html = read(htmlPath);
        catalog = JSON.parse(read(catalogPath));
        def = loadDefinitions(htmlPath)[type];
      });

      it("registers its type with a literal string and an object literal in a text/javascript script", function () {
        const blocks = javascriptBlocks(html);
        blocks.length.should.be.above(0);
        const calls = blocks.join("\n").match(/RED\.nodes\.registerType\(/g) || [];
        calls.length.should.equal(1, "one registerType per file");
        const literal = new RegExp("RED\\.nodes\\.registerType\\(\\s*(['\"])" + type + "\\1\\s*,\\s*\\{");
        blocks.some((b) => literal.test(b)).should.be.true("registerType('" + type + "', {…}) not found");
        // the flow library validator parses each block: it must be valid JavaScript on its own
        for (const b of blocks) {
          should.doesNotThrow(() => new vm.Script(b), "script block does not parse");
        }
        should.exist(def, "running the script did not register " + type);
      });

      it("keeps category, color, icon, inputs and outputs as literals (the validator reads them)", function () {
        const js = javascriptBlocks(html).join("\n");
        js.should.match(/\bcategory:\s*['"][^'"]+['"]/);
        if (def.category !== "config") {
          js.should.match(/\bcolor:\s*['"]#[0-9A-Fa-f]{6}['"]/);
          js.should.match(/\bicon:\s*['"]pac-[a-z0-9-]+\.svg['"]/);
          js.should.match(/\binputs:\s*\d\b/);
          js.should.match(/\boutputs:\s*\d\b/);
        }
      });

      it("has exactly one edit template and keeps its help in the locale file", function () {
        const templates = scriptBlocks(html, "data-template-name");
        templates.length.should.equal(1);
        templates[0].name.should.equal(type);
        html.should.not.match(/data-help-name/, "help belongs in nodes/locales/en-US/" + type + ".html");
      });

      it("has a message catalog named after the node, namespaced by its type", function () {
        Object.keys(catalog).should.eql([type]);
      });

      it("defines every data-i18n and _() key it uses in its catalog", function () {
        const keys = dataI18nKeys(html).concat(underscoreKeys(javascriptBlocks(html).join("\n")));
        keys.length.should.be.above(0);
        for (const key of keys) {
          key.should.startWith(type + ".", key + " is not in the " + type + " namespace");
          should(typeof lookup(catalog, key)).equal("string", "missing i18n key " + key);
        }
      });

      it("has no hard-coded UI text in the edit template", function () {
        const body = scriptBlocks(html, "data-template-name")[0].body;
        const text = body
          .replace(/<[^>]*>/g, "")
          .replace(/&nbsp;/g, "")
          .trim();
        text.should.equal("", "text outside data-i18n: " + text);
        body.should.not.match(/\splaceholder=/, 'use data-i18n="[placeholder]…"');
        body.should.not.match(/\stitle=/, 'use data-i18n="[title]…"');
      });

      it("gives labels, palette label and port labels from the catalog", function () {
        const node = fakeNode(type, catalog, contract ? Object.assign({}, contract.values) : {});
        const label = def.label.call(node);
        label.should.be.a.String().and.not.be.empty();
        def.label.call(Object.assign(node, { name: "my name" })).should.equal("my name");
        const palette = typeof def.paletteLabel === "function" ? def.paletteLabel.call(node) : def.paletteLabel;
        palette.should.be.a.String().and.not.be.empty();
        if (def.category !== "config") {
          if (def.inputs > 0) {
            def.inputLabels.call(node, 0).should.be.a.String().and.not.be.empty();
          }
          for (let i = 0; i < def.outputs; i++) {
            const l = typeof def.outputLabels === "function" ? def.outputLabels.call(node, i) : def.outputLabels[i];
            l.should.be.a.String().and.not.be.empty();
          }
        }
      });

      it("has an icon in icons/ that is a white glyph", function () {
        if (def.category === "config") {
          return;
        }
        const icon = path.join(ICONS, def.icon);
        fs.existsSync(icon).should.be.true(def.icon + " missing from icons/");
        const svg = read(icon);
        svg.should.match(/^<svg[^>]*viewBox="0,? 0,? 40,? 60"/);
        const colours = (svg.match(/(?:fill|stroke|color)="[^"]*"/g) || []).map((a) => a.replace(/^\w+="|"$/g, ""));
        for (const c of colours) {
          ["#fff", "#ffffff", "white", "none"].should.containEql(c.toLowerCase());
        }
      });

      it("has help in nodes/locales/en-US in the help style guide's form", function () {
        const help = read(helpPath);
        const blocks = scriptBlocks(help, "data-help-name");
        blocks.length.should.equal(1);
        blocks[0].name.should.equal(type);
        const body = blocks[0].body.trim();
        body.should.startWith("<p>", "the first paragraph is the summary (palette tooltip)");
        const order = [];
        const want = [];
        if (def.category !== "config" && def.inputs > 0) {
          want.push("Inputs");
        }
        if (def.category !== "config" && def.outputs > 0) {
          want.push("Outputs");
        }
        want.push("Details", "References");
        const re = /<h3>([^<]+)<\/h3>/g;
        let m;
        while ((m = re.exec(body)) !== null) {
          order.push(m[1]);
        }
        order.should.eql(want);
        const section = (name) => {
          const start = body.indexOf("<h3>" + name + "</h3>");
          const next = body.indexOf("<h3>", start + 1);
          return body.slice(start, next === -1 ? undefined : next);
        };
        for (const name of ["Inputs", "Outputs"].filter((n) => want.includes(n))) {
          const s = section(name);
          s.should.match(/<dl class="message-properties">/);
          const dts = s.match(/<dt[^>]*>[\s\S]*?<\/dt>/g) || [];
          dts.length.should.be.above(0);
          for (const dt of dts) {
            dt.should.match(/<span class="property-type">[^<]+<\/span>/, name + ": " + dt);
          }
        }
        if (def.outputs > 1) {
          const ports = section("Outputs").match(/<ol class="node-ports">([\s\S]*?)<\/ol>/);
          should.exist(ports, 'several outputs are described in <ol class="node-ports">');
          (ports[1].match(/<li>/g) || []).length.should.equal(def.outputs);
        }
        section("References").should.match(/<a href="https:\/\/[^"]+">/);
      });

      if (!contract) {
        return;
      }

      it("declares exactly the documented properties with their defaults", function () {
        Object.keys(def.defaults).sort().should.eql(contract.defaults.slice().sort());
        for (const [prop, value] of Object.entries(contract.values)) {
          // defaults come from the vm's realm: compare as plain JSON
          should(plain(def.defaults[prop].value)).eql(value, prop);
        }
        if (contract.category === "config") {
          def.category.should.equal("config");
          should.not.exist(def.inputs);
        } else {
          def.category.should.equal("Dojo");
          def.inputs.should.equal(contract.inputs);
          def.outputs.should.equal(contract.outputs);
          if (!contract.noServer) should(plain(def.defaults.server)).eql({ value: "", type: "pac-config", required: true });
          else if (def.defaults.server) should(plain(def.defaults.server)).eql({ value: "", type: "pac-config", required: false });
        }
        if (def.defaults.terminalId) {
          should(!def.defaults.terminalId.required).be.true("terminalId is not required: the msg can supply it");
          isValid(def, "terminalId", "", fakeNode(type, catalog, {})).should.be.true();
          isValid(def, "terminalId", "SIM00001", fakeNode(type, catalog, {})).should.be.true();
        }
        for (const prop of contract.required || []) {
          def.defaults[prop].required.should.be.true(prop + " is required");
        }
      });

      it("has an input in the template for every property", function () {
        const body = scriptBlocks(html, "data-template-name")[0].body;
        const prefix = def.category === "config" ? "node-config-input-" : "node-input-";
        const other = def.category === "config" ? "node-input-" : "node-config-input-";
        body.should.not.match(new RegExp('id="' + other), "wrong id prefix for this kind of node");
        for (const prop of contract.defaults) {
          if (contract.checkboxes && contract.checkboxes[prop]) {
            continue;
          }
          body.should.match(new RegExp('id="' + prefix + prop + '"'), prop);
        }
        for (const [prop, values] of Object.entries(contract.selects)) {
          const select = body.match(new RegExp('<select id="' + prefix + prop + '"[^>]*>([\\s\\S]*?)</select>'));
          should.exist(select, prop + " is a select");
          const options = (select[1].match(/<option value="([^"]*)"/g) || []).map((o) => o.replace(/^<option value="|"$/g, ""));
          options.should.eql(values, prop);
        }
        for (const [prop, values] of Object.entries(contract.checkboxes || {})) {
          body.should.not.match(new RegExp('id="' + prefix + prop + '"'), prop + " is edited as checkboxes");
          for (const v of values) {
            body.should.match(new RegExp('<input type="checkbox" id="[^"]*-' + v + '"'), prop + ": " + v);
          }
        }
      });

      if (contract.credentials) {
        it("declares the credentials and a password input for the API key", function () {
          const creds = {};
          for (const [k, v] of Object.entries(def.credentials || {})) {
            creds[k] = v.type;
          }
          creds.should.eql(contract.credentials);
          const body = scriptBlocks(html, "data-template-name")[0].body;
          body.should.match(/<input type="password" id="node-config-input-apiKey"/);
          body.should.match(/<input type="text" id="node-config-input-accountName"/);
          for (const c of Object.values(def.credentials)) {
            should(!c.required).be.true("credentials are not needed for the simulator");
          }
        });
      }
    });
  }

  // ---- the editor's use of the admin endpoints (src/nodes/admin/) --------------------------

  describe("the signature choice says what no answer means", function () {
    for (const type of ["pac-payment", "pac-refund"]) {
      it(`${type}: with "ask", a tip beside the choice says no answer in time counts as accepted (Dojo's rule)`, function () {
        const src = read(path.join(NODES, type + ".html"));
        src.should.containEql(`id="${type}-signature-ask-row"`);
        src.should.containEql(`data-i18n="${type}.tip.signatureAsk"`);
        src.should.containEql(`PacEditor.signatureTip("${type}")`);
        read(path.join(NODES, "pac-config.html")).should.match(/\$\("#" \+ type \+ "-signature-ask-row"\)\.toggle\(signature\.val\(\) === "ask"\)/);
        const catalog = JSON.parse(read(path.join(NODES, "locales", "en-US", type + ".json")))[type];
        catalog.tip.signatureAsk.should.match(/does not answer in time, the signature counts as accepted/);
      });
    }
  });

  describe("admin endpoints in the editor", function () {
    const html = (type) => read(path.join(NODES, type + ".html"));
    const template = (type) => scriptBlocks(html(type), "data-template-name")[0].body;
    const js = (type) => javascriptBlocks(html(type)).join("\n");

    it("calls them with relative URLs (Node-RED adds its auth header only to those)", function () {
      for (const file of htmlFiles()) {
        const text = read(path.join(NODES, file));
        text.should.not.match(/["'`]\/pac\//, file + ": an absolute /pac/ URL");
      }
    });

    for (const type of ["pac-payment", "pac-refund", "pac-events"]) {
      it(type + ": the terminalId field offers the connection's terminals in a datalist, typing still allowed", function () {
        const body = template(type);
        body.should.match(new RegExp('<input type="text" id="node-input-terminalId"[^>]*list="' + type + '-terminal-list"'));
        body.should.match(new RegExp('<datalist id="' + type + '-terminal-list"></datalist>'));
        body.should.match(new RegExp('id="' + type + '-terminal-state"[^>]*role="status"'));
        // the list comes from the helper shared in pac-config.html, with this type's texts
        js(type).should.match(new RegExp('PacEditor\\.listTerminals\\(node, "' + type + '"\\)'));
        js("pac-config").should.match(/"pac\/terminals\/" \+ encodeURIComponent\(/);
        const texts = JSON.parse(read(path.join(LOCALES, type + ".json")))[type].terminals;
        for (const key of ["count", "none", "notDeployed", "notConnected", "error"]) texts.should.have.property(key);
        for (const s of ["AVAILABLE", "BUSY", "OFFLINE"]) texts.status.should.have.property(s);
      });
    }

    it("pac-config: a labelled Test connection button with an inline, announced result", function () {
      const body = template("pac-config");
      body.should.match(/<button type="button" id="pac-config-test" class="red-ui-button"[^>]*>[\s\S]*?data-i18n="pac-config.test.button"/);
      body.should.match(/id="pac-config-test-result"[^>]*role="status"[^>]*aria-live="polite"/);
      js("pac-config").should.match(/url: "pac\/test-connection"/);
      // every problem the endpoint reports has a message
      const catalog = JSON.parse(read(path.join(LOCALES, "pac-config.json")))["pac-config"];
      for (const problem of [
        "config",
        "no-saved-credentials",
        "url",
        "auth",
        "handshake",
        "http",
        "unreachable",
        "tls",
        "timeout",
        "displaced",
        "in-use",
        "not-deployed",
        "error",
      ]) {
        catalog.test.problem.should.have.property(problem);
        if (problem !== "error") {
          js("pac-config")
            .includes('case "' + problem + '"')
            .should.be.true(problem + " has no message");
        }
      }
    });

    it("pac-config: an Open virtual terminal link beside Test connection, shown for the simulator, opening a new window", function () {
      const body = template("pac-config");
      body.should.match(
        /<span class="pac-config-row-simulator pac-config-vt">\s*<a id="pac-config-vt-link" class="red-ui-button" href="#" target="_blank" rel="noopener">/,
      );
    });

    it("pac-config: the sidebar names every status pac/status reports; a refused sale shows why, in red like a rejected one", function () {
      const code = js("pac-config");
      const texts = JSON.parse(read(path.join(LOCALES, "pac-config.json")))["pac-config"].sidebar.status;
      // The statuses of the engine's PaymentRow (src/engine/views.ts) that are not a final result (those come from pac-payment's catalog).
      for (const s of ["IN_PROGRESS", "SENDING", "PENDING", "OUTCOME_UNKNOWN", "AWAITING_RECORD", "REJECTED", "NOT_CREATED", "REFUSED"]) {
        texts.should.have.property(s);
        code.includes('case "' + s + '": return _("pac-config.sidebar.status.' + s + '");').should.be.true(s + " has no label in statusText");
      }
      texts.REFUSED.should.match(/refused/).and.match(/not sent/);
      code.should.match(/var refused = p\.status === "REJECTED" \|\| p\.status === "REFUSED";/);
      code.should.match(/if \(p\.reason\) \{\s*\$\("<div>", \{ "class": "pac-sb-reason pac-sb-pay-reason" \}\)\.text\(p\.reason\)/);
      read(path.join(NODES, "pac-config.html")).should.match(/\.pac-sb-status-refused \{ color: var\(--red-ui-text-color-error, #ad1625\); \}/);
    });

    it("pac-config: adds the Dojo sidebar tab, re-reading pac/status on the runtime's push (slow fallback poll) while visible", function () {
      const code = js("pac-config");
      code.should.match(/RED\.sidebar\.addTab\(\{\s*id: "dojo-pac"/);
      code.should.match(/var FALLBACK_POLL_MS = 30000;/);
      code.should.match(/RED\.comms\.subscribe\(STATUS_TOPIC \+ "#", pushed\)/);
      code.should.match(/url: "pac\/status\/" \+ encodeURIComponent\(id\)/);
      code.should.match(/"\/query"/);
      code.should.match(/if \(visible\(\)\)/);
    });
  });

  describe("one identity, one owner in the editor", function () {
    const code = () => javascriptBlocks(read(path.join(NODES, "pac-config.html"))).join("\n");
    const catalog = () => JSON.parse(read(path.join(LOCALES, "pac-config.json")))["pac-config"];

    it("re-validates every pac-config node when one is added, changed or removed (the other one's triangle follows)", function () {
      const js = code();
      for (const event of ["nodes:add", "nodes:change", "nodes:remove"]) {
        js.should.match(new RegExp('RED\\.events\\.on\\("' + event + '", revalidateSoon\\)'), event);
      }
      js.should.match(/RED\.editor\.validateNode\(n\)/);
      js.should.match(/RED\.editor\.validateNode\(u\)/);
    });

    it("shows the collision and the open payments under the EPOS id field, announced", function () {
      const body = scriptBlocks(read(path.join(NODES, "pac-config.html")), "data-template-name")[0].body;
      for (const id of ["pac-config-eposId-warning", "pac-config-open-payments"]) {
        body.should.match(new RegExp('<div id="' + id + '" class="pac-config-warning" role="status" aria-live="polite"></div>'), id);
      }
      const c = catalog();
      for (const key of ["inUse", "openPayment", "openPayments"]) c.identity.should.have.property(key);
      c.identity.openPayments.should.match(/__count__/).and.match(/__eposId__/);
      c.errors.eposIdInUse.should.match(/__eposId__/).and.match(/__name__/);
    });

    it("asks pac/open-payments on a change of identity, on show, Refresh and deploy, never on the status timer", function () {
      const js = code();
      (js.match(/url: "pac\/open-payments"/g) || []).length.should.equal(2, "the dialog and the sidebar");
      js.should.match(/RED\.comms\.subscribe\("notification\/runtime-deploy"/);
      const timer = js.match(/setInterval\(function \(\) \{([\s\S]*?)\}, FALLBACK_POLL_MS\)/);
      should.exist(timer, "the status timer");
      timer[1].should.not.match(/refreshOpen|open-payments/);
      const c = catalog();
      for (const state of ["draining", "not-configured"]) c.sidebar.open.state.should.have.property(state);
    });

    it("has every key of en-US in every locale", function () {
      const locales = fs.readdirSync(path.join(NODES, "locales"));
      locales.should.containEql("en-US");
      const keys = (o, prefix) => Object.entries(o).flatMap(([k, v]) => (v && typeof v === "object" ? keys(v, prefix + k + ".") : [prefix + k]));
      for (const file of fs.readdirSync(LOCALES).filter((f) => f.endsWith(".json"))) {
        const want = keys(JSON.parse(read(path.join(LOCALES, file))), "");
        for (const locale of locales.filter((l) => l !== "en-US")) {
          const other = path.join(NODES, "locales", locale, file);
          fs.existsSync(other).should.be.true(locale + "/" + file);
          const have = keys(JSON.parse(read(other)), "");
          want.filter((k) => !have.includes(k)).should.eql([], locale + "/" + file + " misses keys");
        }
      }
    });
  });

  describe("validation", function () {
    function setup(type) {
      const catalog = JSON.parse(read(path.join(LOCALES, type + ".json")));
      const def = loadDefinitions(path.join(NODES, type + ".html"))[type];
      return { def, node: (props) => fakeNode(type, catalog, props || {}) };
    }

    it("pac-config: eposId required, requestTimeout a positive number, url ws(s) only for custom", function () {
      const { def, node } = setup("pac-config");
      isValid(def, "eposId", "", node()).should.be.false();
      isValid(def, "eposId", "till-1", node()).should.be.true();
      for (const ok of [30, "30", "0.5", 120]) {
        isValid(def, "requestTimeout", ok, node()).should.be.true(String(ok));
      }
      for (const bad of [0, "0", -5, "abc", ""]) {
        isValid(def, "requestTimeout", bad, node()).should.be.false(String(bad));
      }
      for (const ok of ["100000", 250000, ""]) isValid(def, "maxAmount", ok, node()).should.be.true(String(ok));
      for (const bad of ["0", "12.50", "-1", "abc", "1e6"]) isValid(def, "maxAmount", bad, node()).should.be.false(String(bad));
      const custom = node({ environment: "custom" });
      isValid(def, "url", "wss://pac.example.com/ws/v2/pac/epos", custom).should.be.true();
      isValid(def, "url", "ws://127.0.0.1:8787/ws/v2/pac/epos", custom).should.be.true();
      for (const bad of ["", "http://example.com", "example.com", "wss://"]) {
        isValid(def, "url", bad, custom).should.be.false(bad);
      }
      isValid(def, "url", "", node({ environment: "simulator" })).should.be.true();
      isValid(def, "environment", "production", node()).should.be.true();
      isValid(def, "environment", "live", node()).should.be.false();
      // a reason is given (3.x validators), from the catalog
      def.defaults.requestTimeout.validate.call(node(), "abc", {}).should.be.a.String();
      def.defaults.url.validate.call(custom, "http://x", {}).should.be.a.String();
    });

    it("pac-config: two connections of one till are both invalid, naming the other; simulator pairs never", function () {
      const { def, node } = setup("pac-config");
      const validate = def.defaults.eposId.validate;
      validate.length.should.equal(2, "a 3.x validator (v, opt) may return its reason");
      const cfg = (props) => node(Object.assign({ type: "pac-config", name: "", url: "", environment: "staging" }, props));
      try {
        const front = cfg({ id: "a", name: "Front till", eposId: "till-1" });
        const back = cfg({ id: "b", eposId: " till-1 " }); // trimmed by the runtime: the same till
        editorConfigs = [front, back];
        validate.call(front, front.eposId, {}).should.equal('EPOS id till-1 is also used by connection "till-1@staging"');
        validate.call(back, back.eposId, {}).should.equal('EPOS id till-1 is also used by connection "Front till"');
        validate.call(back, back.eposId).should.be.false("without opt (Node-RED 2.x): false");
        isValid(def, "eposId", "till-2", back).should.be.true("another EPOS id");
        // Not the same till: another environment, another custom URL, another known account.
        back.environment = "production";
        isValid(def, "eposId", back.eposId, back).should.be.true("another environment");
        front.environment = back.environment = "custom";
        front.url = "wss://a.example/pac";
        back.url = "wss://b.example/pac";
        isValid(def, "eposId", back.eposId, back).should.be.true("another URL");
        back.url = " wss://a.example/pac ";
        isValid(def, "eposId", back.eposId, back).should.be.false("the same URL");
        front.credentials = { accountName: "shop-a" };
        isValid(def, "eposId", back.eposId, back).should.be.false("one account not known here: may be the same");
        back.credentials = { accountName: "shop-b" };
        isValid(def, "eposId", back.eposId, back).should.be.true("two known accounts");
        back.credentials = { accountName: "shop-a " };
        isValid(def, "eposId", back.eposId, back).should.be.false("the same account");
        front.d = true;
        isValid(def, "eposId", back.eposId, back).should.be.true("a disabled connection does not connect");
        // Each simulator connection has its own simulator and journal.
        const sim1 = cfg({ id: "c", environment: "simulator", eposId: "till-1" });
        const sim2 = cfg({ id: "d", environment: "simulator", eposId: "till-1" });
        editorConfigs = [sim1, sim2];
        isValid(def, "eposId", sim1.eposId, sim1).should.be.true();
        isValid(def, "eposId", sim2.eposId, sim2).should.be.true();
        // alone: valid
        editorConfigs = [front];
        front.d = false;
        isValid(def, "eposId", front.eposId, front).should.be.true();
      } finally {
        editorConfigs = [];
      }
    });

    it("pac-payment / pac-refund: currency is three capital letters", function () {
      for (const type of ["pac-payment", "pac-refund"]) {
        const { def, node } = setup(type);
        isValid(def, "currency", "GBP", node()).should.be.true();
        isValid(def, "currency", "EUR", node()).should.be.true();
        for (const bad of ["", "gbp", "GB", "GBPX", "£"]) {
          isValid(def, "currency", bad, node()).should.be.false(type + " " + bad);
        }
        def.defaults.currency.validate.call(node(), "gb", {}).should.be.a.String();
      }
      const { def, node } = setup("pac-payment");
      isValid(def, "captureMode", "MANUAL", node()).should.be.true();
      isValid(def, "captureMode", "manual", node()).should.be.false();
      isValid(def, "signature", "ask", node()).should.be.true();
      isValid(def, "signature", "maybe", node()).should.be.false();
    });

    it("pac-events: a non-empty set of known event types", function () {
      const { def, node } = setup("pac-events");
      isValid(def, "events", ["wire"], node()).should.be.true();
      isValid(def, "events", EVENT_TYPES.slice(), node()).should.be.true();
      isValid(def, "events", [], node()).should.be.false();
      isValid(def, "events", ["record", "bogus"], node()).should.be.false();
    });

    it("pac-capture / pac-status: only the documented choices", function () {
      const cap = setup("pac-capture");
      isValid(cap.def, "action", "update", cap.node()).should.be.true();
      isValid(cap.def, "action", "refund", cap.node()).should.be.false();
      const st = setup("pac-status");
      for (const q of ["payment", "terminals", "terminal", "journal"]) {
        isValid(st.def, "query", q, st.node()).should.be.true(q);
      }
      isValid(st.def, "query", "report", st.node()).should.be.false();
    });

    it("labels follow the node's settings", function () {
      const pay = setup("pac-payment");
      pay.def.label.call(pay.node({ captureMode: "AUTO" })).should.equal("Dojo payment");
      pay.def.label.call(pay.node({ captureMode: "MANUAL" })).should.equal("Dojo pre-auth");
      const cfg = setup("pac-config");
      cfg.def.label.call(cfg.node({ eposId: "till-1", environment: "simulator" })).should.equal("till-1@simulator");
      cfg.def.label.call(cfg.node({ name: "Shop", eposId: "till-1", environment: "staging" })).should.equal("Shop");
    });
  });

  // ---- examples ------------------------------------------------------------------------------

  describe("examples", function () {
    const files = fs.existsSync(EXAMPLES)
      ? fs
          .readdirSync(EXAMPLES)
          .filter((f) => f.endsWith(".json"))
          .sort()
      : [];

    it("has the documented examples", function () {
      for (const f of EXPECTED_EXAMPLES) {
        files.should.containEql(f);
      }
    });

    it("uses every node of the palette in some example", function () {
      const used = new Set();
      for (const f of files) {
        for (const n of JSON.parse(read(path.join(EXAMPLES, f)))) {
          used.add(n.type);
        }
      }
      for (const type of Object.keys(CONTRACT)) {
        used.has(type).should.be.true(type + " appears in no example");
      }
    });

    for (const file of files) {
      describe(file, function () {
        let flow;
        let byId;
        let tab;
        before(function () {
          flow = JSON.parse(read(path.join(EXAMPLES, file)));
          byId = new Map(flow.map((n) => [n.id, n]));
          tab = flow[0];
        });

        it("is one tab of nodes with unique 16-hex ids", function () {
          flow.should.be.an.Array();
          tab.type.should.equal("tab");
          flow.filter((n) => n.type === "tab").length.should.equal(1);
          byId.size.should.equal(flow.length, "ids are unique");
          for (const n of flow) {
            n.id.should.match(/^[0-9a-f]{16}$/);
            n.type.should.be.a.String();
            const isConfig = n.type === "pac-config" || (file === DASHBOARD_EXAMPLE && DASHBOARD_CONFIG_TYPES.has(n.type));
            if (n.type !== "tab" && !isConfig) {
              should(n.z).equal(tab.id, n.id + " is not on the tab");
              n.x.should.be.a.Number();
              n.y.should.be.a.Number();
              n.wires.should.be.an.Array();
            }
          }
        });

        it("uses only our nodes and Node-RED's core nodes", function () {
          for (const n of flow) {
            if (n.type.startsWith("pac-")) {
              Object.keys(CONTRACT).should.containEql(n.type);
            } else if (file === DASHBOARD_EXAMPLE && (DASHBOARD_TYPES.has(n.type) || DASHBOARD_CONFIG_TYPES.has(n.type))) {
              // the documented exception (see DASHBOARD_EXAMPLE)
            } else {
              CORE_TYPES.has(n.type).should.be.true("not a core node type: " + n.type);
            }
          }
        });

        it("wires to nodes that exist, from outputs that exist", function () {
          for (const n of flow.filter((x) => Array.isArray(x.wires))) {
            const c = CONTRACT[n.type];
            if (c && c.outputs !== undefined) {
              n.wires.length.should.equal(c.outputs, n.type + " " + n.id + " outputs");
            }
            if (n.type === "switch" || n.type === "function") {
              n.wires.length.should.equal(n.outputs, n.id + " outputs");
            }
            if (n.type === "debug" || n.type === "http response" || n.type === "comment") {
              n.wires.should.eql([]);
            }
            for (const port of n.wires) {
              port.should.be.an.Array();
              for (const target of port) {
                byId.has(target).should.be.true(n.id + " wires to a missing node " + target);
                const t = byId.get(target);
                ["tab", "pac-config", "comment", "inject", "catch", "http in", "pac-events"]
                  .includes(t.type)
                  .should.be.false(n.id + " wires into a node with no input");
              }
            }
          }
          for (const n of flow.filter((x) => x.type === "catch" && Array.isArray(x.scope))) {
            for (const target of n.scope) {
              byId.has(target).should.be.true("catch scope names a missing node " + target);
            }
          }
        });

        it("gives our nodes only their documented properties, with valid values", function () {
          for (const n of flow.filter((x) => x.type.startsWith("pac-"))) {
            const c = CONTRACT[n.type];
            for (const key of Object.keys(n)) {
              (BASE_PROPS.has(key) || c.defaults.includes(key)).should.be.true(n.type + " has an undocumented property " + key);
            }
            for (const key of c.defaults) {
              n.should.have.property(key);
            }
            for (const [prop, values] of Object.entries(c.selects)) {
              values.should.containEql(n[prop], n.type + "." + prop);
            }
            if ("currency" in n) {
              n.currency.should.match(/^[A-Z]{3}$/);
            }
            if (n.type === "pac-events") {
              n.events.should.be.an.Array().and.not.be.empty();
              for (const e of n.events) {
                EVENT_TYPES.should.containEql(e);
              }
            }
          }
        });

        it("uses one simulator connection without credentials", function () {
          const configs = flow.filter((n) => n.type === "pac-config");
          configs.length.should.equal(1);
          const cfg = configs[0];
          cfg.environment.should.equal("simulator");
          cfg.eposId.should.equal("till-1");
          cfg.softwareHouseId.should.equal("shopflow-demo");
          cfg.requestTimeout.should.equal(30);
          cfg.should.not.have.property("credentials");
          should.not.exist(cfg.z);
          const users = flow.filter((n) => n.type.startsWith("pac-") && n.type !== "pac-config" && n.type !== "pac-receipt");
          users.length.should.be.above(0);
          for (const n of users) {
            n.server.should.equal(cfg.id, n.id + " uses another connection");
          }
        });

        it("explains itself in a comment node", function () {
          const comments = flow.filter((n) => n.type === "comment");
          comments.length.should.be.above(0);
          comments.some((n) => n.name && n.info && n.info.length > 40).should.be.true();
        });
      });
    }

    it("till-dashboard says what to install, in a comment node and in the README; no other example needs it", function () {
      const flow = JSON.parse(read(path.join(EXAMPLES, DASHBOARD_EXAMPLE)));
      const comment = flow.find((n) => n.type === "comment" && n.name.includes(DASHBOARD_PACKAGE));
      should.exist(comment, "a comment node named after the package");
      comment.info.should.match(/Manage palette/).and.match(/npm install @flowfuse\/node-red-dashboard/);
      read(path.join(ROOT, "README.md")).should.match(/till-dashboard[\s\S]{0,400}@flowfuse\/node-red-dashboard/);
      const thirdParty = [...DASHBOARD_TYPES, ...DASHBOARD_CONFIG_TYPES];
      for (const f of files.filter((x) => x !== DASHBOARD_EXAMPLE)) {
        const types = JSON.parse(read(path.join(EXAMPLES, f))).map((n) => n.type);
        types.filter((t) => thirdParty.includes(t)).should.eql([], f);
      }
      // The till has no function node: the nodes' msg properties are its glue.
      flow.filter((n) => n.type === "function").should.eql([]);
      Object.keys(JSON.parse(read(path.join(ROOT, "package.json"))).devDependencies).should.containEql(DASHBOARD_PACKAGE);
    });

    it("shop-counter answers every HTTP request", function () {
      const flow = JSON.parse(read(path.join(EXAMPLES, "shop-counter.json")));
      const byId = new Map(flow.map((n) => [n.id, n]));
      const ins = flow.filter((n) => n.type === "http in");
      ins
        .map((n) => n.method)
        .sort()
        .should.eql(["get", "post"]);
      ins.forEach((n) => n.url.should.equal("/sale"));
      const pay = flow.find((n) => n.type === "pac-payment");
      // outputs 1 and 2 lead to an http response; output 3 (progress) must not
      const reaches = (ids, seen = new Set()) =>
        ids.some((id) => {
          if (seen.has(id)) {
            return false;
          }
          seen.add(id);
          const n = byId.get(id);
          return n.type === "http response" || reaches([].concat(...(n.wires || [])), seen);
        });
      reaches(pay.wires[0]).should.be.true("approved → http response");
      reaches(pay.wires[1]).should.be.true("not approved → http response");
      reaches(pay.wires[2]).should.be.false("progress must not answer the request");
      const catches = flow.filter((n) => n.type === "catch");
      catches
        .some((c) => Array.isArray(c.scope) && c.scope.includes(pay.id) && reaches([].concat(...c.wires)))
        .should.be.true("a catch scoped to pac-payment answers the request");
      catches.filter((c) => reaches([].concat(...c.wires))).length.should.be.above(1, "bad input is answered too");
      const codes = flow.filter((n) => n.type === "change").flatMap((n) => n.rules.filter((r) => r.p === "statusCode").map((r) => r.to));
      codes.should.containEql("400");
      codes.should.containEql("502");
    });
  });
});
