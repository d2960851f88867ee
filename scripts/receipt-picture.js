#!/usr/bin/env node
// Writes docs/receipt-example.svg: the customer copy of a simulated contactless sale, as the Dojo
// receipt node renders it (the README shows it). Fixed data, so the picture only changes with the code.
"use strict";
const fs = require("fs");
const path = require("path");
const { makeReceipt } = require("../dist/receipt");
const { acquirerReceipt } = require("../dist/simulator/acquirer-receipt");

const card = {
  scheme: "VISA",
  last4: "0119",
  applicationId: "A0000000031010",
  applicationLabel: "VISA DEBIT",
  entryMode: "CONTACTLESS",
  verification: "NONE",
  expiry: "12/29",
};
const sale = {
  kind: "payment",
  paymentId: "example",
  terminalId: "SIM00001",
  captureMode: "AUTO",
  baseAmount: 1250,
  tipsAmount: 0,
  cashbackAmount: 0,
  currency: "GBP",
  status: "CAPTURED",
  attemptedAt: "2026-11-30T12:00:00.000Z",
  authCode: "123456",
  card,
  transactionNumber: "000042",
  transactionTime: "2026-11-30T12:00:04.000Z",
};
const record = { ...sale, paymentSuccessful: true, receiptLines: acquirerReceipt(sale) };
const r = makeReceipt(
  { paymentId: "example", status: "CAPTURED", amount: 1250, currency: "GBP", record },
  {
    format: "svg",
    width: 32,
    codePage: "cp858",
    copies: "customer",
    unsuccessful: true,
    kind: "auto",
    shop: {
      name: "The Corner Shop",
      address: ["1 High Street", "London N1 1AA"],
      vatNumber: "GB123456789",
      thankYou: "Thank you for shopping with us",
      orderRef: "A-17",
    },
  },
);
if (!r.printed) throw new Error("the example did not print");
const out = path.join(__dirname, "..", "docs", "receipt-example.svg");
// A white background: the picture is shown on dark and light pages alike.
fs.writeFileSync(out, String(r.payload).replace(/^<svg([^>]*)>/, '<svg$1><rect width="100%" height="100%" fill="#fff"/>'));
console.log(`wrote ${path.relative(process.cwd(), out)}`);
