// Now on the agenda, the programme, the documents the delegate may read, and the reader (pdf.js,
// served by the controller from its npm package). Sync: the programme, the documents list and every
// document's current version go into the "portal-data" cache, so the service worker can answer
// with them when the network is gone; the bar at the bottom shows the progress, and a sync cut by
// a dropped connection resumes where it stopped when the network is back.
"use strict";

const Docs = (() => {
  const DATA = "portal-data";
  let list = null;

  const current = (d) => d.versions.length ? d.versions[d.versions.length - 1].number : null;
  const fileUrl = (d) => `/d/${d.ref}/v/${current(d)}/file`;

  async function documents() {
    list = (await App.api("/d")).documents.filter((d) => !d.withdrawn);
    return list;
  }

  // --- sync for offline reading -------------------------------------------------------------------
  let syncing = false;
  let retry = null;

  function bar(done, total, text) {
    const box = document.getElementById("sync");
    box.hidden = false;
    document.getElementById("sync-text").textContent = text;
    const p = document.getElementById("sync-bar");
    p.max = Math.max(total, 1); p.value = done;
    box.dataset.done = String(done); box.dataset.total = String(total);
  }

  async function sync() {
    if (syncing || !window.caches) return;
    syncing = true;
    clearTimeout(retry);
    try {
      const cache = await caches.open(DATA);
      for (const url of ["/p/api/programme", "/d", "/p/api/notices", "/p/api/candidates"]) {
        if (Portal.leaving) return;
        const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (r.status === 401) { await Portal.wipe(); window.location.assign("/p/signin"); return; }
        if (r.ok) await cache.put(url, r);
      }
      const docs = (await (await cache.match("/d")).json()).documents.filter((d) => !d.withdrawn && d.file && current(d));
      const wanted = new Set(docs.map(fileUrl));
      for (const req of await cache.keys()) {  // versions replaced or withdrawn leave the device
        const path = new URL(req.url).pathname;
        if (path.startsWith("/d/") && path.endsWith("/file") && !wanted.has(path)) await cache.delete(req);
      }
      let done = 0;
      for (const d of docs) {
        if (Portal.leaving) return;
        if (!(await cache.match(fileUrl(d)))) {
          bar(done, docs.length, _("Saving documents for offline reading: %(done)s of %(total)s", { done, total: docs.length }));
          const r = await fetch(fileUrl(d), { credentials: "same-origin" });
          if (!r.ok) throw new Error(String(r.status));
          await cache.put(fileUrl(d), r);
        }
        done += 1;
      }
      bar(done, docs.length, ngettext("%(num)d document ready offline", "%(num)d documents ready offline", docs.length));
      document.getElementById("sync").dataset.state = "complete";
    } catch (e) {
      // Offline or the controller went away: keep what is saved and try again.
      document.getElementById("sync").dataset.state = "paused";
      document.getElementById("sync-text").textContent = _("Saving paused: no connection. It resumes by itself.");
      retry = setTimeout(sync, 15000);
    } finally {
      syncing = false;
    }
  }
  window.addEventListener("online", () => sync());

  // --- the reader --------------------------------------------------------------------------------
  let pdfjs = null;
  async function loadPdfJs() {
    if (!pdfjs) {
      pdfjs = await import("/p/static/vendor/pdf.min.mjs");
      pdfjs.GlobalWorkerOptions.workerSrc = "/p/static/vendor/pdf.worker.min.mjs";
    }
    return pdfjs;
  }

  // Paragraphs of a page from its text layer: lines close together form one paragraph.
  function paragraphs(items) {
    const lines = [];
    for (const it of items) {
      if (!it.str || !it.str.trim()) continue;
      const y = Math.round(it.transform[5]);
      const line = lines.find((l) => Math.abs(l.y - y) < 2);
      if (line) line.text += (line.text.endsWith(" ") ? "" : " ") + it.str;
      else lines.push({ y, h: Math.abs(it.transform[3]) || 10, text: it.str });
    }
    lines.sort((a, b) => b.y - a.y);
    const out = [];
    let last = null;
    for (const l of lines) {
      if (last && last.y - l.y < l.h * 1.9 && out.length) out[out.length - 1] += " " + l.text.trim();
      else out.push(l.text.trim());
      last = l;
    }
    return out;
  }

  async function reader(ref) {
    const { el } = App;
    const docs = list || await documents();
    const d = docs.find((x) => x.ref === ref);
    if (!d) return el("p", { class: "error" }, _("This document is not available to you."));
    const box = el("section", { class: "reader", "data-ref": ref },
      el("p", {}, el("a", { href: "#documents" }, _("Back to the documents"))),
      el("h1", {}, d.title), el("p", { class: "meta" }, _("Version %(number)s", { number: current(d) })));
    const pages = el("div", { class: "pages", id: "pages" });
    box.append(pages);
    const lib = await loadPdfJs();
    const r = await fetch(fileUrl(d), { credentials: "same-origin" });
    if (!r.ok) throw new Error(_("The document could not be loaded."));
    const data = new Uint8Array(await r.arrayBuffer());
    const pdf = await lib.getDocument({ data, isEvalSupported: false }).promise;
    box.dataset.pages = String(pdf.numPages);
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const viewport = page.getViewport({ scale: 1.5 });
      const canvas = el("canvas", { width: String(Math.floor(viewport.width)), height: String(Math.floor(viewport.height)),
        "aria-label": _("Page %(number)s", { number: n }), role: "img" });
      await page.render({ canvasContext: canvas.getContext("2d"), viewport, canvas }).promise;
      const text = await page.getTextContent();
      const paras = paragraphs(text.items);
      const block = el("div", { class: "page", "data-page": String(n) }, canvas);
      const ol = el("ol", { class: "paragraphs" });
      paras.forEach((p, i) => {
        const li = el("li", { "data-paragraph": String(i + 1) }, el("span", { class: "text" }, p));
        for (const hook of Docs.paragraphHooks) hook(li, { ref, version: current(d), page: n, paragraph: i + 1, excerpt: p });
        ol.append(li);
      });
      block.append(el("details", { class: "page-text" }, el("summary", {}, _("Text of page %(number)s", { number: n })), ol));
      pages.append(block);
    }
    const status = el("p", { class: "meta", id: "print-status", role: "status" });
    const print = el("button", { type: "button", id: "print", class: "no-print" }, _("Print"));
    print.addEventListener("click", async () => {
      status.textContent = "";
      // Report the pages for the staff's statistics, then print; offline the print goes ahead unreported.
      try {
        await App.api(`/p/api/documents/${ref}/printed`, { method: "POST", json: { pages: Number(box.dataset.pages) } });
        box.dataset.reported = "yes";
      } catch (e) {
        if (navigator.onLine && e.status !== undefined) status.textContent = e.message;
      }
      window.print();
    });
    pages.before(el("p", { class: "no-print" }, print), status);
    box.dataset.rendered = "yes";
    return box;
  }

  function docItem(d) {
    const { el } = App;
    const li = el("li", { "data-ref": d.ref },
      el("a", { href: `#doc/${d.ref}`, class: "doc-title" }, d.title),
      el("p", { class: "meta" }, [d.item ? _("Item %(number)s", { number: d.item.number }) : "",
        _("Version %(number)s", { number: current(d) })].filter(Boolean).join(" · ")));
    if (d.paper_only) li.append(el("p", { class: "meta" }, _("Confidential: on paper only")));
    return li;
  }

  return { documents, sync, reader, docItem, current, fileUrl, paragraphHooks: [] };
})();

App.section("now", async () => {
  const { el } = App;
  const [{ now }, docs] = await Promise.all([App.api("/p/api/programme"), Docs.documents()]);
  const box = el("section", { class: "card now", id: "now" });
  if (!now.item) {
    box.append(el("h1", {}, _("Nothing is on the agenda right now.")));
    return box;
  }
  box.append(el("p", { class: "meta" }, _("Now on the agenda")),
    el("h1", { id: "now-title" }, `${now.item.number}. ${now.item.title}`),
    el("p", { class: "meta" }, now.item.session || ""));
  const mine = docs.filter((d) => d.item && d.item.ref === now.item.ref);
  const ul = el("ul", { class: "list", id: "now-documents" });
  for (const d of mine) ul.append(Docs.docItem(d));
  if (!mine.length) ul.append(el("li", {}, _("No document for this item.")));
  box.append(el("h2", {}, _("Documents of this item")), ul);
  for (const hook of App.nowHooks || []) box.append(await hook(now.item));
  return box;
});

App.section("programme", async () => {
  const { el } = App;
  const [{ days, now }, docs] = await Promise.all([App.api("/p/api/programme"), Docs.documents()]);
  const box = el("section", { id: "programme" }, el("h1", {}, _("Programme")));
  for (const day of days) {
    box.append(el("h2", {}, [Portal.when(day.date + "T12:00:00Z", "date"), day.title].filter(Boolean).join(" · ")));
    for (const s of day.sessions) {
      const card = el("div", { class: "card" }, el("h3", {}, `${s.code} · ${s.title}`));
      if (s.starts_at) card.append(el("p", { class: "meta" }, Portal.when(s.starts_at)));
      const ol = el("ul", { class: "list" });
      for (const i of s.items) {
        const li = el("li", { class: now.item && now.item.ref === i.ref ? "current" : "", "data-item": i.ref },
          el("strong", {}, `${i.number}. `), i.title);
        const idocs = docs.filter((d) => d.item && d.item.ref === i.ref);
        if (idocs.length) {
          const sub = el("ul", { class: "sub" });
          for (const d of idocs) sub.append(el("li", {}, el("a", { href: `#doc/${d.ref}` }, d.title)));
          li.append(sub);
        }
        ol.append(li);
      }
      card.append(ol);
      box.append(card);
    }
  }
  if (!days.length) box.append(el("p", {}, _("The programme has not been published yet.")));
  return box;
});

App.section("documents", async () => {
  const { el } = App;
  const docs = await Docs.documents();
  const ul = el("ul", { class: "list", id: "documents" });
  for (const d of docs) ul.append(Docs.docItem(d));
  if (!docs.length) ul.append(el("li", {}, _("No document yet.")));
  return el("section", {}, el("h1", {}, _("Documents")), ul);
});

App.route("doc", (ref) => Docs.reader(ref));
App.on("agenda", () => { if (["now", "programme"].includes(App.current())) App.refresh(); });
App.on("documents", () => { Docs.sync(); if (["now", "programme", "documents"].includes(App.current())) App.refresh(); });
App.onStart(() => Docs.sync());
