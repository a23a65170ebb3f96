// The delegate's own business: attendance confirmation, profile extras (face data, consent,
// corrections) and the results of closed ballots. Sections of App (app.js).
"use strict";

App.section("attendance", async () => {
  const { el } = App;
  const { answer } = await App.api("/p/api/attendance");
  const box = el("section", { class: "card", id: "attendance" }, el("h1", {}, _("Will you attend the congress?")));
  const state = el("p", { class: "status", role: "status", id: "attendance-state" });
  const show = (a) => {
    if (!a) { state.textContent = _("You have not answered yet."); return; }
    state.textContent = a.answer === "attending"
      ? _("You confirmed that you will attend (%(when)s).", { when: Portal.when(a.answered_at) })
      : _("You reported that you cannot attend (%(when)s): %(reason)s", { when: Portal.when(a.answered_at), reason: a.reason });
    state.className = "status ok";
  };
  show(answer);
  const yes = el("button", { type: "button", class: "primary", id: "confirm-attending" }, _("I will attend"));
  const reason = el("textarea", { id: "absent-reason", maxlength: "500" });
  const no = el("button", { type: "button", id: "report-absent" }, _("I cannot attend"));
  const error = el("p", { class: "error", role: "alert" });
  const send = async (attending) => {
    error.textContent = "";
    try { show((await App.api("/p/api/attendance", { method: "POST", json: { attending, reason: reason.value } })).answer); }
    catch (e) { error.textContent = e.message; }
  };
  yes.addEventListener("click", () => send(true));
  no.addEventListener("click", () => send(false));
  box.append(state, el("div", { class: "row" }, yes),
    el("label", { for: "absent-reason" }, _("If you cannot attend, say why")), reason,
    el("div", { class: "row" }, no), error);
  return box;
});

App.section("results", async () => {
  const { el } = App;
  const OPTION = { Yes: _("Yes"), No: _("No"), Abstain: _("Abstain") };
  const option = (o) => OPTION[o] || o;
  const { ballots } = await App.api("/p/api/results");
  const list = el("ul", { class: "list", id: "results" });
  for (const b of ballots) {
    const r = b.result || {};
    const item = el("li", { "data-ballot": b.id }, el("h2", {}, b.title),
      el("p", { class: "meta" }, [b.secret ? _("secret ballot") : _("named ballot"), Portal.when(b.closed_at)].join(" · ")));
    const counts = el("dl", { class: "facts" });
    for (const [o, n] of Object.entries(r.counts || {})) counts.append(el("dt", {}, option(o)), el("dd", {}, String(n)));
    item.append(counts);
    if (b.kind === "motion" && r.passed !== undefined && r.passed !== null) {
      item.append(el("p", { class: "status" }, r.passed ? _("Adopted") : _("Not adopted")));
    }
    if (b.kind === "election" && r.elected && r.elected.length) {
      item.append(el("p", { class: "status" }, _("Elected: %(names)s", { names: r.elected.join(", ") })));
    }
    if (b.mine) {
      item.append(el("p", { class: "mine" }, b.mine.invalid ? _("Your recorded vote: invalid")
        : _("Your recorded choice: %(choice)s", { choice: b.mine.choices.map(option).join(", ") || _("none") })));
    } else if (b.secret) {
      item.append(el("p", { class: "meta" }, b.voted ? _("You took part; a secret vote is not kept with your name.")
        : _("You did not take part.")));
    }
    list.append(item);
  }
  if (!ballots.length) list.append(el("li", {}, _("No ballot has been closed yet.")));
  return el("section", {}, el("h1", {}, _("Results")), list);
});

App.profileExtras = [async () => {
  const { el } = App;
  const p = await App.api("/p/api/profile");
  const face = el("section", { class: "card", id: "face" }, el("h2", {}, _("Face recognition at the door")),
    el("p", { id: "face-state" }, p.consent
      ? (p.face_enrolled ? _("You consented, and a face photo is enrolled.") : _("You consented; no face photo is enrolled."))
      : _("Badge only: no face data is kept for you.")));
  if (p.keypad) face.append(el("p", {}, _("Your keypad: %(keypad)s", { keypad: p.keypad })));
  if (p.consent) {
    const withdraw = el("button", { type: "button", id: "withdraw-consent" }, _("Withdraw my consent: badge only"));
    withdraw.addEventListener("click", async () => {
      if (!window.confirm(_("Your face data will be deleted now, and the door will know you by your badge only. Go on?"))) return;
      await App.api("/p/api/profile/consent", { method: "POST", json: { withdraw: true } });
      App.refresh();
    });
    face.append(withdraw);
  }
  const form = el("form", { class: "card", id: "correction" }, el("h2", {}, _("Ask for a correction")),
    el("label", { for: "correction-text" }, _("What is wrong in your data?")),
    el("textarea", { id: "correction-text", maxlength: "2000", required: "" }),
    el("button", { type: "submit" }, _("Send")), el("p", { class: "status", role: "status" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const status = form.querySelector(".status");
    try {
      await App.api("/p/api/profile/corrections", { method: "POST", json: { text: form.querySelector("textarea").value } });
      App.refresh();
    } catch (e) { status.textContent = e.message; }
  });
  const labels = { open: _("open"), done: _("done"), declined: _("declined") };
  if (p.corrections.length) {
    const list = el("ul", { class: "list" });
    for (const c of p.corrections) list.append(el("li", {}, c.text, el("p", { class: "meta" }, `${labels[c.status] || c.status} · ${Portal.when(c.created_at)}`)));
    form.append(list);
  }
  return el("div", { class: "stack" }, face, form);
}];
