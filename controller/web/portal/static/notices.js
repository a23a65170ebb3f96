// Notices from the organisers: the list (newest first, unread marked), the unread count on the tab,
// live arrivals over the delegate's stream, and "read" when the delegate opens one.
"use strict";

const Notices = (() => {
  let unread = 0;

  function count(n) {
    unread = n;
    const badge = document.getElementById("notice-count");
    badge.textContent = String(n);
    badge.hidden = n === 0;
    badge.setAttribute("aria-label", ngettext("%(num)d unread notice", "%(num)d unread notices", n));
  }

  async function refreshCount() {
    try { count((await App.api("/p/api/notices")).unread); } catch (e) { /* offline */ }
  }

  function item(n) {
    const { el } = App;
    const li = el("li", { class: n.read_at ? "" : "unread", "data-notice": String(n.id) });
    const head = el("button", { type: "button", class: "link notice-title", "aria-expanded": "false" },
      n.urgent ? `${_("Urgent")}: ${n.title}` : n.title);
    const body = el("div", { class: "notice-body", hidden: "" }, el("p", {}, n.body || ""),
      el("p", { class: "meta" }, Portal.when(n.sent_at)));
    head.addEventListener("click", async () => {
      body.hidden = !body.hidden;
      head.setAttribute("aria-expanded", String(!body.hidden));
      if (li.classList.contains("unread")) {
        li.classList.remove("unread");
        try { count((await App.api(`/p/api/notices/${n.id}/read`, { method: "POST" })).unread); } catch (e) { /* offline */ }
      }
    });
    li.append(head, body);
    return li;
  }

  App.section("notices", async () => {
    const { el } = App;
    const data = await App.api("/p/api/notices");
    count(data.unread);
    const ul = el("ul", { class: "list", id: "notices" });
    for (const n of data.notices) ul.append(item(n));
    if (!data.notices.length) ul.append(el("li", { class: "empty" }, _("No notice yet.")));
    return el("section", {}, el("h1", {}, _("Notices")), ul);
  });

  App.on("notice", (data) => {
    if (data.type !== "notice" || !data.notice) return;
    count(unread + 1);
    const list = document.getElementById("notices");
    if (list) {
      const empty = list.querySelector(".empty");
      if (empty) empty.remove();
      list.prepend(item(data.notice));
    }
    const toast = document.getElementById("toast");
    toast.textContent = data.notice.urgent ? `${_("Urgent")}: ${data.notice.title}` : data.notice.title;
    toast.hidden = false;
    setTimeout(() => { toast.hidden = true; }, 8000);
  });
  App.onStart(refreshCount);
  return { count };
})();
