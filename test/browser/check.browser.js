/*
 * "Check against Dojo" in the connection dialog, in a real browser against a real Node-RED: a
 * custom connection to our simulator with drift errorNumbers; the person is asked before each step
 * that needs the terminal (Ready, with the keyboard focus), and the dialog ends with the summary,
 * the deviations and the two downloads. The API key is nowhere on the page.
 */
"use strict";
require("should");
const { until, startNodeRed, launchBrowser, screenshot } = require("./support");
const { PacSimulator } = require("../../dist/simulator");

describe("Check against Dojo in a real browser", function () {
  this.timeout(120000);
  let browser, nr, sim, page;
  const errors = [];

  before(async function () {
    sim = await PacSimulator.start({ delays: "zero", drift: ["errorNumbers"], recordRetryMs: 200, virtualTerminal: false, pingIntervalMs: 0 });
    const flows = [
      { id: "f1", type: "tab", label: "t" },
      { id: "cfg1", type: "pac-config", name: "Staging till", environment: "custom", url: sim.url, eposId: "till-b", softwareHouseId: "sh", requestTimeout: 5 },
    ];
    nr = await startNodeRed({ flows, credentials: { cfg1: { ...sim.credentials } } });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.setDefaultTimeout(15000);
    page.on("pageerror", (e) => errors.push(e.message));
  });

  after(async function () {
    if (browser) await browser.close();
    if (nr) await nr.stop();
    if (sim) await sim.stop();
  });

  it("asks before each terminal step, then shows the summary, the deviations and the report", async function () {
    await page.goto(nr.url);
    await page.locator('#red-ui-palette .red-ui-palette-node[data-palette-type="pac-payment"]').waitFor({ timeout: 30000 });
    await page.evaluate(() => RED.editor.editConfig("", "pac-config", "cfg1"));
    await page.locator("#pac-config-check").click();
    const asked = [];
    await until(
      async () => {
        if (await page.locator(".pac-config-check-summary").count()) return true;
        const ready = page.locator(".pac-config-check-prompt button").first();
        if ((await ready.count()) && !(await ready.isDisabled())) {
          // the new step has the focus on Ready: Enter answers it
          (await ready.evaluate((b) => b === document.activeElement)).should.be.true();
          asked.push(await page.locator(".pac-config-check-prompt div").first().textContent());
          await page.keyboard.press("Enter");
        }
        return false;
      },
      "the check to finish",
      60000,
      100,
    );
    asked.length.should.equal(6);
    asked[0].should.match(/^Terminal SIM00001 will ask for 1\.00 GBP: tap or insert a card that approves/);
    (await page.locator(".pac-config-check-summary").textContent()).should.equal("2 deviations from the contract.");
    (await page.locator(".pac-config-check-report").textContent()).should.match(/error-code \| -32073 \(DUPLICATE_PAYMENT_ID\) \| integer -32084/);
    (await page.locator("#pac-config-check-out a").count()).should.equal(2);
    (await page.locator("#pac-config-check-out").getAttribute("role")).should.equal("status");
    await screenshot(page, "check-against-dojo");
    (await page.content()).includes(sim.credentials.apiKey).should.be.false();
    errors.should.eql([]);
  });
});
