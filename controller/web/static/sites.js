// Sites page and its projector view: reload /api/sites when the live feed says something changed.
"use strict";

function sitesPage(projector) {
  const root = document.getElementById("sites");
  const setText = (id, v) => { const e = document.getElementById(id); if (e) e.textContent = v; };
  const n = Congress.number;
  const linkLabel = { up: _("link up"), down: _("link down"), unknown: _("never heard"), local: _("here") };

  function row(s) {
    const tr = Congress.el("tr", { "data-site": s.site, class: s.behind ? "behind" : "" });
    const cell = (text, cls) => tr.appendChild(Congress.el("td", cls ? { class: cls } : {}, String(text)));
    cell(s.name || s.site || _("Central venue"));
    if (projector) {
      cell(n(s.present) + " / " + n(s.summoned));
      if (s.link === "down" && s.link_since) cell(_("link down since %(time)s", { time: Congress.when(s.link_since) }), "link down");
      else cell(s.link === "up" || s.link === "local" ? "" : linkLabel[s.link], "link " + s.link);
      if (!s.backlog) cell("", "backlog");
      else if (s.stale) cell(_("behind: at least %(num)s", { num: n(s.backlog) }), "backlog");
      else cell(_("behind: %(num)s", { num: n(s.backlog) }), "backlog");
      return tr;
    }
    cell(n(s.present));
    cell(n(s.summoned));
    cell(linkLabel[s.link] || s.link, "link " + s.link);
    cell(Congress.when(s.link_since));
    cell(_("%(up)s of %(total)s online", { up: n(s.units_online), total: n(s.units) }));
    if (s.backlog === null) cell("–");
    else if (s.stale) cell(_("at least %(num)s, as of %(time)s", { num: n(s.backlog), time: Congress.when(s.backlog_at) }));
    else cell(n(s.backlog));
    return tr;
  }

  async function refresh() {
    const o = await Congress.api(root.dataset.api);
    setText("total-present", n(o.total.present));
    setText("total-summoned", n(o.total.summoned));
    if (o.quorum) {
      setText("quorum-required", n(o.quorum.required));
      setText("quorum-state", o.quorum.reached ? _("Quorum reached") : _("Quorum not reached"));
    }
    document.getElementById("site-rows").replaceChildren(...o.sites.map(row));
  }

  const later = Congress.debounce(refresh, 500);
  Congress.live({ checkin: later, attendance: later, device: later, site: later, resync: later });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "sites") sitesPage(false);
  if (page === "sites-projector") sitesPage(true);
});
