"use strict";
// The `npm start` demo as a shop owner first sees it (issue 15): the real scripts/start.js, in a
// temporary userDir, opened in Chromium at 1440×900. No first-start prompt covers it, the whole
// shop-counter flow is on screen, a sale's result shows in the Debug sidebar, and (issue 14) a sale
// played on the virtual terminal ends with its receipt on the terminal's virtual receipt printer.
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

  it("the virtual terminal's receipt printer shows the slip of a sale played on it (chip and PIN)", async function () {
    const flow = JSON.parse(fs.readFileSync(path.join(userDir, "flows.json"), "utf8"));
    const cfg = flow.find((n) => n.type === "pac-config").id;
    const vt = await page.context().newPage();
    try {
      await vt.goto(`${base}/pac/vt/${encodeURIComponent(cfg)}/`);
      await vt.locator('[data-conn="live"]').waitFor();
      // The sale before this one (Debug test) already printed: the new slip must come on top, live.
      const terminal = vt.locator("section[data-terminal]").first();
      const terminalId = await terminal.getAttribute("data-terminal");
      const printer = vt.locator(`.counter:has(section[data-terminal="${terminalId}"]) [data-printer]`);
      const automatic = terminal.locator('button[data-toggle="automatic"]');
      await automatic.click();
      await until(async () => (await automatic.getAttribute("aria-checked")) === "false", "manual mode");

      const sale = get(`${base}/sale?amount=1234`); // answered once the customer has paid
      await terminal.locator('button[data-action="insert"]:not([disabled])').click();
      const pad = terminal.locator("[data-keypad]");
      await pad.waitFor({ state: "visible" });
      for (const d of ["1", "2", "3", "4"]) await pad.locator(`button[data-key="${d}"]`).click();
      await pad.locator('button[data-key="ok"]').click();
      await terminal.locator('button[data-action="approve"]:not([disabled])').click();
      await terminal.locator('button[data-action="removeCard"]:not([disabled])').click();
      const answer = await sale;
      answer.status.should.equal(200, answer.body);
      const auth = /AUTH CODE: +(\d{6})/.exec(answer.body);
      (auth !== null).should.be.true(`an auth code in the receipt: ${answer.body}`);

      const slip = printer.locator("figure.slip").first();
      await until(async () => /£12\.34/.test((await slip.locator("figcaption").textContent()) || ""), "the new slip on the printer");
      const caption = await slip.locator("figcaption").textContent();
      caption.should.match(new RegExp(`£12\\.34 · Approved · Auth code ${auth[1]}`));
      (await slip.locator("figcaption").isVisible()).should.be.true();
      const picture = slip.locator("img.paper");
      await picture.scrollIntoViewIfNeeded();
      (await picture.isVisible()).should.be.true();
      const drawn = await picture.evaluate((img) => ({ w: img.naturalWidth, h: img.naturalHeight, shown: img.getBoundingClientRect().width }));
      drawn.w.should.be.above(300, "the slip's picture loaded");
      drawn.h.should.be.above(drawn.w, "a slip is taller than wide");
      drawn.shown.should.be.above(250, "shown at a readable width");
      (await picture.getAttribute("alt")).should.match(new RegExp(`Auth code ${auth[1]}`));
      // The picture is the receipt the flow printed: its text holds the amount, the card and the code.
      const svg = Buffer.from(/^data:image\/svg\+xml;base64,(.*)$/.exec(await picture.getAttribute("src"))[1], "base64").toString("utf8");
      const text = svg.replace(/<[^>]+>/g, "").replace(/&#xa0;/g, " ");
      text.should
        .match(/TOTAL +£12\.34/)
        .and.match(new RegExp(`AUTH CODE: +${auth[1]}`))
        .and.match(/\*+4444/);
      (await printer.locator("figure.slip").count()).should.be.aboveOrEqual(2, "the earlier sale's slip stays below");
      await printer.locator("[data-roll]").evaluate((roll) => (roll.scrollTop = 0));
      await vt.evaluate(() => window.scrollTo(0, 0));
      await screenshot(vt, "demo-virtual-receipt-printer");
    } finally {
      await vt.close();
    }
  });
});
