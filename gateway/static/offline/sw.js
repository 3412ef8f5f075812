/* The screens' service worker (served at /sw.js, scope /): the bench and counter pages open with the network cut.

   Pages, partials and reference data of the offline areas (GET under /bench/ and /pharmacy/: the page with its tests
   and recipes, the worklist, a looked-up visit) and the static assets are fetched from the network first, stored when
   they come, and served from the cache when the network fails or is too slow. Nothing is sent from here: POSTs pass
   through, and the page's outbox (static/outbox.js, IndexedDB) keeps and replays what could not be sent. */
"use strict";

var VERSION = "v1";
var PAGES = "hospital-pages-" + VERSION;
var ASSETS = "hospital-assets-" + VERSION;
var AREAS = ["/bench/", "/pharmacy/"];
var PRECACHE = ["/static/screens.css", "/static/screens.js", "/static/outbox.js", "/static/favicon.svg",
                "/static/vendor/htmx-2.0.11.min.js"];
var NETWORK_TIMEOUT_MS = 8000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(ASSETS).then(function (cache) { return cache.addAll(PRECACHE); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf("hospital-") === 0 && name !== PAGES && name !== ASSETS; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function inOfflineArea(url) {
  return AREAS.some(function (prefix) { return url.pathname.indexOf(prefix) === 0; });
}

/* The network's answer (stored when it is a page of ours, not a sign-in redirect), else the stored one. */
function networkFirst(request, cacheName) {
  var fromNetwork = fetch(request).then(function (response) {
    var signIn = response.redirected && new URL(response.url).pathname.indexOf("/sign-in") === 0;
    if (response.status === 200 && !signIn) {
      var copy = response.clone();
      caches.open(cacheName).then(function (cache) { return cache.put(request, copy); });
    }
    return response;
  });
  var slow = new Promise(function (resolve, reject) { setTimeout(reject, NETWORK_TIMEOUT_MS); });
  return Promise.race([fromNetwork, slow]).catch(function () {
    return caches.match(request).then(function (stored) { return stored || fromNetwork; });
  }).catch(function () { return Response.error(); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) { event.respondWith(networkFirst(request, ASSETS)); }
  else if (inOfflineArea(url)) { event.respondWith(networkFirst(request, PAGES)); }
});
