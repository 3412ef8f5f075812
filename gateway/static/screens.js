/* The screens' own behaviour, on top of htmx: submission ids made in the browser, Esc back to the scan field,
   fresh forms after a success. No framework; works on old browsers that run htmx 2. */
(function () {
  "use strict";

  /* A version 4 UUID from the browser's random source (crypto.randomUUID needs HTTPS; this does not). */
  function uuid4() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* Give every form field that asks for one (and has none yet) its submission id: the API's Idempotency-Key. */
  function fillSubmissionIds(root) {
    root.querySelectorAll("input[data-submission-id]").forEach(function (input) {
      if (!input.value) { input.value = uuid4(); }
    });
  }

  function focusScan() {
    var scan = document.querySelector("[data-scan]");
    if (scan) { scan.focus(); scan.select(); }
  }

  document.addEventListener("htmx:load", function (event) { fillSubmissionIds(event.target); });
  /* A page answering a refused form focuses the first field the server refused with its text selected, so what is
     typed next replaces it. */
  document.addEventListener("DOMContentLoaded", function () {
    var wrong = document.querySelector("input[aria-invalid=true][autofocus]");
    if (wrong) { wrong.focus(); wrong.select(); }
  });
  /* A form sent before htmx:load reached it (a fast scanner, a slow PC) still carries its submission id: this runs
     first (capture), before htmx or the browser reads the form. */
  document.addEventListener("submit", function (event) { fillSubmissionIds(event.target); }, true);

  /* Forms marked data-fresh-on="<event>" start afresh (new submission id, first field focused) when the server
     answers with that event in HX-Trigger (a logged run): the event comes before the answer is swapped in. */
  function freshForm(form) {
    var kept = Array.prototype.map.call(form.querySelectorAll("[data-keep]"), function (field) {
      return [field, field.value];
    });
    form.reset();
    kept.forEach(function (pair) { pair[0].value = pair[1]; });  /* what stays for the next entry (the analyzer) */
    form.querySelectorAll("input[data-submission-id]").forEach(function (input) { input.value = uuid4(); });
    var first = form.querySelector("[autofocus]");
    if (first) { first.focus(); }
  }
  function freshen(eventName) {
    document.querySelectorAll("form[data-fresh-on~='" + eventName + "']").forEach(freshForm);
  }
  ["run-logged", "qc-logged", "dispensed", "lot-received"].forEach(function (eventName) {
    document.addEventListener(eventName, function () { freshen(eventName); });
  });
  window.Screens = {uuid4: uuid4, fillSubmissionIds: fillSubmissionIds, freshForm: freshForm};  /* for outbox.js */

  /* After a swap that replaced the control a keyboard user pressed, put focus on what the answer marks
     (data-focus-after-swap: what was just done), so the next Tab goes on from there instead of the page's top. */
  document.addEventListener("htmx:afterSwap", function (event) {
    var mark = event.detail.target.querySelector("[data-focus-after-swap]");
    if (mark) { mark.focus(); }
  });

  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-cancel]")) {
      var result = event.target.closest("#run-result, [data-cancel-clears]");
      if (result) { result.innerHTML = ""; }
      var test = document.getElementById("test");
      if (test) { test.focus(); } else { focusScan(); }
    }
  });

  /* A form sent while the network is down: say that nothing was recorded (forms of the outbox are kept by it
     instead; a refreshing GET that fails says nothing); the next answer that arrives takes the notice away. */
  function connectionLost(shown) {
    var notice = document.getElementById("connection-lost");
    if (notice) { notice.hidden = !shown; }
  }
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail.elt, verb = ((event.detail.requestConfig || {}).verb || "").toLowerCase();
    var kept = elt && elt.closest && elt.closest("form[data-outbox], form[data-offline-template]");
    if (verb && verb !== "get" && !kept) { connectionLost(true); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.xhr && event.detail.xhr.status) { connectionLost(false); }
  });

  /* Esc comes back to the scan field; a function key named by an element's data-shortcut (F2: the bench's QC
     test field) brings focus there from anywhere. */
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { focusScan(); return; }
    if (/^F\d{1,2}$/.test(event.key)) {
      var target = document.querySelector("[data-shortcut~='" + event.key + "']");
      if (target) {
        event.preventDefault();
        target.focus();
        if (target.select) { target.select(); }
      }
    }
  });
})();
