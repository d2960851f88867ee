/*
 * The printer's side of the wire: a real Node-RED flow pac-payment → pac-receipt → core tcp out,
 * to a TCP server on 127.0.0.1 (ephemeral port) that accepts ESC/POS like a printer on port 9100 and
 * decodes it. The simulator is real (zero delays), the flow is real, the bytes are real.
 */
"use strict";
require("should");
const fs = require("fs");
const net = require("net");
const path = require("path");
const { helper, unloadThen, nodeModules, tmpDir, until, collect, flowWith, simConfig, paymentNode, waitConnected } = require("./nodes-helpers");
const { decodeEscpos } = require("./escpos-decode");

const receiptModule = require(path.join(__dirname, "..", "nodes", "pac-receipt.js"));
const tcpModule = require(require.resolve("@node-red/nodes/core/network/31-tcpin.js", { paths: [path.dirname(require.resolve("node-red"))] }));

/** A receipt printer on 127.0.0.1: every connection's bytes, kept per connection. */
function startPrinter() {
  return new Promise((resolve, reject) => {
    const jobs = [];
    const sockets = new Set();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const chunks = [];
      const job = { done: false, bytes: Buffer.alloc(0) };
      jobs.push(job);
      socket.on("data", (c) => {
        chunks.push(c);
        job.bytes = Buffer.concat(chunks);
      });
      socket.on("end", () => {
        job.done = true;
        socket.end();
      });
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    });
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: /** @type {net.AddressInfo} */ (server.address()).port,
        jobs,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

describe("pac-receipt → tcp out → a printer on 127.0.0.1", function () {
  this.timeout(20000);
  let userDir;
  let printer;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    userDir = tmpDir();
    helper.settings({ userDir });
    printer = await startPrinter();
  });
  afterEach(async () => {
    await unloadThen(
      () => printer.close(),
      () => fs.rmSync(userDir, { recursive: true, force: true }),
    );
  });

  async function load(receiptExtra = {}) {
    const nodes = [
      paymentNode({ wires: [["receipt", "ok"], ["receipt", "ko"], []] }),
      {
        id: "receipt",
        type: "pac-receipt",
        name: "",
        format: "escpos",
        width: "42",
        codePage: "cp858",
        copies: "both",
        unsuccessful: "print",
        kind: "auto",
        shopName: "The Corner Shop",
        shopAddress: "1 High St | London",
        vatNumber: "GB123456789",
        thankYou: "Thank you!",
        wires: [["printerOut", "printed"]],
        ...receiptExtra,
      },
      { id: "printerOut", type: "tcp out", name: "", host: "127.0.0.1", port: String(printer.port), beserver: "client", base64: false, end: true, tls: "" },
      { id: "ok", type: "helper" },
      { id: "ko", type: "helper" },
      { id: "printed", type: "helper" },
    ];
    await helper.load([...nodeModules, receiptModule, tcpModule], flowWith(simConfig(), nodes));
    await waitConnected();
  }

  it("an approved sale prints both copies: amount, masked card, auth code, the acquirer's lines, one cut per copy", async () => {
    await load();
    const ok = collect("ok");
    const printed = collect("printed");
    helper.getNode("pay").receive({ payload: 1250, orderRef: "A-17" });
    await until(() => ok.length === 1 && printed.length === 1, "the sale and its receipt", 8000);
    const job = await until(() => printer.jobs.find((j) => j.done && j.bytes.length > 0), "the printer received a job", 8000);
    const d = decodeEscpos(job.bytes);
    const result = ok[0].payload;
    result.status.should.equal("CAPTURED");
    d.inits.should.equal(1);
    d.cuts.should.equal(2);
    d.copies.should.have.length(2);
    d.copies[0].should.containEql("MERCHANT COPY");
    d.copies[1].should.containEql("CUSTOMER COPY");
    for (const copy of d.copies) {
      copy.should.match(/TOTAL +£12\.50/);
      copy.should.containEql(`************${result.card.last4}`);
      copy.should.match(new RegExp(`AUTH CODE: +${result.authCode}`));
      // the acquirer's own lines, word for word
      const acquirer = result.record.receiptLines.CUSTOMER.filter((l) => l.type === "TEXT" && /^[A-Z ]+$/.test(l.value) && !/COPY|RETAIN/.test(l.value));
      acquirer.length.should.be.above(2);
      for (const line of acquirer) {
        copy.should.containEql(line.value.split("").join(line.format && line.format.includes("DOUBLE_WIDTH") ? " " : ""));
      }
      // the shop around it: header first, thank-you last
      copy.indexOf("The Corner Shop").should.be.below(copy.indexOf("DOJO PAC SIMULATOR"));
      copy.indexOf("A-17").should.be.below(copy.indexOf("DOJO PAC SIMULATOR"));
      copy.trimEnd().should.endWith("Thank you!");
    }
    d.copies[0].should.containEql(`EXPIRY ${result.card.expiry}`);
    d.copies[1].should.not.containEql("EXPIRY");
    printed[0].receipt.source.authCode.should.equal(result.authCode);
  });

  it("a declined sale prints the customer's declined slip with its box, on 58 mm paper", async () => {
    await load({ copies: "customer", width: "32" });
    const ko = collect("ko");
    helper.getNode("pay").receive({ payload: 1001 });
    await until(() => ko.length === 1, "the declined result", 8000);
    const job = await until(() => printer.jobs.find((j) => j.done && j.bytes.length > 0), "the printer received a job", 8000);
    const d = decodeEscpos(job.bytes);
    d.cuts.should.equal(1);
    d.text.should.match(/D E C L I N E D/);
    d.text.should.match(/TOTAL +£10\.01/);
    d.text.should.not.match(/AUTH CODE/);
    for (const l of d.lines) l.replace(/(\S) (?=\S)/g, "$1").length.should.be.belowOrEqual(64, l);
  });

  it("bad input: done(err) reaches Catch with the reason, nothing is printed", async () => {
    await load();
    const errors = collect("errors");
    helper.getNode("receipt").receive({ payload: { paymentId: "x", status: "IN_PROGRESS", amount: 100, currency: "GBP" } });
    await until(() => errors.length === 1, "the error at Catch", 4000);
    errors[0].error.message.should.match(/is IN_PROGRESS: a receipt is printed once the terminal has finished/);
    errors[0].error.code.should.equal("INVALID_INPUT");
    printer.jobs.filter((j) => j.bytes.length > 0).should.have.length(0);
  });
});
