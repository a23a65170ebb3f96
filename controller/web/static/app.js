// Controller page behaviour. Served from the controller itself (no CDN) and loaded with `defer`;
// there is no inline script anywhere, so the Content-Security-Policy can forbid it.
// Every state-changing fetch sends the page's CSRF token in the X-CSRF-Token header.
// Strings a person reads are written _("…") or ngettext("…", "…", n) with %(name)s parameters; the page
// carries their translations (script#i18n, see controller/web/i18n.py) and the venue's time zone.
"use strict";

const Congress = (() => {
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
  // Times in the venue's zone, 24-hour clock, in the page's language.
  const formats = {
    time: { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
    time_short: { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
    datetime: { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
      second: "2-digit", hourCycle: "h23" },
  };
  function when(iso, kind = "time") {
    if (!iso) return "";
    const d = iso instanceof Date ? iso : new Date(iso);
    if (Number.isNaN(d.getTime())) return "";
    return new Intl.DateTimeFormat(i18n.lang, Object.assign({ timeZone: i18n.tz }, formats[kind])).format(d);
  }
  function number(n) { return new Intl.NumberFormat(i18n.lang).format(n); }

  async function api(url, options = {}) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options);
    if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = csrf();
    opts.headers["Accept"] = "application/json";
    const r = await fetch(url, opts);
    if (r.status === 401) { window.location.assign("/login"); throw new Error(_("logged out")); }
    if (!r.ok) throw new Error(url + ": " + r.status);
    return r.json();
  }

  function el(tag, attrs = {}, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs = {}, text) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Live feed: ONE EventSource per page, however many scripts follow it (the hall screen runs the
  // programme's and the ballots' script: each adds its handlers to the same connection); the browser
  // reconnects by itself.
  let feed = null;
  function live(handlers) {
    if (feed === null) {
      const badge = document.getElementById("live-state");
      if (badge) badge.hidden = false; // only pages that follow the feed show its state
      feed = new EventSource("/events");
      feed.addEventListener("open", () => { if (badge) { badge.classList.remove("off"); badge.classList.add("on"); } });
      feed.addEventListener("error", () => { if (badge) { badge.classList.remove("on"); badge.classList.add("off"); } });
      const es = feed;
      window.addEventListener("beforeunload", () => es.close());
    } else if (feed.readyState === EventSource.OPEN) {
      // Joined after the connection opened: "open" again, so this script's resync runs too (the
      // others' refresh once more, which is harmless).
      setTimeout(() => feed.dispatchEvent(new Event("open")), 0);
    }
    for (const [name, fn] of Object.entries(handlers)) {
      feed.addEventListener(name, (ev) => fn(JSON.parse(ev.data)));
    }
    return feed;
  }

  function debounce(fn, ms) {
    let t = null;
    return () => { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  return { api, el, svg, live, debounce, gettext, ngettext, format, when, number, lang: i18n.lang, tz: i18n.tz };
})();
const _ = Congress.gettext;
const ngettext = Congress.ngettext;

// Values the API sends as short English words, as people read them (the same words as
// controller/web/labels.py, listed here so that the extractor finds them).
const LABELS = {
  in: _("in"), out: _("out"), face: _("face"), badge: _("badge"), "badge+face": _("badge + face"),
  attendant: _("attendant"), manual: _("by hand"), starting: _("starting"), ready: _("ready"), degraded: _("degraded"),
  stopping: _("stopping"), offline: _("offline"), silent: _("silent"), backlog: _("backlog"),
};
function label(value) { return LABELS[value] || value || ""; }
const COLOURS = { green: _("green: working"), amber: _("amber: check"), red: _("red: offline") };

// --- dashboard ----------------------------------------------------------------------------------
function dashboardPage() {
  const feed = document.getElementById("feed");
  const setText = (id, v) => { const e = document.getElementById(id); if (e) e.textContent = v; };

  function addRow(c) {
    const tr = Congress.el("tr", { class: "fresh" });
    const time = Congress.when(c.event_at);
    tr.append(Congress.el("td", { "data-time": c.event_at || "" }, time),
      Congress.el("td", {}, c.name || c.delegate_id),
      Congress.el("td", {}, c.delegation || ""),
      Congress.el("td", { class: c.direction }, label(c.direction)),
      Congress.el("td", {}, label(c.method)), Congress.el("td", {}, c.unit));
    feed.prepend(tr);
    while (feed.children.length > 50) feed.lastElementChild.remove();
  }

  function render(s) {
    const q = s.quorum;
    setText("present", q.present);
    setText("summoned", q.summoned);
    setText("required", q.present_summoned + " / " + q.required);
    setText("quorum", q.reached ? _("QUORUM") : _("NO QUORUM"));
    const tile = document.getElementById("quorum-tile");
    tile.classList.toggle("ok", q.reached);
    tile.classList.toggle("bad", !q.reached);
    setText("units", s.units.total + (s.units.alarms ? " · " + ngettext("%(num)d alarm", "%(num)d alarms", s.units.alarms) : ""));
    document.getElementById("units-tile").classList.toggle("bad", s.units.alarms > 0);
    feed.replaceChildren();
    for (const c of s.checkins.slice().reverse()) addRow(c);
  }

  const refresh = Congress.debounce(() => Congress.api("/api/summary").then(render).catch(console.error), 250);
  Congress.live({
    checkin: (d) => { for (const c of d.checkins || []) addRow(c); refresh(); },
    attendance: refresh, device: refresh, resync: refresh,
  });
}

// --- devices ------------------------------------------------------------------------------------
function devicesPage() {
  const body = document.getElementById("units");
  const dash = (v) => (v === null || v === undefined ? "—" : String(v));
  function render(d) {
    body.replaceChildren();
    if (!d.units.length) {
      const tr = Congress.el("tr", { class: "empty" });
      tr.append(Congress.el("td", { colspan: "12" }, _("No door unit has reported yet.")));
      body.append(tr);
    }
    for (const u of d.units) {
      const tr = Congress.el("tr", { "data-unit": u.unit_id, class: u.alarm ? "alarm" : "" });
      const ago = u.seconds_since_seen === null || u.seconds_since_seen === undefined ? "—"
        : _("%(seconds)s s ago", { seconds: u.seconds_since_seen });
      const status = Congress.el("td");
      status.append(Congress.el("span", { class: `status ${u.colour}` }, COLOURS[u.colour] || u.colour));
      const cells = [label(u.online ? u.state : "offline"), ago,
        dash(u.fps), dash(u.latency_ms), dash(u.outbox), dash(u.temperature_c), dash(u.rss_mb),
        dash(u.versions.software) + (u.versions.model ? " · " + u.versions.model : ""),
        dash(u.versions.gallery), u.alarm ? label(u.alarm) : _("ok")];
      tr.append(Congress.el("td", {}, u.unit_id), status);
      for (const c of cells) tr.append(Congress.el("td", {}, c));
      body.append(tr);
    }
  }
  function renderIngest(g) {
    if (!g || !document.getElementById("ingest")) return;
    const set = (id, v) => { document.getElementById(id).textContent = String(v); };
    const conn = document.getElementById("ingest-connected");
    const since = g.broker_since ? Congress.when(new Date(g.broker_since), "time") : "";
    conn.textContent = g.connected ? _("connected")
      : g.broker_state === "connecting" ? _("not reached since %(time)s; retrying", { time: since })
        : _("DISCONNECTED since %(time)s; retrying", { time: since });
    conn.className = g.connected ? "ok-msg" : "error";
    const n = Congress.number;
    const rejected = Object.values(g.rejected).reduce((a, b) => a + b, 0);
    set("ingest-received", n(g.received)); set("ingest-stored", n(g.stored)); set("ingest-duplicates", n(g.duplicates));
    set("ingest-rejected", n(rejected)); set("ingest-statuses", n(g.statuses));
    set("ingest-acks", n(g.acks_sent)); set("ingest-db-errors", n(g.db_errors));
    set("ingest-sum", _("Received = stored + duplicates + rejected + status reports (%(inflight)s still being stored).",
      { inflight: n(g.received - g.stored - g.duplicates - rejected - g.statuses) }));
  }
  const refresh = Congress.debounce(() => Congress.api("/api/devices")
    .then((d) => { render(d); renderIngest(d.ingest); }).catch(console.error), 250);
  Congress.live({ device: refresh, checkin: refresh, resync: refresh });
  setInterval(refresh, 10000); // "seconds ago" keeps counting between heartbeats
}

// --- attendance chart (SVG drawn here; no chart library) ---------------------------------------
// The line is the number present at each point (straight between points: the server sends the end of
// each interval, the first interval's start with nobody, and "now" as the last point, never later);
// bars under it are the arrivals in each interval, stacked per door; time ticks fall on round minutes
// of the venue's clock.
const TICK_SECONDS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const DOOR_COLOURS = ["#0b5cad", "#a66300", "#1f7a3a", "#7b3fa0", "#b3261e", "#00796b", "#5b6472"];

function attendancePage() {
  const box = document.getElementById("chart");
  const legend = document.getElementById("chart-doors");
  function draw(d) {
    const W = 900, H = 340, L = 52, R = 16, T = 16, B = 40, BARS = 70;
    const s = Congress.svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", "aria-hidden": "true" });
    const pts = d.series;
    box.replaceChildren(s);
    if (legend) legend.replaceChildren();
    if (!pts.length) { s.append(Congress.svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, _("No check-ins yet"))); return; }
    const top = Math.max(1, d.summoned, d.required, ...pts.map((p) => p.present));
    const raw = top / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = Math.max(1, [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw));
    const maxY = step * Math.ceil(top / step);
    const t0 = Date.parse(pts[0].t), t1 = Math.max(Date.parse(pts[pts.length - 1].t), t0 + 60000);
    const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
    const y = (v) => H - B - (v / maxY) * (H - T - B);
    for (let v = 0; v <= maxY; v += step) {
      s.append(Congress.svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
      s.append(Congress.svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, Congress.number(v)));
    }
    // ticks on round times of the venue clock (seconds shown below a minute apart), at most 7
    const span = (t1 - t0) / 1000;
    const every = TICK_SECONDS.find((sec) => span / sec <= 7) || 86400;
    const clock = (t) => {
      const [h, m, sec] = Congress.when(new Date(t), "time").split(":").map(Number);
      return h * 3600 + m * 60 + sec;
    };
    const tickKind = every < 60 ? "time" : "time_short";
    let first = t0 - (clock(t0) % every) * 1000 - (t0 % 1000);
    if (first < t0) first += every * 1000;
    for (let t = first; t <= t1; t += every * 1000) {
      s.append(Congress.svg("line", { x1: x(t), x2: x(t), y1: H - B, y2: H - B + 5, class: "tick" }));
      const edge = x(t) > W - R - 40 ? "end" : x(t) < L + 30 ? "start" : "middle"; // labels stay inside
      s.append(Congress.svg("text", { x: x(t), y: H - 14, "text-anchor": edge, class: "axis" },
        Congress.when(new Date(t), tickKind)));
    }
    // arrivals per interval, stacked per door, scaled to their own small band at the bottom
    const doors = [...new Set(pts.flatMap((p) => Object.keys(p.by_door || {})))].sort();
    const most = Math.max(1, ...pts.map((p) => p.arrivals || 0));
    for (let i = 1; i < pts.length; i++) {
      const xa = x(Date.parse(pts[i - 1].t)), xb = x(Date.parse(pts[i].t));
      let base = H - B;
      doors.forEach((door, k) => {
        const n = (pts[i].by_door || {})[door] || 0;
        if (!n) return;
        const h = (n / most) * BARS;
        s.append(Congress.svg("rect", { x: xa + 0.5, y: base - h, width: Math.max(1, xb - xa - 1), height: h,
          fill: DOOR_COLOURS[k % DOOR_COLOURS.length], class: "arrivals" }));
        base -= h;
      });
    }
    if (legend) {
      doors.forEach((door, k) => {
        const total = pts.reduce((a, p) => a + ((p.by_door || {})[door] || 0), 0);
        const li = Congress.el("li");
        li.append(Congress.el("span", { class: "swatch" }), document.createTextNode(
          _("%(door)s: %(count)s arrivals", { door, count: Congress.number(total) })));
        li.firstChild.style.background = DOOR_COLOURS[k % DOOR_COLOURS.length];
        legend.append(li);
      });
    }
    if (d.required > 0) {
      s.append(Congress.svg("line", { x1: L, x2: W - R, y1: y(d.required), y2: y(d.required), class: "quorum-line" }));
      s.append(Congress.svg("text", { x: L + 6, y: y(d.required) - 6, "text-anchor": "start", class: "axis" },
        _("quorum %(required)s", { required: d.required })));
    }
    const path = pts.map((p, i) => `${i ? "L" : "M"}${x(Date.parse(p.t)).toFixed(1)},${y(p.present).toFixed(1)}`).join(" ");
    s.append(Congress.svg("path", { d: path, class: "series" }));
    const last = pts[pts.length - 1];
    s.append(Congress.svg("circle", { cx: x(Date.parse(last.t)), cy: y(last.present), r: 4, class: "series-end" }));
    const now = document.getElementById("present");
    if (now) now.textContent = last.present;
  }
  const bucket = () => { const w = document.getElementById("bucket"); return w ? w.value : "auto"; };
  const refresh = Congress.debounce(() => Congress.api(`/api/attendance/timeline?bucket=${bucket()}`).then(draw).catch(console.error), 500);
  const pick = document.getElementById("bucket");
  if (pick) pick.addEventListener("change", refresh);
  refresh();
  Congress.live({ checkin: refresh, attendance: refresh, resync: refresh });
}

// --- audit --------------------------------------------------------------------------------------
function auditPage() {
  const out = document.getElementById("verify-result");
  document.getElementById("verify").addEventListener("click", () => {
    out.textContent = _("checking…");
    Congress.api("/api/audit/verify").then((r) => {
      out.textContent = r.ok ? _("intact: %(rows)s rows", { rows: r.rows })
        : _("BROKEN at row %(seq)s: %(reason)s", { seq: r.first_bad_seq, reason: r.reason });
      out.className = r.ok ? "ok-msg" : "error";
    }).catch((e) => { out.textContent = String(e); });
  });
}

// --- delegates: import progress -----------------------------------------------------------------
// Follows the live feed, and also asks the server once the feed is open and every 2 s while the page
// says "running": an import shorter than the page load finishes before the feed could report it.
function delegatesPage() {
  const job = document.getElementById("import-job");
  if (!job || job.dataset.running !== "yes") return;
  let done = false;
  const finish = () => { if (!done) { done = true; window.location.reload(); } };
  const show = (d) => {
    const bar = document.getElementById("import-progress");
    if (bar) { bar.max = d.total || 1; bar.value = d.done; }
    const count = document.getElementById("import-count");
    if (count) count.textContent = `${d.done} / ${d.total}`;
  };
  const ask = () => Congress.api("/api/delegates/import").then((s) => (s.running ? show(s) : finish())).catch(console.error);
  const es = Congress.live({ enrollment: (d) => (d.finished ? finish() : show(d)) });
  es.addEventListener("open", ask);
  const timer = setInterval(() => (done ? clearInterval(timer) : ask()), 2000);
  ask();
}

// --- attendant lane -----------------------------------------------------------------------------
function lanePage() {
  const list = document.getElementById("lane");
  function render(d) {
    list.replaceChildren();
    if (!d.pending.length) list.append(Congress.el("p", { class: "hint" }, _("Nobody is waiting.")));
    for (const p of d.pending) {
      const card = Congress.el("div", { class: "lane-card", "data-id": String(p.id) });
      if (p.photo_url) card.append(Congress.el("img", { src: p.photo_url, alt: _("enrolled photo"), class: "face" }));
      const info = Congress.el("div", { class: "info" });
      info.append(Congress.el("strong", {}, p.name || p.delegate_id),
        Congress.el("span", {}, _("%(delegation)s · door %(door)s · score %(score)s",
          { delegation: p.delegation || "", door: p.door || p.unit, score: p.score ?? "—" })));
      const yes = Congress.el("button", { type: "button", class: "confirm" }, _("Let in"));
      const no = Congress.el("button", { type: "button", class: "reject" }, _("Refuse"));
      yes.addEventListener("click", () => decide(p.id, "confirm"));
      no.addEventListener("click", () => decide(p.id, "reject"));
      card.append(info, yes, no);
      list.append(card);
    }
  }
  function decide(id, what) {
    Congress.api(`/lane/${id}/${what}`, { method: "POST" }).then(refresh).catch((e) => alert(String(e)));
  }
  const refresh = Congress.debounce(() => Congress.api("/api/lane").then(render).catch(console.error), 200);
  refresh();
  Congress.live({ lane: refresh, checkin: refresh, resync: refresh });
}

// --- projector: roll call -----------------------------------------------------------------------
function projectorAttendancePage() {
  const set = (id, v) => { const e = document.getElementById(id); if (e) e.textContent = v; };
  function render(q) {
    const present = q.present_summoned, summoned = q.summoned;
    set("summoned", Congress.number(summoned));
    set("present", Congress.number(present));
    set("absent", Congress.number(Math.max(0, summoned - present)));
    const state = document.getElementById("quorum-state");
    state.firstChild.textContent = (q.reached ? _("Quorum reached") : _("Quorum not reached")) + " ";
    state.classList.toggle("ok", q.reached);
    state.classList.toggle("bad", !q.reached);
    const of = Math.max(1, summoned);
    document.getElementById("quorum-fill").style.width = `${(100 * present) / of}%`;
    document.getElementById("quorum-mark").style.left = `${(100 * q.required) / of}%`;
  }
  const f = document.getElementById("figures").dataset;
  render({ present_summoned: Number(f.present), summoned: Number(f.summoned), required: Number(f.required),
    reached: document.getElementById("quorum-state").classList.contains("ok") });
  const tick = () => set("clock", Congress.when(new Date(), "time"));
  tick();
  setInterval(tick, 1000);
  const refresh = Congress.debounce(() => Congress.api("/api/summary").then((s) => render(s.quorum)).catch(console.error), 250);
  Congress.live({ checkin: refresh, attendance: refresh, resync: refresh });
}

document.addEventListener("DOMContentLoaded", () => {
  const pages = { dashboard: dashboardPage, devices: devicesPage, attendance: attendancePage,
    audit: auditPage, delegates: delegatesPage, lane: lanePage, "projector-attendance": projectorAttendancePage };
  const fn = pages[document.body.dataset.page];
  if (fn) fn();
});
