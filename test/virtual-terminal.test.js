/* Virtual terminal page: served by the simulator's own HTTP server and as a mountable handler. */
"use strict";

const http = require("http");
const vm = require("vm");
const should = require("should");
const WebSocket = require("ws");
const { PacSimulator, createVirtualTerminalHandler } = require("../dist/simulator");
const { until } = require("./wait");

const T1 = "SIM00001";
const T2 = "SIM00002";
const LABELS = ["Tap card", "Insert card", "Enter PIN", "Remove card", "Approve", "Decline", "Ask for signature", "Processing error"];

let sim;
let cleanups = [];
let uid = 0;
const newId = () => `vt-${process.pid}-${++uid}`;

async function startSim(options = {}) {
  sim = await PacSimulator.start({ port: 0, delays: "zero", manual: true, pingIntervalMs: 0, recordRetryMs: 5000, ...options });
  return sim;
}

const base = () => `http://127.0.0.1:${sim.port}/`;

function postJson(url, body, headers = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A minimal EPOS over raw ws: answers records and (unless told not to) signature requests. */
async function connectEpos(opts = {}) {
  const creds = opts.creds || sim.credentials;
  const ws = new WebSocket(opts.url || sim.url, {
    headers: {
      authorization: `Basic ${Buffer.from(`${creds.accountName}:${creds.apiKey}`).toString("base64")}`,
      "epos-id": "till-vt",
      "software-house-id": "shopflow-tests",
    },
  });
  const frames = [];
  let nextId = 1;
  const waiters = new Set();
  ws.on("error", () => {});
  ws.on("message", (data) => {
    const f = JSON.parse(data.toString());
    frames.push(f);
    if (f.method === "RecordPayment" || f.method === "RecordRefund") {
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: f.id, result: { paymentId: f.params.paymentId } }));
    }
    if (f.method === "SignatureVerification" && opts.signature !== "ignore") {
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: f.id, result: { paymentId: f.params.paymentId, accepted: opts.signature !== "refuse" } }));
    }
    for (const w of waiters) w();
  });
  cleanups.push(() => ws.terminate());
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const waitFrame = (pred, ms = 2000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const f = frames.find(pred);
        if (!f) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(f);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching frame in ${ms} ms: ${JSON.stringify(frames)}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    frames,
    waitFrame,
    request(method, params) {
      const id = nextId++;
      ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      return waitFrame((f) => f.id === id && f.method === undefined);
    },
  };
}

const payment = (overrides = {}) => ({
  paymentId: newId(),
  terminalId: T1,
  captureMode: "AUTO",
  baseAmount: 1250,
  currency: "GBP",
  ...overrides,
});

/** Read a Server-Sent Events stream with fetch; every parsed event is kept in `events`. */
async function openEvents(url) {
  const ctrl = new AbortController();
  const res = await fetch(url, { signal: ctrl.signal, headers: { accept: "text/event-stream" } });
  const events = [];
  const waiters = new Set();
  /** @type {(value?: unknown) => void} */
  let resolveEnded;
  const ended = new Promise((r) => (resolveEnded = r));
  const stream = { res, events, ended, isEnded: false, close: () => ctrl.abort() };
  cleanups.push(stream.close);
  void (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      // DOM's ReadableStream type (lib "DOM", for the browser suite) lacks Node's async iterator
      for await (const chunk of /** @type {AsyncIterable<Uint8Array>} */ (/** @type {unknown} */ (res.body))) {
        buf += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = "message";
          const data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length) events.push({ event, data: JSON.parse(data.join("\n")) });
          for (const w of waiters) w();
        }
      }
    } catch {
      /* aborted */
    }
    stream.isEnded = true;
    resolveEnded();
    for (const w of waiters) w();
  })();
  /** The first event at index >= from matching pred. */
  stream.waitFor = (pred, ms = 2000, from = 0) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const e = events.slice(from).find(pred);
        if (!e && !stream.isEnded) return;
        waiters.delete(check);
        clearTimeout(timer);
        if (e) resolve(e);
        else reject(new Error(`stream ended without a matching event: ${JSON.stringify(events.map((x) => x.event))}`));
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching event in ${ms} ms; got ${JSON.stringify(events.map((x) => x.data.view && x.data.view.headline))}`));
      }, ms);
      waiters.add(check);
      check();
    });
  stream.terminal = (id, pred, ms) => stream.waitFor((e) => e.event === "terminal" && e.data.terminal.terminalId === id && pred(e.data), ms);
  return stream;
}

/** An http server that mounts a handler at a base path, the way Express / Node-RED would. */
async function mount(handler, { strip = false, prefix = "/pac/vt/abc", parseBody = false } = {}) {
  /** Node's request, plus what Express would add. @typedef {import("http").IncomingMessage & { originalUrl?: string, body?: unknown }} Req */
  const server = http.createServer((/** @type {Req} */ req, res) => {
    const outer = () => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("outer 404\n");
    };
    if (strip && (req.url === prefix || req.url.startsWith(`${prefix}/`) || req.url.startsWith(`${prefix}?`))) {
      // like app.use(prefix, handler): req.url loses the mount path, originalUrl keeps it
      req.originalUrl = req.url;
      req.url = req.url.slice(prefix.length) || "/";
      if (req.url.startsWith("?")) req.url = `/${req.url}`;
    }
    if (parseBody && req.method === "POST") {
      // like express.json(): the body is already read and parsed
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        req.body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
        handler(req, res, outer);
      });
      return;
    }
    handler(req, res, outer);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", () => r(undefined)));
  cleanups.push(
    () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${/** @type {import("net").AddressInfo} */ (server.address()).port}`;
}

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
  if (sim) await sim.stop();
  sim = undefined;
});

describe("Virtual terminal page", function () {
  describe("on the simulator's own port", function () {
    it("serves the page with every terminal's labelled controls, relative URLs and no external resources", async function () {
      await startSim();
      sim.virtualTerminalUrl.should.equal(base());
      const res = await fetch(base());
      res.status.should.equal(200);
      res.headers.get("content-type").should.match(/^text\/html/);
      res.headers.get("content-security-policy").should.match(/default-src 'none'/);
      const html = await res.text();
      for (const id of [T1, T2]) {
        html.should.containEql(`data-terminal="${id}"`);
        html.should.match(new RegExp(`<h2 id="t\\d-name">${id}</h2>`));
      }
      for (const label of LABELS) {
        // one real, typed button per terminal; disabled while nothing is running
        const re = new RegExp(`<button type="button" class="act" data-action="\\w+" disabled>${label}</button>`, "g");
        html.match(re).should.have.length(2);
      }
      html.match(/role="switch" data-toggle="automatic" aria-checked="false"/g).should.have.length(2);
      html.match(/role="switch" data-toggle="online" aria-checked="true"/g).should.have.length(2);
      html.should.containEql('aria-live="polite"');
      html.should.containEql(">Ready</div>");
      html.should.not.match(/(src|href|action)="(\/|https?:)/);
      html.should.containEql('href="vt/style.css"').and.containEql('src="vt/app.js"');

      const css = await fetch(`${base()}vt/style.css`);
      css.headers.get("content-type").should.match(/^text\/css/);
      const cssText = await css.text();
      cssText.should.containEql("prefers-color-scheme: dark").and.containEql(":root.dark").and.containEql(":focus-visible");
      cssText.should.not.match(/url\(|@import|https?:/);

      const js = await fetch(`${base()}vt/app.js`);
      js.headers.get("content-type").should.match(/^text\/javascript/);
      const script = await js.text();
      should.doesNotThrow(() => new vm.Script(script, { filename: "app.js" }));
      script.should.containEql('new EventSource("vt/events"');
      script.should.not.match(/https?:\/\/|["']\/vt\//);

      (await (await fetch(`${base()}?theme=dark`)).text()).should.containEql('<html lang="en" class="dark">');
      (await fetch(`${base()}nope`)).status.should.equal(404);
      (await fetch(sim.url.replace("ws:", "http:"))).status.should.equal(426);
    });

    it("streams live updates while a payment is driven to approval through POST vt/act", async function () {
      await startSim();
      const events = await openEvents(`${base()}vt/events`);
      events.res.headers.get("content-type").should.match(/^text\/event-stream/);
      const first = await events.waitFor((e) => e.event === "terminals");
      first.data.map((i) => i.terminal.terminalId).should.eql([T1, T2]);
      first.data[0].view.headline.should.equal("Ready");

      const epos = await connectEpos();
      const params = payment();
      const ack = await epos.request("CreatePayment", params);
      ack.result.should.have.property("paymentId", params.paymentId);
      const presenting = await events.terminal(T1, (d) => d.terminal.step === "presentCard");
      presenting.data.view.should.containEql({ headline: "Present card", amount: "£12.50", tone: "waiting" });
      presenting.data.terminal.allowedActions.should.eql(["present", "insert", "decline", "fail"]);

      const tapped = await postJson(`${base()}vt/act`, { terminalId: T1, action: "present" });
      tapped.status.should.equal(200);
      const afterTap = await tapped.json();
      afterTap.terminal.step.should.equal("authorising");
      afterTap.view.headline.should.equal("Authorising…");
      await events.terminal(T1, (d) => d.view.headline === "Authorising…");

      const approved = await postJson(`${base()}vt/act`, { terminalId: T1, action: "approve" });
      approved.status.should.equal(200);
      (await approved.json()).terminal.should.containEql({ step: "idle", result: "CAPTURED" });
      const done = await events.terminal(T1, (d) => d.terminal.step === "idle" && d.terminal.result === "CAPTURED");
      done.data.view.headline.should.equal("Approved £12.50");
      done.data.view.tone.should.equal("ok");
      const record = await epos.waitFrame((f) => f.method === "RecordPayment");
      record.params.should.containEql({ paymentId: params.paymentId, status: "CAPTURED" });

      // every step arrived, in order
      const t1Steps = events.events.filter((e) => e.event === "terminal" && e.data.terminal.terminalId === T1);
      const headlines = t1Steps.map((e) => e.data.view.headline);
      const order = ["Present card", "Please wait…", "Authorising…", "Approved £12.50"].map((h) => headlines.indexOf(h));
      order.every((n) => n >= 0).should.be.true();
      order.should.eql([...order].sort((a, b) => a - b));

      const late = await postJson(`${base()}vt/act`, { terminalId: T1, action: "approve" });
      late.status.should.equal(409);
      (await late.json()).should.containEql({ step: "idle", allowed: [] });
    });

    it("shortens a long payment id (whole id on hover) and highlights the step a person would take next", async function () {
      await startSim();
      const epos = await connectEpos();
      const params = payment({ paymentId: "5f0c2b1e-9a7d-4c3b-8e21-0d9f6a4b7c10" });
      await epos.request("CreatePayment", params);
      await until(() => sim.terminal(T1).step === "presentCard", "present card");
      const state = await (await fetch(`${base()}vt/state`)).json();
      const view = state.find((i) => i.terminal.terminalId === T1).view;
      view.should.containEql({ detail: "Payment 5f0c2b1e…", paymentId: params.paymentId, next: "present" });
      const html = await (await fetch(base())).text();
      html.should.containEql(`title="${params.paymentId}"`);
      html.should.match(/<button type="button" class="act next" data-action="present">/);
      await postJson(`${base()}vt/act`, { terminalId: T1, action: "insert" });
      const pin = (await (await fetch(`${base()}vt/state`)).json()).find((i) => i.terminal.terminalId === T1).view;
      pin.next.should.equal("enterPin");
    });

    it("shows a PIN pad while the terminal asks for the PIN, and only then", async function () {
      await startSim();
      const epos = await connectEpos();
      await epos.request("CreatePayment", payment());
      await until(() => sim.terminal(T1).step === "presentCard", "present card");
      const padOf = (html) => /<div class="keypad" data-keypad[^>]*>/.exec(html.slice(html.indexOf(`data-terminal="${T1}"`)))[0];
      padOf(await (await fetch(base())).text()).should.containEql(" hidden");
      await postJson(`${base()}vt/act`, { terminalId: T1, action: "insert" });
      await until(() => sim.terminal(T1).step === "pinEntry", "PIN entry");
      const html = await (await fetch(base())).text();
      padOf(html).should.not.containEql(" hidden");
      for (const k of ["0", "1", "9", "clear", "ok"]) html.should.containEql(`data-key="${k}"`);
    });

    it("offline mid-payment: no card can be tapped or inserted, the screen says why; back online it carries on", async function () {
      await startSim({ manual: false, delays: "zero", presentCardTimeoutMs: 60_000 });
      sim.setManual(T1, true);
      const epos = await connectEpos();
      await epos.request("CreatePayment", payment({ baseAmount: 1200 }));
      await until(() => sim.terminal(T1).step === "presentCard", "present card");
      sim.setOnline(T1, false);
      sim.setManual(T1, false); // the automatic customer must not tap while the terminal is offline
      const off = (await (await fetch(`${base()}vt/state`)).json()).find((i) => i.terminal.terminalId === T1);
      off.terminal.allowedActions.should.eql(["decline", "fail"]);
      off.view.should.containEql({ tone: "offline", headline: "Present card" });
      off.view.hint.should.match(/^Offline: this terminal cannot reach the bank, so it takes no card/);
      should.not.exist(off.view.next);
      const refused = await postJson(`${base()}vt/act`, { terminalId: T1, action: "present" });
      refused.status.should.equal(409);
      await new Promise((r) => setTimeout(r, 100));
      sim.terminal(T1).step.should.equal("presentCard");
      sim.setOnline(T1, true);
      await epos.waitFrame((f) => f.method === "RecordPayment" && f.params.status === "CAPTURED", 3000);
    });

    it("plays chip and PIN with a signature the till accepts, then remove card", async function () {
      await startSim();
      const events = await openEvents(`${base()}vt/events`);
      const epos = await connectEpos({ signature: "accept" });
      await epos.request("CreatePayment", payment({ baseAmount: 999 }));
      await events.terminal(T1, (d) => d.terminal.step === "presentCard");
      const act = async (action) => {
        const r = await postJson(`${base()}vt/act`, { terminalId: T1, action });
        r.status.should.equal(200, action);
        return (await r.json()).terminal;
      };
      (await act("insert")).step.should.equal("pinEntry");
      (await events.terminal(T1, (d) => d.terminal.step === "pinEntry")).data.view.headline.should.equal("Enter PIN");
      (await act("enterPin")).step.should.equal("authorising");
      (await act("requestSignature")).step.should.equal("removeCard");
      await events.terminal(T1, (d) => d.view.headline === "Signature?");
      const remove = await events.terminal(T1, (d) => d.terminal.step === "removeCard");
      remove.data.view.headline.should.equal("Approved £9.99 · Remove card");
      remove.data.terminal.allowedActions.should.eql(["removeCard"]);
      (await act("removeCard")).should.containEql({ step: "idle", result: "CAPTURED" });
      (await events.terminal(T1, (d) => d.terminal.step === "idle")).data.view.headline.should.equal("Approved £9.99");
    });

    it("switches a terminal to automatic and offline", async function () {
      await startSim();
      const events = await openEvents(`${base()}vt/events`);
      const auto = await postJson(`${base()}vt/manual`, { terminalId: T2, manual: false });
      auto.status.should.equal(200);
      (await auto.json()).terminal.manual.should.be.false();
      await events.terminal(T2, (d) => d.terminal.manual === false);

      const epos = await connectEpos();
      const params = payment({ terminalId: T2, baseAmount: 1001 }); // …01: declined by its scenario
      await epos.request("CreatePayment", params);
      const declined = await events.terminal(T2, (d) => d.terminal.step === "idle" && d.terminal.result === "DECLINED");
      declined.data.view.should.containEql({ headline: "Declined", tone: "bad" });

      const off = await postJson(`${base()}vt/online`, { terminalId: T2, online: false });
      (await off.json()).view.should.containEql({ headline: "Offline", status: "Offline", tone: "offline" });
      const refused = await epos.request("CreatePayment", payment({ terminalId: T2 }));
      JSON.stringify(refused).should.containEql("TERMINAL_OFFLINE");
      await postJson(`${base()}vt/online`, { terminalId: T2, online: true });
      (await events.terminal(T2, (d) => d.terminal.online === true)).data.view.status.should.equal("Available");
    });

    it("refuses POSTs that are not JSON or come from another site, and bad requests", async function () {
      await startSim();
      const epos = await connectEpos();
      await epos.request("CreatePayment", payment());
      await until(() => sim.terminals()[0].step === "presentCard", "presentCard", 1000);
      const body = JSON.stringify({ terminalId: T1, action: "present" });
      const asForm = await fetch(`${base()}vt/act`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "terminalId=SIM00001&action=present",
      });
      asForm.status.should.equal(415);
      (await fetch(`${base()}vt/act`, { method: "POST", headers: { "content-type": "text/plain" }, body })).status.should.equal(415);
      (await postJson(`${base()}vt/act`, body, { "sec-fetch-site": "cross-site" })).status.should.equal(403);
      (await postJson(`${base()}vt/manual`, { terminalId: T1, manual: "no" })).status.should.equal(400);
      (await postJson(`${base()}vt/act`, "{not json")).status.should.equal(400);
      (await postJson(`${base()}vt/act`, { terminalId: T1, action: "dance" })).status.should.equal(400);
      (await postJson(`${base()}vt/act`, { terminalId: "NOPE", action: "present" })).status.should.equal(404);
      (await postJson(`${base()}vt/act`, "x".repeat(20000))).status.should.equal(413);
      const get = await fetch(`${base()}vt/act`);
      get.status.should.equal(405);
      get.headers.get("allow").should.equal("POST");
      sim.terminals()[0].step.should.equal("presentCard"); // nothing above moved the terminal
    });

    it("removes its listeners when the event stream goes away and when the simulator stops", async function () {
      await startSim();
      const baseline = { terminal: sim.listenerCount("terminal"), stopping: sim.listenerCount("stopping") };
      const a = await openEvents(`${base()}vt/events`);
      const b = await openEvents(`${base()}vt/events`);
      await a.waitFor((e) => e.event === "terminals");
      await b.waitFor((e) => e.event === "terminals");
      sim.listenerCount("terminal").should.equal(baseline.terminal + 1); // one shared listener
      a.close();
      await a.ended;
      await new Promise((r) => setTimeout(r, 50));
      sim.listenerCount("terminal").should.equal(baseline.terminal + 1);
      b.close();
      await until(() => sim.listenerCount("terminal") === baseline.terminal, "terminal listener removed", 1000);
      sim.listenerCount("stopping").should.equal(baseline.stopping);

      const c = await openEvents(`${base()}vt/events`);
      await c.waitFor((e) => e.event === "terminals");
      sim.listenerCount("terminal").should.equal(baseline.terminal + 1);
      await sim.stop();
      await c.ended;
      c.events.map((e) => e.event).should.containEql("stopped");
      sim.listenerCount("terminal").should.equal(baseline.terminal);
      sim.listenerCount("stopping").should.equal(baseline.stopping);
    });

    it("shows a yen amount in yen: 1250 JPY is JP¥1,250 on the page and in vt/state, not ¥12.50", async function () {
      await startSim();
      const epos = await connectEpos();
      await epos.request("CreatePayment", payment({ currency: "JPY" }));
      await until(async () => sim.terminals().find((t) => t.terminalId === T1).step === "presentCard", "T1 at present card", 2000);
      const state = await (await fetch(`${base()}vt/state`)).json();
      state.find((i) => i.terminal.terminalId === T1).view.amount.should.equal("JP¥1,250");
      (await (await fetch(base())).text()).should.containEql("JP¥1,250");
    });

    it("is not served with virtualTerminal: false", async function () {
      await startSim({ virtualTerminal: false });
      should(sim.virtualTerminalUrl).be.undefined();
      (await fetch(base())).status.should.equal(404);
    });
  });

  describe("createVirtualTerminalHandler mounted under a base path", function () {
    for (const strip of [false, true]) {
      it(`works under /pac/vt/abc (${strip ? "mount path stripped, like app.use" : "full URL, like app.get"})`, async function () {
        await startSim({ virtualTerminal: false });
        const baseline = sim.listenerCount("terminal");
        const handler = createVirtualTerminalHandler(sim, { basePath: "/pac/vt/abc/" });
        const origin = await mount(handler, { strip, parseBody: strip });
        const redirect = await fetch(`${origin}/pac/vt/abc?theme=light`, { redirect: "manual" });
        redirect.status.should.equal(302);
        redirect.headers.get("location").should.equal("abc/?theme=light");
        const page = await fetch(`${origin}/pac/vt/abc?theme=light`); // follows the redirect
        page.url.should.equal(`${origin}/pac/vt/abc/?theme=light`);
        (await page.text()).should.containEql('class="light"').and.containEql(`data-terminal="${T1}"`);
        (await fetch(`${origin}/pac/vt/abc/vt/app.js`)).status.should.equal(200);
        (await fetch(`${origin}/pac/vt/abc/vt/nope`)).status.should.equal(404);
        (await (await fetch(`${origin}/elsewhere`)).text()).should.equal("outer 404\n"); // next() called
        (await (await fetch(`${origin}/pac/vt/abcd/`)).text()).should.equal("outer 404\n");

        const events = await openEvents(`${origin}/pac/vt/abc/vt/events`);
        await events.waitFor((e) => e.event === "terminals");
        handler.clients.should.equal(1);
        const epos = await connectEpos();
        await epos.request("CreatePayment", payment());
        await events.terminal(T1, (d) => d.terminal.step === "presentCard");
        const r = await postJson(`${origin}/pac/vt/abc/vt/act`, { terminalId: T1, action: "present" });
        r.status.should.equal(200);
        await events.terminal(T1, (d) => d.terminal.step === "authorising");

        handler.close();
        await events.ended;
        events.events.map((e) => e.event).should.containEql("closed");
        handler.clients.should.equal(0);
        sim.listenerCount("terminal").should.equal(baseline);
        (await fetch(`${origin}/pac/vt/abc/vt/state`)).status.should.equal(503);
      });
    }

    it("shows one account's terminals and answers 202 while a signature waits for the till", async function () {
      await startSim({
        virtualTerminal: false,
        accounts: [
          { accountName: "shop-a", terminals: ["A1"] },
          { accountName: "shop-b", terminals: ["B1", "B2"] },
        ],
      });
      const handler = createVirtualTerminalHandler(sim, { basePath: "/vt-b", accountName: "shop-b", actWaitMs: 50 });
      const origin = await mount(handler, { prefix: "/vt-b" });
      const state = await (await fetch(`${origin}/vt-b/vt/state`)).json();
      state.map((i) => i.terminal.terminalId).should.eql(["B1", "B2"]);
      (await postJson(`${origin}/vt-b/vt/online`, { terminalId: "A1", online: false })).status.should.equal(404);

      const b = sim.accounts()[1];
      const epos = await connectEpos({ creds: b, signature: "ignore" });
      await epos.request("CreatePayment", payment({ terminalId: "B2" }));
      await until(() => sim.terminals("shop-b")[1].step === "presentCard", "presentCard", 1000);
      for (const action of ["present", "requestSignature"]) {
        const r = await postJson(`${origin}/vt-b/vt/act`, { terminalId: "B2", action });
        if (action === "present") r.status.should.equal(200);
        else {
          r.status.should.equal(202);
          (await r.json()).view.headline.should.equal("Signature?");
        }
      }
      await epos.waitFrame((f) => f.method === "SignatureVerification");
      handler.close();
    });
  });
});

describe("Virtual receipt printer", function () {
  const { MAX_SLIPS_PER_TERMINAL, MAX_SLIP_SVG_CHARS, MAX_SLIP_TEXT_CHARS } = require("../dist/simulator/printer");
  const svg = (n) => `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"><text>slip ${n}</text></svg>`;

  it("shows each printed slip beside its terminal, live and on the page, newest first, the last few kept", async function () {
    await startSim();
    const html0 = await (await fetch(base())).text();
    html0.match(/<aside class="printer" data-printer/g).should.have.length(2);
    html0.should.containEql("Nothing printed yet.");
    const events = await openEvents(`${base()}vt/events`);
    (await events.waitFor((e) => e.event === "slips")).data.should.eql([]);

    const first = sim.printSlip({
      terminalId: T1,
      paymentId: "pay-1",
      svg: svg(1),
      text: "TOTAL £12.34",
      amount: 1234,
      currency: "GBP",
      outcome: "approved",
      authCode: "123456",
    });
    first.should.match({ terminalId: T1, accountName: sim.credentials.accountName, paymentId: "pay-1" });
    const pushed = await events.waitFor((e) => e.event === "slip");
    pushed.data.should.match({ id: first.id, terminalId: T1, keep: MAX_SLIPS_PER_TERMINAL });
    pushed.data.html.should.containEql("£12.34 · Approved · Auth code 123456");
    pushed.data.html.should.containEql(`src="data:image/svg+xml;base64,${Buffer.from(svg(1)).toString("base64")}"`);
    pushed.data.html.should.not.containEql("<svg");

    for (let i = 2; i <= MAX_SLIPS_PER_TERMINAL + 2; i++) sim.printSlip({ terminalId: T1, svg: svg(i), text: `slip ${i}` });
    const kept = sim.slips().filter((s) => s.terminalId === T1);
    kept.should.have.length(MAX_SLIPS_PER_TERMINAL);
    kept[0].text.should.equal(`slip ${MAX_SLIPS_PER_TERMINAL + 2}`, "newest first");
    should(sim.printSlip({ terminalId: "NOPE0001", text: "x" })).be.undefined();
    should(sim.printSlip({ terminalId: "", text: "x" })).be.undefined();

    const page = await (await fetch(base())).text();
    const printers = page.match(/<aside class="printer"[\s\S]*?<\/aside>/g);
    printers[0].match(/<figure class="slip"/g).should.have.length(MAX_SLIPS_PER_TERMINAL);
    printers[1].should.containEql("Nothing printed yet.").and.not.containEql("<figure");

    // A new stream gets every kept slip at once (a reconnecting page replaces what it shows).
    const again = await openEvents(`${base()}vt/events`);
    (await again.waitFor((e) => e.event === "slips")).data.should.have.length(MAX_SLIPS_PER_TERMINAL);
  });

  it("bounds what it keeps and escapes what a flow sent", async function () {
    await startSim();
    const big = sim.printSlip({ terminalId: T2, svg: `<svg>${"x".repeat(MAX_SLIP_SVG_CHARS)}</svg>`, text: "y".repeat(MAX_SLIP_TEXT_CHARS + 10) });
    should(big.svg).be.undefined(); // an oversized picture is left out
    big.text.length.should.be.below(MAX_SLIP_TEXT_CHARS + 100);
    big.text.should.match(/cut: longer than/);
    sim.printSlip({ terminalId: T2, text: "<script>alert(1)</script>", paymentId: '"><b>x', outcome: "<i>odd</i>" });
    const page = await (await fetch(base())).text();
    page.should.not.containEql("<script>alert").and.not.containEql('"><b>x').and.not.containEql("<i>odd");
    page.should.containEql('<pre class="paper paper-text">&#60;script&#62;alert(1)&#60;/script&#62;</pre>');
    await sim.stop();
    should(sim.printSlip({ terminalId: T2, text: "late" })).be.undefined(); // a stopped simulator prints nothing
  });
});
