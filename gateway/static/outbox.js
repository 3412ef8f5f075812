/* The browser outbox: a stock or money form that cannot reach the server is kept in this browser and sent later.

   A form marked <form data-outbox="<what it records>" data-outbox-summary="field,field"> with a submission id
   (<input name="submission_id" data-submission-id>, the API's Idempotency-Key) is sent by htmx as usual; while the
   browser is offline, or when the request fails for want of network, its fields go into IndexedDB instead. Replay
   runs on reconnect, on page load, every RETRY_MS while items wait and from the "Gửi lại" button: oldest first, one
   at a time, each with its own submission id, so a replay of something the server already did gets the first
   answer back, never a second run. Two tabs never send the same item: the replay holds a Web Lock (Chromium,
   Firefox, Safari), and each item is claimed in IndexedDB with a lease before it is sent (browsers without locks).
   Each item is pending, sent or refused; a refusal keeps the server's explanation until the person acts on it.
   A look-up (a form, or a button with data-offline-values) marked data-offline-template="<template id>" shows that
   template instead when it cannot reach the server, so the person can go on logging. The panel ([data-outbox-panel], common/_outbox.html) holds
   the words in the person's language. Plain ES5 + Promises, no build step. */
(function () {
  "use strict";

  var DB_NAME = "hospital-outbox", STORE = "items", LOCK = "hospital-outbox-replay";
  var LEASE_MS = 30000, RETRY_MS = 15000, KEEP_SENT_MS = 24 * 3600 * 1000, SHOWN_SENT = 10;
  var SYNCED_KEY = "hospital-outbox-synced";
  var tab = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var panel = null, dbOpening = null, replaying = null;
  var others = window.BroadcastChannel ? new BroadcastChannel(DB_NAME) : null;  /* the other tabs re-render */

  function words(name) { return (panel && panel.getAttribute("data-text-" + name)) || name; }

  /* ---- IndexedDB: one store of items, keyed by their order of arrival (seq), unique by submission id ---- */
  function db() {
    if (!dbOpening) {
      dbOpening = new Promise(function (resolve, reject) {
        var opening = indexedDB.open(DB_NAME, 1);
        opening.onupgradeneeded = function () {
          var store = opening.result.createObjectStore(STORE, {keyPath: "seq", autoIncrement: true});
          store.createIndex("id", "id", {unique: true});
        };
        opening.onsuccess = function () { resolve(opening.result); };
        opening.onerror = function () { reject(opening.error); };
      });
    }
    return dbOpening;
  }

  /* Run work(store, done) in one transaction; resolve with what it passed to done() once the transaction commits. */
  function inTransaction(mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var transaction = database.transaction(STORE, mode), result;
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = transaction.onabort = function () { reject(transaction.error); };
        work(transaction.objectStore(STORE), function (value) { result = value; });
      });
    });
  }

  function allItems() {
    return inTransaction("readonly", function (store, done) {
      store.getAll().onsuccess = function (event) { done(event.target.result); };
    });
  }

  function add(item) {
    return inTransaction("readwrite", function (store, done) {
      var existing = store.index("id").get(item.id);
      existing.onsuccess = function () {
        if (!existing.result) { store.add(item); }
        done(!existing.result);
      };
    });
  }

  /* Change the item with this seq (its claim is released). */
  function update(seq, changes) {
    return inTransaction("readwrite", function (store, done) {
      var reading = store.get(seq);
      reading.onsuccess = function () {
        var item = reading.result;
        if (!item) { done(null); return; }
        Object.keys(changes).forEach(function (key) { item[key] = changes[key]; });
        item.claimed_by = null;
        item.claimed_until = 0;
        store.put(item);
        done(item);
      };
    });
  }

  /* Claim the oldest pending item for this tab, unless another tab holds it under a lease (then wait: in order). */
  function claimNext() {
    return inTransaction("readwrite", function (store, done) {
      var now = Date.now();
      store.openCursor().onsuccess = function (event) {
        var cursor = event.target.result;
        if (!cursor) { done(null); return; }
        var item = cursor.value;
        if (item.state !== "pending") { cursor["continue"](); return; }
        if (item.claimed_by && item.claimed_by !== tab && item.claimed_until > now) { done(null); return; }
        item.claimed_by = tab;
        item.claimed_until = now + LEASE_MS;
        cursor.update(item);
        done(item);
      };
    });
  }

  function forgetOldSent() {
    return inTransaction("readwrite", function (store, done) {
      var before = Date.now() - KEEP_SENT_MS;
      store.openCursor().onsuccess = function (event) {
        var cursor = event.target.result;
        if (!cursor) { done(); return; }
        if (cursor.value.state === "sent" && cursor.value.settled_at < before) { cursor["delete"](); }
        cursor["continue"]();
      };
    });
  }

  /* ---- forms ---- */
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (error) { return ""; }
  }

  function fieldsOf(form) {
    var fields = [];
    new FormData(form).forEach(function (value, name) { if (name !== "csrf_token") { fields.push([name, String(value)]); } });
    return fields;
  }

  /* What the item is, in words: data-outbox, then data-outbox-summary with each {field} replaced by its value. */
  function summary(form, fields) {
    var values = {};
    fields.forEach(function (pair) { values[pair[0]] = pair[1]; });
    var detail = (form.getAttribute("data-outbox-summary") || "").replace(/\{(\w+)\}/g, function (all, name) {
      return values[name] || "—";
    });
    return form.getAttribute("data-outbox") + (detail ? " · " + detail : "");
  }

  function submissionId(form) {
    var input = form.querySelector("[data-submission-id]");
    if (input && !input.value) { input.value = window.Screens.uuid4(); }
    return input ? input.value : null;
  }

  function outboxForm(element) {
    return element && element.closest ? element.closest("form[data-outbox]") : null;
  }

  function targetOf(element) {
    var selector = element.getAttribute("hx-target");
    return selector ? document.querySelector(selector) : null;
  }

  function notice(className, message) {
    var box = document.createElement("div");
    box.className = className;
    box.setAttribute("role", "status");
    box.textContent = message;
    return box;
  }

  /* Keep a form that could not be sent; the form starts afresh (a new submission id) for the next entry. */
  function keep(form) {
    var fields = form._outboxFields || fieldsOf(form);
    var id = submissionId(form);
    if (!id) { return; }
    if (!fields.some(function (pair) { return pair[0] === "submission_id"; })) { fields.push(["submission_id", id]); }
    var item = {id: id, url: form.getAttribute("hx-post") || form.getAttribute("action"), fields: fields,
                label: summary(form, fields), state: "pending", created_at: Date.now(), settled_at: 0,
                claimed_by: null, claimed_until: 0, message: "", note: ""};
    form._outboxFields = null;
    add(item).then(function () {
      var target = targetOf(form);
      if (target) {
        target.innerHTML = "";
        var saved = notice("warn", words("saved"));
        saved.setAttribute("data-queued", id);
        target.appendChild(saved);
      }
      window.Screens.freshForm(form);
      changed();
    });
  }

  /* A look-up that cannot reach the server shows its offline template (filled with what was typed) instead. */
  function offlineLookUp(form) {
    var template = document.getElementById(form.getAttribute("data-offline-template"));
    var target = targetOf(form);
    if (!template || !target) { return; }
    var typed = {};
    if (form.tagName === "FORM") {  /* as sent: the form may have been reset after the request (hx-on) */
      (form._lookUpFields || fieldsOf(form)).forEach(function (pair) { typed[pair[0]] = pair[1].trim(); });
    } else {
      try { typed = JSON.parse(form.getAttribute("data-offline-values") || "{}"); } catch (error) { typed = {}; }
    }
    var copy = template.content.cloneNode(true);
    copy.querySelectorAll("[data-fill]").forEach(function (element) {
      var value = typed[element.getAttribute("data-fill")] || "";
      if ("value" in element && element.tagName !== "LI") { element.value = value; } else { element.textContent = value; }
    });
    copy.querySelectorAll("[data-copy-rows]").forEach(function (list) {
      var selector = list.getAttribute("data-copy-rows").replace(/\{(\w+)\}/g, function (all, name) {
        return (typed[name] || "").replace(/[^\w-]/g, "");
      });
      document.querySelectorAll(selector).forEach(function (row) {
        var line = document.createElement("li");
        line.textContent = row.getAttribute("data-summary") || row.textContent.replace(/\s+/g, " ").trim();
        list.appendChild(line);
      });
      if (!list.children.length) { list.hidden = true; }
    });
    target.innerHTML = "";
    target.appendChild(copy);
    window.htmx.process(target);
    window.Screens.fillSubmissionIds(target);
    if (form.tagName === "FORM") { form.reset(); }
    var first = target.querySelector("[autofocus]");
    if (first) { first.focus(); }
  }

  /* A look-up: a form (its fields are what was typed) or a button (data-offline-values, JSON). */
  function offlineLookUpForm(element) {
    return element && element.closest ? element.closest("[data-offline-template]") : null;
  }

  /* Offline, a form of the outbox is kept at once; a look-up still goes out (the service worker may answer it
     from its store) and shows its offline template only when nothing answers (htmx:sendError). */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var lookUp = offlineLookUpForm(event.detail.elt), form = outboxForm(event.detail.elt);
    if (lookUp && lookUp.tagName === "FORM") { lookUp._lookUpFields = fieldsOf(lookUp); }
    if (!form) { return; }
    form._outboxFields = fieldsOf(form);
    if (navigator.onLine === false) {
      event.preventDefault();
      keep(form);
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = outboxForm(event.detail.elt), lookUp = offlineLookUpForm(event.detail.elt);
    if (form) { keep(form); } else if (lookUp) { offlineLookUp(lookUp); }
  });

  /* A form of the outbox that got through by itself (a refused item sent again from its own form) is settled. */
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = outboxForm(event.detail.elt), xhr = event.detail.xhr;
    if (!form || !xhr || !xhr.status) { return; }
    synced();
    if (xhr.status < 300) {
      var input = form.querySelector("[data-submission-id]");
      if (input && input.value) { settleById(input.value, {state: "sent", message: "", settled_at: Date.now()}); }
    }
  });

  function settleById(id, changes) {
    return allItems().then(function (items) {
      var found = items.filter(function (item) { return item.id === id; })[0];
      return found ? update(found.seq, changes).then(changed) : null;
    });
  }

  /* ---- replay ---- */
  function send(item) {
    var body = new URLSearchParams();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    body.append("csrf_token", csrfToken());
    return fetch(item.url, {method: "POST", body: body, credentials: "same-origin",
                            headers: {"HX-Request": "true", "X-CSRF-Token": csrfToken(), "X-Outbox-Replay": "true"}})
      .then(function (response) {
        return response.text().then(function (html) {
          return {status: response.status, html: html, redirect: response.headers.get("HX-Redirect"),
                  trigger: response.headers.get("HX-Trigger") || ""};
        });
      }, function () { return {status: 0}; });
  }

  /* What an answer means for the item: sent, refused (kept with the server's words) or still pending (stop). */
  function outcome(answer) {
    var now = Date.now();
    if (answer.status === 0) { return {stop: true, changes: {note: ""}}; }
    if (answer.redirect || answer.status === 401 || answer.status === 403) {
      return {stop: true, changes: {note: words("sign-in")}};
    }
    if (answer.status >= 500) { return {stop: true, changes: {note: words("fault")}}; }
    if (answer.status < 300) { return {changes: {state: "sent", message: answer.html, note: "", settled_at: now}}; }
    return {changes: {state: "refused", message: answer.html, note: "", settled_at: now}};
  }

  function replayLoop() {
    return claimNext().then(function (item) {
      if (!item) { return null; }
      return send(item).then(function (answer) {
        var result = outcome(answer);
        if (answer.status && !result.stop) { synced(); }
        announce(answer.trigger);
        return update(item.seq, result.changes).then(function () {
          changed();
          return result.stop ? null : replayLoop();
        });
      });
    });
  }

  /* Tell the page what a replayed answer changed (its HX-Trigger events: the banner, the queue refresh), but not
     the events that start a form afresh (data-fresh-on): the person may be typing in it. */
  function announce(trigger) {
    if (!trigger || !window.htmx) { return; }
    trigger.split(",").forEach(function (name) {
      name = name.trim();
      if (name && !document.querySelector("form[data-fresh-on~='" + name + "']")) { window.htmx.trigger(document.body, name); }
    });
  }

  /* Send every pending item, oldest first, one at a time; one replay at a time per browser (all tabs). */
  function replay() {
    if (replaying) { return replaying; }
    var run = function () { return replayLoop(); };
    var started = navigator.locks && navigator.locks.request ? navigator.locks.request(LOCK, run) : run();
    replaying = Promise.resolve(started)["catch"](function () { return null; }).then(function () {
      replaying = null;
      render();
    });
    return replaying;
  }

  function synced() {
    try { localStorage.setItem(SYNCED_KEY, String(Date.now())); } catch (error) { /* private mode: not shown */ }
  }

  /* ---- the panel: badge, last synced, the items ---- */
  /* dd/mm/yyyy HH:MM in the hospital's time zone, as every page shows times. */
  var HOSPITAL_TIME = {timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric",
                       hour: "2-digit", minute: "2-digit", hourCycle: "h23"};
  function clock(ms) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", HOSPITAL_TIME).formatToParts(new Date(ms)).forEach(function (part) {
      parts[part.type] = part.value;
    });
    return parts.day + "/" + parts.month + "/" + parts.year + " " + parts.hour + ":" + parts.minute;
  }

  function button(text, action, seq) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "small";
    element.textContent = text;
    element.setAttribute(action, String(seq));
    return element;
  }

  function itemView(item) {
    var line = document.createElement("li");
    line.setAttribute("data-outbox-item", item.id);
    line.setAttribute("data-state", item.state);
    line.className = "outbox-" + item.state;
    var head = document.createElement("p");
    head.appendChild(document.createTextNode(item.label + " · " + clock(item.created_at) + " · "));
    var state = document.createElement("strong");
    state.textContent = words(item.state);
    head.appendChild(state);
    if (item.note) { head.appendChild(document.createTextNode(" · " + item.note)); }
    line.appendChild(head);
    if (item.state === "refused") {
      var why = document.createElement("div");
      why.className = "outbox-why";
      why.innerHTML = item.message;  /* our own server's partial, already in the person's language */
      why.querySelectorAll("form, [data-cancel]").forEach(function (part) { part.remove(); });
      line.appendChild(why);
      var hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = words("what-to-do");
      line.appendChild(hint);
      line.appendChild(button(words("retry"), "data-outbox-retry", item.seq));
      line.appendChild(document.createTextNode(" "));
      line.appendChild(button(words("dismiss"), "data-outbox-dismiss", item.seq));
    }
    return line;
  }

  function changed() {
    if (others) { others.postMessage("changed"); }
    return render();
  }

  function render() {
    if (!panel) { return Promise.resolve(); }
    return allItems().then(function (items) {
      var pending = items.filter(function (item) { return item.state === "pending"; });
      var refused = items.filter(function (item) { return item.state === "refused"; });
      var sent = items.filter(function (item) { return item.state === "sent"; }).slice(-SHOWN_SENT).reverse();
      panel.querySelector("[data-outbox-count]").textContent = String(pending.length);
      panel.querySelector("[data-outbox-refused]").textContent = String(refused.length);
      var last = Number(localStorage.getItem(SYNCED_KEY) || 0);
      panel.querySelector("[data-outbox-synced]").textContent = last ? clock(last) : words("never");
      panel.classList.toggle("offline", navigator.onLine === false);
      panel.classList.toggle("waiting", pending.length > 0);
      panel.classList.toggle("refusals", refused.length > 0);
      var list = panel.querySelector("[data-outbox-items]");
      list.innerHTML = "";
      refused.concat(pending, sent).forEach(function (item) { list.appendChild(itemView(item)); });
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!panel || !panel.contains(target)) { return; }
    if (target.matches("[data-outbox-replay]")) { replay(); }
    if (target.matches("[data-outbox-retry]")) {
      update(Number(target.getAttribute("data-outbox-retry")), {state: "pending", message: "", note: ""}).then(replay);
    }
    if (target.matches("[data-outbox-dismiss]")) {
      var seq = Number(target.getAttribute("data-outbox-dismiss"));
      inTransaction("readwrite", function (store, done) { store["delete"](seq); done(); }).then(changed);
    }
  });

  /* Signing out removes the stored pages (they hold patients' names); the outbox stays for the next sign-in. */
  document.addEventListener("submit", function (event) {
    var action = event.target.getAttribute("action") || "";
    if (/\/sign-out$/.test(action) && window.caches) {
      caches.keys().then(function (names) {
        names.forEach(function (name) { if (name.indexOf("hospital-pages-") === 0) { caches["delete"](name); } });
      });
    }
  }, true);

  function start() {
    panel = document.querySelector("[data-outbox-panel]");
    if (!panel || !window.indexedDB) { return; }
    if ("serviceWorker" in navigator && panel.getAttribute("data-service-worker")) {
      navigator.serviceWorker.register(panel.getAttribute("data-service-worker"), {scope: "/"})["catch"](function () {
        /* no secure context (plain HTTP on a LAN address): the outbox still works, the pages need the network */
      });
    }
    if (others) { others.onmessage = function () { render(); }; }
    window.addEventListener("online", function () { render(); replay(); });
    window.addEventListener("offline", render);
    window.setInterval(function () {
      allItems().then(function (items) {
        if (items.some(function (item) { return item.state === "pending"; }) && navigator.onLine !== false) { replay(); }
      });
    }, RETRY_MS);
    forgetOldSent().then(render).then(function () { if (navigator.onLine !== false) { replay(); } });
    prefetch();
  }

  /* Store, while online, the partials the page names (data-offline-prefetch="<url>"), so that they open offline
     too (the service worker keeps every GET of an offline area). Once per page load. */
  function prefetch() {
    if (navigator.onLine === false || !navigator.serviceWorker || !navigator.serviceWorker.controller) { return; }
    document.querySelectorAll("[data-offline-prefetch]").forEach(function (element) {
      fetch(element.getAttribute("data-offline-prefetch"), {credentials: "same-origin", headers: {"HX-Request": "true"}})
        ["catch"](function () { return null; });
    });
  }

  window.Outbox = {replay: replay, items: allItems, render: render};
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
