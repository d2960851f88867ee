/* src/receipt: slips from records, in every format, copy, outcome, width and currency. */
"use strict";
const should = require("should");
const { makeReceipt, readSource, ReceiptInputError, MAX_SLIP_LINES, renderText, buildSlips } = require("../dist/receipt");
const { decodeEscpos } = require("./escpos-decode");

const SHOP = { name: "The Corner Shop", address: ["1 High St", "London N1"], vatNumber: "GB123456789", thankYou: "Thank you!", orderRef: "A-17" };
const base = { format: "text", width: 42, codePage: "cp858", copies: "customer", unsuccessful: true, kind: "auto", shop: {} };
const opts = (o) => ({ ...base, ...o });

const ALL_TYPES = [
  { type: "TEXT", value: "ACQUIRER BANK PLC", format: ["BOLD", "DOUBLE_HEIGHT"] },
  { type: "TEXT", value: "  indented   verbatim  " },
  { type: "LINE_SEPARATOR_SINGLE", value: "" },
  { type: "TEXT", value: "SALE", format: ["DOUBLE_WIDTH"] },
  { type: "TEXT", value: "TOTAL           £12.50", format: ["BOLD"] },
  { type: "LINE_SEPARATOR_DOUBLE", value: "" },
  { type: "CARRIAGE_RETURN", value: "" },
  { type: "BOX_DECLINE", value: "DECLINED" },
  { type: "BOX_VOID", value: "VOID" },
  { type: "TICKET_FEED", value: "" },
  { type: "HOLOGRAM", value: "unknown type prints its value" },
  { type: "TEXT", value: 'markup | { } ~ _ " ` ^ \\ - = *' },
];

/** A pac-payment result payload. */
function result(extra = {}, record = {}) {
  const rec = {
    paymentId: "p-1",
    terminalId: "SIM00001",
    captureMode: "AUTO",
    baseAmount: 1250,
    tipsAmount: 0,
    cashbackAmount: 0,
    currency: "GBP",
    paymentSuccessful: true,
    status: "CAPTURED",
    attemptedAt: "2026-11-30T12:00:00.000Z",
    authCode: "654321",
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
    transactionTime: "2026-11-30T12:00:05.000Z",
    ...record,
  };
  return {
    paymentId: rec.paymentId,
    terminalId: rec.terminalId,
    status: rec.status,
    amount: rec.baseAmount,
    currency: rec.currency,
    authCode: rec.authCode,
    card: rec.card,
    record: rec,
    ...extra,
  };
}
/** The printed result (typed loosely: a test reads what it expects). @returns {any} */
const mk = (payload, o) => makeReceipt(payload, opts(o));
const text = (payload, o) => mk(payload, o).payload;

describe("receipt: every line type of the acquirer's receiptLines", function () {
  const withLines = result({}, { receiptLines: { CUSTOMER: ALL_TYPES, MERCHANT: [{ type: "TEXT", value: "MERCHANT ONLY LINE" }] } });

  it("text: verbatim values, separators, boxes, unknown types as text, markup characters as they are", () => {
    const t = text(withLines, { width: 42 });
    t.should.containEql("ACQUIRER BANK PLC");
    t.should.containEql("\n  indented   verbatim\n");
    t.should.containEql("-".repeat(42));
    t.should.containEql("=".repeat(42));
    t.should.match(/\| +DECLINED +\|/);
    t.should.match(/\| +VOID +\|/);
    t.should.containEql("unknown type prints its value");
    t.should.containEql('markup | { } ~ _ " ` ^ \\ - = *');
    t.should.containEql("TOTAL           £12.50");
    t.should.not.containEql("MERCHANT ONLY LINE");
    const r = mk(withLines, {});
    r.receipt.copies[0].acquirer.should.be.true();
  });

  it("escpos: bold and double size reach the printer; the text decodes back; one cut", () => {
    const buf = text(withLines, { format: "escpos" });
    Buffer.isBuffer(buf).should.be.true();
    const d = decodeEscpos(buf);
    d.inits.should.equal(1);
    d.cuts.should.equal(1);
    d.pages.should.containEql(19);
    d.text.should.containEql("ACQUIRER BANK PLC");
    d.text.should.containEql("£12.50");
    d.bold[0].should.containEql("ACQUIRERBANKPLC").and.containEql("TOTAL£12.50");
    d.big[0].should.containEql("ACQUIRERBANKPLC").and.containEql("SALE");
    d.text.should.containEql("unknown type prints its value");
  });

  it("html: self-contained, escaped, boxes and separators as HTML", () => {
    const h = text(withLines, { format: "html" });
    h.should.startWith("<!DOCTYPE html>");
    h.should.containEql('<meta name="viewport"');
    h.should.not.match(/<script|<link|src=|url\(|@import/);
    h.should.containEql("markup | { } ~ _ &#34; ` ^ \\ - = *");
    h.should.containEql("border:2px solid #000");
    h.should.match(/DECLINED<\/div>/);
    h.should.containEql("3px double");
  });

  it("svg: a picture with the text and no external fetch", () => {
    const s = text(withLines, { format: "svg" });
    s.should.startWith("<svg");
    s.should.not.match(/@import|https?:\/\/fonts/);
    s.replace(/<[^>]+>/g, "")
      .replace(/&#xa0;/g, " ")
      .should.containEql("ACQUIRER BANK PLC")
      .and.containEql("£12.50");
  });

  it("a control character in a value never reaches the printer as a command", () => {
    const evil = result({}, { receiptLines: { CUSTOMER: [{ type: "TEXT", value: "a\x1bd\x05\x1dV\x00b" }] } });
    const d = decodeEscpos(text(evil, { format: "escpos" }));
    d.cuts.should.equal(1);
    d.text.should.containEql("a d");
  });
});

describe("receipt: composed from the fields present", function () {
  it("prints the card section from the record's fields, shop header before and footer after", () => {
    const t = text(result(), { shop: SHOP, copies: "customer" });
    const order = [
      "The Corner Shop",
      "1 High St",
      "VAT No. GB123456789",
      "A-17",
      "SALE",
      "VISA DEBIT",
      "**** **** **** 0119",
      "AID A0000000031010",
      "Contactless",
      "SIM00001",
      "000042",
      "30/11/2026 12:00 UTC",
      "£12.50",
      "No cardholder verification",
      "654321",
      "APPROVED",
      "CUSTOMER COPY",
      "Thank you!",
    ];
    let at = -1;
    for (const s of order) {
      const i = t.indexOf(s);
      i.should.be.above(at, `${s} in order`);
      at = i;
    }
    t.should.not.containEql("Expiry"); // not on the customer's copy
  });

  it("leaves out every missing field and invents none", () => {
    const bare = { paymentId: "p-2", status: "CAPTURED", amount: 500, currency: "GBP" };
    const t = text(bare, {});
    t.should.containEql("£5.00").and.containEql("APPROVED");
    for (const absent of ["AID", "****", "Auth code", "Terminal", "Transaction", "UTC", "VISA", "verification", "Expiry"]) t.should.not.containEql(absent);
    mk(bare, {}).receipt.source.should.not.have.properties("card", "authCode", "transactionNumber");
  });

  it("unknown entry mode and verification values are printed as sent; UNKNOWN is left out", () => {
    const t = text(result({}, { card: { scheme: "AMEX", last4: "0005", entryMode: "NFC_WATCH", verification: "UNKNOWN" } }), {});
    t.should.containEql("NFC_WATCH");
    t.should.not.containEql("UNKNOWN");
  });

  it("signature: the merchant copy has the signature line, the customer copy does not", () => {
    const sig = result({}, { card: { scheme: "VISA", last4: "0119", verification: "SIGNATURE" } });
    text(sig, { copies: "merchant" }).should.containEql("Cardholder signature:").and.containEql("X____");
    text(sig, { copies: "customer" }).should.not.containEql("X____");
  });

  it("tips and cashback are itemised; pre-auth and refund say so", () => {
    const t = text(result({}, { tipsAmount: 150, cashbackAmount: 2000 }), {});
    t.should
      .match(/Amount +£12\.50/)
      .and.match(/Gratuity +£1\.50/)
      .and.match(/Cashback +£20\.00/)
      .and.match(/TOTAL +£34\.00/);
    text(result({}, { captureMode: "MANUAL", status: "AUTHORIZED" }), {}).should.containEql("PRE-AUTH");
    const refund = text(result({ kind: "refund" }, { status: "REFUNDED" }), {});
    refund.should
      .containEql("REFUND")
      .and.match(/REFUND TOTAL +£12\.50/)
      .and.containEql("REFUND ACCEPTED");
  });
});

describe("receipt: copies, outcomes, widths, currencies", function () {
  it("copies: customer, merchant, both (merchant first, one cut each)", () => {
    text(result(), { copies: "customer" }).should.containEql("CUSTOMER COPY").and.not.containEql("MERCHANT COPY");
    text(result(), { copies: "merchant" }).should.containEql("MERCHANT COPY").and.not.containEql("CUSTOMER COPY");
    const both = text(result(), { copies: "both" });
    both.indexOf("MERCHANT COPY").should.be.below(both.indexOf("CUSTOMER COPY"));
    const d = decodeEscpos(text(result(), { copies: "both", format: "escpos" }));
    d.cuts.should.equal(2);
    d.copies[0].should.containEql("MERCHANT COPY");
    d.copies[1].should.containEql("CUSTOMER COPY");
    mk(result(), { copies: "both" })
      .receipt.copies.map((c) => c.copy)
      .should.eql(["MERCHANT", "CUSTOMER"]);
  });

  /** @type {[string, string, {notCreated?: boolean}][]} */
  const outcomes = [
    ["DECLINED", "DECLINED", {}],
    ["CANCELLED", "CANCELLED", {}],
    ["REVERSED", "CANCELLED", {}],
    ["FAILED", "NOT COMPLETED", {}],
    ["CAPTURED", "NOT COMPLETED", { notCreated: true }],
  ];
  for (const [status, box, extra] of outcomes) {
    it(`${status}${extra.notCreated ? " (never created)" : ""}: the slip with its box, no auth code, nothing taken; or no slip by setting`, () => {
      const p = result(extra, { status, paymentSuccessful: false, authCode: undefined });
      const t = text(p, {});
      t.should.containEql(box).and.containEql("No money has been taken");
      t.should.not.containEql("APPROVED").and.not.containEql("Auth code");
      const none = mk(p, { unsuccessful: false });
      none.printed.should.be.false();
    });
  }

  for (const width of [32, 42, 48]) {
    it(`${width} columns: no line wider than the paper, rules as wide as it`, () => {
      const long = result({}, { receiptLines: { CUSTOMER: [...ALL_TYPES, { type: "TEXT", value: "x".repeat(100) }] } });
      for (const p of [result(), long]) {
        const lines = text(p, { width, shop: SHOP, copies: "both" }).split("\n");
        for (const l of lines) l.length.should.be.belowOrEqual(width, l);
        lines.should.containEql("-".repeat(width));
      }
      const d = decodeEscpos(text(long, { width, format: "escpos" }));
      for (const l of d.lines) l.replace(/(\S) /g, "$1").length.should.be.belowOrEqual(width * 2, l);
    });
  }

  /** @type {[string, number, string, number[]][]} */
  const currencies = [
    ["GBP", 1250, "£12.50", [0x9c]],
    ["EUR", 1250, "€12.50", [0xd5]],
    ["JPY", 1250, "¥1,250", [0xbe]],
  ];
  for (const [currency, amount, shown, bytes] of currencies) {
    it(`${currency}: ${amount} minor units print as ${shown}, in the printer's code page`, () => {
      const p = result({}, { currency, baseAmount: amount });
      text(p, {}).should.containEql(shown);
      text(p, { format: "html" }).should.containEql(shown);
      const buf = text(p, { format: "escpos" });
      const d = decodeEscpos(buf);
      d.text.should.containEql(shown);
      for (const b of bytes) buf.includes(b).should.be.true();
      const d1252 = decodeEscpos(text(p, { format: "escpos", codePage: "cp1252" }));
      d1252.pages.should.containEql(16);
      d1252.text.should.containEql(shown);
    });
  }

  it("a 500-line acquirer receipt is cut to a bounded slip, saying so, without error", () => {
    const lines = Array.from({ length: 500 }, (_, i) => ({ type: i % 7 === 0 ? "LINE_SEPARATOR_SINGLE" : "TEXT", value: `line ${i}` }));
    const p = result({}, { receiptLines: { CUSTOMER: lines } });
    const started = Date.now();
    const r = mk(p, { shop: SHOP });
    r.receipt.copies[0].lines.length.should.be.belowOrEqual(MAX_SLIP_LINES);
    r.payload.should.match(/more lines not printed/);
    r.payload.split("\n").length.should.be.below(MAX_SLIP_LINES * 2);
    const d = decodeEscpos(mk(p, { format: "escpos" }).payload);
    d.cuts.should.equal(1);
    (Date.now() - started).should.be.below(5000);
  });
});

describe("receipt: inputs", function () {
  it("a pac-events record and a pac-status journal entry print like the payment result", () => {
    const r = result();
    const fromEvent = { paymentId: "p-1", kind: "payment", record: r.record, foreign: false, orphan: true, status: "CAPTURED", amount: 1250, currency: "GBP" };
    const fromJournal = {
      id: "p-1",
      kind: "payment",
      terminalId: "SIM00001",
      amount: 1250,
      currency: "GBP",
      status: "CAPTURED",
      record: r.record,
      recordedAt: 1,
      updatedAt: 2,
    };
    const want = text(r, {});
    text(fromEvent, {}).should.equal(want);
    text(fromJournal, {}).should.equal(want);
    readSource({ id: "r-9", kind: "refund", amount: 300, currency: "GBP", status: "DECLINED" }).kind.should.equal("refund");
  });

  it("bad input is refused with the specific reason", () => {
    const bad = [
      [undefined, /msg.payload must be the result/],
      ["text", /got the text "text"/],
      [{ status: "CAPTURED" }, /no paymentId/],
      [{ paymentId: "x", amount: 1, currency: "GBP" }, /no status yet/],
      [{ paymentId: "x", status: "IN_PROGRESS", amount: 1, currency: "GBP" }, /is IN_PROGRESS/],
      [{ paymentId: "x", status: "CAPTURED", amount: 1 }, /no currency/],
      [{ paymentId: "x", status: "CAPTURED", amount: 1, currency: "POUNDS" }, /not an ISO 4217 code/],
      [{ paymentId: "x", status: "CAPTURED", amount: 12.5, currency: "GBP" }, /no amount/],
      [{ paymentId: "x", record: "nope" }, /record must be an object/],
      [{ from: "a", to: "b", entries: [] }, /journal report/],
    ];
    for (const [payload, re] of bad) {
      let e;
      try {
        mk(payload, {});
      } catch (err) {
        e = err;
      }
      should.exist(e, `refused: ${JSON.stringify(payload)}`);
      e.should.be.instanceOf(ReceiptInputError);
      e.message.should.match(re);
    }
  });

  it("renderText of built slips is stable (no randomness)", () => {
    const slips = buildSlips(readSource(result()), "both", SHOP);
    renderText(slips, { width: 42, codePage: "cp858" }).should.equal(renderText(slips, { width: 42, codePage: "cp858" }));
  });
});
