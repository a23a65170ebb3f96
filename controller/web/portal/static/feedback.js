// Feedback: a comment on any paragraph of a document, a request to speak and a written contribution
// for the item on the agenda, surveys, and the status of everything the delegate sent.
"use strict";

(() => {
  const { el } = App;
  const STATUS = { received: _("received"), read: _("read"), taken_up: _("taken up"), declined: _("declined") };

  // Under every paragraph of the reader: "Comment" opens a small form anchored to that paragraph.
  Docs.paragraphHooks.push((li, anchor) => {
    const open = el("button", { type: "button", class: "link comment-open" }, _("Comment"));
    open.addEventListener("click", () => {
      if (li.querySelector("form")) return;
      const text = el("textarea", { maxlength: "5000", required: "", "aria-label": _("Your comment on this paragraph") });
      const status = el("p", { class: "status", role: "status" });
      const form = el("form", { class: "comment-form" }, text, el("button", { type: "submit" }, _("Send the comment")), status);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        try {
          await App.api("/p/api/comments", { method: "POST", json: Object.assign({ document: anchor.ref, text: text.value,
            excerpt: anchor.excerpt.slice(0, 300) }, { version: anchor.version, page: anchor.page, paragraph: anchor.paragraph }) });
          form.replaceChildren(el("p", { class: "status ok" }, _("Thank you: your comment was sent.")));
        } catch (e) { status.textContent = e.message; }
      });
      li.append(form);
      text.focus();
    });
    li.append(" ", open);
  });

  // On "Now": ask to speak on the item, and send a written contribution for it.
  App.nowHooks = App.nowHooks || [];
  App.nowHooks.push(async (item) => {
    const box = el("div", { class: "stack" });
    const speak = el("section", { class: "card", id: "speak" }, el("h2", {}, _("Speak on this item")));
    const state = el("p", { class: "status", role: "status", id: "speak-state" });
    const button = el("button", { type: "button", class: "primary", id: "speak-button" });
    let mine = null;
    const show = (r) => {
      mine = r;
      if (!r) { state.textContent = ""; button.textContent = _("Ask to speak"); return; }
      state.textContent = r.status === "speaking" ? _("You have the floor.")
        : _("You are on the list of speakers (place %(place)s).", { place: r.place || "?" });
      state.className = "status ok";
      button.textContent = _("Withdraw my request");
    };
    button.addEventListener("click", async () => {
      try { show((await App.api(`/p/api/speak/${item.ref}`, { method: "POST", json: { withdraw: Boolean(mine) } })).request); }
      catch (e) { state.textContent = e.message; }
    });
    try { show((await App.api(`/p/api/speak/${item.ref}`)).request); } catch (e) { show(null); }
    speak.append(state, button);

    const form = el("form", { class: "card", id: "contribution" }, el("h2", {}, _("Written contribution")),
      el("label", { for: "contribution-title" }, _("Title")), el("input", { id: "contribution-title", name: "title", maxlength: "200" }),
      el("label", { for: "contribution-text" }, _("Text")), el("textarea", { id: "contribution-text", name: "text" }),
      el("label", { for: "contribution-pdf" }, _("or a PDF file")),
      el("input", { id: "contribution-pdf", name: "pdf", type: "file", accept: "application/pdf" }),
      el("button", { type: "submit" }, _("Send the contribution")), el("p", { class: "status", role: "status" }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      data.append("item", item.ref);
      const status = form.querySelector(".status");
      try {
        await App.api("/p/api/contributions", { method: "POST", body: data });
        form.reset();
        status.textContent = _("Thank you: your contribution was sent.");
        status.className = "status ok";
      } catch (e) { status.textContent = e.message; }
    });
    box.append(speak, form);
    return box;
  });

  App.section("feedback", async () => {
    const data = await App.api("/p/api/feedback");
    const box = el("div", { class: "stack", id: "my-feedback" }, el("h1", {}, _("My feedback")));
    for (const s of data.surveys) {
      const card = el("form", { class: "card survey", "data-survey": String(s.id) }, el("h2", {}, s.question));
      s.options.forEach((o, i) => {
        const id = `survey-${s.id}-${i}`;
        card.append(el("label", { for: id, class: "choice" },
          el("input", { type: "radio", name: "choice", value: String(i), id, checked: s.mine === i ? "" : null }), ` ${o}`));
      });
      const status = el("p", { class: "status", role: "status" }, s.mine !== null ? _("You answered; you may change your answer.") : "");
      card.append(el("button", { type: "submit" }, _("Answer")), status);
      card.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const picked = card.querySelector("input:checked");
        if (!picked) return;
        try {
          await App.api(`/p/api/surveys/${s.id}`, { method: "POST", json: { choice: Number(picked.value) } });
          status.textContent = _("Thank you for your answer."); status.className = "status ok";
        } catch (e) { status.textContent = e.message; }
      });
      box.append(card);
    }
    const comments = el("ul", { class: "list", id: "my-comments" });
    for (const c of data.comments) {
      comments.append(el("li", {}, el("p", {}, c.text),
        el("p", { class: "meta" }, `${c.document} · ${_("page %(page)s, paragraph %(paragraph)s", { page: c.page, paragraph: c.paragraph })} · ${STATUS[c.status] || c.status}`)));
    }
    if (!data.comments.length) comments.append(el("li", {}, _("You have not commented yet.")));
    const contribs = el("ul", { class: "list", id: "my-contributions" });
    for (const c of data.contributions) {
      contribs.append(el("li", {}, el("p", {}, c.title || c.item),
        el("p", { class: "meta" }, `${c.item} · ${Portal.when(c.created_at)} · ${STATUS[c.status] || c.status}`)));
    }
    if (!data.contributions.length) contribs.append(el("li", {}, _("You have not sent a contribution yet.")));
    box.append(el("section", {}, el("h2", {}, _("My comments")), comments),
      el("section", {}, el("h2", {}, _("My contributions")), contribs));
    return box;
  });
})();
