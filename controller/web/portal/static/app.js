// The delegates' app: one page, sections chosen by the address's #tab, filled from /p/api/*.
// Live updates come over /p/events (server-sent events); the service worker (sw.js) keeps the app,
// the programme and the delegate's documents for reading offline. Signing out, or a revocation
// noticed on the next request or live event, wipes all of it from the device.
"use strict";

// The kinds of live event the app handles (controller.live.EventKind; tests/controller/test_live.py).
const LIVE_KINDS = ["notice", "agenda", "documents", "ballot", "candidates", "resync"];

const App = (() => {
  const { api, el, when } = Portal;
  const view = () => document.getElementById("view");
  const sections = {};
  const routes = {};
  const liveHandlers = {};
  const starters = [];

  function section(name, render) { sections[name] = render; }
  // A view reached by address only: #name/argument (a document in the reader: #doc/<ref>).
  function route(name, render) { routes[name] = render; }
  function on(kind, fn) { (liveHandlers[kind] = liveHandlers[kind] || []).push(fn); }
  function onStart(fn) { starters.push(fn); }

  function current() {
    const tab = (window.location.hash || "").slice(1);
    if (sections[tab]) return tab;
    if (routes[tab.split("/")[0]]) return tab;
    const first = document.querySelector(".tabs a[data-tab]");
    return first && sections[first.dataset.tab] ? first.dataset.tab : Object.keys(sections)[0];
  }

  let shown = 0;
  async function show() {
    const seq = ++shown;
    const tab = current();
    for (const a of document.querySelectorAll(".tabs a")) {
      if (a.dataset.tab === tab) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    const main = view();
    const [name, ...rest] = tab.split("/");
    const render = sections[tab] || (() => routes[name](decodeURIComponent(rest.join("/"))));
    try {
      const content = await render();
      if (seq !== shown) return;  // the delegate has moved on meanwhile
      main.replaceChildren(content);
      main.dataset.shown = tab;
    } catch (e) {
      if (e instanceof Portal.SignedOut) return;
      main.replaceChildren(el("p", { class: "error", role: "alert" },
        navigator.onLine ? e.message : _("You are offline; this section needs the network.")));
    }
  }

  async function signOut() {
    Portal.leaving = true;  // the sync starts no further request (it would be answered "signed out")
    // Tell the controller, but never wait on a network that hangs: the device is wiped either way.
    const ctl = window.AbortController ? new AbortController() : null;
    const timer = ctl ? window.setTimeout(() => ctl.abort(), 5000) : 0;
    try {
      await api("/p/signout", ctl ? { method: "POST", signal: ctl.signal } : { method: "POST" });
    } catch (e) { /* offline or too slow: wipe anyway */ }
    window.clearTimeout(timer);
    await Portal.wipe();
    window.location.assign("/p/signin");
  }

  // Whether this device is still signed in; a revoked session wipes the device at once.
  async function checkSession() {
    try { await api("/p/api/me"); } catch (e) { /* SignedOut already wiped and left */ }
  }

  function live() {
    if (!window.EventSource) return;
    const es = new EventSource("/p/events");
    const net = document.getElementById("net");
    es.onopen = () => { net.dataset.state = "live"; net.textContent = _("live"); };
    es.onerror = () => {
      net.dataset.state = navigator.onLine ? "reconnecting" : "offline";
      net.textContent = navigator.onLine ? "" : _("offline");
      if (navigator.onLine) checkSession();
    };
    for (const kind of LIVE_KINDS) {
      es.addEventListener(kind, (ev) => {
        const data = JSON.parse(ev.data || "{}");
        if (kind === "notice" && data.type === "session") { checkSession(); return; }
        for (const fn of liveHandlers[kind] || []) fn(data);
      });
    }
    window.addEventListener("beforeunload", () => es.close());
  }

  function start() {
    document.getElementById("signout").addEventListener("click", signOut);
    window.addEventListener("hashchange", show);
    window.addEventListener("online", () => { document.getElementById("net").textContent = ""; });
    window.addEventListener("offline", () => {
      const net = document.getElementById("net");
      net.dataset.state = "offline"; net.textContent = _("offline");
    });
    if (navigator.serviceWorker) navigator.serviceWorker.register("/p/sw.js", { scope: "/p/" }).catch(console.error);
    // The address names the section shown, so choosing it again does not draw it twice.
    if (!window.location.hash) history.replaceState(null, "", "#" + current());
    show();
    live();
    for (const fn of starters) fn();
  }

  return { section, route, on, onStart, show, start, api, el, when, refresh: show, current };
})();

// --- my profile -------------------------------------------------------------------------------------

App.section("profile", async () => {
  const { el } = App;
  const me = await App.api("/p/api/me");
  const box = el("section", { class: "card" },
    el("h1", {}, me.name),
    el("dl", { class: "facts" },
      el("dt", {}, _("Delegation")), el("dd", {}, me.delegation || "—"),
      el("dt", {}, _("Delegate number")), el("dd", {}, me.id),
      el("dt", {}, _("Seat")), el("dd", {}, me.seat || "—")));
  const pin = el("form", { class: "card", id: "pin-change" },
    el("h2", {}, _("Change my PIN")),
    el("label", { for: "old-pin" }, _("Current PIN")),
    el("input", { id: "old-pin", type: "password", inputmode: "numeric", required: "" }),
    el("label", { for: "new-pin" }, _("New PIN (4 to 8 digits)")),
    el("input", { id: "new-pin", type: "password", inputmode: "numeric", required: "" }),
    el("button", { type: "submit" }, _("Change PIN")),
    el("p", { class: "status", role: "status" }));
  pin.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const status = pin.querySelector(".status");
    try {
      await App.api("/p/api/pin", { method: "POST", json: { old: pin.querySelector("#old-pin").value,
        new: pin.querySelector("#new-pin").value } });
      status.textContent = _("Your PIN was changed.");
      pin.reset();
    } catch (e) { status.textContent = e.message; }
  });
  const wrap = el("div", { class: "stack" }, box, pin);
  for (const extra of App.profileExtras || []) wrap.append(await extra(me));
  return wrap;
});

// Every section's script has run by then (all are deferred, in order).
document.addEventListener("DOMContentLoaded", () => App.start());
