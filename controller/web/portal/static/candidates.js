// Candidate lists: each list as the ballot numbers it (number, name, photo, biography), the delegate's
// own nominations (made by them or naming them, with the answer to give), and while a list is open for
// nominations a form to nominate a delegate or oneself. Readable offline: the list and its photos are
// saved in the "portal-data" cache whenever the section is drawn (and by the sync, docs.js), and the
// service worker answers from there when the network is gone.
"use strict";

(() => {
  const { el } = App;
  const DATA = "portal-data";
  const URL = "/p/api/candidates";
  const STATUS = { nominated: _("Waiting for the answer."), accepted: _("Accepted."), declined: _("Declined."),
    withdrawn: _("Withdrawn.") };

  async function keep(body) {
    if (!window.caches) return;
    try {
      const cache = await caches.open(DATA);
      await cache.put(URL, new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } }));
      for (const l of body.lists) {
        for (const c of l.candidates.concat(l.mine)) {
          if (Portal.leaving) return;
          if (c.photo && !(await cache.match(c.photo))) {
            const r = await fetch(c.photo, { credentials: "same-origin" });
            if (r.ok) await cache.put(c.photo, r);
          }
        }
      }
    } catch (e) { /* offline: what is saved stays */ }
  }

  function photo(c) {
    return c.photo
      ? el("img", { class: "photo", src: c.photo, alt: _("Photo of %(name)s", { name: c.name }), width: "96",
        height: "120", loading: "lazy" })
      : el("span", { class: "photo none", "aria-hidden": "true" });
  }

  function card(c) {
    const head = el("h3", {});
    if (c.number) head.append(el("span", { class: "no" }, String(c.number)), " ");
    head.append(el("span", { class: "name" }, c.name));
    const text = el("div", { class: "text" }, head);
    if (c.biography) text.append(el("p", { class: "bio" }, c.biography));
    return el("li", { class: "candidate", "data-candidate": String(c.id), "data-number": String(c.number || "") },
      photo(c), text);
  }

  // The nominee writes their own biography (until voting on the list begins).
  function ownBiography(c) {
    const id = `own-bio-${c.id}`;
    const text = el("textarea", { id, maxlength: "2000" });
    text.value = c.biography || "";
    const status = el("p", { class: "status", role: "status" });
    const form = el("form", { class: "own-bio" }, el("label", { for: id }, _("My biography (at most 2,000 characters)")),
      text, el("button", { type: "submit" }, _("Save my biography")), status);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await App.api(`/p/api/candidates/biography/${c.id}`, { method: "POST", json: { biography: text.value } });
        App.refresh();
      } catch (e) { status.textContent = navigator.onLine ? e.message : _("You are offline; try again when the network is back."); }
    });
    return el("details", { class: "own-bio" }, el("summary", {}, _("Write my biography")), form);
  }

  // The nominee sends their own photo (checked, reduced and sealed by the controller, as a staff upload).
  function ownPhoto(c) {
    const id = `own-photo-${c.id}`;
    const file = el("input", { id, name: "photo", type: "file", accept: "image/jpeg,image/png,image/webp,image/heic", required: "" });
    const status = el("p", { class: "status", role: "status" });
    const form = el("form", { class: "own-photo" }, el("label", { for: id }, _("My photo (JPEG, PNG, WebP or HEIC, at most 8 MB)")),
      file, el("button", { type: "submit" }, _("Send my photo")), status);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!file.files.length) { status.textContent = _("Choose a photo first."); return; }
      const data = new FormData();
      data.append("photo", file.files[0]);
      try {
        await App.api(`/p/api/candidates/own-photo/${c.id}`, { method: "POST", body: data });
        App.refresh();
      } catch (e) { status.textContent = navigator.onLine ? e.message : _("You are offline; try again when the network is back."); }
    });
    return el("details", { class: "own-photo" }, el("summary", {}, c.photo ? _("Change my photo") : _("Add my photo")), form);
  }

  function mine(c) {
    const li = card(c);
    const text = li.querySelector(".text");
    const who = c.is_me ? (c.by_me ? _("You nominated yourself.") : _("You are nominated."))
      : _("You nominated this delegate.");
    text.append(el("p", { class: "meta" }, who, " ", el("strong", {}, STATUS[c.status] || c.status)));
    if (c.can_answer) {
      const status = el("p", { class: "status", role: "status" });
      const send = async (accept) => {
        try {
          await App.api(`/p/api/candidates/answer/${c.id}`, { method: "POST", json: { accept } });
          App.refresh();
        } catch (e) { status.textContent = navigator.onLine ? e.message : _("You are offline; try again when the network is back."); }
      };
      const yes = el("button", { type: "button", class: "primary answer-accept" }, _("I accept to stand"));
      const no = el("button", { type: "button", class: "answer-decline" }, _("I decline"));
      yes.addEventListener("click", () => send(true));
      no.addEventListener("click", () => send(false));
      text.append(el("div", { class: "row" }, yes, no), status);
    }
    if (c.is_me && (c.status === "nominated" || c.status === "accepted")) text.append(ownBiography(c), ownPhoto(c));
    return li;
  }

  function nominateForm(list) {
    const form = el("form", { class: "card nominate", "data-list": String(list.id) },
      el("h3", {}, _("Nominate a candidate")));
    const searchId = `nominee-${list.id}`;
    const search = el("input", { id: searchId, type: "search", autocomplete: "off", maxlength: "100" });
    const results = el("ul", { class: "choices", "aria-label": _("Delegates found") });
    const chosen = el("p", { class: "status chosen", role: "status" });
    const bio = el("textarea", { id: `bio-${list.id}`, maxlength: "2000" });
    const status = el("p", { class: "status", role: "status" });
    let nominee = null;
    const choose = (d) => {
      nominee = d;
      chosen.textContent = d ? _("Nominee: %(name)s", { name: d.name }) : "";
      for (const b of results.querySelectorAll("button")) b.setAttribute("aria-pressed", String(d && b.dataset.id === d.id));
    };
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = search.value.trim();
        if (q.length < 2) { results.replaceChildren(); return; }
        try {
          const { delegates } = await App.api(`/p/api/candidates/delegates?q=${encodeURIComponent(q)}`);
          results.replaceChildren(...delegates.map((d) => {
            const b = el("button", { type: "button", class: "choice", "data-id": d.id, "aria-pressed": "false" },
              d.delegation ? `${d.name} · ${d.delegation}` : d.name);
            b.addEventListener("click", () => choose(d));
            return el("li", {}, b);
          }));
          if (!delegates.length) results.append(el("li", { class: "meta" }, _("Nobody found.")));
        } catch (e) { results.replaceChildren(el("li", { class: "error" }, e.message)); }
      }, 250);
    });
    const self = el("button", { type: "button", class: "nominate-self" }, _("Nominate myself"));
    self.addEventListener("click", () => choose({ id: Portal.me, name: _("yourself") }));
    form.append(el("label", { for: searchId }, _("Find a delegate by name, number or delegation")), search, results,
      el("div", { class: "row" }, self), chosen,
      el("label", { for: `bio-${list.id}` }, _("Short biography (at most 2,000 characters)")), bio,
      el("button", { type: "submit", class: "primary" }, _("Send the nomination")), status);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!nominee) { status.textContent = _("Choose the delegate you nominate first."); return; }
      try {
        await App.api(`/p/api/candidates/${list.id}/nominate`, { method: "POST",
          json: { delegate: nominee.id, biography: bio.value } });
        App.refresh();
      } catch (e) {
        status.textContent = navigator.onLine ? e.message : _("You are offline; try again when the network is back.");
      }
    });
    return form;
  }

  // A nomination, an answer, a list put to the congress or an election opened shows at once, unless a
  // nomination is being typed.
  const redraw = () => {
    if (App.current() !== "candidates") return;
    const typing = [...document.querySelectorAll("#candidate-lists form.nominate input, #candidate-lists form.nominate textarea")]
      .some((f) => f.value);
    if (!typing) App.refresh();
  };
  App.on("ballot", redraw);
  App.on("candidates", redraw);

  App.section("candidates", async () => {
    const body = await App.api(URL);
    Portal.me = body.me;
    keep(body);
    const box = el("section", { id: "candidate-lists" }, el("h1", {}, _("Candidates")));
    if (!body.lists.length) box.append(el("p", { class: "note" }, _("No candidate list yet.")));
    for (const l of body.lists) {
      const card_ = el("section", { class: "card candidate-list", "data-list": String(l.id) }, el("h2", {}, l.name));
      card_.append(el("p", { class: "meta" }, l.numbering === "vietnamese"
        ? _("Numbered in Vietnamese alphabetical order of given names.") : _("Numbered in the order of nomination.")));
      if (l.fixed) card_.append(el("p", { class: "meta" }, l.motion === "adopted"
        ? _("The congress adopted this list.") : _("This list is put to the congress.")));
      const ol = el("ol", { class: "candidates" }, ...l.candidates.map((c) => {
        const li = card(c);
        if (c.is_me && !l.started) li.querySelector(".text").append(ownBiography(c), ownPhoto(c));
        return li;
      }));
      if (!l.candidates.length) ol.append(el("li", { class: "meta" }, _("No candidate has accepted yet.")));
      card_.append(ol);
      if (l.mine.length) {
        card_.append(el("h3", {}, _("My nominations")), el("ul", { class: "candidates mine" }, ...l.mine.map(mine)));
      }
      if (l.open) card_.append(nominateForm(l));
      box.append(card_);
    }
    return box;
  });
})();
