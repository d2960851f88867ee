/* Contract §7a: receipt data on a record. Tolerant readers, and the simulator's records end to end. */
"use strict";
require("should");
const { readRecord, readReceiptLines, readReceiptLine, MAX_RECEIPT_LINES, SCHEMA, unknownFields } = require("../dist/protocol");
const { startSim, openClient, waitFor, connected, cleanup } = require("./support");

const T1 = "SIM00001";

describe("protocol §7a receipt fields", function () {
  it("reads every §7a field of a record", () => {
    const rec = readRecord({
      paymentId: "p1",
      terminalId: "T",
      baseAmount: 100,
      currency: "GBP",
      paymentSuccessful: true,
      status: "CAPTURED",
      card: {
        scheme: "VISA",
        last4: "0119",
        applicationId: "A0000000031010",
        applicationLabel: "VISA DEBIT",
        entryMode: "CONTACTLESS",
        verification: "NONE",
        expiry: "12/29",
      },
      transactionNumber: "000042",
      transactionTime: "2026-11-30T12:00:00Z",
      receiptLines: { CUSTOMER: [{ type: "TEXT", value: "HELLO", format: ["BOLD"] }], MERCHANT: [{ type: "BOX_DECLINE", value: "DECLINED" }] },
    });
    rec.card.should.eql({
      scheme: "VISA",
      last4: "0119",
      applicationId: "A0000000031010",
      applicationLabel: "VISA DEBIT",
      entryMode: "CONTACTLESS",
      verification: "NONE",
      expiry: "12/29",
    });
    rec.transactionNumber.should.equal("000042");
    rec.transactionTime.should.equal("2026-11-30T12:00:00Z");
    rec.receiptLines.CUSTOMER.should.eql([{ type: "TEXT", value: "HELLO", format: ["BOLD"] }]);
    rec.receiptLines.MERCHANT[0].type.should.equal("BOX_DECLINE");
  });

  it("tolerates missing fields, unknown values and malformed lines", () => {
    const rec = readRecord({
      paymentId: "p2",
      card: { scheme: "AMEX", entryMode: "NFC_WATCH", verification: 7, expiry: null },
      transactionNumber: 12,
      receiptLines: "nope",
    });
    rec.card.should.eql({ scheme: "AMEX", last4: undefined, entryMode: "NFC_WATCH", verification: "7" });
    rec.transactionNumber.should.equal("12");
    rec.should.not.have.property("receiptLines");
    rec.should.not.have.property("transactionTime");
    const lines = readReceiptLines({ CUSTOMER: [null, 3, {}, "bare text", { type: "HOLOGRAM", value: "x", format: "BOLD" }, { value: "no type" }], OTHER: [] });
    lines.should.eql({
      CUSTOMER: [
        { type: "TEXT", value: "bare text" },
        { type: "HOLOGRAM", value: "x", format: ["BOLD"] },
        { type: "TEXT", value: "no type" },
      ],
    });
    (readReceiptLine({ type: "LINE_SEPARATOR_SINGLE" }) || {}).should.eql({ type: "LINE_SEPARATOR_SINGLE", value: "" });
    readReceiptLines({ MERCHANT: new Array(MAX_RECEIPT_LINES + 50).fill({ type: "TEXT", value: "x" }) }).MERCHANT.length.should.equal(MAX_RECEIPT_LINES);
  });

  it("the record's closed field list carries the §7a top-level fields (strict simulators and encoders send them)", () => {
    const params = { paymentId: "p", transactionNumber: "1", transactionTime: "t", receiptLines: {} };
    unknownFields(params, SCHEMA.RecordPayment.params).should.eql([]);
    unknownFields(params, SCHEMA.RecordRefund.params).should.eql([]);
  });
});

describe("simulator sends §7a receipt data (strict mode)", function () {
  let sim, client;
  beforeEach(async () => {
    sim = await startSim();
    client = await openClient(sim);
    await connected(client);
  });
  afterEach(cleanup);

  async function run(amount, extra = {}, refund = false) {
    const ack = refund
      ? await client.createRefund({ terminalId: T1, amount, currency: "GBP", ...extra })
      : await client.createPayment({ terminalId: T1, amount, currency: "GBP", ...extra });
    return waitFor(client, "outcome", (o) => o.paymentId === ack.paymentId, 5000);
  }
  const texts = (lines) => lines.map((l) => l.value).join("\n");

  it("00 contactless: AID, label, entry mode, no CVM, both copies, sequence number and time", async () => {
    const o = await run(1250);
    o.status.should.equal("CAPTURED");
    o.card.should.match({
      scheme: "VISA",
      applicationId: "A0000000031010",
      applicationLabel: "VISA DEBIT",
      entryMode: "CONTACTLESS",
      verification: "NONE",
      expiry: "12/29",
    });
    o.record.transactionNumber.should.match(/^\d{6}$/);
    new Date(o.record.transactionTime).getTime().should.be.above(0);
    const { CUSTOMER, MERCHANT } = o.record.receiptLines;
    const types = new Set([...CUSTOMER, ...MERCHANT].map((l) => l.type));
    for (const t of ["TEXT", "LINE_SEPARATOR_SINGLE", "LINE_SEPARATOR_DOUBLE", "CARRIAGE_RETURN", "TICKET_FEED"]) types.has(t).should.be.true(t);
    texts(CUSTOMER).should.containEql("CUSTOMER COPY").and.containEql("£12.50").and.containEql("************0119").and.containEql(o.authCode);
    texts(MERCHANT).should.containEql("MERCHANT COPY").and.containEql("EXPIRY 12/29");
    texts(CUSTOMER).should.not.containEql("EXPIRY");
    CUSTOMER.some((l) => (l.format || []).includes("DOUBLE_HEIGHT")).should.be.true();
    CUSTOMER.some((l) => (l.format || []).includes("DOUBLE_WIDTH")).should.be.true();
  });

  it("05 chip and PIN: ICC, PIN verified; the next transaction has the next number", async () => {
    const o = await run(1505);
    o.card.should.match({ scheme: "MASTERCARD", applicationId: "A0000000041010", entryMode: "ICC_CHIP", verification: "PIN" });
    texts(o.record.receiptLines.CUSTOMER).should.containEql("PIN VERIFIED");
    const next = await run(100);
    Number(next.record.transactionNumber).should.equal(Number(o.record.transactionNumber) + 1);
  });

  it("02 signature: SIGNATURE, the merchant copy has the signature strip", async () => {
    const o = await run(1202, { signature: "accept" });
    o.status.should.equal("CAPTURED");
    o.card.verification.should.equal("SIGNATURE");
    texts(o.record.receiptLines.MERCHANT).should.containEql("PLEASE SIGN BELOW").and.containEql("X____");
    texts(o.record.receiptLines.CUSTOMER).should.not.containEql("PLEASE SIGN");
  });

  it("01 declined and 04 failed carry the decline box and no auth code; refunds say REFUND", async () => {
    const declined = await run(1001);
    declined.status.should.equal("DECLINED");
    declined.record.receiptLines.CUSTOMER.filter((l) => l.type === "BOX_DECLINE").should.have.length(1);
    declined.record.should.not.have.property("authCode");
    const failed = await run(1004);
    failed.status.should.equal("FAILED");
    texts(failed.record.receiptLines.CUSTOMER).should.containEql("NOT AUTHORISED");
    const refund = await run(700, {}, true);
    refund.status.should.equal("REFUNDED");
    texts(refund.record.receiptLines.CUSTOMER).should.containEql("REFUND");
  });

  it("03 cancelled before a card was read: no card and no receipt lines, but a number and a time", async () => {
    const presented = waitFor(client, "notification", (n) => n.paymentId === "cancel-03" && n.notification === "PRESENT_CARD");
    const ack = await client.createPayment({ paymentId: "cancel-03", terminalId: T1, amount: 1003, currency: "GBP" });
    await presented;
    await client.cancelPayment(ack.paymentId);
    const o = await waitFor(client, "outcome", (x) => x.paymentId === ack.paymentId, 5000);
    o.status.should.equal("CANCELLED");
    o.record.should.not.have.property("receiptLines");
    o.record.should.not.have.property("card");
    o.record.transactionNumber.should.match(/^\d{6}$/);
  });
});
