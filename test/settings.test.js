/* The pac-config settings (src/nodes/settings.ts): settings.js tuning and the one client-options builder. */
"use strict";
require("should");
const { clientOptions, runtimeTuning, readSettings } = require("../dist/nodes/settings");
const configRuntime = require("../dist/nodes/config-runtime");

describe("pac-config settings", function () {
  const settings = /** @type {import("../dist/nodes/settings").ConfigSettings} */ (
    readSettings(
      {
        id: "c",
        type: "pac-config",
        environment: "custom",
        url: "ws://10.1.2.3:8080/ws",
        eposId: "till-1",
        softwareHouseId: "sh",
        resellerId: "rs",
        requestTimeout: 7,
      },
      { accountName: "acct", apiKey: "key-0123456789" },
    )
  );

  it("reads settings.js dojoPac: allowInsecure only when exactly true, a heartbeat only when a number >= 0", function () {
    runtimeTuning(/** @type {any} */ ({ settings: { dojoPac: { allowInsecure: true, heartbeatIntervalMs: 200 } } })).should.eql({
      allowInsecure: true,
      heartbeatIntervalMs: 200,
    });
    runtimeTuning(/** @type {any} */ ({ settings: { dojoPac: { allowInsecure: "yes", heartbeatIntervalMs: -1 } } })).should.eql({ allowInsecure: false });
    runtimeTuning(/** @type {any} */ ({ settings: {} })).should.eql({ allowInsecure: false });
  });

  it("clientOptions: endpoint, identity, credentials, request timeout, and the administrator's tuning", function () {
    clientOptions(settings, { allowInsecure: true, heartbeatIntervalMs: 500 }, { journalDir: "/j" }).should.eql({
      url: "ws://10.1.2.3:8080/ws",
      accountName: "acct",
      apiKey: "key-0123456789",
      allowInsecure: true,
      heartbeatIntervalMs: 500,
      eposId: "till-1",
      softwareHouseId: "sh",
      resellerId: "rs",
      requestTimeoutMs: 7000,
      maxAmount: 100000,
      journalDir: "/j",
    });
    const plain = clientOptions(settings, { allowInsecure: false }, { journalDir: "/j" });
    plain.allowInsecure.should.be.false();
    plain.should.not.have.property("heartbeatIntervalMs"); // the client's default
  });

  it("clientOptions: the caller's extras win (a connection test's short bounds), the tuning stays", function () {
    const o = clientOptions(
      settings,
      { allowInsecure: true, heartbeatIntervalMs: 500 },
      { journalDir: "/t", heartbeatIntervalMs: 0, requestTimeoutMs: 1500, handshakeTimeoutMs: 800 },
    );
    o.should.containEql({ heartbeatIntervalMs: 0, requestTimeoutMs: 1500, handshakeTimeoutMs: 800, allowInsecure: true, journalDir: "/t" });
  });

  it("config-runtime still offers what moved (tests and older imports use it)", function () {
    for (const name of ["readSettings", "journalRoot", "runtimeTuning", "SIMULATOR_SOFTWARE_HOUSE_ID"]) {
      configRuntime.should.have.property(name);
    }
    configRuntime.readSettings.should.equal(readSettings);
  });
});
