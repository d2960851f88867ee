"use strict";
// The `npm start` demo as a shop owner first sees it (issue 15): the real scripts/start.js, in a
// temporary userDir, opened in Chromium at 1440×900. No first-start prompt covers it, the whole
// shop-counter flow is on screen, and a sale's result shows in the Debug sidebar.
require("should");
const fs = require("fs");
const http = require("http");
const net = require("net");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");
const { root, until, delay, launchBrowser, screenshot } = require("./support");

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = /** @type {net.AddressInfo} */ (s.address());
      s.close(() => resolve(address.port));
    });
  });
}

/** @returns {Promise<{status: number | undefined, body: string}>} */
function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.setTimeout(15000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on("error", reject);
  });
}

describe("the npm start demo at 1440×900", function () {
  this.timeout(120000);
  let browser, child, userDir, base, page;
  let out = "";

  before(async function () {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), "pac-demo-"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [path.join(root, "scripts", "start.js")], {
      cwd: root,
      env: { ...process.env, PORT: String(port), PAC_DEMO_USERDIR: userDir, PAC_SIMULATOR_DELAYS: "zero" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    await until(() => /Node-RED editor:/.test(out), "the demo's banner", 60000);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector("#red-ui-workspace-chart g.red-ui-flow-node-group", { timeout: 30000 });
    await delay(2000); // what the editor shows a moment after it opened
  });

  after(async function () {
    if (browser) await browser.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      await Promise.race([exited, delay(15000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest.state === "failed") {
      if (page) await screenshot(page, "failure-demo").catch(() => undefined);
      console.log(out.split("\n").slice(-20).join("\n"));
    }
  });

  it("no first-start prompt covers it (update notifications are off in the demo's settings)", async function () {
    // Node-RED 4 asks in a dialog (RED.popover.dialog) on first start when telemetry is unset.
    const prompts = await page.$$eval("body *", (els) =>
      els
        .filter((e) => e.children.length === 0 && /Update Notifications/i.test(e.textContent || "") && e.getClientRects().length > 0)
        .map((e) => e.textContent),
    );
    prompts.should.eql([]);
  });

  it("the whole shop-counter flow is on screen, beside the palette and the sidebar", async function () {
    const chart = await page.locator("#red-ui-workspace-chart").boundingBox();
    const boxes = await page.$$eval("#red-ui-workspace-chart g.red-ui-flow-node-group", (els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { id: e.id, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      }),
    );
    boxes.length.should.be.aboveOrEqual(15);
    const outside = boxes.filter((b) => b.left < chart.x || b.top < chart.y || b.right > chart.x + chart.width || b.bottom > chart.y + chart.height);
    outside.should.eql([], `chart ${JSON.stringify(chart)}`);
    await screenshot(page, "demo-1440");
  });

  it("a sale's result shows in the Debug sidebar", async function () {
    await page.evaluate(() => RED.sidebar.show("debug"));
    const sale = await get(`${base}/sale?amount=1250`);
    sale.status.should.equal(200);
    await until(
      () => page.$$eval(".red-ui-debug-msg", (els) => els.some((e) => /CAPTURED/.test(e.textContent || "") && /result/.test(e.textContent || ""))),
      "the result in Debug",
      15000,
    );
    await screenshot(page, "demo-1440-debug");
  });
});
