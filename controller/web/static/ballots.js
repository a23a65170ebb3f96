// Ballot page and projector view: follow the live feed and refresh the received/eligible counts;
// reload the page when the ballot opens or closes (the server renders results and charts).
"use strict";

(() => {
  const root = document.getElementById("ballot");
  if (!root || typeof Congress === "undefined") return;
  const id = Number(root.dataset.ballot);
  const set = (elId, v) => { const e = document.getElementById(elId); if (e) e.textContent = v; };

  async function refresh() {
    const b = await Congress.api(root.dataset.api);
    if (b.status !== root.dataset.status) { window.location.reload(); return; }
    set("received", b.progress.received);
    set("eligible", b.progress.eligible);
    set("not-heard-count", b.progress.not_heard.length);
    set("not-heard", b.progress.not_heard.join(", "));
  }

  const es = Congress.live({
    ballot: (ev) => { if (ev.ballot === id) refresh(); },
    resync: () => refresh(),
  });
  // Votes may have arrived between rendering the page and joining the feed.
  es.addEventListener("open", () => refresh());
})();
