// The portal's service worker (scope /p/): keeps the app shell for reading offline, and answers
// from the "portal-data" cache (programme, documents list, the delegate's document copies) when the
// network is gone. The page fills that cache (app.js: sync) and wipes every cache on sign-out or when
// the controller says the session has ended; Clear-Site-Data on those answers does the same.
"use strict";

const SHELL = "portal-shell-v1";
const DATA = "portal-data";
const SHELL_FILES = ["/p/", "/p/static/portal.css", "/p/static/portal.js", "/p/static/app.js", "/p/static/me.js", "/p/static/docs.js", "/p/static/notices.js",
  "/p/static/feedback.js", "/p/static/candidates.js",
  "/p/static/vendor/pdf.min.mjs", "/p/static/vendor/pdf.worker.min.mjs",
  "/p/static/icon.svg", "/p/manifest.webmanifest", "/static/fonts.css", "/fonts/NotoSans_400Regular.ttf",
  "/fonts/NotoSans_700Bold.ttf"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

function cacheable(url) {
  return url.origin === self.location.origin && url.pathname !== "/p/events" && !url.pathname.startsWith("/p/sign");
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || !cacheable(url)) return;
  // A document version never changes: answer from the cache when it is there.
  const immutable = /^\/d\/[^/]+\/v\/\d+\/file$/.test(url.pathname);
  event.respondWith((async () => {
    if (immutable) {
      const hit = await caches.match(url.pathname);
      if (hit) return hit;
    }
    try {
      const resp = await fetch(req);
      if (resp.status === 401) {
        // The session ended (signed out elsewhere, revoked): forget everything this device kept.
        for (const name of await caches.keys()) await caches.delete(name);
        return resp;
      }
      if (resp.ok && (url.pathname === "/p/" || url.pathname.startsWith("/p/static/"))) {
        const copy = resp.clone();
        caches.open(SHELL).then((c) => c.put(url.pathname === "/p/" ? "/p/" : req, copy));
      }
      return resp;
    } catch (offline) {
      const key = url.pathname === "/p/" ? "/p/" : req;
      const hit = (await caches.match(key, { ignoreSearch: url.pathname === "/p/" })) ||
        (await caches.match(url.pathname));
      if (hit) return hit;
      throw offline;
    }
  })());
});
