// Ballot pages. The list (/ballots) swaps in fresh rows when a ballot is created, opened or closed.
// A ballot's page and its projector view follow the live feed: received/eligible counts, the
// countdown to the end of a timed ballot (in the venue's zone), and a reload when the ballot opens or
// closes (the server renders results and charts); the reload drops any notice from the address, so a
// "ballot open" notice never stays above a closed ballot.
// A ballot's live events carry counts only (they reach the delegates' tablets too); on each, the page
// reads the ballot's progress over the API, which for a named ballot names who has voted and who has
// not. The projector (and /hall) shows those names in the room its screen has left: who has not voted
// by name while they fit (at most data-names-max), else as counts per delegation, the most first, as
// many as fit and one line for the rest; never past the bottom of the screen.
"use strict";

(() => {
  if (typeof Congress === "undefined") return;
  const rows = document.getElementById("ballot-rows");
  if (rows) {
    const reload = Congress.debounce(async () => {
      const r = await fetch(rows.dataset.rows, { credentials: "same-origin" });
      if (r.ok) rows.innerHTML = await r.text();
    }, 200);
    const es = Congress.live({ ballot: (ev) => { if (ev.status && !("received" in ev)) reload(); }, resync: reload });
    es.addEventListener("open", reload);
  }

  // The hall screen (/hall) shows whatever is current: a ballot opening or closing, or the agenda
  // moving on, loads it again.
  const hall = document.body.dataset.hall === "1";
  const root = document.getElementById("ballot");
  if (hall && !root) {
    Congress.live({ ballot: (ev) => { if (ev.status === "open") window.location.reload(); } });
    return;
  }
  if (!root) return;
  const id = Number(root.dataset.ballot);
  const set = (elId, v) => { const e = document.getElementById(elId); if (e) e.textContent = v; };
  const fresh = () => window.location.replace(window.location.pathname + (
    new URLSearchParams(window.location.search).get("lang") ? "?lang=" + new URLSearchParams(window.location.search).get("lang") : ""));

  const countdown = document.getElementById("countdown");
  let closesAt = countdown ? new Date(countdown.dataset.closes) : null;
  function tick() {
    if (!closesAt) return;
    const left = Math.max(0, Math.ceil((closesAt.getTime() - Date.now()) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    const pad = (n) => String(n).padStart(2, "0");
    set("time-left", h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`);
    set("closes-at", Congress.when(closesAt, "time"));
  }
  if (countdown) { tick(); setInterval(tick, 1000); }

  // The projector's roll of a named ballot (#roll-live): fitted to the screen at every update.
  const roll = document.getElementById("roll-live");
  const channels = { keypad: _("keypad"), paper: _("paper") };
  const overflows = (e) => e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1;
  let lastProgress = null;
  function renderRoll(p) {
    if (!roll || !p || !p.not_voted) return;
    lastProgress = p;
    const line = document.getElementById("voted-line");
    const byChannel = (c) => p.voted.filter((v) => v.channel === c).length;
    const counts = () => _("Voted: %(keypad)s by keypad, %(paper)s on paper",
      { keypad: byChannel("keypad"), paper: byChannel("paper") });
    if (!p.voted.length) line.textContent = "";
    else if (p.voted.length <= 30) {
      line.textContent = _("Voted: %(names)s", { names: p.voted.map((v) => `${v.name} (${channels[v.channel] || v.channel})`).join(", ") });
      if (overflows(line)) line.textContent = counts();
    } else line.textContent = counts();
    const n = p.not_voted.length;
    document.getElementById("not-voted-head").textContent =
      ngettext("%(num)d delegate has not voted yet", "%(num)d delegates have not voted yet", n);
    const list = document.getElementById("not-voted-list");
    const max = Number(roll.dataset.namesMax || 0);
    if (n && n <= max) {
      list.className = "not-voted-list names";
      list.replaceChildren(...p.not_voted.map((name) => Congress.el("li", {}, name)));
      if (!overflows(list)) return;
    }
    // Counts per delegation, the most first; the ones that do not fit go into one last line.
    list.className = "not-voted-list groups";
    const groups = p.not_voted_groups || [];
    const item = (g) => {
      const li = Congress.el("li");
      li.append(Congress.el("span", { class: "group" }, g.group || _("no delegation")), " ",
        Congress.el("span", { class: "n" }, Congress.number(g.count)));
      return li;
    };
    list.replaceChildren(...groups.map(item));
    let shown = groups.length;
    while (shown > 0 && overflows(list)) {
      shown -= 1;
      const rest = groups.slice(shown);
      const others = rest.reduce((a, g) => a + g.count, 0);
      list.replaceChildren(...groups.slice(0, shown).map(item), Congress.el("li", { class: "more" },
        ngettext("%(groups)s more delegations: %(num)d delegate", "%(groups)s more delegations: %(num)d delegates",
          others, { groups: rest.length })));
    }
    if (overflows(list)) list.replaceChildren();  // not even one line fits: the count above says it all
  }
  if (roll) {
    // The page as the server drew it: fit it once the fonts are in, and again when the window changes.
    const drawn = () => {
      const list = document.getElementById("not-voted-list");
      if (lastProgress) renderRoll(lastProgress);
      else if (overflows(list)) refresh();
    };
    if (document.fonts) document.fonts.ready.then(drawn);
    window.addEventListener("resize", Congress.debounce(drawn, 200));
  }

  // One request at a time: events that arrive meanwhile make one more read once it is done.
  let reading = null, again = false;
  function refresh() {
    if (reading) { again = true; return reading; }
    reading = read().catch(console.error).finally(() => {
      reading = null;
      if (again) { again = false; refresh(); }
    });
    return reading;
  }

  async function read() {
    const b = await Congress.api(root.dataset.api);
    if (b.status !== root.dataset.status) { fresh(); return; }
    set("received", b.progress.received);
    set("eligible", b.progress.eligible);
    set("not-heard-count", b.progress.not_heard.length);
    set("not-heard", b.progress.not_heard.join(", "));
    if (b.progress.present !== undefined) set("present", b.progress.present);
    if (b.progress.not_voted) {
      set("not-voted-count", b.progress.not_voted.length);
      set("not-voted", b.progress.not_voted.join(", "));
    }
    if (b.progress.voted) {  // a named ballot's voters, each with the channel: keypad or paper
      set("voted-count", b.progress.voted.length);
      set("voted", b.progress.voted.map((v) => `${v.name} (${channels[v.channel] || v.channel})`).join(", "));
    }
    if (b.progress.closes_at && countdown) { closesAt = new Date(b.progress.closes_at); tick(); }
    renderRoll(b.progress);
  }

  const es = Congress.live({
    ballot: (ev) => {
      if (ev.ballot === id) refresh();
      else if (hall && ev.status === "open") window.location.reload();  // the next ballot takes the screen
    },
    agenda: () => { if (hall) window.location.reload(); },
    resync: () => refresh(),
  });
  // Votes may have arrived between rendering the page and joining the feed.
  es.addEventListener("open", () => refresh());
})();
