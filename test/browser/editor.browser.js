/*
 * The editor experience in a real browser: Debian's chromium (playwright-core, no browser
 * download) against a real Node-RED with this package installed. Run with `npm run test:browser`
 * (not part of `npm test`: the file does not match *.test.js).
 *
 * 1. No adminAuth: drag a Dojo payment node from the palette, give it a new simulator connection
 *    (Test connection, driven by the keyboard), wire an inject and a debug node, deploy; the
 *    terminalId field lists the terminals; play the customer on the virtual terminal page (manual
 *    mode, chip and PIN) while the node's status and the Dojo sidebar follow (nothing to ask Dojo
 *    about a running sale); the result reaches the debug sidebar; every node's help opens; the
 *    sidebar and the config dialog stay readable with a dark theme's colours; a signature asked
 *    with the till's policy "accept" stays on the virtual terminal's screen with its answer.
 * 2. adminAuth on: every admin endpoint and the virtual terminal page answer 401 without a token;
 *    a read-only user can look but not act; logged in through the editor's login form, the Dojo
 *    sidebar works and its virtual terminal link opens a live page.
 * 3. One identity, one owner: two connections of one till (same environment and EPOS id) are both
 *    marked invalid and the deploy asks first; the dialog warns while typing; another EPOS id
 *    clears both; a simulator pair never collides; an import that collides marks the existing one.
 * 4. Payments still open under a deployed identity, for real: a sale waits for the card on a
 *    custom connection (the test's own simulator) and on the built-in simulator, and a journal of
 *    an identity no connection uses lies in the userDir. The dialog warns before the EPOS id with
 *    the open sale changes; deployed, that connection drains and the Dojo sidebar lists it with
 *    the not-configured journal (asked on show, Refresh and deploy, not polled) until the customer
 *    pays; a sale refused before it was sent (the journal's disk full, injected) shows as refused.
 * 5. Findable and clear on the canvas (a 1024×700 window, one connection): "dojo" finds every
 *    node in the palette filter and the quick-add box; unnamed nodes say Dojo on the canvas; a new
 *    node gets the only connection; the connection dialog shows only what its environment uses,
 *    forgets a test result when a field changes, and fits the window.
 * 6. The Dojo sidebar follows a chip-and-PIN sale live (the runtime pushes "changed" on the comms):
 *    the running sale and each step show within 700 ms (the old 2 s poll could not).
 * 7. The Dojo sidebar's list (the test's own simulator, a sale left open in the journal): Ask Dojo
 *    only for the unknown outcome; the terminal available within 1 s of a sale's end; each
 *    payment's time, short id (whole on hover) and copy button; one tab title everywhere; the
 *    connection dialog's link to the tab.
 *
 * Screenshots go to artifacts/ (gitignored).
 */
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const should = require("should");
const { until, startNodeRed, launchBrowser, screenshot } = require("./support");

const VIEWPORT = { width: 1400, height: 900 };
const STEP_MS = 15000;
const TYPES = ["pac-config", "pac-payment", "pac-refund", "pac-capture", "pac-cancel", "pac-events", "pac-status"];

const timings = {};
function timed(name, started) {
  timings[name] = Date.now() - started;
}

/** Errors from the page that are ours (a 404 of a not yet deployed connection's status is expected). */
function watchPage(page, errors) {
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
}

/**
 * Bring a page to the front before acting on it: a page in the background gets no animation
 * frames, and Playwright's "stable" check waits on them.
 */
function front(p) {
  return p.bringToFront();
}

async function nodeIds(page) {
  return page.$$eval("#red-ui-workspace-chart g.red-ui-flow-node-group", (els) => els.map((e) => e.id));
}

/** Drag a node type from the palette onto the workspace; resolves with the new node's id. */
async function dragFromPalette(page, type, x, y) {
  const before = await nodeIds(page);
  const item = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
  await item.scrollIntoViewIfNeeded();
  await item.dragTo(page.locator("#red-ui-workspace-chart"), { targetPosition: { x, y } });
  const ids = await until(
    async () => {
      const added = (await nodeIds(page)).filter((id) => !before.includes(id));
      return added.length ? added : null;
    },
    `${type} on the workspace`,
    STEP_MS,
  );
  ids.length.should.equal(1);
  return ids[0];
}

async function centre(locator) {
  const box = await locator.boundingBox();
  should.exist(box, "element has no box");
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Draw a wire with the mouse from an output port to a node's input port. */
async function wire(page, fromId, port, toId) {
  // The edit tray scrolls the workspace to keep the edited node in view: back to the origin.
  await page.locator("#red-ui-workspace-chart").evaluate((e) => {
    e.scrollLeft = 0;
    e.scrollTop = 0;
  });
  const from = await centre(page.locator(`#red-ui-workspace-chart g[id="${fromId}"] .red-ui-flow-port-output`).nth(port));
  const to = await centre(page.locator(`#red-ui-workspace-chart g[id="${toId}"] .red-ui-flow-port-input`).first());
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 8 });
  await page.mouse.move(to.x, to.y, { steps: 8 });
  await page.mouse.up();
  await until(
    () => page.evaluate(([a, p, b]) => RED.nodes.filterLinks({ source: { id: a }, sourcePort: p, target: { id: b } }).length === 1, [fromId, port, toId]),
    `a wire ${fromId}:${port} → ${toId}`,
    STEP_MS,
  );
}

/** Click a tray button (Done, Cancel, Add…) and wait until that tray has gone. */
async function closeTray(page, selector) {
  await page.locator(selector).click();
  // The tray is removed once its closing animation is over.
  await page.locator(selector).waitFor({ state: "detached" });
}

async function helpText(page) {
  return (await page.locator("#red-ui-sidebar-content .red-ui-help").last().textContent()) || "";
}

async function statusText(page, id) {
  const label = page.locator(`#red-ui-workspace-chart g[id="${id}"] .red-ui-flow-node-status-label`);
  return (await label.count()) ? (await label.textContent()) || "" : "";
}

async function showSidebarTab(page, id) {
  const button = page.locator(`#red-ui-tab-${id}-link-button`);
  if (await button.isVisible()) {
    await button.click();
  } else {
    // More tabs than room for their buttons: the tab bar's menu lists them all.
    await page.locator("#red-ui-sidebar a.red-ui-tab-link-button-menu").click();
    await page.locator(`#red-ui-tabs-menu-option-${id}`).click();
  }
  await until(() => page.locator(`#red-ui-tab-${id}`).evaluate((e) => e.classList.contains("active")), `sidebar tab ${id}`, STEP_MS);
}

/** WCAG contrast of every visible text in `selector` against its effective background. */
async function lowContrast(page, selector) {
  return page.evaluate((sel) => {
    function rgb(s) {
      const m = /rgba?\(([^)]+)\)/.exec(s);
      if (!m) return null;
      const p = m[1].split(",").map((x) => parseFloat(x));
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    }
    function lum(c) {
      const f = (v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
      };
      return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    }
    function background(el) {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    }
    const bad = [];
    for (const root of document.querySelectorAll(sel)) {
      for (const el of root.querySelectorAll("*")) {
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
        const fg = rgb(getComputedStyle(el).color);
        const bg = background(el);
        const l1 = lum(fg);
        const l2 = lum(bg);
        const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
        if (ratio < 4.5) bad.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 40)}": ${ratio.toFixed(2)}`);
      }
    }
    return bad;
  }, selector);
}

/** Colours of a typical dark Node-RED theme (the editor styles itself with these variables). */
const DARK_THEME = `:root {
  --red-ui-primary-background: #1f1f1f; --red-ui-secondary-background: #262626; --red-ui-tertiary-background: #2f2f2f;
  --red-ui-primary-text-color: #d6d6d6; --red-ui-secondary-text-color: #b0b0b0; --red-ui-tertiary-text-color: #999;
  --red-ui-header-text-color: #eee; --red-ui-text-color-link: #7ab7ff; --red-ui-text-color-error: #ff8080;
  --red-ui-text-color-success: #6c6; --red-ui-primary-border-color: #555; --red-ui-secondary-border-color: #444;
  --red-ui-tertiary-border-color: #3a3a3a; --red-ui-form-background: #262626; --red-ui-form-text-color: #ddd;
  --red-ui-form-input-background: #2b2b2b; --red-ui-form-input-border-color: #555; --red-ui-form-tips-background: #333;
  --red-ui-form-button-background: #333; --red-ui-workspace-button-color: #ddd; --red-ui-workspace-button-background: #333;
  --red-ui-workspace-button-background-hover: #444; --red-ui-workspace-button-color-hover: #eee;
  --red-ui-workspace-button-background-active: #444; --red-ui-workspace-button-color-active: #eee;
  --red-ui-workspace-button-color-focus: #eee; --red-ui-workspace-button-color-selected: #eee;
  --red-ui-workspace-button-color-disabled: #888; --red-ui-secondary-background-disabled: #2b2b2b; --red-ui-list-item-color: #ddd; --red-ui-list-item-background: #262626;
  --red-ui-tab-background: #262626; --red-ui-tab-background-active: #1f1f1f; --red-ui-tab-background-inactive: #2b2b2b;
  --red-ui-view-background: #1a1a1a; --red-ui-shade-color: rgba(0,0,0,0.4);
}`;

describe("editor in a real browser", function () {
  this.timeout(120000);
  let browser;

  before(async function () {
    const t = Date.now();
    browser = await launchBrowser();
    timed("launch chromium", t);
  });

  after(async function () {
    if (browser) await browser.close();
    console.log("      timings (ms):", JSON.stringify(timings));
  });

  describe("a Dojo payment built in the editor and played on the virtual terminal", function () {
    this.bail(true);
    let nr;
    let context;
    let page;
    let vt;
    const errors = [];
    const ids = {};

    before(async function () {
      const t = Date.now();
      nr = await startNodeRed({ flows: [] });
      timed("start Node-RED", t);
      context = await browser.newContext({ viewport: VIEWPORT });
      context.setDefaultTimeout(STEP_MS);
      page = await context.newPage();
      watchPage(page, errors);
    });

    afterEach(async function () {
      if (this.currentTest.state === "failed" && page) {
        await screenshot(page, "failure-editor").catch(() => undefined);
        console.log(nr.log().split("\n").slice(-30).join("\n"));
      }
    });

    after(async function () {
      if (context) await context.close();
      if (nr) await nr.stop();
    });

    it("opens the editor with the Dojo palette and the Dojo sidebar tab", async function () {
      const t = Date.now();
      await page.goto(nr.url);
      await page.locator('#red-ui-palette .red-ui-palette-node[data-palette-type="pac-payment"]').waitFor({ timeout: 30000 });
      await page.locator("#red-ui-tab-dojo-pac").waitFor({ state: "attached" });
      timed("editor loaded", t);
    });

    it("drags a Dojo payment node and gives it a new simulator connection, tested with the keyboard", async function () {
      const t = Date.now();
      ids.pay = await dragFromPalette(page, "pac-payment", 420, 220);
      await page.locator(`#red-ui-workspace-chart g[id="${ids.pay}"]`).dblclick();
      await page.locator("#node-input-btn-server-add").click();
      await page.locator("#node-config-input-eposId").waitFor();
      (await page.locator("#node-config-input-environment").inputValue()).should.equal("simulator");
      (await page.locator(".pac-config-row-url").isVisible()).should.be.false("the URL row is only for custom");
      await page.selectOption("#node-config-input-environment", "production");
      (await page.locator(".pac-config-row-production").isVisible()).should.be.true("a warning before production");
      await page.selectOption("#node-config-input-environment", "custom");
      (await page.locator(".pac-config-row-url").isVisible()).should.be.true();
      await page.selectOption("#node-config-input-environment", "simulator");
      (await page.locator("#pac-config-vt-link").isVisible()).should.be.false("no virtual terminal before deploying");
      (await page.locator("#pac-config-vt-tip").isVisible()).should.be.true();
      await page.fill("#node-config-input-eposId", "till-browser");
      await page.fill("#node-config-input-name", "Browser till");
      // Keyboard only: Tab to "Test connection", Enter. (The tray may still move the focus to its
      // first field as it finishes opening: keep tabbing until Enter on the button took effect.)
      (await page.locator("#pac-config-test").getAttribute("type")).should.equal("button");
      await page.focus("#node-config-input-name");
      await until(
        async () => {
          if (await page.locator("#pac-config-test-result").getAttribute("data-result")) return true;
          if ((await page.evaluate(() => document.activeElement && document.activeElement.id)) === "pac-config-test") {
            await page.keyboard.press("Enter");
            await page.waitForTimeout(100);
            return !!(await page.locator("#pac-config-test-result").getAttribute("data-result"));
          }
          await page.keyboard.press("Tab");
          return false;
        },
        "Tab to reach Test connection and Enter",
        STEP_MS,
        0,
      );
      const result = page.locator('#pac-config-test-result[data-result="ok"]');
      await result.waitFor();
      (await result.textContent()).should.match(/Connected: 2 terminal\(s\) \(SIM00001, SIM00002\)/);
      (await page.locator("#pac-config-test-result").getAttribute("role")).should.equal("status");
      await screenshot(page, "01-config-dialog-test-connection");
      await closeTray(page, "#node-config-dialog-ok");
      ids.cfg = await page.locator("#node-input-server").inputValue();
      ids.cfg.should.not.equal("_ADD_");
      // Not deployed yet: the terminal field says so, and still takes a typed id.
      await until(async () => /Deploy the Dojo connection/.test(await page.locator("#pac-payment-terminal-state").textContent()), "terminal hint", STEP_MS);
      await page.fill("#node-input-terminalId", "SIM00001");
      await closeTray(page, "#node-dialog-ok");
      timed("drag and configure", t);
    });

    it("wires an inject and a debug node with the mouse and deploys", async function () {
      const t = Date.now();
      ids.inject = await dragFromPalette(page, "inject", 200, 220);
      ids.debug = await dragFromPalette(page, "debug", 680, 160);
      // inject: msg.payload = 1250 (a number), chosen in the typedInput
      await page.locator(`#red-ui-workspace-chart g[id="${ids.inject}"] .red-ui-flow-node`).dblclick();
      const row = page.locator("#node-input-property-container li").first();
      const value = row.locator(".red-ui-typedInput-container").nth(1); // [msg.payload] = [value]
      await value.locator(".red-ui-typedInput-type-select").click();
      await page.locator('.red-ui-typedInput-options:visible a[value="num"]').click();
      await value.locator("input.red-ui-typedInput-input").fill("1250");
      await closeTray(page, "#node-dialog-ok");
      // debug: msg.payload (the default)
      await page.locator(`#red-ui-workspace-chart g[id="${ids.debug}"] .red-ui-flow-node`).dblclick();
      await page.locator("#node-input-typed-complete").waitFor({ state: "attached" });
      await closeTray(page, "#node-dialog-ok");
      await wire(page, ids.inject, 0, ids.pay);
      await wire(page, ids.pay, 0, ids.debug);
      await wire(page, ids.pay, 1, ids.debug);
      await page.locator("#red-ui-header-button-deploy").click();
      await until(async () => /connected/.test(await statusText(page, ids.pay)), "the node's status 'connected'", STEP_MS);
      timed("wire and deploy", t);
    });

    it("offers the connection's terminals in the terminalId field and opens the virtual terminal from the config dialog", async function () {
      await page.locator(`#red-ui-workspace-chart g[id="${ids.pay}"]`).dblclick();
      await until(async () => /2 terminal\(s\) connected/.test(await page.locator("#pac-payment-terminal-state").textContent()), "terminal list", STEP_MS);
      (await page.locator("#node-input-terminalId").getAttribute("list")).should.equal("pac-payment-terminal-list");
      (await page.$$eval("#pac-payment-terminal-list option", (os) => os.map((o) => o.value))).should.eql(["SIM00001", "SIM00002"]);
      await page.locator("#node-input-btn-server-edit").click();
      const link = page.locator("#pac-config-vt-link");
      await link.waitFor({ state: "visible" });
      (await link.getAttribute("href")).should.endWith(`pac/vt/${ids.cfg}/`);
      (await link.getAttribute("target")).should.equal("_blank");
      const t = Date.now();
      const [popup] = await Promise.all([context.waitForEvent("page"), link.click()]);
      vt = popup;
      watchPage(vt, errors);
      await vt.locator('[data-conn="live"]').waitFor();
      timed("virtual terminal page live", t);
      await front(page);
      await closeTray(page, "#node-config-dialog-cancel");
      await closeTray(page, "#node-dialog-cancel");
    });

    it("plays the customer (manual mode, chip and PIN) while the node's status and the Dojo sidebar follow", async function () {
      const t = Date.now();
      const card = vt.locator('section[data-terminal="SIM00001"]');
      const automatic = card.locator('button[data-toggle="automatic"]');
      (await automatic.getAttribute("aria-checked")).should.equal("true");
      await front(vt);
      await automatic.click();
      await until(async () => (await automatic.getAttribute("aria-checked")) === "false", "manual mode", STEP_MS);
      await front(page);
      await showSidebarTab(page, "dojo-pac");
      const section = page.locator(`.pac-sb section[data-config="${ids.cfg}"]`);
      await section.waitFor();
      await until(async () => (await section.locator(".pac-sb-state-text").getAttribute("data-state")) === "open", "sidebar: connected", STEP_MS);
      (await section.locator("h3").textContent()).should.equal("Browser till");

      // Start the payment with the inject node's button.
      await page.locator(`#red-ui-workspace-chart g[id="${ids.inject}"] .red-ui-flow-node-button`).click();
      await front(vt);
      await card.locator('[data-field="headline"]:has-text("Present card")').waitFor();
      await screenshot(vt, "02-virtual-terminal-present-card");
      await front(page);
      await until(async () => /present card/i.test(await statusText(page, ids.pay)), "node status 'present card'", STEP_MS);
      const term = section.locator('tr[data-terminal="SIM00001"]');
      await until(async () => /present card · £12\.50/.test(await term.textContent()), "sidebar: SIM00001 at present card", STEP_MS);
      const payment = section.locator(".pac-sb-payments li").first();
      (await payment.getAttribute("data-status")).should.equal("IN_PROGRESS");
      await screenshot(page, "03-editor-present-card");

      // A running sale shows its steps live: Ask Dojo is only for an unknown outcome (tested below).
      (await payment.locator("button.pac-sb-query").count()).should.equal(0, "nothing to ask about a running sale");

      await front(vt);
      await card.locator('button[data-action="insert"]').click();
      await card.locator('[data-field="headline"]:has-text("Enter PIN")').waitFor();
      await front(page);
      await until(async () => /entering PIN/.test(await statusText(page, ids.pay)), "node status: PIN", STEP_MS);
      await until(async () => /entering PIN/.test(await term.textContent()), "sidebar: PIN entry", STEP_MS);
      await front(vt);
      // The PIN pad: four digits, then OK, as a customer would.
      const pad = card.locator("[data-keypad]");
      await pad.waitFor({ state: "visible" });
      for (const d of ["1", "2", "3", "4"]) await pad.locator(`button[data-key="${d}"]`).click();
      (await pad.locator('[data-field="pin"]').textContent()).should.equal("••••");
      await screenshot(vt, "03b-virtual-terminal-pin-pad");
      await pad.locator('button[data-key="ok"]').click();
      await card.locator('button[data-action="approve"]:not([disabled])').waitFor();
      (await pad.isHidden()).should.be.true("the pad goes once the PIN is entered");
      await card.locator('button[data-action="approve"]').click();
      await card.locator('button[data-action="removeCard"]:not([disabled])').waitFor();
      await card.locator('button[data-action="removeCard"]').click();
      await card.locator('[data-field="headline"]:has-text("Approved £12.50")').waitFor();
      await front(page);
      await until(async () => /paid/.test(await statusText(page, ids.pay)), "node status 'paid'", STEP_MS);
      await until(async () => (await payment.getAttribute("data-status")) === "CAPTURED", "sidebar: CAPTURED", STEP_MS);
      (await payment.locator("button.pac-sb-query").count()).should.equal(0, "a finished payment has nothing to ask");
      await screenshot(page, "04-dojo-sidebar-paid");
      timed("play the customer", t);
    });

    it("shows the result in the debug sidebar", async function () {
      await showSidebarTab(page, "debug");
      const msg = page.locator(".red-ui-debug-msg").first();
      await msg.waitFor();
      await until(async () => /CAPTURED/.test(await msg.textContent()), "CAPTURED in the debug sidebar", STEP_MS);
      (await msg.textContent()).should.match(/SIM00001/);
      await screenshot(page, "05-debug-sidebar");
    });

    it("opens every node's help", async function () {
      const t = Date.now();
      for (const type of TYPES.filter((x) => x !== "pac-config")) {
        const item = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
        await item.scrollIntoViewIfNeeded();
        await item.hover();
        // The palette tooltip of this type ("<module> : <type>"), not one still fading out.
        const book = page.locator(`.red-ui-popover:has-text(": ${type}") button:has(i.fa-book)`);
        await book.waitFor({ state: "visible" });
        const title = (await item.locator(".red-ui-palette-label").textContent()).replace(/\s+/g, " ").trim();
        await book.click();
        await until(
          async () =>
            (await page.locator("h1.red-ui-help-title").textContent()).replace(/\s+/g, " ").trim() === title &&
            /Details[\s\S]*References/.test(await helpText(page)),
          `help of ${type} (${title})`,
          STEP_MS,
        );
        await page.mouse.move(700, 600);
        await until(async () => (await page.locator(".red-ui-popover:visible").count()) === 0, "the tooltip to go", STEP_MS);
      }
      // pac-config: from its edit dialog's help button.
      await page.locator(`#red-ui-workspace-chart g[id="${ids.pay}"]`).dblclick();
      await page.locator("#node-input-btn-server-edit").click();
      await page.locator("#node-config-input-eposId").waitFor();
      await page.locator(".red-ui-tray:last-child .red-ui-tray-footer-left button:has(i.fa-book)").click();
      await until(
        async () => (await page.locator("h1.red-ui-help-title").textContent()) === "Dojo connection" && /Details[\s\S]*References/.test(await helpText(page)),
        "help of pac-config",
        STEP_MS,
      );
      await screenshot(page, "06-help-pac-config");
      await closeTray(page, "#node-config-dialog-cancel");
      await closeTray(page, "#node-dialog-cancel");
      timed("open every help", t);
    });

    it("keeps the Dojo sidebar and the connection dialog readable in a dark theme", async function () {
      await page.addStyleTag({ content: DARK_THEME });
      await showSidebarTab(page, "dojo-pac");
      await page.locator(".pac-sb-payments li").first().waitFor();
      const sidebar = await lowContrast(page, ".pac-sb");
      sidebar.should.eql([], "low contrast in the sidebar");
      await screenshot(page, "07-dark-dojo-sidebar");
      await page.locator(`#red-ui-workspace-chart g[id="${ids.pay}"]`).dblclick();
      await until(async () => /terminal\(s\) connected/.test(await page.locator("#pac-payment-terminal-state").textContent()), "terminal list", STEP_MS);
      await page.locator("#node-input-btn-server-edit").click();
      await page.locator("#pac-config-test").click();
      await page.locator('#pac-config-test-result[data-result="ok"]').waitFor();
      (await page.locator("#pac-config-test-result").textContent()).should.match(/the deployed connection/);
      const dialog = await lowContrast(page, ".pac-config-row-test, .pac-config-row-simulator");
      dialog.should.eql([], "low contrast in the config dialog");
      await screenshot(page, "08-dark-config-dialog");
      await closeTray(page, "#node-config-dialog-cancel");
      await closeTray(page, "#node-dialog-cancel");
    });

    it("shows on the virtual terminal that a signature was asked and what the till answered at once (policy accept)", async function () {
      // The node's signature policy is "accept": the till answers in milliseconds, so the
      // "Signature?" step is gone before anyone sees it; the screen keeps the question and answer.
      const card = vt.locator('section[data-terminal="SIM00001"]');
      await front(page);
      await page.locator(`#red-ui-workspace-chart g[id="${ids.inject}"] .red-ui-flow-node-button`).click();
      await front(vt);
      await card.locator('[data-field="headline"]:has-text("Present card")').waitFor();
      const ask = card.locator('button[data-action="requestSignature"]');
      (await ask.isVisible()).should.be.true("Ask for signature is on the page");
      await card.locator('button[data-action="present"]').click();
      await card.locator('button[data-action="requestSignature"]:not([disabled])').waitFor();
      await ask.click();
      const signature = card.locator('[data-field="signature"]');
      await until(
        async () => (await signature.textContent()) === "Signature asked: the till accepted it",
        "the signature question and the till's answer",
        STEP_MS,
      );
      await card.locator('[data-field="headline"]:has-text("Approved £12.50")').waitFor();
      (await signature.isVisible()).should.be.true("still shown once approved");
      (await signature.textContent()).should.equal("Signature asked: the till accepted it");
      await screenshot(vt, "04b-virtual-terminal-signature-answered");
      await front(page);
      await until(async () => /paid/.test(await statusText(page, ids.pay)), "node status 'paid'", STEP_MS);
    });

    it("had no script error in the editor or the virtual terminal page", function () {
      errors.should.eql([]);
    });
  });

  describe("with adminAuth", function () {
    this.bail(true);
    const CFG = "a1b2c3d4e5f60718";
    const PASSWORD = "correct horse battery";
    let nr;
    let context;
    const errors = [];

    before(async function () {
      const t = Date.now();
      const bcrypt = require("bcryptjs");
      const hash = bcrypt.hashSync(PASSWORD, 8);
      nr = await startNodeRed({
        adminAuth: {
          type: "credentials",
          users: [
            { username: "admin", password: hash, permissions: "*" },
            { username: "viewer", password: hash, permissions: "read" },
          ],
        },
        flows: [
          { id: "f0f0f0f0f0f0f0f0", type: "tab", label: "Till" },
          {
            id: CFG,
            type: "pac-config",
            name: "Secured till",
            environment: "simulator",
            url: "",
            eposId: "till-auth",
            softwareHouseId: "",
            resellerId: "",
            requestTimeout: 30,
          },
          { id: "0102030405060708", type: "pac-status", z: "f0f0f0f0f0f0f0f0", name: "", server: CFG, query: "terminals", x: 200, y: 100, wires: [[]] },
        ],
      });
      timed("start Node-RED (adminAuth)", t);
    });

    after(async function () {
      if (context) await context.close();
      if (nr) await nr.stop();
    });

    async function token(username, scope) {
      const res = await fetch(`${nr.url}auth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_id: "node-red-admin", grant_type: "password", scope, username, password: PASSWORD }),
      });
      res.status.should.equal(200);
      return (await res.json()).access_token;
    }

    function call(method, path, tok, body) {
      const headers = { "content-type": "application/json" };
      if (tok) headers.authorization = `Bearer ${tok}`;
      return fetch(`${nr.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: "manual" });
    }

    const ENDPOINTS = [
      ["GET", `pac/terminals/${CFG}`],
      ["GET", `pac/status/${CFG}`],
      ["POST", "pac/test-connection", { environment: "simulator", eposId: "x" }],
      ["POST", `pac/payment/${CFG}/some-payment/query`, {}],
      ["GET", `pac/vt/${CFG}/`],
      ["GET", `pac/vt/${CFG}`],
      ["GET", `pac/vt/${CFG}/vt/state`],
      ["GET", `pac/vt/${CFG}/vt/events`],
      ["POST", `pac/vt/${CFG}/vt/manual`, { terminalId: "SIM00001", manual: true }],
      ["POST", `pac/vt/${CFG}/vt/act`, { terminalId: "SIM00001", action: "present" }],
      ["GET", "pac/open-payments"],
    ];

    it("answers 401 to every admin endpoint and the virtual terminal page without a token", async function () {
      for (const [method, path, body] of ENDPOINTS) {
        const res = await call(method, path, undefined, body);
        res.status.should.equal(401, `${method} ${path}`);
        await res.arrayBuffer();
        const bad = await call(method, path, "not-a-token", body);
        bad.status.should.equal(401, `${method} ${path} with a bad token`);
        await bad.arrayBuffer();
      }
      // The page's script and style sheet are static and public (<script src> cannot carry a token).
      for (const asset of ["vt/app.js", "vt/style.css"]) {
        const res = await call("GET", `pac/vt/${CFG}/${asset}`);
        res.status.should.equal(200, asset);
        (await res.text()).should.not.match(/SIM0000|till-auth/);
      }
    });

    it("lets a read-only user look but not act, and an admin do both", async function () {
      const viewer = await token("viewer", "read");
      const admin = await token("admin", "*");
      const status = await call("GET", `pac/status/${CFG}`, viewer);
      status.status.should.equal(200);
      (await status.json()).virtualTerminal.should.equal(`pac/vt/${CFG}/`);
      const page = await fetch(`${nr.url}pac/vt/${CFG}/?access_token=${encodeURIComponent(viewer)}`);
      page.status.should.equal(200);
      (await page.text()).should.match(/SIM00001/);
      for (const [method, path, body] of ENDPOINTS.filter(([m]) => m === "POST")) {
        const res = await call(method, path, viewer, body);
        res.status.should.equal(401, `viewer: ${method} ${path}`);
        await res.arrayBuffer();
      }
      const test = await call("POST", "pac/test-connection", admin, { id: CFG, environment: "simulator", eposId: "till-auth" });
      test.status.should.equal(200);
      (await test.json()).should.containEql({ ok: true, source: "deployed", terminals: 2 });
      const terminals = await call("GET", `pac/terminals/${CFG}`, admin);
      (await terminals.json()).terminals.length.should.equal(2);
    });

    it("logs in through the editor and opens the virtual terminal from the Dojo sidebar with the token", async function () {
      const t = Date.now();
      context = await browser.newContext({ viewport: VIEWPORT });
      context.setDefaultTimeout(STEP_MS);
      const page = await context.newPage();
      watchPage(page, errors);
      await page.goto(nr.url);
      await page.locator("#node-dialog-login-username").waitFor({ timeout: 30000 });
      await page.fill("#node-dialog-login-username", "admin");
      await page.fill("#node-dialog-login-password", PASSWORD);
      await page.locator("#node-dialog-login-submit").click();
      await page.locator('#red-ui-palette .red-ui-palette-node[data-palette-type="pac-payment"]').waitFor({ timeout: 30000 });
      await showSidebarTab(page, "dojo-pac");
      const section = page.locator(`.pac-sb section[data-config="${CFG}"]`);
      await until(async () => (await section.locator(".pac-sb-state-text").getAttribute("data-state")) === "open", "sidebar: connected", STEP_MS);
      const link = section.locator("a.pac-sb-vt");
      (await link.getAttribute("href")).should.match(new RegExp(`pac/vt/${CFG}/\\?access_token=`));
      const [vt] = await Promise.all([context.waitForEvent("page"), link.click()]);
      watchPage(vt, errors);
      await vt.locator('[data-conn="live"]').waitFor();
      const automatic = vt.locator('section[data-terminal="SIM00001"] button[data-toggle="automatic"]');
      await automatic.click();
      await until(async () => (await automatic.getAttribute("aria-checked")) === "false", "manual mode through the token", STEP_MS);
      await screenshot(vt, "09-virtual-terminal-admin-auth");
      timed("adminAuth login to live virtual terminal", t);
      errors.should.eql([]);
    });
  });
  /** Open the pac-config dialog of the connection used by the flow node `userId` (its server field's edit button). */
  async function openConfigDialog(page, userId) {
    await page.locator(`#red-ui-workspace-chart g[id="${userId}"] rect.red-ui-flow-node`).dblclick();
    await page.locator("#node-input-btn-server-edit").click();
    await page.locator("#node-config-input-eposId").waitFor();
  }

  function validity(page, ids) {
    return page.evaluate(
      (list) =>
        list.map((id) => {
          const n = RED.nodes.node(id);
          return { id, valid: n.valid, errors: n.validationErrors || [] };
        }),
      ids,
    );
  }

  function errorBadge(page, id) {
    return page.locator(`#red-ui-workspace-chart g[id="${id}"] .red-ui-flow-node-error`).first().isVisible();
  }

  describe("one identity, one owner", function () {
    this.bail(true);
    const TAB = "1d1d1d1d1d1d1d1d";
    const FRONT = "1d00000000000001";
    const BACK = "1d00000000000002";
    const SIM1 = "1d00000000000003";
    const SIM2 = "1d00000000000004";
    const USER = { [FRONT]: "1d000000000000a1", [BACK]: "1d000000000000a2", [SIM1]: "1d000000000000a3", [SIM2]: "1d000000000000a4" };
    const IMPORTED = "1d00000000000005";
    let nr;
    let context;
    let page;
    const errors = [];

    // Staging without credentials: the runtime reports a configuration error and never dials out.
    const staging = (id, name, eposId) => ({
      id,
      type: "pac-config",
      name,
      environment: "staging",
      url: "",
      eposId,
      softwareHouseId: "shop-sw",
      resellerId: "",
      requestTimeout: 30,
    });
    const sim = (id, name, eposId) => ({
      id,
      type: "pac-config",
      name,
      environment: "simulator",
      url: "",
      eposId,
      softwareHouseId: "",
      resellerId: "",
      requestTimeout: 30,
    });

    before(async function () {
      /** @type {FlowNode[]} */
      const flows = [
        { id: TAB, type: "tab", label: "Tills" },
        staging(FRONT, "Front till", "till-1"),
        staging(BACK, "Back till", " till-1 "), // the runtime trims: the same till
        sim(SIM1, "Sim one", "till-sim"),
        sim(SIM2, "Sim two", "till-sim"),
      ];
      [FRONT, BACK, SIM1, SIM2].forEach((cfg, i) => {
        flows.push({
          id: USER[cfg],
          type: "pac-status",
          z: TAB,
          name: `status ${i + 1}`,
          server: cfg,
          query: "terminals",
          x: 200,
          y: 100 + 80 * i,
          wires: [[]],
        });
      });
      nr = await startNodeRed({ flows });
      context = await browser.newContext({ viewport: VIEWPORT });
      context.setDefaultTimeout(STEP_MS);
      page = await context.newPage();
      watchPage(page, errors);
      await page.goto(nr.url);
      await page.locator(`#red-ui-workspace-chart g[id="${USER[FRONT]}"]`).waitFor({ timeout: 30000 });
    });

    afterEach(async function () {
      if (this.currentTest.state === "failed" && page) {
        await screenshot(page, "failure-identity").catch(() => undefined);
        console.log(nr.log().split("\n").slice(-30).join("\n"));
      }
    });

    after(async function () {
      if (context) await context.close();
      if (nr) await nr.stop();
    });

    it("marks both connections of one till invalid, with the other's name, but not a simulator pair", async function () {
      const [front, back, sim1, sim2] = await until(
        async () => {
          const v = await validity(page, [FRONT, BACK, SIM1, SIM2]);
          return v[0].valid === false && v[1].valid === false ? v : null;
        },
        "both tills invalid",
        STEP_MS,
      );
      front.errors.should.containEql('EPOS id till-1 is also used by connection "Back till"');
      back.errors.should.containEql('EPOS id till-1 is also used by connection "Front till"');
      sim1.valid.should.be.true(JSON.stringify(sim1.errors));
      sim2.valid.should.be.true(JSON.stringify(sim2.errors));
      // The flow nodes that use them carry the red triangle; the simulator pair's do not.
      await until(async () => (await errorBadge(page, USER[FRONT])) && (await errorBadge(page, USER[BACK])), "triangles on the tills' nodes", STEP_MS);
      (await errorBadge(page, USER[SIM1])).should.be.false();
      (await errorBadge(page, USER[SIM2])).should.be.false();
      await screenshot(page, "10-identity-two-tills-invalid");
    });

    it("warns in the dialog while editing and asks before deploying", async function () {
      await openConfigDialog(page, USER[BACK]);
      const warning = page.locator("#pac-config-eposId-warning");
      await until(async () => /till-1 is also used by connection "Front till"/.test(await warning.textContent()), "the dialog's warning", STEP_MS);
      (await warning.isVisible()).should.be.true();
      (await warning.getAttribute("role")).should.equal("status");
      (await page.locator("#node-config-input-eposId").getAttribute("class")).should.match(/input-error/);
      await screenshot(page, "11-identity-dialog-warning");
      // Another name, same till: still both invalid, and the other one names the new name.
      await page.fill("#node-config-input-name", "Back office till");
      await closeTray(page, "#node-config-dialog-ok");
      await closeTray(page, "#node-dialog-ok");
      await until(
        async () => (await validity(page, [FRONT]))[0].errors.includes('EPOS id till-1 is also used by connection "Back office till"'),
        "the front till names the renamed one",
        STEP_MS,
      );
      await page.locator("#red-ui-header-button-deploy").click();
      const confirm = page.locator(".red-ui-notification:has-text('not properly configured')");
      await confirm.waitFor();
      // It slides in from above the window: settled once fully in view.
      await until(async () => ((await confirm.boundingBox()) || { y: -1 }).y >= 0, "the confirmation in view", STEP_MS);
      const text = await confirm.textContent();
      text.should.match(/Front till \(pac-config\)/);
      text.should.match(/Back office till \(pac-config\)/);
      text.should.not.match(/Sim (one|two) \(pac-config\)/);
      await screenshot(page, "12-identity-deploy-confirmation");
      await confirm.locator("button:has-text('Cancel')").click();
      await confirm.waitFor({ state: "detached" });
    });

    it("clears both warnings when one takes another EPOS id, and never warns for a simulator pair", async function () {
      await openConfigDialog(page, USER[SIM2]);
      (await page.locator("#node-config-input-eposId").inputValue()).should.equal("till-sim");
      await page.locator("#node-config-input-eposId").fill("till-sim");
      (await page.locator("#pac-config-eposId-warning").count()).should.equal(1);
      (await page.locator("#pac-config-eposId-warning").textContent()).should.equal("");
      ((await page.locator("#node-config-input-eposId").getAttribute("class")) || "").should.not.match(/input-error/);
      await closeTray(page, "#node-config-dialog-cancel");
      await closeTray(page, "#node-dialog-cancel");

      await openConfigDialog(page, USER[BACK]);
      const warning = page.locator("#pac-config-eposId-warning");
      await until(async () => /also used/.test(await warning.textContent()), "the warning", STEP_MS);
      await page.locator("#node-config-input-eposId").fill("till-2");
      await until(async () => (await warning.textContent()) === "", "the warning to go while typing", STEP_MS);
      await closeTray(page, "#node-config-dialog-ok");
      await closeTray(page, "#node-dialog-ok");
      await until(async () => (await validity(page, [FRONT, BACK])).every((v) => v.valid === true), "both tills valid", STEP_MS);
      await until(async () => !(await errorBadge(page, USER[FRONT])) && !(await errorBadge(page, USER[BACK])), "no triangle on the tills' nodes", STEP_MS);
      await page.locator("#red-ui-header-button-deploy").click();
      await until(() => page.evaluate(() => !RED.nodes.dirty()), "deployed without a question", STEP_MS);
      (await page.locator(".red-ui-notification:has-text('not properly configured')").count()).should.equal(0);
      await screenshot(page, "13-identity-resolved");
    });

    it("marks an existing connection when an imported one takes its identity, and not after undo", async function () {
      await page.evaluate((id) => {
        RED.view.importNodes(
          [
            {
              id,
              type: "pac-config",
              name: "Imported till",
              environment: "staging",
              url: "",
              eposId: "till-2",
              softwareHouseId: "shop-sw",
              resellerId: "",
              requestTimeout: 30,
            },
          ],
          { generateIds: false },
        );
      }, IMPORTED);
      const [back, imported] = await until(
        async () => {
          const v = await validity(page, [BACK, IMPORTED]);
          return v[0].valid === false && v[1].valid === false ? v : null;
        },
        "the imported and the existing till invalid",
        STEP_MS,
      );
      back.errors.should.containEql('EPOS id till-2 is also used by connection "Imported till"');
      imported.errors.should.containEql('EPOS id till-2 is also used by connection "Back office till"');
      await until(() => errorBadge(page, USER[BACK]), "triangle on the existing till's node", STEP_MS);
      await page.evaluate(() => RED.history.pop());
      await until(async () => (await validity(page, [BACK]))[0].valid === true, "valid again after undo", STEP_MS);
      errors.should.eql([]);
    });
  });

  describe("payments still open under a deployed identity", function () {
    this.bail(true);
    const TAB = "2e2e2e2e2e2e2e2e";
    const CFG = "2e00000000000001"; // the built-in simulator, EPOS id till-open
    const OLD = "2e00000000000002"; // custom URL (the test's own simulator), EPOS id till-old, then till-new
    const USER_NODE = "2e000000000000a1";
    const PAY_OLD = "2e000000000000b2";
    // Started before Node-RED, read (never written) by the runtime as a journal of an identity no
    // connection uses: the engine's own Journal writes it.
    const GONE = { eposId: "till-gone", accountName: "acct", url: "wss://example.invalid/pac" };
    let sim;
    let control;
    let controlDir;
    let nr;
    let context;
    let page;
    const errors = [];
    const asked = [];

    function flows() {
      // http in -> [202 at once, the sale]
      const http = (id, url, pay, y) => ({
        id,
        z: TAB,
        type: "http in",
        name: "",
        url,
        method: "post",
        upload: false,
        swaggerDoc: "",
        x: 120,
        y,
        wires: [["2e000000000000c9", pay]],
      });
      const payment = (id, server, name, y) => ({
        id,
        z: TAB,
        type: "pac-payment",
        name,
        server,
        terminalId: "SIM00001",
        currency: "GBP",
        captureMode: "AUTO",
        signature: "accept",
        x: 380,
        y,
        wires: [[], [], []],
      });
      return [
        { id: TAB, type: "tab", label: "Counter" },
        {
          id: CFG,
          type: "pac-config",
          name: "Counter till",
          environment: "simulator",
          url: "",
          eposId: "till-open",
          softwareHouseId: "",
          resellerId: "",
          requestTimeout: 30,
        },
        {
          id: OLD,
          type: "pac-config",
          name: "Old front till",
          environment: "custom",
          url: sim.url,
          eposId: "till-old",
          softwareHouseId: "shopflow-browser",
          resellerId: "",
          requestTimeout: 30,
        },
        { id: USER_NODE, type: "pac-status", z: TAB, name: "", server: CFG, query: "terminals", x: 380, y: 60, wires: [[]] },
        http("2e000000000000c1", "/sale-open", "2e000000000000b1", 140),
        payment("2e000000000000b1", CFG, "counter sale", 140),
        http("2e000000000000c2", "/sale-old", PAY_OLD, 220),
        payment(PAY_OLD, OLD, "old till sale", 220),
        { id: "2e000000000000c9", z: TAB, type: "http response", name: "", statusCode: "202", headers: {}, x: 380, y: 300, wires: [] },
      ];
    }

    /** POST a sale to the flow's http in node (it answers 202 at once; the sale runs on). */
    async function post(url, amount, paymentId) {
      const res = await fetch(`${nr.url}${url.slice(1)}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ amount, paymentId }),
      });
      res.status.should.equal(202, `POST ${url}`);
      await res.arrayBuffer();
    }

    /** The runtime's own answer (asked from here, not by the page: not counted in `asked`). */
    async function report() {
      const res = await fetch(`${nr.url}pac/open-payments`);
      res.status.should.equal(200);
      return (await res.json()).connections;
    }

    before(async function () {
      const { PacSimulator } = require("../../dist/simulator");
      const { Journal } = require("../../dist/engine/journal/journal");
      const faults = require("../faults/support/fs-faults");
      sim = await PacSimulator.start({ delays: "zero", manual: true, virtualTerminal: false });
      controlDir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-browser-faults-"));
      control = faults.controlFile(controlDir);
      nr = await startNodeRed({
        flows: flows(),
        credentials: { [OLD]: { ...sim.credentials } },
        // The journal file system can be made to fail on demand (test 3: a sale refused before it is sent).
        nodeArgs: ["-r", require.resolve("../faults/support/fs-faults")],
        env: control.env,
        async prepare(userDir) {
          const j = await Journal.open({ dir: path.join(userDir, "dojo-pac-journal"), identity: GONE });
          await j.write({ t: "start", ts: Date.now(), id: "pay-gone-1", kind: "refund", terminalId: "T-7", amount: 2000, currency: "EUR" }, false);
          await j.close();
        },
      });
      await until(() => sim.connections().includes("till-old"), "the old till connected to the simulator", STEP_MS);
      context = await browser.newContext({ viewport: VIEWPORT });
      context.setDefaultTimeout(STEP_MS);
      page = await context.newPage();
      watchPage(page, errors);
      // Observed, not answered: the runtime's endpoint answers.
      page.on("request", (r) => {
        if (/\/pac\/open-payments$/.test(new URL(r.url()).pathname)) asked.push(Date.now());
      });
      await page.goto(nr.url);
      await page.locator(`#red-ui-workspace-chart g[id="${USER_NODE}"]`).waitFor({ timeout: 30000 });
    });

    afterEach(async function () {
      if (this.currentTest.state === "failed" && page) {
        await screenshot(page, "failure-open-payments").catch(() => undefined);
        console.log(nr.log().split("\n").slice(-30).join("\n"));
      }
    });

    after(async function () {
      if (control) control.clear();
      if (context) await context.close();
      if (nr) await nr.stop();
      if (sim) await sim.stop();
      if (controlDir) fs.rmSync(controlDir, { recursive: true, force: true });
    });

    it("warns in the dialog when the EPOS id of a deployed connection with an open payment changes", async function () {
      // A sale on each till, both waiting for the card: the built-in simulator's magic amount 1203,
      // the test's simulator in manual mode.
      await post("/sale-open", 1203, "pay-live-1");
      await post("/sale-old", 4999, "pay-old-1");
      await until(() => sim.terminals().find((t) => t.terminalId === "SIM00001").step === "presentCard", "the old till's sale at PRESENT_CARD", STEP_MS);
      const live = await until(
        async () => {
          const r = await report();
          const open = (id) => (r.find((c) => c.configId === id && c.state === "live") || { open: [] }).open.map((p) => p.paymentId);
          return open(CFG).includes("pay-live-1") && open(OLD).includes("pay-old-1") ? r : null;
        },
        "both sales open in the runtime's report",
        STEP_MS,
      );
      live
        .filter((c) => c.state !== "live")
        .map((c) => c.eposId)
        .should.eql(["till-gone"]);

      await openConfigDialog(page, PAY_OLD);
      const box = page.locator("#pac-config-open-payments");
      (await box.count()).should.equal(1);
      (await box.textContent()).should.equal("");
      asked.length.should.equal(0, "nothing asked while the identity is the deployed one");
      await page.locator("#node-config-input-eposId").fill("till-new");
      await until(
        async () => /1 payment is still open under EPOS id till-old; after deploy a drain-only connection collects its result\./.test(await box.textContent()),
        "the open payment warning",
        STEP_MS,
      );
      (await box.isVisible()).should.be.true();
      (await box.getAttribute("role")).should.equal("status");
      (await box.getAttribute("data-count")).should.equal("1");
      (await box.locator("li").allTextContents()).should.eql(["pay-old-1 · £49.99 · SIM00001"]);
      asked.length.should.equal(1);
      await screenshot(page, "14-open-payments-dialog-warning");
      // Further typing uses the answer; back to the deployed EPOS id: no warning.
      await page.locator("#node-config-input-eposId").fill("till-newer");
      (await box.textContent()).should.match(/1 payment is still open/);
      await page.locator("#node-config-input-eposId").fill("till-old");
      await until(async () => (await box.textContent()) === "", "the warning to go", STEP_MS);
      asked.length.should.equal(1);
      await closeTray(page, "#node-config-dialog-cancel");
      await closeTray(page, "#node-dialog-cancel");

      // The built-in simulator never drains (its simulator and journal go with a deploy): its open
      // sale is play money, and the drain-only promise would be false there.
      await openConfigDialog(page, USER_NODE);
      const simBox = page.locator("#pac-config-open-payments");
      await page.locator("#node-config-input-eposId").fill("till-open-2");
      await until(() => asked.length === 2, "the simulator connection's open payments asked", STEP_MS);
      await page.waitForTimeout(300);
      (await simBox.textContent()).should.equal("");
      await closeTray(page, "#node-config-dialog-cancel");
      await closeTray(page, "#node-dialog-cancel");
    });

    it("lists draining and not-configured connections in the Dojo sidebar, asked on show, Refresh and deploy only", async function () {
      const open = page.locator(".pac-sb-open");
      const draining = open.locator('.pac-sb-drain[data-open-state="draining"]');
      const gone = open.locator('.pac-sb-drain[data-open-state="not-configured"]');

      // Shown: asked once; only the journal no connection uses (both sales are live).
      let n = asked.length;
      await showSidebarTab(page, "dojo-pac");
      await gone.waitFor();
      asked.length.should.equal(n + 1);
      (await gone.locator("h4").textContent()).should.equal("till-gone");
      (await gone.locator(".pac-sb-state-text").textContent()).should.match(/not configured/);
      (await gone.locator(".pac-sb-identity").textContent()).should.equal("EPOS id till-gone");
      const refund = gone.locator('li[data-payment="pay-gone-1"]');
      (await refund.locator(".pac-sb-amount").textContent()).should.equal("€20.00");
      (await refund.locator(".pac-sb-pay-status").textContent()).should.match(/^refund · T-7 · started /);
      (await refund.locator(".pac-sb-open-reason").textContent()).should.match(/^no deployed connection uses epos-id till-gone /);
      (await draining.count()).should.equal(0);
      (await open.locator('[data-open-state="live"], li[data-payment="pay-live-1"], li[data-payment="pay-old-1"]').count()).should.equal(
        0,
        "live payments stay in their own sections",
      );

      // The old till takes another EPOS id and is deployed with its sale open: it drains.
      n = asked.length;
      await openConfigDialog(page, PAY_OLD);
      await page.locator("#node-config-input-eposId").fill("till-new");
      await until(
        async () => /1 payment is still open under EPOS id till-old/.test(await page.locator("#pac-config-open-payments").textContent()),
        "the dialog's warning",
        STEP_MS,
      );
      await closeTray(page, "#node-config-dialog-ok");
      await closeTray(page, "#node-dialog-ok");
      asked.length.should.equal(n + 1, "the dialog asked once");
      await page.locator("#red-ui-header-button-deploy").click();
      await draining.waitFor();
      await until(() => page.evaluate(() => !RED.nodes.dirty()), "deployed", STEP_MS);
      asked.length.should.equal(n + 2, "asked again after the deploy");
      (await draining.locator("h4").textContent()).should.equal("Old front till");
      (await draining.getAttribute("data-open-config")).should.equal(OLD);
      (await draining.locator(".pac-sb-state-text").textContent()).should.match(/draining/);
      (await draining.locator(".pac-sb-identity").textContent()).should.equal("EPOS id till-old · custom");
      const old = draining.locator('li[data-payment="pay-old-1"]');
      (await old.locator(".pac-sb-amount").textContent()).should.equal("£49.99");
      (await old.locator(".pac-sb-pay-status").textContent()).should.match(/^payment · (.+ · )?SIM00001 · started /);
      (await old.locator(".pac-sb-open-reason").textContent()).should.equal("running on the terminal");
      (await gone.count()).should.equal(1);
      (await open.locator('[data-open-state="live"]').count()).should.equal(0);
      await page.locator(`.pac-sb section[data-config="${CFG}"]`).waitFor();
      await until(() => sim.connections().includes("till-new"), "the new identity connected", STEP_MS);
      // The deploy's shades (editor, header, palette, sidebar) fade out.
      await until(async () => (await page.locator('[id^="red-ui-"][id$="-shade"]:visible').count()) === 0, "the deploy's shades gone", STEP_MS);
      await open.scrollIntoViewIfNeeded();
      await screenshot(page, "15-dojo-sidebar-open-payments");

      // Readable in a dark theme, as the rest of the sidebar.
      const dark = await page.addStyleTag({ content: DARK_THEME });
      (await lowContrast(page, ".pac-sb-open")).should.eql([], "low contrast in the open payments block");
      await screenshot(page, "16-dark-dojo-sidebar-open-payments");
      await dark.evaluate((e) => e.remove());

      // Not on the 2 s timer: the status refreshes, the open payments are not asked again.
      const shown = asked.length;
      await page.waitForTimeout(4500);
      asked.length.should.equal(shown, "pac/open-payments is not polled");

      // The customer pays: the drain-only connection collects the result and closes by itself.
      await sim.act("SIM00001", "present");
      await sim.act("SIM00001", "approve");
      await until(async () => !(await report()).some((c) => c.state === "draining"), "the draining connection gone from the runtime", STEP_MS);
      await until(() => !sim.connections().includes("till-old"), "the old identity's socket closed", STEP_MS);
      (await draining.count()).should.equal(1, "still shown until asked again");
      asked.length.should.equal(shown);
      await page.locator(".pac-sb-refresh").click();
      await until(async () => (await draining.count()) === 0, "the draining connection gone after Refresh", STEP_MS);
      asked.length.should.equal(shown + 1);
      (await gone.count()).should.equal(1);
      errors.should.eql([]);
    });

    it("shows a sale refused before it was sent (the journal's disk full) as refused, with why, in red", async function () {
      const gen = control.set([{ op: "write", errno: "ENOSPC", path: "pac-journal-till-open-" }]);
      await until(() => control.applied(gen), "Node-RED loaded the fault rules", STEP_MS);
      await post("/sale-open", 1250, "pay-refused-1");
      const section = page.locator(`.pac-sb section[data-config="${CFG}"]`);
      const row = section.locator('.pac-sb-payments li[data-payment="pay-refused-1"]');
      await until(async () => (await row.count()) === 1, "the refused sale in the sidebar", STEP_MS);
      (control.hits().write || 0).should.be.above(0, "the journal's write failed");
      (await row.getAttribute("data-status")).should.equal("REFUSED");
      const status = row.locator(".pac-sb-pay-status");
      (await status.textContent()).should.equal("refused: not sent · SIM00001");
      (await status.getAttribute("class")).should.match(/\bpac-sb-status-refused\b/);
      (await row.locator(".pac-sb-pay-reason").textContent()).should.match(
        /^payment pay-refused-1 was not sent: the journal (could not store it|cannot write) \(.+\)/,
      );
      (await row.locator(".pac-sb-query").count()).should.equal(0, "nothing to ask Dojo");
      // In red, as the error texts: unlike a settled payment's grey line.
      const colours = await page.evaluate(() => {
        const probe = document.createElement("span");
        probe.style.color = "var(--red-ui-text-color-error, #ad1625)";
        document.body.appendChild(probe);
        const error = getComputedStyle(probe).color;
        probe.remove();
        return { error, refused: getComputedStyle(document.querySelector('li[data-payment="pay-refused-1"] .pac-sb-pay-status')).color };
      });
      colours.refused.should.equal(colours.error);
      control.clear();
      await screenshot(page, "17-dojo-sidebar-refused");
      await page.addStyleTag({ content: DARK_THEME });
      (await lowContrast(page, ".pac-sb")).should.eql([], "low contrast in the sidebar (dark)");
      errors.should.eql([]);
    });
  });

  describe("the Dojo sidebar follows a sale live (pushed, not polled)", function () {
    // The runtime says on the comms when a connection changed; the sidebar re-reads at once.
    // LIVE_MS is well under the old 2 s poll: a polled sidebar misses it on most of these steps.
    this.bail(true);
    const TAB = "4a4a4a4a4a4a4a4a";
    const CFG = "4a00000000000001";
    const PAY = "4a00000000000002";
    const INJECT = "4a00000000000003";
    const SALE = "live-sale-0001";
    const LIVE_MS = 700;
    let nr;
    let context;
    let page;
    const errors = [];
    const lags = {};

    before(async function () {
      nr = await startNodeRed({
        flows: [
          { id: TAB, type: "tab", label: "Live" },
          {
            id: CFG,
            type: "pac-config",
            name: "Live till",
            environment: "simulator",
            url: "",
            eposId: "till-live",
            softwareHouseId: "",
            resellerId: "",
            requestTimeout: 30,
          },
          {
            id: INJECT,
            z: TAB,
            type: "inject",
            name: "",
            props: [{ p: "payload" }],
            repeat: "",
            crontab: "",
            once: false,
            onceDelay: 0.1,
            topic: "",
            payload: JSON.stringify({ amount: 1250, paymentId: SALE }),
            payloadType: "json",
            x: 120,
            y: 100,
            wires: [[PAY]],
          },
          {
            id: PAY,
            z: TAB,
            type: "pac-payment",
            name: "",
            server: CFG,
            terminalId: "SIM00001",
            currency: "GBP",
            captureMode: "AUTO",
            signature: "accept",
            x: 340,
            y: 100,
            wires: [[], [], []],
          },
        ],
      });
      context = await browser.newContext({ viewport: VIEWPORT });
      context.setDefaultTimeout(STEP_MS);
      page = await context.newPage();
      watchPage(page, errors);
      await page.goto(nr.url);
      await page.locator('#red-ui-palette .red-ui-palette-node[data-palette-type="pac-payment"]').waitFor({ timeout: 30000 });
    });

    after(async function () {
      console.log("      sidebar lag per step (ms):", JSON.stringify(lags));
      if (context) await context.close();
      if (nr) await nr.stop();
    });

    async function post(path, body) {
      const res = await fetch(`${nr.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      res.status.should.be.within(200, 299, `POST ${path}`);
      await res.arrayBuffer();
    }

    /** Do `act`, then the sidebar must show `check` within LIVE_MS. */
    async function within(name, act, check) {
      const t = Date.now();
      await act();
      await until(check, `sidebar: ${name} within ${LIVE_MS} ms`, LIVE_MS, 10);
      lags[name] = Date.now() - t;
    }

    it("shows each step of a chip-and-PIN sale, and the running sale, within moments", async function () {
      await post(`pac/vt/${CFG}/vt/manual`, { terminalId: "SIM00001", manual: true });
      await showSidebarTab(page, "dojo-pac");
      const section = page.locator(`.pac-sb section[data-config="${CFG}"]`);
      await section.waitFor();
      await until(async () => (await section.locator(".pac-sb-state-text").getAttribute("data-state")) === "open", "sidebar: connected", STEP_MS);
      const term = section.locator('tr[data-terminal="SIM00001"]');
      await term.waitFor();
      const sale = section.locator(`.pac-sb-payments li[data-payment="${SALE}"]`);
      const stepIs = (re) => async () => re.test((await term.locator(".pac-sb-step").textContent()) || "");
      // Let the tab's first reads settle, so only a push can bring what follows in time.
      await page.waitForTimeout(300);

      await within(
        "start",
        () => post(`inject/${INJECT}`, {}),
        async () => (await sale.count()) === 1 && (await sale.getAttribute("data-status")) === "IN_PROGRESS",
      );
      await until(stepIs(/present card · £12\.50/), "sidebar: present card", STEP_MS);
      await page.waitForTimeout(300);
      await within("insert card → PIN entry", () => post(`pac/vt/${CFG}/vt/act`, { terminalId: "SIM00001", action: "insert" }), stepIs(/entering PIN/));
      await page.waitForTimeout(300);
      await within("PIN entered → please wait", () => post(`pac/vt/${CFG}/vt/act`, { terminalId: "SIM00001", action: "enterPin" }), stepIs(/please wait/));
      await page.waitForTimeout(300);
      await within("approved → remove card", () => post(`pac/vt/${CFG}/vt/act`, { terminalId: "SIM00001", action: "approve" }), stepIs(/remove card/));
      await page.waitForTimeout(300);
      await within(
        "card removed → paid",
        () => post(`pac/vt/${CFG}/vt/act`, { terminalId: "SIM00001", action: "removeCard" }),
        async () => (await sale.getAttribute("data-status")) === "CAPTURED" && !(await term.locator(".pac-sb-step").textContent()),
      );
      await screenshot(page, "09-dojo-sidebar-live");
    });

    it("had no script error in the editor", function () {
      errors.should.eql([]);
    });
  });

  describe("the Dojo sidebar's payments, terminals and title", function () {
    // The test's own simulator (manual: sales wait for the test's sim.act), GetPayment unanswered so
    // that a payment left open in the journal before the start stays of unknown outcome.
    this.bail(true);
    const TAB = "5b5b5b5b5b5b5b5b";
    const CFG = "5b00000000000001";
    const PAY = "5b00000000000002";
    const HTTP = "5b00000000000003";
    const RESP = "5b00000000000004";
    const LOST = "lost-0001";
    const SALE = "7f3e9c2a-51b4-4d0e-9a6f-1c2d3e4f5a6b";
    const SALE2 = "0c4d5e6f-1a2b-4c3d-8e9f-a0b1c2d3e4f5";
    // The old cache kept ConnectedTerminals 4 s (and then nothing pushed a re-read): well under it.
    const AVAILABLE_MS = 1000;
    let sim;
    let nr;
    let context;
    let page;
    let section;
    const errors = [];
    const lags = {};

    before(async function () {
      const { PacSimulator } = require("../../dist/simulator");
      const { Journal } = require("../../dist/engine/journal/journal");
      sim = await PacSimulator.start({ delays: "zero", manual: true, virtualTerminal: false, faults: { omitResponse: ["GetPayment"] } });
      nr = await startNodeRed({
        flows: [
          { id: TAB, type: "tab", label: "List" },
          {
            id: CFG,
            type: "pac-config",
            name: "List till",
            environment: "custom",
            url: sim.url,
            eposId: "till-list",
            softwareHouseId: "shopflow-browser",
            resellerId: "",
            requestTimeout: 2,
          },
          {
            id: HTTP,
            z: TAB,
            type: "http in",
            name: "",
            url: "/sale-list",
            method: "post",
            upload: false,
            swaggerDoc: "",
            x: 120,
            y: 100,
            wires: [[RESP, PAY]],
          },
          { id: RESP, z: TAB, type: "http response", name: "", statusCode: "202", headers: {}, x: 380, y: 160, wires: [] },
          {
            id: PAY,
            z: TAB,
            type: "pac-payment",
            name: "",
            server: CFG,
            terminalId: "SIM00001",
            currency: "GBP",
            captureMode: "AUTO",
            signature: "accept",
            x: 380,
            y: 100,
            wires: [[], [], []],
          },
        ],
        credentials: { [CFG]: { ...sim.credentials } },
        async prepare(userDir) {
          // A sale this till started before a crash: open in its journal, its outcome unknown.
          const identity = { eposId: "till-list", accountName: sim.credentials.accountName, url: sim.url };
          const j = await Journal.open({ dir: path.join(userDir, "dojo-pac-journal"), identity });
          await j.write({ t: "start", ts: Date.now(), id: LOST, kind: "payment", terminalId: "SIM00002", amount: 999, currency: "GBP" }, false);
          await j.close();
        },
      });
      await until(() => sim.connections().includes("till-list"), "the till connected to the simulator", STEP_MS);
      context = await browser.newContext({ viewport: VIEWPORT });
      context.setDefaultTimeout(STEP_MS);
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: nr.url.replace(/\/$/, "") });
      page = await context.newPage();
      watchPage(page, errors);
      await page.goto(nr.url);
      await page.locator(`#red-ui-workspace-chart g[id="${PAY}"]`).waitFor({ timeout: 30000 });
      section = page.locator(`.pac-sb section[data-config="${CFG}"]`);
    });

    afterEach(async function () {
      if (this.currentTest.state === "failed" && page) {
        await screenshot(page, "failure-sidebar-list").catch(() => undefined);
        console.log(nr.log().split("\n").slice(-30).join("\n"));
      }
    });

    after(async function () {
      console.log("      terminal available after the sale (ms):", JSON.stringify(lags));
      if (context) await context.close();
      if (nr) await nr.stop();
      if (sim) await sim.stop();
    });

    async function sale(amount, paymentId) {
      const res = await fetch(`${nr.url}sale-list`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ amount, paymentId }),
      });
      res.status.should.equal(202);
      await res.arrayBuffer();
    }

    const row = (id) => section.locator(`.pac-sb-payments li[data-payment="${id}"]`);
    const terminalStatus = async (id) => ((await section.locator(`tr[data-terminal="${id}"] td`).first().textContent()) || "").trim();

    it("offers Ask Dojo only for a payment whose outcome is unknown, not for a running or a paid one", async function () {
      await showSidebarTab(page, "dojo-pac");
      await section.waitFor();
      await until(async () => (await section.locator(".pac-sb-state-text").getAttribute("data-state")) === "open", "sidebar: connected", STEP_MS);
      const lost = row(LOST);
      await until(
        async () => (await lost.count()) === 1 && (await lost.getAttribute("data-status")) === "OUTCOME_UNKNOWN",
        "sidebar: the lost sale, outcome unknown",
        STEP_MS,
      );
      (await lost.locator("button.pac-sb-query").count()).should.equal(1, "an unknown outcome can be asked about");

      await sale(1250, SALE);
      const running = row(SALE);
      await until(
        async () => (await running.count()) === 1 && (await running.getAttribute("data-status")) === "IN_PROGRESS",
        "sidebar: the sale running",
        STEP_MS,
      );
      await until(async () => /present card/.test(await section.locator('tr[data-terminal="SIM00001"]').textContent()), "sidebar: present card", STEP_MS);
      (await running.locator("button.pac-sb-query").count()).should.equal(0, "a running sale shows its steps live: nothing to ask");
      await sim.act("SIM00001", "present");
      await sim.act("SIM00001", "approve");
      await until(async () => (await running.getAttribute("data-status")) === "CAPTURED", "sidebar: the sale paid", STEP_MS);
      (await running.locator("button.pac-sb-query").count()).should.equal(0, "a paid sale has its answer");
      (await lost.locator("button.pac-sb-query").count()).should.equal(1);

      // Asked with the keyboard: GetPayment goes unanswered here, so Dojo "could not tell" (after
      // the 2 s timeout); the re-renders meanwhile keep the focus on the button.
      const ask = lost.locator("button.pac-sb-query");
      (await ask.getAttribute("aria-label")).should.equal(`Ask Dojo for the status of payment ${LOST} (GetPayment)`);
      await ask.focus();
      await page.keyboard.press("Enter");
      await until(
        async () =>
          /Dojo (says|could not tell)/.test(
            (await lost
              .locator(".pac-sb-answer")
              .textContent()
              .catch(() => "")) || "",
          ),
        "the answer under the lost sale",
        STEP_MS,
      );
      (await page.evaluate(() => document.activeElement && document.activeElement.getAttribute("data-pac-key"))).should.equal(`query:${CFG}/${LOST}`);
      await screenshot(page, "10-dojo-sidebar-ask-only-unknown");
    });

    it("shows the terminal available within a second of the sale's end (not busy for the cache's 4 s)", async function () {
      await sale(1250, SALE2);
      await until(async () => /present card/.test(await section.locator('tr[data-terminal="SIM00001"]').textContent()), "sidebar: present card", STEP_MS);
      await until(async () => (await terminalStatus("SIM00001")) === "busy", "sidebar: SIM00001 busy during the sale", STEP_MS);
      await sim.act("SIM00001", "present");
      const t = Date.now();
      await sim.act("SIM00001", "approve");
      await until(async () => (await row(SALE2).getAttribute("data-status")) === "CAPTURED", "sidebar: the second sale paid", STEP_MS);
      await until(
        async () => (await terminalStatus("SIM00001")) === "available",
        `sidebar: SIM00001 available within ${AVAILABLE_MS} ms of the sale's end`,
        AVAILABLE_MS,
        10,
      );
      lags.available = Date.now() - t;
    });

    it("shows each payment's time, a short id with the whole id on hover, and copies the whole id", async function () {
      const paid = row(SALE);
      const time = paid.locator("time.pac-sb-time");
      (await time.textContent()).should.match(/^\d\d:\d\d:\d\d$/);
      // The local time of its last change: within a minute of the page's clock.
      const off = await time.evaluate((el) => {
        const [h, m, s] = el.textContent.split(":").map(Number);
        const now = new Date();
        const at = new Date(now.getFullYear(), now.getMonth(), now.getDate(), h, m, s);
        return Math.abs(now.getTime() - at.getTime()) / 1000 + Math.abs(Date.parse(el.getAttribute("datetime")) - at.getTime()) / 1000;
      });
      off.should.be.below(60);
      const id = paid.locator(".pac-sb-pay-id");
      (await id.textContent()).should.equal("7f3e9c2a…");
      (await id.getAttribute("title")).should.equal(SALE);
      (await row(LOST).locator(".pac-sb-pay-id").textContent()).should.equal(LOST, "a short id stays whole");
      const copy = paid.locator("button.pac-sb-copy");
      (await copy.getAttribute("aria-label")).should.equal(`Copy payment id ${SALE}`);
      await copy.click();
      await until(async () => (await page.evaluate(() => navigator.clipboard.readText())) === SALE, "the whole id on the clipboard", STEP_MS);
      await screenshot(page, "11-dojo-sidebar-time-short-id");
    });

    it("titles the tab the same on the tab, in the tabs' menu and in the View menu", async function () {
      const titles = await page.evaluate(() => {
        const text = (sel) => {
          const el = document.querySelector(sel);
          return el ? el.textContent.replace(/\s+/g, " ").trim() : null;
        };
        return { tab: text("#red-ui-tab-dojo-pac .red-ui-tab-label"), view: text("#menu-item-view-menu-dojo-pac") };
      });
      const caret = page.locator("#red-ui-sidebar a.red-ui-tab-link-button-menu");
      await caret.click();
      const option = page.locator("#red-ui-tabs-menu-option-dojo-pac");
      await option.waitFor();
      titles.menu = ((await option.textContent()) || "").replace(/\s+/g, " ").trim();
      await page.keyboard.press("Escape");
      await page.mouse.click(700, 500);
      titles.should.eql({ tab: "Dojo", view: "Dojo", menu: "Dojo" });
    });

    it("links the connection dialog to the Dojo sidebar", async function () {
      await showSidebarTab(page, "debug");
      await page.locator(`#red-ui-workspace-chart g[id="${PAY}"]`).dblclick();
      await page.locator("#node-input-btn-server-edit").click();
      const link = page.locator("#pac-config-sidebar-link");
      await link.waitFor({ state: "visible" });
      (await link.textContent()).trim().should.equal("Show in the Dojo sidebar");
      await screenshot(page, "12-config-dialog-sidebar-link");
      await link.click();
      await until(() => page.locator("#red-ui-tab-dojo-pac").evaluate((e) => e.classList.contains("active")), "the Dojo tab shown", STEP_MS);
      await section.locator("h3").waitFor({ state: "visible" });
      await closeTray(page, "#node-config-dialog-cancel");
      await closeTray(page, "#node-dialog-cancel");
    });

    it("had no script error in the editor", function () {
      errors.should.eql([]);
    });
  });

  describe("findable and clear on the canvas", function () {
    // A first-run window (1024×700) and one connection: what a newcomer meets first.
    const SMALL = { width: 1024, height: 700 };
    const TAB = "3f3f3f3f3f3f3f3f";
    const CFG = "3f00000000000001";
    const CFG2 = "3f00000000000002";
    const USER_TYPES = ["pac-payment", "pac-refund", "pac-capture", "pac-cancel", "pac-events", "pac-status", "pac-receipt"];
    const LABELS = {
      "pac-payment": "Dojo payment",
      "pac-refund": "Dojo refund",
      "pac-capture": "Dojo capture",
      "pac-cancel": "Dojo cancel",
      "pac-events": "Dojo events",
      "pac-status": "Dojo status",
      "pac-receipt": "Dojo receipt",
    };
    const added = {};
    let nr;
    let context;
    let page;
    const errors = [];

    before(async function () {
      nr = await startNodeRed({
        flows: [
          { id: TAB, type: "tab", label: "Shop" },
          {
            id: CFG,
            type: "pac-config",
            name: "",
            environment: "simulator",
            url: "",
            eposId: "till-find",
            softwareHouseId: "",
            resellerId: "",
            requestTimeout: 30,
          },
        ],
      });
      context = await browser.newContext({ viewport: SMALL });
      context.setDefaultTimeout(STEP_MS);
      page = await context.newPage();
      watchPage(page, errors);
      await page.goto(nr.url);
      await page.locator('#red-ui-palette .red-ui-palette-node[data-palette-type="pac-payment"]').waitFor({ timeout: 30000 });
    });

    afterEach(async function () {
      if (this.currentTest.state === "failed" && page) {
        await screenshot(page, "failure-findable").catch(() => undefined);
        console.log(nr.log().split("\n").slice(-30).join("\n"));
        // Each test starts from the canvas: close what a failed one left open.
        for (const cancel of ["#node-config-dialog-cancel", "#node-dialog-cancel"]) {
          if (await page.locator(cancel).isVisible()) await closeTray(page, cancel).catch(() => undefined);
        }
      }
    });

    after(async function () {
      if (context) await context.close();
      if (nr) await nr.stop();
    });

    /** Type into one of the editor's search boxes as a user does (it filters on keyup). */
    async function typeSearch(selector, text) {
      const input = page.locator(selector);
      await input.click();
      await page.keyboard.press("Control+A");
      await page.keyboard.press("Backspace");
      if (text) await input.pressSequentially(text);
    }

    /** The pac-config dialog of the connection, opened from a user node's pencil button. */
    async function openConnection(userId) {
      await page.locator(`#red-ui-workspace-chart g[id="${userId}"] rect.red-ui-flow-node`).dblclick();
      await page.locator("#node-input-server").waitFor();
      if ((await page.locator("#node-input-server").inputValue()) !== CFG) await page.selectOption("#node-input-server", CFG);
      await page.locator("#node-input-btn-server-edit").click();
      await page.locator("#node-config-input-eposId").waitFor();
      // The tray slides in: measure once it stands still.
      let last = "";
      await until(
        async () => {
          const box = JSON.stringify(await page.locator("#node-config-dialog-edit-form").boundingBox());
          const still = box === last;
          last = box;
          return still;
        },
        "the connection tray in place",
        STEP_MS,
        100,
      );
    }

    async function closeConnection() {
      await closeTray(page, "#node-config-dialog-cancel");
      await closeTray(page, "#node-dialog-cancel");
    }

    it('finds every Dojo node by "dojo" in the palette filter and in the quick-add box', async function () {
      await typeSearch("#red-ui-palette-search input", "dojo");
      const shown = await until(
        async () => {
          const types = await page.$$eval("#red-ui-palette .red-ui-palette-node[data-palette-type]", (els) =>
            els.filter((e) => e.offsetParent !== null).map((e) => [e.getAttribute("data-palette-type"), e.getAttribute("data-palette-label")]),
          );
          return types.length && types.every(([t]) => t.startsWith("pac-")) ? types : null;
        },
        "the palette filtered",
        STEP_MS,
      );
      Object.fromEntries(shown).should.eql(LABELS);
      await screenshot(page, "20-findable-palette-dojo");
      await typeSearch("#red-ui-palette-search input", "");
      // The connection's name wherever the editor names its type (its dialog's title, "add new …").
      (await page.evaluate(() => RED.utils.getPaletteLabel("pac-config", RED.nodes.getType("pac-config")))).should.equal("Dojo connection");

      // Quick add: Ctrl+click on the empty canvas opens Node-RED's type search.
      const chart = await page.locator("#red-ui-workspace-chart").boundingBox();
      should.exist(chart);
      await page.mouse.move(chart.x + 300, chart.y + 500);
      await page.keyboard.down("Control");
      await page.mouse.down();
      await page.mouse.up();
      await page.keyboard.up("Control");
      await page.locator("#red-ui-type-search-input").waitFor();
      await page.locator("#red-ui-type-search-input").pressSequentially("dojo");
      const found = await until(
        async () => {
          const labels = await page.$$eval("#red-ui-type-search .red-ui-search-result-node-label", (els) =>
            els.filter((e) => e.offsetParent !== null).map((e) => e.textContent),
          );
          return labels.length && labels.every((l) => /dojo/i.test(l)) ? labels : null;
        },
        "the quick-add list filtered",
        STEP_MS,
      );
      found
        .slice()
        .sort()
        .should.eql(USER_TYPES.map((t) => `${LABELS[t]} (${t})`).sort());
      await page.waitForTimeout(300); // the list's fade-in, for the screenshot
      await screenshot(page, "21-findable-quick-add-dojo");
      await page.keyboard.press("Escape");
      await page.locator("#red-ui-type-search").waitFor({ state: "hidden" });
    });

    it("says Dojo on the canvas when a node is not named, and pre-auth for a MANUAL payment", async function () {
      // As the first test left it, or did not (failed half way): no quick-add box, no filter.
      if (await page.locator("#red-ui-type-search-input").isVisible()) await page.keyboard.press("Escape");
      await typeSearch("#red-ui-palette-search input", "");
      for (const [i, type] of USER_TYPES.entries()) {
        added[type] = await dragFromPalette(page, type, 110, 40 + 55 * i);
      }
      const label = (id) => page.locator(`#red-ui-workspace-chart g[id="${id}"] .red-ui-flow-node-label`).textContent();
      for (const type of USER_TYPES) {
        (await label(added[type])).should.equal(LABELS[type], type);
      }
      await page.evaluate((id) => {
        const n = RED.nodes.node(id);
        n.captureMode = "MANUAL";
        n.dirty = true;
        RED.view.redraw(true);
      }, added["pac-payment"]);
      await until(async () => (await label(added["pac-payment"])) === "Dojo pre-auth", "the pre-auth label", STEP_MS);
      await screenshot(page, "22-findable-canvas-labels");
    });

    it("gives a new node the only connection there is, and leaves the choice open when there are two", async function () {
      for (const type of ["pac-payment", "pac-cancel"]) {
        await page.locator(`#red-ui-workspace-chart g[id="${added[type]}"] rect.red-ui-flow-node`).dblclick();
        await page.locator("#node-input-server").waitFor();
        await until(async () => (await page.locator("#node-input-server").inputValue()) === CFG, `${type}: the only connection chosen`, 3000).catch(
          async (e) => {
            const v = await page.locator("#node-input-server").inputValue();
            await closeTray(page, "#node-dialog-cancel");
            throw new Error(`${type}: connection "${v}", not ${CFG} (${e.message})`);
          },
        );
        (await page.locator("#node-input-btn-server-edit").evaluate((b) => b.classList.contains("disabled"))).should.be.false();
        await closeTray(page, "#node-dialog-ok");
        (await page.evaluate((id) => RED.nodes.node(id).server, added[type])).should.equal(CFG);
      }
      // A second connection: which one is the user's to say.
      await page.evaluate((id) => {
        RED.nodes.import([
          {
            id,
            type: "pac-config",
            name: "Back till",
            environment: "simulator",
            url: "",
            eposId: "till-back",
            softwareHouseId: "",
            resellerId: "",
            requestTimeout: 30,
          },
        ]);
      }, CFG2);
      await page.locator(`#red-ui-workspace-chart g[id="${added["pac-refund"]}"] rect.red-ui-flow-node`).dblclick();
      await page.locator("#node-input-server").waitFor();
      await page.waitForTimeout(300);
      (await page.locator("#node-input-server").inputValue()).should.equal("_ADD_");
      await closeTray(page, "#node-dialog-cancel");
      await page.evaluate((id) => RED.nodes.remove(id), CFG2);
    });

    it("shows only the connection fields the chosen environment uses", async function () {
      await openConnection(added["pac-payment"]);
      const visible = async () => {
        const out = {};
        for (const f of ["url", "eposId", "softwareHouseId", "resellerId", "requestTimeout", "maxAmount", "accountName", "apiKey", "name"]) {
          out[f] = await page.locator(`#node-config-input-${f}`).isVisible();
        }
        return out;
      };
      // The maximum amount guards the simulator too (a stray number must not become a sale anywhere).
      const sim = {
        url: false,
        eposId: true,
        softwareHouseId: false,
        resellerId: false,
        requestTimeout: false,
        maxAmount: true,
        accountName: false,
        apiKey: false,
        name: true,
      };
      const dojo = {
        url: false,
        eposId: true,
        softwareHouseId: true,
        resellerId: true,
        requestTimeout: true,
        maxAmount: true,
        accountName: true,
        apiKey: true,
        name: true,
      };
      (await visible()).should.eql(sim, "simulator");
      await page.selectOption("#node-config-input-environment", "staging");
      (await visible()).should.eql(dojo, "staging");
      await page.selectOption("#node-config-input-environment", "production");
      (await visible()).should.eql(dojo, "production");
      await page.selectOption("#node-config-input-environment", "custom");
      (await visible()).should.eql({ ...dojo, url: true }, "custom");
      await page.selectOption("#node-config-input-environment", "simulator");
      (await visible()).should.eql(sim, "simulator again");
      await screenshot(page, "23-findable-config-simulator");
      await closeConnection();
    });

    it("clears the Test connection result when the environment or a field changes, and drops a late answer", async function () {
      await openConnection(added["pac-payment"]);
      const result = page.locator("#pac-config-test-result");
      const test = async () => {
        await page.locator("#pac-config-test").click();
        await page.locator('#pac-config-test-result[data-result="ok"]').waitFor();
      };
      const cleared = async (what) => {
        await until(async () => !(await result.getAttribute("data-result")) && (await result.textContent()) === "", `the result cleared after ${what}`, 2000);
      };
      await test();
      await page.locator("#node-config-input-eposId").press("End");
      await page.keyboard.type("-2");
      await cleared("typing in the EPOS id");
      await test();
      await page.selectOption("#node-config-input-environment", "staging");
      await cleared("another environment");
      await page.selectOption("#node-config-input-environment", "simulator");
      await test();
      await page.fill("#node-config-input-maxAmount", "200000");
      await cleared("another maximum amount");
      // An answer for values that have changed since is not shown: hold the request until then.
      /** @type {(value?: unknown) => void} */
      let release = () => undefined;
      const held = new Promise((resolve) => (release = resolve));
      await page.route("**/pac/test-connection", async (route) => {
        await held;
        await route.continue();
      });
      try {
        await page.locator("#pac-config-test").click();
        await page.locator('#pac-config-test-result[data-result="running"]').waitFor();
        await page.fill("#node-config-input-eposId", "till-find-3");
        await cleared("typing while the test runs");
        const answered = page.waitForResponse("**/pac/test-connection");
        release();
        await answered;
        await page.waitForTimeout(300);
        should(await result.getAttribute("data-result")).equal(null, "the late answer is not shown");
        (await page.locator("#pac-config-test").isDisabled()).should.be.false();
      } finally {
        release();
        await page.unroute("**/pac/test-connection");
      }
      await closeConnection();
    });

    it("fits the connection dialog in a 1024×700 window: every field in its environment and the Test button in view", async function () {
      await openConnection(added["pac-payment"]);
      const primary = ["environment", "eposId", "name"];
      const dojo = ["accountName", "apiKey", "softwareHouseId"];
      for (const env of ["simulator", "staging", "production", "custom"]) {
        await page.selectOption("#node-config-input-environment", env);
        const ids = primary.concat(env === "simulator" ? [] : dojo, env === "custom" ? ["url"] : []).map((f) => `node-config-input-${f}`);
        ids.push("pac-config-test");
        const m = await page.evaluate((list) => {
          const form = document.getElementById("node-config-dialog-edit-form");
          const tray = form.closest(".red-ui-tray");
          // In view: the element's own box is what the browser hits at its left and right ends.
          const hidden = list.filter((id) => {
            const el = document.getElementById(id);
            const r = el.getBoundingClientRect();
            const y = r.top + r.height / 2;
            return ![r.left + 2, r.right - 2].every((x) => {
              const hit = document.elementFromPoint(x, y);
              return hit && (hit === el || el.contains(hit) || hit.contains(el));
            });
          });
          return {
            hidden,
            formWidth: Math.max(form.scrollWidth, form.getBoundingClientRect().width),
            trayWidth: tray.getBoundingClientRect().width,
            overflowY: form.scrollHeight - form.clientHeight,
          };
        }, ids);
        m.hidden.should.eql([], `${env}: out of view at 1024×700 (${JSON.stringify(m)})`);
        m.formWidth.should.be.belowOrEqual(m.trayWidth, `${env}: ${m.formWidth} px of form in a ${m.trayWidth} px tray`);
        if (env === "simulator") m.overflowY.should.be.belowOrEqual(0, "the simulator's dialog scrolls");
        await screenshot(page, `24-findable-config-1024-${env}`);
      }
      await closeConnection();
      // The nodes' own dialogs: no tip wider than the tray (a cancel node's was 918 px in 694).
      for (const type of USER_TYPES) {
        await page.locator(`#red-ui-workspace-chart g[id="${added[type]}"] rect.red-ui-flow-node`).dblclick();
        await page.locator("#node-input-name").waitFor();
        let last = "";
        const w = await until(
          async () => {
            const now = await page.evaluate(() => {
              const form = document.getElementById("dialog-form");
              return { form: Math.round(form.getBoundingClientRect().width), tray: Math.round(form.closest(".red-ui-tray").getBoundingClientRect().width) };
            });
            const same = JSON.stringify(now) === last;
            last = JSON.stringify(now);
            return same ? now : null;
          },
          `${type}'s tray in place`,
          STEP_MS,
          100,
        );
        w.form.should.be.belowOrEqual(w.tray, `${type}: ${w.form} px of form in a ${w.tray} px tray`);
        await closeTray(page, "#node-dialog-cancel");
      }
      errors.should.eql([]);
    });
  });
});
