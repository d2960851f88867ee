/**
 * The page's script (plain ES2017, no framework), served as vt/app.js. It takes over the
 * server-rendered terminals: live updates from vt/events (Server-Sent Events), buttons POSTing JSON
 * to vt/act, vt/manual and vt/online, and the slips the flow prints on each terminal's receipt
 * printer (markup rendered and escaped by the server). Every URL is relative to the page.
 *
 * Kept as a String.raw literal so the build (tsc only) ships it; it must contain no backquote and no
 * dollar-brace sequence.
 */
export const VT_SCRIPT = String.raw`(function () {
  "use strict";
  // A Node-RED admin access_token in the page URL is passed on (EventSource cannot send headers).
  var token = new URLSearchParams(location.search).get("access_token");
  var suffix = token ? "?access_token=" + encodeURIComponent(token) : "";
  var connEl = document.querySelector("[data-conn]");
  var cards = new Map();
  var live = false;
  var es = null;
  var retryTimer = null;
  var reloading = false;

  function keyOf(account, terminal) { return account + "\n" + terminal; }

  document.querySelectorAll("section[data-terminal]").forEach(function (el) {
    var card = {
      el: el,
      account: el.getAttribute("data-account"),
      terminal: el.getAttribute("data-terminal"),
      screen: el.querySelector(".screen"),
      fields: {},
      toggles: {},
      actions: Array.prototype.slice.call(el.querySelectorAll("button[data-action]")),
      pending: false,
      refocus: false,
      keypad: el.querySelector("[data-keypad]"),
      pin: "",
      printer: el.parentNode.querySelector("[data-printer]")
    };
    el.querySelectorAll("[data-field]").forEach(function (f) { card.fields[f.getAttribute("data-field")] = f; });
    el.querySelectorAll("button[data-toggle]").forEach(function (b) { card.toggles[b.getAttribute("data-toggle")] = b; });
    el.addEventListener("click", function (ev) { onClick(card, ev); });
    cards.set(keyOf(card.account, card.terminal), card);
  });

  function setText(el, text) {
    // Unchanged text is left alone so screen readers do not announce it again.
    if (el && el.textContent !== text) el.textContent = text;
  }

  function setSwitch(button, on) {
    if (!button) return;
    button.setAttribute("aria-checked", on ? "true" : "false");
    setText(button.querySelector(".switch-state"), on ? "on" : "off");
    button.disabled = !live;
  }

  function firstEnabled(card) {
    for (var i = 0; i < card.actions.length; i++) if (!card.actions[i].disabled) return card.actions[i];
    return null;
  }

  // A button that gets disabled while focused would drop focus to <body>: keep keyboard users in the
  // terminal, on the next possible action (or on its screen until there is one).
  function keepFocus(card, before) {
    if (card.el.contains(before) && before.disabled) card.refocus = true;
    if (!card.refocus) return;
    var now = document.activeElement;
    var lost = !now || now === document.body || now === card.screen || (card.el.contains(now) && now.disabled);
    if (!lost) { card.refocus = false; return; }
    var next = firstEnabled(card);
    if (next) { next.focus(); card.refocus = false; }
    else if (now !== card.screen) card.screen.focus();
  }

  function render(item) {
    var t = item.terminal;
    var v = item.view;
    var card = cards.get(keyOf(t.accountName, t.terminalId));
    if (!card) { reload(); return; }
    var before = document.activeElement;
    card.el.className = "terminal tone-" + v.tone;
    setText(card.fields.amount, v.amount);
    setText(card.fields.headline, v.headline);
    setText(card.fields.signature, v.signature || "");
    setText(card.fields.detail, v.detail);
    if (v.paymentId) card.fields.detail.title = v.paymentId; else card.fields.detail.removeAttribute("title");
    setText(card.fields.hint, v.hint);
    setText(card.fields.status, v.status);
    card.actions.forEach(function (b) {
      b.disabled = !live || t.allowedActions.indexOf(b.getAttribute("data-action")) < 0;
      b.classList.toggle("next", !b.disabled && b.getAttribute("data-action") === v.next);
    });
    var asksPin = t.step === "pinEntry" && t.allowedActions.indexOf("enterPin") >= 0 && live;
    if (card.keypad && card.keypad.hidden === asksPin) {
      card.keypad.hidden = !asksPin;
      card.pin = "";
      setText(card.fields.pin, "");
    }
    setSwitch(card.toggles.automatic, !t.manual);
    setSwitch(card.toggles.online, t.online);
    keepFocus(card, before);
  }

  // The receipt printer beside a terminal: newest slip on top, at most item.keep of them.
  function printSlip(item) {
    var card = cards.get(keyOf(item.accountName, item.terminalId));
    if (!card || !card.printer) return;
    var roll = card.printer.querySelector("[data-roll]");
    if (roll.querySelector('[data-slip="' + item.id + '"]')) return;
    roll.insertAdjacentHTML("afterbegin", item.html);
    while (roll.children.length > item.keep) roll.removeChild(roll.lastElementChild);
    card.printer.querySelector("[data-field=printer-empty]").hidden = true;
  }

  function showSlips(list) {
    cards.forEach(function (card) {
      if (!card.printer) return;
      card.printer.querySelector("[data-roll]").textContent = "";
      card.printer.querySelector("[data-field=printer-empty]").hidden = false;
    });
    // The list is newest first per terminal: print the oldest first so the newest ends on top.
    list.slice().reverse().forEach(printSlip);
  }

  function disableAll() {
    cards.forEach(function (card) {
      var before = document.activeElement;
      card.actions.forEach(function (b) { b.disabled = true; });
      Object.keys(card.toggles).forEach(function (k) { card.toggles[k].disabled = true; });
      keepFocus(card, before);
    });
  }

  function showError(card, text) { setText(card.fields.error, text); }

  function post(path, body) {
    return fetch(path + suffix, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store"
    }).catch(function () {
      throw new Error("Could not reach the simulator.");
    }).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!r.ok) throw new Error((data && data.error) || "The simulator answered " + r.status + " " + r.statusText + ".");
        return data;
      });
    });
  }

  function onClick(card, ev) {
    var b = ev.target.closest("button");
    if (!b || b.disabled || card.pending) return;
    var body = { accountName: card.account, terminalId: card.terminal };
    var path;
    var toggle = b.getAttribute("data-toggle");
    var key = b.getAttribute("data-key");
    if (key !== null && key !== "ok") {
      // The PIN itself goes nowhere: the simulator only needs to know it was entered.
      card.pin = key === "clear" ? "" : (card.pin + "•").slice(0, 6);
      setText(card.fields.pin, card.pin);
      return;
    }
    if (key === "ok") {
      if (card.pin.length < 4) { showError(card, "Enter 4 to 6 digits, then OK."); return; }
      path = "vt/act";
      body.action = "enterPin";
      card.pin = "";
      setText(card.fields.pin, "");
    } else if (b.hasAttribute("data-action")) {
      path = "vt/act";
      body.action = b.getAttribute("data-action");
    } else if (toggle === "automatic") {
      path = "vt/manual";
      body.manual = b.getAttribute("aria-checked") === "true";
    } else if (toggle === "online") {
      path = "vt/online";
      body.online = b.getAttribute("aria-checked") !== "true";
    } else {
      return;
    }
    card.pending = true;
    card.el.setAttribute("aria-busy", "true");
    showError(card, "");
    post(path, body).then(function (data) {
      // While the stream is live it is the source of truth (a reply can be older than the last event).
      if (!live && data && data.terminal) render(data);
    }, function (err) {
      showError(card, err.message);
    }).then(function () {
      card.pending = false;
      card.el.removeAttribute("aria-busy");
    });
  }

  function setConn(state, text) {
    connEl.setAttribute("data-conn", state);
    setText(connEl, text);
  }

  function reload() {
    if (reloading) return;
    reloading = true;
    location.reload();
  }

  function lost(text) {
    live = false;
    setConn("stopped", text);
    disableAll();
    if (!retryTimer) retryTimer = setTimeout(connect, 5000);
  }

  function connect() {
    retryTimer = null;
    if (es) es.close();
    es = new EventSource("vt/events" + suffix);
    es.addEventListener("terminals", function (e) {
      var list = JSON.parse(e.data);
      var same = list.length === cards.size && list.every(function (i) {
        return cards.has(keyOf(i.terminal.accountName, i.terminal.terminalId));
      });
      if (!same) { reload(); return; }
      live = true;
      setConn("live", "Live");
      list.forEach(render);
    });
    es.addEventListener("terminal", function (e) { if (live) render(JSON.parse(e.data)); });
    es.addEventListener("slips", function (e) { showSlips(JSON.parse(e.data)); });
    es.addEventListener("slip", function (e) { printSlip(JSON.parse(e.data)); });
    es.addEventListener("stopped", function () {
      es.close();
      lost("Simulator stopped");
    });
    es.addEventListener("closed", function () {
      es.close();
      lost("Page closed");
    });
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) { lost("Disconnected, retrying…"); return; }
      live = false;
      setConn("reconnecting", "Reconnecting…");
      disableAll();
    };
  }

  connect();
})();
`;
