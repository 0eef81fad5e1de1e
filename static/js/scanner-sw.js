// The scanner's service worker. /scan/sw.js (registrations/checkin/views.py) sets SCANNER_CACHE,
// SCANNER_PAGE and SCANNER_ASSETS and then loads this file. The page and its files are cached so
// the scanner opens without a network; the API is never cached (the page keeps its own data in
// IndexedDB).
/* global SCANNER_CACHE, SCANNER_PAGE, SCANNER_ASSETS */
"use strict";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SCANNER_CACHE).then((cache) => cache.addAll(SCANNER_ASSETS)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("jubileum-scanner-") && key !== SCANNER_CACHE)
          .map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === SCANNER_PAGE) {
    // The page: fresh when online, the cached copy when not, or when the server cannot serve it
    // for now (its database gone for a moment: 503; a proxy before a restarting server: 502, 504).
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(SCANNER_CACHE).then((cache) => cache.put(SCANNER_PAGE, copy));
          } else if ([502, 503, 504].includes(response.status)) {
            return caches.match(SCANNER_PAGE).then((cached) => cached || response);
          }
          return response;
        })
        .catch(() => caches.match(SCANNER_PAGE)),
    );
    return;
  }
  if (SCANNER_ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});
