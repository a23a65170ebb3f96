// Ballot pages. The list (/ballots) swaps in fresh rows when a ballot is created, opened or closed.
// A ballot's page and its projector view follow the live feed: received/eligible counts, the
// countdown to the end of a timed ballot (in the venue's zone), and a reload when the ballot opens or
// closes (the server renders results and charts); the reload drops any notice from the address, so a
// "ballot open" notice never stays above a closed ballot.
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

  async function refresh() {
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
      const channels = { keypad: _("keypad"), paper: _("paper") };
      set("voted-count", b.progress.voted.length);
      set("voted", b.progress.voted.map((v) => `${v.name} (${channels[v.channel] || v.channel})`).join(", "));
    }
    if (b.progress.closes_at && countdown) { closesAt = new Date(b.progress.closes_at); tick(); }
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
