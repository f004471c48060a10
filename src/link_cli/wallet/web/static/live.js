// The wallet home follows the person's spend requests as they happen: long-poll
// /wallet/changes (held by the wallet until something changes, Preference-Applied says so),
// then swap each live section for the fresh copy from /wallet. A wallet that does not hold
// the request (or refuses with 429) is asked every 2 s instead.
(function () {
  "use strict";
  var section = document.querySelector("[data-live-version]");
  if (!section) return;
  var version = section.getAttribute("data-live-version");
  var failures = 0;

  function refresh() {
    return fetch("/wallet", {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-section]").forEach(function (old) {
          var name = old.getAttribute("data-live-section");
          var replacement = fresh.querySelector('[data-live-section="' + name + '"]');
          if (replacement) old.replaceWith(document.importNode(replacement, true));
        });
      });
  }

  function poll() {
    var held = false;
    fetch("/wallet/changes?version=" + encodeURIComponent(version), {
      credentials: "same-origin",
      headers: {"Accept": "application/json", "Prefer": "wait=25"}
    })
      .then(function (r) {
        held = r.ok && (r.headers.get("Preference-Applied") || "").indexOf("wait=") === 0;
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (!data) { failures++; return null; }
        failures = 0;
        if (data.version === version) return null;
        version = data.version;
        return refresh();
      })
      .then(function () { setTimeout(poll, held ? 0 : Math.min(2000 * (1 + failures), 30000)); })
      .catch(function () { failures++; setTimeout(poll, 2000 * Math.min(1 + failures, 15)); });
  }
  poll();
})();
