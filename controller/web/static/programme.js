// Programme editor and hall projector: "now on the agenda" follows the live feed (event "agenda"),
// the roll call follows event "rollcall". Moving the agenda names the revision this page saw; a 409
// means another chair moved first, and the page shows the new state instead of overwriting it.
"use strict";

function showNow(state) {
  const title = document.getElementById("now-title");
  if (title) title.textContent = state.item ? `${state.item.number}. ${state.item.title}` : "\u00a0";
  const sess = document.getElementById("now-session");
  if (sess) sess.textContent = state.item ? state.item.session : "";
  const box = document.getElementById("now");
  if (box) box.dataset.revision = state.revision;
  document.querySelectorAll("tr[data-ref]").forEach((tr) => {
    tr.classList.toggle("current", !!state.item && tr.dataset.ref === state.item.ref);
  });
}

function showRollCall(rc) {
  const box = document.getElementById("rollcall");
  if (!box || rc.summoned === undefined) return;
  box.hidden = false;
  const set = (id, v) => { const e = document.getElementById(id); if (e) e.textContent = v; };
  set("rc-present", rc.present); set("rc-summoned", rc.summoned); set("rc-excused", rc.excused);
  set("rc-absent", rc.absent); set("rc-required", rc.quorum_required);
  const q = document.getElementById("rc-quorate");
  if (q) q.textContent = rc.quorate ? q.dataset.yes : q.dataset.no;
  const table = document.getElementById("rc-sites");  // one row per satellite site, when there are sites
  if (table && rc.sites) {
    table.hidden = rc.sites.length < 2;
    const n = Congress.number;
    table.tBodies[0].replaceChildren(...rc.sites.map((st) => {
      const tr = document.createElement("tr");
      for (const text of [st.site || table.dataset.central, n(st.present) + " / " + n(st.summoned),
        n(st.excused), n(st.absent)]) tr.appendChild(Congress.el("td", {}, String(text)));
      return tr;
    }));
  }
}

function showDocuments(docs) {  // the projector's list of the documents of the item on the agenda
  const list = document.getElementById("now-docs");
  if (!list || !docs) return;
  list.replaceChildren(...docs.map((d) => {
    const version = d.version ? _("v%(number)s", { number: d.version }) : "";  // (no template literal:
    const li = Congress.el("li", {}, version ? d.title + " · " + version : d.title);  // the extractor skips it)
    li.dataset.ref = d.ref;
    return li;
  }));
}

function programmePage() {
  const box = document.getElementById("now");
  const note = document.getElementById("now-conflict");
  document.querySelectorAll("button.move").forEach((b) => b.addEventListener("click", async () => {
    const r = await fetch(box.dataset.move, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content },
      body: JSON.stringify({ ref: b.dataset.ref, revision: Number(box.dataset.revision) }),
    });
    const body = await r.json();
    if (body.now) showNow(body.now);
    note.hidden = r.ok;
    if (!r.ok) note.textContent = body.error;
  }));
  // The roll call line follows a session opened on another page (by another chair, or the command line).
  const refreshRollCall = Congress.debounce(async () => showRollLine((await Congress.api(box.dataset.api)).rollcall), 300);
  Congress.live({ agenda: showNow, rollcall: refreshRollCall });
}

function showRollLine(rc) {
  const line = document.getElementById("rc-line");
  if (!line || !rc) return;
  line.hidden = false;
  line.textContent = _("Roll call of %(session)s: %(present)s present, %(excused)s absent with leave, %(absent)s absent without leave, of %(summoned)s summoned; quorum %(required)s",
    { session: rc.title, present: rc.present, excused: rc.excused, absent: rc.absent, summoned: rc.summoned,
      required: rc.quorum_required }) + " (" + (rc.quorate ? _("reached") : _("not reached")) + ")";
}

function hallProjector() {
  const api = document.body.dataset.api;
  async function refresh() {
    const data = await Congress.api(api);
    showNow(data.now);
    showDocuments(data.docs);
    if (data.rollcall) showRollCall(data.rollcall);
  }
  const later = Congress.debounce(refresh, 300);
  const es = Congress.live({ agenda: (s) => { showNow(s); later(); }, rollcall: later, documents: later });
  es.addEventListener("open", later);
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "programme") programmePage();
  if (page === "hall-projector") hallProjector();
});
