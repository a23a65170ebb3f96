// The page of a candidate list (templates/candidates/list.html) follows the live feed on the page's one
// connection: when the list changes (a delegate nominates or answers in their app, another member of
// staff acts: a "candidates" event naming the list) or its approval motion or election changes state
// ("ballot"), the table, the nominate form and the congress section are drawn again from the page
// itself. A part being edited (a field with the focus, an opened form) is left as it is and drawn once
// the edit is done.
(() => {
  const list = document.getElementById("list");
  if (!list) return;
  const lid = Number(list.dataset.list);
  const PARTS = ["candidate-rows", "nominate", "congress"];
  let waiting = false;

  const busy = (part) => part.querySelector("details[open]") !== null
    || (part.contains(document.activeElement) && document.activeElement !== document.body);

  // "12:open,15:draft": the motion's and the election's ballot ids with the state the page shows.
  function shownBallots() {
    const out = new Map();
    const box = document.getElementById("congress");
    for (const pair of ((box && box.dataset.ballots) || "").split(",").filter(Boolean)) {
      const [id, state] = pair.split(":");
      out.set(Number(id), state);
    }
    return out;
  }

  async function redraw() {
    const r = await fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!r.ok) return;
    const next = new DOMParser().parseFromString(await r.text(), "text/html");
    waiting = false;
    for (const id of PARTS) {
      const now = document.getElementById(id);
      const fresh = next.getElementById(id);
      if (now && busy(now)) { waiting = true; continue; }
      if (now && fresh) now.replaceWith(document.importNode(fresh, true));
      else if (now) now.remove(); // the list was put to the congress: no more nominations
    }
    list.dataset.drawn = String(Number(list.dataset.drawn || 0) + 1);
  }

  const refresh = Congress.debounce(() => redraw().catch(console.error), 250);
  const later = () => { if (waiting) refresh(); };
  document.addEventListener("focusout", () => setTimeout(later, 0));
  document.addEventListener("toggle", later, true);

  function onList(d) { if (d.list === lid) refresh(); }
  function onBallot(d) {
    const shown = shownBallots();
    if (shown.has(d.ballot) && d.status && d.status !== shown.get(d.ballot)) refresh();
  }
  Congress.live({ candidates: onList, ballot: onBallot, resync: refresh });

  // The nominate form's delegate search (the page carries no roster): a few letters, tones not needed,
  // ask the controller; choosing a delegate fills in their number (the name is taken from the roster).
  document.addEventListener("input", (ev) => { if (ev.target.id === "delegate-search") search(); });
  document.addEventListener("click", (ev) => {
    const pick = ev.target.closest("#delegate-results button[data-id]");
    if (!pick) return;
    document.getElementById("delegate-id").value = pick.dataset.id;
    const results = document.getElementById("delegate-results");
    results.replaceChildren(Congress.el("li", { class: "chosen" },
      _("Chosen: %(name)s (%(id)s)", { name: pick.dataset.name, id: pick.dataset.id })));
    document.getElementById("delegate-search").value = "";
  });
  let asked = 0;
  const search = Congress.debounce(async () => {
    const box = document.querySelector(".delegate-search");
    const q = document.getElementById("delegate-search").value.trim();
    const results = document.getElementById("delegate-results");
    const mine = ++asked;
    if (q.length < 2) { results.replaceChildren(); return; }
    let found;
    try {
      found = (await Congress.api(`${box.dataset.url}?q=${encodeURIComponent(q)}`)).delegates;
    } catch (e) { console.error(e); return; }
    if (mine !== asked) return; // a later search is on its way
    results.replaceChildren(...(found.length ? found.map((d) => {
      const li = Congress.el("li");
      li.append(Congress.el("button", { type: "button", class: "choice", "data-id": d.id, "data-name": d.name },
        `${d.name} · ${d.id}${d.delegation ? " · " + d.delegation : ""}`));
      return li;
    }) : [Congress.el("li", { class: "none" }, _("No delegate found."))]));
  }, 200);
})();
