// The delegates' portal: shared helpers (strings, times, the JSON API, wiping the device's cache).
// Served from the controller itself (no CDN); no inline script anywhere (the CSP forbids it).
// Strings a person reads are written _("…") or ngettext("…", "…", n) with %(name)s parameters; the page
// carries their translations (script#i18n, controller/web/portal/views.py) and the venue's time zone.
"use strict";

const Portal = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const i18n = (() => {
    const e = document.getElementById("i18n");
    const base = { lang: document.documentElement.lang || "en", tz: document.documentElement.dataset.tz,
      nplurals: 2, messages: {}, plurals: {} };
    return e ? Object.assign(base, JSON.parse(e.textContent)) : base;
  })();

  function format(text, params) {
    if (!params) return text;
    return text.replace(/%\((\w+)\)[sd]/g, (m, k) => (k in params ? String(params[k]) : m));
  }
  function gettext(text, params) { return format(i18n.messages[text] || text, params); }
  function ngettext(singular, plural, n, params) {
    const forms = i18n.plurals[singular] || [singular, plural];
    const index = i18n.nplurals === 1 ? 0 : (n === 1 ? 0 : 1);
    return format(forms[Math.min(index, forms.length - 1)], Object.assign({ num: n }, params));
  }
  const formats = {
    time: { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
    date: { day: "2-digit", month: "2-digit", year: "numeric" },
    datetime: { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  };
  // Times in the venue's zone, whatever the device's own zone.
  function when(iso, kind = "datetime") {
    if (!iso) return "";
    const d = iso instanceof Date ? iso : new Date(iso);
    if (Number.isNaN(d.getTime())) return "";
    return new Intl.DateTimeFormat(i18n.lang, Object.assign({ timeZone: i18n.tz }, formats[kind])).format(d);
  }

  class SignedOut extends Error {}

  // Everything the portal keeps on the device: its caches and its service worker.
  async function wipe() {
    if (window.caches) {
      for (const name of await caches.keys()) if (name.startsWith("portal")) await caches.delete(name);
    }
    if (navigator.serviceWorker) {
      for (const reg of await navigator.serviceWorker.getRegistrations()) await reg.unregister();
    }
    try { localStorage.clear(); } catch (e) { /* private mode */ }
  }

  async function api(url, options = {}) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options);
    if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = csrf();
    if (opts.json !== undefined) {  // a FormData body sets its own Content-Type
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    opts.headers["Accept"] = "application/json";
    const r = await fetch(url, opts);
    if (r.status === 401) {
      const body = await r.json().catch(() => ({}));
      if (body.signed_out) { await wipe(); window.location.assign("/p/signin"); throw new SignedOut(_("signed out")); }
    }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { const e = new Error(body.error || String(r.status)); e.status = r.status; e.body = body; throw e; }
    return body;
  }

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
    for (const c of children) if (c !== undefined && c !== null) e.append(c);
    return e;
  }

  return { api, el, wipe, when, gettext, ngettext, format, csrf, SignedOut, lang: i18n.lang, tz: i18n.tz };
})();
const _ = Portal.gettext;
const ngettext = Portal.ngettext;
